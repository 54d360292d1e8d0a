//! The template's security checks (infra/local/check_template.py, run by
//! `make test`) catch what they are there for: a tenant claim users could
//! write, a preflight behind the authorizer.

use std::process::Command;

use licensing_tests::workspace_root;

/// Runs the check on the template with `edit` applied; its exit status and output.
fn check_with(edit: impl Fn(&str) -> String) -> (bool, String) {
    let root = workspace_root();
    let template = std::fs::read_to_string(root.join("infra/template.yaml")).unwrap();
    let edited = edit(&template);
    let dir = std::env::temp_dir().join(format!("template-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("template.yaml");
    std::fs::write(&path, edited).unwrap();
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
