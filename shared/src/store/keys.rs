//! The one place that knows how the single table's keys are spelled.
//!
//! | item       | PK                     | SK                                 | GSI1PK         | GSI1SK              |
//! |------------|------------------------|------------------------------------|----------------|---------------------|
//! | licence    | `CUSTOMER#<customer>`  | `LICENSE#<licenseId>`              | `PENDING-OPERATIONS` while an operation is pending | `<started>#<customer>#<licenseId>` |
//! | assignment | `CUSTOMER#<customer>`  | `ASSIGNMENT#<licenseId>#<email>`   | `USER#<email>` | `LICENSE#<licenseId>` |
//! | order      | `ORDER#<orderId>`      | `ORDER`                            |                |                     |
//! | idempotency| `CUSTOMER#<customer>#IDEMPOTENCY#<key>` | `IDEMPOTENCY`, `PART#<n>` |         |                     |
//! | assign budget | `CUSTOMER#<customer>` | `BUDGET#ASSIGN#<minute>`       |                |                     |
//! | history entry | `CUSTOMER#<customer>` | `HISTORY#<licenseId>#<entryId>` | `HISTORY#<customer>#<licenseId>#<email>` | `<entryId>` |
//! | lifecycle event | `ORDER#<orderId>`   | `EVENT#<detailType>#<eventId>`   |                |                     |
//! | parked event | `ORDER#<orderId>`      | `PARKED#<sequence, 10 digits>`   |                |                     |
//! | mail sent once | `CUSTOMER#<customer>` | `REMINDER#<licenseId>#<kind>#<date>[#<email>]`, `REMINDER#<tokenId>#token-created#<buyer>` | |     |
//! | invitations of an address that day | `RECIPIENT#<email>` | `DAY#<yyyy-mm-dd>` |         |                     |
//! | invitation window | `RECIPIENT#<email>` | `WINDOW#<customer>#<licenseId>` |            |                     |
//! | provisioning token | `CUSTOMER#<customer>` | `TOKEN#<tokenId>`          |                |                     |
//! | a customer's token set | `CUSTOMER#<customer>` | `TOKENS` (its version) |              |                     |
//! | directory person (SCIM) | `CUSTOMER#<customer>` | `DIRUSER#<id>` |          |                     |
//! | taken userName | `CUSTOMER#<customer>` | `DIRNAME#<lower-case userName>` (a copy of the person) | |    |
//! | seat address of an active person | `CUSTOMER#<customer>` | `DIRSEAT#<address>` |     |                     |
//! | group (SCIM) | `CUSTOMER#<customer>` | `GROUP#<id>`                 |                |                     |
//! | taken group name | `CUSTOMER#<customer>` | `GROUPNAME#<lower-case displayName>` (a copy of the group) | | |
//! | a group's members, one page | `CUSTOMER#<customer>` | `GROUPMEMBERS#<id>#<page, 2 digits>` |  |          |
//! | token by digest | `DIGEST#<sha-256 hex>` | `TOKEN` (while usable; TTL after its last day) |  |               |
//! | webhook endpoint | `CUSTOMER#<customer>` | `WEBHOOK#<webhookId>`        |                |                     |
//! | a customer's endpoint set | `CUSTOMER#<customer>` | `WEBHOOKS` (its version) |          |                     |
//! | waiting person (v3) | `CUSTOMER#<customer>` | `WAITING#<licenseId>#<seq, 20 digits>` (TTL a day after it is taken off) | | |
//! | out of the rules (v3) | `CUSTOMER#<customer>` | `RULEOUT#<licenseId>#<email>` |  |                     |
//! | part of a rule's run (v3) | `CUSTOMER#<customer>` | `RULEPART#<licenseId>#<op>#<n, 5 digits>` (TTL a day) | |  |
//! | webhook delivery | `WEBHOOK#<webhookId>` | `DELIVERY#<eventId>` (TTL 30 days) |          |                     |
//!
//! GSI2 (sparse, keys and the attributes a reminder run needs) finds what may
//! be due for a reminder without reading anything else: a licence that does
//! not renew carries `GSI2PK = REMIND#<yyyy-mm>`, `GSI2SK = <yyyy-mm-dd>` of
//! the day 30 days before its term ends; a non-revoked assignment the same
//! of the day 7 days before its access ends. A run reads the date range of
//! the last 30 days (one or two month partitions). An invitation window
//! whose licence has an invitation waiting for it carries
//! `GSI2PK = INVITATIONS-WAITING`, `GSI2SK = <when it may go, RFC 3339>`:
//! the minute's sweep reads what is due, and nothing else.
//!
//! GSI3 also finds, in one partition `WAITING-LICENSES` (sort key
//! `<customer>#<licenseId>`), every licence that has people waiting for a
//! seat (v3, `waiting` above 0) or a group rule's run being written: the
//! minute's run settles each (writes the run, gives free seats to those who
//! wait).
//!
//! GSI3 (sparse, keys and the attributes that name an assignment) is the
//! idle index of reclaim (v3): a non-revoked, non-exempt assignment of a
//! licence that reclaims idle seats carries `GSI3PK = IDLE#<shard 0-7>` (by
//! its address, so that the day's activity spreads over eight partitions)
//! and `GSI3SK = <yyyy-mm-dd>`, the first day the daily run may act on it
//! (`IdleRule::due_on`: the day it becomes idle, or its warning's grace
//! ends). Activity moves it (at most once a day), a warning moves it, a
//! revoke removes it. A run reads each shard up to today: what is due,
//! whatever was left by a run before, and nothing else; each item it reads
//! it acts on or keys afresh.
//!
//! Entry ids are ULIDs of the entry's time, so a licence's history is one
//! key range in time order, and one address's entries on it are one key
//! range of GSI1 (entries about the licence itself have no GSI1 keys).
//! Licences and assignments use different SK prefixes so that listing a
//! customer's licences never reads their assignments. Beside the keys: the
//! names of the attributes the store's expressions read or write (the rest of
//! an item is the serde form of its domain type; `items.rs` tests that the two
//! agree) and the `type` of each kind of item.

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
pub const GSI3: &str = "GSI3";
pub const GSI3PK: &str = "GSI3PK";
pub const GSI3SK: &str = "GSI3SK";
pub const TYPE: &str = "type";
/// What GSI2 projects besides the keys: enough to tell a licence from an
/// assignment and to name it.
pub const GSI2_ATTRIBUTES: [&str; 5] =
    [TYPE, attr::CUSTOMER_ID, attr::LICENSE_ID, attr::EMAIL, attr::VALID_UNTIL];

/// What GSI3 projects besides the keys: the assignment's names.
pub const GSI3_ATTRIBUTES: [&str; 3] = [attr::CUSTOMER_ID, attr::LICENSE_ID, attr::EMAIL];

/// Attribute names used in expressions.
pub mod attr {
    pub const VERSION: &str = "version";
    pub const PENDING: &str = "pending";
    pub const FANOUT: &str = "fanout";
    pub const REKEY: &str = "rekey";
    pub const RULE: &str = "rule";
    pub const UNDO: &str = "undo";
    pub const ID: &str = "id";
    pub const AT: &str = "at";
    pub const LICENSE_ID: &str = "licenseId";
    pub const PRODUCT_ID: &str = "productId";
    pub const VALID_FROM: &str = "validFrom";
    pub const VALID_UNTIL: &str = "validUntil";
    pub const REVOKED_AT: &str = "revokedAt";
    pub const REVOKED_BY: &str = "revokedBy";
    pub const INVITATION: &str = "invitation";
    pub const STATUS: &str = "status";
    pub const INVITED_AT: &str = "invitedAt";
    pub const INVITATION_CLAIM: &str = "invitationClaim";
    pub const INVITATION_MESSAGE_ID: &str = "invitationMessageId";
    pub const USED: &str = "used";
    pub const EXPIRES_AT: &str = "expiresAt";
    pub const FINGERPRINT: &str = "fingerprint";
    pub const STATE: &str = "state";
    pub const STARTED_AT: &str = "startedAt";
    pub const STALE_AT: &str = "staleAt";
    pub const CUSTOMER_ID: &str = "customerId";
    pub const EMAIL: &str = "email";
    pub const CLAIM_ID: &str = "claimId";
    pub const CLAIMED_AT: &str = "claimedAt";
    pub const MESSAGE_ID: &str = "messageId";
    pub const ERROR: &str = "error";
    pub const BODY: &str = "body";
    pub const PARTS: &str = "parts";
    pub const EVENT_ID: &str = "eventId";
    pub const LAST_SENT_AT: &str = "lastSentAt";
    pub const SENT: &str = "sent";
    pub const INVITATION_DUE_AT: &str = "invitationDueAt";
    pub const TOKEN_ID: &str = "tokenId";
    pub const SCOPES: &str = "scopes";
    pub const LAST_DAY: &str = "lastDay";
    pub const LAST_USED_AT: &str = "lastUsedAt";
    pub const LAST_ACTIVE_ON: &str = "lastActiveOn";
    pub const ACCEPTED_AT: &str = "acceptedAt";
    pub const RECLAIM_EXEMPT: &str = "reclaimExempt";
    pub const RECLAIM_RULE: &str = "reclaimRule";
    pub const RECLAIM_WARNED_AT: &str = "reclaimWarnedAt";
    pub const INACTIVE_DAYS: &str = "inactiveDays";
    pub const URL: &str = "url";
    pub const EVENTS: &str = "events";
    pub const DESCRIPTION: &str = "description";
    pub const ENABLED: &str = "enabled";
    pub const DISABLED_REASON: &str = "disabledReason";
    pub const DISABLED_AT: &str = "disabledAt";
    pub const SECRETS: &str = "secrets";
    pub const SLOTS: &str = "slots";
    pub const FAILING_SINCE: &str = "failingSince";
    pub const WEBHOOK_ID: &str = "webhookId";
    pub const DELIVERY_ID: &str = "deliveryId";
    pub const EVENT_TYPE: &str = "eventType";
    pub const ATTEMPTS: &str = "attempts";
    pub const LEASE_UNTIL: &str = "leaseUntil";
    pub const LAST_ATTEMPT_AT: &str = "lastAttemptAt";
    pub const LAST_RESULT: &str = "lastResult";
    pub const NEXT_ATTEMPT_AT: &str = "nextAttemptAt";
    pub const RESULTS: &str = "results";
    pub const CREATED_AT: &str = "createdAt";
}

/// The `type` attribute of each kind of item.
pub mod kind {
    pub const LICENSE: &str = "License";
    pub const ASSIGNMENT: &str = "Assignment";
    pub const ORDER: &str = "Order";
    pub const IDEMPOTENCY: &str = "Idempotency";
    pub const HISTORY_ENTRY: &str = "HistoryEntry";
    pub const ORDER_EVENT: &str = "OrderEvent";
    pub const PARKED_EVENT: &str = "ParkedEvent";
    pub const REMINDER: &str = "Reminder";
    pub const RECIPIENT_DAY: &str = "RecipientDay";
    pub const INVITATION_WINDOW: &str = "InvitationWindow";
    pub const TOKEN: &str = "Token";
    pub const TOKEN_DIGEST: &str = "TokenDigest";
    pub const TOKEN_SET: &str = "TokenSet";
    pub const DIRECTORY_USER: &str = "DirectoryUser";
    pub const DIRECTORY_NAME: &str = "DirectoryName";
    pub const DIRECTORY_SEAT: &str = "DirectorySeat";
    pub const GROUP: &str = "Group";
    pub const GROUP_NAME: &str = "GroupName";
    pub const GROUP_MEMBERS: &str = "GroupMembers";
    pub const WAITING: &str = "Waiting";
    pub const EXCLUSION: &str = "RuleExclusion";
    pub const RULE_PART: &str = "RulePart";
    pub const WEBHOOK: &str = "Webhook";
    pub const WEBHOOK_SET: &str = "WebhookSet";
    pub const DELIVERY: &str = "WebhookDelivery";
}

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
    sk.strip_prefix("ASSIGNMENT#")?.strip_prefix(license_id)?.strip_prefix('#')
}

/// A customer's budget of one `kind` (`ASSIGN`, `EXPORT`) for the minute
/// starting at `window` (epoch seconds), in the customer's partition (no
/// licence or assignment prefix).
pub fn budget(kind: &str, window: i64) -> String {
    format!("BUDGET#{kind}#{window}")
}

pub const ASSIGN_BUDGET: &str = "ASSIGN";

/// The budget of one webhook endpoint's tests and retries (per minute).
pub fn webhook_send_budget(webhook_id: &str) -> String {
    format!("WEBHOOK-SEND-{webhook_id}")
}

/// The budget of one provisioning token's SCIM requests (per second).
pub fn scim_budget(token_id: &str) -> String {
    format!("SCIM-{token_id}")
}
pub const EXPORT_BUDGET: &str = "EXPORT";

/// The sort-key prefix of a licence's history entries.
pub fn history_of(license_id: &str) -> String {
    format!("HISTORY#{license_id}#")
}

pub fn history(license_id: &str, entry_id: &str) -> String {
    format!("HISTORY#{license_id}#{entry_id}")
}

/// GSI1's partition of one address's entries on one licence.
pub fn history_of_email(customer_id: &str, license_id: &str, email: &str) -> String {
    format!("HISTORY#{customer_id}#{license_id}#{email}")
}

/// A lifecycle event that came ahead of its turn, parked under its
/// order by its sequence number (zero-padded: they sort in order).
pub fn parked(sequence: u64) -> String {
    format!("PARKED#{sequence:010}")
}

/// GSI2's partition of the parked lifecycle events (sort key: when each
/// was parked), which the daily run reads for the alarm on old ones.
pub const PARKED_EVENTS: &str = "PARKED";

/// The record of a lifecycle event applied to an order's licence.
pub fn order_event(detail_type: &str, event_id: &str) -> String {
    format!("EVENT#{detail_type}#{event_id}")
}

/// GSI2's partition of the reminders first due in `date`'s month.
pub fn reminders_of_month(date: chrono::NaiveDate) -> String {
    // By hand, not strftime: keys are written by every function, and chrono's
    // format machinery would cost each binary kilobytes it need not carry.
    use chrono::Datelike;
    format!("REMIND#{:04}-{:02}", date.year(), date.month())
}

/// GSI2's sort key: the day a reminder is first due.
pub fn reminder_day(date: chrono::NaiveDate) -> String {
    date.to_string()
}

/// The record of one reminder (`what`: its kind, date and, for a person,
/// address), in the customer's partition.
pub fn reminder(license_id: &str, what: &str) -> String {
    format!("REMINDER#{license_id}#{what}")
}

/// The partition of one address's invitation limits, across customers.
pub fn recipient(email: &str) -> String {
    format!("RECIPIENT#{email}")
}

/// The invitation mails an address got on `date` (UTC).
pub fn recipient_day(date: chrono::NaiveDate) -> String {
    format!("DAY#{date}")
}

/// When an address last got an invitation mail for one licence.
pub fn invitation_window(customer_id: &str, license_id: &str) -> String {
    format!("WINDOW#{customer_id}#{license_id}")
}

/// The per-customer counter's attribute on a recipient's day.
pub fn sent_by(customer_id: &str) -> String {
    format!("sent#{customer_id}")
}

/// GSI1's partition of the licences with an operation still being written
/// (a bulk batch, a fan-out), which the minute's finisher reads.
pub const PENDING_OPERATIONS: &str = "PENDING-OPERATIONS";

/// GSI1's sort key of a licence's pending operation: when it started.
pub fn pending_since(started: &str, customer_id: &str, license_id: &str) -> String {
    format!("{started}#{customer_id}#{license_id}")
}

/// GSI2's partition of the invitation windows an invitation waits for.
pub const WAITING_INVITATIONS: &str = "INVITATIONS-WAITING";

/// How many partitions the idle index spreads over.
pub const IDLE_SHARDS: u32 = 8;

/// GSI3's partition of an address's assignments: one of [`IDLE_SHARDS`], by
/// a hash of the address that never changes (FNV-1a).
pub fn idle_shard_of(email: &str) -> String {
    idle_shard(crate::model::fnv1a(email) % IDLE_SHARDS)
}

/// GSI3's partition number `n`.
pub fn idle_shard(n: u32) -> String {
    format!("IDLE#{n}")
}

/// A customer's provisioning token, in the customer's partition.
pub fn token(token_id: &str) -> String {
    format!("TOKEN#{token_id}")
}

/// What a customer's tokens and their set's version item share: one Query
/// with this prefix reads both.
pub const TOKENS_PREFIX: &str = "TOKEN";

/// The version of a customer's set of tokens (bumped by every creation, so
/// two at once cannot both pass the limit).
pub const TOKEN_SET_SK: &str = "TOKENS";

/// A customer's webhook endpoint, in the customer's partition.
pub fn webhook(webhook_id: &str) -> String {
    format!("WEBHOOK#{webhook_id}")
}

/// What a customer's endpoints and their set's version item share.
pub const WEBHOOKS_PREFIX: &str = "WEBHOOK";

/// The version of a customer's set of endpoints (bumped by every creation).
pub const WEBHOOK_SET_SK: &str = "WEBHOOKS";

/// The partition of an endpoint's deliveries (its log, newest first by
/// event id, a ULID).
pub fn deliveries(webhook_id: &str) -> String {
    format!("WEBHOOK#{webhook_id}")
}

/// One event's delivery at an endpoint.
pub fn delivery(event_id: &str) -> String {
    format!("DELIVERY#{event_id}")
}

pub const DELIVERY_PREFIX: &str = "DELIVERY#";

/// A person of a customer's directory (SCIM), by our id.
pub fn directory_user(id: &str) -> String {
    format!("DIRUSER#{id}")
}

/// What every person's record in a directory starts with.
pub const DIRECTORY_PREFIX: &str = "DIRUSER#";

/// A `userName` taken in a customer's directory (lower case): a copy of its person.
pub fn directory_name(user_name_key: &str) -> String {
    format!("DIRNAME#{user_name_key}")
}

/// A seat address held by an active person of a customer's directory.
pub fn directory_seat(address: &str) -> String {
    format!("DIRSEAT#{address}")
}

/// A group of a customer's directory (SCIM), by our id.
/// GSI3's partition of the licences that have people waiting for a seat,
/// or a group rule's run being written.
pub const WAITING_LICENSES: &str = "WAITING-LICENSES";

/// GSI3's sort key of a licence that has people waiting.
pub fn waiting_license(customer_id: &str, license_id: &str) -> String {
    format!("{customer_id}#{license_id}")
}

pub fn waiting_of(license_id: &str) -> String {
    format!("WAITING#{license_id}#")
}

pub fn waiting(license_id: &str, seq: u64) -> String {
    format!("{}{seq:020}", waiting_of(license_id))
}

pub fn exclusions_of(license_id: &str) -> String {
    format!("RULEOUT#{license_id}#")
}

pub fn exclusion(license_id: &str, email: &str) -> String {
    format!("{}{email}", exclusions_of(license_id))
}

pub fn rule_parts_of(license_id: &str, op: &str) -> String {
    format!("RULEPART#{license_id}#{op}#")
}

pub fn rule_part(license_id: &str, op: &str, n: u32) -> String {
    format!("{}{n:05}", rule_parts_of(license_id, op))
}

pub fn group(id: &str) -> String {
    format!("GROUP#{id}")
}

/// What every group's record starts with (and nothing else does: the
/// names and pages below spell `GROUP` on with other letters).
pub const GROUP_PREFIX: &str = "GROUP#";

/// A `displayName` taken in a customer's directory (lower case): a copy of its group.
pub fn group_name(name_key: &str) -> String {
    format!("GROUPNAME#{name_key}")
}

/// Page `n` of a group's members.
pub fn group_members(id: &str, page: u32) -> String {
    format!("GROUPMEMBERS#{id}#{page:02}")
}

/// The group and page number of a member page's sort key.
pub fn group_members_page(sk: &str) -> Option<(&str, u32)> {
    let (id, page) = sk.strip_prefix("GROUPMEMBERS#")?.rsplit_once('#')?;
    Some((id, page.parse().ok()?))
}

/// The partition a token is found in when presented: its digest's own.
pub fn token_digest(digest: &str) -> String {
    format!("DIGEST#{digest}")
}

pub const TOKEN_DIGEST_SK: &str = "TOKEN";

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
    fn group_member_page_keys_round_trip() {
        assert_eq!(group_members_page(&group_members("grp_1", 7)), Some(("grp_1", 7)));
        assert_eq!(group_members_page(&group("grp_1")), None);
    }

    #[test]
    fn assignment_keys_round_trip() {
        let sk = assignment("lic_1", "a@example.com");
        assert!(sk.starts_with(&assignments_of("lic_1")));
        assert_eq!(email_of(&sk, "lic_1"), Some("a@example.com"));
        assert_eq!(email_of(&sk, "lic_"), None);
    }

    #[test]
    fn addresses_spread_over_the_idle_shards_and_keep_theirs() {
        let shards: std::collections::BTreeSet<String> =
            (0..200).map(|i| idle_shard_of(&format!("p{i}@example.com"))).collect();
        assert_eq!(shards.len(), IDLE_SHARDS as usize);
        assert_eq!(idle_shard_of("anna@example.com"), idle_shard_of("anna@example.com"));
        assert_eq!(idle_shard_of(""), "IDLE#5", "the hash is fixed: items keep their shard");
    }
}
