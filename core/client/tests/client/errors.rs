//! Errors the app can act on: wrong credentials apart from throttling (with its wait),
//! invalid input with its reason, a missing file with its path, `Closed` after `close`,
//! one client per data directory, `open` refusing a bad URL or language, a message in the
//! app's language on every error; and "the network is back" (`sync_now`).

use std::sync::Arc;
use std::time::Duration;

use motcua_client::*;

use crate::helpers::*;

async fn open(base_url: &str, dir: &std::path::Path, language: &str) -> Result<Arc<Client>, ClientError> {
    let mut config = ClientConfig::new(base_url, dir.to_string_lossy());
    config.language = language.into();
    let transport = ReqwestTransport::shared(Duration::from_secs(10)).unwrap();
    Client::open_with_transport(config, Arc::new(MemoryTokenStore::new()), transport).await
}

#[tokio::test]
async fn a_wrong_password_and_a_throttled_login_are_told_apart() {
    let server = TestServer::start_with(&[("MOTCUA_LOGIN_FREE_FAILURES", "2")]).await;
    let dir = tempfile::tempdir().unwrap();
    let c = citizen(&server, dir.path()).await;
    let phone = c.current_user().await.unwrap().unwrap().phone;
    let wrong = c.login(phone.clone(), "sai-mat-khau".into()).await.unwrap_err();
    match &wrong {
        ClientError::WrongCredentials { message } => assert!(message.contains("không đúng"), "{message}"),
        other => panic!("wrong credentials expected, got {other:?}"),
    }
    let mut throttled = None;
    for _ in 0..10 {
        match c.login(phone.clone(), "sai-mat-khau".into()).await.unwrap_err() {
            ClientError::WrongCredentials { .. } => continue,
            e => {
                throttled = Some(e);
                break;
            }
        }
    }
    match throttled {
        Some(ClientError::Throttled { retry_after_secs, message }) => {
            assert!(retry_after_secs >= 1, "{retry_after_secs}");
            assert!(!message.is_empty());
        }
        other => panic!("throttled expected, got {other:?}"),
    }
    // English when the app speaks English: the server's sentence, and ours.
    let en_dir = tempfile::tempdir().unwrap();
    let en = open(&server.base_url, en_dir.path(), "en").await.unwrap();
    match en.login("000000000001".into(), "whatever-123".into()).await.unwrap_err() {
        ClientError::WrongCredentials { message } | ClientError::Throttled { message, .. } => {
            assert!(message.is_ascii() && !message.is_empty(), "{message}")
        }
        other => panic!("wrong credentials expected, got {other:?}"),
    }
    match en.draft("nope".into()).await.unwrap_err() {
        ClientError::NotFound { message } => assert_eq!(message, "Not found."),
        other => panic!("not found expected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_file_is_named_and_a_closed_client_says_so() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = citizen(&server, dir.path()).await;
    let draft = c.create_draft(PROCEDURE.into()).await.unwrap();
    let missing = dir.path().join("khong-co.pdf");
    let err = c
        .attach_file(draft.summary.id.clone(), "tep_de_nghi".into(), missing.to_string_lossy().into(), "a.pdf".into())
        .await
        .unwrap_err();
    match err {
        ClientError::FileNotFound { path, message } => {
            assert_eq!(path, missing.to_string_lossy());
            assert!(!message.is_empty());
        }
        other => panic!("file not found expected, got {other:?}"),
    }
    let empty_name = c
        .attach_file(draft.summary.id.clone(), "tep_de_nghi".into(), missing.to_string_lossy().into(), " ".into())
        .await;
    assert!(matches!(&empty_name, Err(ClientError::Invalid { reason, .. }) if reason == "file name is empty"));

    c.close().await;
    for result in [
        c.list_drafts().await.map(|_| ()),
        c.sync_outbox().await.map(|_| ()),
        c.sync_now().await.map(|_| ()),
        c.login("000000000000".into(), "x".into()).await.map(|_| ()),
        c.notification_settings().await.map(|_| ()),
    ] {
        match result {
            Err(ClientError::Closed { message }) => assert!(!message.is_empty()),
            other => panic!("closed expected, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn one_client_per_data_directory_and_open_checks_its_config() {
    let dir = tempfile::tempdir().unwrap();
    // No server needed: opening is offline.
    let url = "http://127.0.0.1:9";
    let first = open(url, dir.path(), "vi").await.unwrap();
    match open(url, dir.path(), "vi").await {
        Err(ClientError::StoreInUse { message }) => assert!(!message.is_empty()),
        other => panic!("store in use expected, got {:?}", other.map(|_| ())),
    }
    first.close().await;
    let again = open(url, dir.path(), "en-GB").await.unwrap();
    again.close().await;

    let other = tempfile::tempdir().unwrap();
    for (base_url, language, why) in [
        ("127.0.0.1:8080", "vi", "base_url must start with http:// or https://"),
        ("ftp://example.org", "vi", "base_url must start with http:// or https://"),
        ("https://", "vi", "base_url has no valid host or has a query"),
        ("https://example.org/?a=1", "vi", "base_url has no valid host or has a query"),
        ("https://exa mple.org", "vi", "base_url has no valid host or has a query"),
        ("https://example.org", "fr", "language must be \"vi\" or \"en\""),
    ] {
        match open(base_url, other.path(), language).await {
            Err(ClientError::Invalid { reason, message }) => {
                assert_eq!(reason, why, "{base_url} {language}");
                assert!(!message.is_empty());
            }
            other => panic!("invalid expected for {base_url} {language}, got {:?}", other.map(|_| ())),
        }
    }
    // A refused config takes no lock: the directory opens afterwards.
    open("https://example.org/api/", other.path(), "").await.unwrap().close().await;
}

#[tokio::test]
async fn sync_now_ignores_the_backoff_when_the_network_is_back() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let flaky = Flaky::new();
    let c = client_with(&server.base_url, dir.path(), Arc::new(MemoryTokenStore::new()), flaky.clone()).await;
    sign_up(&server, &c).await;
    c.sync_catalogue().await.unwrap();
    let draft = ready_draft(&c, dir.path(), &[(3_000, 41)]).await;
    c.submit_draft(draft.summary.id.clone()).await.unwrap();
    // The server is overloaded and asks for a minute.
    flaky.inject("/api/v1/", 503, &[("Retry-After", "60")]);
    let report = c.sync_outbox().await.unwrap();
    assert_eq!((report.sent, report.pending), (0, 1));
    assert!(report.next_retry_in_ms.is_some_and(|ms| ms > 30_000), "{report:?}");
    // The backoff still runs: an ordinary pass does not try the item yet.
    let report = c.sync_outbox().await.unwrap();
    assert_eq!((report.sent, report.pending), (0, 1));
    // The network is back: sent now.
    let report = c.sync_now().await.unwrap();
    assert_eq!((report.sent, report.pending), (1, 0), "{report:?}");
    assert_eq!(c.sync_now().await.unwrap().sent, 0);
}
