#!/usr/bin/env python3
"""A webhook receiver for the tests, the bench and local runs.

Every delivery is verified with the `standardwebhooks` library (the
Standard Webhooks reference implementation) against the secrets registered
for its path, and recorded. What it answers depends on the path's last
segment:

  /<any>/ok        204
  /<any>/fail<N>   500 for the first N attempts of each webhook-id, then 204
  /<any>/gone      410 Gone
  /<any>/slow      answers after 12 s (past the sender's 10 s)
  /<any>/reset     closes the connection without an answer
  /<any>/redirect  302 to /<any>/ok (a sender must not follow it)

Control: POST /_secrets {"path": "/a/ok", "secrets": ["whsec_..."]},
GET /_received (every delivery so far, in order of arrival; `?path=/a/ok` those to one
path, each with its arrival time `at` in Unix seconds), and DELETE /_received.

Usage: webhook_receiver.py <port>
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LOCK = threading.Lock()
SECRETS = {}  # path -> [secret]
RECEIVED = []  # {"path", "id", "type", "timestamp", "verified", "attempt", "answer", "signature"}
ATTEMPTS = {}  # (path, webhook-id) -> attempts seen


def verified(path, body, headers):
    for secret in SECRETS.get(path, []):
        try:
            Webhook(secret).verify(body, headers)
            return True
        except WebhookVerificationError:
            continue
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/_received":
            only = parse_qs(url.query).get("path", [None])[0]
            with LOCK:
                body = json.dumps([r for r in RECEIVED if only is None or r["path"] == only]).encode()
            return self.answer(200, body, [("Content-Type", "application/json")])
        self.answer(404)

    def do_DELETE(self):
        if self.path == "/_received":
            with LOCK:
                RECEIVED.clear()
                ATTEMPTS.clear()
            return self.answer(204)
        self.answer(404)

    def do_POST(self):
        arrived = time.time()
        body = self.read_body()
        if self.path == "/_secrets":
            ask = json.loads(body)
            with LOCK:
                SECRETS[ask["path"]] = list(ask["secrets"])
            return self.answer(204)
        headers = {k.lower(): v for k, v in self.headers.items()}
        mode = self.path.rstrip("/").rsplit("/", 1)[-1]
        event_id = headers.get("webhook-id", "")
        with LOCK:
            key = (self.path, event_id)
            ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
            attempt = ATTEMPTS[key]
        if mode == "reset":
            answer = "reset"
        elif mode == "slow":
            answer = "slow"
        elif mode == "gone":
            answer = 410
        elif mode == "redirect":
            answer = 302
        elif mode.startswith("fail") and mode[4:].isdigit() and attempt <= int(mode[4:]):
            answer = 500
        else:
            answer = 204
        try:
            kind = json.loads(body).get("type")
        except ValueError:
            kind = None
        with LOCK:
            RECEIVED.append({
                "path": self.path,
                "id": event_id,
                "type": kind,
                "timestamp": headers.get("webhook-timestamp"),
                "signature": headers.get("webhook-signature"),
                "verified": verified(self.path, body, headers),
                "attempt": attempt,
                "answer": answer,
                "at": arrived,
                "body": body.decode("utf-8", "replace"),
            })
        if answer == "reset":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if answer == "slow":
            threading.Event().wait(12)
            return self.answer(204)
        if answer == 302:
            return self.answer(302, headers=[("Location", self.path.rsplit("/", 1)[0] + "/ok")])
        self.answer(answer)


def main():
    port = int(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"webhook receiver on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
