//! The dossier workflow: states, actions, who may take them, and the legal deadline
//! (working days from reception, the clock stopped while a supplement is requested).
//!
//! One state machine, used by the server to decide and by the client to show what is
//! possible; an illegal transition is refused here, nowhere else. Inter-agency handling
//! (một cửa liên thông: the branch forwards, the competent agency decides its part) is part
//! of it: the legs of a dossier's route live in [`legs`].

mod legs;

pub use legs::{Leg, LegState, PlanError, RouteState, plan_days, route, route_state};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::WorkingCalendar;
use crate::wire::Role;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Where a dossier stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DossierStatus {
    /// Filed by the citizen, not yet accepted by the desk.
    Submitted,
    /// Accepted as complete (tiếp nhận): the legal clock starts.
    Received,
    /// Being processed (at the branch, between or without agency legs).
    InProcessing,
    /// Forwarded to a competent agency (liên thông), which is deciding its part.
    AtAgency,
    /// The agency asked for a supplement (yêu cầu bổ sung): the clock is stopped.
    SupplementRequested,
    /// Decided in favour; the result awaits hand-over.
    Approved,
    /// Refused, with a reason (từ chối).
    Rejected,
    /// The result was handed back (trả kết quả).
    ResultReturned,
    /// Withdrawn by the citizen (rút hồ sơ).
    Withdrawn,
}

impl DossierStatus {
    pub const ALL: [DossierStatus; 9] = [
        DossierStatus::Submitted,
        DossierStatus::Received,
        DossierStatus::InProcessing,
        DossierStatus::AtAgency,
        DossierStatus::SupplementRequested,
        DossierStatus::Approved,
        DossierStatus::Rejected,
        DossierStatus::ResultReturned,
        DossierStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DossierStatus::Submitted => "submitted",
            DossierStatus::Received => "received",
            DossierStatus::InProcessing => "in_processing",
            DossierStatus::AtAgency => "at_agency",
            DossierStatus::SupplementRequested => "supplement_requested",
            DossierStatus::Approved => "approved",
            DossierStatus::Rejected => "rejected",
            DossierStatus::ResultReturned => "result_returned",
            DossierStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<DossierStatus> {
        DossierStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Vietnamese (or English) name for people.
    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        let (vi, en) = match self {
            DossierStatus::Submitted => ("Đã nộp", "Submitted"),
            DossierStatus::Received => ("Đã tiếp nhận", "Received"),
            DossierStatus::InProcessing => ("Đang xử lý", "In processing"),
            DossierStatus::AtAgency => ("Đang xử lý tại cơ quan có thẩm quyền", "At the competent agency"),
            DossierStatus::SupplementRequested => ("Yêu cầu bổ sung", "Supplement requested"),
            DossierStatus::Approved => ("Đã phê duyệt", "Approved"),
            DossierStatus::Rejected => ("Từ chối", "Rejected"),
            DossierStatus::ResultReturned => ("Đã trả kết quả", "Result returned"),
            DossierStatus::Withdrawn => ("Đã rút hồ sơ", "Withdrawn"),
        };
        if lang == crate::i18n::Lang::En { en } else { vi }
    }

    /// A decision was made (or the citizen withdrew): the clock no longer runs.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            DossierStatus::Approved
                | DossierStatus::Rejected
                | DossierStatus::ResultReturned
                | DossierStatus::Withdrawn
        )
    }
}

/// What someone does to a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Receive,
    StartProcessing,
    RequestSupplement,
    AnswerSupplement,
    Approve,
    Reject,
    ReturnResult,
    Withdraw,
    /// The branch forwards the dossier to the next agency of its route (liên thông).
    Forward,
    /// The agency did its part (with a result note): back to the branch.
    AgencyApprove,
    /// The agency refuses (with the reason): back to the branch, which can only reject.
    AgencyRefuse,
    /// The agency asks for more papers (what to add): back to the branch and the citizen,
    /// the clock stopped.
    AgencyRequestSupplement,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::Receive,
        Action::StartProcessing,
        Action::RequestSupplement,
        Action::AnswerSupplement,
        Action::Approve,
        Action::Reject,
        Action::ReturnResult,
        Action::Withdraw,
        Action::Forward,
        Action::AgencyApprove,
        Action::AgencyRefuse,
        Action::AgencyRequestSupplement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Receive => "receive",
            Action::StartProcessing => "start_processing",
            Action::RequestSupplement => "request_supplement",
            Action::AnswerSupplement => "answer_supplement",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::ReturnResult => "return_result",
            Action::Withdraw => "withdraw",
            Action::Forward => "forward",
            Action::AgencyApprove => "agency_approve",
            Action::AgencyRefuse => "agency_refuse",
            Action::AgencyRequestSupplement => "agency_request_supplement",
        }
    }

    /// Vietnamese (or English) name for people.
    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        let (vi, en) = match self {
            Action::Receive => ("Tiếp nhận", "Receive"),
            Action::StartProcessing => ("Chuyển xử lý", "Start processing"),
            Action::RequestSupplement => ("Yêu cầu bổ sung", "Request a supplement"),
            Action::AnswerSupplement => ("Bổ sung hồ sơ", "Answer the supplement request"),
            Action::Approve => ("Phê duyệt", "Approve"),
            Action::Reject => ("Từ chối", "Reject"),
            Action::ReturnResult => ("Trả kết quả", "Return the result"),
            Action::Withdraw => ("Rút hồ sơ", "Withdraw"),
            Action::Forward => ("Chuyển cơ quan có thẩm quyền", "Forward to the competent agency"),
            Action::AgencyApprove => ("Cơ quan có thẩm quyền giải quyết xong", "Agency completes its part"),
            Action::AgencyRefuse => ("Cơ quan có thẩm quyền từ chối", "Agency refuses"),
            Action::AgencyRequestSupplement => {
                ("Cơ quan có thẩm quyền yêu cầu bổ sung", "Agency requests a supplement")
            }
        };
        if lang == crate::i18n::Lang::En { en } else { vi }
    }

    /// Whether the action needs a note (a reason for a rejection, what to add for a
    /// supplement request).
    pub fn needs_note(self) -> bool {
        matches!(
            self,
            Action::Reject
                | Action::RequestSupplement
                | Action::AgencyApprove
                | Action::AgencyRefuse
                | Action::AgencyRequestSupplement
        )
    }

    /// Whether an agency officer takes it (on a dossier at their agency).
    pub fn by_agency(self) -> bool {
        matches!(self, Action::AgencyApprove | Action::AgencyRefuse | Action::AgencyRequestSupplement)
    }

    /// A plain sentence for the citizen's timeline: what happened, naming the agency of a
    /// leg (never an officer).
    pub fn describe(self, agency: Option<&str>, lang: crate::i18n::Lang) -> String {
        let en = lang == crate::i18n::Lang::En;
        let Some(agency) = agency.filter(|a| !a.is_empty()) else { return self.label(lang).to_owned() };
        match (self, en) {
            (Action::Forward, false) => format!("Hồ sơ được chuyển đến {agency} để giải quyết."),
            (Action::Forward, true) => format!("The dossier was forwarded to {agency}."),
            (Action::AgencyApprove, false) => format!("{agency} đã giải quyết xong; hồ sơ trở về bộ phận một cửa."),
            (Action::AgencyApprove, true) => format!("{agency} completed its part; the dossier is back at the desk."),
            (Action::AgencyRefuse, false) => format!("{agency} từ chối giải quyết; hồ sơ trở về bộ phận một cửa."),
            (Action::AgencyRefuse, true) => format!("{agency} refused; the dossier is back at the desk."),
            (Action::AgencyRequestSupplement, false) => {
                format!("{agency} yêu cầu bổ sung hồ sơ; thời hạn giải quyết tạm dừng.")
            }
            (Action::AgencyRequestSupplement, true) => {
                format!("{agency} asked for a supplement; the deadline is paused.")
            }
            _ => self.label(lang).to_owned(),
        }
    }

    /// Which side takes it: the applicant (citizen) or the staff (officer or admin).
    pub fn by_applicant(self) -> bool {
        matches!(self, Action::AnswerSupplement | Action::Withdraw)
    }

    /// Whether the action ends the dossier's life (the result is handed back, or the
    /// citizen withdrew).
    pub fn closes(self) -> bool {
        matches!(self, Action::ReturnResult | Action::Withdraw)
    }

    /// Whether the action carries new form values, so it is taken only through the
    /// endpoint that validates them (`/supplement`), never as a bare transition.
    pub fn carries_values(self) -> bool {
        matches!(self, Action::AnswerSupplement)
    }
}

/// Why a transition is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("{} is not possible from {}", action.as_str(), from.as_str())]
    Illegal { from: DossierStatus, action: Action },
    /// Not this caller's move: the wrong role, or an agency officer of another agency
    /// than the one holding the dossier.
    #[error("{} is not for this caller", action.as_str())]
    Forbidden { action: Action },
    /// Approval before every agency leg of the route is done.
    #[error("agency legs are still pending")]
    LegsPending,
    /// Approval or forwarding after an agency refused its leg (only a rejection is left).
    #[error("an agency refused its leg")]
    AgencyRefused,
    /// Forwarding with no agency leg left on the route (or none at all).
    #[error("no agency leg is left to forward")]
    NoLegLeft,
    /// Forwarding to another agency than the next one of the route.
    #[error("not the next agency of the route")]
    NotNextAgency,
}

/// Who takes an action: their role, whether they filed this dossier, and for an agency
/// officer their agency's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller<'a> {
    pub role: Role,
    pub applicant: bool,
    pub agency: Option<&'a str>,
}

impl<'a> Caller<'a> {
    /// Staff of a branch (or an admin), or a citizen, without an agency.
    pub fn new(role: Role, applicant: bool) -> Caller<'a> {
        Caller { role, applicant, agency: None }
    }
}

/// The state after `action` from `from`, taken by `caller` on a dossier whose route is
/// `legs`, forwarding to `agency` when one is named. The single place that decides
/// legality; with the leg the action moves, if any.
pub fn transition_on(
    from: DossierStatus,
    legs: &[Leg],
    action: Action,
    caller: Caller<'_>,
    agency: Option<&str>,
) -> Result<(DossierStatus, Option<usize>), TransitionError> {
    use DossierStatus as S;
    let allowed = if action.by_applicant() {
        caller.applicant
    } else if action.by_agency() {
        caller.role == Role::AgencyOfficer
    } else {
        matches!(caller.role, Role::Officer | Role::Admin)
    };
    if !allowed {
        return Err(TransitionError::Forbidden { action });
    }
    let to = match (from, action) {
        (S::Submitted, Action::Receive) => S::Received,
        (S::Received, Action::StartProcessing) => S::InProcessing,
        (S::Received | S::InProcessing, Action::RequestSupplement) => S::SupplementRequested,
        (S::SupplementRequested, Action::AnswerSupplement) => S::InProcessing,
        (S::InProcessing, Action::Approve) => S::Approved,
        (S::Submitted | S::Received | S::InProcessing | S::SupplementRequested, Action::Reject) => S::Rejected,
        (S::Approved, Action::ReturnResult) => S::ResultReturned,
        (S::Submitted | S::Received | S::InProcessing | S::SupplementRequested | S::AtAgency, Action::Withdraw) => {
            S::Withdrawn
        }
        (S::Received | S::InProcessing, Action::Forward) => S::AtAgency,
        (S::AtAgency, Action::AgencyApprove | Action::AgencyRefuse) => S::InProcessing,
        (S::AtAgency, Action::AgencyRequestSupplement) => S::SupplementRequested,
        _ => return Err(TransitionError::Illegal { from, action }),
    };
    let route = route_state(legs);
    let leg = match action {
        Action::Forward => match route {
            RouteState::Refused(_) => return Err(TransitionError::AgencyRefused),
            RouteState::Current(i) if legs[i].state == LegState::Paused => Some(i),
            RouteState::Next(Some(i)) => Some(i),
            RouteState::Current(_) | RouteState::Next(None) => return Err(TransitionError::NoLegLeft),
        },
        Action::Approve => match route {
            RouteState::Refused(_) => return Err(TransitionError::AgencyRefused),
            RouteState::Current(_) | RouteState::Next(Some(_)) => return Err(TransitionError::LegsPending),
            RouteState::Next(None) => None,
        },
        Action::AgencyApprove | Action::AgencyRefuse | Action::AgencyRequestSupplement => match route {
            RouteState::Current(i)
                if legs[i].state == LegState::Open && caller.agency == Some(legs[i].agency.as_str()) =>
            {
                Some(i)
            }
            RouteState::Current(i) if legs[i].state == LegState::Open => {
                return Err(TransitionError::Forbidden { action });
            }
            _ => return Err(TransitionError::Illegal { from, action }),
        },
        Action::Reject | Action::Withdraw => match route {
            RouteState::Current(i) => Some(i),
            _ => None,
        },
        _ => None,
    };
    if let (Some(named), Action::Forward, Some(i)) = (agency, action, leg)
        && named != legs[i].agency
    {
        return Err(TransitionError::NotNextAgency);
    }
    Ok((to, leg))
}

/// The state after `action` from `from` for a dossier without agency legs (see
/// [`transition_on`]).
pub fn transition(
    from: DossierStatus,
    action: Action,
    role: Role,
    applicant: bool,
) -> Result<DossierStatus, TransitionError> {
    transition_on(from, &[], action, Caller::new(role, applicant), None).map(|(to, _)| to)
}

/// How a dossier stands against its legal deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// Not received yet: no clock.
    NotStarted,
    /// More than one working day left (or decided on time).
    OnTime,
    /// One working day or less left.
    AtRisk,
    /// Past the due date (or decided late).
    Overdue,
    /// The clock is stopped: a supplement is requested.
    Paused,
}

/// The legal clock of one dossier, in local (Vietnamese) dates: everything the deadline
/// depends on. Only [`step`] moves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Clock {
    /// The procedure's legal processing time, in working days.
    pub processing_days: u32,
    /// The day the desk received the dossier (the clock starts the next working day).
    pub received_on: Option<NaiveDate>,
    /// The due date: `processing_days` plus the paused working days after reception.
    pub due_date: Option<NaiveDate>,
    /// Working days spent waiting for supplements that were answered.
    pub paused_days: u32,
    /// The day the open supplement request was made (the clock is stopped since).
    pub pause_started_on: Option<NaiveDate>,
    /// The day of the decision (approval or rejection).
    pub decided_on: Option<NaiveDate>,
    /// Working days from reception to decision, once decided after a reception.
    pub working_days_taken: Option<u32>,
}

/// What someone asks of a dossier: the action, who asks, and (forwarding) the agency they
/// name, which must be the next one of the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    pub action: Action,
    pub caller: Caller<'a>,
    pub agency: Option<&'a str>,
}

/// What an action did to a dossier: its new state, clock and route, and which leg it
/// moved (an index into `legs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub to: DossierStatus,
    pub clock: Clock,
    pub legs: Vec<Leg>,
    pub leg: Option<usize>,
}

/// Working days in `(from, to]`, never negative.
fn days_between(calendar: &WorkingCalendar, from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from(calendar.working_days_between(from, to).max(0)).unwrap_or(u32::MAX)
}

/// The one place a dossier moves: whether the request is legal from `from` on a dossier
/// routed through `legs` (see [`transition_on`]), and how it moves the legal clock and
/// the legs' clocks on `today`. Reception starts the dossier's clock (`due =
/// processing_days` working days after that day); a supplement request (the branch's or
/// an agency's) stops it; the answer restarts it with the due date pushed back by the
/// working days it stood still; a decision records its day and the working days it took.
/// Forwarding starts a leg's clock (`due = days` working days after that day) or, after
/// the agency's supplement request was answered, restarts it with its due date pushed
/// back likewise; the agency's decision finishes it; a withdrawal or rejection cancels the
/// leg under way.
pub fn step(
    calendar: &WorkingCalendar,
    from: DossierStatus,
    clock: Clock,
    legs: &[Leg],
    request: Request<'_>,
    today: NaiveDate,
) -> Result<Step, TransitionError> {
    let action = request.action;
    let (to, moved) = transition_on(from, legs, action, request.caller, request.agency)?;
    let mut clock = clock;
    let mut legs = legs.to_vec();
    if let Some(leg) = moved.and_then(|i| legs.get_mut(i)) {
        match action {
            Action::Forward => {
                if let (Some(paused), Some(started)) = (leg.pause_started_on.take(), leg.started_on) {
                    leg.paused_days = leg.paused_days.saturating_add(days_between(calendar, paused, today));
                    leg.due_date = Some(calendar.add_working_days(started, leg.days.saturating_add(leg.paused_days)));
                } else {
                    leg.started_on = Some(today);
                    leg.due_date = Some(calendar.add_working_days(today, leg.days));
                }
                leg.state = LegState::Open;
            }
            Action::AgencyRequestSupplement => {
                leg.state = LegState::Paused;
                leg.pause_started_on = Some(today);
            }
            Action::AgencyApprove | Action::AgencyRefuse | Action::Reject | Action::Withdraw => {
                leg.state = match action {
                    Action::AgencyApprove => LegState::Done,
                    Action::AgencyRefuse => LegState::Refused,
                    _ => LegState::Cancelled,
                };
                if let Some(paused) = leg.pause_started_on.take() {
                    leg.paused_days = leg.paused_days.saturating_add(days_between(calendar, paused, today));
                }
                leg.finished_on = Some(today);
                leg.working_days_taken =
                    leg.started_on.map(|s| days_between(calendar, s, today).saturating_sub(leg.paused_days));
            }
            _ => {}
        }
    }
    match action {
        Action::Receive => {
            clock.received_on = Some(today);
            clock.due_date = Some(calendar.add_working_days(today, clock.processing_days));
        }
        Action::RequestSupplement | Action::AgencyRequestSupplement => clock.pause_started_on = Some(today),
        Action::AnswerSupplement => {
            if let (Some(started), Some(received)) = (clock.pause_started_on.take(), clock.received_on) {
                let stood = u32::try_from(calendar.working_days_between(started, today).max(0)).unwrap_or(u32::MAX);
                clock.paused_days = clock.paused_days.saturating_add(stood);
                let total = clock.processing_days.saturating_add(clock.paused_days);
                clock.due_date = Some(calendar.add_working_days(received, total));
            }
        }
        Action::Approve | Action::Reject => {
            clock.decided_on = Some(today);
            clock.working_days_taken = clock
                .received_on
                .map(|received| u32::try_from(calendar.working_days_between(received, today).max(0)).unwrap_or(0));
        }
        Action::StartProcessing
        | Action::ReturnResult
        | Action::Withdraw
        | Action::Forward
        | Action::AgencyApprove
        | Action::AgencyRefuse => {}
    }
    Ok(Step { to, clock, legs, leg: moved })
}

/// Whether a dossier decided on `decided` met its due date.
pub fn decided_on_time(due: Option<NaiveDate>, decided: NaiveDate) -> bool {
    due.is_some_and(|due| decided <= due)
}

/// Open dossiers due before this date (and not yet overdue) are at risk on `today`: one
/// working day or less is left.
pub fn at_risk_before(calendar: &WorkingCalendar, today: NaiveDate) -> NaiveDate {
    calendar.add_working_days(today, 2)
}

/// The deadline state of a dossier with `status`, due on `due` (if received), decided on
/// `decided` (if it was), seen on `today`.
pub fn deadline_state(
    calendar: &WorkingCalendar,
    status: DossierStatus,
    due: Option<NaiveDate>,
    decided: Option<NaiveDate>,
    today: NaiveDate,
) -> DeadlineState {
    let Some(due) = due else { return DeadlineState::NotStarted };
    if status == DossierStatus::SupplementRequested {
        return DeadlineState::Paused;
    }
    let at = if status.is_closed() { decided.unwrap_or(today) } else { today };
    if at > due {
        return DeadlineState::Overdue;
    }
    if status.is_closed() {
        return DeadlineState::OnTime;
    }
    if due < at_risk_before(calendar, today) { DeadlineState::AtRisk } else { DeadlineState::OnTime }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn happy_path_and_illegal_moves() {
        use DossierStatus as S;
        let officer = Role::Officer;
        let mut s = S::Submitted;
        for action in [Action::Receive, Action::StartProcessing, Action::RequestSupplement] {
            s = transition(s, action, officer, false).unwrap();
        }
        assert_eq!(s, S::SupplementRequested);
        s = transition(s, Action::AnswerSupplement, Role::Citizen, true).unwrap();
        assert_eq!(s, S::InProcessing);
        s = transition(s, Action::Approve, officer, false).unwrap();
        s = transition(s, Action::ReturnResult, officer, false).unwrap();
        assert_eq!(s, S::ResultReturned);
        assert_eq!(
            transition(S::ResultReturned, Action::Withdraw, Role::Citizen, true),
            Err(TransitionError::Illegal { from: S::ResultReturned, action: Action::Withdraw })
        );
        assert_eq!(
            transition(S::Submitted, Action::Receive, Role::Citizen, true),
            Err(TransitionError::Forbidden { action: Action::Receive })
        );
        assert_eq!(
            transition(S::Submitted, Action::Withdraw, Role::Officer, false),
            Err(TransitionError::Forbidden { action: Action::Withdraw })
        );
    }

    #[test]
    fn every_pair_is_decided_without_panic_and_closed_states_are_final() {
        for from in DossierStatus::ALL {
            for action in Action::ALL {
                for role in [Role::Citizen, Role::Officer, Role::Admin, Role::AgencyOfficer] {
                    for applicant in [false, true] {
                        let result = transition(from, action, role, applicant);
                        if from.is_closed() && from != DossierStatus::Approved {
                            assert!(result.is_err(), "{from:?} {action:?}");
                        }
                    }
                }
            }
        }
    }

    fn walk(actions: &[(Action, &str)], days: u32) -> Step {
        let cal = crate::calendar::vietnam();
        let mut at = Step {
            to: DossierStatus::Submitted,
            clock: Clock { processing_days: days, ..Clock::default() },
            legs: Vec::new(),
            leg: None,
        };
        for (action, on) in actions {
            let applicant = action.by_applicant();
            let role = if applicant { Role::Citizen } else { Role::Officer };
            let request = Request { action: *action, caller: Caller::new(role, applicant), agency: None };
            at = step(cal, at.to, at.clock, &at.legs, request, d(on)).unwrap();
        }
        at
    }

    #[test]
    fn the_clock_skips_tet_and_stands_still_during_a_supplement() {
        // Received Friday 13 Feb 2026, 5 working days; Tết break 14-22 Feb 2026.
        let received = walk(&[(Action::Receive, "2026-02-13")], 5);
        assert_eq!(received.clock.due_date, Some(d("2026-02-27")));
        // Stopped Mon 23 Feb, answered Wed 25 Feb: 2 working days added.
        let answered = walk(
            &[
                (Action::Receive, "2026-02-13"),
                (Action::StartProcessing, "2026-02-13"),
                (Action::RequestSupplement, "2026-02-23"),
                (Action::AnswerSupplement, "2026-02-25"),
            ],
            5,
        );
        assert_eq!(answered.to, DossierStatus::InProcessing);
        assert_eq!(answered.clock.due_date, Some(d("2026-03-03")));
        assert_eq!(answered.clock.paused_days, 2);
        assert_eq!(answered.clock.pause_started_on, None);
        // Decided on Tuesday 3 March: 7 working days after reception, on time.
        let decided = walk(
            &[
                (Action::Receive, "2026-02-13"),
                (Action::StartProcessing, "2026-02-13"),
                (Action::RequestSupplement, "2026-02-23"),
                (Action::AnswerSupplement, "2026-02-25"),
                (Action::Approve, "2026-03-03"),
            ],
            5,
        );
        assert_eq!(decided.clock.decided_on, Some(d("2026-03-03")));
        assert_eq!(decided.clock.working_days_taken, Some(7));
        assert!(decided_on_time(decided.clock.due_date, d("2026-03-03")));
        assert!(!decided_on_time(decided.clock.due_date, d("2026-03-04")));
        // A rejection before reception has no working days taken.
        let rejected = walk(&[(Action::Reject, "2026-02-13")], 5);
        assert_eq!(rejected.clock.working_days_taken, None);
    }

    #[test]
    fn illegal_steps_leave_the_clock_alone() {
        let cal = crate::calendar::vietnam();
        let clock = Clock { processing_days: 3, ..Clock::default() };
        let request = Request { action: Action::Approve, caller: Caller::new(Role::Officer, false), agency: None };
        let refused = step(cal, DossierStatus::Submitted, clock, &[], request, d("2026-03-02"));
        assert_eq!(refused, Err(TransitionError::Illegal { from: DossierStatus::Submitted, action: Action::Approve }));
    }

    // ---- Inter-agency handling (một cửa liên thông) ----

    fn plan(legs: &[(&str, Option<u32>, Option<u32>)]) -> Vec<crate::wire::AgencyLegPlan> {
        legs.iter()
            .map(|(agency, working_days, share_percent)| crate::wire::AgencyLegPlan {
                agency: (*agency).to_owned(),
                working_days: *working_days,
                share_percent: *share_percent,
            })
            .collect()
    }

    /// A dossier of 10 working days routed through agency A (6 days) then B (3 days).
    struct Route {
        at: Step,
    }

    impl Route {
        fn new() -> Route {
            let legs = route(10, &plan(&[("A", Some(6), None), ("B", Some(3), None)]));
            Route {
                at: Step {
                    to: DossierStatus::Submitted,
                    clock: Clock { processing_days: 10, ..Clock::default() },
                    legs,
                    leg: None,
                },
            }
        }

        fn try_act(
            &self,
            action: Action,
            caller: Caller<'_>,
            agency: Option<&str>,
            on: &str,
        ) -> Result<Step, TransitionError> {
            let request = Request { action, caller, agency };
            step(crate::calendar::vietnam(), self.at.to, self.at.clock, &self.at.legs, request, d(on))
        }

        fn act(&mut self, action: Action, caller: Caller<'_>, on: &str) -> &Step {
            self.at = self.try_act(action, caller, None, on).unwrap();
            &self.at
        }
    }

    const BRANCH: Caller<'static> = Caller { role: Role::Officer, applicant: false, agency: None };
    const CITIZEN: Caller<'static> = Caller { role: Role::Citizen, applicant: true, agency: None };
    const AGENCY_A: Caller<'static> = Caller { role: Role::AgencyOfficer, applicant: false, agency: Some("A") };
    const AGENCY_B: Caller<'static> = Caller { role: Role::AgencyOfficer, applicant: false, agency: Some("B") };

    #[test]
    fn legs_take_working_days_or_a_share_rounded_down_and_never_more_than_the_legal_time() {
        assert_eq!(plan_days(20, &plan(&[("X", None, Some(75)), ("Y", None, Some(15))])), Ok(vec![15, 3]));
        assert_eq!(plan_days(5, &plan(&[("X", None, Some(80))])), Ok(vec![4]));
        assert_eq!(plan_days(3, &plan(&[("X", None, Some(50))])), Ok(vec![1]));
        assert_eq!(plan_days(10, &plan(&[("X", Some(6), None), ("Y", Some(4), None)])), Ok(vec![6, 4]));
        assert_eq!(
            plan_days(10, &plan(&[("X", Some(6), None), ("Y", Some(5), None)])),
            Err(PlanError::TooLong { legs: 11, total: 10 })
        );
        assert!(matches!(plan_days(10, &plan(&[("X", Some(6), Some(10))])), Err(PlanError::OneMeasure { .. })));
        assert!(matches!(plan_days(10, &plan(&[("X", None, None)])), Err(PlanError::OneMeasure { .. })));
        assert!(matches!(plan_days(10, &plan(&[("X", None, Some(0))])), Err(PlanError::BadShare { .. })));
        assert!(matches!(
            plan_days(10, &plan(&[("X", Some(1), None), ("X", Some(1), None)])),
            Err(PlanError::Repeated { .. })
        ));
        assert!(route(10, &plan(&[("X", Some(11), None)])).is_empty(), "a refused plan gives no legs");
    }

    #[test]
    fn a_dossier_goes_through_two_agencies_each_timed_against_its_share() {
        let mut r = Route::new();
        // Received and forwarded on Monday 2 March 2026: A has 6 working days, to Tuesday 10 March.
        r.act(Action::Receive, BRANCH, "2026-03-02");
        assert_eq!(
            r.try_act(Action::Approve, BRANCH, None, "2026-03-02").map(|s| s.to),
            Err(TransitionError::Illegal { from: DossierStatus::Received, action: Action::Approve })
        );
        let at_a = r.act(Action::Forward, BRANCH, "2026-03-02").clone();
        assert_eq!((at_a.to, at_a.leg), (DossierStatus::AtAgency, Some(0)));
        assert_eq!(at_a.legs[0].state, LegState::Open);
        assert_eq!(at_a.legs[0].due_date, Some(d("2026-03-10")));
        assert_eq!(at_a.legs[1].state, LegState::Pending);
        // While A holds it, the branch can neither approve, reject nor forward again.
        for action in [Action::Approve, Action::Reject, Action::Forward, Action::RequestSupplement] {
            assert_eq!(
                r.try_act(action, BRANCH, None, "2026-03-03").map(|s| s.to),
                Err(TransitionError::Illegal { from: DossierStatus::AtAgency, action }),
                "{action:?}"
            );
        }
        // A finishes on Monday 9 March: 5 working days, on time; back at the branch.
        let done_a = r.act(Action::AgencyApprove, AGENCY_A, "2026-03-09").clone();
        assert_eq!((done_a.to, done_a.leg), (DossierStatus::InProcessing, Some(0)));
        assert_eq!(done_a.legs[0].state, LegState::Done);
        assert_eq!(done_a.legs[0].working_days_taken, Some(5));
        assert_eq!(done_a.legs[0].deadline(crate::calendar::vietnam(), d("2026-04-01")), DeadlineState::OnTime);
        // B is still to act: no approval yet.
        assert_eq!(
            r.try_act(Action::Approve, BRANCH, None, "2026-03-09").map(|s| s.to),
            Err(TransitionError::LegsPending)
        );
        // Forwarding names the next agency or none; another is refused.
        assert_eq!(
            r.try_act(Action::Forward, BRANCH, Some("A"), "2026-03-09").map(|s| s.to),
            Err(TransitionError::NotNextAgency)
        );
        let at_b = r.try_act(Action::Forward, BRANCH, Some("B"), "2026-03-09").unwrap();
        r.at = at_b;
        assert_eq!(r.at.legs[1].due_date, Some(d("2026-03-12")));
        // B finishes late, on Friday 13 March: the leg is overdue, the dossier (due 16 March) is not.
        let done_b = r.act(Action::AgencyApprove, AGENCY_B, "2026-03-13").clone();
        assert_eq!(done_b.legs[1].deadline(crate::calendar::vietnam(), d("2026-03-13")), DeadlineState::Overdue);
        assert_eq!(done_b.clock.due_date, Some(d("2026-03-16")));
        assert_eq!(
            r.try_act(Action::Forward, BRANCH, None, "2026-03-13").map(|s| s.to),
            Err(TransitionError::NoLegLeft)
        );
        let approved = r.act(Action::Approve, BRANCH, "2026-03-16").clone();
        assert_eq!(approved.to, DossierStatus::Approved);
        assert!(decided_on_time(approved.clock.due_date, d("2026-03-16")));
    }

    #[test]
    fn only_the_agency_holding_the_dossier_decides_and_only_while_it_holds_it() {
        let mut r = Route::new();
        r.act(Action::Receive, BRANCH, "2026-03-02");
        // Agency officers cannot take the branch's moves, nor the branch the agency's.
        assert_eq!(
            r.try_act(Action::Forward, AGENCY_A, None, "2026-03-02").map(|s| s.to),
            Err(TransitionError::Forbidden { action: Action::Forward })
        );
        assert_eq!(
            r.try_act(Action::AgencyApprove, BRANCH, None, "2026-03-02").map(|s| s.to),
            Err(TransitionError::Forbidden { action: Action::AgencyApprove })
        );
        let admin = Caller { role: Role::Admin, applicant: false, agency: None };
        assert_eq!(
            r.try_act(Action::AgencyRefuse, admin, None, "2026-03-02").map(|s| s.to),
            Err(TransitionError::Forbidden { action: Action::AgencyRefuse })
        );
        // Not at an agency yet: the wrong state.
        assert_eq!(
            r.try_act(Action::AgencyApprove, AGENCY_A, None, "2026-03-02").map(|s| s.to),
            Err(TransitionError::Illegal { from: DossierStatus::Received, action: Action::AgencyApprove })
        );
        r.act(Action::Forward, BRANCH, "2026-03-02");
        // At A: B may not act on it.
        for action in [Action::AgencyApprove, Action::AgencyRefuse, Action::AgencyRequestSupplement] {
            assert_eq!(
                r.try_act(action, AGENCY_B, None, "2026-03-03").map(|s| s.to),
                Err(TransitionError::Forbidden { action })
            );
        }
        // A refuses: back at the branch, which can only reject.
        let refused = r.act(Action::AgencyRefuse, AGENCY_A, "2026-03-03").clone();
        assert_eq!((refused.to, refused.legs[0].state), (DossierStatus::InProcessing, LegState::Refused));
        assert_eq!(
            r.try_act(Action::Approve, BRANCH, None, "2026-03-03").map(|s| s.to),
            Err(TransitionError::AgencyRefused)
        );
        assert_eq!(
            r.try_act(Action::Forward, BRANCH, None, "2026-03-03").map(|s| s.to),
            Err(TransitionError::AgencyRefused)
        );
        assert_eq!(r.act(Action::Reject, BRANCH, "2026-03-03").to, DossierStatus::Rejected);
    }

    #[test]
    fn an_agencys_supplement_request_stops_both_clocks_until_the_branch_forwards_the_answer() {
        let mut r = Route::new();
        // Received and forwarded Monday 2 March 2026: dossier due Monday 16 March, leg A due Tuesday 10 March.
        r.act(Action::Receive, BRANCH, "2026-03-02");
        r.act(Action::Forward, BRANCH, "2026-03-02");
        // A asks for more on Wednesday 4 March: back at the branch and the citizen, clocks stopped.
        let asked = r.act(Action::AgencyRequestSupplement, AGENCY_A, "2026-03-04").clone();
        assert_eq!(asked.to, DossierStatus::SupplementRequested);
        assert_eq!((asked.legs[0].state, asked.legs[0].pause_started_on), (LegState::Paused, Some(d("2026-03-04"))));
        assert_eq!(asked.clock.pause_started_on, Some(d("2026-03-04")));
        assert_eq!(asked.legs[0].deadline(crate::calendar::vietnam(), d("2026-03-30")), DeadlineState::Paused);
        // The agency cannot act on it meanwhile.
        assert!(r.try_act(Action::AgencyApprove, AGENCY_A, None, "2026-03-05").is_err());
        // The citizen answers on Monday 9 March (3 working days later): the dossier is due 3 days later.
        let answered = r.act(Action::AnswerSupplement, CITIZEN, "2026-03-09").clone();
        assert_eq!((answered.to, answered.clock.due_date), (DossierStatus::InProcessing, Some(d("2026-03-19"))));
        assert_eq!(answered.legs[0].state, LegState::Paused, "the leg waits for the branch to forward it again");
        // The branch forwards it again on Tuesday 10 March: A's leg stood 4 working days.
        let again = r.act(Action::Forward, BRANCH, "2026-03-10").clone();
        assert_eq!((again.to, again.leg), (DossierStatus::AtAgency, Some(0)));
        assert_eq!(again.legs[0].paused_days, 4);
        assert_eq!(again.legs[0].started_on, Some(d("2026-03-02")));
        assert_eq!(again.legs[0].due_date, Some(d("2026-03-16")));
        // Done on Monday 16 March: 10 working days since forwarding, 4 of them waiting.
        let done = r.act(Action::AgencyApprove, AGENCY_A, "2026-03-16").clone();
        assert_eq!(done.legs[0].working_days_taken, Some(6));
        assert_eq!(done.legs[0].deadline(crate::calendar::vietnam(), d("2026-03-16")), DeadlineState::OnTime);
    }

    #[test]
    fn a_leg_past_its_due_date_is_overdue_and_a_withdrawal_cancels_it() {
        let mut r = Route::new();
        r.act(Action::Receive, BRANCH, "2026-03-02");
        let at_a = r.act(Action::Forward, BRANCH, "2026-03-02").clone();
        let cal = crate::calendar::vietnam();
        for (today, state) in [
            ("2026-03-05", DeadlineState::OnTime),
            ("2026-03-09", DeadlineState::AtRisk),
            ("2026-03-10", DeadlineState::AtRisk),
            ("2026-03-11", DeadlineState::Overdue),
        ] {
            assert_eq!(at_a.legs[0].deadline(cal, d(today)), state, "{today}");
        }
        assert_eq!(Leg::pending("A", 3).deadline(cal, d("2026-03-11")), DeadlineState::NotStarted);
        let withdrawn = r.act(Action::Withdraw, CITIZEN, "2026-03-11").clone();
        assert_eq!((withdrawn.to, withdrawn.legs[0].state), (DossierStatus::Withdrawn, LegState::Cancelled));
        assert_eq!(withdrawn.legs[1].state, LegState::Pending);
    }

    #[test]
    fn at_risk_is_one_working_day_or_less() {
        let cal = crate::calendar::vietnam();
        // Friday 6 March 2026: the second working day after it is Tuesday 10 March.
        assert_eq!(at_risk_before(cal, d("2026-03-06")), d("2026-03-10"));
        for (due, state) in [
            ("2026-03-06", DeadlineState::AtRisk),
            ("2026-03-09", DeadlineState::AtRisk),
            ("2026-03-10", DeadlineState::OnTime),
        ] {
            assert_eq!(
                deadline_state(cal, DossierStatus::InProcessing, Some(d(due)), None, d("2026-03-06")),
                state,
                "{due}"
            );
        }
    }

    #[test]
    fn deadline_states() {
        let cal = crate::calendar::vietnam();
        let due = Some(d("2026-03-10"));
        assert_eq!(
            deadline_state(cal, DossierStatus::Submitted, None, None, d("2026-03-01")),
            DeadlineState::NotStarted
        );
        assert_eq!(deadline_state(cal, DossierStatus::InProcessing, due, None, d("2026-03-02")), DeadlineState::OnTime);
        assert_eq!(deadline_state(cal, DossierStatus::InProcessing, due, None, d("2026-03-09")), DeadlineState::AtRisk);
        assert_eq!(
            deadline_state(cal, DossierStatus::InProcessing, due, None, d("2026-03-11")),
            DeadlineState::Overdue
        );
        assert_eq!(
            deadline_state(cal, DossierStatus::SupplementRequested, due, None, d("2026-03-11")),
            DeadlineState::Paused
        );
        assert_eq!(
            deadline_state(cal, DossierStatus::Approved, due, Some(d("2026-03-10")), d("2026-04-01")),
            DeadlineState::OnTime
        );
        assert_eq!(
            deadline_state(cal, DossierStatus::Approved, due, Some(d("2026-03-11")), d("2026-04-01")),
            DeadlineState::Overdue
        );
    }
}
