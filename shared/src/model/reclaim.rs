//! A licence's policy for seats nobody uses (API.md v3, "reclaim of idle
//! seats"): off by default; once on, an assignment idle for `inactiveDays`
//! is warned and, still idle `graceDays` later, revoked.

use std::ops::RangeInclusive;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

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
