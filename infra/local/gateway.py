#!/usr/bin/env python3
"""The local stand-in for API Gateway's front door, in front of `cargo lambda watch`.

`make dev` and the end-to-end tests serve the API through this proxy so that the local
stack treats hostile requests the way the deployed HTTP API does, where `cargo lambda
watch` alone does not:

- header values with control characters -> 400, request line plus headers over 10 KiB (API Gateway's limit) -> 431, a body over 10 MiB
  (API Gateway's payload limit) -> 413, both as application/problem+json;
- a body that is not UTF-8 although its content type says text or JSON is handed on as
  binary (API Gateway base64-encodes it; `cargo lambda watch` would answer 500), so the
  function rejects it with its own 400 problem;
- CORS as the deployed API's CorsConfiguration does it, for the local origins only
  (`http://localhost:<port>` and `http://127.0.0.1:<port>`): those get
  Access-Control-Allow-Origin (and, on a preflight, the allowed methods and headers),
  every response exposes Retry-After, Idempotent-Replayed and Allow to them, and any
  other origin gets no CORS header at all. Whatever CORS headers `cargo lambda watch`
  adds (it echoes every origin, with credentials) are dropped.

With a console directory (the built `console/dist`), it also serves the web console from
the API's origin as a deployment would from its static hosting: `GET /console/...` are its
files (`index.html` for the page itself), and `/console/identities.json` lists the demo
identities of `events/demo/tokens` for the local sign-in (local only: these tokens are
unsigned, and only builds with local mode accept them).

Everything else passes through unchanged.
Usage: gateway.py LISTEN_PORT UPSTREAM_PORT [CONSOLE_DIR]
"""

import base64
import http.client
import http.server
import json
import mimetypes
import pathlib
import re
import socketserver
import sys

MAX_HEADER_BYTES = 10 * 1024
MAX_BODY_BYTES = 10 * 1024 * 1024
# A larger refused body is not read to its end: the connection closes after the 413.
DISCARD_BYTES = 64 * 1024 * 1024
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
    "upgrade", "content-length", "host",
}
UPSTREAM = ("127.0.0.1", 0)
CONSOLE_DIR = None
TOKENS_DIR = pathlib.Path(__file__).resolve().parents[2] / "events" / "demo" / "tokens"
# The local sign-in's choices, in this order, with what each may do.
IDENTITIES = [
    ("admin", "Licence admin of {customer} ({email})"),
    ("other-admin", "Licence admin of {customer} ({email})"),
    ("user", "User {email} of {customer}"),
]
LOCAL_ORIGIN = re.compile(r"http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?")
CORS = {
    "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "access-control-allow-headers": "authorization, content-type, idempotency-key",
    "access-control-max-age": "600",
}
EXPOSE = "Retry-After, Idempotent-Replayed, Allow"


def cors_headers(origin, preflight):
    """The CORS headers for a request from `origin`: none unless it is local."""
    if not origin or not LOCAL_ORIGIN.fullmatch(origin):
        return {}
    headers = {"access-control-allow-origin": origin}
    if preflight:
        headers.update(CORS)
    else:
        headers["access-control-expose-headers"] = EXPOSE
    return headers


def is_textual(content_type):
    ct = (content_type or "").split(";")[0].strip().lower()
    return ct.startswith("text/") or ct.startswith("application/json") or ct.endswith("+json")


class Gateway(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "local-gateway"
    sys_version = ""

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def problem(self, status, title, detail):
        body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/problem+json")
        self.send_header("content-length", str(len(body)))
        self.send_header("connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def send_error(self, code, message=None, explain=None):
        # http.server's own refusals (too many headers, a line too long, a request
        # line it cannot parse) as problems too, like every other answer.
        short, long = self.responses.get(code, ("Error", ""))
        self.problem(code, message or short, explain or long)

    def read_body(self):
        """The request body, or None when it exceeds the payload limit."""
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            chunks, size = [], 0
            while True:
                line = self.rfile.readline(1024)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                size += n
                if size > MAX_BODY_BYTES:
                    return None
                chunks.append(self.rfile.read(n))
                self.rfile.readline(1024)
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            self.discard(length)
            return None
        return self.rfile.read(length) if length > 0 else b""

    def discard(self, length):
        """Reads a refused body (up to DISCARD_BYTES) before the 413: a client still sending
        it would otherwise meet a reset connection instead of the answer."""
        left = min(length, DISCARD_BYTES)
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            left -= len(chunk)

    def console(self):
        """A file of the console, or None when the path is not the console's."""
        path = self.path.split("?", 1)[0]
        if CONSOLE_DIR is None or self.command not in ("GET", "HEAD") or not (path + "/").startswith("/console/"):
            return None
        if path == "/console/identities.json":
            return "application/json", identities()
        relative = path[len("/console/"):] or "index.html"
        file = (CONSOLE_DIR / relative).resolve()
        if CONSOLE_DIR not in file.parents or not file.is_file():
            file = CONSOLE_DIR / "index.html"
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return kind, file.read_bytes()

    def forward(self):
        served = self.console()
        if served is not None:
            kind, data = served
            self.send_response(200)
            self.send_header("content-type", kind + ("; charset=utf-8" if kind.startswith("text/") or kind.endswith("json") or kind.endswith("javascript") else ""))
            self.send_header("content-length", str(len(data)))
            self.send_header("cache-control", "no-cache")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return
        header_bytes = len(self.requestline) + sum(len(k) + len(v) + 4 for k, v in self.headers.items())
        if header_bytes > MAX_HEADER_BYTES:
            return self.problem(431, "Request Header Fields Too Large",
                                f"The request line and headers must be at most {MAX_HEADER_BYTES} bytes.")
        if any(ord(c) < 32 and c != "\t" or ord(c) == 127 for v in self.headers.values() for c in v):
            return self.problem(400, "Bad Request", "A header value holds control characters.")
        try:
            body = self.read_body()
        except ValueError:
            return self.problem(400, "Bad Request", "The chunked body is malformed.")
        if body is None:
            return self.problem(413, "Payload Too Large", f"The body must be at most {MAX_BODY_BYTES} bytes.")
        origin = self.headers.get("origin")
        preflight = self.command == "OPTIONS" and "access-control-request-method" in self.headers
        if preflight:
            # Answered here, as API Gateway answers it (`cargo lambda watch` would
            # answer it itself too, with its permissive CORS layer).
            self.send_response(204)
            for k, v in cors_headers(origin, True).items():
                self.send_header(k, v)
            self.send_header("vary", "Origin")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body and is_textual(self.headers.get("content-type")):
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
                headers["content-type"] = "application/octet-stream"
        upstream = http.client.HTTPConnection(*UPSTREAM, timeout=330)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
        except OSError as e:
            return self.problem(502, "Bad Gateway", f"cargo lambda watch did not answer: {e.__class__.__name__}")
        finally:
            upstream.close()
        self.send_response(response.status)
        for k, v in response.getheaders():
            # Its own Date and Server instead of a second copy; CORS is decided here.
            if k.lower() not in HOP_BY_HOP | {"date", "server", "vary"} and not k.lower().startswith("access-control-"):
                self.send_header(k, v)
        for k, v in cors_headers(origin, False).items():
            self.send_header(k, v)
        if origin:
            self.send_header("vary", "Origin")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def __getattr__(self, name):
        # Every method goes to the functions (`do_QUERY`, `do_FOO`, ...): they answer
        # the ones no route has with 405/404 problems, as API Gateway's $default does.
        if name.startswith("do_"):
            return self.forward
        raise AttributeError(name)


def identities():
    """The demo identities as the console's local sign-in lists them."""
    found = []
    for name, label in IDENTITIES:
        token = (TOKENS_DIR / f"{name}.jwt").read_text().strip()
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        text = label.format(customer=claims.get("custom:customer_id", "?"), email=claims.get("email", "?"))
        found.append({"id": name, "label": text, "token": token})
    return json.dumps(found).encode()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def main():
    global UPSTREAM, CONSOLE_DIR
    listen, upstream = int(sys.argv[1]), int(sys.argv[2])
    UPSTREAM = ("127.0.0.1", upstream)
    if len(sys.argv) > 3:
        CONSOLE_DIR = pathlib.Path(sys.argv[3]).resolve()
    Server(("127.0.0.1", listen), Gateway).serve_forever()


if __name__ == "__main__":
    main()
