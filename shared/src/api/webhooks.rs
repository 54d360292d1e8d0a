//! The `webhooks` function (v3): `/webhooks` and what lies under it
//! (licence admins): endpoints, secret rotation, tests, the delivery log and
//! a delivery's retry.

use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, Response, http::StatusCode};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::App;
use crate::error::{Error, FieldError, Result};
use crate::http::decode::{Fields, json_object, param, query};
use crate::http::request::Route;
use crate::http::{json, serve};
use crate::model::{Delivery, DeliveryStatus, Webhook, WebhookChange, result_value};
use crate::usecase::webhooks::{self, WithSecret};

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 100;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, &req, |route, caller, req| async move {
        let admin = caller.admin()?;
        match route {
            Route::ListWebhooks => {
                let list = webhooks::list(app, &admin).await?;
                let webhooks = list.iter().map(|w| WebhookView::of(w, None)).collect();
                Ok(json(StatusCode::OK, &WebhookList { webhooks }))
            }
            Route::CreateWebhook => {
                let ask = parse(json_object(req, false)?, true)?;
                let WithSecret { webhook, secret } = webhooks::create(app, &admin, &ask).await?;
                Ok(json(StatusCode::CREATED, &WebhookView::of(&webhook, Some(secret))))
            }
            Route::GetWebhook(id) => {
                let w = webhooks::get(app, &admin, &id).await?;
                Ok(json(StatusCode::OK, &WebhookView::of(&w, None)))
            }
            Route::ChangeWebhook(id) => {
                let ask = parse(json_object(req, false)?, false)?;
                let w = webhooks::change(app, &admin, &id, &ask).await?;
                Ok(json(StatusCode::OK, &WebhookView::of(&w, None)))
            }
            Route::DeleteWebhook(id) => {
                let w = webhooks::delete(app, &admin, &id).await?;
                Ok(json(StatusCode::OK, &WebhookView::of(&w, None)))
            }
            Route::RotateWebhookSecret(id) => {
                let body = json_object(req, true)?;
                let nulls = not_null(&body, &["expireOldNow"]);
                let mut f = Fields::new(body, &["expireOldNow"]);
                f.errors.extend(nulls);
                let now = f.bool("expireOldNow").unwrap_or(false);
                f.finish()?;
                let WithSecret { webhook, secret } =
                    webhooks::rotate(app, &admin, &id, now).await?;
                Ok(json(StatusCode::OK, &WebhookView::of(&webhook, Some(secret))))
            }
            Route::TestWebhook(id) => {
                let event = webhooks::test(app, &admin, &id).await?;
                let answer = TestView {
                    event_id: event.id.clone(),
                    delivery_id: crate::model::delivery_id(&event.id),
                    r#type: event.kind,
                };
                Ok(json(StatusCode::ACCEPTED, &answer))
            }
            Route::ListDeliveries(id) => {
                let params = query(req).unwrap_or_default();
                let (status, limit) = log_request(&params)?;
                let cursor = param(&params, "cursor").filter(|c| !c.is_empty());
                let page = webhooks::deliveries(app, &admin, &id, status, limit, cursor).await?;
                let deliveries = page.deliveries.iter().map(DeliveryView::of).collect();
                Ok(json(StatusCode::OK, &DeliveryList { deliveries, next_cursor: page.next }))
            }
            Route::RetryDelivery(id, delivery) => {
                let d = webhooks::retry(app, &admin, &id, &delivery).await?;
                Ok(json(StatusCode::ACCEPTED, &DeliveryView::of(&d)))
            }
            _ => Err(Error::RouteNotFound),
        }
    })
    .await
}

/// `status` (pending, succeeded, failed) and `limit` (1 to 100, default 50).
fn log_request(params: &[(String, String)]) -> Result<(Option<DeliveryStatus>, usize)> {
    let mut errors = Vec::new();
    let status = match param(params, "status") {
        None | Some("") => None,
        Some(s) => DeliveryStatus::parse(s).or_else(|| {
            errors.push(FieldError::new("status", "must be one of pending, succeeded, failed"));
            None
        }),
    };
    let limit = match param(params, "limit") {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                errors.push(FieldError::new("limit", "must be an integer from 1 to 100"));
                DEFAULT_LIMIT
            }
        },
    };
    if errors.is_empty() { Ok((status, limit)) } else { Err(Error::Validation(errors)) }
}

/// `{"url", "events", "description"?, "enabled"?}`; on a change every field
/// is optional, and `"description": null` clears it.
pub fn parse(body: Map<String, Value>, creating: bool) -> Result<WebhookChange> {
    let cleared_description = body.get("description").is_some_and(Value::is_null);
    let nulls = not_null(&body, &["url", "events", "enabled"]);
    let mut f = Fields::new(body, &["url", "events", "description", "enabled"]);
    f.errors.extend(nulls);
    let url = match f.take("url") {
        Some(Value::String(url)) => Some(url),
        Some(_) => {
            f.fail("url", "must be text");
            None
        }
        None if creating => {
            f.fail("url", "is required");
            None
        }
        None => None,
    };
    let events = match f.take("events") {
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            Some(items.iter().filter_map(Value::as_str).map(str::to_string).collect())
        }
        Some(_) => {
            f.fail("events", "must be an array of event types");
            None
        }
        None if creating => {
            f.fail("events", "is required");
            None
        }
        None => None,
    };
    let description = match f.take("description") {
        Some(Value::String(d)) => Some(Some(d)),
        Some(_) => {
            f.fail("description", "must be text");
            None
        }
        None if cleared_description => Some(None),
        None => None,
    };
    let enabled = f.bool("enabled");
    f.finish()?;
    Ok(WebhookChange { url, events, enabled, description })
}

/// The fields of `names` given as `null` (only `description` may be cleared so).
fn not_null(body: &Map<String, Value>, names: &[&str]) -> Vec<FieldError> {
    names
        .iter()
        .filter(|n| body.get(**n).is_some_and(Value::is_null))
        .map(|n| FieldError::new(*n, "must not be null"))
        .collect()
}

#[derive(Serialize)]
struct WebhookList {
    webhooks: Vec<WebhookView>,
}

/// An endpoint as the API shows it: its secret only when created or rotated.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookView {
    webhook_id: String,
    url: String,
    events: Vec<String>,
    description: Option<String>,
    enabled: bool,
    created_at: DateTime<Utc>,
    disabled_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl WebhookView {
    fn of(w: &Webhook, secret: Option<String>) -> Self {
        Self {
            webhook_id: w.webhook_id.clone(),
            url: w.url.clone(),
            events: w.events.clone(),
            description: w.description.clone(),
            enabled: w.enabled,
            created_at: w.created_at,
            disabled_reason: w.disabled_reason.clone(),
            secret,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TestView {
    event_id: String,
    delivery_id: String,
    r#type: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryList {
    deliveries: Vec<DeliveryView>,
    next_cursor: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryView {
    delivery_id: String,
    event_id: String,
    r#type: String,
    status: DeliveryStatus,
    attempts: u32,
    last_attempt_at: Option<DateTime<Utc>>,
    last_result: Option<Value>,
    next_attempt_at: Option<DateTime<Utc>>,
    /// Every attempt's time and result, oldest first.
    results: Vec<AttemptView>,
}

#[derive(Serialize)]
struct AttemptView {
    at: DateTime<Utc>,
    result: Value,
}

impl DeliveryView {
    fn of(d: &Delivery) -> Self {
        Self {
            delivery_id: d.delivery_id.clone(),
            event_id: d.event_id.clone(),
            r#type: d.kind.clone(),
            status: d.status,
            attempts: d.attempts,
            last_attempt_at: d.last_attempt_at,
            last_result: d.last_result.as_deref().map(result_value),
            next_attempt_at: d.next_attempt_at,
            results: d
                .results
                .iter()
                .map(|r| AttemptView { at: r.at, result: result_value(&r.result) })
                .collect(),
        }
    }
}
