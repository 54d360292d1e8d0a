#!/usr/bin/env python3
"""Checks the local AWS emulator's SQS as the webhook relays use it: one client sends
batches while three receive and delete, all at once; every message must arrive.

moto's queues lose some this way (a delete rebuilds the queue's message list without
the lock a send holds), which infra/local/aws_emulator.py closes. The check runs
moto in this process with the launcher's changes, as the launcher's server does
(threads calling the same backend); `--unpatched` runs moto's own backend instead
and shows the loss (65 and 106 of 3,500 in two runs here).

Usage: check_emulator.py [--unpatched]
"""

import importlib.util
import os
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BEFORE, DURING = 500, 3000


def launcher():
    spec = importlib.util.spec_from_file_location("aws_emulator", os.path.join(ROOT, "infra/local/aws_emulator.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    emulator = launcher()
    if "--unpatched" in sys.argv:
        from moto.sqs import models

        for name in emulator.SERIALIZED:
            setattr(models.SQSBackend, name, getattr(models.SQSBackend, name).__wrapped__)
    import boto3
    from moto import mock_aws

    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-central-1")
        url = sqs.create_queue(QueueName="check")["QueueUrl"]
        got, stop, errors = set(), threading.Event(), []

        def send(tag, n):
            for i in range(n // 10):
                entries = [{"Id": str(j), "MessageBody": f"{tag}{i}-{j}"} for j in range(10)]
                sqs.send_message_batch(QueueUrl=url, Entries=entries)

        def receive():
            try:
                while True:
                    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                    if not messages:
                        if stop.is_set():
                            return
                        continue
                    got.update(m["Body"] for m in messages)
                    entries = [{"Id": str(j), "ReceiptHandle": m["ReceiptHandle"]} for j, m in enumerate(messages)]
                    sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(repr(error))

        # A queue that already holds messages widens moto's window.
        send("before", BEFORE)
        receivers = [threading.Thread(target=receive) for _ in range(3)]
        for r in receivers:
            r.start()
        send("during", DURING)
        time.sleep(2)
        stop.set()
        for r in receivers:
            r.join()
        sent = BEFORE + DURING
        if errors or len(got) != sent:
            sys.exit(f"emulator: {len(got)} of {sent} messages arrived; errors: {errors[:2]}")
        print(f"emulator: {sent} of {sent} messages arrived with a sender and three receivers at once")


if __name__ == "__main__":
    main()
