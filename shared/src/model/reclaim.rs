//! A licence's policy for seats nobody uses (API.md v3, "reclaim of idle
//! seats"): off by default; once on, an assignment idle for `inactiveDays`
//! is warned and, still idle `graceDays` later, revoked.

use std::ops::RangeInclusive;

use chrono::{DateTime, Days, NaiveDate, Utc};
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

/// An enabled policy's numbers: what the daily run applies, and what each
/// seat of the licence carries (a copy, so that the day it is due can be
/// worked out from the seat alone when it changes; see `store::keys`, the
/// idle index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdleRule {
    pub inactive_days: u32,
    pub grace_days: u32,
    pub enabled_on: NaiveDate,
}

impl ReclaimPolicy {
    /// The rule while the policy is on.
    pub fn rule(&self) -> Option<IdleRule> {
        match (self.enabled, self.inactive_days, self.grace_days, self.enabled_on) {
            (true, Some(inactive_days), Some(grace_days), Some(enabled_on)) => {
                Some(IdleRule { inactive_days, grace_days, enabled_on })
            }
            _ => None,
        }
    }

    /// The step the daily run takes with `a` on `today`, if any (see
    /// [`IdleRule::step`]).
    pub fn step(&self, a: &Assignment, today: NaiveDate) -> Option<IdleStep> {
        self.rule()?.step(a, today)
    }
}

fn plus(day: NaiveDate, days: u32) -> NaiveDate {
    day.checked_add_days(Days::new(days.into())).unwrap_or(NaiveDate::MAX)
}

impl IdleRule {
    /// The step the daily run takes with `a` on `today`, if any. Idle: the
    /// assignment is active today and not exempt, and its last activity (the
    /// latest of `lastActiveOn`, its `validFrom` and the day reclaim was
    /// enabled) lies `inactiveDays` or more back. A warning counts only when
    /// it came after that last activity and after the day reclaim was
    /// enabled (a warning of an earlier enabling does not); then, still idle
    /// `graceDays` after it, the seat is revoked.
    pub fn step(&self, a: &Assignment, today: NaiveDate) -> Option<IdleStep> {
        let active = a.valid_from <= today && today <= a.valid_until;
        if !active || today < self.due_on(a)? {
            return None;
        }
        Some(match self.warning(a) {
            None => IdleStep::Warn,
            Some(warned_at) => IdleStep::Revoke { warned_at },
        })
    }

    /// The first day on which [`Self::step`] may act on `a` (if it is active
    /// then): the day it becomes idle or, warned, the day its grace ends;
    /// `None` when it never will (revoked or exempt). The idle index keys
    /// each seat by this day, so a run reads only what is due.
    pub fn due_on(&self, a: &Assignment) -> Option<NaiveDate> {
        if a.is_revoked() || a.reclaim_exempt {
            return None;
        }
        let idle = plus(self.last_activity(a), self.inactive_days);
        Some(match self.warning(a) {
            Some(warned) => idle.max(plus(warned.date_naive(), self.grace_days)),
            None => idle,
        })
    }

    /// The latest of `lastActiveOn`, `validFrom` and the day reclaim was enabled.
    pub fn last_activity(&self, a: &Assignment) -> NaiveDate {
        a.last_active_on.unwrap_or(NaiveDate::MIN).max(a.valid_from).max(self.enabled_on)
    }

    /// The warning that still counts: given after the last use (a use on its
    /// day cancels it), since reclaim was enabled, within the period.
    fn warning(&self, a: &Assignment) -> Option<DateTime<Utc>> {
        let warned = a.reclaim_warned_at?;
        let day = warned.date_naive();
        let after_use = a.last_active_on.is_none_or(|l| l < day);
        (after_use && day >= self.enabled_on && day >= a.valid_from).then_some(warned)
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

    #[test]
    fn a_warning_of_an_earlier_enabling_does_not_count() {
        let mut a = seat("2026-01-01", "2026-12-31");
        a.reclaim_warned_at = Some("2026-03-02T07:00:00Z".parse().unwrap());
        let again = on("2026-04-01");
        assert_eq!(again.step(&a, d("2026-05-30")), None, "59 days after enabling again");
        assert_eq!(again.step(&a, d("2026-05-31")), Some(IdleStep::Warn), "warned afresh");
        assert_eq!(again.rule().unwrap().due_on(&a), Some(d("2026-05-31")));
    }

    proptest! {
        /// The idle index's day is exact: the run acts on an assignment on a
        /// day exactly when it is active then and that day has come, so a
        /// run that reads the index up to today finds all it must do.
        #[test]
        fn the_run_acts_exactly_from_the_day_the_index_names(
            used in proptest::option::of(0i64..300),
            warned in proptest::option::of(0i64..300),
            enabled in 0i64..200,
            from in 0i64..100,
            today in 0i64..400,
            exempt: bool,
            inactive in 14u32..100,
            grace in 1u32..30,
        ) {
            let start = d("2026-01-01");
            let day = |n: i64| start + chrono::Duration::days(n);
            let ask = ReclaimAsk { enabled: true, inactive_days: inactive, grace_days: grace };
            let policy = ReclaimPolicy::default().asked(ask, day(enabled));
            let rule = policy.rule().unwrap();
            let mut a = seat(&day(from).to_string(), "2026-12-31");
            a.last_active_on = used.map(day);
            a.reclaim_warned_at = warned.map(|w| day(w).and_hms_opt(7, 0, 0).unwrap().and_utc());
            a.reclaim_exempt = exempt;
            let today = day(today);
            let active = a.valid_from <= today && today <= a.valid_until;
            let due = rule.due_on(&a).is_some_and(|due| due <= today);
            prop_assert_eq!(policy.step(&a, today).is_some(), active && due);
        }

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
