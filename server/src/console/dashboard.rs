//! The managers' dashboard in the console: over a chosen period, for the officer's branch
//! (an admin: the whole centre or one branch), the dossiers received, decided, on time,
//! overdue and the satisfaction, by branch, procedure and officer, and the same for field
//! reports (by category and ward), with bar charts drawn on the server as SVG (no script,
//! nothing fetched) and a CSV export. The figures are the statistics modules' own
//! (`dossiers::stats::figures`, `reports::figures`): the page only shows them.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use motcua_domain::form::FieldErrorCode;
use motcua_domain::i18n::Lang;
use motcua_domain::wire::Role;
use motcua_domain::wire::reports::{ReportStats, ReportStatsRow};
use serde::Deserialize;

use super::pages::{frame, t};
use super::{Staff, error_page, lang_of};
use crate::app::AppState;
use crate::dossiers::stats::{Figures, Stats};
use crate::error::ApiError;
use crate::extract::ApiQuery;

/// The longest period shown (the field reports' statistics allow a year).
const MAX_DAYS: i64 = 366;
/// Bars a chart draws (the tables list every row).
const MAX_BARS: usize = 20;
/// The targets the city publishes.
const ON_TIME_TARGET: f64 = 0.98;
const SATISFIED_TARGET: f64 = 0.95;

#[derive(Deserialize, Default)]
pub(super) struct DashboardQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    branch: Option<String>,
}

/// Both sets of figures for the request, as this member of staff may see them.
async fn load(app: &AppState, staff: &Staff, q: &DashboardQuery) -> Result<(Stats, ReportStats), ApiError> {
    staff.user.require(&[Role::Officer, Role::Admin])?;
    let today = crate::dossiers::store::local_date(app.clock.now());
    let (from, to) = crate::dossiers::stats::period(today, q.from.as_deref(), q.to.as_deref())?;
    if (to - from).num_days() > MAX_DAYS {
        return Err(ApiError::Validation(vec![
            motcua_domain::form::FieldError::new("from", FieldErrorCode::DateTooEarly)
                .with_limit((to - chrono::TimeDelta::days(MAX_DAYS)).to_string()),
        ]));
    }
    if let Some(branch) = q.branch.as_deref().filter(|b| !b.is_empty())
        && staff.user.role == Role::Admin
        && !app.branches.get(&app.db).await?.iter().any(|b| b.code == branch)
    {
        return Err(ApiError::field("branch", FieldErrorCode::InvalidOption));
    }
    let dossiers = crate::dossiers::stats::figures(app, &staff.user, q.branch.as_deref(), from, to).await?;
    let reports = crate::reports::figures(app, from, to).await?;
    Ok((dossiers, reports))
}

fn query_of(q: Result<ApiQuery<DashboardQuery>, ApiError>) -> Result<DashboardQuery, ApiError> {
    q.map(|ApiQuery(q)| q)
}

/// `GET /console/dashboard`.
pub(super) async fn page(
    State(app): State<AppState>,
    headers: HeaderMap,
    staff: Staff,
    query: Result<ApiQuery<DashboardQuery>, ApiError>,
) -> Response {
    let lang = lang_of(&headers);
    let shown = async {
        let q = query_of(query)?;
        let (dossiers, reports) = load(&app, &staff, &q).await?;
        let branches =
            if staff.user.role == Role::Admin { app.branches.get(&app.db).await?.to_vec() } else { Vec::new() };
        let codes: Vec<String> = branches.iter().map(|b| b.code.clone()).collect();
        Ok::<_, ApiError>(dashboard(lang, &staff, &dossiers, &reports, &codes).into_response())
    };
    match shown.await {
        Ok(page) => page,
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

/// `GET /console/dashboard.csv`: the same figures as a spreadsheet.
pub(super) async fn csv(
    State(app): State<AppState>,
    headers: HeaderMap,
    staff: Staff,
    query: Result<ApiQuery<DashboardQuery>, ApiError>,
) -> Response {
    let lang = lang_of(&headers);
    let made = async {
        let q = query_of(query)?;
        let (dossiers, reports) = load(&app, &staff, &q).await?;
        Ok::<_, ApiError>(csv_text(&dossiers, &reports))
    };
    match made.await {
        Ok((name, text)) => {
            let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                .unwrap_or(HeaderValue::from_static("attachment"));
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                text,
            )
                .into_response()
        }
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

/// One CSV cell: quoted when it holds a separator, a quote or a line break; a text that a
/// spreadsheet would take for a formula (`=`, `+`, `-`, `@`) is prefixed with `'`.
fn cell(value: &str) -> String {
    let value =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

fn rate(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.4}")).unwrap_or_default()
}

/// The CSV's file name and text (UTF-8 with a byte-order mark, so spreadsheets read the
/// Vietnamese names right).
fn csv_text(d: &Stats, r: &ReportStats) -> (String, String) {
    let mut out = String::from(
        "\u{feff}section,key,name,received,decided_or_processed,on_time,on_time_rate,open_overdue,ratings,satisfaction\r\n",
    );
    let mut line = |cells: Vec<String>| {
        out.push_str(&cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    };
    let fig = |section: &str, key: &str, name: &str, f: &Figures, overdue: Option<u64>| {
        vec![
            section.to_owned(),
            key.to_owned(),
            name.to_owned(),
            f.received.to_string(),
            f.decided.to_string(),
            f.decided_on_time.to_string(),
            rate(f.on_time_rate),
            overdue.map(|o| o.to_string()).unwrap_or_default(),
            f.ratings.to_string(),
            rate(f.satisfaction_rate),
        ]
    };
    let scope = d.branch.clone().unwrap_or_else(|| "all".to_owned());
    line(fig("dossiers_total", &scope, "", &d.totals, Some(d.open_overdue)));
    for b in &d.by_branch {
        line(fig("dossiers_branch", &b.branch_code, &b.branch_code, &b.figures, Some(b.open_overdue)));
    }
    for p in &d.by_procedure {
        line(fig("dossiers_procedure", &p.procedure_code, &p.procedure_name, &p.figures, None));
    }
    for o in &d.by_officer {
        line(vec![
            "dossiers_officer".to_owned(),
            o.officer_id.clone(),
            o.officer_name.clone(),
            o.received.to_string(),
            o.decided.to_string(),
            o.decided_on_time.to_string(),
            rate(o.on_time_rate),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    let report = |section: &str, row: &ReportStatsRow| {
        vec![
            section.to_owned(),
            row.key.clone(),
            row.name.clone(),
            row.received.to_string(),
            row.processed.to_string(),
            row.on_time.to_string(),
            format!("{:.4}", row.on_time_rate),
            String::new(),
            row.ratings.to_string(),
            row.satisfaction.map(|s| format!("{s:.2}")).unwrap_or_default(),
        ]
    };
    line(report("reports_total", &r.total));
    for row in &r.by_category {
        line(report("reports_category", row));
    }
    for row in &r.by_ward {
        line(report("reports_ward", row));
    }
    (format!("motcua-{scope}-{}-{}.csv", d.from, d.to), out)
}

fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{:.1} %", r * 100.0))
}

/// A horizontal bar chart drawn as SVG: one bar per row (`label`, `value`), scaled to
/// the largest; labelled for assistive technology (the table beside it has the figures).
fn bar_chart(title: &str, rows: &[(String, f64, String)], id: &str) -> Markup {
    let rows = &rows[..rows.len().min(MAX_BARS)];
    let max = rows.iter().map(|(_, v, _)| *v).fold(0.0_f64, f64::max);
    let (label_w, bar_w, row_h) = (260.0, 360.0, 26.0);
    let height = (rows.len() as f64 * row_h + 8.0).max(34.0);
    html! {
        figure.chart {
            svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox={ "0 0 " (label_w + bar_w + 90.0) " " (height) }
                role="img" aria-labelledby=(id) {
                title id=(id) { (title) }
                @if rows.is_empty() {
                    text x="4" y="22" fill="#4a4a4a" font-size="14" { "—" }
                }
                @for (i, (label, value, shown)) in rows.iter().enumerate() {
                    @let y = i as f64 * row_h + 4.0;
                    @let w = if max > 0.0 { value / max * bar_w } else { 0.0 };
                    @let short: String = label.chars().take(34).collect();
                    text x="0" y=(y + 17.0) fill="#1a1a1a" font-size="13" { (short) }
                    rect x=(label_w) y=(y + 3.0) width=(format!("{w:.1}")) height=(row_h - 8.0) fill="#0b4f9c" {}
                    text x=(label_w + w + 6.0) y=(y + 17.0) fill="#1a1a1a" font-size="13" { (shown) }
                }
            }
            figcaption { (title) }
        }
    }
}

/// A table of figures: its caption, the column heads (the first heads the rows' names),
/// and each row's name and cells.
fn figures_table(caption: &str, heads: &[&str], rows: &[(String, Vec<String>)]) -> Markup {
    html! {
        table.figures {
            caption { (caption) }
            thead { tr { @for head in heads { th scope="col" { (head) } } } }
            tbody {
                @for (name, cells) in rows {
                    tr { th scope="row" { (name) } @for cell in cells { td { (cell) } } }
                }
            }
        }
    }
}

fn dashboard(lang: Lang, staff: &Staff, d: &Stats, r: &ReportStats, branches: &[String]) -> Markup {
    let title = t(lang, "Số liệu của trung tâm", "Centre figures");
    let scope = match &d.branch {
        Some(b) => format!("{} {b}", t(lang, "Chi nhánh", "Branch")),
        None => t(lang, "Toàn trung tâm", "The whole centre").to_owned(),
    };
    let csv_href = {
        let mut q = vec![("from", d.from.to_string()), ("to", d.to.to_string())];
        if let Some(b) = &d.branch {
            q.push(("branch", b.clone()));
        }
        format!("/console/dashboard.csv?{}", serde_urlencoded::to_string(q).unwrap_or_default())
    };
    let on_time_ok = d.totals.on_time_rate.is_none_or(|r| r >= ON_TIME_TARGET);
    let satisfied_ok = d.totals.satisfaction_rate.is_none_or(|r| r >= SATISFIED_TARGET);
    let (received, decided) = (t(lang, "Tiếp nhận", "Received"), t(lang, "Đã giải quyết", "Decided"));
    let (on_time, satisfied) = (t(lang, "Đúng hạn", "On time"), t(lang, "Hài lòng", "Satisfied"));
    let by_procedure: Vec<(String, f64, String)> = d
        .by_procedure
        .iter()
        .map(|p| (p.procedure_name.clone(), p.figures.received as f64, p.figures.received.to_string()))
        .collect();
    let on_time_by: Vec<(String, f64, String)> = d
        .by_branch
        .iter()
        .map(|b| {
            (b.branch_code.clone(), b.figures.on_time_rate.unwrap_or(0.0) * 100.0, percent(b.figures.on_time_rate))
        })
        .collect();
    let by_officer: Vec<(String, f64, String)> =
        d.by_officer.iter().map(|o| (o.officer_name.clone(), o.decided as f64, o.decided.to_string())).collect();
    let by_category: Vec<(String, f64, String)> =
        r.by_category.iter().map(|c| (c.name.clone(), c.received as f64, c.received.to_string())).collect();
    frame(
        lang,
        title,
        Some(staff),
        html! {
            h1 { (title) ": " (scope) }
            form.filters method="get" action="/console/dashboard" {
                label for="from" { (t(lang, "Từ ngày", "From")) }
                input #from type="date" name="from" value=(d.from.to_string());
                label for="to" { (t(lang, "Đến ngày", "To")) }
                input #to type="date" name="to" value=(d.to.to_string());
                @if staff.user.role == Role::Admin {
                    label for="branch" { (t(lang, "Chi nhánh", "Branch")) }
                    select #branch name="branch" {
                        option value="" selected[d.branch.is_none()] { (t(lang, "Toàn trung tâm", "Whole centre")) }
                        @for b in branches {
                            option value=(b) selected[d.branch.as_deref() == Some(b.as_str())] { (b) }
                        }
                    }
                }
                button type="submit" { (t(lang, "Xem", "Show")) }
            }
            p { a href=(csv_href) download { (t(lang, "Tải về tệp CSV", "Download as CSV")) } }

            h2 { (t(lang, "Hồ sơ thủ tục hành chính", "Administrative dossiers")) }
            dl.cards {
                div { dt { (t(lang, "Tiếp nhận", "Received")) } dd #fig-received { (d.totals.received) } }
                div { dt { (t(lang, "Đã giải quyết", "Decided")) } dd #fig-decided { (d.totals.decided) } }
                div class={ "card " (if on_time_ok { "ok" } else { "bad" }) } {
                    dt { (t(lang, "Đúng hạn (mục tiêu ≥ 98 %)", "On time (target ≥ 98 %)")) }
                    dd #fig-on-time { (percent(d.totals.on_time_rate)) " (" (d.totals.decided_on_time) ")" }
                }
                div { dt { (t(lang, "Đang quá hạn", "Overdue now")) } dd #fig-overdue { (d.open_overdue) } }
                div class={ "card " (if satisfied_ok { "ok" } else { "bad" }) } {
                    dt { (t(lang, "Hài lòng (mục tiêu ≥ 95 %)", "Satisfied (target ≥ 95 %)")) }
                    dd #fig-satisfied { (percent(d.totals.satisfaction_rate)) " (" (d.totals.satisfied) "/" (d.totals.ratings) ")" }
                }
            }
            (bar_chart(t(lang, "Hồ sơ tiếp nhận theo thủ tục", "Dossiers received by procedure"), &by_procedure, "chart-procedure"))
            @if d.by_branch.len() > 1 {
                (bar_chart(t(lang, "Tỷ lệ đúng hạn theo chi nhánh (%)", "On-time rate by branch (%)"), &on_time_by, "chart-branch"))
            }
            (bar_chart(t(lang, "Hồ sơ đã giải quyết theo cán bộ", "Dossiers decided by officer"), &by_officer, "chart-officer"))
            (figures_table(
                t(lang, "Theo thủ tục", "By procedure"),
                &[t(lang, "Thủ tục", "Procedure"), received, decided, on_time, satisfied],
                &d.by_procedure.iter().map(|p| (p.procedure_name.clone(), vec![
                    p.figures.received.to_string(), p.figures.decided.to_string(),
                    percent(p.figures.on_time_rate), percent(p.figures.satisfaction_rate),
                ])).collect::<Vec<_>>(),
            ))
            @if d.by_branch.len() > 1 {
                (figures_table(
                    t(lang, "Theo chi nhánh", "By branch"),
                    &[t(lang, "Chi nhánh", "Branch"), received, decided, on_time, t(lang, "Đang quá hạn", "Overdue now"), satisfied],
                    &d.by_branch.iter().map(|b| (b.branch_code.clone(), vec![
                        b.figures.received.to_string(), b.figures.decided.to_string(),
                        percent(b.figures.on_time_rate), b.open_overdue.to_string(), percent(b.figures.satisfaction_rate),
                    ])).collect::<Vec<_>>(),
                ))
            }
            (figures_table(
                t(lang, "Theo cán bộ", "By officer"),
                &[t(lang, "Cán bộ", "Officer"), received, decided, on_time],
                &d.by_officer.iter().map(|o| (o.officer_name.clone(), vec![
                    o.received.to_string(), o.decided.to_string(), percent(o.on_time_rate),
                ])).collect::<Vec<_>>(),
            ))

            h2 { (t(lang, "Phản ánh hiện trường", "Field reports")) }
            dl.cards {
                div { dt { (t(lang, "Tiếp nhận", "Received")) } dd #rep-received { (r.total.received) } }
                div { dt { (t(lang, "Đã xử lý", "Processed")) } dd #rep-processed { (r.total.processed) } }
                div { dt { (t(lang, "Đúng hạn", "On time")) } dd #rep-on-time { (percent(Some(r.total.on_time_rate))) } }
                div { dt { (t(lang, "Điểm hài lòng (1–5)", "Satisfaction (1–5)")) }
                      dd { (r.total.satisfaction.map_or_else(|| "—".to_owned(), |s| format!("{s:.2}"))) } }
            }
            (bar_chart(t(lang, "Phản ánh theo lĩnh vực", "Reports by category"), &by_category, "chart-category"))
            (figures_table(
                t(lang, "Theo phường, xã", "By ward"),
                &[t(lang, "Phường, xã", "Ward"), received, t(lang, "Đã xử lý", "Processed"), on_time],
                &r.by_ward.iter().map(|w| (w.name.clone(), vec![
                    w.received.to_string(), w.processed.to_string(), percent(Some(w.on_time_rate)),
                ])).collect::<Vec<_>>(),
            ))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(cell("Cấp hộ chiếu"), "Cấp hộ chiếu");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "'-1");
    }
}
