//! The `change` function: `PATCH /licenses/{id}/assignments/{email}`.

use lambda_http::{http::StatusCode, Body, Request, Response};

use super::{
    backoff, check_license_id, check_period, commit_result, load_assignment, path_email, serve,
    Commit, MAX_ATTEMPTS,
};
use crate::error::{Error, Result};
use crate::http::identity::Admin;
use crate::http::json;
use crate::http::request::{json_object, Fields, Route};
use crate::model::{LicenseStatus, Period};
use crate::store::Write;
use crate::App;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let body = json_object(&req, false);
    serve(app, req, |route, caller| async move {
        match route {
            Route::Change(id, email) => {
                let admin = caller.admin()?;
                let input = parse(body?)?;
                change(app, &admin, &id, &email, input).await
            }
            _ => Err(Error::RouteNotFound),
        }
    })
    .await
}

/// The requested new bounds; at least one is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeInput {
    pub valid_from: Option<chrono::NaiveDate>,
    pub valid_until: Option<chrono::NaiveDate>,
}

pub fn parse(body: serde_json::Map<String, serde_json::Value>) -> Result<ChangeInput> {
    let mut f = Fields::new(body, &["validFrom", "validUntil"]);
    let input = ChangeInput {
        valid_from: f.date("validFrom"),
        valid_until: f.date("validUntil"),
    };
    if f.errors.is_empty() && input.valid_from.is_none() && input.valid_until.is_none() {
        f.fail("body", "set validFrom, validUntil or both");
    }
    f.finish()?;
    Ok(input)
}

async fn change(
    app: &App,
    admin: &Admin,
    license_id: &str,
    raw_email: &str,
    input: ChangeInput,
) -> Result<Response<Body>> {
    check_license_id(license_id)?;
    let email = path_email(raw_email);
    for attempt in 0..MAX_ATTEMPTS {
        let lookup = email.as_deref().unwrap_or("-");
        let Some((license, assignment)) = load_assignment(app, admin, license_id, lookup).await?
        else {
            continue;
        };
        let mut a = assignment
            .filter(|_| email.is_some())
            .ok_or(Error::AssignmentNotFound)?;
        if a.is_revoked() {
            return Err(Error::AssignmentRevoked);
        }
        let today = app.today();
        if license.status(today) == LicenseStatus::Expired {
            return Err(Error::LicenseNotActive);
        }
        let old = a.period();
        let period = Period::new(
            input.valid_from.unwrap_or(old.from),
            input.valid_until.unwrap_or(old.until),
        );
        let period = check_period(&license.term, period, today)?;
        if period == old {
            return Ok(json(StatusCode::OK, &a.view(today)));
        }
        let mut after = license.clone();
        after.seats.remove(old, 1);
        let available = after.seats.available(license.quantity, period);
        if available < 1 {
            return Err(Error::InsufficientSeats {
                requested: 1,
                available,
            });
        }
        after.seats.add(period, 1);
        after.version += 1;
        let writes = [
            Write::License {
                license: after,
                expected_version: Some(license.version),
            },
            Write::Period {
                customer_id: license.customer_id.clone(),
                license_id: license.license_id.clone(),
                email: a.email.clone(),
                period,
            },
        ];
        if let Commit::Done(()) = commit_result(app.store.transact(&writes).await)? {
            a.valid_from = period.from;
            a.valid_until = period.until;
            return Ok(json(StatusCode::OK, &a.view(today)));
        }
        backoff(attempt).await;
    }
    Err(Error::Unavailable(
        "change kept conflicting with concurrent requests".into(),
    ))
}
