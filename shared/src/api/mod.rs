//! One HTTP handler per Lambda function: decode the request, call a use
//! case, render its outcome. None holds a rule, formats a key or picks a
//! status code for an error.

pub mod assign;
pub mod change;
pub mod csv;
pub mod entitlements;
pub mod list;
pub mod revoke;
pub mod scim;
pub mod tokens;
mod views;
pub mod webhooks;
