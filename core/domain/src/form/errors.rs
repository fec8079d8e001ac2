//! Field error codes (stable, on the wire) and the sentence each one shows the citizen.

use serde::{Deserialize, Serialize};

use super::dates::parse_iso_date;
use crate::i18n::Lang;

/// Why a value was refused. Stable: the code travels on the wire (`as_str`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldErrorCode {
    Required,
    WrongType,
    UnknownField,
    TooShort,
    TooLong,
    PatternMismatch,
    NotANumber,
    TooSmall,
    TooLarge,
    NotAnInteger,
    InvalidDate,
    DateTooEarly,
    DateTooLate,
    InvalidOption,
    MustBeChecked,
    InvalidCitizenId,
    InvalidPhone,
    InvalidEmail,
    InvalidAddress,
    TooFewItems,
    TooManyItems,
    TooManyFiles,
    /// Used by the server for passwords (not a form field kind).
    WeakPassword,
    /// Anything else that is not valid (used by the server for non-form inputs).
    Invalid,
    /// A file that is not a PDF, JPEG or PNG (judged by its bytes).
    InvalidFileType,
    /// An attachment id that is not one of the applicant's files.
    UnknownAttachment,
    /// The values were filled on an older version of the form.
    OutdatedForm,
    /// Text holding a control character (other than a line break or a tab): never typed
    /// by a person, and not storable by every database.
    ControlCharacter,
    /// A place outside the city's service area.
    OutsideServiceArea,
    /// A photo format the server cannot clean of its metadata (HEIC).
    UnsupportedImage,
}

impl FieldErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [FieldErrorCode; 30] = [
        FieldErrorCode::Required,
        FieldErrorCode::WrongType,
        FieldErrorCode::UnknownField,
        FieldErrorCode::TooShort,
        FieldErrorCode::TooLong,
        FieldErrorCode::PatternMismatch,
        FieldErrorCode::NotANumber,
        FieldErrorCode::TooSmall,
        FieldErrorCode::TooLarge,
        FieldErrorCode::NotAnInteger,
        FieldErrorCode::InvalidDate,
        FieldErrorCode::DateTooEarly,
        FieldErrorCode::DateTooLate,
        FieldErrorCode::InvalidOption,
        FieldErrorCode::MustBeChecked,
        FieldErrorCode::InvalidCitizenId,
        FieldErrorCode::InvalidPhone,
        FieldErrorCode::InvalidEmail,
        FieldErrorCode::InvalidAddress,
        FieldErrorCode::TooFewItems,
        FieldErrorCode::TooManyItems,
        FieldErrorCode::TooManyFiles,
        FieldErrorCode::WeakPassword,
        FieldErrorCode::Invalid,
        FieldErrorCode::InvalidFileType,
        FieldErrorCode::UnknownAttachment,
        FieldErrorCode::OutdatedForm,
        FieldErrorCode::ControlCharacter,
        FieldErrorCode::OutsideServiceArea,
        FieldErrorCode::UnsupportedImage,
    ];

    /// The wire name (snake_case), the same as the serde form.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldErrorCode::Required => "required",
            FieldErrorCode::WrongType => "wrong_type",
            FieldErrorCode::UnknownField => "unknown_field",
            FieldErrorCode::TooShort => "too_short",
            FieldErrorCode::TooLong => "too_long",
            FieldErrorCode::PatternMismatch => "pattern_mismatch",
            FieldErrorCode::NotANumber => "not_a_number",
            FieldErrorCode::TooSmall => "too_small",
            FieldErrorCode::TooLarge => "too_large",
            FieldErrorCode::NotAnInteger => "not_an_integer",
            FieldErrorCode::InvalidDate => "invalid_date",
            FieldErrorCode::DateTooEarly => "date_too_early",
            FieldErrorCode::DateTooLate => "date_too_late",
            FieldErrorCode::InvalidOption => "invalid_option",
            FieldErrorCode::MustBeChecked => "must_be_checked",
            FieldErrorCode::InvalidCitizenId => "invalid_citizen_id",
            FieldErrorCode::InvalidPhone => "invalid_phone",
            FieldErrorCode::InvalidEmail => "invalid_email",
            FieldErrorCode::InvalidAddress => "invalid_address",
            FieldErrorCode::TooFewItems => "too_few_items",
            FieldErrorCode::TooManyItems => "too_many_items",
            FieldErrorCode::TooManyFiles => "too_many_files",
            FieldErrorCode::WeakPassword => "weak_password",
            FieldErrorCode::Invalid => "invalid",
            FieldErrorCode::InvalidFileType => "invalid_file_type",
            FieldErrorCode::UnknownAttachment => "unknown_attachment",
            FieldErrorCode::OutdatedForm => "outdated_form",
            FieldErrorCode::ControlCharacter => "control_character",
            FieldErrorCode::OutsideServiceArea => "outside_service_area",
            FieldErrorCode::UnsupportedImage => "unsupported_image",
        }
    }

    /// The code with this wire name.
    pub fn from_wire(s: &str) -> Option<FieldErrorCode> {
        FieldErrorCode::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for FieldErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with one value. `path` is a top-level key, `group[i].key` inside a group,
/// `address.ward` inside an address, or `""` for the values object itself. `limit` is
/// the bound that was crossed (`"100"`, `"2025-01-01"`), for the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub path: String,
    pub code: FieldErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl FieldError {
    pub fn new(path: impl Into<String>, code: FieldErrorCode) -> FieldError {
        FieldError { path: path.into(), code, limit: None }
    }

    /// Attaches the bound that was crossed.
    pub fn with_limit(mut self, limit: impl std::fmt::Display) -> FieldError {
        self.limit = Some(limit.to_string());
        self
    }

    /// A sentence for the citizen, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        use FieldErrorCode as C;
        let limit = self.limit.as_deref();
        // Vietnamese readers expect dates as dd/mm/yyyy.
        let date = |l: &str| match (lang, parse_iso_date(l)) {
            (Lang::Vi, Some(d)) => d.format("%d/%m/%Y").to_string(),
            _ => l.to_owned(),
        };
        match (lang, self.code, limit) {
            (Lang::Vi, C::Required, _) => "Trường này là bắt buộc.".to_owned(),
            (Lang::En, C::Required, _) => "This field is required.".to_owned(),
            (Lang::Vi, C::WrongType, _) => "Giá trị không đúng kiểu dữ liệu.".to_owned(),
            (Lang::En, C::WrongType, _) => "This value has the wrong type.".to_owned(),
            (Lang::Vi, C::UnknownField, _) => "Trường này không có trong biểu mẫu.".to_owned(),
            (Lang::En, C::UnknownField, _) => "This field is not part of the form.".to_owned(),
            (Lang::Vi, C::TooShort, Some(n)) => format!("Tối thiểu {n} ký tự."),
            (Lang::Vi, C::TooShort, None) => "Nội dung quá ngắn.".to_owned(),
            (Lang::En, C::TooShort, Some(n)) => format!("At least {n} characters."),
            (Lang::En, C::TooShort, None) => "Too short.".to_owned(),
            (Lang::Vi, C::TooLong, Some(n)) => format!("Tối đa {n} ký tự."),
            (Lang::Vi, C::TooLong, None) => "Nội dung quá dài.".to_owned(),
            (Lang::En, C::TooLong, Some(n)) => format!("At most {n} characters."),
            (Lang::En, C::TooLong, None) => "Too long.".to_owned(),
            (Lang::Vi, C::PatternMismatch, _) => "Giá trị không đúng định dạng.".to_owned(),
            (Lang::En, C::PatternMismatch, _) => {
                "This value is not in the expected format.".to_owned()
            }
            (Lang::Vi, C::NotANumber, _) => "Vui lòng nhập một số.".to_owned(),
            (Lang::En, C::NotANumber, _) => "Please enter a number.".to_owned(),
            (Lang::Vi, C::TooSmall, Some(n)) => format!("Giá trị nhỏ nhất là {n}."),
            (Lang::Vi, C::TooSmall, None) => "Giá trị quá nhỏ.".to_owned(),
            (Lang::En, C::TooSmall, Some(n)) => format!("The smallest allowed value is {n}."),
            (Lang::En, C::TooSmall, None) => "The value is too small.".to_owned(),
            (Lang::Vi, C::TooLarge, Some(n)) => format!("Giá trị lớn nhất là {n}."),
            (Lang::Vi, C::TooLarge, None) => "Giá trị quá lớn.".to_owned(),
            (Lang::En, C::TooLarge, Some(n)) => format!("The largest allowed value is {n}."),
            (Lang::En, C::TooLarge, None) => "The value is too large.".to_owned(),
            (Lang::Vi, C::NotAnInteger, _) => "Vui lòng nhập số nguyên.".to_owned(),
            (Lang::En, C::NotAnInteger, _) => "Please enter a whole number.".to_owned(),
            (Lang::Vi, C::InvalidDate, _) => {
                "Ngày không hợp lệ: cần theo dạng năm-tháng-ngày (YYYY-MM-DD).".to_owned()
            }
            (Lang::En, C::InvalidDate, _) => "Invalid date: use the YYYY-MM-DD format.".to_owned(),
            (Lang::Vi, C::DateTooEarly, Some(d)) => {
                format!("Ngày không được trước ngày {}.", date(d))
            }
            (Lang::Vi, C::DateTooEarly, None) => "Ngày quá sớm.".to_owned(),
            (Lang::En, C::DateTooEarly, Some(d)) => {
                format!("The date must not be before {}.", date(d))
            }
            (Lang::En, C::DateTooEarly, None) => "The date is too early.".to_owned(),
            (Lang::Vi, C::DateTooLate, Some(d)) => format!("Ngày không được sau ngày {}.", date(d)),
            (Lang::Vi, C::DateTooLate, None) => "Ngày quá muộn.".to_owned(),
            (Lang::En, C::DateTooLate, Some(d)) => {
                format!("The date must not be after {}.", date(d))
            }
            (Lang::En, C::DateTooLate, None) => "The date is too late.".to_owned(),
            (Lang::Vi, C::InvalidOption, _) => {
                "Vui lòng chọn một giá trị trong danh sách.".to_owned()
            }
            (Lang::En, C::InvalidOption, _) => "Please choose one of the listed options.".to_owned(),
            (Lang::Vi, C::MustBeChecked, _) => "Vui lòng đánh dấu vào ô này để xác nhận.".to_owned(),
            (Lang::En, C::MustBeChecked, _) => "Please tick this box to confirm.".to_owned(),
            (Lang::Vi, C::InvalidCitizenId, _) => {
                "Số căn cước không hợp lệ: cần đủ 12 chữ số và mã tỉnh hợp lệ.".to_owned()
            }
            (Lang::En, C::InvalidCitizenId, _) => {
                "Invalid identity card (căn cước) number: it needs exactly 12 digits and a valid province code."
                    .to_owned()
            }
            (Lang::Vi, C::InvalidPhone, _) => {
                "Số điện thoại không hợp lệ: cần 10 chữ số bắt đầu bằng 03, 05, 07, 08, 09 hoặc số cố định 11 chữ số bắt đầu bằng 02."
                    .to_owned()
            }
            (Lang::En, C::InvalidPhone, _) => {
                "Invalid phone number: use 10 digits starting with 03, 05, 07, 08 or 09, or an 11-digit landline starting with 02."
                    .to_owned()
            }
            (Lang::Vi, C::InvalidEmail, _) => "Địa chỉ email không hợp lệ.".to_owned(),
            (Lang::En, C::InvalidEmail, _) => "Invalid e-mail address.".to_owned(),
            (Lang::Vi, C::InvalidAddress, _) => {
                "Địa chỉ không hợp lệ: hãy chọn tỉnh/thành phố và phường/xã trong danh sách.".to_owned()
            }
            (Lang::En, C::InvalidAddress, _) => {
                "Invalid address: choose the province or city and the ward or commune from the list.".to_owned()
            }
            (Lang::Vi, C::TooFewItems, Some(n)) => format!("Cần ít nhất {n} mục."),
            (Lang::Vi, C::TooFewItems, None) => "Chưa đủ số mục cần thiết.".to_owned(),
            (Lang::En, C::TooFewItems, Some(n)) => format!("At least {n} entries are needed."),
            (Lang::En, C::TooFewItems, None) => "Too few entries.".to_owned(),
            (Lang::Vi, C::TooManyItems, Some(n)) => format!("Tối đa {n} mục."),
            (Lang::Vi, C::TooManyItems, None) => "Quá nhiều mục.".to_owned(),
            (Lang::En, C::TooManyItems, Some(n)) => format!("At most {n} entries."),
            (Lang::En, C::TooManyItems, None) => "Too many entries.".to_owned(),
            (Lang::Vi, C::TooManyFiles, Some(n)) => format!("Chỉ được đính kèm tối đa {n} tệp."),
            (Lang::Vi, C::TooManyFiles, None) => "Quá nhiều tệp đính kèm.".to_owned(),
            (Lang::En, C::TooManyFiles, Some(n)) => format!("At most {n} files can be attached."),
            (Lang::En, C::TooManyFiles, None) => "Too many attached files.".to_owned(),
            (Lang::Vi, C::WeakPassword, Some(n)) => {
                format!("Mật khẩu quá yếu: cần ít nhất {n} ký tự, gồm cả chữ và số.")
            }
            (Lang::Vi, C::WeakPassword, None) => {
                "Mật khẩu quá yếu: hãy dùng mật khẩu dài hơn, gồm cả chữ và số.".to_owned()
            }
            (Lang::En, C::WeakPassword, Some(n)) => {
                format!("Password too weak: use at least {n} characters, with letters and digits.")
            }
            (Lang::En, C::WeakPassword, None) => {
                "Password too weak: use a longer one, with letters and digits.".to_owned()
            }
            (Lang::Vi, C::ControlCharacter, _) => "Nội dung chứa ký tự điều khiển không được phép.".to_owned(),
            (Lang::En, C::ControlCharacter, _) => "The text holds a control character that is not allowed.".to_owned(),
            (Lang::Vi, C::OutsideServiceArea, _) => {
                "Vị trí nằm ngoài địa bàn thành phố Hà Nội; vui lòng chọn lại vị trí trên bản đồ.".to_owned()
            }
            (Lang::En, C::OutsideServiceArea, _) => {
                "The place is outside Hanoi's area; please pick it again on the map.".to_owned()
            }
            (Lang::Vi, C::UnsupportedImage, _) => {
                "Ảnh HEIC chưa được hỗ trợ; vui lòng gửi ảnh JPEG, PNG hoặc WebP (trên iPhone: Cài đặt > Camera > Định dạng > Tương thích nhất).".to_owned()
            }
            (Lang::En, C::UnsupportedImage, _) => {
                "HEIC photos are not supported; please send JPEG, PNG or WebP (on an iPhone: Settings > Camera > Formats > Most Compatible).".to_owned()
            }
            (Lang::Vi, C::Invalid, _) => "Giá trị không hợp lệ.".to_owned(),
            (Lang::En, C::Invalid, _) => "Invalid value.".to_owned(),
            (Lang::Vi, C::InvalidFileType, _) => "Tệp phải là PDF, JPEG, PNG hoặc WebP.".to_owned(),
            (Lang::En, C::InvalidFileType, _) => "The file must be a PDF, JPEG, PNG or WebP.".to_owned(),
            (Lang::Vi, C::UnknownAttachment, _) => "Không tìm thấy tệp đính kèm này trong tài khoản của bạn.".to_owned(),
            (Lang::En, C::UnknownAttachment, _) => "This attachment is not one of your files.".to_owned(),
            (Lang::Vi, C::OutdatedForm, Some(v)) => {
                format!("Biểu mẫu đã được cập nhật (phiên bản {v}); vui lòng cập nhật danh mục và kiểm tra lại hồ sơ.")
            }
            (Lang::Vi, C::OutdatedForm, None) => "Biểu mẫu đã được cập nhật; vui lòng kiểm tra lại hồ sơ.".to_owned(),
            (Lang::En, C::OutdatedForm, Some(v)) => format!("The form was updated (version {v}); refresh and check the dossier."),
            (Lang::En, C::OutdatedForm, None) => "The form was updated; refresh and check the dossier.".to_owned(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_code_has_messages() {
        for code in FieldErrorCode::ALL {
            assert_eq!(FieldErrorCode::from_wire(code.as_str()), Some(code));
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
            for limit in [None, Some("7")] {
                let mut e = FieldError::new("x", code);
                e.limit = limit.map(str::to_owned);
                let vi = e.message(Lang::Vi);
                let en = e.message(Lang::En);
                assert!(vi.ends_with('.') && en.ends_with('.'), "{code:?}");
                assert_ne!(vi, en, "{code:?}");
            }
        }
        assert_eq!(FieldError::new("a", FieldErrorCode::Required).message(Lang::Vi), "Trường này là bắt buộc.");
        assert_eq!(
            FieldError::new("a", FieldErrorCode::TooLong).with_limit(100).message(Lang::Vi),
            "Tối đa 100 ký tự."
        );
        assert_eq!(
            FieldError::new("a", FieldErrorCode::DateTooEarly).with_limit("2025-01-31").message(Lang::Vi),
            "Ngày không được trước ngày 31/01/2025."
        );
        assert_eq!(
            FieldError::new("a", FieldErrorCode::InvalidCitizenId).message(Lang::Vi),
            "Số căn cước không hợp lệ: cần đủ 12 chữ số và mã tỉnh hợp lệ."
        );
        let e = FieldError::new("members[0].name", FieldErrorCode::TooShort).with_limit(2);
        let wire = serde_json::to_value(&e).unwrap();
        assert_eq!(wire, json!({"path": "members[0].name", "code": "too_short", "limit": "2"}));
        assert_eq!(serde_json::from_value::<FieldError>(wire).unwrap(), e);
    }
}
