//! Provisioning tokens (API.md v3): a licence admin creates, lists and
//! revokes them; a machine presents one instead of a person's JWT.

use super::retry::{Step, committed, retry_on_conflict};
use crate::App;
use crate::error::{Error, Result};
use crate::model::{self, Admin, MAX_ACTIVE_TOKENS, NewToken, Scope, Token};

/// A token just created: the one time its secret is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub token: Token,
    pub secret: String,
}

/// A machine that presented a usable token with the scope asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    pub customer_id: String,
    pub token_id: String,
}

impl Machine {
    /// How history entries and revocations name it.
    pub fn actor(&self) -> String {
        format!("scim:{}", self.token_id)
    }
}

/// Creates a token for the admin's customer, unless it has
/// [`MAX_ACTIVE_TOKENS`] usable ones (409 `token-limit`).
pub async fn create(app: &App, admin: &Admin, ask: &NewToken) -> Result<Created> {
    let now = app.now();
    let (name, scopes, expires_at) = ask.check(now.date_naive())?;
    let secret = model::new_secret()?;
    let token = Token {
        token_id: format!("tok_{}", ulid::Ulid::new().to_string().to_ascii_lowercase()),
        customer_id: admin.customer_id.clone(),
        name,
        scopes,
        created_at: now,
        created_by: admin.name.clone(),
        expires_at,
        last_used_at: None,
        revoked_at: None,
        revoked_by: None,
        digest: model::digest(&secret),
    };
    retry_on_conflict("create token", || async {
        let set = app.store.tokens(&admin.customer_id).await?;
        let active = set.tokens.iter().filter(|t| t.is_active(now.date_naive())).count();
        if active >= MAX_ACTIVE_TOKENS {
            return Err(Error::TokenLimit { limit: MAX_ACTIVE_TOKENS });
        }
        committed(app.store.create_token(&token, set.version).await)
    })
    .await?;
    Ok(Created { token, secret })
}

/// The admin's customer's tokens, newest first.
pub async fn list(app: &App, admin: &Admin) -> Result<Vec<Token>> {
    let mut tokens = app.store.tokens(&admin.customer_id).await?.tokens;
    tokens.sort_by(|a, b| (b.created_at, &b.token_id).cmp(&(a.created_at, &a.token_id)));
    Ok(tokens)
}

/// Revokes one of the admin's customer's tokens: refused from the next
/// request on. Revoking a revoked token answers it as it is.
pub async fn revoke(app: &App, admin: &Admin, token_id: &str) -> Result<Token> {
    retry_on_conflict("revoke token", || async {
        let token = known_token(app, admin, token_id).await?;
        if token.revoked_at.is_some() {
            return Ok(Step::Done(token));
        }
        let now = app.now();
        if app.store.revoke_token(&token, now, &admin.name).await? {
            Ok(Step::Done(Token {
                revoked_at: Some(now),
                revoked_by: Some(admin.name.clone()),
                ..token
            }))
        } else {
            Ok(Step::Again)
        }
    })
    .await
}

async fn known_token(app: &App, admin: &Admin, token_id: &str) -> Result<Token> {
    if !token_id.starts_with("tok_")
        || token_id.len() > 64
        || !token_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Error::TokenNotFound);
    }
    app.store.token(&admin.customer_id, token_id).await?.ok_or(Error::TokenNotFound)
}

/// The machine behind a presented token, if the token is usable (not
/// revoked, not past its last day) and has `scope`; else 401. One read, and
/// once a minute one more write: its last use, to the minute.
pub async fn authenticate(app: &App, presented: &str, scope: Scope) -> Result<Machine> {
    if !model::looks_like_token(presented) {
        return Err(Error::Unauthorized);
    }
    let now = app.now();
    let digest = model::digest(presented);
    let found = app.store.token_by_digest(&digest).await?;
    let found = found
        .filter(|p| p.last_day >= now.date_naive() && p.scopes.contains(&scope))
        .ok_or(Error::Unauthorized)?;
    if !found.used_in_minute_of(now) {
        app.store.touch_token(&found, &digest, now).await?;
    }
    Ok(Machine { customer_id: found.customer_id, token_id: found.token_id })
}
