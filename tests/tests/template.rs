//! The template's security checks (infra/local/check_template.py, run by
//! `make test`) catch what they are there for: a tenant claim users could
//! write, self sign-up or MFA that is not required by default, an admin group
//! that is not the one parameter everywhere, order events of another source, a
//! function without its alarms, a preflight behind the authorizer, a console
//! bucket that is public or readable by anyone but its distribution. And
//! checkov passes the hosted console.

use std::path::PathBuf;
use std::process::Command;

use licensing_tests::workspace_root;

/// The template with `edit` applied, written to a directory of its own.
fn edited_template(edit: impl Fn(&str) -> String) -> PathBuf {
    let template = std::fs::read_to_string(workspace_root().join("infra/template.yaml")).unwrap();
    let dir = std::env::temp_dir().join(format!("template-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("template.yaml");
    std::fs::write(&path, edit(&template)).unwrap();
    path
}

/// Runs the check on the template with `edit` applied; its exit status and output.
fn check_with(edit: impl Fn(&str) -> String) -> (bool, String) {
    let root = workspace_root();
    let path = edited_template(edit);
    let out = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("infra/local/check_template.py"))
        .arg(&path)
        .output()
        .expect("python from `make setup`");
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    (out.status.success(), text)
}

/// The check fails on the template with `edit` applied, and says `says`;
/// its output.
#[track_caller]
fn fails_with(edit: impl Fn(&str) -> String, says: &str) -> String {
    let (ok, text) = check_with(edit);
    assert!(!ok && text.contains(says), "{text}");
    text
}

/// [`fails_with`] every `from` in the template replaced by `to`.
#[track_caller]
fn fails_replacing(from: &str, to: &str, says: &str) -> String {
    fails_with(|t| t.replace(from, to), says)
}

/// [`fails_with`] the first `from` in the template replaced by `to`.
#[track_caller]
fn fails_replacing_first(from: &str, to: &str, says: &str) -> String {
    fails_with(|t| t.replacen(from, to, 1), says)
}

/// The template without its lines that `drop` picks.
fn without_lines(t: &str, drop: impl Fn(&str) -> bool) -> String {
    t.lines().filter(|line| !drop(line)).map(|line| format!("{line}\n")).collect()
}

#[test]
fn the_template_as_committed_passes() {
    let (ok, text) = check_with(str::to_string);
    assert!(ok, "{text}");
}

#[test]
fn a_writable_tenant_claim_fails_the_check() {
    fails_replacing(
        "WriteAttributes: [email, name]",
        "WriteAttributes: [email, name, custom:customer_id]",
        "may write custom:customer_id",
    );
    // Without WriteAttributes Cognito lets users write every attribute.
    fails_replacing("      WriteAttributes: [email, name]\n", "", "WriteAttributes missing");
}

#[test]
fn self_sign_up_or_mfa_not_required_by_default_fails_the_check() {
    // MFA relaxed by the parameter's default, or set without the parameter.
    let mfa = "UserPool: MFA is not required by default";
    fails_replacing_first(
        "  UserPoolMfa:\n    Type: String\n    Default: \"ON\"",
        "  UserPoolMfa:\n    Type: String\n    Default: OPTIONAL",
        mfa,
    );
    fails_replacing("MfaConfiguration: !Ref UserPoolMfa", "MfaConfiguration: OPTIONAL", mfa);
    // A value of the parameter that turns MFA off, and MFA without an authenticator app.
    fails_replacing(
        r#"AllowedValues: ["ON", "OPTIONAL"]"#,
        r#"AllowedValues: ["ON", "OPTIONAL", "OFF"]"#,
        "a parameter value may turn MFA off",
    );
    fails_replacing(
        "EnabledMfas: [SOFTWARE_TOKEN_MFA]",
        "EnabledMfas: [SMS_MFA]",
        "EnabledMfas lacks SOFTWARE_TOKEN_MFA",
    );
    // Self sign-up by the parameter's default, or whatever the parameter says.
    let sign_up = "UserPool: anyone may sign up by default";
    fails_replacing_first(
        "  UserPoolSelfSignUp:\n    Type: String\n    Default: \"false\"",
        "  UserPoolSelfSignUp:\n    Type: String\n    Default: \"true\"",
        sign_up,
    );
    fails_replacing(
        "AllowAdminCreateUserOnly: !If [SelfSignUp, false, true]",
        "AllowAdminCreateUserOnly: false",
        sign_up,
    );
}

#[test]
fn an_admin_group_other_than_its_parameter_fails_the_check() {
    // API Gateway hands cognito:groups on as one string ("[a b]"): a name with a space, a
    // bracket, a comma or a quote could pass for another group.
    fails_replacing(
        "AllowedPattern: ^[A-Za-z0-9._-]{1,128}$",
        "AllowedPattern: ^.{1,128}$",
        "AdminGroupName admits names with whitespace, brackets, commas or quotes",
    );
    fails_replacing(
        "GroupName: !Ref AdminGroupName",
        "GroupName: license-admin",
        "no group named by AdminGroupName",
    );
    // An HTTP function not told the group (list comes first), or told a name of its own.
    fails_replacing_first(
        "          ADMIN_GROUP: !Ref AdminGroupName\n",
        "",
        "ListFunction: ADMIN_GROUP is not the AdminGroupName parameter",
    );
    fails_replacing(
        "ADMIN_GROUP: !Ref AdminGroupName\n          ASSIGN_BUDGET_PER_MINUTE",
        "ADMIN_GROUP: license-admin\n          ASSIGN_BUDGET_PER_MINUTE",
        "AssignFunction: ADMIN_GROUP is not the AdminGroupName parameter",
    );
}

#[test]
fn order_events_of_another_source_fail_the_check() {
    // The order system's principal may put events of any source on the bus.
    fails_replacing(
        "        Condition:\n          StringEquals:\n            events:source: !Ref OrderSource\n",
        "",
        "the orders bus admits other sources than OrderSource",
    );
    // The rule listens to a fixed source, and provision is not told the parameter's.
    fails_replacing(
        "source: [!Ref OrderSource]",
        "source: [licensing.orders]",
        "does not pass exactly OrderSource's events",
    );
    fails_replacing(
        "          ORDER_SOURCE: !Ref OrderSource\n",
        "",
        "ProvisionFunction: ORDER_SOURCE is not the OrderSource parameter",
    );
}

#[test]
fn a_function_without_its_alarms_fails_the_check() {
    // remind's throttles left out of the alarm, or only out of its sum (the throttles'
    // expression comes after the errors').
    let text = fails_with(
        |t| {
            without_lines(t, |line| {
                line.contains("MetricName: Throttles") && line.contains("RemindFunction")
            })
        },
        "RemindFunction is in no alarm on its Throttles",
    );
    assert!(
        text.contains("FunctionThrottlesAlarm: its description says ten functions, it covers 9"),
        "{text}"
    );
    let sum = "notify, remind])";
    let text = fails_with(
        |t| {
            let at = t.rfind(sum).unwrap();
            format!("{}notify]){}", &t[..at], &t[at + sum.len()..])
        },
        "RemindFunction is in no alarm on its Throttles",
    );
    assert!(!text.contains("on its Errors"), "{text}");
    // A function added later without alarms.
    let text = fails_replacing(
        "  # ---------------------------------------------------------------- order events\n",
        "  ExtraFunction:\n    Type: AWS::Serverless::Function\n    Metadata:\n      \
         BuildMethod: rust-cargolambda\n      BuildProperties: { Binary: extra }\n    \
         Properties:\n      FunctionName: !Sub ${AWS::StackName}-extra\n\n  \
         # ---------------------------------------------------------------- order events\n",
        "ExtraFunction is in no alarm on its Errors",
    );
    assert!(text.contains("ExtraFunction is in no alarm on its Throttles"), "{text}");
    // More metrics than CloudWatch lets one alarm watch (10).
    let remind = "        - { Id: remind, ReturnData: false, MetricStat: { Stat: Sum, Period: 300, \
                  Metric: { Namespace: AWS/Lambda, MetricName: Errors, Dimensions: \
                  [{ Name: FunctionName, Value: !Ref RemindFunction }] } } }\n";
    let more: String =
        (1..=1).map(|i| remind.replace("Id: remind", &format!("Id: more{i}"))).collect();
    fails_replacing_first(
        remind,
        &format!("{remind}{more}"),
        "FunctionErrorsAlarm: watches 11 metrics, CloudWatch allows 10",
    );
    // A description that miscounts.
    fails_replacing_first(
        "all ten functions",
        "all nine functions",
        "FunctionErrorsAlarm: its description says nine functions, it covers 10",
    );
}

#[test]
fn an_entitlements_function_that_may_write_more_or_query_the_table_fails_the_check() {
    fails_replacing(
        "Action: [dynamodb:BatchGetItem, dynamodb:UpdateItem, dynamodb:PutItem]",
        "Action: [dynamodb:BatchGetItem, dynamodb:UpdateItem, dynamodb:PutItem, dynamodb:DeleteItem]",
        "EntitlementsFunction may dynamodb:DeleteItem",
    );
    fails_replacing(
        "              Action: [dynamodb:Query]\n              Resource: !Sub \"${Table.Arn}/index/GSI1\"",
        "              Action: [dynamodb:Query]\n              Resource: [!GetAtt Table.Arn, !Sub \"${Table.Arn}/index/GSI1\"]",
        "EntitlementsFunction may Query more than GSI1",
    );
}

#[test]
fn a_tokens_function_that_may_batch_or_scan_fails_the_check() {
    fails_replacing(
        "Action: [dynamodb:GetItem, dynamodb:Query, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem]",
        "Action: [dynamodb:GetItem, dynamodb:Query, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem, dynamodb:BatchGetItem]",
        "TokensFunction may dynamodb:BatchGetItem",
    );
}

#[test]
fn a_route_without_the_authorizer_other_than_scim_fails_the_check() {
    fails_replacing(
        "Method: DELETE, Path: \"/tokens/{tokenId}\" }",
        "Method: DELETE, Path: \"/tokens/{tokenId}\", Auth: { Authorizer: NONE } }",
        "TokensFunction: DELETE /tokens/{tokenId} goes without the JWT authorizer",
    );
}

#[test]
fn a_preflight_behind_the_authorizer_fails_the_check() {
    fails_replacing(", Auth: { Authorizer: NONE }", "", "behind the authorizer");
}

#[test]
fn a_stream_filter_that_passes_revoked_records_fails_the_check() {
    fails_replacing(
        ", \"revokedAt\": {\"S\": [{\"exists\": false}]}",
        "",
        "passes the record of a revoked assignment",
    );
}

#[test]
fn waiting_invitations_without_their_filter_or_schedule_fail_the_check() {
    fails_replacing(
        ", \"invitationDueAt\": {\"S\": [{\"exists\": false}]}",
        "",
        "passes an invitation waiting for its window",
    );
    fails_replacing("rate(1 minute)", "rate(1 hour)", "no schedule a minute");
}

#[test]
fn token_notices_without_their_filters_fail_the_check() {
    fails_replacing(
        "                - Pattern: '{\"eventName\": [\"INSERT\"], \"dynamodb\": {\"NewImage\": {\"type\": {\"S\": [\"Token\"]}}}}'\n",
        "",
        "drops a new provisioning token",
    );
    fails_replacing(
        ", \"OldImage\": {\"revokedAt\": {\"S\": [{\"exists\": false}]}}",
        "",
        "passes a change of a token revoked before",
    );
    fails_replacing(
        ", \"revokedAt\": {\"S\": [{\"exists\": true}]}}, \"OldImage\"",
        "}, \"OldImage\"",
        "passes a token's use (lastUsedAt)",
    );
    // v3: every history entry reaches notify (the webhook outbox).
    fails_replacing(
        "{\"type\": {\"S\": [\"HistoryEntry\"]}}}}'",
        "{\"type\": {\"S\": [\"HistoryEntry\"]}, \"action\": {\"S\": [\"assignment.reclaim-warned\", \"license.seats-exhausted\", \"assignment.revoked\"]}}}}'",
        "drops a history entry (every one is a webhook event)",
    );
}

#[test]
fn webhooks_without_their_filter_queue_or_limits_fail_the_check() {
    // An endpoint its deliveries disabled reaches notify (the buyers are told), once.
    fails_replacing(
        "\"disabledReason\": {\"S\": [\"gone\", \"failing\"]}",
        "\"disabledReason\": {\"S\": [\"failing\"]}",
        "drops an endpoint its deliveries disabled (gone",
    );
    fails_replacing(
        ", \"OldImage\": {\"disabledReason\": {\"S\": [{\"exists\": false}]}}",
        "",
        "passes a change of an endpoint disabled before",
    );
    fails_replacing(
        "Action: [dynamodb:BatchGetItem, dynamodb:UpdateItem]",
        "Action: [dynamodb:BatchGetItem, dynamodb:UpdateItem, dynamodb:Query]",
        "DeliverFunction may dynamodb:Query",
    );
    fails_replacing(
        "        deadLetterTargetArn: !GetAtt WebhookDeadLetters.Arn\n        maxReceiveCount: 5\n",
        "        maxReceiveCount: 5\n",
        "WebhookQueue has no dead-letter queue",
    );
    fails_replacing(
        "              Condition:\n                StringLike:\n                  kms:EncryptionContext:webhookId: wh_*\n",
        "",
        "may encrypt without an endpoint's encryption context",
    );
}

#[test]
fn a_scan_or_reminders_beyond_their_index_fail_the_check() {
    fails_replacing(
        "Action: [dynamodb:Query]",
        "Action: [dynamodb:Query, dynamodb:Scan]",
        "RemindFunction may dynamodb:Scan",
    );
    fails_replacing(
        "- !Sub \"${Table.Arn}/index/GSI3\"",
        "- !GetAtt Table.Arn",
        "may Query more than GSI2 and GSI3",
    );
    fails_replacing(
        "Type: ScheduleV2",
        "Type: Schedule",
        "no daily EventBridge Scheduler schedule",
    );
}

#[test]
fn a_console_bucket_readable_by_others_fails_the_check() {
    let cloudfront = "Principal: { Service: cloudfront.amazonaws.com }";
    // Everyone, or any principal of the account, instead of CloudFront.
    for principal in [r#"Principal: "*""#, "Principal: { AWS: !Ref AWS::AccountId }"] {
        fails_replacing(cloudfront, principal, "ConsoleBucket: readable by");
    }
    // CloudFront, but for any distribution: a wildcard, or no AWS:SourceArn at all.
    let arn = "distribution/${ConsoleDistribution}";
    let any = "CloudFront may read it for any distribution";
    fails_replacing(arn, "distribution/*", any);
    fails_with(|t| without_lines(t, |line| line.contains(arn)), any);
    // Unsigned requests from CloudFront only get through to a public bucket.
    fails_replacing(
        "SigningBehavior: always",
        "SigningBehavior: no-override",
        "does not sign every request to ConsoleBucket",
    );
}

#[test]
fn a_public_console_bucket_fails_the_check() {
    // The console bucket comes first in the template.
    fails_replacing_first(
        "RestrictPublicBuckets: true",
        "RestrictPublicBuckets: false",
        "ConsoleBucket: public access is not blocked",
    );
    fails_replacing_first("        BlockPublicPolicy: true\n", "", "BlockPublicPolicy not true");
    fails_replacing_first(
        "ObjectOwnership: BucketOwnerEnforced",
        "ObjectOwnership: ObjectWriter",
        "ConsoleBucket: ACLs are enabled",
    );
    fails_replacing_first(
        "Bool: { aws:SecureTransport: \"false\" }",
        "Bool: { aws:SecureTransport: \"true\" }",
        "ConsoleBucket: its policy does not refuse requests without TLS",
    );
}

#[test]
fn a_console_csp_that_runs_other_scripts_fails_the_check() {
    fails_replacing(
        "script-src 'self';",
        "script-src 'self' 'unsafe-inline';",
        "runs scripts from more than its own origin",
    );
}

/// checkov, as `make test` runs it, evaluates the template with its parameters' defaults and
/// so never sees the console's resources (HostConsole defaults to "false"); here it does.
#[test]
fn the_hosted_console_passes_checkov() {
    let hosted = "  HostConsole:\n    Type: String\n    Default: \"true\"";
    let path = edited_template(|t| {
        t.replacen("  HostConsole:\n    Type: String\n    Default: \"false\"", hosted, 1)
    });
    assert!(std::fs::read_to_string(&path).unwrap().contains(hosted));
    let out = Command::new(workspace_root().join(".venv/bin/checkov"))
        .arg("-f")
        .arg(&path)
        .args(["--framework", "cloudformation", "--compact", "--skip-download"])
        .output()
        .expect("checkov from `make setup`");
    let text = String::from_utf8_lossy(&out.stdout);
    for resource in [
        "AWS::S3::Bucket.ConsoleBucket",
        "AWS::S3::Bucket.ConsoleLogBucket",
        "AWS::CloudFront::Distribution.ConsoleDistribution",
    ] {
        assert!(
            text.contains(&format!("PASSED for resource: {resource}")),
            "checkov did not check {resource}:\n{text}"
        );
    }
    assert!(out.status.success() && text.contains("Failed checks: 0"), "{text}");
}
