//! Dates in forms: strict `YYYY-MM-DD` values and date bounds (fixed, or relative to today).

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// A date limit: a fixed date, or relative to today ("today", "today-18y", "today+30d").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DateBound(pub String);

/// A parsed [`DateBound`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bound {
    Fixed(NaiveDate),
    /// `today` plus `amount` (negative: minus) `unit`s.
    Relative {
        amount: i64,
        unit: BoundUnit,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BoundUnit {
    Day,
    Month,
    Year,
}

/// Largest offset accepted in a relative bound (digits), to keep date arithmetic total.
const MAX_OFFSET_DIGITS: usize = 6;

impl DateBound {
    pub(super) fn parse(&self) -> Option<Bound> {
        let s = self.0.as_str();
        if let Some(rest) = s.strip_prefix("today") {
            if rest.is_empty() {
                return Some(Bound::Relative { amount: 0, unit: BoundUnit::Day });
            }
            let (sign, rest) = match rest.as_bytes().first()? {
                b'+' => (1, &rest[1..]),
                b'-' => (-1, &rest[1..]),
                _ => return None,
            };
            let unit = match rest.as_bytes().last()? {
                b'd' => BoundUnit::Day,
                b'm' => BoundUnit::Month,
                b'y' => BoundUnit::Year,
                _ => return None,
            };
            let digits = &rest[..rest.len() - 1];
            if digits.is_empty() || digits.len() > MAX_OFFSET_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: i64 = digits.parse().ok()?;
            return Some(Bound::Relative { amount: sign * n, unit });
        }
        parse_iso_date(s).map(Bound::Fixed)
    }

    /// Whether the bound is well formed: `YYYY-MM-DD`, `today`, or `today` followed by
    /// `+`/`-`, a number (at most 6 digits) and `d`, `m` or `y`.
    pub fn is_valid(&self) -> bool {
        self.parse().is_some()
    }

    /// The date this bound stands for on `today`; `None` if malformed or out of range.
    pub fn resolve(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.parse()?.resolve(today)
    }
}

impl Bound {
    pub(super) fn resolve(self, today: NaiveDate) -> Option<NaiveDate> {
        let months = |m: i64| -> Option<NaiveDate> {
            let n = Months::new(u32::try_from(m.unsigned_abs()).ok()?);
            if m >= 0 { today.checked_add_months(n) } else { today.checked_sub_months(n) }
        };
        match self {
            Bound::Fixed(d) => Some(d),
            Bound::Relative { amount, unit: BoundUnit::Day } => {
                let n = Days::new(amount.unsigned_abs());
                if amount >= 0 { today.checked_add_days(n) } else { today.checked_sub_days(n) }
            }
            Bound::Relative { amount, unit: BoundUnit::Month } => months(amount),
            Bound::Relative { amount, unit: BoundUnit::Year } => months(amount.checked_mul(12)?),
        }
    }
}

/// Parses exactly `YYYY-MM-DD` (four-digit year, two-digit month and day).
pub(crate) fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits_ok = b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !digits_ok {
        return None;
    }
    let year: i32 = s[..4].parse().ok()?;
    let month: u32 = s[5..7].parse().ok()?;
    let day: u32 = s[8..].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_iso_date(s).unwrap()
    }

    #[test]
    fn date_bounds() {
        let today = d("2024-02-29");
        let cases = [
            ("2025-01-01", Some("2025-01-01")),
            ("today", Some("2024-02-29")),
            ("today-18y", Some("2006-02-28")),
            ("today+30d", Some("2024-03-30")),
            ("today-1m", Some("2024-01-29")),
            ("today+0d", Some("2024-02-29")),
            ("today+999999y", None),
            ("today-1000000d", None),
            ("today+1w", None),
            ("today18y", None),
            ("today-y", None),
            ("tomorrow", None),
            ("2025-1-01", None),
            ("2025-02-30", None),
            ("", None),
            ("today-", None),
        ];
        for (bound, want) in cases {
            let got = DateBound(bound.into()).resolve(today);
            assert_eq!(got, want.map(d), "{bound}");
        }
        assert!(DateBound("today+999999y".into()).is_valid());
    }

    #[test]
    fn strict_iso_dates() {
        assert_eq!(parse_iso_date("2025-12-31"), Some(d("2025-12-31")));
        for bad in ["2025-1-1", "2025/01/01", "01-01-2025", "2025-13-01", "+025-01-01", "2025-01-01 "] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
        assert_eq!(parse_iso_date("２０２５-01-01"), None);
    }
}
