//! Field reports on the phone: a draft made offline with two photos carrying GPS EXIF and
//! a place, checked by the shared rules, sent through the outbox once the network is back
//! (photos first, then the report), stored on the server without the EXIF, and the
//! citizen's own and followed reports cached for offline reading.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use motcua_client::*;

use crate::helpers::*;

async fn raw_get(server: &TestServer, path: &str) -> (u16, Vec<u8>) {
    let transport = ReqwestTransport::new(Duration::from_secs(10)).unwrap();
    let r = transport.send(request("GET", &format!("{}{path}", server.base_url), None, None)).await.unwrap();
    (r.status, r.body)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_report_drafted_offline_is_sent_once_online_without_its_exif() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let flaky = Flaky::new();
    let c = client_with(&server.base_url, dir.path(), Arc::new(MemoryTokenStore::new()), flaky.clone()).await;
    sign_up(&server, &c).await;
    let recorder = Arc::new(Recorder::default());
    c.set_listener(recorder.clone());

    // Offline from the start: the draft, its photos and its place stay on the phone.
    flaky.online.store(false, Ordering::SeqCst);
    let empty = c.create_report_draft().await.unwrap();
    let mut paths: Vec<String> = empty.issues.iter().map(|i| i.path.clone()).collect();
    paths.sort();
    assert_eq!(paths, vec!["category", "description", "lat", "lng", "photos"]);
    // Saigon is outside Hanoi: named by the same rule as the server's.
    let saigon = ReportDraftInput {
        category: "rac-thai".into(),
        description: "Rác thải đổ tràn lòng đường, bốc mùi.".into(),
        lat: Some(10.7769),
        lng: Some(106.7009),
        address: String::new(),
        hide_identity: false,
    };
    let outside = c.update_report_draft(empty.id.clone(), saigon).await.unwrap();
    let codes: Vec<(&str, &str)> = outside.issues.iter().map(|i| (i.path.as_str(), i.code.as_str())).collect();
    assert!(
        codes.contains(&("lat", "outside_service_area")) && codes.contains(&("lng", "outside_service_area")),
        "{codes:?}"
    );
    assert!(matches!(c.submit_report(empty.id.clone()).await, Err(ClientError::Validation { .. })));
    c.delete_report_draft(empty.id.clone()).await.unwrap();

    let draft = ready_report(&c, dir.path(), "hồ", &[(320, 1), (200, 2)]).await;
    assert_eq!(draft.photos.len(), 2);
    let item = c.submit_report(draft.id.clone()).await.unwrap();
    assert_eq!(item.state, OutboxState::Pending);
    assert_eq!(item.draft_id, draft.id);
    assert!(
        matches!(
            c.update_report_draft(
                draft.id.clone(),
                ReportDraftInput {
                    category: "tieng-on".into(),
                    description: "Đã đổi ý kiến rồi nhé.".into(),
                    lat: None,
                    lng: None,
                    address: String::new(),
                    hide_identity: false,
                }
            )
            .await,
            Err(ClientError::Conflict { .. })
        ),
        "frozen once queued"
    );
    let report = c.sync_outbox().await.unwrap();
    assert_eq!((report.sent, report.pending), (0, 1));

    // Back online: photos uploaded first, then the report, once.
    flaky.online.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(report.next_retry_in_ms.unwrap_or(0) + 20)).await;
    let report = c.sync_outbox().await.unwrap();
    assert_eq!((report.sent, report.pending, report.parked), (1, 0, 0));
    let requests = flaky.requests();
    let posts: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.0 == "POST" && r.1.ends_with("/api/v1/reports") && r.3 != 0)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(posts.len(), 1, "one report post reached the server");
    assert!(requests[..posts[0]].iter().any(|r| r.0 == "PATCH"), "photos before the report");
    let sent = c.report_draft(draft.id.clone()).await.unwrap();
    assert_eq!(sent.state, DraftState::Sent);
    assert!(sent.photos.iter().all(|p| p.uploaded));
    let item = &c.outbox().await.unwrap()[0];
    assert_eq!(item.state, OutboxState::Sent);
    assert_eq!(item.report_id, sent.report_id);
    let events = recorder.outbox.lock().unwrap().clone();
    let code = match &events.last().unwrap().stage {
        OutboxStage::ReportSent { report_id, report_code } => {
            assert_eq!(Some(report_id), sent.report_id.as_ref());
            report_code.clone()
        }
        other => panic!("last event {other:?}"),
    };
    // Another pass sends nothing again.
    assert_eq!(c.sync_outbox().await.unwrap().sent, 0);

    // The server routed it to Hoàn Kiếm and stored the photos without their EXIF.
    let report_id = sent.report_id.clone().unwrap();
    let (status, body) = raw_get(&server, &format!("/open311/v2/requests/{code}.json")).await;
    assert_eq!(status, 200);
    let o311: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(o311[0]["agency_responsible"], "UBND Phường Hoàn Kiếm");
    let mine = c.my_reports().await.unwrap();
    assert_eq!(mine.len(), 1, "cached right after sending");
    assert_eq!(
        (mine[0].id.as_str(), mine[0].status.as_str(), mine[0].ward_code.as_str()),
        (report_id.as_str(), "received", "00070")
    );
    let (status, map) = raw_get(&server, "/api/v1/public/reports?bbox=105.80,21.00,105.90,21.05").await;
    assert_eq!(status, 200);
    let map: serde_json::Value = serde_json::from_slice(&map).unwrap();
    let thumb = map["features"][0]["properties"]["thumbnail_url"].as_str().unwrap().to_owned();
    let full = thumb.trim_end_matches("?size=thumbnail").to_owned();
    let (status, bytes) = raw_get(&server, &full).await;
    assert_eq!(status, 200);
    assert!(bytes.starts_with(&[0xFF, 0xD8]) && !contains(&bytes, b"Exif") && !contains(&bytes, b"GPSLatitude"));

    // Offline again: the cached lists still read; a refresh needs the network.
    let refreshed = c.refresh_my_reports().await.unwrap();
    assert_eq!(refreshed.len(), 1);
    assert!(refreshed[0].mine && !refreshed[0].followed);
    let followed = c.follow_report(report_id.clone(), true).await.unwrap();
    assert_eq!(followed.len(), 1);
    assert!(followed[0].mine && followed[0].followed);
    flaky.online.store(false, Ordering::SeqCst);
    assert_eq!(c.followed_reports().await.unwrap().len(), 1);
    assert_eq!(c.my_reports().await.unwrap().len(), 1);
    assert!(matches!(c.refresh_followed_reports().await, Err(ClientError::Network { .. })));
    flaky.online.store(true, Ordering::SeqCst);
    assert_eq!(c.follow_report(report_id, false).await.unwrap(), vec![]);

    // Logout wipes them from the device.
    c.logout().await.unwrap();
    assert_eq!(c.my_reports().await.unwrap(), vec![]);
    assert_eq!(c.report_drafts().await.unwrap(), vec![]);
}

#[tokio::test]
async fn a_report_refused_by_the_server_comes_back_editable_with_its_errors() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = client(&server, dir.path()).await;
    sign_up(&server, &c).await;
    let draft = c.create_report_draft().await.unwrap();
    // A category the server does not know (the phone has no list of them offline).
    let input = ReportDraftInput {
        category: "khong-co".into(),
        description: "Một vấn đề không có trong danh mục.".into(),
        lat: Some(LAKE.0),
        lng: Some(LAKE.1),
        address: String::new(),
        hide_identity: false,
    };
    c.update_report_draft(draft.id.clone(), input).await.unwrap();
    let photo = photo_with_gps(dir.path(), "a.jpg", 64, 3);
    c.add_report_photo(draft.id.clone(), photo.to_string_lossy().into(), "a.jpg".into()).await.unwrap();
    c.submit_report(draft.id.clone()).await.unwrap();
    let report = c.sync_outbox().await.unwrap();
    assert_eq!((report.sent, report.parked), (0, 1));
    let back = c.report_draft(draft.id.clone()).await.unwrap();
    assert_eq!(back.state, DraftState::Editing);
    assert_eq!(back.issues[0].path, "category");
    assert_eq!(back.issues[0].code, "invalid_option");
    assert!(c.outbox().await.unwrap()[0].park_reason == Some(ParkReason::Validation));
}
