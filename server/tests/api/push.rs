//! Push notifications over HTTP: phones registered, refreshed, taken over by another
//! account, removed (by their owner, and by signing out), marked stale by the janitor;
//! notification preferences; every bad input a 422 naming its field.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, TestApp, expect_error, expect_json, spawn_app};

both!(
    devices_register_refresh_and_list,
    a_token_belongs_to_one_account,
    devices_are_removed_by_owner_and_by_logout,
    bad_device_registrations_name_the_field,
    stale_devices_are_no_longer_listed,
    preferences_default_on_and_persist
);

pub(crate) fn device(token: &str, locale: &str) -> Value {
    json!({"token": token, "platform": "android", "app_version": "1.0.0", "locale": locale})
}

async fn devices_of(app: &TestApp, token: &str) -> Vec<String> {
    let list = expect_json(app.get_as(token, "/api/v1/devices").await, 200).await;
    list.as_array().expect("list").iter().map(|d| d["token"].as_str().expect("token").to_owned()).collect()
}

async fn devices_register_refresh_and_list(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let token = "fcm-token:APA91b_abc-DEF";
    let first = expect_json(app.post_as(&citizen, "/api/v1/devices", &device(token, "vi")).await, 200).await;
    assert_eq!((first["platform"].as_str(), first["locale"].as_str()), (Some("android"), Some("vi")));
    let again = json!({"token": token, "platform": "ios", "app_version": "1.1.0", "locale": "en"});
    let second = expect_json(app.post_as(&citizen, "/api/v1/devices", &again).await, 200).await;
    assert_eq!((second["platform"].as_str(), second["locale"].as_str()), (Some("ios"), Some("en")));
    assert_eq!(second["created_at"], first["created_at"], "a refresh keeps the registration's age");
    assert!(second["last_seen_at"].as_str() >= first["last_seen_at"].as_str());
    assert_eq!(devices_of(&app, &citizen).await, vec![token.to_owned()]);
    let response = app.get_as(&citizen, "/api/v1/devices").await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    // Bounded: an account keeps its 20 most recently seen phones.
    for i in 0..25 {
        expect_json(app.post_as(&citizen, "/api/v1/devices", &device(&format!("t{i:02}"), "vi")).await, 200).await;
    }
    let kept = devices_of(&app, &citizen).await;
    assert_eq!(kept.len(), 20);
    assert!(kept.contains(&"t24".to_owned()) && !kept.contains(&token.to_owned()));
    app.stop().await;
}

async fn a_token_belongs_to_one_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.citizen("001203004567", "0912345678").await;
    let b = app.citizen("001203004568", "0912345679").await;
    expect_json(app.post_as(&a, "/api/v1/devices", &device("shared-phone", "vi")).await, 200).await;
    assert_eq!(devices_of(&app, &a).await, vec!["shared-phone".to_owned()]);
    // B signs in on the same phone: the token moves to B.
    expect_json(app.post_as(&b, "/api/v1/devices", &device("shared-phone", "en")).await, 200).await;
    assert!(devices_of(&app, &a).await.is_empty());
    assert_eq!(devices_of(&app, &b).await, vec!["shared-phone".to_owned()]);
    // A cannot remove it any more.
    let response =
        app.request(Method::DELETE, "/api/v1/devices/shared-phone").bearer_auth(&a).send().await.expect("request");
    expect_error(response, 404, "not_found").await;
    assert_eq!(devices_of(&app, &b).await, vec!["shared-phone".to_owned()]);
    app.stop().await;
}

async fn devices_are_removed_by_owner_and_by_logout(backend: Backend) {
    let app = spawn_app(backend).await;
    let signed_up = app.register("001203004567", "0912345678", "matkhau123").await;
    let access = signed_up["access_token"].as_str().expect("access").to_owned();
    let refresh = signed_up["refresh_token"].as_str().expect("refresh").to_owned();
    expect_json(app.post_as(&access, "/api/v1/devices", &device("phone-one", "vi")).await, 200).await;
    expect_json(app.post_as(&access, "/api/v1/devices", &device("phone-two", "vi")).await, 200).await;
    // The same account signed in on a tablet: a sign-in of its own.
    let tablet = app.token("0912345678", "matkhau123").await;
    expect_json(app.post_as(&tablet, "/api/v1/devices", &device("tablet", "vi")).await, 200).await;

    let response =
        app.request(Method::DELETE, "/api/v1/devices/phone-two").bearer_auth(&access).send().await.expect("request");
    assert_eq!(response.status(), 204);
    let response =
        app.request(Method::DELETE, "/api/v1/devices/phone-two").bearer_auth(&access).send().await.expect("request");
    expect_error(response, 404, "not_found").await;
    let mut left = devices_of(&app, &tablet).await;
    left.sort();
    assert_eq!(left, vec!["phone-one".to_owned(), "tablet".to_owned()]);

    // Signing out of the phone's sign-in removes its token, not the tablet's.
    let response = app.post_json("/api/v1/auth/logout", &json!({"refresh_token": refresh})).await;
    assert_eq!(response.status(), 204);
    assert_eq!(devices_of(&app, &tablet).await, vec!["tablet".to_owned()]);
    app.stop().await;
}

async fn bad_device_registrations_name_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let cases = [
        (json!({"token": "", "platform": "android", "app_version": "1", "locale": "vi"}), "token"),
        (json!({"token": "x".repeat(4097), "platform": "android", "app_version": "1", "locale": "vi"}), "token"),
        (json!({"token": "có dấu", "platform": "android", "app_version": "1", "locale": "vi"}), "token"),
        (json!({"token": "a b", "platform": "android", "app_version": "1", "locale": "vi"}), "token"),
        (json!({"token": "ok", "platform": "windows", "app_version": "1", "locale": "vi"}), "platform"),
        (json!({"token": "ok", "platform": "android", "app_version": "1", "locale": "fr"}), "locale"),
        (json!({"token": "ok", "platform": "android", "app_version": "", "locale": "vi"}), "app_version"),
        (json!({"token": "ok", "platform": "android", "app_version": "9".repeat(41), "locale": "vi"}), "app_version"),
        (json!({"platform": "android", "app_version": "1", "locale": "vi"}), "token"),
    ];
    for (body, field) in cases {
        let response = app.post_as(&citizen, "/api/v1/devices", &body).await;
        let fields = expect_error(response, 422, "validation_failed").await;
        assert_eq!(fields, vec![field.to_owned()], "{body}");
    }
    let response = app
        .request(Method::POST, "/api/v1/devices")
        .bearer_auth(&citizen)
        .header("accept-language", "en")
        .json(&json!({"token": "x".repeat(4097), "platform": "android", "app_version": "1", "locale": "vi"}))
        .send()
        .await
        .expect("request");
    let body = expect_json(response, 422).await;
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.is_ascii()), "{body}");
    // The longest token accepted, and nothing without a sign-in.
    expect_json(app.post_as(&citizen, "/api/v1/devices", &device(&"y".repeat(4096), "vi")).await, 200).await;
    expect_error(app.post_json("/api/v1/devices", &device("anon", "vi")).await, 401, "unauthorized").await;
    app.stop().await;
}

async fn stale_devices_are_no_longer_listed(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    expect_json(app.post_as(&citizen, "/api/v1/devices", &device("old-phone", "vi")).await, 200).await;
    expect_json(app.post_as(&citizen, "/api/v1/devices", &device("new-phone", "vi")).await, 200).await;
    let now = chrono::Utc::now();
    let long_ago = now - chrono::Duration::days(31);
    motcua_server::on_db!(&app.state.db, write, pool => {
        sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE token = 'old-phone'").bind(long_ago).execute(pool).await
            .map(|_| ())
    })
    .expect("age the device");
    let done = motcua_server::janitor::run_once(&app.state, now).await.expect("janitor");
    assert_eq!(done.stale_devices, 1);
    assert_eq!(devices_of(&app, &citizen).await, vec!["new-phone".to_owned()]);
    let stale: Vec<(String,)> = motcua_server::on_db!(&app.state.db, read, pool => {
        sqlx::query_as("SELECT token FROM devices WHERE stale_at IS NOT NULL").fetch_all(pool).await
    })
    .expect("stale");
    assert_eq!(stale, vec![("old-phone".to_owned(),)]);
    // Registering it again revives it.
    expect_json(app.post_as(&citizen, "/api/v1/devices", &device("old-phone", "vi")).await, 200).await;
    assert_eq!(devices_of(&app, &citizen).await.len(), 2);
    app.stop().await;
}

async fn preferences_default_on_and_persist(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let path = "/api/v1/me/notification-preferences";
    let prefs = expect_json(app.get_as(&citizen, path).await, 200).await;
    assert_eq!(
        prefs,
        json!({"dossier_updates": true, "report_updates": true, "announcements": true, "ward_code": null})
    );
    let wanted = json!({"dossier_updates": false, "report_updates": true, "announcements": true, "ward_code": "00070"});
    let put = app.request(Method::PUT, path).bearer_auth(&citizen).json(&wanted).send().await.expect("request");
    assert_eq!(expect_json(put, 200).await, wanted);
    assert_eq!(expect_json(app.get_as(&citizen, path).await, 200).await, wanted);
    let bad = json!({"dossier_updates": false, "report_updates": true, "announcements": true, "ward_code": "99999"});
    let put = app.request(Method::PUT, path).bearer_auth(&citizen).json(&bad).send().await.expect("request");
    assert_eq!(expect_error(put, 422, "validation_failed").await, vec!["ward_code".to_owned()]);
    let bad = json!({"dossier_updates": "no", "report_updates": true, "announcements": true});
    let put = app.request(Method::PUT, path).bearer_auth(&citizen).json(&bad).send().await.expect("request");
    assert_eq!(expect_error(put, 422, "validation_failed").await, vec!["dossier_updates".to_owned()]);
    assert_eq!(expect_json(app.get_as(&citizen, path).await, 200).await, wanted);
    app.stop().await;
}
