//! motcua-domain: the pure rules shared by the server and the offline client (no I/O).
//!
//! One rule, one place: a form is validated by [`form::validate`] on the phone and on
//! the server; text is folded by [`text::fold`] and the catalogue is searched by
//! [`search::Index`] on both sides; deadlines are counted by
//! [`calendar::WorkingCalendar`] everywhere.

pub mod admin;
pub mod calendar;
pub mod device;
pub mod files;
pub mod form;
pub mod geo;
pub mod i18n;
pub mod ids;
pub mod reports;
pub mod search;
pub mod text;
pub mod wire;
pub mod workflow;
