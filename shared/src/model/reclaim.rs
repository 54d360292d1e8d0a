//! A licence's policy for seats nobody uses (API.md v3, "reclaim of idle
//! seats"): off by default; once on, an assignment idle for `inactiveDays`
//! is warned and, still idle `graceDays` later, revoked.

use std::ops::RangeInclusive;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::Assignment;

/// `inactiveDays` a policy may ask for.
pub const INACTIVE_DAYS: RangeInclusive<u32> = 14..=365;
/// `graceDays` a policy may ask for.
pub const GRACE_DAYS: RangeInclusive<u32> = 1..=60;
/// What an enabling request that leaves them out gets.
pub const DEFAULT_INACTIVE_DAYS: u32 = 60;
pub const DEFAULT_GRACE_DAYS: u32 = 14;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReclaimPolicy {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_days: Option<u32>,
    /// The day it was enabled (idle counts from it at the earliest, so
    /// enabling never warns everyone at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_on: Option<NaiveDate>,
}

/// What an admin asks for (bounds checked at the edge).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReclaimAsk {
    pub enabled: bool,
    pub inactive_days: u32,
    pub grace_days: u32,
}

impl ReclaimPolicy {
    pub fn is_off(&self) -> bool {
        *self == Self::default()
    }

    /// The policy after `ask` on `today`: enabled, it keeps the day it was
    /// enabled while it stays enabled (a change of the numbers does not
    /// restart the count); disabled, it is off and forgets that day.
    pub fn asked(&self, ask: ReclaimAsk, today: NaiveDate) -> Self {
        if !ask.enabled {
            return Self::default();
        }
        Self {
            enabled: true,
            inactive_days: Some(ask.inactive_days),
            grace_days: Some(ask.grace_days),
            enabled_on: Some(self.enabled_on.filter(|_| self.enabled).unwrap_or(today)),
        }
    }
}

/// What the daily run does with one assignment on a day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdleStep {
    /// Idle and not warned since its last activity: warn it.
    Warn,
    /// Warned, unused since, and the grace days have passed: revoke it.
    Revoke { warned_at: DateTime<Utc> },
}

impl ReclaimPolicy {
    /// The step the daily run takes with `a` on `today`, if any. Idle: the
    /// licence reclaims, the assignment is active today and not exempt, and
    /// its last activity (the latest of `lastActiveOn`, its `validFrom` and
    /// the day reclaim was enabled) lies `inactiveDays` or more back. A
    /// warning counts only when no activity came on or after its day.
    pub fn step(&self, a: &Assignment, today: NaiveDate) -> Option<IdleStep> {
        let (true, Some(inactive), Some(grace), Some(enabled_on)) =
            (self.enabled, self.inactive_days, self.grace_days, self.enabled_on)
        else {
            return None;
        };
        let active = !a.is_revoked() && a.valid_from <= today && today <= a.valid_until;
        if !active || a.reclaim_exempt {
            return None;
        }
        let last =
            [a.last_active_on, Some(a.valid_from), Some(enabled_on)].into_iter().flatten().max()?;
        if (today - last).num_days() < i64::from(inactive) {
            return None;
        }
        match a.reclaim_warned_at.filter(|w| a.last_active_on.is_none_or(|l| l < w.date_naive())) {
            None => Some(IdleStep::Warn),
            Some(warned_at) if (today - warned_at.date_naive()).num_days() >= i64::from(grace) => {
                Some(IdleStep::Revoke { warned_at })
            }
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabling_keeps_its_day_and_disabling_forgets_it() {
        let (d1, d2) = ("2026-06-01".parse().unwrap(), "2026-07-01".parse().unwrap());
        let ask = ReclaimAsk { enabled: true, inactive_days: 60, grace_days: 14 };
        let on = ReclaimPolicy::default().asked(ask, d1);
        assert_eq!(on.enabled_on, Some(d1));
        let changed = on.asked(ReclaimAsk { inactive_days: 30, ..ask }, d2);
        assert_eq!((changed.inactive_days, changed.enabled_on), (Some(30), Some(d1)));
        let off = changed.asked(ReclaimAsk { enabled: false, ..ask }, d2);
        assert!(off.is_off());
        assert_eq!(off.asked(ask, d2).enabled_on, Some(d2), "enabled again: counts afresh");
    }
}

#[cfg(test)]
mod idle {
    use super::*;
    use crate::model::{InvitationStatus, Language, License, Period};
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn on(enabled_on: &str) -> ReclaimPolicy {
        let ask = ReclaimAsk { enabled: true, inactive_days: 60, grace_days: 14 };
        ReclaimPolicy::default().asked(ask, d(enabled_on))
    }

    fn seat(from: &str, until: &str) -> Assignment {
        let at = "2026-01-01T10:00:00Z".parse().unwrap();
        let period = Period::new(d(from), d(until));
        let l = License::sample(5);
        Assignment::new(&l, "a@example.com", period, at, "x", Language::En, InvitationStatus::Sent)
    }

    #[test]
    fn idle_counts_from_the_latest_of_activity_start_and_enabling() {
        let policy = on("2026-03-01");
        let mut a = seat("2026-01-01", "2026-12-31");
        assert_eq!(policy.step(&a, d("2026-04-29")), None, "59 days after enabling");
        assert_eq!(
            policy.step(&a, d("2026-04-30")),
            Some(IdleStep::Warn),
            "60 days after enabling"
        );
        a.last_active_on = Some(d("2026-04-01"));
        assert_eq!(policy.step(&a, d("2026-04-30")), None, "used a month ago");
        a.reclaim_exempt = true;
        assert_eq!(policy.step(&a, d("2026-12-01")), None, "exempt");
        assert_eq!(
            ReclaimPolicy::default().step(&seat("2026-01-01", "2026-12-31"), d("2026-12-01")),
            None
        );
    }

    #[test]
    fn a_warning_revokes_after_the_grace_days_unless_the_seat_is_used() {
        let policy = on("2026-01-01");
        let mut a = seat("2026-01-01", "2026-12-31");
        let warned: DateTime<Utc> = "2026-03-02T07:00:00Z".parse().unwrap();
        a.reclaim_warned_at = Some(warned);
        assert_eq!(policy.step(&a, d("2026-03-15")), None, "13 days of grace");
        assert_eq!(policy.step(&a, d("2026-03-16")), Some(IdleStep::Revoke { warned_at: warned }));
        a.last_active_on = Some(d("2026-03-02"));
        assert_eq!(policy.step(&a, d("2026-03-16")), None, "used on the warning's day: cancelled");
        assert_eq!(
            policy.step(&a, d("2026-05-01")),
            Some(IdleStep::Warn),
            "idle again: warned afresh"
        );
    }

    proptest! {
        /// Nothing is ever revoked without a warning at least the grace days
        /// before, after which the seat was not used; nothing idle for fewer
        /// than inactiveDays is touched.
        #[test]
        fn no_revoke_without_a_warning_and_its_grace(
            used in proptest::option::of(0i64..200),
            warned in proptest::option::of(0i64..200),
            today in 0i64..250,
        ) {
            let start = d("2026-01-01");
            let day = |n: i64| start + chrono::Duration::days(n);
            let policy = on("2026-01-01");
            let mut a = seat("2026-01-01", "2026-12-31");
            a.last_active_on = used.map(day);
            a.reclaim_warned_at = warned.map(|w| day(w).and_hms_opt(7, 0, 0).unwrap().and_utc());
            let last = used.unwrap_or(0).max(0);
            match policy.step(&a, day(today)) {
                Some(IdleStep::Revoke { warned_at }) => {
                    let w = (warned_at.date_naive() - start).num_days();
                    prop_assert!(today - w >= 14);
                    prop_assert!(used.is_none_or(|u| u < w));
                }
                Some(IdleStep::Warn) => prop_assert!(today - last >= 60),
                None => {}
            }
        }
    }
}
