//! The compiled-in reference data of field reports: the categories (with their handling
//! unit and response deadline, `seed/report-categories.json`) and Hanoi's 126 wards and
//! communes with their centre points (the ward service points of `seed/ward-points.json`),
//! and routing a point to its ward.

use std::sync::LazyLock;

use anyhow::{Context, ensure};
use motcua_domain::geo::LatLng;
use motcua_domain::reports::{HANOI, WardCentre, route_to_ward};
use motcua_domain::wire::Branch;
use motcua_domain::wire::reports::ReportCategory;

const CATEGORIES: &str = include_str!("../../seed/report-categories.json");
const WARD_POINTS: &str = include_str!("../../seed/ward-points.json");

/// The categories and the wards, parsed and checked once per process.
#[derive(Debug)]
pub struct Places {
    pub categories: Vec<ReportCategory>,
    pub wards: Vec<WardCentre>,
}

static PLACES: LazyLock<Result<Places, String>> = LazyLock::new(|| Places::load().map_err(|e| format!("{e:#}")));

/// The embedded data (checked by `Places::load` at start-up, see [`check`]).
pub fn places() -> &'static Places {
    match &*PLACES {
        Ok(p) => p,
        Err(_) => &EMPTY,
    }
}

static EMPTY: Places = Places { categories: Vec::new(), wards: Vec::new() };

/// Fails start-up when the embedded data is broken (so `places()` never serves it empty).
pub fn check() -> anyhow::Result<()> {
    match &*PLACES {
        Ok(_) => Ok(()),
        Err(e) => anyhow::bail!("report reference data: {e}"),
    }
}

impl Places {
    fn load() -> anyhow::Result<Places> {
        let categories: Vec<ReportCategory> =
            serde_json::from_str(CATEGORIES).context("seed/report-categories.json")?;
        let mut codes = std::collections::HashSet::new();
        for c in &categories {
            ensure!(codes.insert(c.code.as_str()), "category {} is listed twice", c.code);
            ensure!((1..=30).contains(&c.deadline_days), "category {}: deadline out of 1..=30", c.code);
            ensure!(c.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "category {}: bad code", c.code);
        }
        let points: Vec<Branch> = serde_json::from_str(WARD_POINTS).context("seed/ward-points.json")?;
        let mut wards = Vec::with_capacity(points.len());
        for p in points {
            let code = p.ward_code.clone().with_context(|| format!("ward point {} has no ward code", p.code))?;
            let ward = motcua_domain::admin::ward_by_code(&code).with_context(|| format!("unknown ward {code}"))?;
            let centre = LatLng::new(p.lat, p.lng).with_context(|| format!("ward {code}: bad position"))?;
            ensure!(HANOI.contains(centre), "ward {code} lies outside the city's area");
            wards.push(WardCentre { code, name: ward.name.to_owned(), centre });
        }
        ensure!(wards.len() == 126, "Hanoi has 126 wards and communes, the seed lists {}", wards.len());
        Ok(Places { categories, wards })
    }

    pub fn category(&self, code: &str) -> Option<&ReportCategory> {
        self.categories.iter().find(|c| c.code == code)
    }

    pub fn ward(&self, code: &str) -> Option<&WardCentre> {
        self.wards.iter().find(|w| w.code == code)
    }

    pub fn ward_name(&self, code: &str) -> String {
        self.ward(code).map(|w| w.name.clone()).unwrap_or_else(|| code.to_owned())
    }

    /// The ward of a point inside the city (`None` outside the city's area).
    pub fn route(&self, p: LatLng) -> Option<&WardCentre> {
        if !HANOI.contains(p) {
            return None;
        }
        route_to_ward(&self.wards, p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_loads_and_routes_hoan_kiem_lake_to_hoan_kiem() {
        check().expect("reference data");
        let p = places();
        assert_eq!(p.wards.len(), 126);
        assert!(p.categories.len() >= 10);
        let lake = LatLng::new(21.0287, 105.8524).expect("point");
        assert_eq!(p.route(lake).map(|w| w.name.as_str()), Some("Phường Hoàn Kiếm"));
        assert!(p.route(LatLng::new(10.7769, 106.7009).expect("Saigon")).is_none());
    }
}
