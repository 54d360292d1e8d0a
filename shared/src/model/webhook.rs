//! Webhooks (API.md v3): a customer's endpoints, the events they hear, the
//! Standard Webhooks signature, the retry schedule, and the rules that keep
//! a delivery from reaching anything but the public Internet (SSRF).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{Action, Entry, State};
use crate::error::{Error, FieldError, Result};

/// Endpoints a customer may have.
pub const MAX_WEBHOOKS: usize = 5;
/// The longest URL an endpoint may have.
pub const MAX_URL_LEN: usize = 2_048;
/// Automatic attempts of one delivery: the first and seven retries.
pub const ATTEMPTS: u32 = 8;
/// The waits before the 2nd … 8th attempt (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
pub const RETRY_DELAYS: [i64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
/// How long an answer may take: later is a `timeout`.
pub const ANSWER_SECONDS: u64 = 10;
/// An endpoint whose deliveries all failed this long is disabled.
pub const FAILING_DAYS: i64 = 3;
/// How long a rotated-out secret still signs.
pub const OLD_SECRET_HOURS: i64 = 24;
/// `/test` and `/retry` requests a minute per endpoint.
pub const SENDS_PER_MINUTE: u32 = 10;
/// Deliveries to one endpoint that may run at once (one lease slot each).
pub const IN_FLIGHT: u32 = 10;
/// How long the delivery log keeps a delivery.
pub const LOG_DAYS: i64 = 30;
/// The event type beside the history's actions that says a licence has no
/// free seat left (sent with `license.seats-exhausted`, under its own id).
pub const SEATS_EXHAUSTED: &str = "seats.exhausted";
/// The event `/test` sends, whatever the endpoint's `events` say.
pub const TEST_EVENT: &str = "webhook.test";
const SECRET_PREFIX: &str = "whsec_";
const SECRET_BYTES: usize = 32;

/// Every event type an endpoint may ask for (besides `*`): the history's
/// actions and `seats.exhausted`.
pub fn event_types() -> Vec<&'static str> {
    let mut types: Vec<&'static str> = Action::ALL.iter().map(|a| a.name()).collect();
    types.push(SEATS_EXHAUSTED);
    types
}

/// An endpoint as stored. Its secrets only ever sealed (KMS).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub webhook_id: String,
    pub customer_id: String,
    pub url: String,
    /// The event types it hears, or `["*"]`.
    pub events: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    /// Why it was disabled: `by-admin`, `gone` (an answer 410) or `failing`
    /// (3 days of failed deliveries).
    #[serde(default)]
    pub disabled_reason: Option<String>,
    /// When it was disabled (what tells one disabling from the next).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<DateTime<Utc>>,
    /// Newest first; each signs until its `until`.
    pub secrets: Vec<SealedSecret>,
    /// The lease of each delivery slot in flight (slot → until, Unix ms):
    /// at most [`IN_FLIGHT`] deliveries to the endpoint at once.
    #[serde(default)]
    pub slots: std::collections::BTreeMap<String, i64>,
    /// The first failed attempt since the last success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
}

/// A secret as stored: encrypted with the stack's KMS key, bound to its
/// endpoint (the encryption context), and the time it stops signing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecret {
    /// Base64 of the KMS ciphertext of the 32 secret bytes.
    pub sealed: String,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

impl Webhook {
    /// Whether it hears events of `kind`.
    pub fn hears(&self, kind: &str) -> bool {
        self.enabled && self.events.iter().any(|e| e == "*" || e == kind)
    }

    /// The secrets that sign at `now`, newest first.
    pub fn signing(&self, now: DateTime<Utc>) -> impl Iterator<Item = &SealedSecret> {
        self.secrets.iter().filter(move |s| s.until.is_none_or(|until| until > now))
    }

    /// The delivery slots free at `now` as this record saw them (none
    /// leased, or the lease run out), lowest first. A claim still checks
    /// its slot: another batch may have taken it since.
    pub fn free_slots(&self, now: DateTime<Utc>) -> impl Iterator<Item = String> + '_ {
        let now_ms = now.timestamp_millis();
        (0..IN_FLIGHT)
            .map(|slot| slot.to_string())
            .filter(move |slot| self.slots.get(slot).is_none_or(|until| *until < now_ms))
    }
}

/// An endpoint that its deliveries disabled (`gone`, `failing`), as the
/// table's stream brings it to `notify`: its customer's buyers are told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDisabled {
    pub customer_id: String,
    pub webhook_id: String,
    pub url: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// What an admin asks for when creating or changing an endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
    /// `Some(None)`: cleared.
    pub description: Option<Option<String>>,
}

impl WebhookChange {
    /// The change's fields, checked: the URL by [`check_url`], the events
    /// known (or `["*"]`), the description at most 200 characters.
    pub fn check(&self, local: bool) -> Result<()> {
        let mut errors = Vec::new();
        if let Some(url) = &self.url
            && let Err(why) = check_url(url, local)
        {
            errors.push(FieldError::new("url", why));
        }
        if let Some(events) = &self.events
            && let Err(why) = check_events(events)
        {
            errors.push(FieldError::new("events", why));
        }
        if let Some(Some(d)) = &self.description
            && d.chars().count() > 200
        {
            errors.push(FieldError::new("description", "must be at most 200 characters"));
        }
        if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
    }
}

fn check_events(events: &[String]) -> Result<(), String> {
    if events.is_empty() {
        return Err("must name at least one event type, or \"*\"".into());
    }
    if events.iter().any(|e| e == "*") && events.len() > 1 {
        return Err("\"*\" stands alone".into());
    }
    let known = event_types();
    match events.iter().find(|e| *e != "*" && !known.contains(&e.as_str())) {
        Some(unknown) => Err(format!("unknown event type {unknown:?}")),
        None => Ok(()),
    }
}

/// Why a URL may not be an endpoint's, or `Ok`. `https://` with a DNS name
/// of at least two labels (no IP literal in any notation: the WHATWG
/// parser reads dotted, hex, octal and integer IPv4 forms as addresses), no
/// `localhost`, no user info, port 443 or 1024–65535, at most 2,048
/// characters. `local` (builds with local mode) also allows
/// `http://127.0.0.1:<port>/…`.
pub fn check_url(raw: &str, local: bool) -> Result<url::Url, &'static str> {
    if raw.len() > MAX_URL_LEN {
        return Err("must be at most 2048 characters");
    }
    let url = url::Url::parse(raw).map_err(|_| "must be an absolute https:// URL")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry user info");
    }
    if url.fragment().is_some() {
        return Err("must not carry a fragment");
    }
    if local
        && url.scheme() == "http"
        && url.host() == Some(url::Host::Ipv4(Ipv4Addr::LOCALHOST))
        && url.port().is_some()
    {
        return Ok(url);
    }
    if url.scheme() != "https" {
        return Err("must be an https:// URL");
    }
    let name = match url.host() {
        Some(url::Host::Domain(name)) => name.trim_end_matches('.').to_ascii_lowercase(),
        Some(_) => return Err("must name a host by DNS name, not by address"),
        None => return Err("must name a host"),
    };
    if !name.contains('.') {
        return Err("must name a host by a fully qualified DNS name");
    }
    if name == "localhost" || name.ends_with(".localhost") {
        return Err("must not name localhost");
    }
    if let Some(port) = url.port()
        && port < 1024
    {
        return Err("must use port 443 or one of 1024-65535");
    }
    Ok(url)
}

/// Whether a delivery must not go to `ip`: loopback, private, link-local
/// (cloud metadata lives at 169.254.169.254), shared (CGNAT), multicast,
/// broadcast, unspecified, documentation, benchmarking and other reserved
/// ranges of the IANA special-purpose registries; IPv6 outside global
/// unicast (2000::/3), and the IPv6 forms that carry an IPv4 address
/// (mapped, compatible, NAT64, 6to4, Teredo) by that address or outright.
pub fn is_blocked(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_blocked_v4(v4),
        IpAddr::V6(v6) => is_blocked_v6(v6),
    }
}

fn is_blocked_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0                                   // "this network"
        || a == 10                           // private
        || (a == 100 && (64..128).contains(&b)) // shared address space
        || a == 127                          // loopback
        || (a == 169 && b == 254)            // link-local
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)    // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)    // documentation
        || (a == 192 && b == 88 && c == 99)  // 6to4 relay anycast
        || (a == 192 && b == 168)            // private
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113)  // documentation
        || a >= 224 // multicast, reserved, broadcast
}

fn is_blocked_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_blocked_v4(v4);
    }
    (s[0] & 0xe000) != 0x2000                // not global unicast (::, ::1, ::/96, fc00::/7, fe80::/10, ff00::/8, …)
        || (s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments (Teredo, ORCHIDv2, benchmarking …)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || s[0] == 0x2002                    // 6to4
        || (s[0] == 0x3fff && s[1] < 0x1000) // documentation (2024)
    // NAT64 (64:ff9b::/96, 64:ff9b:1::/48) is outside 2000::/3 already.
}

/// A fresh secret (`whsec_` and the base64 of 32 random bytes) and its bytes.
pub fn new_webhook_secret() -> Result<(String, Vec<u8>)> {
    let mut bytes = vec![0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(Error::unavailable)?;
    Ok((format!("{SECRET_PREFIX}{}", BASE64.encode(&bytes)), bytes))
}

/// The `webhook-signature` header: `v1,<base64 HMAC-SHA256 of
/// "<id>.<timestamp>.<body>">` per signing key, space-separated.
pub fn signature(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &str) -> String {
    let signed = format!("{id}.{timestamp}.{body}");
    keys.iter()
        .map(|key| {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(signed.as_bytes());
            format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An event as its receivers get it (the body of every attempt).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339 with milliseconds.
    pub timestamp: String,
    pub data: EventData,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<State>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<State>,
}

impl Event {
    /// The events of a history entry of a licence of `product_id`: the
    /// entry's own (`evt_<entry id>`, typed by its action), and, for seats
    /// running out, `seats.exhausted` beside it (`evt_<entry id>_seats`).
    pub fn of_entry(entry: &Entry, product_id: &str) -> Vec<Event> {
        let timestamp = entry.at.to_rfc3339_opts(SecondsFormat::Millis, true);
        let data = EventData {
            license_id: Some(entry.license_id.clone()),
            product_id: Some(product_id.to_string()),
            email: entry.email.clone(),
            actor: entry.actor.clone(),
            reason: entry.reason.clone(),
            before: entry.before.clone(),
            after: entry.after.clone(),
        };
        let id = format!("evt_{}", entry.id.to_ascii_lowercase());
        let mut events = vec![Event {
            id: id.clone(),
            kind: entry.action.name().to_string(),
            timestamp: timestamp.clone(),
            data: data.clone(),
        }];
        if entry.action == Action::LicenseSeatsExhausted {
            let id = format!("{id}_seats");
            events.push(Event { id, kind: SEATS_EXHAUSTED.into(), timestamp, data });
        }
        events
    }

    /// The event `/test` sends.
    pub fn test(actor: &str, at: DateTime<Utc>) -> Event {
        Event {
            id: format!("evt_{}", ulid::Ulid::new().to_string().to_ascii_lowercase()),
            kind: TEST_EVENT.into(),
            timestamp: at.to_rfc3339_opts(SecondsFormat::Millis, true),
            data: EventData {
                license_id: None,
                product_id: None,
                email: None,
                actor: actor.to_string(),
                reason: None,
                before: None,
                after: None,
            },
        }
    }

    /// The body every attempt sends.
    pub fn body(&self) -> String {
        serde_json::to_string(self).expect("an event serialises")
    }
}

/// The delivery id of an event at an endpoint.
pub fn delivery_id(event_id: &str) -> String {
    format!("dlv_{}", event_id.strip_prefix("evt_").unwrap_or(event_id))
}

/// The event id of a delivery id, if it is one.
pub fn event_of_delivery(delivery_id: &str) -> Option<String> {
    let rest = delivery_id.strip_prefix("dlv_")?;
    let ok = !rest.is_empty()
        && rest.len() <= 64
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then(|| format!("evt_{rest}"))
}

/// An event's delivery at one endpoint: its log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub delivery_id: String,
    pub event_id: String,
    pub webhook_id: String,
    pub customer_id: String,
    /// The event's type (stored as `eventType`: `type` names the item's kind).
    #[serde(rename = "eventType")]
    pub kind: String,
    pub body: String,
    pub status: DeliveryStatus,
    /// Attempts started.
    pub attempts: u32,
    #[serde(default)]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The last attempt's result: an HTTP status, `timeout`, `connection`
    /// or `blocked-address`.
    #[serde(default)]
    pub last_result: Option<String>,
    #[serde(default)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Every attempt's time and result, oldest first.
    #[serde(default)]
    pub results: Vec<AttemptResult>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "succeeded" => Some(Self::Succeeded),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// One attempt in a delivery's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptResult {
    pub at: DateTime<Utc>,
    pub result: String,
}

/// What one attempt came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The endpoint answered (with any status; 2xx is success).
    Status(u16),
    /// No answer within [`ANSWER_SECONDS`].
    Timeout,
    /// No connection, a reset, a TLS failure, an answer that was not HTTP.
    Connection,
    /// The name resolved to an address a delivery may not go to.
    BlockedAddress,
}

impl Outcome {
    pub fn succeeded(self) -> bool {
        matches!(self, Outcome::Status(200..=299))
    }

    /// `lastResult` as stored: the status, or the failure's name.
    pub fn result(self) -> String {
        match self {
            Outcome::Status(status) => status.to_string(),
            Outcome::Timeout => "timeout".into(),
            Outcome::Connection => "connection".into(),
            Outcome::BlockedAddress => "blocked-address".into(),
        }
    }
}

/// A stored result as the API shows it: a status as a number, else its name.
pub fn result_value(result: &str) -> serde_json::Value {
    match result.parse::<u16>() {
        Ok(status) => status.into(),
        Err(_) => result.into(),
    }
}

/// When attempt `attempt + 1` is due after attempt `attempt` (1-based)
/// failed at `at`, or `None` when that was the last. `scale` shrinks the
/// waits (local builds only; 1 in the deployed functions).
pub fn next_attempt(attempt: u32, at: DateTime<Utc>, scale: f64) -> Option<DateTime<Utc>> {
    let wait = *RETRY_DELAYS.get(attempt.checked_sub(1)? as usize)?;
    let millis = (wait as f64 * 1000.0 * scale).round() as i64;
    Some(at + Duration::milliseconds(millis.max(0)))
}

/// What a failed attempt does to its endpoint: `410 Gone` disables it at
/// once, and failures since `failing_since` for [`FAILING_DAYS`] disable it
/// too. `None`: it stays enabled.
pub fn disables(
    outcome: Outcome,
    failing_since: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Option<&'static str> {
    if outcome == Outcome::Status(410) {
        Some("gone")
    } else if !outcome.succeeded() && at - failing_since >= Duration::days(FAILING_DAYS) {
        Some("failing")
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
