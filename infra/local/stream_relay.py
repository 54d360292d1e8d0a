#!/usr/bin/env python3
"""Local stand-in for Lambda's DynamoDB Streams trigger.

Reads the stream of the table on DynamoDB Local and invokes the `notify`
function through cargo lambda's invoke API with a real DynamoDB Streams event
(the shape Lambda delivers). Records that the function reports back as
`batchItemFailures` are delivered again, from the first failed one, after a
pause, as Lambda does with ReportBatchItemFailures. Once a minute it also
invokes `notify` as its EventBridge Scheduler schedule does, for the
invitations that waited for their address's 10-minute window.

Environment: AWS_ENDPOINT_URL_DYNAMODB, TABLE_NAME, NOTIFY_INVOKE_URL,
AWS_REGION and the dummy credentials of the local stack.
"""

import datetime
import json
import os
import sys
import time
import urllib.error
import urllib.request

import boto3

ENDPOINT = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
TABLE = os.environ.get("TABLE_NAME", "licensing")
INVOKE_URL = os.environ.get(
    "NOTIFY_INVOKE_URL", "http://127.0.0.1:9000/2015-03-31/functions/notify/invocations"
)
REGION = os.environ.get("AWS_REGION", "eu-central-1")
BATCH_SIZE = 100
POLL_SECONDS = 0.3
RETRY_SECONDS = 2.0
SCHEDULE_SECONDS = 60.0


def log(message):
    print(f"{datetime.datetime.now(datetime.timezone.utc):%H:%M:%S} relay: {message}", flush=True)


def clients():
    args = dict(
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )
    return boto3.client("dynamodb", **args), boto3.client("dynamodbstreams", **args)


def stream_arn(ddb):
    while True:
        try:
            arn = ddb.describe_table(TableName=TABLE)["Table"].get("LatestStreamArn")
            if arn:
                return arn
            log(f"table {TABLE} has no stream")
        except Exception as error:  # the table may not exist yet
            log(f"waiting for table {TABLE}: {error.__class__.__name__}")
        time.sleep(1)


def lambda_record(record, arn):
    """A GetRecords record in the shape of a Lambda DynamoDB Streams event record."""
    out = dict(record)
    dynamodb = dict(out["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime.datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    out["dynamodb"] = dynamodb
    out["eventSourceARN"] = arn
    out.pop("userIdentity", None)
    return out


def invoke(records, arn):
    """Invokes notify; returns the sequence numbers it wants retried (None: the call failed)."""
    body = json.dumps({"Records": [lambda_record(r, arn) for r in records]}).encode()
    request = urllib.request.Request(
        INVOKE_URL, data=body, headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            result = json.loads(response.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        log(f"notify not reachable ({error}); will retry")
        return None
    return [f["itemIdentifier"] for f in (result or {}).get("batchItemFailures") or []]


def scheduled():
    """The minute's schedule: an EventBridge Scheduler invocation (any JSON)."""
    request = urllib.request.Request(
        INVOKE_URL, data=b"{}", headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            swept = json.loads(response.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        log(f"the minute's run failed ({error}); the next one goes again")
        return
    if (swept or {}).get("processed") or (swept or {}).get("retry"):
        log(f"waiting invitations: {swept}")


def main():
    ddb, streams = clients()
    arn = stream_arn(ddb)
    log(f"relaying {arn} to {INVOKE_URL}")
    iterators, retry, last_refresh, last_schedule = {}, {}, 0.0, time.monotonic()
    while True:
        if time.monotonic() - last_schedule >= SCHEDULE_SECONDS:
            last_schedule = time.monotonic()
            scheduled()
        if time.monotonic() - last_refresh > 5:
            last_refresh = time.monotonic()
            try:
                shards = streams.describe_stream(StreamArn=arn)["StreamDescription"].get("Shards", [])
            except Exception as error:
                log(f"describe_stream failed ({error.__class__.__name__}); will retry")
                shards = []
            for shard in shards:
                sid = shard["ShardId"]
                if sid not in iterators:
                    try:
                        iterators[sid] = streams.get_shard_iterator(
                            StreamArn=arn, ShardId=sid, ShardIteratorType="TRIM_HORIZON"
                        )["ShardIterator"]
                    except Exception as error:
                        log(f"{sid}: no iterator yet ({error.__class__.__name__}); will retry")
                        last_refresh = 0.0
        for sid in list(iterators):
            records = retry.pop(sid, None)
            if records is None:
                iterator = iterators[sid]
                if iterator is None:
                    continue
                try:
                    response = streams.get_records(ShardIterator=iterator, Limit=BATCH_SIZE)
                except Exception as error:
                    # DynamoDB Local answers TrimmedDataAccessException for a TRIM_HORIZON
                    # iterator of a young shard, and iterators expire: start the shard
                    # again (notify sends each invitation once, so a redelivery is harmless).
                    log(f"{sid}: {error.__class__.__name__}; reading the shard again")
                    del iterators[sid]
                    last_refresh = 0.0
                    continue
                iterators[sid] = response.get("NextShardIterator")
                records = response.get("Records", [])
            if not records:
                continue
            failed = invoke(records, arn)
            if failed is None:
                retry[sid] = records
            elif failed:
                first = min(int(s) for s in failed)
                retry[sid] = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) >= first]
                log(f"{len(failed)} of {len(records)} record(s) to retry")
            else:
                log(f"delivered {len(records)} record(s)")
            if sid in retry:
                time.sleep(RETRY_SECONDS)
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
