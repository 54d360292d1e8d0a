//! Creates the licence table on DynamoDB Local (or wherever
//! `AWS_ENDPOINT_URL_DYNAMODB` points): `create-table [name]`, default
//! `$TABLE_NAME` or `licensing`. Succeeds if the table already exists.

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let table = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("TABLE_NAME").ok())
        .unwrap_or_else(|| "licensing".into());
    let client = licensing::app::dynamodb_client();
    match licensing::store::create_table(&client, &table).await {
        Ok(()) => println!("table {table} is ready"),
        Err(e) => {
            eprintln!("could not create table {table}: {e:?}");
            std::process::exit(1);
        }
    }
}
