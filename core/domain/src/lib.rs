//! motcua-domain: the pure rules shared by the server and the offline client (no I/O).
//!
//! One rule, one place: a form is validated by [`form::validate`] on the phone and on
//! the server; text is folded for search by [`text::fold`] on both sides; deadlines are
//! counted by [`calendar::WorkingCalendar`] everywhere.

pub mod admin;
pub mod calendar;
pub mod form;
pub mod geo;
pub mod i18n;
pub mod ids;
pub mod text;
pub mod wire;
pub mod workflow;
