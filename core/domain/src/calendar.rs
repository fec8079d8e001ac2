//! The working-day calendar (ngày làm việc) that legal deadlines are counted in.
//!
//! The government decrees holidays, days in lieu and make-up working weekends each year,
//! so the calendar is data (`data/calendar-vn.json`), not rules. Outside the years the
//! data covers, every Monday-Friday is a working day.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::Deserialize;

use crate::i18n::Text;

/// Why calendar data was refused.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar data does not parse: {0}")]
    Json(#[from] serde_json::Error),
    #[error("first_year {first} is after last_year {last}")]
    YearRange { first: i32, last: i32 },
    #[error("{date} is outside the years {first}-{last} the calendar covers")]
    OutOfRange { date: NaiveDate, first: i32, last: i32 },
    #[error("{date} is listed twice")]
    Duplicate { date: NaiveDate },
    #[error("working weekend {date} is not a Saturday or Sunday")]
    NotAWeekend { date: NaiveDate },
}

/// One dated entry: a holiday or a make-up working weekend day, with its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub name: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDay {
    date: NaiveDate,
    name: String,
    #[serde(default)]
    name_en: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    country: String,
    first_year: i32,
    last_year: i32,
    holidays: Vec<RawDay>,
    #[serde(default)]
    working_weekends: Vec<RawDay>,
}

/// Which days are working days, for the years the data covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCalendar {
    country: String,
    first_year: i32,
    last_year: i32,
    holidays: BTreeMap<NaiveDate, CalendarDay>,
    working_weekends: BTreeMap<NaiveDate, CalendarDay>,
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Number of Monday-Friday days among day numbers `1..=n` (day 1 = 0001-01-01, a Monday),
/// extended to any `n` so that `weekdays_upto(b) - weekdays_upto(a)` counts `(a, b]`.
fn weekdays_upto(n: i64) -> i64 {
    5 * n.div_euclid(7) + n.rem_euclid(7).min(5)
}

fn day_number(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

impl WorkingCalendar {
    /// Parses calendar data (see the module docs for the format) and checks it: years in
    /// order, every date inside them, no date listed twice, working weekends on a
    /// Saturday or Sunday. A holiday may fall on a weekend (it then changes nothing).
    pub fn from_json(json: &str) -> Result<Self, CalendarError> {
        let raw: RawCalendar = serde_json::from_str(json)?;
        let (first, last) = (raw.first_year, raw.last_year);
        if first > last {
            return Err(CalendarError::YearRange { first, last });
        }
        let mut seen = HashSet::new();
        let mut convert = |days: Vec<RawDay>| -> Result<BTreeMap<_, _>, CalendarError> {
            let mut out = BTreeMap::new();
            for d in days {
                if d.date.year() < first || d.date.year() > last {
                    return Err(CalendarError::OutOfRange { date: d.date, first, last });
                }
                if !seen.insert(d.date) {
                    return Err(CalendarError::Duplicate { date: d.date });
                }
                let name = Text { vi: d.name, en: d.name_en };
                out.insert(d.date, CalendarDay { date: d.date, name });
            }
            Ok(out)
        };
        let holidays = convert(raw.holidays)?;
        let working_weekends = convert(raw.working_weekends)?;
        if let Some(date) = working_weekends.keys().find(|d| !is_weekend(**d)) {
            return Err(CalendarError::NotAWeekend { date: *date });
        }
        Ok(WorkingCalendar { country: raw.country, first_year: first, last_year: last, holidays, working_weekends })
    }

    /// The country code of the data, e.g. `"VN"`.
    pub fn country(&self) -> &str {
        &self.country
    }

    /// The first and last year the data covers.
    pub fn years(&self) -> (i32, i32) {
        (self.first_year, self.last_year)
    }

    /// Whether the data covers `date`'s year (outside it, only weekends are days off).
    pub fn covers(&self, date: NaiveDate) -> bool {
        (self.first_year..=self.last_year).contains(&date.year())
    }

    /// Monday-Friday and not a holiday, or a decreed make-up working weekend day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if is_weekend(date) { self.working_weekends.contains_key(&date) } else { !self.holidays.contains_key(&date) }
    }

    /// The holiday on `date`, if any.
    pub fn holiday(&self, date: NaiveDate) -> Option<&CalendarDay> {
        self.holidays.get(&date)
    }

    /// The holidays (days off) of `year`, in date order.
    pub fn holidays(&self, year: i32) -> impl Iterator<Item = &CalendarDay> + '_ {
        self.in_year(&self.holidays, year)
    }

    /// The make-up working weekend days of `year`, in date order.
    pub fn working_weekends(&self, year: i32) -> impl Iterator<Item = &CalendarDay> + '_ {
        self.in_year(&self.working_weekends, year)
    }

    fn in_year<'a>(
        &'a self,
        days: &'a BTreeMap<NaiveDate, CalendarDay>,
        year: i32,
    ) -> impl Iterator<Item = &'a CalendarDay> + 'a {
        let range = NaiveDate::from_ymd_opt(year, 1, 1).zip(NaiveDate::from_ymd_opt(year, 12, 31));
        range.into_iter().flat_map(move |(from, to)| days.range(from..=to).map(|(_, d)| d))
    }

    /// The `n`-th working day strictly after `start`; for `n = 0`, `start` itself if it is
    /// a working day, else the next working day. Saturates at the last representable date.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let step = |d: NaiveDate| d.succ_opt();
        if n == 0 {
            let mut d = start;
            while !self.is_working_day(d) {
                match step(d) {
                    Some(next) => d = next,
                    None => return d,
                }
            }
            return d;
        }
        let covered_from = NaiveDate::from_ymd_opt(self.first_year, 1, 1);
        let covered_to = NaiveDate::from_ymd_opt(self.last_year, 12, 31);
        let mut d = start;
        let mut left = i64::from(n);
        while left > 0 {
            // In uncovered time every 7 days hold exactly 5 working days: jump by weeks.
            if left > 5 {
                let weeks = (left - 1) / 5;
                let span = weeks * 7;
                let jump_ok = match (covered_from, covered_to) {
                    (Some(from), Some(to)) => d > to || (day_number(from) - day_number(d)) > span,
                    _ => true,
                };
                if jump_ok {
                    let Some(next) = u64::try_from(span).ok().and_then(|s| d.checked_add_days(Days::new(s))) else {
                        return NaiveDate::MAX;
                    };
                    d = next;
                    left -= weeks * 5;
                    continue;
                }
            }
            match step(d) {
                Some(next) => d = next,
                None => return d,
            }
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// The number of working days in `(from, to]`; negative (the count in `(to, from]`)
    /// when `to` is before `from`. So `working_days_between(d, add_working_days(d, n))` is
    /// `n` for `n >= 1`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        if to < from {
            return -self.working_days_between(to, from);
        }
        if to == from {
            return 0;
        }
        let weekdays = weekdays_upto(day_number(to)) - weekdays_upto(day_number(from));
        let Some(after) = from.succ_opt() else {
            return 0;
        };
        let holidays = self.holidays.range(after..=to).filter(|(d, _)| !is_weekend(**d)).count();
        let extra = self.working_weekends.range(after..=to).count();
        weekdays - i64::try_from(holidays).unwrap_or(0) + i64::try_from(extra).unwrap_or(0)
    }
}

static VIETNAM: LazyLock<WorkingCalendar> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    WorkingCalendar::from_json(include_str!("../data/calendar-vn.json"))
        .expect("embedded data/calendar-vn.json is valid (checked by the tests)")
});

/// Vietnam's working-day calendar, from the data embedded at build time.
pub fn vietnam() -> &'static WorkingCalendar {
    &VIETNAM
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const SAMPLE: &str = r#"{
        "country": "VN", "first_year": 2025, "last_year": 2025,
        "holidays": [
            {"date": "2025-01-01", "name": "Tết Dương lịch", "name_en": "New Year's Day"},
            {"date": "2025-01-27", "name": "Tết Nguyên đán"},
            {"date": "2025-01-28", "name": "Tết Nguyên đán"},
            {"date": "2025-01-29", "name": "Tết Nguyên đán"},
            {"date": "2025-01-30", "name": "Tết Nguyên đán"},
            {"date": "2025-01-31", "name": "Tết Nguyên đán"},
            {"date": "2025-04-07", "name": "Giỗ Tổ Hùng Vương"},
            {"date": "2025-04-30", "name": "Ngày Chiến thắng"},
            {"date": "2025-05-01", "name": "Quốc tế Lao động"},
            {"date": "2025-05-02", "name": "Nghỉ bù"},
            {"date": "2025-09-01", "name": "Quốc khánh"},
            {"date": "2025-09-02", "name": "Quốc khánh"}
        ],
        "working_weekends": [
            {"date": "2025-04-26", "name": "Làm bù cho ngày 02/5", "name_en": "Make-up day"}
        ]
    }"#;

    #[test]
    fn parses_and_answers() {
        let cal = WorkingCalendar::from_json(SAMPLE).unwrap();
        assert_eq!(cal.country(), "VN");
        assert_eq!(cal.years(), (2025, 2025));
        assert!(!cal.is_working_day(d("2025-01-01")));
        assert!(cal.is_working_day(d("2025-01-02")));
        assert!(!cal.is_working_day(d("2025-01-04")), "Saturday");
        assert!(cal.is_working_day(d("2025-04-26")), "make-up Saturday");
        assert!(!cal.is_working_day(d("2025-05-02")), "day in lieu");
        assert!(cal.is_working_day(d("2030-01-01")), "uncovered Tuesday");
        assert!(!cal.is_working_day(d("2030-01-05")), "uncovered Saturday");
        assert!(cal.covers(d("2025-12-31")));
        assert!(!cal.covers(d("2026-01-01")));
        assert_eq!(cal.holidays(2025).count(), 12);
        assert_eq!(cal.holidays(2024).count(), 0);
        assert_eq!(cal.working_weekends(2025).count(), 1);
        let ny = cal.holiday(d("2025-01-01")).unwrap();
        assert_eq!(ny.name.get(crate::i18n::Lang::En), "New Year's Day");
    }

    #[test]
    fn adds_working_days() {
        let cal = WorkingCalendar::from_json(SAMPLE).unwrap();
        let cases = [
            ("2025-01-24", 0, "2025-01-24"),
            ("2025-01-25", 0, "2025-02-03"),
            ("2025-01-24", 1, "2025-02-03"),
            ("2025-01-24", 2, "2025-02-04"),
            ("2025-04-25", 1, "2025-04-26"),
            ("2025-04-29", 1, "2025-05-05"),
            ("2025-08-29", 1, "2025-09-03"),
            ("2025-12-31", 1, "2026-01-01"),
            ("2025-12-26", 10, "2026-01-09"),
            ("2030-01-04", 5, "2030-01-11"),
            ("2030-01-04", 6, "2030-01-14"),
            ("2030-01-05", 10, "2030-01-18"),
            ("2020-01-03", 500, "2021-12-03"),
        ];
        for (start, n, want) in cases {
            let got = cal.add_working_days(d(start), n);
            assert_eq!(got, d(want), "{start} + {n}");
            if n > 0 {
                assert_eq!(cal.working_days_between(d(start), got), i64::from(n));
            }
        }
        let far = cal.add_working_days(d("2025-01-01"), u32::MAX);
        assert!(far > d("2025-01-01"));
        assert_eq!(cal.add_working_days(NaiveDate::MAX, 3), NaiveDate::MAX);
    }

    #[test]
    fn counts_working_days() {
        let cal = WorkingCalendar::from_json(SAMPLE).unwrap();
        let cases = [
            ("2025-01-24", "2025-02-03", 1),
            ("2025-02-03", "2025-01-24", -1),
            ("2025-01-01", "2025-01-01", 0),
            ("2025-04-25", "2025-05-05", 4),
            ("2025-01-01", "2025-12-31", 250),
            ("2030-01-01", "2030-01-08", 5),
        ];
        for (from, to, want) in cases {
            assert_eq!(cal.working_days_between(d(from), d(to)), want, "{from}..{to}");
        }
        // The closed form agrees with counting day by day.
        let (from, to) = (d("2024-11-20"), d("2026-02-10"));
        let mut slow = 0;
        let mut day = from;
        while day < to {
            day = day.succ_opt().unwrap();
            slow += i64::from(cal.is_working_day(day));
        }
        assert_eq!(cal.working_days_between(from, to), slow);
    }

    #[test]
    fn weekday_formula() {
        let mut day = d("1999-12-20");
        for _ in 0..40 {
            let next = day.succ_opt().unwrap();
            let delta = weekdays_upto(day_number(next)) - weekdays_upto(day_number(day));
            assert_eq!(delta, i64::from(!is_weekend(next)), "{next}");
            day = next;
        }
    }

    #[test]
    fn rejects_bad_data() {
        let bad = [
            r#"{"country":"VN","first_year":2026,"last_year":2025,"holidays":[]}"#,
            r#"{"country":"VN","first_year":2025,"last_year":2025,"holidays":[{"date":"2024-12-31","name":"x"}]}"#,
            r#"{"country":"VN","first_year":2025,"last_year":2025,"holidays":[{"date":"2025-01-01","name":"x"},{"date":"2025-01-01","name":"y"}]}"#,
            r#"{"country":"VN","first_year":2025,"last_year":2025,"holidays":[],"working_weekends":[{"date":"2025-04-25","name":"Friday"}]}"#,
            r#"{"country":"VN","first_year":2025,"last_year":2025,"holidays":[{"date":"2025-02-30","name":"x"}]}"#,
            r#"{"country":"VN","first_year":2025,"last_year":2025,"holidays":[],"extra":1}"#,
            "[]",
        ];
        for json in bad {
            assert!(WorkingCalendar::from_json(json).is_err(), "{json}");
        }
    }

    #[test]
    fn embedded_vietnam_calendar_loads() {
        let cal = vietnam();
        assert_eq!(cal.country(), "VN");
        let (first, last) = cal.years();
        assert!(first <= 2025 && last >= 2025);
        for w in cal.working_weekends(2025) {
            assert!(cal.is_working_day(w.date));
        }
        // Fixed-date holidays every calendar must have (once the real data is in).
        if cal.holidays(2025).next().is_some() {
            for date in ["2025-01-01", "2025-04-30", "2025-05-01", "2025-09-02"] {
                assert!(!cal.is_working_day(d(date)), "{date}");
            }
        }
    }
}
