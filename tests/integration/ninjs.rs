//! IPTC ninjs 3.1 channels: every item of the merged, a topic and a source channel validates
//! against IPTC's own schema (`../shared/ninjs`), with the other formats' ids, paging, `since`
//! cursors and conditional GET.

use crate::helpers::*;
use serde_json::Value;

const TOPIC: &str = "[[topic]]\nid = \"diplomacy\"\ntitle = \"Diplomacy\"\ncategories = [\"Diplomacy\"]\n";

/// An RSS feed whose first item has a credited picture and a category, so pictures and subjects
/// are validated too; `shared` is a report both sources carry (one story, two outlets).
fn feed(prefix: &str, day: u32) -> Vec<u8> {
    let pic = format!(
        "<item><guid>{prefix}-pic</guid><title>{prefix}: talks resume &amp; stall</title><link>https://{prefix}.example/pic</link>\
         <description>&lt;p&gt;Envoys met &lt;b&gt;again&lt;/b&gt;.&lt;/p&gt;</description><category>Diplomacy</category>\
         <author>desk@{prefix}.example (Ilse Varga)</author>\
         <media:content url=\"https://{prefix}.example/p.jpg\" type=\"image/jpeg\"><media:credit>Photo: Ana Ruiz</media:credit></media:content>\
         <pubDate>{day:02} Nov 2026 09:00:00 +0000</pubDate></item>"
    );
    let shared =
        "<item><guid>shared</guid><title>Harbour closed after storm</title><link>https://port.example/storm</link>\
         <description>The harbour closed.</description><pubDate>03 Nov 2026 08:00:00 +0000</pubDate></item>";
    let items = [pic, rss_item(&format!("{prefix}-1"), &format!("{prefix} one"), day), shared.to_owned()].concat();
    let doc = String::from_utf8(rss(&items)).expect("utf-8");
    doc.replacen("<rss version=\"2.0\">", "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\">", 1)
        .into_bytes()
}

/// The ninjs schema refers to GeoJSON's for `places[].geoJSON`, which newsriver never writes: it
/// resolves to an empty schema, so validation needs nothing beyond 127.0.0.1. Any other external
/// reference fails the build of the validator.
struct GeoJsonUnused;

impl jsonschema::Retrieve for GeoJsonUnused {
    fn retrieve(&self, uri: &jsonschema::Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        match uri.as_str().starts_with("https://geojson.org/") {
            true => Ok(serde_json::json!({})),
            false => Err(format!("no external schema {uri} in tests").into()),
        }
    }
}

fn validator(dir: &std::path::Path) -> jsonschema::Validator {
    let raw = std::fs::read(dir.join("ninjs-schema_3.1.json")).expect("schema file");
    let schema: Value = serde_json::from_slice(&raw).expect("schema is JSON");
    let options = jsonschema::draft202012::options().should_validate_formats(true).with_retriever(GeoJsonUnused);
    options.build(&schema).expect("schema compiles")
}

/// Fails naming every schema violation of every item.
fn assert_valid(v: &jsonschema::Validator, path: &str, doc: &Value) {
    let items = doc["items"].as_array().unwrap_or_else(|| panic!("{path}: no items list: {doc}"));
    assert!(!items.is_empty(), "{path}: no items");
    assert!(items.iter().all(|i| i.get("places").is_none()), "{path}: places are validated against a stub");
    let errors: Vec<String> = (items.iter())
        .flat_map(|item| v.iter_errors(item).map(move |e| format!("{}: {e} at {}", item["uri"], e.instance_path())))
        .collect();
    assert!(errors.is_empty(), "{path}: items invalid against ninjs 3.1:\n{}", errors.join("\n"));
}

async fn ninjs(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, Value) {
    let resp = app.get(path).await;
    assert_eq!(resp.status(), 200, "{path}");
    let headers = resp.headers().clone();
    let ct = headers["content-type"].to_str().expect("ascii");
    assert!(ct.starts_with("application/ninjs+json"), "{path}: {ct}");
    (headers, resp.json().await.expect("ninjs is JSON"))
}

fn uris(doc: &Value) -> Vec<String> {
    let items = doc["items"].as_array().cloned().unwrap_or_default();
    items.iter().filter_map(|i| i["uri"].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn every_channel_is_valid_ninjs_with_the_same_ids_paging_and_caching() {
    let Some(dir) = shared("ninjs") else { return };
    let v = validator(&dir);
    let a = serve_body("/feed", feed("gazette", 5), "application/rss+xml").await;
    let b = serve_body("/feed", feed("wire", 4), "application/rss+xml").await;
    let sources = [("gazette", format!("{}/feed", a.uri())), ("wire", format!("{}/feed", b.uri()))];
    let app = spawn_app_with_topics(&sources, TOPIC).await;
    app.poll_now().await;
    for channel in ["/feeds/all", "/topics/diplomacy", "/sources/gazette"] {
        let (_, doc) = ninjs(&app, &format!("{channel}.ninjs")).await;
        assert_valid(&v, channel, &doc);
        let json: Value = app.get(&format!("{channel}.json")).await.json().await.expect("json feed");
        let ids: Vec<String> = json["items"].as_array().expect("items").iter().map(|i| i["id"].to_string()).collect();
        let want: Vec<String> = uris(&doc).iter().map(|u| format!("{u:?}")).collect();
        assert_eq!(ids, want, "{channel}: ninjs uris are the JSON Feed ids");
        assert_eq!(doc["self"], format!("{PUBLIC_URL}{channel}.ninjs"), "{channel}");
    }
    let (headers, all) = ninjs(&app, "/feeds/all.ninjs").await;
    assert_carries_pictures_topics_and_outlets(&all);
    paging_follows_next(&app, &v, &uris(&all)).await;
    since_follows_the_cursor(&app, &headers).await;
    let etag = headers["etag"].to_str().expect("etag");
    let cached = app.client.get(format!("{}/feeds/all.ninjs", app.base)).header("if-none-match", etag);
    assert_eq!(cached.send().await.expect("send").status(), 304);
    app.stop().await;
}

/// What the schema cannot say: the mapping put the data where partners look for it.
fn assert_carries_pictures_topics_and_outlets(doc: &Value) {
    let items = doc["items"].as_array().expect("items");
    let pic = items.iter().find(|i| i["headlines"][0]["value"] == "gazette: talks resume & stall").expect("item");
    assert_eq!(pic["associations"][0]["type"], "picture", "{pic}");
    assert_eq!(pic["associations"][0]["by"], "Photo: Ana Ruiz", "{pic}");
    assert_eq!(pic["subjects"][0]["name"], "Diplomacy", "{pic}");
    assert_eq!(pic["infoSources"][0]["literal"], "gazette", "{pic}");
    assert!(pic["by"].as_str().is_some_and(|b| b.contains("Ilse Varga")), "{pic}");
    assert!(pic["bodies"][0]["value"].as_str().is_some_and(|b| b.starts_with("Envoys met again")), "{pic}");
    assert_eq!(pic["bodies"][1]["value"], "<p>Envoys met <b>again</b>.</p>", "{pic}");
    let storm = items.iter().find(|i| i["headlines"][0]["value"] == "Harbour closed after storm").expect("story");
    let related: Vec<&Value> =
        storm["associations"].as_array().into_iter().flatten().filter(|a| a["rel"] == "related").collect();
    assert_eq!(related.len(), 1, "the other outlet of the story: {storm}");
}

/// `?limit=1` then each `next` link walks every item once, newest first, every page valid.
async fn paging_follows_next(app: &TestApp, v: &jsonschema::Validator, want: &[String]) {
    let mut path = "/feeds/all.ninjs?limit=1".to_owned();
    let mut seen = Vec::new();
    for _ in 0..=want.len() {
        let (_, page) = ninjs(app, &path).await;
        if page["items"].as_array().is_some_and(|i| !i.is_empty()) {
            assert_valid(v, &path, &page);
        }
        seen.extend(uris(&page));
        let Some(next) = page["next"].as_str() else { break };
        path = next.replace(PUBLIC_URL, "");
    }
    assert_eq!(seen, want, "pages of one item, followed by `next`");
}

/// The cursor of a full read covers everything in it (nothing comes after it); `since=0` gives
/// every item of the channel, with a `next` cursor to go on from.
async fn since_follows_the_cursor(app: &TestApp, headers: &reqwest::header::HeaderMap) {
    let cursor = headers["x-newsriver-cursor"].to_str().expect("cursor").to_owned();
    let (_, empty) = ninjs(app, &format!("/feeds/all.ninjs?since={cursor}")).await;
    assert_eq!(uris(&empty), Vec::<String>::new());
    let (_, all) = ninjs(app, "/feeds/all.ninjs?since=0").await;
    assert_eq!(uris(&all).len(), app.all_entries().iter().filter(|e| !e.secondary).count());
    assert!(all["next"].as_str().is_some_and(|n| n.contains("since=c")), "{}", all["next"]);
}
