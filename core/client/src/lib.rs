//! motcua-client: the offline core of the citizen app, what runs inside the phone.
//!
//! A local SQLite store ([`store`]) holds the catalogue cache, drafts with their files,
//! the outbox, the session's profile, the cached dossiers, report drafts with their photos
//! and the cached reports. The [`Client`] object is
//! the whole public surface (listed in `API.md`); the rules it applies (form validation,
//! migration of values, text folding) come from `motcua-domain`, the same functions the
//! server runs.

mod branches;
mod catalogue;
mod client;
mod dossiers;
mod drafts;
mod error;
mod events;
mod forms;
mod http;
mod lock;
mod model;
mod outbox;
mod push;
mod reports;
mod session;
mod store;
mod supplements;
mod transport;

pub use client::Client;
pub use error::{ClientError, FieldIssue};
pub use model::*;
pub use session::{FileTokenStore, MemoryTokenStore, StoredTokens, TokenStore};
pub use transport::{HttpHeader, HttpRequest, HttpResponse, ReqwestTransport, Transport, TransportError};
