//! The system's end-to-end tests: one binary, each scenario over the real server
//! binary(ies), the real client library and the FCM emulator binary, on SQLite and on
//! PostgreSQL (`MOTCUA_TEST_DATABASE_URL`, which `cargo xtask test` sets); the scale-out
//! scenario also over an S3-compatible server (`MOTCUA_TEST_S3_URL`, likewise).

mod push;
mod reports;
mod scale;
