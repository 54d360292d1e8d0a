//! The `revoke` function: `DELETE /licenses/{id}/assignments/{email}`.

use lambda_http::{http::StatusCode, Body, Request, Response};

use super::{
    backoff, check_license_id, commit_result, load_assignment, path_email, serve, Commit,
    MAX_ATTEMPTS,
};
use crate::error::{Error, Result};
use crate::http::identity::Admin;
use crate::http::json;
use crate::http::request::Route;
use crate::model::{Invitation, InvitationError, InvitationStatus};
use crate::store::Write;
use crate::App;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, req, |route, caller| async move {
        match route {
            Route::Revoke(id, email) => revoke(app, &caller.admin()?, &id, &email).await,
            _ => Err(Error::RouteNotFound),
        }
    })
    .await
}

async fn revoke(
    app: &App,
    admin: &Admin,
    license_id: &str,
    raw_email: &str,
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
        let today = app.today();
        if a.is_revoked() {
            return Ok(json(StatusCode::OK, &a.view(today)));
        }
        let now = app.now();
        let mut after = license.clone();
        // The seat is free from today on; the days before stay used.
        after.seats.remove(a.period(), 1);
        if let Some(used) = a.used_before(today) {
            after.seats.add(used, 1);
        }
        after.version += 1;
        let writes = [
            Write::License {
                license: after,
                expected_version: Some(license.version),
            },
            Write::Revoke {
                customer_id: license.customer_id.clone(),
                license_id: license.license_id.clone(),
                email: a.email.clone(),
                at: now,
                by: admin.name.clone(),
                invitation: a.invitation.status,
            },
        ];
        if let Commit::Done(()) = commit_result(app.store.transact(&writes).await)? {
            a.revoked_at = Some(now);
            a.revoked_by = Some(admin.name.clone());
            if a.invitation.status == InvitationStatus::Pending {
                a.invitation = Invitation::failed(InvitationError::NotSent);
            }
            return Ok(json(StatusCode::OK, &a.view(today)));
        }
        backoff(attempt).await;
    }
    Err(Error::Unavailable(
        "revoke kept conflicting with concurrent requests".into(),
    ))
}
