//! The `change` function: `PATCH /licenses/{id}/assignments/{email}`.

use lambda_http::{Body, Request, Response, http::StatusCode};
use serde_json::{Map, Value};

use super::views;
use crate::App;
use crate::error::{Error, Result};
use crate::http::decode::{Fields, json_object};
use crate::http::request::Route;
use crate::http::serve;
use crate::usecase::AssignmentRef;
use crate::usecase::change::{ChangeInput, change};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, &req, |route, caller, req| async move {
        let Route::Change(id, email) = route else {
            return Err(Error::RouteNotFound);
        };
        let admin = caller.admin()?;
        let input = parse(json_object(req, false)?)?;
        let changed = change(app, AssignmentRef::new(&admin, &id, &email), input).await?;
        Ok(views::assignment(StatusCode::OK, &changed, app.today()))
    })
    .await
}

pub fn parse(body: Map<String, Value>) -> Result<ChangeInput> {
    let mut f = Fields::new(body, &["validFrom", "validUntil"]);
    let input = ChangeInput { valid_from: f.date("validFrom"), valid_until: f.date("validUntil") };
    if f.errors.is_empty() && input.valid_from.is_none() && input.valid_until.is_none() {
        f.fail("body", "set validFrom, validUntil or both");
    }
    f.finish()?;
    Ok(input)
}
