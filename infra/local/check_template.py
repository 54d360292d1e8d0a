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
- only the order system's principal may put events on the orders bus;
- the hosted console (HostConsole) can never be public: every bucket blocks all public
  access and has ACLs disabled, no bucket policy allows everyone, each refuses requests
  without TLS, and the console's bucket is read only by CloudFront for its own distribution
  (origin access control signing always; `s3:GetObject` for `cloudfront.amazonaws.com`
  under `AWS:SourceArn` = that distribution); its CSP runs the console's own scripts only.

Usage: check_template.py [TEMPLATE]; exits non-zero naming every violation.
"""

import fnmatch
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


PUBLIC_ACCESS_BLOCK = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
CLOUDFRONT = {"Service": "cloudfront.amazonaws.com"}


def logical_id(value):
    """The resource a !Ref or !GetAtt names, as CfnLoader keeps them ("Name" / "Name.Attr")."""
    return str(value).split(".")[0]


def as_list(value):
    return value if isinstance(value, list) else [value]


def lower_keys(mapping):
    return {str(k).lower(): v for k, v in (mapping or {}).items()} if isinstance(mapping, dict) else {}


def allows_everyone(statement):
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    return principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS")))


def grants_read(statement):
    """Whether an Allow statement lets its principal read objects (s3:GetObject*)."""
    if "NotAction" in statement:
        return True
    return any(fnmatch.fnmatchcase("s3:getobject", str(a).lower()) for a in as_list(statement.get("Action")))


def refuses_plain_http(statement):
    secure = lower_keys(lower_keys(statement.get("Condition")).get("bool")).get("aws:securetransport")
    return statement.get("Effect") == "Deny" and statement.get("Principal") == "*" and str(secure).lower() == "false"


def for_distribution(statement, distribution):
    """Whether the statement holds only for requests of that distribution (AWS:SourceArn)."""
    condition = lower_keys(statement.get("Condition"))
    want = f"distribution/${{{distribution}}}"
    for operator in ("stringequals", "arnequals"):
        arn = lower_keys(condition.get(operator)).get("aws:sourcearn")
        if isinstance(arn, str) and arn.endswith(want) and "*" not in arn:
            return True
    return False


def csp_directives(policy):
    """The directives of a Content-Security-Policy (a string, or !Sub's [string, variables])."""
    text = policy[0] if isinstance(policy, list) else str(policy or "")
    directives = {}
    for part in text.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def check_console(template):
    problems = []
    resources = template["Resources"]
    buckets = resources_of(template, "AWS::S3::Bucket")
    for name, bucket in buckets.items():
        props = bucket.get("Properties", {})
        block = props.get("PublicAccessBlockConfiguration") or {}
        open_ = [setting for setting in PUBLIC_ACCESS_BLOCK if block.get(setting) is not True]
        if open_:
            problems.append(f"{name}: public access is not blocked ({', '.join(open_)} not true)")
        rules = (props.get("OwnershipControls") or {}).get("Rules") or []
        if not any(rule.get("ObjectOwnership") == "BucketOwnerEnforced" for rule in rules):
            problems.append(f"{name}: ACLs are enabled (ObjectOwnership is not BucketOwnerEnforced)")
        for public in ("AccessControl", "WebsiteConfiguration"):
            if public in props:
                problems.append(f"{name}: {public} (a public ACL or website endpoint)")

    statements = {}
    for policy in resources_of(template, "AWS::S3::BucketPolicy").values():
        props = policy.get("Properties", {})
        listed = as_list((props.get("PolicyDocument") or {}).get("Statement") or [])
        statements.setdefault(logical_id(props.get("Bucket")), []).extend(listed)
    for bucket, listed in statements.items():
        for statement in listed:
            if statement.get("Effect") == "Allow" and allows_everyone(statement):
                problems.append(f"{bucket}: its policy allows everyone ({statement.get('Sid')})")
        if not any(refuses_plain_http(statement) for statement in listed):
            problems.append(f"{bucket}: its policy does not refuse requests without TLS (aws:SecureTransport)")

    origins = [(name, origin)
               for name, dist in resources_of(template, "AWS::CloudFront::Distribution").items()
               for origin in (dist.get("Properties", {}).get("DistributionConfig") or {}).get("Origins") or []
               if logical_id(origin.get("DomainName")) in buckets]
    if not origins:
        problems.append("no CloudFront distribution serves the console from an S3 bucket")
    for distribution, origin in origins:
        bucket = logical_id(origin.get("DomainName"))
        oac = resources.get(logical_id(origin.get("OriginAccessControlId")), {})
        signing = ((oac.get("Properties") or {}).get("OriginAccessControlConfig") or {}).get("SigningBehavior")
        if oac.get("Type") != "AWS::CloudFront::OriginAccessControl" or signing != "always":
            problems.append(f"{distribution}: does not sign every request to {bucket} (origin access control, SigningBehavior always)")
        reads = [s for s in statements.get(bucket, []) if s.get("Effect") == "Allow" and grants_read(s)]
        if not reads:
            problems.append(f"{bucket}: its policy does not let {distribution} read it")
        for statement in reads:
            if "NotPrincipal" in statement or statement.get("Principal") != CLOUDFRONT:
                who = statement.get("NotPrincipal", statement.get("Principal"))
                problems.append(f"{bucket}: readable by {who} (only CloudFront, for {distribution})")
            elif not for_distribution(statement, distribution):
                problems.append(f"{bucket}: CloudFront may read it for any distribution (no AWS:SourceArn = {distribution})")

        behavior = (resources[distribution]["Properties"]["DistributionConfig"].get("DefaultCacheBehavior") or {})
        headers = resources.get(logical_id(behavior.get("ResponseHeadersPolicyId")), {})
        security = ((headers.get("Properties") or {}).get("ResponseHeadersPolicyConfig") or {}).get("SecurityHeadersConfig") or {}
        csp = csp_directives((security.get("ContentSecurityPolicy") or {}).get("ContentSecurityPolicy"))
        scripts = csp.get("script-src", csp.get("default-src"))
        if scripts != ["'self'"]:
            problems.append(f"{distribution}: the console's CSP runs scripts from more than its own origin (script-src {scripts})")
        if any(source.startswith("'unsafe-") for sources in csp.values() for source in sources):
            problems.append(f"{distribution}: the console's CSP allows 'unsafe-...' sources")
        if csp.get("frame-ancestors") != ["'none'"]:
            problems.append(f"{distribution}: other sites may frame the console (CSP frame-ancestors)")
    return problems


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
    return problems + check_reminders(template) + check_console(template)


def actions_of(function):
    for policy in function.get("Properties", {}).get("Policies") or []:
        for statement in (policy.get("Statement") or []) if isinstance(policy, dict) else []:
            if statement.get("Effect") == "Allow":
                for action in as_list(statement.get("Action")):
                    yield action, statement.get("Resource")


def check_reminders(template):
    """Nothing may scan the table; the reminders run daily from a schedule and read
    their candidates through GSI2 only."""
    problems = []
    for name, fn in resources_of(template, "AWS::Serverless::Function").items():
        for action, _ in actions_of(fn):
            if action.lower() in ("dynamodb:scan", "dynamodb:*"):
                problems.append(f"{name} may {action} the table (nothing scans)")
    remind = template["Resources"].get("RemindFunction")
    if remind is None:
        return problems + ["no RemindFunction"]
    events = (remind.get("Properties", {}).get("Events") or {}).values()
    schedules = [e for e in events if e.get("Type") == "ScheduleV2"]
    if not any("cron(" in str(e.get("Properties", {}).get("ScheduleExpression")) for e in schedules):
        problems.append("RemindFunction has no daily EventBridge Scheduler schedule")
    for action, resource in actions_of(remind):
        if action == "dynamodb:Query" and "index/GSI2" not in str(resource):
            problems.append("RemindFunction may Query more than GSI2")
        if action.startswith("dynamodb:") and action not in ("dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"):
            problems.append(f"RemindFunction may {action} (it reads candidates and records reminders only)")
    return problems


def main(path):
    template = yaml.load(Path(path).read_text(), Loader=CfnLoader)
    ok = "tenant claim read-only, admin group, authorizer, CORS preflight, stream filter, orders bus, no Scan, daily reminders on GSI2, private console bucket"
    return report("template", check(template), ok)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ROOT / "infra/template.yaml"))
