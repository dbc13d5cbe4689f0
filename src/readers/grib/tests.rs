//! The GRIB reader on files ecCodes writes from its samples: the index, cfgrib's
//! hypercubes and splits, values in place, and damaged files giving errors.

use std::sync::Arc;

use super::testdata;
use crate::model::{ArrayValues, AttrValue};
use crate::readers::formats::GRIB;
use crate::readers::{ReadError, Reader, ReadersConfig};
use crate::storage::{Location, Storage};
use crate::subset::{DimSlice, Hyperslab};

pub(super) async fn open_bytes(bytes: &[u8]) -> Result<Arc<dyn Reader>, ReadError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.grib2");
    std::fs::write(&path, bytes).unwrap();
    let location = Location::Local(path);
    let storage = Arc::new(Storage::new(
        Default::default(),
        Arc::new(crate::metrics::Metrics::new()),
    ));
    let version = storage.head(&location).await.unwrap();
    let req = super::OpenRequest {
        location: &location,
        version: &version,
        storage: &storage,
        config: &ReadersConfig::default(),
    };
    // The reader reads on demand: the file outlives the test (in the temp dir).
    let _kept = dir.keep();
    super::open(&GRIB, req).await
}

fn dims(r: &dyn Reader, var: &str) -> Vec<String> {
    let meta = r.metadata();
    let v = meta.variable(var).unwrap_or_else(|| panic!("no {var}"));
    v.dims
        .iter()
        .map(|d| format!("{}={}", d.name, d.len))
        .collect()
}

fn text_attr(r: &dyn Reader, var: &str, name: &str) -> Option<String> {
    r.metadata().variable(var)?.attr(name)?.as_text()
}

async fn f32s(r: &dyn Reader, var: &str, slab: Vec<DimSlice>) -> Vec<f32> {
    match r.read(var, &Hyperslab::new(slab)).await.unwrap().values {
        ArrayValues::F32(v) => v,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn pressure_levels_form_one_hypercube_like_cfgrib() {
    let r = open_bytes(&testdata::pressure_levels().unwrap())
        .await
        .unwrap();
    assert!(r.parts().is_empty());
    let r = r.as_ref();
    assert_eq!(
        dims(r, "/t"),
        [
            "time=2",
            "step=2",
            "isobaricInhPa=3",
            "latitude=5",
            "longitude=8"
        ]
    );
    assert_eq!(dims(r, "/valid_time"), ["time=2", "step=2"]);
    assert_eq!(text_attr(r, "/t", "units").as_deref(), Some("K"));
    assert_eq!(
        text_attr(r, "/t", "standard_name").as_deref(),
        Some("air_temperature")
    );
    assert_eq!(text_attr(r, "/u", "GRIB_shortName").as_deref(), Some("u"));
    assert_eq!(
        text_attr(r, "/isobaricInhPa", "stored_direction").as_deref(),
        Some("decreasing")
    );
    let meta = r.metadata();
    assert_eq!(
        meta.variable("/t").unwrap().attr("GRIB_paramId"),
        Some(&AttrValue::I32(vec![130]))
    );
    // Coordinates: levels decreasing, latitudes north to south, times in seconds.
    let full = |n| DimSlice::full(n);
    let levels = r
        .read("/isobaricInhPa", &Hyperslab::new(vec![full(3)]))
        .await
        .unwrap();
    assert_eq!(levels.values, ArrayValues::F64(vec![850.0, 500.0, 250.0]));
    let lat = r
        .read("/latitude", &Hyperslab::new(vec![full(5)]))
        .await
        .unwrap();
    assert_eq!(
        lat.values,
        ArrayValues::F64(vec![60.0, 55.0, 50.0, 45.0, 40.0])
    );
    let lon = r
        .read("/longitude", &Hyperslab::new(vec![full(8)]))
        .await
        .unwrap();
    assert_eq!(lon.values.get_f64(0), -10.0);
    let time = r
        .read("/time", &Hyperslab::new(vec![full(2)]))
        .await
        .unwrap();
    assert_eq!(
        time.values,
        ArrayValues::F64(vec![1704110400.0, 1704196800.0])
    );
    let valid = r
        .read("/valid_time", &Hyperslab::full(&[2, 2]))
        .await
        .unwrap();
    assert_eq!(valid.values.get_f64(3), 1704196800.0 + 6.0 * 3600.0);
    // u, day 1, step 6, 250 hPa, points 9 and 11 (row 1, columns 1 and 3).
    let got = f32s(
        r,
        "/u",
        vec![
            DimSlice::index(1),
            DimSlice::index(1),
            DimSlice::index(2),
            DimSlice::index(1),
            DimSlice {
                start: 1,
                stride: 2,
                count: 2,
            },
        ],
    )
    .await;
    let want: Vec<f32> = [9, 11]
        .iter()
        .map(|&p| testdata::value(1, 1, 6, 250, p) as f32)
        .collect();
    assert_eq!(got, want);
    let problems = crate::readers::conformance::check(r).await;
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn mixed_levels_split_by_type_of_level() {
    let r = open_bytes(&testdata::mixed_levels().unwrap())
        .await
        .unwrap();
    assert_eq!(r.parts(), ["heightAboveGround", "isobaricInhPa", "surface"]);
    let sfc = r.part("surface").unwrap();
    assert_eq!(
        dims(sfc.as_ref(), "/sp"),
        ["step=2", "latitude=5", "longitude=8"]
    );
    assert_eq!(
        dims(sfc.as_ref(), "/t"),
        ["step=2", "latitude=5", "longitude=8"]
    );
    // Scalar coordinates, named by the level type, listed in `coordinates`.
    assert!(dims(sfc.as_ref(), "/surface").is_empty());
    assert!(dims(sfc.as_ref(), "/time").is_empty());
    assert!(
        text_attr(sfc.as_ref(), "/t", "coordinates")
            .unwrap()
            .contains("surface")
    );
    let hag = r.part("heightAboveGround").unwrap();
    assert!(hag.metadata().variable("/t2m").is_some());
    let pl = r.part("isobaricInhPa").unwrap();
    let t = f32s(
        pl.as_ref(),
        "/t",
        vec![
            DimSlice::index(1),
            DimSlice::index(1),
            DimSlice::index(0),
            DimSlice::index(0),
        ],
    )
    .await;
    assert_eq!(t, [testdata::value(0, 0, 6, 500, 0) as f32]);
    for name in r.parts() {
        let part = r.part(&name).unwrap();
        let problems = crate::readers::conformance::check(part.as_ref()).await;
        assert!(problems.is_empty(), "{name}: {problems:#?}");
    }
    assert!(r.part("nothing").is_none());
}

#[tokio::test]
async fn grib1_and_gaussian_grids() {
    let r = open_bytes(&testdata::grib1().unwrap()).await.unwrap();
    assert_eq!(
        dims(r.as_ref(), "/z"),
        ["time=2", "isobaricInhPa=2", "latitude=4", "longitude=6"]
    );
    let meta = r.metadata();
    assert_eq!(
        meta.root
            .attributes
            .iter()
            .find(|a| a.name == "GRIB_edition")
            .map(|a| &a.value),
        Some(&AttrValue::I32(vec![1]))
    );
    let z = f32s(
        r.as_ref(),
        "/z",
        vec![
            DimSlice::index(1),
            DimSlice::index(0),
            DimSlice::index(3),
            DimSlice::index(5),
        ],
    )
    .await;
    // GRIB 1 simple packing keeps a few significant digits.
    assert!(
        (z[0] as f64 - testdata::value(0, 1, 0, 850, 23)).abs() < 0.1,
        "{z:?}"
    );

    let g = open_bytes(&testdata::gaussian().unwrap()).await.unwrap();
    assert_eq!(
        dims(g.as_ref(), "/t2m"),
        ["step=3", "latitude=64", "longitude=128"]
    );
    let lat = g
        .read("/latitude", &Hyperslab::full(&[64]))
        .await
        .unwrap()
        .values
        .to_f64();
    // Gaussian latitudes: not evenly spaced, symmetric about the equator.
    assert!((lat[0] + lat[63]).abs() < 1e-9 && lat[0] > 87.0 && lat[0] < 88.0);
    let problems = crate::readers::conformance::check(g.as_ref()).await;
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn other_grids_follow_cfgrib() {
    let sample = |name| super::ffi::message_from_sample(name, &[], None).unwrap();
    // Reduced Gaussian: one `values` dimension, 1-D latitude and longitude on it.
    let r = open_bytes(&sample("reduced_gg_pl_32_grib2")).await.unwrap();
    assert_eq!(dims(r.as_ref(), "/t"), ["values=6114"]);
    assert_eq!(dims(r.as_ref(), "/latitude"), ["values=6114"]);
    // Polar stereographic: y, x with 2-D latitude and longitude.
    let p = open_bytes(&sample("polar_stereographic_pl_grib2"))
        .await
        .unwrap();
    assert_eq!(dims(p.as_ref(), "/t"), ["y=31", "x=16"]);
    assert_eq!(dims(p.as_ref(), "/longitude"), ["y=31", "x=16"]);
    for reader in [r, p] {
        let problems = crate::readers::conformance::check(reader.as_ref()).await;
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reads_agree_with_serial_ones() {
    let r = open_bytes(&testdata::pressure_levels().unwrap())
        .await
        .unwrap();
    let field = |day: usize, level: usize| {
        Hyperslab::new(vec![
            DimSlice::index(day),
            DimSlice::index(1),
            DimSlice::index(level),
            DimSlice::full(5),
            DimSlice::full(8),
        ])
    };
    let tasks: Vec<_> = (0..12)
        .map(|k| {
            let r = r.clone();
            tokio::spawn(async move { r.read("/t", &field(k % 2, k % 3)).await.unwrap() })
        })
        .collect();
    for (k, task) in tasks.into_iter().enumerate() {
        let got = task.await.unwrap();
        let level = [850, 500, 250][k % 3];
        let want: Vec<f32> = (0..40)
            .map(|p| testdata::value(0, k % 2, 6, level, p) as f32)
            .collect();
        assert_eq!(got.values, ArrayValues::F32(want), "task {k}");
    }
}

#[tokio::test]
async fn ensemble_members_are_the_number_dimension() {
    let r = open_bytes(&testdata::ensemble().unwrap()).await.unwrap();
    assert_eq!(
        dims(r.as_ref(), "/t"),
        ["number=3", "step=2", "latitude=5", "longitude=8"]
    );
    let number = r.read("/number", &Hyperslab::full(&[3])).await.unwrap();
    assert_eq!(number.values, ArrayValues::I32(vec![0, 1, 2]));
    assert_eq!(
        text_attr(r.as_ref(), "/number", "standard_name").as_deref(),
        Some("realization")
    );
    let got = f32s(
        r.as_ref(),
        "/t",
        vec![
            DimSlice::index(2),
            DimSlice::index(1),
            DimSlice::index(0),
            DimSlice::index(3),
        ],
    )
    .await;
    assert_eq!(got, [testdata::value(2, 0, 6, 500, 3) as f32]);
}
