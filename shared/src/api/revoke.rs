//! The `revoke` function: `DELETE /licenses/{id}/assignments/{email}`.

use lambda_http::{Body, Request, Response, http::StatusCode};

use super::views::AssignmentView;
use crate::App;
use crate::error::Error;
use crate::http::request::Route;
use crate::http::{json, serve};
use crate::usecase::revoke::revoke;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, req, |route, caller| async move {
        let Route::Revoke(id, email) = route else {
            return Err(Error::RouteNotFound);
        };
        let revoked = revoke(app, &caller.admin()?, &id, &email).await?;
        Ok(json(
            StatusCode::OK,
            &AssignmentView::of(&revoked, app.today()),
        ))
    })
    .await
}
