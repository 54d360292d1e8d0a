//! The `change` function: `PATCH /licenses/{id}/assignments/{email}`,
//! `PUT /licenses/{id}/reclaim`, and (v3) `PUT` and `DELETE
//! /licenses/{id}/groups/{groupId}`.

use std::ops::RangeInclusive;

use lambda_http::{Body, Request, Response, http::StatusCode};
use serde_json::{Map, Value};

use super::views;
use crate::App;
use crate::error::{Error, Result};
use crate::http::decode::{Fields, json_object};
use crate::http::request::Route;
use crate::http::{json, serve};
use crate::model::{
    DEFAULT_GRACE_DAYS, DEFAULT_INACTIVE_DAYS, GRACE_DAYS, INACTIVE_DAYS, Language, ReclaimAsk,
};
use crate::usecase::AssignmentRef;
use crate::usecase::change::{ChangeInput, change};
use crate::usecase::{links, reclaim};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, &req, |route, caller, req| async move {
        let admin = caller.admin()?;
        match route {
            Route::Change(id, email) => {
                let input = parse(json_object(req, false)?)?;
                let changed = change(app, AssignmentRef::new(&admin, &id, &email), input).await?;
                Ok(views::assignment(StatusCode::OK, &changed, app.today()))
            }
            Route::SetReclaim(id) => {
                let ask = parse_reclaim(json_object(req, false)?)?;
                let license = reclaim::set_policy(app, &admin, &id, ask).await?;
                Ok(json(StatusCode::OK, &views::LicenseView::of(&license.visible(), app.today())))
            }
            Route::LinkGroup(id, group) => {
                let language = parse_link(json_object(req, true)?)?;
                let linked = links::link(app, &admin, &id, &group, language).await?;
                Ok(json(StatusCode::OK, &views::LinksView::of(&linked)))
            }
            Route::UnlinkGroup(id, group) => {
                let linked = links::unlink(app, &admin, &id, &group).await?;
                Ok(json(StatusCode::OK, &views::LinksView::of(&linked)))
            }
            _ => Err(Error::RouteNotFound),
        }
    })
    .await
}

/// `{"language"?: "en" | "de"}` (v3; an empty body links in English).
pub fn parse_link(body: Map<String, Value>) -> Result<Language> {
    let mut f = Fields::new(body, &["language"]);
    let language = super::assign::language_field(&mut f);
    f.finish()?;
    Ok(language)
}

/// `{"enabled": bool, "inactiveDays"?: 14..=365, "graceDays"?: 1..=60}`
/// (v3; the numbers default to 60 and 14).
pub fn parse_reclaim(body: Map<String, Value>) -> Result<ReclaimAsk> {
    let mut f = Fields::new(body, &["enabled", "inactiveDays", "graceDays"]);
    let enabled = f.bool("enabled");
    if enabled.is_none() && !f.errors.iter().any(|e| e.field == "enabled") {
        f.fail("enabled", "is required");
    }
    // A whole number (JSON's 15.0 is one) in the range; `null` counts as absent.
    let days = |f: &mut Fields, name: &str, range: RangeInclusive<u32>, default: u32| {
        let Some(v) = f.take(name) else { return default };
        let whole = v
            .as_u64()
            .or_else(|| v.as_f64().filter(|x| x.fract() == 0.0 && *x >= 0.0).map(|x| x as u64));
        match whole.and_then(|n| u32::try_from(n).ok()).filter(|n| range.contains(n)) {
            Some(n) => n,
            None => {
                let why =
                    format!("must be a whole number from {} to {}", range.start(), range.end());
                f.fail(name, why);
                default
            }
        }
    };
    let inactive_days = days(&mut f, "inactiveDays", INACTIVE_DAYS, DEFAULT_INACTIVE_DAYS);
    let grace_days = days(&mut f, "graceDays", GRACE_DAYS, DEFAULT_GRACE_DAYS);
    f.finish()?;
    Ok(ReclaimAsk { enabled: enabled.unwrap_or(false), inactive_days, grace_days })
}

pub fn parse(body: Map<String, Value>) -> Result<ChangeInput> {
    let mut f = Fields::new(body, &["validFrom", "validUntil", "reclaimExempt"]);
    let reclaim_exempt = f.bool("reclaimExempt");
    let input = ChangeInput {
        valid_from: f.date("validFrom"),
        valid_until: f.date("validUntil"),
        reclaim_exempt,
    };
    let nothing =
        input.valid_from.is_none() && input.valid_until.is_none() && reclaim_exempt.is_none();
    if f.errors.is_empty() && nothing {
        f.fail("body", "set validFrom, validUntil, reclaimExempt or several");
    }
    f.finish()?;
    Ok(input)
}
