//! `list` Lambda function: see `licensing::api::list`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    licensing::runtime::run_http(licensing::api::list::handle).await
}
