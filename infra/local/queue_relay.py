#!/usr/bin/env python3
"""Local stand-in for Lambda's SQS trigger of `deliver` (webhook deliveries).

Polls the webhook queue on the local AWS emulator and invokes `deliver` through
cargo lambda's invoke API with a real SQS event (the shape Lambda delivers, up to
10 messages). Messages the function does not report back as `batchItemFailures`
are deleted; the others come back after their visibility timeout, as with
ReportBatchItemFailures. Several pollers run side by side, as Lambda's do.

Environment: AWS_ENDPOINT_URL_SQS, WEBHOOK_QUEUE_URL, DELIVER_INVOKE_URL,
AWS_REGION, the dummy credentials of the local stack, and RELAY_POLLERS (4).
"""

import datetime
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

import boto3

ENDPOINT = os.environ["AWS_ENDPOINT_URL_SQS"]
QUEUE_URL = os.environ["WEBHOOK_QUEUE_URL"]
INVOKE_URL = os.environ.get(
    "DELIVER_INVOKE_URL", "http://127.0.0.1:9000/2015-03-31/functions/deliver/invocations"
)
REGION = os.environ.get("AWS_REGION", "eu-central-1")
POLLERS = int(os.environ.get("RELAY_POLLERS", "4"))
VISIBILITY_SECONDS = 60


def log(message):
    print(f"{datetime.datetime.now(datetime.timezone.utc):%H:%M:%S} queue relay: {message}", flush=True)


def client():
    return boto3.client(
        "sqs",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )


def sqs_event(messages):
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody"),
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_URL,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def invoke(messages):
    """Invokes deliver; the message ids it wants back (None: the call failed)."""
    body = json.dumps(sqs_event(messages)).encode()
    request = urllib.request.Request(
        INVOKE_URL, data=body, headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            result = json.loads(response.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        log(f"deliver not reachable ({error}); the messages come back")
        return None
    return {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures") or []}


def poll():
    sqs = client()
    while True:
        try:
            got = sqs.receive_message(
                QueueUrl=QUEUE_URL,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                VisibilityTimeout=VISIBILITY_SECONDS,
            )
        except Exception as error:  # the emulator may be starting
            log(f"receive failed ({error.__class__.__name__}); will retry")
            time.sleep(1)
            continue
        messages = got.get("Messages") or []
        if not messages:
            continue
        failed = invoke(messages)
        if failed is None:
            continue
        done = [m for m in messages if m["MessageId"] not in failed]
        for i in range(0, len(done), 10):
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done[i:i + 10])]
            try:
                sqs.delete_message_batch(QueueUrl=QUEUE_URL, Entries=entries)
            except Exception as error:
                log(f"delete failed ({error.__class__.__name__}); those come back")
        if failed:
            log(f"{len(failed)} of {len(messages)} job(s) come back")


def main():
    log(f"relaying {QUEUE_URL} to {INVOKE_URL} with {POLLERS} pollers")
    threads = [threading.Thread(target=poll, daemon=True) for _ in range(POLLERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
