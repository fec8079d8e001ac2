//! The app's state machine, apart from drawing and from the client: a key gives a new
//! state and the commands to run ([`Cmd`]); a command's outcome ([`Msg`]) gives a new
//! state and maybe more commands. Nothing here decides a rule of the service: what is
//! valid, due, sent or shown comes from the core in the messages.

use std::collections::HashMap;

use crate::form::{self, FormRow, RowKind};
use crate::text::{self, Lang, tr};
use motcua_client::{
    CatalogueSyncReport, ClientError, DossierDetail, DossierItem, DossierStatus, DossierStatusChange, DraftSummary,
    FieldValue, FormView, NotificationItem, NotificationKind, OutboxEvent, OutboxItem, OutboxReport, OutboxStage,
    PhoneVerification, ProcedureDetail, ProcedureItem, ReportDraft, ReportDraftInput, ReportItem, ServicePoint,
    UserProfile,
};

/// A key the app reacts to (the terminal's keys, mapped in `main`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Enter,
    Esc,
    Up,
    Down,
    Left,
    Right,
    Tab,
    Backspace,
    /// Ctrl-C: leave at once.
    Interrupt,
}

/// Work for the client (run by `exec`).
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    Login {
        login: String,
        password: String,
    },
    Register {
        citizen_id: String,
        phone: String,
        full_name: String,
        password: String,
    },
    Verify {
        verification_id: String,
        code: String,
    },
    SyncCatalogue,
    Search {
        query: String,
    },
    OpenProcedure {
        code: String,
    },
    NewDraft {
        procedure_code: String,
    },
    OpenDraft {
        draft_id: String,
    },
    Drafts,
    SetField {
        draft_id: String,
        key: String,
        value: Option<FieldValue>,
    },
    Attach {
        draft_id: String,
        key: String,
        path: String,
    },
    Submit {
        draft_id: String,
    },
    /// "The network is back": one outbox pass now.
    Sync,
    /// The outbox's own pass (at start-up and when its backoff ends): due items only.
    SyncDue,
    Outbox,
    Dossiers,
    Dossier {
        dossier_id: String,
    },
    /// Opens (or resumes) the answer to the dossier's supplement request as a form.
    AnswerSupplement {
        dossier_id: String,
    },
    Rate {
        dossier_id: String,
        score: u32,
        comment: Option<String>,
    },
    /// Downloads the dossier's result document and saves it in the app's data folder.
    DownloadResult {
        dossier_id: String,
    },
    Notifications,
    OpenNotification {
        notification_id: String,
        dossier_id: Option<String>,
    },
    ServicePoints {
        lat: f64,
        lng: f64,
    },
    NewReport,
    SaveReport {
        draft_id: String,
        input: ReportDraftInput,
    },
    ReportPhoto {
        draft_id: String,
        input: ReportDraftInput,
        path: String,
    },
    SubmitReport {
        draft_id: String,
        input: ReportDraftInput,
    },
    MyReports,
    Logout,
}

/// What a command (or the client's listener) reports back.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    SignedIn(UserProfile),
    CodeSent(PhoneVerification),
    CatalogueSynced(CatalogueSyncReport),
    Results(Vec<ProcedureItem>),
    Procedure(ProcedureDetail),
    /// A draft as the core renders it (opened, created, or after a change).
    Form(FormView),
    Drafts(Vec<DraftSummary>),
    /// The catalogue could not be refreshed (offline): the saved one is searched.
    CatalogueUnavailable(ClientError),
    Submitted(OutboxItem),
    Synced(OutboxReport),
    /// The result of a pass the app started by itself.
    BackgroundSynced(OutboxReport),
    Outbox {
        items: Vec<OutboxItem>,
        names: HashMap<String, String>,
    },
    Dossiers {
        items: Vec<DossierItem>,
        offline: bool,
    },
    Dossier(DossierDetail),
    /// A rating sent (`Some`) or queued until the network is back (`None`).
    Rated(Option<DossierDetail>),
    /// The dossier's result document, saved at `path`.
    ResultSaved {
        dossier_id: String,
        path: String,
    },
    /// No result document to download: none attached, or (`not_returned_yet`) not
    /// returned to the citizen yet.
    NoResult {
        not_returned_yet: bool,
    },
    /// A downloaded file could not be written in the folder `path`.
    SaveFailed {
        path: String,
        reason: String,
    },
    Notifications {
        items: Vec<NotificationItem>,
        offline: bool,
    },
    ServicePoints {
        items: Vec<ServicePoint>,
        offline: bool,
    },
    Report(ReportDraft),
    ReportSubmitted(OutboxItem),
    Reports {
        items: Vec<ReportItem>,
        offline: bool,
    },
    SignedOut,
    Event(OutboxEvent),
    StatusChanged(DossierStatusChange),
    Failed(ClientError),
}

/// A few labelled text inputs, one focused.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Inputs {
    pub labels: Vec<&'static str>,
    pub values: Vec<String>,
    /// Inputs shown as dots.
    pub secret: Vec<bool>,
    pub focus: usize,
}

impl Inputs {
    fn new(fields: &[(&'static str, bool)]) -> Inputs {
        Inputs {
            labels: fields.iter().map(|f| f.0).collect(),
            values: vec![String::new(); fields.len()],
            secret: fields.iter().map(|f| f.1).collect(),
            focus: 0,
        }
    }

    /// Typing, moving and deleting; `true` when Enter was pressed on the last input.
    fn key(&mut self, key: Key) -> bool {
        let last = self.values.len().saturating_sub(1);
        match key {
            Key::Char(c) => {
                if let Some(v) = self.values.get_mut(self.focus)
                    && v.chars().count() < 500
                {
                    v.push(c);
                }
            }
            Key::Backspace => {
                if let Some(v) = self.values.get_mut(self.focus) {
                    v.pop();
                }
            }
            Key::Up => self.focus = self.focus.saturating_sub(1),
            Key::Down | Key::Tab => self.focus = (self.focus + 1).min(last),
            Key::Enter if self.focus >= last => return true,
            Key::Enter => self.focus += 1,
            _ => {}
        }
        false
    }

    pub fn value(&self, i: usize) -> String {
        self.values.get(i).map(|v| v.trim().to_owned()).unwrap_or_default()
    }
}

/// The form being filled.
#[derive(Debug, Clone, PartialEq)]
pub struct FormState {
    pub view: FormView,
    pub rows: Vec<FormRow>,
    pub sel: usize,
    /// The text being typed into the selected row (a file path for an attachment).
    pub edit: Option<String>,
}

impl FormState {
    fn new(view: FormView, lang: Lang) -> FormState {
        let rows = form::rows(&view, lang);
        FormState { view, rows, sel: 0, edit: None }
    }

    /// A new view of the same draft: the selection stays on the same field.
    fn update(&mut self, view: FormView, lang: Lang) {
        let current = self.rows.get(self.sel).map(|r| r.label.clone());
        self.view = view;
        self.rows = form::rows(&self.view, lang);
        self.sel = current
            .and_then(|label| self.rows.iter().position(|r| r.label == label))
            .unwrap_or(self.sel)
            .min(self.rows.len().saturating_sub(1));
    }

    pub fn editable(&self) -> bool {
        self.view.editable
    }
}

/// The report being written: its inputs, then two actions.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportState {
    pub draft: ReportDraft,
    /// Category, description, address, latitude, longitude, photo path.
    pub inputs: Inputs,
    pub hide_identity: bool,
}

/// Rows of the report screen after its inputs.
pub const REPORT_HIDE_ROW: usize = 6;
pub const REPORT_SEND_ROW: usize = 7;

impl ReportState {
    fn new(draft: ReportDraft) -> ReportState {
        let mut inputs = Inputs::new(&[
            ("category", false),
            ("description", false),
            ("address", false),
            ("lat", false),
            ("lng", false),
            ("photo", false),
        ]);
        inputs.values = vec![
            draft.category.clone(),
            draft.description.clone(),
            draft.address.clone(),
            draft.lat.map(|v| v.to_string()).unwrap_or_default(),
            draft.lng.map(|v| v.to_string()).unwrap_or_default(),
            String::new(),
        ];
        ReportState { hide_identity: draft.hide_identity, draft, inputs }
    }

    /// What the citizen typed, as the core takes it (a position that is not a number is
    /// left out: the core then says it is missing).
    pub fn input(&self) -> ReportDraftInput {
        let number = |i: usize| self.inputs.value(i).replace(',', ".").parse::<f64>().ok();
        ReportDraftInput {
            category: self.inputs.value(0),
            description: self.inputs.value(1),
            lat: number(3),
            lng: number(4),
            address: self.inputs.value(2),
            hide_identity: self.hide_identity,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    Welcome {
        sel: usize,
    },
    Login(Inputs),
    Register(Inputs),
    Verify {
        verification: PhoneVerification,
        code: Inputs,
    },
    Home {
        sel: usize,
    },
    Search {
        query: String,
        results: Vec<ProcedureItem>,
        sel: usize,
    },
    Procedure {
        detail: ProcedureDetail,
    },
    Form(FormState),
    Drafts {
        items: Vec<DraftSummary>,
        sel: usize,
    },
    Outbox {
        items: Vec<OutboxItem>,
        names: HashMap<String, String>,
        sel: usize,
    },
    Dossiers {
        items: Vec<DossierItem>,
        offline: bool,
        sel: usize,
    },
    /// `saved`: where the result document was saved, once downloaded.
    Dossier {
        detail: Box<DossierDetail>,
        rating: Option<Inputs>,
        saved: Option<String>,
    },
    Notifications {
        items: Vec<NotificationItem>,
        offline: bool,
        sel: usize,
    },
    Points {
        position: Inputs,
        items: Vec<ServicePoint>,
        offline: bool,
    },
    Report(ReportState),
    Reports {
        items: Vec<ReportItem>,
        offline: bool,
        sel: usize,
    },
}

/// The main menu, in order (a digit key picks one).
pub const HOME_ITEMS: usize = 10;

/// A message at the bottom of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub error: bool,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub lang: Lang,
    pub screen: Screen,
    /// Where Esc goes back to.
    stack: Vec<Screen>,
    pub flash: Option<Flash>,
    pub user: Option<UserProfile>,
    pub quit: bool,
    /// When the outbox wants its next pass (ms from the last report), for the loop.
    retry_in_ms: Option<u64>,
}

fn move_sel(sel: &mut usize, len: usize, key: Key) {
    match key {
        Key::Up => *sel = sel.saturating_sub(1),
        Key::Down => *sel = (*sel + 1).min(len.saturating_sub(1)),
        _ => {}
    }
}

impl App {
    /// The first screen: the menu when a session is kept, else sign in or register.
    pub fn new(lang: Lang, user: Option<UserProfile>) -> App {
        let screen = if user.is_some() { Screen::Home { sel: 0 } } else { Screen::Welcome { sel: 0 } };
        App { lang, screen, stack: Vec::new(), flash: None, user, quit: false, retry_in_ms: None }
    }

    /// What runs at start-up: a signed-in app sends what waits in its outbox.
    pub fn start(&self) -> Vec<Cmd> {
        if self.user.is_some() { vec![Cmd::SyncDue] } else { Vec::new() }
    }

    /// When the outbox wants its next pass, once (the loop then runs [`Cmd::SyncDue`]).
    pub fn take_retry(&mut self) -> Option<u64> {
        self.retry_in_ms.take()
    }

    fn t(&self, vi: &'static str, en: &'static str) -> &'static str {
        tr(self.lang, vi, en)
    }

    fn info(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash { error: false, text: text.into() });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash { error: true, text: text.into() });
    }

    fn push(&mut self, screen: Screen) {
        let old = std::mem::replace(&mut self.screen, screen);
        self.stack.push(old);
    }

    fn back(&mut self) {
        if let Some(previous) = self.stack.pop() {
            self.screen = previous;
        } else if matches!(self.screen, Screen::Home { .. } | Screen::Welcome { .. }) {
            self.quit = true;
        } else {
            self.screen = if self.user.is_some() { Screen::Home { sel: 0 } } else { Screen::Welcome { sel: 0 } };
        }
    }

    fn home(&mut self) {
        self.stack.clear();
        self.screen = Screen::Home { sel: 0 };
    }

    /// A key: the new state, and the commands to run.
    pub fn on_key(&mut self, key: Key) -> Vec<Cmd> {
        if key == Key::Interrupt {
            self.quit = true;
            return Vec::new();
        }
        if key != Key::Esc || !self.editing() {
            self.flash = None;
        }
        let lang = self.lang;
        match &mut self.screen {
            Screen::Welcome { sel } => match key {
                Key::Up | Key::Down => move_sel(sel, 3, key),
                Key::Char('1') => self.open_login(),
                Key::Char('2') => self.open_register(),
                Key::Char('q') | Key::Esc => self.quit = true,
                Key::Enter => match *sel {
                    0 => self.open_login(),
                    1 => self.open_register(),
                    _ => self.quit = true,
                },
                _ => {}
            },
            Screen::Login(inputs) => {
                if key == Key::Esc {
                    self.back();
                } else if inputs.key(key) {
                    return vec![Cmd::Login { login: inputs.value(0), password: inputs.values[1].clone() }];
                }
            }
            Screen::Register(inputs) => {
                if key == Key::Esc {
                    self.back();
                } else if inputs.key(key) {
                    return vec![Cmd::Register {
                        citizen_id: inputs.value(0),
                        phone: inputs.value(1),
                        full_name: inputs.value(2),
                        password: inputs.values[3].clone(),
                    }];
                }
            }
            Screen::Verify { verification, code } => {
                if key == Key::Esc {
                    self.back();
                } else if code.key(key) {
                    return vec![Cmd::Verify {
                        verification_id: verification.verification_id.clone(),
                        code: code.value(0),
                    }];
                }
            }
            Screen::Home { sel } => {
                let pick = match key {
                    Key::Up | Key::Down => {
                        move_sel(sel, HOME_ITEMS, key);
                        None
                    }
                    Key::Enter => Some(*sel),
                    Key::Char(c @ '1'..='9') => Some(c as usize - '1' as usize),
                    Key::Char('0') => Some(9),
                    Key::Char('q') | Key::Esc => {
                        self.quit = true;
                        None
                    }
                    _ => None,
                };
                if let Some(i) = pick {
                    return self.open_home_item(i);
                }
            }
            Screen::Search { query, results, sel } => match key {
                Key::Esc => self.back(),
                Key::Up | Key::Down => move_sel(sel, results.len(), key),
                Key::Enter => {
                    if let Some(p) = results.get(*sel) {
                        return vec![Cmd::OpenProcedure { code: p.code.clone() }];
                    }
                }
                Key::Char(c) => {
                    if query.chars().count() < 200 {
                        query.push(c);
                    }
                    *sel = 0;
                    return vec![Cmd::Search { query: query.clone() }];
                }
                Key::Backspace => {
                    query.pop();
                    *sel = 0;
                    return vec![Cmd::Search { query: query.clone() }];
                }
                _ => {}
            },
            Screen::Procedure { detail } => match key {
                Key::Esc => self.back(),
                Key::Char('n') | Key::Enter => {
                    return vec![Cmd::NewDraft { procedure_code: detail.item.code.clone() }];
                }
                _ => {}
            },
            Screen::Form(state) => match Self::form_key(state, key) {
                Ok(Some(cmds)) => return cmds,
                Ok(None) => return self.leave_form(),
                Err(not_yet) => self.error(not_yet.message(lang)),
            },
            Screen::Drafts { items, sel } => match key {
                Key::Esc => self.back(),
                Key::Up | Key::Down => move_sel(sel, items.len(), key),
                Key::Enter => {
                    if let Some(d) = items.get(*sel) {
                        return vec![Cmd::OpenDraft { draft_id: d.id.clone() }];
                    }
                }
                _ => {}
            },
            Screen::Outbox { items, sel, .. } => match key {
                Key::Esc => self.back(),
                Key::Up | Key::Down => move_sel(sel, items.len(), key),
                Key::Char('s') => return vec![Cmd::Sync],
                Key::Enter => {
                    if let Some(item) = items.get(*sel) {
                        if let Some(id) = &item.dossier_id {
                            return vec![Cmd::Dossier { dossier_id: id.clone() }];
                        }
                        if item.report_id.is_none() {
                            return vec![Cmd::OpenDraft { draft_id: item.draft_id.clone() }];
                        }
                    }
                }
                _ => {}
            },
            Screen::Dossiers { items, sel, .. } => match key {
                Key::Esc => self.back(),
                Key::Up | Key::Down => move_sel(sel, items.len(), key),
                Key::Char('r') => return vec![Cmd::Dossiers],
                Key::Enter => {
                    if let Some(d) = items.get(*sel) {
                        return vec![Cmd::Dossier { dossier_id: d.id.clone() }];
                    }
                }
                _ => {}
            },
            Screen::Dossier { detail, rating, .. } => {
                if let Some(inputs) = rating {
                    if key == Key::Esc {
                        *rating = None;
                    } else if inputs.key(key) {
                        let Some(score) = inputs.value(0).parse::<u32>().ok().filter(|s| (1..=5).contains(s)) else {
                            self.error(tr(lang, "Số sao từ 1 đến 5.", "Stars: 1 to 5."));
                            return Vec::new();
                        };
                        let comment = Some(inputs.value(1)).filter(|c| !c.is_empty());
                        return vec![Cmd::Rate { dossier_id: detail.item.id.clone(), score, comment }];
                    }
                    return Vec::new();
                }
                match key {
                    Key::Esc => self.back(),
                    Key::Char('r') => return vec![Cmd::Dossier { dossier_id: detail.item.id.clone() }],
                    Key::Char('k') => return vec![Cmd::DownloadResult { dossier_id: detail.item.id.clone() }],
                    Key::Char('b') => {
                        if detail.supplement_request.is_some() {
                            return vec![Cmd::AnswerSupplement { dossier_id: detail.item.id.clone() }];
                        }
                        self.error(tr(
                            lang,
                            "Hồ sơ này không có yêu cầu bổ sung.",
                            "This dossier has no supplement request.",
                        ));
                    }
                    Key::Char('d') => {
                        if detail.item.status == DossierStatus::ResultReturned && detail.rating_score.is_none() {
                            *rating = Some(Inputs::new(&[("score", false), ("comment", false)]));
                        } else {
                            self.error(tr(
                                lang,
                                "Chỉ đánh giá được hồ sơ đã trả kết quả, một lần.",
                                "Only a dossier whose result was returned can be rated, once.",
                            ));
                        }
                    }
                    _ => {}
                }
            }
            Screen::Notifications { items, sel, .. } => match key {
                Key::Esc => self.back(),
                Key::Up | Key::Down => move_sel(sel, items.len(), key),
                Key::Char('r') => return vec![Cmd::Notifications],
                Key::Enter => {
                    if let Some(n) = items.get_mut(*sel) {
                        n.read = true;
                        let mut cmds = vec![Cmd::OpenNotification {
                            notification_id: n.id.clone(),
                            dossier_id: n.dossier_id.clone(),
                        }];
                        // A report's news opens the citizen's reports.
                        if n.kind == NotificationKind::ReportStatus {
                            cmds.push(Cmd::MyReports);
                        }
                        return cmds;
                    }
                }
                _ => {}
            },
            Screen::Points { position, .. } => {
                if key == Key::Esc {
                    self.back();
                } else if position.key(key) {
                    let typed = position.value(0);
                    let parsed: Vec<f64> =
                        typed.split([',', ';', ' ']).filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect();
                    if let [lat, lng] = parsed[..] {
                        return vec![Cmd::ServicePoints { lat, lng }];
                    }
                    self.error(tr(
                        lang,
                        "Vị trí: vĩ độ, kinh độ (ví dụ 21.0287 105.8524).",
                        "Position: latitude, longitude (e.g. 21.0287 105.8524).",
                    ));
                }
            }
            Screen::Report(_) => return self.report_key(key),
            Screen::Reports { items, sel, .. } => match key {
                Key::Esc => self.back(),
                Key::Up | Key::Down => move_sel(sel, items.len(), key),
                _ => {}
            },
        }
        Vec::new()
    }

    /// Whether keys go into a text being typed (Esc then leaves the text, not the screen).
    fn editing(&self) -> bool {
        matches!(&self.screen, Screen::Form(f) if f.edit.is_some())
            || matches!(&self.screen, Screen::Dossier { rating: Some(_), .. })
    }

    fn open_login(&mut self) {
        let inputs = Inputs::new(&[("login", false), ("password", true)]);
        self.push(Screen::Login(inputs));
    }

    fn open_register(&mut self) {
        let inputs = Inputs::new(&[("citizen_id", false), ("phone", false), ("full_name", false), ("password", true)]);
        self.push(Screen::Register(inputs));
    }

    fn open_home_item(&mut self, i: usize) -> Vec<Cmd> {
        match i {
            0 => {
                self.push(Screen::Search { query: String::new(), results: Vec::new(), sel: 0 });
                vec![Cmd::SyncCatalogue]
            }
            1 => vec![Cmd::Drafts],
            2 => vec![Cmd::Outbox],
            3 => vec![Cmd::Dossiers],
            4 => vec![Cmd::Notifications],
            5 => {
                let mut position = Inputs::new(&[("position", false)]);
                position.values[0] = "21.0287, 105.8524".to_owned();
                self.push(Screen::Points { position, items: Vec::new(), offline: false });
                Vec::new()
            }
            6 => vec![Cmd::NewReport],
            7 => vec![Cmd::MyReports],
            8 => vec![Cmd::Sync],
            _ => vec![Cmd::Logout],
        }
    }

    /// Keys on the form: the commands, `None` to leave it, or why the typed text is not
    /// a value yet.
    fn form_key(state: &mut FormState, key: Key) -> Result<Option<Vec<Cmd>>, form::NotYet> {
        let draft_id = state.view.draft_id.clone();
        let Some(row) = state.rows.get(state.sel).cloned() else {
            return Ok((key != Key::Esc).then(Vec::new));
        };
        if let Some(text) = &mut state.edit {
            match key {
                Key::Esc | Key::Enter | Key::Up | Key::Down | Key::Tab => {
                    if row.kind == RowKind::Attachment {
                        let typed = state.edit.take().unwrap_or_default();
                        return Ok(Some(if key == Key::Enter && !typed.trim().is_empty() {
                            vec![Cmd::Attach { draft_id, key: row.key, path: typed.trim().to_owned() }]
                        } else {
                            Vec::new()
                        }));
                    }
                    if key != Key::Esc {
                        // Leaving with a text that is no value yet says why (and stays).
                        form::value_for(&row, text)?;
                    }
                    state.edit = None;
                    match key {
                        Key::Enter | Key::Down | Key::Tab => move_sel(&mut state.sel, state.rows.len(), Key::Down),
                        Key::Up => move_sel(&mut state.sel, state.rows.len(), Key::Up),
                        _ => {}
                    }
                    return Ok(Some(Vec::new()));
                }
                Key::Char(c) => {
                    if text.chars().count() < 2000 {
                        text.push(c);
                    }
                }
                Key::Backspace => {
                    text.pop();
                }
                _ => return Ok(Some(Vec::new())),
            }
            if row.kind == RowKind::Attachment {
                return Ok(Some(Vec::new()));
            }
            // Live validation: every change that is a value is saved and checked by the core.
            return Ok(Some(match form::value_for(&row, text) {
                Ok(value) => vec![Cmd::SetField { draft_id, key: row.key, value }],
                Err(_) => Vec::new(),
            }));
        }
        match key {
            Key::Esc => return Ok(None),
            Key::Up | Key::Down => move_sel(&mut state.sel, state.rows.len(), key),
            Key::Tab => move_sel(&mut state.sel, state.rows.len(), Key::Down),
            Key::Char('n') => return Ok(Some(vec![Cmd::Submit { draft_id }])),
            _ if !state.editable() => {}
            Key::Enter | Key::Char(' ') | Key::Left | Key::Right => match &row.kind {
                RowKind::Select { options } if !options.is_empty() => {
                    let current = options.iter().position(|(_, l)| *l == row.display);
                    let next = match (current, key) {
                        (None, _) => 0,
                        (Some(i), Key::Left) => (i + options.len() - 1) % options.len(),
                        (Some(i), _) => (i + 1) % options.len(),
                    };
                    let value = Some(FieldValue::Choice { value: options[next].0.clone() });
                    return Ok(Some(vec![Cmd::SetField { draft_id, key: row.key, value }]));
                }
                RowKind::Checkbox => {
                    let value = Some(FieldValue::Bool { value: row.display != "[x]" });
                    return Ok(Some(vec![Cmd::SetField { draft_id, key: row.key, value }]));
                }
                RowKind::Group => {}
                RowKind::Attachment if key == Key::Enter => state.edit = Some(String::new()),
                _ if key == Key::Enter => state.edit = Some(row.edit_text()),
                _ => {}
            },
            _ => {}
        }
        Ok(Some(Vec::new()))
    }

    fn leave_form(&mut self) -> Vec<Cmd> {
        self.back();
        if matches!(self.screen, Screen::Drafts { .. }) { vec![Cmd::Drafts] } else { Vec::new() }
    }

    fn report_key(&mut self, key: Key) -> Vec<Cmd> {
        let Screen::Report(state) = &mut self.screen else {
            return Vec::new();
        };
        let id = state.draft.id.clone();
        let inputs = &mut state.inputs;
        let row = inputs.focus;
        match key {
            Key::Esc => {
                self.back();
                return Vec::new();
            }
            Key::Up => inputs.focus = row.saturating_sub(1),
            Key::Down | Key::Tab => inputs.focus = (row + 1).min(REPORT_SEND_ROW),
            Key::Enter if row == REPORT_SEND_ROW => {
                return vec![Cmd::SubmitReport { draft_id: id, input: state.input() }];
            }
            Key::Enter | Key::Char(' ') if row == REPORT_HIDE_ROW => {
                state.hide_identity = !state.hide_identity;
                return vec![Cmd::SaveReport { draft_id: id, input: state.input() }];
            }
            Key::Enter if row == 5 => {
                let path = inputs.value(5);
                inputs.values[5].clear();
                if !path.is_empty() {
                    return vec![Cmd::ReportPhoto { draft_id: id, input: state.input(), path }];
                }
            }
            Key::Enter => {
                inputs.focus = row + 1;
                return vec![Cmd::SaveReport { draft_id: id, input: state.input() }];
            }
            Key::Char(_) | Key::Backspace if row < REPORT_HIDE_ROW => {
                inputs.key(key);
            }
            _ => {}
        }
        Vec::new()
    }

    /// An outcome: the new state, and maybe more commands.
    pub fn on_msg(&mut self, msg: Msg) -> Vec<Cmd> {
        let lang = self.lang;
        match msg {
            Msg::SignedIn(user) => {
                let name = user.full_name.clone();
                self.user = Some(user);
                self.home();
                self.info(format!("{} {name}.", self.t("Xin chào", "Welcome,")));
                return vec![Cmd::SyncCatalogue];
            }
            Msg::CodeSent(verification) => {
                let text = format!(
                    "{} {}.",
                    self.t("Đã gửi mã xác minh qua SMS tới", "A verification code was sent by SMS to"),
                    verification.phone
                );
                self.push(Screen::Verify { verification, code: Inputs::new(&[("code", false)]) });
                self.info(text);
            }
            Msg::CatalogueSynced(report) => {
                if !report.not_modified {
                    self.info(format!(
                        "{} {} {}.",
                        self.t("Đã cập nhật danh mục:", "Catalogue updated:"),
                        report.changed,
                        self.t("thủ tục", "procedures")
                    ));
                }
                if let Screen::Search { query, .. } = &self.screen {
                    return vec![Cmd::Search { query: query.clone() }];
                }
            }
            Msg::Results(items) => {
                if let Screen::Search { results, sel, .. } = &mut self.screen {
                    *results = items;
                    *sel = 0;
                }
            }
            Msg::Procedure(detail) => self.push(Screen::Procedure { detail }),
            Msg::Form(view) => match &mut self.screen {
                Screen::Form(state) if state.view.draft_id == view.draft_id => state.update(view, lang),
                Screen::Procedure { .. } => {
                    // A new draft replaces the procedure's page: Esc goes back to the search.
                    self.screen = Screen::Form(FormState::new(view, lang));
                }
                _ => self.push(Screen::Form(FormState::new(view, lang))),
            },
            Msg::Drafts(items) => match &mut self.screen {
                Screen::Drafts { items: old, sel } => {
                    *sel = (*sel).min(items.len().saturating_sub(1));
                    *old = items;
                }
                _ => self.push(Screen::Drafts { items, sel: 0 }),
            },
            Msg::CatalogueUnavailable(error) => {
                self.error(format!(
                    "{error} {}",
                    self.t("Đang tìm trong danh mục đã lưu.", "Searching the saved catalogue.")
                ));
                if let Screen::Search { query, .. } = &self.screen {
                    return vec![Cmd::Search { query: query.clone() }];
                }
            }
            Msg::Submitted(_) => {
                // The form is done with: Esc from the outbox goes to the menu.
                self.home();
                self.push(Screen::Outbox { items: Vec::new(), names: HashMap::new(), sel: 0 });
                self.info(self.t("Đã đưa hồ sơ vào hộp thư đi.", "The dossier is in the outbox."));
                return vec![Cmd::Outbox];
            }
            Msg::BackgroundSynced(report) => {
                self.retry_in_ms = report.next_retry_in_ms;
                if report.sent + report.parked == 0 {
                    return Vec::new();
                }
                return self.on_msg(Msg::Synced(report));
            }
            Msg::Synced(report) => {
                self.retry_in_ms = report.next_retry_in_ms;
                let text = format!(
                    "{}: {} {}, {} {}, {} {}.",
                    self.t("Đồng bộ", "Sync"),
                    report.sent,
                    self.t("đã gửi", "sent"),
                    report.pending,
                    self.t("đang chờ", "waiting"),
                    report.parked,
                    self.t("cần xử lý", "need attention"),
                );
                self.info(text);
                if matches!(self.screen, Screen::Outbox { .. }) {
                    return vec![Cmd::Outbox];
                }
            }
            Msg::Outbox { items, names } => match &mut self.screen {
                Screen::Outbox { items: old, names: old_names, sel } => {
                    *sel = (*sel).min(items.len().saturating_sub(1));
                    *old = items;
                    *old_names = names;
                }
                _ => self.push(Screen::Outbox { items, names, sel: 0 }),
            },
            Msg::Dossiers { items, offline } => {
                if offline {
                    self.error(self.t(
                        "Không kết nối được máy chủ: đang xem bản đã lưu.",
                        "The server cannot be reached: showing the saved copy.",
                    ));
                }
                match &mut self.screen {
                    Screen::Dossiers { items: old, offline: o, sel } => {
                        *sel = (*sel).min(items.len().saturating_sub(1));
                        *old = items;
                        *o = offline;
                    }
                    _ => self.push(Screen::Dossiers { items, offline, sel: 0 }),
                }
            }
            Msg::Dossier(detail) => match &mut self.screen {
                Screen::Dossier { detail: old, rating, saved } => {
                    if old.item.id != detail.item.id {
                        *saved = None;
                    }
                    **old = detail;
                    *rating = None;
                }
                _ => self.push(Screen::Dossier { detail: Box::new(detail), rating: None, saved: None }),
            },
            Msg::ResultSaved { dossier_id, path } => {
                if let Screen::Dossier { detail, saved, .. } = &mut self.screen
                    && detail.item.id == dossier_id
                {
                    *saved = Some(path.clone());
                }
                self.info(format!(
                    "{} {path}",
                    self.t("Đã lưu văn bản kết quả vào", "The result document is saved at")
                ));
            }
            Msg::NoResult { not_returned_yet } => {
                self.error(if not_returned_yet {
                    self.t(
                        "Kết quả chưa được trả: tải được sau khi cơ quan trả kết quả.",
                        "The result is not returned yet: it can be downloaded once it is.",
                    )
                } else {
                    self.t("Hồ sơ này chưa có văn bản kết quả.", "This dossier has no result document yet.")
                });
            }
            Msg::SaveFailed { path, reason } => {
                self.error(format!(
                    "{} {path}: {reason}",
                    self.t("Không lưu được tệp vào", "The file could not be saved in")
                ));
            }
            Msg::Rated(detail) => {
                if let Screen::Dossier { detail: old, rating, .. } = &mut self.screen {
                    *rating = None;
                    if let Some(d) = detail.clone() {
                        **old = d;
                    }
                }
                self.info(if detail.is_some() {
                    self.t("Cảm ơn bạn đã đánh giá.", "Thank you for your rating.")
                } else {
                    self.t(
                        "Chưa có mạng: đánh giá sẽ được gửi khi đồng bộ.",
                        "No network: the rating is sent at the next sync.",
                    )
                });
            }
            Msg::Notifications { items, offline } => match &mut self.screen {
                Screen::Notifications { items: old, offline: o, sel } => {
                    *sel = (*sel).min(items.len().saturating_sub(1));
                    *old = items;
                    *o = offline;
                }
                _ => self.push(Screen::Notifications { items, offline, sel: 0 }),
            },
            Msg::ServicePoints { items, offline } => {
                if let Screen::Points { items: old, offline: o, .. } = &mut self.screen {
                    *old = items;
                    *o = offline;
                }
            }
            Msg::Report(draft) => match &mut self.screen {
                Screen::Report(state) if state.draft.id == draft.id => state.draft = draft,
                _ => self.push(Screen::Report(ReportState::new(draft))),
            },
            Msg::ReportSubmitted(_) => {
                self.home();
                self.info(self.t(
                    "Đã đưa phản ánh vào hộp thư đi; sẽ gửi khi có mạng.",
                    "The report is in the outbox; it is sent when the network is there.",
                ));
            }
            Msg::Reports { items, offline } => match &mut self.screen {
                Screen::Reports { items: old, offline: o, .. } => {
                    *old = items;
                    *o = offline;
                }
                _ => self.push(Screen::Reports { items, offline, sel: 0 }),
            },
            Msg::SignedOut => {
                self.user = None;
                self.stack.clear();
                self.screen = Screen::Welcome { sel: 0 };
                self.info(self.t("Đã đăng xuất.", "Signed out."));
            }
            Msg::Event(event) => return self.on_outbox_event(event),
            Msg::StatusChanged(change) => {
                let text = format!(
                    "{} {}: {}",
                    self.t("Hồ sơ", "Dossier"),
                    change.dossier_code,
                    text::status(lang, change.to_status.as_str())
                );
                self.info(text);
            }
            Msg::Failed(error) => {
                // A refusal of the form's values: the core's view shows each next to its field.
                let reload = match (&error, &self.screen) {
                    (ClientError::Validation { .. }, Screen::Form(state)) => {
                        vec![Cmd::OpenDraft { draft_id: state.view.draft_id.clone() }]
                    }
                    _ => Vec::new(),
                };
                self.on_error(error);
                return reload;
            }
        }
        Vec::new()
    }

    fn on_outbox_event(&mut self, event: OutboxEvent) -> Vec<Cmd> {
        let text = match &event.stage {
            OutboxStage::Uploading { sent_bytes, total_bytes, .. } => {
                format!("{} {sent_bytes}/{total_bytes} byte", self.t("Đang tải tệp lên:", "Uploading a file:"))
            }
            OutboxStage::Submitting => self.t("Đang gửi hồ sơ…", "Sending the dossier…").to_owned(),
            OutboxStage::Sent { dossier_code, .. } => {
                format!("{} {dossier_code}.", self.t("Đã gửi hồ sơ, mã hồ sơ", "Dossier sent, its code is"))
            }
            OutboxStage::ReportSent { report_code, .. } => {
                format!("{} {report_code}.", self.t("Đã gửi phản ánh, mã", "Report sent, its code is"))
            }
            OutboxStage::Retrying { in_ms, .. } => format!(
                "{} {} {}.",
                self.t("Chưa gửi được (chưa có mạng), thử lại sau", "Not sent (no network), next try in"),
                in_ms.div_ceil(1000),
                self.t("giây", "s")
            ),
            OutboxStage::Parked { reason } => {
                format!("{}: {}.", self.t("Cần xử lý", "Needs attention"), text::park_reason(self.lang, reason))
            }
        };
        let parked = matches!(event.stage, OutboxStage::Parked { .. });
        self.flash = Some(Flash { error: parked, text });
        if matches!(event.stage, OutboxStage::Sent { .. } | OutboxStage::Parked { .. })
            && matches!(self.screen, Screen::Outbox { .. })
        {
            return vec![Cmd::Outbox];
        }
        Vec::new()
    }

    fn on_error(&mut self, error: ClientError) {
        match (&error, &mut self.screen) {
            (ClientError::Validation { fields, .. }, Screen::Report(state)) => {
                state.draft.issues = fields.clone();
            }
            (ClientError::SignedOut { .. }, _) => {
                self.user = None;
                self.stack.clear();
                self.screen = Screen::Welcome { sel: 0 };
            }
            _ => {}
        }
        let mut text = error.to_string();
        if let ClientError::Validation { fields, .. } = &error
            && !matches!(self.screen, Screen::Form(_) | Screen::Report(_))
            && let Some(first) = fields.first()
        {
            text = format!("{text} {}", first.message);
        }
        self.error(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use motcua_client::{DraftState, FieldIssue, OutboxState, ReportDraft, SupplementRequest};

    fn typed(app: &mut App, s: &str) -> Vec<Cmd> {
        let mut cmds = Vec::new();
        for c in s.chars() {
            cmds = app.on_key(Key::Char(c));
        }
        cmds
    }

    fn user() -> UserProfile {
        UserProfile {
            id: "u".into(),
            full_name: "Nguyễn Văn An".into(),
            role: motcua_client::Role::Citizen,
            phone: "0912345678".into(),
            citizen_id: None,
            email: None,
        }
    }

    #[test]
    fn register_then_verify_signs_in_and_syncs_the_catalogue() {
        let mut app = App::new(Lang::Vi, None);
        app.on_key(Key::Down);
        app.on_key(Key::Enter);
        assert!(matches!(app.screen, Screen::Register(_)));
        typed(&mut app, "001099012345");
        app.on_key(Key::Enter);
        typed(&mut app, "0912345678");
        app.on_key(Key::Enter);
        typed(&mut app, "Nguyễn Văn An");
        app.on_key(Key::Enter);
        typed(&mut app, "matkhau123");
        let cmds = app.on_key(Key::Enter);
        assert_eq!(
            cmds,
            [Cmd::Register {
                citizen_id: "001099012345".into(),
                phone: "0912345678".into(),
                full_name: "Nguyễn Văn An".into(),
                password: "matkhau123".into()
            }]
        );
        app.on_msg(Msg::CodeSent(PhoneVerification {
            verification_id: "v1".into(),
            phone: "0912345678".into(),
            expires_in_secs: 300,
        }));
        typed(&mut app, "123456");
        assert_eq!(app.on_key(Key::Enter), [Cmd::Verify { verification_id: "v1".into(), code: "123456".into() }]);
        assert_eq!(app.on_msg(Msg::SignedIn(user())), [Cmd::SyncCatalogue]);
        assert!(matches!(app.screen, Screen::Home { .. }));
        // Esc on the menu leaves the app: nothing to go back to.
        app.on_key(Key::Esc);
        assert!(app.quit);
    }

    #[test]
    fn search_runs_on_every_key_and_enter_opens_the_selected_procedure() {
        let mut app = App::new(Lang::Vi, Some(user()));
        assert_eq!(app.on_key(Key::Char('1')), [Cmd::SyncCatalogue]);
        assert_eq!(typed(&mut app, "khai sinh"), [Cmd::Search { query: "khai sinh".into() }]);
        assert_eq!(app.on_key(Key::Backspace), [Cmd::Search { query: "khai sin".into() }]);
        let item = |code: &str| ProcedureItem {
            code: code.into(),
            name: "Đăng ký khai sinh".into(),
            name_en: String::new(),
            field: String::new(),
            agency: String::new(),
            processing_days: 3,
            fee_vnd: 0,
            fee_online_vnd: 0,
            online_level: motcua_client::OnlineLevel::Full,
            boundary_free: false,
            version: 1,
            nearest: false,
        };
        app.on_msg(Msg::Results(vec![item("1"), item("2")]));
        app.on_key(Key::Down);
        assert_eq!(app.on_key(Key::Enter), [Cmd::OpenProcedure { code: "2".into() }]);
        // A catalogue sync that lands later searches again with what is typed.
        assert_eq!(
            app.on_msg(Msg::CatalogueSynced(CatalogueSyncReport {
                version: 2,
                changed: 1,
                retired: 0,
                not_modified: false,
                drafts_migrated: 0
            })),
            [Cmd::Search { query: "khai sin".into() }]
        );
        app.on_key(Key::Esc);
        assert!(matches!(app.screen, Screen::Home { .. }));
    }

    fn form_app() -> App {
        let mut app = App::new(Lang::Vi, Some(user()));
        app.on_msg(Msg::Form(crate::form::tests::view(&[], vec![])));
        app
    }

    #[test]
    fn after_submitting_from_a_search_esc_on_the_outbox_goes_to_the_menu() {
        let mut app = App::new(Lang::Vi, Some(user()));
        app.on_key(Key::Char('1'));
        app.on_msg(Msg::Form(crate::form::tests::view(&[], vec![])));
        let item = OutboxItem {
            id: "o1".into(),
            draft_id: "d1".into(),
            idempotency_key: "k".into(),
            state: OutboxState::Pending,
            attempts: 0,
            next_attempt_at_ms: 0,
            park_reason: None,
            dossier_id: None,
            report_id: None,
        };
        app.on_msg(Msg::Submitted(item));
        assert!(matches!(app.screen, Screen::Outbox { .. }));
        app.on_key(Key::Esc);
        assert!(matches!(app.screen, Screen::Home { .. }));
    }

    fn set(key: &str, value: FieldValue) -> Cmd {
        Cmd::SetField { draft_id: "d1".into(), key: key.into(), value: Some(value) }
    }

    #[test]
    fn typing_in_a_field_saves_and_validates_every_change() {
        let mut app = form_app();
        assert_eq!(app.on_key(Key::Enter), []);
        assert_eq!(app.on_key(Key::Char('A')), [set("ho_ten", FieldValue::Text { value: "A".into() })]);
        // The core's answer lands next to the field.
        let issue = FieldIssue { path: "ho_ten".into(), code: "too_short".into(), message: "Quá ngắn".into() };
        let typed_a = [("ho_ten", FieldValue::Text { value: "A".into() })];
        app.on_msg(Msg::Form(crate::form::tests::view(&typed_a, vec![issue])));
        let Screen::Form(state) = &app.screen else { panic!("the form") };
        assert_eq!(state.rows[0].issues, ["Quá ngắn"]);
        assert_eq!(state.edit.as_deref(), Some("A"));
        // Enter leaves the field and goes to the next; a date is sent once it is one.
        app.on_key(Key::Enter);
        app.on_key(Key::Enter);
        assert_eq!(typed(&mut app, "1/2/202"), []);
        assert_eq!(app.on_key(Key::Char('4')), [set("ngay", FieldValue::Date { value: "2024-02-01".into() })]);
        app.on_key(Key::Backspace);
        // Leaving with a text that is no date says why and stays in the field.
        assert_eq!(app.on_key(Key::Enter), []);
        assert!(app.flash.as_ref().is_some_and(|f| f.error && f.text.contains("dd/mm/yyyy")));
        assert!(matches!(&app.screen, Screen::Form(f) if f.edit.is_some() && f.sel == 1));
        app.on_key(Key::Esc);
        // A select cycles through its options; Esc without editing leaves the form.
        app.on_key(Key::Down);
        app.on_key(Key::Down);
        assert_eq!(app.on_key(Key::Right), [set("gioi", FieldValue::Choice { value: "nam".into() })]);
        app.on_key(Key::Down);
        app.on_key(Key::Enter);
        assert_eq!(typed(&mut app, "2,3"), [set("muc", FieldValue::Choices { values: vec!["b".into(), "c".into()] })]);
        app.on_key(Key::Enter);
        assert_eq!(app.on_key(Key::Char('n')), [Cmd::Submit { draft_id: "d1".into() }]);
        app.on_key(Key::Esc);
        assert!(matches!(app.screen, Screen::Home { .. }));
    }

    #[test]
    fn an_attachment_takes_a_path_and_a_refused_submit_reloads_the_view() {
        let mut app = form_app();
        for _ in 0..9 {
            app.on_key(Key::Down);
        }
        app.on_key(Key::Enter);
        assert_eq!(typed(&mut app, "/tmp/to khai.pdf"), []);
        assert_eq!(
            app.on_key(Key::Enter),
            [Cmd::Attach { draft_id: "d1".into(), key: "tep".into(), path: "/tmp/to khai.pdf".into() }]
        );
        let issue =
            FieldIssue { path: "cam_doan".into(), code: "must_be_true".into(), message: "Phải đánh dấu".into() };
        let refused = ClientError::Validation { fields: vec![issue], message: "Chưa hợp lệ".into() };
        assert_eq!(app.on_msg(Msg::Failed(refused)), [Cmd::OpenDraft { draft_id: "d1".into() }]);
        assert!(app.flash.as_ref().is_some_and(|f| f.error && f.text == "Chưa hợp lệ"));
        // The checkbox toggles with space.
        app.on_key(Key::Up);
        assert_eq!(app.on_key(Key::Char(' ')), [set("cam_doan", FieldValue::Bool { value: true })]);
    }

    #[test]
    fn a_submission_goes_to_the_outbox_and_sync_events_refresh_it() {
        let mut app = form_app();
        let item = OutboxItem {
            id: "o1".into(),
            draft_id: "d1".into(),
            idempotency_key: "k".into(),
            state: OutboxState::Pending,
            attempts: 0,
            next_attempt_at_ms: 0,
            park_reason: None,
            dossier_id: None,
            report_id: None,
        };
        assert_eq!(app.on_msg(Msg::Submitted(item.clone())), [Cmd::Outbox]);
        app.on_msg(Msg::Outbox { items: vec![item], names: HashMap::new() });
        assert_eq!(app.on_key(Key::Char('s')), [Cmd::Sync]);
        let sent = OutboxEvent {
            item_id: "o1".into(),
            draft_id: "d1".into(),
            stage: OutboxStage::Sent { dossier_id: "x".into(), dossier_code: "H26.01-260101-0001".into() },
        };
        assert_eq!(app.on_msg(Msg::Event(sent)), [Cmd::Outbox]);
        assert_eq!(app.flash.as_ref().map(|f| f.text.as_str()), Some("Đã gửi hồ sơ, mã hồ sơ H26.01-260101-0001."));
        app.on_msg(Msg::Failed(ClientError::Network { message: "Không có mạng".into() }));
        assert!(app.flash.as_ref().is_some_and(|f| f.error));
        // The form is gone from the way back: Esc from the outbox returns to the menu.
        app.on_key(Key::Esc);
        assert!(matches!(app.screen, Screen::Home { .. }));
    }

    #[test]
    fn the_outbox_asks_for_its_next_pass_and_a_quiet_pass_says_nothing() {
        let mut app = App::new(Lang::Vi, Some(user()));
        assert_eq!(app.start(), [Cmd::SyncDue]);
        assert_eq!(App::new(Lang::Vi, None).start(), []);
        let report = |sent, pending, next| OutboxReport { sent, pending, parked: 0, next_retry_in_ms: next };
        app.on_msg(Msg::BackgroundSynced(report(0, 1, Some(4000))));
        assert_eq!(app.flash, None);
        assert_eq!(app.take_retry(), Some(4000));
        assert_eq!(app.take_retry(), None);
        app.on_msg(Msg::BackgroundSynced(report(1, 0, None)));
        assert!(app.flash.as_ref().is_some_and(|f| f.text.starts_with("Đồng bộ: 1 đã gửi")));
        assert_eq!(app.take_retry(), None);
    }

    #[test]
    fn rating_needs_a_returned_result_and_a_score_from_one_to_five() {
        let mut app = App::new(Lang::Vi, Some(user()));
        let mut detail = DossierDetail {
            item: DossierItem {
                id: "x".into(),
                code: "C".into(),
                procedure_code: "p".into(),
                procedure_name: "P".into(),
                status: motcua_client::DossierStatus::InProcessing,
                status_label: "Đang xử lý".into(),
                branch_code: "H26.01".into(),
                submitted_at_ms: 0,
                updated_at_ms: 0,
                due_date: None,
                deadline: motcua_client::DeadlineState::OnTime,
            },
            form_version: 1,
            values_json: "{}".into(),
            timeline: vec![],
            tracking_verifier: None,
            rating_score: None,
            rating_comment: None,
            supplement_request: None,
        };
        app.on_msg(Msg::Dossier(detail.clone()));
        app.on_key(Key::Char('d'));
        assert!(matches!(app.screen, Screen::Dossier { rating: None, .. }));
        assert!(app.flash.as_ref().is_some_and(|f| f.error));
        detail.item.status = motcua_client::DossierStatus::ResultReturned;
        app.on_msg(Msg::Dossier(detail));
        app.on_key(Key::Char('d'));
        typed(&mut app, "7");
        app.on_key(Key::Enter);
        assert_eq!(app.on_key(Key::Enter), []);
        app.on_key(Key::Up);
        app.on_key(Key::Backspace);
        typed(&mut app, "5");
        app.on_key(Key::Enter);
        typed(&mut app, "Nhanh");
        assert_eq!(
            app.on_key(Key::Enter),
            [Cmd::Rate { dossier_id: "x".into(), score: 5, comment: Some("Nhanh".into()) }]
        );
        app.on_msg(Msg::Rated(None));
        assert!(matches!(app.screen, Screen::Dossier { rating: None, .. }));
    }

    #[test]
    fn k_downloads_the_result_and_says_where_it_is_or_why_not() {
        let mut app = App::new(Lang::Vi, Some(user()));
        let detail = crate::ui::tests::detail(Lang::Vi);
        app.on_msg(Msg::Dossier(detail.clone()));
        assert_eq!(app.on_key(Key::Char('k')), [Cmd::DownloadResult { dossier_id: "x".into() }]);
        app.on_msg(Msg::NoResult { not_returned_yet: true });
        let flash = app.flash.clone().expect("a message");
        assert!(flash.error && flash.text.contains("Kết quả chưa được trả"), "{flash:?}");
        app.on_msg(Msg::NoResult { not_returned_yet: false });
        let flash = app.flash.clone().expect("a message");
        assert!(flash.error && flash.text == "Hồ sơ này chưa có văn bản kết quả.", "{flash:?}");
        assert!(matches!(app.screen, Screen::Dossier { saved: None, .. }));
        // Saved for another dossier (the citizen moved on): this one shows nothing.
        app.on_msg(Msg::ResultSaved { dossier_id: "y".into(), path: "/d/ket-qua/y.pdf".into() });
        assert!(matches!(app.screen, Screen::Dossier { saved: None, .. }));
        app.on_msg(Msg::ResultSaved { dossier_id: "x".into(), path: "/d/ket-qua/Giấy khai sinh.pdf".into() });
        let flash = app.flash.clone().expect("a message");
        assert!(!flash.error && flash.text.ends_with("/d/ket-qua/Giấy khai sinh.pdf"), "{flash:?}");
        let saved = |app: &App| match &app.screen {
            Screen::Dossier { saved, .. } => saved.clone(),
            other => panic!("not the dossier: {other:?}"),
        };
        assert_eq!(saved(&app).as_deref(), Some("/d/ket-qua/Giấy khai sinh.pdf"));
        // A reload keeps it; another dossier in its place forgets it.
        app.on_msg(Msg::Dossier(detail.clone()));
        assert_eq!(saved(&app).as_deref(), Some("/d/ket-qua/Giấy khai sinh.pdf"));
        let mut other = detail;
        other.item.id = "z".into();
        app.on_msg(Msg::Dossier(other));
        assert_eq!(saved(&app), None);
        app.on_msg(Msg::SaveFailed { path: "/d/ket-qua".into(), reason: "read-only".into() });
        assert!(
            app.flash.as_ref().is_some_and(|f| f.error && f.text == "Không lưu được tệp vào /d/ket-qua: read-only")
        );

        let mut en = App::new(Lang::En, Some(user()));
        en.on_msg(Msg::Dossier(crate::ui::tests::detail(Lang::En)));
        en.on_msg(Msg::NoResult { not_returned_yet: true });
        assert!(en.flash.as_ref().is_some_and(|f| f.text.starts_with("The result is not returned yet")));
        en.on_msg(Msg::NoResult { not_returned_yet: false });
        assert!(en.flash.as_ref().is_some_and(|f| f.text == "This dossier has no result document yet."));
    }

    #[test]
    fn a_supplement_request_is_answered_in_a_form() {
        let mut app = App::new(Lang::Vi, Some(user()));
        let mut detail = crate::ui::tests::detail(Lang::Vi);
        app.on_msg(Msg::Dossier(detail.clone()));
        assert_eq!(app.on_key(Key::Char('b')), []);
        assert!(app.flash.as_ref().is_some_and(|f| f.error));
        detail.supplement_request = Some(SupplementRequest {
            note: "Thiếu tờ khai có chữ ký".into(),
            requested_at_ms: 0,
            by_agency: false,
            requested_by: None,
        });
        app.on_msg(Msg::Dossier(detail));
        assert_eq!(app.on_key(Key::Char('b')), [Cmd::AnswerSupplement { dossier_id: "x".into() }]);
        app.on_msg(Msg::Form(crate::form::tests::view(&[], vec![])));
        assert_eq!(app.on_key(Key::Char('n')), [Cmd::Submit { draft_id: "d1".into() }]);
        // Esc from the answer's form goes back to the dossier.
        app.on_key(Key::Esc);
        assert!(matches!(app.screen, Screen::Dossier { .. }));
    }

    #[test]
    fn a_notification_opens_what_it_is_about() {
        let mut app = App::new(Lang::Vi, Some(user()));
        let item = |id: &str, kind: NotificationKind, dossier: Option<&str>| NotificationItem {
            id: id.into(),
            kind,
            dossier_id: dossier.map(str::to_owned),
            dossier_code: None,
            status: None,
            title: "T".into(),
            body: "B".into(),
            created_at_ms: 0,
            read: false,
        };
        app.on_msg(Msg::Notifications {
            items: vec![
                item("n1", NotificationKind::DossierStatus, Some("x")),
                item("n2", NotificationKind::ReportStatus, None),
            ],
            offline: false,
        });
        assert_eq!(
            app.on_key(Key::Enter),
            [Cmd::OpenNotification { notification_id: "n1".into(), dossier_id: Some("x".into()) }]
        );
        app.on_key(Key::Down);
        assert_eq!(
            app.on_key(Key::Enter),
            [Cmd::OpenNotification { notification_id: "n2".into(), dossier_id: None }, Cmd::MyReports]
        );
        let Screen::Notifications { items, .. } = &app.screen else { panic!("the inbox") };
        assert!(items.iter().all(|n| n.read));
    }

    #[test]
    fn service_points_take_a_typed_position() {
        let mut app = App::new(Lang::En, Some(user()));
        app.on_key(Key::Char('6'));
        assert_eq!(app.on_key(Key::Enter), [Cmd::ServicePoints { lat: 21.0287, lng: 105.8524 }]);
        for _ in 0.."21.0287, 105.8524".len() {
            app.on_key(Key::Backspace);
        }
        typed(&mut app, "abc");
        assert_eq!(app.on_key(Key::Enter), []);
        assert!(app.flash.as_ref().is_some_and(|f| f.error && f.text.starts_with("Position")));
    }

    #[test]
    fn a_report_is_typed_saved_and_submitted() {
        let mut app = App::new(Lang::Vi, Some(user()));
        assert_eq!(app.on_key(Key::Char('7')), [Cmd::NewReport]);
        let draft = ReportDraft {
            id: "r1".into(),
            category: String::new(),
            description: String::new(),
            lat: None,
            lng: None,
            address: String::new(),
            hide_identity: false,
            state: DraftState::Editing,
            report_id: None,
            updated_at_ms: 0,
            photos: vec![],
            issues: vec![],
        };
        app.on_msg(Msg::Report(draft));
        typed(&mut app, "rac-thai");
        let Some(Cmd::SaveReport { input, .. }) = app.on_key(Key::Enter).pop() else { panic!("a save") };
        assert_eq!(input.category, "rac-thai");
        app.on_key(Key::Down);
        app.on_key(Key::Down);
        typed(&mut app, "21,03");
        app.on_key(Key::Down);
        typed(&mut app, "105.85");
        app.on_key(Key::Down);
        typed(&mut app, "/tmp/a.jpg");
        let Some(Cmd::ReportPhoto { path, input, .. }) = app.on_key(Key::Enter).pop() else { panic!("a photo") };
        assert_eq!((path.as_str(), input.lat, input.lng), ("/tmp/a.jpg", Some(21.03), Some(105.85)));
        app.on_key(Key::Down);
        assert!(matches!(app.on_key(Key::Char(' ')).pop(), Some(Cmd::SaveReport { input, .. }) if input.hide_identity));
        app.on_key(Key::Down);
        assert!(matches!(app.on_key(Key::Enter).pop(), Some(Cmd::SubmitReport { .. })));
    }
}
