//! The `tokens` function: `GET /tokens`, `POST /tokens`,
//! `DELETE /tokens/{tokenId}` (licence admins).

use chrono::{DateTime, NaiveDate, Utc};
use lambda_http::{Body, Request, Response, http::StatusCode};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::App;
use crate::error::{Error, Result};
use crate::http::decode::{Fields, json_object};
use crate::http::request::Route;
use crate::http::{json, serve};
use crate::model::{NewToken, Scope, Token};
use crate::usecase::tokens::{self, Created};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, &req, |route, caller, req| async move {
        let admin = caller.admin()?;
        match route {
            Route::ListTokens => {
                let tokens = tokens::list(app, &admin).await?;
                let tokens = tokens.iter().map(|t| TokenView::of(t, None)).collect();
                Ok(json(StatusCode::OK, &TokenList { tokens }))
            }
            Route::CreateToken => {
                let ask = parse(json_object(req, false)?)?;
                let Created { token, secret } = tokens::create(app, &admin, &ask).await?;
                Ok(json(StatusCode::CREATED, &TokenView::of(&token, Some(secret))))
            }
            Route::RevokeToken(id) => {
                let revoked = tokens::revoke(app, &admin, &id).await?;
                Ok(json(StatusCode::OK, &TokenView::of(&revoked, None)))
            }
            _ => Err(Error::RouteNotFound),
        }
    })
    .await
}

/// `{"name", "scopes": ["scim"], "expiresAt"?: date}`.
pub fn parse(body: Map<String, Value>) -> Result<NewToken> {
    let mut f = Fields::new(body, &["name", "scopes", "expiresAt"]);
    let name = match f.take("name") {
        Some(Value::String(name)) => name,
        other => {
            f.fail("name", if other.is_some() { "must be text" } else { "is required" });
            String::new()
        }
    };
    let scopes = match f.take("scopes") {
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).map(str::to_string).collect()
        }
        other => {
            let why = if other.is_some() { "must be an array of strings" } else { "is required" };
            f.fail("scopes", why);
            Vec::new()
        }
    };
    let expires_at = f.date("expiresAt");
    f.finish()?;
    Ok(NewToken { name, scopes, expires_at })
}

#[derive(Serialize)]
struct TokenList {
    tokens: Vec<TokenView>,
}

/// A token as the API shows it: never its digest, its secret only in the
/// answer that created it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenView {
    token_id: String,
    name: String,
    scopes: Vec<Scope>,
    created_at: DateTime<Utc>,
    created_by: String,
    expires_at: NaiveDate,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    revoked_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl TokenView {
    fn of(t: &Token, secret: Option<String>) -> Self {
        Self {
            token_id: t.token_id.clone(),
            name: t.name.clone(),
            scopes: t.scopes.clone(),
            created_at: t.created_at,
            created_by: t.created_by.clone(),
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
            revoked_by: t.revoked_by.clone(),
            token: secret,
        }
    }
}
