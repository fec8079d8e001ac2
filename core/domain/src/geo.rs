//! Great-circle distances between service points and citizens (WGS84 degrees, kilometres).

/// Mean Earth radius in kilometres (IUGG).
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A position in WGS84 degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLng {
    pub lat: f64,
    pub lng: f64,
}

impl LatLng {
    /// A position, if both coordinates are finite and in range.
    pub fn new(lat: f64, lng: f64) -> Option<Self> {
        let ok = lat.is_finite() && lng.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng);
        ok.then_some(Self { lat, lng })
    }

    /// Haversine distance in kilometres.
    pub fn distance_km(self, other: LatLng) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lng - self.lng).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_head_office_and_branches_take_procedures_bound_to_a_place() {
        use crate::wire::BranchKind;
        for kind in [BranchKind::HeadOffice, BranchKind::Branch, BranchKind::ReceivingPoint, BranchKind::WardPoint] {
            assert!(kind.accepts(true), "{kind:?}");
        }
        assert!(BranchKind::HeadOffice.accepts(false) && BranchKind::Branch.accepts(false));
        assert!(!BranchKind::ReceivingPoint.accepts(false) && !BranchKind::WardPoint.accepts(false));
    }

    #[test]
    fn hoan_kiem_to_ha_dong_is_about_eleven_km() {
        let hoan_kiem = LatLng::new(21.0285, 105.8542).expect("valid");
        let ha_dong = LatLng::new(20.9714, 105.7788).expect("valid");
        let d = hoan_kiem.distance_km(ha_dong);
        assert!((9.0..11.0).contains(&d), "{d}");
        assert_eq!(hoan_kiem.distance_km(hoan_kiem), 0.0);
    }

    #[test]
    fn rejects_out_of_range() {
        assert!(LatLng::new(91.0, 0.0).is_none());
        assert!(LatLng::new(0.0, f64::NAN).is_none());
    }
}
