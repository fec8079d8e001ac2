//! The outbox: offline submit, upload-then-post, retries with backoff and Retry-After,
//! resumed partial uploads, and parking with the server's field errors on the draft.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use motcua_client::*;

use crate::helpers::*;

async fn flaky_citizen(server: &TestServer, dir: &std::path::Path) -> (Arc<Client>, Arc<Flaky>) {
    let flaky = Flaky::new();
    let c = client_with(&server.base_url, dir, Arc::new(MemoryTokenStore::new()), flaky.clone()).await;
    sign_up(server, &c).await;
    c.sync_catalogue().await.unwrap();
    (c, flaky)
}

async fn wait_and_sync(c: &Client, report: &OutboxReport) -> OutboxReport {
    tokio::time::sleep(Duration::from_millis(report.next_retry_in_ms.unwrap_or(0) + 20)).await;
    c.sync_outbox().await.unwrap()
}

#[tokio::test]
async fn submitted_offline_then_sent_once_online_with_files_first() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (c, flaky) = flaky_citizen(&server, dir.path()).await;
    let recorder = Arc::new(Recorder::default());
    c.set_listener(recorder.clone());
    let draft = ready_draft(&c, dir.path(), &[(40_000, 1), (20_000, 2)]).await;

    flaky.online.store(false, Ordering::SeqCst);
    let item = c.submit_draft(draft.summary.id.clone()).await.unwrap();
    assert_eq!(item.state, OutboxState::Pending);
    assert_eq!(uuid::Uuid::parse_str(&item.idempotency_key).unwrap().get_version_num(), 4);
    // Frozen: no more changes.
    let frozen = c.set_field(draft.summary.id.clone(), "ho_ten".into(), Some(text("Khác"))).await;
    assert!(
        matches!(&frozen, Err(ClientError::Conflict { reason, .. }) if reason == "draft_not_editable"),
        "{frozen:?}"
    );
    let report = c.sync_outbox().await.unwrap();
    assert_eq!((report.sent, report.pending), (0, 1));
    let retry_in = report.next_retry_in_ms.unwrap();
    assert!((400..=1_000).contains(&retry_in), "first retry after 0.5-1 s, got {retry_in}");
    assert_eq!(c.outbox().await.unwrap()[0].attempts, 1);
    // Not due yet: a pass does nothing.
    assert_eq!(c.sync_outbox().await.unwrap().pending, 1);

    flaky.online.store(true, Ordering::SeqCst);
    let report = wait_and_sync(&c, &report).await;
    assert_eq!((report.sent, report.pending, report.parked), (1, 0, 0));
    let item = &c.outbox().await.unwrap()[0];
    assert_eq!(item.state, OutboxState::Sent);
    let sent = c.draft(draft.summary.id.clone()).await.unwrap();
    assert_eq!(sent.summary.state, DraftState::Sent);
    assert!(sent.files.iter().all(|f| f.uploaded));
    assert_eq!(sent.summary.dossier_id, item.dossier_id);

    // Every upload came before the dossier that refers to it.
    let requests = flaky.requests();
    let post = requests.iter().position(|r| r.0 == "POST" && r.1.ends_with("/api/v1/dossiers")).unwrap();
    assert!(requests[..post].iter().any(|r| r.0 == "PATCH"));
    assert!(!requests[post + 1..].iter().any(|r| r.1.contains("/uploads")));
    let events = recorder.outbox.lock().unwrap().clone();
    assert!(matches!(events.last().unwrap().stage, OutboxStage::Sent { .. }), "{events:?}");
    assert!(events.iter().any(|e| matches!(e.stage, OutboxStage::Retrying { attempt: 1, .. })));
    assert!(events.iter().any(|e| matches!(e.stage, OutboxStage::Uploading { .. })));

    // The dossier is cached for offline reading.
    let cached = c.dossiers().await.unwrap();
    assert_eq!(cached.len(), 1);
    assert_eq!(cached[0].status, "submitted");
    // A second pass sends nothing more.
    assert_eq!(c.sync_outbox().await.unwrap().sent, 0);
}

#[tokio::test]
async fn server_errors_and_429_retry_honouring_retry_after_and_uploads_resume() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (c, flaky) = flaky_citizen(&server, dir.path()).await;
    let draft = ready_draft(&c, dir.path(), &[(100_000, 7)]).await;
    c.submit_draft(draft.summary.id.clone()).await.unwrap();

    // The upload starts, then the network drops after two chunks.
    flaky.inject("/api/v1/dossiers", 503, &[]);
    let first = c.sync_outbox().await.unwrap();
    assert_eq!(first.pending, 1, "a 503 is retried");
    let patched: usize = flaky.requests().iter().filter(|r| r.0 == "PATCH" && r.3 == 200).map(|r| r.2).sum();
    assert_eq!(patched, 100_000, "the file went up once");

    flaky.inject("/api/v1/dossiers", 429, &[("Retry-After", "2")]);
    let second = wait_and_sync(&c, &first).await;
    assert_eq!(second.pending, 1);
    assert!(second.next_retry_in_ms.unwrap() >= 1_800, "Retry-After is honoured: {second:?}");
    let third = wait_and_sync(&c, &second).await;
    assert_eq!(third.sent, 1);
    let patched: usize = flaky.requests().iter().filter(|r| r.0 == "PATCH" && r.3 == 200).map(|r| r.2).sum();
    assert_eq!(patched, 100_000, "retries did not upload the file again");

    // A partial upload resumes where the server stands: three chunks go up, then the
    // network drops; the next pass asks the server for its offset and sends the rest.
    let draft = ready_draft(&c, dir.path(), &[(100_000, 8)]).await;
    c.submit_draft(draft.summary.id.clone()).await.unwrap();
    let before = flaky.requests().len();
    flaky.patches_until_offline.store(3, Ordering::SeqCst);
    let cut = c.sync_outbox().await.unwrap();
    assert_eq!(cut.pending, 1);
    flaky.online.store(true, Ordering::SeqCst);
    let done = wait_and_sync(&c, &cut).await;
    assert_eq!(done.sent, 1);
    let requests = flaky.requests()[before..].to_vec();
    let sent: usize = requests.iter().filter(|r| r.0 == "PATCH" && r.3 == 200).map(|r| r.2).sum();
    assert_eq!(sent, 100_000, "no byte sent twice: {requests:?}");
    assert!(requests.iter().any(|r| r.0 == "GET" && r.1.contains("/api/v1/uploads/")), "asked for the offset");
}

#[tokio::test]
async fn a_refusal_parks_the_item_and_puts_the_field_errors_on_the_draft() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (c, _flaky) = flaky_citizen(&server, dir.path()).await;
    let recorder = Arc::new(Recorder::default());
    c.set_listener(recorder.clone());
    let draft = ready_draft(&c, dir.path(), &[(5_000, 3)]).await;
    let id = draft.summary.id.clone();
    // Valid on the phone, refused by the server: no such branch.
    c.set_branch(id.clone(), Some("H99.99".into())).await.unwrap();
    c.submit_draft(id.clone()).await.unwrap();
    let report = c.sync_outbox().await.unwrap();
    assert_eq!((report.sent, report.pending, report.parked), (0, 0, 1));
    let item = c.outbox().await.unwrap().remove(0);
    assert_eq!(item.park_reason, Some(ParkReason::Validation));
    let back = c.draft(id.clone()).await.unwrap();
    assert_eq!(back.summary.state, DraftState::Editing, "the citizen can fix it");
    assert!(back.issues.iter().any(|i| i.path == "branch_code"), "{:?}", back.issues);
    let events = recorder.outbox.lock().unwrap().clone();
    assert!(events.iter().any(|e| e.stage == OutboxStage::Parked { reason: ParkReason::Validation }));

    // Fixed and submitted again: a new key, and it goes through.
    c.set_branch(id.clone(), None).await.unwrap();
    let again = c.submit_draft(id.clone()).await.unwrap();
    assert_ne!(again.idempotency_key, item.idempotency_key);
    assert_eq!(c.sync_outbox().await.unwrap().sent, 1);
    assert_eq!(c.outbox().await.unwrap().len(), 1);

    // An invalid draft never leaves the phone.
    let invalid = c.create_draft(PROCEDURE.into()).await.unwrap();
    match c.submit_draft(invalid.summary.id.clone()).await {
        Err(ClientError::Validation { fields, .. }) => assert!(fields.iter().any(|f| f.path == "ho_ten")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_cancelled_item_makes_the_draft_editable_again() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (c, flaky) = flaky_citizen(&server, dir.path()).await;
    let draft = ready_draft(&c, dir.path(), &[(3_000, 11)]).await;
    let id = draft.summary.id.clone();
    flaky.online.store(false, Ordering::SeqCst);
    let item = c.submit_draft(id.clone()).await.unwrap();
    let queued = c.delete_draft(id.clone()).await;
    assert!(matches!(&queued, Err(ClientError::Conflict { reason, .. }) if reason == "draft_queued"), "{queued:?}");
    c.cancel_outbox_item(item.id.clone()).await.unwrap();
    assert!(c.outbox().await.unwrap().is_empty());
    assert_eq!(c.draft(id.clone()).await.unwrap().summary.state, DraftState::Editing);
    c.set_field(id, "ho_ten".into(), Some(text("Trần Thị Bình"))).await.unwrap();
}
