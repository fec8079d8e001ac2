//! Public tracking: anyone holding the receipt (code and verifier) follows a dossier
//! without an account; a wrong verifier is not found; the labels are in the app's language.
//! The applicant withdraws a dossier, rates a finished one, and downloads its result document.

use std::sync::Arc;
use std::time::Duration;

use motcua_client::*;

use crate::helpers::*;

#[tokio::test]
async fn a_dossier_is_tracked_by_code_and_verifier_without_an_account() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = citizen(&server, dir.path()).await;
    let draft = ready_draft(&c, dir.path(), &[(2_000, 51)]).await;
    c.submit_draft(draft.summary.id.clone()).await.unwrap();
    assert_eq!(c.sync_now().await.unwrap().sent, 1);
    let dossier_id = c.outbox().await.unwrap()[0].dossier_id.clone().unwrap();
    let mine = c.dossier(dossier_id.clone()).await.unwrap();
    let verifier = mine.tracking_verifier.clone().expect("the applicant sees the receipt's verifier");

    // Another phone, nobody signed in, speaking English.
    let other = tempfile::tempdir().unwrap();
    let mut config = ClientConfig::new(&server.base_url, other.path().to_string_lossy());
    config.language = "en".into();
    let transport = ReqwestTransport::shared(Duration::from_secs(10)).unwrap();
    let anyone = Client::open_with_transport(config, Arc::new(MemoryTokenStore::new()), transport).await.unwrap();
    assert!(!anyone.is_signed_in());
    let code = mine.item.code.clone();
    let seen = anyone.track_dossier(format!(" {} ", code.to_lowercase()), verifier.clone()).await.unwrap();
    assert_eq!((seen.code.as_str(), seen.status.as_str()), (code.as_str(), "submitted"));
    assert_eq!(seen.procedure_name, mine.item.procedure_name);
    assert_eq!(seen.submitted_at_ms, mine.item.submitted_at_ms);
    assert!(seen.status_label.is_ascii() && !seen.status_label.is_empty(), "{}", seen.status_label);
    assert_eq!(seen.steps.last().map(|s| s.status.as_str()), Some("submitted"));

    let officer = server.officer("0987654322").await;
    let (status, body) = server
        .call(
            "POST",
            &format!("/api/v1/dossiers/{dossier_id}/transitions"),
            Some(&officer),
            Some(serde_json::json!({"action": "receive"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let seen = anyone.track_dossier(code.clone(), verifier.clone()).await.unwrap();
    assert_eq!(seen.status, "received");
    assert!(seen.received_at_ms.is_some() && seen.due_date.is_some(), "{seen:?}");
    assert_eq!(seen.steps.last().map(|s| s.status.as_str()), Some("received"));
    // The citizen's own client speaks Vietnamese.
    assert_eq!(c.track_dossier(code.clone(), verifier.clone()).await.unwrap().status_label, "Đã tiếp nhận");

    let wrong = if verifier == "0000" { "1111" } else { "0000" };
    assert!(matches!(anyone.track_dossier(code.clone(), wrong.into()).await, Err(ClientError::NotFound { .. })));
    assert!(matches!(
        anyone.track_dossier(code.clone(), "  ".into()).await,
        Err(ClientError::Invalid { reason, .. }) if reason == "verifier is empty"
    ));
    // Odd characters travel encoded, and are simply not found.
    assert!(matches!(anyone.track_dossier("A/B?C#D".into(), verifier).await, Err(ClientError::NotFound { .. })));
}

async fn officer_acts(server: &TestServer, officer: &str, dossier_id: &str, action: &str) {
    let (status, body) = server
        .call(
            "POST",
            &format!("/api/v1/dossiers/{dossier_id}/transitions"),
            Some(officer),
            Some(serde_json::json!({"action": action, "note": "Kết quả đã có"})),
        )
        .await;
    assert_eq!(status, 200, "{action}: {body}");
}

#[tokio::test]
async fn the_citizen_withdraws_a_dossier_and_rates_a_finished_one() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = citizen(&server, dir.path()).await;
    let recorder = Arc::new(Recorder::default());
    c.set_listener(recorder.clone());
    for seed in [61, 62] {
        let draft = ready_draft(&c, dir.path(), &[(2_000, seed)]).await;
        c.submit_draft(draft.summary.id.clone()).await.unwrap();
    }
    assert_eq!(c.sync_now().await.unwrap().sent, 2);
    let ids: Vec<String> = c.outbox().await.unwrap().into_iter().filter_map(|o| o.dossier_id).collect();
    let (withdrawn, finished) = (&ids[0], &ids[1]);

    let detail = c.withdraw_dossier(withdrawn.clone(), Some("  Nộp nhầm thủ tục ".into())).await.unwrap();
    assert_eq!(detail.item.status, "withdrawn");
    assert_eq!(detail.timeline.last().unwrap().note.as_deref(), Some("Nộp nhầm thủ tục"));
    assert_eq!(c.dossiers().await.unwrap().iter().find(|d| &d.id == withdrawn).unwrap().status, "withdrawn");
    let changes = recorder.changes.lock().unwrap().clone();
    assert_eq!(changes.last().map(|c| c.to_status.as_str()), Some("withdrawn"));
    // The inbox speaks the app's language, titles included.
    let code = detail.item.code.clone();
    let vi = c.refresh_notifications().await.unwrap();
    assert!(vi.iter().any(|n| n.title == format!("Hồ sơ {code}: Đã rút hồ sơ")), "{vi:?}");
    let en_dir = tempfile::tempdir().unwrap();
    let mut config = ClientConfig::new(&server.base_url, en_dir.path().to_string_lossy());
    config.language = "en".into();
    let transport = ReqwestTransport::shared(Duration::from_secs(10)).unwrap();
    let en = Client::open_with_transport(config, Arc::new(MemoryTokenStore::new()), transport).await.unwrap();
    en.login(c.current_user().await.unwrap().unwrap().phone, PASSWORD.into()).await.unwrap();
    let titles: Vec<String> = en.refresh_notifications().await.unwrap().into_iter().map(|n| n.title).collect();
    assert!(titles.contains(&format!("Dossier {code}: Withdrawn")), "{titles:?}");
    assert!(titles.iter().all(|t| t.is_ascii()), "{titles:?}");
    assert_eq!(en.notifications().await.unwrap().len(), titles.len());
    assert!(en.notifications().await.unwrap().iter().all(|n| n.title.is_ascii()));
    let again = c.withdraw_dossier(withdrawn.clone(), None).await;
    assert!(matches!(&again, Err(ClientError::Conflict { message, .. }) if !message.is_empty()), "{again:?}");

    let early = c.rate_dossier(finished.clone(), 5, None).await;
    assert!(matches!(&early, Err(ClientError::Conflict { reason, .. }) if reason == "not_returned_yet"), "{early:?}");
    let officer = server.officer("0987654323").await;
    for action in ["receive", "start_processing", "approve", "return_result"] {
        officer_acts(&server, &officer, finished, action).await;
    }
    let out_of_range = c.rate_dossier(finished.clone(), 9, None).await;
    assert!(
        matches!(&out_of_range, Err(ClientError::Validation { fields, .. }) if fields[0].path == "score"),
        "{out_of_range:?}"
    );
    let rated = c.rate_dossier(finished.clone(), 4, Some("Nhanh, chu đáo".into())).await.unwrap().expect("sent now");
    assert_eq!((rated.rating_score, rated.rating_comment.as_deref()), (Some(4), Some("Nhanh, chu đáo")));
    assert_eq!(rated.item.status, "result_returned");
    let twice = c.rate_dossier(finished.clone(), 5, None).await;
    assert!(matches!(&twice, Err(ClientError::Conflict { reason, .. }) if reason == "already_rated"), "{twice:?}");
}

#[tokio::test]
async fn a_rating_given_offline_is_queued_and_sent_once_when_the_network_is_back() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let flaky = Flaky::new();
    let c = client_with(&server.base_url, dir.path(), Arc::new(MemoryTokenStore::new()), flaky.clone()).await;
    sign_up(&server, &c).await;
    c.sync_catalogue().await.unwrap();
    let draft = ready_draft(&c, dir.path(), &[(2_000, 71)]).await;
    c.submit_draft(draft.summary.id.clone()).await.unwrap();
    assert_eq!(c.sync_now().await.unwrap().sent, 1);
    let id = c.outbox().await.unwrap()[0].dossier_id.clone().unwrap();
    let officer = server.officer("0987654324").await;
    for action in ["receive", "start_processing", "approve", "return_result"] {
        officer_acts(&server, &officer, &id, action).await;
    }

    flaky.online.store(false, std::sync::atomic::Ordering::SeqCst);
    // Checked on the phone, offline too.
    let bad = c.rate_dossier(id.clone(), 0, Some("x".repeat(1_001))).await;
    match bad {
        Err(ClientError::Validation { fields, .. }) => {
            assert_eq!(fields.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["score", "comment"])
        }
        other => panic!("validation expected, got {other:?}"),
    }
    assert_eq!(c.rate_dossier(id.clone(), 2, None).await.unwrap(), None, "queued");
    // A second thought replaces the queued rating.
    assert_eq!(c.rate_dossier(id.clone(), 5, Some("Rất tốt".into())).await.unwrap(), None);
    assert!(dir.path().join("pending_ratings.json").exists());
    assert_eq!(c.sync_outbox().await.unwrap().sent, 0);
    assert!(dir.path().join("pending_ratings.json").exists(), "kept while offline");

    flaky.online.store(true, std::sync::atomic::Ordering::SeqCst);
    c.sync_now().await.unwrap();
    assert!(!dir.path().join("pending_ratings.json").exists());
    let detail = c.dossier(id.clone()).await.unwrap();
    assert_eq!((detail.rating_score, detail.rating_comment.as_deref()), (Some(5), Some("Rất tốt")));
    let posts = flaky.requests().iter().filter(|(m, u, _, s)| m == "POST" && u.ends_with("/rating") && *s != 0).count();
    assert_eq!(posts, 1, "sent once");
    c.sync_now().await.unwrap();
    let posts = flaky.requests().iter().filter(|(m, u, _, s)| m == "POST" && u.ends_with("/rating") && *s != 0).count();
    assert_eq!(posts, 1, "not sent again");

    // Queued ratings are personal: a logout wipes them.
    flaky.online.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(c.rate_dossier(id.clone(), 3, None).await.unwrap(), None);
    c.logout().await.unwrap();
    assert!(!dir.path().join("pending_ratings.json").exists());
}

#[tokio::test]
async fn the_citizen_downloads_the_result_document_once_it_is_returned() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = citizen(&server, dir.path()).await;
    let draft = ready_draft(&c, dir.path(), &[(2_000, 81)]).await;
    c.submit_draft(draft.summary.id.clone()).await.unwrap();
    assert_eq!(c.sync_now().await.unwrap().sent, 1);
    let id = c.outbox().await.unwrap()[0].dossier_id.clone().unwrap();
    let none = c.download_result(id.clone()).await;
    assert!(matches!(&none, Err(ClientError::NotFound { .. })), "nothing attached yet: {none:?}");
    let officer = server.officer("0987654325").await;
    for action in ["receive", "start_processing", "approve"] {
        officer_acts(&server, &officer, &id, action).await;
    }
    // The officer uploads the signed decision and attaches it.
    let pdf = b"%PDF-1.7\n% Giay chung nhan\n%%EOF\n".to_vec();
    let mut upload = request(
        "POST",
        &format!("{}/api/v1/attachments?name=Gi%E1%BA%A5y%20ch%E1%BB%A9ng%20nh%E1%BA%ADn.pdf", server.base_url),
        Some(&officer),
        None,
    );
    upload.headers.push(HttpHeader { name: "Content-Type".into(), value: "application/octet-stream".into() });
    upload.body = pdf.clone();
    let stored = ReqwestTransport::new(Duration::from_secs(10)).unwrap().send(upload).await.unwrap();
    assert_eq!(stored.status, 201);
    let attachment: serde_json::Value = serde_json::from_slice(&stored.body).unwrap();
    let (status, body) = server
        .call(
            "POST",
            &format!("/api/v1/dossiers/{id}/result"),
            Some(&officer),
            Some(serde_json::json!({"attachment_id": attachment["id"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let early = c.download_result(id.clone()).await;
    assert!(matches!(&early, Err(ClientError::Conflict { reason, .. }) if reason == "not_returned_yet"), "{early:?}");
    officer_acts(&server, &officer, &id, "return_result").await;
    let file = c.download_result(format!(" {id} ")).await.unwrap();
    assert_eq!(file.file_name, "Giấy chứng nhận.pdf");
    assert_eq!(file.content_type, "application/pdf");
    assert_eq!(file.bytes, pdf);
    let detail = c.dossier(id.clone()).await.unwrap();
    assert!(
        detail.timeline.iter().any(|t| t.action == "attach_result" && t.note.as_deref() == Some("Giấy chứng nhận.pdf"))
    );
    assert!(matches!(c.download_result(String::new()).await, Err(ClientError::Invalid { .. })));
}
