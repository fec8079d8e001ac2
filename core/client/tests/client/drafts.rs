//! Drafts: autosave and resume across restarts, live validation per field, files copied
//! and hashed, deletion, and the migration to a new form version that keeps dropped values.

use std::sync::{Arc, Mutex};

use motcua_client::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::*;

#[tokio::test]
async fn autosave_survives_a_restart_and_validation_is_per_field() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let c = citizen(&server, &store).await;
    let draft = c.create_draft(PROCEDURE.into()).await.unwrap();
    let id = draft.summary.id.clone();
    assert_eq!(draft.summary.state, DraftState::Editing);
    assert!(draft.issues.iter().any(|i| i.path == "ho_ten" && i.code == "required"));

    let issues = c.set_field(id.clone(), "ho_ten".into(), Some(text("A"))).await.unwrap();
    let name = issues.iter().find(|i| i.path == "ho_ten").unwrap();
    assert_eq!(name.code, "too_short");
    assert!(name.message.contains('2'), "{}", name.message);
    let issues = c.set_field(id.clone(), "ho_ten".into(), Some(text("Nguyễn Văn An"))).await.unwrap();
    assert!(!issues.iter().any(|i| i.path == "ho_ten"));
    // A value of another kind is refused at the field, and nothing is saved.
    match c.set_field(id.clone(), "ho_ten".into(), Some(FieldValue::Bool { value: true })).await {
        Err(ClientError::Validation { fields, .. }) => {
            assert_eq!((fields[0].path.as_str(), fields[0].code.as_str()), ("ho_ten", "wrong_type"));
            assert_eq!(fields[0].message, "Giá trị không đúng kiểu dữ liệu.");
        }
        other => panic!("a field error expected, got {other:?}"),
    }
    match c.set_field(id.clone(), "khong_co".into(), Some(text("x"))).await {
        Err(ClientError::Validation { fields, .. }) => assert_eq!(fields[0].code, "unknown_field"),
        other => panic!("a field error expected, got {other:?}"),
    }
    // Conditional fields: "khac" makes muc_dich_khac required.
    let issues =
        c.set_field(id.clone(), "muc_dich".into(), Some(FieldValue::Choice { value: "khac".into() })).await.unwrap();
    assert!(issues.iter().any(|i| i.path == "muc_dich_khac" && i.code == "required"));

    let file = write_file(dir.path(), "giay.png", 70_000, 5);
    let attached = c
        .attach_file(id.clone(), "tep_de_nghi".into(), file.to_string_lossy().into(), "giay.png".into())
        .await
        .unwrap();
    let digest: String = Sha256::digest(std::fs::read(&file).unwrap()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(attached.sha256, digest);
    assert_eq!(attached.size, 70_000);
    let not_a_slot = c.attach_file(id.clone(), "ho_ten".into(), file.to_string_lossy().into(), "giay.png".into()).await;
    assert!(
        matches!(&not_a_slot, Err(ClientError::Invalid { reason, .. }) if reason == "not an attachment field"),
        "{not_a_slot:?}"
    );
    c.close().await;
    drop(c);
    std::fs::remove_file(&file).unwrap();

    // Resume after a restart: the values and the copy of the file are in the store.
    let c = client(&server, &store).await;
    let drafts = c.list_drafts().await.unwrap();
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].file_count, 1);
    let resumed = c.draft(id.clone()).await.unwrap();
    let values: Value = serde_json::from_str(&resumed.values_json).unwrap();
    assert_eq!(values["ho_ten"], "Nguyễn Văn An");
    assert_eq!(values["tep_de_nghi"], json!([attached.id]));
    let copy = store.join("files").join(&attached.id);
    assert_eq!(std::fs::metadata(&copy).unwrap().len(), 70_000);

    c.remove_file(id.clone(), attached.id.clone()).await.unwrap();
    assert!(!copy.exists());
    let values: Value = serde_json::from_str(&c.draft(id.clone()).await.unwrap().values_json).unwrap();
    assert_eq!(values.get("tep_de_nghi"), None);
    c.delete_draft(id.clone()).await.unwrap();
    assert!(matches!(c.draft(id).await, Err(ClientError::NotFound { .. })));
    assert!(c.list_drafts().await.unwrap().is_empty());
    assert!(matches!(c.create_draft("no.such".into()).await.unwrap_err(), ClientError::NotFound { .. }));
}

fn form_v1() -> Value {
    json!({"version": 1, "fields": [
        {"key": "ho_ten", "label": "Họ tên", "required": true, "type": "text", "max_length": 100},
        {"key": "nghe_nghiep", "label": "Nghề nghiệp", "type": "text"},
        {"key": "gioi_tinh", "label": "Giới tính", "type": "select",
         "options": [{"value": "nam", "label": "Nam"}, {"value": "nu", "label": "Nữ"}, {"value": "khac", "label": "Khác"}]},
        {"key": "so_con", "label": "Số con", "type": "number"}
    ]})
}

fn form_v2() -> Value {
    // nghe_nghiep removed, "khac" no longer an option, ho_ten shorter.
    json!({"version": 2, "fields": [
        {"key": "ho_ten", "label": "Họ tên", "required": true, "type": "text", "max_length": 5},
        {"key": "gioi_tinh", "label": "Giới tính", "type": "select",
         "options": [{"value": "nam", "label": "Nam"}, {"value": "nu", "label": "Nữ"}]},
        {"key": "so_con", "label": "Số con", "type": "number"},
        {"key": "ghi_chu", "label": "Ghi chú", "type": "text"}
    ]})
}

#[tokio::test]
async fn a_new_form_version_migrates_drafts_and_keeps_what_it_drops() {
    let dir = tempfile::tempdir().unwrap();
    let script = Arc::new(ScriptedCatalogue {
        versions: Mutex::new(vec![vec![procedure_doc("9.000001", "Thủ tục thử", 1, form_v1())]]),
    });
    let c = client_with("http://catalogue.test", dir.path(), Arc::new(MemoryTokenStore::new()), script.clone()).await;
    c.sync_catalogue().await.unwrap();
    let draft = c.create_draft("9.000001".into()).await.unwrap();
    let id = draft.summary.id.clone();
    for (k, v) in [
        ("ho_ten", text("Nguyễn Văn An")),
        ("nghe_nghiep", text("Kỹ sư")),
        ("gioi_tinh", FieldValue::Choice { value: "khac".into() }),
        ("so_con", FieldValue::Number { value: 2.0 }),
    ] {
        c.set_field(id.clone(), k.into(), Some(v)).await.unwrap();
    }
    script.versions.lock().unwrap().push(vec![procedure_doc("9.000001", "Thủ tục thử", 2, form_v2())]);
    let report = c.sync_catalogue().await.unwrap();
    assert_eq!(report.drafts_migrated, 1);

    let migrated = c.draft(id.clone()).await.unwrap();
    assert_eq!(migrated.summary.form_version, 2);
    assert_eq!(migrated.summary.dropped_count, 2);
    let values: Value = serde_json::from_str(&migrated.values_json).unwrap();
    assert_eq!(values, json!({"ho_ten": "Nguyễn Văn An", "so_con": 2}), "kept values stay");
    let mut dropped: Vec<(String, String, String)> =
        migrated.dropped.iter().map(|d| (d.path.clone(), d.value_json.clone(), d.reason.clone())).collect();
    dropped.sort();
    assert_eq!(
        dropped,
        vec![
            ("gioi_tinh".into(), "\"khac\"".into(), "invalid_option".into()),
            ("nghe_nghiep".into(), "\"Kỹ sư\"".into(), "removed".into()),
        ]
    );
    // The kept name is now too long: shown as an error, not dropped.
    assert!(migrated.issues.iter().any(|i| i.path == "ho_ten" && i.code == "too_long"));
    // Survives a restart.
    c.close().await;
    let c = client_with("http://catalogue.test", dir.path(), Arc::new(MemoryTokenStore::new()), script).await;
    assert_eq!(c.draft(id).await.unwrap().dropped.len(), 2);
}

#[tokio::test]
async fn the_form_view_renders_the_draft_in_the_apps_language() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let tokens: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let mut config =
        ClientConfig::new(server.base_url.clone(), dir.path().join("store").to_string_lossy().into_owned());
    config.language = "en".into();
    let c = Client::open(config, tokens).await.unwrap();
    c.sync_catalogue().await.unwrap();
    let draft = c.create_draft(PROCEDURE.into()).await.unwrap();
    let id = draft.summary.id.clone();
    c.set_field(id.clone(), "ho_ten".into(), Some(text("Nguyễn Văn An"))).await.unwrap();
    c.set_field(id.clone(), "noi_cu_tru".into(), Some(hoan_kiem())).await.unwrap();

    let view = c.form_view(id.clone()).await.unwrap();
    assert!(view.editable);
    assert_eq!(view.procedure_code, PROCEDURE);
    let field = |view: &FormView, k: &str| view.fields.iter().find(|f| f.key == k).cloned().unwrap();
    let name = field(&view, "ho_ten");
    assert_eq!(name.label, "Full name of the applicant");
    assert_eq!(name.value, Some(text("Nguyễn Văn An")));
    assert!(matches!(name.kind, FormFieldKind::Text { min_length: Some(2), max_length: Some(100), .. }));
    assert_eq!(field(&view, "noi_cu_tru").value, Some(hoan_kiem()));
    let FormFieldKind::Address { provinces } = field(&view, "noi_cu_tru").kind else { panic!("an address") };
    assert_eq!(provinces, c.provinces());
    assert!(provinces.iter().any(|p| p == "Hà Nội"));
    let FormFieldKind::Select { options, multiple: false } = field(&view, "muc_dich").kind else { panic!("a select") };
    assert_eq!(options[0].label, "Education");
    // The conditional field shows only once "khac" is chosen.
    assert!(!field(&view, "muc_dich_khac").visible);
    let phone = field(&view, "dien_thoai");
    assert!(phone.issues.iter().any(|i| i.code == "required" && i.message == "This field is required."));
    let FormFieldKind::Attachment { max_files, max_bytes, accepted_types, .. } = field(&view, "tep_de_nghi").kind
    else {
        panic!("an attachment slot")
    };
    assert_eq!((max_files, max_bytes), (Some(5), 10 * 1024 * 1024));
    assert!(accepted_types.contains(&"application/pdf".to_owned()));
    c.set_field(id.clone(), "muc_dich".into(), Some(FieldValue::Choice { value: "khac".into() })).await.unwrap();
    let view = c.form_view(id.clone()).await.unwrap();
    let other = field(&view, "muc_dich_khac");
    assert!(other.visible && other.issues.iter().any(|i| i.code == "required"));
    assert_eq!(view.issues, c.draft(id.clone()).await.unwrap().issues);

    // Attachment fields take files only through attach_file: a made-up file id is refused.
    let made_up = c
        .set_field(id.clone(), "tep_de_nghi".into(), Some(FieldValue::Files { file_ids: vec!["made-up".into()] }))
        .await;
    match made_up {
        Err(ClientError::Validation { fields, .. }) => {
            assert_eq!((fields[0].path.as_str(), fields[0].code.as_str()), ("tep_de_nghi", "wrong_type"));
        }
        other => panic!("a field error expected, got {other:?}"),
    }
    assert!(matches!(c.set_field(id.clone(), "tep_de_nghi".into(), None).await, Err(ClientError::Validation { .. })));
    let file = write_file(dir.path(), "a.png", 1_000, 1);
    let attached =
        c.attach_file(id.clone(), "tep_de_nghi".into(), file.to_string_lossy().into(), "a.png".into()).await.unwrap();
    let view = c.form_view(id.clone()).await.unwrap();
    assert_eq!(field(&view, "tep_de_nghi").value, Some(FieldValue::Files { file_ids: vec![attached.id.clone()] }));
    let FormFieldKind::Attachment { files, .. } = field(&view, "tep_de_nghi").kind else { panic!("attachment") };
    assert_eq!(files, vec![attached]);
    c.close().await;
}

#[tokio::test]
async fn attach_file_checks_type_size_and_count_when_attached() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = citizen(&server, &dir.path().join("store")).await;
    let id = c.create_draft(PROCEDURE.into()).await.unwrap().summary.id;
    let attach = |path: std::path::PathBuf, name: &str| {
        c.attach_file(id.clone(), "tep_de_nghi".into(), path.to_string_lossy().into(), name.into())
    };
    let field_error = |r: Result<DraftFile, ClientError>| match r {
        Err(ClientError::Validation { fields, .. }) => (fields[0].path.clone(), fields[0].code.clone()),
        other => panic!("a field error expected, got {other:?}"),
    };
    // Judged by the content, not the name: an executable named .pdf is refused.
    let exe = dir.path().join("scan.pdf");
    std::fs::write(&exe, b"MZ\x90\x00 not a pdf at all").unwrap();
    assert_eq!(field_error(attach(exe, "scan.pdf").await), ("tep_de_nghi".into(), "invalid_file_type".into()));
    let heic = dir.path().join("photo.jpg");
    std::fs::write(&heic, b"\0\0\0\x18ftypheic\0\0\0\0 more bytes").unwrap();
    assert_eq!(field_error(attach(heic, "photo.jpg").await), ("tep_de_nghi".into(), "unsupported_image".into()));
    let pdf = dir.path().join("real.bin");
    std::fs::write(&pdf, b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n").unwrap();
    attach(pdf, "to-khai.pdf").await.unwrap();
    // Larger than 10 MB.
    let big = write_file(dir.path(), "big.png", 10 * 1024 * 1024 + 1, 2);
    match attach(big, "big.png").await {
        Err(ClientError::Validation { fields, .. }) => {
            assert_eq!((fields[0].path.as_str(), fields[0].code.as_str()), ("tep_de_nghi", "too_large"));
            assert!(fields[0].message.contains("10 MB"), "{}", fields[0].message);
        }
        other => panic!("a field error expected, got {other:?}"),
    }
    // At most 5 files in the slot: the sixth is refused, and nothing is left behind.
    for i in 0..4 {
        attach(write_file(dir.path(), &format!("p{i}.png"), 500, 10 + i), "p.png").await.unwrap();
    }
    let sixth = attach(write_file(dir.path(), "p6.png", 500, 99), "p.png").await;
    assert_eq!(field_error(sixth), ("tep_de_nghi".into(), "too_many_files".into()));
    assert_eq!(c.draft(id.clone()).await.unwrap().files.len(), 5);
    let stored = std::fs::read_dir(dir.path().join("store").join("files")).unwrap().count();
    assert_eq!(stored, 5, "refused files leave no copy in the store");
    c.close().await;
}
