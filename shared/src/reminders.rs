//! Which reminders are due on a day (contract v2, "Reminders"): pure rules
//! over a licence and its assignments. The `remind` use case finds the
//! candidates through GSI2 (see `store::keys`) and sends what these rules say.

use chrono::{Days, NaiveDate};

use crate::model::{Assignment, License};

/// The buyer's reminders: this many days before a term that does not renew ends.
pub const TERM_DAYS: [u64; 2] = [30, 7];
/// A person's reminder: within this many days before their access ends.
pub const ACCESS_DAYS: u64 = 7;
/// The furthest back a candidate's index day lies while it may still be
/// due: a buyer's reminder, first due 30 days before the end, until the end.
pub const LOOKBACK_DAYS: u64 = 30;

/// One reminder: to whom, about what. Its `id` names it for good, so each is
/// sent at most once whatever the number of runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reminder {
    /// To the buyer: the term ends on `end`, `days` (30 or 7) before it, and
    /// `losing` people lose access then.
    TermEnds { days: u64, end: NaiveDate, losing: u32 },
    /// To the person: their access ends on `until` while the licence goes on.
    AccessEnds { email: String, until: NaiveDate },
}

impl Reminder {
    /// Unique per licence: kind, date and, for a person, the address.
    pub fn id(&self) -> String {
        match self {
            Self::TermEnds { days, end, .. } => format!("TERM{days}#{end}"),
            Self::AccessEnds { email, until } => format!("ACCESS#{until}#{email}"),
        }
    }
}

fn days_before(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_sub_days(Days::new(days)).unwrap_or(NaiveDate::MIN)
}

/// GSI2's day for a licence: 30 days before its end, if it does not renew
/// and is not cancelled (else it is no candidate).
pub fn license_index_day(l: &License) -> Option<NaiveDate> {
    (!l.subscription.auto_renew && !l.cancelled).then(|| days_before(l.term.end, TERM_DAYS[0]))
}

/// GSI2's day for an assignment: 7 days before its access ends, unless
/// revoked. (Whether the licence goes on after it is decided when due: a
/// renewal moves the licence's end without writing every assignment.)
pub fn assignment_index_day(a: &Assignment) -> Option<NaiveDate> {
    (a.revoked_at.is_none()).then(|| access_index_day(a.valid_until))
}

/// GSI2's day of an access that ends on `until`.
pub fn access_index_day(until: NaiveDate) -> NaiveDate {
    days_before(until, ACCESS_DAYS)
}

/// The buyer's reminder due on `today`: the 30-day one from 30 days before
/// the end, the 7-day one from 7 days before (a run that missed the 30-day
/// one then sends only the 7-day one), none for a licence that renews, is
/// cancelled, or has no buyer on record.
pub fn term_reminder(l: &License, today: NaiveDate) -> Option<Reminder> {
    if l.subscription.auto_renew || l.cancelled || l.buyer.is_none() || today > l.term.end {
        return None;
    }
    let left = (l.term.end - today).num_days();
    let days = TERM_DAYS.into_iter().rev().find(|d| left <= *d as i64)?;
    let losing = l.seats.count_on(l.term.end);
    Some(Reminder::TermEnds { days, end: l.term.end, losing })
}

/// A person's reminder due on `today`: their non-revoked access ends within
/// 7 days (today included) while the licence goes on after that day.
pub fn access_reminder(l: &License, a: &Assignment, today: NaiveDate) -> Option<Reminder> {
    let left = (a.valid_until - today).num_days();
    let due = a.revoked_at.is_none()
        && a.valid_until < l.term.end
        && (0..=ACCESS_DAYS as i64).contains(&left);
    due.then(|| Reminder::AccessEnds { email: a.email.clone(), until: a.valid_until })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InvitationStatus, Language, Period};
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn ending(auto_renew: bool) -> License {
        let mut l = License::sample(5);
        l.subscription.auto_renew = auto_renew;
        l
    }

    fn assignment(l: &License, until: &str) -> Assignment {
        let period = Period::new(d("2026-01-01"), d(until));
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        Assignment::new(
            l,
            "anna@example.com",
            period,
            now,
            "x",
            Language::De,
            InvitationStatus::Sent,
        )
    }

    #[test]
    fn the_buyer_hears_30_and_7_days_before_a_term_that_does_not_renew() {
        let mut l = ending(false);
        l.seats.add(Period::new(d("2026-01-01"), d("2026-12-31")), 3);
        let on = |day: &str| term_reminder(&l, d(day));
        assert_eq!(on("2026-11-30"), None);
        let thirty = Reminder::TermEnds { days: 30, end: d("2026-12-31"), losing: 3 };
        assert_eq!(on("2026-12-01"), Some(thirty.clone()));
        assert_eq!(on("2026-12-23"), Some(thirty), "a missed day catches up");
        let seven = Reminder::TermEnds { days: 7, end: d("2026-12-31"), losing: 3 };
        assert_eq!(on("2026-12-24"), Some(seven.clone()));
        assert_eq!(on("2026-12-31"), Some(seven));
        assert_eq!(on("2027-01-01"), None);
        assert_eq!(term_reminder(&ending(true), d("2026-12-24")), None, "renews");
        let mut cancelled = ending(false);
        cancelled.cancelled = true;
        assert_eq!(term_reminder(&cancelled, d("2026-12-24")), None);
        assert_eq!(license_index_day(&l), Some(d("2026-12-01")));
        assert_eq!(license_index_day(&ending(true)), None);
    }

    #[test]
    fn a_person_hears_within_7_days_before_access_ends_while_the_licence_goes_on() {
        let l = ending(true);
        let a = assignment(&l, "2026-06-30");
        assert_eq!(access_reminder(&l, &a, d("2026-06-22")), None);
        let due = Some(Reminder::AccessEnds { email: a.email.clone(), until: d("2026-06-30") });
        assert_eq!(access_reminder(&l, &a, d("2026-06-23")), due);
        assert_eq!(access_reminder(&l, &a, d("2026-06-30")), due);
        assert_eq!(access_reminder(&l, &a, d("2026-07-01")), None);
        assert_eq!(assignment_index_day(&a), Some(d("2026-06-23")));
        // Ending with the licence: the buyer's reminder covers it, or a renewal moves it.
        let to_the_end = assignment(&l, "2026-12-31");
        assert_eq!(access_reminder(&l, &to_the_end, d("2026-12-28")), None);
        let mut revoked = a.clone();
        revoked.revoked_at = Some("2026-06-01T00:00:00Z".parse().unwrap());
        assert_eq!(access_reminder(&l, &revoked, d("2026-06-25")), None);
        assert_eq!(assignment_index_day(&revoked), None);
    }

    proptest! {
        /// Whatever is due on a day lies in the window a run reads: its index
        /// day is at most LOOKBACK_DAYS before and not after that day.
        #[test]
        fn what_is_due_is_found_in_the_window(offset in 0i64..400, until in 0i64..365, renew: bool) {
            let mut l = ending(renew);
            let today = d("2026-01-01") + chrono::Duration::days(offset);
            let a = assignment(&l, &(d("2026-01-01") + chrono::Duration::days(until)).to_string());
            l.seats.add(a.period(), 1);
            let window = |day: NaiveDate| day <= today && today <= day + Days::new(LOOKBACK_DAYS);
            if term_reminder(&l, today).is_some() {
                prop_assert!(window(license_index_day(&l).unwrap()));
            }
            if access_reminder(&l, &a, today).is_some() {
                prop_assert!(window(assignment_index_day(&a).unwrap()));
            }
        }
    }
}
