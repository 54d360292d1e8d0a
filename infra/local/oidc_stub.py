#!/usr/bin/env python3
"""A local OpenID Connect issuer for the console's browser test, standard library only.

It plays the deployed issuer, the Cognito user pool of infra/template.yaml with its hosted
sign-in, for one app client, with Cognito's endpoint paths and as strictly as the console's
sign-in needs proving: authorization code with PKCE (S256 only), nothing else.

- `GET /.well-known/openid-configuration`: the discovery document (like Cognito's, without
  an end_session_endpoint).
- `GET /oauth2/authorize`: no login page; the code is issued at once for the one user below and
  the browser sent back to the redirect URI with `code` and `state`. Refused (back to the
  redirect URI with `error=invalid_request`) without `code_challenge_method=S256` and a
  `code_challenge`, without the `openid` scope or a state; an unknown client or redirect
  URI gets a plain 400 (never a redirect to it).
- `POST /oauth2/token` (form): `grant_type=authorization_code`, the code (once, within 5 minutes),
  the same `redirect_uri` and `client_id`, and a `code_verifier` whose SHA-256, base64url,
  is the remembered `code_challenge`; anything else is a 400 `invalid_grant` (or
  `invalid_request`/`invalid_client`/`unsupported_grant_type`). Answers an RS256-signed ID
  token with the claims of the demo admin (events/demo/tokens/admin.jwt) plus iss, aud,
  nonce, iat, exp.
- `GET /.well-known/jwks.json`: the public key (generated at start, RSA 2048).
- `GET /logout?client_id=...&logout_uri=...` (Cognito's sign-out): back to `logout_uri`,
  which must be the registered one (the redirect URI, as the template's LogoutURLs).
- `GET /stats`: what happened, for the test to check (authorizations, refusals, token
  exchanges that passed and failed, PKCE failures, sign-outs).

Discovery, the token endpoint and the JWKS carry CORS headers for local origins (http://127.0.0.1:<port>,
http://localhost:<port>), as the console fetches them from its own origin.

Usage: oidc_stub.py PORT CLIENT_ID REDIRECT_URI
"""

import base64
import hashlib
import http.server
import json
import re
import secrets
import socketserver
import sys
import threading
import time
import urllib.parse

LOCAL_ORIGIN = re.compile(r"http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?")
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
CODE_SECONDS = 300
TOKEN_SECONDS = 3600
# The signed-in person: the demo admin of cust-1001 (events/demo/tokens/admin.jwt).
USER = {
    "sub": "oidc-buyer",
    "email": "buyer@example.com",
    "email_verified": True,
    "custom:customer_id": "cust-1001",
    "cognito:groups": ["license-admin", "portal-user"],
}

ISSUER = ""
CLIENT_ID = ""
REDIRECT_URI = ""
KEY = None
LOCK = threading.Lock()
CODES = {}
STATS = {
    "authorized": 0,
    "authorize_refused": 0,
    "tokens_issued": 0,
    "token_refused": 0,
    "pkce_failed": 0,
    "signed_out": 0,
}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


# ------------------------------------------------------------------ RS256, by hand

SMALL_PRIMES = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p**0.5) + 1))]


def probably_prime(n, rounds=40):
    if any(n % p == 0 for p in SMALL_PRIMES):
        return n in SMALL_PRIMES
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def prime(bits, e):
    while True:
        # The two top bits set, so that p * q has exactly 2 * bits bits; odd.
        candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1
        if probably_prime(candidate) and (candidate - 1) % e:
            return candidate


def rsa_key(bits=2048, e=65537):
    while True:
        p, q = prime(bits // 2, e), prime(bits // 2, e)
        if p != q:
            n = p * q
            d = pow(e, -1, (p - 1) * (q - 1))
            kid = b64url(hashlib.sha256(int_bytes(n)).digest()[:12])
            return {"n": n, "e": e, "d": d, "kid": kid}


# DER of the DigestInfo prefix for SHA-256 (RFC 8017, 9.2 note 1).
SHA256_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def rs256(message):
    """The RSASSA-PKCS1-v1_5 signature of `message` with SHA-256."""
    k = (KEY["n"].bit_length() + 7) // 8
    t = SHA256_INFO + hashlib.sha256(message).digest()
    em = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    return pow(int.from_bytes(em, "big"), KEY["d"], KEY["n"]).to_bytes(k, "big")


def jwt(claims):
    header = {"alg": "RS256", "typ": "JWT", "kid": KEY["kid"]}
    signing_input = ".".join(b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
    return signing_input + "." + b64url(rs256(signing_input.encode()))


def jwks():
    return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KEY["kid"],
                      "n": b64url(int_bytes(KEY["n"])), "e": b64url(int_bytes(KEY["e"]))}]}


def discovery():
    return {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/oauth2/authorize",
        "token_endpoint": f"{ISSUER}/oauth2/token",
        "jwks_uri": f"{ISSUER}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
    }


def count(name):
    with LOCK:
        STATS[name] += 1


# ------------------------------------------------------------------ HTTP

class Issuer(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oidc-stub"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def cors(self):
        origin = self.headers.get("origin")
        if origin and LOCAL_ORIGIN.fullmatch(origin):
            self.send_header("access-control-allow-origin", origin)
            self.send_header("vary", "Origin")

    def answer(self, status, body, extra=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("cache-control", "no-store")
        self.send_header("content-length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.cors()
        self.end_headers()
        self.wfile.write(data)

    def redirect(self, location):
        self.send_response(302)
        self.send_header("location", location)
        self.send_header("content-length", "0")
        self.end_headers()

    def refuse(self, status, error, description):
        """A token endpoint error (RFC 6749, 5.2)."""
        count("token_refused")
        self.answer(status, {"error": error, "error_description": description})

    def do_OPTIONS(self):
        self.send_response(204)
        self.cors()
        self.send_header("access-control-allow-methods", "GET, POST, OPTIONS")
        self.send_header("access-control-allow-headers", "content-type, authorization")
        self.send_header("access-control-max-age", "600")
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/.well-known/openid-configuration":
            return self.answer(200, discovery())
        if url.path == "/.well-known/jwks.json":
            return self.answer(200, jwks())
        if url.path == "/stats":
            with LOCK:
                return self.answer(200, dict(STATS))
        if url.path == "/oauth2/authorize":
            return self.authorize(query)
        if url.path == "/logout":
            return self.logout(query)
        self.answer(404, {"error": "not_found"})

    def authorize(self, q):
        if q.get("client_id") != CLIENT_ID or q.get("redirect_uri") != REDIRECT_URI:
            # Never redirect to an address the client did not register.
            count("authorize_refused")
            return self.answer(400, {"error": "invalid_request", "error_description": "unknown client or redirect_uri"})

        def back(params):
            if "state" in q:
                params["state"] = q["state"]
            self.redirect(REDIRECT_URI + "?" + urllib.parse.urlencode(params))

        problem = None
        if q.get("response_type") != "code":
            problem = "unsupported_response_type", "only response_type=code"
        elif "openid" not in q.get("scope", "").split():
            problem = "invalid_scope", "the openid scope is required"
        elif q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            problem = "invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256"
        elif not q.get("state"):
            problem = "invalid_request", "state is required"
        if problem:
            count("authorize_refused")
            return back({"error": problem[0], "error_description": problem[1]})
        code = secrets.token_urlsafe(32)
        with LOCK:
            CODES[code] = {
                "client_id": q["client_id"],
                "redirect_uri": q["redirect_uri"],
                "code_challenge": q["code_challenge"],
                "nonce": q.get("nonce"),
                "expires": time.time() + CODE_SECONDS,
            }
            STATS["authorized"] += 1
        back({"code": code})

    def logout(self, q):
        if q.get("client_id") != CLIENT_ID or q.get("logout_uri") != REDIRECT_URI:
            return self.answer(400, {"error": "invalid_request", "error_description": "unknown client or logout_uri"})
        count("signed_out")
        self.redirect(REDIRECT_URI)

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(min(length, 64 * 1024)) if length > 0 else b""
        if url.path != "/oauth2/token":
            return self.answer(404, {"error": "not_found"})
        kind = (self.headers.get("content-type") or "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            return self.refuse(400, "invalid_request", "a form body is required")
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        if form.get("grant_type") != "authorization_code":
            return self.refuse(400, "unsupported_grant_type", "only authorization_code")
        if form.get("client_id") != CLIENT_ID:
            return self.refuse(401, "invalid_client", "unknown client")
        with LOCK:
            # A code is used once, whatever the outcome (RFC 6749, 4.1.2).
            grant = CODES.pop(form.get("code", ""), None)
        if grant is None or grant["expires"] < time.time():
            return self.refuse(400, "invalid_grant", "unknown, used or expired code")
        if form.get("redirect_uri") != grant["redirect_uri"] or form.get("client_id") != grant["client_id"]:
            return self.refuse(400, "invalid_grant", "redirect_uri or client_id differ from the authorization request")
        verifier = form.get("code_verifier", "")
        challenge = b64url(hashlib.sha256(verifier.encode()).digest())
        if not VERIFIER.fullmatch(verifier) or not secrets.compare_digest(challenge, grant["code_challenge"]):
            count("pkce_failed")
            return self.refuse(400, "invalid_grant", "the code_verifier does not match the code_challenge")
        now = int(time.time())
        claims = {**USER, "iss": ISSUER, "aud": CLIENT_ID, "token_use": "id",
                  "auth_time": now, "iat": now, "exp": now + TOKEN_SECONDS}
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        count("tokens_issued")
        self.answer(200, {
            "id_token": jwt(claims),
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
        })


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    global ISSUER, CLIENT_ID, REDIRECT_URI, KEY
    port, CLIENT_ID, REDIRECT_URI = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ISSUER = f"http://127.0.0.1:{port}"
    KEY = rsa_key()
    # Listening only once the key exists: a test that waits for the port finds it ready.
    Server(("127.0.0.1", port), Issuer).serve_forever()


if __name__ == "__main__":
    main()
