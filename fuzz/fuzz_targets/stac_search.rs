//! STAC item search: GET query strings (`bbox`, `intersects`, `datetime`, `limit`,
//! `token`...) and POST JSON bodies, validated into a `Search` and matched against a
//! few items.
#![no_main]

use datagate::model::cf::CfDateTime;
use datagate::stac::{IndexedItem, Search, SearchRequest};
use datagate::subset::BBox;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn items() -> &'static [IndexedItem] {
    static ITEMS: OnceLock<Vec<IndexedItem>> = OnceLock::new();
    ITEMS.get_or_init(|| {
        let t = |s: &str| CfDateTime::parse(s).ok();
        vec![
            IndexedItem {
                id: "sst".into(),
                collection: "ocean".into(),
                title: "SST".into(),
                bbox: BBox::new(-180.0, -90.0, 180.0, 90.0).ok(),
                start: t("2020-01-01T00:00:00Z"),
                end: t("2020-12-31T00:00:00Z"),
                geometry: None,
                outline: None,
                dataset: None,
            },
            IndexedItem {
                id: "small".into(),
                collection: "coast".into(),
                title: "Small".into(),
                bbox: BBox::new(170.0, -10.0, -170.0, 10.0).ok(),
                start: t("1999-06-01"),
                end: None,
                geometry: None,
                outline: None,
                dataset: None,
            },
            IndexedItem {
                id: "bare".into(),
                collection: "misc".into(),
                title: String::new(),
                bbox: None,
                start: None,
                end: None,
                geometry: None,
                outline: None,
                dataset: None,
            },
        ]
    })
}

fn run(request: SearchRequest) {
    if let Ok(search) = Search::new(request) {
        for item in items() {
            let _ = search.matches(item);
        }
        let search = search.in_collection("ocean");
        for item in items() {
            let _ = search.matches(item);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(data)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Ok(request) = SearchRequest::from_query(&pairs) {
        run(request);
    }
    if let Ok(request) = serde_json::from_slice::<SearchRequest>(data) {
        run(request);
    }
});
