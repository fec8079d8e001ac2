//! Field reports end to end over HTTP: photos with GPS EXIF uploaded (resumably) and
//! stored without it, filing routed to the right ward, idempotent retries, the nearby
//! check, following, the ward's queue paged overdue first, resolution with evidence,
//! notifications with their push outbox rows, rating and reopening within 7 days,
//! moderation with its audit, place follows, the hourly quota, figures, the public
//! GeoJSON, and the Open311 face (read and write, JSON and XML).

use chrono::{TimeDelta, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, TestApp, expect_error, expect_json, spawn_app, spawn_app_with};
use crate::uploads::{chunk, sha};

both!(
    a_report_travels_from_photo_to_reopening,
    bad_input_names_the_field,
    the_hourly_quota_holds_under_concurrency,
    the_queue_pages_overdue_first,
    place_followers_hear_of_new_reports,
    moderation_hides_and_the_audit_keeps,
    open311_files_and_answers_in_json_and_xml,
    the_janitor_keeps_report_photos_and_thumbnails
);

/// Hoàn Kiếm lake: in the ward Hoàn Kiếm (code 00070, service point HN.00070).
pub(crate) const LAKE: (f64, f64) = (21.0287, 105.8524);

/// A real JPEG carrying an APP1 Exif segment with GPS tags (what a phone writes).
pub(crate) fn jpeg_with_gps(seed: u8) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(48, 32, |x, y| image::Rgb([(x * 5) as u8, (y * 7) as u8, seed]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 85).encode_image(&pixels).expect("encode");
    let mut tiff = b"Exif\0\0MM\0\x2a\0\0\0\x08".to_vec();
    // IFD0: one entry, the GPS IFD pointer (0x8825) -> 26.
    tiff.extend_from_slice(&[0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
    // GPS IFD: GPSLatitudeRef 'N', GPSLatitude -> 56 (three rationals), then a maker string.
    tiff.extend_from_slice(&[
        0, 2, 0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0, 0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 56, 0, 0, 0, 0,
    ]);
    for (n, d) in [(21u32, 1u32), (1, 1), (42, 1)] {
        tiff.extend_from_slice(&n.to_be_bytes());
        tiff.extend_from_slice(&d.to_be_bytes());
    }
    tiff.extend_from_slice(b"GPSLatitude Nguyen Van An");
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(tiff.len() + 2).expect("short").to_be_bytes());
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&plain[2..]);
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Uploads `bytes` with the resumable upload in two chunks; returns the attachment id.
async fn upload_resumable(app: &TestApp, token: &str, bytes: &[u8], name: &str) -> String {
    let start = app
        .post_as(token, "/api/v1/uploads", &json!({"sha256": sha(bytes), "size": bytes.len(), "file_name": name}))
        .await;
    let status = start.status().as_u16();
    let started = expect_json(start, if status == 200 { 200 } else { 201 }).await;
    if let Some(id) = started["attachment"]["id"].as_str() {
        return id.to_owned();
    }
    let id = started["upload_id"].as_str().expect("upload id").to_owned();
    let half = bytes.len() / 2;
    expect_json(chunk(app, token, &id, 0, &bytes[..half]).await, 200).await;
    let done = expect_json(chunk(app, token, &id, half, &bytes[half..]).await, 200).await;
    done["attachment"]["id"].as_str().expect("attachment after the last chunk").to_owned()
}

pub(crate) async fn file(app: &TestApp, token: &str, key: &str, body: &Value) -> reqwest::Response {
    app.request(Method::POST, "/api/v1/reports")
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("request")
}

pub(crate) fn report_body(category: &str, photos: &[String], at: (f64, f64)) -> Value {
    json!({
        "category": category,
        "description": "Rác thải đổ tràn ra lòng đường, bốc mùi.",
        "photos": photos,
        "lat": at.0,
        "lng": at.1,
        "address": "Phố Đinh Tiên Hoàng",
        "hide_identity": true,
    })
}

async fn admin(app: &TestApp) -> String {
    let out = app
        .operator(&["user", "add", "--role", "admin", "--phone", "0911000999", "--name", "Quản trị"], "quantri12345\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app.token("0911000999", "quantri12345").await
}

async fn notifications(app: &TestApp, token: &str) -> Vec<Value> {
    let list = expect_json(app.get_as(token, "/api/v1/notifications").await, 200).await;
    list["items"].as_array().expect("items").clone()
}

async fn report_pushes(app: &TestApp) -> Vec<Value> {
    let rows: Vec<(sqlx::types::Json<Value>,)> = motcua_server::on_db!(&app.state.db, read, pool => {
        sqlx::query_as("SELECT payload FROM outbox WHERE topic = 'push.report_status' ORDER BY created_at")
            .fetch_all(pool).await
    })
    .expect("outbox");
    rows.into_iter().map(|(p,)| p.0).collect()
}

async fn a_report_travels_from_photo_to_reopening(backend: Backend) {
    let app = spawn_app(backend).await;
    let reporter = app.citizen("001203004567", "0912345678").await;
    let neighbour = app.citizen("079303001234", "0987000111").await;
    let officer = app.officer("0911222333", "HN.00070").await;
    let elsewhere = app.officer("0911222444", "HN.00004").await;

    // Two photos carrying GPS EXIF: stored and served without it.
    let first = jpeg_with_gps(1);
    assert!(contains(&first, b"Exif\0\0") && contains(&first, b"GPSLatitude"));
    let photo_a = upload_resumable(&app, &reporter, &first, "anh-1.jpg").await;
    let photo_b = upload_resumable(&app, &reporter, &jpeg_with_gps(2), "anh-2.jpg").await;
    let stored =
        app.get_as(&reporter, &format!("/api/v1/attachments/{photo_a}/content")).await.bytes().await.expect("bytes");
    assert!(!contains(&stored, b"Exif") && !contains(&stored, b"GPSLatitude") && !contains(&stored, b"Nguyen"));
    assert_eq!(
        image::load_from_memory(&stored).expect("decodes").to_rgb8(),
        image::load_from_memory(&first).expect("decodes").to_rgb8()
    );
    // Announcing the same original again finds the cleaned copy: nothing to send.
    let again = app
        .post_as(
            &reporter,
            "/api/v1/uploads",
            &json!({"sha256": sha(&first), "size": first.len(), "file_name": "anh-1.jpg"}),
        )
        .await;
    assert_eq!(expect_json(again, 200).await["attachment"]["id"], photo_a.as_str());

    let body = report_body("rac-thai", &[photo_a.clone(), photo_b.clone()], LAKE);
    let filed = expect_json(file(&app, &reporter, "k-1", &body).await, 201).await;
    let id = filed["id"].as_str().expect("id").to_owned();
    let code = filed["code"].as_str().expect("code").to_owned();
    assert_eq!(filed["ward_code"], "00070");
    assert_eq!(filed["ward_name"], "Phường Hoàn Kiếm");
    assert_eq!(filed["status"], "received");
    assert_eq!(filed["photos"].as_array().map(Vec::len), Some(2));
    // A retry (the answer was lost) is the same report; the same key with another body is refused.
    let retry = expect_json(file(&app, &reporter, "k-1", &body).await, 200).await;
    assert_eq!(retry["id"], id.as_str());
    let mut other = body.clone();
    other["description"] = json!("Một nội dung khác hẳn, dài hơn mười ký tự.");
    expect_error(file(&app, &reporter, "k-1", &other).await, 409, "idempotency_conflict").await;
    let (count,): (i64,) = motcua_server::on_db!(&app.state.db, read, pool => {
        sqlx::query_as("SELECT COUNT(*) FROM reports").fetch_one(pool).await
    })
    .expect("count");
    assert_eq!(count, 1);

    // Served photos and thumbnails carry no metadata.
    let photo_url = filed["photos"][0]["url"].as_str().expect("url").to_owned();
    let served = app.get(&photo_url).await.bytes().await.expect("photo");
    assert!(served.starts_with(&[0xFF, 0xD8]) && !contains(&served, b"Exif"));
    let thumb =
        app.get(filed["photos"][0]["thumbnail_url"].as_str().expect("thumb")).await.bytes().await.expect("thumb");
    assert!(thumb.starts_with(&[0xFF, 0xD8]) && !contains(&thumb, b"Exif"));

    // The neighbour, about to report the same rubbish 100 m away, finds it and follows it.
    let near =
        expect_json(app.get("/api/v1/reports/nearby?lat=21.0296&lng=105.8524&category=rac-thai").await, 200).await;
    let items = near["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{near}");
    assert_eq!(items[0]["id"], id.as_str());
    let d = items[0]["distance_m"].as_u64().expect("distance");
    assert!((90..=110).contains(&d), "{d}");
    let other_kind =
        expect_json(app.get("/api/v1/reports/nearby?lat=21.0296&lng=105.8524&category=tieng-on").await, 200).await;
    assert_eq!(other_kind["items"], json!([]));
    let far =
        expect_json(app.get("/api/v1/reports/nearby?lat=21.0330&lng=105.8524&category=rac-thai").await, 200).await;
    assert_eq!(far["items"], json!([]), "470 m away is not nearby");
    let follow = app
        .request(Method::POST, &format!("/api/v1/reports/{id}/follow"))
        .bearer_auth(&neighbour)
        .send()
        .await
        .expect("follow");
    assert_eq!(follow.status().as_u16(), 204);
    let followed = expect_json(app.get_as(&neighbour, "/api/v1/reports/followed").await, 200).await;
    assert_eq!(followed["items"][0]["id"], id.as_str());
    // Followers do not learn who reported (the reporter hid their identity anyway).
    let seen = expect_json(app.get_as(&neighbour, &format!("/api/v1/reports/{id}")).await, 200).await;
    assert!(seen.get("reporter_name").is_none() && seen["following"] == json!(true));

    // Routed to Hoàn Kiếm: its officer has it, another ward's officer neither sees nor acts.
    let queue = expect_json(app.get_as(&officer, "/api/v1/reports/queue").await, 200).await;
    assert_eq!(queue["items"][0]["id"], id.as_str());
    let other_queue = expect_json(app.get_as(&elsewhere, "/api/v1/reports/queue").await, 200).await;
    assert_eq!(other_queue["items"], json!([]));
    let act = |token: String, body: Value| {
        let app = &app;
        let id = id.clone();
        async move { app.post_as(&token, &format!("/api/v1/reports/{id}/actions"), &body).await }
    };
    expect_error(act(elsewhere.clone(), json!({"action": "start"})).await, 404, "not_found").await;
    expect_error(act(reporter.clone(), json!({"action": "start"})).await, 403, "forbidden").await;
    expect_json(act(officer.clone(), json!({"action": "assign"})).await, 200).await;
    expect_json(act(officer.clone(), json!({"action": "start", "note": "Đã cử tổ vệ sinh."})).await, 200).await;

    // Resolving needs a response and an after photo.
    let paths = expect_error(
        act(officer.clone(), json!({"action": "resolve", "response": "Đã dọn."})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(paths, vec!["after_photos"]);
    let paths = expect_error(act(officer.clone(), json!({"action": "resolve"})).await, 422, "validation_failed").await;
    assert_eq!(paths, vec!["response"]);
    let after = upload_resumable(&app, &officer, &jpeg_with_gps(9), "sau-xu-ly.jpg").await;
    let resolved = expect_json(
        act(officer.clone(), json!({"action": "resolve", "response": "Đã thu gom toàn bộ rác, vệ sinh mặt đường.", "after_photos": [after]})).await,
        200,
    )
    .await;
    assert_eq!(resolved["status"], "resolved");
    assert!(resolved["photos"].as_array().expect("photos").iter().any(|p| p["stage"] == "after"));
    expect_error(act(officer.clone(), json!({"action": "start"})).await, 409, "invalid_transition").await;

    // Both the reporter and the follower heard of every change, with push outbox rows.
    let mine = notifications(&app, &reporter).await;
    let theirs = notifications(&app, &neighbour).await;
    assert_eq!(mine.len(), 4, "filed, assigned, started, resolved: {mine:?}");
    assert_eq!(theirs.len(), 3, "assigned, started, resolved");
    assert!(theirs.iter().all(|n| n["report_id"] == id.as_str() && n["kind"] == "report_status"));
    assert!(mine.iter().any(|n| n["title"].as_str().is_some_and(|t| t.contains(&code) && t.contains("Đã xử lý xong"))));
    let pushes = report_pushes(&app).await;
    assert_eq!(pushes.len(), 7);
    let last = pushes
        .iter()
        .find(|p| p["title"]["vi"].as_str().is_some_and(|t| t.contains("Đã xử lý xong")))
        .expect("the resolution's push");
    for field in ["user_id", "notification_id", "id", "title", "body"] {
        assert!(!last[field].is_null(), "{field}: {last}");
    }
    assert_eq!(last["kind"], "report");
    assert_eq!(last["pref"], "report_updates");
    assert_eq!(last["id"], id.as_str());
    assert!(last["title"]["vi"].as_str().is_some_and(|t| t.contains("Đã xử lý xong")));
    assert!(last["body"]["en"].as_str().is_some_and(|t| t.contains("resolved")));
    let ids: Vec<&str> = mine.iter().chain(&theirs).filter_map(|n| n["id"].as_str()).collect();
    assert!(pushes.iter().all(|p| ids.contains(&p["notification_id"].as_str().unwrap_or_default())));
    assert!(uuid::Uuid::parse_str(last["user_id"].as_str().unwrap_or_default()).is_ok());

    // The figures moved.
    let stats = expect_json(app.get("/api/v1/stats/reports").await, 200).await;
    assert_eq!(stats["total"]["received"], 1);
    assert_eq!(stats["total"]["processed"], 1);
    assert_eq!(stats["total"]["on_time"], 1);
    assert_eq!(stats["by_ward"][0]["key"], "00070");

    // The reporter says it is not fixed: reopened, and back in the queue.
    expect_error(act(neighbour.clone(), json!({"action": "reopen"})).await, 403, "forbidden").await;
    let reopened =
        expect_json(act(reporter.clone(), json!({"action": "reopen", "note": "Rác lại bị đổ."})).await, 200).await;
    assert_eq!(reopened["status"], "reopened");
    assert_eq!(notifications(&app, &neighbour).await.len(), 4);
    let queue = expect_json(app.get_as(&officer, "/api/v1/reports/queue").await, 200).await;
    assert_eq!(queue["items"][0]["id"], id.as_str());
    // Resolved again, then rated once.
    let after2 = upload_resumable(&app, &officer, &jpeg_with_gps(11), "sau-xu-ly-2.jpg").await;
    expect_json(
        act(
            officer.clone(),
            json!({"action": "resolve", "response": "Đã lắp biển cấm đổ rác.", "after_photos": [after2]}),
        )
        .await,
        200,
    )
    .await;
    for (score, code) in [(0, "too_small"), (6, "too_large")] {
        let path = format!("/api/v1/reports/{id}/rating");
        let body = expect_json(app.post_as(&reporter, &path, &json!({"score": score})).await, 422).await;
        assert_eq!(body["error"]["fields"][0]["code"], code);
    }
    let rated =
        expect_json(app.post_as(&reporter, &format!("/api/v1/reports/{id}/rating"), &json!({"score": 5})).await, 200)
            .await;
    assert_eq!(rated["rating"], 5);
    expect_error(
        app.post_as(&reporter, &format!("/api/v1/reports/{id}/rating"), &json!({"score": 4})).await,
        409,
        "report_not_rateable",
    )
    .await;
    let stats = expect_json(app.get("/api/v1/stats/reports").await, 200).await;
    assert_eq!(stats["total"]["ratings"], 1);
    assert_eq!(stats["total"]["satisfaction"], 5.0);

    // The public map and Open311 show it, with nothing personal.
    let map = app.get("/api/v1/public/reports?bbox=105.80,21.00,105.90,21.05").await;
    assert_eq!(map.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/geo+json"));
    let map_text = map.text().await.expect("text");
    for secret in ["Nguyễn Văn An", "0912345678", "001203004567", "reporter"] {
        assert!(!map_text.contains(secret), "{secret} in {map_text}");
    }
    let map: Value = serde_json::from_str(&map_text).expect("geojson");
    assert_eq!(map["type"], "FeatureCollection");
    assert_eq!(map["features"][0]["geometry"]["coordinates"], json!([LAKE.1, LAKE.0]));
    let o311 = expect_json(app.get(&format!("/open311/v2/requests/{code}.json")).await, 200).await;
    assert_eq!(o311[0]["service_request_id"], code.as_str());
    assert_eq!(o311[0]["status"], "closed");
    assert_eq!(o311[0]["agency_responsible"], "UBND Phường Hoàn Kiếm");
    let xml = app.get(&format!("/open311/v2/requests/{code}.xml")).await.text().await.expect("xml");
    assert!(xml.contains(&format!("<service_request_id>{code}</service_request_id>")), "{xml}");
    assert!(xml.starts_with("<?xml") && xml.contains("<service_requests><request>"), "{xml}");

    // After 7 days the reporter can no longer reopen it.
    app.clock.set(app.clock.now_utc() + TimeDelta::days(8));
    expect_error(act(reporter.clone(), json!({"action": "reopen"})).await, 409, "reporter_window_closed").await;
    app.stop().await;
}

async fn bad_input_names_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let photo = upload_resumable(&app, &citizen, &jpeg_with_gps(3), "a.jpg").await;
    // Saigon is outside Hanoi: both coordinates named, in Vietnamese and in English.
    let saigon = report_body("rac-thai", std::slice::from_ref(&photo), (10.7769, 106.7009));
    let body = expect_json(file(&app, &citizen, "k-x", &saigon).await, 422).await;
    let fields = body["error"]["fields"].as_array().expect("fields");
    assert_eq!(fields.iter().map(|f| f["path"].as_str().unwrap_or_default()).collect::<Vec<_>>(), vec!["lat", "lng"]);
    assert_eq!(fields[0]["code"], "outside_service_area");
    assert!(fields[0]["message"].as_str().is_some_and(|m| m.contains("Hà Nội")));
    let english = app
        .request(Method::POST, "/api/v1/reports")
        .bearer_auth(&citizen)
        .header("idempotency-key", "k-y")
        .header("accept-language", "en")
        .json(&saigon)
        .send()
        .await
        .expect("request");
    let body = expect_json(english, 422).await;
    assert!(body["error"]["fields"][0]["message"].as_str().is_some_and(|m| m.contains("outside Hanoi")));
    // Every problem at once.
    let bad = json!({"category": "khong-co", "description": "ngắn", "photos": [], "lat": 91.0, "lng": LAKE.1});
    let mut paths = expect_error(file(&app, &citizen, "k-z", &bad).await, 422, "validation_failed").await;
    paths.sort();
    assert_eq!(paths, vec!["category", "description", "lat", "photos"]);
    let six: Vec<String> = (0..6).map(|_| photo.clone()).collect();
    let paths =
        expect_error(file(&app, &citizen, "k-6", &report_body("rac-thai", &six, LAKE)).await, 422, "validation_failed")
            .await;
    assert_eq!(paths, vec!["photos"]);
    // Someone else's photo, and a PDF, are named by position.
    let other = app.citizen("079303001234", "0987000111").await;
    let foreign = upload_resumable(&app, &other, &jpeg_with_gps(4), "b.jpg").await;
    let pdf = upload_resumable(&app, &citizen, b"%PDF-1.7\n not a photo at all", "c.pdf").await;
    let paths = expect_error(
        file(&app, &citizen, "k-f", &report_body("rac-thai", &[photo.clone(), foreign, pdf], LAKE)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(paths, vec!["photos[1]", "photos[2]"]);
    // HEIC is refused with its own message, at upload.
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heicmiaf and more bytes of a photo".to_vec();
    let response = app
        .request(Method::POST, "/api/v1/attachments?name=IMG_0001.HEIC")
        .bearer_auth(&citizen)
        .header("content-type", "application/octet-stream")
        .body(heic)
        .send()
        .await
        .expect("request");
    let body = expect_json(response, 422).await;
    assert_eq!(body["error"]["fields"][0]["code"], "unsupported_image");
    assert!(body["error"]["fields"][0]["message"].as_str().is_some_and(|m| m.contains("HEIC")));
    // Without a key, and nearby without its parameters.
    let no_key =
        app.post_as(&citizen, "/api/v1/reports", &report_body("rac-thai", std::slice::from_ref(&photo), LAKE)).await;
    assert_eq!(expect_error(no_key, 422, "validation_failed").await, vec!["Idempotency-Key"]);
    let mut paths = expect_error(app.get("/api/v1/reports/nearby?lat=abc").await, 422, "validation_failed").await;
    paths.sort();
    assert_eq!(paths, vec!["category", "lat", "lng"]);
    let paths = expect_error(app.get("/api/v1/public/reports?bbox=1,2,3").await, 422, "validation_failed").await;
    assert_eq!(paths, vec!["bbox"]);
    let paths =
        expect_error(app.get("/api/v1/stats/reports?from=2026-02-01&to=2026-01-01").await, 422, "validation_failed")
            .await;
    assert_eq!(paths, vec!["from"]);
    // Two photos that differ only in their EXIF are one stored file: counted once, not refused.
    let mut twin = jpeg_with_gps(3);
    let at = twin.windows(11).position(|w| w == b"GPSLatitude").expect("a GPS tag");
    twin[at] = b'g';
    let twin = upload_resumable(&app, &citizen, &twin, "a-copy.jpg").await;
    assert_eq!(twin, photo, "the same bytes once the metadata is gone");
    let filed =
        expect_json(file(&app, &citizen, "k-twin", &report_body("rac-thai", &[photo.clone(), twin], LAKE)).await, 201)
            .await;
    assert_eq!(filed["photos"].as_array().map(Vec::len), Some(1));
    let paths = expect_error(
        file(&app, &citizen, "k-bad-id", &report_body("rac-thai", &["nope".to_owned()], LAKE)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(paths, vec!["photos[0]"]);
    app.stop().await;
}

async fn the_hourly_quota_holds_under_concurrency(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.quotas.reports_per_hour = 3).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let photo = upload_resumable(&app, &citizen, &jpeg_with_gps(5), "a.jpg").await;
    let body = report_body("rac-thai", &[photo], LAKE);
    let mut handles = Vec::new();
    for i in 0..6 {
        let url = app.url("/api/v1/reports");
        let (client, token, body) = (app.client.clone(), citizen.clone(), body.clone());
        handles.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .header("idempotency-key", format!("q-{i}"))
                .json(&body)
                .send()
                .await
                .expect("request");
            response.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.expect("join"));
    }
    statuses.sort();
    assert_eq!(statuses, vec![201, 201, 201, 429, 429, 429]);
    let (count,): (i64,) = motcua_server::on_db!(&app.state.db, read, pool => {
        sqlx::query_as("SELECT COUNT(*) FROM reports").fetch_one(pool).await
    })
    .expect("count");
    assert_eq!(count, 3);
    app.stop().await;
}

async fn the_queue_pages_overdue_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let officer = app.officer("0911222333", "HN.00070").await;
    let photo = upload_resumable(&app, &citizen, &jpeg_with_gps(6), "a.jpg").await;
    // Filed on a Monday: a tree (1 working day), rubbish (2), a pothole (5), noise (2)...
    let monday = chrono::DateTime::parse_from_rfc3339("2026-03-02T02:00:00Z").expect("time").with_timezone(&Utc);
    app.clock.set(monday);
    let mut filed = Vec::new();
    for (i, category) in ["o-ga-mat-duong", "cay-xanh", "rac-thai", "xay-dung-trai-phep", "tieng-on"].iter().enumerate()
    {
        let body = report_body(category, std::slice::from_ref(&photo), LAKE);
        let r = expect_json(file(&app, &citizen, &format!("p-{i}"), &body).await, 201).await;
        filed.push((r["id"].as_str().expect("id").to_owned(), r["due_date"].as_str().expect("due").to_owned()));
    }
    // Three working days later the tree and the rubbish and the noise are overdue.
    app.clock.set(monday + TimeDelta::days(3));
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/api/v1/reports/queue?limit=2&after={a}"),
            None => "/api/v1/reports/queue?limit=2".to_owned(),
        };
        let page = expect_json(app.get_as(&officer, &path).await, 200).await;
        for item in page["items"].as_array().expect("items") {
            seen.push((
                item["id"].as_str().expect("id").to_owned(),
                item["due_date"].as_str().expect("due").to_owned(),
                item["overdue"].as_bool().expect("overdue"),
            ));
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let dues: Vec<&str> = seen.iter().map(|s| s.1.as_str()).collect();
    let mut sorted = dues.clone();
    sorted.sort();
    assert_eq!(dues, sorted, "earliest due first");
    assert_eq!(seen.iter().filter(|s| s.2).count(), 3, "{seen:?}");
    assert!(seen[0].2 && seen[1].2 && seen[2].2 && !seen[3].2 && !seen[4].2);
    let expected_first = filed.iter().find(|(_, due)| due == "2026-03-03").expect("the tree is due on Tuesday");
    assert_eq!(seen[0].0, expected_first.0);
    expect_error(app.get_as(&officer, "/api/v1/reports/queue?after=not-a-cursor").await, 422, "validation_failed")
        .await;
    expect_error(app.get_as(&citizen, "/api/v1/reports/queue").await, 403, "forbidden").await;
    // A misrouted report moves to Ba Đình's queue; the move is in its timeline.
    let ba_dinh = app.officer("0911222555", "HN.00004").await;
    let moved = &seen[4].0;
    let path = format!("/api/v1/reports/{moved}/actions");
    let paths = expect_error(
        app.post_as(&officer, &path, &json!({"action": "move_ward", "ward_code": "99999"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(paths, vec!["ward_code"]);
    let after_move = expect_json(
        app.post_as(
            &officer,
            &path,
            &json!({"action": "move_ward", "ward_code": "00004", "note": "Thuộc địa bàn Ba Đình"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(after_move["ward_code"], "00004");
    assert_eq!(after_move["status"], "received");
    assert!(after_move["timeline"].as_array().expect("timeline").iter().any(|e| e["action"] == "move_ward"));
    let theirs = expect_json(app.get_as(&ba_dinh, "/api/v1/reports/queue").await, 200).await;
    assert_eq!(theirs["items"][0]["id"], moved.as_str());
    let ours = expect_json(app.get_as(&officer, "/api/v1/reports/queue?limit=100").await, 200).await;
    assert_eq!(ours["items"].as_array().map(Vec::len), Some(4));
    expect_error(app.post_as(&officer, &path, &json!({"action": "start"})).await, 404, "not_found").await;
    // The public map pages by key too: every report once.
    let mut public = std::collections::HashSet::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            Some(n) => {
                format!("/api/v1/public/reports?bbox=105.80,21.00,105.90,21.05&status=received&limit=2&after={n}")
            }
            None => "/api/v1/public/reports?bbox=105.80,21.00,105.90,21.05&status=received&limit=2".to_owned(),
        };
        let page: Value = app.get(&path).await.json().await.expect("geojson");
        for f in page["features"].as_array().expect("features") {
            assert!(public.insert(f["properties"]["id"].as_str().expect("id").to_owned()));
        }
        match page["next"].as_str() {
            Some(n) => next = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(public.len(), 5);
    let none: Value = app
        .get("/api/v1/public/reports?bbox=105.80,21.00,105.90,21.05&status=resolved")
        .await
        .json()
        .await
        .expect("geojson");
    assert_eq!(none["features"], json!([]));
    app.stop().await;
}

async fn place_followers_hear_of_new_reports(backend: Backend) {
    let app = spawn_app(backend).await;
    let reporter = app.citizen("001203004567", "0912345678").await;
    let ward_follower = app.citizen("079303001234", "0987000111").await;
    let near_follower = app.citizen("079303001235", "0987000112").await;
    let far_follower = app.citizen("079303001236", "0987000113").await;
    expect_json(app.post_as(&ward_follower, "/api/v1/place-follows", &json!({"ward_code": "00070"})).await, 201).await;
    expect_json(
        app.post_as(
            &near_follower,
            "/api/v1/place-follows",
            &json!({"lat": 21.0300, "lng": 105.8524, "radius_m": 300}),
        )
        .await,
        201,
    )
    .await;
    expect_json(
        app.post_as(&far_follower, "/api/v1/place-follows", &json!({"lat": 21.0500, "lng": 105.8524, "radius_m": 300}))
            .await,
        201,
    )
    .await;
    let paths = expect_error(
        app.post_as(&far_follower, "/api/v1/place-follows", &json!({"lat": 21.05, "lng": 105.85, "radius_m": 9000}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(paths, vec!["radius_m"]);
    let photo = upload_resumable(&app, &reporter, &jpeg_with_gps(7), "a.jpg").await;
    let filed = expect_json(file(&app, &reporter, "pl-1", &report_body("rac-thai", &[photo], LAKE)).await, 201).await;
    assert_eq!(notifications(&app, &ward_follower).await.len(), 1);
    assert_eq!(notifications(&app, &near_follower).await.len(), 1);
    assert_eq!(notifications(&app, &far_follower).await.len(), 0);
    assert_eq!(report_pushes(&app).await.len(), 3, "the reporter and two place followers");
    // Progress is for the reporter and the report's followers; a resolution reaches the
    // place's followers again.
    let officer = app.officer("0911222333", "HN.00070").await;
    let actions = format!("/api/v1/reports/{}/actions", filed["id"].as_str().expect("id"));
    expect_json(app.post_as(&officer, &actions, &json!({"action": "start"})).await, 200).await;
    assert_eq!(notifications(&app, &ward_follower).await.len(), 1);
    let after = upload_resumable(&app, &officer, &jpeg_with_gps(14), "sau.jpg").await;
    let resolve = json!({"action": "resolve", "response": "Đã thu gom.", "after_photos": [after]});
    expect_json(app.post_as(&officer, &actions, &resolve).await, 200).await;
    assert_eq!(notifications(&app, &ward_follower).await.len(), 2);
    assert_eq!(notifications(&app, &near_follower).await.len(), 2);
    assert_eq!(notifications(&app, &far_follower).await.len(), 0);
    assert_eq!(notifications(&app, &reporter).await.len(), 3, "filed, started, resolved");
    let places = expect_json(app.get_as(&ward_follower, "/api/v1/place-follows").await, 200).await;
    let place_id = places[0]["id"].as_str().expect("id").to_owned();
    let gone = app
        .request(Method::DELETE, &format!("/api/v1/place-follows/{place_id}"))
        .bearer_auth(&ward_follower)
        .send()
        .await
        .expect("delete");
    assert_eq!(gone.status().as_u16(), 204);
    app.stop().await;
}

async fn moderation_hides_and_the_audit_keeps(backend: Backend) {
    let app = spawn_app(backend).await;
    let reporter = app.citizen("001203004567", "0912345678").await;
    let officer = app.officer("0911222333", "HN.00070").await;
    let photo = upload_resumable(&app, &reporter, &jpeg_with_gps(8), "a.jpg").await;
    let mut body = report_body("rac-thai", &[photo], LAKE);
    body["description"] = json!("Lời lẽ xúc phạm cán bộ phường, rác đầy đường.");
    let filed = expect_json(file(&app, &reporter, "m-1", &body).await, 201).await;
    let id = filed["id"].as_str().expect("id").to_owned();
    let photo_id = filed["photos"][0]["id"].as_str().expect("photo").to_owned();
    let photo_url = filed["photos"][0]["url"].as_str().expect("url").to_owned();
    expect_error(
        app.post_as(
            &reporter,
            &format!("/api/v1/reports/{id}/moderation"),
            &json!({"hide_description": true, "reason": "x"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let paths = expect_error(
        app.post_as(
            &officer,
            &format!("/api/v1/reports/{id}/moderation"),
            &json!({"hide_description": true, "reason": " "}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(paths, vec!["reason"]);
    let moderated = expect_json(
        app.post_as(
            &officer,
            &format!("/api/v1/reports/{id}/moderation"),
            &json!({"hide_description": true, "hide_photos": [photo_id], "reason": "Ngôn từ xúc phạm"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(moderated["description_hidden"], true);
    let public = app.get("/api/v1/public/reports?bbox=105.80,21.00,105.90,21.05").await.text().await.expect("text");
    assert!(!public.contains("xúc phạm") && public.contains("FeatureCollection"), "{public}");
    let seen = expect_json(app.get_as(&reporter, &format!("/api/v1/reports/{id}")).await, 200).await;
    assert!(!seen["description"].as_str().unwrap_or_default().contains("xúc phạm"));
    assert_eq!(seen["photos"], json!([]));
    assert_eq!(app.get(&photo_url).await.status().as_u16(), 404);
    let audit =
        motcua_server::reports::store::moderation_audit(&app.state.db, uuid::Uuid::parse_str(&id).expect("uuid"))
            .await
            .expect("audit");
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].2.as_deref(), Some("Lời lẽ xúc phạm cán bộ phường, rác đầy đường."));
    app.stop().await;
}

async fn open311_files_and_answers_in_json_and_xml(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = admin(&app).await;
    let key = expect_json(
        app.post_as(&admin, "/api/v1/admin/open311-keys", &json!({"partner": "Ứng dụng Bản đồ Xanh"})).await,
        201,
    )
    .await;
    let api_key = key["api_key"].as_str().expect("key").to_owned();
    let stored: Vec<(String,)> = motcua_server::on_db!(&app.state.db, read, pool => {
        sqlx::query_as("SELECT key_hash FROM partner_keys").fetch_all(pool).await
    })
    .expect("keys");
    assert!(stored.iter().all(|(h,)| h != &api_key && h.len() == 64), "only a hash is stored");
    let citizen = app.citizen("001203004567", "0912345678").await;
    expect_error(app.post_as(&citizen, "/api/v1/admin/open311-keys", &json!({"partner": "x"})).await, 403, "forbidden")
        .await;

    let post = |format: &'static str, form: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let body = serde_urlencoded::to_string(&form).expect("form");
            app.request(Method::POST, &format!("/open311/v2/requests.{format}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("request")
        }
    };
    let form = |key: &str| {
        vec![
            ("api_key", key.to_owned()),
            ("service_code", "den-chieu-sang".to_owned()),
            ("lat", LAKE.0.to_string()),
            ("long", LAKE.1.to_string()),
            ("description", "Đèn đường trước số 5 không sáng từ hôm qua.".to_owned()),
            ("email", "someone@example.com".to_owned()),
        ]
    };
    let created = post("json", form(&api_key)).await;
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await.expect("json");
    let code = created[0]["service_request_id"].as_str().expect("id").to_owned();
    let token = created[0]["token"].as_str().expect("token").to_owned();
    let xml_created = post("xml", form(&api_key)).await;
    assert_eq!(xml_created.status().as_u16(), 201);
    assert!(xml_created.text().await.expect("xml").contains("<service_requests><request><service_request_id>"));

    // Errors in the standard's shape and codes.
    let bad_key = post("xml", form("o311_wrong")).await;
    assert_eq!(bad_key.status().as_u16(), 403);
    let text = bad_key.text().await.expect("xml");
    assert!(text.contains("<errors><error><code>403</code><description>"), "{text}");
    let mut missing = form(&api_key);
    missing.retain(|(k, _)| *k != "service_code");
    let response = post("json", missing).await;
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body[0]["code"], 400);
    assert!(body[0]["description"].as_str().is_some_and(|d| d.contains("service_code")));
    let mut outside = form(&api_key);
    outside[2].1 = "10.77".to_owned();
    assert_eq!(post("json", outside).await.status().as_u16(), 400);

    // The read side.
    let token_answer = expect_json(app.get(&format!("/open311/v2/tokens/{token}.json")).await, 200).await;
    assert_eq!(token_answer[0]["service_request_id"], code.as_str());
    let services = expect_json(app.get("/open311/v2/services.json").await, 200).await;
    assert!(
        services
            .as_array()
            .expect("list")
            .iter()
            .any(|s| s["service_code"] == "den-chieu-sang" && s["metadata"] == false)
    );
    let definition = expect_json(app.get("/open311/v2/services/den-chieu-sang.json").await, 200).await;
    assert_eq!(definition["attributes"], json!([]));
    assert_eq!(app.get("/open311/v2/services/khong-co.json").await.status().as_u16(), 404);
    let listed =
        expect_json(app.get("/open311/v2/requests.json?service_code=den-chieu-sang&status=open").await, 200).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    assert_eq!(listed[0]["agency_responsible"], "Công ty TNHH MTV Chiếu sáng và Thiết bị đô thị Hà Nội");
    assert!(!listed.to_string().contains("someone@example.com"));
    let closed = expect_json(app.get("/open311/v2/requests.json?status=closed").await, 200).await;
    assert_eq!(closed, json!([]));
    let by_id = expect_json(app.get(&format!("/open311/v2/requests.json?service_request_id={code}")).await, 200).await;
    assert_eq!(by_id.as_array().map(Vec::len), Some(1));
    let too_long =
        app.get("/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z").await;
    assert_eq!(too_long.status().as_u16(), 400);
    let bad_status = app.get("/open311/v2/requests.xml?status=maybe").await;
    assert_eq!(bad_status.status().as_u16(), 400);
    assert!(bad_status.text().await.expect("xml").contains("<errors><error><code>400</code>"));
    let discovery = expect_json(app.get("/open311/v2/discovery.json").await, 200).await;
    assert_eq!(discovery["endpoints"][0]["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert_eq!(app.get("/open311/v2/requests/PA-000000-0000.json").await.status().as_u16(), 404);
    assert_eq!(app.get("/open311/v2/nothing.json").await.status().as_u16(), 404);
    app.stop().await;
}

async fn the_janitor_keeps_report_photos_and_thumbnails(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let photo = upload_resumable(&app, &citizen, &jpeg_with_gps(12), "a.jpg").await;
    let unused = upload_resumable(&app, &citizen, &jpeg_with_gps(13), "b.jpg").await;
    let filed = expect_json(file(&app, &citizen, "j-1", &report_body("rac-thai", &[photo], LAKE)).await, 201).await;
    // Long after the orphan TTL: the unused photo goes, the report's photo and thumbnail stay.
    let done = motcua_server::janitor::run_once(&app.state, Utc::now() + TimeDelta::days(60)).await.expect("janitor");
    assert_eq!(done.orphan_attachments, 1, "{done:?}");
    assert!(done.blobs >= 1, "{done:?}");
    let gone = app.get_as(&citizen, &format!("/api/v1/attachments/{unused}")).await;
    assert_eq!(gone.status().as_u16(), 404);
    for key in ["url", "thumbnail_url"] {
        let served = app.get(filed["photos"][0][key].as_str().expect("url")).await;
        assert_eq!(served.status().as_u16(), 200, "{key}");
        assert!(served.bytes().await.expect("bytes").starts_with(&[0xFF, 0xD8]));
    }
    app.stop().await;
}
