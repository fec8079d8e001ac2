//! The delivery workers. Each process runs `MOTCUA_PUSH_WORKERS` of them; any number of
//! processes may run over one database. A worker, in a loop:
//!
//! 1. fans out `push.*` outbox rows: claims a few (lease), writes one job per targeted
//!    phone (the citizen's preferences and the phone's language applied) and marks the
//!    rows done, in one transaction; then cuts a due campaign into pages (`campaigns`:
//!    one row per range of a batch of phones, not one per phone) for up to a quarter of a
//!    second;
//! 2. claims a batch of due jobs with one statement (`FOR UPDATE SKIP LOCKED` on
//!    PostgreSQL; SQLite has one writer), moving them a lease into the future under a
//!    claim id of its own; when no job is due, one campaign page the same way, and reads
//!    its phones;
//! 3. takes that many sends from the fleet's per-minute allowance (`rate`), putting back
//!    what it may not send this minute;
//! 4. sends them concurrently over HTTP/2 and records each outcome, only while it still
//!    holds the claim: sent; the token dead (deactivated); refused (dead letter); or
//!    another try later with exponential backoff, jitter and FCM's `Retry-After` (a 429
//!    also pauses this process's sending until then). A page is recorded done with its
//!    count of accepted messages; each of its phones whose send did not succeed becomes a
//!    job of its own in the same transaction.
//!
//! A worker killed mid-batch leaves its jobs (or its page) claimed until the lease ends;
//! then another worker takes them. A message can reach FCM twice only if its worker dies
//! between FCM's answer and its commit: the phone's core drops the second copy (same
//! notification id).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use motcua_domain::i18n::Lang;
use tokio::sync::watch;
use uuid::Uuid;

use super::event::{Kind, PushEvent, Texts};
use super::fcm::{FcmClient, Outcome, ServiceAccountKey};
use super::message::{
    AndroidConfig, AndroidPriority, ApnsConfig, ApnsPayload, Aps, Message, Notification, Target, clip,
};
use crate::app::AppState;
use crate::db::{BeginWrite, Db};
use crate::on_db;

/// Outbox rows one worker fans out at a time.
const OUTBOX_BATCH: i64 = 100;
/// Bytes of a notification's title and body sent to phones (the inbox has the whole text).
const TITLE_BYTES: usize = 200;
const BODY_BYTES: usize = 1200;

/// The running workers of this process.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    metrics_task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers").field("tasks", &self.tasks.len()).finish()
    }
}

impl Workers {
    /// Lets each worker finish its batch, then stops them (at most `grace`).
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        self.metrics_task.abort();
        let all = futures_util::future::join_all(self.tasks);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("push workers still busy at shutdown: their claimed jobs return after the lease");
        }
    }
}

/// What the workers of one process share.
pub struct Delivery {
    pub db: Db,
    pub config: crate::config::Push,
    pub fcm: FcmClient,
    /// No sends before this (milliseconds since the epoch): FCM said the quota is used up.
    paused_until_ms: AtomicI64,
    /// Texts of the campaigns being sent (at most a few hundred; cleared when larger).
    campaigns: std::sync::Mutex<std::collections::HashMap<Uuid, Arc<CampaignTexts>>>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery").field("fcm", &self.fcm).finish_non_exhaustive()
    }
}

/// Starts this process's delivery workers when FCM credentials are configured.
pub fn start(app: &AppState) -> anyhow::Result<Option<Workers>> {
    let config = app.config.push.clone();
    let Some(path) = &config.credentials else {
        tracing::info!("MOTCUA_FCM_CREDENTIALS is not set: push notifications are queued but not delivered");
        return Ok(None);
    };
    let key = ServiceAccountKey::from_file(path)?;
    let fcm = FcmClient::new(key, &config.base_url, config.http1, config.timeout, config.connections)?;
    tracing::info!(project = fcm.project_id(), base = %config.base_url, workers = config.workers, "push delivery started");
    let delivery = Arc::new(Delivery {
        db: app.db.clone(),
        config,
        fcm,
        paused_until_ms: AtomicI64::new(0),
        campaigns: std::sync::Mutex::default(),
    });
    let (stop, stopped) = watch::channel(false);
    let tasks = (0..delivery.config.workers.max(1))
        .map(|lane| tokio::spawn(run_worker(delivery.clone(), lane, stopped.clone())))
        .collect();
    let metrics_task = tokio::spawn(super::stats::publish_gauges(app.db.clone()));
    Ok(Some(Workers { stop, tasks, metrics_task }))
}

async fn run_worker(delivery: Arc<Delivery>, lane: usize, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let worked = match delivery.step(lane).await {
            Ok(worked) => worked,
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "push worker step failed");
                false
            }
        };
        if !worked {
            tokio::select! {
                () = tokio::time::sleep(delivery.config.poll) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// A job as claimed.
#[derive(sqlx::FromRow)]
pub struct Job {
    pub id: Uuid,
    pub token: String,
    /// The message's JSON (none for a campaign's job: made when sent).
    pub message: Option<String>,
    pub campaign_id: Option<Uuid>,
    pub locale: Option<String>,
    pub attempts: i64,
}

/// A campaign's texts, as its messages are made from them, and its audience.
struct CampaignTexts {
    title: Texts,
    body: Texts,
    id: String,
    audience: super::campaigns::Audience,
}

/// A campaign's page as claimed: the phones of its audience in `(after_token, last_token]`.
#[derive(sqlx::FromRow)]
pub struct Page {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub after_token: String,
    pub last_token: String,
    pub attempts: i64,
}

/// A page claimed this many times without being finished (its workers died, or its
/// lease ran out under them) is split into one job per phone, each with its own tries.
const PAGE_TRIES: i64 = 3;

impl Delivery {
    /// One round of a worker; whether it found anything to do.
    pub async fn step(&self, lane: usize) -> anyhow::Result<bool> {
        let now = Utc::now();
        let mut worked = fan_out_outbox(&self.db, now, self.config.lease).await? > 0;
        // A due campaign is fanned out ahead of the senders: page after page for up to a
        // quarter of a second (one worker at a time holds a campaign; the others send).
        let fanning = Instant::now();
        while super::campaigns::fan_out_step(&self.db, Utc::now(), self.config.lease, self.config.batch).await? {
            worked = true;
            if fanning.elapsed() > Duration::from_millis(250) {
                break;
            }
        }
        if self.paused_until_ms.load(Ordering::Relaxed) > now.timestamp_millis() {
            return Ok(worked);
        }
        let claim = Uuid::now_v7();
        let until = lease_end(now, self.config.lease);
        // Single jobs first (a dossier's news, a retry), then a campaign's page.
        let jobs = claim_jobs(&self.db, claim, self.config.batch, now, until).await?;
        if jobs.is_empty() {
            return Ok(self.send_page(lane, claim, now, until).await? || worked);
        }
        let wanted = jobs.len() as u64;
        let granted = super::rate::claim(&self.db, self.config.rate_per_minute, wanted, now).await?;
        let granted = usize::try_from(granted).unwrap_or(usize::MAX).min(jobs.len());
        let (jobs, held_back) = split_at(jobs, granted);
        if !held_back.is_empty() {
            let next = super::rate::next_minute(now);
            release(&self.db, claim, &held_back.iter().map(|j| j.id).collect::<Vec<_>>(), next).await?;
            metrics::counter!("motcua_push_rate_limited_total").increment(held_back.len() as u64);
        }
        if jobs.is_empty() {
            // This minute's allowance is used up: wait for the next one.
            let wait = (super::rate::next_minute(now) - now).to_std().unwrap_or(Duration::from_secs(1));
            tokio::time::sleep(wait.min(self.config.poll.max(Duration::from_millis(200)))).await;
            return Ok(true);
        }
        self.send_batch(lane, claim, until, jobs).await?;
        Ok(true)
    }

    /// Sends `jobs` concurrently (`concurrency` in flight); each with its outcome, or none
    /// when it was not begun: half the lease had passed (so no job outlives its lease while
    /// its worker still works on it), or FCM asked this process to pause.
    async fn send_all(&self, lane: usize, mut jobs: Vec<Job>) -> anyhow::Result<Vec<(Job, Option<Outcome>)>> {
        let deadline = Instant::now() + self.config.lease / 2;
        self.make_campaign_messages(&mut jobs).await?;
        Ok(futures_util::stream::iter(jobs)
            .map(|job| async move {
                if Instant::now() > deadline
                    || self.paused_until_ms.load(Ordering::Relaxed) > Utc::now().timestamp_millis()
                {
                    return (job, None);
                }
                let outcome = match &job.message {
                    Some(json) => self.fcm.send_json(lane, json).await,
                    None => Outcome::Rejected("MESSAGE_TOO_BIG".to_owned()),
                };
                (job, Some(outcome))
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await)
    }

    /// Notes a 429's (or any `Retry-After`'s) pause for this process's senders.
    fn pause_for(&self, code: &str, retry_after: Option<Duration>, now: DateTime<Utc>) {
        if code == "QUOTA_EXCEEDED" || retry_after.is_some() {
            let wait = retry_after.unwrap_or(Duration::from_secs(1));
            let until = now.timestamp_millis() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
            self.paused_until_ms.fetch_max(until, Ordering::Relaxed);
        }
    }

    async fn send_batch(&self, lane: usize, claim: Uuid, until: DateTime<Utc>, jobs: Vec<Job>) -> anyhow::Result<()> {
        let outcomes = self.send_all(lane, jobs).await?;
        let now = Utc::now();
        // The sent ones first: they are most of a batch, and the ones a crash before the
        // commit would send twice.
        let others: Vec<Uuid> =
            outcomes.iter().filter(|(_, o)| !matches!(o, Some(Outcome::Sent(_)))).map(|(job, _)| job.id).collect();
        let n = mark_sent(&self.db, claim, until, &others, now).await?;
        metrics::counter!("motcua_push_sent_total").increment(n);
        let mut not_tried = Vec::new();
        for (job, outcome) in outcomes {
            match outcome {
                Some(Outcome::Sent(_)) => {}
                None => not_tried.push(job.id),
                Some(Outcome::TokenDead(code)) => {
                    let deactivated = finish_dead(&self.db, claim, job.id, &job.token, &code, now).await?;
                    metrics::counter!("motcua_push_failed_total", "code" => code.clone()).increment(1);
                    if deactivated {
                        metrics::counter!("motcua_push_tokens_deactivated_total", "reason" => code).increment(1);
                    }
                }
                Some(Outcome::Rejected(code)) => {
                    tracing::warn!(job = %job.id, code, "FCM refused a message: dead-lettered");
                    finish(&self.db, claim, job.id, "failed", Some(&code), now).await?;
                    metrics::counter!("motcua_push_failed_total", "code" => code).increment(1);
                }
                Some(Outcome::Retry { code, retry_after }) => {
                    self.pause_for(&code, retry_after, now);
                    if u32::try_from(job.attempts).unwrap_or(u32::MAX) >= self.config.max_attempts {
                        finish(&self.db, claim, job.id, "failed", Some(&code), now).await?;
                        metrics::counter!("motcua_push_failed_total", "code" => code).increment(1);
                    } else {
                        let at =
                            now + chrono::Duration::from_std(backoff(job.attempts, retry_after)).unwrap_or_default();
                        retry(&self.db, claim, job.id, &code, at).await?;
                        metrics::counter!("motcua_push_retries_total", "code" => code).increment(1);
                    }
                }
            }
        }
        if !not_tried.is_empty() {
            release(&self.db, claim, &not_tried, now).await?;
            super::rate::refund(&self.db, not_tried.len() as u64, now).await?;
        }
        Ok(())
    }
}

impl Delivery {
    /// Claims one due campaign page and sends to its phones; whether there was one.
    ///
    /// The page is recorded done, with how many messages FCM accepted, in one transaction
    /// that first checks the claim is still held; in it, every phone whose send did not
    /// succeed gets a job row of its own (dead token, refused, retry later, not begun), so
    /// from then on it is handled like any job. A worker that dies mid-page leaves the page
    /// to another after the lease (its phones may then get a second copy, which the
    /// phone's core drops); a page that never finishes is split into jobs.
    async fn send_page(
        &self,
        lane: usize,
        claim: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let Some(page) = claim_page(&self.db, claim, now, until).await? else { return Ok(false) };
        let texts = self.campaign_texts(page.campaign_id).await?;
        let cap = self.config.batch.max(1) * 2;
        let mut phones =
            super::campaigns::page_phones(&self.db, &texts.audience, &page.after_token, &page.last_token, cap + 1)
                .await?;
        // Phones registered in the range since the page was cut may make it larger than a
        // batch: what is over twice a batch becomes a page of its own.
        let rest = (phones.len() > cap).then(|| {
            phones.truncate(cap);
            phones.last().map(|p| p.token.clone()).unwrap_or_default()
        });
        let job = |p: DeviceTarget, attempts: i64| Job {
            id: Uuid::now_v7(),
            token: p.token,
            message: None,
            campaign_id: Some(page.campaign_id),
            locale: Some(p.locale),
            attempts,
        };
        if page.attempts > PAGE_TRIES {
            tracing::warn!(page = %page.id, attempts = page.attempts, "a campaign page never finished: split into one job per phone");
            let jobs: Vec<(Job, Option<Outcome>)> = phones.into_iter().map(|p| (job(p, 0), None)).collect();
            self.finish_page(claim, &page, rest, jobs, Vec::new(), now).await?;
            return Ok(true);
        }
        let granted = super::rate::claim(&self.db, self.config.rate_per_minute, phones.len() as u64, now).await?;
        let granted = usize::try_from(granted).unwrap_or(usize::MAX).min(phones.len());
        let held_back: Vec<Job> = phones.split_off(granted).into_iter().map(|p| job(p, 0)).collect();
        if !held_back.is_empty() {
            metrics::counter!("motcua_push_rate_limited_total").increment(held_back.len() as u64);
        }
        let outcomes = self.send_all(lane, phones.into_iter().map(|p| job(p, 1)).collect()).await?;
        self.finish_page(claim, &page, rest, outcomes, held_back, Utc::now()).await?;
        Ok(true)
    }

    /// Records a page's outcomes (see [`Delivery::send_page`]); `held_back` are phones this
    /// minute's allowance had no room for (due at the next minute).
    async fn finish_page(
        &self,
        claim: Uuid,
        page: &Page,
        rest: Option<String>,
        outcomes: Vec<(Job, Option<Outcome>)>,
        held_back: Vec<Job>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let sent = outcomes.iter().filter(|(_, o)| matches!(o, Some(Outcome::Sent(_)))).count();
        let mut rows = Vec::new();
        let mut dead = Vec::new();
        let mut not_tried = 0u64;
        for (job, outcome) in outcomes {
            let row = match outcome {
                Some(Outcome::Sent(_)) => continue,
                None => {
                    not_tried += u64::from(job.attempts > 0);
                    PageJob { state: "queued", code: None, at: now, attempts: 0, job }
                }
                Some(Outcome::TokenDead(code)) => {
                    dead.push((job.token.clone(), code.clone()));
                    PageJob { state: "failed", code: Some(code), at: now, attempts: 1, job }
                }
                Some(Outcome::Rejected(code)) => {
                    tracing::warn!(token = %job.token, code, "FCM refused a campaign's message: dead-lettered");
                    PageJob { state: "failed", code: Some(code), at: now, attempts: 1, job }
                }
                Some(Outcome::Retry { code, retry_after }) => {
                    self.pause_for(&code, retry_after, now);
                    if self.config.max_attempts <= 1 {
                        PageJob { state: "failed", code: Some(code), at: now, attempts: 1, job }
                    } else {
                        let at = now + chrono::Duration::from_std(backoff(1, retry_after)).unwrap_or_default();
                        PageJob { state: "queued", code: Some(code), at, attempts: 1, job }
                    }
                }
            };
            rows.push(row);
        }
        let next = super::rate::next_minute(now);
        rows.extend(held_back.into_iter().map(|job| PageJob {
            state: "queued",
            code: None,
            at: next,
            attempts: 0,
            job,
        }));
        let done = on_db!(&self.db, write, pool => async {
            let mut tx = pool.begin_write().await?;
            let held = sqlx::query(
                "UPDATE push_pages SET state = 'done', sent = $1, claim = NULL, finished_at = $2 WHERE id = $3 AND claim = $4",
            )
            .bind(i64::try_from(sent).unwrap_or(i64::MAX)).bind(now).bind(page.id).bind(claim)
            .execute(&mut *tx).await?.rows_affected();
            if held == 0 {
                tx.rollback().await?;
                return Ok::<_, sqlx::Error>(None);
            }
            if let Some(after) = &rest {
                sqlx::query(
                    "INSERT INTO push_pages (id, campaign_id, after_token, last_token, phones, state, attempts, available_at, \
                     sent, created_at) VALUES ($1, $2, $3, $4, 0, 'queued', 0, $5, 0, $5)",
                )
                .bind(Uuid::now_v7()).bind(page.campaign_id).bind(after).bind(&page.last_token).bind(now)
                .execute(&mut *tx).await?;
            }
            let mut deactivated = Vec::new();
            for (token, code) in &dead {
                let n = sqlx::query(DEACTIVATE).bind(now).bind(code).bind(token).execute(&mut *tx).await?.rows_affected();
                if n > 0 {
                    deactivated.push(code.clone());
                }
            }
            let campaign = page.campaign_id.to_string();
            for chunk in rows.chunks(500) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO push_jobs (id, campaign_id, token, locale, notification_id, state, attempts, available_at, \
                     error_code, created_at, finished_at) ",
                );
                q.push_values(chunk, |mut row, r| {
                    row.push_bind(r.job.id)
                        .push_bind(page.campaign_id)
                        .push_bind(r.job.token.as_str())
                        .push_bind(r.job.locale.as_deref())
                        .push_bind(campaign.as_str())
                        .push_bind(r.state)
                        .push_bind(r.attempts)
                        .push_bind(r.at)
                        .push_bind(r.code.as_deref())
                        .push_bind(now)
                        .push_bind((r.state == "failed").then_some(now));
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(Some(deactivated))
        }.await)?;
        let Some(deactivated) = done else {
            tracing::warn!(page = %page.id, "a campaign page's lease passed to another worker before it was recorded");
            return Ok(());
        };
        metrics::counter!("motcua_push_sent_total").increment(sent as u64);
        for r in &rows {
            match (r.state, &r.code) {
                ("failed", Some(code)) => {
                    metrics::counter!("motcua_push_failed_total", "code" => code.clone()).increment(1)
                }
                ("queued", Some(code)) => {
                    metrics::counter!("motcua_push_retries_total", "code" => code.clone()).increment(1)
                }
                _ => {}
            }
        }
        for code in deactivated {
            metrics::counter!("motcua_push_tokens_deactivated_total", "reason" => code).increment(1);
        }
        super::rate::refund(&self.db, not_tried, now).await?;
        Ok(())
    }
}

/// A phone of a page whose send did not succeed, as the job row it becomes.
struct PageJob {
    job: Job,
    state: &'static str,
    code: Option<String>,
    /// When it is due (queued), or when it failed.
    at: DateTime<Utc>,
    attempts: i64,
}

/// Claims the longest-waiting due campaign page for `claim`, until `until`.
async fn claim_page(
    db: &Db,
    claim: Uuid,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<Page>, sqlx::Error> {
    let lock = if matches!(db, Db::Postgres(_)) { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE push_pages SET available_at = $1, claim = $2, attempts = attempts + 1 WHERE id IN \
         (SELECT id FROM push_pages WHERE state = 'queued' AND available_at <= $3 ORDER BY available_at LIMIT 1{lock}) \
         RETURNING id, campaign_id, after_token, last_token, attempts"
    );
    on_db!(db, write, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(until).bind(claim).bind(now).fetch_optional(pool).await
    })
}

impl Delivery {
    /// Makes the message of each campaign job from its campaign's texts in the phone's
    /// language (a message FCM would refuse for its size is left empty: dead-lettered).
    async fn make_campaign_messages(&self, jobs: &mut [Job]) -> Result<(), sqlx::Error> {
        for job in jobs.iter_mut().filter(|j| j.message.is_none()) {
            let Some(campaign) = job.campaign_id else { continue };
            let texts = self.campaign_texts(campaign).await?;
            let locale = job.locale.as_deref().unwrap_or("vi");
            let message =
                build_message(&job.token, locale, &texts.title, &texts.body, Kind::Announcement, &texts.id, &texts.id);
            job.message = message.to_checked_json().ok();
        }
        Ok(())
    }

    async fn campaign_texts(&self, id: Uuid) -> Result<Arc<CampaignTexts>, sqlx::Error> {
        if let Some(texts) = self.campaigns.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&id) {
            return Ok(texts.clone());
        }
        #[allow(clippy::type_complexity)]
        let (title_vi, title_en, body_vi, body_en, kind, ward_code): (
            String,
            String,
            String,
            String,
            String,
            Option<String>,
        ) = on_db!(&self.db, read, pool => {
            sqlx::query_as("SELECT title_vi, title_en, body_vi, body_en, audience, ward_code FROM push_campaigns WHERE id = $1")
                .bind(id).fetch_one(pool).await
        })?;
        let texts = Arc::new(CampaignTexts {
            title: Texts { vi: title_vi, en: title_en },
            body: Texts { vi: body_vi, en: body_en },
            id: id.to_string(),
            audience: super::campaigns::Audience { campaign_id: id, kind, ward_code },
        });
        let mut cache = self.campaigns.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() > 500 {
            cache.clear();
        }
        cache.insert(id, texts.clone());
        Ok(texts)
    }
}

fn split_at(mut jobs: Vec<Job>, n: usize) -> (Vec<Job>, Vec<Job>) {
    let rest = jobs.split_off(n.min(jobs.len()));
    (jobs, rest)
}

/// The wait before attempt `attempts + 1`: exponential from one second (capped at ten
/// minutes) with ±50 % jitter, and never less than FCM's `Retry-After`.
pub fn backoff(attempts: i64, retry_after: Option<Duration>) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 10)).unwrap_or(10);
    let base = Duration::from_secs(1u64 << exp).min(Duration::from_secs(600));
    let jitter = f64::from(getrandom::u32().unwrap_or(u32::MAX / 2)) / f64::from(u32::MAX);
    let jittered = base.mul_f64(0.5 + jitter);
    jittered.max(retry_after.unwrap_or_default())
}

/// The end of a lease taken at `now`, in microseconds (what PostgreSQL keeps), so the
/// batch can be found again by it.
pub fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    use chrono::SubsecRound;
    (now + chrono::Duration::from_std(lease).unwrap_or_default()).trunc_subsecs(6)
}

/// Claims up to `n` due jobs for `claim` (one statement), until `until` (see [`lease_end`]).
pub async fn claim_jobs(
    db: &Db,
    claim: Uuid,
    n: usize,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<Job>, sqlx::Error> {
    let n = i64::try_from(n).unwrap_or(500);
    match db {
        Db::Postgres(pool) => {
            sqlx::query_as(
                "UPDATE push_jobs SET available_at = $1, claim = $2, attempts = attempts + 1 WHERE id IN \
                 (SELECT id FROM push_jobs WHERE state = 'queued' AND available_at <= $3 ORDER BY available_at LIMIT $4 \
                  FOR UPDATE SKIP LOCKED) RETURNING id, token, message, campaign_id, locale, attempts",
            )
            .bind(until).bind(claim).bind(now).bind(n)
            .fetch_all(pool)
            .await
        }
        Db::Sqlite { write, .. } => {
            sqlx::query_as(
                "UPDATE push_jobs SET available_at = $1, claim = $2, attempts = attempts + 1 WHERE id IN \
                 (SELECT id FROM push_jobs WHERE state = 'queued' AND available_at <= $3 ORDER BY available_at LIMIT $4) \
                 RETURNING id, token, message, campaign_id, locale, attempts",
            )
            .bind(until).bind(claim).bind(now).bind(n)
            .fetch_all(write)
            .await
        }
    }
}

/// Puts claimed jobs back (not attempted): due at `at`, the attempt not counted.
async fn release(db: &Db, claim: Uuid, ids: &[Uuid], at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    for_each_claimed(
        db,
        "UPDATE push_jobs SET available_at = $1, claim = NULL, attempts = attempts - 1 WHERE claim = $2 AND id",
        claim,
        ids,
        at,
    )
    .await
    .map(|_| ())
}

/// Records every job of the batch (`claim`, leased until `until`) as sent but `others`,
/// in one statement: the batch is found by its lease end in the queue's index.
async fn mark_sent(
    db: &Db,
    claim: Uuid,
    until: DateTime<Utc>,
    others: &[Uuid],
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    on_db!(db, write, pool => {
        let mut q = sqlx::QueryBuilder::new("UPDATE push_jobs SET state = 'sent', finished_at = ");
        q.push_bind(now)
            .push(", claim = NULL WHERE state = 'queued' AND available_at = ")
            .push_bind(until)
            .push(" AND claim = ")
            .push_bind(claim);
        if !others.is_empty() {
            q.push(" AND id NOT IN (");
            let mut ids = q.separated(", ");
            for id in others {
                ids.push_bind(*id);
            }
            q.push(")");
        }
        q.build().execute(pool).await.map(|r| r.rows_affected())
    })
}

/// Runs `head` (ending in `AND id`) for `ids` still held by `claim`: one statement with
/// an array on PostgreSQL, one transaction of single-row statements on SQLite.
async fn for_each_claimed(
    db: &Db,
    head: &str,
    claim: Uuid,
    ids: &[Uuid],
    at: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    match db {
        Db::Postgres(pool) => {
            let sql = format!("{head} = ANY($3)");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(at)
                .bind(claim)
                .bind(ids)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        }
        Db::Sqlite { write, .. } => {
            let sql = format!("{head} = $3");
            let mut tx = write.begin_write().await?;
            let mut n = 0;
            for id in ids {
                n += sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(at)
                    .bind(claim)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
            Ok(n)
        }
    }
}

/// Records the outcome of a job still held by its claim (`$1` state, `$2` error code,
/// `$3` now, `$4` the job, `$5` the claim).
const FINISH: &str =
    "UPDATE push_jobs SET state = $1, error_code = $2, finished_at = $3, claim = NULL WHERE id = $4 AND claim = $5";

async fn finish(
    db: &Db,
    claim: Uuid,
    id: Uuid,
    state: &str,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    on_db!(db, write, pool => {
        sqlx::query(FINISH)
        .bind(state).bind(code).bind(now).bind(id).bind(claim)
        .execute(pool).await.map(|_| ())
    })
}

async fn retry(db: &Db, claim: Uuid, id: Uuid, code: &str, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    on_db!(db, write, pool => {
        sqlx::query("UPDATE push_jobs SET available_at = $1, error_code = $2, claim = NULL WHERE id = $3 AND claim = $4")
            .bind(at).bind(code).bind(id).bind(claim)
            .execute(pool).await.map(|_| ())
    })
}

/// Stops targeting a token FCM said is dead (`$1` now, `$2` the reason, `$3` the token).
const DEACTIVATE: &str =
    "UPDATE devices SET deactivated_at = $1, deactivated_reason = $2 WHERE token = $3 AND deactivated_at IS NULL";

/// Records a job failed for its dead token and stops targeting the token, in one
/// transaction (no later fan-out can still pick the token once the job reads failed);
/// whether this call deactivated the token.
async fn finish_dead(
    db: &Db,
    claim: Uuid,
    id: Uuid,
    token: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        let held = sqlx::query(FINISH)
        .bind("failed").bind(code).bind(now).bind(id).bind(claim)
        .execute(&mut *tx).await?.rows_affected();
        let deactivated = if held > 0 {
            sqlx::query(DEACTIVATE).bind(now).bind(code).bind(token).execute(&mut *tx).await?.rows_affected()
        } else {
            0
        };
        tx.commit().await?;
        Ok(deactivated > 0)
    }.await)
}

/// A phone to send to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceTarget {
    pub token: String,
    pub locale: String,
}

/// The message to one phone, in its language, with the deep link in its data.
pub fn build_message(
    token: &str,
    locale: &str,
    title: &Texts,
    body: &Texts,
    kind: Kind,
    id: &str,
    notification_id: &str,
) -> Message {
    let lang = if locale == "en" { Lang::En } else { Lang::Vi };
    let announcement = kind == Kind::Announcement;
    Message {
        target: Target::Token(token.to_owned()),
        notification: Some(Notification {
            title: Some(clip(title.get(lang), TITLE_BYTES)),
            body: Some(clip(body.get(lang), BODY_BYTES)),
            image: None,
        }),
        data: BTreeMap::from([
            ("kind".to_owned(), kind.as_str().to_owned()),
            ("id".to_owned(), id.to_owned()),
            ("notification_id".to_owned(), notification_id.to_owned()),
        ]),
        android: Some(AndroidConfig {
            priority: Some(if announcement { AndroidPriority::Normal } else { AndroidPriority::High }),
            ttl: Some(Duration::from_secs(if announcement { 86_400 } else { 7 * 86_400 })),
            collapse_key: announcement.then(|| format!("announcement-{id}")),
        }),
        apns: Some(ApnsConfig {
            headers: BTreeMap::from([("apns-priority".to_owned(), if announcement { "5" } else { "10" }.to_owned())]),
            payload: Some(ApnsPayload {
                aps: Aps {
                    sound: Some("default".to_owned()),
                    thread_id: Some(kind.as_str().to_owned()),
                    ..Aps::default()
                },
            }),
        }),
    }
}

/// A job row to insert.
pub struct NewJob {
    pub token: String,
    pub notification_id: String,
    /// The message's JSON, or why it cannot be sent.
    pub message: Result<String, String>,
}

impl NewJob {
    pub fn new(message: &Message, notification_id: &str) -> NewJob {
        let token = match &message.target {
            Target::Token(t) => t.clone(),
            Target::Topic(t) => format!("/topics/{t}"),
            Target::Condition(c) => format!("condition:{c}"),
        };
        let message = message.to_checked_json().map_err(|too_big| too_big.to_string());
        NewJob { token, notification_id: notification_id.to_owned(), message }
    }
}

/// Inserts jobs of one source (an outbox row or a campaign) in the caller's transaction.
/// The caller has claimed the source's progress mark in that transaction first (the
/// outbox row set done, the campaign's lease held), so no second copy can commit.
#[macro_export]
macro_rules! insert_push_jobs {
    ($tx:expr, $outbox:expr, $campaign:expr, $jobs:expr, $now:expr) => {{
        let jobs: &[$crate::push::delivery::NewJob] = $jobs;
        let mut inserted = 0u64;
        for chunk in jobs.chunks(500) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO push_jobs (id, outbox_id, campaign_id, token, notification_id, message, state, attempts, \
                 available_at, error_code, created_at, finished_at) ",
            );
            q.push_values(chunk, |mut row, job| {
                let (message, state, code, finished) = match &job.message {
                    Ok(json) => (json.as_str(), "queued", None, None),
                    Err(_) => ("{}", "failed", Some("MESSAGE_TOO_BIG"), Some($now)),
                };
                row.push_bind(uuid::Uuid::now_v7())
                    .push_bind($outbox)
                    .push_bind($campaign)
                    .push_bind(job.token.as_str())
                    .push_bind(job.notification_id.as_str())
                    .push_bind(message)
                    .push_bind(state)
                    .push_bind(0i64)
                    .push_bind($now)
                    .push_bind(code)
                    .push_bind($now)
                    .push_bind(finished);
            });
            inserted += q.build().execute(&mut *$tx).await?.rows_affected();
        }
        inserted
    }};
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: Uuid,
    payload: sqlx::types::Json<serde_json::Value>,
}

/// Fans out up to [`OUTBOX_BATCH`] due `push.*` outbox rows; returns how many rows.
pub async fn fan_out_outbox(db: &Db, now: DateTime<Utc>, lease: Duration) -> anyhow::Result<usize> {
    let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
    let rows: Vec<OutboxRow> = match db {
        Db::Postgres(pool) => {
            sqlx::query_as(
                "UPDATE outbox SET available_at = $1, attempts = attempts + 1 WHERE id IN (SELECT id FROM outbox \
                 WHERE done_at IS NULL AND available_at <= $2 AND topic LIKE 'push.%' ORDER BY available_at LIMIT $3 \
                 FOR UPDATE SKIP LOCKED) RETURNING id, payload",
            )
            .bind(until)
            .bind(now)
            .bind(OUTBOX_BATCH)
            .fetch_all(pool)
            .await?
        }
        Db::Sqlite { write, .. } => {
            sqlx::query_as(
                "UPDATE outbox SET available_at = $1, attempts = attempts + 1 WHERE id IN (SELECT id FROM outbox \
                 WHERE done_at IS NULL AND available_at <= $2 AND topic LIKE 'push.%' ORDER BY available_at LIMIT $3) \
                 RETURNING id, payload",
            )
            .bind(until)
            .bind(now)
            .bind(OUTBOX_BATCH)
            .fetch_all(write)
            .await?
        }
    };
    let n = rows.len();
    for row in rows {
        match PushEvent::parse(&row.payload.0) {
            Ok(event) => fan_out_event(db, row.id, &event, now).await?,
            Err(bad) => {
                tracing::error!(outbox = %row.id, error = %bad, "a push outbox row breaks the contract: set aside");
                metrics::counter!("motcua_push_outbox_rejected_total").increment(1);
                on_db!(db, write, pool => {
                    sqlx::query("UPDATE outbox SET done_at = $1 WHERE id = $2").bind(now).bind(row.id).execute(pool).await.map(|_| ())
                })?;
            }
        }
    }
    Ok(n)
}

/// One event's jobs (one per active phone of the account whose preference allows it) and
/// the outbox row marked done, in one transaction. The row is marked first: a second
/// worker holding the same row (its lease ran out under a slow first one) finds it done
/// and writes nothing.
async fn fan_out_event(db: &Db, outbox_id: Uuid, event: &PushEvent, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let sql = format!(
        "SELECT d.token, d.locale FROM devices d LEFT JOIN notification_preferences p ON p.user_id = d.user_id \
         WHERE d.user_id = $1 AND d.deactivated_at IS NULL AND d.stale_at IS NULL AND COALESCE(p.{}, TRUE) \
         ORDER BY d.token LIMIT {}",
        event.pref.column(),
        super::devices::MAX_DEVICES_PER_ACCOUNT
    );
    on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        let claimed = sqlx::query("UPDATE outbox SET done_at = $1 WHERE id = $2 AND done_at IS NULL")
            .bind(now).bind(outbox_id).execute(&mut *tx).await?.rows_affected();
        if claimed == 0 {
            return tx.rollback().await;
        }
        let targets: Vec<DeviceTarget> = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(event.user_id).fetch_all(&mut *tx).await?;
        let jobs: Vec<NewJob> = targets
            .iter()
            .map(|t| {
                let message = build_message(&t.token, &t.locale, &event.title, &event.body, event.kind, &event.id, &event.notification_id);
                NewJob::new(&message, &event.notification_id)
            })
            .collect();
        let inserted = crate::insert_push_jobs!(tx, Some(outbox_id), None::<Uuid>, &jobs, now);
        tx.commit().await?;
        metrics::counter!("motcua_push_queued_total", "source" => "outbox").increment(inserted);
        Ok(())
    }.await)
}
