//! `assign` Lambda function: see `licensing::api::assign`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    licensing::runtime::run_http(licensing::api::assign::handle).await
}
