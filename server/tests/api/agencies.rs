//! Inter-agency handling (một cửa liên thông) end to end over HTTP: the branch forwards a
//! received dossier along its procedure's route, each agency decides its leg (or asks for
//! a supplement that reaches the citizen through the branch, the clock stopped), each leg
//! is timed against its share of the legal time, the agency's queue puts overdue legs
//! first, figures count them, the citizen follows every leg in plain words — and an agency
//! acts on its own dossiers only, one forward at a time.

use motcua_domain::wire::Procedure;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::dossiers::{act, at, submit, values_for};
use crate::helpers::{Backend, TestApp, expect_error, expect_json, fresh_database, spawn_app, start_owned};

both!(
    a_dossier_goes_through_one_agency_and_back,
    a_dossier_goes_through_two_agencies_and_back,
    an_agencys_supplement_request_reaches_the_citizen_and_stops_the_clock,
    an_agency_acts_on_its_own_dossiers_only_and_in_the_right_state,
    an_overdue_leg_leads_the_agency_queue_and_shows_in_the_figures,
    two_officers_forwarding_at_once_one_wins,
    accounts_and_tokens_survive_the_agency_migration
);

/// Land: transfer of land-use rights, 10 working days: the land registration office (6),
/// then the tax department (3).
const TWO_LEGS: &str = "1.012781";
/// Construction practice certificate, 10 working days: the Department of Construction (8).
const ONE_LEG: &str = "1.009984";

async fn procedure(app: &TestApp, code: &str) -> Procedure {
    let body = expect_json(app.get(&format!("/api/v1/procedures/{code}")).await, 200).await;
    serde_json::from_value(body).expect("procedure")
}

/// A dossier of `code` filed by `citizen` at the head office and received by `officer`;
/// returns its id and the values it was filed with.
async fn received(app: &TestApp, citizen: &str, officer: &str, code: &str, key: &str) -> (String, Value) {
    let p = procedure(app, code).await;
    let today = motcua_server::dossiers::store::local_date(app.clock.now_utc());
    let values = values_for(app, citizen, &p, today).await;
    let body =
        json!({"procedure_code": p.code, "form_version": p.form.version, "values": values, "branch_code": "H26.00"});
    let filed = expect_json(submit(app, citizen, key, &body).await, 201).await;
    let id = filed["id"].as_str().expect("id").to_owned();
    act(app, officer, &id, "receive", None).await;
    (id, values)
}

async fn forward(app: &TestApp, officer: &str, id: &str, agency: Option<&str>) -> reqwest::Response {
    app.post_as(officer, &format!("/api/v1/dossiers/{id}/transitions"), &json!({"action": "forward", "agency": agency}))
        .await
}

fn leg(dossier: &Value, i: usize) -> &Value {
    &dossier["legs"][i]
}

async fn a_dossier_goes_through_one_agency_and_back(backend: Backend) {
    let app = spawn_app(backend).await;
    // Monday 2 March 2026, 09:00 in Hanoi.
    app.clock.set(at("2026-03-02T02:00:00Z"));
    let citizen = app.citizen("001203004567", "0912345678").await;
    let officer = app.officer("0987654321", "H26.00").await;
    let sxd = app.agency_officer("0987000011", "HN.SXD", "Trần Văn Chuyên Viên").await;
    let p = procedure(&app, ONE_LEG).await;
    assert_eq!(p.agency_legs.len(), 1, "the seed routes {ONE_LEG} through one agency");
    // The agencies are public, by code.
    let agencies = expect_json(app.get("/api/v1/agencies").await, 200).await;
    let sxd_entry = agencies.as_array().expect("list").iter().find(|a| a["code"] == "HN.SXD").expect("HN.SXD");
    assert_eq!(sxd_entry["name_en"], "Hanoi Department of Construction");
    let (id, _) = received(&app, &citizen, &officer, ONE_LEG, "k-1").await;

    // Filed and received: the route is known, nothing forwarded yet.
    let before = expect_json(app.get_as(&citizen, &format!("/api/v1/dossiers/{id}")).await, 200).await;
    assert_eq!(
        (leg(&before, 0)["agency"].as_str(), leg(&before, 0)["state"].as_str()),
        (Some("HN.SXD"), Some("pending"))
    );
    assert_eq!(leg(&before, 0)["days"], 8);
    assert_eq!(leg(&before, 0)["agency_name"], "Sở Xây dựng thành phố Hà Nội");

    // Forwarded on Monday 2 March: 8 working days, due Thursday 12 March.
    let forwarded = expect_json(forward(&app, &officer, &id, None).await, 200).await;
    assert_eq!(forwarded["status"], "at_agency");
    assert_eq!(
        (leg(&forwarded, 0)["state"].as_str(), leg(&forwarded, 0)["due_date"].as_str()),
        (Some("open"), Some("2026-03-12"))
    );
    assert_eq!(leg(&forwarded, 0)["deadline"], "on_time");

    // The agency decides on Wednesday 11 March, with its result: back at the branch.
    app.clock.set(at("2026-03-11T02:00:00Z"));
    let done = act(&app, &sxd, &id, "agency_approve", Some("Đủ điều kiện cấp chứng chỉ hạng II")).await;
    assert_eq!(done["status"], "in_processing");
    assert_eq!(
        (leg(&done, 0)["state"].as_str(), leg(&done, 0)["finished_on"].as_str()),
        (Some("done"), Some("2026-03-11"))
    );
    // The agency still sees what it decided (not the receipt's verifier), and can no longer act on it.
    let decided = expect_json(app.get_as(&sxd, &format!("/api/v1/dossiers/{id}")).await, 200).await;
    assert!(decided["tracking_verifier"].is_null() && decided["code"].is_string(), "{decided}");
    let again = app
        .post_as(&sxd, &format!("/api/v1/dossiers/{id}/transitions"), &json!({"action": "agency_approve", "note": "x"}))
        .await;
    expect_error(again, 409, "invalid_transition").await;

    let approved = act(&app, &officer, &id, "approve", None).await;
    assert_eq!(approved["status"], "approved");
    let returned = act(&app, &officer, &id, "return_result", None).await;
    assert_eq!(
        (returned["status"].as_str(), returned["deadline"].as_str()),
        (Some("result_returned"), Some("on_time"))
    );

    // The citizen sees the agency, never its officer.
    let seen = expect_json(app.get_as(&citizen, &format!("/api/v1/dossiers/{id}")).await, 200).await;
    let text = seen.to_string();
    assert!(!text.contains("Trần Văn Chuyên Viên"), "{text}");
    let decided =
        seen["timeline"].as_array().expect("timeline").iter().find(|e| e["action"] == "agency_approve").expect("entry");
    assert_eq!(
        (decided["actor_role"].as_str(), decided["actor_name"].as_str()),
        (Some("agency_officer"), Some("Sở Xây dựng thành phố Hà Nội"))
    );
    // Staff see who did it.
    let staff = expect_json(app.get_as(&officer, &format!("/api/v1/dossiers/{id}")).await, 200).await;
    assert!(staff.to_string().contains("Trần Văn Chuyên Viên"));
    app.stop().await;
}

async fn a_dossier_goes_through_two_agencies_and_back(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(at("2026-03-02T02:00:00Z"));
    let citizen = app.citizen("001203004567", "0912345678").await;
    let officer = app.officer("0987654321", "H26.00").await;
    let land = app.agency_officer("0987000011", "HN.VPDKDD", "Lê Thị Địa Chính").await;
    let tax = app.agency_officer("0987000012", "HN.THUE", "Phạm Văn Thuế").await;
    let (id, values) = received(&app, &citizen, &officer, TWO_LEGS, "k-1").await;
    let paper = values
        .as_object()
        .expect("values")
        .values()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(Value::as_str)
        .find(|v| uuid::Uuid::parse_str(v).is_ok())
        .expect("an attached paper")
        .to_owned();

    // The second agency sees nothing before its leg starts, papers included.
    expect_error(app.get_as(&tax, &format!("/api/v1/dossiers/{id}")).await, 404, "not_found").await;
    expect_error(app.get_as(&land, &format!("/api/v1/attachments/{paper}")).await, 404, "not_found").await;
    let forwarded = expect_json(forward(&app, &officer, &id, Some("HN.VPDKDD")).await, 200).await;
    assert_eq!(leg(&forwarded, 0)["due_date"], "2026-03-10", "6 working days from Monday 2 March");
    assert_eq!(leg(&forwarded, 1)["state"], "pending");
    // The agency reads the papers of a dossier forwarded to it; the next one does not yet.
    expect_json(app.get_as(&land, &format!("/api/v1/attachments/{paper}")).await, 200).await;
    expect_error(app.get_as(&tax, &format!("/api/v1/attachments/{paper}")).await, 404, "not_found").await;
    let queue = expect_json(app.get_as(&land, "/api/v1/dossiers").await, 200).await;
    assert_eq!(queue["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        (queue["items"][0]["agency"].as_str(), queue["items"][0]["leg_due_date"].as_str()),
        (Some("HN.VPDKDD"), Some("2026-03-10"))
    );
    assert!(
        expect_json(app.get_as(&tax, "/api/v1/dossiers").await, 200).await["items"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );

    app.clock.set(at("2026-03-06T02:00:00Z"));
    act(&app, &land, &id, "agency_approve", Some("Hồ sơ địa chính hợp lệ")).await;
    // Not every agency has acted: the branch cannot approve yet.
    expect_error(
        app.post_as(&officer, &format!("/api/v1/dossiers/{id}/transitions"), &json!({"action": "approve"})).await,
        409,
        "agency_legs_pending",
    )
    .await;
    let at_tax = expect_json(forward(&app, &officer, &id, None).await, 200).await;
    assert_eq!(
        (leg(&at_tax, 1)["state"].as_str(), leg(&at_tax, 1)["due_date"].as_str()),
        (Some("open"), Some("2026-03-11"))
    );
    app.clock.set(at("2026-03-09T02:00:00Z"));
    act(&app, &tax, &id, "agency_approve", Some("Đã xác định nghĩa vụ tài chính")).await;
    expect_error(forward(&app, &officer, &id, None).await, 409, "no_agency_leg").await;
    act(&app, &officer, &id, "approve", None).await;
    act(&app, &officer, &id, "return_result", None).await;

    let dossier = expect_json(app.get_as(&citizen, &format!("/api/v1/dossiers/{id}")).await, 200).await;
    let steps: Vec<(&str, &str, Option<&str>)> = dossier["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| (e["action"].as_str().expect("action"), e["to"].as_str().expect("to"), e["agency"].as_str()))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("submit", "submitted", None),
            ("receive", "received", None),
            ("forward", "at_agency", Some("HN.VPDKDD")),
            ("agency_approve", "in_processing", Some("HN.VPDKDD")),
            ("forward", "at_agency", Some("HN.THUE")),
            ("agency_approve", "in_processing", Some("HN.THUE")),
            ("approve", "approved", None),
            ("return_result", "result_returned", None),
        ]
    );
    assert_eq!(
        dossier["timeline"][2]["description"],
        "Hồ sơ được chuyển đến Văn phòng Đăng ký đất đai Hà Nội (Sở Nông nghiệp và Môi trường) để giải quyết."
    );
    for secret in ["Lê Thị Địa Chính", "Phạm Văn Thuế"] {
        assert!(!dossier.to_string().contains(secret), "the citizen sees an agency officer's name");
    }
    // Each status change reached the citizen, the agency steps naming the agency.
    let inbox = expect_json(app.get_as(&citizen, "/api/v1/notifications").await, 200).await;
    let bodies: Vec<&str> =
        inbox["items"].as_array().expect("items").iter().filter_map(|n| n["body"].as_str()).collect();
    assert_eq!(bodies.len(), 8);
    assert!(bodies.iter().any(|b| b.starts_with("Hồ sơ được chuyển đến Thuế thành phố Hà Nội")), "{bodies:?}");

    // Anyone with the receipt follows the legs in plain words, in Vietnamese or English.
    let code = dossier["code"].as_str().expect("code");
    let verifier = dossier["tracking_verifier"].as_str().expect("verifier");
    let public = expect_json(app.get(&format!("/api/v1/public/dossiers/{code}?verifier={verifier}")).await, 200).await;
    let said: Vec<&str> =
        public["steps"].as_array().expect("steps").iter().filter_map(|s| s["description"].as_str()).collect();
    assert_eq!(said.len(), 4, "{said:?}");
    assert_eq!(
        said[0],
        "Hồ sơ được chuyển đến Văn phòng Đăng ký đất đai Hà Nội (Sở Nông nghiệp và Môi trường) để giải quyết."
    );
    assert_eq!(said[3], "Thuế thành phố Hà Nội đã giải quyết xong; hồ sơ trở về bộ phận một cửa.");
    assert_eq!(public["legs"].as_array().map(Vec::len), Some(2));
    let english = app
        .request(Method::GET, &format!("/api/v1/public/dossiers/{code}?verifier={verifier}"))
        .header("accept-language", "en")
        .send()
        .await
        .expect("request");
    let english = expect_json(english, 200).await;
    assert_eq!(
        english["steps"][2]["description"],
        "The dossier was forwarded to Hanoi Land Registration Office (Department of Agriculture and Environment)."
    );
    assert_eq!(english["legs"][1]["agency_name"], "Hanoi Tax Department");
    assert!(!english.to_string().contains("Lê Thị Địa Chính"));
    app.stop().await;
}

async fn an_agencys_supplement_request_reaches_the_citizen_and_stops_the_clock(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(at("2026-03-02T02:00:00Z"));
    let citizen = app.citizen("001203004567", "0912345678").await;
    let officer = app.officer("0987654321", "H26.00").await;
    let sxd = app.agency_officer("0987000011", "HN.SXD", "Trần Văn Chuyên Viên").await;
    let (id, values) = received(&app, &citizen, &officer, ONE_LEG, "k-1").await;
    let first = expect_json(forward(&app, &officer, &id, None).await, 200).await;
    assert_eq!(first["due_date"], "2026-03-16");

    // Wednesday 4 March: the agency asks for more papers. The dossier goes back to the
    // branch's queue and the citizen is told what to add; both clocks stop.
    app.clock.set(at("2026-03-04T02:00:00Z"));
    let missing = app
        .post_as(&sxd, &format!("/api/v1/dossiers/{id}/transitions"), &json!({"action": "agency_request_supplement"}))
        .await;
    assert_eq!(expect_error(missing, 422, "validation_failed").await, vec!["note"]);
    let asked =
        act(&app, &sxd, &id, "agency_request_supplement", Some("Bổ sung bản sao văn bằng được chứng thực")).await;
    assert_eq!((asked["status"].as_str(), asked["deadline"].as_str()), (Some("supplement_requested"), Some("paused")));
    assert_eq!(
        (leg(&asked, 0)["state"].as_str(), leg(&asked, 0)["deadline"].as_str()),
        (Some("paused"), Some("paused"))
    );
    let inbox = expect_json(app.get_as(&citizen, "/api/v1/notifications").await, 200).await;
    let latest = inbox["items"][0]["body"].as_str().expect("body");
    assert!(latest.starts_with("Sở Xây dựng thành phố Hà Nội yêu cầu bổ sung hồ sơ"), "{latest}");
    assert!(latest.contains("Bổ sung bản sao văn bằng được chứng thực"), "{latest}");
    let branch_queue = expect_json(app.get_as(&officer, "/api/v1/dossiers").await, 200).await;
    assert_eq!(
        (branch_queue["items"][0]["id"].as_str(), branch_queue["items"][0]["leg_deadline"].as_str()),
        (Some(id.as_str()), Some("paused"))
    );
    // The agency cannot decide while it waits.
    let early = app
        .post_as(&sxd, &format!("/api/v1/dossiers/{id}/transitions"), &json!({"action": "agency_approve", "note": "x"}))
        .await;
    expect_error(early, 409, "invalid_transition").await;

    // The citizen answers on Monday 9 March (3 working days later): the dossier is due 3 days later.
    app.clock.set(at("2026-03-09T02:00:00Z"));
    let answered =
        app.post_as(&citizen, &format!("/api/v1/dossiers/{id}/supplement"), &json!({"values": values})).await;
    let answered = expect_json(answered, 200).await;
    assert_eq!(
        (answered["status"].as_str(), answered["due_date"].as_str()),
        (Some("in_processing"), Some("2026-03-19"))
    );
    // The branch forwards it again on Tuesday 10 March: the leg stood 4 working days, so it
    // is due 4 working days after its first due date (12 → 18 March).
    app.clock.set(at("2026-03-10T02:00:00Z"));
    let again = expect_json(forward(&app, &officer, &id, None).await, 200).await;
    assert_eq!(
        (leg(&again, 0)["state"].as_str(), leg(&again, 0)["due_date"].as_str()),
        (Some("open"), Some("2026-03-18"))
    );
    assert_eq!(leg(&again, 0)["started_on"], "2026-03-02");
    act(&app, &sxd, &id, "agency_approve", Some("Đủ điều kiện")).await;
    assert_eq!(act(&app, &officer, &id, "approve", None).await["status"], "approved");
    app.stop().await;
}

async fn an_agency_acts_on_its_own_dossiers_only_and_in_the_right_state(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(at("2026-03-02T02:00:00Z"));
    let citizen = app.citizen("001203004567", "0912345678").await;
    let officer = app.officer("0987654321", "H26.00").await;
    let land = app.agency_officer("0987000011", "HN.VPDKDD", "Lê Thị Địa Chính").await;
    let tax = app.agency_officer("0987000012", "HN.THUE", "Phạm Văn Thuế").await;
    let police = app.agency_officer("0987000013", "HN.CATP", "Công An Viên").await;
    let (id, _) = received(&app, &citizen, &officer, TWO_LEGS, "k-1").await;
    let path = format!("/api/v1/dossiers/{id}/transitions");

    // An agency does not see a dossier before it is forwarded to it.
    expect_error(app.post_as(&land, &path, &json!({"action": "agency_approve", "note": "x"})).await, 404, "not_found")
        .await;
    // Forwarding to another agency than the route's next one names the field.
    let wrong = forward(&app, &officer, &id, Some("HN.THUE")).await;
    assert_eq!(expect_error(wrong, 422, "validation_failed").await, vec!["agency"]);
    forward(&app, &officer, &id, None).await;
    // Neither takes the other's moves.
    expect_error(app.post_as(&land, &path, &json!({"action": "forward"})).await, 403, "forbidden").await;
    expect_error(
        app.post_as(&officer, &path, &json!({"action": "agency_approve", "note": "x"})).await,
        403,
        "forbidden",
    )
    .await;
    // An agency nowhere on the route does not even see it.
    expect_error(app.post_as(&police, &path, &json!({"action": "agency_refuse", "note": "x"})).await, 404, "not_found")
        .await;
    expect_error(app.get_as(&police, &format!("/api/v1/dossiers/{id}")).await, 404, "not_found").await;

    // The land office refuses: the branch may only reject.
    let refused = act(&app, &land, &id, "agency_refuse", Some("Thửa đất đang có tranh chấp")).await;
    assert_eq!(
        (refused["status"].as_str(), leg(&refused, 0)["state"].as_str()),
        (Some("in_processing"), Some("refused"))
    );
    expect_error(app.post_as(&officer, &path, &json!({"action": "approve"})).await, 409, "agency_refused").await;
    expect_error(forward(&app, &officer, &id, None).await, 409, "agency_refused").await;
    // Acting on a dossier no longer at the agency: the wrong state.
    expect_error(
        app.post_as(&land, &path, &json!({"action": "agency_approve", "note": "x"})).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(act(&app, &officer, &id, "reject", Some("Cơ quan đăng ký đất đai từ chối")).await["status"], "rejected");

    // A second dossier goes through the land office, then to the tax department.
    let (second, _) = received(&app, &citizen, &officer, TWO_LEGS, "k-2").await;
    let second_path = format!("/api/v1/dossiers/{second}/transitions");
    forward(&app, &officer, &second, None).await;
    act(&app, &land, &second, "agency_approve", Some("Hợp lệ")).await;
    forward(&app, &officer, &second, None).await;
    // Now at the tax department: the land office, which sees it (its leg is done), may not act.
    expect_json(app.get_as(&land, &format!("/api/v1/dossiers/{second}")).await, 200).await;
    let other = app.post_as(&land, &second_path, &json!({"action": "agency_approve", "note": "x"})).await;
    expect_error(other, 403, "forbidden").await;
    let other = app.post_as(&land, &second_path, &json!({"action": "agency_request_supplement", "note": "x"})).await;
    expect_error(other, 403, "forbidden").await;
    act(&app, &tax, &second, "agency_approve", Some("Đã xác định nghĩa vụ tài chính")).await;

    // A procedure without a route cannot be forwarded.
    let changes = expect_json(app.get("/api/v1/catalogue/changes").await, 200).await;
    let all: Vec<Procedure> = serde_json::from_value(changes["procedures"].clone()).expect("procedures");
    let plain = all
        .iter()
        .find(|p| p.agency_legs.is_empty() && p.boundary_free && p.processing_days > 0)
        .expect("a procedure without legs");
    let (third, _) = received(&app, &citizen, &officer, &plain.code, "k-3").await;
    expect_error(forward(&app, &officer, &third, None).await, 409, "no_agency_leg").await;
    app.stop().await;
}

async fn an_overdue_leg_leads_the_agency_queue_and_shows_in_the_figures(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let officer = app.officer("0987654321", "H26.00").await;
    let sxd = app.agency_officer("0987000011", "HN.SXD", "Trần Văn Chuyên Viên").await;
    // Forwarded Monday 2 March (due 12 March) and Wednesday 4 March (due 16 March), then a
    // third forwarded on the 4th and decided on time.
    app.clock.set(at("2026-03-02T02:00:00Z"));
    let (early, _) = received(&app, &citizen, &officer, ONE_LEG, "k-1").await;
    forward(&app, &officer, &early, None).await;
    app.clock.set(at("2026-03-04T02:00:00Z"));
    let (late, _) = received(&app, &citizen, &officer, ONE_LEG, "k-2").await;
    let (decided, _) = received(&app, &citizen, &officer, ONE_LEG, "k-3").await;
    forward(&app, &officer, &late, None).await;
    forward(&app, &officer, &decided, None).await;
    act(&app, &sxd, &decided, "agency_approve", Some("Đủ điều kiện")).await;

    // Friday 13 March: the first leg is overdue, the second at risk (one working day left).
    app.clock.set(at("2026-03-13T02:00:00Z"));
    let queue = expect_json(app.get_as(&sxd, "/api/v1/dossiers?per_page=1").await, 200).await;
    assert_eq!(
        (queue["items"][0]["id"].as_str(), queue["items"][0]["leg_deadline"].as_str()),
        (Some(early.as_str()), Some("overdue"))
    );
    let cursor = queue["next_cursor"].as_str().expect("a second page");
    let next = expect_json(app.get_as(&sxd, &format!("/api/v1/dossiers?per_page=1&after={cursor}")).await, 200).await;
    assert_eq!(
        (next["items"][0]["id"].as_str(), next["items"][0]["leg_deadline"].as_str()),
        (Some(late.as_str()), Some("at_risk"))
    );
    assert!(next["next_cursor"].is_null(), "the decided leg has left the queue");
    // An administrator sees any agency's queue, the same way.
    let out = app
        .operator(&["user", "add", "--role", "admin", "--phone", "0987000099", "--name", "Quản trị"], "quantri123\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let admin = app.token("0987000099", "quantri123").await;
    let seen = expect_json(app.get_as(&admin, "/api/v1/dossiers?agency=HN.SXD").await, 200).await;
    let ids: Vec<&str> = seen["items"].as_array().expect("items").iter().filter_map(|i| i["id"].as_str()).collect();
    assert_eq!(ids, vec![early.as_str(), late.as_str()]);
    // The branch sees the overdue leg on its dossier too.
    let branch = expect_json(app.get_as(&officer, "/api/v1/dossiers").await, 200).await;
    let row = branch["items"].as_array().expect("items").iter().find(|i| i["id"] == early.as_str()).expect("row");
    assert_eq!((row["agency"].as_str(), row["leg_deadline"].as_str()), (Some("HN.SXD"), Some("overdue")));

    // The overdue leg is decided late on Monday 16 March.
    app.clock.set(at("2026-03-16T02:00:00Z"));
    let stats = expect_json(app.get_as(&officer, "/api/v1/stats?from=2026-03-01&to=2026-03-31").await, 200).await;
    let sxd_row = &stats["by_agency"][0];
    assert_eq!(sxd_row["agency_code"], "HN.SXD");
    assert_eq!(
        (
            sxd_row["forwarded"].as_u64(),
            sxd_row["finished"].as_u64(),
            sxd_row["open"].as_u64(),
            sxd_row["open_overdue"].as_u64()
        ),
        (Some(3), Some(1), Some(2), Some(1)),
        "{sxd_row}"
    );
    act(&app, &sxd, &early, "agency_approve", Some("Đủ điều kiện")).await;
    let stats = expect_json(app.get_as(&officer, "/api/v1/stats?from=2026-03-01&to=2026-03-31").await, 200).await;
    let sxd_row = &stats["by_agency"][0];
    assert_eq!(
        (sxd_row["finished"].as_u64(), sxd_row["finished_on_time"].as_u64(), sxd_row["open_overdue"].as_u64()),
        (Some(2), Some(1), Some(0)),
        "{sxd_row}"
    );
    assert_eq!(sxd_row["on_time_rate"], 0.5);
    // Agency officers have no access to the centre's figures.
    expect_error(app.get_as(&sxd, "/api/v1/stats").await, 403, "forbidden").await;
    app.stop().await;
}

async fn two_officers_forwarding_at_once_one_wins(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(at("2026-03-02T02:00:00Z"));
    let citizen = app.citizen("001203004567", "0912345678").await;
    let first = app.officer("0987654321", "H26.00").await;
    let second = app.officer("0987654322", "H26.00").await;
    let (id, _) = received(&app, &citizen, &first, TWO_LEGS, "k-1").await;
    let (a, b) = tokio::join!(forward(&app, &first, &id, None), forward(&app, &second, &id, None));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "exactly one forward wins");
    let loser = if a.status() == 200 { b } else { a };
    let body: Value = loser.json().await.expect("json");
    let code = body["error"]["code"].as_str().expect("code");
    // Both read the dossier before either wrote (the revision check refuses the second),
    // or the second read it already forwarded (the state machine refuses it).
    assert!(["concurrent_update", "invalid_transition"].contains(&code), "{body}");
    let dossier = expect_json(app.get_as(&first, &format!("/api/v1/dossiers/{id}")).await, 200).await;
    let forwards =
        dossier["timeline"].as_array().expect("timeline").iter().filter(|e| e["action"] == "forward").count();
    assert_eq!(forwards, 1);
    let open: Vec<&str> =
        dossier["legs"].as_array().expect("legs").iter().filter_map(|l| l["state"].as_str()).collect();
    assert_eq!(open, vec!["open", "pending"]);
    app.stop().await;
}

/// The migration that brings agencies rebuilds SQLite's users table (to widen its role
/// check): accounts, their branches, and what refers to them (refresh tokens, which would
/// cascade away if the table were dropped with foreign keys on) all survive it.
async fn accounts_and_tokens_survive_the_agency_migration(backend: Backend) {
    let (url, scratch) = fresh_database(backend).await;
    let citizen = uuid::Uuid::now_v7();
    let officer = uuid::Uuid::now_v7();
    let now = chrono::Utc::now();
    macro_rules! before_agencies {
        ($pool:expr, $migrator:expr) => {{
            let pool = $pool;
            $migrator.run_to(5, &pool).await.expect("migrations up to 0005");
            sqlx::query("INSERT INTO branches (code, doc, lat, lng) VALUES ('H26.00', '{}', 21.0, 105.8)")
                .execute(&pool).await.expect("branch");
            for (id, phone, role, branch) in [(citizen, "0912345678", "citizen", None), (officer, "0987654321", "officer", Some("H26.00"))] {
                sqlx::query(
                    "INSERT INTO users (id, citizen_id, phone, full_name, email, password_hash, role, branch_code, created_at) \
                     VALUES ($1, NULL, $2, 'Người Cũ', NULL, 'x', $3, $4, $5)",
                )
                .bind(id).bind(phone).bind(role).bind(branch).bind(now)
                .execute(&pool).await.expect("user");
            }
            sqlx::query(
                "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at) VALUES ($1, $1, $2, 'h', $3, $3)",
            )
            .bind(uuid::Uuid::now_v7()).bind(citizen).bind(now)
            .execute(&pool).await.expect("token");
            pool.close().await;
        }};
    }
    match backend {
        Backend::Sqlite => {
            use std::str::FromStr;
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
                .expect("url")
                .create_if_missing(true)
                .foreign_keys(true);
            let pool =
                sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await.expect("sqlite");
            before_agencies!(pool, sqlx::migrate!("./migrations/sqlite"));
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&url).await.expect("postgres");
            before_agencies!(pool, sqlx::migrate!("./migrations/postgres"));
        }
    }
    // The server migrates the rest at start-up.
    let app = start_owned(backend, &url, scratch).await;
    let (users, tokens, branch): (i64, i64, Option<String>) = motcua_server::on_db!(&app.state.db, read, pool => {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM refresh_tokens), \
             (SELECT branch_code FROM users WHERE role = 'officer')",
        )
        .fetch_one(pool).await
    })
    .expect("counts");
    assert_eq!((users, tokens, branch.as_deref()), (2, 1, Some("H26.00")));
    if backend == Backend::Sqlite {
        let broken: Vec<(String,)> = motcua_server::on_db!(&app.state.db, read, pool => {
            sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(pool).await
        })
        .expect("foreign key check");
        assert!(broken.is_empty(), "{broken:?}");
    }
    // The widened role works, and only with an agency.
    let token = app.agency_officer("0987000011", "HN.SXD", "Chuyên Viên").await;
    let me = expect_json(app.get_as(&token, "/api/v1/me").await, 200).await;
    assert_eq!((me["role"].as_str(), me["agency"].as_str()), (Some("agency_officer"), Some("HN.SXD")));
    let without = app.operator(
        &["user", "add", "--role", "agency_officer", "--phone", "0987000012", "--name", "X"],
        "chuyenvien123\n",
    );
    assert!(!without.status.success());
    let refused = motcua_server::on_db!(&app.state.db, write, pool => {
        sqlx::query(
            "INSERT INTO users (id, phone, full_name, password_hash, role, created_at) VALUES ($1, '0987000013', 'X', 'x', 'agency_officer', $2)",
        )
        .bind(uuid::Uuid::now_v7()).bind(now)
        .execute(pool).await.map(|r| r.rows_affected())
    });
    assert!(refused.is_err(), "an agency officer without an agency is refused by the schema");
    app.stop().await;
}
