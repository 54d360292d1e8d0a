//! The template's security checks (infra/local/check_template.py, run by
//! `make test`) catch what they are there for: a tenant claim users could
//! write, a preflight behind the authorizer, a console bucket that is public or
//! readable by anyone but its distribution. And checkov passes the hosted console.

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
