#!/usr/bin/env python3
"""Creates what webhooks need on the local AWS emulator (moto): the delivery
queue, a KMS key for the secrets, and the account's event bus. Prints the
functions' environment as shell assignments.

Usage: aws_setup.py <queue name> <bus name>
Environment: AWS_ENDPOINT_URL_SQS (the emulator), AWS_REGION, dummy credentials.
"""

import os
import sys

import boto3


def main(queue_name, bus_name):
    args = dict(
        endpoint_url=os.environ["AWS_ENDPOINT_URL_SQS"],
        region_name=os.environ.get("AWS_REGION", "eu-central-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )
    queue = boto3.client("sqs", **args).create_queue(QueueName=queue_name)["QueueUrl"]
    key = boto3.client("kms", **args).create_key(Description="webhook secrets (local)")["KeyMetadata"]["KeyId"]
    events = boto3.client("events", **args)
    if bus_name not in [b["Name"] for b in events.list_event_buses()["EventBuses"]]:
        events.create_event_bus(Name=bus_name)
    print(f"WEBHOOK_QUEUE_URL={queue}")
    print(f"WEBHOOK_KEY_ID={key}")
    print(f"EVENT_BUS_NAME={bus_name}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
