//! Exactly once: the sync engine is SIGKILLed at random moments, many times, and every
//! submission (dossiers, and field reports with their photos) still exists on the server
//! exactly once, with all its attachments; then answers to supplement requests (with a new
//! file each) go through the same kills and each dossier is answered exactly once.

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use motcua_client::*;
use serde_json::json;

use crate::helpers::*;

const DRAFTS: usize = 10;
const FILES_PER_DRAFT: usize = 3;
const FILE_SIZE: usize = 96 * 1024;
const CHUNK: &str = "8192";
const KILLS: usize = 25;
/// Field reports queued beside the dossiers, each with two photos.
const REPORTS: usize = 4;
/// Dossiers whose supplement request is answered (each answer with one more file).
const SUPPLEMENTS: usize = 4;

fn random_below(n: u64) -> u64 {
    (uuid::Uuid::new_v4().as_u128() % u128::from(n)) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_at_random_moments_delivers_every_submission_exactly_once() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let tokens = dir.path().join("tokens.json");
    let transport = ReqwestTransport::shared(Duration::from_secs(10)).unwrap();
    let c = client_with(&server.base_url, &store, Arc::new(FileTokenStore::new(&tokens)), transport).await;
    let (citizen_id, phone) = identity();
    register_as(&server, &c, &citizen_id, &phone).await;
    c.sync_catalogue().await.unwrap();

    // draft id -> the (sha256, size) of its files.
    let mut expected: HashMap<String, Vec<(String, u64)>> = HashMap::new();
    for d in 0..DRAFTS {
        let files: Vec<(usize, u64)> =
            (0..FILES_PER_DRAFT).map(|f| (FILE_SIZE - f * 1000, (d * 100 + f) as u64 + 1)).collect();
        let draft = ready_draft(&c, dir.path(), &files).await;
        expected.insert(draft.summary.id.clone(), draft.files.iter().map(|f| (f.sha256.clone(), f.size)).collect());
        c.submit_draft(draft.summary.id.clone()).await.unwrap();
    }
    for r in 0..REPORTS {
        let draft = ready_report(&c, dir.path(), &format!("r{r}"), &[(480, r as u8), (400, 100 + r as u8)]).await;
        c.submit_report(draft.id.clone()).await.unwrap();
    }
    c.close().await;
    drop(c);

    let harness = env!("CARGO_BIN_EXE_motcua-sync-harness");
    let args = [store.to_string_lossy().into_owned(), server.base_url.clone(), tokens.to_string_lossy().into_owned()];
    let kills = kill_while_syncing(harness, &args, KILLS);
    assert!(kills >= 15, "only {kills} kills landed during a sync; make the work larger");

    // The device: every item sent, every draft linked to its dossier.
    let transport = ReqwestTransport::shared(Duration::from_secs(10)).unwrap();
    let c = client_with(&server.base_url, &store, Arc::new(FileTokenStore::new(&tokens)), transport).await;
    let outbox = c.outbox().await.unwrap();
    assert_eq!(outbox.len(), DRAFTS + REPORTS);
    assert!(outbox.iter().all(|i| i.state == OutboxState::Sent), "{outbox:?}");

    // The server: exactly one dossier per submission, with all its files.
    let token = server.login_token(&phone, PASSWORD).await;
    let (status, list) = server.call("GET", "/api/v1/dossiers", Some(&token), None).await;
    assert_eq!(status, 200);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), DRAFTS, "exactly one dossier per submission (after {kills} kills)");
    let mut seen_dossiers = HashSet::new();
    for draft in c.list_drafts().await.unwrap() {
        assert_eq!(draft.state, DraftState::Sent);
        let dossier_id = draft.dossier_id.clone().unwrap();
        assert!(seen_dossiers.insert(dossier_id.clone()));
        let (status, dossier) = server.call("GET", &format!("/api/v1/dossiers/{dossier_id}"), Some(&token), None).await;
        assert_eq!(status, 200);
        let attached: Vec<String> = dossier["values"]["tep_de_nghi"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        let files = &expected[&draft.id];
        assert_eq!(attached.len(), files.len());
        for (sha256, size) in files {
            // The server holds these exact bytes for this account: it answers with the attachment.
            let (status, upload) = server
                .call(
                    "POST",
                    "/api/v1/uploads",
                    Some(&token),
                    Some(json!({"sha256": sha256, "size": size, "file_name": "check.png"})),
                )
                .await;
            assert_eq!(status, 200, "{upload}");
            let id = upload["attachment"]["id"].as_str().unwrap();
            assert!(attached.iter().any(|a| a == id), "file {sha256} is attached to its dossier");
        }
    }
    assert_eq!(seen_dossiers.len(), DRAFTS);

    // Exactly one report per report draft, each with its two photos.
    let (status, mine) = server.call("GET", "/api/v1/reports/mine?limit=100", Some(&token), None).await;
    assert_eq!(status, 200);
    assert_eq!(mine["items"].as_array().unwrap().len(), REPORTS, "exactly one report per draft (after {kills} kills)");
    let mut seen_reports = HashSet::new();
    for draft in c.report_drafts().await.unwrap() {
        assert_eq!(draft.state, DraftState::Sent);
        let id = draft.report_id.clone().unwrap();
        assert!(seen_reports.insert(id.clone()));
        let (status, report) = server.call("GET", &format!("/api/v1/reports/{id}"), Some(&token), None).await;
        assert_eq!(status, 200);
        assert_eq!(report["photos"].as_array().unwrap().len(), 2, "{report}");
        assert!(report["description"].as_str().unwrap().contains(&draft.description.trim()[..20]));
    }
    assert_eq!(seen_reports.len(), REPORTS);

    // Supplements: the officer asks for more on some dossiers; the citizen answers offline
    // (a corrected value and one more file each), and the answers go through the kills.
    let officer = server.officer("0987654399").await;
    let answered: Vec<String> =
        c.list_drafts().await.unwrap().iter().take(SUPPLEMENTS).map(|d| d.dossier_id.clone().unwrap()).collect();
    for id in &answered {
        for (action, note) in [("receive", "Đã nhận"), ("request_supplement", "Thiếu bản sao")] {
            let body = json!({"action": action, "note": note});
            let (status, answer) =
                server.call("POST", &format!("/api/v1/dossiers/{id}/transitions"), Some(&officer), Some(body)).await;
            assert_eq!(status, 200, "{answer}");
        }
    }
    c.refresh_dossiers().await.unwrap();
    for (i, id) in answered.iter().enumerate() {
        let answer = c.start_supplement_answer(id.clone(), Some("Đã bổ sung".into())).await.unwrap();
        let answer_id = answer.summary.id;
        c.set_field(answer_id.clone(), "ho_ten".into(), Some(FieldValue::Text { value: format!("Nguyễn Văn Bổ {i}") }))
            .await
            .unwrap();
        let file = write_file(dir.path(), &format!("bo-sung-{i}.png"), FILE_SIZE, 9_000 + i as u64);
        c.attach_file(answer_id.clone(), "tep_de_nghi".into(), file.to_string_lossy().into(), "bo-sung.png".into())
            .await
            .unwrap();
        c.submit_draft(answer_id).await.unwrap();
    }
    c.close().await;
    drop(c);
    // The answers are a short sync (four small files): the kills come sooner, so that on a
    // fast machine they still land before it ends.
    let kills = kill_while_syncing_within(harness, &args, KILLS / 2, 5, 40);
    assert!(kills >= 3, "only {kills} kills landed during the answers' sync");
    let transport = ReqwestTransport::shared(Duration::from_secs(10)).unwrap();
    let c = client_with(&server.base_url, &store, Arc::new(FileTokenStore::new(&tokens)), transport).await;
    let outbox = c.outbox().await.unwrap();
    assert_eq!(outbox.len(), DRAFTS + REPORTS + SUPPLEMENTS);
    assert!(outbox.iter().all(|i| i.state == OutboxState::Sent), "{outbox:?}");
    for (i, id) in answered.iter().enumerate() {
        let (status, d) = server.call("GET", &format!("/api/v1/dossiers/{id}"), Some(&token), None).await;
        assert_eq!(status, 200);
        let answers = d["timeline"].as_array().unwrap().iter().filter(|e| e["action"] == "answer_supplement").count();
        assert_eq!(answers, 1, "exactly one answer per request (after {kills} kills): {d}");
        assert_eq!(d["values"]["ho_ten"], format!("Nguyễn Văn Bổ {i}"));
        assert_eq!(d["values"]["tep_de_nghi"].as_array().unwrap().len(), FILES_PER_DRAFT + 1);
    }
}

/// Runs the harness up to `rounds` times, SIGKILLing it after a random short while, then
/// once to the end; returns how many kills landed during a sync.
fn kill_while_syncing(harness: &str, args: &[String; 3], rounds: usize) -> usize {
    kill_while_syncing_within(harness, args, rounds, 15, 120)
}

/// [`kill_while_syncing`], each kill `min_ms` plus a random part of `spread_ms`
/// milliseconds after the start.
fn kill_while_syncing_within(harness: &str, args: &[String; 3], rounds: usize, min_ms: u64, spread_ms: u64) -> usize {
    let mut kills = 0;
    for _ in 0..rounds {
        let mut child =
            Command::new(harness).args(args).arg(CHUNK).stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(min_ms + random_below(spread_ms)));
        match child.try_wait().unwrap() {
            Some(status) => {
                assert!(status.success(), "the harness failed on its own: {status}");
                break;
            }
            None => {
                // SIGKILL: no destructor, no flush, no goodbye.
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
            }
        }
    }
    eprintln!("exactly once: {kills} SIGKILLs landed during a sync");
    let status = Command::new(harness).args(args).arg(CHUNK).stdout(Stdio::null()).status().unwrap();
    assert!(status.success());
    kills
}
