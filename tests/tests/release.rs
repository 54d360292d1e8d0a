//! The release binaries for Lambda (`make build-arm64`, what `sam build`
//! deploys) contain no local mode: `AUTH_MODE=local-unverified` cannot make
//! them trust an unverified token.
//!
//! Two proofs: none of the seven arm64 binaries even contains the strings
//! `AUTH_MODE` or `local-unverified`, so no code in them can read the
//! variable; and `list`, run under qemu-aarch64 with `AUTH_MODE=local-unverified`
//! and a bearer token but no authorizer context, answers 401, where the local
//! build of the same function (`--features licensing/local`) answers 200.

use std::path::PathBuf;
use std::process::Command;

use licensing_tests::runtime_api::{lambda_env, name_function, spawn_command};
use licensing_tests::*;
use serde_json::{Value, json};

fn arm64_binary(function: &str) -> PathBuf {
    let path = workspace_root().join(format!("target/lambda/{function}/bootstrap"));
    assert!(
        path.is_file(),
        "{} is missing: `make test` builds it with `make build-arm64` first",
        path.display()
    );
    path
}

/// `GET /licenses` with a bearer token and no authorizer context: what only
/// local mode would accept.
fn unauthorized_event() -> Vec<u8> {
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("events/list-licenses.json")).unwrap(),
    )
    .unwrap();
    event["requestContext"].as_object_mut().unwrap().remove("authorizer");
    event["headers"]["authorization"] = json!(format!("Bearer {}", admin(CUSTOMER)));
    event.to_string().into_bytes()
}

fn status_of(response: &Value) -> i64 {
    response["statusCode"].as_i64().unwrap_or(-1)
}

#[test]
fn release_binaries_cannot_read_auth_mode() {
    for function in FUNCTIONS {
        let bytes = std::fs::read(arm64_binary(function)).unwrap();
        for needle in [&b"AUTH_MODE"[..], b"local-unverified"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "target/lambda/{function}/bootstrap contains {:?}",
                String::from_utf8_lossy(needle)
            );
        }
    }
    // The check can fail: the local build does contain them.
    let local = std::fs::read(workspace_root().join("target/debug/list")).unwrap();
    assert!(local.windows(9).any(|w| w == b"AUTH_MODE"));
}

fn qemu() -> &'static str {
    ["qemu-aarch64", "qemu-aarch64-static"]
        .into_iter()
        .find(|q| Command::new(q).arg("--version").output().is_ok())
        .expect("qemu-aarch64 (Debian: qemu-user, libc6-arm64-cross; .ci/run installs them)")
}

/// A reminder run's `{"today"}` is a local-mode shortcut: the release
/// `remind` acts on the real date, the local build on the one asked for.
#[tokio::test]
async fn the_release_arm64_remind_acts_on_the_real_date() {
    let app = fresh_app().await;
    let mut env = lambda_env(dynamodb_endpoint(), app.store.table());
    name_function(&mut env, "remind");
    let event = json!({"today": "2031-01-15"}).to_string().into_bytes();
    let local = workspace_root().join("target/debug/remind");
    let mut command = Command::new(&local);
    command.env_clear().envs(&env);
    let answer = spawn_command(command, &event).expect("the local build answers");
    assert_eq!(answer.response["today"], "2031-01-15", "{:?}", answer.response);
    let mut command = Command::new(qemu());
    command
        .args(["-L", "/usr/aarch64-linux-gnu"])
        .arg(arm64_binary("remind"))
        .env_clear()
        .envs(&env);
    let answer = spawn_command(command, &event).expect("the arm64 build answers");
    let real = chrono::Utc::now().date_naive().to_string();
    assert_eq!(answer.response["today"], real.as_str(), "{:?}", answer.response);
}

#[tokio::test]
async fn the_release_arm64_list_ignores_local_mode() {
    let app = fresh_app().await;
    let mut env = lambda_env(dynamodb_endpoint(), app.store.table());
    name_function(&mut env, "list");
    env.insert("AUTH_MODE".into(), "local-unverified".into());
    let event = unauthorized_event();

    // The local build, with the same environment and event, trusts the token.
    let local = workspace_root().join("target/debug/list");
    let mut command = Command::new(&local);
    command.env_clear().envs(&env);
    let answer = spawn_command(command, &event).expect("the local build answers");
    assert_eq!(status_of(&answer.response), 200, "{:?}", answer.response);

    let mut command = Command::new(qemu());
    command.args(["-L", "/usr/aarch64-linux-gnu"]).arg(arm64_binary("list")).env_clear().envs(&env);
    let answer = spawn_command(command, &event).expect("the arm64 build answers");
    assert_eq!(status_of(&answer.response), 401, "{:?}", answer.response);
    let body: Value =
        serde_json::from_str(answer.response["body"].as_str().unwrap_or("{}")).unwrap();
    assert_eq!(body["type"], "https://licensing.example/problems/unauthorized");
}

/// The list the release checks and the bench go through is the workspace's
/// functions: a new function cannot be left out of them.
#[test]
fn every_function_of_the_workspace_is_checked() {
    let mut found: Vec<String> = std::fs::read_dir(workspace_root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut listed: Vec<String> = FUNCTIONS.iter().map(|f| f.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed);
}
