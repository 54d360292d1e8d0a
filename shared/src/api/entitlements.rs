//! The `entitlements` function: `GET /me/entitlements/{productId}` (v3), the
//! call a product makes when a person signs in. The hottest path of the
//! API: a function of its own, one Query (and a licence read only for a
//! seat a pending operation wrote), and a write at most once a day.

use lambda_http::{Body, Request, Response, http::StatusCode};

use crate::App;
use crate::error::Error;
use crate::http::request::Route;
use crate::http::{json, serve};
use crate::usecase::activity::{self, Person};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, &req, |route, caller, _req| async move {
        match route {
            Route::MyEntitlement(product) => {
                let person = Person {
                    email: caller.verified_email()?,
                    customer_id: caller.customer_id.as_deref(),
                };
                let answer = activity::check(app, person, &product).await?;
                Ok(json(StatusCode::OK, &answer))
            }
            _ => Err(Error::RouteNotFound),
        }
    })
    .await
}
