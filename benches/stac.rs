//! STAC item search over 100,000 indexed items (bbox + datetime + collection filters).
//! Run: cargo bench --bench stac

use criterion::{Criterion, criterion_group, criterion_main};
use datagate::model::cf::CfDateTime;
use datagate::stac::{IndexedItem, Search, SearchRequest};
use datagate::subset::BBox;

fn items(n: usize) -> Vec<IndexedItem> {
    (0..n)
        .map(|k| {
            let lon = (k % 360) as f64 - 180.0;
            let lat = ((k / 360) % 170) as f64 - 85.0;
            let day = (k % 28) as u32 + 1;
            let t = CfDateTime {
                year: 2000 + (k / 10_000) as i64,
                month: (k % 12) as u32 + 1,
                day,
                hour: 0,
                minute: 0,
                second: 0.0,
            };
            IndexedItem {
                id: format!("granule_{k:06}.nc"),
                collection: if k % 2 == 0 {
                    "even".into()
                } else {
                    "odd".into()
                },
                title: String::new(),
                bbox: BBox::new(lon, lat, lon + 1.0, lat + 1.0).ok(),
                start: Some(t),
                end: Some(t),
                geometry: None,
                outline: None,
                dataset: None,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let all = items(100_000);
    let search = |pairs: &[(&str, &str)]| {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Search::new(SearchRequest::from_query(&pairs).unwrap()).unwrap()
    };
    let cases = [
        ("bbox", search(&[("bbox", "-10,-10,10,10")])),
        (
            "bbox_datetime_collection",
            search(&[
                ("bbox", "-50,-50,50,50"),
                ("datetime", "2003-01-01/2004-06-30T00:00:00Z"),
                ("collections", "even"),
            ]),
        ),
        (
            "intersects_polygon",
            search(&[(
                "intersects",
                r#"{"type":"Polygon","coordinates":[[[0,0],[40,0],[20,30],[0,0]]]}"#,
            )]),
        ),
    ];
    for (name, s) in cases {
        c.bench_function(&format!("stac_search_100k/{name}"), |b| {
            b.iter(|| all.iter().filter(|i| s.matches(i)).count())
        });
    }
}

criterion_group!(stac, bench);
criterion_main!(stac);
