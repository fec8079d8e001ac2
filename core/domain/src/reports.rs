//! Field reports (phản ánh hiện trường): their states, the actions on them and who may
//! take them, the evidence a resolution needs, the reporter's 7-day window to rate or
//! reopen, the response deadline on the working-day calendar, and the area they may be
//! filed in.
//!
//! One state machine, used by the server to decide and by the client to show what is
//! possible; an illegal move is refused here, nowhere else.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::WorkingCalendar;
use crate::geo::LatLng;
use crate::wire::Role;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// How long after a resolution its reporter may rate it or reopen it.
pub const REPORTER_WINDOW: TimeDelta = TimeDelta::days(7);
/// Photos a citizen's report carries (before), and an officer's resolution (after).
pub const MIN_PHOTOS: usize = 1;
pub const MAX_PHOTOS: usize = 5;
/// Longest description and response, in characters.
pub const MAX_TEXT: usize = 2000;
/// Reports of the same category this close (metres) and this recent (days) are offered
/// as possible duplicates before filing.
pub const NEARBY_RADIUS_M: f64 = 250.0;
pub const NEARBY_DAYS: i64 = 30;

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Filed; routed to a ward, nobody has taken it yet.
    Received,
    /// An officer took it (or was given it).
    Assigned,
    /// Someone is on the spot.
    InProgress,
    /// Fixed, with a response and at least one photo after.
    Resolved,
    /// Refused, with a reason.
    Rejected,
    /// The reporter said the resolution did not fix it (within 7 days).
    Reopened,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 6] = [
        ReportStatus::Received,
        ReportStatus::Assigned,
        ReportStatus::InProgress,
        ReportStatus::Resolved,
        ReportStatus::Rejected,
        ReportStatus::Reopened,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Received => "received",
            ReportStatus::Assigned => "assigned",
            ReportStatus::InProgress => "in_progress",
            ReportStatus::Resolved => "resolved",
            ReportStatus::Rejected => "rejected",
            ReportStatus::Reopened => "reopened",
        }
    }

    pub fn parse(s: &str) -> Option<ReportStatus> {
        ReportStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        let (vi, en) = match self {
            ReportStatus::Received => ("Đã tiếp nhận", "Received"),
            ReportStatus::Assigned => ("Đã phân công", "Assigned"),
            ReportStatus::InProgress => ("Đang xử lý", "In progress"),
            ReportStatus::Resolved => ("Đã xử lý xong", "Resolved"),
            ReportStatus::Rejected => ("Từ chối", "Rejected"),
            ReportStatus::Reopened => ("Mở lại", "Reopened"),
        };
        if lang == crate::i18n::Lang::En { en } else { vi }
    }

    /// Still waiting for the handling unit (the deadline runs).
    pub fn is_open(self) -> bool {
        !matches!(self, ReportStatus::Resolved | ReportStatus::Rejected)
    }

    /// The statuses whose reports are open, for SQL `IN` lists.
    pub fn open() -> impl Iterator<Item = ReportStatus> {
        ReportStatus::ALL.into_iter().filter(|s| s.is_open())
    }
}

/// Why a report was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    Duplicate,
    OutOfScope,
    NotEnoughInformation,
}

impl RejectReason {
    pub const ALL: [RejectReason; 3] =
        [RejectReason::Duplicate, RejectReason::OutOfScope, RejectReason::NotEnoughInformation];

    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Duplicate => "duplicate",
            RejectReason::OutOfScope => "out_of_scope",
            RejectReason::NotEnoughInformation => "not_enough_information",
        }
    }

    pub fn parse(s: &str) -> Option<RejectReason> {
        RejectReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        let (vi, en) = match self {
            RejectReason::Duplicate => ("Trùng với phản ánh khác", "Duplicate of another report"),
            RejectReason::OutOfScope => ("Không thuộc phạm vi xử lý", "Out of scope"),
            RejectReason::NotEnoughInformation => ("Không đủ thông tin", "Not enough information"),
        };
        if lang == crate::i18n::Lang::En { en } else { vi }
    }
}

/// What someone does to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportAction {
    /// Staff: give it to an officer (oneself by default).
    Assign,
    /// Staff: work started.
    Start,
    /// Staff: fixed (needs a response and an after photo).
    Resolve,
    /// Staff: refused (needs a reason).
    Reject,
    /// Staff: send it to another ward (its status does not change).
    MoveWard,
    /// Reporter: the resolution did not fix it (within 7 days).
    Reopen,
}

impl ReportAction {
    pub const ALL: [ReportAction; 6] = [
        ReportAction::Assign,
        ReportAction::Start,
        ReportAction::Resolve,
        ReportAction::Reject,
        ReportAction::MoveWard,
        ReportAction::Reopen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportAction::Assign => "assign",
            ReportAction::Start => "start",
            ReportAction::Resolve => "resolve",
            ReportAction::Reject => "reject",
            ReportAction::MoveWard => "move_ward",
            ReportAction::Reopen => "reopen",
        }
    }

    pub fn parse(s: &str) -> Option<ReportAction> {
        ReportAction::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        let (vi, en) = match self {
            ReportAction::Assign => ("Phân công", "Assign"),
            ReportAction::Start => ("Bắt đầu xử lý", "Start"),
            ReportAction::Resolve => ("Hoàn thành xử lý", "Resolve"),
            ReportAction::Reject => ("Từ chối", "Reject"),
            ReportAction::MoveWard => ("Chuyển phường/xã", "Move to another ward"),
            ReportAction::Reopen => ("Mở lại", "Reopen"),
        };
        if lang == crate::i18n::Lang::En { en } else { vi }
    }

    /// Taken by the reporter rather than by staff.
    pub fn by_reporter(self) -> bool {
        matches!(self, ReportAction::Reopen)
    }
}

/// What the action brings with it, so that its rules are checked here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evidence<'a> {
    /// The response text (a resolution's answer, a rejection's explanation).
    pub response: Option<&'a str>,
    /// Photos taken after the work.
    pub after_photos: usize,
    pub reason: Option<RejectReason>,
    /// When the report was last resolved (for the reporter's window).
    pub resolved_at: Option<DateTime<Utc>>,
    pub now: Option<DateTime<Utc>>,
}

/// Why an action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("{} is not possible from {}", action.as_str(), from.as_str())]
    Illegal { from: ReportStatus, action: ReportAction },
    #[error("{} is not for this caller", action.as_str())]
    Forbidden { action: ReportAction },
    /// A resolution without a response text.
    #[error("a resolution needs a response")]
    MissingResponse,
    /// A resolution without a photo after.
    #[error("a resolution needs a photo after the work")]
    MissingAfterPhoto,
    /// A rejection without its reason.
    #[error("a rejection needs a reason")]
    MissingReason,
    /// The reporter's 7 days after the resolution are over.
    #[error("the reporter's 7 days are over")]
    WindowClosed,
}

/// The state after `action` from `from`, taken by someone of `role` (`reporter` says
/// whether they filed the report), with what the action brings. The single place that
/// decides legality.
pub fn transition(
    from: ReportStatus,
    action: ReportAction,
    role: Role,
    reporter: bool,
    evidence: &Evidence<'_>,
) -> Result<ReportStatus, ReportError> {
    use ReportStatus as S;
    let allowed = if action.by_reporter() { reporter } else { matches!(role, Role::Officer | Role::Admin) };
    if !allowed {
        return Err(ReportError::Forbidden { action });
    }
    let open = from.is_open();
    let to = match (from, action) {
        (S::Received | S::Assigned | S::Reopened, ReportAction::Assign) => S::Assigned,
        (S::Received | S::Assigned | S::Reopened, ReportAction::Start) => S::InProgress,
        (_, ReportAction::Resolve) if open => S::Resolved,
        (_, ReportAction::Reject) if open => S::Rejected,
        (_, ReportAction::MoveWard) if open => from,
        (S::Resolved, ReportAction::Reopen) => S::Reopened,
        _ => return Err(ReportError::Illegal { from, action }),
    };
    match action {
        ReportAction::Resolve => {
            if evidence.response.is_none_or(|r| r.trim().is_empty()) {
                return Err(ReportError::MissingResponse);
            }
            if evidence.after_photos < MIN_PHOTOS {
                return Err(ReportError::MissingAfterPhoto);
            }
        }
        ReportAction::Reject if evidence.reason.is_none() => return Err(ReportError::MissingReason),
        ReportAction::Reopen if !within_window(evidence.resolved_at, evidence.now) => {
            return Err(ReportError::WindowClosed);
        }
        _ => {}
    }
    Ok(to)
}

/// Whether `now` is within the reporter's window after `resolved_at`.
pub fn within_window(resolved_at: Option<DateTime<Utc>>, now: Option<DateTime<Utc>>) -> bool {
    matches!((resolved_at, now), (Some(r), Some(n)) if n >= r && n - r <= REPORTER_WINDOW)
}

/// Whether the reporter may rate now: the report is resolved, within the window.
pub fn may_rate(status: ReportStatus, resolved_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    status == ReportStatus::Resolved && within_window(resolved_at, Some(now))
}

/// The day the handling unit must answer by: `days` working days after the day it was
/// filed (local date).
pub fn due_date(calendar: &WorkingCalendar, filed_on: NaiveDate, days: u32) -> NaiveDate {
    calendar.add_working_days(filed_on, days)
}

/// An open report past its due date.
pub fn is_overdue(status: ReportStatus, due: NaiveDate, today: NaiveDate) -> bool {
    status.is_open() && today > due
}

/// Who handles a category of report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HandlingUnit {
    /// The ward or commune the place lies in.
    Ward,
    /// A department of the city (construction, transport, environment...).
    CityDepartment,
    /// A utility company (lighting, water, drainage).
    Utility,
}

/// The city's service area: Hanoi's extent (with a margin of a few hundred metres).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServiceArea {
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lng: f64,
    pub max_lng: f64,
}

pub const HANOI: ServiceArea = ServiceArea { min_lat: 20.53, max_lat: 21.40, min_lng: 105.28, max_lng: 106.03 };

impl ServiceArea {
    pub fn contains(&self, p: LatLng) -> bool {
        (self.min_lat..=self.max_lat).contains(&p.lat) && (self.min_lng..=self.max_lng).contains(&p.lng)
    }
}

/// A ward's centre, for routing a report to the nearest one.
#[derive(Debug, Clone, PartialEq)]
pub struct WardCentre {
    pub code: String,
    pub name: String,
    pub centre: LatLng,
}

/// The ward a point belongs to: no boundary polygons are known yet, so the ward whose
/// centre is nearest (an officer can move the report).
pub fn route_to_ward(wards: &[WardCentre], p: LatLng) -> Option<&WardCentre> {
    wards.iter().min_by(|a, b| a.centre.distance_km(p).total_cmp(&b.centre.distance_km(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn resolving_needs_a_response_and_an_after_photo() {
        let none = Evidence::default();
        assert_eq!(
            transition(ReportStatus::InProgress, ReportAction::Resolve, Role::Officer, false, &none),
            Err(ReportError::MissingResponse)
        );
        let text_only = Evidence { response: Some("Đã thu gom rác."), ..Evidence::default() };
        assert_eq!(
            transition(ReportStatus::InProgress, ReportAction::Resolve, Role::Officer, false, &text_only),
            Err(ReportError::MissingAfterPhoto)
        );
        let blank = Evidence { response: Some("  "), after_photos: 1, ..Evidence::default() };
        assert_eq!(
            transition(ReportStatus::Received, ReportAction::Resolve, Role::Officer, false, &blank),
            Err(ReportError::MissingResponse)
        );
        let full = Evidence { response: Some("Đã thu gom rác."), after_photos: 1, ..Evidence::default() };
        assert_eq!(
            transition(ReportStatus::InProgress, ReportAction::Resolve, Role::Officer, false, &full),
            Ok(ReportStatus::Resolved)
        );
        assert_eq!(
            transition(ReportStatus::Resolved, ReportAction::Resolve, Role::Officer, false, &full),
            Err(ReportError::Illegal { from: ReportStatus::Resolved, action: ReportAction::Resolve })
        );
    }

    #[test]
    fn citizens_cannot_handle_and_staff_cannot_reopen() {
        let e = Evidence::default();
        assert_eq!(
            transition(ReportStatus::Received, ReportAction::Assign, Role::Citizen, true, &e),
            Err(ReportError::Forbidden { action: ReportAction::Assign })
        );
        assert_eq!(
            transition(ReportStatus::Resolved, ReportAction::Reopen, Role::Officer, false, &e),
            Err(ReportError::Forbidden { action: ReportAction::Reopen })
        );
        let reject = Evidence { reason: Some(RejectReason::Duplicate), ..Evidence::default() };
        assert_eq!(
            transition(ReportStatus::Received, ReportAction::Reject, Role::Admin, false, &e),
            Err(ReportError::MissingReason)
        );
        assert_eq!(
            transition(ReportStatus::Received, ReportAction::Reject, Role::Admin, false, &reject),
            Ok(ReportStatus::Rejected)
        );
        assert_eq!(
            transition(ReportStatus::Rejected, ReportAction::MoveWard, Role::Officer, false, &e),
            Err(ReportError::Illegal { from: ReportStatus::Rejected, action: ReportAction::MoveWard })
        );
        assert_eq!(
            transition(ReportStatus::Assigned, ReportAction::MoveWard, Role::Officer, false, &e),
            Ok(ReportStatus::Assigned)
        );
    }

    #[test]
    fn the_reporter_may_reopen_within_seven_days_only() {
        let resolved = at("2026-03-02T03:00:00Z");
        let inside =
            Evidence { resolved_at: Some(resolved), now: Some(at("2026-03-09T02:59:00Z")), ..Evidence::default() };
        let outside =
            Evidence { resolved_at: Some(resolved), now: Some(at("2026-03-09T03:01:00Z")), ..Evidence::default() };
        assert_eq!(
            transition(ReportStatus::Resolved, ReportAction::Reopen, Role::Citizen, true, &inside),
            Ok(ReportStatus::Reopened)
        );
        assert_eq!(
            transition(ReportStatus::Resolved, ReportAction::Reopen, Role::Citizen, true, &outside),
            Err(ReportError::WindowClosed)
        );
        assert!(may_rate(ReportStatus::Resolved, Some(resolved), at("2026-03-05T00:00:00Z")));
        assert!(!may_rate(ReportStatus::Reopened, Some(resolved), at("2026-03-05T00:00:00Z")));
        // A reopened report goes back through the queue.
        assert_eq!(
            transition(ReportStatus::Reopened, ReportAction::Start, Role::Officer, false, &Evidence::default()),
            Ok(ReportStatus::InProgress)
        );
    }

    #[test]
    fn overdue_counts_working_days() {
        let cal = crate::calendar::vietnam();
        // Filed on Friday 2026-03-06 with 2 working days: due Tuesday 10 March.
        let filed = NaiveDate::from_ymd_opt(2026, 3, 6).unwrap_or_default();
        let due = due_date(cal, filed, 2);
        assert_eq!(due, NaiveDate::from_ymd_opt(2026, 3, 10).unwrap_or_default());
        assert!(!is_overdue(ReportStatus::Received, due, due));
        assert!(is_overdue(ReportStatus::Received, due, due.succ_opt().unwrap_or(due)));
        assert!(!is_overdue(ReportStatus::Resolved, due, due.succ_opt().unwrap_or(due)));
    }

    #[test]
    fn routes_to_the_nearest_centre_inside_the_city_only() {
        let wards = vec![
            WardCentre { code: "A".into(), name: "Phường A".into(), centre: LatLng { lat: 21.03, lng: 105.85 } },
            WardCentre { code: "B".into(), name: "Phường B".into(), centre: LatLng { lat: 21.00, lng: 105.80 } },
        ];
        let p = LatLng { lat: 21.01, lng: 105.81 };
        assert_eq!(route_to_ward(&wards, p).map(|w| w.code.as_str()), Some("B"));
        assert!(HANOI.contains(LatLng { lat: 21.0285, lng: 105.8542 }));
        assert!(!HANOI.contains(LatLng { lat: 10.77, lng: 106.70 }));
    }
}
