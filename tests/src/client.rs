//! A typed client over the real handlers: the API as the portal calls it,
//! signed in as one identity, so tests read like the contract
//! (`Client::admin(&app, CUSTOMER).assign(&id, "a@x.example")`).

use lambda_http::Request;
use licensing::App;
use serde_json::{Value, json};

use crate::{Answer, admin, bare_request, request, send, user};

#[derive(Clone)]
pub struct Client<'a> {
    pub app: &'a App,
    pub token: Option<String>,
}

impl<'a> Client<'a> {
    /// A caller with this token (its claims arrive as the authorizer's).
    pub fn with_token(app: &'a App, token: impl Into<String>) -> Self {
        Self { app, token: Some(token.into()) }
    }

    /// A licence admin of `customer`.
    pub fn admin(app: &'a App, customer: &str) -> Self {
        Self::with_token(app, admin(customer))
    }

    /// A portal user (no admin) with a verified e-mail.
    pub fn user(app: &'a App, email: &str, customer: &str) -> Self {
        Self::with_token(app, user(email, customer))
    }

    /// Nobody signed in.
    pub fn anonymous(app: &'a App) -> Self {
        Self { app, token: None }
    }

    /// The same identity against another app (e.g. one whose clock is later).
    pub fn on(&self, app: &'a App) -> Self {
        Self { app, token: self.token.clone() }
    }

    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Request {
        let body = body.map(Value::to_string);
        request(method, path, self.token.as_deref(), body.as_deref())
    }

    /// Any request, as the router hands it to the function owning its route.
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        send(self.app, self.request(method, path, body.as_ref())).await
    }

    /// A request with only the bearer header (no authorizer context).
    pub async fn send_bare(&self, method: &str, path: &str) -> Answer {
        send(self.app, bare_request(method, path, self.token.as_deref(), None)).await
    }

    /// `GET /licenses`, with `query` (e.g. `"status=all"`) if not empty.
    pub async fn licenses(&self, query: &str) -> Answer {
        self.send("GET", &with_query("/licenses", query), None).await
    }

    pub async fn license(&self, id: &str) -> Answer {
        self.send("GET", &format!("/licenses/{id}"), None).await
    }

    /// One page of assignments, with `query` (e.g. `"limit=2&status=active"`).
    pub async fn assignments(&self, id: &str, query: &str) -> Answer {
        let path = with_query(&format!("/licenses/{id}/assignments"), query);
        self.send("GET", &path, None).await
    }

    /// Every assignment of a licence, page after page.
    pub async fn all_assignments(&self, id: &str) -> Vec<Value> {
        let path = format!("/licenses/{id}/assignments");
        self.all_pages(&path, "limit=100", "assignments").await
    }

    /// The `items` of every page of `path` in order: with `query`, then with
    /// `query` and the cursor each page answers, until one answers none.
    async fn all_pages(&self, path: &str, query: &str, items: &str) -> Vec<Value> {
        let mut found = Vec::new();
        let mut page = query.to_string();
        loop {
            let answer = self.send("GET", &with_query(path, &page), None).await;
            assert_eq!(answer.status, 200, "{:?}", answer.body);
            found.extend(answer.body[items].as_array().unwrap().iter().cloned());
            match answer.body["nextCursor"].as_str() {
                Some(c) => page = format!("{query}&cursor={c}"),
                None => return found,
            }
        }
    }

    /// A licence's seats in use per day over its term, as steps.
    pub async fn usage(&self, id: &str) -> Answer {
        self.send("GET", &format!("/licenses/{id}/usage"), None).await
    }

    /// One page of a licence's history, with `query` (e.g. `"email=a@x.de&limit=2"`).
    pub async fn history(&self, id: &str, query: &str) -> Answer {
        let path = with_query(&format!("/licenses/{id}/history"), query);
        self.send("GET", &path, None).await
    }

    /// A licence's whole history (newest first), page after page of `limit`,
    /// with `query` (e.g. `"email=a@x.de"`).
    pub async fn all_history(&self, id: &str, query: &str, limit: usize) -> Vec<Value> {
        let base = if query.is_empty() {
            format!("limit={limit}")
        } else {
            format!("{query}&limit={limit}")
        };
        self.all_pages(&format!("/licenses/{id}/history"), &base, "entries").await
    }

    /// The assignment of `email` on a licence, as listed.
    pub async fn assignment(&self, id: &str, email: &str) -> Option<Value> {
        let all = self.all_assignments(id).await;
        all.into_iter().find(|a| a["email"] == email)
    }

    /// `POST /licenses/{id}/assignments` with this body.
    pub async fn assign_body(&self, id: &str, body: Value) -> Answer {
        self.send("POST", &format!("/licenses/{id}/assignments"), Some(body)).await
    }

    /// Assigns `emails` (pasted text, or an array) for the default period.
    pub async fn assign(&self, id: &str, emails: impl Into<Value>) -> Answer {
        self.assign_body(id, json!({ "emails": emails.into() })).await
    }

    /// An assign with an `Idempotency-Key`.
    pub async fn assign_with_key(&self, id: &str, key: &str, body: &Value) -> Answer {
        let path = format!("/licenses/{id}/assignments");
        self.post_with_key(&path, key, body).await
    }

    /// A POST with an `Idempotency-Key`.
    pub async fn post_with_key(&self, path: &str, key: &str, body: &Value) -> Answer {
        let mut req = self.request("POST", path, Some(body));
        req.headers_mut().insert("idempotency-key", key.parse().unwrap());
        send(self.app, req).await
    }

    /// `PATCH` an assignment's period with this body.
    pub async fn change(&self, id: &str, email: &str, body: Value) -> Answer {
        let path = format!("/licenses/{id}/assignments/{email}");
        self.send("PATCH", &path, Some(body)).await
    }

    pub async fn revoke(&self, id: &str, email: &str) -> Answer {
        let path = format!("/licenses/{id}/assignments/{email}");
        self.send("DELETE", &path, None).await
    }

    pub async fn resend(&self, id: &str, email: &str) -> Answer {
        let path = format!("/licenses/{id}/assignments/{email}/invitation");
        self.send("POST", &path, None).await
    }

    /// `GET /licenses/{id}/assignments` with `Accept: text/csv`.
    pub async fn export_csv(&self, id: &str) -> Answer {
        let mut req = self.request("GET", &format!("/licenses/{id}/assignments"), None);
        req.headers_mut().insert("accept", "text/csv".parse().unwrap());
        send(self.app, req).await
    }

    /// `POST /licenses/{id}/assignments` with `Content-Type: text/csv`,
    /// `query` (e.g. `"dryRun=true"`) if not empty, and an Idempotency-Key if given.
    pub async fn import_csv(&self, id: &str, csv: &str, query: &str, key: Option<&str>) -> Answer {
        let path = with_query(&format!("/licenses/{id}/assignments"), query);
        let mut req = request("POST", &path, self.token.as_deref(), Some(csv));
        let headers = req.headers_mut();
        headers.insert("content-type", "text/csv; charset=utf-8".parse().unwrap());
        if let Some(key) = key {
            headers.insert("idempotency-key", key.parse().unwrap());
        }
        send(self.app, req).await
    }

    /// `GET /me/licenses`.
    pub async fn my_licenses(&self) -> Answer {
        self.send("GET", "/me/licenses", None).await
    }
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() { path.to_string() } else { format!("{path}?{query}") }
}
