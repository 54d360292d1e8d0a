#!/usr/bin/env python3
"""The local AWS emulator of SQS, KMS and EventBridge: moto's server (from .venv),
started the way `moto_server` starts it, with its SQS queues made safe to use from
several clients at once and two of its hot spots made cheap.

moto's server answers each request on a thread of its own, but its SQS queues are
not written for that: deleting a message rebuilds the queue's message list from a
copy without the lock that adding one holds, so a message sent while another is
deleted can vanish, and a receive can fail on a set another thread changes. The
webhooks bench saw one job of 2,000 never handed out (no attempt, no error
anywhere); three threads receiving while one sends lost 65 of 3,500 messages (see
docs/performance.md). Here every send, receive, delete and visibility change of a
queue holds that queue's lock; a long poll's wait releases it, as moto's own wait
does.

moto also computes every attribute of a queue, three of them by scanning all its
messages, once for each message it sends and for each message it hands out (to
read one attribute), and it reads the clock through datetime arithmetic for each
message it scans. A bulk of 1,000 webhook events keeps a thousand or more messages
in the queue, so calls ran past the functions' 3 s timeout, their retries piled on
(hundreds of request threads) and the emulator stopped answering within minutes.
The two changes below keep what moto answers and only its cost:

- the retention check of a received message reads the queue's
  MessageRetentionPeriod attribute itself instead of computing all of them;
- moto's SQS module reads the current time with time.time() (the same epoch
  seconds and milliseconds, without building datetimes).

Usage: aws_emulator.py -H 127.0.0.1 -p PORT (moto_server's own options).
"""

import functools
import sys
import time

from moto.server import main
from moto.sqs import models

# Written against moto 5.2.6 (infra/local/requirements.txt): a later moto without these names
# fails here at start rather than running unchanged.
SERIALIZED = ("send_message", "receive_message", "delete_message", "change_message_visibility")
for name in ("unix_time", "unix_time_millis"):
    assert hasattr(models, name), f"moto.sqs.models has no {name}"
for name in SERIALIZED + ("is_message_valid_based_on_retention_period",):
    assert hasattr(models.SQSBackend, name), f"moto's SQSBackend has no {name}"

_unix_time = models.unix_time
_unix_time_millis = models.unix_time_millis


def unix_time(dt=None):
    return time.time() if dt is None else _unix_time(dt)


def unix_time_millis(dt=None):
    return time.time() * 1000.0 if dt is None else _unix_time_millis(dt)


def is_message_valid_based_on_retention_period(self, queue_name, message):
    queue = self.get_queue(queue_name)
    retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000
    return retain_until > time.time()


def serialized(method):
    """`method` of the backend under its queue's lock: the Condition over an RLock that
    adding a message holds, and that a long poll's wait releases."""

    @functools.wraps(method)
    def under_lock(self, queue_name, *args, **kwargs):
        with self.get_queue(queue_name)._messages_lock:
            return method(self, queue_name, *args, **kwargs)

    return under_lock


models.unix_time = unix_time
models.unix_time_millis = unix_time_millis
models.SQSBackend.is_message_valid_based_on_retention_period = (
    is_message_valid_based_on_retention_period
)
for name in SERIALIZED:
    setattr(models.SQSBackend, name, serialized(getattr(models.SQSBackend, name)))

if __name__ == "__main__":
    sys.exit(main())
