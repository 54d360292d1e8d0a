//! `revoke` Lambda function: see `licensing::api::revoke`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    licensing::runtime::run_http(licensing::api::revoke::handle).await
}
