//! The terms a licence was bought for: the purchase's and each renewal's,
//! each with its invoice; which one is in force on a day (`currentTerm`),
//! and the renewed one ahead (`nextTerm`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{License, Term};

/// A term bought: the purchase's or a renewal's, with its invoice (absent
/// in items stored before v3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoughtTerm {
    pub start: NaiveDate,
    pub end: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
}

impl BoughtTerm {
    pub fn term(&self) -> Term {
        Term { start: self.start, end: self.end }
    }
}

/// The renewed term ahead, as a licence shows it (`nextTerm`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NextTerm {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub invoice_number: String,
    pub quantity: u32,
}

impl License {
    /// The terms bought, oldest first, each with its invoice (a licence
    /// never renewed has one: its whole `term`).
    pub fn bought_terms(&self) -> Vec<BoughtTerm> {
        if self.terms.is_empty() {
            let invoice_number = Some(self.invoice_number.clone());
            vec![BoughtTerm { start: self.term.start, end: self.term.end, invoice_number }]
        } else {
            self.terms.clone()
        }
    }

    /// The index of the term in force on `day`: the last one started by
    /// then (before the licence starts, the first; after it ends, the last).
    fn term_index_on(terms: &[BoughtTerm], day: NaiveDate) -> usize {
        terms.iter().rposition(|t| t.start <= day).unwrap_or(0)
    }

    /// The term in force on `day` (API.md v3: `currentTerm`).
    pub fn current_term(&self, day: NaiveDate) -> Term {
        let terms = self.bought_terms();
        terms[Self::term_index_on(&terms, day)].term()
    }

    /// The invoice of the term in force on `day` (items stored before v3
    /// kept no invoice per term: then the latest).
    pub fn invoice_on(&self, day: NaiveDate) -> &str {
        let index = Self::term_index_on(&self.terms, day);
        self.terms
            .get(index)
            .and_then(|t| t.invoice_number.as_deref())
            .unwrap_or(&self.invoice_number)
    }

    /// The earliest renewed term that starts after `day`, with its invoice
    /// and the quantity in force on its first day.
    pub fn next_term(&self, day: NaiveDate) -> Option<NextTerm> {
        let t = self.terms.iter().skip(1).find(|t| t.start > day)?;
        Some(NextTerm {
            start: t.start,
            end: t.end,
            invoice_number: t.invoice_number.clone().unwrap_or_else(|| self.invoice_number.clone()),
            quantity: self.quantities().on(t.start),
        })
    }
}
