//! Push on the phone: the FCM token kept offline and sent when the network is back, sent
//! again for whoever signs in next (the server moves it to that account), forgotten by the
//! server at sign-out; a notification's deep link; a duplicate delivery shown once; the
//! notification settings; bad input refused with the field named.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use motcua_client::*;

use crate::helpers::*;

const TOKEN: &str = "fcm-token-AAAA:APA91bHk7-phone-one";

/// The server's view of the devices of the account behind `token` (bearer).
async fn devices_of(server: &TestServer, bearer: &str) -> Vec<String> {
    let (status, body) = server.call("GET", "/api/v1/devices", Some(bearer), None).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().expect("a list of devices").iter().filter_map(|d| d["token"].as_str().map(str::to_owned)).collect()
}

fn bearer(tokens: &MemoryTokenStore) -> String {
    tokens.load().expect("signed in").access_token
}

#[tokio::test]
async fn the_token_reaches_the_server_once_online_and_follows_the_account() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let flaky = Flaky::new();
    let tokens = Arc::new(MemoryTokenStore::new());
    let c = client_with(&server.base_url, dir.path(), tokens.clone(), flaky.clone()).await;

    // Before anyone signs in: kept, not sent.
    let kept = c.register_device(TOKEN.into(), "android".into(), "1.4.2".into()).await.unwrap();
    assert_eq!((kept.token.as_str(), kept.platform.as_str(), kept.sent), (TOKEN, "android", false));
    sign_up(&server, &c).await;
    assert!(c.push_registration().await.unwrap().unwrap().sent, "sent at sign-in");
    assert_eq!(devices_of(&server, &bearer(&tokens)).await, vec![TOKEN.to_owned()]);

    // FCM issues a new token while the phone is offline: kept, then sent by the next sync.
    flaky.online.store(false, Ordering::SeqCst);
    let renewed = c.register_device("fcm-token-BBBB".into(), "android".into(), "1.4.2".into()).await.unwrap();
    assert!(!renewed.sent);
    assert!(!c.push_registration().await.unwrap().unwrap().sent, "survives as pending");
    flaky.online.store(true, Ordering::SeqCst);
    c.sync_outbox().await.unwrap();
    assert!(c.push_registration().await.unwrap().unwrap().sent);
    let mine = devices_of(&server, &bearer(&tokens)).await;
    assert!(mine.contains(&"fcm-token-BBBB".to_owned()), "{mine:?}");
    // Registering the same token again sends nothing new.
    let before = flaky.requests().iter().filter(|r| r.1.ends_with("/api/v1/devices")).count();
    assert!(c.register_device("fcm-token-BBBB".into(), "android".into(), "1.4.2".into()).await.unwrap().sent);
    let after = flaky.requests().iter().filter(|r| r.1.ends_with("/api/v1/devices")).count();
    assert_eq!(before, after);

    // Sign-out: the server forgets the phone; the next person to sign in gets it.
    let first_bearer = bearer(&tokens);
    c.logout().await.unwrap();
    let registration = c.push_registration().await.unwrap().unwrap();
    assert!(!registration.sent && registration.token == "fcm-token-BBBB", "the token stays on the phone");
    sign_up(&server, &c).await;
    assert_eq!(devices_of(&server, &bearer(&tokens)).await, vec!["fcm-token-BBBB".to_owned()]);
    let (status, _) = server.call("GET", "/api/v1/devices", Some(&first_bearer), None).await;
    assert_eq!(status, 401, "the first session ended");
}

#[tokio::test]
async fn a_notification_opens_its_dossier_and_shows_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start().await;
    let c = client(&server, dir.path()).await;
    let data = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    let first = data(&[("notification_id", "n-1"), ("kind", "dossier"), ("id", "0193-dossier")]);
    let opened = c.receive_push(first.clone()).await.unwrap().expect("shown the first time");
    assert_eq!(opened.notification_id, "n-1");
    assert_eq!(opened.target, PushTarget::Dossier { dossier_id: "0193-dossier".into() });
    // FCM delivers it again (twice at once, even): nothing more to show.
    let (a, b) = tokio::join!(c.receive_push(first.clone()), c.receive_push(first));
    assert_eq!((a.unwrap(), b.unwrap()), (None, None));

    let report = data(&[("notification_id", "n-2"), ("kind", "report"), ("id", "r-9")]);
    assert_eq!(c.receive_push(report).await.unwrap().unwrap().target, PushTarget::Report { report_id: "r-9".into() });
    let news = data(&[("notification_id", "n-3"), ("kind", "announcement"), ("id", "c-1")]);
    assert_eq!(
        c.receive_push(news).await.unwrap().unwrap().target,
        PushTarget::Announcement { campaign_id: "c-1".into() }
    );
    let future = data(&[("notification_id", "n-4"), ("kind", "survey")]);
    assert_eq!(c.receive_push(future).await.unwrap().unwrap().target, PushTarget::Unknown { kind: "survey".into() });

    // Data without an id, or a dossier link without the dossier: the field is named.
    let paths = |e: ClientError| match e {
        ClientError::Validation { fields, .. } => fields.into_iter().map(|f| f.path).collect::<Vec<_>>(),
        other => panic!("expected a validation error, got {other:?}"),
    };
    assert_eq!(paths(c.receive_push(data(&[("kind", "dossier")])).await.unwrap_err()), vec!["notification_id"]);
    let no_target = data(&[("notification_id", "n-5"), ("kind", "dossier")]);
    assert_eq!(paths(c.receive_push(no_target.clone()).await.unwrap_err()), vec!["id"]);
    // A refused notification is not marked as shown.
    let fixed = data(&[("notification_id", "n-5"), ("kind", "dossier"), ("id", "d-5")]);
    assert!(c.receive_push(fixed).await.unwrap().is_some());
}

#[tokio::test]
async fn bad_registrations_and_settings_name_their_field() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = citizen(&server, dir.path()).await;
    let err = c.register_device("has space".into(), "windows".into(), "".into()).await.unwrap_err();
    let ClientError::Validation { fields, .. } = err else { panic!("validation expected") };
    let mut paths: Vec<(String, String)> = fields.iter().map(|f| (f.path.clone(), f.code.clone())).collect();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            ("app_version".into(), "required".into()),
            ("platform".into(), "invalid_option".into()),
            ("token".into(), "invalid".into())
        ]
    );
    assert!(fields.iter().all(|f| !f.message.is_empty()));
    assert_eq!(c.push_registration().await.unwrap(), None, "nothing kept");
    let long = "a".repeat(4097);
    assert!(matches!(c.register_device(long, "ios".into(), "2.0".into()).await, Err(ClientError::Validation { .. })));

    // Settings: all on by default; turned off per kind; an unknown ward is refused offline.
    let settings = c.notification_settings().await.unwrap();
    assert!(settings.dossier_updates && settings.report_updates && settings.announcements);
    let ward = c.wards("Hà Nội".into()).first().expect("Hà Nội's wards").code.clone();
    let changed = c
        .set_notification_settings(NotificationSettings {
            dossier_updates: true,
            report_updates: false,
            announcements: false,
            ward_code: Some(ward.clone()),
        })
        .await
        .unwrap();
    assert_eq!(
        (changed.report_updates, changed.announcements, changed.ward_code.as_deref()),
        (false, false, Some(ward.as_str()))
    );
    assert_eq!(c.notification_settings().await.unwrap(), changed);
    let bad = NotificationSettings { ward_code: Some("99999".into()), ..changed };
    let ClientError::Validation { fields, .. } = c.set_notification_settings(bad).await.unwrap_err() else {
        panic!("validation expected")
    };
    assert_eq!(fields[0].path, "ward_code");
}
