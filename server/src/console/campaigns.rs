//! Push campaigns in the console (administrators): compose an announcement in Vietnamese
//! and English for the whole city, a ward, or listed accounts (by citizen id, phone or
//! account id), now or at a set time; cancel one that has not started; and the delivery
//! figures per campaign and overall (sent, failed by FCM error code, tokens deactivated,
//! queue age). While messages are waiting the page refreshes itself every 10 seconds
//! (a `meta` refresh: no script). The rules are `push::campaigns`' and the figures
//! `push::stats`' own.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDateTime, TimeDelta};
use maud::{Markup, html};
use motcua_domain::form::{FieldError, FieldErrorCode};
use motcua_domain::i18n::Lang;
use motcua_domain::wire::{Campaign, CampaignAudience, CampaignState, CampaignText, NewCampaign, PushStats, Role};
use serde::Deserialize;

use super::pages::{frame, local, t};
use super::{CsrfOnly, Staff, csrf_ok, error_page, lang_of, read_form};
use crate::app::AppState;
use crate::error::ApiError;

/// Lines of accounts the console resolves for one campaign (the API takes more, by id).
const MAX_LINES: usize = 500;
/// Seconds between refreshes while a campaign is being delivered.
const REFRESH_SECS: u32 = 10;

async fn load(app: &AppState, staff: &Staff) -> Result<(Vec<Campaign>, PushStats), ApiError> {
    let campaigns = crate::push::campaigns::list(app, &staff.user).await?;
    let stats = crate::push::stats::figures(&app.db, chrono::Utc::now()).await?;
    Ok((campaigns, stats))
}

/// `GET /console/campaigns`.
pub(super) async fn page(State(app): State<AppState>, headers: HeaderMap, staff: Staff) -> Response {
    let lang = lang_of(&headers);
    match load(&app, &staff).await {
        Ok((campaigns, stats)) => {
            campaigns_page(lang, &staff, &campaigns, &stats, &Compose::default(), None).into_response()
        }
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

/// What the compose form holds.
#[derive(Deserialize, Default)]
pub(super) struct Compose {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    title_vi: String,
    #[serde(default)]
    title_en: String,
    #[serde(default)]
    body_vi: String,
    #[serde(default)]
    body_en: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    ward_code: String,
    #[serde(default)]
    accounts: String,
    /// Local time (Hanoi), `YYYY-MM-DDTHH:MM`; empty: now.
    #[serde(default)]
    scheduled_at: String,
}

/// The campaign a compose form describes: field errors named after the form's inputs.
async fn campaign_of(app: &AppState, form: &Compose) -> Result<NewCampaign, ApiError> {
    let mut errors = Vec::new();
    let audience = match form.audience.as_str() {
        "city" => CampaignAudience::City,
        "ward" => CampaignAudience::Ward { ward_code: form.ward_code.trim().to_owned() },
        "accounts" => {
            let lines: Vec<&str> = form.accounts.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            if lines.len() > MAX_LINES {
                errors.push(FieldError::new("accounts", FieldErrorCode::TooManyItems).with_limit(MAX_LINES));
            }
            let mut user_ids = Vec::new();
            for (i, line) in lines.iter().take(MAX_LINES).enumerate() {
                if uuid::Uuid::parse_str(line).is_ok() {
                    user_ids.push((*line).to_owned());
                } else {
                    match crate::auth::find_by_login(&app.db, line).await? {
                        Some(user) => user_ids.push(user.id.to_string()),
                        None => errors.push(FieldError::new(format!("accounts[{i}]"), FieldErrorCode::Invalid)),
                    }
                }
            }
            CampaignAudience::Accounts { user_ids }
        }
        _ => {
            errors.push(FieldError::new("audience", FieldErrorCode::InvalidOption));
            CampaignAudience::City
        }
    };
    let scheduled_at = match form.scheduled_at.trim() {
        "" => None,
        raw => match NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M") {
            Ok(local) => Some(local.and_utc() - TimeDelta::hours(7)),
            Err(_) => {
                errors.push(FieldError::new("scheduled_at", FieldErrorCode::InvalidDate));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(NewCampaign {
        title: CampaignText { vi: form.title_vi.clone(), en: form.title_en.clone() },
        body: CampaignText { vi: form.body_vi.clone(), en: form.body_en.clone() },
        audience,
        scheduled_at,
    })
}

/// `POST /console/campaigns`: creates the campaign, or shows the form again with its errors.
pub(super) async fn create(State(app): State<AppState>, headers: HeaderMap, staff: Staff, body: Bytes) -> Response {
    let lang = lang_of(&headers);
    let form: Compose = match read_form(&body) {
        Ok(f) => f,
        Err(e) => return error_page(lang, e, Some(&staff)),
    };
    if !csrf_ok(&staff, form.csrf.as_deref()) {
        return error_page(lang, ApiError::Forbidden, Some(&staff));
    }
    if let Err(e) = staff.user.require(&[Role::Admin]) {
        return error_page(lang, e, Some(&staff));
    }
    let created = async {
        let campaign = campaign_of(&app, &form).await?;
        crate::push::campaigns::create(&app, &staff.user, &campaign).await
    };
    match created.await {
        Ok(_) => Redirect::to("/console/campaigns").into_response(),
        Err(e @ ApiError::Validation(_)) => {
            let status = e.status();
            let body = e.body(lang);
            match load(&app, &staff).await {
                Ok((campaigns, stats)) => {
                    (status, campaigns_page(lang, &staff, &campaigns, &stats, &form, Some(&body))).into_response()
                }
                Err(e) => error_page(lang, e, Some(&staff)),
            }
        }
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

/// `POST /console/campaigns/{id}/cancel`.
pub(super) async fn cancel(
    State(app): State<AppState>,
    headers: HeaderMap,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let lang = lang_of(&headers);
    let form: CsrfOnly = match read_form(&body) {
        Ok(f) => f,
        Err(e) => return error_page(lang, e, Some(&staff)),
    };
    if !csrf_ok(&staff, form.csrf.as_deref()) {
        return error_page(lang, ApiError::Forbidden, Some(&staff));
    }
    match crate::push::campaigns::cancel(&app, &staff.user, &id).await {
        Ok(_) => Redirect::to("/console/campaigns").into_response(),
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

fn state_label(lang: Lang, state: CampaignState) -> &'static str {
    match state {
        CampaignState::Scheduled => t(lang, "Chờ đến giờ gửi", "Scheduled"),
        CampaignState::FanningOut => t(lang, "Đang xếp hàng gửi", "Fanning out"),
        CampaignState::Queued => t(lang, "Đã xếp hàng hết", "Queued"),
        CampaignState::Cancelled => t(lang, "Đã hủy", "Cancelled"),
    }
}

fn audience_label(lang: Lang, audience: &CampaignAudience) -> String {
    match audience {
        CampaignAudience::City => t(lang, "Toàn thành phố", "The whole city").to_owned(),
        CampaignAudience::Ward { ward_code } => {
            motcua_domain::admin::ward_by_code(ward_code).map_or_else(|| ward_code.clone(), |w| w.name.to_owned())
        }
        CampaignAudience::Accounts { .. } => t(lang, "Tài khoản được chọn", "Listed accounts").to_owned(),
    }
}

fn failed_text(failed: &std::collections::BTreeMap<String, u64>) -> String {
    if failed.is_empty() {
        return "0".to_owned();
    }
    failed.iter().map(|(code, n)| format!("{code}: {n}")).collect::<Vec<_>>().join(", ")
}

fn campaigns_page(
    lang: Lang,
    staff: &Staff,
    campaigns: &[Campaign],
    stats: &PushStats,
    form: &Compose,
    errors: Option<&motcua_domain::wire::ErrorBody>,
) -> Markup {
    let title = t(lang, "Thông báo đẩy", "Push campaigns");
    let live = stats.overall.queued > 0 || campaigns.iter().any(|c| c.state == CampaignState::FanningOut);
    let wards = motcua_domain::admin::wards_of("Hà Nội");
    let page = frame(
        lang,
        title,
        Some(staff),
        html! {
            h1 { (title) }
            @if live {
                p #live role="status" { (t(lang, "Đang gửi: trang tự cập nhật sau mỗi 10 giây.", "Sending: this page refreshes every 10 seconds.")) }
            }
            h2 { (t(lang, "Tổng quan gửi tin", "Delivery overall")) }
            dl.cards {
                div { dt { (t(lang, "Đã gửi", "Sent")) } dd #push-sent { (stats.overall.sent) } }
                div { dt { (t(lang, "Đang chờ gửi", "Waiting")) } dd #push-queued { (stats.overall.queued) } }
                div { dt { (t(lang, "Lỗi theo mã", "Failed by code")) } dd #push-failed { (failed_text(&stats.overall.failed)) } }
                div { dt { (t(lang, "Tin chờ lâu nhất (giây)", "Oldest waiting (s)")) } dd { (stats.overall.oldest_queued_secs) } }
                div { dt { (t(lang, "Mã thiết bị bị vô hiệu", "Tokens deactivated")) }
                      dd { (stats.tokens_deactivated.values().sum::<u64>()) } }
            }
            h2 { (t(lang, "Các chiến dịch", "Campaigns")) }
            @if campaigns.is_empty() {
                p { (t(lang, "Chưa có chiến dịch nào.", "No campaigns yet.")) }
            } @else {
                table.campaigns {
                    thead { tr {
                        th scope="col" { (t(lang, "Tiêu đề", "Title")) }
                        th scope="col" { (t(lang, "Người nhận", "Audience")) }
                        th scope="col" { (t(lang, "Giờ gửi", "Scheduled")) }
                        th scope="col" { (t(lang, "Trạng thái", "State")) }
                        th scope="col" { (t(lang, "Đã gửi / chờ / lỗi", "Sent / waiting / failed")) }
                        th scope="col" { (t(lang, "Thao tác", "Action")) }
                    } }
                    tbody {
                        @for c in campaigns {
                            @let figures = stats.campaigns.get(&c.id);
                            tr {
                                th scope="row" { (c.title.vi) br; small lang="en" { (c.title.en) } }
                                td { (audience_label(lang, &c.audience)) }
                                td { (local(c.scheduled_at)) }
                                td.state { (state_label(lang, c.state)) }
                                td {
                                    @match figures {
                                        Some(f) => { (f.sent) " / " (f.queued) " / " (failed_text(&f.failed)) },
                                        None => "0 / 0 / 0",
                                    }
                                }
                                td {
                                    @if c.state == CampaignState::Scheduled {
                                        form method="post" action={ "/console/campaigns/" (c.id) "/cancel" } {
                                            input type="hidden" name="csrf" value=(staff.csrf);
                                            button type="submit" aria-label={ (t(lang, "Hủy chiến dịch ", "Cancel campaign ")) (c.title.vi) } {
                                                (t(lang, "Hủy", "Cancel"))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 #compose-h { (t(lang, "Soạn thông báo mới", "Compose an announcement")) }
            @if let Some(errors) = errors {
                div.problem role="alert" {
                    p { (errors.error.message) }
                    ul { @for f in &errors.error.fields { li { code { (f.path) } ": " (f.message) } } }
                }
            }
            form.intake method="post" action="/console/campaigns" aria-labelledby="compose-h" {
                input type="hidden" name="csrf" value=(staff.csrf);
                label for="title_vi" { (t(lang, "Tiêu đề (tiếng Việt)", "Title (Vietnamese)")) }
                input #title_vi type="text" name="title_vi" maxlength="200" value=(form.title_vi);
                label for="title_en" { (t(lang, "Tiêu đề (tiếng Anh)", "Title (English)")) }
                input #title_en type="text" name="title_en" maxlength="200" value=(form.title_en);
                label for="body_vi" { (t(lang, "Nội dung (tiếng Việt)", "Body (Vietnamese)")) }
                textarea #body_vi name="body_vi" rows="3" maxlength="1000" { (form.body_vi) }
                label for="body_en" { (t(lang, "Nội dung (tiếng Anh)", "Body (English)")) }
                textarea #body_en name="body_en" rows="3" maxlength="1000" { (form.body_en) }
                fieldset {
                    legend { (t(lang, "Người nhận", "Audience")) }
                    div.check {
                        input #aud-city type="radio" name="audience" value="city" checked[form.audience.is_empty() || form.audience == "city"];
                        label for="aud-city" { (t(lang, "Toàn thành phố", "The whole city")) }
                    }
                    div.check {
                        input #aud-ward type="radio" name="audience" value="ward" checked[form.audience == "ward"];
                        label for="aud-ward" { (t(lang, "Một phường, xã", "One ward")) }
                    }
                    label for="ward_code" { (t(lang, "Phường, xã", "Ward")) }
                    select #ward_code name="ward_code" {
                        @for w in &wards { option value=(w.code) selected[form.ward_code == w.code] { (w.name) } }
                    }
                    div.check {
                        input #aud-accounts type="radio" name="audience" value="accounts" checked[form.audience == "accounts"];
                        label for="aud-accounts" { (t(lang, "Các tài khoản", "Listed accounts")) }
                    }
                    label for="accounts" { (t(lang, "Số CCCD, số điện thoại hoặc mã tài khoản, mỗi dòng một", "Citizen ids, phones or account ids, one a line")) }
                    textarea #accounts name="accounts" rows="3" { (form.accounts) }
                }
                label for="scheduled_at" { (t(lang, "Giờ gửi (giờ Hà Nội; để trống: gửi ngay)", "Send at (Hanoi time; empty: now)")) }
                input #scheduled_at type="datetime-local" name="scheduled_at" value=(form.scheduled_at);
                button type="submit" { (t(lang, "Tạo chiến dịch", "Create the campaign")) }
            }
        },
    );
    if live { with_refresh(page) } else { page }
}

/// The page with a `meta` refresh in its head (no script needed to follow a delivery).
fn with_refresh(page: Markup) -> Markup {
    let html = page.into_string();
    let refresh = format!("<meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\">");
    maud::PreEscaped(html.replacen("<head>", &format!("<head>{refresh}"), 1))
}

#[cfg(test)]
mod tests {
    use super::with_refresh;

    #[test]
    fn a_page_in_delivery_refreshes_itself_without_script() {
        let page = with_refresh(maud::html! { (maud::DOCTYPE) html { head { title { "x" } } body {} } });
        let html = page.into_string();
        assert!(
            html.starts_with("<!DOCTYPE html><html><head><meta http-equiv=\"refresh\" content=\"10\"><title>"),
            "{html}"
        );
        assert!(!html.contains("<script"));
    }
}
