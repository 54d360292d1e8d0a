//! The contract's JSON shapes of licences and assignments, as of a day.

use chrono::{DateTime, NaiveDate, Utc};
use lambda_http::{Body, Response, http::StatusCode};
use serde::Serialize;

use crate::http::json;
use crate::model::{
    Action, Assignment, AssignmentStatus, Entry, Group, Invitation, Language, License,
    LicenseStatus, NextTerm, ReclaimPolicy, State, Subscription, Term,
};
use crate::plan::Outcome;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseView {
    pub license_id: String,
    pub product_id: String,
    pub product_name: String,
    pub quantity: u32,
    pub assigned_seats: u32,
    pub available_seats: u32,
    pub assigned_users: u32,
    pub term: Term,
    pub subscription: Subscription,
    pub invoice_number: String,
    pub order_id: String,
    pub status: LicenseStatus,
    pub current_term: Term,
    pub next_term: Option<NextTerm>,
    pub over_assigned_seats: u32,
    pub cancelled: bool,
    /// v3: the policy for seats nobody uses (`{"enabled": false}` unless set).
    pub reclaim: ReclaimPolicy,
}

impl LicenseView {
    /// `l` as readers may see it ([`License::visible`]), as of `today`.
    pub fn of(l: &License, today: NaiveDate) -> Self {
        let counts = l.counts(today);
        Self {
            license_id: l.license_id.clone(),
            product_id: l.product_id.clone(),
            product_name: l.product_name.clone(),
            quantity: l.quantity_on(today),
            assigned_seats: counts.assigned_seats,
            available_seats: counts.available_seats,
            assigned_users: counts.assigned_users,
            term: l.term,
            subscription: l.subscription.clone(),
            invoice_number: l.invoice_on(today).to_string(),
            order_id: l.order_id.clone(),
            status: l.status(today),
            current_term: l.current_term(today),
            next_term: l.next_term(today),
            over_assigned_seats: counts.over_assigned_seats,
            cancelled: l.cancelled,
            reclaim: l.reclaim.clone(),
        }
    }
}

/// A history entry as `GET /licenses/{id}/history` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EntryView {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: Action,
    pub email: Option<String>,
    pub before: Option<State>,
    pub after: Option<State>,
    /// v3: why, when it was not an admin's own decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl EntryView {
    pub fn of(e: &Entry) -> Self {
        Self {
            at: e.at,
            actor: e.actor.clone(),
            action: e.action,
            email: e.email.clone(),
            before: e.before.clone(),
            after: e.after.clone(),
            reason: e.reason.clone(),
        }
    }
}

/// `GET /licenses/{id}/usage`: seats in use per day over the whole term,
/// as steps (see `Timeline::usage`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageView {
    pub license_id: String,
    pub steps: Vec<UsageStepView>,
}

#[derive(Serialize)]
pub struct UsageStepView {
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub used: u32,
    pub quantity: u32,
}

impl UsageView {
    pub fn of(license: &License) -> Self {
        let steps = license.seats.usage(&license.quantities(), license.term.period());
        let steps = steps
            .into_iter()
            .map(|s| UsageStepView {
                from: s.period.from,
                until: s.period.until,
                used: s.used,
                quantity: s.quantity,
            })
            .collect();
        Self { license_id: license.license_id.clone(), steps }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryView {
    pub entries: Vec<EntryView>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentView {
    pub license_id: String,
    pub email: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub status: AssignmentStatus,
    pub assigned_at: DateTime<Utc>,
    pub assigned_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub invitation: Invitation,
    /// v3: the last day the person used the product (`null`: never).
    pub last_active_on: Option<NaiveDate>,
    /// v3: never reclaimed for inactivity.
    pub reclaim_exempt: bool,
}

impl AssignmentView {
    pub fn of(a: &Assignment, today: NaiveDate) -> Self {
        Self {
            license_id: a.license_id.clone(),
            email: a.email.clone(),
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            status: a.status(today),
            assigned_at: a.assigned_at,
            assigned_by: a.assigned_by.clone(),
            revoked_at: a.revoked_at,
            revoked_by: a.revoked_by.clone(),
            invitation: a.invitation_shown(),
            last_active_on: a.last_active_on,
            reclaim_exempt: a.reclaim_exempt,
        }
    }
}

/// An assignment as the answer of an operation on it.
pub fn assignment(status: StatusCode, a: &Assignment, today: NaiveDate) -> Response<Body> {
    json(status, &AssignmentView::of(a, today))
}

/// The caller's own seat, as `GET /me/licenses` lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MyLicenseView {
    #[serde(flatten)]
    pub assignment: AssignmentView,
    pub product_id: String,
    pub product_name: String,
    pub term: Term,
}

#[derive(Serialize)]
pub struct Licenses<T> {
    pub licenses: Vec<T>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentPage {
    pub assignments: Vec<AssignmentView>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize)]
pub struct ResultView {
    pub email: String,
    pub outcome: Outcome,
    pub assignment: AssignmentView,
}

#[derive(Serialize)]
pub struct AssignResponse {
    pub results: Vec<ResultView>,
    pub license: LicenseView,
}

/// `GET /licenses/{id}/reclaim/preview` (v3): what a run today would do.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReclaimPreviewView {
    pub warn: Vec<IdleView>,
    pub revoke: Vec<IdleView>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdleView {
    pub email: String,
    pub last_active_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warned_at: Option<DateTime<Utc>>,
}

impl ReclaimPreviewView {
    pub fn of(p: crate::usecase::reclaim::Preview) -> Self {
        let warn = p.warn.into_iter().map(|(email, last_active_on)| IdleView {
            email,
            last_active_on,
            warned_at: None,
        });
        let revoke = p.revoke.into_iter().map(|(email, last_active_on, warned_at)| IdleView {
            email,
            last_active_on,
            warned_at: Some(warned_at),
        });
        Self { warn: warn.collect(), revoke: revoke.collect() }
    }
}

/// `GET /groups` (v3): the directory's groups, each with its number of members.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupsView {
    pub groups: Vec<GroupView>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub group_id: String,
    pub display_name: String,
    /// How many members it has.
    pub members: usize,
}

impl GroupsView {
    pub fn of(groups: &[Group]) -> Self {
        let groups = groups
            .iter()
            .map(|g| GroupView {
                group_id: g.id.clone(),
                display_name: g.display_name.clone(),
                members: g.member_count,
            })
            .collect();
        Self { groups }
    }
}

/// `GET /licenses/{id}/waiting` (v3): who waits for a seat, first first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WaitingView {
    pub waiting: Vec<WaiterView>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaiterView {
    pub email: String,
    pub since: DateTime<Utc>,
    pub group_id: String,
}

impl WaitingView {
    pub fn of(waiting: &[crate::model::WaitingEntry]) -> Self {
        let waiting = waiting
            .iter()
            .map(|w| WaiterView {
                email: w.email.clone(),
                since: w.since,
                group_id: w.group_id.clone(),
            })
            .collect();
        Self { waiting }
    }
}

/// `GET /licenses/{id}/groups` (v3), and the answer of a link's change: the
/// licence's linked groups in the order they were linked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinksView {
    pub groups: Vec<LinkView>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkView {
    pub group_id: String,
    pub display_name: String,
    /// How many members the group has.
    pub members: usize,
    /// How many hold a seat of the licence that this group's rule gave
    /// (named by it), and how many wait for one named by it.
    pub assigned: u32,
    pub waiting: u32,
    pub language: Language,
    pub linked_at: DateTime<Utc>,
}

impl LinksView {
    pub fn of(linked: &[crate::usecase::links::Linked]) -> Self {
        let groups = linked
            .iter()
            .map(|l| LinkView {
                group_id: l.group.id.clone(),
                display_name: l.group.display_name.clone(),
                members: l.group.member_count,
                assigned: l.assigned,
                waiting: l.waiting,
                language: l.link.language,
                linked_at: l.link.linked_at,
            })
            .collect();
        Self { groups }
    }
}
