//! Routing: a request's method and path as the operation it names.

use lambda_http::{Request, RequestExt, http::Method};
use percent_encoding::percent_decode_str;

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    ListLicenses,
    GetLicense(String),
    ListAssignments(String),
    History(String),
    Usage(String),
    MyLicenses,
    /// `GET /me/entitlements/{productId}` (v3).
    MyEntitlement(String),
    /// `PUT /licenses/{id}/reclaim` (v3).
    SetReclaim(String),
    /// `GET /licenses/{id}/reclaim/preview` (v3).
    ReclaimPreview(String),
    /// `GET /groups` (v3): the directory's groups.
    ListGroups,
    /// `GET /licenses/{id}/groups` (v3).
    LicenseGroups(String),
    /// `GET /licenses/{id}/waiting` (v3): who waits for a seat, in order.
    Waiting(String),
    /// `PUT` and `DELETE /licenses/{id}/groups/{groupId}` (v3).
    LinkGroup(String, String),
    UnlinkGroup(String, String),
    Assign(String),
    Change(String, String),
    Revoke(String, String),
    ResendInvitation(String, String),
    ListTokens,
    CreateToken,
    RevokeToken(String),
    /// Webhooks (v3), by webhook id (and delivery id).
    ListWebhooks,
    CreateWebhook,
    GetWebhook(String),
    ChangeWebhook(String),
    DeleteWebhook(String),
    RotateWebhookSecret(String),
    TestWebhook(String),
    ListDeliveries(String),
    RetryDelivery(String, String),
    /// `OPTIONS` on a known path: 204 with `Allow`, no identity needed.
    Preflight(&'static [&'static str]),
}

impl Route {
    /// The operation's name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Route::ListLicenses => "list-licenses",
            Route::GetLicense(_) => "get-license",
            Route::ListAssignments(_) => "list-assignments",
            Route::History(_) => "history",
            Route::Usage(_) => "usage",
            Route::MyLicenses => "my-licenses",
            Route::MyEntitlement(_) => "my-entitlement",
            Route::SetReclaim(_) => "set-reclaim",
            Route::ReclaimPreview(_) => "reclaim-preview",
            Route::ListGroups => "list-groups",
            Route::LicenseGroups(_) => "license-groups",
            Route::Waiting(_) => "waiting",
            Route::LinkGroup(..) => "link-group",
            Route::UnlinkGroup(..) => "unlink-group",
            Route::Assign(_) => "assign",
            Route::Change(..) => "change",
            Route::Revoke(..) => "revoke",
            Route::ResendInvitation(..) => "resend-invitation",
            Route::ListTokens => "list-tokens",
            Route::CreateToken => "create-token",
            Route::RevokeToken(_) => "revoke-token",
            Route::ListWebhooks => "list-webhooks",
            Route::CreateWebhook => "create-webhook",
            Route::GetWebhook(_) => "get-webhook",
            Route::ChangeWebhook(_) => "change-webhook",
            Route::DeleteWebhook(_) => "delete-webhook",
            Route::RotateWebhookSecret(_) => "rotate-webhook-secret",
            Route::TestWebhook(_) => "test-webhook",
            Route::ListDeliveries(_) => "list-deliveries",
            Route::RetryDelivery(..) => "retry-delivery",
            Route::Preflight(_) => "preflight",
        }
    }

    pub fn license_id(&self) -> Option<&str> {
        match self {
            Route::ListLicenses
            | Route::MyLicenses
            | Route::MyEntitlement(_)
            | Route::Preflight(_)
            | Route::ListGroups
            | Route::ListTokens
            | Route::CreateToken
            | Route::RevokeToken(_)
            | Route::ListWebhooks
            | Route::CreateWebhook
            | Route::GetWebhook(_)
            | Route::ChangeWebhook(_)
            | Route::DeleteWebhook(_)
            | Route::RotateWebhookSecret(_)
            | Route::TestWebhook(_)
            | Route::ListDeliveries(_)
            | Route::RetryDelivery(..) => None,
            Route::GetLicense(id)
            | Route::ListAssignments(id)
            | Route::History(id)
            | Route::Usage(id)
            | Route::SetReclaim(id)
            | Route::ReclaimPreview(id)
            | Route::LicenseGroups(id)
            | Route::Waiting(id)
            | Route::LinkGroup(id, _)
            | Route::UnlinkGroup(id, _)
            | Route::Assign(id)
            | Route::Change(id, _)
            | Route::Revoke(id, _)
            | Route::ResendInvitation(id, _) => Some(id),
        }
    }
}

/// The request path as the client sent it (without an API Gateway stage).
fn path(req: &Request) -> String {
    let raw = req.raw_http_path();
    if raw.is_empty() { req.uri().path().to_string() } else { raw.to_string() }
}

fn decode_segment(segment: &str) -> Result<String> {
    percent_decode_str(segment)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Error::RouteNotFound)
}

pub fn route(req: &Request) -> Result<Route> {
    route_of(req.method(), &path(req))
}

pub fn route_of(method: &Method, path: &str) -> Result<Route> {
    let trimmed = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
    let m = method.clone();
    let (allowed, route) = match segments.as_slice() {
        ["tokens", rest @ ..] => token_route(rest, &m)?,
        ["webhooks", rest @ ..] => webhook_route(rest, &m)?,
        path => licence_route(path, &m)?,
    };
    match route {
        Some(route) => Ok(route),
        // A browser's CORS preflight (or any OPTIONS): answered without a
        // token; API Gateway adds the CORS headers for the portal's origins.
        None if m == Method::OPTIONS => Ok(Route::Preflight(allowed)),
        None => Err(Error::MethodNotAllowed(allowed)),
    }
}

/// Each path: the methods it has, and the route for this request's method.
type Routed = (&'static [&'static str], Option<Route>);

/// The licences' paths and the caller's own seats.
fn licence_route(segments: &[&str], method: &Method) -> Result<Routed> {
    let m = method.clone();
    Ok(match segments {
        ["licenses"] => (&["GET", "OPTIONS"], (m == Method::GET).then_some(Route::ListLicenses)),
        ["groups"] => (&["GET", "OPTIONS"], (m == Method::GET).then_some(Route::ListGroups)),
        ["me", "licenses"] => {
            (&["GET", "OPTIONS"], (m == Method::GET).then_some(Route::MyLicenses))
        }
        ["me", "entitlements", product] if !product.is_empty() => {
            let product = decode_segment(product)?;
            (&["GET", "OPTIONS"], (m == Method::GET).then_some(Route::MyEntitlement(product)))
        }
        ["licenses", id] if !id.is_empty() => {
            let id = decode_segment(id)?;
            (&["GET", "OPTIONS"], (m == Method::GET).then_some(Route::GetLicense(id)))
        }
        ["licenses", id, "assignments"] if !id.is_empty() => {
            let id = decode_segment(id)?;
            let route = match m {
                Method::GET => Some(Route::ListAssignments(id)),
                Method::POST => Some(Route::Assign(id)),
                _ => None,
            };
            (&["GET", "POST", "OPTIONS"], route)
        }
        ["licenses", id, "history"] if !id.is_empty() => {
            let id = decode_segment(id)?;
            (&["GET", "OPTIONS"], (m == Method::GET).then_some(Route::History(id)))
        }
        ["licenses", id, "usage"] if !id.is_empty() => {
            let id = decode_segment(id)?;
            (&["GET", "OPTIONS"], (m == Method::GET).then_some(Route::Usage(id)))
        }
        ["licenses", id, "reclaim"] if !id.is_empty() => {
            let id = decode_segment(id)?;
            (&["PUT", "OPTIONS"], (m == Method::PUT).then_some(Route::SetReclaim(id)))
        }
        ["licenses", id, "groups"] if !id.is_empty() => {
            let id = decode_segment(id)?;
            (&["GET", "OPTIONS"], (m == Method::GET).then_some(Route::LicenseGroups(id)))
        }
        ["licenses", id, "waiting"] if !id.is_empty() => {
            let id = decode_segment(id)?;
            (&["GET", "OPTIONS"], (m == Method::GET).then_some(Route::Waiting(id)))
        }
        ["licenses", id, "groups", group] if !id.is_empty() && !group.is_empty() => {
            let (id, group) = (decode_segment(id)?, decode_segment(group)?);
            let route = match m {
                Method::PUT => Some(Route::LinkGroup(id, group)),
                Method::DELETE => Some(Route::UnlinkGroup(id, group)),
                _ => None,
            };
            (&["PUT", "DELETE", "OPTIONS"], route)
        }
        ["licenses", id, "reclaim", "preview"] if !id.is_empty() => {
            let id = decode_segment(id)?;
            (&["GET", "OPTIONS"], (m == Method::GET).then_some(Route::ReclaimPreview(id)))
        }
        ["licenses", id, "assignments", email] if !id.is_empty() && !email.is_empty() => {
            let (id, email) = (decode_segment(id)?, decode_segment(email)?);
            let route = match m {
                Method::PATCH => Some(Route::Change(id, email)),
                Method::DELETE => Some(Route::Revoke(id, email)),
                _ => None,
            };
            (&["PATCH", "DELETE", "OPTIONS"], route)
        }
        ["licenses", id, "assignments", email, "invitation"]
            if !id.is_empty() && !email.is_empty() =>
        {
            let (id, email) = (decode_segment(id)?, decode_segment(email)?);
            let route = (m == Method::POST).then_some(Route::ResendInvitation(id, email));
            (&["POST", "OPTIONS"], route)
        }
        _ => return Err(Error::RouteNotFound),
    })
}

/// `/tokens` and `/tokens/{tokenId}`, by what follows `tokens`.
fn token_route(rest: &[&str], method: &Method) -> Result<Routed> {
    let m = method.clone();
    Ok(match rest {
        [] => {
            let route = match m {
                Method::GET => Some(Route::ListTokens),
                Method::POST => Some(Route::CreateToken),
                _ => None,
            };
            (&["GET", "POST", "OPTIONS"], route)
        }
        [id] if !id.is_empty() => {
            let id = decode_segment(id)?;
            (&["DELETE", "OPTIONS"], (m == Method::DELETE).then_some(Route::RevokeToken(id)))
        }
        _ => return Err(Error::RouteNotFound),
    })
}

/// `/webhooks` and what lies under it, by what follows `webhooks`.
fn webhook_route(rest: &[&str], method: &Method) -> Result<Routed> {
    let m = method.clone();
    let post = |route: Route| (&["POST", "OPTIONS"][..], (m == Method::POST).then_some(route));
    Ok(match rest {
        [] => {
            let route = match m {
                Method::GET => Some(Route::ListWebhooks),
                Method::POST => Some(Route::CreateWebhook),
                _ => None,
            };
            (&["GET", "POST", "OPTIONS"], route)
        }
        [id] if !id.is_empty() => {
            let id = decode_segment(id)?;
            let route = match m {
                Method::GET => Some(Route::GetWebhook(id)),
                Method::PATCH => Some(Route::ChangeWebhook(id)),
                Method::DELETE => Some(Route::DeleteWebhook(id)),
                _ => None,
            };
            (&["GET", "PATCH", "DELETE", "OPTIONS"], route)
        }
        [id, "secret"] if !id.is_empty() => post(Route::RotateWebhookSecret(decode_segment(id)?)),
        [id, "test"] if !id.is_empty() => post(Route::TestWebhook(decode_segment(id)?)),
        [id, "deliveries"] if !id.is_empty() => {
            let id = decode_segment(id)?;
            (&["GET", "OPTIONS"], (m == Method::GET).then_some(Route::ListDeliveries(id)))
        }
        [id, "deliveries", delivery, "retry"] if !id.is_empty() && !delivery.is_empty() => {
            post(Route::RetryDelivery(decode_segment(id)?, decode_segment(delivery)?))
        }
        _ => return Err(Error::RouteNotFound),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_routes() {
        assert_eq!(route_of(&Method::POST, "/webhooks"), Ok(Route::CreateWebhook));
        assert_eq!(
            route_of(&Method::PATCH, "/webhooks/wh_1"),
            Ok(Route::ChangeWebhook("wh_1".into()))
        );
        assert_eq!(
            route_of(&Method::POST, "/webhooks/wh_1/deliveries/dlv_2/retry"),
            Ok(Route::RetryDelivery("wh_1".into(), "dlv_2".into()))
        );
        assert!(matches!(
            route_of(&Method::GET, "/webhooks/wh_1/test"),
            Err(Error::MethodNotAllowed(_))
        ));
        assert_eq!(route_of(&Method::GET, "/webhooks/wh_1/other"), Err(Error::RouteNotFound));
    }

    #[test]
    fn group_link_routes() {
        assert_eq!(route_of(&Method::GET, "/groups"), Ok(Route::ListGroups));
        assert_eq!(
            route_of(&Method::GET, "/licenses/lic_1/groups"),
            Ok(Route::LicenseGroups("lic_1".into()))
        );
        assert_eq!(
            route_of(&Method::GET, "/licenses/lic_1/waiting"),
            Ok(Route::Waiting("lic_1".into()))
        );
        assert_eq!(
            route_of(&Method::PUT, "/licenses/lic_1/groups/grp_2"),
            Ok(Route::LinkGroup("lic_1".into(), "grp_2".into()))
        );
        assert_eq!(
            route_of(&Method::DELETE, "/licenses/lic_1/groups/grp_2"),
            Ok(Route::UnlinkGroup("lic_1".into(), "grp_2".into()))
        );
        assert!(matches!(
            route_of(&Method::GET, "/licenses/lic_1/groups/grp_2"),
            Err(Error::MethodNotAllowed(&["PUT", "DELETE", "OPTIONS"]))
        ));
        assert!(matches!(route_of(&Method::POST, "/groups"), Err(Error::MethodNotAllowed(_))));
    }

    #[test]
    fn routes_and_methods() {
        assert_eq!(route_of(&Method::GET, "/licenses"), Ok(Route::ListLicenses));
        assert_eq!(route_of(&Method::GET, "/licenses/"), Ok(Route::ListLicenses));
        assert_eq!(
            route_of(&Method::PATCH, "/licenses/lic_1/assignments/anna%40example.com"),
            Ok(Route::Change("lic_1".into(), "anna@example.com".into()))
        );
        assert!(matches!(route_of(&Method::PUT, "/licenses"), Err(Error::MethodNotAllowed(_))));
        assert_eq!(
            route_of(&Method::GET, "/licenses/lic_1/history"),
            Ok(Route::History("lic_1".into()))
        );
        assert!(matches!(
            route_of(&Method::POST, "/licenses/lic_1/history"),
            Err(Error::MethodNotAllowed(&["GET", "OPTIONS"]))
        ));
        assert!(matches!(route_of(&Method::GET, "/nope"), Err(Error::RouteNotFound)));
        assert_eq!(route_of(&Method::POST, "/tokens"), Ok(Route::CreateToken));
        assert_eq!(
            route_of(&Method::DELETE, "/tokens/tok_1"),
            Ok(Route::RevokeToken("tok_1".into()))
        );
        assert!(matches!(route_of(&Method::GET, "/tokens/tok_1"), Err(Error::MethodNotAllowed(_))));
        assert_eq!(
            route_of(&Method::OPTIONS, "/licenses/lic_1/assignments"),
            Ok(Route::Preflight(&["GET", "POST", "OPTIONS"]))
        );
        assert!(matches!(route_of(&Method::OPTIONS, "/nope"), Err(Error::RouteNotFound)));
        assert!(matches!(
            route_of(&Method::GET, "/licenses//assignments"),
            Err(Error::RouteNotFound)
        ));
    }
}
