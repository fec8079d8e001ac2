//! The declarative, versioned form language (JSON) and its validator.
//!
//! A [`FormDef`] is data (it travels in the catalogue); [`validate`] checks a JSON object
//! of values against it and returns every [`FieldError`] at once. It never panics.
//!
//! - `def`: what a form is (fields, kinds, conditions, patterns);
//! - `dates`: strict dates and date bounds;
//! - `check`: the structural rules a definition must keep ([`FormDefError`]);
//! - `errors`: field error codes and their messages;
//! - `validate`: one checker per field kind;
//! - `migrate`: carrying a draft's values over to a new form version;
//! - `normalize`: the canonical form of values (addresses in today's units).

mod check;
mod dates;
mod def;
mod errors;
mod migrate;
mod normalize;
mod validate;

pub use check::FormDefError;
pub use def::{Condition, DateBound, FieldDef, FieldKind, FormDef, Pattern, SelectOption};
pub use errors::{FieldError, FieldErrorCode};
pub use migrate::{DropReason, DroppedValue, MigratedValues, migrate_values};
pub use normalize::normalize_values;
pub use validate::{is_shown, validate};
