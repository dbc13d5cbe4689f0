//! STAC search over a generated collection of 1,000 granule files with known time
//! ranges and footprints: exact matches and paging.

use std::sync::Arc;

use datagate::catalog::Catalog;
use datagate::config::Config;
use datagate::metrics::Metrics;
use datagate::stac::{ItemIndex, Search, SearchRequest};

fn search(pairs: &[(&str, &str)]) -> Search {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    Search::new(SearchRequest::from_query(&pairs).unwrap()).unwrap()
}

#[tokio::test]
async fn thousand_granules() {
    let dir = tempfile::tempdir().unwrap();
    datagate::fixtures::daily_series(dir.path(), 1000).unwrap();
    let mut config: Config = toml::from_str(
        r#"
        [[collections]]
        id = "daily"
        glob = "daily/sst_2*.nc"
        join_existing = "time"
        "#,
    )
    .unwrap();
    config.base_dir = dir.path().to_path_buf();
    let (catalog, _) = Catalog::from_config(&config, Arc::new(Metrics::new()));
    assert!(catalog.build_collections(&config).await.is_empty());
    let index = std::sync::Arc::new(ItemIndex::build(&catalog).await);
    let daily: Vec<_> = index
        .items
        .iter()
        .filter(|i| i.collection == "daily")
        .collect();
    assert_eq!(daily.len(), 1000);
    // Files run from 2020-01-30, one a day, each at 12:00; footprint 20..24E, 10..13N.
    let count = |s: &Search| index.items.iter().filter(|i| s.matches(i)).count();
    assert_eq!(
        count(&search(&[
            ("collections", "daily"),
            ("datetime", "2020-02-01T00:00:00Z/2020-02-29T23:59:59Z")
        ])),
        29
    );
    assert_eq!(
        count(&search(&[
            ("collections", "daily"),
            ("datetime", "2021-01-01T00:00:00Z/..")
        ])),
        1000 - 337
    );
    assert_eq!(
        count(&search(&[
            ("bbox", "23.5,12.5,30,20"),
            ("collections", "daily")
        ])),
        1000
    );
    assert_eq!(count(&search(&[("bbox", "25,10,30,13")])), 0);
    assert_eq!(
        count(&search(&[(
            "ids",
            "daily/sst_20200130.nc,daily/sst_20200131.nc"
        )])),
        2
    );
    // Paging: offsets walk the matches without overlap.
    let all = search(&[("collections", "daily"), ("limit", "300")]);
    assert_eq!(all.limit, 300);
    let page4 = search(&[
        ("collections", "daily"),
        ("limit", "300"),
        ("token", "next:900"),
    ]);
    let matched: Vec<_> = index
        .items
        .iter()
        .filter(|i| page4.matches(i))
        .skip(page4.offset)
        .take(page4.limit)
        .collect();
    assert_eq!(matched.len(), 100);
}
