//! Webhook endpoints (API.md v3): a licence admin creates, lists, changes,
//! deletes and tests them, rotates their secrets, reads their delivery log
//! and retries a delivery. The deliveries themselves: `outbox` (events to
//! jobs) and `deliver` (one attempt).

use chrono::Duration;

use super::budget::Budget;
use super::retry::{Step, committed, retry_on_conflict};
use crate::App;
use crate::error::{Error, Result};
use crate::model::{
    Admin, Delivery, DeliveryStatus, Event, MAX_WEBHOOKS, OLD_SECRET_HOURS, SealedSecret, Webhook,
    WebhookChange, event_of_delivery, new_webhook_secret,
};
use crate::outbound::{Job, Outbound};
use crate::store::DeliveryPage;

/// An endpoint with its secret, the one time the secret is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WithSecret {
    pub webhook: Webhook,
    pub secret: String,
}

fn outbound(app: &App) -> Result<&Outbound> {
    app.outbound.as_deref().ok_or_else(|| Error::unavailable("no webhook services configured"))
}

/// Creates an endpoint of the admin's customer (409 `webhook-limit` at
/// [`MAX_WEBHOOKS`]), with a fresh secret sealed by the stack's key.
pub async fn create(app: &App, admin: &Admin, ask: &WebhookChange) -> Result<WithSecret> {
    let (Some(url), Some(events)) = (&ask.url, &ask.events) else {
        let mut missing = Vec::new();
        if ask.url.is_none() {
            missing.push(crate::error::FieldError::new("url", "is required"));
        }
        if ask.events.is_none() {
            missing.push(crate::error::FieldError::new("events", "is required"));
        }
        return Err(Error::Validation(missing));
    };
    ask.check(cfg!(feature = "local"))?;
    let now = app.now();
    let webhook_id = format!("wh_{}", ulid::Ulid::new().to_string().to_ascii_lowercase());
    let (secret, bytes) = new_webhook_secret()?;
    let sealed = outbound(app)?.seal(&webhook_id, &bytes).await?;
    let webhook = Webhook {
        webhook_id,
        customer_id: admin.customer_id.clone(),
        url: url.clone(),
        events: dedup(events),
        description: ask.description.clone().flatten(),
        enabled: ask.enabled.unwrap_or(true),
        created_at: now,
        disabled_reason: (ask.enabled == Some(false)).then(|| "by-admin".to_string()),
        disabled_at: (ask.enabled == Some(false)).then_some(now),
        secrets: vec![SealedSecret { sealed, created_at: now, until: None }],
        slots: Default::default(),
        failing_since: None,
    };
    retry_on_conflict("create webhook", || async {
        let set = app.store.webhooks(&admin.customer_id).await?;
        if set.webhooks.len() >= MAX_WEBHOOKS {
            return Err(Error::WebhookLimit { limit: MAX_WEBHOOKS });
        }
        committed(app.store.create_webhook(&webhook, set.version).await)
    })
    .await?;
    Ok(WithSecret { webhook, secret })
}

fn dedup(events: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(events.len());
    for e in events {
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    out
}

/// The admin's customer's endpoints, oldest first.
pub async fn list(app: &App, admin: &Admin) -> Result<Vec<Webhook>> {
    let mut webhooks = app.store.webhooks(&admin.customer_id).await?.webhooks;
    webhooks.sort_by(|a, b| (a.created_at, &a.webhook_id).cmp(&(b.created_at, &b.webhook_id)));
    Ok(webhooks)
}

/// One endpoint of the admin's customer.
pub async fn get(app: &App, admin: &Admin, webhook_id: &str) -> Result<Webhook> {
    if !looks_like_webhook_id(webhook_id) {
        return Err(Error::WebhookNotFound);
    }
    app.store.webhook(&admin.customer_id, webhook_id).await?.ok_or(Error::WebhookNotFound)
}

fn looks_like_webhook_id(id: &str) -> bool {
    id.starts_with("wh_")
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Changes an endpoint's URL, events, description, or enables or disables
/// it. Re-enabling sends nothing it missed (the log keeps what failed).
pub async fn change(
    app: &App,
    admin: &Admin,
    webhook_id: &str,
    ask: &WebhookChange,
) -> Result<Webhook> {
    ask.check(cfg!(feature = "local"))?;
    retry_on_conflict("change webhook", || async {
        let read = get(app, admin, webhook_id).await?;
        let mut w = read.clone();
        if let Some(url) = &ask.url {
            w.url = url.clone();
        }
        if let Some(events) = &ask.events {
            w.events = dedup(events);
        }
        if let Some(description) = &ask.description {
            w.description = description.clone();
        }
        match ask.enabled {
            Some(true) => {
                w.enabled = true;
                w.disabled_reason = None;
                w.disabled_at = None;
            }
            Some(false) if w.enabled => {
                w.enabled = false;
                w.disabled_reason = Some("by-admin".into());
                w.disabled_at = Some(app.now());
            }
            _ => {}
        }
        if app.store.change_webhook(&w, &read.secrets).await? {
            w.failing_since = None;
            Ok(Step::Done(w))
        } else {
            Ok(Step::Again)
        }
    })
    .await
}

/// Deletes an endpoint; its pending deliveries are dropped at their next
/// attempt, its log expires with them.
pub async fn delete(app: &App, admin: &Admin, webhook_id: &str) -> Result<Webhook> {
    let w = get(app, admin, webhook_id).await?;
    if app.store.delete_webhook(&admin.customer_id, webhook_id).await? {
        Ok(w)
    } else {
        Err(Error::WebhookNotFound)
    }
}

/// A new secret: it signs from now on, and the newest old one still signs
/// for 24 hours (at once no longer with `expire_old_now`, after a leak).
pub async fn rotate(
    app: &App,
    admin: &Admin,
    webhook_id: &str,
    expire_old_now: bool,
) -> Result<WithSecret> {
    let (secret, bytes) = new_webhook_secret()?;
    let sealed = outbound(app)?.seal(webhook_id, &bytes).await?;
    retry_on_conflict("rotate webhook secret", || async {
        let read = get(app, admin, webhook_id).await?;
        let now = app.now();
        let old_until = if expire_old_now { now } else { now + Duration::hours(OLD_SECRET_HOURS) };
        let mut secrets =
            vec![SealedSecret { sealed: sealed.clone(), created_at: now, until: None }];
        // Those that still sign, ending at the latest when the newest old one does.
        secrets.extend(read.signing(now).map(|s| SealedSecret {
            until: Some(s.until.map_or(old_until, |until| until.min(old_until))),
            ..s.clone()
        }));
        secrets.retain(|s| s.until.is_none_or(|until| until > now));
        let w = Webhook { secrets, ..read.clone() };
        if app.store.change_webhook(&w, &read.secrets).await? {
            Ok(Step::Done(w))
        } else {
            Ok(Step::Again)
        }
    })
    .await
    .map(|webhook| WithSecret { webhook, secret })
}

/// Sends a `webhook.test` event to the endpoint now (whatever its events
/// say; at most 10 tests and retries a minute).
pub async fn test(app: &App, admin: &Admin, webhook_id: &str) -> Result<Event> {
    let w = get(app, admin, webhook_id).await?;
    Budget::webhook_send(app, &admin.customer_id, webhook_id).charge(app).await?;
    let event = Event::test(&admin.name, app.now());
    outbound(app)?.enqueue(&[Job::first(&w.customer_id, &w.webhook_id, &event)], app.now()).await?;
    Ok(event)
}

/// A page of the endpoint's delivery log, newest first.
pub async fn deliveries(
    app: &App,
    admin: &Admin,
    webhook_id: &str,
    status: Option<DeliveryStatus>,
    limit: usize,
    cursor: Option<&str>,
) -> Result<DeliveryPage> {
    let w = get(app, admin, webhook_id).await?;
    let after = match cursor {
        None => None,
        Some(c) => Some(
            event_of_delivery(c)
                .ok_or_else(|| Error::field("cursor", "is not a cursor of this log"))?,
        ),
    };
    let mut page = app.store.deliveries(&w.webhook_id, status, limit, after.as_deref()).await?;
    page.next = page.next.map(|event_id| crate::model::delivery_id(&event_id));
    Ok(page)
}

/// An attempt of the delivery now, under the same `webhook-id` (at most 10
/// tests and retries a minute). A delivery whose attempt is running is
/// answered as it is.
pub async fn retry(
    app: &App,
    admin: &Admin,
    webhook_id: &str,
    delivery_id: &str,
) -> Result<Delivery> {
    let w = get(app, admin, webhook_id).await?;
    let event_id = event_of_delivery(delivery_id).ok_or(Error::DeliveryNotFound)?;
    Budget::webhook_send(app, &admin.customer_id, webhook_id).charge(app).await?;
    retry_on_conflict("retry delivery", || async {
        let (d, running) =
            app.store.delivery(&w.webhook_id, &event_id).await?.ok_or(Error::DeliveryNotFound)?;
        if running {
            return Ok(Step::Done(d));
        }
        let now = app.now();
        if !app.store.reopen_delivery(&d, now).await? {
            return Ok(Step::Again);
        }
        let job = Job {
            customer_id: d.customer_id.clone(),
            webhook_id: d.webhook_id.clone(),
            event_id: d.event_id.clone(),
            kind: d.kind.clone(),
            body: d.body.clone(),
            attempt: d.attempts + 1,
            due: None,
        };
        outbound(app)?.enqueue(&[job], now).await?;
        Ok(Step::Done(Delivery {
            status: DeliveryStatus::Pending,
            next_attempt_at: Some(now),
            ..d
        }))
    })
    .await
}
