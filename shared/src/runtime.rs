//! What a function's `main` does: set up logging, build the [`App`] once,
//! and hand each event to its handler.

use lambda_http::{Body, Request, Response, service_fn};

use crate::App;

/// The whole `main` of an HTTP function.
pub async fn run_http<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    crate::logging::init();
    // Lives as long as the process, like the runtime that uses it.
    let app: &'static App = Box::leak(Box::new(App::from_env()));
    lambda_http::run(service_fn(move |req: Request| {
        let response = handler(app, req);
        async move { Ok::<_, lambda_http::Error>(response.await) }
    }))
    .await
}
