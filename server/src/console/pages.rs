//! The web console's pages, written with maud (HTML checked at compile time, every
//! interpolated value escaped): the frame, sign-in, the queue, a dossier, errors. Every
//! text is in Vietnamese with an English form.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use maud::{DOCTYPE, Markup, html};
use motcua_domain::form::{FieldDef, FieldKind};
use motcua_domain::i18n::Lang;
use motcua_domain::wire::{Attachment, Dossier, DossierSummary, ErrorBody, Procedure, Role, TimelineEntry};
use motcua_domain::workflow::{Action, DeadlineState, DossierStatus};
use serde_json::Value;

use super::Staff;
use crate::dossiers::store::Filters;

/// `vi` or `en`, as the page's language says.
pub(crate) fn t<'a>(lang: Lang, vi: &'a str, en: &'a str) -> &'a str {
    if lang == Lang::En { en } else { vi }
}

pub(crate) fn local(at: DateTime<Utc>) -> String {
    let zone = FixedOffset::east_opt(7 * 3600).unwrap_or(FixedOffset::east_opt(0).expect("UTC is a valid offset"));
    at.with_timezone(&zone).format("%d/%m/%Y %H:%M").to_string()
}

fn deadline_label(lang: Lang, state: DeadlineState) -> &'static str {
    let (vi, en) = match state {
        DeadlineState::NotStarted => ("Chưa tiếp nhận", "Not received yet"),
        DeadlineState::OnTime => ("Trong hạn", "On time"),
        DeadlineState::AtRisk => ("Sắp đến hạn", "Due soon"),
        DeadlineState::Overdue => ("Quá hạn", "Overdue"),
        DeadlineState::Paused => ("Tạm dừng (chờ bổ sung)", "Paused (awaiting a supplement)"),
    };
    if lang == Lang::En { en } else { vi }
}

fn deadline_class(state: DeadlineState) -> &'static str {
    match state {
        DeadlineState::Overdue => "deadline overdue",
        DeadlineState::AtRisk => "deadline at-risk",
        _ => "deadline",
    }
}

fn role_label(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::Citizen => t(lang, "Công dân", "Citizen"),
        Role::Officer => t(lang, "Cán bộ", "Officer"),
        Role::AgencyOfficer => t(lang, "Chuyên viên cơ quan", "Agency officer"),
        Role::Admin => t(lang, "Quản trị", "Administrator"),
    }
}

/// The page frame: language switch, who is signed in, and the sign-out form.
pub(crate) fn frame(lang: Lang, title: &str, staff: Option<&Staff>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (t(lang, "Một cửa · Cán bộ", "Một cửa · Staff")) }
                link rel="stylesheet" href="/console/static/console.css";
                link rel="icon" href="/console/static/favicon.svg" type="image/svg+xml";
            }
            body {
                header.top {
                    a.brand href="/console/queue" { (t(lang, "Một cửa · Trang cán bộ", "Một cửa · Staff console")) }
                    nav aria-label=(t(lang, "Ngôn ngữ", "Language")) {
                        a href="/console/lang/vi" lang="vi" { "Tiếng Việt" }
                        " · "
                        a href="/console/lang/en" lang="en" { "English" }
                    }
                    @if let Some(staff) = staff {
                        nav aria-label=(t(lang, "Trang cán bộ", "Console")) {
                            a href="/console/queue" { (t(lang, "Hồ sơ", "Dossiers")) }
                            @if staff.user.role == Role::Officer {
                                " · " a href="/console/intake" { (t(lang, "Tiếp nhận trực tiếp", "Walk-in intake")) }
                            }
                            @if matches!(staff.user.role, Role::Officer | Role::Admin) {
                                " · " a href="/console/reports" { (t(lang, "Phản ánh", "Reports")) }
                                " · " a href="/console/dashboard" { (t(lang, "Số liệu", "Figures")) }
                            }
                            @if staff.user.role == Role::Admin {
                                " · " a href="/console/campaigns" { (t(lang, "Thông báo đẩy", "Push")) }
                                " · " a href="/console/staff" { (t(lang, "Tài khoản cán bộ", "Staff")) }
                            }
                        }
                        div.who {
                            span { (staff.name) " (" (role_label(lang, staff.user.role)) @if let Some(b) = &staff.user.branch { ", " (b) } ")" }
                            form method="post" action="/console/logout" {
                                input type="hidden" name="csrf" value=(staff.csrf);
                                button type="submit" { (t(lang, "Đăng xuất", "Sign out")) }
                            }
                        }
                    }
                }
                main { (content) }
            }
        }
    }
}

pub(crate) fn login(lang: Lang, csrf: &str, problem: Option<&str>) -> Markup {
    let title = t(lang, "Đăng nhập", "Sign in");
    frame(
        lang,
        title,
        None,
        html! {
            h1 { (title) }
            @if let Some(problem) = problem {
                p.problem role="alert" { (problem) }
            }
            form.login method="post" action="/console/login" {
                input type="hidden" name="csrf" value=(csrf);
                label for="login" { (t(lang, "Số CCCD hoặc số điện thoại", "Citizen id or phone number")) }
                input #login type="text" name="login" autocomplete="username" required maxlength="200";
                label for="password" { (t(lang, "Mật khẩu", "Password")) }
                input #password type="password" name="password" autocomplete="current-password" required maxlength="1024";
                button type="submit" { (title) }
            }
        },
    )
}

pub(crate) fn error(lang: Lang, staff: Option<&Staff>, body: &ErrorBody) -> Markup {
    let title = t(lang, "Không thực hiện được", "Could not be done");
    frame(
        lang,
        title,
        staff,
        html! {
            h1 { (title) }
            p.problem role="alert" { (body.error.message) }
            @if !body.error.fields.is_empty() {
                ul {
                    @for field in &body.error.fields {
                        li { code { (field.path) } ": " (field.message) }
                    }
                }
            }
            p { a href="/console/queue" { (t(lang, "Về danh sách hồ sơ", "Back to the queue")) } }
        },
    )
}

/// What the queue page shows: the filters applied, the procedures to filter by, a page of
/// dossiers and the cursor of the next one.
pub(crate) struct Queue<'a> {
    pub filters: Filters<'a>,
    pub procedures: &'a [Arc<Procedure>],
    pub items: &'a [DossierSummary],
    pub next: Option<&'a str>,
}

pub(crate) fn queue(lang: Lang, staff: &Staff, q: &Queue<'_>) -> Markup {
    let title = t(lang, "Hồ sơ cần xử lý", "Dossier queue");
    let (status, procedure, items) = (q.filters.status, q.filters.procedure, q.items);
    let next_href = q.next.map(|cursor| {
        let mut query = vec![("after", cursor.to_owned())];
        if let Some(s) = status {
            query.push(("status", s.as_str().to_owned()));
        }
        if let Some(p) = procedure {
            query.push(("procedure", p.to_owned()));
        }
        format!("/console/queue?{}", serde_urlencoded::to_string(query).unwrap_or_default())
    });
    frame(
        lang,
        title,
        Some(staff),
        html! {
            h1 { (title) }
            form.filters method="get" action="/console/queue" {
                label for="status" { (t(lang, "Trạng thái", "Status")) }
                select #status name="status" {
                    option value="" selected[status.is_none()] { (t(lang, "Tất cả", "All")) }
                    @for s in DossierStatus::ALL {
                        option value=(s.as_str()) selected[status == Some(s)] { (s.label(lang)) }
                    }
                }
                label for="procedure" { (t(lang, "Thủ tục", "Procedure")) }
                select #procedure name="procedure" {
                    option value="" selected[procedure.is_none()] { (t(lang, "Tất cả", "All")) }
                    @for p in q.procedures {
                        option value=(p.code) selected[procedure == Some(p.code.as_str())] { (p.name) }
                    }
                }
                button type="submit" { (t(lang, "Lọc", "Filter")) }
            }
            @if items.is_empty() {
                p { (t(lang, "Không có hồ sơ nào.", "No dossiers.")) }
            } @else {
                table.queue {
                    caption { (t(lang, "Quá hạn và sắp đến hạn trước", "Overdue and due soon first")) }
                    thead { tr {
                        th scope="col" { (t(lang, "Mã hồ sơ", "Code")) }
                        th scope="col" { (t(lang, "Thủ tục", "Procedure")) }
                        th scope="col" { (t(lang, "Trạng thái", "Status")) }
                        th scope="col" { (t(lang, "Hạn xử lý", "Due date")) }
                        th scope="col" { (t(lang, "Tiến độ", "Deadline")) }
                        th scope="col" { (t(lang, "Ngày nộp", "Submitted")) }
                    } }
                    tbody {
                        @for item in items {
                            tr {
                                td { a href={ "/console/dossiers/" (item.id) } { (item.code) } }
                                td { (item.procedure_name) }
                                td { (item.status.label(lang)) }
                                td { @if let Some(due) = item.due_date { (due.format("%d/%m/%Y")) } @else { "—" } }
                                td class=(deadline_class(item.deadline)) { (deadline_label(lang, item.deadline)) }
                                td { (local(item.submitted_at)) }
                            }
                        }
                    }
                }
            }
            @if let Some(href) = next_href {
                p { a rel="next" href=(href) { (t(lang, "Trang sau", "Next page")) } }
            }
        },
    )
}

/// A stored value shown by its field's kind: option labels, yes/no, address parts, the
/// rows of a group, links to attachments.
fn value_of(lang: Lang, field: &FieldDef, value: &Value, papers: &Papers) -> Markup {
    match (&field.kind, value) {
        (FieldKind::Select { options, .. }, Value::String(v)) => {
            let label = options.iter().find(|o| &o.value == v).map(|o| o.label.get(lang).to_owned());
            html! { (label.unwrap_or_else(|| v.clone())) }
        }
        (FieldKind::Select { options, .. }, Value::Array(vs)) => {
            let labels: Vec<String> = vs
                .iter()
                .filter_map(Value::as_str)
                .map(|v| options.iter().find(|o| o.value == v).map_or(v, |o| o.label.get(lang)).to_owned())
                .collect();
            html! { (labels.join(", ")) }
        }
        (FieldKind::Checkbox { .. }, Value::Bool(b)) => {
            html! { (if *b { t(lang, "Có", "Yes") } else { t(lang, "Không", "No") }) }
        }
        (FieldKind::Address, Value::Object(parts)) => {
            let text: Vec<&str> =
                ["street", "ward", "province"].iter().filter_map(|k| parts.get(*k).and_then(Value::as_str)).collect();
            html! { (text.join(", ")) }
        }
        (FieldKind::Group { fields, .. }, Value::Array(rows)) => html! {
            ol.group {
                @for row in rows {
                    li { (values_list(lang, fields, row, papers)) }
                }
            }
        },
        (FieldKind::Attachment { .. }, Value::Array(ids)) => html! {
            ul.files {
                @for (i, id) in ids.iter().filter_map(Value::as_str).enumerate() {
                    @let href = format!("/console/attachments/{id}");
                    li {
                        @match papers.get(id) {
                            Some(paper) => {
                                a href=(href) target="_blank" rel="noopener" { (paper.file_name) }
                                @if paper.content_type.starts_with("image/") {
                                    br;
                                    img.paper src=(href) alt=(paper.file_name) loading="lazy";
                                } @else if paper.content_type == "application/pdf" {
                                    br;
                                    iframe.paper src=(href) title=(paper.file_name) loading="lazy" {}
                                }
                            }
                            None => a href=(href) target="_blank" rel="noopener" { (t(lang, "Tệp", "File")) " " (i + 1) },
                        }
                    }
                }
            }
        },
        (FieldKind::Date { .. }, Value::String(s)) => {
            let shown = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_or(s.clone(), |d| d.format("%d/%m/%Y").to_string());
            html! { (shown) }
        }
        (_, Value::String(s)) => html! { (s) },
        (_, Value::Null) => html! { "—" },
        (_, other) => html! { (other.to_string()) },
    }
}

/// The attachments of a dossier's papers, by id.
type Papers = HashMap<String, Attachment>;

/// The attachment ids the top-level attachment fields of `values` name, in order.
pub(crate) fn attachment_ids(fields: &[FieldDef], values: &Value) -> Vec<String> {
    fields
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::Attachment { .. }))
        .filter_map(|f| values.get(&f.key).and_then(Value::as_array))
        .flat_map(|ids| ids.iter().filter_map(Value::as_str).map(str::to_owned))
        .collect()
}

fn values_list(lang: Lang, fields: &[FieldDef], values: &Value, papers: &Papers) -> Markup {
    html! {
        dl.values {
            @for field in fields {
                @if let Some(value) = values.get(&field.key) {
                    dt { (field.label.get(lang)) }
                    dd { (value_of(lang, field, value, papers)) }
                }
            }
        }
    }
}

fn action_name(lang: Lang, entry: &TimelineEntry) -> String {
    if let Some(description) = &entry.description {
        return description.clone();
    }
    match entry.action.as_str() {
        "submit" => t(lang, "Nộp hồ sơ", "Filed").to_owned(),
        "assign" => t(lang, "Phân công", "Assigned").to_owned(),
        "rate" => t(lang, "Đánh giá", "Rated").to_owned(),
        crate::dossiers::result::ATTACH_ACTION => {
            t(lang, "Đính kèm văn bản kết quả", "Result document attached").to_owned()
        }
        other => Action::ALL.iter().find(|a| a.as_str() == other).map_or(other, |a| a.label(lang)).to_owned(),
    }
}

/// What a dossier page shows: the dossier, the revision its forms carry, its procedure
/// (for the labels), the actions allowed, and its papers' details.
pub(crate) struct DossierView<'a> {
    pub dossier: &'a Dossier,
    pub revision: i64,
    pub procedure: Option<&'a Procedure>,
    pub allowed: &'a [Action],
    pub papers: &'a Papers,
    /// Whether this member of staff may attach the result document now.
    pub result_attachable: bool,
}

pub(crate) fn dossier(lang: Lang, staff: &Staff, view: &DossierView<'_>) -> Markup {
    let DossierView { dossier: d, revision, procedure, allowed, papers, result_attachable } = *view;
    let title = format!("{} {}", t(lang, "Hồ sơ", "Dossier"), d.code);
    frame(
        lang,
        &title,
        Some(staff),
        html! {
            p { a href="/console/queue" { (t(lang, "← Danh sách hồ sơ", "← Queue")) } }
            h1 { (title) }
            dl.summary {
                dt { (t(lang, "Thủ tục", "Procedure")) } dd { (d.procedure_name) }
                dt { (t(lang, "Người nộp", "Applicant")) } dd { (d.applicant_name) }
                dt { (t(lang, "Trạng thái", "Status")) } dd #status { (d.status.label(lang)) }
                dt { (t(lang, "Ngày nộp", "Submitted")) } dd { (local(d.submitted_at)) }
                dt { (t(lang, "Hạn xử lý theo luật", "Legal due date")) }
                dd { @if let Some(due) = d.due_date { (due.format("%d/%m/%Y")) } @else { "—" } }
                dt { (t(lang, "Tiến độ", "Deadline")) }
                dd class=(deadline_class(d.deadline)) { (deadline_label(lang, d.deadline)) }
            }
            section aria-labelledby="actions-h" {
                h2 #actions-h { (t(lang, "Thao tác", "Actions")) }
                @if allowed.is_empty() {
                    p { (t(lang, "Không có thao tác nào ở trạng thái này.", "No action is possible in this state.")) }
                }
                @for action in allowed {
                    form.action method="post" action={ "/console/dossiers/" (d.id) "/actions" } {
                        input type="hidden" name="csrf" value=(staff.csrf);
                        input type="hidden" name="revision" value=(revision);
                        input type="hidden" name="action" value=(action.as_str());
                        @if action.needs_note() {
                            @let note_id = format!("note-{}", action.as_str());
                            label for=(note_id) {
                                @match action {
                                    Action::Reject => (t(lang, "Lý do từ chối", "Reason for rejection")),
                                    Action::RequestSupplement => (t(lang, "Giấy tờ cần bổ sung", "What is missing")),
                                    _ => (t(lang, "Ghi chú", "Note")),
                                }
                            }
                            textarea id=(note_id) name="note" required maxlength="2000" rows="2" {}
                        }
                        button type="submit" { (action.label(lang)) }
                    }
                }
            }
            section aria-labelledby="result-h" {
                h2 #result-h { (t(lang, "Văn bản kết quả", "Result document")) }
                @match &d.result_document {
                    Some(doc) => p #result-document {
                        a href={ "/console/dossiers/" (d.id) "/result" } download=(doc.file_name) { (doc.file_name) }
                        " (" (doc.size.div_ceil(1024)) " KB, " (local(doc.attached_at)) ")"
                    },
                    None => p { (t(lang, "Chưa có văn bản kết quả.", "No result document yet.")) },
                }
                @if result_attachable {
                    form.action method="post" enctype="multipart/form-data" action={ "/console/dossiers/" (d.id) "/result" } {
                        input type="hidden" name="csrf" value=(staff.csrf);
                        input type="hidden" name="revision" value=(revision);
                        label for="result-file" {
                            (t(lang, "Quyết định hoặc giấy chứng nhận đã ký (PDF, JPEG, PNG)", "Signed decision or certificate (PDF, JPEG, PNG)"))
                        }
                        input #result-file type="file" name="file" required accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png";
                        button type="submit" {
                            @if d.result_document.is_some() { (t(lang, "Thay văn bản kết quả", "Replace the result document")) }
                            @else { (t(lang, "Đính kèm văn bản kết quả", "Attach the result document")) }
                        }
                    }
                }
            }
            section aria-labelledby="values-h" {
                h2 #values-h { (t(lang, "Thông tin trong tờ khai", "Form values")) }
                @match procedure {
                    Some(p) => (values_list(lang, &p.form.fields, &d.values, papers)),
                    None => pre { (serde_json::to_string_pretty(&d.values).unwrap_or_default()) },
                }
            }
            section aria-labelledby="timeline-h" {
                h2 #timeline-h { (t(lang, "Quá trình xử lý", "Timeline")) }
                table.timeline {
                    thead { tr {
                        th scope="col" { (t(lang, "Thời điểm", "When")) }
                        th scope="col" { (t(lang, "Bước", "Step")) }
                        th scope="col" { (t(lang, "Trạng thái", "Status")) }
                        th scope="col" { (t(lang, "Người thực hiện", "By")) }
                        th scope="col" { (t(lang, "Ghi chú", "Note")) }
                    } }
                    tbody {
                        @for e in &d.timeline {
                            tr {
                                td { (local(e.at)) }
                                td { (action_name(lang, e)) }
                                td { (e.to.label(lang)) }
                                td { (e.actor_name.as_deref().unwrap_or("—")) " (" (role_label(lang, e.actor_role)) ")" }
                                td { (e.note.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        },
    )
}
