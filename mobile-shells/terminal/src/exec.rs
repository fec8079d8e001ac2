//! Runs the app's commands against the core (`motcua-client`) and turns each answer into
//! messages for the state machine; the client's listener feeds the same channel.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, mpsc};

use motcua_client::{Client, ClientError, ClientListener, DossierStatusChange, OutboxEvent, ReportDraftInput};

use crate::app::{Cmd, Msg};
use crate::text::{Lang, tr};

/// Results the search shows.
const SEARCH_LIMIT: u32 = 30;

/// The client's background events, as messages for the app.
pub struct ChannelListener(pub Mutex<mpsc::Sender<Msg>>);

impl ChannelListener {
    fn send(&self, msg: Msg) {
        let sender = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // The app is gone when the receiver is: nothing to tell then.
        let _ = sender.send(msg);
    }
}

impl ClientListener for ChannelListener {
    fn on_outbox_event(&self, event: OutboxEvent) {
        self.send(Msg::Event(event));
    }

    fn on_dossier_status_changed(&self, change: DossierStatusChange) {
        self.send(Msg::StatusChanged(change));
    }

    fn on_signed_out(&self) {
        self.send(Msg::SignedOut);
    }
}

/// Whether the server could not be reached (offline work goes on from the store).
fn unreachable(e: &ClientError) -> bool {
    matches!(e, ClientError::Network { .. } | ClientError::Throttled { .. })
}

fn file_name(path: &str) -> String {
    Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.to_owned())
}

/// The longest saved file name, in characters (before a " (n)" to keep it unique).
const MAX_FILE_NAME: usize = 100;

/// Distinct names tried for one saved result before giving up.
const MAX_SAME_NAME: u32 = 100;

/// A file name safe to create in one folder: no folder part, no control or reserved
/// characters, no leading dot, at most [`MAX_FILE_NAME`] characters; `ket-qua` if nothing is left.
pub fn safe_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| if c.is_control() || matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') { '_' } else { c })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let capped: String = trimmed.chars().take(MAX_FILE_NAME).collect();
    let capped = capped.trim_end().to_owned();
    if capped.is_empty() { "ket-qua".to_owned() } else { capped }
}

/// Saves `bytes` as a new file named after `name` in `dir` (made if missing), never over
/// another file: `name (2).ext`, `name (3).ext`, … when taken. The path written.
pub fn save_new_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = safe_file_name(name);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem.to_owned(), format!(".{ext}")),
        _ => (name.clone(), String::new()),
    };
    for n in 1..=MAX_SAME_NAME {
        let path = if n == 1 { dir.join(&name) } else { dir.join(format!("{stem} ({n}){ext}")) };
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                use std::io::Write;
                if let Err(e) = file.write_all(bytes).and_then(|()| file.sync_all()) {
                    let _ = std::fs::remove_file(&path);
                    return Err(e);
                }
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, format!("{name}: too many files of that name")))
}

/// Runs one command; every failure becomes a message (never a panic). Result documents
/// are saved in `results_dir`.
pub async fn run(client: &Client, lang: Lang, results_dir: &Path, cmd: Cmd) -> Vec<Msg> {
    match run_inner(client, lang, results_dir, cmd).await {
        Ok(msgs) => msgs,
        Err(e) => vec![Msg::Failed(e)],
    }
}

async fn run_inner(client: &Client, lang: Lang, results_dir: &Path, cmd: Cmd) -> Result<Vec<Msg>, ClientError> {
    Ok(match cmd {
        Cmd::Login { login, password } => vec![Msg::SignedIn(client.login(login, password).await?)],
        Cmd::Register { citizen_id, phone, full_name, password } => {
            vec![Msg::CodeSent(client.register(citizen_id, phone, full_name, password).await?)]
        }
        Cmd::Verify { verification_id, code } => vec![Msg::SignedIn(client.verify_phone(verification_id, code).await?)],
        Cmd::SyncCatalogue => match client.sync_catalogue().await {
            Ok(report) => vec![Msg::CatalogueSynced(report)],
            Err(e) if unreachable(&e) => vec![Msg::CatalogueUnavailable(e)],
            Err(e) => return Err(e),
        },
        Cmd::Search { query } => vec![Msg::Results(client.search_procedures(query, None, SEARCH_LIMIT).await?)],
        Cmd::OpenProcedure { code } => vec![Msg::Procedure(client.procedure(code).await?)],
        Cmd::NewDraft { procedure_code } => {
            let draft = client.create_draft(procedure_code).await?;
            vec![Msg::Form(client.form_view(draft.summary.id).await?)]
        }
        Cmd::OpenDraft { draft_id } => vec![Msg::Form(client.form_view(draft_id).await?)],
        Cmd::Drafts => vec![Msg::Drafts(client.list_drafts().await?)],
        Cmd::SetField { draft_id, key, value } => {
            client.set_field(draft_id.clone(), key, value).await?;
            vec![Msg::Form(client.form_view(draft_id).await?)]
        }
        Cmd::Attach { draft_id, key, path } => {
            let result = client.attach_file(draft_id.clone(), key, path.clone(), file_name(&path)).await;
            let mut msgs = vec![Msg::Form(client.form_view(draft_id).await?)];
            if let Err(e) = result {
                msgs.push(Msg::Failed(e));
            }
            msgs
        }
        Cmd::Submit { draft_id } => {
            let item = client.submit_draft(draft_id).await?;
            let mut msgs = vec![Msg::Submitted(item)];
            msgs.push(match client.sync_now().await {
                Ok(report) => Msg::Synced(report),
                Err(e) => Msg::Failed(e),
            });
            msgs
        }
        Cmd::Sync => vec![Msg::Synced(client.sync_now().await?)],
        Cmd::SyncDue => vec![Msg::BackgroundSynced(client.sync_outbox().await?)],
        Cmd::Outbox => {
            let items = client.outbox().await?;
            let answer = tr(lang, "trả lời bổ sung", "supplement answer");
            let mut names: HashMap<String, String> = client
                .list_drafts()
                .await?
                .into_iter()
                .map(|d| {
                    let name = match d.supplement_for {
                        Some(_) => format!("{} ({answer})", d.procedure_name),
                        None => d.procedure_name,
                    };
                    (d.id, name)
                })
                .collect();
            for r in client.report_drafts().await? {
                names.insert(r.id, format!("{} ({})", tr(lang, "Phản ánh", "Report"), r.category));
            }
            vec![Msg::Outbox { items, names }]
        }
        Cmd::Dossiers => match client.refresh_dossiers().await {
            Ok(items) => vec![Msg::Dossiers { items, offline: false }],
            Err(e) if unreachable(&e) => vec![Msg::Dossiers { items: client.dossiers().await?, offline: true }],
            Err(e) => return Err(e),
        },
        Cmd::Dossier { dossier_id } => vec![Msg::Dossier(client.dossier(dossier_id).await?)],
        Cmd::AnswerSupplement { dossier_id } => {
            let draft = client.start_supplement_answer(dossier_id, None).await?;
            vec![Msg::Form(client.form_view(draft.summary.id).await?)]
        }
        Cmd::Rate { dossier_id, score, comment } => {
            vec![Msg::Rated(client.rate_dossier(dossier_id, score, comment).await?)]
        }
        Cmd::DownloadResult { dossier_id } => match client.download_result(dossier_id.clone()).await {
            Ok(file) => match save_new_file(results_dir, &file.file_name, &file.bytes) {
                Ok(path) => vec![Msg::ResultSaved { dossier_id, path: path.to_string_lossy().into_owned() }],
                Err(e) => {
                    vec![Msg::SaveFailed { path: results_dir.to_string_lossy().into_owned(), reason: e.to_string() }]
                }
            },
            Err(ClientError::NotFound { .. }) => vec![Msg::NoResult { not_returned_yet: false }],
            Err(ClientError::Conflict { reason, .. }) if reason == "not_returned_yet" => {
                vec![Msg::NoResult { not_returned_yet: true }]
            }
            Err(e) => return Err(e),
        },
        Cmd::Notifications => match client.refresh_notifications().await {
            Ok(items) => vec![Msg::Notifications { items, offline: false }],
            Err(e) if unreachable(&e) => {
                vec![Msg::Notifications { items: client.notifications().await?, offline: true }]
            }
            Err(e) => return Err(e),
        },
        Cmd::OpenNotification { notification_id, dossier_id } => {
            let marked = client.mark_notification_read(notification_id).await;
            let mut msgs = Vec::new();
            if let Err(e) = marked {
                msgs.push(Msg::Failed(e));
            }
            match dossier_id {
                Some(id) => msgs.push(Msg::Dossier(client.dossier(id).await?)),
                None => msgs.push(Msg::Notifications { items: client.notifications().await?, offline: false }),
            }
            msgs
        }
        Cmd::ServicePoints { lat, lng } => {
            let offline = match client.sync_service_points().await {
                Ok(_) => false,
                Err(e) if unreachable(&e) => true,
                Err(e) => return Err(e),
            };
            let items = client.service_points(Some(lat), Some(lng), None).await?;
            vec![Msg::ServicePoints { items, offline }]
        }
        Cmd::NewReport => vec![Msg::Report(client.create_report_draft().await?)],
        Cmd::SaveReport { draft_id, input } => vec![Msg::Report(client.update_report_draft(draft_id, input).await?)],
        Cmd::ReportPhoto { draft_id, input, path } => {
            client.update_report_draft(draft_id.clone(), input).await?;
            let added = client.add_report_photo(draft_id.clone(), path.clone(), file_name(&path)).await;
            let mut msgs = vec![Msg::Report(client.report_draft(draft_id).await?)];
            if let Err(e) = added {
                msgs.push(Msg::Failed(e));
            }
            msgs
        }
        Cmd::SubmitReport { draft_id, input } => submit_report(client, draft_id, input).await?,
        Cmd::MyReports => match client.refresh_my_reports().await {
            Ok(items) => vec![Msg::Reports { items, offline: false }],
            Err(e) if unreachable(&e) => vec![Msg::Reports { items: client.my_reports().await?, offline: true }],
            Err(e) => return Err(e),
        },
        Cmd::Logout => {
            client.logout().await?;
            vec![Msg::SignedOut]
        }
    })
}

async fn submit_report(client: &Client, draft_id: String, input: ReportDraftInput) -> Result<Vec<Msg>, ClientError> {
    let saved = client.update_report_draft(draft_id.clone(), input).await?;
    let item = match client.submit_report(draft_id).await {
        Ok(item) => item,
        Err(e) => return Ok(vec![Msg::Report(saved), Msg::Failed(e)]),
    };
    let mut msgs = vec![Msg::ReportSubmitted(item)];
    msgs.push(match client.sync_now().await {
        Ok(report) => Msg::Synced(report),
        Err(e) => Msg::Failed(e),
    });
    Ok(msgs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_from_the_server_cannot_leave_the_folder() {
        assert_eq!(safe_file_name("Giấy khai sinh.pdf"), "Giấy khai sinh.pdf");
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\Windows\\kq.pdf"), "kq.pdf");
        assert_eq!(safe_file_name("a:b*c?\"<>|\u{7}.pdf"), "a_b_c______.pdf");
        assert_eq!(safe_file_name(".bashrc"), "bashrc");
        for empty in ["", "..", " / ", "dir/"] {
            assert_eq!(safe_file_name(empty), "ket-qua", "{empty:?}");
        }
        let long = "ả".repeat(300) + ".pdf";
        assert_eq!(safe_file_name(&long).chars().count(), MAX_FILE_NAME);
    }

    #[test]
    fn a_saved_file_never_replaces_another() {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let root = std::env::temp_dir().join(format!("motcua-terminal-save-{}-{nanos}", std::process::id()));
        let dir = root.join("ket-qua");
        let first = save_new_file(&dir, "kq.pdf", b"one").expect("saved");
        let second = save_new_file(&dir, "kq.pdf", b"two").expect("saved");
        let bare = save_new_file(&dir, "../kq", b"three").expect("saved");
        assert_eq!(first, dir.join("kq.pdf"));
        assert_eq!(second, dir.join("kq (2).pdf"));
        assert_eq!(bare, dir.join("kq"));
        assert_eq!(std::fs::read(&first).expect("read"), b"one");
        assert_eq!(std::fs::read(&second).expect("read"), b"two");
        assert_eq!(std::fs::read(&bare).expect("read"), b"three");
        std::fs::remove_dir_all(&root).expect("cleaned");
    }
}
