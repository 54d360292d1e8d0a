//! RFC 9457 problem details: the single mapping from [`Error`] to a response.

use lambda_http::{Body, Response, http::StatusCode};
use serde_json::{Map, Value, json};

use crate::error::Error;

pub const TYPE_PREFIX: &str = "https://licensing.example/problems/";
/// Seconds a client should wait before retrying after a 503.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// Slug, status and title of each problem.
pub fn describe(error: &Error) -> (&'static str, StatusCode, &'static str) {
    use Error::*;
    use StatusCode as S;
    match error {
        Unauthorized => ("unauthorized", S::UNAUTHORIZED, "Unauthorized"),
        Forbidden => ("forbidden", S::FORBIDDEN, "Forbidden"),
        EmailNotVerified => ("email-not-verified", S::FORBIDDEN, "E-mail address not verified"),
        LicenseNotFound => ("license-not-found", S::NOT_FOUND, "License not found"),
        AssignmentNotFound => ("assignment-not-found", S::NOT_FOUND, "Assignment not found"),
        Validation(_) => ("validation-error", S::BAD_REQUEST, "Validation error"),
        InvalidEmails { .. } => ("invalid-emails", S::BAD_REQUEST, "Invalid e-mail addresses"),
        InsufficientSeats { .. } => ("insufficient-seats", S::CONFLICT, "Insufficient seats"),
        LicenseNotActive => ("license-not-active", S::CONFLICT, "License not active"),
        AssignmentRevoked => ("assignment-revoked", S::CONFLICT, "Assignment revoked"),
        IdempotencyConflict => {
            ("idempotency-conflict", S::UNPROCESSABLE_ENTITY, "Idempotency key reused")
        }
        IdempotencyInProgress { .. } => {
            ("idempotency-in-progress", S::CONFLICT, "Request still in progress")
        }
        RateLimited { .. } => ("rate-limited", S::TOO_MANY_REQUESTS, "Rate limited"),
        ExportTooLarge { .. } => ("export-too-large", S::NOT_ACCEPTABLE, "Export too large"),
        TokenNotFound => ("token-not-found", S::NOT_FOUND, "Token not found"),
        TokenLimit { .. } => ("token-limit", S::CONFLICT, "Token limit reached"),
        WebhookNotFound => ("webhook-not-found", S::NOT_FOUND, "Webhook not found"),
        WebhookLimit { .. } => ("webhook-limit", S::CONFLICT, "Webhook limit reached"),
        DeliveryNotFound => ("delivery-not-found", S::NOT_FOUND, "Delivery not found"),
        Uniqueness(_) => ("uniqueness", S::CONFLICT, "Not unique"),
        InvalidFilter(_) => ("invalid-filter", S::BAD_REQUEST, "Invalid filter"),
        UserNotFound => ("user-not-found", S::NOT_FOUND, "User not found"),
        GroupNotFound => ("group-not-found", S::NOT_FOUND, "Group not found"),
        RouteNotFound => ("not-found", S::NOT_FOUND, "Not found"),
        MethodNotAllowed(_) => ("method-not-allowed", S::METHOD_NOT_ALLOWED, "Method not allowed"),
        OperationPending { .. } => {
            ("operation-pending", S::SERVICE_UNAVAILABLE, "Operation pending")
        }
        Unavailable(_) => ("service-unavailable", S::SERVICE_UNAVAILABLE, "Service unavailable"),
    }
}

fn detail(error: &Error) -> String {
    match error {
        Error::Unauthorized => "Sign in: the request carries no readable identity.".into(),
        Error::Forbidden => "Only licence admins may manage licences.".into(),
        Error::EmailNotVerified => "Your sign-in carries no verified e-mail address; verify it with your identity provider and sign in again.".into(),
        Error::LicenseNotFound => "There is no such licence.".into(),
        Error::AssignmentNotFound => "There is no assignment for that e-mail address on this licence.".into(),
        Error::Validation(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        Error::InvalidEmails { entries: list, .. } => format!(
            "{} entr{} not valid e-mail address{}; nothing was assigned.",
            list.len(),
            if list.len() == 1 { "y is" } else { "ies are" },
            if list.len() == 1 { "" } else { "es" }
        ),
        Error::InsufficientSeats { requested, available } => format!(
            "The request needs {requested} seat(s) but only {available} are free over the requested period; nothing was assigned."
        ),
        Error::LicenseNotActive => "The licence term has ended.".into(),
        Error::AssignmentRevoked => "The assignment is revoked; assign the address afresh instead.".into(),
        Error::IdempotencyConflict => "This Idempotency-Key was used with a different request.".into(),
        Error::IdempotencyInProgress { .. } => {
            "The first request with this Idempotency-Key is still running; retry shortly.".into()
        }
        Error::RateLimited { retry_after } => format!(
            "A limit was reached; nothing was done. Retry after {retry_after} s."
        ),
        Error::ExportTooLarge { rows } => format!(
            "The export of {rows} assignments is larger than an uncompressed answer may be; ask for it with Accept-Encoding: gzip (browsers do)."
        ),
        Error::TokenNotFound => "There is no such token.".into(),
        Error::TokenLimit { limit } => format!(
            "The customer has {limit} usable tokens, as many as it may; revoke one first."
        ),
        Error::WebhookNotFound => "There is no such webhook.".into(),
        Error::WebhookLimit { limit } => format!(
            "The customer has {limit} webhooks, as many as it may; delete one first."
        ),
        Error::DeliveryNotFound => "There is no such delivery in this webhook's log.".into(),
        Error::Uniqueness(what) => format!("{what} is taken by another person of the directory."),
        Error::InvalidFilter(why) => format!("The filter is not supported: {why}."),
        Error::UserNotFound => "There is no such user.".into(),
        Error::GroupNotFound => "There is no such group.".into(),
        Error::RouteNotFound => "No such route.".into(),
        Error::MethodNotAllowed(allowed) => format!("Allowed methods: {}.", allowed.join(", ")),
        Error::OperationPending { retry_after } => format!(
            "Another change to this licence is still being completed; nothing was done by this request. Retry after {retry_after} s."
        ),
        Error::Unavailable(_) => "A dependency is unavailable; nothing was changed. Retry later.".into(),
    }
}

/// The problem+json body of an error.
pub fn body(error: &Error) -> Value {
    let (slug, status, title) = describe(error);
    let mut doc = Map::new();
    doc.insert("type".into(), json!(format!("{TYPE_PREFIX}{slug}")));
    doc.insert("title".into(), json!(title));
    doc.insert("status".into(), json!(status.as_u16()));
    doc.insert("detail".into(), json!(detail(error)));
    match error {
        Error::Validation(errors) => {
            doc.insert("errors".into(), json!(errors));
        }
        Error::InvalidEmails { entries, rows } => {
            doc.insert("invalidEmails".into(), json!(entries));
            if !rows.is_empty() {
                doc.insert("errors".into(), json!(rows));
            }
        }
        Error::InsufficientSeats { requested, available } => {
            doc.insert("requested".into(), json!(requested));
            doc.insert("available".into(), json!(available));
        }
        Error::TokenLimit { limit } | Error::WebhookLimit { limit } => {
            doc.insert("limit".into(), json!(limit));
        }
        _ => {}
    }
    Value::Object(doc)
}

pub fn response(error: &Error) -> Response<Body> {
    let (_, status, _) = describe(error);
    let mut builder =
        Response::builder().status(status).header("content-type", "application/problem+json");
    match error {
        Error::Unavailable(_) => {
            builder = builder.header("retry-after", RETRY_AFTER_SECONDS.to_string())
        }
        Error::IdempotencyInProgress { retry_after }
        | Error::RateLimited { retry_after }
        | Error::OperationPending { retry_after } => {
            builder = builder.header("retry-after", retry_after.to_string())
        }
        Error::MethodNotAllowed(allowed) => builder = builder.header("allow", allowed.join(", ")),
        _ => {}
    }
    let mut response =
        builder.body(Body::Text(body(error).to_string())).expect("static headers are valid");
    response.extensions_mut().insert(super::Outcome(describe(error).0));
    response
}
