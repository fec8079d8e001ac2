//! Staff accounts managed by administrators without the command line (the web console's
//! admin page): list, create, disable or enable, reset the password, change an officer's
//! branch. The same checks as `motcua-server user add`; disabling or resetting a password
//! ends every sign-in of the account at once (its refresh-token families are revoked, so
//! its access tokens stop too, and its console sessions are deleted).

use chrono::{DateTime, Utc};
use motcua_domain::form::{FieldError, FieldErrorCode};
use motcua_domain::ids::normalize_phone;
use motcua_domain::wire::Role;
use uuid::Uuid;

use super::{AuthUser, CreateUserError, NewUser, User};
use crate::app::AppState;
use crate::db::BeginWrite;
use crate::error::{ApiError, ApiResult};
use crate::on_db;

/// Most staff accounts the list shows (the centre has far fewer).
pub const MAX_LISTED: i64 = 500;

/// A member of staff as the list shows them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRow {
    pub id: Uuid,
    pub full_name: String,
    pub phone: String,
    pub role: String,
    pub branch_code: Option<String>,
    pub agency_code: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// An account to create, as typed.
#[derive(Debug, Clone, Default)]
pub struct NewStaff {
    pub role: String,
    pub phone: String,
    pub full_name: String,
    pub branch: String,
    pub agency: String,
    pub password: String,
}

/// The staff accounts (not citizens), by name.
pub async fn list(app: &AppState, admin: &AuthUser) -> ApiResult<Vec<StaffRow>> {
    admin.require(&[Role::Admin])?;
    Ok(on_db!(&app.db, read, pool => {
        sqlx::query_as(
            "SELECT id, full_name, phone, role, branch_code, agency_code, disabled_at FROM users \
             WHERE role <> 'citizen' ORDER BY full_name, id LIMIT $1",
        )
        .bind(MAX_LISTED)
        .fetch_all(pool)
        .await
    })?)
}

/// Creates a staff account; its id. Field errors name `role`, `phone`, `full_name`,
/// `branch`, `agency`, `password`.
pub async fn create(app: &AppState, admin: &AuthUser, new: &NewStaff) -> ApiResult<Uuid> {
    admin.require(&[Role::Admin])?;
    let mut errors = Vec::new();
    let role = Role::parse(new.role.trim()).filter(|r| *r != Role::Citizen);
    if role.is_none() {
        errors.push(FieldError::new("role", FieldErrorCode::InvalidOption));
    }
    let phone = normalize_phone(&new.phone);
    if phone.is_none() {
        errors.push(FieldError::new("phone", FieldErrorCode::InvalidPhone));
    }
    let name = new.full_name.trim();
    if name.is_empty() {
        errors.push(FieldError::new("full_name", FieldErrorCode::Required));
    } else if name.chars().count() > 200 {
        errors.push(FieldError::new("full_name", FieldErrorCode::TooLong).with_limit(200));
    }
    let branch = Some(new.branch.trim().to_owned()).filter(|b| !b.is_empty());
    let agency = Some(new.agency.trim().to_owned()).filter(|a| !a.is_empty());
    match role {
        Some(Role::Officer) if branch.is_none() => errors.push(FieldError::new("branch", FieldErrorCode::Required)),
        Some(Role::AgencyOfficer) if agency.is_none() => {
            errors.push(FieldError::new("agency", FieldErrorCode::Required))
        }
        _ => {}
    }
    if let Some(problem) = super::routes::password_errors("password", &new.password) {
        errors.push(problem);
    }
    let (Some(role), Some(phone), true) = (role, phone, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let password_hash = app.hasher.hash(new.password.clone()).await?;
    let account = NewUser {
        citizen_id: None,
        phone,
        full_name: name.to_owned(),
        email: None,
        password_hash,
        role,
        // Only an officer has a branch, only an agency officer an agency.
        branch_code: branch.filter(|_| role == Role::Officer),
        agency_code: agency.filter(|_| role == Role::AgencyOfficer),
    };
    match super::create_user(&app.db, &account).await {
        Ok(id) => Ok(id),
        Err(CreateUserError::Exists) => Err(ApiError::field("phone", FieldErrorCode::Invalid)),
        Err(CreateUserError::UnknownBranch) => {
            Err(ApiError::field(if role == Role::Officer { "branch" } else { "agency" }, FieldErrorCode::InvalidOption))
        }
        Err(CreateUserError::Db(e)) => Err(e.into()),
    }
}

/// The staff account `raw_id` (citizens are not administered here: not found).
async fn staff_account(app: &AppState, raw_id: &str) -> ApiResult<User> {
    let id = Uuid::parse_str(raw_id.trim()).map_err(|_| ApiError::NotFound)?;
    super::find_user(&app.db, id).await?.filter(|u| u.role() != Role::Citizen).ok_or(ApiError::NotFound)
}

/// Ends every sign-in of `user`: its refresh-token families revoked (their access tokens
/// stop, on this process at once), its console sessions deleted; with `then` in the
/// same transaction.
async fn end_sign_ins(app: &AppState, user: Uuid, then: Change<'_>) -> ApiResult<()> {
    let now = Utc::now();
    let families: Vec<(Uuid,)> = on_db!(&app.db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        match then {
            Change::Disable => {
                sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2").bind(now).bind(user).execute(&mut *tx).await?;
            }
            Change::Password(hash) => {
                sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(user).execute(&mut *tx).await?;
            }
        }
        let families: Vec<(Uuid,)> = sqlx::query_as(
            "SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now).bind(user).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM console_sessions WHERE user_id = $1").bind(user).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(families)
    }.await)?;
    for (family,) in families {
        app.revocations.mark_revoked(family);
    }
    Ok(())
}

enum Change<'a> {
    Disable,
    Password(&'a str),
}

/// Disables (`true`) or enables a staff account; an administrator cannot disable
/// themselves (the centre would lose its last way in).
pub async fn set_disabled(app: &AppState, admin: &AuthUser, raw_id: &str, disabled: bool) -> ApiResult<()> {
    admin.require(&[Role::Admin])?;
    let account = staff_account(app, raw_id).await?;
    if disabled {
        if account.id == admin.id {
            return Err(ApiError::Forbidden);
        }
        end_sign_ins(app, account.id, Change::Disable).await
    } else {
        on_db!(&app.db, write, pool => {
            sqlx::query("UPDATE users SET disabled_at = NULL WHERE id = $1").bind(account.id).execute(pool).await.map(|_| ())
        })?;
        Ok(())
    }
}

/// Sets a new password (checked like any password) and ends the account's sign-ins.
pub async fn reset_password(app: &AppState, admin: &AuthUser, raw_id: &str, password: &str) -> ApiResult<()> {
    admin.require(&[Role::Admin])?;
    let account = staff_account(app, raw_id).await?;
    if let Some(problem) = super::routes::password_errors("password", password) {
        return Err(ApiError::Validation(vec![problem]));
    }
    let hash = app.hasher.hash(password.to_owned()).await?;
    end_sign_ins(app, account.id, Change::Password(&hash)).await
}

/// Moves an officer to another branch (their queue changes with their next request).
pub async fn change_branch(app: &AppState, admin: &AuthUser, raw_id: &str, branch: &str) -> ApiResult<()> {
    admin.require(&[Role::Admin])?;
    let account = staff_account(app, raw_id).await?;
    if account.role() != Role::Officer {
        return Err(ApiError::field("branch", FieldErrorCode::Invalid));
    }
    let branch = branch.trim();
    if !app.branches.get(&app.db).await?.iter().any(|b| b.code == branch) {
        return Err(ApiError::field("branch", FieldErrorCode::InvalidOption));
    }
    on_db!(&app.db, write, pool => {
        sqlx::query("UPDATE users SET branch_code = $1 WHERE id = $2 AND role = 'officer'")
            .bind(branch).bind(account.id).execute(pool).await.map(|_| ())
    })?;
    Ok(())
}
