//! What a product learns when a person signs in (API.md v3, "Activity"):
//! whether one of their seats of the product is active today, and which.

use chrono::NaiveDate;
use serde::Serialize;

use super::Assignment;

/// The answer of `GET /me/entitlements/{productId}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entitlement {
    pub product_id: String,
    pub entitled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
    /// Not entitled yet: the day the first seat starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_on: Option<NaiveDate>,
}

/// The entitlement `seats` (a person's, as readers may see them) give for
/// `product` on `today`, and the seat it answers with. Only seats of
/// `customer` count when the caller's token names one (no other company can
/// steer the person's session); of the seats active today, the one ending
/// last (then the lowest licence id, so the answer is stable); with none
/// active, the earliest start of one to come.
pub fn entitlement<'a>(
    product: &str,
    customer: Option<&str>,
    seats: &'a [Assignment],
    today: NaiveDate,
) -> (Entitlement, Option<&'a Assignment>) {
    let mine = || {
        seats.iter().filter(move |a| {
            a.product_id == product
                && !a.is_revoked()
                && customer.is_none_or(|c| a.customer_id == c)
                && a.valid_until >= today
        })
    };
    let active = mine()
        .filter(|a| a.valid_from <= today)
        .max_by(|a, b| (a.valid_until, &b.license_id).cmp(&(b.valid_until, &a.license_id)));
    let answer = Entitlement {
        product_id: product.to_string(),
        entitled: active.is_some(),
        license_id: active.map(|a| a.license_id.clone()),
        customer_id: active.map(|a| a.customer_id.clone()),
        valid_until: active.map(|a| a.valid_until),
        starts_on: if active.is_some() { None } else { mine().map(|a| a.valid_from).min() },
    };
    (answer, active)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InvitationStatus, Language, License, Period};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn seat(customer: &str, license: &str, product: &str, from: &str, until: &str) -> Assignment {
        let mut l = License::sample(5);
        (l.customer_id, l.license_id, l.product_id) =
            (customer.into(), license.into(), product.into());
        let at = "2026-06-01T10:00:00Z".parse().unwrap();
        let period = Period::new(d(from), d(until));
        Assignment::new(
            &l,
            "anna@example.com",
            period,
            at,
            "x",
            Language::En,
            InvitationStatus::Sent,
        )
    }

    #[test]
    fn the_seat_ending_last_entitles_and_only_the_named_customers_count() {
        let today = d("2026-06-10");
        let seats = [
            seat("c1", "lic_a", "p", "2026-06-01", "2026-08-31"),
            seat("c2", "lic_b", "p", "2026-06-01", "2026-12-31"),
            seat("c1", "lic_c", "other", "2026-06-01", "2027-12-31"),
        ];
        let (any, which) = entitlement("p", None, &seats, today);
        assert_eq!((any.entitled, any.license_id.as_deref()), (true, Some("lic_b")));
        assert_eq!(which.map(|a| a.customer_id.as_str()), Some("c2"));
        let (named, _) = entitlement("p", Some("c1"), &seats, today);
        assert_eq!(named.license_id.as_deref(), Some("lic_a"), "c2's seat does not count");
        assert_eq!(named.valid_until, Some(d("2026-08-31")));
        let (none, which) = entitlement("p", Some("c3"), &seats, today);
        assert_eq!((none.entitled, none.license_id, which), (false, None, None));
    }

    #[test]
    fn revoked_ended_and_future_seats_do_not_entitle_but_a_future_one_says_when() {
        let today = d("2026-06-10");
        let mut revoked = seat("c1", "lic_a", "p", "2026-06-01", "2026-12-31");
        revoked.revoked_at = Some("2026-06-05T00:00:00Z".parse().unwrap());
        let seats = [
            revoked,
            seat("c1", "lic_b", "p", "2026-01-01", "2026-06-09"),
            seat("c1", "lic_c", "p", "2026-07-01", "2026-12-31"),
            seat("c1", "lic_d", "p", "2026-09-01", "2026-12-31"),
        ];
        let (e, which) = entitlement("p", None, &seats, today);
        assert!(!e.entitled && which.is_none());
        assert_eq!(e.starts_on, Some(d("2026-07-01")));
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"productId": "p", "entitled": false, "startsOn": "2026-07-01"})
        );
    }
}
