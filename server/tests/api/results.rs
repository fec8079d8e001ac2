//! The result document of a dossier over the API: an officer of the branch attaches their
//! own upload once the dossier is decided, the timeline records it, the applicant
//! downloads it (as a file) once the result is returned, and nobody else gets it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::dossiers::{act, at, day, pick_procedure, submit, upload_whole, values_for};
use crate::helpers::{Backend, TestApp, expect_error, expect_json, spawn_app};

both!(the_result_document_reaches_the_applicant_only, a_rejection_letter_is_released_with_the_refusal);

pub(crate) const DECISION_PDF: &[u8] = b"%PDF-1.7\n% Quyet dinh cap giay phep\n%%EOF\n";

/// A dossier of the citizen at branch H26.00; returns the citizen's token and its id.
async fn filed(app: &TestApp, citizen_id: &str, phone: &str) -> (String, String) {
    app.clock.set(at("2027-04-13T02:00:00Z"));
    let citizen = app.citizen(citizen_id, phone).await;
    let procedure = pick_procedure(app).await;
    let values = values_for(app, &citizen, &procedure, day("2027-04-13")).await;
    let body = json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": values, "branch_code": "H26.00"});
    let dossier = expect_json(submit(app, &citizen, &format!("result-{citizen_id}"), &body).await, 201).await;
    (citizen, dossier["id"].as_str().expect("id").to_owned())
}

async fn attach(app: &TestApp, token: &str, id: &str, attachment: &str) -> reqwest::Response {
    app.post_as(token, &format!("/api/v1/dossiers/{id}/result"), &json!({ "attachment_id": attachment })).await
}

async fn download(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.request(Method::GET, &format!("/api/v1/dossiers/{id}/result")).bearer_auth(token).send().await.expect("request")
}

async fn dossier(app: &TestApp, token: &str, id: &str) -> Value {
    expect_json(app.get_as(token, &format!("/api/v1/dossiers/{id}")).await, 200).await
}

async fn the_result_document_reaches_the_applicant_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let (citizen, id) = filed(&app, "001203004567", "0912345678").await;
    let officer = app.officer("0987654321", "H26.00").await;
    let elsewhere = app.officer("0987654399", "H26.01").await;
    let stranger = app.citizen("001203009999", "0912349999").await;
    let decision = upload_whole(&app, &officer, DECISION_PDF, "Quyết định số 12.pdf").await;

    // Not before a decision.
    act(&app, &officer, &id, "receive", None).await;
    act(&app, &officer, &id, "start_processing", None).await;
    expect_error(attach(&app, &officer, &id, &decision).await, 409, "result_not_attachable").await;
    act(&app, &officer, &id, "approve", None).await;

    // Only the branch's officer, with their own upload.
    expect_error(attach(&app, &elsewhere, &id, &decision).await, 404, "not_found").await;
    expect_error(attach(&app, &citizen, &id, &decision).await, 403, "forbidden").await;
    let citizens_paper = upload_whole(&app, &citizen, b"%PDF-1.4\nmine\n", "cua-toi.pdf").await;
    let fields = expect_error(attach(&app, &officer, &id, &citizens_paper).await, 422, "validation_failed").await;
    assert_eq!(fields, ["attachment_id"]);
    let fields = expect_error(attach(&app, &officer, &id, "khong-phai-id").await, 422, "validation_failed").await;
    assert_eq!(fields, ["attachment_id"]);

    let attached = expect_json(attach(&app, &officer, &id, &decision).await, 200).await;
    assert_eq!(attached["result_document"]["file_name"], "Quyết định số 12.pdf");
    assert_eq!(attached["result_document"]["content_type"], "application/pdf");
    assert_eq!(attached["result_document"]["size"], DECISION_PDF.len());
    let last = attached["timeline"].as_array().expect("timeline").last().expect("an entry").clone();
    assert_eq!((last["action"].as_str(), last["note"].as_str()), (Some("attach_result"), Some("Quyết định số 12.pdf")));
    assert_eq!(last["to"], "approved", "attaching moves no status");

    // The applicant: not yet (neither in the dossier nor as a file); staff: yes.
    assert!(dossier(&app, &citizen, &id).await.get("result_document").is_none());
    expect_error(download(&app, &citizen, &id).await, 409, "not_returned_yet").await;
    assert_eq!(download(&app, &officer, &id).await.status().as_u16(), 200);

    act(&app, &officer, &id, "return_result", None).await;
    let seen = dossier(&app, &citizen, &id).await;
    assert_eq!(seen["result_document"]["file_name"], "Quyết định số 12.pdf");
    let file = download(&app, &citizen, &id).await;
    assert_eq!(file.status().as_u16(), 200);
    assert_eq!(file.headers()["content-type"], "application/pdf");
    let disposition = file.headers()["content-disposition"].to_str().expect("disposition").to_owned();
    assert!(disposition.starts_with("attachment; filename=\"Quyet_dinh_so_12.pdf\""), "{disposition}");
    assert!(disposition.contains("filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20s%E1%BB%91%2012.pdf"));
    assert_eq!(file.headers()["x-content-type-options"], "nosniff");
    assert_eq!(file.bytes().await.expect("bytes").as_ref(), DECISION_PDF);

    // Nobody else; and once returned, it stays as handed back.
    expect_error(download(&app, &stranger, &id).await, 404, "not_found").await;
    expect_error(download(&app, &elsewhere, &id).await, 404, "not_found").await;
    let other = upload_whole(&app, &officer, b"%PDF-1.7\nkhac\n", "khac.pdf").await;
    expect_error(attach(&app, &officer, &id, &other).await, 409, "result_not_attachable").await;
    assert_eq!(download(&app, &citizen, &id).await.bytes().await.expect("bytes").as_ref(), DECISION_PDF);
    app.stop().await;
}

async fn a_rejection_letter_is_released_with_the_refusal(backend: Backend) {
    let app = spawn_app(backend).await;
    let (citizen, id) = filed(&app, "001203004568", "0912345679").await;
    let officer = app.officer("0987654321", "H26.00").await;
    // No document yet: nothing to download, for anyone.
    expect_error(download(&app, &officer, &id).await, 404, "not_found").await;
    act(&app, &officer, &id, "reject", Some("Không đủ điều kiện")).await;
    expect_error(download(&app, &citizen, &id).await, 404, "not_found").await;
    let first = upload_whole(&app, &officer, DECISION_PDF, "tu-choi.pdf").await;
    expect_json(attach(&app, &officer, &id, &first).await, 200).await;
    // Replaced while not handed back: the newer one is the document, both are in the timeline.
    let letter = upload_whole(&app, &officer, b"%PDF-1.7\nVan ban tu choi\n", "van-ban-tu-choi.pdf").await;
    let replaced = expect_json(attach(&app, &officer, &id, &letter).await, 200).await;
    let attached =
        replaced["timeline"].as_array().expect("timeline").iter().filter(|e| e["action"] == "attach_result").count();
    assert_eq!(attached, 2);
    let file = download(&app, &citizen, &id).await;
    assert_eq!(file.status().as_u16(), 200, "a rejection is final: the letter is the citizen's");
    assert_eq!(file.bytes().await.expect("bytes").as_ref(), b"%PDF-1.7\nVan ban tu choi\n");
    app.stop().await;
}
