//! [`MotcuaClient`]: the exported object. It holds the `motcua-client` object as `inner`
//! and every method is one forwarding line (the documentation of each method is in
//! `core/client/API.md`). Async methods run on uniffi's tokio runtime.

use std::collections::HashMap;
use std::sync::Arc;

use motcua_client::{
    CatalogueSyncReport, Client, ClientConfig, DossierDetail, DossierItem, Draft, DraftFile, DraftSummary, FieldIssue,
    FieldValue, FormView, NotificationItem, NotificationSettings, OutboxItem, OutboxReport, PhoneVerification,
    ProcedureDetail, ProcedureField, ProcedureItem, PublicTracking, PushMessage, PushRegistration, ReportDraft,
    ReportDraftInput, ReportItem, ReportPhotoFile, ServicePoint, UserProfile, WardItem,
};

use crate::MotcuaError;
use crate::callbacks::{AppListener, AppTokens, AppTransport, EventListener, TokenStore, Transport};

type Result<T> = std::result::Result<T, MotcuaError>;

/// The offline client: one per app process.
#[derive(uniffi::Object)]
pub struct MotcuaClient {
    inner: Arc<Client>,
}

#[uniffi::export(async_runtime = "tokio")]
impl MotcuaClient {
    /// Opens the store in `config.data_dir`. `transport`: the app's HTTP stack, or none for
    /// the built-in one.
    #[uniffi::constructor]
    pub async fn open(
        config: ClientConfig,
        tokens: Arc<dyn TokenStore>,
        transport: Option<Arc<dyn Transport>>,
    ) -> Result<Arc<MotcuaClient>> {
        let tokens = Arc::new(AppTokens(tokens));
        let inner = match transport {
            Some(transport) => Client::open_with_transport(config, tokens, Arc::new(AppTransport(transport))).await?,
            None => Client::open(config, tokens).await?,
        };
        Ok(Arc::new(MotcuaClient { inner }))
    }

    /// Replaces the previous listener.
    pub fn set_listener(&self, listener: Arc<dyn EventListener>) {
        self.inner.set_listener(Arc::new(AppListener(listener)))
    }

    /// Closes the store; the client is unusable afterwards. (Not `close`: that name clashes
    /// with Kotlin's `AutoCloseable`.)
    pub async fn shutdown(&self) {
        self.inner.close().await
    }

    pub async fn register(
        &self,
        citizen_id: String,
        phone: String,
        full_name: String,
        password: String,
    ) -> Result<PhoneVerification> {
        Ok(self.inner.register(citizen_id, phone, full_name, password).await?)
    }

    pub async fn verify_phone(&self, verification_id: String, code: String) -> Result<UserProfile> {
        Ok(self.inner.verify_phone(verification_id, code).await?)
    }

    pub async fn login(&self, login: String, password: String) -> Result<UserProfile> {
        Ok(self.inner.login(login, password).await?)
    }

    pub async fn logout(&self) -> Result<()> {
        Ok(self.inner.logout().await?)
    }

    pub async fn current_user(&self) -> Result<Option<UserProfile>> {
        Ok(self.inner.current_user().await?)
    }

    pub fn is_signed_in(&self) -> bool {
        self.inner.is_signed_in()
    }

    pub async fn sync_catalogue(&self) -> Result<CatalogueSyncReport> {
        Ok(self.inner.sync_catalogue().await?)
    }

    /// Offline search, without diacritics if wished; `field` defaults to every field,
    /// `limit` to 20 (0 returns every match).
    #[uniffi::method(default(field = None, limit = 20))]
    pub async fn search_procedures(
        &self,
        query: String,
        field: Option<String>,
        limit: u32,
    ) -> Result<Vec<ProcedureItem>> {
        Ok(self.inner.search_procedures(query, field, limit).await?)
    }

    pub async fn procedure(&self, code: String) -> Result<ProcedureDetail> {
        Ok(self.inner.procedure(code).await?)
    }

    pub async fn fields(&self) -> Result<Vec<ProcedureField>> {
        Ok(self.inner.fields().await?)
    }

    /// The current wards of a province, for an address field's ward list (offline).
    pub fn wards(&self, province: String) -> Vec<WardItem> {
        self.inner.wards(province)
    }

    /// Fetches the service points and caches them for offline use.
    pub async fn sync_service_points(&self) -> Result<Vec<ServicePoint>> {
        Ok(self.inner.sync_service_points().await?)
    }

    /// Offline: nearest first from `lat`/`lng` (both or neither), those accepting `procedure_code`.
    pub async fn service_points(
        &self,
        lat: Option<f64>,
        lng: Option<f64>,
        procedure_code: Option<String>,
    ) -> Result<Vec<ServicePoint>> {
        Ok(self.inner.service_points(lat, lng, procedure_code).await?)
    }

    pub async fn catalogue_version(&self) -> Result<i64> {
        Ok(self.inner.catalogue_version().await?)
    }

    pub async fn create_draft(&self, procedure_code: String) -> Result<Draft> {
        Ok(self.inner.create_draft(procedure_code).await?)
    }

    pub async fn list_drafts(&self) -> Result<Vec<DraftSummary>> {
        Ok(self.inner.list_drafts().await?)
    }

    pub async fn draft(&self, draft_id: String) -> Result<Draft> {
        Ok(self.inner.draft(draft_id).await?)
    }

    /// Saves one typed value (none clears it) and returns the live validation; attachment
    /// fields are refused (use `attach_file`).
    pub async fn set_field(&self, draft_id: String, key: String, value: Option<FieldValue>) -> Result<Vec<FieldIssue>> {
        Ok(self.inner.set_field(draft_id, key, value).await?)
    }

    /// The draft as a form to render (offline).
    pub async fn form_view(&self, draft_id: String) -> Result<FormView> {
        Ok(self.inner.form_view(draft_id).await?)
    }

    /// The current provinces, for an address field (offline).
    pub fn provinces(&self) -> Vec<String> {
        self.inner.provinces()
    }

    pub async fn set_branch(&self, draft_id: String, branch_code: Option<String>) -> Result<()> {
        Ok(self.inner.set_branch(draft_id, branch_code).await?)
    }

    pub async fn attach_file(
        &self,
        draft_id: String,
        field_key: String,
        source_path: String,
        file_name: String,
    ) -> Result<DraftFile> {
        Ok(self.inner.attach_file(draft_id, field_key, source_path, file_name).await?)
    }

    pub async fn remove_file(&self, draft_id: String, file_id: String) -> Result<()> {
        Ok(self.inner.remove_file(draft_id, file_id).await?)
    }

    pub async fn validate_draft(&self, draft_id: String) -> Result<Vec<FieldIssue>> {
        Ok(self.inner.validate_draft(draft_id).await?)
    }

    pub async fn delete_draft(&self, draft_id: String) -> Result<()> {
        Ok(self.inner.delete_draft(draft_id).await?)
    }

    /// Freezes the draft and queues it; works offline.
    pub async fn submit_draft(&self, draft_id: String) -> Result<OutboxItem> {
        Ok(self.inner.submit_draft(draft_id).await?)
    }

    pub async fn outbox(&self) -> Result<Vec<OutboxItem>> {
        Ok(self.inner.outbox().await?)
    }

    /// One pass over the outbox: call at start-up, when the network returns, and periodically.
    pub async fn sync_outbox(&self) -> Result<OutboxReport> {
        Ok(self.inner.sync_outbox().await?)
    }

    /// "The network is back": one pass now, ignoring the backoff.
    pub async fn sync_now(&self) -> Result<OutboxReport> {
        Ok(self.inner.sync_now().await?)
    }

    pub async fn retry_outbox_item(&self, item_id: String) -> Result<()> {
        Ok(self.inner.retry_outbox_item(item_id).await?)
    }

    pub async fn cancel_outbox_item(&self, item_id: String) -> Result<()> {
        Ok(self.inner.cancel_outbox_item(item_id).await?)
    }

    pub async fn refresh_dossiers(&self) -> Result<Vec<DossierItem>> {
        Ok(self.inner.refresh_dossiers().await?)
    }

    pub async fn dossiers(&self) -> Result<Vec<DossierItem>> {
        Ok(self.inner.dossiers().await?)
    }

    pub async fn dossier(&self, dossier_id: String) -> Result<DossierDetail> {
        Ok(self.inner.dossier(dossier_id).await?)
    }

    /// Withdraws a dossier before a decision (online).
    pub async fn withdraw_dossier(&self, dossier_id: String, note: Option<String>) -> Result<DossierDetail> {
        Ok(self.inner.withdraw_dossier(dossier_id, note).await?)
    }

    /// Rates a dossier whose result was returned: 1 to 5, optional comment; none when queued offline.
    pub async fn rate_dossier(
        &self,
        dossier_id: String,
        score: u32,
        comment: Option<String>,
    ) -> Result<Option<DossierDetail>> {
        Ok(self.inner.rate_dossier(dossier_id, score, comment).await?)
    }

    /// Starts (or resumes) the answer to a supplement request: a draft to edit offline,
    /// then `submit_draft` (sent once through the outbox).
    pub async fn start_supplement_answer(&self, dossier_id: String, note: Option<String>) -> Result<Draft> {
        Ok(self.inner.start_supplement_answer(dossier_id, note).await?)
    }

    /// Public tracking by receipt code and verifier, without an account (online).
    pub async fn track_dossier(&self, code: String, verifier: String) -> Result<PublicTracking> {
        Ok(self.inner.track_dossier(code, verifier).await?)
    }

    /// The result document of one of the citizen's dossiers, once returned (online).
    pub async fn download_result(&self, dossier_id: String) -> Result<motcua_client::ResultFile> {
        Ok(self.inner.download_result(dossier_id).await?)
    }

    pub async fn refresh_notifications(&self) -> Result<Vec<NotificationItem>> {
        Ok(self.inner.refresh_notifications().await?)
    }

    pub async fn notifications(&self) -> Result<Vec<NotificationItem>> {
        Ok(self.inner.notifications().await?)
    }

    pub async fn mark_notification_read(&self, notification_id: String) -> Result<()> {
        Ok(self.inner.mark_notification_read(notification_id).await?)
    }

    /// Hands over this phone's FCM token (`android` or `ios`): kept, sent now or later.
    pub async fn register_device(
        &self,
        token: String,
        platform: String,
        app_version: String,
    ) -> Result<PushRegistration> {
        Ok(self.inner.register_device(token, platform, app_version).await?)
    }

    pub async fn push_registration(&self) -> Result<Option<PushRegistration>> {
        Ok(self.inner.push_registration().await?)
    }

    /// A delivered notification's data: what to open, or none if already shown.
    pub async fn receive_push(&self, data: HashMap<String, String>) -> Result<Option<PushMessage>> {
        Ok(self.inner.receive_push(data).await?)
    }

    pub async fn notification_settings(&self) -> Result<NotificationSettings> {
        Ok(self.inner.notification_settings().await?)
    }

    pub async fn set_notification_settings(&self, settings: NotificationSettings) -> Result<NotificationSettings> {
        Ok(self.inner.set_notification_settings(settings).await?)
    }

    pub async fn create_report_draft(&self) -> Result<ReportDraft> {
        Ok(self.inner.create_report_draft().await?)
    }

    pub async fn update_report_draft(&self, draft_id: String, input: ReportDraftInput) -> Result<ReportDraft> {
        Ok(self.inner.update_report_draft(draft_id, input).await?)
    }

    pub async fn report_draft(&self, draft_id: String) -> Result<ReportDraft> {
        Ok(self.inner.report_draft(draft_id).await?)
    }

    pub async fn report_drafts(&self) -> Result<Vec<ReportDraft>> {
        Ok(self.inner.report_drafts().await?)
    }

    pub async fn add_report_photo(
        &self,
        draft_id: String,
        source_path: String,
        file_name: String,
    ) -> Result<ReportPhotoFile> {
        Ok(self.inner.add_report_photo(draft_id, source_path, file_name).await?)
    }

    pub async fn remove_report_photo(&self, draft_id: String, photo_id: String) -> Result<()> {
        Ok(self.inner.remove_report_photo(draft_id, photo_id).await?)
    }

    pub async fn delete_report_draft(&self, draft_id: String) -> Result<()> {
        Ok(self.inner.delete_report_draft(draft_id).await?)
    }

    pub async fn submit_report(&self, draft_id: String) -> Result<OutboxItem> {
        Ok(self.inner.submit_report(draft_id).await?)
    }

    pub async fn refresh_my_reports(&self) -> Result<Vec<ReportItem>> {
        Ok(self.inner.refresh_my_reports().await?)
    }

    pub async fn my_reports(&self) -> Result<Vec<ReportItem>> {
        Ok(self.inner.my_reports().await?)
    }

    pub async fn refresh_followed_reports(&self) -> Result<Vec<ReportItem>> {
        Ok(self.inner.refresh_followed_reports().await?)
    }

    pub async fn followed_reports(&self) -> Result<Vec<ReportItem>> {
        Ok(self.inner.followed_reports().await?)
    }

    pub async fn follow_report(&self, report_id: String, follow: bool) -> Result<Vec<ReportItem>> {
        Ok(self.inner.follow_report(report_id, follow).await?)
    }
}
