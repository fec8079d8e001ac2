//! What the citizen reads: the app's own sentences in Vietnamese or English, and the
//! formats a Vietnamese reader expects (dd/mm/yyyy dates in Vietnam's time, "15.000 đ",
//! status and state names instead of wire codes).

use chrono::{DateTime, FixedOffset, NaiveDate};
use motcua_client::{OutboxItem, OutboxState, ParkReason};
pub use motcua_domain::i18n::Lang;
use motcua_domain::workflow::{Action, DossierStatus};

/// Vietnam's offset (UTC+7, no daylight saving).
fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// Picks the sentence in the app's language.
pub fn tr(lang: Lang, vi: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::En { en } else { vi }
}

/// The language asked for by a flag or an environment value: `vi`/`en` (a region allowed).
pub fn parse_lang(s: &str) -> Option<Lang> {
    match s.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase().as_str() {
        "" | "vi" => Some(Lang::Vi),
        "en" => Some(Lang::En),
        _ => None,
    }
}

/// A moment (ms since the epoch) as `dd/mm/yyyy HH:MM`, Vietnam's time.
pub fn date_time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&vietnam()).format("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_default()
}

/// A moment (ms since the epoch) as `HH:MM`, Vietnam's time.
pub fn time_of_day(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&vietnam()).format("%H:%M").to_string())
        .unwrap_or_default()
}

/// A calendar date `YYYY-MM-DD` as `dd/mm/yyyy` (anything else is shown as it is).
pub fn date(iso: &str) -> String {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| iso.to_owned())
}

/// What the citizen typed for a date, `dd/mm/yyyy` (or `d/m/yyyy`, `-` or `.` between), as
/// the `YYYY-MM-DD` the form keeps; `None` when it is not such a date yet (the typed text
/// then goes to the core as it is, which says what is wrong).
pub fn typed_date(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.trim().split(['/', '-', '.']).collect();
    let [d, m, y] = parts.as_slice() else {
        return None;
    };
    if y.len() != 4 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    Some(date.format("%Y-%m-%d").to_string())
}

/// An amount in đồng: `15.000 đ`, or "Miễn phí" for nothing.
pub fn money(lang: Lang, vnd: i64) -> String {
    if vnd == 0 {
        return tr(lang, "Miễn phí", "Free").to_owned();
    }
    let digits = vnd.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    let sign = if vnd < 0 { "-" } else { "" };
    format!("{sign}{out} đ")
}

/// The legal time in working days.
pub fn processing_days(lang: Lang, days: u32) -> String {
    match (lang, days) {
        (Lang::En, 0) => "The same day".to_owned(),
        (Lang::En, 1) => "1 working day".to_owned(),
        (Lang::En, n) => format!("{n} working days"),
        (Lang::Vi, 0) => "Trong ngày".to_owned(),
        (Lang::Vi, n) => format!("{n} ngày làm việc"),
    }
}

/// A dossier status for people (an unknown code from a newer server is shown as it is).
pub fn status(lang: Lang, code: &str) -> String {
    DossierStatus::parse(code).map_or_else(|| code.to_owned(), |s| s.label(lang).to_owned())
}

/// What was done to a dossier (an unknown code from a newer server is shown as it is).
pub fn action(lang: Lang, code: &str) -> String {
    // The server's own steps besides the workflow's actions.
    let own = match code {
        "submit" => Some(tr(lang, "Nộp hồ sơ", "Filed")),
        "assign" => Some(tr(lang, "Phân công cán bộ", "Assigned to an officer")),
        "rate" => Some(tr(lang, "Đánh giá", "Rated")),
        _ => None,
    };
    own.or_else(|| Action::ALL.into_iter().find(|a| a.as_str() == code).map(|a| a.label(lang)))
        .map_or_else(|| code.to_owned(), str::to_owned)
}

/// The deadline state of a dossier.
pub fn deadline(lang: Lang, code: &str) -> String {
    let s = match code {
        "not_started" => tr(lang, "Chưa tính hạn (chờ tiếp nhận)", "Not started (waiting to be received)"),
        "on_time" => tr(lang, "Trong hạn", "On time"),
        "at_risk" => tr(lang, "Sắp đến hạn", "Due soon"),
        "overdue" => tr(lang, "Quá hạn", "Overdue"),
        "paused" => tr(lang, "Tạm dừng tính hạn", "Paused"),
        other => return other.to_owned(),
    };
    s.to_owned()
}

/// Why the outbox stopped on an item, and what to do.
pub fn park_reason(lang: Lang, reason: &ParkReason) -> String {
    match reason {
        ParkReason::Validation => {
            tr(lang, "thông tin chưa hợp lệ, hãy sửa bản nháp", "some values were refused: edit the draft").to_owned()
        }
        ParkReason::Conflict => tr(lang, "trùng lần gửi trước", "it clashes with an earlier sending").to_owned(),
        ParkReason::Forbidden => {
            tr(lang, "tài khoản không được nộp thủ tục này", "this account may not file this").to_owned()
        }
        ParkReason::ProcedureUnavailable => {
            tr(lang, "thủ tục không còn được tiếp nhận", "the procedure is no longer accepted").to_owned()
        }
        ParkReason::Other { code } => format!("{} ({code})", tr(lang, "máy chủ từ chối", "refused by the server")),
    }
}

/// An outbox item's state as the citizen reads it.
pub fn outbox_state(lang: Lang, item: &OutboxItem) -> String {
    match item.state {
        OutboxState::Sent => tr(lang, "Đã gửi", "Sent").to_owned(),
        OutboxState::Parked => format!(
            "{}: {}",
            tr(lang, "Cần xử lý", "Needs attention"),
            item.park_reason.as_ref().map(|r| park_reason(lang, r)).unwrap_or_default()
        ),
        OutboxState::Pending if item.attempts == 0 => tr(lang, "Chờ gửi", "Waiting to be sent").to_owned(),
        OutboxState::Pending => format!(
            "{} {} ({} {})",
            tr(lang, "Chờ mạng, thử lại lúc", "Waiting for the network, next try at"),
            time_of_day(item.next_attempt_at_ms),
            tr(lang, "đã thử", "tries:"),
            item.attempts
        ),
    }
}

/// A distance in km with a decimal comma in Vietnamese.
pub fn km(lang: Lang, d: f64) -> String {
    let s = format!("{d:.1} km");
    if lang == Lang::Vi { s.replace('.', ",") } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_day_first_in_vietnam_time() {
        // 2026-01-31 20:30 UTC is 1 February 03:30 in Hanoi.
        let ms = NaiveDate::from_ymd_opt(2026, 1, 31)
            .and_then(|d| d.and_hms_opt(20, 30, 0))
            .map(|t| t.and_utc().timestamp_millis())
            .expect("a date");
        assert_eq!(date_time(ms), "01/02/2026 03:30");
        assert_eq!(date("2026-03-09"), "09/03/2026");
        assert_eq!(date("not a date"), "not a date");
    }

    #[test]
    fn typed_dates_become_iso_only_when_complete() {
        assert_eq!(typed_date("1/2/2024").as_deref(), Some("2024-02-01"));
        assert_eq!(typed_date("15-08-2025").as_deref(), Some("2025-08-15"));
        assert_eq!(typed_date("31/02/2024"), None);
        assert_eq!(typed_date("12/0"), None);
        assert_eq!(typed_date("1/2/24"), None);
    }

    #[test]
    fn money_has_dots_and_dong() {
        assert_eq!(money(Lang::Vi, 8_000), "8.000 đ");
        assert_eq!(money(Lang::Vi, 1_250_000), "1.250.000 đ");
        assert_eq!(money(Lang::Vi, 100), "100 đ");
        assert_eq!(money(Lang::Vi, 0), "Miễn phí");
        assert_eq!(money(Lang::En, 0), "Free");
    }

    #[test]
    fn statuses_are_words_not_codes() {
        assert_eq!(status(Lang::Vi, "in_processing"), "Đang xử lý");
        assert_eq!(status(Lang::En, "received"), "Received");
        assert_eq!(status(Lang::Vi, "a_new_status"), "a_new_status");
        assert_eq!(action(Lang::Vi, "answer_supplement"), "Bổ sung hồ sơ");
        assert_eq!(action(Lang::Vi, "submit"), "Nộp hồ sơ");
        assert_eq!(action(Lang::En, "a_new_action"), "a_new_action");
        assert_eq!(deadline(Lang::Vi, "overdue"), "Quá hạn");
        assert_eq!(processing_days(Lang::Vi, 5), "5 ngày làm việc");
        assert_eq!(km(Lang::Vi, 1.25), "1,2 km");
    }

    #[test]
    fn outbox_states_say_what_happens() {
        let mut item = OutboxItem {
            id: "o".into(),
            draft_id: "d".into(),
            idempotency_key: "k".into(),
            state: OutboxState::Pending,
            attempts: 0,
            next_attempt_at_ms: 0,
            park_reason: None,
            dossier_id: None,
            report_id: None,
        };
        assert_eq!(outbox_state(Lang::Vi, &item), "Chờ gửi");
        item.attempts = 2;
        assert!(outbox_state(Lang::Vi, &item).starts_with("Chờ mạng, thử lại lúc 07:00"));
        item.state = OutboxState::Parked;
        item.park_reason = Some(ParkReason::Validation);
        assert_eq!(outbox_state(Lang::Vi, &item), "Cần xử lý: thông tin chưa hợp lệ, hãy sửa bản nháp");
        item.state = OutboxState::Sent;
        assert_eq!(outbox_state(Lang::En, &item), "Sent");
        assert_eq!(parse_lang("en-GB"), Some(Lang::En));
        assert_eq!(parse_lang("fr"), None);
    }
}
