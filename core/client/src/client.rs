//! The `Client` object the app holds: each public method is a thin entry point over the
//! module that does the work, converting the internal error in one place.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use motcua_domain::i18n::Lang;
use motcua_domain::wire::{
    LoginRequest, PhoneChallenge, RefreshRequest, RegisterRequest, TokenResponse, UserInfo, VerifyPhoneRequest,
};

use crate::branches;
use crate::catalogue::{self, IndexCache};
use crate::dossiers;
use crate::drafts;
use crate::error::{ClientError, Error, FieldIssue, Result, to_public};
use crate::events::Events;
use crate::http::{Api, check, decode, header, stored_tokens};
use crate::lock::StoreLock;
use crate::model::{
    CatalogueSyncReport, ClientConfig, ClientListener, DossierDetail, DossierItem, Draft, DraftFile, DraftSummary,
    FieldValue, FormView, NotificationItem, NotificationSettings, OutboxItem, OutboxReport, PhoneVerification,
    ProcedureDetail, ProcedureField, ProcedureItem, PublicTracking, PushMessage, PushRegistration, ReportDraft,
    ReportDraftInput, ReportItem, ReportPhotoFile, ServicePoint, UserProfile, WardItem,
};
use crate::outbox;
use crate::push;
use crate::reports;
use crate::session::TokenStore;
use crate::store::Store;
use crate::transport::{ReqwestTransport, Transport};

const DEFAULT_CHUNK: u64 = 256 * 1024;
const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// The offline client: one per signed-in app, shared as `Arc<Client>`.
#[derive(Debug)]
pub struct Client {
    store: Store,
    api: Api,
    events: Arc<Events>,
    index: IndexCache,
    forms: drafts::FormCache,
    /// One outbox pass (or logout) at a time.
    sync_lock: tokio::sync::Mutex<()>,
    chunk_size: u64,
    lang: Lang,
    /// Held while open: no second client on the same data directory.
    lock: std::sync::Mutex<Option<StoreLock>>,
    /// Set by `close`: every call afterwards is `Closed`.
    closed: AtomicBool,
}

/// The app's language: `vi` or `en` (any case, a region allowed: `en-GB`); empty means `vi`.
fn config_lang(language: &str) -> Option<Lang> {
    let primary = language.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    match primary.as_str() {
        "" | "vi" => Some(Lang::Vi),
        "en" => Some(Lang::En),
        _ => None,
    }
}

/// An absolute `http`/`https` URL with a host and no query or fragment.
fn check_base_url(url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or(Error::Invalid("base_url must start with http:// or https://"))?;
    let host = rest.split('/').next().unwrap_or("");
    let host_ok = !host.is_empty()
        && !host.starts_with(':')
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'));
    if !host_ok || url.contains(['?', '#', ' ']) || url.chars().any(char::is_control) {
        return Err(Error::Invalid("base_url has no valid host or has a query"));
    }
    Ok(())
}

type Public<T> = std::result::Result<T, ClientError>;

fn profile(u: &UserInfo) -> UserProfile {
    UserProfile {
        id: u.id.clone(),
        full_name: u.full_name.clone(),
        role: crate::model::Role::from_code(u.role.as_str()),
        phone: u.phone.clone(),
        citizen_id: u.citizen_id.clone(),
        email: u.email.clone(),
    }
}

impl Client {
    /// Opens the client over the store in `config.data_dir`, with the built-in transport.
    pub async fn open(config: ClientConfig, tokens: Arc<dyn TokenStore>) -> Public<Arc<Client>> {
        let timeout = if config.request_timeout_ms == 0 { DEFAULT_TIMEOUT_MS } else { config.request_timeout_ms };
        let lang = config_lang(&config.language).unwrap_or_default();
        let transport =
            ReqwestTransport::shared(Duration::from_millis(timeout)).map_err(|e| to_public(Error::from(e), lang))?;
        Client::open_with_transport(config, tokens, transport).await
    }

    /// Opens the client with the app's own HTTP stack.
    pub async fn open_with_transport(
        config: ClientConfig,
        tokens: Arc<dyn TokenStore>,
        transport: Arc<dyn Transport>,
    ) -> Public<Arc<Client>> {
        let lang = config_lang(&config.language).unwrap_or_default();
        Client::open_inner(config, tokens, transport).await.map(Arc::new).map_err(|e| to_public(e, lang))
    }

    async fn open_inner(
        config: ClientConfig,
        tokens: Arc<dyn TokenStore>,
        transport: Arc<dyn Transport>,
    ) -> Result<Client> {
        let lang = config_lang(&config.language).ok_or(Error::Invalid("language must be \"vi\" or \"en\""))?;
        check_base_url(&config.base_url)?;
        if config.data_dir.trim().is_empty() {
            return Err(Error::Invalid("data_dir is empty"));
        }
        let lock = StoreLock::acquire(Path::new(&config.data_dir)).await?;
        let store = Store::open(&PathBuf::from(&config.data_dir)).await?;
        drafts::remove_orphan_files(&store).await?;
        let events = Arc::new(Events::default());
        let api = Api::new(&config.base_url, transport, tokens, events.clone(), lang);
        let chunk_size = if config.upload_chunk_size == 0 { DEFAULT_CHUNK } else { config.upload_chunk_size };
        Ok(Client {
            store,
            api,
            events,
            index: IndexCache::default(),
            forms: drafts::FormCache::default(),
            sync_lock: tokio::sync::Mutex::new(()),
            chunk_size,
            lang,
            lock: std::sync::Mutex::new(Some(lock)),
            closed: AtomicBool::new(false),
        })
    }

    pub fn set_listener(&self, listener: Arc<dyn ClientListener>) {
        self.events.set(listener);
    }

    /// Closes the store; the client is unusable afterwards.
    pub async fn close(&self) {
        let _guard = self.sync_lock.lock().await;
        self.closed.store(true, Ordering::SeqCst);
        self.store.close().await;
        // Another client may open the directory now.
        drop(self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take());
    }

    /// Runs one public call: `Closed` after `close` (without starting it), and the internal
    /// error converted to the public one in the client's language.
    async fn run<T>(&self, call: impl std::future::Future<Output = Result<T>>) -> Public<T> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(to_public(Error::Closed, self.lang));
        }
        call.await.map_err(|e| to_public(e, self.lang))
    }

    // --- session -----------------------------------------------------------------------

    /// Starts a registration: the server sends a code to `phone` by SMS (it answers the same
    /// whether or not the number already has an account). Calling it again sends a new code.
    pub async fn register(
        &self,
        citizen_id: String,
        phone: String,
        full_name: String,
        password: String,
    ) -> Public<PhoneVerification> {
        self.run(self.register_inner(RegisterRequest { citizen_id, phone, full_name, password, email: None })).await
    }

    async fn register_inner(&self, body: RegisterRequest) -> Result<PhoneVerification> {
        let phone = motcua_domain::ids::normalize_phone(&body.phone).unwrap_or_else(|| body.phone.clone());
        let response = self
            .api
            .send(
                "POST",
                "/api/v1/auth/register",
                vec![header("Content-Type", "application/json")],
                serde_json::to_vec(&body)?,
            )
            .await?;
        let challenge: PhoneChallenge = decode(check(response)?)?;
        Ok(PhoneVerification {
            verification_id: challenge.verification_id,
            phone,
            expires_in_secs: challenge.expires_in,
        })
    }

    /// Finishes a registration with the code from the SMS: the account is created and
    /// signed in. A wrong code is `Validation` on `code`; an expired or exhausted one is
    /// `Validation` on `verification_id` (register again for a new code).
    pub async fn verify_phone(&self, verification_id: String, code: String) -> Public<UserProfile> {
        self.run(self.sign_in("/api/v1/auth/register/verify", &VerifyPhoneRequest { verification_id, code })).await
    }

    pub async fn login(&self, login: String, password: String) -> Public<UserProfile> {
        self.run(self.sign_in("/api/v1/auth/login", &LoginRequest { login, password })).await
    }

    async fn sign_in<B: serde::Serialize>(&self, path: &str, body: &B) -> Result<UserProfile> {
        let response = self
            .api
            .send("POST", path, vec![header("Content-Type", "application/json")], serde_json::to_vec(body)?)
            .await?;
        let answer: TokenResponse = decode(check(response)?)?;
        let previous: Option<String> =
            sqlx::query_scalar("SELECT user FROM account WHERE id = 1").fetch_optional(self.store.read()).await?;
        let previous: Option<UserInfo> = previous.map(|p| serde_json::from_str(&p)).transpose()?;
        if previous.is_some_and(|p| p.id != answer.user.id) {
            // Another person signs in on this device: the last one's data must not show.
            self.wipe_personal_data().await?;
        }
        sqlx::query(
            "INSERT INTO account (id, user) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET user = excluded.user",
        )
        .bind(serde_json::to_string(&answer.user)?)
        .execute(self.store.write())
        .await?;
        self.api.tokens().save(stored_tokens(&answer));
        // This phone's push token, for the account now signed in (kept to send later if
        // this fails).
        if let Err(e) = push::send_pending(&self.store, &self.api).await {
            tracing::info!(error = %e, "push token not sent at sign-in; sent when the network is back");
        }
        Ok(profile(&answer.user))
    }

    /// Signs out: revokes the refresh token (if the server is reachable) and wipes every
    /// personal datum from the device (drafts, outbox, files, dossiers, notifications).
    pub async fn logout(&self) -> Public<()> {
        self.run(self.logout_inner()).await
    }

    async fn logout_inner(&self) -> Result<()> {
        if let Some(tokens) = self.api.tokens().load() {
            let body = serde_json::to_vec(&RefreshRequest { refresh_token: tokens.refresh_token })?;
            let revoked = self
                .api
                .send("POST", "/api/v1/auth/logout", vec![header("Content-Type", "application/json")], body)
                .await;
            if let Err(e) = revoked.and_then(check) {
                tracing::info!(error = %e, "the server did not confirm the logout; signing out locally");
            }
        }
        self.api.tokens().clear();
        push::forget_sent(&self.store).await?;
        self.wipe_personal_data().await
    }

    async fn wipe_personal_data(&self) -> Result<()> {
        let _guard = self.sync_lock.lock().await;
        let mut tx = self.store.begin().await?;
        for table in [
            "outbox",
            "draft_files",
            "draft_values",
            "draft_forms",
            "drafts",
            "report_draft_photos",
            "report_drafts",
            "reports",
            "dossiers",
            "notifications",
            "account",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        let mut dir = tokio::fs::read_dir(self.store.files_dir()).await?;
        while let Some(entry) = dir.next_entry().await? {
            tokio::fs::remove_file(entry.path()).await?;
        }
        dossiers::forget_pending_ratings(&self.store).await
    }

    pub async fn current_user(&self) -> Public<Option<UserProfile>> {
        self.run(async {
            let user: Option<String> =
                sqlx::query_scalar("SELECT user FROM account WHERE id = 1").fetch_optional(self.store.read()).await?;
            let user: Option<UserInfo> = user.map(|u| serde_json::from_str(&u)).transpose()?;
            Ok(user.as_ref().map(profile))
        })
        .await
    }

    pub fn is_signed_in(&self) -> bool {
        self.api.tokens().load().is_some()
    }

    // --- catalogue -----------------------------------------------------------------------

    pub async fn sync_catalogue(&self) -> Public<CatalogueSyncReport> {
        let report = self.run(catalogue::sync(&self.store, &self.api)).await?;
        if !report.not_modified {
            self.index.invalidate().await;
        }
        Ok(report)
    }

    pub async fn search_procedures(
        &self,
        query: String,
        field: Option<String>,
        limit: u32,
    ) -> Public<Vec<ProcedureItem>> {
        let index = self.run(self.index.get(&self.store)).await?;
        Ok(index.search(&query, field.as_deref(), usize::try_from(limit).unwrap_or(usize::MAX)))
    }

    pub async fn procedure(&self, code: String) -> Public<ProcedureDetail> {
        self.run(catalogue::detail(&self.store, &code)).await
    }

    pub async fn fields(&self) -> Public<Vec<ProcedureField>> {
        self.run(catalogue::fields(&self.store)).await
    }

    /// The current wards of a province (a current or a pre-2025 name), in code order; empty
    /// for an unknown province. Offline: the list is part of the shared domain rules.
    pub fn wards(&self, province: String) -> Vec<WardItem> {
        motcua_domain::admin::wards_of(&province)
            .into_iter()
            .map(|w| WardItem { code: w.code.to_owned(), name: w.name.to_owned(), province: w.province.to_owned() })
            .collect()
    }

    /// Fetches the service points (no account needed) and caches them for offline use.
    pub async fn sync_service_points(&self) -> Public<Vec<ServicePoint>> {
        self.run(branches::sync(&self.store, &self.api)).await
    }

    /// Offline: the cached service points, nearest first from `lat`/`lng` when both are
    /// given, only those accepting `procedure_code` when given.
    pub async fn service_points(
        &self,
        lat: Option<f64>,
        lng: Option<f64>,
        procedure_code: Option<String>,
    ) -> Public<Vec<ServicePoint>> {
        let position = match (lat, lng) {
            (Some(lat), Some(lng)) => Some((lat, lng)),
            (None, None) => None,
            _ => return Err(to_public(Error::Invalid("lat and lng go together"), self.lang)),
        };
        self.run(branches::list(&self.store, position, procedure_code.as_deref())).await
    }

    pub async fn catalogue_version(&self) -> Public<i64> {
        self.run(async { Ok(catalogue::version(&self.store).await?.0) }).await
    }

    // --- drafts --------------------------------------------------------------------------

    pub async fn create_draft(&self, procedure_code: String) -> Public<Draft> {
        self.run(drafts::create(&self.store, &procedure_code, self.lang)).await
    }

    pub async fn list_drafts(&self) -> Public<Vec<DraftSummary>> {
        self.run(drafts::list(&self.store)).await
    }

    pub async fn draft(&self, draft_id: String) -> Public<Draft> {
        self.run(drafts::load(&self.store, &draft_id, self.lang)).await
    }

    /// Saves one top-level value (`None` clears it) and returns the live validation. The
    /// value must fit the field's kind (`Validation` on the field otherwise); attachment
    /// fields are refused: files go through `attach_file` / `remove_file`.
    pub async fn set_field(&self, draft_id: String, key: String, value: Option<FieldValue>) -> Public<Vec<FieldIssue>> {
        self.run(drafts::set_field(&self.store, &draft_id, &key, value.as_ref(), self.lang, &self.forms)).await
    }

    /// The draft as a form to render: every field's kind, label (in the client's language),
    /// rules with resolved bounds, options, whether it shows now, value and issues (offline).
    pub async fn form_view(&self, draft_id: String) -> Public<FormView> {
        self.run(drafts::form_view(&self.store, &draft_id, self.lang)).await
    }

    /// The current provinces (34, since 1 July 2025), for an address field (offline).
    pub fn provinces(&self) -> Vec<String> {
        crate::forms::provinces()
    }

    pub async fn set_branch(&self, draft_id: String, branch_code: Option<String>) -> Public<()> {
        self.run(drafts::set_branch(&self.store, &draft_id, branch_code.as_deref(), self.lang)).await
    }

    pub async fn attach_file(
        &self,
        draft_id: String,
        field_key: String,
        source_path: String,
        file_name: String,
    ) -> Public<DraftFile> {
        self.run(drafts::attach_file(
            &self.store,
            &draft_id,
            &field_key,
            Path::new(&source_path),
            &file_name,
            self.lang,
        ))
        .await
    }

    pub async fn remove_file(&self, draft_id: String, file_id: String) -> Public<()> {
        self.run(drafts::remove_file(&self.store, &draft_id, &file_id)).await
    }

    pub async fn validate_draft(&self, draft_id: String) -> Public<Vec<FieldIssue>> {
        self.run(drafts::validate_draft(&self.store, &draft_id, self.lang)).await
    }

    pub async fn delete_draft(&self, draft_id: String) -> Public<()> {
        self.run(drafts::delete(&self.store, &draft_id)).await
    }

    // --- outbox --------------------------------------------------------------------------

    pub async fn submit_draft(&self, draft_id: String) -> Public<OutboxItem> {
        self.run(outbox::submit(&self.store, &draft_id, self.lang)).await
    }

    pub async fn outbox(&self) -> Public<Vec<OutboxItem>> {
        self.run(outbox::list(&self.store)).await
    }

    /// One pass of the sync engine over every due item.
    /// Also sends this phone's push token if the server does not have it yet.
    pub async fn sync_outbox(&self) -> Public<OutboxReport> {
        self.run(self.sync_pass(false)).await
    }

    /// "The network is back": one pass now over every pending item, ignoring the backoff
    /// (and any `Retry-After`) still running, for the app's connectivity callback.
    pub async fn sync_now(&self) -> Public<OutboxReport> {
        self.run(self.sync_pass(true)).await
    }

    async fn sync_pass(&self, ignore_backoff: bool) -> Result<OutboxReport> {
        if let Err(e) = push::send_pending(&self.store, &self.api).await {
            tracing::info!(error = %e, "push token not sent; kept for the next pass");
        }
        let _guard = self.sync_lock.lock().await;
        if let Err(e) = dossiers::send_pending_ratings(&self.store, &self.api, &self.events).await {
            tracing::info!(error = %e, "queued ratings not sent; kept for the next pass");
        }
        if ignore_backoff {
            outbox::make_all_due(&self.store).await?;
        }
        let engine =
            outbox::Engine { store: &self.store, api: &self.api, events: &self.events, chunk_size: self.chunk_size };
        engine.run().await
    }

    pub async fn retry_outbox_item(&self, item_id: String) -> Public<()> {
        self.run(outbox::retry(&self.store, &item_id)).await
    }

    pub async fn cancel_outbox_item(&self, item_id: String) -> Public<()> {
        let _guard = self.sync_lock.lock().await;
        self.run(outbox::cancel(&self.store, &item_id)).await
    }

    // --- my dossiers ---------------------------------------------------------------------

    pub async fn refresh_dossiers(&self) -> Public<Vec<DossierItem>> {
        self.run(dossiers::refresh(&self.store, &self.api, &self.events)).await
    }

    pub async fn dossiers(&self) -> Public<Vec<DossierItem>> {
        self.run(dossiers::cached(&self.store, self.lang)).await
    }

    pub async fn dossier(&self, dossier_id: String) -> Public<DossierDetail> {
        self.run(dossiers::get(&self.store, &self.api, &self.events, &dossier_id)).await
    }

    /// Withdraws one of the citizen's dossiers before a decision (online); `note`: why.
    pub async fn withdraw_dossier(&self, dossier_id: String, note: Option<String>) -> Public<DossierDetail> {
        self.run(dossiers::withdraw(&self.store, &self.api, &self.events, &dossier_id, note.as_deref())).await
    }

    /// Rates a dossier whose result was returned: `score` 1 to 5, an optional comment.
    /// `Some(detail)` when sent now; `None` when queued offline (sent by the next sync).
    pub async fn rate_dossier(
        &self,
        dossier_id: String,
        score: u32,
        comment: Option<String>,
    ) -> Public<Option<DossierDetail>> {
        let _guard = self.sync_lock.lock().await;
        self.run(dossiers::rate(&self.store, &self.api, &self.events, &dossier_id, score, comment.as_deref())).await
    }

    /// Starts (or resumes) the answer to a dossier's supplement request
    /// (`DossierDetail::supplement_request`): a draft of the dossier's values, edited and
    /// given files offline like any draft, then `submit_draft` sends it through the outbox
    /// exactly once. `note`: a word to the officer. Offline from the cached dossier.
    pub async fn start_supplement_answer(&self, dossier_id: String, note: Option<String>) -> Public<Draft> {
        self.run(crate::supplements::start(
            &self.store,
            &self.api,
            &self.events,
            &dossier_id,
            note.as_deref(),
            self.lang,
        ))
        .await
    }

    /// Public tracking of any dossier by its receipt code and verifier, without an account
    /// (online). A wrong pair is `NotFound`; too many guesses are `Throttled`.
    pub async fn track_dossier(&self, code: String, verifier: String) -> Public<PublicTracking> {
        self.run(dossiers::track(&self.api, &code, &verifier)).await
    }

    /// The result document (signed decision or certificate) of one of the citizen's
    /// dossiers, once the result is returned or the dossier rejected (online).
    pub async fn download_result(&self, dossier_id: String) -> Public<crate::model::ResultFile> {
        self.run(dossiers::download_result(&self.api, &dossier_id)).await
    }

    pub async fn refresh_notifications(&self) -> Public<Vec<NotificationItem>> {
        self.run(dossiers::refresh_notifications(&self.store, &self.api)).await
    }

    pub async fn notifications(&self) -> Public<Vec<NotificationItem>> {
        self.run(dossiers::cached_notifications(&self.store, self.lang)).await
    }

    pub async fn mark_notification_read(&self, notification_id: String) -> Public<()> {
        self.run(dossiers::mark_read(&self.store, &self.api, &notification_id)).await
    }

    // --- push notifications --------------------------------------------------------------

    /// Hands over this phone's FCM registration token (`platform`: `android` or `ios`).
    /// Kept, and sent now if signed in and online; otherwise at the next sign-in or the
    /// next `sync_outbox`. Call it at every start and whenever FCM issues a new token.
    pub async fn register_device(
        &self,
        token: String,
        platform: String,
        app_version: String,
    ) -> Public<PushRegistration> {
        self.run(push::register(&self.store, &self.api, &token, &platform, &app_version)).await
    }

    /// The push registration kept on this phone, if any.
    pub async fn push_registration(&self) -> Public<Option<PushRegistration>> {
        self.run(push::registration(&self.store, &self.api)).await
    }

    /// A notification FCM delivered (its data map): what to open, or `None` when it was
    /// already shown (FCM may deliver one twice): show nothing then.
    pub async fn receive_push(&self, data: HashMap<String, String>) -> Public<Option<PushMessage>> {
        self.run(push::receive(&self.store, self.lang, &data)).await
    }

    /// Which notifications the account gets (online).
    pub async fn notification_settings(&self) -> Public<NotificationSettings> {
        self.run(push::get_settings(&self.api)).await
    }

    /// Changes which notifications the account gets (online).
    pub async fn set_notification_settings(&self, settings: NotificationSettings) -> Public<NotificationSettings> {
        self.run(push::put_settings(&self.api, settings)).await
    }

    // --- field reports -------------------------------------------------------------------

    /// A new, empty report draft (offline).
    pub async fn create_report_draft(&self) -> Public<ReportDraft> {
        self.run(reports::create(&self.store, self.lang)).await
    }

    /// Saves the draft's fields (all at once); returns it with its current problems.
    pub async fn update_report_draft(&self, draft_id: String, input: ReportDraftInput) -> Public<ReportDraft> {
        self.run(reports::update(&self.store, &draft_id, &input, self.lang)).await
    }

    pub async fn report_draft(&self, draft_id: String) -> Public<ReportDraft> {
        self.run(reports::load(&self.store, &draft_id, self.lang)).await
    }

    pub async fn report_drafts(&self) -> Public<Vec<ReportDraft>> {
        self.run(reports::list(&self.store, self.lang)).await
    }

    /// Copies a photo into the store and adds it to the draft (at most 5). Its metadata
    /// is removed by the server when it is stored.
    pub async fn add_report_photo(
        &self,
        draft_id: String,
        source_path: String,
        file_name: String,
    ) -> Public<ReportPhotoFile> {
        self.run(reports::add_photo(&self.store, &draft_id, Path::new(&source_path), &file_name, self.lang)).await
    }

    pub async fn remove_report_photo(&self, draft_id: String, photo_id: String) -> Public<()> {
        self.run(reports::remove_photo(&self.store, &draft_id, &photo_id)).await
    }

    pub async fn delete_report_draft(&self, draft_id: String) -> Public<()> {
        self.run(reports::delete(&self.store, &draft_id)).await
    }

    /// Checks and freezes a report draft and queues it in the outbox (sent exactly once by
    /// `sync_outbox`, photos first).
    pub async fn submit_report(&self, draft_id: String) -> Public<OutboxItem> {
        self.run(outbox::submit_report(&self.store, &draft_id, self.lang)).await
    }

    /// Fetches the citizen's own reports (the newest 100) into the cache.
    pub async fn refresh_my_reports(&self) -> Public<Vec<ReportItem>> {
        self.run(reports::refresh(&self.store, &self.api, true, self.lang)).await
    }

    /// The cached own reports (offline).
    pub async fn my_reports(&self) -> Public<Vec<ReportItem>> {
        self.run(reports::cached(&self.store, true, self.lang)).await
    }

    /// Fetches the reports the citizen follows into the cache.
    pub async fn refresh_followed_reports(&self) -> Public<Vec<ReportItem>> {
        self.run(reports::refresh(&self.store, &self.api, false, self.lang)).await
    }

    /// The cached followed reports (offline).
    pub async fn followed_reports(&self) -> Public<Vec<ReportItem>> {
        self.run(reports::cached(&self.store, false, self.lang)).await
    }

    /// Follows (`follow`) or stops following a report; returns the refreshed followed list.
    pub async fn follow_report(&self, report_id: String, follow: bool) -> Public<Vec<ReportItem>> {
        self.run(reports::set_follow(&self.store, &self.api, &report_id, follow, self.lang)).await
    }
}
