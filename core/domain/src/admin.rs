//! Administrative units since 1 July 2025 (34 provinces, 3,321 wards and communes) and
//! where a pre-2025 address went: the list of current wards of a province, a ward by its
//! code, and the conversion of an old province/district/ward to the current ward.
//!
//! The data is `data/admin-units.txt`, extracted from the PyPI package
//! `vietnamadminunits` by `tools/admin-units/extract.py`; it is parsed once, on first use.
//! Names are compared folded (no diacritics, no case), with or without their unit word
//! ("Phường", "Xã", "Quận", "Huyện", ...).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::ids::find_province;
use crate::text::fold;

const DATA: &str = include_str!("../data/admin-units.txt");

/// A current ward, commune or special zone (đơn vị hành chính cấp xã).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ward {
    /// The five-digit code of the General Statistics Office (`"00070"`).
    pub code: &'static str,
    /// The full name, with its unit word (`"Phường Hoàn Kiếm"`).
    pub name: &'static str,
    /// Its province, as spelled in [`crate::ids::PROVINCES`].
    pub province: &'static str,
}

/// Where an old (pre-July-2025) ward went: the current ward it usually became, and, when
/// the old ward was split, the other current wards that took part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    pub ward: Ward,
    pub also: Vec<Ward>,
}

/// A name as written and folded (folded once, when the data is read: every look-up
/// compares folded names, and folding thousands of names per look-up was the cost).
#[derive(Clone, Copy)]
struct Name {
    folded: &'static str,
}

impl Name {
    fn new(name: &str) -> Name {
        Name { folded: Box::leak(fold(name).into_boxed_str()) }
    }
}

struct OldWard {
    name: Name,
    targets: Vec<usize>,
}

struct OldDistrict {
    name: Name,
    wards: Vec<OldWard>,
}

struct OldProvince {
    name: Name,
    province: &'static str,
    districts: Vec<OldDistrict>,
}

/// A current ward with its folded name.
struct CurrentWard {
    ward: Ward,
    name: Name,
}

struct Units {
    /// Every current ward, grouped by province in file order.
    wards: Vec<Ward>,
    /// The same wards with their folded names, index for index.
    named: Vec<CurrentWard>,
    old: Vec<OldProvince>,
}

fn units() -> &'static Units {
    static UNITS: OnceLock<Units> = OnceLock::new();
    UNITS.get_or_init(|| parse(DATA))
}

/// Reads the data file. Lines it does not understand are skipped (a test checks that the
/// embedded file yields every unit it lists).
fn parse(data: &'static str) -> Units {
    let mut units = Units { wards: Vec::new(), named: Vec::new(), old: Vec::new() };
    let mut province: Option<&'static str> = None;
    let mut province_of_code = HashMap::new();
    let mut ward_of_code = HashMap::new();
    for line in data.lines().filter(|l| !l.starts_with('#')) {
        let parts: Vec<&'static str> = line.split('\t').collect();
        match parts.as_slice() {
            ["P", code, name] => {
                province = find_province(name);
                if let Some(p) = province {
                    province_of_code.insert(*code, p);
                }
            }
            ["W", code, name] => {
                if let Some(province) = province {
                    ward_of_code.insert(*code, units.wards.len());
                    let ward = Ward { code, name, province };
                    units.wards.push(ward);
                    units.named.push(CurrentWard { ward, name: Name::new(name) });
                }
            }
            ["O", _code, name, new_code] => {
                if let Some(province) = province_of_code.get(new_code) {
                    units.old.push(OldProvince { name: Name::new(name), province, districts: Vec::new() });
                }
            }
            ["D", name] => {
                if let Some(p) = units.old.last_mut() {
                    p.districts.push(OldDistrict { name: Name::new(name), wards: Vec::new() });
                }
            }
            ["L", name, targets] => {
                let targets = targets.split(',').filter_map(|c| ward_of_code.get(c).copied()).collect();
                if let Some(d) = units.old.last_mut().and_then(|p| p.districts.last_mut()) {
                    d.wards.push(OldWard { name: Name::new(name), targets });
                }
            }
            _ => {}
        }
    }
    units
}

/// Unit words that may lead a name, folded, longest first where one is a prefix of another.
const UNIT_WORDS: [&str; 9] =
    ["thanh pho ", "thi tran ", "thi xa ", "dac khu ", "phuong ", "huyen ", "quan ", "tinh ", "xa "];

/// A name folded and without its leading unit word (`"Thị trấn Đông Anh"` → `"dong anh"`).
fn bare(folded: &str) -> &str {
    UNIT_WORDS.iter().find_map(|w| folded.strip_prefix(w)).unwrap_or(folded)
}

/// The one item whose name is `wanted`: an exact folded match first, else the only item
/// whose bare name matches (`None` when two items share the bare name).
fn find_by_name<'a, T>(
    items: impl Iterator<Item = &'a T> + Clone,
    name: impl Fn(&T) -> Name,
    wanted: &str,
) -> Option<&'a T>
where
    T: 'a,
{
    let folded = fold(wanted);
    if folded.is_empty() {
        return None;
    }
    if let Some(found) = items.clone().find(|i| name(i).folded == folded) {
        return Some(found);
    }
    let want = bare(&folded);
    let mut matches = items.filter(|i| bare(name(i).folded) == want);
    let first = matches.next()?;
    matches.next().is_none().then_some(first)
}

/// The current province a name stands for: a current name (see [`find_province`]) or the
/// name of a pre-2025 province that was merged into it (`"Hà Giang"` → `"Tuyên Quang"`).
pub fn current_province(name: &str) -> Option<&'static str> {
    find_province(name).or_else(|| find_by_name(units().old.iter(), |p| p.name, name).map(|p| p.province))
}

/// The current wards of a province (any name [`current_province`] accepts), in code
/// order; empty for an unknown province.
pub fn wards_of(province: &str) -> Vec<Ward> {
    let Some(province) = current_province(province) else {
        return Vec::new();
    };
    units().wards.iter().filter(|w| w.province == province).copied().collect()
}

/// The current ward with this code.
pub fn ward_by_code(code: &str) -> Option<Ward> {
    units().wards.iter().find(|w| w.code == code.trim()).copied()
}

/// A current ward of a current province by name (`"hoan kiem"`, `"Phường Hoàn Kiếm"`).
pub fn find_ward(province: &str, name: &str) -> Option<Ward> {
    let province = find_province(province)?;
    find_by_name(units().named.iter().filter(|w| w.ward.province == province), |w| w.name, name).map(|w| w.ward)
}

/// The pre-2025 provinces a name may mean: the old province of that name, and, when the
/// name is a current province, every old province merged into it (an old address is often
/// written with today's province: "Tuyên Quang" for the former Hà Giang).
fn old_provinces<'a>(units: &'a Units, name: &str) -> impl Iterator<Item = &'a OldProvince> + Clone + 'a {
    let folded = fold(name);
    let wanted = bare(&folded).to_owned();
    let current = find_province(name);
    units.old.iter().filter(move |p| bare(p.name.folded) == wanted || current == Some(p.province))
}

/// Where an address written before 1 July 2025 is now: `province` (the old name, or
/// today's), `district` the old district (it may be left out when the ward's name is
/// unique among the old wards the province may mean), `ward` the old ward. `None` when no
/// old unit has these names, or they fit several that went to different wards.
pub fn convert_old(province: &str, district: Option<&str>, ward: &str) -> Option<Converted> {
    let units = units();
    let provinces = old_provinces(units, province);
    let mut candidates: Vec<&OldWard> = Vec::new();
    for p in provinces {
        let districts: Vec<&OldDistrict> = match district {
            Some(d) => find_by_name(p.districts.iter(), |x| x.name, d).into_iter().collect(),
            None => p.districts.iter().collect(),
        };
        for d in districts {
            if let Some(w) = find_by_name(d.wards.iter(), |x| x.name, ward) {
                candidates.push(w);
            }
        }
    }
    let first = candidates.first()?;
    if candidates.iter().any(|c| c.targets != first.targets) {
        return None;
    }
    let mut targets = first.targets.iter().map(|&i| units.wards[i]);
    let ward = targets.next()?;
    Some(Converted { ward, also: targets.collect() })
}

/// Whether `district` names a pre-2025 district of `province` (an old name, or today's
/// province it was merged into).
pub fn is_old_district(province: &str, district: &str) -> bool {
    old_provinces(units(), province).any(|p| find_by_name(p.districts.iter(), |x| x.name, district).is_some())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ids::PROVINCES;

    #[test]
    fn the_embedded_data_has_every_unit() {
        let units = units();
        assert_eq!(units.wards.len(), 3321);
        assert_eq!(wards_of("Hà Nội").len(), 126);
        for p in PROVINCES {
            assert!(!wards_of(p).is_empty(), "{p}");
        }
        assert_eq!(units.old.len(), 63);
        let old_wards: usize = units.old.iter().flat_map(|p| &p.districts).map(|d| d.wards.len()).sum();
        assert_eq!(old_wards, 10040);
        let lines = DATA.lines().filter(|l| l.starts_with('L')).count();
        assert_eq!(old_wards, lines, "every old ward line was read");
        assert!(units.old.iter().flat_map(|p| &p.districts).flat_map(|d| &d.wards).all(|w| !w.targets.is_empty()));
    }

    #[test]
    fn current_wards_by_code_and_name() {
        let w = ward_by_code("00070").unwrap();
        assert_eq!((w.name, w.province), ("Phường Hoàn Kiếm", "Hà Nội"));
        assert_eq!(find_ward("ha noi", "hoan kiem"), Some(w));
        assert_eq!(find_ward("Hà Nội", "PHƯỜNG HOÀN KIẾM"), Some(w));
        assert_eq!(find_ward("Hà Nội", "Phường Atlantis"), None);
        assert_eq!(find_ward("Huế", "Phường Hoàn Kiếm"), None);
        assert_eq!(ward_by_code("99999"), None);
        assert!(wards_of("Atlantis").is_empty());
        assert_eq!(wards_of("Hà Giang"), wards_of("Tuyên Quang"));
    }

    #[test]
    fn old_provinces_and_addresses() {
        assert_eq!(current_province("Hà Giang"), Some("Tuyên Quang"));
        assert_eq!(current_province("Tỉnh Bình Dương"), Some("Thành phố Hồ Chí Minh"));
        assert_eq!(current_province("Hà Nội"), Some("Hà Nội"));
        assert_eq!(current_province("Atlantis"), None);

        // Thị trấn Xuân Mai (huyện Chương Mỹ) is now Xã Xuân Mai.
        let c = convert_old("Hà Nội", Some("Huyện Chương Mỹ"), "Thị trấn Xuân Mai").unwrap();
        assert_eq!((c.ward.code, c.ward.name), ("10045", "Xã Xuân Mai"));
        assert!(c.also.is_empty());
        // Without the district, a unique ward name is enough; folded names work.
        assert_eq!(convert_old("ha noi", None, "thi tran xuan mai"), Some(c));
        // Thị trấn Tây Đằng was split: the usual ward first, then the other.
        let split = convert_old("Hà Nội", Some("Ba Vì"), "Tây Đằng").unwrap();
        assert_eq!(split.also.len(), 1);
        assert!([split.ward.name, split.also[0].name].contains(&"Xã Quảng Oai"));
        // Old provinces merged into another.
        let hg = convert_old("Tỉnh Hà Giang", Some("Thành phố Hà Giang"), "Phường Minh Khai").unwrap();
        assert_eq!(hg.ward.province, "Tuyên Quang");
        // ... also when written with today's province.
        assert_eq!(convert_old("Tuyên Quang", Some("Thành phố Hà Giang"), "Phường Minh Khai"), Some(hg));
        assert!(is_old_district("Tuyên Quang", "Thành phố Hà Giang"));
        // Unknown names, and a district that does not hold the ward.
        assert_eq!(convert_old("Hà Nội", Some("Quận Ba Đình"), "Thị trấn Xuân Mai"), None);
        assert_eq!(convert_old("Atlantis", None, "Phường 1"), None);
        assert!(is_old_district("Hà Nội", "Quận Hoàn Kiếm"));
        assert!(!is_old_district("Hà Nội", "Quận 1"));
    }
}
