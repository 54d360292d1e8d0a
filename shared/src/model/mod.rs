//! Plain domain types and the rules about them. No AWS or HTTP type appears
//! here.

mod assignment;
mod directory;
mod entitlement;
mod group;
mod history;
mod license;
mod link;
mod operation;
mod period;
mod reclaim;
mod rule;
mod terms;
mod token;
mod webhook;

pub use assignment::*;
pub use directory::*;
pub use entitlement::*;
pub use group::*;
pub use history::*;
pub use license::*;
pub use link::*;
pub use operation::*;
pub use period::*;
pub use reclaim::*;
pub use rule::*;
pub use terms::*;
pub use token::*;
pub use webhook::*;

/// The contract's shape of a customer id (`custom:customer_id`, an order's
/// `customerId`): `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`. It prefixes keys, so
/// nothing else may reach one.
pub fn is_customer_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Licence ids are opaque, but never anything that could bend a key:
/// 1 to 64 of `A-Z a-z 0-9 _ -`.
pub fn is_license_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Whether `id` could name a person or a group of a directory: ours are
/// `usr_` or `grp_` and a ULID, and nothing else may reach a key (1 to 64 of
/// `A-Z a-z 0-9 _ -`, as a licence id); a longer one would be a key DynamoDB
/// refuses, and the caller's 404 a 503.
pub fn is_resource_id(id: &str) -> bool {
    is_license_id(id)
}

/// FNV-1a (32 bits) of `text`: a hash that never changes, for what is
/// placed by it once and found by it again (an idle shard, a member page).
pub fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// A licence admin, scoped to their own customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admin {
    pub customer_id: String,
    /// What `assignedBy` / `revokedBy` record: the verified e-mail, else
    /// `sub:<sub>`.
    pub name: String,
}
