//! The catalogue cache: sync by changes with ETag/304, and offline search that answers
//! exactly like the server's search.

use std::sync::Arc;
use std::time::Duration;

use motcua_client::*;

use crate::helpers::*;

#[tokio::test]
async fn sync_moves_only_changes_then_304_and_search_ranks_like_the_server() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = client(&server, dir.path()).await;
    assert_eq!(c.catalogue_version().await.unwrap(), 0);
    let first = c.sync_catalogue().await.unwrap();
    assert_eq!(first.changed, 53);
    assert!(!first.not_modified);
    assert!(first.version > 0);
    let second = c.sync_catalogue().await.unwrap();
    assert_eq!((second.changed, second.version), (0, first.version), "only changes move");
    let third = c.sync_catalogue().await.unwrap();
    assert!(third.not_modified, "the server answered 304");
    assert!(!c.fields().await.unwrap().is_empty());

    for q in
        ["khai sinh", "Đăng ký", "dang ky ket hon", "giấy phép", "ĐẤT ĐAI", "cap", "ho kinh doanh", "1.00", "", "zzz"]
    {
        let path = format!("/api/v1/procedures?per_page=100&q={}", urlencode(q));
        let (status, page) = server.call("GET", &path, None, None).await;
        assert_eq!(status, 200);
        let want: Vec<String> =
            page["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap().to_owned()).collect();
        let got: Vec<String> =
            c.search_procedures(q.into(), None, 0).await.unwrap().into_iter().map(|p| p.code).collect();
        assert_eq!(got, want, "query {q:?}");
    }
    let limited = c.search_procedures("dang ky".into(), Some("ho_tich".into()), 3).await.unwrap();
    assert!(limited.len() <= 3 && limited.iter().all(|p| p.field == "ho_tich"));
    let detail = c.procedure(PROCEDURE.into()).await.unwrap();
    assert_eq!(detail.item.code, PROCEDURE);
    assert!(detail.form_json.contains("tep_de_nghi"));
    assert!(matches!(c.procedure("nope".into()).await, Err(ClientError::NotFound { .. })));
}

#[tokio::test]
async fn the_catalogue_works_offline_after_a_restart() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = client(&server, dir.path()).await;
    c.sync_catalogue().await.unwrap();
    c.close().await;
    drop(server);
    // No server any more.
    let transport = ReqwestTransport::shared(Duration::from_secs(2)).unwrap();
    let offline = client_with("http://127.0.0.1:9", dir.path(), Arc::new(MemoryTokenStore::new()), transport).await;
    assert!(matches!(offline.sync_catalogue().await, Err(ClientError::Network { .. })));
    let hits = offline.search_procedures("khai sinh".into(), None, 5).await.unwrap();
    assert_eq!(hits[0].code, "1.001193");
    // The fee the app shows is the online one (residence registration: 10,000 not 20,000).
    let residence = offline.procedure("1.004222".into()).await.unwrap().item;
    assert_eq!((residence.fee_vnd, residence.fee_online_vnd), (20_000, 10_000));
    let birth = offline.procedure("1.001193".into()).await.unwrap().item;
    assert_eq!(birth.fee_online_vnd, birth.fee_vnd, "no online fee: the counter fee");
    // The ward list of an address field, offline too.
    let wards = offline.wards("Hà Nội".into());
    assert_eq!(wards.len(), 126);
    assert!(wards.iter().any(|w| w.code == "00070" && w.name == "Phường Hoàn Kiếm" && w.province == "Hà Nội"));
    assert!(offline.wards("Atlantis".into()).is_empty());
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
