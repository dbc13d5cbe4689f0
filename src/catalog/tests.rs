//! The catalog as a whole: ids, reopening, blocks, aggregations, configuration problems.

use std::sync::Arc;

use futures::StreamExt;

use super::*;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::subset::Hyperslab;

#[tokio::test]
async fn resolves_and_reopens_changed_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("y")).unwrap();
    crate::fixtures::types_cdf5(&dir.path().join("a.nc")).unwrap();
    crate::fixtures::types_cdf5(&dir.path().join("y/a.nc")).unwrap();
    let mut config = Config::for_roots(&[dir.path().to_path_buf()]);
    // Local files are trusted for `local_revalidate_ms`: 1.5 s here, to see both sides.
    config.storage.local_revalidate_ms = 1500;
    let (cat, problems) = Catalog::from_config(&config, Arc::new(Metrics::new()));
    assert!(problems.is_empty());
    assert_eq!(cat.len(), 2);
    assert_eq!(cat.resolve("a.nc.dds"), Some(("a.nc".into(), ".dds")));
    assert_eq!(cat.resolve("a.nc"), Some(("a.nc".into(), "")));
    assert_eq!(
        cat.resolve("y/a.nc/.zgroup"),
        Some(("y/a.nc".into(), "/.zgroup"))
    );
    assert_eq!(cat.resolve("a.ncx"), None);
    assert_eq!(cat.resolve("../a.nc"), None);
    assert_eq!(cat.resolve("y"), None);

    let first = cat.open("a.nc").await.unwrap();
    let again = cat.open("a.nc").await.unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    assert!(first.meta.variable("v_u16").is_some());
    assert!(matches!(
        cat.open("zzz").await,
        Err(CatalogError::NotFound(_))
    ));

    // Rewrite with different content: a new size, so a new open.
    std::thread::sleep(std::time::Duration::from_millis(20));
    crate::fixtures::sst_classic(&dir.path().join("a.nc"), netcdf::Options::empty()).unwrap();
    // Within the interval the version last seen is trusted (no `stat`)...
    assert!(Arc::ptr_eq(&first, &cat.open("a.nc").await.unwrap()));
    // ...after it, the change is seen.
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    let changed = cat.open("a.nc").await.unwrap();
    assert!(!Arc::ptr_eq(&first, &changed));
    assert!(changed.meta.variable("sst").is_some());
    assert_ne!(first.etag(), changed.etag());
}

#[tokio::test]
async fn blocks_concatenate_to_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    crate::fixtures::gridded_nc4(&dir.path().join("g.nc")).unwrap();
    let (cat, _) = Catalog::from_config(
        &Config::for_roots(&[dir.path().to_path_buf()]),
        Arc::new(Metrics::new()),
    );
    let ds = cat.open("g.nc").await.unwrap();
    let slab = Hyperslab::full(&[4, 3, 20, 36]);
    let whole = ds.read("/temp", &slab).await.unwrap();
    let blocks: Vec<_> = ds.read_blocks("/temp", &slab, 1000).collect().await;
    assert!(blocks.len() > 10);
    let mut values = blocks[0].as_ref().unwrap().values.clone();
    for b in &blocks[1..] {
        let b = b.as_ref().unwrap();
        assert!(b.len() * 4 <= 1000 || b.shape.iter().rev().skip(1).all(|&n| n == 1));
        values.extend(b.values.clone()).unwrap();
    }
    assert_eq!(values, whole.values);
}

#[tokio::test]
async fn aggregations_read_across_files() {
    use crate::model::ArrayValues;
    use crate::subset::DimSlice;
    let dir = tempfile::tempdir().unwrap();
    crate::fixtures::daily_series(dir.path(), 5).unwrap();
    let mut config: Config = toml::from_str(
        r#"
        [[collections]]
        id = "sst-daily"
        glob = "daily/sst_*.nc"
        join_existing = "time"
        [[collections]]
        id = "sst-undated"
        glob = "undated/grid_*.nc"
        join_new = "time"
        date_format = "grid_%Y%m%d.nc"
        units = "days since 2020-01-01"
        [[collections]]
        id = "nothing"
        glob = "none/*.nc"
        union = true
        "#,
    )
    .unwrap();
    config.base_dir = dir.path().to_path_buf();
    let (cat, _) = Catalog::from_config(&config, Arc::new(Metrics::new()));
    let problems = cat.build_collections(&config).await;
    assert!(
        problems.iter().any(|p| p.contains("sst_bad.nc")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("\"nothing\"")),
        "{problems:?}"
    );
    assert_eq!(problems.len(), 2, "{problems:?}");

    let agg = cat.open("sst-daily").await.unwrap();
    assert_eq!(agg.meta.variable("sst").unwrap().shape(), vec![5, 4, 5]);
    // Each file's own units ("hours since that day") are converted to the first's.
    let t = agg.read("/time", &Hyperslab::full(&[5])).await.unwrap();
    assert_eq!(
        t.values,
        ArrayValues::F64(vec![12.0, 36.0, 60.0, 84.0, 108.0])
    );
    // A strided read spanning files equals the per-file reads.
    let slab = Hyperslab::new(vec![
        DimSlice {
            start: 1,
            stride: 2,
            count: 2,
        },
        DimSlice::index(2),
        DimSlice {
            start: 0,
            stride: 4,
            count: 2,
        },
    ]);
    let a = agg.read("/sst", &slab).await.unwrap();
    let ArrayValues::F32(v) = a.values else {
        panic!()
    };
    let expect = |k: usize, p: usize| 280.0 + k as f32 + p as f32 * 0.01;
    assert_eq!(
        v,
        vec![expect(1, 10), expect(1, 14), expect(3, 10), expect(3, 14)]
    );
    // Aggregations are readers like any other.
    for id in ["sst-daily", "sst-undated"] {
        let ds = cat.open(id).await.unwrap();
        let problems = crate::readers::conformance::check(ds.reader.as_ref()).await;
        assert!(problems.is_empty(), "{id}: {problems:#?}");
    }
    // Members are datasets of their own.
    assert!(cat.open("sst-daily/sst_20200131.nc").await.is_ok());
    assert_eq!(
        cat.resolve("sst-daily.dds"),
        Some(("sst-daily".into(), ".dds"))
    );

    let new = cat.open("sst-undated").await.unwrap();
    let var = new.meta.variable("sst").unwrap();
    assert_eq!(var.shape(), vec![5, 4, 5]);
    assert_eq!(new.meta.variable("lat").unwrap().shape(), vec![4]);
    let t = new.read("/time", &Hyperslab::full(&[5])).await.unwrap();
    assert_eq!(
        t.values,
        ArrayValues::F64(vec![29.0, 30.0, 31.0, 32.0, 33.0])
    );
    let last = new
        .read(
            "/sst",
            &Hyperslab::new(vec![
                DimSlice::index(4),
                DimSlice::full(4),
                DimSlice::full(5),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(last.shape, vec![1, 4, 5]);
    assert_eq!(last.values.get_f64(0), expect(4, 0) as f64);

    // A new file appears: a rebuild picks it up and the version changes.
    let before = agg.etag();
    crate::fixtures::daily_series(&dir.path().join("more"), 6).unwrap();
    std::fs::copy(
        dir.path().join("more/daily/sst_20200204.nc"),
        dir.path().join("daily/sst_20200204.nc"),
    )
    .unwrap();
    cat.build_collections(&config).await;
    let after = cat.open("sst-daily").await.unwrap();
    assert_eq!(after.meta.variable("sst").unwrap().shape(), vec![6, 4, 5]);
    assert_ne!(before, after.etag());
}

#[tokio::test]
async fn reports_config_problems() {
    let dir = tempfile::tempdir().unwrap();
    crate::fixtures::types_cdf5(&dir.path().join("a.nc")).unwrap();
    let mut config: Config = toml::from_str(
        r#"
        [[datasets]]
        id = "one"
        location = "a.nc"
        [[datasets]]
        id = "one"
        location = "a.nc"
        [[datasets]]
        id = "two"
        location = "missing.nc"
        [[datasets]]
        glob = "*.nothing"
        "#,
    )
    .unwrap();
    config.base_dir = dir.path().to_path_buf();
    let (cat, problems) = Catalog::from_config(&config, Arc::new(Metrics::new()));
    assert_eq!(cat.len(), 1);
    assert_eq!(problems.len(), 3, "{problems:?}");
}

#[tokio::test]
async fn unreadable_files_are_not_parsed_again_until_they_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.nc");
    // A NetCDF-3 header whose dimension list runs past the file's end.
    std::fs::write(&path, b"CDF\x01\0\0\0\0\0\0\0\x0a\0\0\0\x09").unwrap();
    let mut config = Config::for_roots(&[dir.path().to_path_buf()]);
    config.storage.local_revalidate_ms = 0;
    let metrics = Arc::new(Metrics::new());
    let (cat, _) = Catalog::from_config(&config, metrics.clone());
    let refused = || {
        metrics
            .cache
            .with_label_values(&["unreadable", "hit"])
            .get()
    };
    for attempt in 0..3 {
        match cat.open("broken.nc").await {
            Err(CatalogError::Unavailable { .. }) => {}
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("a damaged file opened"),
        }
        assert_eq!(
            refused(),
            attempt,
            "the first attempt parses, later ones are refused"
        );
    }
    // Once repaired (a new version), the file is opened at once.
    std::thread::sleep(std::time::Duration::from_millis(20));
    crate::fixtures::sst_classic(&path, netcdf::Options::empty()).unwrap();
    let ds = cat.open("broken.nc").await.unwrap();
    assert!(ds.meta.variable("sst").is_some());
}
