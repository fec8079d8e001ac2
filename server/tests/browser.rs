//! The web console in a real browser: a citizen files a dossier through the API, then
//! headless Chromium (driven by `tools/console-browser/journey.mjs` with playwright-core)
//! signs an officer in, finds it in the queue, receives it and requests a supplement; the
//! citizen answers through the API; the browser approves, attaches the signed decision and
//! returns the result; the API shows every step and the citizen downloads the decision.
//! Then a walk-in intake in the browser, with a printed receipt, which the citizen finds in
//! the app after registering.
//! Built only with the `browser-test` feature: `cargo xtask test --step browser` installs
//! Chromium and playwright-core and runs it.

#[path = "api/forms.rs"]
#[allow(dead_code)]
mod forms;
#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "api/intake_form.rs"]
mod intake_form;

use std::path::PathBuf;
use std::process::Command;

use motcua_domain::wire::Procedure;
use reqwest::Method;
use serde_json::{Value, json};

use helpers::{Backend, TestApp, expect_json, spawn_app};

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run `cargo xtask test --step browser`"))
}

/// A boundary-free procedure of the seed with papers to attach, and valid values for it.
async fn dossier_body(app: &TestApp, token: &str) -> Value {
    let changes = expect_json(app.get("/api/v1/catalogue/changes").await, 200).await;
    let all: Vec<Procedure> = serde_json::from_value(changes["procedures"].clone()).expect("procedures");
    let procedure = all
        .into_iter()
        .find(|p| p.boundary_free && (5..=15).contains(&p.processing_days) && !p.form.attachment_documents().is_empty())
        .expect("a procedure with papers");
    let today = motcua_server::dossiers::store::local_date(chrono::Utc::now());
    let mut slots = Vec::new();
    forms::valid_values(&procedure.form, today, &mut |doc| {
        slots.push(doc.to_owned());
        vec![]
    });
    let mut ids = std::collections::HashMap::new();
    for (i, doc) in slots.iter().enumerate() {
        let mut bytes = PNG.to_vec();
        bytes.extend_from_slice(format!("{doc}-{i}").as_bytes());
        let response = app
            .request(Method::POST, &format!("/api/v1/attachments?name={doc}.png"))
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("upload");
        let body = expect_json(response, 201).await;
        ids.insert(doc.clone(), body["id"].as_str().expect("id").to_owned());
    }
    let values = forms::valid_values(&procedure.form, today, &mut |doc| vec![ids[doc].clone()]);
    json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": values, "branch_code": "H26.00"})
}

fn journey(app: &TestApp, code: &str, phase: &str, extra: &[(&str, String)]) -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tools/console-browser/journey.mjs");
    let out = Command::new("node")
        .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
        .arg(script)
        .arg(phase)
        .env("CONSOLE_URL", app.url(""))
        .env("DOSSIER_CODE", code)
        .env("OFFICER_LOGIN", "0987654321")
        .env("OFFICER_PASSWORD", "canbo12345")
        .env("CHROMIUM", required_env("CHROMIUM"))
        .env("PLAYWRIGHT_DIR", required_env("PLAYWRIGHT_DIR"))
        .env("SCREENSHOTS", required_env("SCREENSHOTS"))
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "browser phase {phase} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officers_journey_in_chromium() {
    let app = spawn_app(Backend::Sqlite).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    app.officer("0987654321", "H26.00").await;
    let body = dossier_body(&app, &citizen).await;
    let response = app
        .request(Method::POST, "/api/v1/dossiers")
        .bearer_auth(&citizen)
        .header("idempotency-key", "browser-1")
        .json(&body)
        .send()
        .await
        .expect("submit");
    let dossier = expect_json(response, 201).await;
    let (id, code) = (dossier["id"].as_str().expect("id"), dossier["code"].as_str().expect("code"));

    // The browser blocks on its child process: run it off the server's threads.
    let phase = |name: &'static str| {
        let (app, code) = (&app, code.to_owned());
        tokio::task::block_in_place(move || journey(app, &code, name, &[]))
    };
    phase("receive");
    let seen = expect_json(app.get_as(&citizen, &format!("/api/v1/dossiers/{id}")).await, 200).await;
    assert_eq!(seen["status"], "supplement_requested");
    let answered = app
        .post_as(
            &citizen,
            &format!("/api/v1/dossiers/{id}/supplement"),
            &json!({"values": body["values"], "note": "Đã bổ sung qua ứng dụng"}),
        )
        .await;
    expect_json(answered, 200).await;
    phase("approve");

    let dossier = expect_json(app.get_as(&citizen, &format!("/api/v1/dossiers/{id}")).await, 200).await;
    assert_eq!(dossier["status"], "result_returned");
    let steps: Vec<&str> =
        dossier["timeline"].as_array().expect("timeline").iter().map(|e| e["action"].as_str().expect("a")).collect();
    assert_eq!(
        steps,
        ["submit", "receive", "request_supplement", "answer_supplement", "approve", "attach_result", "return_result"]
    );
    // The citizen downloads the decision the browser attached.
    let file = app
        .request(Method::GET, &format!("/api/v1/dossiers/{id}/result"))
        .bearer_auth(&citizen)
        .send()
        .await
        .expect("download");
    assert_eq!(file.status().as_u16(), 200);
    assert!(file.bytes().await.expect("bytes").starts_with(b"%PDF-1.7"));
    assert_eq!(dossier["timeline"][2]["note"], "Bản sao giấy khai sinh rõ nét hơn");

    // A walk-in at the counter: the form filled in the browser, a scan uploaded, the
    // receipt printed; the citizen then registers and finds the dossier in the app.
    let procedure = body["procedure_code"].as_str().expect("procedure").to_owned();
    let changes = expect_json(app.get("/api/v1/catalogue/changes").await, 200).await;
    let all: Vec<Procedure> = serde_json::from_value(changes["procedures"].clone()).expect("procedures");
    let form = all.into_iter().find(|p| p.code == procedure).expect("the procedure").form;
    let today = motcua_server::dossiers::store::local_date(chrono::Utc::now());
    let values = forms::valid_values(&form, today, &mut |doc| vec![doc.to_owned()]);
    let mut fields = Vec::new();
    let papers = intake_form::intake_fields(&form.fields, &values, "v.", &mut fields);
    let scans = std::env::temp_dir().join(format!("motcua-scans-{}", std::process::id()));
    std::fs::create_dir_all(&scans).expect("scan folder");
    let files: Vec<(String, String)> = papers
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let path = scans.join(format!("giay-to-{i}.pdf"));
            std::fs::write(&path, format!("%PDF-1.7\n% scan {i}\n%%EOF\n")).expect("scan");
            (format!("f.{key}"), path.display().to_string())
        })
        .collect();
    let extra = [
        ("INTAKE_PROCEDURE", procedure),
        ("INTAKE_CITIZEN_ID", "001203004999".to_owned()),
        ("INTAKE_PHONE", "0912888777".to_owned()),
        ("INTAKE_FIELDS", serde_json::to_string(&fields).expect("json")),
        ("INTAKE_FILES", serde_json::to_string(&files).expect("json")),
    ];
    let out = tokio::task::block_in_place(|| journey(&app, code, "intake", &extra));
    std::fs::remove_dir_all(&scans).ok();
    let printed = out.lines().find_map(|l| l.strip_prefix("receipt ")).expect("the receipt's code").trim().to_owned();
    let walk_in = app.citizen("001203004999", "0912888777").await;
    let mine = expect_json(app.get_as(&walk_in, "/api/v1/dossiers").await, 200).await;
    assert_eq!(mine["items"][0]["code"], printed.as_str());
    assert_eq!(mine["items"][0]["status"], "received");

    // A field report, handled from the console.
    let mut photo = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut photo, 85)
        .encode_image(&image::RgbImage::from_fn(48, 32, |x, y| image::Rgb([(x * 5) as u8, (y * 7) as u8, 90])))
        .expect("a photo");
    let uploaded = app
        .request(Method::POST, "/api/v1/attachments?name=anh.jpg")
        .bearer_auth(&citizen)
        .header("content-type", "application/octet-stream")
        .body(photo)
        .send()
        .await
        .expect("upload");
    let photo_id = expect_json(uploaded, 201).await["id"].as_str().expect("id").to_owned();
    let report = json!({"category": "rac-thai", "description": "Rác thải đổ tràn ra lòng đường, bốc mùi.",
        "photos": [photo_id], "lat": 21.0287, "lng": 105.8524, "address": "Phố Đinh Tiên Hoàng", "hide_identity": false});
    let filed = app
        .request(Method::POST, "/api/v1/reports")
        .bearer_auth(&citizen)
        .header("idempotency-key", "browser-report")
        .json(&report)
        .send()
        .await
        .expect("report");
    let filed = expect_json(filed, 201).await;
    let report_code = filed["code"].as_str().expect("code").to_owned();
    tokio::task::block_in_place(|| journey(&app, code, "reports", &[("REPORT_CODE", report_code)]));
    let seen =
        expect_json(app.get_as(&citizen, &format!("/api/v1/reports/{}", filed["id"].as_str().expect("id"))).await, 200)
            .await;
    assert_eq!(seen["status"], "in_progress");

    // The administrator's pages: a push campaign (scheduled, then cancelled), the staff.
    let out = app
        .operator(&["user", "add", "--role", "admin", "--phone", "0987000099", "--name", "Quản trị"], "quantri123\n");
    assert!(out.status.success());
    let at = (chrono::Utc::now() + chrono::TimeDelta::days(30) + chrono::TimeDelta::hours(7)).naive_utc();
    let extra = [
        ("ADMIN_LOGIN", "0987000099".to_owned()),
        ("ADMIN_PASSWORD", "quantri123".to_owned()),
        ("CAMPAIGN_AT", at.format("%Y-%m-%dT%H:%M").to_string()),
    ];
    tokio::task::block_in_place(|| journey(&app, code, "admin", &extra));
    let admin = app.token("0987000099", "quantri123").await;
    let campaigns = expect_json(app.get_as(&admin, "/api/v1/ops/push/campaigns").await, 200).await;
    assert_eq!(
        (campaigns[0]["state"].as_str(), campaigns[0]["audience"]["ward_code"].as_str()),
        (Some("cancelled"), Some("00070"))
    );
    app.stop().await;
}
