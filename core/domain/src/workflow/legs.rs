//! Inter-agency handling (một cửa liên thông): the legs of a dossier's route through the
//! competent agencies, each with its share of the legal time, its own clock on the
//! working-day calendar, and what [`super::step`] does to it.
//!
//! The centre receives and returns; each agency on the procedure's route decides its part.
//! A leg is forwarded by the branch, decided (done or refused) by the agency, or paused by
//! the agency's supplement request until the branch forwards it again.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use super::{DeadlineState, at_risk_before};
use crate::calendar::WorkingCalendar;
use crate::wire::AgencyLegPlan;

/// Where one leg stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LegState {
    /// On the route, not forwarded yet (the agency does not see the dossier).
    Pending,
    /// At the agency: its clock runs.
    Open,
    /// The agency asked for a supplement: back at the branch, its clock stopped until the
    /// branch forwards the answered dossier again.
    Paused,
    /// The agency did its part (with a result note).
    Done,
    /// The agency refused (with a reason): the branch can only reject the dossier.
    Refused,
    /// The dossier was withdrawn or rejected while the leg was under way.
    Cancelled,
}

impl LegState {
    pub const ALL: [LegState; 6] =
        [LegState::Pending, LegState::Open, LegState::Paused, LegState::Done, LegState::Refused, LegState::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            LegState::Pending => "pending",
            LegState::Open => "open",
            LegState::Paused => "paused",
            LegState::Done => "done",
            LegState::Refused => "refused",
            LegState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<LegState> {
        LegState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The leg is under way (at the agency, or waiting for a supplement it asked for).
    pub fn is_current(self) -> bool {
        matches!(self, LegState::Open | LegState::Paused)
    }
}

/// One leg of a dossier's route: the agency, its share of the legal time, and its clock
/// (local dates). Only [`super::step`] moves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    /// The agency's code (`server/seed/agencies.json`).
    pub agency: String,
    /// Its share of the legal processing time, in working days.
    pub days: u32,
    pub state: LegState,
    /// The day it was first forwarded (its clock starts the next working day).
    pub started_on: Option<NaiveDate>,
    /// `days` plus the paused working days after `started_on`.
    pub due_date: Option<NaiveDate>,
    /// Working days it stood still waiting for supplements that were answered and forwarded again.
    pub paused_days: u32,
    /// The day the agency asked for the open supplement.
    pub pause_started_on: Option<NaiveDate>,
    /// The day it was done, refused or cancelled.
    pub finished_on: Option<NaiveDate>,
    /// Working days at the agency (paused days excluded), once finished.
    pub working_days_taken: Option<u32>,
}

impl Leg {
    /// A leg on the route, not forwarded yet.
    pub fn pending(agency: impl Into<String>, days: u32) -> Leg {
        Leg {
            agency: agency.into(),
            days,
            state: LegState::Pending,
            started_on: None,
            due_date: None,
            paused_days: 0,
            pause_started_on: None,
            finished_on: None,
            working_days_taken: None,
        }
    }

    /// How the leg stands against its share of the legal time on `today`: the same
    /// judgement as a dossier's (`deadline_state`), over the leg's own due date.
    pub fn deadline(&self, calendar: &WorkingCalendar, today: NaiveDate) -> DeadlineState {
        let Some(due) = self.due_date else { return DeadlineState::NotStarted };
        match self.state {
            LegState::Pending => DeadlineState::NotStarted,
            LegState::Paused => DeadlineState::Paused,
            LegState::Open if today > due => DeadlineState::Overdue,
            LegState::Open if due < at_risk_before(calendar, today) => DeadlineState::AtRisk,
            LegState::Open => DeadlineState::OnTime,
            LegState::Done | LegState::Refused | LegState::Cancelled => {
                if self.finished_on.unwrap_or(today) > due {
                    DeadlineState::Overdue
                } else {
                    DeadlineState::OnTime
                }
            }
        }
    }
}

/// Why a leg plan of the catalogue is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("leg {index} ({agency}) needs exactly one of working_days and share_percent")]
    OneMeasure { index: usize, agency: String },
    #[error("leg {index} ({agency}): share_percent must be 1 to 100")]
    BadShare { index: usize, agency: String },
    #[error("the legs take {legs} working days, more than the legal {total}")]
    TooLong { legs: u32, total: u32 },
    #[error("agency {agency} appears twice on the route")]
    Repeated { agency: String },
}

/// The working days of each leg of a procedure with `processing_days` of legal time: a
/// leg gives them directly (`working_days`) or as a share of the whole (`share_percent`,
/// rounded down, so shares that sum to at most 100 never exceed the legal time). The legs
/// together may not take more than the legal time (the branch needs its part too).
pub fn plan_days(processing_days: u32, plan: &[AgencyLegPlan]) -> Result<Vec<u32>, PlanError> {
    let mut days = Vec::with_capacity(plan.len());
    for (index, leg) in plan.iter().enumerate() {
        if plan[..index].iter().any(|earlier| earlier.agency == leg.agency) {
            return Err(PlanError::Repeated { agency: leg.agency.clone() });
        }
        let d = match (leg.working_days, leg.share_percent) {
            (Some(d), None) => d,
            (None, Some(pct)) if (1..=100).contains(&pct) => {
                u32::try_from(u64::from(processing_days) * u64::from(pct) / 100).unwrap_or(u32::MAX)
            }
            (None, Some(_)) => return Err(PlanError::BadShare { index, agency: leg.agency.clone() }),
            _ => return Err(PlanError::OneMeasure { index, agency: leg.agency.clone() }),
        };
        days.push(d);
    }
    let legs = days.iter().fold(0u32, |a, d| a.saturating_add(*d));
    if legs > processing_days {
        return Err(PlanError::TooLong { legs, total: processing_days });
    }
    Ok(days)
}

/// The legs of a new dossier of a procedure with this plan (all pending). A plan that
/// [`plan_days`] refuses gives no legs (the catalogue check refuses such a seed first).
pub fn route(processing_days: u32, plan: &[AgencyLegPlan]) -> Vec<Leg> {
    match plan_days(processing_days, plan) {
        Ok(days) => plan.iter().zip(days).map(|(p, d)| Leg::pending(p.agency.clone(), d)).collect(),
        Err(_) => Vec::new(),
    }
}

/// Where a route stands, as far as the branch's moves are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteState {
    /// No leg is under way and none was refused: the next leg to forward, if any is left.
    Next(Option<usize>),
    /// A leg is at its agency or paused (index).
    Current(usize),
    /// An agency refused its leg (index).
    Refused(usize),
}

/// Where `legs` stand: a refusal wins, then a leg under way, then the next pending one.
pub fn route_state(legs: &[Leg]) -> RouteState {
    if let Some(i) = legs.iter().position(|l| l.state == LegState::Refused) {
        return RouteState::Refused(i);
    }
    if let Some(i) = legs.iter().position(|l| l.state.is_current()) {
        return RouteState::Current(i);
    }
    RouteState::Next(legs.iter().position(|l| l.state == LegState::Pending))
}
