//! Stores written here by hand (v2 and v3, consolidated and not, gzip-compressed),
//! read through the format table and checked against the reader contract.

use std::io::Write;
use std::path::Path;

use serde_json::json;

use crate::model::{ArrayValues, AttrValue};
use crate::readers::formats::ZARR;
use crate::readers::{ReadersConfig, conformance};
use crate::storage::Storage;
use crate::subset::Hyperslab;

use super::*;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(4));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn put(dir: &Path, key: &str, bytes: &[u8]) {
    let path = dir.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// `temp` (time=2, x=5) f32 in 2x3 chunks (gzip), the last chunk never written;
/// `time` i64; a nested group `deep` with `flag` (bool, x).
fn v2_store(dir: &Path, consolidated: bool) {
    let mut docs = serde_json::Map::new();
    let mut doc = |key: &str, v: serde_json::Value| {
        put(dir, key, v.to_string().as_bytes());
        docs.insert(key.to_string(), v);
    };
    doc(".zgroup", json!({"zarr_format": 2}));
    doc(".zattrs", json!({"title": "hand-made v2"}));
    doc("deep/.zgroup", json!({"zarr_format": 2}));
    let zarray = |shape: serde_json::Value,
                  chunks: serde_json::Value,
                  dtype: &str,
                  fill: serde_json::Value| {
        json!({"zarr_format": 2, "shape": shape, "chunks": chunks, "dtype": dtype,
               "compressor": {"id": "gzip", "level": 4}, "filters": null, "order": "C",
               "fill_value": fill})
    };
    doc(
        "temp/.zarray",
        zarray(json!([2, 5]), json!([2, 3]), "<f4", json!("NaN")),
    );
    doc(
        "temp/.zattrs",
        json!({"_ARRAY_DIMENSIONS": ["time", "x"], "units": "K", "scale_factor": 0.5}),
    );
    doc(
        "time/.zarray",
        zarray(json!([2]), json!([2]), "<i8", json!(null)),
    );
    doc(
        "time/.zattrs",
        json!({"_ARRAY_DIMENSIONS": ["time"], "units": "days since 2000-01-01"}),
    );
    doc(
        "deep/flag/.zarray",
        zarray(json!([5]), json!([5]), "|b1", json!(null)),
    );
    doc("deep/flag/.zattrs", json!({"_ARRAY_DIMENSIONS": ["x"]}));
    let chunk0: Vec<u8> = [0f32, 1., 2., 5., 6., 7.]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    put(dir, "temp/0.0", &gzip(&chunk0));
    put(
        dir,
        "time/0",
        &gzip(
            &[10i64, 11]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<_>>(),
        ),
    );
    put(dir, "deep/flag/0", &gzip(&[1, 0, 1, 1, 0]));
    if consolidated {
        let z = json!({"zarr_consolidated_format": 1, "metadata": docs});
        put(dir, ".zmetadata", z.to_string().as_bytes());
    }
}

/// The same `temp` as v3, with `dimension_names` and xarray's `_FillValue` attribute.
fn v3_store(dir: &Path, consolidated: bool) {
    let temp = json!({"zarr_format": 3, "node_type": "array", "shape": [2, 5], "data_type": "float32",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2, 3]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": "NaN", "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                       {"name": "gzip", "configuration": {"level": 4}}],
        "attributes": {"units": "K", "_FillValue": "AAAAAAAA+H8="}, "dimension_names": ["time", "x"]});
    let mut root =
        json!({"zarr_format": 3, "node_type": "group", "attributes": {"title": "hand-made v3"}});
    if consolidated {
        root["consolidated_metadata"] =
            json!({"kind": "inline", "must_understand": false, "metadata": {"temp": temp}});
    }
    put(dir, "zarr.json", root.to_string().as_bytes());
    put(dir, "temp/zarr.json", temp.to_string().as_bytes());
    let chunk0: Vec<u8> = [0f32, 1., 2., 5., 6., 7.]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    put(dir, "temp/c/0/0", &gzip(&chunk0));
}

async fn open(dir: &Path) -> Arc<dyn Reader> {
    let storage = Arc::new(Storage::default());
    let location = Location::Local(dir.to_path_buf());
    let reader = crate::readers::open(&location, &storage, &ReadersConfig::default())
        .await
        .unwrap();
    assert_eq!(reader.format(), &ZARR);
    reader
}

fn expected_temp() -> Vec<f32> {
    // The unwritten chunk (x 3..5) reads as the fill value.
    vec![
        0.,
        1.,
        2.,
        f32::NAN,
        f32::NAN,
        5.,
        6.,
        7.,
        f32::NAN,
        f32::NAN,
    ]
}

fn same(got: &ArrayValues, want: &[f32]) -> bool {
    let ArrayValues::F32(got) = got else {
        return false;
    };
    got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()))
}

#[tokio::test]
async fn reads_v2_stores() {
    for consolidated in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        v2_store(dir.path(), consolidated);
        let reader = open(dir.path()).await;
        let meta = reader.metadata();
        assert_eq!(
            meta.attributes()[0].value,
            AttrValue::Text("hand-made v2".into())
        );
        let temp = meta.variable("/temp").unwrap();
        assert_eq!(temp.shape(), vec![2, 5]);
        assert!(matches!(temp.attr("_FillValue"), Some(AttrValue::F32(v)) if v[0].is_nan()));
        assert_eq!(temp.attr("scale_factor"), Some(&AttrValue::F64(vec![0.5])));
        let got = reader
            .read("/temp", &Hyperslab::full(&[2, 5]))
            .await
            .unwrap();
        assert!(same(&got.values, &expected_temp()), "{got:?}");
        let time = reader.read("/time", &Hyperslab::full(&[2])).await.unwrap();
        assert_eq!(time.values, ArrayValues::I64(vec![10, 11]));
        let flag = reader
            .read("/deep/flag", &Hyperslab::full(&[5]))
            .await
            .unwrap();
        assert_eq!(flag.values, ArrayValues::U8(vec![1, 0, 1, 1, 0]));
        assert_eq!(meta.variable("/deep/flag").unwrap().dims[0].path, "/x");
        let problems = conformance::check(reader.as_ref()).await;
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

#[tokio::test]
async fn reads_v3_stores() {
    for consolidated in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        v3_store(dir.path(), consolidated);
        let reader = open(dir.path()).await;
        let meta = reader.metadata();
        let temp = meta.variable("/temp").unwrap();
        assert_eq!(
            temp.dims
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>(),
            ["time", "x"]
        );
        assert!(matches!(temp.attr("_FillValue"), Some(AttrValue::F32(v)) if v[0].is_nan()));
        let got = reader
            .read("temp", &Hyperslab::full(&[2, 5]))
            .await
            .unwrap();
        assert!(same(&got.values, &expected_temp()), "{got:?}");
        let problems = conformance::check(reader.as_ref()).await;
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

#[tokio::test]
async fn damaged_stores_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    v2_store(dir.path(), true);
    // A corrupt chunk: the read fails with a format error.
    put(dir.path(), "temp/0.0", b"not gzip at all");
    let reader = open(dir.path()).await;
    let err = reader
        .read("/temp", &Hyperslab::full(&[2, 5]))
        .await
        .unwrap_err();
    assert!(matches!(err, ReadError::Format { .. }), "{err}");
    // Damaged consolidated metadata: the store does not open.
    put(
        dir.path(),
        ".zmetadata",
        b"{\"metadata\": {\"temp/.zarray\": ",
    );
    let storage = Arc::new(Storage::default());
    let location = Location::Local(dir.path().to_path_buf());
    let opened = crate::readers::open(&location, &storage, &ReadersConfig::default()).await;
    assert!(matches!(opened, Err(ReadError::Format { .. })));
    // Array metadata zarrs rejects (an unknown codec): that array is left out.
    let dir = tempfile::tempdir().unwrap();
    v2_store(dir.path(), false);
    let bad = json!({"zarr_format": 2, "shape": [2], "chunks": [2], "dtype": "<i8",
        "compressor": {"id": "no-such-codec"}, "filters": null, "order": "C", "fill_value": null});
    put(dir.path(), "time/.zarray", bad.to_string().as_bytes());
    let reader = open(dir.path()).await;
    assert!(reader.metadata().variable("/time").is_none());
    assert!(reader.metadata().variable("/temp").is_some());
    // Not a store at all.
    let empty = tempfile::tempdir().unwrap();
    let location = Location::Local(empty.path().to_path_buf());
    assert!(
        crate::readers::open(&location, &storage, &ReadersConfig::default())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn decoded_chunks_are_cached() {
    let dir = tempfile::tempdir().unwrap();
    v2_store(dir.path(), true);
    let reader = open(dir.path()).await;
    assert!(reader.memory_budget() > 0);
    let first = reader
        .read("/temp", &Hyperslab::full(&[2, 5]))
        .await
        .unwrap();
    // The chunk is decoded once: a second read does not go back to storage.
    std::fs::remove_file(dir.path().join("temp/0.0")).unwrap();
    let second = reader
        .read("/temp", &Hyperslab::full(&[2, 5]))
        .await
        .unwrap();
    assert!(same(&second.values, &expected_temp()));
    assert_eq!(format!("{first:?}"), format!("{second:?}"));
}
