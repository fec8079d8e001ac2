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

    let issues = c.set_field(id.clone(), "ho_ten".into(), "\"A\"".into()).await.unwrap();
    let name = issues.iter().find(|i| i.path == "ho_ten").unwrap();
    assert_eq!(name.code, "too_short");
    assert!(name.message.contains('2'), "{}", name.message);
    let issues = c.set_field(id.clone(), "ho_ten".into(), "\"Nguyễn Văn An\"".into()).await.unwrap();
    assert!(!issues.iter().any(|i| i.path == "ho_ten"));
    match c.set_field(id.clone(), "ho_ten".into(), "not json".into()).await {
        Err(ClientError::Invalid { reason, message }) => {
            assert_eq!(reason, "value_json is not JSON");
            assert_eq!(message, "Dữ liệu không hợp lệ.");
        }
        other => panic!("invalid input expected, got {other:?}"),
    }
    // Conditional fields: "khac" makes muc_dich_khac required.
    let issues = c.set_field(id.clone(), "muc_dich".into(), "\"khac\"".into()).await.unwrap();
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
    for (k, v) in
        [("ho_ten", "\"Nguyễn Văn An\""), ("nghe_nghiep", "\"Kỹ sư\""), ("gioi_tinh", "\"khac\""), ("so_con", "2")]
    {
        c.set_field(id.clone(), k.into(), v.into()).await.unwrap();
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
