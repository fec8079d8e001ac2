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

/// The catalogue is fetched in the app's language, each text once; opened in another
/// language, the client shows what it has until its next sync fetches the whole catalogue
/// again, and the form view (of an existing draft too) then speaks the new language.
/// Search (diacritics-free, on the Vietnamese names and aliases) and offline validation
/// work the same in both.
#[tokio::test]
async fn a_language_change_fetches_the_catalogue_again_and_the_form_follows() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let open = |language: &str| {
        let mut config = ClientConfig::new(server.base_url.clone(), dir.path().to_string_lossy().into_owned());
        config.language = language.into();
        Client::open(config, Arc::new(MemoryTokenStore::new()))
    };
    let (_, full) = server.call("GET", &format!("/api/v1/procedures/{PROCEDURE}"), None, None).await;
    let label = |key: &str, lang: &str| -> String {
        let field = full["form"]["fields"].as_array().unwrap().iter().find(|f| f["key"] == key).unwrap();
        field["label"][lang].as_str().unwrap().to_owned()
    };
    let (vi_label, en_label) = (label("ho_ten", "vi"), label("ho_ten", "en"));
    assert_ne!(vi_label, en_label);
    let field = |view: &FormView, k: &str| view.fields.iter().find(|f| f.key == k).cloned().unwrap();

    let c = open("vi").await.unwrap();
    let first = c.sync_catalogue().await.unwrap();
    assert_eq!(first.changed, 53);
    let detail = c.procedure(PROCEDURE.into()).await.unwrap();
    assert!(
        !detail.procedure_json.contains("\"en\":") && !detail.procedure_json.contains(&en_label),
        "Vietnamese only"
    );
    assert!(detail.form_json.contains(&vi_label));
    let id = c.create_draft(PROCEDURE.into()).await.unwrap().summary.id;
    c.set_field(id.clone(), "ho_ten".into(), Some(text("A"))).await.unwrap();
    assert_eq!(field(&c.form_view(id.clone()).await.unwrap(), "ho_ten").label, vi_label);
    let issues_vi: Vec<(String, String)> =
        c.validate_draft(id.clone()).await.unwrap().into_iter().map(|i| (i.path, i.code)).collect();
    assert!(issues_vi.contains(&("ho_ten".into(), "too_short".into())), "{issues_vi:?}");
    c.sync_catalogue().await.unwrap();
    assert!(c.sync_catalogue().await.unwrap().not_modified);
    c.close().await;

    // The app now speaks English: until the next sync, what the store has.
    let c = open("en").await.unwrap();
    assert_eq!(field(&c.form_view(id.clone()).await.unwrap(), "ho_ten").label, vi_label);
    let again = c.sync_catalogue().await.unwrap();
    assert_eq!((again.changed, again.not_modified, again.version), (53, false, first.version), "everything again");
    let view = c.form_view(id.clone()).await.unwrap();
    assert_eq!(field(&view, "ho_ten").label, en_label, "the existing draft follows");
    assert_eq!(field(&view, "ho_ten").value, Some(text("A")), "its values stay");
    let detail = c.procedure(PROCEDURE.into()).await.unwrap();
    assert!(detail.form_json.contains(&en_label) && !detail.form_json.contains(&vi_label));
    let fresh = c.create_draft(PROCEDURE.into()).await.unwrap().summary.id;
    assert_eq!(field(&c.form_view(fresh).await.unwrap(), "ho_ten").label, en_label);
    // The same rules offline, and search on the Vietnamese names without diacritics.
    let issues_en: Vec<(String, String)> =
        c.validate_draft(id.clone()).await.unwrap().into_iter().map(|i| (i.path, i.code)).collect();
    assert_eq!(issues_en, issues_vi);
    let hits = c.search_procedures("dang ky khai sinh".into(), None, 5).await.unwrap();
    assert_eq!(hits[0].code, "1.001193");
    assert_eq!(hits[0].name, "Đăng ký khai sinh");
    assert!(!hits[0].name_en.is_empty());
    for q in ["so do", "giấy phép", "ho kinh doanh"] {
        let (_, page) =
            server.call("GET", &format!("/api/v1/procedures?per_page=100&q={}", urlencode(q)), None, None).await;
        let want: Vec<String> =
            page["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap().to_owned()).collect();
        let got: Vec<String> =
            c.search_procedures(q.into(), None, 0).await.unwrap().into_iter().map(|p| p.code).collect();
        assert_eq!(got, want, "query {q:?}");
    }
    // ETags are per language: the English catalogue settles to 304 too.
    assert_eq!(c.sync_catalogue().await.unwrap().changed, 0);
    assert!(c.sync_catalogue().await.unwrap().not_modified);
    c.close().await;

    // And back.
    let c = open("vi").await.unwrap();
    assert_eq!(c.sync_catalogue().await.unwrap().changed, 53);
    assert_eq!(field(&c.form_view(id).await.unwrap(), "ho_ten").label, vi_label);
    c.close().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
