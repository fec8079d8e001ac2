//! Accounts of citizens served at the counter (walk-in intake, "tiếp nhận trực tiếp").
//!
//! The officer names the citizen by citizen id and/or phone. An existing citizen account
//! with that citizen id or phone is used (both given must not point at two accounts, nor
//! contradict the account's own citizen id). Otherwise a *counter account* is made with
//! both (a new account needs both), the name given, and no password: nobody can sign in
//! to it. When the citizen later registers in the app with the same phone (proven by the
//! SMS code) and the same citizen id, registration takes that account over (it sets the
//! password) instead of refusing a taken number: their counter dossiers are then in the app.

use motcua_domain::form::{FieldError, FieldErrorCode};
use motcua_domain::ids::{CitizenId, normalize_phone};
use motcua_domain::wire::Role;
use uuid::Uuid;

use super::{CreateUserError, NewUser, User, find_by_login};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::on_db;

/// The stored "password hash" of a counter account: not a hash, so no password matches.
pub const NO_PASSWORD: &str = "!counter";

/// Who the officer says the citizen is (as typed).
#[derive(Debug, Clone, Default)]
pub struct Counterpart<'a> {
    pub citizen_id: &'a str,
    pub phone: &'a str,
    pub full_name: &'a str,
}

fn refused(errors: Vec<FieldError>) -> ApiError {
    ApiError::Validation(errors)
}

/// The account of the citizen at the counter: found by citizen id or phone, or made as a
/// counter account. Field errors name `citizen_id`, `phone`, `full_name`.
pub async fn account_for(db: &Db, who: &Counterpart<'_>) -> ApiResult<User> {
    let mut errors = Vec::new();
    let citizen_id = match who.citizen_id.trim() {
        "" => None,
        raw => match CitizenId::parse(raw) {
            Ok(id) => Some(id.as_str().to_owned()),
            Err(_) => {
                errors.push(FieldError::new("citizen_id", FieldErrorCode::InvalidCitizenId));
                None
            }
        },
    };
    let phone = match who.phone.trim() {
        "" => None,
        raw => match normalize_phone(raw) {
            Some(p) => Some(p),
            None => {
                errors.push(FieldError::new("phone", FieldErrorCode::InvalidPhone));
                None
            }
        },
    };
    let full_name = who.full_name.trim();
    if full_name.chars().count() > 200 {
        errors.push(FieldError::new("full_name", FieldErrorCode::TooLong).with_limit(200));
    }
    if citizen_id.is_none() && phone.is_none() && errors.is_empty() {
        errors.push(FieldError::new("citizen_id", FieldErrorCode::Required));
    }
    if !errors.is_empty() {
        return Err(refused(errors));
    }
    // Twice at most: a concurrent intake may create the account between look-up and insert.
    for _ in 0..2 {
        if let Some(found) = find(db, citizen_id.as_deref(), phone.as_deref()).await? {
            return Ok(found);
        }
        let (Some(citizen_id), Some(phone)) = (&citizen_id, &phone) else {
            // Not found by the one given: a new account needs both (and a name).
            let missing = if citizen_id.is_none() { "citizen_id" } else { "phone" };
            return Err(refused(vec![FieldError::new(missing, FieldErrorCode::Required)]));
        };
        if full_name.is_empty() {
            return Err(refused(vec![FieldError::new("full_name", FieldErrorCode::Required)]));
        }
        let new = NewUser {
            citizen_id: Some(citizen_id.clone()),
            phone: phone.clone(),
            full_name: full_name.to_owned(),
            email: None,
            password_hash: NO_PASSWORD.to_owned(),
            role: Role::Citizen,
            branch_code: None,
            agency_code: None,
        };
        match super::create_user(db, &new).await {
            Ok(id) => {
                metrics::counter!("motcua_counter_accounts_created_total").increment(1);
                return super::find_user(db, id)
                    .await?
                    .ok_or_else(|| ApiError::internal("a counter account just created is gone"));
            }
            Err(CreateUserError::Exists) => continue,
            Err(CreateUserError::UnknownBranch) => return Err(ApiError::internal("a citizen account with a branch")),
            Err(CreateUserError::Db(e)) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict(crate::error::Conflict::ConcurrentUpdate))
}

/// The one citizen account the citizen id and phone designate, if any; a field error when
/// they designate two, a staff account, or an account with another citizen id.
async fn find(db: &Db, citizen_id: Option<&str>, phone: Option<&str>) -> ApiResult<Option<User>> {
    let by_id = match citizen_id {
        Some(id) => find_by_login(db, id).await?,
        None => None,
    };
    let by_phone = match phone {
        Some(p) => find_by_login(db, p).await?,
        None => None,
    };
    let found = match (by_id, by_phone) {
        (Some(a), Some(b)) if a.id != b.id => {
            return Err(refused(vec![
                FieldError::new("citizen_id", FieldErrorCode::Invalid),
                FieldError::new("phone", FieldErrorCode::Invalid),
            ]));
        }
        (Some(a), _) => a,
        (None, Some(b)) => {
            // The phone's account belongs to someone with another citizen id.
            if let (Some(given), Some(own)) = (citizen_id, b.citizen_id.as_deref())
                && given != own
            {
                return Err(refused(vec![FieldError::new("citizen_id", FieldErrorCode::Invalid)]));
            }
            b
        }
        (None, None) => return Ok(None),
    };
    if found.role() != Role::Citizen {
        let path = if citizen_id.is_some() { "citizen_id" } else { "phone" };
        return Err(refused(vec![FieldError::new(path, FieldErrorCode::Invalid)]));
    }
    Ok(Some(found))
}

/// Registration over a counter account: sets the password (and name, e-mail) of the
/// unclaimed counter account with this phone and citizen id; the account's id, or `None`
/// when there is no such account.
pub async fn claim(db: &Db, new: &NewUser) -> sqlx::Result<Option<Uuid>> {
    on_db!(db, write, pool => {
        sqlx::query_scalar(
            "UPDATE users SET password_hash = $1, full_name = $2, email = $3 \
             WHERE phone = $4 AND citizen_id = $5 AND role = 'citizen' AND password_hash = $6 RETURNING id",
        )
        .bind(&new.password_hash)
        .bind(&new.full_name)
        .bind(&new.email)
        .bind(&new.phone)
        .bind(&new.citizen_id)
        .bind(NO_PASSWORD)
        .fetch_optional(pool)
        .await
    })
}
