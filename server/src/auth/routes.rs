//! HTTP endpoints of accounts and tokens: register (a code by SMS) and its verification,
//! login, refresh, logout, me, JWKS.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use motcua_domain::form::{FieldError, FieldErrorCode};
use motcua_domain::ids::{CitizenId, is_valid_email, normalize_phone};
use motcua_domain::wire::{
    ErrorBody, LoginRequest, PhoneChallenge, RefreshRequest, RegisterRequest, TokenResponse, UserInfo,
    VerifyPhoneRequest,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::keys::Jwks;
use super::ratelimit::{self, Counter};
use super::{AuthUser, Rotation, User};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ClientIp};

impl AppState {
    /// The login counters as configured.
    pub fn login_throttle(&self) -> ratelimit::LoginThrottle {
        let drain = self.config.login_drain;
        ratelimit::LoginThrottle {
            per_network: Counter { capacity: self.config.login_free_failures, drain },
            per_account: Counter { capacity: self.config.login_account_ceiling, drain },
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(verify_registration))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(jwks))
}

/// Checks a new password: 8 to 128 characters, with at least a letter and a digit.
pub fn password_errors(path: &str, password: &str) -> Option<FieldError> {
    let n = password.chars().count();
    if n < 8 {
        return Some(FieldError::new(path, FieldErrorCode::WeakPassword).with_limit("8".to_owned()));
    }
    if n > 128 {
        return Some(FieldError::new(path, FieldErrorCode::TooLong).with_limit("128".to_owned()));
    }
    let letter = password.chars().any(char::is_alphabetic);
    let digit = password.chars().any(|c| c.is_ascii_digit());
    (!(letter && digit)).then(|| FieldError::new(path, FieldErrorCode::WeakPassword).with_limit("8".to_owned()))
}

/// Checks and normalises a registration; every problem at once.
fn validate_registration(req: &RegisterRequest) -> Result<(CitizenId, String, String, Option<String>), ApiError> {
    let mut errors = Vec::new();
    let citizen_id = CitizenId::parse(&req.citizen_id)
        .map_err(|_| errors.push(FieldError::new("citizen_id", FieldErrorCode::InvalidCitizenId)))
        .ok();
    let phone = normalize_phone(&req.phone);
    if phone.is_none() {
        errors.push(FieldError::new("phone", FieldErrorCode::InvalidPhone));
    }
    let name = req.full_name.split_whitespace().collect::<Vec<_>>().join(" ");
    match name.chars().count() {
        0 => errors.push(FieldError::new("full_name", FieldErrorCode::Required)),
        1 => errors.push(FieldError::new("full_name", FieldErrorCode::TooShort).with_limit("2".to_owned())),
        n if n > 100 => errors.push(FieldError::new("full_name", FieldErrorCode::TooLong).with_limit("100".to_owned())),
        _ => {}
    }
    errors.extend(password_errors("password", &req.password));
    let email = req.email.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned);
    if email.as_deref().is_some_and(|e| !is_valid_email(e)) {
        errors.push(FieldError::new("email", FieldErrorCode::InvalidEmail));
    }
    match (citizen_id, phone) {
        (Some(id), Some(phone)) if errors.is_empty() => Ok((id, phone, name, email)),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// The token answer: a fresh access token for `user` beside `refresh_token`.
fn token_response(
    app: &AppState,
    user: &User,
    family: uuid::Uuid,
    refresh_token: String,
    now: chrono::DateTime<Utc>,
) -> ApiResult<TokenResponse> {
    let (access_token, expires_in) = super::issue_access(app, user, family, now)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in,
        refresh_token,
        refresh_expires_in: app.config.refresh_token_ttl.as_secs(),
        user: user.info(),
    })
}

/// A new sign-in of `user`: a new refresh-token family and its first access token.
async fn tokens_for(app: &AppState, user: &User) -> ApiResult<TokenResponse> {
    let now = Utc::now();
    let (refresh_token, family) = super::start_family(app, user.id, now).await?;
    token_response(app, user, family, refresh_token, now)
}

/// Start a citizen registration: a six-digit code goes by SMS to the phone; the account is
/// created when the code comes back (`/auth/register/verify`). The answer is the same
/// whether or not the number already has an account (its owner gets a notice instead).
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 202, description = "A code was sent to the phone", body = PhoneChallenge),
        (status = 422, description = "Invalid fields, all listed", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address, or codes to this phone (Retry-After)", body = ErrorBody),
        (status = 503, description = "Too many password hashes at once (Retry-After)", body = ErrorBody),
    ))]
async fn register(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> ApiResult<impl IntoResponse> {
    app.limiter.admit(ip)?;
    let (citizen_id, phone, full_name, email) = validate_registration(&req)?;
    let password_hash = app.hasher.hash(req.password).await?;
    let pending =
        super::phone::Pending { citizen_id: citizen_id.as_str().to_owned(), phone, full_name, email, password_hash };
    let (id, expires_in) = super::phone::start(&app, pending).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(PhoneChallenge { verification_id: id.to_string(), expires_in })))
}

/// Finish a registration with the code received by SMS: the account is created and signed in.
#[utoipa::path(post, path = "/api/v1/auth/register/verify", tag = "auth", request_body = VerifyPhoneRequest,
    responses(
        (status = 201, description = "Verified, created and signed in", body = TokenResponse),
        (status = 409, description = "The citizen id already has an account (told only to the verified owner of the phone)", body = ErrorBody),
        (status = 422, description = "`code`: wrong code; `verification_id`: unknown, expired, used or out of attempts (register again)", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = ErrorBody),
    ))]
async fn verify_registration(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<VerifyPhoneRequest>,
) -> ApiResult<impl IntoResponse> {
    app.limiter.admit(ip)?;
    let user = super::phone::verify(&app, &req.verification_id, &req.code).await?;
    metrics::counter!("motcua_accounts_registered_total").increment(1);
    Ok((StatusCode::CREATED, axum::Json(tokens_for(&app, &user).await?)))
}

/// Sign in with a citizen id or phone number and a password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Wrong login or password (never says which, nor whether the account exists)", body = ErrorBody),
        (status = 422, description = "A missing or too long login or password", body = ErrorBody),
        (status = 429, description = "Too many attempts (Retry-After)", body = ErrorBody),
        (status = 503, description = "Too many password checks at once (Retry-After)", body = ErrorBody),
    ))]
async fn login(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<axum::Json<TokenResponse>> {
    let user = authenticate(&app, ip, &req.login, req.password).await?;
    Ok(axum::Json(tokens_for(&app, &user).await?))
}

/// Checks a login name and password, the one way anyone signs in (the API's login and the
/// web console's): the address limiter, the fields, a hashing turn (an overloaded server
/// spends no attempt), then the attempt claimed on both counters before the password is
/// looked at; a wrong password never says which of the two was wrong, nor whether the
/// account exists.
pub async fn authenticate(app: &AppState, ip: std::net::IpAddr, login: &str, password: String) -> ApiResult<User> {
    app.limiter.admit(ip)?;
    let mut errors = Vec::new();
    if login.trim().is_empty() {
        errors.push(FieldError::new("login", FieldErrorCode::Required));
    }
    if password.is_empty() {
        errors.push(FieldError::new("password", FieldErrorCode::Required));
    }
    if login.len() > 200 || password.len() > 1024 {
        errors.push(FieldError::new(if login.len() > 200 { "login" } else { "password" }, FieldErrorCode::TooLong));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let turn = app.hasher.turn().await?;
    let now = app.clock.now();
    let name = super::canonical_login(login);
    let per_network = ratelimit::login_network_key(&name, ip);
    let per_account = ratelimit::login_key(&name);
    let throttle = app.login_throttle();
    if let Err(wait) = ratelimit::claim(&app.db, &per_account, throttle.per_account, now).await? {
        metrics::counter!("motcua_logins_total", "outcome" => "throttled").increment(1);
        return Err(ApiError::RateLimited { retry_after_secs: wait });
    }
    if let Err(wait) = ratelimit::claim(&app.db, &per_network, throttle.per_network, now).await? {
        ratelimit::refund(&app.db, &per_account).await?;
        metrics::counter!("motcua_logins_total", "outcome" => "throttled").increment(1);
        return Err(ApiError::RateLimited { retry_after_secs: wait });
    }
    let user = super::find_by_login(&app.db, login).await?;
    metrics::counter!("motcua_password_checks_total").increment(1);
    // A counter account has no password yet: checked against the dummy hash, like an
    // unknown login (the same work, the same answer).
    let stored = user.as_ref().map(|u| u.password_hash.clone()).filter(|h| h != super::counter::NO_PASSWORD);
    let ok = app.hasher.verify(turn, password, stored).await?;
    match user {
        // A disabled account: refused like a wrong password (nothing told apart).
        Some(user) if ok && user.disabled_at.is_none() => {
            ratelimit::clear(&app.db, &per_network).await?;
            ratelimit::refund(&app.db, &per_account).await?;
            metrics::counter!("motcua_logins_total", "outcome" => "ok").increment(1);
            Ok(user)
        }
        _ => {
            metrics::counter!("motcua_logins_total", "outcome" => "failed").increment(1);
            Err(ApiError::BadCredentials)
        }
    }
}

/// Exchange a refresh token for a new access token and a new refresh token.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 422, description = "A field of the body has the wrong type", body = ErrorBody),
        (status = 401, description = "Unknown, expired, revoked or reused token: sign in again", body = ErrorBody),
    ))]
async fn refresh(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<axum::Json<TokenResponse>> {
    let now = Utc::now();
    match super::rotate(&app, req.refresh_token.trim(), now).await? {
        Rotation::Rotated { user_id, family, token } => {
            let user = super::find_user(&app.db, user_id).await?.ok_or(ApiError::Unauthorized)?;
            Ok(axum::Json(token_response(&app, &user, family, token, now)?))
        }
        Rotation::Invalid => Err(ApiError::Unauthorized),
        Rotation::ReuseDetected => {
            tracing::warn!("refresh token reused after rotation: family revoked");
            metrics::counter!("motcua_refresh_reuse_total").increment(1);
            Err(ApiError::Unauthorized)
        }
    }
}

/// Sign out: revoke the refresh token's whole family. Always 204.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out (also for an unknown token)"),
        (status = 422, description = "A field of the body has the wrong type", body = ErrorBody),
    ))]
async fn logout(State(app): State<AppState>, ApiJson(req): ApiJson<RefreshRequest>) -> ApiResult<StatusCode> {
    super::revoke_family(&app, req.refresh_token.trim(), Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserInfo), (status = 401, body = ErrorBody)))]
async fn me(State(app): State<AppState>, user: AuthUser) -> ApiResult<axum::Json<UserInfo>> {
    let user = super::find_user(&app.db, user.id).await?.ok_or(ApiError::Unauthorized)?;
    Ok(axum::Json(user.info()))
}

/// Public keys that verify access tokens (JWKS, RFC 7517).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth", responses((status = 200, body = Jwks)))]
async fn jwks(State(app): State<AppState>) -> axum::Json<Jwks> {
    axum::Json(app.keys.jwks())
}
