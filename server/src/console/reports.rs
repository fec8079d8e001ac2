//! Field reports in the console: the queue of the wards this member of staff handles
//! (overdue first, paged), a report with its photos and timeline, and the staff's moves
//! (assign to oneself, start, resolve with a response and an after photo, reject with a
//! reason, move to another ward) and moderation (hide the text or photos, with a reason).
//! Every rule is the reports module's (`reports::act`, `reports::moderate_report`,
//! `reports::staff_view`, `reports::console_queue`); a page only asks.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use motcua_domain::form::FieldErrorCode;
use motcua_domain::i18n::Lang;
use motcua_domain::reports::{RejectReason, ReportAction};
use motcua_domain::wire::reports::{ModerateReport, Report, ReportActionRequest, ReportPage};
use serde::Deserialize;

use super::multipart::Part;
use super::pages::{frame, local, t};
use super::{Staff, error_page, file_form, form_file, lang_of};
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::reports::places::places;

#[derive(Deserialize, Default)]
pub(super) struct QueueQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    ward: Option<String>,
}

/// `GET /console/reports`.
pub(super) async fn queue(
    State(app): State<AppState>,
    headers: HeaderMap,
    staff: Staff,
    query: Result<ApiQuery<QueueQuery>, ApiError>,
) -> Response {
    let lang = lang_of(&headers);
    let ApiQuery(q) = match query {
        Ok(q) => q,
        Err(e) => return error_page(lang, e, Some(&staff)),
    };
    let after = q.after.as_deref().filter(|a| !a.is_empty());
    let ward = q.ward.as_deref().filter(|w| !w.is_empty());
    match crate::reports::console_queue(&app, &staff.user, after, ward).await {
        Ok(page) => queue_page(lang, &staff, &page, ward).into_response(),
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

/// `GET /console/reports/{id}`.
pub(super) async fn report(
    State(app): State<AppState>,
    headers: HeaderMap,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    let lang = lang_of(&headers);
    match crate::reports::staff_view(&app, &staff.user, &id).await {
        Ok(report) => report_page(lang, &staff, &report).into_response(),
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

/// `POST /console/reports/{id}/actions` (multipart: a resolution carries its after photo).
pub(super) async fn act(
    State(app): State<AppState>,
    headers: HeaderMap,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let lang = lang_of(&headers);
    let done = async {
        let parts = file_form(&staff, &headers, &body)?;
        let text = |name: &str| {
            parts.iter().find(|p| p.name == name).and_then(Part::text).map(str::trim).filter(|t| !t.is_empty())
        };
        let action = ReportAction::ALL
            .into_iter()
            .filter(|a| !a.by_reporter())
            .find(|a| Some(a.as_str()) == text("action"))
            .ok_or_else(|| ApiError::field("action", FieldErrorCode::InvalidOption))?;
        let reason = match text("reason") {
            Some(raw) => Some(
                RejectReason::ALL
                    .into_iter()
                    .find(|r| r.as_str() == raw)
                    .ok_or_else(|| ApiError::field("reason", FieldErrorCode::InvalidOption))?,
            ),
            None => None,
        };
        // The report is looked at first: a stranger's request stores no photo.
        crate::reports::staff_view(&app, &staff.user, &id).await?;
        let mut after_photos = Vec::new();
        if action == ReportAction::Resolve
            && let Some(photo) = form_file(&parts, "after_photo")
        {
            let (_, stored) = crate::attachments::store_whole(
                &app,
                staff.user.id,
                photo.file_name.as_deref(),
                bytes::Bytes::copy_from_slice(photo.data),
            )
            .await?;
            after_photos.push(stored.id);
        }
        let req = ReportActionRequest {
            action,
            note: text("note").map(str::to_owned),
            response: text("response").map(str::to_owned),
            after_photos,
            reason,
            ward_code: text("ward_code").map(str::to_owned),
            officer_id: None,
        };
        crate::reports::act(&app, &staff.user, &id, req).await
    };
    match done.await {
        Ok(_) => Redirect::to(&format!("/console/reports/{id}")).into_response(),
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

/// `POST /console/reports/{id}/moderation`.
pub(super) async fn moderate(
    State(app): State<AppState>,
    headers: HeaderMap,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let lang = lang_of(&headers);
    let done = async {
        let parts = file_form(&staff, &headers, &body)?;
        let req = ModerateReport {
            hide_description: parts.iter().any(|p| p.name == "hide_description" && p.text() == Some("true")),
            hide_photos: parts
                .iter()
                .filter(|p| p.name == "hide_photos")
                .filter_map(Part::text)
                .map(str::to_owned)
                .collect(),
            reason: parts.iter().find(|p| p.name == "reason").and_then(Part::text).unwrap_or_default().to_owned(),
        };
        crate::reports::moderate_report(&app, &staff.user, &id, req).await
    };
    match done.await {
        Ok(_) => Redirect::to(&format!("/console/reports/{id}")).into_response(),
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

fn queue_page(lang: Lang, staff: &Staff, page: &ReportPage, ward: Option<&str>) -> Markup {
    let title = t(lang, "Phản ánh hiện trường cần xử lý", "Field reports to handle");
    let next = page.next.as_deref().map(|cursor| {
        let mut q = vec![("after", cursor.to_owned())];
        if let Some(w) = ward {
            q.push(("ward", w.to_owned()));
        }
        format!("/console/reports?{}", serde_urlencoded::to_string(q).unwrap_or_default())
    });
    frame(
        lang,
        title,
        Some(staff),
        html! {
            h1 { (title) }
            @if page.items.is_empty() {
                p { (t(lang, "Không có phản ánh nào.", "No reports.")) }
            } @else {
                table.queue {
                    caption { (t(lang, "Quá hạn trước", "Overdue first")) }
                    thead { tr {
                        th scope="col" { (t(lang, "Mã", "Code")) }
                        th scope="col" { (t(lang, "Lĩnh vực", "Category")) }
                        th scope="col" { (t(lang, "Phường, xã", "Ward")) }
                        th scope="col" { (t(lang, "Trạng thái", "Status")) }
                        th scope="col" { (t(lang, "Hạn xử lý", "Due")) }
                    } }
                    tbody {
                        @for r in &page.items {
                            tr {
                                td { a href={ "/console/reports/" (r.id) } { (r.code) } }
                                td { (places().category(&r.category).map_or(r.category.clone(), |c| if lang == Lang::En { c.name_en.clone() } else { c.name.clone() })) }
                                td { (places().ward_name(&r.ward_code)) }
                                td { (r.status.label(lang)) }
                                td class=(if r.overdue { "deadline overdue" } else { "deadline" }) {
                                    (r.due_date.format("%d/%m/%Y"))
                                    @if r.overdue { " — " (t(lang, "Quá hạn", "Overdue")) }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(href) = next {
                p { a rel="next" href=(href) { (t(lang, "Trang sau", "Next page")) } }
            }
        },
    )
}

fn action_form(staff: &Staff, r: &Report, action: ReportAction, lang: Lang, fields: Markup) -> Markup {
    html! {
        form.action method="post" enctype="multipart/form-data" action={ "/console/reports/" (r.id) "/actions" } {
            input type="hidden" name="csrf" value=(staff.csrf);
            input type="hidden" name="action" value=(action.as_str());
            (fields)
            button type="submit" { (action.label(lang)) }
        }
    }
}

fn report_page(lang: Lang, staff: &Staff, r: &Report) -> Markup {
    let title = format!("{} {}", t(lang, "Phản ánh", "Report"), r.code);
    let open = !matches!(r.status.as_str(), "resolved" | "rejected");
    frame(
        lang,
        &title,
        Some(staff),
        html! {
            p { a href="/console/reports" { (t(lang, "← Danh sách phản ánh", "← Reports")) } }
            h1 { (title) }
            dl.summary {
                dt { (t(lang, "Lĩnh vực", "Category")) } dd { (r.category_name) }
                dt { (t(lang, "Trạng thái", "Status")) } dd #report-status { (r.status.label(lang)) }
                dt { (t(lang, "Phường, xã", "Ward")) } dd #report-ward { (r.ward_name) }
                dt { (t(lang, "Địa chỉ", "Address")) } dd { (r.address) }
                dt { (t(lang, "Nội dung", "Description")) }
                dd { (r.description) @if r.description_hidden { " " em { (t(lang, "(đã ẩn với công chúng)", "(hidden from the public)")) } } }
                dt { (t(lang, "Hạn xử lý", "Due")) }
                dd class=(if r.overdue { "deadline overdue" } else { "deadline" }) { (r.due_date.format("%d/%m/%Y")) }
                @if let Some(response) = &r.response { dt { (t(lang, "Trả lời", "Response")) } dd { (response) } }
            }
            @if !r.photos.is_empty() {
                ul.files {
                    @for p in &r.photos {
                        li { img.paper src=(p.thumbnail_url) alt={ (t(lang, "Ảnh ", "Photo ")) (p.stage) } loading="lazy"; }
                    }
                }
            }
            section aria-labelledby="report-actions-h" {
                h2 #report-actions-h { (t(lang, "Thao tác", "Actions")) }
                @if open {
                    (action_form(staff, r, ReportAction::Assign, lang, html! {}))
                    (action_form(staff, r, ReportAction::Start, lang, html! {}))
                    (action_form(staff, r, ReportAction::Resolve, lang, html! {
                        label for="response" { (t(lang, "Trả lời người phản ánh", "Answer to the reporter")) }
                        textarea #response name="response" rows="2" maxlength="2000" {}
                        label for="after-photo" { (t(lang, "Ảnh sau khi xử lý", "Photo after the work")) }
                        input #after-photo type="file" name="after_photo" accept="image/jpeg,image/png,image/webp";
                    }))
                    (action_form(staff, r, ReportAction::Reject, lang, html! {
                        label for="reject-reason" { (t(lang, "Lý do từ chối", "Reason for refusal")) }
                        select #reject-reason name="reason" {
                            @for reason in RejectReason::ALL { option value=(reason.as_str()) { (reason.label(lang)) } }
                        }
                        label for="reject-note" { (t(lang, "Ghi chú", "Note")) }
                        textarea #reject-note name="note" rows="2" maxlength="2000" {}
                    }))
                    (action_form(staff, r, ReportAction::MoveWard, lang, html! {
                        label for="ward-code" { (t(lang, "Chuyển đến phường, xã", "Move to the ward")) }
                        select #ward-code name="ward_code" {
                            @for w in &places().wards {
                                @if w.code != r.ward_code { option value=(w.code) { (w.name) } }
                            }
                        }
                    }))
                } @else {
                    p { (t(lang, "Phản ánh đã xử lý xong.", "The report is closed.")) }
                }
                form.action method="post" enctype="multipart/form-data" action={ "/console/reports/" (r.id) "/moderation" } {
                    input type="hidden" name="csrf" value=(staff.csrf);
                    fieldset {
                        legend { (t(lang, "Kiểm duyệt nội dung", "Moderation")) }
                        div.check {
                            input #hide-description type="checkbox" name="hide_description" value="true";
                            label for="hide-description" { (t(lang, "Ẩn nội dung mô tả", "Hide the description")) }
                        }
                        @for (i, p) in r.photos.iter().enumerate() {
                            @let id = format!("hide-photo-{i}");
                            div.check {
                                input id=(id) type="checkbox" name="hide_photos" value=(p.id) checked[p.hidden];
                                label for=(id) { (t(lang, "Ẩn ảnh ", "Hide photo ")) (i + 1) }
                            }
                        }
                        label for="moderation-reason" { (t(lang, "Lý do", "Reason")) }
                        input #moderation-reason type="text" name="reason" maxlength="300";
                    }
                    button type="submit" { (t(lang, "Ẩn nội dung", "Hide")) }
                }
            }
            section aria-labelledby="report-timeline-h" {
                h2 #report-timeline-h { (t(lang, "Quá trình xử lý", "Timeline")) }
                table.timeline {
                    thead { tr {
                        th scope="col" { (t(lang, "Thời điểm", "When")) }
                        th scope="col" { (t(lang, "Bước", "Step")) }
                        th scope="col" { (t(lang, "Trạng thái", "Status")) }
                        th scope="col" { (t(lang, "Ghi chú", "Note")) }
                    } }
                    tbody {
                        @for e in &r.timeline {
                            tr {
                                td { (local(e.at)) }
                                td { (e.action) }
                                td { (e.status.label(lang)) }
                                td { (e.note.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        },
    )
}
