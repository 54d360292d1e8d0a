//! `tokens` Lambda function: see `licensing::api::tokens`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    licensing::runtime::run_http(licensing::api::tokens::handle).await
}
