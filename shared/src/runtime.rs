//! What a function's `main` does: set up logging, build the [`App`] once,
//! and hand each event to its handler — an HTTP request ([`run_http`]) or
//! any other event ([`run_event`]).

use lambda_http::lambda_runtime::{self, Diagnostic, LambdaEvent};
use lambda_http::{Body, Request, Response, service_fn};
use serde_json::Value;

use crate::App;
use crate::error::EventError;

/// The whole `main` of an HTTP function.
pub async fn run_http<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    run_http_with(App::from_env(), handler).await
}

/// [`run_http`] with an app built by the function (one that needs more
/// than the table, such as webhooks' queue and key).
pub async fn run_http_with<F, Fut>(app: App, handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    crate::logging::init();
    // Lives as long as the process, like the runtime that uses it.
    let app: &'static App = Box::leak(Box::new(app));
    lambda_http::run(service_fn(move |req: Request| {
        let response = handler(app, req);
        async move { Ok::<_, lambda_http::Error>(response.await) }
    }))
    .await
}

/// The whole `main` of an event-driven function: the handler decodes the
/// event (`crate::events`), runs its use case and renders the answer; a
/// failure fails the invocation with its kind as `errorType`.
pub async fn run_event<F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(&'static App, Value) -> Fut,
    Fut: Future<Output = Result<Value, EventError>> + Send,
{
    crate::logging::init();
    let app: &'static App = Box::leak(Box::new(App::from_env()));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let answer = handler(app, event.payload);
        async move {
            answer.await.map_err(|e| {
                tracing::error!(kind = e.kind(), error = %e, "event failed");
                Diagnostic::from(e)
            })
        }
    }))
    .await
}

impl From<EventError> for Diagnostic {
    fn from(e: EventError) -> Self {
        Diagnostic { error_type: e.kind().to_string(), error_message: e.to_string() }
    }
}
