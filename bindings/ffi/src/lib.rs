//! `motcua-ffi`: the uniffi surface of the motcua offline client (proc-macros, no UDL),
//! from which the Kotlin, Swift and Python bindings are generated.
//!
//! Thin by rule: [`MotcuaClient`] holds the `motcua-client` object as `inner` and each
//! exported method is one line; the records and enums are the client's own types, exported
//! as remote types ([`types`]); [`MotcuaError`] is the one public error; the app's token
//! storage, HTTP stack and event listener come in through foreign traits ([`callbacks`]).
//! No logic lives here: it belongs in `motcua-client` or `motcua-domain`.

mod callbacks;
mod client;
mod error;
mod types;

pub use callbacks::{EventListener, TokenStore, Transport, file_token_store, memory_token_store};
pub use client::MotcuaClient;
pub use error::MotcuaError;

uniffi::setup_scaffolding!();
