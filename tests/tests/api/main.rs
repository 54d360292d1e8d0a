//! The contract, endpoint by endpoint and concern by concern, through the
//! real handlers on DynamoDB Local, called as the portal calls them
//! (`Client`): one test binary, one module per endpoint or concern.

mod assign;
mod change;
mod csv;
mod entitlements;
mod hardening;
mod history;
mod identity;
mod isolation;
mod licenses;
mod lifecycle;
mod limits;
mod provision;
mod reclaim;
mod revocation;
mod tokens;
mod usage;

use serde_json::Value;

/// (assignedSeats, availableSeats, assignedUsers) of a licence view.
pub fn seats(license: &Value) -> (u64, u64, u64) {
    (
        license["assignedSeats"].as_u64().unwrap(),
        license["availableSeats"].as_u64().unwrap(),
        license["assignedUsers"].as_u64().unwrap(),
    )
}

/// The e-mails of an assign answer's results, in order.
pub fn result_emails(answer: &licensing_tests::Answer) -> Vec<String> {
    answer.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["email"].as_str().unwrap().to_string())
        .collect()
}
