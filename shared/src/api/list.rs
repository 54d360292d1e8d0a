//! The `list` function: `GET /licenses`, `GET /licenses/{id}`,
//! `GET /licenses/{id}/assignments`, `GET /licenses/{id}/history`,
//! `GET /licenses/{id}/usage`, `GET /me/licenses`, and (v3) `GET /groups`,
//! `GET /licenses/{id}/groups`, `GET /licenses/{id}/waiting`,
//! `GET /licenses/{id}/reclaim/preview`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::{Body, Request, Response, http::StatusCode};

use super::csv;
use super::views::{
    AssignmentPage, AssignmentView, EntryView, GroupsView, HistoryView, LicenseView, Licenses,
    LinksView, MyLicenseView, ReclaimPreviewView, UsageView, WaitingView,
};
use crate::App;
use crate::emails;
use crate::error::{Error, FieldError, Result};
use crate::http::decode::{accepts_gzip, names_media_type, param, query};
use crate::http::request::Route;
use crate::http::{json, serve};
use crate::model::{Assignment, AssignmentStatus, License, LicenseStatus};
use crate::usecase::history::{self, HistoryRequest};
use crate::usecase::query::{self, MAX_PAGE, PageRequest};
use crate::usecase::{links, reclaim};
use chrono::NaiveDate;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = MAX_PAGE;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, &req, |route, caller, req| async move {
        let today = app.today();
        // `serve` refused a repeated or malformed parameter already.
        let params = query(req).unwrap_or_default();
        match route {
            Route::ListLicenses => {
                let admin = caller.admin()?;
                let wanted = license_statuses(param(&params, "status"))?;
                let found = query::licenses(app, &admin, wanted).await?;
                let licenses = found.iter().map(|l| LicenseView::of(l, today)).collect();
                Ok(json(StatusCode::OK, &Licenses { licenses }))
            }
            Route::GetLicense(id) => {
                let license = query::license(app, &caller.admin()?, &id).await?;
                Ok(json(StatusCode::OK, &LicenseView::of(&license, today)))
            }
            Route::ListAssignments(id) if names_media_type(req, "accept", csv::MEDIA_TYPE) => {
                let mut file = csv::Export::new(today);
                query::each_assignment(app, &caller.admin()?, &id, |a| file.push(&a)).await?;
                file.response(accepts_gzip(req))
            }
            Route::ListAssignments(id) => {
                let admin = caller.admin()?;
                let page = query::assignments(app, &admin, &id, page_request(&params)?).await?;
                Ok(assignment_page(&page, today))
            }
            Route::History(id) => {
                let admin = caller.admin()?;
                let request = history_request(&params)?;
                let page = history::history(app, &admin, &id, request).await?;
                let next_cursor =
                    page.more.then(|| page.entries.last().map(|e| encode_cursor(&e.id))).flatten();
                let entries = page.entries.iter().map(EntryView::of).collect();
                Ok(json(StatusCode::OK, &HistoryView { entries, next_cursor }))
            }
            Route::Usage(id) => {
                let license = query::license(app, &caller.admin()?, &id).await?;
                Ok(json(StatusCode::OK, &UsageView::of(&license)))
            }
            Route::ReclaimPreview(id) => {
                let preview = reclaim::preview(app, &caller.admin()?, &id).await?;
                Ok(json(StatusCode::OK, &ReclaimPreviewView::of(preview)))
            }
            Route::ListGroups => {
                let groups = links::groups(app, &caller.admin()?).await?;
                Ok(json(StatusCode::OK, &GroupsView::of(&groups)))
            }
            Route::LicenseGroups(id) => {
                let linked = links::links(app, &caller.admin()?, &id).await?;
                Ok(json(StatusCode::OK, &LinksView::of(&linked)))
            }
            Route::Waiting(id) => {
                let waiting = links::waiting(app, &caller.admin()?, &id).await?;
                Ok(json(StatusCode::OK, &WaitingView::of(&waiting)))
            }
            Route::MyLicenses => {
                let seats = query::my_seats(app, caller.verified_email()?).await?;
                Ok(my_licenses(&seats, today))
            }
            _ => Err(Error::RouteNotFound),
        }
    })
    .await
}

/// A page of assignments, with the cursor of the next one.
fn assignment_page(page: &query::Page, today: NaiveDate) -> Response<Body> {
    let next_cursor =
        page.more.then(|| page.assignments.last().map(|a| encode_cursor(&a.email))).flatten();
    let assignments = page.assignments.iter().map(|a| AssignmentView::of(a, today)).collect();
    json(StatusCode::OK, &AssignmentPage { assignments, next_cursor })
}

/// The caller's own seats, each with its product and term.
fn my_licenses(seats: &[(Assignment, License)], today: NaiveDate) -> Response<Body> {
    let licenses = seats
        .iter()
        .map(|(a, l)| MyLicenseView {
            assignment: AssignmentView::of(a, today),
            product_id: l.product_id.clone(),
            product_name: l.product_name.clone(),
            term: l.term,
        })
        .collect();
    json(StatusCode::OK, &Licenses::<MyLicenseView> { licenses })
}

fn license_statuses(status: Option<&str>) -> Result<&'static [LicenseStatus]> {
    use LicenseStatus::*;
    Ok(match status {
        None | Some("") => &[Active, Upcoming],
        Some("active") => &[Active],
        Some("upcoming") => &[Upcoming],
        Some("expired") => &[Expired],
        Some("all") => &[Active, Upcoming, Expired],
        Some(_) => {
            return Err(Error::field("status", "must be one of active, upcoming, expired, all"));
        }
    })
}

/// `limit`: 1 to 100, 50 when not given.
fn limit(params: &[(String, String)], errors: &mut Vec<FieldError>) -> usize {
    match param(params, "limit") {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                errors.push(FieldError::new("limit", "must be an integer from 1 to 100"));
                DEFAULT_LIMIT
            }
        },
    }
}

/// `cursor`, as `decode` reads it back.
fn cursor(
    params: &[(String, String)],
    decode: fn(&str) -> Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match param(params, "cursor") {
        None | Some("") => None,
        Some(c) => decode(c).or_else(|| {
            errors.push(FieldError::new("cursor", "is not a cursor this API issued"));
            None
        }),
    }
}

/// `email`, `limit` and `cursor` of a history request, every bad one named.
fn history_request(params: &[(String, String)]) -> Result<HistoryRequest> {
    let mut errors = Vec::new();
    let email = match param(params, "email") {
        None | Some("") => None,
        Some(e) => emails::normalize(e).or_else(|| {
            errors.push(FieldError::new("email", "is not a valid e-mail address"));
            None
        }),
    };
    let limit = limit(params, &mut errors);
    let before = cursor(params, decode_entry_cursor, &mut errors);
    if errors.is_empty() {
        Ok(HistoryRequest { email, limit, before })
    } else {
        Err(Error::Validation(errors))
    }
}

/// `status`, `limit` and `cursor`, every bad one named.
fn page_request(params: &[(String, String)]) -> Result<PageRequest> {
    let mut errors = Vec::new();
    let status = match param(params, "status") {
        None | Some("") | Some("all") => None,
        Some(s) => AssignmentStatus::parse(s).or_else(|| {
            errors.push(FieldError::new(
                "status",
                "must be one of active, scheduled, expired, revoked, all",
            ));
            None
        }),
    };
    let limit = limit(params, &mut errors);
    let after = cursor(params, decode_cursor, &mut errors);
    if errors.is_empty() {
        Ok(PageRequest { status, limit, after })
    } else {
        Err(Error::Validation(errors))
    }
}

/// An opaque cursor: the e-mail of the last assignment, or the id of the
/// last entry, of a page.
pub fn encode_cursor(last: &str) -> String {
    URL_SAFE_NO_PAD.encode(last)
}

/// The entry id a history cursor names.
pub fn decode_entry_cursor(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let id = String::from_utf8(bytes).ok()?;
    id.parse::<ulid::Ulid>().ok().filter(|u| u.to_string() == id).map(|_| id)
}

pub fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let email = String::from_utf8(bytes).ok()?;
    (emails::normalize(&email).as_deref() == Some(email.as_str())).then_some(email)
}
