//! Service points (head office, branches, receiving points, the wards' points): fetched
//! from the server and cached as one JSON file beside the store for offline use; listed
//! nearest first from a position, filtered to those that accept a procedure (the shared
//! rule `BranchKind::accepts`), and checked offline when a draft picks one.

use motcua_domain::form::{FieldError, FieldErrorCode};
use motcua_domain::geo::LatLng;
use motcua_domain::i18n::Lang;
use motcua_domain::wire::{Branch, BranchList};
use sqlx::SqliteConnection;

use crate::catalogue;
use crate::error::{Error, FieldIssue, Result};
use crate::http::{Api, check, decode};
use crate::model::ServicePoint;
use crate::store::Store;

const CACHE_FILE: &str = "service_points.json";
/// A sane bound on the cached list (Hanoi has about 150 points).
const MAX_POINTS: usize = 5_000;

fn point(b: &Branch, distance_km: Option<f64>) -> ServicePoint {
    ServicePoint {
        code: b.code.clone(),
        name: b.name.clone(),
        kind: serde_json::to_value(b.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
        address: b.address.clone(),
        ward: b.ward.clone(),
        phone: b.phone.clone(),
        opening_hours: b.opening_hours.clone(),
        lat: b.lat,
        lng: b.lng,
        approximate_position: b.approximate_position,
        distance_km,
    }
}

/// Fetches every service point (no account needed) and replaces the cache atomically.
pub(crate) async fn sync(store: &Store, api: &Api) -> Result<Vec<ServicePoint>> {
    let list: BranchList = decode(check(api.send("GET", "/api/v1/branches", Vec::new(), Vec::new()).await?)?)?;
    if list.items.len() > MAX_POINTS {
        return Err(Error::BadResponse(format!("{} service points", list.items.len())));
    }
    let branches: Vec<Branch> = list.items.into_iter().map(|n| n.branch).collect();
    let path = store.dir_file(CACHE_FILE);
    let partial = path.with_extension("part");
    tokio::fs::write(&partial, serde_json::to_vec(&branches)?).await?;
    tokio::fs::rename(&partial, &path).await?;
    Ok(branches.iter().map(|b| point(b, None)).collect())
}

/// The cached points; `None` before the first sync.
async fn cached(store: &Store) -> Result<Option<Vec<Branch>>> {
    match tokio::fs::read(store.dir_file(CACHE_FILE)).await {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Whether the procedure may be filed at points of every kind (unknown procedure: `NotFound`).
async fn boundary_free(conn: &mut SqliteConnection, procedure_code: &str) -> Result<bool> {
    Ok(catalogue::procedure(conn, procedure_code).await?.ok_or(Error::NotFound("procedure"))?.boundary_free)
}

/// Offline: the cached points, nearest first from (`lat`, `lng`) when given (else in code
/// order), only those accepting `procedure_code` when given.
pub(crate) async fn list(
    store: &Store,
    position: Option<(f64, f64)>,
    procedure_code: Option<&str>,
) -> Result<Vec<ServicePoint>> {
    let here = match position {
        Some((lat, lng)) => Some(LatLng::new(lat, lng).ok_or(Error::Invalid("lat/lng out of range"))?),
        None => None,
    };
    let accepts_all = match procedure_code {
        Some(code) => Some(boundary_free(&mut *store.read().acquire().await?, code).await?),
        None => None,
    };
    let mut branches = cached(store).await?.unwrap_or_default();
    if let Some(free) = accepts_all {
        branches.retain(|b| b.kind.accepts(free));
    }
    let mut points: Vec<ServicePoint> =
        branches.iter().map(|b| point(b, here.map(|h| h.distance_km(LatLng { lat: b.lat, lng: b.lng })))).collect();
    match here {
        Some(_) => points.sort_by(|a, b| a.distance_km.unwrap_or(0.0).total_cmp(&b.distance_km.unwrap_or(0.0))),
        None => points.sort_by(|a, b| a.code.cmp(&b.code)),
    }
    Ok(points)
}

/// Checks a draft's point offline: it must exist in the cached list (when there is one)
/// and accept the draft's procedure; otherwise a field issue on `branch_code`.
pub(crate) async fn check_for_draft(
    store: &Store,
    conn: &mut SqliteConnection,
    procedure_code: &str,
    branch_code: &str,
    lang: Lang,
) -> Result<()> {
    let Some(branches) = cached(store).await? else {
        return Ok(());
    };
    let refused = || {
        Error::Validation(vec![FieldIssue::from_domain(&FieldError::new("branch_code", FieldErrorCode::Invalid), lang)])
    };
    let Some(branch) = branches.iter().find(|b| b.code == branch_code) else {
        return Err(refused());
    };
    match catalogue::procedure(conn, procedure_code).await? {
        Some(p) if !branch.kind.accepts(p.boundary_free) => Err(refused()),
        _ => Ok(()),
    }
}
