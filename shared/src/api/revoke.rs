//! The `revoke` function: `DELETE /licenses/{id}/assignments/{email}`.

use lambda_http::{Body, Request, Response, http::StatusCode};

use super::views;
use crate::App;
use crate::error::Error;
use crate::http::request::Route;
use crate::http::serve;
use crate::usecase::AssignmentRef;
use crate::usecase::revoke::revoke;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, &req, |route, caller, _| async move {
        let Route::Revoke(id, email) = route else {
            return Err(Error::RouteNotFound);
        };
        let admin = caller.admin()?;
        let revoked = revoke(app, AssignmentRef::new(&admin, &id, &email)).await?;
        Ok(views::assignment(StatusCode::OK, &revoked, app.today()))
    })
    .await
}
