//! The `list` function: `GET /licenses`, `GET /licenses/{id}`,
//! `GET /licenses/{id}/assignments`, `GET /me/licenses`.

use std::collections::{BTreeSet, HashMap};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde::Serialize;

use super::{check_license_id, serve};
use crate::emails;
use crate::error::{Error, Result};
use crate::http::identity::{Admin, Caller};
use crate::http::json;
use crate::http::request::{query, Route};
use crate::model::{AssignmentStatus, LicenseStatus, MyLicenseView};
use crate::App;

pub const DEFAULT_LIMIT: usize = 50;

#[derive(Serialize)]
struct Licenses<T> {
    licenses: Vec<T>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Assignments {
    assignments: Vec<crate::model::AssignmentView>,
    next_cursor: Option<String>,
}
pub const MAX_LIMIT: usize = 100;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let params = query(&req);
    serve(app, req, |route, caller| async move {
        match route {
            Route::ListLicenses => list_licenses(app, &caller.admin()?, &params).await,
            Route::GetLicense(id) => get_license(app, &caller.admin()?, &id).await,
            Route::ListAssignments(id) => {
                list_assignments(app, &caller.admin()?, &id, &params).await
            }
            Route::MyLicenses => my_licenses(app, &caller).await,
            _ => Err(Error::RouteNotFound),
        }
    })
    .await
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn list_licenses(
    app: &App,
    admin: &Admin,
    params: &[(String, String)],
) -> Result<Response<Body>> {
    let wanted: &[LicenseStatus] = match param(params, "status") {
        None | Some("") => &[LicenseStatus::Active, LicenseStatus::Upcoming],
        Some("active") => &[LicenseStatus::Active],
        Some("upcoming") => &[LicenseStatus::Upcoming],
        Some("expired") => &[LicenseStatus::Expired],
        Some("all") => &[
            LicenseStatus::Active,
            LicenseStatus::Upcoming,
            LicenseStatus::Expired,
        ],
        Some(_) => {
            return Err(Error::field(
                "status",
                "must be one of active, upcoming, expired, all",
            ))
        }
    };
    let today = app.today();
    let mut licenses: Vec<_> = app
        .store
        .licenses(&admin.customer_id)
        .await?
        .iter()
        .map(|l| l.view(today))
        .filter(|v| wanted.contains(&v.status))
        .collect();
    licenses.sort_by(|a, b| {
        (&a.product_name, &a.term.start, &a.license_id).cmp(&(
            &b.product_name,
            &b.term.start,
            &b.license_id,
        ))
    });
    Ok(json(StatusCode::OK, &Licenses { licenses }))
}

async fn get_license(app: &App, admin: &Admin, id: &str) -> Result<Response<Body>> {
    check_license_id(id)?;
    let license = app
        .store
        .license(&admin.customer_id, id)
        .await?
        .ok_or(Error::LicenseNotFound)?;
    Ok(json(StatusCode::OK, &license.view(app.today())))
}

pub fn encode_cursor(email: &str) -> String {
    URL_SAFE_NO_PAD.encode(email)
}

pub fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let email = String::from_utf8(bytes).ok()?;
    (emails::normalize(&email).as_deref() == Some(email.as_str())).then_some(email)
}

async fn list_assignments(
    app: &App,
    admin: &Admin,
    id: &str,
    params: &[(String, String)],
) -> Result<Response<Body>> {
    let mut errors = Vec::new();
    let status = match param(params, "status") {
        None | Some("") | Some("all") => None,
        Some(s) => match AssignmentStatus::parse(s) {
            Some(s) => Some(s),
            None => {
                errors.push(crate::error::FieldError::new(
                    "status",
                    "must be one of active, scheduled, expired, revoked, all",
                ));
                None
            }
        },
    };
    let limit = match param(params, "limit") {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                errors.push(crate::error::FieldError::new(
                    "limit",
                    "must be an integer from 1 to 100",
                ));
                DEFAULT_LIMIT
            }
        },
    };
    let mut after = match param(params, "cursor") {
        None | Some("") => None,
        Some(c) => match decode_cursor(c) {
            Some(email) => Some(email),
            None => {
                errors.push(crate::error::FieldError::new(
                    "cursor",
                    "is not a cursor this API issued",
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    check_license_id(id)?;
    let today = app.today();
    // Read one more than asked for, to know whether there is a next page.
    let page_size = if status.is_some() {
        MAX_LIMIT + 1
    } else {
        limit + 1
    } as i32;
    let (license, first_page) = tokio::join!(
        app.store.license(&admin.customer_id, id),
        app.store
            .assignments_page(&admin.customer_id, id, after.as_deref(), page_size),
    );
    let license = license?.ok_or(Error::LicenseNotFound)?;
    let hidden = license.pending.as_ref().map(|b| b.id.as_str());
    let mut page = first_page?;
    let mut found = Vec::with_capacity(limit + 1);
    loop {
        let (items, more) = page;
        let last = items.last().map(|a| a.email.clone());
        for item in items {
            let Some(a) = item.into_visible(hidden) else {
                continue;
            };
            if status.is_some_and(|s| a.status(today) != s) {
                continue;
            }
            found.push(a);
            if found.len() > limit {
                break;
            }
        }
        if found.len() > limit || !more {
            break;
        }
        after = last;
        page = app
            .store
            .assignments_page(&admin.customer_id, id, after.as_deref(), page_size)
            .await?;
    }
    let next_cursor = if found.len() > limit {
        found.truncate(limit);
        found.last().map(|a| encode_cursor(&a.email))
    } else {
        None
    };
    let assignments: Vec<_> = found.iter().map(|a| a.view(today)).collect();
    Ok(json(
        StatusCode::OK,
        &Assignments {
            assignments,
            next_cursor,
        },
    ))
}

async fn my_licenses(app: &App, caller: &Caller) -> Result<Response<Body>> {
    let email = caller.verified_email()?;
    let today = app.today();
    let mine: Vec<_> = app
        .store
        .assignments_of_user(email)
        .await?
        .into_iter()
        .filter(|a| a.is_current(today))
        .collect();
    let ids: BTreeSet<(String, String)> = mine
        .iter()
        .map(|a| (a.customer_id.clone(), a.license_id.clone()))
        .collect();
    let ids: Vec<_> = ids.into_iter().collect();
    let licenses: HashMap<String, _> = app
        .store
        .licenses_by_id(&ids)
        .await?
        .into_iter()
        .map(|l| (l.license_id.clone(), l))
        .collect();
    let mut views: Vec<MyLicenseView> = mine
        .iter()
        .filter_map(|a| {
            let license = licenses.get(&a.license_id)?;
            let hidden = license.pending.as_ref().map(|b| b.id.as_str());
            let a = a.visible(hidden)?;
            Some(MyLicenseView {
                assignment: a.view(today),
                product_id: license.product_id.clone(),
                product_name: license.product_name.clone(),
                term: license.term,
            })
        })
        .collect();
    views.sort_by(|a, b| {
        (&a.product_name, &a.assignment.license_id)
            .cmp(&(&b.product_name, &b.assignment.license_id))
    });
    Ok(json(StatusCode::OK, &Licenses { licenses: views }))
}
