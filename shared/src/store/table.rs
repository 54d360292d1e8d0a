//! The table's definition, for DynamoDB Local and the tests (the deployed
//! table is defined in infra/template.yaml with the same keys).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
};

use super::keys;
use crate::error::{Error, Result};

fn attr(name: &str) -> Result<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(Error::unavailable)
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(Error::unavailable)
}

/// An index on `pk` / `sk` with what it projects.
fn index(name: &str, pk: &str, sk: &str, projection: Projection) -> Result<GlobalSecondaryIndex> {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash)?)
        .key_schema(key(sk, KeyType::Range)?)
        .projection(projection)
        .build()
        .map_err(Error::unavailable)
}

/// Creates the table if it does not exist yet (idempotent).
pub async fn create_table(client: &Client, table: &str) -> Result<()> {
    let all = Projection::builder().projection_type(ProjectionType::All).build();
    let gsi = index(keys::GSI1, keys::GSI1PK, keys::GSI1SK, all)?;
    let some = Projection::builder()
        .projection_type(ProjectionType::Include)
        .set_non_key_attributes(Some(keys::GSI2_ATTRIBUTES.iter().map(|a| a.to_string()).collect()))
        .build();
    let reminders = index(keys::GSI2, keys::GSI2PK, keys::GSI2SK, some)?;
    let names = Projection::builder()
        .projection_type(ProjectionType::Include)
        .set_non_key_attributes(Some(keys::GSI3_ATTRIBUTES.iter().map(|a| a.to_string()).collect()))
        .build();
    let idle = index(keys::GSI3, keys::GSI3PK, keys::GSI3SK, names)?;
    let result = client
        .create_table()
        .table_name(table)
        .attribute_definitions(attr(keys::PK)?)
        .attribute_definitions(attr(keys::SK)?)
        .attribute_definitions(attr(keys::GSI1PK)?)
        .attribute_definitions(attr(keys::GSI1SK)?)
        .attribute_definitions(attr(keys::GSI2PK)?)
        .attribute_definitions(attr(keys::GSI2SK)?)
        .attribute_definitions(attr(keys::GSI3PK)?)
        .attribute_definitions(attr(keys::GSI3SK)?)
        .key_schema(key(keys::PK, KeyType::Hash)?)
        .key_schema(key(keys::SK, KeyType::Range)?)
        .global_secondary_indexes(gsi)
        .global_secondary_indexes(reminders)
        .global_secondary_indexes(idle)
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .map_err(Error::unavailable)?,
        )
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => Ok(()),
        Err(e) => Err(Error::Unavailable(format!("{e:?}"))),
    }
}
