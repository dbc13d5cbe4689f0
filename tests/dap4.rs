//! DAP4 on the real server over a loopback port: DMR, chunked data with checksums,
//! constraints, errors, limits, conditional GET, streaming and mid-stream failure.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datagate::catalog::Catalog;
use datagate::config::Config;
use datagate::dap4::chunk::{self, MAX_CHUNK};
use datagate::dap4::encode::encode_values;
use datagate::metrics::Metrics;
use datagate::subset::{DimSlice, Hyperslab};

struct Running {
    base: String,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

async fn start(tune: impl FnOnce(&mut Config)) -> Running {
    start_with(|_| {}, tune).await
}

/// Like `start`, with `extra` writing more files into the served directory first.
async fn start_with(extra: impl FnOnce(&Path), tune: impl FnOnce(&mut Config)) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    datagate::fixtures::write_all(&data).unwrap();
    extra(&data);
    let mut config = Config::for_roots(std::slice::from_ref(&data));
    tune(&mut config);
    let base = common::serve(config).await;
    Running {
        base: format!("{base}/opendap"),
        data,
        _dir: dir,
    }
}

/// The bytes DAP4 must carry for `var[slab]`, read straight from the file.
async fn expected(dir: &Path, id: &str, var: &str, slab: Option<Hyperslab>) -> Vec<u8> {
    let (cat, _) = Catalog::from_config(
        &Config::for_roots(&[dir.to_path_buf()]),
        Arc::new(Metrics::new()),
    );
    let ds = cat.open(id).await.unwrap();
    let slab = slab.unwrap_or_else(|| Hyperslab::full(&ds.meta.variable(var).unwrap().shape()));
    let array = ds.read(var, &slab).await.unwrap();
    let mut out = Vec::new();
    encode_values(&array.values, &mut out);
    out
}

async fn get(url: &str) -> reqwest::Response {
    reqwest::get(url).await.unwrap()
}

/// Fetches a `.dap` and splits it as a client does.
async fn dap(url: &str) -> (String, Vec<u8>) {
    let r = get(url).await;
    assert_eq!(r.status(), 200, "{url}");
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.opendap.dap4.data"
    );
    let body = r.bytes().await.unwrap();
    let (dmr, data, err) = chunk::dechunk(&body).unwrap();
    assert!(err.is_none(), "{err:?}");
    (dmr, data)
}

#[tokio::test]
async fn dmr_describes_groups_types_and_unlimited_dimensions() {
    let s = start(|_| {}).await;
    let r = get(&format!("{}/types_nc4.nc.dmr.xml", s.base)).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/vnd.opendap.dap4.dataset-metadata+xml")
    );
    let etag = r.headers()["etag"].clone();
    let dmr = r.text().await.unwrap();
    assert!(dmr.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    for needle in [
        r#"<Dimension name="rec" size="3" _edu.ucar.isunlimited="1"/>"#,
        r#"<Int8 name="v_i8">"#,
        r#"<UInt8 name="v_u8">"#,
        r#"<Int64 name="v_i64">"#,
        r#"<UInt64 name="v_u64">"#,
        r#"<Char name="v_char">"#,
        r#"<String name="v_string">"#,
        r#"<Group name="forecast">"#,
        r#"<Dim name="/forecast/member"/>"#,
        r#"<Group name="deep">"#,
        r#"<Attribute name="a_u64" type="UInt64" value="18446744073709551615"/>"#,
    ] {
        assert!(dmr.contains(needle), "{needle} missing from\n{dmr}");
    }
    // Global attributes directly on <Dataset>, after the last group.
    let tail = &dmr[dmr.rfind("</Group>").unwrap()..];
    assert!(tail.contains(r#"<Attribute name="title" type="String""#));
    assert!(!dmr.contains("<Byte"));
    // .dmr is the same document; a matching validator gives 304.
    assert_eq!(
        get(&format!("{}/types_nc4.nc.dmr", s.base))
            .await
            .text()
            .await
            .unwrap(),
        dmr
    );
    let r = reqwest::Client::new()
        .get(format!("{}/types_nc4.nc.dmr.xml", s.base))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
}

#[tokio::test]
async fn whole_dataset_data_in_dmr_order_with_checksums() {
    let s = start(|_| {}).await;
    let (dmr, data) = dap(&format!("{}/types_nc4.nc.dap?dap4.checksum=true", s.base)).await;
    let order = [
        "/v_i8",
        "/v_u8",
        "/v_i16",
        "/v_u16",
        "/v_i32",
        "/v_u32",
        "/v_i64",
        "/v_u64",
        "/v_f32",
        "/v_f64",
        "/v_char",
        "/v_string",
        "/scalar_f64",
        "/counter",
        "/forecast/temp",
        "/forecast/deep/salinity",
    ];
    let mut want = Vec::new();
    for var in order {
        let bytes = expected(&s.data, "types_nc4.nc", var, None).await;
        let crc = crc32fast::hash(&bytes);
        assert!(
            dmr.contains(&format!(
                r#"<Attribute name="_DAP4_Checksum_CRC32" type="UInt32" value="{crc}"/>"#
            )),
            "{var}"
        );
        want.extend_from_slice(&bytes);
        want.extend_from_slice(&crc.to_le_bytes());
    }
    assert_eq!(data, want);
    // Spot checks of the wire form: little-endian, counted strings.
    let i16s = expected(&s.data, "types_nc4.nc", "/v_i16", None).await;
    assert_eq!(&i16s[..4], &[0x00, 0x80, 0xFF, 0xFF]);
    let strings = expected(&s.data, "types_nc4.nc", "/v_string", None).await;
    assert_eq!(
        &strings[..16],
        &[0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(&strings[16..21], b"plain");

    // Without checksums: no attribute, no trailing CRCs, the "no checksums" flag.
    let body = get(&format!("{}/types_nc4.nc.dap", s.base))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(body[0], chunk::LITTLE_ENDIAN | chunk::NO_CHECKSUMS);
    let (dmr, data, _) = chunk::dechunk(&body).unwrap();
    assert!(!dmr.contains("_DAP4_Checksum_CRC32"));
    assert_eq!(data.len(), want.len() - 4 * order.len());
}

#[tokio::test]
async fn constraints_subset_variables_and_dimensions() {
    let s = start(|_| {}).await;
    // [1][2:2:6][0:3:9], percent-encoded as netCDF-C sends it.
    let (dmr, data) = dap(&format!(
        "{}/sst_classic.nc.dap?dap4.ce=%2Fsst%5B1%5D%5B2%3A2%3A6%5D%5B0%3A3%3A9%5D",
        s.base
    ))
    .await;
    let slab = Hyperslab::new(vec![
        DimSlice::index(1),
        DimSlice::from_inclusive(1, 2, 2, 6, 10).unwrap(),
        DimSlice::from_inclusive(2, 0, 3, 9, 18).unwrap(),
    ]);
    assert_eq!(
        data,
        expected(&s.data, "sst_classic.nc", "/sst", Some(slab)).await
    );
    assert!(dmr.contains(r#"<Dim size="1"/>"#) && dmr.contains(r#"<Dim size="4"/>"#));
    assert!(!dmr.contains("sst_packed"));

    // A dimension subset applies to every projected variable using it.
    let (dmr, data) = dap(&format!(
        "{}/gridded_nc4.nc.dap?dap4.ce=/lat=[0:2:8];/lat;/mask",
        s.base
    ))
    .await;
    assert!(dmr.contains(r#"<Dimension name="lat" size="5"/>"#), "{dmr}");
    assert!(dmr.contains(r#"<Map name="/lat"/>"#));
    let lat = Hyperslab::new(vec![DimSlice::from_inclusive(0, 0, 2, 8, 20).unwrap()]);
    let mut want = expected(&s.data, "gridded_nc4.nc", "/lat", Some(lat.clone())).await;
    let mask = Hyperslab::new(vec![lat.dims[0], DimSlice::full(36)]);
    want.extend(expected(&s.data, "gridded_nc4.nc", "/mask", Some(mask)).await);
    assert_eq!(data, want);

    // A group variable by its full name; the constrained DMR keeps the group.
    let (dmr, data) = dap(&format!(
        "{}/types_nc4.nc.dap?dap4.ce=/forecast/deep/salinity[1:2]",
        s.base
    ))
    .await;
    assert!(dmr.contains(r#"<Group name="deep">"#));
    assert!(!dmr.contains("v_i8"));
    assert_eq!(data.len(), 16);
}

async fn assert_dap4_error(url: &str, status: u16) -> String {
    let r = get(url).await;
    assert_eq!(r.status(), status, "{url}");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/vnd.opendap.dap4.error+xml")
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains(&format!("<Error httpcode=\"{status}\">")),
        "{text}"
    );
    text
}

#[tokio::test]
async fn bad_requests_are_dap4_errors() {
    let s = start(|_| {}).await;
    for ce in [
        "/sst[0:1",
        "/sst[3]",
        "/sst[0][0][0][0]",
        "/nope",
        "/lat=[0:99]",
        "/sst[2:1]",
        "/sst|sst>1",
    ] {
        let enc: String = ce.bytes().map(|b| format!("%{b:02X}")).collect();
        assert_dap4_error(&format!("{}/sst_classic.nc.dap?dap4.ce={enc}", s.base), 400).await;
        assert_dap4_error(&format!("{}/sst_classic.nc.dmr?dap4.ce={enc}", s.base), 400).await;
    }
    assert_dap4_error(
        &format!("{}/sst_classic.nc.dap?dap4.checksum=perhaps", s.base),
        400,
    )
    .await;
    assert_dap4_error(&format!("{}/missing.nc.dmr", s.base), 404).await;
}

#[tokio::test]
async fn size_limit_is_checked_before_reading() {
    let s = start(|c| c.limits.max_response_bytes = 10_000).await;
    let text = assert_dap4_error(&format!("{}/gridded_nc4.nc.dap", s.base), 403).await;
    assert!(text.contains("too big"), "{text}");
    // A subset under the limit is served.
    dap(&format!(
        "{}/gridded_nc4.nc.dap?dap4.ce=/temp[0][0]",
        s.base
    ))
    .await;
}

#[tokio::test]
async fn large_responses_stream_in_bounded_chunks() {
    let big = start_with(
        |d| datagate::fixtures::large_nc4(&d.join("large.nc"), 2).unwrap(),
        |c| c.limits.read_block_bytes = 100_000,
    )
    .await;
    let url = format!("{}/large.nc.dap?dap4.ce=/temp&dap4.checksum=true", big.base);
    let body = get(&url).await.bytes().await.unwrap();
    // Walk the chunks: all data chunks ≤ 64 KiB.
    let (first_flags, dmr_len) = chunk::parse_header(body[..4].try_into().unwrap());
    assert_eq!(first_flags, chunk::LITTLE_ENDIAN);
    let mut at = 4 + dmr_len;
    let mut chunks = 0;
    loop {
        let (flags, len) = chunk::parse_header(body[at..at + 4].try_into().unwrap());
        assert!(len + 4 <= MAX_CHUNK);
        chunks += 1;
        at += 4 + len;
        if flags & chunk::LAST != 0 {
            break;
        }
    }
    assert_eq!(at, body.len());
    assert!(chunks > 100);
    let (dmr, data, _) = chunk::dechunk(&body).unwrap();
    let n = 2 * 720 * 1440 * 4;
    assert_eq!(data.len(), n + 4);
    let crc = crc32fast::hash(&data[..n]);
    assert_eq!(data[n..], crc.to_le_bytes());
    assert!(dmr.contains(&format!("value=\"{crc}\"")));
    assert_eq!(
        data[..n],
        expected(&big.data, "large.nc", "/temp", None).await[..]
    );
    // A second request is served from the checksum cache and is identical.
    assert_eq!(get(&url).await.bytes().await.unwrap(), body);
}

#[tokio::test]
async fn failure_after_streaming_started_is_an_error_chunk_and_a_broken_body() {
    let srv = start_with(
        |d| datagate::fixtures::large_nc4(&d.join("fail.nc"), 3).unwrap(),
        |c| c.limits.read_block_bytes = 4_000,
    )
    .await;
    let mut r = get(&format!("{}/fail.nc.dap?dap4.ce=/temp", srv.base)).await;
    assert_eq!(r.status(), 200);
    // The DMR is on its way; now the file loses its data.
    let first = r.chunk().await.unwrap().unwrap();
    assert!(first.len() >= 4);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(srv.data.join("fail.nc"))
        .unwrap();
    f.set_len(40_000).unwrap();
    drop(f);
    let mut body = first.to_vec();
    let mut broken = false;
    loop {
        match r.chunk().await {
            Ok(Some(b)) => body.extend_from_slice(&b),
            Ok(None) => break,
            Err(_) => {
                broken = true;
                break;
            }
        }
    }
    assert!(broken, "the body must end with a transport error");
    let (_, data, err) = chunk::dechunk(&body).expect("an error chunk ends the framing");
    let err = err.expect("error chunk");
    // The file went bad under the stream: unreadable, a 503 for that dataset.
    assert!(err.contains("<Error httpcode=\"503\">"), "{err}");
    let dir = srv.data.display().to_string();
    assert!(!err.contains(&dir) && !err.contains("/tmp"), "{err}");
    assert!(data.len() < 3 * 720 * 1440 * 4);
}

#[tokio::test]
async fn head_form_and_services() {
    let s = start(|_| {}).await;
    let r = reqwest::Client::new()
        .head(format!("{}/sst_classic.nc.dap", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.opendap.dap4.data"
    );
    let html = get(&format!("{}/types_nc4.nc.dmr.html", s.base))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("/forecast/deep/salinity") && html.contains("dap4.ce="));
    let dsr = get(&format!("{}/types_nc4.nc.dsr", s.base))
        .await
        .text()
        .await
        .unwrap();
    assert!(dsr.contains("<DatasetServices") && dsr.contains("types_nc4.nc.dmr.xml"));
}

fn encoded(ce: &str) -> String {
    ce.bytes().map(|b| format!("%{b:02X}")).collect()
}

fn assert_no_path(text: &str, s: &Running) {
    let dir = s.data.display().to_string();
    assert!(
        !text.contains("/tmp") && !text.contains(&dir),
        "leaks a path: {text}"
    );
}

/// Indices that do not fit an i64 (they passed the bound checks as negatives, then
/// grew memory without bound) are 400s before anything is read, and the server keeps
/// answering.
#[tokio::test]
async fn hostile_indices_are_400s_and_the_server_survives() {
    let s = start(|_| {}).await;
    for ce in [
        "/temp[0:2:9223372036854775808][0][0][0]",
        "/temp[0:2:18446744073709551615][0][0][0]",
        "/temp[9223372036854775808][0][0][0]",
        "/temp[0:0:][0][0][0]",
        "/temp[4611686018427387904:]",
        "/temp[0:1:4]",
        "/temp[3:1:2]",
        "/lat=[0:9223372036854775808];/temp",
        "/temp[18446744073709551616]",
        "/temp[-1]",
    ] {
        for q in ["", "&dap4.checksum=true"] {
            for suffix in [".dap", ".dmr"] {
                let url = format!(
                    "{}/gridded_nc4.nc{suffix}?dap4.ce={}{q}",
                    s.base,
                    encoded(ce)
                );
                let text = assert_dap4_error(&url, 400).await;
                assert_no_path(&text, &s);
            }
        }
    }
    let (dmr, data) = dap(&format!(
        "{}/gridded_nc4.nc.dap?dap4.ce={}",
        s.base,
        encoded("/temp[0:2:3][0][0][0]")
    ))
    .await;
    assert!(dmr.contains("<Dim size=\"2\"/>"), "{dmr}");
    assert_eq!(data.len(), 2 * 4);
}

/// A stride too large for netCDF-3 selects a single index: served, stride 1.
#[tokio::test]
async fn huge_strides_select_one_index() {
    let s = start(|_| {}).await;
    for (id, ce, var) in [
        ("sst_classic.nc", "/lat[0:2147483647:9]", "/lat"),
        ("sst_classic.nc", "/lat[0:18446744073709551615:]", "/lat"),
        (
            "gridded_nc4.nc",
            "/temp[0:18446744073709551615:3][0][0][0]",
            "/temp",
        ),
    ] {
        let (dmr, data) = dap(&format!("{}/{id}.dap?dap4.ce={}", s.base, encoded(ce))).await;
        assert!(dmr.contains("<Dim size=\"1\"/>"), "{ce}: {dmr}");
        let rank = if var == "/temp" { 4 } else { 1 };
        let want = expected(
            &s.data,
            id,
            var,
            Some(Hyperslab::new(vec![DimSlice::index(0); rank])),
        )
        .await;
        assert_eq!(data, want, "{ce}");
    }
}

/// A dataset that cannot be read is a DAP4 error that names no server path.
#[tokio::test]
async fn unreadable_files_do_not_leak_paths() {
    let s = start_with(
        |d| std::fs::write(d.join("broken.nc"), b"CDF\x01 this is not netCDF").unwrap(),
        |_| {},
    )
    .await;
    for suffix in [".dmr", ".dap"] {
        let r = get(&format!("{}/broken.nc{suffix}", s.base)).await;
        assert!(r.status().as_u16() >= 500, "{suffix}");
        let text = r.text().await.unwrap();
        assert!(text.contains("<Error httpcode="), "{text}");
        assert_no_path(&text, &s);
    }
    dap(&format!("{}/sst_classic.nc.dap?dap4.ce=/lat", s.base)).await;
}
