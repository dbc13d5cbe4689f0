use super::*;
use crate::readers::conformance;
use crate::readers::formats::KERCHUNK;
use crate::readers::{Reader, ReadersConfig};
use crate::subset::{DimSlice, Hyperslab};

#[test]
fn parses_version_0_and_1() {
    let v0 = br#"{".zgroup": "{\"zarr_format\": 2}", "a/0": ["data.bin", 4, 8]}"#;
    let refs = parse(v0).unwrap();
    assert_eq!(
        refs[".zgroup"],
        Ref::Inline(Bytes::from_static(b"{\"zarr_format\": 2}"))
    );
    assert_eq!(
        refs["a/0"],
        Ref::Range {
            url: "data.bin".into(),
            offset: 4,
            length: 8
        }
    );
    let v1 = br#"{"version": 1, "templates": {"u": "s3://bucket/f.nc"},
        "refs": {"a/0": ["{{u}}", 0, 2], "a/1": ["{{ u }}"], "a/2": "base64:AQID",
                 ".zattrs": {"title": "x"}}}"#;
    let refs = parse(v1).unwrap();
    assert_eq!(
        refs["a/0"],
        Ref::Range {
            url: "s3://bucket/f.nc".into(),
            offset: 0,
            length: 2
        }
    );
    assert_eq!(refs["a/1"], Ref::Whole("s3://bucket/f.nc".into()));
    assert_eq!(refs["a/2"], Ref::Inline(Bytes::from_static(&[1, 2, 3])));
    assert_eq!(
        refs[".zattrs"],
        Ref::Inline(Bytes::from_static(b"{\"title\":\"x\"}"))
    );
}

#[test]
fn damaged_references_are_errors() {
    assert!(parse(b"{\"refs\": ").is_err());
    assert!(parse(b"[1, 2]").is_err());
    assert!(parse(br#"{"refs": []}"#).is_err());
    assert!(parse(br#"{"refs": {"a/0": ["f", -1, 2]}}"#).is_err());
    assert!(parse(br#"{"refs": {"a/0": ["f", 1]}}"#).is_err());
    assert!(parse(br#"{"refs": {"a/0": "base64:!!"}}"#).is_err());
    assert!(parse(br#"{"refs": {"a/0": 3}}"#).is_err());
    let generated = br#"{"version": 1, "refs": {}, "gen": [{"key": "k{{i}}", "url": "u"}]}"#;
    assert!(parse(generated).unwrap_err().contains("gen"));
    let generated = br#"{"version": 1, "templates": {"f": "data.bin"}, "refs": {"k1": "x"},
        "gen": [{"key": "k{{i}}", "url": "{{f}}", "offset": "{{i * 4}}", "length": "4",
                 "dimensions": {"i": {"stop": 3}}}]}"#;
    let refs = parse(generated).unwrap();
    assert_eq!(
        refs["k2"],
        Ref::Range {
            url: "data.bin".into(),
            offset: 8,
            length: 4
        }
    );
    assert_eq!(refs["k1"], Ref::Inline(Bytes::from_static(b"x")));
}

#[test]
fn probe() {
    assert!(looks_like_references(
        "a.json",
        b"  {\"version\": 1, \"refs\": {"
    ));
    assert!(looks_like_references("a.json", b"{\".zgroup\": \"{}\""));
    assert!(!looks_like_references("a.json", b"{\"type\": \"Catalog\"}"));
    assert!(!looks_like_references("a.nc", b"{\"refs\": {}}"));
}

#[test]
fn resolves_paths_against_the_reference_file() {
    let local = Location::Local("/data/refs/x.json".into());
    assert_eq!(
        resolve("f.nc", &local).unwrap(),
        Location::Local("/data/refs/f.nc".into())
    );
    assert_eq!(
        resolve("/abs/f.nc", &local).unwrap(),
        Location::Local("/abs/f.nc".into())
    );
    assert_eq!(
        resolve("file:///abs/f.nc", &local).unwrap(),
        Location::Local("/abs/f.nc".into())
    );
    assert!(resolve("s3://b/k.nc", &local).unwrap().is_remote());
    let remote = Location::parse("s3://b/refs/x.json", std::path::Path::new("/")).unwrap();
    assert_eq!(
        resolve("../nc/f.nc", &remote).unwrap().to_string(),
        "s3://b/nc/f.nc"
    );
    assert_eq!(
        resolve("f.nc", &remote).unwrap().to_string(),
        "s3://b/refs/f.nc"
    );
    // A Parquet reference directory (a prefix ending with `/`): against its parent.
    let dir = Location::parse("s3://b/refs/x.parq/", std::path::Path::new("/")).unwrap();
    assert_eq!(
        resolve("f.nc", &dir).unwrap().to_string(),
        "s3://b/refs/f.nc"
    );
    let local_dir = Location::Local("/data/refs/x.parq".into());
    assert_eq!(
        resolve("f.nc", &local_dir).unwrap(),
        Location::Local("/data/refs/f.nc".into())
    );
    assert!(resolve("../../../f.nc", &remote).is_err());
    assert!(resolve("/etc/passwd", &remote).is_err());
    assert!(resolve("file:///etc/passwd", &remote).is_err());
}

/// A reference set over a raw little-endian file and an inline chunk: `v` (4x3 i16,
/// chunks 2x3: chunk 0 in the file, chunk 1 inline), `x` (3 f64, whole file).
fn write_refs(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let chunk0: Vec<u8> = (0i16..6).flat_map(|v| v.to_le_bytes()).collect();
    let mut data = b"HEADER".to_vec();
    data.extend_from_slice(&chunk0);
    std::fs::write(dir.join("data.bin"), &data).unwrap();
    let x: Vec<u8> = [0.5f64, 1.5, 2.5]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(dir.join("x.bin"), &x).unwrap();
    let chunk1: Vec<u8> = (6i16..12).flat_map(|v| v.to_le_bytes()).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&chunk1);
    let zarray = |shape: &str, chunks: &str, dtype: &str, fill: &str| {
        serde_json::json!({"zarr_format": 2, "shape": serde_json::from_str::<Value>(shape).unwrap(),
            "chunks": serde_json::from_str::<Value>(chunks).unwrap(), "dtype": dtype,
            "compressor": null, "filters": null, "order": "C",
            "fill_value": serde_json::from_str::<Value>(fill).unwrap()})
        .to_string()
    };
    let refs = serde_json::json!({"version": 1, "refs": {
        ".zgroup": "{\"zarr_format\": 2}",
        ".zattrs": "{\"title\": \"references\"}",
        "v/.zarray": zarray("[4, 3]", "[2, 3]", "<i2", "-99"),
        "v/.zattrs": "{\"_ARRAY_DIMENSIONS\": [\"y\", \"x\"], \"units\": \"m\"}",
        "v/0.0": ["data.bin", 6, 12],
        "v/1.0": format!("base64:{b64}"),
        "x/.zarray": zarray("[3]", "[3]", "<f8", "null"),
        "x/.zattrs": "{\"_ARRAY_DIMENSIONS\": [\"x\"]}",
        "x/0": [format!("file://{}", dir.join("x.bin").display())],
    }});
    let mut text = refs.to_string();
    if !extra.is_empty() {
        text = text.replacen("\"refs\": {", &format!("\"refs\": {{{extra}"), 1);
        text = text.replacen("\"refs\":{", &format!("\"refs\":{{{extra}"), 1);
    }
    let path = dir.join("set.json");
    std::fs::write(&path, text).unwrap();
    path
}

async fn open(path: &std::path::Path) -> Result<Arc<dyn Reader>, ReadError> {
    let storage = Arc::new(Storage::default());
    let location = Location::Local(path.to_path_buf());
    let reader = crate::readers::open(&location, &storage, &ReadersConfig::default()).await?;
    assert_eq!(reader.format(), &KERCHUNK);
    Ok(reader)
}

#[tokio::test]
async fn reads_ranges_inline_chunks_and_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let reader = open(&write_refs(dir.path(), "")).await.unwrap();
    let meta = reader.metadata();
    let v = meta.variable("/v").unwrap();
    assert_eq!(
        v.dims.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["y", "x"]
    );
    assert_eq!(
        v.attr("_FillValue"),
        Some(&crate::model::AttrValue::I16(vec![-99]))
    );
    let all = reader.read("/v", &Hyperslab::full(&[4, 3])).await.unwrap();
    assert_eq!(
        all.values,
        crate::model::ArrayValues::I16((0..12).collect())
    );
    let strided = Hyperslab::new(vec![
        DimSlice {
            start: 1,
            stride: 2,
            count: 2,
        },
        DimSlice {
            start: 0,
            stride: 2,
            count: 2,
        },
    ]);
    let picked = reader.read("v", &strided).await.unwrap();
    assert_eq!(
        picked.values,
        crate::model::ArrayValues::I16(vec![3, 5, 9, 11])
    );
    let x = reader.read("/x", &Hyperslab::full(&[3])).await.unwrap();
    assert_eq!(
        x.values,
        crate::model::ArrayValues::F64(vec![0.5, 1.5, 2.5])
    );
    let problems = conformance::check(reader.as_ref()).await;
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn damaged_chunks_and_documents_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    // A chunk reference past the end of its file: an error when read, not a panic.
    let path = write_refs(dir.path(), "");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("[\"data.bin\",6,12]", "[\"data.bin\",6,4000]");
    std::fs::write(&path, text).unwrap();
    let reader = open(&path).await.unwrap();
    let err = reader
        .read("/v", &Hyperslab::full(&[4, 3]))
        .await
        .unwrap_err();
    assert!(matches!(err, ReadError::Format { .. }), "{err}");
    // A short chunk (the wrong size for its shape).
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("[\"data.bin\",6,4000]", "[\"data.bin\",6,5]");
    std::fs::write(&path, text).unwrap();
    let reader = open(&path).await.unwrap();
    assert!(reader.read("/v", &Hyperslab::full(&[4, 3])).await.is_err());
    // Damaged metadata: the dataset does not open.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"v/.zarray\":\"{", "\"v/.zarray\":\"{,");
    std::fs::write(&path, text).unwrap();
    let damaged = open(&path).await;
    assert!(damaged.is_err() || damaged.unwrap().metadata().variable("/v").is_none());
    std::fs::write(&path, "{\"refs\": {\".zgroup\": ").unwrap();
    assert!(
        crate::readers::open(
            &Location::Local(path.clone()),
            &Arc::new(Storage::default()),
            &ReadersConfig::default()
        )
        .await
        .is_err()
    );
    // Missing referenced file.
    let path = write_refs(dir.path(), "");
    std::fs::remove_file(dir.path().join("data.bin")).unwrap();
    std::fs::remove_file(dir.path().join("x.bin")).unwrap();
    let reader = open(&path).await.unwrap();
    assert!(reader.read("/v", &Hyperslab::full(&[4, 3])).await.is_err());
    assert!(reader.read("/x", &Hyperslab::full(&[3])).await.is_err());
    assert!(reader.chunk_index("/x").await.is_err());
}
