#!/usr/bin/env python3
"""Security properties of infra/template.yaml that cfn-lint and checkov do not know:

- the optional Cognito user pool's app client can never write the tenant claim
  `custom:customer_id` (its WriteAttributes are explicit — Cognito's default is "all" — and
  leave it out), reads it and `email_verified`, and e-mail changes need verification;
- the `license-admin` group exists and the JWT authorizer trusts that pool when it is created;
- browsers' CORS preflights reach a route without authorization, and the CORS configuration
  exposes Retry-After, Idempotent-Replayed and Allow;
- no function is given AUTH_MODE;
- notify's stream filter passes a new pending invitation but not the record of a revoke;
- only the order system's principal may put events on the orders bus.

Usage: check_template.py [TEMPLATE]; exits non-zero naming every violation.
"""

import json
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_routes import CfnLoader, report  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TENANT = "custom:customer_id"


def resources_of(template, kind):
    return {name: r for name, r in template["Resources"].items() if r.get("Type") == kind}


def matches(pattern, event):
    """EventBridge-style filter matching, for the pattern features the template uses:
    nested objects, lists of exact values, and {"exists": false/true}."""
    for key, want in pattern.items():
        if isinstance(want, dict):
            if not isinstance(event, dict) or not isinstance(event.get(key), dict) or not matches(want, event[key]):
                return False
            continue
        present = isinstance(event, dict) and key in event
        ok = False
        for option in want:
            if isinstance(option, dict) and "exists" in option:
                ok = ok or option["exists"] == present
            elif present and event[key] == option:
                ok = True
        if not ok:
            return False
    return True


def stream_record(**extra):
    image = {"type": {"S": "Assignment"}, "invitation": {"M": {"status": {"S": "pending"}}},
             "revokedAt": {"NULL": True}}
    image.update(extra)
    return {"eventName": "MODIFY", "dynamodb": {"NewImage": image}}


def check(template):
    problems = []
    resources = template["Resources"]

    clients = resources_of(template, "AWS::Cognito::UserPoolClient")
    if not clients:
        problems.append("no AWS::Cognito::UserPoolClient (the optional user pool)")
    for name, client in clients.items():
        props = client.get("Properties", {})
        writes = props.get("WriteAttributes")
        if writes is None:
            problems.append(f"{name}: WriteAttributes missing (Cognito's default lets users write every attribute, {TENANT} included)")
        elif TENANT in writes:
            problems.append(f"{name}: users may write {TENANT} (WriteAttributes)")
        reads = props.get("ReadAttributes") or []
        for needed in (TENANT, "email_verified"):
            if needed not in reads:
                problems.append(f"{name}: ReadAttributes lack {needed} (the ID token must carry it)")
        if props.get("GenerateSecret"):
            problems.append(f"{name}: a browser portal's client cannot keep a secret (GenerateSecret)")
    for name, pool in resources_of(template, "AWS::Cognito::UserPool").items():
        verify = (pool.get("Properties", {}).get("UserAttributeUpdateSettings") or {}).get(
            "AttributesRequireVerificationBeforeUpdate"
        ) or []
        if "email" not in verify:
            problems.append(f"{name}: a changed e-mail must stay unverified until verified (AttributesRequireVerificationBeforeUpdate)")
    groups = [g.get("Properties", {}).get("GroupName") for g in resources_of(template, "AWS::Cognito::UserPoolGroup").values()]
    if "license-admin" not in groups:
        problems.append("no license-admin group in the user pool")

    api = resources.get("HttpApi", {}).get("Properties", {})
    jwt = api.get("Auth", {}).get("Authorizers", {}).get("PortalJwt", {}).get("JwtConfiguration", {})
    if "UserPool" not in str(jwt.get("issuer")) or "UserPoolClient" not in str(jwt.get("audience")):
        problems.append("the JWT authorizer does not trust the created user pool (issuer/audience)")
    cors = api.get("CorsConfiguration", {})
    for header in ("Retry-After", "Idempotent-Replayed", "Allow"):
        if header not in (cors.get("ExposeHeaders") or []):
            problems.append(f"CORS does not expose {header}")
    if cors.get("AllowCredentials"):
        problems.append("CORS allows credentials (the portal sends a bearer token, no cookies)")

    preflight = None
    for fn in resources_of(template, "AWS::Serverless::Function").values():
        for event in (fn.get("Properties", {}).get("Events") or {}).values():
            props = event.get("Properties", {})
            if props.get("Method") == "OPTIONS" and props.get("Path") == "/{proxy+}":
                preflight = props
        env = (fn.get("Properties", {}).get("Environment") or {}).get("Variables") or {}
        if "AUTH_MODE" in env:
            problems.append("a function is given AUTH_MODE")
    globals_env = (template.get("Globals", {}).get("Function", {}).get("Environment") or {}).get("Variables") or {}
    if "AUTH_MODE" in globals_env:
        problems.append("Globals give every function AUTH_MODE")
    if preflight is None:
        problems.append("no OPTIONS /{proxy+} route for CORS preflights")
    elif (preflight.get("Auth") or {}).get("Authorizer") != "NONE":
        problems.append("OPTIONS /{proxy+} is behind the authorizer (preflights carry no token: 401)")

    notify = resources.get("NotifyFunction", {}).get("Properties", {}).get("Events", {})
    filters = [json.loads(f["Pattern"]) for e in notify.values()
               for f in (e.get("Properties", {}).get("FilterCriteria") or {}).get("Filters", [])]
    passes = lambda record: any(matches(f, record) for f in filters)  # noqa: E731
    if not passes(stream_record()):
        problems.append("notify's stream filter drops a new pending invitation")
    revoked = stream_record(revokedAt={"S": "2026-11-29T10:00:00Z"})
    if passes(revoked):
        problems.append("notify's stream filter passes the record of a revoked assignment")
    if passes(stream_record(invitation={"M": {"status": {"S": "sent"}}})):
        problems.append("notify's stream filter passes an invitation that is not pending")

    policies = resources_of(template, "AWS::Events::EventBusPolicy").values()
    statements = [p.get("Properties", {}).get("Statement", {}) for p in policies]
    allows = [s for s in statements if s.get("Effect") == "Allow"]
    denies = [s for s in statements if s.get("Effect") == "Deny"]
    if not allows or any(s.get("Principal") == "*" for s in allows):
        problems.append("the orders bus must admit the order system's principal only")
    if not any("aws:PrincipalArn" in str(s.get("Condition")) for s in denies):
        problems.append("the orders bus must refuse every other principal")
    return problems


def main(path):
    template = yaml.load(Path(path).read_text(), Loader=CfnLoader)
    ok = "tenant claim read-only, admin group, authorizer, CORS preflight, stream filter, orders bus"
    return report("template", check(template), ok)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ROOT / "infra/template.yaml"))
