//! Calendar periods and licence terms, and the rules a requested access
//! period must obey.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError, Result};

/// An inclusive range of calendar dates: `from ..= until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub until: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, until: NaiveDate) -> Self {
        Self { from, until }
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.until
    }

    pub fn within(&self, outer: &Period) -> bool {
        outer.from <= self.from && self.until <= outer.until
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Term {
    pub fn period(&self) -> Period {
        Period::new(self.start, self.end)
    }
}

impl Term {
    /// Checks a requested access period against the contract's rules: inside
    /// the term, ordered, and not ended before `today`. Each broken rule names
    /// its field.
    pub fn check(&self, period: Period, today: NaiveDate) -> Result<Period> {
        let mut errors = Vec::new();
        let inside = format!("must lie inside the licence term {} .. {}", self.start, self.end);
        if period.from < self.start || period.from > self.end {
            errors.push(FieldError::new("validFrom", inside.clone()));
        }
        if period.until > self.end || period.until < self.start {
            errors.push(FieldError::new("validUntil", inside));
        }
        if period.from > period.until {
            errors.push(FieldError::new("validFrom", "must not be after validUntil"));
        }
        if period.until < today {
            errors
                .push(FieldError::new("validUntil", format!("must not be before today ({today})")));
        }
        if errors.is_empty() { Ok(period) } else { Err(Error::Validation(errors)) }
    }
}
