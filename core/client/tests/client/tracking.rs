//! Public tracking: anyone holding the receipt (code and verifier) follows a dossier
//! without an account; a wrong verifier is not found; the labels are in the app's language.

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
