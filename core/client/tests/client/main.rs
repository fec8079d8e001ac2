//! The client's integration tests: one binary; tests that need a server start the real
//! `motcua-server` binary on a free port with a fresh database and stop it after.

// The whole binary is test code (helpers included), where a failed unwrap is a test failure.
#![allow(clippy::unwrap_used)]

mod helpers;

mod branches;
mod catalogue;
mod drafts;
mod errors;
mod exactly_once;
mod outbox;
mod push;
mod reports;
mod session;
mod supplements;
mod tracking;
