//! The staff web console under `/console`: server-rendered pages (maud, escaped by
//! default, no script), signed in with the same password check as the API, a server-side
//! session in an HttpOnly SameSite=Strict cookie, a per-session CSRF token on every form,
//! and strict security headers. Officers see their branch's queue and act on a dossier
//! through the same functions as the API (`dossiers::visible`, `dossiers::apply_action`),
//! so the role and branch rules and the workflow are decided in one place.
//!
//! Why a server-side session rather than a signed token: logout must end it at once and
//! everywhere, and the CSRF token belongs to it; a row found by the SHA-256 of a 256-bit
//! random cookie does both, and the account's current role and branch are read with it on
//! every request (a moved or demoted officer loses access at once).

mod campaigns;
mod dashboard;
mod intake;
mod multipart;
mod pages;
mod reports;
mod staff;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use motcua_domain::form::FieldErrorCode;
use motcua_domain::i18n::Lang;
use motcua_domain::wire::Role;
use motcua_domain::workflow::{Action, DossierStatus, at_risk_before};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::dossiers::store::{self, Cursor, local_date};
use crate::dossiers::{Applied, apply_action, check_note, list_scope, visible};
use crate::error::{ApiError, Conflict, LANG};
use crate::extract::ApiQuery;
use crate::extract::ClientIp;
use crate::on_db;
use crate::seed::hex;

/// The session cookie.
const SESSION_COOKIE: &str = "motcua_console";
/// The sign-in form's CSRF cookie (double submit: no session exists yet).
const LOGIN_COOKIE: &str = "motcua_console_login";
/// The language chosen in the console (`vi` or `en`).
const LANG_COOKIE: &str = "lang";
/// How long a console session lasts: one working day, then sign in again.
const SESSION_TTL: TimeDelta = TimeDelta::hours(8);
/// Dossiers per queue page.
const PAGE: u32 = 25;
/// Papers whose details a dossier page looks up (the rest are plain links).
const MAX_PAPERS: usize = 50;

/// The officer actions the console offers; the workflow decides which apply.
pub(crate) const OFFERED: [Action; 7] = [
    Action::Receive,
    Action::StartProcessing,
    Action::RequestSupplement,
    Action::Forward,
    Action::Approve,
    Action::Reject,
    Action::ReturnResult,
];

/// The console's routes; forms that carry files take bodies up to the upload limit (a
/// walk-in intake: several papers).
pub fn router(config: &crate::config::Config) -> Router<AppState> {
    let one_file = usize::try_from(config.max_upload_bytes).unwrap_or(usize::MAX).saturating_add(64 * 1024);
    Router::new()
        .route("/console/dossiers/{id}/result", post(attach_result).layer(DefaultBodyLimit::max(one_file)))
        .route("/console", get(|| async { Redirect::to("/console/queue") }))
        .route("/console/", get(|| async { Redirect::to("/console/queue") }))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/lang/{code}", get(choose_lang))
        .route("/console/static/console.css", get(stylesheet))
        .route("/console/static/favicon.svg", get(favicon))
        .route("/console/queue", get(queue))
        .route("/console/dossiers/{id}", get(dossier))
        .route("/console/dossiers/{id}/actions", post(act))
        .route("/console/dossiers/{id}/result", get(result_document))
        .route("/console/dossiers/{id}/receipt", get(intake::receipt))
        .route(
            "/console/intake",
            get(intake::start).post(intake::file).layer(DefaultBodyLimit::max(one_file.saturating_mul(4))),
        )
        .route("/console/intake/new", get(intake::new))
        .route("/console/reports", get(reports::queue))
        .route("/console/reports/{id}", get(reports::report))
        .route("/console/reports/{id}/actions", post(reports::act).layer(DefaultBodyLimit::max(one_file)))
        .route("/console/reports/{id}/moderation", post(reports::moderate))
        .route("/console/campaigns", get(campaigns::page).post(campaigns::create))
        .route("/console/campaigns/{id}/cancel", post(campaigns::cancel))
        .route("/console/staff", get(staff::page).post(staff::create))
        .route("/console/staff/{id}", post(staff::change))
        .route("/console/dashboard", get(dashboard::page))
        .route("/console/dashboard.csv", get(dashboard::csv))
        .route("/console/attachments/{id}", get(attachment))
        .layer(middleware::from_fn(console_layer))
}

/// Every console response: the request's language (the `lang` cookie first, then
/// `Accept-Language`), a strict Content-Security-Policy (nothing but this server, no
/// inline script or style, no framing), never cached, no referrer outside.
async fn console_layer(req: Request, next: Next) -> Response {
    let lang = lang_of(req.headers());
    let mut response = LANG.scope(lang, next.run(req)).await;
    let headers = response.headers_mut();
    // A page may say otherwise (a paper shown in a frame of the dossier page).
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ));
    headers.entry(header::X_FRAME_OPTIONS).or_insert(HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.as_str()));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The value of cookie `name`, if the request carries it.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The console's language: the `lang` cookie, else `Accept-Language`, else Vietnamese.
fn lang_of(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => Lang::En,
        Some("vi") => Lang::Vi,
        _ => headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::from_accept_language)
            .unwrap_or_default(),
    }
}

/// Whether the browser reached us over HTTPS (through a trusted reverse proxy; the
/// server itself speaks plain HTTP): cookies are then `Secure`.
fn over_https(app: &AppState, headers: &HeaderMap) -> bool {
    app.config.trust_forwarded_for
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, `Secure` over HTTPS.
fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"))
        .unwrap_or(HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// 256 random bits, URL-safe.
fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A page for an error of the shared handlers: its status and its message (and the
/// fields it names) in the console's language.
fn error_page(lang: Lang, error: ApiError, signed_in: Option<&Staff>) -> Response {
    let status = error.status();
    let body = error.body(lang);
    let mut response = (status, pages::error(lang, signed_in, &body)).into_response();
    if let ApiError::RateLimited { retry_after_secs } | ApiError::Overloaded { retry_after_secs } = error {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
    }
    response
}

/// A signed-in member of staff: their identity as the API's rules take it, their name,
/// and the session's CSRF token.
pub(crate) struct Staff {
    pub user: AuthUser,
    pub name: String,
    pub csrf: String,
    token_hash: String,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    csrf_token: String,
    expires_at: DateTime<Utc>,
    id: Uuid,
    role: String,
    branch_code: Option<String>,
    agency_code: Option<String>,
    full_name: String,
}

/// The session the request's cookie names, if it is alive and its account is staff.
async fn find_session(app: &AppState, headers: &HeaderMap) -> Result<Option<Staff>, ApiError> {
    let Some(token) = cookie(headers, SESSION_COOKIE).filter(|t| !t.is_empty() && t.len() <= 100) else {
        return Ok(None);
    };
    let hash = token_hash(token);
    let row: Option<SessionRow> = on_db!(&app.db, read, pool => {
        sqlx::query_as(
            "SELECT s.csrf_token, s.expires_at, u.id, u.role, u.branch_code, u.agency_code, u.full_name \
             FROM console_sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND u.disabled_at IS NULL",
        )
        .bind(&hash)
        .fetch_optional(pool)
        .await
    })?;
    let Some(row) = row.filter(|r| r.expires_at > app.clock.now()) else { return Ok(None) };
    let role = Role::parse(&row.role).unwrap_or(Role::Citizen);
    if role == Role::Citizen {
        return Ok(None);
    }
    // The console session is its own sign-in: its key stands where the API has the
    // refresh-token family (nothing here uses it as one).
    let family = Uuid::from_slice(&Sha256::digest(hash.as_bytes())[..16]).unwrap_or_default();
    let user = AuthUser { id: row.id, role, branch: row.branch_code, family, agency: row.agency_code };
    Ok(Some(Staff { user, name: row.full_name, csrf: row.csrf_token, token_hash: hash }))
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        match find_session(app, &parts.headers).await {
            Ok(Some(staff)) => Ok(staff),
            Ok(None) => Err(Redirect::to("/console/login").into_response()),
            Err(e) => Err(error_page(lang_of(&parts.headers), e, None)),
        }
    }
}

/// Whether a form carries the session's CSRF token (compared in constant time).
fn csrf_ok(staff: &Staff, presented: Option<&str>) -> bool {
    presented.is_some_and(|token| same_secret(token, &staff.csrf))
}

/// Reads an `application/x-www-form-urlencoded` body (fields it does not know are ignored).
fn read_form<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    serde_urlencoded::from_bytes(body).map_err(|_| ApiError::field("body", FieldErrorCode::Invalid))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        include_str!("console.css"),
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        include_str!("favicon.svg"),
    )
        .into_response()
}

/// Sets the language cookie and goes back to the console.
async fn choose_lang(Path(code): Path<String>) -> Response {
    let lang = match code.as_str() {
        "en" => "en",
        _ => "vi",
    };
    let cookie =
        HeaderValue::from_str(&format!("{LANG_COOKIE}={lang}; Path=/console; Max-Age=31536000; SameSite=Strict"))
            .unwrap_or(HeaderValue::from_static("lang=vi; Path=/console"));
    ([(header::SET_COOKIE, cookie)], Redirect::to("/console/queue")).into_response()
}

/// The sign-in page, with a fresh CSRF cookie its form must echo.
async fn login_page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    login_form(&app, &headers, lang, StatusCode::OK, None)
}

fn login_form(
    app: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    problem: Option<String>,
) -> Response {
    let token = match random_token() {
        Ok(t) => t,
        Err(e) => return error_page(lang, e, None),
    };
    let cookie = set_cookie(LOGIN_COOKIE, &token, "/console/login", 3600, over_https(app, headers));
    (status, [(header::SET_COOKIE, cookie)], pages::login(lang, &token, problem.as_deref())).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// Signs a member of staff in: the API's password check (limits, bounded hashing), then a
/// new session; citizens are refused.
async fn login(State(app): State<AppState>, ClientIp(ip): ClientIp, headers: HeaderMap, body: Bytes) -> Response {
    let lang = lang_of(&headers);
    let form: LoginForm = match read_form(&body) {
        Ok(f) => f,
        Err(e) => return error_page(lang, e, None),
    };
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(&form.csrf, expected) {
        return error_page(lang, ApiError::Forbidden, None);
    }
    let user = match crate::auth::routes::authenticate(&app, ip, &form.login, form.password).await {
        Ok(user) => user,
        Err(e @ (ApiError::BadCredentials | ApiError::Validation(_))) => {
            let status = e.status();
            let body = e.body(lang);
            let mut problem = body.error.message;
            for field in body.error.fields {
                problem.push_str(&format!(" {}", field.message));
            }
            return login_form(&app, &headers, lang, status, Some(problem));
        }
        Err(e) => return error_page(lang, e, None),
    };
    if user.role() == Role::Citizen {
        let problem = pages::t(
            lang,
            "Tài khoản công dân không đăng nhập được trang cán bộ; hãy dùng ứng dụng Một cửa.",
            "Citizen accounts cannot sign in to the staff console; please use the Một cửa app.",
        );
        return login_form(&app, &headers, lang, StatusCode::FORBIDDEN, Some(problem.to_owned()));
    }
    match start_session(&app, user.id).await {
        Ok(token) => {
            let secure = over_https(&app, &headers);
            let session = set_cookie(SESSION_COOKIE, &token, "/console", SESSION_TTL.num_seconds(), secure);
            let spent = set_cookie(LOGIN_COOKIE, "", "/console/login", 0, secure);
            let mut response = Redirect::to("/console/queue").into_response();
            response.headers_mut().append(header::SET_COOKIE, session);
            response.headers_mut().append(header::SET_COOKIE, spent);
            response
        }
        Err(e) => error_page(lang, e, None),
    }
}

/// Records a new session of `user_id` (and clears a bounded batch of expired ones);
/// returns the cookie's token.
async fn start_session(app: &AppState, user_id: Uuid) -> Result<String, ApiError> {
    let token = random_token()?;
    let csrf = random_token()?;
    let now = app.clock.now();
    on_db!(&app.db, write, pool => {
        sqlx::query(
            "DELETE FROM console_sessions WHERE token_hash IN \
             (SELECT token_hash FROM console_sessions WHERE expires_at < $1 LIMIT 100)",
        )
        .bind(now)
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO console_sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(&csrf)
        .bind(now)
        .bind(now + SESSION_TTL)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(token)
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: Option<String>,
}

/// Ends the session (its row is deleted: the cookie is worthless from now on).
async fn logout(State(app): State<AppState>, headers: HeaderMap, staff: Staff, body: Bytes) -> Response {
    let lang = lang_of(&headers);
    let form: CsrfOnly = match read_form(&body) {
        Ok(f) => f,
        Err(e) => return error_page(lang, e, Some(&staff)),
    };
    if !csrf_ok(&staff, form.csrf.as_deref()) {
        return error_page(lang, ApiError::Forbidden, Some(&staff));
    }
    let deleted = on_db!(&app.db, write, pool => {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
            .bind(&staff.token_hash)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    });
    if let Err(e) = deleted {
        return error_page(lang, e.into(), Some(&staff));
    }
    let cleared = set_cookie(SESSION_COOKIE, "", "/console", 0, over_https(&app, &headers));
    ([(header::SET_COOKIE, cleared)], Redirect::to("/console/login")).into_response()
}

#[derive(Deserialize)]
struct QueueQuery {
    status: Option<String>,
    procedure: Option<String>,
    after: Option<String>,
}

/// The queue of the signed-in member of staff (an officer: their branch's), the most
/// urgent first, a page at a time (the store's keyset paging), filtered by status and
/// procedure.
async fn queue(
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
    let status_raw = q.status.as_deref().filter(|s| !s.is_empty());
    let status = status_raw.and_then(DossierStatus::parse);
    if status_raw.is_some() && status.is_none() {
        return error_page(lang, ApiError::field("status", FieldErrorCode::InvalidOption), Some(&staff));
    }
    let after_raw = q.after.as_deref().filter(|a| !a.is_empty());
    let cursor = after_raw.and_then(Cursor::decode);
    if after_raw.is_some() && cursor.is_none() {
        return error_page(lang, ApiError::field("after", FieldErrorCode::Invalid), Some(&staff));
    }
    let snapshot = match app.catalogue.held(&app.db).await {
        Ok(snapshot) => snapshot,
        Err(e) => return error_page(lang, e.into(), Some(&staff)),
    };
    let procedure = q.procedure.as_deref().filter(|p| !p.is_empty());
    if procedure.is_some_and(|p| snapshot.get(p).is_none()) {
        return error_page(lang, ApiError::field("procedure", FieldErrorCode::InvalidOption), Some(&staff));
    }
    let scope = list_scope(&staff.user, None, None);
    let today = local_date(app.clock.now());
    let risk = at_risk_before(store::calendar(), today);
    let filters = store::Filters { status, procedure };
    match store::list(&app.db, &scope, filters, cursor.as_ref(), PAGE, today, risk).await {
        Ok((rows, more)) => {
            let next = if more { rows.last().map(|r| r.cursor().encode()) } else { None };
            let items: Vec<_> = rows.iter().map(|r| r.summary(today)).collect();
            let shown =
                pages::Queue { filters, procedures: snapshot.procedures(), items: &items, next: next.as_deref() };
            pages::queue(lang, &staff, &shown).into_response()
        }
        Err(e) => error_page(lang, e.into(), Some(&staff)),
    }
}

/// One dossier as the API shows it to this member of staff, with the actions the workflow
/// allows them from its current state.
async fn dossier(State(app): State<AppState>, headers: HeaderMap, staff: Staff, Path(id): Path<String>) -> Response {
    let lang = lang_of(&headers);
    match dossier_page(&app, lang, &staff, &id).await {
        Ok(page) => page,
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

async fn dossier_page(app: &AppState, lang: Lang, staff: &Staff, id: &str) -> Result<Response, ApiError> {
    let (row, legs) = visible(app, &staff.user, id).await?;
    let full = store::load_full(&app.db, &row, app.clock.now()).await?;
    let route: Vec<_> = legs.iter().map(store::LegRow::leg).collect();
    let caller = motcua_domain::workflow::Caller {
        role: staff.user.role,
        applicant: row.applicant_id == staff.user.id,
        agency: staff.user.agency.as_deref(),
    };
    let allowed: Vec<Action> = OFFERED
        .into_iter()
        .filter(|a| motcua_domain::workflow::transition_on(row.status(), &route, *a, caller, None).is_ok())
        .collect();
    let snapshot = app.catalogue.held(&app.db).await?;
    let procedure = snapshot.get(&row.procedure_code).cloned();
    // The papers' names and types (images are shown in the page), as many as a page shows.
    let mut papers = std::collections::HashMap::new();
    if let Some(procedure) = &procedure {
        for id in pages::attachment_ids(&procedure.form.fields, &full.values).into_iter().take(MAX_PAPERS) {
            match crate::attachments::details(app, &staff.user, &id).await {
                Ok(paper) => {
                    papers.insert(id, paper);
                }
                // Collected or not visible: shown as a plain link, which answers 404.
                Err(ApiError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
    }
    let view = pages::DossierView {
        result_attachable: crate::dossiers::result::attachable(row.status())
            && matches!(staff.user.role, Role::Officer | Role::Admin),
        dossier: &full,
        revision: row.revision,
        procedure: procedure.as_deref(),
        allowed: &allowed,
        papers: &papers,
    };
    Ok(pages::dossier(lang, staff, &view).into_response())
}

#[derive(Deserialize)]
struct ActForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    revision: String,
    #[serde(default)]
    note: Option<String>,
}

/// Takes an action on a dossier: CSRF first, then the same visibility, note and workflow
/// checks as the API, against the revision the officer saw (a dossier changed meanwhile
/// is not acted on blindly).
async fn act(
    State(app): State<AppState>,
    headers: HeaderMap,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let lang = lang_of(&headers);
    let form: ActForm = match read_form(&body) {
        Ok(f) => f,
        Err(e) => return error_page(lang, e, Some(&staff)),
    };
    if !csrf_ok(&staff, form.csrf.as_deref()) {
        return error_page(lang, ApiError::Forbidden, Some(&staff));
    }
    match act_on(&app, &staff, &id, &form).await {
        Ok(()) => Redirect::to(&format!("/console/dossiers/{id}")).into_response(),
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

async fn act_on(app: &AppState, staff: &Staff, id: &str, form: &ActForm) -> Result<(), ApiError> {
    let action = OFFERED
        .into_iter()
        .find(|a| a.as_str() == form.action)
        .ok_or_else(|| ApiError::field("action", FieldErrorCode::InvalidOption))?;
    let revision: i64 =
        form.revision.trim().parse().map_err(|_| ApiError::field("revision", FieldErrorCode::Invalid))?;
    let (row, legs) = visible(app, &staff.user, id).await?;
    if row.revision != revision {
        return Err(ApiError::Conflict(Conflict::ConcurrentUpdate));
    }
    let note = check_note(action, form.note.as_deref())?;
    let applied = Applied { row: &row, legs: &legs, action, note: note.as_deref(), agency: None, new_values: None };
    apply_action(app, &staff.user, applied).await.map(|_| ())
}

/// An attachment of a dossier this member of staff may see (the API's rule), inline: a
/// photo in an `img`, a PDF in a frame of the dossier page (the only framing allowed, by
/// this server's own pages; the file itself may run nothing).
async fn attachment(State(app): State<AppState>, headers: HeaderMap, staff: Staff, Path(id): Path<String>) -> Response {
    match crate::attachments::content(&app, &staff.user, &id).await {
        Ok(mut response) => {
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'",
                ),
            );
            h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            response
        }
        Err(e) => error_page(lang_of(&headers), e, Some(&staff)),
    }
}

/// The dossier's result document, as a file to save.
async fn result_document(
    State(app): State<AppState>,
    headers: HeaderMap,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    match crate::dossiers::result::result_file(&app, &staff.user, &id).await {
        Ok(response) => response,
        Err(e) => error_page(lang_of(&headers), e, Some(&staff)),
    }
}

/// The parts of a console form that carries files, once its CSRF token is checked.
fn file_form<'a>(staff: &Staff, headers: &HeaderMap, body: &'a [u8]) -> Result<Vec<multipart::Part<'a>>, ApiError> {
    let parts = multipart::parse(headers, body)?;
    let csrf = parts.iter().find(|p| p.name == "csrf").and_then(multipart::Part::text);
    if !csrf_ok(staff, csrf) {
        return Err(ApiError::Forbidden);
    }
    Ok(parts)
}

/// The first file a form's `field` carries (a file input left empty sends an empty part).
fn form_file<'a, 'b>(parts: &'b [multipart::Part<'a>], field: &str) -> Option<&'b multipart::Part<'a>> {
    parts.iter().find(|p| p.name == field && p.file_name.is_some() && !p.data.is_empty())
}

/// Attaches the result document: the file is stored as the officer's upload (the API's
/// checks), then attached through the same function as the API.
async fn attach_result(
    State(app): State<AppState>,
    headers: HeaderMap,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let lang = lang_of(&headers);
    let done = async {
        let parts = file_form(&staff, &headers, &body)?;
        let revision = parts
            .iter()
            .find(|p| p.name == "revision")
            .and_then(multipart::Part::text)
            .and_then(|r| r.trim().parse::<i64>().ok())
            .ok_or_else(|| ApiError::field("revision", FieldErrorCode::Invalid))?;
        let file = form_file(&parts, "file").ok_or_else(|| ApiError::field("file", FieldErrorCode::Required))?;
        // The dossier is looked at first: a stranger's request, or one too early or too
        // late, stores nothing (the attachment itself checks again, atomically).
        staff.user.require(&[Role::Officer, Role::Admin])?;
        let (row, _) = crate::dossiers::visible(&app, &staff.user, &id).await?;
        if !crate::dossiers::result::attachable(row.status()) {
            return Err(ApiError::Conflict(Conflict::ResultNotAttachable));
        }
        let (_, stored) = crate::attachments::store_whole(
            &app,
            staff.user.id,
            file.file_name.as_deref(),
            bytes::Bytes::copy_from_slice(file.data),
        )
        .await?;
        crate::dossiers::result::attach_result(&app, &staff.user, &id, &stored.id, Some(revision)).await
    };
    match done.await {
        Ok(_) => Redirect::to(&format!("/console/dossiers/{id}")).into_response(),
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}
