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

#[test]
fn the_template_as_committed_passes() {
    let (ok, text) = check_with(str::to_string);
    assert!(ok, "{text}");
}

#[test]
fn a_writable_tenant_claim_fails_the_check() {
    let (ok, text) = check_with(|t| {
        t.replace(
            "WriteAttributes: [email, name]",
            "WriteAttributes: [email, name, custom:customer_id]",
        )
    });
    assert!(!ok && text.contains("may write custom:customer_id"), "{text}");
    // Without WriteAttributes Cognito lets users write every attribute.
    let (ok, text) = check_with(|t| t.replace("      WriteAttributes: [email, name]\n", ""));
    assert!(!ok && text.contains("WriteAttributes missing"), "{text}");
}

#[test]
fn self_sign_up_or_mfa_not_required_by_default_fails_the_check() {
    // MFA relaxed by the parameter's default, or set without the parameter.
    let (ok, text) = check_with(|t| {
        t.replacen(
            "  UserPoolMfa:\n    Type: String\n    Default: \"ON\"",
            "  UserPoolMfa:\n    Type: String\n    Default: OPTIONAL",
            1,
        )
    });
    assert!(!ok && text.contains("UserPool: MFA is not required by default"), "{text}");
    let (ok, text) = check_with(|t| {
        t.replace("MfaConfiguration: !Ref UserPoolMfa", "MfaConfiguration: OPTIONAL")
    });
    assert!(!ok && text.contains("UserPool: MFA is not required by default"), "{text}");
    // A value of the parameter that turns MFA off, and MFA without an authenticator app.
    let (ok, text) = check_with(|t| {
        t.replace(
            r#"AllowedValues: ["ON", "OPTIONAL"]"#,
            r#"AllowedValues: ["ON", "OPTIONAL", "OFF"]"#,
        )
    });
    assert!(!ok && text.contains("a parameter value may turn MFA off"), "{text}");
    let (ok, text) =
        check_with(|t| t.replace("EnabledMfas: [SOFTWARE_TOKEN_MFA]", "EnabledMfas: [SMS_MFA]"));
    assert!(!ok && text.contains("EnabledMfas lacks SOFTWARE_TOKEN_MFA"), "{text}");
    // Self sign-up by the parameter's default, or whatever the parameter says.
    let (ok, text) = check_with(|t| {
        t.replacen(
            "  UserPoolSelfSignUp:\n    Type: String\n    Default: \"false\"",
            "  UserPoolSelfSignUp:\n    Type: String\n    Default: \"true\"",
            1,
        )
    });
    assert!(!ok && text.contains("UserPool: anyone may sign up by default"), "{text}");
    let (ok, text) = check_with(|t| {
        t.replace(
            "AllowAdminCreateUserOnly: !If [SelfSignUp, false, true]",
            "AllowAdminCreateUserOnly: false",
        )
    });
    assert!(!ok && text.contains("UserPool: anyone may sign up by default"), "{text}");
}

#[test]
fn an_admin_group_other_than_its_parameter_fails_the_check() {
    // API Gateway hands cognito:groups on as one string ("[a b]"): a name with a space, a
    // bracket, a comma or a quote could pass for another group.
    let (ok, text) = check_with(|t| {
        t.replace("AllowedPattern: ^[A-Za-z0-9._-]{1,128}$", "AllowedPattern: ^.{1,128}$")
    });
    assert!(
        !ok && text
            .contains("AdminGroupName admits names with whitespace, brackets, commas or quotes"),
        "{text}"
    );
    let (ok, text) =
        check_with(|t| t.replace("GroupName: !Ref AdminGroupName", "GroupName: license-admin"));
    assert!(!ok && text.contains("no group named by AdminGroupName"), "{text}");
    // An HTTP function not told the group (list comes first), or told a name of its own.
    let (ok, text) =
        check_with(|t| t.replacen("          ADMIN_GROUP: !Ref AdminGroupName\n", "", 1));
    assert!(
        !ok && text.contains("ListFunction: ADMIN_GROUP is not the AdminGroupName parameter"),
        "{text}"
    );
    let (ok, text) = check_with(|t| {
        t.replace(
            "ADMIN_GROUP: !Ref AdminGroupName\n          ASSIGN_BUDGET_PER_MINUTE",
            "ADMIN_GROUP: license-admin\n          ASSIGN_BUDGET_PER_MINUTE",
        )
    });
    assert!(
        !ok && text.contains("AssignFunction: ADMIN_GROUP is not the AdminGroupName parameter"),
        "{text}"
    );
}

#[test]
fn order_events_of_another_source_fail_the_check() {
    // The order system's principal may put events of any source on the bus.
    let (ok, text) = check_with(|t| {
        t.replace(
            "        Condition:\n          StringEquals:\n            events:source: !Ref OrderSource\n",
            "",
        )
    });
    assert!(!ok && text.contains("the orders bus admits other sources than OrderSource"), "{text}");
    // The rule listens to a fixed source, and provision is not told the parameter's.
    let (ok, text) =
        check_with(|t| t.replace("source: [!Ref OrderSource]", "source: [licensing.orders]"));
    assert!(!ok && text.contains("does not pass exactly OrderSource's events"), "{text}");
    let (ok, text) = check_with(|t| t.replace("          ORDER_SOURCE: !Ref OrderSource\n", ""));
    assert!(
        !ok && text.contains("ProvisionFunction: ORDER_SOURCE is not the OrderSource parameter"),
        "{text}"
    );
}

#[test]
fn a_function_without_its_alarms_fails_the_check() {
    // remind's throttles left out of the alarm, or only out of its sum (the throttles'
    // expression comes after the errors').
    let (ok, text) = check_with(|t| {
        t.lines()
            .filter(|line| {
                !(line.contains("MetricName: Throttles") && line.contains("RemindFunction"))
            })
            .map(|line| format!("{line}\n"))
            .collect()
    });
    assert!(!ok && text.contains("RemindFunction is in no alarm on its Throttles"), "{text}");
    assert!(
        text.contains("FunctionThrottlesAlarm: its description says seven functions, it covers 6"),
        "{text}"
    );
    let (ok, text) = check_with(|t| {
        let sum = "notify, remind])";
        let at = t.rfind(sum).unwrap();
        format!("{}notify]){}", &t[..at], &t[at + sum.len()..])
    });
    assert!(!ok && text.contains("RemindFunction is in no alarm on its Throttles"), "{text}");
    assert!(!text.contains("on its Errors"), "{text}");
    // A function added later without alarms.
    let (ok, text) = check_with(|t| {
        t.replace(
            "  # ---------------------------------------------------------------- order events\n",
            "  ExtraFunction:\n    Type: AWS::Serverless::Function\n    Metadata:\n      \
             BuildMethod: rust-cargolambda\n      BuildProperties: { Binary: extra }\n    \
             Properties:\n      FunctionName: !Sub ${AWS::StackName}-extra\n\n  \
             # ---------------------------------------------------------------- order events\n",
        )
    });
    assert!(!ok && text.contains("ExtraFunction is in no alarm on its Errors"), "{text}");
    assert!(text.contains("ExtraFunction is in no alarm on its Throttles"), "{text}");
    // More metrics than CloudWatch lets one alarm watch (10).
    let (ok, text) = check_with(|t| {
        let remind = "        - { Id: remind, ReturnData: false, MetricStat: { Stat: Sum, Period: 300, \
                      Metric: { Namespace: AWS/Lambda, MetricName: Errors, Dimensions: \
                      [{ Name: FunctionName, Value: !Ref RemindFunction }] } } }\n";
        let more: String =
            (1..=4).map(|i| remind.replace("Id: remind", &format!("Id: more{i}"))).collect();
        t.replacen(remind, &format!("{remind}{more}"), 1)
    });
    assert!(
        !ok && text.contains("FunctionErrorsAlarm: watches 11 metrics, CloudWatch allows 10"),
        "{text}"
    );
    // A description that miscounts.
    let (ok, text) = check_with(|t| t.replacen("all seven functions", "all six functions", 1));
    assert!(
        !ok && text
            .contains("FunctionErrorsAlarm: its description says six functions, it covers 7"),
        "{text}"
    );
}

#[test]
fn a_preflight_behind_the_authorizer_fails_the_check() {
    let (ok, text) = check_with(|t| t.replace(", Auth: { Authorizer: NONE }", ""));
    assert!(!ok && text.contains("behind the authorizer"), "{text}");
}

#[test]
fn a_stream_filter_that_passes_revoked_records_fails_the_check() {
    let (ok, text) =
        check_with(|t| t.replace(", \"revokedAt\": {\"S\": [{\"exists\": false}]}", ""));
    assert!(!ok && text.contains("passes the record of a revoked assignment"), "{text}");
}

#[test]
fn waiting_invitations_without_their_filter_or_schedule_fail_the_check() {
    let (ok, text) =
        check_with(|t| t.replace(", \"invitationDueAt\": {\"S\": [{\"exists\": false}]}", ""));
    assert!(!ok && text.contains("passes an invitation waiting for its window"), "{text}");
    let (ok, text) = check_with(|t| t.replace("rate(1 minute)", "rate(1 hour)"));
    assert!(!ok && text.contains("no schedule a minute"), "{text}");
}

#[test]
fn a_scan_or_reminders_beyond_their_index_fail_the_check() {
    let (ok, out) = check_with(|t| {
        t.replace("Action: [dynamodb:Query]", "Action: [dynamodb:Query, dynamodb:Scan]")
    });
    assert!(!ok && out.contains("RemindFunction may dynamodb:Scan"), "{out}");
    let (ok, out) = check_with(|t| {
        t.replace("Resource: !Sub \"${Table.Arn}/index/GSI2\"", "Resource: !GetAtt Table.Arn")
    });
    assert!(!ok && out.contains("may Query more than GSI2"), "{out}");
    let (ok, out) = check_with(|t| t.replace("Type: ScheduleV2", "Type: Schedule"));
    assert!(!ok && out.contains("no daily EventBridge Scheduler schedule"), "{out}");
}

#[test]
fn a_console_bucket_readable_by_others_fails_the_check() {
    let cloudfront = "Principal: { Service: cloudfront.amazonaws.com }";
    // Everyone, or any principal of the account, instead of CloudFront.
    for principal in [r#"Principal: "*""#, "Principal: { AWS: !Ref AWS::AccountId }"] {
        let (ok, text) = check_with(|t| t.replace(cloudfront, principal));
        assert!(!ok && text.contains("ConsoleBucket: readable by"), "{text}");
    }
    // CloudFront, but for any distribution: a wildcard, or no AWS:SourceArn at all.
    let (ok, text) =
        check_with(|t| t.replace("distribution/${ConsoleDistribution}", "distribution/*"));
    assert!(!ok && text.contains("CloudFront may read it for any distribution"), "{text}");
    let (ok, text) = check_with(|t| {
        let arn = "distribution/${ConsoleDistribution}";
        t.lines().filter(|line| !line.contains(arn)).map(|line| format!("{line}\n")).collect()
    });
    assert!(!ok && text.contains("CloudFront may read it for any distribution"), "{text}");
    // Unsigned requests from CloudFront only get through to a public bucket.
    let (ok, text) =
        check_with(|t| t.replace("SigningBehavior: always", "SigningBehavior: no-override"));
    assert!(!ok && text.contains("does not sign every request to ConsoleBucket"), "{text}");
}

#[test]
fn a_public_console_bucket_fails_the_check() {
    // The console bucket comes first in the template.
    let (ok, text) = check_with(|t| {
        t.replacen("RestrictPublicBuckets: true", "RestrictPublicBuckets: false", 1)
    });
    assert!(!ok && text.contains("ConsoleBucket: public access is not blocked"), "{text}");
    let (ok, text) = check_with(|t| t.replacen("        BlockPublicPolicy: true\n", "", 1));
    assert!(!ok && text.contains("BlockPublicPolicy not true"), "{text}");
    let (ok, text) = check_with(|t| {
        t.replacen("ObjectOwnership: BucketOwnerEnforced", "ObjectOwnership: ObjectWriter", 1)
    });
    assert!(!ok && text.contains("ConsoleBucket: ACLs are enabled"), "{text}");
    let (ok, text) = check_with(|t| {
        t.replacen(
            "Bool: { aws:SecureTransport: \"false\" }",
            "Bool: { aws:SecureTransport: \"true\" }",
            1,
        )
    });
    assert!(
        !ok && text.contains("ConsoleBucket: its policy does not refuse requests without TLS"),
        "{text}"
    );
}

#[test]
fn a_console_csp_that_runs_other_scripts_fails_the_check() {
    let (ok, text) =
        check_with(|t| t.replace("script-src 'self';", "script-src 'self' 'unsafe-inline';"));
    assert!(!ok && text.contains("runs scripts from more than its own origin"), "{text}");
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
