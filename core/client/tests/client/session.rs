//! The session: sign-in, refresh on expiry and on 401 (once, then "signed out"), token
//! stores, and a logout that leaves no personal data on the device.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use motcua_client::*;

use crate::helpers::*;

#[tokio::test]
async fn expired_tokens_refresh_once_and_a_dead_session_signs_out() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let tokens = Arc::new(MemoryTokenStore::new());
    let transport = ReqwestTransport::shared(Duration::from_secs(10)).unwrap();
    let c = client_with(&server.base_url, dir.path(), tokens.clone(), transport).await;
    let recorder = Arc::new(Recorder::default());
    c.set_listener(recorder.clone());
    assert!(!c.is_signed_in());
    assert!(matches!(c.refresh_dossiers().await, Err(ClientError::SignedOut { .. })));
    let user = sign_up(&server, &c).await;
    assert_eq!(user.role, "citizen");
    assert_eq!(c.current_user().await.unwrap(), Some(user));

    // An access token past its expiry is refreshed before use (and the refresh token rotates).
    let mut t = tokens.load().unwrap();
    t.access_expires_at_ms = 0;
    tokens.save(t.clone());
    assert!(c.refresh_dossiers().await.unwrap().is_empty());
    let refreshed = tokens.load().unwrap();
    assert_ne!(refreshed.refresh_token, t.refresh_token);
    assert!(refreshed.access_expires_at_ms > t.access_expires_at_ms);

    // A token the server refuses (401) is refreshed once and the call retried.
    let mut bad = refreshed.clone();
    bad.access_token = "garbage".into();
    tokens.save(bad);
    assert!(c.refresh_notifications().await.unwrap().is_empty());

    // A refused refresh: typed "signed out", tokens gone, the listener told.
    let mut dead = tokens.load().unwrap();
    dead.access_expires_at_ms = 0;
    dead.refresh_token = "revoked".into();
    tokens.save(dead);
    assert!(matches!(c.refresh_dossiers().await, Err(ClientError::SignedOut { .. })));
    assert!(tokens.load().is_none());
    assert_eq!(recorder.signed_out.load(Ordering::Relaxed), 1);
    assert!(matches!(
        c.login("000000000000".into(), "wrong-password".into()).await,
        Err(ClientError::WrongCredentials { .. })
    ));
}

#[tokio::test]
async fn logout_wipes_every_personal_datum_from_the_device() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = citizen(&server, dir.path()).await;
    let sent = ready_draft(&c, dir.path(), &[(4_000, 21)]).await;
    c.submit_draft(sent.summary.id.clone()).await.unwrap();
    assert_eq!(c.sync_outbox().await.unwrap().sent, 1);
    let queued = ready_draft(&c, dir.path(), &[(4_000, 22)]).await;
    c.submit_draft(queued.summary.id.clone()).await.unwrap();
    ready_draft(&c, dir.path(), &[(4_000, 23)]).await;
    c.refresh_dossiers().await.unwrap();
    assert!(std::fs::read_dir(dir.path().join("files")).unwrap().count() >= 3);

    c.logout().await.unwrap();
    assert!(!c.is_signed_in());
    assert_eq!(c.current_user().await.unwrap(), None);
    assert!(c.list_drafts().await.unwrap().is_empty());
    assert!(c.outbox().await.unwrap().is_empty());
    assert!(c.dossiers().await.unwrap().is_empty());
    assert!(c.notifications().await.unwrap().is_empty());
    assert_eq!(std::fs::read_dir(dir.path().join("files")).unwrap().count(), 0);
    // The catalogue is not personal: it stays.
    assert!(!c.search_procedures("khai sinh".into(), None, 0).await.unwrap().is_empty());
    assert!(matches!(c.refresh_dossiers().await, Err(ClientError::SignedOut { .. })));
}

#[tokio::test]
async fn dossier_status_changes_reach_the_listener_and_the_inbox() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = citizen(&server, dir.path()).await;
    let recorder = Arc::new(Recorder::default());
    c.set_listener(recorder.clone());
    let draft = ready_draft(&c, dir.path(), &[(2_000, 31)]).await;
    c.submit_draft(draft.summary.id.clone()).await.unwrap();
    c.sync_outbox().await.unwrap();
    let dossier_id = c.outbox().await.unwrap()[0].dossier_id.clone().unwrap();

    let officer = server.officer("0987654321").await;
    let (status, body) = server
        .call(
            "POST",
            &format!("/api/v1/dossiers/{dossier_id}/transitions"),
            Some(&officer),
            Some(serde_json::json!({"action": "receive"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let list = c.refresh_dossiers().await.unwrap();
    assert_eq!(list[0].status, "received");
    assert_eq!(list[0].status_label, "Đã tiếp nhận");
    let changes = recorder.changes.lock().unwrap().clone();
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (changes[0].from_status.as_ref().map(DossierStatus::as_str), changes[0].to_status.as_str()),
        (Some("submitted"), "received")
    );
    let detail = c.dossier(dossier_id.clone()).await.unwrap();
    assert_eq!(detail.timeline.last().unwrap().to_status, "received");

    let inbox = c.refresh_notifications().await.unwrap();
    let unread = inbox.iter().find(|n| !n.read).expect("a notification of the change");
    c.mark_notification_read(unread.id.clone()).await.unwrap();
    assert!(c.notifications().await.unwrap().iter().find(|n| n.id == unread.id).unwrap().read);
}

#[test]
fn token_stores_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = StoredTokens {
        access_token: "a".into(),
        refresh_token: "r".into(),
        access_expires_at_ms: 1,
        refresh_expires_at_ms: 2,
    };
    let stores: [Box<dyn TokenStore>; 2] =
        [Box::new(MemoryTokenStore::new()), Box::new(FileTokenStore::new(dir.path().join("t.json")))];
    for store in stores {
        assert_eq!(store.load(), None);
        store.save(tokens.clone());
        assert_eq!(store.load(), Some(tokens.clone()));
        store.clear();
        assert_eq!(store.load(), None);
    }
}

/// Registration asks for the code sent to the phone: a wrong code is a field error on
/// `code`, the right one signs in; a number that already has an account gets the same
/// kind of answer (and its owner a notice, not a code).
#[tokio::test]
async fn registration_is_finished_with_the_code_sent_to_the_phone() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = client(&server, dir.path()).await;
    let (cid, phone) = identity();
    let pending = c.register(cid.clone(), phone.clone(), "Trần Thị Hoa".into(), PASSWORD.into()).await.unwrap();
    assert!(pending.expires_in_secs > 0);
    assert!(!c.is_signed_in(), "no account before the phone is verified");
    let code = server.code_for(&phone);
    let wrong = if code == "111111" { "222222" } else { "111111" };
    match c.verify_phone(pending.verification_id.clone(), wrong.into()).await {
        Err(ClientError::Validation { fields, .. }) => assert_eq!(fields[0].path, "code", "{fields:?}"),
        other => panic!("a wrong code is a field error: {other:?}"),
    }
    let user = c.verify_phone(pending.verification_id, code).await.unwrap();
    assert_eq!(user.phone, phone);
    assert!(c.is_signed_in());
    // The same number again: an answer of the same kind, no error that tells.
    let other = client(&server, tempfile::tempdir().unwrap().path()).await;
    let again = other.register("079303001234".into(), phone.clone(), "Kẻ Mạo Danh".into(), PASSWORD.into()).await;
    assert!(again.is_ok_and(|p| p.expires_in_secs > 0 && !p.verification_id.is_empty()));
    let notice = std::fs::read_to_string(server.sms_dir.join(format!("{phone}.txt"))).unwrap();
    assert!(!notice.split(|ch: char| !ch.is_ascii_digit()).any(|w| w.len() == 6), "a notice, no code: {notice}");
}
