//! A field report end to end, on SQLite and PostgreSQL: a citizen's client drafts it with
//! two photos carrying GPS EXIF while the server cannot be reached, sends it once when it
//! can (the EXIF gone), it reaches the right ward, a neighbour finds it nearby and follows
//! it, an officer resolves it with an after photo, both hear of it (the reporter's phone
//! through FCM, opened once by the client), the reporter reopens it, the figures move, and
//! Open311 shows it in JSON and XML.

use motcua_client::{Client, ClientConfig, PushTarget, ReportDraftInput};
use motcua_e2e::{Emulator, Scratch, Server, eventually};
use serde_json::{Value, json};

use crate::push::{access_token, citizen_client};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(motcua_e2e::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(motcua_e2e::Backend::Postgres).await
                }
            )*
        }
    };
}

both!(a_report_filed_offline_is_resolved_reopened_and_published);

/// A real JPEG with an APP1 Exif segment naming a GPS position, as a phone's camera writes.
fn photo_with_gps(seed: u8) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(32, 24, |x, y| image::Rgb([seed, (x * 7) as u8, (y * 9) as u8]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut jpeg).encode_image(&pixels).expect("encode");
    let exif = [&b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 21.0287 "[..], &[seed]].concat();
    let len = u16::try_from(exif.len() + 2).expect("short segment");
    let segment = [&[0xFF, 0xE1][..], &len.to_be_bytes(), &exif].concat();
    [&jpeg[..2], &segment, &jpeg[2..]].concat()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn act(server: &Server, token: &str, id: &str, body: Value) -> Value {
    let (status, answer) =
        server.call("POST", &format!("/api/v1/reports/{id}/actions"), Some(token), Some(&body)).await;
    assert_eq!(status, 200, "{body}: {answer}");
    answer
}

async fn a_report_filed_offline_is_resolved_reopened_and_published(backend: motcua_e2e::Backend) {
    let scratch = Scratch::new(backend).await;
    let emulator = Emulator::start(&scratch).await;
    let server = Server::start(&scratch, &emulator, &[]).await;
    let (client, tokens) = citizen_client(&server, &scratch, "001203004567", "0912345678").await;
    let phone = "e2e-reporter-phone:APA91bReport";
    assert!(client.register_device(phone.into(), "android".into(), "1.0.0".into()).await.expect("device").sent);

    // The server cannot be reached: the same phone (store and session) drafts the report.
    let data_dir = scratch.dir.join("phone-0912345678");
    client.close().await;
    drop(client);
    let unreachable = ClientConfig::new("http://127.0.0.1:9", data_dir.to_string_lossy());
    let offline = Client::open(unreachable, tokens.clone()).await.expect("client, offline");
    let draft = offline.create_report_draft().await.expect("draft");
    let input = ReportDraftInput {
        category: "rac-thai".into(),
        description: "Rác thải đổ tràn ra lòng đường, bốc mùi.".into(),
        lat: Some(21.0287),
        lng: Some(105.8524),
        address: "Phố Đinh Tiên Hoàng".into(),
        hide_identity: true,
    };
    offline.update_report_draft(draft.id.clone(), input).await.expect("update");
    for seed in [1u8, 2] {
        let path = scratch.dir.join(format!("photo-{seed}.jpg"));
        std::fs::write(&path, photo_with_gps(seed)).expect("photo");
        let name = format!("photo-{seed}.jpg");
        offline.add_report_photo(draft.id.clone(), path.to_string_lossy().into(), name).await.expect("photo");
    }
    offline.submit_report(draft.id.clone()).await.expect("queued");
    let report = offline.sync_outbox().await.expect("sync");
    assert_eq!((report.sent, report.pending), (0, 1), "{report:?}");
    offline.close().await;
    drop(offline);

    // The network is back (the app's connectivity callback): sent once, now.
    let client = Client::open(ClientConfig::new(&server.base_url, data_dir.to_string_lossy()), tokens.clone())
        .await
        .expect("client, online");
    let report = client.sync_now().await.expect("sync");
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(client.sync_outbox().await.expect("sync again").sent, 0);
    let mine = client.refresh_my_reports().await.expect("my reports");
    assert_eq!(mine.len(), 1);
    let (id, code) = (mine[0].id.clone(), mine[0].code.clone());
    assert_eq!(mine[0].ward_code, "00070", "routed to Phường Hoàn Kiếm");
    let reporter = access_token(&tokens);
    let (status, detail) = server.call("GET", &format!("/api/v1/reports/{id}"), Some(&reporter), None).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["photos"].as_array().map(Vec::len), Some(2));
    let http = reqwest::Client::new();
    for p in detail["photos"].as_array().expect("photos") {
        let url = format!("{}{}", server.base_url, p["url"].as_str().expect("url"));
        let bytes = http.get(url).send().await.expect("photo").bytes().await.expect("bytes");
        assert!(bytes.starts_with(&[0xFF, 0xD8]) && !contains(&bytes, b"Exif") && !contains(&bytes, b"GPSLatitude"));
    }

    // A neighbour finds it nearby and follows it.
    let neighbour = server.citizen("079303001234", "0987000111").await;
    let (_, near) =
        server.call("GET", "/api/v1/reports/nearby?lat=21.0296&lng=105.8524&category=rac-thai", None, None).await;
    assert_eq!(near["items"][0]["id"], id.as_str(), "{near}");
    let followed = http
        .post(format!("{}/api/v1/reports/{id}/follow", server.base_url))
        .bearer_auth(&neighbour)
        .send()
        .await
        .expect("follow");
    assert_eq!(followed.status().as_u16(), 204);

    // An officer resolves it with an after photo.
    let officer = server.staff("officer", "0911222333").await.expect("officer");
    let (_, queue) = server.call("GET", "/api/v1/reports/queue", Some(&officer), None).await;
    assert!(queue["items"].as_array().expect("queue").iter().any(|r| r["id"] == id.as_str()), "{queue}");
    act(&server, &officer, &id, json!({"action": "start", "note": "Đã cử tổ vệ sinh."})).await;
    let after = http
        .post(format!("{}/api/v1/attachments?name=sau-xu-ly.jpg", server.base_url))
        .bearer_auth(&officer)
        .body(photo_with_gps(9))
        .send()
        .await
        .expect("upload");
    assert_eq!(after.status().as_u16(), 201);
    let after: Value = after.json().await.expect("attachment");
    let resolve = json!({"action": "resolve", "response": "Đã thu gom toàn bộ rác.", "after_photos": [after["id"]]});
    assert_eq!(act(&server, &officer, &id, resolve).await["status"], "resolved");

    // Both hear of it: the follower's inbox, and the reporter's phone through FCM, opened
    // once by the client.
    let (_, inbox) = server.call("GET", "/api/v1/notifications", Some(&neighbour), None).await;
    assert!(inbox["items"].as_array().expect("inbox").iter().any(|n| n["report_id"] == id.as_str()), "{inbox}");
    let resolved_push = async || {
        let record = emulator.received(phone).await;
        record["messages"].as_array().into_iter().flatten().any(|m| {
            m["message"]["data"]["kind"] == "report"
                && m["message"]["notification"]["title"].as_str().is_some_and(|t| t.contains("Đã xử lý xong"))
        })
    };
    eventually("the reporter's phone hears of the resolution", 30, resolved_push).await;
    let record = emulator.received(phone).await;
    let message = record["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["message"]["notification"]["title"].as_str().is_some_and(|t| t.contains("Đã xử lý xong")))
        .expect("the resolution")["message"]
        .clone();
    let data: std::collections::HashMap<String, String> =
        serde_json::from_value(message["data"].clone()).expect("data");
    let opened = client.receive_push(data.clone()).await.expect("receive").expect("shown once");
    assert_eq!(opened.target, PushTarget::Report { report_id: id.clone() });
    assert_eq!(client.receive_push(data).await.expect("again"), None);

    // The figures moved; the reporter reopens it.
    let (_, stats) = server.call("GET", "/api/v1/stats/reports", Some(&officer), None).await;
    assert_eq!(
        (stats["total"]["received"].as_i64(), stats["total"]["processed"].as_i64()),
        (Some(1), Some(1)),
        "{stats}"
    );
    let reporter = access_token(&tokens);
    let reopened = act(&server, &reporter, &id, json!({"action": "reopen", "note": "Rác lại bị đổ."})).await;
    assert_eq!(reopened["status"], "reopened");
    assert_eq!(client.refresh_my_reports().await.expect("mine")[0].status, "reopened");

    // Open311 shows it, in JSON and in XML, with nothing personal.
    let (status, o311) = server.call("GET", &format!("/open311/v2/requests/{code}.json"), None, None).await;
    assert_eq!(status, 200, "{o311}");
    assert_eq!(o311[0]["service_request_id"], code.as_str());
    assert_eq!(o311[0]["status"], "open");
    let xml = http
        .get(format!("{}/open311/v2/requests/{code}.xml", server.base_url))
        .send()
        .await
        .expect("xml")
        .text()
        .await
        .expect("text");
    assert!(xml.contains(&format!("<service_request_id>{code}</service_request_id>")), "{xml}");
    for personal in ["0912345678", "001203004567", "Nguyễn Văn An"] {
        assert!(!xml.contains(personal) && !o311.to_string().contains(personal), "{personal}");
    }
}
