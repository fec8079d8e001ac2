//! The dossier workflow: states, actions, who may take them, and the legal deadline
//! (working days from reception, the clock stopped while a supplement is requested).
//!
//! One state machine, used by the server to decide and by the client to show what is
//! possible; an illegal transition is refused here, nowhere else.

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
    /// Being processed by the competent agency.
    InProcessing,
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
    pub const ALL: [DossierStatus; 8] = [
        DossierStatus::Submitted,
        DossierStatus::Received,
        DossierStatus::InProcessing,
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
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Receive,
        Action::StartProcessing,
        Action::RequestSupplement,
        Action::AnswerSupplement,
        Action::Approve,
        Action::Reject,
        Action::ReturnResult,
        Action::Withdraw,
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
        };
        if lang == crate::i18n::Lang::En { en } else { vi }
    }

    /// Whether the action needs a note (a reason for a rejection, what to add for a
    /// supplement request).
    pub fn needs_note(self) -> bool {
        matches!(self, Action::Reject | Action::RequestSupplement)
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
    #[error("{} is not for this role", action.as_str())]
    Forbidden { action: Action },
}

/// The state after `action` from `from`, taken by someone of `role` (`applicant` says
/// whether they filed this dossier). The single place that decides legality.
pub fn transition(
    from: DossierStatus,
    action: Action,
    role: Role,
    applicant: bool,
) -> Result<DossierStatus, TransitionError> {
    use DossierStatus as S;
    let allowed = if action.by_applicant() { applicant } else { matches!(role, Role::Officer | Role::Admin) };
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
        (S::Submitted | S::Received | S::InProcessing | S::SupplementRequested, Action::Withdraw) => S::Withdrawn,
        _ => return Err(TransitionError::Illegal { from, action }),
    };
    Ok(to)
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

/// What an action did to a dossier: its new state and clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub to: DossierStatus,
    pub clock: Clock,
}

/// The one place a dossier moves: whether `action` is legal from `from` for this caller
/// (see [`transition`]), and how it moves the legal clock on `today`: reception starts it
/// (`due = processing_days` working days after that day), a supplement request stops it,
/// the answer restarts it with the due date pushed back by the working days it stood
/// still, and a decision records its day and the working days it took.
pub fn step(
    calendar: &WorkingCalendar,
    from: DossierStatus,
    clock: Clock,
    action: Action,
    role: Role,
    applicant: bool,
    today: NaiveDate,
) -> Result<Step, TransitionError> {
    let to = transition(from, action, role, applicant)?;
    let mut clock = clock;
    match action {
        Action::Receive => {
            clock.received_on = Some(today);
            clock.due_date = Some(calendar.add_working_days(today, clock.processing_days));
        }
        Action::RequestSupplement => clock.pause_started_on = Some(today),
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
        Action::StartProcessing | Action::ReturnResult | Action::Withdraw => {}
    }
    Ok(Step { to, clock })
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
                for role in [Role::Citizen, Role::Officer, Role::Admin] {
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
        let mut at = Step { to: DossierStatus::Submitted, clock: Clock { processing_days: days, ..Clock::default() } };
        for (action, on) in actions {
            let applicant = action.by_applicant();
            let role = if applicant { Role::Citizen } else { Role::Officer };
            at = step(cal, at.to, at.clock, *action, role, applicant, d(on)).unwrap();
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
        let refused =
            step(cal, DossierStatus::Submitted, clock, Action::Approve, Role::Officer, false, d("2026-03-02"));
        assert_eq!(refused, Err(TransitionError::Illegal { from: DossierStatus::Submitted, action: Action::Approve }));
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
