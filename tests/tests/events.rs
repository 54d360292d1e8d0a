//! Every file in events/ invoked as a new user would, with
//! `cargo lambda invoke <function> --data-file events/<file>.json`, against
//! the local stack, in the order of the seed's story.

use licensing_tests::local::{cargo_lambda, start_watch};
use licensing_tests::*;
use serde_json::Value;

const DEMO_LICENSE: &str = "lic_6CGKN22FHMWP935DWKR78NWDA8";

#[test]
fn every_event_file_invokes_its_function() {
    let (_rt, app) = fresh_app_blocking();
    let watch = start_watch(app.store.table(), false);
    let invoke = |function: &str, file: &str| -> Value {
        let out = cargo_lambda()
            .args(["invoke", function, "--data-file", file])
            .args(["--invoke-address", "127.0.0.1", "--invoke-port", &watch.port.to_string()])
            .current_dir(workspace_root())
            .output()
            .expect("cargo lambda invoke");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{function} {file}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{file}: {e}: {stdout}"))
    };
    // An HTTP function's answer: status and the decoded JSON body.
    let http = |function: &str, file: &str| -> (u64, Value) {
        let response = invoke(function, file);
        let body = response["body"]
            .as_str()
            .map(|b| serde_json::from_str(b).unwrap())
            .unwrap_or(Value::Null);
        (response["statusCode"].as_u64().unwrap(), body)
    };

    let demo = invoke("provision", "events/demo/01-tecdoc-catalogue.json");
    assert_eq!(demo["licenseId"], DEMO_LICENSE, "the licence the HTTP events name");
    let bought = invoke("provision", "events/provision.json");
    assert_eq!(bought["buyerAssigned"], true);
    assert_eq!(invoke("provision", "events/provision.json"), bought, "idempotent");

    // The licence of events/provision.json through its life: a seat change,
    // a renewal (the buyer's seat follows), a cancellation; each applied once.
    let changed = invoke("provision", "events/quantity-changed.json");
    assert_eq!(
        (changed["quantity"].as_u64(), changed["overAssignedSeats"].as_u64()),
        (Some(22), Some(0))
    );
    let renewed = invoke("provision", "events/renewed.json");
    assert_eq!(renewed["followed"], 1, "{renewed}");
    // v3: the 2027 term stays current until the renewed one starts.
    assert_eq!(renewed["currentTerm"]["end"], "2027-12-31");
    assert_eq!(renewed["nextTerm"]["end"], "2028-12-31");
    assert_eq!(invoke("provision", "events/renewed.json"), renewed, "applied once");
    let cancelled = invoke("provision", "events/cancelled.json");
    assert_eq!(
        (cancelled["lastDay"].as_str(), cancelled["clipped"].as_u64()),
        (Some("2028-06-30"), Some(1))
    );

    let (status, list) = http("list", "events/list-licenses.json");
    assert_eq!(status, 200);
    assert_eq!(list["licenses"].as_array().unwrap().len(), 2);
    let (status, one) = http("list", "events/get-license.json");
    assert_eq!((status, one["availableSeats"].as_u64()), (200, Some(4)));

    let (status, assigned) = http("assign", "events/assign.json");
    assert_eq!(status, 201, "{assigned}");
    let emails = strings_of(&assigned["results"], "email");
    assert_eq!(emails, ["anna@example.com", "bob.meier@example.com", "carl@example.com"]);

    let (status, page) = http("list", "events/list-assignments.json");
    assert_eq!(status, 200);
    assert_eq!(page["assignments"].as_array().unwrap().len(), 2);
    assert!(page["nextCursor"].is_string());

    let (status, changed) = http("change", "events/change.json");
    assert_eq!((status, changed["validUntil"].as_str()), (200, Some("2027-06-30")));
    let (status, revoked) = http("revoke", "events/revoke.json");
    assert_eq!((status, revoked["status"].as_str()), (200, Some("revoked")));
    // The buyer's automatic seat never had an invitation: the resend sends one
    // (a fresh invitation could not be resent for 10 minutes).
    let (status, resent) = http("assign", "events/resend.json");
    assert_eq!(
        (status, resent["invitation"]["status"].as_str()),
        (202, Some("pending")),
        "{resent}"
    );
    let (status, history) = http("list", "events/history.json");
    assert_eq!(status, 200, "{history}");
    let actions = strings_of(&history["entries"], "action");
    assert_eq!(
        actions,
        [
            "invitation.resent",
            "assignment.revoked",
            "assignment.changed",
            "assignment.created",
            "assignment.created"
        ],
        "newest first, five a page"
    );
    assert!(history["nextCursor"].is_string());
    let (status, usage) = http("list", "events/usage.json");
    assert_eq!(status, 200, "{usage}");
    let steps = usage["steps"].as_array().unwrap();
    assert_eq!(usage["licenseId"], one["licenseId"]);
    assert_eq!(steps[0]["from"], one["term"]["start"], "from the term's start");
    assert_eq!(steps[steps.len() - 1]["until"], one["term"]["end"], "to its end");
    let (status, mine) = http("list", "events/me-licenses.json");
    assert_eq!(status, 200);
    assert_eq!(mine["licenses"][0]["licenseId"], DEMO_LICENSE);
    // v3: what TecDoc Catalogue asks when Anna signs in.
    let (status, entitled) = http("entitlements", "events/my-entitlement.json");
    assert_eq!(
        (status, &entitled["licenseId"]),
        (200, &serde_json::json!(DEMO_LICENSE)),
        "{entitled}"
    );

    // v3: provisioning tokens, created (the secret shown once) and listed
    // without it; the id in events/revoke-token.json is no token of this
    // stack's, so its answer is token-not-found.
    let (status, created) = http("tokens", "events/create-token.json");
    assert_eq!(status, 201, "{created}");
    assert!(created["token"].as_str().unwrap().starts_with("lmt_"));
    let (status, tokens) = http("tokens", "events/list-tokens.json");
    assert_eq!((status, &tokens["tokens"][0]["tokenId"]), (200, &created["tokenId"]));
    assert!(tokens["tokens"][0].get("token").is_none());
    let (status, unknown) = http("tokens", "events/revoke-token.json");
    assert_eq!(
        (status, unknown["type"].as_str()),
        (404, Some("https://licensing.example/problems/token-not-found"))
    );

    // SCIM, as an identity provider calls it: the event's token is no token
    // of this stack's, so the answer is SCIM's 401.
    let (status, refused) = http("scim", "events/scim-service-provider-config.json");
    assert_eq!((status, refused["status"].as_str()), (401, Some("401")), "{refused}");

    let notified = invoke("notify", "events/notify.json");
    assert_eq!(notified["batchItemFailures"], serde_json::json!([]));
    let mails = mails_to("carl@example.com");
    assert_eq!(mails.len(), 1);
    assert!(mails[0]["subject"].as_str().unwrap().starts_with("Ihr Zugang zu"));

    // v3: reclaim of idle seats on the demo licence (nobody idle yet: it
    // counts from today), and the warning mail the daily run's entry brings.
    let (status, reclaim) = http("change", "events/reclaim.json");
    assert_eq!((status, &reclaim["reclaim"]["inactiveDays"]), (200, &serde_json::json!(60)));
    let (status, preview) = http("list", "events/reclaim-preview.json");
    assert_eq!((status, preview), (200, serde_json::json!({"warn": [], "revoke": []})));
    // v3: the directory's groups, to link to licences (the demo has none).
    let (status, groups) = http("list", "events/list-groups.json");
    assert_eq!((status, groups), (200, serde_json::json!({"groups": []})));
    // v3: the licence's waiting list (nobody: no group is linked to it).
    let (status, waiting) = http("list", "events/list-waiting.json");
    assert_eq!((status, waiting), (200, serde_json::json!({"waiting": []})));
    let warned = invoke("notify", "events/notify-reclaim-warned.json");
    assert_eq!(warned["batchItemFailures"], serde_json::json!([]));
    let mails = mails_to("carl@example.com");
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails[1]["subject"].as_str().unwrap().starts_with("Ihr Platz für"), "{mails:?}");

    // v3: a webhook endpoint at a local receiver (local builds take http://127.0.0.1),
    // the list of the customer's endpoints, and a delivery job of an endpoint that is not
    // this stack's (dropped: nothing to retry).
    let (status, hook) = http("webhooks", "events/create-webhook.json");
    assert_eq!(status, 201, "{hook}");
    assert!(hook["secret"].as_str().unwrap().starts_with("whsec_"), "{hook}");
    let (status, hooks) = http("webhooks", "events/list-webhooks.json");
    assert_eq!((status, &hooks["webhooks"][0]["webhookId"]), (200, &hook["webhookId"]), "{hooks}");
    assert!(hooks["webhooks"][0].get("secret").is_none());
    let delivered = invoke("deliver", "events/deliver.json");
    assert_eq!(delivered["batchItemFailures"], serde_json::json!([]));

    // The daily reminders, as if on 2027-12-01 (local mode): the demo's Repair
    // Data licence does not renew and ends on 2027-12-31.
    invoke("provision", "events/demo/02-repair-data-upcoming.json");
    let reminded = invoke("remind", "events/remind.json");
    assert_eq!(
        (reminded["today"].as_str(), reminded["sent"].as_u64()),
        (Some("2027-12-01"), Some(1)),
        "{reminded}"
    );
    assert_eq!(invoke("remind", "events/remind.json")["already"], 1, "sent once");
    let subject = "Your Repair & Maintenance Data licence ends in 30 days, on 31 December 2027";
    assert!(mails_to("buyer@example.com").iter().any(|m| m["subject"] == subject));
}

/// A failed `provision` invocation names its kind as the `errorType` that
/// Lambda hands to the on-failure destination (v2 sent Rust's type name).
#[test]
fn a_failed_provision_names_its_kind() {
    use licensing_tests::runtime_api::{lambda_env, name_function, spawn_once};
    let (rt, app) = fresh_app_blocking();
    let order = format!("ORD-{}", ulid::Ulid::new());
    let bought =
        purchase(&order, CUSTOMER, "b@example.com", 3, days_from_today(-1), days_from_today(9));
    rt.block_on(provision(&app, bought.clone())).unwrap();
    let binary = workspace_root().join("target/debug/provision");
    let mut env = lambda_env(dynamodb_endpoint(), app.store.table());
    name_function(&mut env, "provision");
    let failure = |event: &Value| -> Value {
        let Err(error) = spawn_once(&binary, &env, event.to_string().as_bytes()) else {
            panic!("{event} did not fail")
        };
        let body = &error[error.find('{').unwrap_or_else(|| panic!("{error}"))..];
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {error}"))
    };
    let mut foreign = bought.clone();
    foreign["source"] = serde_json::json!("someone.else");
    let mut conflicting = bought;
    conflicting["detail"]["quantity"] = serde_json::json!(4);
    for (event, kind) in [(foreign, "invalid-event"), (conflicting, "order-conflict")] {
        let failed = failure(&event);
        assert_eq!(failed["errorType"], kind, "{failed}");
        assert!(failed["errorMessage"].as_str().is_some_and(|m| !m.is_empty()), "{failed}");
    }
}
