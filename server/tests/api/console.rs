//! The staff web console over real HTTP, as a browser without script would use it (its
//! own cookie jar, forms posted urlencoded, redirects not followed so each step is seen):
//! sessions, CSRF, security headers, branch rules, and an officer's journey whose every
//! step is visible in the API afterwards.

use std::collections::HashMap;

use motcua_domain::form::FieldKind;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Client, Method, Response};
use serde_json::{Value, json};

use crate::both;
use crate::dossiers::{act, day, pick_procedure, submit, values_for};
use crate::helpers::{Backend, TestApp, expect_json, spawn_app};

both!(
    nothing_works_without_a_session,
    an_officer_takes_a_dossier_through_the_console,
    forms_need_the_sessions_csrf_token,
    other_branches_and_citizens_are_kept_out,
    the_queue_pages_through_every_dossier,
    the_result_document_is_attached_in_the_console,
    a_walk_in_is_filed_at_the_counter_and_found_in_the_app,
    walk_in_intake_is_refused_without_session_token_or_consistent_identity,
    the_dashboard_shows_a_branchs_figures_and_exports_them,
    the_dashboard_is_for_the_branch_or_an_admin_only,
    a_ward_handles_its_field_reports_in_the_console,
    an_admin_runs_push_campaigns_in_the_console,
    an_admin_manages_staff_accounts_in_the_console,
    a_counter_account_is_claimed_only_with_its_phone_and_citizen_id
);

/// A browser: a cookie jar (name → value; an empty value or `Max-Age=0` removes one).
struct Browser {
    client: Client,
    cookies: HashMap<String, String>,
    base: String,
    extra: Vec<(&'static str, &'static str)>,
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Browser { client, cookies: HashMap::new(), base: app.url(""), extra: Vec::new() }
    }

    fn keep(&mut self, headers: &HeaderMap) {
        for raw in headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()) {
            let pair = raw.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("a cookie");
            if value.is_empty() || raw.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    async fn send(&mut self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Response {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            let header: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", header.join("; "));
        }
        for (k, v) in &self.extra {
            request = request.header(*k, *v);
        }
        if let Some(form) = form {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(form).expect("form"));
        }
        let response = request.send().await.expect("request");
        self.keep(response.headers());
        response
    }

    /// Posts a `multipart/form-data` form (as a browser sends a form with a file input):
    /// its plain fields, then its files (field, file name, bytes).
    async fn post_files(&mut self, path: &str, fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Response {
        let boundary = "----motcuaFormBoundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (name, file_name, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut request = self.client.post(format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            let header: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", header.join("; "));
        }
        let request = request.header("content-type", format!("multipart/form-data; boundary={boundary}")).body(body);
        let response = request.send().await.expect("request");
        self.keep(response.headers());
        response
    }

    async fn get(&mut self, path: &str) -> Response {
        self.send(Method::GET, path, None).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        self.send(Method::POST, path, Some(form)).await
    }

    /// A page's HTML, expecting `status`.
    async fn page(&mut self, path: &str, status: u16) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status().as_u16(), status, "GET {path}");
        assert!(
            response.headers()["content-type"].to_str().expect("type").starts_with("text/html"),
            "GET {path} is a page"
        );
        response.text().await.expect("body")
    }

    /// Signs in through the form; returns the answer to the form's POST.
    async fn sign_in(&mut self, login: &str, password: &str) -> Response {
        let form = self.page("/console/login", 200).await;
        let csrf = hidden(&form, "csrf");
        self.post("/console/login", &[("login", login), ("password", password), ("csrf", &csrf)]).await
    }
}

/// The value of the first hidden input named `name` after `from` in `html`.
fn hidden_after(html: &str, from: usize, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html[from..].find(&marker).map(|i| from + i + marker.len()).expect("hidden input");
    let end = html[start..].find('"').expect("end of value") + start;
    html[start..end].to_owned()
}

fn hidden(html: &str, name: &str) -> String {
    hidden_after(html, 0, name)
}

/// The CSRF token and revision of the dossier page's form for `action`.
fn action_form(html: &str, action: &str) -> (String, String) {
    let at = html.find(&format!("name=\"action\" value=\"{action}\"")).unwrap_or_else(|| panic!("no {action} form"));
    let form_start = html[..at].rfind("<form").expect("form start");
    (hidden_after(html, form_start, "csrf"), hidden_after(html, form_start, "revision"))
}

fn location(response: &Response) -> String {
    response.headers()[LOCATION].to_str().expect("location").to_owned()
}

/// A citizen's dossier filed at branch H26.00, an officer of that branch; returns the
/// citizen's token, the dossier's id, code and values.
async fn filed(app: &TestApp) -> (String, String, String, Value) {
    app.clock.set(crate::dossiers::at("2027-04-13T02:00:00Z"));
    let citizen = app.citizen("001203004567", "0912345678").await;
    let procedure = pick_procedure(app).await;
    let values = values_for(app, &citizen, &procedure, day("2027-04-13")).await;
    let body = json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": values, "branch_code": "H26.00"});
    let dossier = expect_json(submit(app, &citizen, "console-1", &body).await, 201).await;
    let id = dossier["id"].as_str().expect("id").to_owned();
    let code = dossier["code"].as_str().expect("code").to_owned();
    (citizen, id, code, values)
}

async fn status_in_api(app: &TestApp, token: &str, id: &str) -> Value {
    expect_json(app.get_as(token, &format!("/api/v1/dossiers/{id}")).await, 200).await
}

async fn nothing_works_without_a_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let (citizen, id, _, _) = filed(&app).await;
    let mut anonymous = Browser::new(&app);
    for path in ["/console/queue", &format!("/console/dossiers/{id}"), &format!("/console/attachments/{id}")] {
        let response = anonymous.get(path).await;
        assert_eq!(response.status().as_u16(), 303, "GET {path}");
        assert_eq!(location(&response), "/console/login");
    }
    let path = format!("/console/dossiers/{id}/actions");
    let response =
        anonymous.post(&path, &[("action", "reject"), ("note", "x"), ("revision", "1"), ("csrf", "x")]).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/console/login");
    // A made-up session cookie is no session either.
    anonymous.cookies.insert("motcua_console".into(), "bịa-đặt".into());
    let response =
        anonymous.post(&path, &[("action", "reject"), ("note", "x"), ("revision", "1"), ("csrf", "x")]).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(status_in_api(&app, &citizen, &id).await["status"], "submitted");
    let response = anonymous.post("/console/logout", &[("csrf", "x")]).await;
    assert_eq!(response.status().as_u16(), 303);
    app.stop().await;
}

async fn an_officer_takes_a_dossier_through_the_console(backend: Backend) {
    let app = spawn_app(backend).await;
    let (citizen, id, code, values) = filed(&app).await;
    app.officer("0987654321", "H26.00").await;
    let mut officer = Browser::new(&app);

    // The sign-in page: strict headers, a CSRF cookie for its form.
    let response = officer.get("/console/login").await;
    let headers = response.headers().clone();
    assert_eq!(response.status().as_u16(), 200);
    let csp = headers["content-security-policy"].to_str().expect("csp");
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(response.text().await.expect("body").contains("Đăng nhập"));

    let signed_in = officer.sign_in("0987654321", "canbo12345").await;
    assert_eq!(signed_in.status().as_u16(), 303);
    assert_eq!(location(&signed_in), "/console/queue");
    let session = signed_in
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("motcua_console="))
        .expect("a session cookie")
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(session.contains(attribute), "{session} lacks {attribute}");
    }
    assert!(!session.contains("Secure"), "plain HTTP: not Secure ({session})");

    // The queue shows the branch's dossier; the filter narrows it.
    let queue = officer.page("/console/queue", 200).await;
    assert!(queue.contains(&code), "{queue}");
    assert!(queue.contains("Chưa tiếp nhận"));
    let approved_only = officer.page("/console/queue?status=approved", 200).await;
    assert!(!approved_only.contains(&code));
    let procedure = pick_procedure(&app).await;
    let this_one = officer.page(&format!("/console/queue?procedure={}&status=submitted", procedure.code), 200).await;
    assert!(this_one.contains(&code));
    let changes = expect_json(app.get("/api/v1/catalogue/changes").await, 200).await;
    let other = changes["procedures"]
        .as_array()
        .expect("procedures")
        .iter()
        .filter_map(|p| p["code"].as_str())
        .find(|c| *c != procedure.code)
        .expect("another procedure");
    let another = officer.page(&format!("/console/queue?procedure={other}"), 200).await;
    assert!(!another.contains(&code), "filtered by procedure");
    officer.page("/console/queue?procedure=khong-co", 422).await;
    // The API's rule for a query string: a parameter given twice is refused, by name.
    let twice = officer.page("/console/queue?status=approved&status=submitted", 400).await;
    assert!(twice.contains("status"), "{twice}");

    // The dossier: its values under the form's labels, its papers as links, and only what
    // the workflow allows from "submitted" (receive, reject).
    let page = officer.page(&format!("/console/dossiers/{id}"), 200).await;
    let labelled = procedure.form.fields.iter().find(|f| values.get(&f.key).is_some()).expect("a filled field");
    assert!(page.contains(&labelled.label.vi), "label {} missing", labelled.label.vi);
    let link = page.find("href=\"/console/attachments/").expect("an attachment link");
    let href = &page[link + 6..link + 6 + page[link + 6..].find('"').expect("end")];
    // Named by its file name, and an image is shown in the page.
    assert!(page[link..].starts_with(&format!("href=\"{href}\" target=\"_blank\" rel=\"noopener\">")));
    assert!(page[link..page[link..].find("</a>").expect("link end") + link].ends_with(".png"), "named by its file");
    assert!(page.contains(&format!("<img class=\"paper\" src=\"{href}\"")), "the image is in the page");
    let paper = officer.get(href).await;
    assert_eq!(paper.status().as_u16(), 200);
    assert!(paper.bytes().await.expect("bytes").starts_with(&[0x89, b'P', b'N', b'G']));
    assert!(page.contains("value=\"receive\"") && page.contains("value=\"reject\""));
    for absent in ["approve", "return_result", "request_supplement", "start_processing"] {
        assert!(!page.contains(&format!("value=\"{absent}\"")), "{absent} offered from submitted");
    }

    // Receive, then ask for a supplement naming what is missing.
    let (csrf, revision) = action_form(&page, "receive");
    let actions = format!("/console/dossiers/{id}/actions");
    let done = officer.post(&actions, &[("csrf", &csrf), ("revision", &revision), ("action", "receive")]).await;
    assert_eq!(done.status().as_u16(), 303);
    assert_eq!(location(&done), format!("/console/dossiers/{id}"));
    let page = officer.page(&format!("/console/dossiers/{id}"), 200).await;
    assert!(page.contains("Đã tiếp nhận"));
    let (csrf, revision) = action_form(&page, "request_supplement");
    let missing = "Bản sao giấy khai sinh <rõ nét hơn>";
    let done = officer
        .post(
            &actions,
            &[("csrf", &csrf), ("revision", &revision), ("action", "request_supplement"), ("note", missing)],
        )
        .await;
    assert_eq!(done.status().as_u16(), 303);
    let page = officer.page(&format!("/console/dossiers/{id}"), 200).await;
    assert!(page.contains("Bản sao giấy khai sinh &lt;rõ nét hơn&gt;"), "the note is shown, escaped");
    assert!(!page.contains("value=\"approve\""), "no approval while waiting for the citizen");

    // The citizen answers through the API; the officer sees it and approves.
    let answered = app
        .post_as(
            &citizen,
            &format!("/api/v1/dossiers/{id}/supplement"),
            &json!({"values": values, "note": "Đã bổ sung"}),
        )
        .await;
    assert_eq!(expect_json(answered, 200).await["status"], "in_processing");
    let page = officer.page(&format!("/console/dossiers/{id}"), 200).await;
    assert!(page.contains("Đã bổ sung"));
    let (csrf, revision) = action_form(&page, "approve");
    let done = officer.post(&actions, &[("csrf", &csrf), ("revision", &revision), ("action", "approve")]).await;
    assert_eq!(done.status().as_u16(), 303);

    // The API shows every step, by the officer, with the note.
    let dossier = status_in_api(&app, &citizen, &id).await;
    assert_eq!(dossier["status"], "approved");
    let steps: Vec<&str> =
        dossier["timeline"].as_array().expect("timeline").iter().map(|e| e["action"].as_str().expect("a")).collect();
    assert_eq!(steps, ["submit", "receive", "request_supplement", "answer_supplement", "approve"]);
    assert_eq!(dossier["timeline"][2]["note"], missing);
    assert_eq!(dossier["timeline"][4]["actor_role"], "officer");

    // English on request; then sign out, and the old cookie opens nothing.
    officer.cookies.insert("lang".into(), "en".into());
    let page = officer.page(&format!("/console/dossiers/{id}"), 200).await;
    assert!(page.contains("Return the result") && page.contains("lang=\"en\""));
    officer.cookies.remove("lang");
    let stale = officer.cookies.clone();
    let queue = officer.page("/console/queue", 200).await;
    let out = officer.post("/console/logout", &[("csrf", &hidden(&queue, "csrf"))]).await;
    assert_eq!(out.status().as_u16(), 303);
    assert!(!officer.cookies.contains_key("motcua_console"), "the cookie is cleared");
    officer.cookies = stale;
    let response = officer.get("/console/queue").await;
    assert_eq!(response.status().as_u16(), 303, "the session ended on the server");
    app.stop().await;
}

async fn forms_need_the_sessions_csrf_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let (citizen, id, _, _) = filed(&app).await;
    app.officer("0987654321", "H26.00").await;
    let mut officer = Browser::new(&app);
    assert_eq!(officer.sign_in("0987654321", "canbo12345").await.status().as_u16(), 303);
    let page = officer.page(&format!("/console/dossiers/{id}"), 200).await;
    let (csrf, revision) = action_form(&page, "receive");
    let actions = format!("/console/dossiers/{id}/actions");

    let missing = officer.post(&actions, &[("revision", &revision), ("action", "receive")]).await;
    assert_eq!(missing.status().as_u16(), 403);
    let wrong = officer.post(&actions, &[("csrf", "AAAA"), ("revision", &revision), ("action", "receive")]).await;
    assert_eq!(wrong.status().as_u16(), 403);
    // Another session's token is not this one's.
    let mut other = Browser::new(&app);
    assert_eq!(other.sign_in("0987654321", "canbo12345").await.status().as_u16(), 303);
    let others = hidden(&other.page("/console/queue", 200).await, "csrf");
    assert_ne!(others, csrf);
    let foreign = officer.post(&actions, &[("csrf", &others), ("revision", &revision), ("action", "receive")]).await;
    assert_eq!(foreign.status().as_u16(), 403);
    let logout = officer.post("/console/logout", &[]).await;
    assert_eq!(logout.status().as_u16(), 403, "signing out takes the token too");
    assert_eq!(status_in_api(&app, &citizen, &id).await["status"], "submitted");

    // The sign-in form's own token: without it nobody is signed in.
    let mut fresh = Browser::new(&app);
    fresh.page("/console/login", 200).await;
    let forged = fresh.post("/console/login", &[("login", "0987654321"), ("password", "canbo12345")]).await;
    assert_eq!(forged.status().as_u16(), 403);
    assert!(!fresh.cookies.contains_key("motcua_console"));

    // A stale revision (the page was read before a change) is refused; the right token
    // and revision act.
    act(&app, &app.officer("0987654322", "H26.00").await, &id, "receive", None).await;
    let stale = officer
        .post(&actions, &[("csrf", &csrf), ("revision", &revision), ("action", "reject"), ("note", "Thiếu giấy")])
        .await;
    assert_eq!(stale.status().as_u16(), 409);
    let page = officer.page(&format!("/console/dossiers/{id}"), 200).await;
    let (csrf, revision) = action_form(&page, "start_processing");
    let ok = officer.post(&actions, &[("csrf", &csrf), ("revision", &revision), ("action", "start_processing")]).await;
    assert_eq!(ok.status().as_u16(), 303);
    assert_eq!(status_in_api(&app, &citizen, &id).await["status"], "in_processing");
    // A note the workflow needs is asked for, in the page's language.
    let page = officer.page(&format!("/console/dossiers/{id}"), 200).await;
    let (csrf, revision) = action_form(&page, "reject");
    officer.extra.push(("accept-language", "en"));
    let unreasoned = officer.post(&actions, &[("csrf", &csrf), ("revision", &revision), ("action", "reject")]).await;
    assert_eq!(unreasoned.status().as_u16(), 422);
    assert!(unreasoned.text().await.expect("body").contains("lang=\"en\""));
    app.stop().await;
}

async fn other_branches_and_citizens_are_kept_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let (citizen, id, code, _) = filed(&app).await;
    app.officer("0987654321", "H26.00").await;
    app.officer("0987654399", "H26.01").await;

    // An officer of another branch: not in their queue, no page, no action, no paper.
    let mut elsewhere = Browser::new(&app);
    assert_eq!(elsewhere.sign_in("0987654399", "canbo12345").await.status().as_u16(), 303);
    let queue = elsewhere.page("/console/queue", 200).await;
    assert!(!queue.contains(&code));
    elsewhere.page(&format!("/console/dossiers/{id}"), 404).await;
    let csrf = hidden(&queue, "csrf");
    let response = elsewhere
        .post(&format!("/console/dossiers/{id}/actions"), &[("csrf", &csrf), ("revision", "1"), ("action", "receive")])
        .await;
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(status_in_api(&app, &citizen, &id).await["status"], "submitted");
    let mut home = Browser::new(&app);
    assert_eq!(home.sign_in("0987654321", "canbo12345").await.status().as_u16(), 303);
    let page = home.page(&format!("/console/dossiers/{id}"), 200).await;
    let link = page.find("href=\"/console/attachments/").expect("an attachment link");
    let href = page[link + 6..link + 6 + page[link + 6..].find('"').expect("end")].to_owned();
    assert_eq!(home.get(&href).await.status().as_u16(), 200);
    assert_eq!(elsewhere.get(&href).await.status().as_u16(), 404);

    // A citizen, with the right password, gets no session; a wrong password neither.
    let mut person = Browser::new(&app);
    let refused = person.sign_in("0912345678", "matkhau123").await;
    assert_eq!(refused.status().as_u16(), 403);
    assert!(refused.text().await.expect("body").contains("Tài khoản công dân"));
    assert!(!person.cookies.contains_key("motcua_console"));
    let wrong = person.sign_in("0987654321", "sai-mat-khau-1").await;
    assert_eq!(wrong.status().as_u16(), 401);
    assert!(!person.cookies.contains_key("motcua_console"));
    assert_eq!(person.get("/console/queue").await.status().as_u16(), 303);

    // A session lasts a working day (eight hours), then signs in again.
    app.clock.set(crate::dossiers::at("2027-04-13T09:59:00Z"));
    assert_eq!(home.get("/console/queue").await.status().as_u16(), 200);
    app.clock.set(crate::dossiers::at("2027-04-13T10:00:01Z"));
    let expired = home.get("/console/queue").await;
    assert_eq!(expired.status().as_u16(), 303);
    assert_eq!(location(&expired), "/console/login");
    app.stop().await;
}

async fn the_queue_pages_through_every_dossier(backend: Backend) {
    let app = spawn_app(backend).await;
    let (citizen, _, first, values) = filed(&app).await;
    let procedure = pick_procedure(&app).await;
    let body = json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": values, "branch_code": "H26.00"});
    let mut codes = vec![first];
    for i in 0..27 {
        let dossier = expect_json(submit(&app, &citizen, &format!("page-{i}"), &body).await, 201).await;
        codes.push(dossier["code"].as_str().expect("code").to_owned());
    }
    app.officer("0987654321", "H26.00").await;
    let mut officer = Browser::new(&app);
    assert_eq!(officer.sign_in("0987654321", "canbo12345").await.status().as_u16(), 303);
    // Filtered by procedure and status, page after page (25 a page): every dossier once.
    let mut path = format!("/console/queue?procedure={}&status=submitted", procedure.code);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = officer.page(&path, 200).await;
        pages += 1;
        seen.extend(codes.iter().filter(|c| page.contains(c.as_str())).cloned());
        let Some(at) = page.find("rel=\"next\" href=\"") else { break };
        let start = at + "rel=\"next\" href=\"".len();
        path = page[start..start + page[start..].find('"').expect("end")].replace("&amp;", "&");
        assert!(path.contains("procedure=") && path.contains("status=submitted"), "{path}");
    }
    assert_eq!(pages, 2);
    seen.sort();
    codes.sort();
    assert_eq!(seen, codes);
    app.stop().await;
}

async fn the_result_document_is_attached_in_the_console(backend: Backend) {
    let app = spawn_app(backend).await;
    let (citizen, id, _, _) = filed(&app).await;
    let token = app.officer("0987654321", "H26.00").await;
    app.officer("0987654399", "H26.01").await;
    for action in ["receive", "start_processing"] {
        act(&app, &token, &id, action, None).await;
    }
    let mut officer = Browser::new(&app);
    assert_eq!(officer.sign_in("0987654321", "canbo12345").await.status().as_u16(), 303);
    let path = format!("/console/dossiers/{id}/result");
    let page = officer.page(&format!("/console/dossiers/{id}"), 200).await;
    assert!(page.contains("Chưa có văn bản kết quả."));
    assert!(!page.contains("name=\"file\""), "no result form before a decision");
    // The papers are framed by this page only (a PDF shows in the page, nothing else frames it).
    let link = page.find("href=\"/console/attachments/").expect("an attachment link");
    let href = page[link + 6..link + 6 + page[link + 6..].find('"').expect("end")].to_owned();
    let paper = officer.get(&href).await;
    assert_eq!(paper.headers()["x-frame-options"], "SAMEORIGIN");
    let csp = paper.headers()["content-security-policy"].to_str().expect("csp").to_owned();
    assert!(csp.contains("frame-ancestors 'self'") && csp.contains("default-src 'none'"), "{csp}");
    let revision = hidden(&page, "revision");
    let csrf = hidden(&page, "csrf");
    let pdf = crate::results::DECISION_PDF;
    let too_early =
        officer.post_files(&path, &[("csrf", &csrf), ("revision", &revision)], &[("file", "qd.pdf", pdf)]).await;
    assert_eq!(too_early.status().as_u16(), 409);
    act(&app, &token, &id, "approve", None).await;

    let page = officer.page(&format!("/console/dossiers/{id}"), 200).await;
    assert!(page.contains("enctype=\"multipart/form-data\"") && page.contains("id=\"result-file\""));
    let at = page.find("id=\"result-h\"").expect("result section");
    let revision = hidden_after(&page, at, "revision");
    let fields = [("csrf", csrf.as_str()), ("revision", revision.as_str())];
    let files: [(&str, &str, &[u8]); 1] = [("file", "Quyết định cấp phép.pdf", pdf)];

    // No session, no token, another session's token, another branch: nothing attached.
    let mut anonymous = Browser::new(&app);
    let response = anonymous.post_files(&path, &fields, &files).await;
    assert_eq!((response.status().as_u16(), location(&response)), (303, "/console/login".to_owned()));
    let no_token = officer.post_files(&path, &[("revision", &revision)], &files).await;
    assert_eq!(no_token.status().as_u16(), 403);
    let mut elsewhere = Browser::new(&app);
    assert_eq!(elsewhere.sign_in("0987654399", "canbo12345").await.status().as_u16(), 303);
    let theirs = hidden(&elsewhere.page("/console/queue", 200).await, "csrf");
    let forged = officer.post_files(&path, &[("csrf", &theirs), ("revision", &revision)], &files).await;
    assert_eq!(forged.status().as_u16(), 403);
    let other_branch = elsewhere.post_files(&path, &[("csrf", &theirs), ("revision", &revision)], &files).await;
    assert_eq!(other_branch.status().as_u16(), 404);
    let no_file = officer.post_files(&path, &fields, &[("file", "", b"")]).await;
    assert_eq!(no_file.status().as_u16(), 422);
    let not_a_pdf = officer.post_files(&path, &fields, &[("file", "virus.pdf", b"MZ\x90\0 not a pdf")]).await;
    assert_eq!(not_a_pdf.status().as_u16(), 422);
    assert!(status_in_api(&app, &token, &id).await.get("result_document").is_none());

    let done = officer.post_files(&path, &fields, &files).await;
    assert_eq!(done.status().as_u16(), 303, "{}", done.text().await.unwrap_or_default());
    let page = officer.page(&format!("/console/dossiers/{id}"), 200).await;
    assert!(page.contains("Quyết định cấp phép.pdf") && page.contains("Đính kèm văn bản kết quả"));
    assert!(page.contains(&format!("href=\"{path}\"")));
    let file = officer.get(&path).await;
    assert_eq!(file.status().as_u16(), 200);
    assert!(file.headers()["content-disposition"].to_str().expect("cd").starts_with("attachment;"));
    assert_eq!(file.bytes().await.expect("bytes").as_ref(), pdf);
    assert_eq!(elsewhere.get(&path).await.status().as_u16(), 404);

    // Returned through the console; the citizen downloads it from the API.
    let page = officer.page(&format!("/console/dossiers/{id}"), 200).await;
    let (csrf, revision) = action_form(&page, "return_result");
    let actions = format!("/console/dossiers/{id}/actions");
    let done = officer.post(&actions, &[("csrf", &csrf), ("revision", &revision), ("action", "return_result")]).await;
    assert_eq!(done.status().as_u16(), 303);
    let file = app
        .request(Method::GET, &format!("/api/v1/dossiers/{id}/result"))
        .bearer_auth(&citizen)
        .send()
        .await
        .expect("request");
    assert_eq!(file.status().as_u16(), 200);
    assert_eq!(file.bytes().await.expect("bytes").as_ref(), pdf);
    app.stop().await;
}

/// The intake form for `procedure`, as the officer's browser got it: its hidden fields.
async fn intake_form(officer: &mut Browser, procedure: &str) -> Vec<(String, String)> {
    let page = officer.page(&format!("/console/intake/new?procedure={procedure}"), 200).await;
    ["csrf", "key", "procedure", "form_version"].iter().map(|n| ((*n).to_owned(), hidden(&page, n))).collect()
}

async fn post_intake(
    officer: &mut Browser,
    fields: &[(String, String)],
    files: &[(String, String, Vec<u8>)],
) -> Response {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let files: Vec<(&str, &str, &[u8])> =
        files.iter().map(|(k, n, b)| (k.as_str(), n.as_str(), b.as_slice())).collect();
    officer.post_files("/console/intake", &fields, &files).await
}

async fn a_walk_in_is_filed_at_the_counter_and_found_in_the_app(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(crate::dossiers::at("2027-04-13T02:00:00Z"));
    app.officer("0987654321", "H26.00").await;
    let procedure = pick_procedure(&app).await;
    let mut officer = Browser::new(&app);
    assert_eq!(officer.sign_in("0987654321", "canbo12345").await.status().as_u16(), 303);
    let choose = officer.page("/console/intake", 200).await;
    assert!(choose.contains(&format!("value=\"{}\"", procedure.code)), "the procedure is offered");

    let values = crate::forms::valid_values(&procedure.form, day("2027-04-13"), &mut |doc| vec![doc.to_owned()]);
    let mut form = intake_form(&mut officer, &procedure.code).await;
    let papers = crate::intake_form::intake_fields(&procedure.form.fields, &values, "v.", &mut form);
    assert!(papers.len() >= 2);
    let scan_pdf = b"%PDF-1.7\n% to khai ky tai quay\n%%EOF\n".to_vec();
    let mut photo = crate::dossiers::PNG.to_vec();
    photo.extend_from_slice(b"giay-to-quay");
    let files = vec![
        (format!("f.{}", papers[0]), "to-khai.pdf".to_owned(), scan_pdf.clone()),
        (format!("f.{}", papers[1]), "giay-to.png".to_owned(), photo),
    ];

    // A new citizen: naming them by citizen id alone is not enough to make an account.
    let mut first = form.clone();
    first.push(("citizen_id".into(), "001203004999".into()));
    let back = post_intake(&mut officer, &first, &files).await;
    assert_eq!(back.status().as_u16(), 422);
    let page = back.text().await.expect("body");
    assert!(page.contains("role=\"alert\"") && page.contains("Số điện thoại"), "names the phone");
    assert!(page.contains("value=\"001203004999\""), "what was typed stays");

    // With the phone and name, but a required answer left out: the form comes back with
    // what was typed and the papers kept.
    let required = procedure
        .form
        .fields
        .iter()
        .find(|f| f.required && f.visible_when.is_none() && matches!(f.kind, FieldKind::Text { .. }))
        .expect("a required text field");
    let who = [
        ("citizen_id".to_owned(), "001203004999".to_owned()),
        ("phone".to_owned(), "0912 888 777".to_owned()),
        ("full_name".to_owned(), "Lê Thị Quầy".to_owned()),
    ];
    let incomplete: Vec<(String, String)> =
        form.iter().filter(|(k, _)| *k != format!("v.{}", required.key)).cloned().chain(who.clone()).collect();
    let back = post_intake(&mut officer, &incomplete, &files).await;
    assert_eq!(back.status().as_u16(), 422);
    let page = back.text().await.expect("body");
    assert!(page.contains(&format!("{}: ", required.label.vi)), "names the field by its label");
    assert!(page.contains("value=\"Lê Thị Quầy\""));
    let kept = format!("name=\"a.{}\" value=\"", papers[0]);
    let at = page.find(&kept).expect("the first paper is kept") + kept.len();
    let kept_id = page[at..at + page[at..].find('"').expect("end")].to_owned();
    assert!(page.contains("Đã nhận: to-khai.pdf"));

    // Complete, with the kept PDF and the photo again: filed, received.
    let mut second = form.clone();
    second.extend(who);
    second.push((format!("a.{}", papers[0]), kept_id));
    let filed = post_intake(&mut officer, &second, &files[1..]).await;
    assert_eq!(filed.status().as_u16(), 303);
    let receipt_path = location(&filed);
    assert!(receipt_path.starts_with("/console/dossiers/") && receipt_path.ends_with("/receipt"), "{receipt_path}");
    let id = receipt_path.trim_start_matches("/console/dossiers/").trim_end_matches("/receipt").to_owned();
    // The same form posted twice files one dossier.
    let again = post_intake(&mut officer, &second, &files[1..]).await;
    assert_eq!((again.status().as_u16(), location(&again)), (303, receipt_path.clone()));

    let token = app.token("0987654321", "canbo12345").await;
    let dossier = status_in_api(&app, &token, &id).await;
    assert_eq!(dossier["status"], "received");
    assert_eq!(dossier["applicant_name"], "Lê Thị Quầy");
    assert_eq!(dossier["branch_code"], "H26.00");
    let steps: Vec<&str> =
        dossier["timeline"].as_array().expect("timeline").iter().map(|e| e["action"].as_str().expect("a")).collect();
    assert_eq!(steps, ["submit", "receive"]);
    assert_eq!(dossier["timeline"][1]["note"], "Tiếp nhận trực tiếp tại quầy");

    // The receipt: code, appointment date (the legal due date), tracking verifier; print-ready.
    let receipt = officer.page(&receipt_path, 200).await;
    let code = dossier["code"].as_str().expect("code");
    let due = chrono::NaiveDate::parse_from_str(dossier["due_date"].as_str().expect("due"), "%Y-%m-%d").expect("date");
    assert!(receipt.contains(&format!("<dd id=\"receipt-code\">{code}</dd>")));
    assert!(receipt.contains(&format!("<dd id=\"receipt-due\">{}</dd>", due.format("%d/%m/%Y"))));
    let verifier = dossier["tracking_verifier"].as_str().expect("verifier");
    assert!(receipt.contains(&format!("<dd id=\"receipt-verifier\">{verifier}</dd>")));
    assert!(receipt.contains("to-khai.pdf") && receipt.contains("giay-to.png"));
    let tracked = app.get(&format!("/api/v1/public/dossiers/{code}?verifier={verifier}")).await;
    assert_eq!(tracked.status().as_u16(), 200, "the receipt's pair tracks the dossier");
    let css = officer.get("/console/static/console.css").await.text().await.expect("css");
    assert!(css.contains("@media print"));

    // The PDF is shown in the dossier page (framed), the photo as an image.
    let page = officer.page(&format!("/console/dossiers/{id}"), 200).await;
    assert!(page.contains("<iframe class=\"paper\" src=\"/console/attachments/"), "the PDF is framed in the page");
    assert!(page.contains("<img class=\"paper\""));

    // The citizen cannot sign in yet (no password); registering with the same citizen id and
    // phone takes the counter account over, and the dossier is in the app.
    let login = app.post_json("/api/v1/auth/login", &json!({"login": "0912888777", "password": "matkhau123"})).await;
    assert_eq!(login.status().as_u16(), 401);
    let citizen = app.citizen("001203004999", "0912888777").await;
    let mine = expect_json(app.get_as(&citizen, "/api/v1/dossiers").await, 200).await;
    let codes: Vec<&str> = mine["items"].as_array().expect("items").iter().filter_map(|d| d["code"].as_str()).collect();
    assert_eq!(codes, [code]);
    let seen = status_in_api(&app, &citizen, &id).await;
    assert_eq!(seen["tracking_verifier"], verifier);
    let paper = seen["values"][&papers[0]][0].as_str().expect("a paper id").to_owned();
    let file = app.get_as(&citizen, &format!("/api/v1/attachments/{paper}/content")).await;
    assert_eq!(file.bytes().await.expect("bytes").as_ref(), scan_pdf.as_slice(), "the scan is the citizen's");

    // A second walk-in of the same citizen, by phone only: the same account.
    let mut form = intake_form(&mut officer, &procedure.code).await;
    crate::intake_form::intake_fields(&procedure.form.fields, &values, "v.", &mut form);
    form.push(("phone".into(), "+84912888777".into()));
    let filed = post_intake(&mut officer, &form, &files).await;
    assert_eq!(filed.status().as_u16(), 303);
    let mine = expect_json(app.get_as(&citizen, "/api/v1/dossiers").await, 200).await;
    assert_eq!(mine["items"].as_array().expect("items").len(), 2);
    app.stop().await;
}

async fn queue_length(app: &TestApp, token: &str) -> usize {
    expect_json(app.get_as(token, "/api/v1/dossiers").await, 200).await["items"].as_array().expect("items").len()
}

async fn walk_in_intake_is_refused_without_session_token_or_consistent_identity(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, id, _, _) = filed(&app).await;
    app.officer("0987654321", "H26.00").await;
    app.officer("0987654399", "H26.01").await;
    app.citizen("001203007777", "0912777777").await;
    let procedure = pick_procedure(&app).await;
    let values = crate::forms::valid_values(&procedure.form, day("2027-04-13"), &mut |doc| vec![doc.to_owned()]);
    let mut officer = Browser::new(&app);
    assert_eq!(officer.sign_in("0987654321", "canbo12345").await.status().as_u16(), 303);
    let mut form = intake_form(&mut officer, &procedure.code).await;
    let papers = crate::intake_form::intake_fields(&procedure.form.fields, &values, "v.", &mut form);
    let mut photo = crate::dossiers::PNG.to_vec();
    photo.extend_from_slice(b"refused");
    let files: Vec<(String, String, Vec<u8>)> =
        papers.iter().map(|p| (format!("f.{p}"), "scan.png".to_owned(), photo.clone())).collect();
    let officer_token = app.token("0987654321", "canbo12345").await;
    let before = queue_length(&app, &officer_token).await;

    // No session: to the sign-in page; every intake page too.
    let mut anonymous = Browser::new(&app);
    for path in [
        "/console/intake",
        &format!("/console/intake/new?procedure={}", procedure.code),
        &format!("/console/dossiers/{id}/receipt"),
    ] {
        assert_eq!(anonymous.get(path).await.status().as_u16(), 303, "GET {path}");
    }
    let mut with = form.clone();
    with.extend([("citizen_id".to_owned(), "001203004567".to_owned())]);
    let response = post_intake(&mut anonymous, &with, &files).await;
    assert_eq!((response.status().as_u16(), location(&response)), (303, "/console/login".to_owned()));
    // No token, or another session's.
    let no_token: Vec<(String, String)> = with.iter().filter(|(k, _)| k != "csrf").cloned().collect();
    assert_eq!(post_intake(&mut officer, &no_token, &files).await.status().as_u16(), 403);
    let mut other = Browser::new(&app);
    assert_eq!(other.sign_in("0987654399", "canbo12345").await.status().as_u16(), 303);
    let theirs = hidden(&other.page("/console/queue", 200).await, "csrf");
    let forged: Vec<(String, String)> = with
        .iter()
        .map(|(k, v)| if k == "csrf" { (k.clone(), theirs.clone()) } else { (k.clone(), v.clone()) })
        .collect();
    assert_eq!(post_intake(&mut officer, &forged, &files).await.status().as_u16(), 403);
    // Another branch's officer does not see this branch's receipt.
    other.page(&format!("/console/dossiers/{id}/receipt"), 404).await;
    officer.page(&format!("/console/dossiers/{id}/receipt"), 200).await;

    // A citizen id and a phone of two different accounts; a staff member's phone.
    let mut split = form.clone();
    split.extend([("citizen_id".to_owned(), "001203004567".to_owned()), ("phone".to_owned(), "0912777777".to_owned())]);
    let response = post_intake(&mut officer, &split, &files).await;
    assert_eq!(response.status().as_u16(), 422);
    let mut staff = form.clone();
    staff.extend([("phone".to_owned(), "0987654399".to_owned())]);
    assert_eq!(post_intake(&mut officer, &staff, &files).await.status().as_u16(), 422);
    // A procedure that does not exist; a form that does not validate (in English on request).
    let mut unknown = with.clone();
    for (k, v) in unknown.iter_mut() {
        if k == "procedure" {
            *v = "khong-co".into();
        }
    }
    assert_eq!(post_intake(&mut officer, &unknown, &files).await.status().as_u16(), 422);
    let empty: Vec<(String, String)> =
        form.iter().cloned().chain([("citizen_id".to_owned(), "001203004567".to_owned())]).collect();
    officer.extra.push(("accept-language", "en"));
    let response = post_intake(&mut officer, &empty, &[]).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(response.text().await.expect("body").contains("lang=\"en\""));
    assert_eq!(queue_length(&app, &officer_token).await, before, "nothing was filed");
    app.stop().await;
}

/// The text of the element with id `id` in `html`.
fn element_text(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no #{id}")) + marker.len();
    html[start..start + html[start..].find('<').expect("end")].to_owned()
}

async fn the_dashboard_shows_a_branchs_figures_and_exports_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let (citizen, id, _, values) = filed(&app).await;
    let token = app.officer("0987654321", "H26.00").await;
    for action in ["receive", "start_processing", "approve"] {
        act(&app, &token, &id, action, None).await;
    }
    // Another branch's dossier, which this branch's figures leave out.
    let procedure = pick_procedure(&app).await;
    let body = json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": values, "branch_code": "H26.01"});
    let other = expect_json(submit(&app, &citizen, "dashboard-2", &body).await, 201).await;
    let elsewhere = app.officer("0987654399", "H26.01").await;
    act(&app, &elsewhere, other["id"].as_str().expect("id"), "receive", None).await;

    let mut officer = Browser::new(&app);
    assert_eq!(officer.sign_in("0987654321", "canbo12345").await.status().as_u16(), 303);
    let page = officer.page("/console/dashboard?from=2027-04-01&to=2027-04-30&branch=H26.01", 200).await;
    let api = expect_json(app.get_as(&token, "/api/v1/stats?from=2027-04-01&to=2027-04-30").await, 200).await;
    assert_eq!(api["branch"], "H26.00");
    assert!(page.contains("Chi nhánh H26.00"), "an officer sees their own branch, whatever they ask");
    assert_eq!(element_text(&page, "fig-received"), api["totals"]["received"].to_string());
    assert_eq!(element_text(&page, "fig-received"), "1");
    assert_eq!(element_text(&page, "fig-decided"), "1");
    assert!(element_text(&page, "fig-on-time").starts_with("100.0 %"));
    assert_eq!(element_text(&page, "fig-overdue"), "0");
    assert!(page.contains("<svg") && page.contains("role=\"img\""), "charts drawn on the server");
    assert!(page.contains("Cán bộ Tiếp nhận"), "by officer");
    assert_eq!(api["by_officer"][0]["decided"], 1);
    assert!(page.contains(&procedure.name));
    assert!(page.contains("Phản ánh hiện trường"));

    let file = officer.get("/console/dashboard.csv?from=2027-04-01&to=2027-04-30").await;
    assert_eq!(file.status().as_u16(), 200);
    assert_eq!(file.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = file.headers()["content-disposition"].to_str().expect("cd").to_owned();
    assert_eq!(disposition, "attachment; filename=\"motcua-H26.00-2027-04-01-2027-04-30.csv\"");
    let text = file.text().await.expect("csv");
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("section,key,name,received,"));
    assert!(lines.contains(&"dossiers_total,H26.00,,1,1,1,1.0000,0,0,"), "{text}");
    assert!(
        lines.iter().any(|l| l.starts_with("dossiers_officer,") && l.contains(",Cán bộ Tiếp nhận,1,1,1,")),
        "{text}"
    );
    assert!(lines.iter().any(|l| l.starts_with("reports_total,")));
    assert!(!text.contains("H26.01"), "nothing of the other branch");

    // Days beyond the allowed span or in the wrong order: named, in a page.
    officer.page("/console/dashboard?from=2025-01-01&to=2027-04-30", 422).await;
    officer.page("/console/dashboard?from=2027-05-01&to=2027-04-30", 422).await;
    officer.page("/console/dashboard?from=hom-qua", 422).await;
    app.stop().await;
}

async fn the_dashboard_is_for_the_branch_or_an_admin_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, id, _, _) = filed(&app).await;
    let token = app.officer("0987654321", "H26.00").await;
    act(&app, &token, &id, "receive", None).await;
    let mut anonymous = Browser::new(&app);
    for path in ["/console/dashboard", "/console/dashboard.csv"] {
        let response = anonymous.get(path).await;
        assert_eq!((response.status().as_u16(), location(&response)), (303, "/console/login".to_owned()), "{path}");
    }
    app.agency_officer("0987000011", "HN.SXD", "Trần Văn Chuyên Viên").await;
    let mut agency = Browser::new(&app);
    assert_eq!(agency.sign_in("0987000011", "chuyenvien123").await.status().as_u16(), 303);
    agency.page("/console/dashboard", 403).await;
    assert_eq!(agency.get("/console/dashboard.csv").await.status().as_u16(), 403);

    let out = app
        .operator(&["user", "add", "--role", "admin", "--phone", "0987000099", "--name", "Quản trị"], "quantri123\n");
    assert!(out.status.success());
    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("0987000099", "quantri123").await.status().as_u16(), 303);
    let whole = admin.page("/console/dashboard?from=2027-04-01&to=2027-04-30", 200).await;
    assert!(whole.contains("Toàn trung tâm"));
    assert_eq!(element_text(&whole, "fig-received"), "1");
    let other = admin.page("/console/dashboard?from=2027-04-01&to=2027-04-30&branch=H26.01", 200).await;
    assert_eq!(element_text(&other, "fig-received"), "0");
    admin.page("/console/dashboard?branch=KHONG-CO", 422).await;
    app.stop().await;
}

async fn a_ward_handles_its_field_reports_in_the_console(backend: Backend) {
    use crate::reports::{LAKE, file, jpeg_with_gps, report_body};
    let app = spawn_app(backend).await;
    let reporter = app.citizen("001203004567", "0912345678").await;
    app.officer("0911222333", "HN.00070").await;
    app.officer("0911222444", "HN.00004").await;
    let mut ids = Vec::new();
    for i in 0..3u8 {
        let photo = crate::dossiers::upload_whole(&app, &reporter, &jpeg_with_gps(10 + i), "anh.jpg").await;
        let filed =
            expect_json(file(&app, &reporter, &format!("c-{i}"), &report_body("rac-thai", &[photo], LAKE)).await, 201)
                .await;
        ids.push((filed["id"].as_str().expect("id").to_owned(), filed["code"].as_str().expect("code").to_owned()));
    }
    let mut ward = Browser::new(&app);
    assert_eq!(ward.sign_in("0911222333", "canbo12345").await.status().as_u16(), 303);
    let mut other = Browser::new(&app);
    assert_eq!(other.sign_in("0911222444", "canbo12345").await.status().as_u16(), 303);
    let queue = ward.page("/console/reports", 200).await;
    assert!(ids.iter().all(|(_, code)| queue.contains(code.as_str())), "the ward's reports");
    let elsewhere = other.page("/console/reports", 200).await;
    assert!(!ids.iter().any(|(_, code)| elsewhere.contains(code.as_str())), "not another ward's");
    let (first, _) = &ids[0];
    other.page(&format!("/console/reports/{first}"), 404).await;

    let page = ward.page(&format!("/console/reports/{first}"), 200).await;
    let csrf = hidden(&page, "csrf");
    let actions = format!("/console/reports/{first}/actions");
    let status = |id: String| {
        let (app, reporter) = (&app, &reporter);
        async move { expect_json(app.get_as(reporter, &format!("/api/v1/reports/{id}")).await, 200).await["status"].clone() }
    };
    // No session, no token, another ward: nothing moves.
    let mut anonymous = Browser::new(&app);
    let response = anonymous.post_files(&actions, &[("csrf", &csrf), ("action", "assign")], &[]).await;
    assert_eq!((response.status().as_u16(), location(&response)), (303, "/console/login".to_owned()));
    assert_eq!(ward.post_files(&actions, &[("action", "assign")], &[]).await.status().as_u16(), 403);
    let theirs = hidden(&elsewhere, "csrf");
    assert_eq!(
        other.post_files(&actions, &[("csrf", &theirs), ("action", "assign")], &[]).await.status().as_u16(),
        404
    );
    assert_eq!(status(first.clone()).await, "received");

    // Assign, start, resolve: an answer and an after photo are needed.
    for action in ["assign", "start"] {
        let done = ward.post_files(&actions, &[("csrf", &csrf), ("action", action)], &[]).await;
        assert_eq!(done.status().as_u16(), 303, "{action}");
    }
    assert_eq!(status(first.clone()).await, "in_progress");
    let unproven =
        ward.post_files(&actions, &[("csrf", &csrf), ("action", "resolve"), ("response", "Đã dọn")], &[]).await;
    assert_eq!(unproven.status().as_u16(), 422);
    let after = jpeg_with_gps(40);
    let done = ward
        .post_files(
            &actions,
            &[("csrf", &csrf), ("action", "resolve"), ("response", "Đã thu gom, vệ sinh mặt đường")],
            &[("after_photo", "sau.jpg", &after)],
        )
        .await;
    assert_eq!(done.status().as_u16(), 303);
    let resolved = expect_json(app.get_as(&reporter, &format!("/api/v1/reports/{first}")).await, 200).await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["response"], "Đã thu gom, vệ sinh mặt đường");
    assert!(resolved["photos"].as_array().expect("photos").iter().any(|p| p["stage"] == "after"));

    // Reject with a reason; move another to a ward, which then has it.
    let (second, _) = &ids[1];
    let rejected = ward
        .post_files(
            &format!("/console/reports/{second}/actions"),
            &[("csrf", &csrf), ("action", "reject"), ("reason", "duplicate"), ("note", "Trùng phản ánh trước")],
            &[],
        )
        .await;
    assert_eq!(rejected.status().as_u16(), 303);
    assert_eq!(status(second.clone()).await, "rejected");
    let (third, third_code) = &ids[2];
    let moved = ward
        .post_files(
            &format!("/console/reports/{third}/actions"),
            &[("csrf", &csrf), ("action", "move_ward"), ("ward_code", "00004")],
            &[],
        )
        .await;
    assert_eq!(moved.status().as_u16(), 303);
    assert!(other.page("/console/reports", 200).await.contains(third_code.as_str()));
    ward.page(&format!("/console/reports/{third}"), 404).await;

    // Moderation: the description hidden from the public, with a reason.
    let unreasoned = ward
        .post_files(
            &format!("/console/reports/{first}/moderation"),
            &[("csrf", &csrf), ("hide_description", "true")],
            &[],
        )
        .await;
    assert_eq!(unreasoned.status().as_u16(), 422);
    let hidden_now = ward
        .post_files(
            &format!("/console/reports/{first}/moderation"),
            &[("csrf", &csrf), ("hide_description", "true"), ("reason", "Ngôn từ không phù hợp")],
            &[],
        )
        .await;
    assert_eq!(hidden_now.status().as_u16(), 303);
    let public = expect_json(app.get_as(&reporter, &format!("/api/v1/reports/{first}")).await, 200).await;
    assert_eq!(public["description_hidden"], true);
    assert!(ward.page(&format!("/console/reports/{first}"), 200).await.contains("đã ẩn với công chúng"));
    app.stop().await;
}

async fn an_admin_runs_push_campaigns_in_the_console(backend: Backend) {
    let app = spawn_app(backend).await;
    app.citizen("001203004567", "0912345678").await;
    app.officer("0987654321", "H26.00").await;
    let out = app
        .operator(&["user", "add", "--role", "admin", "--phone", "0987000099", "--name", "Quản trị"], "quantri123\n");
    assert!(out.status.success());
    let admin_token = app.token("0987000099", "quantri123").await;
    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("0987000099", "quantri123").await.status().as_u16(), 303);
    let page = admin.page("/console/campaigns", 200).await;
    assert!(page.contains("Chưa có chiến dịch nào."));
    let csrf = hidden(&page, "csrf");

    // Every problem named at once: the English title missing, an unknown account, a bad time.
    let refused = admin
        .post(
            "/console/campaigns",
            &[
                ("csrf", &csrf),
                ("title_vi", "Lịch nghỉ Tết"),
                ("body_vi", "Trung tâm nghỉ từ 14/2"),
                ("body_en", "The centre closes on 14 Feb"),
                ("audience", "accounts"),
                ("accounts", "0912345678\n0999999999"),
                ("scheduled_at", "ngay-mai"),
            ],
        )
        .await;
    assert_eq!(refused.status().as_u16(), 422);
    let text = refused.text().await.expect("body");
    assert!(text.contains("accounts[1]") && text.contains("scheduled_at"), "{text}");
    assert!(text.contains("Lịch nghỉ Tết"), "what was typed stays");

    // Scheduled for later (Hanoi time), listed accounts by phone: created, then cancelled.
    let hanoi = (chrono::Utc::now() + chrono::TimeDelta::days(30) + chrono::TimeDelta::hours(7)).naive_utc();
    let typed = hanoi.format("%Y-%m-%dT%H:%M").to_string();
    let later = admin
        .post(
            "/console/campaigns",
            &[
                ("csrf", &csrf),
                ("title_vi", "Lịch nghỉ Tết"),
                ("title_en", "Tết holiday"),
                ("body_vi", "Trung tâm nghỉ từ 14/2"),
                ("body_en", "The centre closes on 14 Feb"),
                ("audience", "accounts"),
                ("accounts", "0912345678"),
                ("scheduled_at", &typed),
            ],
        )
        .await;
    assert_eq!((later.status().as_u16(), location(&later)), (303, "/console/campaigns".to_owned()));
    let listed = expect_json(app.get_as(&admin_token, "/api/v1/ops/push/campaigns").await, 200).await;
    let campaign = listed[0].clone();
    assert_eq!(campaign["title"]["en"], "Tết holiday");
    let expected = (hanoi - chrono::TimeDelta::hours(7)).format("%Y-%m-%dT%H:%M:00Z").to_string();
    assert_eq!(campaign["scheduled_at"], expected.as_str());
    assert_eq!(campaign["audience"]["kind"], "accounts");
    let id = campaign["id"].as_str().expect("id").to_owned();
    let page = admin.page("/console/campaigns", 200).await;
    assert!(page.contains("Chờ đến giờ gửi") && page.contains(&hanoi.format("%d/%m/%Y %H:%M").to_string()));
    let cancel = format!("/console/campaigns/{id}/cancel");
    assert_eq!(admin.post(&cancel, &[]).await.status().as_u16(), 403, "the token is needed");
    assert_eq!(admin.post(&cancel, &[("csrf", &csrf)]).await.status().as_u16(), 303);
    assert!(admin.page("/console/campaigns", 200).await.contains("Đã hủy"));
    assert_eq!(admin.post(&cancel, &[("csrf", &csrf)]).await.status().as_u16(), 409, "cancelled once");

    // Now, to the whole city: the page follows the delivery (it refreshes while sending).
    let now = admin
        .post(
            "/console/campaigns",
            &[
                ("csrf", &csrf),
                ("title_vi", "Thông báo"),
                ("title_en", "Notice"),
                ("body_vi", "Nội dung"),
                ("body_en", "Body"),
                ("audience", "city"),
            ],
        )
        .await;
    assert_eq!(now.status().as_u16(), 303);
    let stats = expect_json(app.get_as(&admin_token, "/api/v1/ops/push/stats").await, 200).await;
    let page = admin.page("/console/campaigns", 200).await;
    assert_eq!(element_text(&page, "push-sent"), stats["overall"]["sent"].to_string());

    // Nobody else: no session, an officer.
    let mut anonymous = Browser::new(&app);
    assert_eq!(anonymous.get("/console/campaigns").await.status().as_u16(), 303);
    let response = anonymous.post("/console/campaigns", &[("csrf", "x"), ("audience", "city")]).await;
    assert_eq!(response.status().as_u16(), 303);
    let mut officer = Browser::new(&app);
    assert_eq!(officer.sign_in("0987654321", "canbo12345").await.status().as_u16(), 303);
    officer.page("/console/campaigns", 403).await;
    let theirs = hidden(&officer.page("/console/queue", 200).await, "csrf");
    let forged = officer
        .post(
            "/console/campaigns",
            &[
                ("csrf", &theirs),
                ("title_vi", "x"),
                ("title_en", "x"),
                ("body_vi", "x"),
                ("body_en", "x"),
                ("audience", "city"),
            ],
        )
        .await;
    assert_eq!(forged.status().as_u16(), 403);
    let after = expect_json(app.get_as(&admin_token, "/api/v1/ops/push/campaigns").await, 200).await;
    assert_eq!(after.as_array().expect("list").len(), 2);
    app.stop().await;
}

/// The id of the staff account named `name` on the staff page (from its forms' action).
fn staff_id(page: &str, name: &str) -> String {
    let row = page.find(&format!("<th scope=\"row\">{name}</th>")).unwrap_or_else(|| panic!("no row for {name}"));
    let marker = "action=\"/console/staff/";
    let start = page[row..].find(marker).expect("a form") + row + marker.len();
    page[start..start + page[start..].find('"').expect("end")].to_owned()
}

async fn an_admin_manages_staff_accounts_in_the_console(backend: Backend) {
    let app = spawn_app(backend).await;
    let out = app
        .operator(&["user", "add", "--role", "admin", "--phone", "0987000099", "--name", "Quản trị"], "quantri123\n");
    assert!(out.status.success());
    app.officer("0987654321", "H26.00").await;
    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("0987000099", "quantri123").await.status().as_u16(), 303);
    let page = admin.page("/console/staff", 200).await;
    let csrf = hidden(&page, "csrf");

    // Create: every problem named (a weak password, an officer without a branch), then done.
    let weak = admin
        .post(
            "/console/staff",
            &[
                ("csrf", &csrf),
                ("role", "officer"),
                ("full_name", "Phạm Văn Mới"),
                ("phone", "0987111222"),
                ("password", "abc"),
            ],
        )
        .await;
    assert_eq!(weak.status().as_u16(), 422);
    let text = weak.text().await.expect("body");
    assert!(text.contains("<code>branch</code>") && text.contains("<code>password</code>"), "{text}");
    let made = admin
        .post(
            "/console/staff",
            &[
                ("csrf", &csrf),
                ("role", "officer"),
                ("full_name", "Phạm Văn Mới"),
                ("phone", "0987 111 222"),
                ("branch", "H26.00"),
                ("password", "batdau123"),
            ],
        )
        .await;
    assert_eq!(made.status().as_u16(), 303);
    let token = app.token("0987111222", "batdau123").await;
    let me = expect_json(app.get_as(&token, "/api/v1/me").await, 200).await;
    assert_eq!((me["role"].as_str(), me["branch"].as_str()), (Some("officer"), Some("H26.00")));

    // Change the branch: the officer's queue is the new branch's.
    let page = admin.page("/console/staff", 200).await;
    let id = staff_id(&page, "Phạm Văn Mới");
    let path = format!("/console/staff/{id}");
    let moved = admin.post(&path, &[("csrf", &csrf), ("op", "branch"), ("branch", "H26.01")]).await;
    assert_eq!(moved.status().as_u16(), 303);
    assert_eq!(
        admin.post(&path, &[("csrf", &csrf), ("op", "branch"), ("branch", "KHONG")]).await.status().as_u16(),
        422
    );
    let mut officer = Browser::new(&app);
    assert_eq!(officer.sign_in("0987111222", "batdau123").await.status().as_u16(), 303);
    assert!(officer.page("/console/queue", 200).await.contains("H26.01"), "the new branch");

    // Reset the password: the old one and the old sign-ins stop at once.
    let reset = admin.post(&path, &[("csrf", &csrf), ("op", "password"), ("password", "matkhaumoi9")]).await;
    assert_eq!(reset.status().as_u16(), 303);
    assert_eq!(officer.get("/console/queue").await.status().as_u16(), 303, "the console session ended");
    assert_eq!(app.get_as(&token, "/api/v1/me").await.status().as_u16(), 401, "the API sign-in ended");
    let old = app.post_json("/api/v1/auth/login", &json!({"login": "0987111222", "password": "batdau123"})).await;
    assert_eq!(old.status().as_u16(), 401);
    let token = app.token("0987111222", "matkhaumoi9").await;

    // Disable: no sign-in at all (API or console), sessions ended; enable again.
    assert_eq!(admin.post(&path, &[("csrf", &csrf), ("op", "disable")]).await.status().as_u16(), 303);
    assert!(admin.page("/console/staff", 200).await.contains("Đã khóa"));
    assert_eq!(app.get_as(&token, "/api/v1/me").await.status().as_u16(), 401);
    let refused = app.post_json("/api/v1/auth/login", &json!({"login": "0987111222", "password": "matkhaumoi9"})).await;
    assert_eq!(refused.status().as_u16(), 401);
    let mut again = Browser::new(&app);
    assert_eq!(again.sign_in("0987111222", "matkhaumoi9").await.status().as_u16(), 401);
    assert_eq!(admin.post(&path, &[("csrf", &csrf), ("op", "enable")]).await.status().as_u16(), 303);
    app.token("0987111222", "matkhaumoi9").await;

    // An administrator cannot disable themselves; citizens are not administered here.
    let page = admin.page("/console/staff", 200).await;
    let own = staff_id(&page, "Quản trị");
    assert_eq!(
        admin.post(&format!("/console/staff/{own}"), &[("csrf", &csrf), ("op", "disable")]).await.status().as_u16(),
        403
    );
    let citizen = app.citizen("001203004567", "0912345678").await;
    let citizen_id =
        expect_json(app.get_as(&citizen, "/api/v1/me").await, 200).await["id"].as_str().expect("id").to_owned();
    let response = admin
        .post(
            &format!("/console/staff/{citizen_id}"),
            &[("csrf", &csrf), ("op", "password"), ("password", "hack12345")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 404);

    // Nobody else: no session, no token, an officer.
    let mut anonymous = Browser::new(&app);
    assert_eq!(anonymous.get("/console/staff").await.status().as_u16(), 303);
    assert_eq!(anonymous.post(&path, &[("csrf", &csrf), ("op", "disable")]).await.status().as_u16(), 303);
    assert_eq!(admin.post(&path, &[("op", "disable")]).await.status().as_u16(), 403);
    let mut plain = Browser::new(&app);
    assert_eq!(plain.sign_in("0987654321", "canbo12345").await.status().as_u16(), 303);
    plain.page("/console/staff", 403).await;
    let theirs = hidden(&plain.page("/console/queue", 200).await, "csrf");
    assert_eq!(plain.post(&path, &[("csrf", &theirs), ("op", "disable")]).await.status().as_u16(), 403);
    app.token("0987111222", "matkhaumoi9").await;
    app.stop().await;
}

async fn a_counter_account_is_claimed_only_with_its_phone_and_citizen_id(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(crate::dossiers::at("2027-04-13T02:00:00Z"));
    app.officer("0987654321", "H26.00").await;
    let procedure = pick_procedure(&app).await;
    let values = crate::forms::valid_values(&procedure.form, day("2027-04-13"), &mut |doc| vec![doc.to_owned()]);
    let mut officer = Browser::new(&app);
    assert_eq!(officer.sign_in("0987654321", "canbo12345").await.status().as_u16(), 303);
    let mut form = intake_form(&mut officer, &procedure.code).await;
    let papers = crate::intake_form::intake_fields(&procedure.form.fields, &values, "v.", &mut form);
    let mut photo = crate::dossiers::PNG.to_vec();
    photo.extend_from_slice(b"claim");
    let files: Vec<(String, String, Vec<u8>)> =
        papers.iter().map(|p| (format!("f.{p}"), "scan.png".to_owned(), photo.clone())).collect();
    form.extend([
        ("citizen_id".to_owned(), "001203004999".to_owned()),
        ("phone".to_owned(), "0912888777".to_owned()),
        ("full_name".to_owned(), "Lê Thị Quầy".to_owned()),
    ]);
    assert_eq!(post_intake(&mut officer, &form, &files).await.status().as_u16(), 303);

    // The phone's owner registering with another citizen id does not take the account over.
    let challenge = app.start_registration("001203005000", "0912888777", "matkhau123").await;
    let code = app.last_code("0912888777").expect("a code is sent: the number has no usable account yet");
    let other = app
        .post_json(
            "/api/v1/auth/register/verify",
            &json!({"verification_id": challenge["verification_id"], "code": code}),
        )
        .await;
    assert_eq!(other.status().as_u16(), 409);
    let login = app.post_json("/api/v1/auth/login", &json!({"login": "0912888777", "password": "matkhau123"})).await;
    assert_eq!(login.status().as_u16(), 401, "still nobody's to sign in to");
    // With the same citizen id: theirs, with the dossier.
    let citizen = app.citizen("001203004999", "0912888777").await;
    let mine = expect_json(app.get_as(&citizen, "/api/v1/dossiers").await, 200).await;
    assert_eq!(mine["items"].as_array().expect("items").len(), 1);
    app.stop().await;
}
