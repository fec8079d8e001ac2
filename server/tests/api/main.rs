//! The server's API test binary: every scenario runs over real HTTP against a real server,
//! once on SQLite and once on PostgreSQL.

mod forms;
mod helpers;
mod intake_form;

mod abuse;
mod agencies;
mod auth;
mod catalogue;
mod connections;
mod console;
mod delivery;
mod dossiers;
mod errors;
mod ops;
mod push;
mod reports;
mod results;
mod search;
mod uploads;
