//! Server configuration from environment variables, each with a default that runs the
//! pilot on one machine with no outside service (see the table in README.md).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;

#[derive(Debug, Clone)]
pub struct Config {
    /// `MOTCUA_ADDR`: where to listen.
    pub addr: SocketAddr,
    /// `DATABASE_URL`: `sqlite://motcua.db` (default) or `postgres://...`.
    pub database_url: String,
    /// `MOTCUA_DB_MAX_CONNECTIONS`: pool size (readers on SQLite).
    pub db_max_connections: u32,
    /// `MOTCUA_ACCESS_TOKEN_TTL_SECS`: lifetime of an access token.
    pub access_token_ttl: Duration,
    /// `MOTCUA_REFRESH_TOKEN_TTL_DAYS`: lifetime of a refresh token family member.
    pub refresh_token_ttl: Duration,
    /// `MOTCUA_REFRESH_GRACE_SECS`: how long a just-rotated refresh token may be presented
    /// again (a phone that lost the response retries) without revoking its family.
    pub refresh_grace: Duration,
    /// `MOTCUA_ISSUER`: the `iss`/`aud` of access tokens.
    pub issuer: String,
    /// `MOTCUA_AUTH_RATE_PER_MIN`: login/register attempts per client address per minute
    /// (per process; see ARCHITECTURE.md).
    pub auth_rate_per_min: u32,
    /// `MOTCUA_LOGIN_FREE_FAILURES`: login attempts of one name from one client network
    /// (IPv4 address, IPv6 /64) before each further one waits for the counter to drain.
    pub login_free_failures: u32,
    /// `MOTCUA_LOGIN_ACCOUNT_CEILING`: login attempts of one name from all networks together
    /// (against guessing from many addresses; much higher, so a stranger cannot lock the
    /// owner out from the owner's own network).
    pub login_account_ceiling: u32,
    /// `MOTCUA_LOGIN_DRAIN_SECS`: how long a full attempt counter takes to drain to zero.
    pub login_drain: Duration,
    /// `MOTCUA_HASH_CONCURRENCY`: password hashes running at once (each about 19 MiB).
    pub hash_concurrency: usize,
    /// `MOTCUA_HASH_QUEUE_MS`: how long a login waits for a hashing turn before a 503.
    pub hash_queue_wait: Duration,
    /// `MOTCUA_HEADER_READ_TIMEOUT_SECS`: a request's headers must arrive within this (a
    /// new connection's first request too).
    pub header_read_timeout: Duration,
    /// `MOTCUA_IDLE_TIMEOUT_SECS`: a kept-alive connection with no request in flight and no
    /// traffic for this long is closed.
    pub idle_timeout: Duration,
    /// `MOTCUA_MAX_CONNECTIONS`: open client connections; further ones wait in the
    /// listen backlog until one closes. Keep it below the file-descriptor limit.
    pub max_connections: usize,
    /// `MOTCUA_METRICS_TOKEN`: bearer token that `/metrics` on the API address requires
    /// (unset: `/metrics` answers 404 there).
    pub metrics_token: Option<String>,
    /// `MOTCUA_METRICS_ADDR`: a separate listen address serving `/metrics` without a token
    /// (e.g. a loopback or private-network address for the scraper).
    pub metrics_addr: Option<SocketAddr>,
    /// `MOTCUA_REVOCATION_CACHE_SECS`: how long a process trusts that a token family is not
    /// revoked before asking the database again (the bound on an access token's life after
    /// logout or reuse detection).
    pub revocation_cache: Duration,
    /// `MOTCUA_KEY_RELOAD_SECS`: how often each process reloads the signing keys (so a
    /// `keys rotate` takes effect everywhere).
    pub key_reload: Duration,
    /// `MOTCUA_SMS_DIR`: development SMS sink: each message is also written to
    /// `<dir>/<phone>.txt` (the last message per phone), besides the log.
    pub sms_dir: Option<std::path::PathBuf>,
    /// `MOTCUA_PHONE_CODE_TTL_SECS`: lifetime of a phone verification code.
    pub phone_code_ttl: Duration,
    /// `MOTCUA_TRUST_FORWARDED_FOR`: behind a reverse proxy, take the client address from
    /// `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// `MOTCUA_MAX_BODY_BYTES`: cap on JSON request bodies.
    pub max_body_bytes: usize,
    /// `MOTCUA_REQUEST_TIMEOUT_SECS`.
    pub request_timeout: Duration,
    /// `MOTCUA_LOG_FORMAT`: `json` (default) or `pretty`.
    pub log_json: bool,
    /// `MOTCUA_BLOB_DIR`: where attachment files are stored (content-addressed); with
    /// `blob_url` set, only this process's scratch files (`<dir>/staging`).
    pub blob_dir: std::path::PathBuf,
    /// `MOTCUA_BLOB_URL`: `s3://bucket[/prefix]` stores attachments in S3-compatible object
    /// storage shared by every process (endpoint, region and credentials from the usual
    /// `AWS_*` variables); unset: the local directory `blob_dir`.
    pub blob_url: Option<String>,
    /// `MOTCUA_MAX_UPLOAD_BYTES`: largest attachment (default 10 MB).
    pub max_upload_bytes: u64,
    /// `MOTCUA_PUBLIC_RATE_PER_MIN`: public dossier look-ups per client address per minute.
    pub public_rate_per_min: u32,
    /// Per-account quotas and the upload janitor (see [`Quotas`]).
    pub quotas: Quotas,
    /// Push delivery over FCM (see [`Push`]).
    pub push: Push,
}

/// Push notifications: the FCM connection, the delivery workers and their limits.
#[derive(Debug, Clone)]
pub struct Push {
    /// `MOTCUA_FCM_CREDENTIALS`: path of the service-account key file (JSON, as the Firebase
    /// console gives it; its `project_id`, `client_email`, `private_key` and `token_uri`
    /// are used). Unset: no delivery workers run (devices are still registered).
    pub credentials: Option<std::path::PathBuf>,
    /// `MOTCUA_FCM_BASE_URL`: where `messages:send` is (the emulator in tests).
    pub base_url: String,
    /// `MOTCUA_FCM_HTTP1`: talk HTTP/1.1 to FCM instead of HTTP/2 (h2c prior knowledge on
    /// a plain `http://` base, ALPN on `https://`).
    pub http1: bool,
    /// `MOTCUA_FCM_TIMEOUT_SECS`: one request to FCM (or the token endpoint).
    pub timeout: Duration,
    /// `MOTCUA_FCM_CONNECTIONS`: connections to FCM per process (HTTP/2 multiplexes up to
    /// about 100 requests on each).
    pub connections: usize,
    /// `MOTCUA_PUSH_CONCURRENCY`: messages one worker has in flight at once.
    pub concurrency: usize,
    /// `MOTCUA_PUSH_WORKERS`: delivery workers in this process.
    pub workers: usize,
    /// `MOTCUA_PUSH_BATCH`: jobs one worker claims at a time (and sends concurrently), and
    /// the phones of one campaign page.
    pub batch: usize,
    /// `MOTCUA_PUSH_RATE_PER_MINUTE`: messages the whole fleet may send per minute (FCM's
    /// project quota is 600,000).
    pub rate_per_minute: u64,
    /// `MOTCUA_PUSH_LEASE_SECS`: how long claimed work stays with its worker; a worker that
    /// died leaves it to another after this.
    pub lease: Duration,
    /// `MOTCUA_PUSH_POLL_MS`: how often an idle worker looks for work.
    pub poll: Duration,
    /// `MOTCUA_PUSH_MAX_ATTEMPTS`: sends of one message before it is given up.
    pub max_attempts: u32,
    /// `MOTCUA_DEVICE_STALE_DAYS`: a token not registered again for this long is stale.
    pub stale_after: Duration,
    /// `MOTCUA_PUSH_RETENTION_DAYS`: finished jobs are kept this long (for the figures).
    pub retention: Duration,
}

impl Default for Push {
    fn default() -> Self {
        Push {
            credentials: None,
            base_url: "https://fcm.googleapis.com".to_owned(),
            http1: false,
            timeout: Duration::from_secs(10),
            connections: 4,
            concurrency: 50,
            workers: 8,
            batch: 500,
            rate_per_minute: 600_000,
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(500),
            max_attempts: 10,
            stale_after: Duration::from_secs(30 * 24 * 3600),
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl Push {
    fn from_env(d: Push) -> anyhow::Result<Push> {
        let days = |n: u64| Duration::from_secs(n * 24 * 3600);
        Ok(Push {
            credentials: std::env::var_os("MOTCUA_FCM_CREDENTIALS").filter(|p| !p.is_empty()).map(Into::into),
            base_url: std::env::var("MOTCUA_FCM_BASE_URL")
                .ok()
                .filter(|u| !u.trim().is_empty())
                .map(|u| u.trim().trim_end_matches('/').to_owned())
                .unwrap_or(d.base_url),
            http1: var("MOTCUA_FCM_HTTP1")?.unwrap_or(d.http1),
            timeout: secs("MOTCUA_FCM_TIMEOUT_SECS")?.unwrap_or(d.timeout),
            connections: var::<usize>("MOTCUA_FCM_CONNECTIONS")?.unwrap_or(d.connections).clamp(1, 64),
            concurrency: var::<usize>("MOTCUA_PUSH_CONCURRENCY")?.unwrap_or(d.concurrency).clamp(1, 1000),
            workers: var("MOTCUA_PUSH_WORKERS")?.unwrap_or(d.workers),
            batch: var::<usize>("MOTCUA_PUSH_BATCH")?.unwrap_or(d.batch).clamp(1, 5000),
            rate_per_minute: var("MOTCUA_PUSH_RATE_PER_MINUTE")?.unwrap_or(d.rate_per_minute),
            lease: secs("MOTCUA_PUSH_LEASE_SECS")?.unwrap_or(d.lease),
            poll: var("MOTCUA_PUSH_POLL_MS")?.map(Duration::from_millis).unwrap_or(d.poll),
            max_attempts: var::<u32>("MOTCUA_PUSH_MAX_ATTEMPTS")?.unwrap_or(d.max_attempts).max(1),
            stale_after: var("MOTCUA_DEVICE_STALE_DAYS")?.map(days).unwrap_or(d.stale_after),
            retention: var("MOTCUA_PUSH_RETENTION_DAYS")?.map(days).unwrap_or(d.retention),
        })
    }
}

/// What one account may do, counted in the database (so shared by every process), and
/// how long unfinished or unused uploads are kept.
#[derive(Debug, Clone)]
pub struct Quotas {
    /// `MOTCUA_DOSSIERS_PER_MINUTE`: dossiers one account may file per minute.
    pub dossiers_per_minute: u32,
    /// `MOTCUA_DOSSIERS_PER_DAY`: dossiers one account may file per (local) day.
    pub dossiers_per_day: u32,
    /// `MOTCUA_UPLOADS_PER_DAY`: uploads one account may start per day.
    pub uploads_per_day: u32,
    /// `MOTCUA_REPORTS_PER_HOUR`: field reports one account may file per hour.
    pub reports_per_hour: u32,
    /// `MOTCUA_UPLOAD_MB_PER_DAY`: bytes one account may announce or send per day, in MiB.
    pub upload_bytes_per_day: u64,
    /// `MOTCUA_STAGING_TTL_HOURS`: an unfinished upload untouched this long is removed.
    pub staging_ttl: Duration,
    /// `MOTCUA_ORPHAN_TTL_HOURS`: a finished attachment that no dossier refers to is
    /// removed after this long (and its file, once no attachment uses it).
    pub orphan_ttl: Duration,
    /// `MOTCUA_MIN_FREE_DISK_MB`: uploads are refused (507) rather than letting the blob
    /// directory's disk fall below this much free space.
    pub min_free_disk_bytes: u64,
    /// `MOTCUA_JANITOR_INTERVAL_SECS`: how often expired uploads and orphans are collected.
    pub janitor_interval: Duration,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            dossiers_per_minute: 5,
            dossiers_per_day: 30,
            uploads_per_day: 300,
            reports_per_hour: 10,
            upload_bytes_per_day: 500 * 1024 * 1024,
            staging_ttl: Duration::from_secs(24 * 3600),
            orphan_ttl: Duration::from_secs(7 * 24 * 3600),
            min_free_disk_bytes: 1024 * 1024 * 1024,
            janitor_interval: Duration::from_secs(600),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://motcua.db".to_owned(),
            db_max_connections: 16,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            refresh_grace: Duration::from_secs(30),
            issuer: "motcua".to_owned(),
            auth_rate_per_min: 20,
            login_free_failures: 5,
            login_account_ceiling: 100,
            login_drain: Duration::from_secs(15 * 60),
            hash_concurrency: crate::auth::passwords::Hasher::default_concurrency(),
            hash_queue_wait: Duration::from_millis(2000),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_connections: 512,
            metrics_token: None,
            metrics_addr: None,
            revocation_cache: Duration::from_secs(30),
            key_reload: Duration::from_secs(60),
            sms_dir: None,
            phone_code_ttl: Duration::from_secs(10 * 60),
            trust_forwarded_for: false,
            max_body_bytes: 256 * 1024,
            request_timeout: Duration::from_secs(30),
            log_json: true,
            blob_dir: std::path::PathBuf::from("data/blobs"),
            blob_url: None,
            max_upload_bytes: 10 * 1024 * 1024,
            public_rate_per_min: 30,
            quotas: Quotas::default(),
            push: Push::default(),
        }
    }
}

impl Config {
    /// Reads the environment; an unset variable keeps its default, a malformed one is an error.
    pub fn from_env() -> anyhow::Result<Config> {
        let d = Config::default();
        Ok(Config {
            addr: var("MOTCUA_ADDR")?.unwrap_or(d.addr),
            database_url: std::env::var("DATABASE_URL").unwrap_or(d.database_url),
            db_max_connections: var("MOTCUA_DB_MAX_CONNECTIONS")?.unwrap_or(d.db_max_connections),
            access_token_ttl: var("MOTCUA_ACCESS_TOKEN_TTL_SECS")?
                .map(Duration::from_secs)
                .unwrap_or(d.access_token_ttl),
            refresh_token_ttl: var::<u64>("MOTCUA_REFRESH_TOKEN_TTL_DAYS")?
                .map(|days| Duration::from_secs(days * 24 * 3600))
                .unwrap_or(d.refresh_token_ttl),
            refresh_grace: var("MOTCUA_REFRESH_GRACE_SECS")?.map(Duration::from_secs).unwrap_or(d.refresh_grace),
            issuer: std::env::var("MOTCUA_ISSUER").unwrap_or(d.issuer),
            auth_rate_per_min: var("MOTCUA_AUTH_RATE_PER_MIN")?.unwrap_or(d.auth_rate_per_min),
            login_free_failures: var("MOTCUA_LOGIN_FREE_FAILURES")?.unwrap_or(d.login_free_failures),
            login_account_ceiling: var("MOTCUA_LOGIN_ACCOUNT_CEILING")?.unwrap_or(d.login_account_ceiling),
            login_drain: secs("MOTCUA_LOGIN_DRAIN_SECS")?.unwrap_or(d.login_drain),
            hash_concurrency: var("MOTCUA_HASH_CONCURRENCY")?.unwrap_or(d.hash_concurrency),
            hash_queue_wait: var("MOTCUA_HASH_QUEUE_MS")?.map(Duration::from_millis).unwrap_or(d.hash_queue_wait),
            header_read_timeout: secs("MOTCUA_HEADER_READ_TIMEOUT_SECS")?.unwrap_or(d.header_read_timeout),
            idle_timeout: secs("MOTCUA_IDLE_TIMEOUT_SECS")?.unwrap_or(d.idle_timeout),
            max_connections: var("MOTCUA_MAX_CONNECTIONS")?.unwrap_or(d.max_connections),
            metrics_token: std::env::var("MOTCUA_METRICS_TOKEN").ok().filter(|t| !t.trim().is_empty()),
            metrics_addr: var("MOTCUA_METRICS_ADDR")?,
            revocation_cache: secs("MOTCUA_REVOCATION_CACHE_SECS")?.unwrap_or(d.revocation_cache),
            key_reload: secs("MOTCUA_KEY_RELOAD_SECS")?.unwrap_or(d.key_reload),
            sms_dir: std::env::var_os("MOTCUA_SMS_DIR").filter(|d| !d.is_empty()).map(Into::into),
            phone_code_ttl: secs("MOTCUA_PHONE_CODE_TTL_SECS")?.unwrap_or(d.phone_code_ttl),
            trust_forwarded_for: var("MOTCUA_TRUST_FORWARDED_FOR")?.unwrap_or(d.trust_forwarded_for),
            max_body_bytes: var("MOTCUA_MAX_BODY_BYTES")?.unwrap_or(d.max_body_bytes),
            request_timeout: var("MOTCUA_REQUEST_TIMEOUT_SECS")?.map(Duration::from_secs).unwrap_or(d.request_timeout),
            log_json: std::env::var("MOTCUA_LOG_FORMAT").map(|v| v != "pretty").unwrap_or(d.log_json),
            blob_dir: std::env::var_os("MOTCUA_BLOB_DIR").map(Into::into).unwrap_or(d.blob_dir),
            blob_url: std::env::var("MOTCUA_BLOB_URL").ok().filter(|u| !u.trim().is_empty()),
            max_upload_bytes: var("MOTCUA_MAX_UPLOAD_BYTES")?.unwrap_or(d.max_upload_bytes),
            public_rate_per_min: var("MOTCUA_PUBLIC_RATE_PER_MIN")?.unwrap_or(d.public_rate_per_min),
            quotas: Quotas::from_env(d.quotas)?,
            push: Push::from_env(d.push)?,
        })
    }
}

impl Quotas {
    fn from_env(d: Quotas) -> anyhow::Result<Quotas> {
        const MIB: u64 = 1024 * 1024;
        let hours = |h: u64| Duration::from_secs(h * 3600);
        Ok(Quotas {
            dossiers_per_minute: var("MOTCUA_DOSSIERS_PER_MINUTE")?.unwrap_or(d.dossiers_per_minute),
            reports_per_hour: var("MOTCUA_REPORTS_PER_HOUR")?.unwrap_or(d.reports_per_hour),
            dossiers_per_day: var("MOTCUA_DOSSIERS_PER_DAY")?.unwrap_or(d.dossiers_per_day),
            uploads_per_day: var("MOTCUA_UPLOADS_PER_DAY")?.unwrap_or(d.uploads_per_day),
            upload_bytes_per_day: var::<u64>("MOTCUA_UPLOAD_MB_PER_DAY")?
                .map(|mb| mb.saturating_mul(MIB))
                .unwrap_or(d.upload_bytes_per_day),
            staging_ttl: var("MOTCUA_STAGING_TTL_HOURS")?.map(hours).unwrap_or(d.staging_ttl),
            orphan_ttl: var("MOTCUA_ORPHAN_TTL_HOURS")?.map(hours).unwrap_or(d.orphan_ttl),
            min_free_disk_bytes: var::<u64>("MOTCUA_MIN_FREE_DISK_MB")?
                .map(|mb| mb.saturating_mul(MIB))
                .unwrap_or(d.min_free_disk_bytes),
            janitor_interval: var("MOTCUA_JANITOR_INTERVAL_SECS")?
                .map(Duration::from_secs)
                .unwrap_or(d.janitor_interval),
        })
    }
}

fn secs(name: &str) -> anyhow::Result<Option<Duration>> {
    var::<f64>(name)?
        .map(|s| Duration::try_from_secs_f64(s).with_context(|| format!("{name}={s} is not a duration in seconds")))
        .transpose()
}

fn var<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map(Some).with_context(|| format!("{name}={v} is not valid")),
        _ => Ok(None),
    }
}
