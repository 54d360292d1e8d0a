//! The one place that knows how the single table's keys are spelled.
//!
//! | item       | PK                     | SK                                 | GSI1PK         | GSI1SK              |
//! |------------|------------------------|------------------------------------|----------------|---------------------|
//! | licence    | `CUSTOMER#<customer>`  | `LICENSE#<licenseId>`              |                |                     |
//! | assignment | `CUSTOMER#<customer>`  | `ASSIGNMENT#<licenseId>#<email>`   | `USER#<email>` | `LICENSE#<licenseId>` |
//! | order      | `ORDER#<orderId>`      | `ORDER`                            |                |                     |
//! | idempotency| `CUSTOMER#<customer>#IDEMPOTENCY#<key>` | `IDEMPOTENCY`, `PART#<n>` |         |                     |
//! | assign budget | `CUSTOMER#<customer>` | `BUDGET#ASSIGN#<minute>`       |                |                     |
//!
//! Licences and assignments use different SK prefixes so that listing a
//! customer's licences never reads their assignments.

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const TYPE: &str = "type";

pub fn customer(customer_id: &str) -> String {
    format!("CUSTOMER#{customer_id}")
}

pub fn license(license_id: &str) -> String {
    format!("LICENSE#{license_id}")
}

pub const LICENSE_PREFIX: &str = "LICENSE#";

pub fn assignments_of(license_id: &str) -> String {
    format!("ASSIGNMENT#{license_id}#")
}

pub fn assignment(license_id: &str, email: &str) -> String {
    format!("ASSIGNMENT#{license_id}#{email}")
}

/// The e-mail part of an assignment's SK, given the licence's prefix.
pub fn email_of<'a>(sk: &'a str, license_id: &str) -> Option<&'a str> {
    sk.strip_prefix("ASSIGNMENT#")?
        .strip_prefix(license_id)?
        .strip_prefix('#')
}

/// A customer's assign budget for the minute starting at `window` (epoch
/// seconds), in the customer's partition (no licence or assignment prefix).
pub fn assign_budget(window: i64) -> String {
    format!("BUDGET#ASSIGN#{window}")
}

pub fn user(email: &str) -> String {
    format!("USER#{email}")
}

pub fn order(order_id: &str) -> String {
    format!("ORDER#{order_id}")
}

pub const ORDER_SK: &str = "ORDER";

/// An `Idempotency-Key` record, scoped to the customer that used the key.
pub fn idempotency(customer_id: &str, key: &str) -> String {
    format!("CUSTOMER#{customer_id}#IDEMPOTENCY#{key}")
}

pub const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";

/// Part `n` of a stored response too large for one item.
pub fn idempotency_part(n: usize) -> String {
    format!("PART#{n:03}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_keys_round_trip() {
        let sk = assignment("lic_1", "a@example.com");
        assert!(sk.starts_with(&assignments_of("lic_1")));
        assert_eq!(email_of(&sk, "lic_1"), Some("a@example.com"));
        assert_eq!(email_of(&sk, "lic_"), None);
    }
}
