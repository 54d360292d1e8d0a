//! The one error type of the domain. `http::problem` maps it to problem+json
//! in one place; nothing else decides a status code.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }

    /// The error as a CSV import names it: `row 7: validUntil`.
    pub fn in_row(self, row: usize) -> Self {
        Self { field: format!("row {row}: {}", self.field), message: self.message }
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("no or unreadable identity")]
    Unauthorized,
    #[error("the caller is not a licence admin")]
    Forbidden,
    /// `GET /me/licenses` without a verified, valid e-mail claim.
    #[error("the caller's e-mail is not verified")]
    EmailNotVerified,
    #[error("licence not found")]
    LicenseNotFound,
    #[error("assignment not found")]
    AssignmentNotFound,
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The invalid entries as typed; from a CSV import, also the rows
    /// that hold them (`row N: email`).
    #[error("invalid e-mail addresses")]
    InvalidEmails { entries: Vec<String>, rows: Vec<FieldError> },
    #[error("insufficient seats: {requested} requested, {available} available")]
    InsufficientSeats { requested: u32, available: u32 },
    #[error("the licence term has ended")]
    LicenseNotActive,
    #[error("the assignment is revoked")]
    AssignmentRevoked,
    #[error("idempotency key reused with a different request")]
    IdempotencyConflict,
    /// Seconds until the running request's claim would go stale.
    #[error("a request with this idempotency key is still running")]
    IdempotencyInProgress { retry_after: u32 },
    /// A limit was reached; retry after this many seconds.
    #[error("rate limited")]
    RateLimited { retry_after: u32 },
    /// A CSV export larger than an uncompressed answer may be, asked for
    /// without `Accept-Encoding: gzip`.
    #[error("the export needs gzip")]
    ExportTooLarge { rows: usize },
    /// An unknown token id, or another customer's.
    #[error("token not found")]
    TokenNotFound,
    /// The customer has as many usable tokens as it may.
    #[error("token limit reached")]
    TokenLimit { limit: usize },
    /// An unknown webhook id, or another customer's.
    #[error("webhook not found")]
    WebhookNotFound,
    /// The customer has as many endpoints as it may.
    #[error("webhook limit reached")]
    WebhookLimit { limit: usize },
    /// No such delivery in the endpoint's log.
    #[error("delivery not found")]
    DeliveryNotFound,
    /// SCIM: another person of the directory has this `userName`, or
    /// (while active) this seat address.
    #[error("not unique: {0}")]
    Uniqueness(String),
    /// SCIM: a filter this service does not support, or cannot read.
    #[error("invalid filter: {0}")]
    InvalidFilter(String),
    /// SCIM: no such person in the caller's directory.
    #[error("user not found")]
    UserNotFound,
    /// SCIM or a link: no such group in the caller's directory.
    #[error("group not found")]
    GroupNotFound,
    #[error("route not found")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed(&'static [&'static str]),
    /// Another operation's multi-transaction work on the licence (a
    /// renewal's fan-out, a bulk batch) is still being finished; retry after
    /// this many seconds.
    #[error("another operation on the licence is still being finished")]
    OperationPending { retry_after: u32 },
    /// A dependency failed. The text is for the log only, never for the caller.
    #[error("dependency failed: {0}")]
    Unavailable(String),
}

impl Error {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn unavailable(e: impl std::fmt::Display) -> Self {
        Self::Unavailable(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an event of the order system failed its invocation. Its
/// [`EventError::kind`] is the invocation's `errorType` (API.md, "Hardening
/// (v3)"), so the on-failure destination's record says it without the code.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Malformed: missing or wrong fields, a foreign source, bad values.
    #[error("invalid event: {0}")]
    Invalid(String),
    /// A sequence number already applied under another id, or the same id
    /// under another number.
    #[error("stale event: {0}")]
    Stale(String),
    /// A purchase whose `orderId` is known with other facts.
    #[error("order conflict: {0}")]
    OrderConflict(String),
    /// Well-formed and in order, but the licence's state does not allow it.
    #[error("refused: {0}")]
    Refused(String),
    /// A dependency failed: the retry may succeed.
    #[error("provisioning failed, retry: {0}")]
    Unavailable(String),
}

impl EventError {
    /// The failure's kind, as the invocation's `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid-event",
            Self::Stale(_) => "stale",
            Self::OrderConflict(_) => "order-conflict",
            Self::Refused(_) => "refused",
            Self::Unavailable(_) => "unavailable",
        }
    }
}

impl From<Error> for EventError {
    fn from(e: Error) -> Self {
        Self::Unavailable(e.to_string())
    }
}
