#!/usr/bin/env python3
"""Security properties of infra/template.yaml that cfn-lint and checkov do not know:

- the optional Cognito user pool's app client can never write the tenant claim
  `custom:customer_id` (its WriteAttributes are explicit — Cognito's default is "all" — and
  leave it out), reads it and `email_verified`, and e-mail changes need verification;
- with the parameters' defaults that pool lets nobody sign up (only the back office creates
  users) and requires MFA with an authenticator app (TOTP); no parameter value turns MFA off;
- the licence admins' group is named by the AdminGroupName parameter, whose pattern admits no
  whitespace, brackets, commas or quotes (API Gateway hands `cognito:groups` on as one
  string, "[a b]", which the functions split at those),
  every HTTP function is told that name (ADMIN_GROUP), and the JWT authorizer trusts that
  pool when it is created;
- browsers' CORS preflights reach a route without authorization, and the CORS configuration
  exposes Retry-After, Idempotent-Replayed and Allow;
- no function is given AUTH_MODE;
- notify's stream filter passes a new pending invitation but not the record of a revoke,
  every history entry (v3: the webhook outbox), and an endpoint its deliveries disabled;
- only the order system's principal may put events on the orders bus, and only events of
  the OrderSource parameter's source, which the rule passes to provision (ORDER_SOURCE);
- every function is in an alarm on its errors and in one on its throttles, an alarm that
  says "all N functions" covers N, and none watches more metrics than CloudWatch allows;
- the hosted console (HostConsole) can never be public: every bucket blocks all public
  access and has ACLs disabled, no bucket policy allows everyone, each refuses requests
  without TLS, and the console's bucket is read only by CloudFront for its own distribution
  (origin access control signing always; `s3:GetObject` for `cloudfront.amazonaws.com`
  under `AWS:SourceArn` = that distribution); its CSP runs the console's own scripts only.

Usage: check_template.py [TEMPLATE]; exits non-zero naming every violation.
"""

import fnmatch
import json
import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_routes import CfnLoader, report  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TENANT = "custom:customer_id"


class TaggedStr(str):
    """A scalar written with a short tag (!Ref Name): still the plain string CfnLoader gives."""


class TaggedList(list):
    """A sequence written with a short tag (!If [...], !Sub [...])."""


class TaggedDict(dict):
    """A mapping written with a short tag."""


class TemplateLoader(CfnLoader):
    """CfnLoader that also remembers each value's short tag (`.tag`: "Ref", "If", ...), so
    that a !Ref to a parameter can be told from a literal and the template evaluated with
    its parameters' defaults. The values compare and print as CfnLoader's do."""


def _tagged(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = TaggedStr(loader.construct_scalar(node))
    elif isinstance(node, yaml.SequenceNode):
        value = TaggedList(loader.construct_sequence(node, deep=True))
    else:
        value = TaggedDict(loader.construct_mapping(node, deep=True))
    value.tag = suffix
    return value


TemplateLoader.add_multi_constructor("!", _tagged)


def intrinsic(value):
    """(function, argument) of an intrinsic function in short or long form ("Ref", "If",
    "Equals", ...), or (None, value)."""
    tag = getattr(value, "tag", None)
    if tag:
        return tag, str(value) if isinstance(value, str) else value
    if isinstance(value, dict) and len(value) == 1:
        (key, argument), = value.items()
        if key == "Ref":
            return "Ref", argument
        if isinstance(key, str) and key.startswith("Fn::"):
            return key[4:], argument
    return None, value


def refers_to(value, parameter):
    """Whether the value is a !Ref to the parameter."""
    function, argument = intrinsic(value)
    return function == "Ref" and argument == parameter


class Defaults:
    """The template as deployed with every parameter at its default: !Ref to a parameter is
    its Default, !If follows its condition."""

    def __init__(self, template):
        self.parameters = template.get("Parameters") or {}
        self.conditions = template.get("Conditions") or {}

    def holds(self, condition):
        return self.truth(self.conditions[condition])

    def truth(self, expression):
        function, argument = intrinsic(expression)
        if function == "Equals":
            left, right = (self.value(side) for side in argument)
            return str(left) == str(right)
        if function == "Not":
            return not self.truth(argument[0])
        if function == "And":
            return all(self.truth(each) for each in argument)
        if function == "Or":
            return any(self.truth(each) for each in argument)
        if function == "Condition":
            return self.holds(argument)
        if isinstance(expression, dict) and list(expression) == ["Condition"]:
            return self.holds(expression["Condition"])
        raise ValueError(f"cannot evaluate the condition {expression!r}")

    def value(self, value):
        function, argument = intrinsic(value)
        if function == "Ref" and argument in self.parameters:
            return self.parameters[argument].get("Default")
        if function == "If":
            condition, then, otherwise = argument
            return self.value(then if self.holds(str(condition)) else otherwise)
        if function is None and isinstance(value, dict):
            return {key: self.value(each) for key, each in value.items()}
        if function is None and isinstance(value, list):
            return [self.value(each) for each in value]
        return value

    def possible(self, value):
        """Every value a property may take over all parameter values (None: any at all)."""
        function, argument = intrinsic(value)
        if function == "Ref" and argument in self.parameters:
            allowed = self.parameters[argument].get("AllowedValues")
            return {str(v) for v in allowed} if allowed else None
        if function == "If":
            branches = [self.possible(each) for each in argument[1:]]
            return None if None in branches else set().union(*branches)
        if function is not None:
            return None
        return {str(value)}


def resources_of(template, kind):
    return {name: r for name, r in template["Resources"].items() if r.get("Type") == kind}


def matches(pattern, event):
    """EventBridge-style filter matching, for the pattern features the template uses:
    nested objects, lists of exact values, and {"exists": false/true}."""
    for key, want in pattern.items():
        if isinstance(want, dict):
            # An absent object matches only patterns of absent fields, as in AWS.
            inner = event.get(key) if isinstance(event, dict) else None
            if not matches(want, inner if isinstance(inner, dict) else {}):
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
    if len(filters) > 5:
        problems.append(f"notify's stream has {len(filters)} filters (an event source mapping takes 5)")
    if not passes(stream_record()):
        problems.append("notify's stream filter drops a new pending invitation")
    revoked = stream_record(revokedAt={"S": "2026-11-29T10:00:00Z"})
    if passes(revoked):
        problems.append("notify's stream filter passes the record of a revoked assignment")
    if passes(stream_record(invitation={"M": {"status": {"S": "sent"}}})):
        problems.append("notify's stream filter passes an invitation that is not pending")
    if passes(stream_record(invitationDueAt={"S": "2026-12-06T10:00:00Z"})):
        problems.append("notify's stream filter passes an invitation waiting for its window")
    token = {"type": {"S": "Token"}, "name": {"S": "Okta"}}
    revoked_token = dict(token, revokedAt={"S": "2026-12-06T10:00:00Z"})
    if not passes({"eventName": "INSERT", "dynamodb": {"NewImage": token}}):
        problems.append("notify's stream filter drops a new provisioning token (its buyers are told)")
    if not passes({"eventName": "MODIFY", "dynamodb": {"NewImage": revoked_token, "OldImage": token}}):
        problems.append("notify's stream filter drops a token's revocation (its buyers are told)")
    used = dict(token, lastUsedAt={"S": "2026-12-06T10:00:00Z"})
    if passes({"eventName": "MODIFY", "dynamodb": {"NewImage": used, "OldImage": token}}):
        problems.append("notify's stream filter passes a token's use (lastUsedAt)")
    if passes({"eventName": "MODIFY", "dynamodb": {"NewImage": revoked_token, "OldImage": revoked_token}}):
        problems.append("notify's stream filter passes a change of a token revoked before")
    entry = {"type": {"S": "HistoryEntry"}, "action": {"S": "assignment.reclaim-warned"}}
    if not passes({"eventName": "INSERT", "dynamodb": {"NewImage": entry}}):
        problems.append("notify's stream filter drops a reclaim warning (the person is told)")
    reclaimed = dict(entry, action={"S": "assignment.revoked"}, reason={"S": "inactive"})
    if not passes({"eventName": "INSERT", "dynamodb": {"NewImage": reclaimed}}):
        problems.append("notify's stream filter drops a reclaim (the person is told)")
    if not passes({"eventName": "INSERT", "dynamodb": {"NewImage": dict(entry, action={"S": "license.seats-exhausted"})}}):
        problems.append("notify's stream filter drops seats running out (the buyer is told)")
    # v3: every history entry is an event (the outbox); notify is the stream's one reader.
    if not passes({"eventName": "INSERT", "dynamodb": {"NewImage": dict(entry, action={"S": "assignment.created"})}}):
        problems.append("notify's stream filter drops a history entry (every one is a webhook event)")
    hook = {"type": {"S": "Webhook"}, "url": {"S": "https://hooks.example.com/in"}}
    for reason in ("gone", "failing"):
        disabled = dict(hook, disabledReason={"S": reason})
        if not passes({"eventName": "MODIFY", "dynamodb": {"NewImage": disabled, "OldImage": hook}}):
            problems.append(f"notify's stream filter drops an endpoint its deliveries disabled ({reason}: the buyers are told)")
        if passes({"eventName": "MODIFY", "dynamodb": {"NewImage": disabled, "OldImage": disabled}}):
            problems.append("notify's stream filter passes a change of an endpoint disabled before")
    by_admin = dict(hook, disabledReason={"S": "by-admin"})
    if passes({"eventName": "MODIFY", "dynamodb": {"NewImage": by_admin, "OldImage": hook}}):
        problems.append("notify's stream filter passes an endpoint an admin disabled")
    leased = dict(hook, slots={"M": {"3": {"N": "1765000000000"}}})
    if passes({"eventName": "MODIFY", "dynamodb": {"NewImage": leased, "OldImage": hook}}):
        problems.append("notify's stream filter passes a delivery's lease of an endpoint slot")
    if passes({"eventName": "INSERT", "dynamodb": {"NewImage": {"type": {"S": "WebhookDelivery"}}}}):
        problems.append("notify's stream filter passes a delivery's log entry")
    schedules = [e for e in notify.values() if e.get("Type") == "ScheduleV2"]
    if not any("rate(1 minute)" == (e.get("Properties") or {}).get("ScheduleExpression") for e in schedules):
        problems.append("notify has no schedule a minute for the invitations that waited")

    policies = resources_of(template, "AWS::Events::EventBusPolicy").values()
    statements = [p.get("Properties", {}).get("Statement", {}) for p in policies]
    allows = [s for s in statements if s.get("Effect") == "Allow"]
    denies = [s for s in statements if s.get("Effect") == "Deny"]
    if not allows or any(s.get("Principal") == "*" for s in allows):
        problems.append("the orders bus must admit the order system's principal only")
    if not any("aws:PrincipalArn" in str(s.get("Condition")) for s in denies):
        problems.append("the orders bus must refuse every other principal")
    return (problems + check_user_pool(template) + check_admin_group(template) + check_orders(template)
            + check_alarms(template) + check_reminders(template) + check_tokens(template) + check_open_routes(template)
            + check_entitlements(template) + check_webhooks(template)
            + check_console(template))


def check_user_pool(template):
    """Deployed with the defaults, the created pool lets nobody sign up and requires MFA with
    an authenticator app; no parameter value turns MFA off."""
    problems = []
    defaults = Defaults(template)
    for name, pool in resources_of(template, "AWS::Cognito::UserPool").items():
        raw = pool.get("Properties", {})
        props = defaults.value(raw)
        admin_only = (props.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly")
        if str(admin_only).lower() != "true":
            problems.append(f"{name}: anyone may sign up by default (AdminCreateUserConfig.AllowAdminCreateUserOnly is {admin_only}, not true)")
        mfa = props.get("MfaConfiguration")
        if mfa != "ON":
            problems.append(f"{name}: MFA is not required by default (MfaConfiguration is {mfa}, not ON)")
        possible = defaults.possible(raw.get("MfaConfiguration"))
        if possible is None or not possible <= {"ON", "OPTIONAL"}:
            problems.append(f"{name}: a parameter value may turn MFA off (MfaConfiguration may be {sorted(possible) if possible else 'anything'})")
        if "SOFTWARE_TOKEN_MFA" not in (props.get("EnabledMfas") or []):
            problems.append(f"{name}: no MFA with an authenticator app (EnabledMfas lacks SOFTWARE_TOKEN_MFA)")
    return problems


ADMIN_GROUP = "AdminGroupName"
# Names the admin group's pattern must refuse: API Gateway hands `cognito:groups` to the
# functions as one string ("[a b]"), which they split at whitespace and commas and strip of
# brackets and quotes, so any of these could read as another group.
ADMIN_GROUP_LOOKALIKES = ("license admin", "x license-admin", "[license-admin]", "license-admin]", "a\tb", "a\nb",
                          "x,license-admin", '"license-admin"', "")


def function_env(template, function):
    """The environment a function gets: Globals' variables, then its own."""
    env = dict((template.get("Globals", {}).get("Function", {}).get("Environment") or {}).get("Variables") or {})
    env.update((function.get("Properties", {}).get("Environment") or {}).get("Variables") or {})
    return env


def check_admin_group(template):
    """The admin group is one name, from the AdminGroupName parameter: the pool's group and
    every HTTP function's ADMIN_GROUP; its pattern refuses the separators of a groups claim."""
    parameter = (template.get("Parameters") or {}).get(ADMIN_GROUP)
    if parameter is None:
        return [f"no {ADMIN_GROUP} parameter (the licence admins' group)"]
    problems = []
    pattern = parameter.get("AllowedPattern")
    if not pattern:
        problems.append(f"{ADMIN_GROUP} admits names with whitespace, brackets, commas or quotes (no AllowedPattern)")
    else:
        admitted = [name for name in ADMIN_GROUP_LOOKALIKES if re.fullmatch(str(pattern), name)]
        if admitted:
            problems.append(f"{ADMIN_GROUP} admits names with whitespace, brackets, commas or quotes ({', '.join(map(repr, admitted))})")
        if not re.fullmatch(str(pattern), str(parameter.get("Default"))):
            problems.append(f"{ADMIN_GROUP}'s default does not match its pattern")
    groups = resources_of(template, "AWS::Cognito::UserPoolGroup").values()
    if not any(refers_to(g.get("Properties", {}).get("GroupName"), ADMIN_GROUP) for g in groups):
        problems.append(f"the user pool has no group named by {ADMIN_GROUP} (the licence admins)")
    for name, fn in resources_of(template, "AWS::Serverless::Function").items():
        events = (fn.get("Properties", {}).get("Events") or {}).values()
        if any(event.get("Type") == "HttpApi" for event in events):
            value = function_env(template, fn).get("ADMIN_GROUP")
            if not refers_to(value, ADMIN_GROUP):
                problems.append(f"{name}: ADMIN_GROUP is not the {ADMIN_GROUP} parameter ({value!r})")
    return problems


ORDER_SOURCE = "OrderSource"


def check_orders(template):
    """The orders bus admits the order system's events of OrderSource only; the rule on it
    passes exactly those to provision, which is told the source (ORDER_SOURCE)."""
    if ORDER_SOURCE not in (template.get("Parameters") or {}):
        return [f"no {ORDER_SOURCE} parameter (the order system's event source)"]
    problems = []
    for name, policy in resources_of(template, "AWS::Events::EventBusPolicy").items():
        statement = policy.get("Properties", {}).get("Statement") or {}
        if statement.get("Effect") == "Allow":
            source = lower_keys(lower_keys(statement.get("Condition")).get("stringequals")).get("events:source")
            if not refers_to(source, ORDER_SOURCE):
                problems.append(f"{name}: the orders bus admits other sources than {ORDER_SOURCE} (events:source is {source!r})")
    rules = 0
    for name, fn in resources_of(template, "AWS::Serverless::Function").items():
        for event in (fn.get("Properties", {}).get("Events") or {}).values():
            props = event.get("Properties", {})
            if event.get("Type") == "EventBridgeRule" and refers_to(props.get("EventBusName"), "OrdersBus"):
                rules += 1
                sources = (props.get("Pattern") or {}).get("source")
                if not (isinstance(sources, list) and len(sources) == 1 and refers_to(sources[0], ORDER_SOURCE)):
                    problems.append(f"{name}: its orders rule does not pass exactly {ORDER_SOURCE}'s events (source {sources!r})")
                if not refers_to(function_env(template, fn).get("ORDER_SOURCE"), ORDER_SOURCE):
                    problems.append(f"{name}: ORDER_SOURCE is not the {ORDER_SOURCE} parameter")
    if not rules:
        problems.append("no function listens to the orders bus")
    return problems


# A metric math alarm may retrieve at most 10 metrics (CloudWatch's hard limit): beyond that,
# split the functions over two alarms.
ALARM_METRICS = 10
NUMBERS = {word: n for n, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}


def lambda_function(metric):
    """The function a CloudWatch metric of AWS/Lambda is about (its FunctionName dimension)."""
    for dimension in metric.get("Dimensions") or []:
        if dimension.get("Name") == "FunctionName":
            return logical_id(dimension.get("Value"))
    return None


def check_alarms(template):
    """Every function is in an alarm on its Errors and in one on its Throttles (a function
    added later without them fails), an alarm that says "all N functions" covers N, and no
    alarm watches more metrics than CloudWatch allows."""
    problems = []
    for name, alarm in resources_of(template, "AWS::CloudWatch::Alarm").items():
        watched = [q for q in alarm.get("Properties", {}).get("Metrics") or [] if "MetricStat" in q]
        if len(watched) > ALARM_METRICS:
            problems.append(f"{name}: watches {len(watched)} metrics, CloudWatch allows {ALARM_METRICS} per alarm")
    functions = set(resources_of(template, "AWS::Serverless::Function"))
    for metric_name in ("Errors", "Throttles"):
        covered = set()
        for name, alarm in resources_of(template, "AWS::CloudWatch::Alarm").items():
            props = alarm.get("Properties", {})
            mine = set()
            if props.get("Namespace") == "AWS/Lambda" and props.get("MetricName") == metric_name:
                mine.add(lambda_function(props))
            queries = {}
            for query in props.get("Metrics") or []:
                metric = (query.get("MetricStat") or {}).get("Metric") or {}
                if metric.get("Namespace") == "AWS/Lambda" and metric.get("MetricName") == metric_name:
                    queries[query.get("Id")] = lambda_function(metric)
            for query in props.get("Metrics") or []:
                if str(query.get("ReturnData", True)).lower() != "true":
                    continue
                if "Expression" in query:
                    used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", str(query["Expression"])))
                    mine |= {queries[i] for i in used if i in queries}
                elif query.get("Id") in queries:
                    mine.add(queries[query.get("Id")])
            mine.discard(None)
            said = re.search(r"\ball (\w+) functions\b", str(props.get("AlarmDescription", "")))
            if mine and said and NUMBERS.get(said.group(1)) != len(mine):
                problems.append(f"{name}: its description says {said.group(1)} functions, it covers {len(mine)}")
            covered |= mine
        for function in sorted(functions - covered):
            problems.append(f"{function} is in no alarm on its {metric_name}")
    return problems


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
        indexes = [str(r) for r in as_list(resource)]
        if action == "dynamodb:Query" and not all(("index/GSI2" in r or "index/GSI3" in r) for r in indexes):
            problems.append("RemindFunction may Query more than GSI2 and GSI3")
        allowed = ("dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:PutItem")
        if action.startswith("dynamodb:") and action not in allowed:
            problems.append(f"RemindFunction may {action} (it reads candidates, records reminders and reclaims seats only)")
    return problems


def check_open_routes(template):
    """Only two routes go without the JWT authorizer: the browsers' CORS preflights, and
    SCIM, whose function checks a provisioning token itself."""
    open_routes = {("OPTIONS", "/{proxy+}"), ("ANY", "/scim/v2/{proxy+}")}
    problems = []
    for name, fn in resources_of(template, "AWS::Serverless::Function").items():
        for event in (fn.get("Properties", {}).get("Events") or {}).values():
            props = event.get("Properties") or {}
            route = (str(props.get("Method", "")).upper(), props.get("Path"))
            if event.get("Type") == "HttpApi" and (props.get("Auth") or {}).get("Authorizer") == "NONE" \
                    and route not in open_routes:
                problems.append(f"{name}: {route[0]} {route[1]} goes without the JWT authorizer")
    return problems


def check_tokens(template):
    """The tokens function touches its own records only: single items and one Query of a
    customer's tokens; it never reads in batches, scans or writes in batches."""
    tokens = template["Resources"].get("TokensFunction")
    if tokens is None:
        return ["no TokensFunction"]
    allowed = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    return [f"TokensFunction may {action} (it reads and writes single token items)"
            for action, _ in actions_of(tokens)
            if action.startswith("dynamodb:") and action not in allowed]


def check_entitlements(template):
    """The entitlement check, the hottest path, reads a person's seats through GSI1 and
    licences by key, and writes nothing but the day's activity (one UpdateItem, with the
    history entry of a first use): no Query of the table, no other write."""
    fn = template["Resources"].get("EntitlementsFunction")
    if fn is None:
        return ["no EntitlementsFunction"]
    problems = []
    for action, resource in actions_of(fn):
        if action == "dynamodb:Query" and any("index/GSI1" not in str(r) for r in as_list(resource)):
            problems.append("EntitlementsFunction may Query more than GSI1")
        if action.startswith("dynamodb:") and action not in ("dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"):
            problems.append(f"EntitlementsFunction may {action} (it reads seats and records activity only)")
    return problems


def check_webhooks(template):
    """Webhooks (v3): the delivery function reads endpoints in batches and updates single
    items (claims, results), never queries, scans, puts or deletes; it alone consumes the
    delivery queue, which has a dead-letter queue; the endpoints' function seals secrets
    only under an endpoint's encryption context."""
    resources = template["Resources"]
    deliver, webhooks = resources.get("DeliverFunction"), resources.get("WebhooksFunction")
    if deliver is None or webhooks is None:
        return ["no DeliverFunction or WebhooksFunction"]
    problems = [f"DeliverFunction may {action} (it claims and records attempts only)"
                for action, _ in actions_of(deliver)
                if action.startswith("dynamodb:") and action not in ("dynamodb:BatchGetItem", "dynamodb:UpdateItem")]
    queue = (resources.get("WebhookQueue") or {}).get("Properties") or {}
    if "deadLetterTargetArn" not in str(queue.get("RedrivePolicy")):
        problems.append("WebhookQueue has no dead-letter queue")
    events = (deliver.get("Properties", {}).get("Events") or {}).values()
    if not any(e.get("Type") == "SQS" and "ReportBatchItemFailures" in str(e.get("Properties")) for e in events):
        problems.append("DeliverFunction does not consume the queue with partial batch responses")
    for policy in webhooks.get("Properties", {}).get("Policies") or []:
        for statement in (policy.get("Statement") or []) if isinstance(policy, dict) else []:
            if "kms:Encrypt" in as_list(statement.get("Action")) and "webhookId" not in str(statement.get("Condition")):
                problems.append("WebhooksFunction may encrypt without an endpoint's encryption context")
    return problems


def main(path):
    template = yaml.load(Path(path).read_text(), Loader=TemplateLoader)
    ok = ("tenant claim read-only, no self sign-up and MFA by default, admin group everywhere, authorizer, CORS preflight, "
          "stream filter, orders bus and source, every function alarmed, no Scan, daily run on GSI2 and GSI3, tokens on single items, "
          "entitlements on GSI1 and one UpdateItem, webhook deliveries on single items with a dead-letter queue, "
          "no route without the authorizer but preflights and SCIM, "
          "private console bucket")
    return report("template", check(template), ok)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ROOT / "infra/template.yaml"))
