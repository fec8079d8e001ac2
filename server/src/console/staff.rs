//! Staff administration in the console (administrators): the staff accounts, a form to
//! create one, and per account: disable or enable, reset the password, change an
//! officer's branch. The rules are `auth::staff`'s.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use motcua_domain::form::FieldErrorCode;
use motcua_domain::i18n::Lang;
use motcua_domain::wire::{ErrorBody, Role};
use serde::Deserialize;

use super::pages::{frame, t};
use super::{Staff, csrf_ok, error_page, lang_of, read_form};
use crate::app::AppState;
use crate::auth::staff::{self, NewStaff, StaffRow};
use crate::error::ApiError;

async fn load(app: &AppState, admin: &Staff) -> Result<(Vec<StaffRow>, Vec<String>), ApiError> {
    let rows = staff::list(app, &admin.user).await?;
    let branches = app.branches.get(&app.db).await?.iter().map(|b| b.code.clone()).collect();
    Ok((rows, branches))
}

/// `GET /console/staff`.
pub(super) async fn page(State(app): State<AppState>, headers: HeaderMap, admin: Staff) -> Response {
    let lang = lang_of(&headers);
    match load(&app, &admin).await {
        Ok((rows, branches)) => {
            staff_page(lang, &admin, &rows, &branches, &CreateForm::default(), None).into_response()
        }
        Err(e) => error_page(lang, e, Some(&admin)),
    }
}

#[derive(Deserialize, Default)]
pub(super) struct CreateForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    role: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    branch: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    password: String,
}

/// `POST /console/staff`: creates an account, or shows the form again with its errors.
pub(super) async fn create(State(app): State<AppState>, headers: HeaderMap, admin: Staff, body: Bytes) -> Response {
    let lang = lang_of(&headers);
    let form: CreateForm = match read_form(&body) {
        Ok(f) => f,
        Err(e) => return error_page(lang, e, Some(&admin)),
    };
    if !csrf_ok(&admin, form.csrf.as_deref()) {
        return error_page(lang, ApiError::Forbidden, Some(&admin));
    }
    let new = NewStaff {
        role: form.role.clone(),
        phone: form.phone.clone(),
        full_name: form.full_name.clone(),
        branch: form.branch.clone(),
        agency: form.agency.clone(),
        password: form.password.clone(),
    };
    match staff::create(&app, &admin.user, &new).await {
        Ok(_) => Redirect::to("/console/staff").into_response(),
        Err(e @ ApiError::Validation(_)) => {
            let (status, body) = (e.status(), e.body(lang));
            match load(&app, &admin).await {
                Ok((rows, branches)) => {
                    (status, staff_page(lang, &admin, &rows, &branches, &form, Some(&body))).into_response()
                }
                Err(e) => error_page(lang, e, Some(&admin)),
            }
        }
        Err(e) => error_page(lang, e, Some(&admin)),
    }
}

#[derive(Deserialize)]
pub(super) struct ChangeForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    op: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    branch: String,
}

/// `POST /console/staff/{id}`: `op` = `disable`, `enable`, `password` or `branch`.
pub(super) async fn change(
    State(app): State<AppState>,
    headers: HeaderMap,
    admin: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let lang = lang_of(&headers);
    let form: ChangeForm = match read_form(&body) {
        Ok(f) => f,
        Err(e) => return error_page(lang, e, Some(&admin)),
    };
    if !csrf_ok(&admin, form.csrf.as_deref()) {
        return error_page(lang, ApiError::Forbidden, Some(&admin));
    }
    let done = match form.op.as_str() {
        "disable" => staff::set_disabled(&app, &admin.user, &id, true).await,
        "enable" => staff::set_disabled(&app, &admin.user, &id, false).await,
        "password" => staff::reset_password(&app, &admin.user, &id, &form.password).await,
        "branch" => staff::change_branch(&app, &admin.user, &id, &form.branch).await,
        _ => Err(ApiError::field("op", FieldErrorCode::InvalidOption)),
    };
    match done {
        Ok(()) => Redirect::to("/console/staff").into_response(),
        Err(e) => error_page(lang, e, Some(&admin)),
    }
}

fn role_name(lang: Lang, role: &str) -> &'static str {
    match Role::parse(role) {
        Some(Role::Officer) => t(lang, "Cán bộ", "Officer"),
        Some(Role::AgencyOfficer) => t(lang, "Chuyên viên cơ quan", "Agency officer"),
        Some(Role::Admin) => t(lang, "Quản trị", "Administrator"),
        _ => t(lang, "Công dân", "Citizen"),
    }
}

fn staff_page(
    lang: Lang,
    admin: &Staff,
    rows: &[StaffRow],
    branches: &[String],
    form: &CreateForm,
    errors: Option<&ErrorBody>,
) -> Markup {
    let title = t(lang, "Tài khoản cán bộ", "Staff accounts");
    frame(
        lang,
        title,
        Some(admin),
        html! {
            h1 { (title) }
            table.staff {
                thead { tr {
                    th scope="col" { (t(lang, "Họ tên", "Name")) }
                    th scope="col" { (t(lang, "Điện thoại", "Phone")) }
                    th scope="col" { (t(lang, "Vai trò", "Role")) }
                    th scope="col" { (t(lang, "Chi nhánh / cơ quan", "Branch / agency")) }
                    th scope="col" { (t(lang, "Trạng thái", "State")) }
                    th scope="col" { (t(lang, "Thao tác", "Actions")) }
                } }
                tbody {
                    @for (i, r) in rows.iter().enumerate() {
                        @let action = format!("/console/staff/{}", r.id);
                        tr {
                            th scope="row" { (r.full_name) }
                            td { (r.phone) }
                            td { (role_name(lang, &r.role)) }
                            td { (r.branch_code.as_deref().or(r.agency_code.as_deref()).unwrap_or("—")) }
                            td.state { @if r.disabled_at.is_some() { (t(lang, "Đã khóa", "Disabled")) } @else { (t(lang, "Hoạt động", "Active")) } }
                            td {
                                form method="post" action=(action) {
                                    input type="hidden" name="csrf" value=(admin.csrf);
                                    @if r.disabled_at.is_some() {
                                        input type="hidden" name="op" value="enable";
                                        button type="submit" aria-label={ (t(lang, "Mở khóa ", "Enable ")) (r.full_name) } { (t(lang, "Mở khóa", "Enable")) }
                                    } @else if r.id != admin.user.id {
                                        input type="hidden" name="op" value="disable";
                                        button type="submit" aria-label={ (t(lang, "Khóa ", "Disable ")) (r.full_name) } { (t(lang, "Khóa", "Disable")) }
                                    }
                                }
                                form method="post" action=(action) {
                                    input type="hidden" name="csrf" value=(admin.csrf);
                                    input type="hidden" name="op" value="password";
                                    label for={ "pw-" (i) } { (t(lang, "Mật khẩu mới", "New password")) }
                                    input id={ "pw-" (i) } type="password" name="password" autocomplete="new-password" maxlength="1024";
                                    button type="submit" aria-label={ (t(lang, "Đặt lại mật khẩu cho ", "Reset the password of ")) (r.full_name) } { (t(lang, "Đặt lại", "Reset")) }
                                }
                                @if r.role == "officer" {
                                    form method="post" action=(action) {
                                        input type="hidden" name="csrf" value=(admin.csrf);
                                        input type="hidden" name="op" value="branch";
                                        label for={ "br-" (i) } { (t(lang, "Chi nhánh", "Branch")) }
                                        select id={ "br-" (i) } name="branch" {
                                            @for b in branches { option value=(b) selected[r.branch_code.as_deref() == Some(b.as_str())] { (b) } }
                                        }
                                        button type="submit" aria-label={ (t(lang, "Đổi chi nhánh của ", "Change the branch of ")) (r.full_name) } { (t(lang, "Đổi", "Change")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 #new-staff-h { (t(lang, "Thêm tài khoản", "New account")) }
            @if let Some(errors) = errors {
                div.problem role="alert" {
                    p { (errors.error.message) }
                    ul { @for f in &errors.error.fields { li { code { (f.path) } ": " (f.message) } } }
                }
            }
            form.intake method="post" action="/console/staff" aria-labelledby="new-staff-h" {
                input type="hidden" name="csrf" value=(admin.csrf);
                label for="new-role" { (t(lang, "Vai trò", "Role")) }
                select #new-role name="role" {
                    @for (value, _) in [("officer", ()), ("agency_officer", ()), ("admin", ())] {
                        option value=(value) selected[form.role == value] { (role_name(lang, value)) }
                    }
                }
                label for="new-name" { (t(lang, "Họ tên", "Name")) }
                input #new-name type="text" name="full_name" maxlength="200" value=(form.full_name);
                label for="new-phone" { (t(lang, "Số điện thoại (tên đăng nhập)", "Phone (the login)")) }
                input #new-phone type="tel" name="phone" value=(form.phone);
                label for="new-branch" { (t(lang, "Chi nhánh (cán bộ)", "Branch (officers)")) }
                select #new-branch name="branch" {
                    option value="" { "—" }
                    @for b in branches { option value=(b) selected[form.branch == *b] { (b) } }
                }
                label for="new-agency" { (t(lang, "Mã cơ quan (chuyên viên cơ quan)", "Agency code (agency officers)")) }
                input #new-agency type="text" name="agency" value=(form.agency);
                label for="new-password" { (t(lang, "Mật khẩu ban đầu", "First password")) }
                input #new-password type="password" name="password" autocomplete="new-password" maxlength="1024";
                button type="submit" { (t(lang, "Tạo tài khoản", "Create the account")) }
            }
        },
    )
}
