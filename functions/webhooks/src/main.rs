//! `webhooks` Lambda function: see `licensing::api::webhooks`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let app = licensing::App::from_env().with_outbound(licensing::outbound::Outbound::from_env());
    licensing::runtime::run_http_with(app, licensing::api::webhooks::handle).await
}
