//! Figures for the center: dossiers received and decided, on-time rate, average processing
//! time in working days and satisfaction, per branch and per procedure, over a period; and
//! per competent agency, its legs forwarded and finished, on time against each leg's share
//! of the legal time, and those overdue at the agency today.
//! The sums are made in SQL ([`store::stats_groups`]) over the clock's local dates that the
//! domain's `workflow::step` recorded; this module only adds groups up and divides.

use std::collections::BTreeMap;

use axum::extract::State;
use chrono::NaiveDate;
use motcua_domain::form::FieldErrorCode;
use motcua_domain::wire::{ErrorBody, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, local_date};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::extract::{ApiQuery, ParamErrors};

/// The dates a period may span: the centre's records start in 2000, and nothing is decided
/// past 2100 (a bound, so no date arithmetic can overflow).
fn date_bounds() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::MIN.max(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN)),
        NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(NaiveDate::MAX),
    )
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stats))
}

#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// First day (local date, `YYYY-MM-DD`), default 30 days ago.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Last day (inclusive), default today.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
    /// A branch code (officers: always their own branch).
    branch: Option<String>,
}

/// Counts and rates over the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    /// Dossiers received (accepted by the desk) in the period.
    pub received: u64,
    /// Dossiers decided (approved or rejected) in the period.
    pub decided: u64,
    /// Of those, decided on or before their due date.
    pub decided_on_time: u64,
    /// `decided_on_time / decided` (absent when nothing was decided).
    pub on_time_rate: Option<f64>,
    /// Mean working days from reception to decision, for the decided ones.
    pub average_processing_days: Option<f64>,
    /// Ratings given in the period, and how many were 4 or 5.
    pub ratings: u64,
    pub satisfied: u64,
    pub satisfaction_rate: Option<f64>,
    #[serde(skip)]
    processing_days_sum: i64,
}

impl Figures {
    fn add(&mut self, g: &store::StatsGroup) {
        let n = |v: i64| u64::try_from(v).unwrap_or_default();
        self.received += n(g.received);
        self.decided += n(g.decided);
        self.decided_on_time += n(g.decided_on_time);
        self.processing_days_sum += g.working_days;
        self.ratings += n(g.ratings);
        self.satisfied += n(g.satisfied);
    }

    fn finish(mut self) -> Self {
        let ratio = |a: u64, b: u64| (b > 0).then(|| ((a as f64 / b as f64) * 10_000.0).round() / 10_000.0);
        self.on_time_rate = ratio(self.decided_on_time, self.decided);
        self.satisfaction_rate = ratio(self.satisfied, self.ratings);
        self.average_processing_days = (self.decided > 0)
            .then(|| ((self.processing_days_sum as f64 / self.decided as f64) * 100.0).round() / 100.0);
        self
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BranchFigures {
    pub branch_code: String,
    pub figures: Figures,
    /// Its dossiers under way past their due date today (supplement waits excluded).
    pub open_overdue: u64,
}

/// What one officer did in the period: dossiers received, and decided (approved or
/// rejected) with how many on time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OfficerFigures {
    pub officer_id: String,
    pub officer_name: String,
    pub received: u64,
    pub decided: u64,
    pub decided_on_time: u64,
    pub on_time_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProcedureFigures {
    pub procedure_code: String,
    pub procedure_name: String,
    pub figures: Figures,
}

/// One agency's legs (một cửa liên thông).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgencyFigures {
    pub agency_code: String,
    /// In the request's language.
    pub agency_name: String,
    /// Legs forwarded to it in the period.
    pub forwarded: u64,
    /// Legs it finished (done or refused) in the period.
    pub finished: u64,
    /// Of those, finished on or before the leg's own due date.
    pub finished_on_time: u64,
    /// `finished_on_time / finished` (absent when nothing was finished).
    pub on_time_rate: Option<f64>,
    /// Mean working days at the agency (its supplement waits excluded), for the finished ones.
    pub average_processing_days: Option<f64>,
    /// Legs at the agency today.
    pub open: u64,
    /// Of those, past their due date today.
    pub open_overdue: u64,
}

impl AgencyFigures {
    fn of(g: &store::AgencyStatsGroup, lang: motcua_domain::i18n::Lang) -> Self {
        let n = |v: i64| u64::try_from(v).unwrap_or_default();
        let finished = n(g.finished);
        let round = |v: f64, places: f64| (v * places).round() / places;
        AgencyFigures {
            agency_code: g.agency_code.clone(),
            agency_name: if lang == motcua_domain::i18n::Lang::En { &g.agency_name_en } else { &g.agency_name }.clone(),
            forwarded: n(g.forwarded),
            finished,
            finished_on_time: n(g.finished_on_time),
            on_time_rate: (finished > 0).then(|| round(n(g.finished_on_time) as f64 / finished as f64, 10_000.0)),
            average_processing_days: (finished > 0).then(|| round(g.working_days as f64 / finished as f64, 100.0)),
            open: n(g.open),
            open_overdue: n(g.open_overdue),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Stats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    pub totals: Figures,
    /// Dossiers under way past their due date today (supplement waits excluded).
    pub open_overdue: u64,
    pub by_branch: Vec<BranchFigures>,
    pub by_procedure: Vec<ProcedureFigures>,
    /// The competent agencies' legs (of the branch's dossiers, for a branch).
    pub by_agency: Vec<AgencyFigures>,
    /// The officers who received or decided dossiers in the period.
    pub by_officer: Vec<OfficerFigures>,
}

/// Figures of the center (staff only; officers see their own branch).
#[utoipa::path(get, path = "/api/v1/stats", tag = "dossiers", params(StatsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = Stats), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
async fn stats(
    State(app): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> ApiResult<axum::Json<Stats>> {
    user.require(&[Role::Officer, Role::Admin])?;
    let (from, to) = period(local_date(app.clock.now()), q.from.as_deref(), q.to.as_deref())?;
    Ok(axum::Json(figures(&app, &user, q.branch.as_deref(), from, to).await?))
}

/// The period of a statistics request (the API's and the web console's): `to` defaults to
/// today, `from` to 30 days before it; both within the records' bounds, in order.
pub(crate) fn period(today: NaiveDate, from: Option<&str>, to: Option<&str>) -> ApiResult<(NaiveDate, NaiveDate)> {
    let (from, to) =
        (from.map(str::to_owned).filter(|s| !s.is_empty()), to.map(str::to_owned).filter(|s| !s.is_empty()));
    let mut errors = ParamErrors::default();
    let to: NaiveDate = errors.parse("to", &to).unwrap_or(today);
    let from: NaiveDate =
        errors.parse("from", &from).unwrap_or_else(|| to.checked_sub_days(chrono::Days::new(30)).unwrap_or(to));
    let (earliest, latest) = date_bounds();
    for (name, date) in [("from", from), ("to", to)] {
        if date < earliest {
            errors.push(name, FieldErrorCode::DateTooEarly, earliest);
        } else if date > latest {
            errors.push(name, FieldErrorCode::DateTooLate, latest);
        }
    }
    if from > to {
        errors.push("from", FieldErrorCode::DateTooLate, to);
    }
    errors.finish()?;
    Ok((from, to))
}

/// The figures `user` may see over `[from, to]`: an officer their own branch's (whatever
/// `branch` says), an admin the branch asked for or the whole centre.
pub(crate) async fn figures(
    app: &AppState,
    user: &AuthUser,
    branch: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Stats> {
    user.require(&[Role::Officer, Role::Admin])?;
    let today = local_date(app.clock.now());
    let branch = match user.role {
        Role::Officer => user.branch.clone(),
        _ => branch.map(str::to_owned).filter(|b| !b.is_empty()),
    };
    let groups = store::stats_groups(&app.db, branch.as_deref(), from, to).await?;
    let agencies = store::stats_agencies(&app.db, branch.as_deref(), from, to, today).await?;
    let officers = store::stats_officers(&app.db, branch.as_deref(), from, to).await?;
    let open_overdue = store::open_overdue(&app.db, branch.as_deref(), today).await?;
    let lang = crate::error::current_lang();
    let mut totals = Figures::default();
    let mut by_branch: BTreeMap<String, Figures> = BTreeMap::new();
    let mut by_procedure: BTreeMap<String, (String, Figures)> = BTreeMap::new();
    for g in &groups {
        totals.add(g);
        by_branch.entry(g.branch_code.clone()).or_default().add(g);
        by_procedure
            .entry(g.procedure_code.clone())
            .or_insert_with(|| (g.procedure_name.clone(), Figures::default()))
            .1
            .add(g);
    }
    let n = |v: i64| u64::try_from(v).unwrap_or_default();
    Ok(Stats {
        from,
        to,
        branch,
        totals: totals.finish(),
        open_overdue: n(open_overdue.iter().map(|(_, c)| *c).sum()),
        by_branch: by_branch
            .into_iter()
            .map(|(branch_code, f)| {
                let overdue = open_overdue.iter().find(|(b, _)| *b == branch_code).map_or(0, |(_, c)| n(*c));
                BranchFigures { branch_code, figures: f.finish(), open_overdue: overdue }
            })
            .collect(),
        by_procedure: by_procedure
            .into_iter()
            .map(|(procedure_code, (procedure_name, f))| ProcedureFigures {
                procedure_code,
                procedure_name,
                figures: f.finish(),
            })
            .collect(),
        by_agency: agencies.iter().map(|g| AgencyFigures::of(g, lang)).collect(),
        by_officer: officers
            .iter()
            .map(|o| {
                let decided = n(o.decided);
                OfficerFigures {
                    officer_id: o.actor_id.to_string(),
                    officer_name: o.actor_name.clone(),
                    received: n(o.received),
                    decided,
                    decided_on_time: n(o.decided_on_time),
                    on_time_rate: (decided > 0)
                        .then(|| ((n(o.decided_on_time) as f64 / decided as f64) * 10_000.0).round() / 10_000.0),
                }
            })
            .collect(),
    })
}
