//! Supplements: the officer's request shows on the dossier; the citizen answers it
//! offline (edits the requested values, attaches a file), and the answer travels through
//! the outbox once, surviving a lost reply, with the server's refusals parked like a
//! submission's.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use motcua_client::*;
use serde_json::json;

use crate::helpers::*;

async fn officer_acts(server: &TestServer, officer: &str, dossier_id: &str, action: &str, note: &str) {
    let (status, body) = server
        .call(
            "POST",
            &format!("/api/v1/dossiers/{dossier_id}/transitions"),
            Some(officer),
            Some(json!({"action": action, "note": note})),
        )
        .await;
    assert_eq!(status, 200, "{action}: {body}");
}

#[tokio::test]
async fn a_supplement_is_answered_offline_and_sent_once() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let flaky = Flaky::new();
    let c = client_with(&server.base_url, &dir.path().join("store"), Arc::new(MemoryTokenStore::new()), flaky.clone())
        .await;
    let (citizen_id, phone) = identity();
    register_as(&server, &c, &citizen_id, &phone).await;
    c.sync_catalogue().await.unwrap();
    let draft = ready_draft(&c, dir.path(), &[(3_000, 1)]).await;
    c.submit_draft(draft.summary.id.clone()).await.unwrap();
    assert_eq!(c.sync_outbox().await.unwrap().sent, 1);
    let dossier_id = c.draft(draft.summary.id.clone()).await.unwrap().summary.dossier_id.unwrap();
    // Nothing to answer yet.
    let early = c.start_supplement_answer(dossier_id.clone(), None).await;
    assert!(matches!(&early, Err(ClientError::Conflict { reason, .. }) if reason == "no_supplement_requested"));

    let officer = server.officer("0987654331").await;
    officer_acts(&server, &officer, &dossier_id, "receive", "Đã nhận").await;
    officer_acts(&server, &officer, &dossier_id, "request_supplement", "Thiếu số điện thoại đúng").await;
    let detail = c.dossier(dossier_id.clone()).await.unwrap();
    let request = detail.supplement_request.clone().expect("the request shows on the dossier");
    assert_eq!(request.note, "Thiếu số điện thoại đúng");
    assert!(!request.by_agency);

    // Offline: the answer is a draft of the dossier's values, files included.
    flaky.online.store(false, Ordering::SeqCst);
    let answer = c.start_supplement_answer(dossier_id.clone(), Some("Đã sửa số điện thoại".into())).await.unwrap();
    assert_eq!(answer.summary.supplement_for.as_deref(), Some(dossier_id.as_str()));
    assert_eq!(answer.issues, vec![], "the dossier's values are valid");
    assert_eq!(answer.files.len(), 1);
    assert!(answer.files[0].uploaded, "the dossier's file is already on the server");
    let again = c.start_supplement_answer(dossier_id.clone(), None).await.unwrap();
    assert_eq!(again.summary.id, answer.summary.id, "one answer per request");
    let id = answer.summary.id.clone();
    c.set_field(id.clone(), "dien_thoai".into(), Some(text("0987 111 222"))).await.unwrap();
    let extra = write_file(dir.path(), "ban-sao.png", 2_000, 7);
    c.attach_file(id.clone(), "tep_de_nghi".into(), extra.to_string_lossy().into(), "ban-sao.png".into())
        .await
        .unwrap();
    let item = c.submit_draft(id.clone()).await.unwrap();
    let offline = c.sync_outbox().await.unwrap();
    assert_eq!((offline.sent, offline.pending), (0, 1));

    // Back online; the first attempt meets a 502 and is retried with the same key (a reply
    // lost after the server applied it is the kill test's case).
    flaky.online.store(true, Ordering::SeqCst);
    flaky.inject("/supplement", 502, &[]);
    let report = c.sync_now().await.unwrap();
    assert_eq!((report.sent, report.pending), (0, 1));
    let report = c.sync_now().await.unwrap();
    assert_eq!(report.sent, 1, "{:?}", c.outbox().await.unwrap());
    let sent = c.outbox().await.unwrap().into_iter().find(|i| i.id == item.id).unwrap();
    assert_eq!(sent.state, OutboxState::Sent);
    assert_eq!(sent.dossier_id.as_deref(), Some(dossier_id.as_str()));
    let supplement_posts = flaky.requests().iter().filter(|r| r.1.ends_with("/supplement") && r.3 == 200).count();
    assert_eq!(supplement_posts, 1);

    let token = server.login_token(&phone, PASSWORD).await;
    let (_, d) = server.call("GET", &format!("/api/v1/dossiers/{dossier_id}"), Some(&token), None).await;
    assert_ne!(d["status"], "supplement_requested");
    assert_eq!(d["values"]["dien_thoai"], "0987 111 222");
    assert_eq!(d["values"]["tep_de_nghi"].as_array().unwrap().len(), 2, "{d}");
    let answers = d["timeline"].as_array().unwrap().iter().filter(|e| e["action"] == "answer_supplement").count();
    assert_eq!(answers, 1);
    let note = d["timeline"].as_array().unwrap().iter().find(|e| e["action"] == "answer_supplement").unwrap();
    assert_eq!(note["note"], "Đã sửa số điện thoại");
    assert_eq!(c.dossier(dossier_id.clone()).await.unwrap().supplement_request, None);
}

#[tokio::test]
async fn an_answer_the_officer_no_longer_waits_for_parks_as_a_conflict() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = citizen(&server, &dir.path().join("store")).await;
    let draft = ready_draft(&c, dir.path(), &[(1_000, 3)]).await;
    c.submit_draft(draft.summary.id.clone()).await.unwrap();
    c.sync_outbox().await.unwrap();
    let dossier_id = c.draft(draft.summary.id.clone()).await.unwrap().summary.dossier_id.unwrap();
    let officer = server.officer("0987654332").await;
    officer_acts(&server, &officer, &dossier_id, "receive", "Đã nhận").await;
    officer_acts(&server, &officer, &dossier_id, "request_supplement", "Thiếu bản sao").await;
    let answer = c.start_supplement_answer(dossier_id.clone(), None).await.unwrap();
    // The dossier moves on before the answer is sent (the officer rejects it).
    officer_acts(&server, &officer, &dossier_id, "reject", "Hồ sơ không hợp lệ").await;
    c.submit_draft(answer.summary.id.clone()).await.unwrap();
    let report = c.sync_outbox().await.unwrap();
    assert_eq!(report.parked, 1);
    let parked = c.outbox().await.unwrap().into_iter().find(|i| i.draft_id == answer.summary.id).unwrap();
    assert_eq!(parked.park_reason, Some(ParkReason::Conflict));
    c.cancel_outbox_item(parked.id).await.unwrap();
    assert_eq!(c.draft(answer.summary.id.clone()).await.unwrap().summary.state, DraftState::Editing);
}
