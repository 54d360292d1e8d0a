//! `change` Lambda function: see `licensing::api::change`.

use lambda_http::{service_fn, Error, Request};
use licensing::App;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    licensing::logging::init();
    let app = App::from_env();
    let app = &app;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Error>(licensing::api::change::handle(app, req).await)
    }))
    .await
}
