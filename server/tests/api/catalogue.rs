//! The catalogue: diacritics-insensitive search, detail with form, ETags, incremental
//! changes by catalogue version, and service points by distance.

use motcua_server::seed::{Seed, apply};
use reqwest::Method;
use serde_json::Value;

use crate::both;
use crate::helpers::{Backend, expect_error, expect_json, spawn_app};

both!(
    seed_has_the_promised_breadth,
    search_ignores_diacritics_and_case,
    search_filters_pages_and_validates,
    procedure_detail_with_form_and_etag,
    changes_since_a_version,
    changes_in_one_language,
    the_whole_catalogue_in_one_language_is_compressed_once,
    reseeding_moves_only_what_changed,
    branches_nearest_first_within_radius
);

fn names(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|p| p["name"].as_str().expect("name").to_owned()).collect()
}

async fn seed_has_the_promised_breadth(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = expect_json(app.get("/api/v1/procedures?per_page=100").await, 200).await;
    assert!(page["total"].as_u64().expect("total") >= 40, "{}", page["total"]);
    let fields = expect_json(app.get("/api/v1/fields").await, 200).await;
    let used: std::collections::BTreeSet<&str> =
        page["items"].as_array().expect("items").iter().map(|p| p["field"].as_str().expect("field")).collect();
    assert!(used.len() >= 6, "{used:?}");
    assert!(fields.as_array().expect("fields").len() >= 6);
    let branches = expect_json(app.get("/api/v1/branches").await, 200).await;
    assert!(branches["items"].as_array().expect("items").len() >= 12);
    app.stop().await;
}

async fn search_ignores_diacritics_and_case(backend: Backend) {
    let app = spawn_app(backend).await;
    let plain = expect_json(app.get("/api/v1/procedures?q=dang%20ky%20khai%20sinh").await, 200).await;
    let names_plain = names(&plain);
    assert_eq!(names_plain.first().map(String::as_str), Some("Đăng ký khai sinh"), "{names_plain:?}");
    let upper = expect_json(app.get("/api/v1/procedures?q=%C4%90%C4%82NG%20K%C3%9D%20KHAI%20SINH").await, 200).await;
    assert_eq!(names(&upper), names_plain, "ĐĂNG KÝ KHAI SINH finds the same");

    let with_marks = expect_json(app.get("/api/v1/procedures?q=%C4%91%E1%BA%A5t&per_page=100").await, 200).await;
    let without = expect_json(app.get("/api/v1/procedures?q=dat&per_page=100").await, 200).await;
    let land: Vec<&Value> =
        with_marks["items"].as_array().expect("items").iter().filter(|p| p["field"] == "dat_dai").collect();
    assert!(land.len() >= 3, "q=đất finds land procedures: {:?}", names(&with_marks));
    assert_eq!(names(&with_marks), names(&without), "q=đất and q=dat find the same");

    // Nothing matches: no empty page, but the answer says these are only the nearest.
    let none = expect_json(app.get("/api/v1/procedures?q=xyzzy%20khong%20co").await, 200).await;
    assert_eq!(none["nearest"], true);
    assert_eq!(plain["nearest"], false);
    app.stop().await;
}

async fn search_filters_pages_and_validates(backend: Backend) {
    let app = spawn_app(backend).await;
    let all = expect_json(app.get("/api/v1/procedures?field=ho_tich&per_page=100").await, 200).await;
    let total = all["total"].as_u64().expect("total");
    assert!(total >= 3);
    assert!(all["items"].as_array().expect("items").iter().all(|p| p["field"] == "ho_tich"));
    let page1 = expect_json(app.get("/api/v1/procedures?field=ho_tich&per_page=2&page=1").await, 200).await;
    let page2 = expect_json(app.get("/api/v1/procedures?field=ho_tich&per_page=2&page=2").await, 200).await;
    assert_eq!(page1["total"].as_u64(), Some(total));
    assert_eq!(page1["items"].as_array().map(Vec::len), Some(2));
    assert_ne!(names(&page1), names(&page2));
    let mut joined = names(&page1);
    joined.extend(names(&page2));
    assert_eq!(joined, names(&all)[..4].to_vec());

    let paths = expect_error(app.get("/api/v1/procedures?page=0&per_page=abc").await, 422, "validation_failed").await;
    assert_eq!(paths, vec!["per_page", "page"]);
    let paths = expect_error(app.get("/api/v1/procedures?per_page=1000").await, 422, "validation_failed").await;
    assert_eq!(paths, vec!["per_page"]);
    app.stop().await;
}

async fn procedure_detail_with_form_and_etag(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/api/v1/procedures/1.001193").await;
    let etag = response.headers().get("etag").expect("etag").to_str().expect("ascii").to_owned();
    let procedure = expect_json(response, 200).await;
    assert_eq!(procedure["name"], "Đăng ký khai sinh");
    assert!(procedure["form"]["fields"].as_array().is_some_and(|f| !f.is_empty()));
    assert!(procedure["required_documents"].as_array().is_some_and(|d| !d.is_empty()));
    assert!(procedure["processing_days"].is_u64());

    let again = app
        .request(Method::GET, "/api/v1/procedures/1.001193")
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers().get("etag").and_then(|v| v.to_str().ok()), Some(etag.as_str()));

    let list = app.get("/api/v1/procedures").await;
    let list_etag = list.headers().get("etag").expect("etag").to_str().expect("ascii").to_owned();
    let cached = app
        .request(Method::GET, "/api/v1/procedures")
        .header("if-none-match", &list_etag)
        .send()
        .await
        .expect("request");
    assert_eq!(cached.status(), 304);

    expect_error(app.get("/api/v1/procedures/9.999999").await, 404, "not_found").await;
    app.stop().await;
}

async fn changes_since_a_version(backend: Backend) {
    let app = spawn_app(backend).await;
    let all = expect_json(app.get("/api/v1/catalogue/changes").await, 200).await;
    let version = all["version"].as_i64().expect("version");
    assert!(version >= 1);
    let total = expect_json(app.get("/api/v1/procedures").await, 200).await["total"].as_u64().expect("total");
    assert_eq!(all["procedures"].as_array().map(|p| p.len() as u64), Some(total));
    assert!(all["procedures"][0]["form"]["fields"].is_array(), "changes carry whole procedures");
    let none = expect_json(app.get(&format!("/api/v1/catalogue/changes?since={version}")).await, 200).await;
    assert_eq!(none["procedures"].as_array().map(Vec::len), Some(0));
    assert_eq!(none["version"].as_i64(), Some(version));
    let paths = expect_error(app.get("/api/v1/catalogue/changes?since=-1").await, 422, "validation_failed").await;
    assert_eq!(paths, vec!["since"]);
    app.stop().await;
}

/// `?lang=` answers the same procedures at the same versions with each text once, in that
/// language (English falling back to Vietnamese), shared fields once, smaller, and with
/// an ETag of its own.
async fn changes_in_one_language(backend: Backend) {
    use motcua_domain::form::FieldKind;
    use motcua_domain::i18n::{Lang, Text};
    use motcua_domain::wire::{CatalogueChanges, catalogue::unpack};
    let app = spawn_app(backend).await;
    let read = |r: reqwest::Response| async move {
        assert_eq!(r.status(), 200);
        let etag = r.headers().get("etag").and_then(|v| v.to_str().ok()).expect("etag").to_owned();
        (etag, r.bytes().await.expect("body").to_vec())
    };
    let (bi_etag, bi_raw) = read(app.get("/api/v1/catalogue/changes").await).await;
    let bi: CatalogueChanges = serde_json::from_slice(&bi_raw).expect("bilingual answer");
    assert_eq!(bi.lang, None);
    let with_english: Vec<&Text> =
        bi.procedures.iter().flat_map(|p| p.form.fields.iter().map(|f| &f.label)).filter(|t| t.en.is_some()).collect();
    assert!(!with_english.is_empty(), "the seed has English labels");
    let mut etags = vec![bi_etag];
    for lang in [Lang::Vi, Lang::En] {
        let (etag, raw) = read(app.get(&format!("/api/v1/catalogue/changes?lang={}", lang.as_str())).await).await;
        let text = String::from_utf8(raw.clone()).expect("utf-8");
        assert!(!text.contains("\"vi\":") && !text.contains("\"en\":"), "one language only");
        assert!(!text.contains("\"agency_en\"") && !text.contains("\"only_when_en\""), "no English companions");
        assert!(text.contains("\"shared_fields\":[{"), "shared fields sent once");
        assert!(raw.len() * 4 < bi_raw.len() * 3, "{lang:?}: {} bytes vs {} bilingual", raw.len(), bi_raw.len());
        let one = unpack(&raw).expect("unpacks");
        assert_eq!((one.version, one.since, one.lang), (bi.version, 0, Some(lang)));
        let ids = |c: &CatalogueChanges| -> Vec<(String, i64, u32)> {
            c.procedures.iter().map(|p| (p.code.clone(), p.version, p.form.version)).collect()
        };
        assert_eq!(ids(&one), ids(&bi), "the same procedures at the same versions");
        assert_eq!(one.fields, bi.fields);
        for (got, full) in one.procedures.iter().zip(&bi.procedures) {
            assert_eq!(got.name, full.name, "the Vietnamese name stays for search");
            let name_en = if lang == Lang::En { full.name_en.as_str() } else { "" };
            assert_eq!(got.name_en, name_en);
            assert_eq!(got.aliases, full.aliases);
            assert_eq!(got.form.fields.len(), full.form.fields.len());
            for (g, f) in got.form.fields.iter().zip(&full.form.fields) {
                assert_eq!(g.key, f.key);
                assert_eq!(g.label, Text::vi(f.label.get(lang)), "{} {}", full.code, f.key);
                if !matches!(f.kind, FieldKind::Select { .. } | FieldKind::Group { .. }) {
                    assert_eq!(g.kind, f.kind, "the rules are the same");
                }
            }
            let docs = |p: &motcua_domain::wire::Procedure| -> Vec<String> {
                p.required_documents.iter().map(|d| d.code.clone()).collect()
            };
            assert_eq!(docs(got), docs(full));
        }
        assert!(!etags.contains(&etag), "{etag} vs {etags:?}");
        let cached = app
            .request(Method::GET, &format!("/api/v1/catalogue/changes?lang={}", lang.as_str()))
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("request");
        assert_eq!(cached.status(), 304);
        let other = app
            .request(Method::GET, &format!("/api/v1/catalogue/changes?lang={}", lang.as_str()))
            .header("if-none-match", &etags[0])
            .send()
            .await
            .expect("request");
        assert_eq!(other.status(), 200, "the bilingual ETag does not stand for the {lang:?} answer");
        etags.push(etag);
    }
    let paths = expect_error(app.get("/api/v1/catalogue/changes?lang=fr").await, 422, "validation_failed").await;
    assert_eq!(paths, vec!["lang"]);
    let english = app
        .request(Method::GET, "/api/v1/catalogue/changes?lang=EN&since=-1")
        .header("accept-language", "en")
        .send()
        .await
        .expect("request");
    let body = expect_json(english, 422).await;
    let paths: Vec<&str> =
        body["error"]["fields"].as_array().expect("fields").iter().filter_map(|f| f["path"].as_str()).collect();
    assert_eq!(paths, vec!["since", "lang"]);
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.is_ascii()), "English message: {body}");
    app.stop().await;
}

/// The whole catalogue in one language (every new phone's first sync) is built and
/// compressed once per version, at the highest levels, and sent in the coding the phone
/// accepts: the same answer in each.
async fn the_whole_catalogue_in_one_language_is_compressed_once(backend: Backend) {
    use std::io::{Read, Write};
    let app = spawn_app(backend).await;
    // A client that leaves the bodies as sent (no decoders).
    let raw = reqwest::Client::builder().no_gzip().no_brotli().build().expect("client");
    let get = |coding: &'static str| {
        let request = raw.get(app.url("/api/v1/catalogue/changes?lang=en&since=0"));
        let request = if coding.is_empty() { request } else { request.header("accept-encoding", coding) };
        async move {
            let r = request.send().await.expect("request");
            assert_eq!(r.status(), 200);
            let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let (encoding, vary, etag) = (header("content-encoding"), header("vary"), header("etag"));
            assert!(vary.is_some_and(|v| v.contains("accept-encoding")));
            (encoding, etag.expect("etag"), r.bytes().await.expect("body").to_vec())
        }
    };
    let (none, etag, plain) = get("").await;
    assert_eq!(none, None);
    let answer: serde_json::Value = serde_json::from_slice(&plain).expect("JSON");
    assert_eq!(answer["lang"], "en");
    let (gz, etag_gz, zipped) = get("gzip").await;
    assert_eq!((gz.as_deref(), etag_gz.as_str()), (Some("gzip"), etag.as_str()));
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..]).read_to_end(&mut unzipped).expect("gzip");
    assert_eq!(unzipped, plain, "the same answer");
    let mut level5 = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(5));
    level5.write_all(&plain).expect("gzip");
    assert!(zipped.len() < level5.finish().expect("gzip").len(), "smaller than the layer's level 5");
    let (br, _, brotli) = get("gzip, deflate, br").await;
    assert_eq!(br.as_deref(), Some("br"));
    let mut unbrotli = Vec::new();
    brotli::Decompressor::new(&brotli[..], 4096).read_to_end(&mut unbrotli).expect("brotli");
    assert_eq!(unbrotli, plain, "the same answer");
    assert!(brotli.len() < zipped.len());
    let (refused, _, again) = get("br;q=0, gzip").await;
    assert_eq!((refused.as_deref(), again), (Some("gzip"), zipped), "built once: the same bytes");
    let cached = raw
        .get(app.url("/api/v1/catalogue/changes?lang=en&since=0"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(cached.status(), 304);
    app.stop().await;
}

/// A new seed with one procedure changed and one removed: the version moves once, and a
/// client at the old version receives exactly those two.
async fn reseeding_moves_only_what_changed(backend: Backend) {
    let app = spawn_app(backend).await;
    let seed = Seed::embedded().expect("seed");
    let again = apply(&app.state.db, &seed).await.expect("apply");
    assert_eq!(again.changed_procedures, 0, "the same seed changes nothing");
    let before = again.catalogue_version;
    let whole = expect_json(app.get("/api/v1/catalogue/changes?lang=vi").await, 200).await;
    assert_eq!(whole["version"].as_i64(), Some(before));

    let mut procedures = seed.procedures.clone();
    let removed = procedures.pop().expect("one procedure").code;
    procedures[0].fee_vnd += 1000;
    let changed = procedures[0].code.clone();
    let edited = Seed::parse(
        &serde_json::to_string(&seed.fields).expect("json"),
        &serde_json::to_string(&procedures).expect("json"),
        &serde_json::to_string(&seed.branches).expect("json"),
    )
    .expect("edited seed");
    let outcome = apply(&app.state.db, &edited).await.expect("apply");
    assert_eq!((outcome.changed_procedures, outcome.retired_procedures), (1, 1));
    assert_eq!(outcome.catalogue_version, before + 1);

    let delta = expect_json(app.get(&format!("/api/v1/catalogue/changes?since={before}")).await, 200).await;
    assert_eq!(delta["version"].as_i64(), Some(before + 1));
    let codes: Vec<&str> =
        delta["procedures"].as_array().expect("procedures").iter().map(|p| p["code"].as_str().expect("code")).collect();
    assert_eq!(codes, vec![changed.as_str()]);
    assert_eq!(delta["retired"], serde_json::json!([removed]));
    // The whole catalogue in one language (built once per version) follows the new version.
    let whole = expect_json(app.get("/api/v1/catalogue/changes?lang=vi").await, 200).await;
    assert_eq!(whole["version"].as_i64(), Some(before + 1));
    let codes: Vec<&str> =
        whole["procedures"].as_array().expect("procedures").iter().filter_map(|p| p["code"].as_str()).collect();
    assert!(!codes.contains(&removed.as_str()) && codes.contains(&changed.as_str()));
    expect_error(app.get(&format!("/api/v1/procedures/{removed}")).await, 404, "not_found").await;
    let page = expect_json(app.get("/api/v1/procedures?per_page=100").await, 200).await;
    assert_eq!(page["catalogue_version"].as_i64(), Some(before + 1), "every process sees the new version");
    app.stop().await;
}

async fn branches_nearest_first_within_radius(backend: Backend) {
    let app = spawn_app(backend).await;
    // Hoàn Kiếm lake.
    let near = expect_json(app.get("/api/v1/branches?lat=21.0287&lng=105.8524&radius_km=5").await, 200).await;
    let items = near["items"].as_array().expect("items");
    assert!(!items.is_empty());
    let distances: Vec<f64> = items.iter().map(|b| b["distance_km"].as_f64().expect("distance")).collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "nearest first: {distances:?}");
    assert!(distances.iter().all(|d| *d <= 5.0), "{distances:?}");
    let all = expect_json(app.get("/api/v1/branches").await, 200).await;
    assert!(all["items"].as_array().expect("items").len() > items.len(), "outer districts are farther than 5 km");
    let wide = expect_json(app.get("/api/v1/branches?lat=21.0287&lng=105.8524&radius_km=100").await, 200).await;
    assert_eq!(wide["items"].as_array().map(Vec::len), all["items"].as_array().map(Vec::len));

    let paths = expect_error(app.get("/api/v1/branches?lat=21.02").await, 422, "validation_failed").await;
    assert_eq!(paths, vec!["lng"]);
    let paths =
        expect_error(app.get("/api/v1/branches?lat=abc&lng=200&radius_km=-1").await, 422, "validation_failed").await;
    assert_eq!(paths, vec!["lat", "lng", "radius_km"]);
    app.stop().await;
}
