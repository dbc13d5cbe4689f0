//! DAP2 against the real server on a loopback port: byte layouts of small `.dods`
//! responses, error bodies, limits and conditional GET.

mod common;

use datagate::config::Config;

struct Server {
    base: String,
    _dir: tempfile::TempDir,
}

async fn start(max_response_bytes: Option<u64>) -> Server {
    start_with(|_| {}, max_response_bytes).await
}

/// Like `start`, with `extra` writing more files into the served directory first.
async fn start_with(
    extra: impl FnOnce(&std::path::Path),
    max_response_bytes: Option<u64>,
) -> Server {
    let dir = tempfile::tempdir().unwrap();
    datagate::fixtures::write_all(dir.path()).unwrap();
    extra(dir.path());
    let mut config = Config::for_roots(&[dir.path().to_path_buf()]);
    if let Some(n) = max_response_bytes {
        config.limits.max_response_bytes = n;
    }
    // Raw bytes on the wire, as the client sends no Accept-Encoding anyway.
    config.server.compression = false;
    let base = common::serve(config).await;
    Server {
        base: format!("{base}/opendap"),
        _dir: dir,
    }
}

async fn get(url: &str) -> reqwest::Response {
    reqwest::get(url).await.unwrap()
}

/// Splits a `.dods` body into its DDS text and XDR bytes.
fn split_dods(body: &[u8]) -> (String, Vec<u8>) {
    let mark = b"\nData:\n";
    let at = body
        .windows(mark.len())
        .position(|w| w == mark)
        .expect("Data: marker");
    (
        String::from_utf8(body[..at + 1].to_vec()).unwrap(),
        body[at + mark.len()..].to_vec(),
    )
}

fn be32(n: u32) -> [u8; 4] {
    n.to_be_bytes()
}

#[tokio::test]
async fn grid_subset_bytes() {
    let s = start(None).await;
    let r = get(&format!(
        "{}/sst_classic.nc.dods?quality%5B0%5D%5B0%5D%5B0:2%5D",
        s.base
    ))
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-description"], "dods_data");
    let (dds, xdr) = split_dods(&r.bytes().await.unwrap());
    assert_eq!(
        dds,
        "Dataset {\n    Grid {\n      ARRAY:\n        Byte quality[time = 1][lat = 1][lon = 3];\n      MAPS:\n        Float64 time[time = 1];\n        Float32 lat[lat = 1];\n        Float32 lon[lon = 3];\n    } quality;\n} sst_classic.nc;\n"
    );
    let mut want = Vec::new();
    // quality: count twice, 3 signed bytes (-128, -121, -114) as they are, 1 byte of pad.
    want.extend(be32(3));
    want.extend(be32(3));
    want.extend([0x80, 0x87, 0x8e, 0]);
    // time[0] = 0.0
    want.extend(be32(1));
    want.extend(be32(1));
    want.extend(0f64.to_be_bytes());
    // lat[0] = 45
    want.extend(be32(1));
    want.extend(be32(1));
    want.extend(45f32.to_be_bytes());
    // lon[0:2] = 0, 20, 40
    want.extend(be32(3));
    want.extend(be32(3));
    for x in [0f32, 20.0, 40.0] {
        want.extend(x.to_be_bytes());
    }
    assert_eq!(xdr, want);
}

#[tokio::test]
async fn structure_of_a_grid_member_strings_and_scalars() {
    let s = start(None).await;
    // The array alone is a Structure; data follow dataset order, not request order.
    let r = get(&format!(
        "{}/sst_classic.nc.dods?quality.quality[1][0][0:1:0],platform",
        s.base
    ))
    .await;
    let (dds, xdr) = split_dods(&r.bytes().await.unwrap());
    assert_eq!(
        dds,
        "Dataset {\n    Structure {\n        Byte quality[time = 1][lat = 1][lon = 1];\n    } quality;\n    String platform;\n} sst_classic.nc;\n"
    );
    let k = (10 * 18) * 7 % 256; // quality at (1, 0, 0)
    let q = ((k as u8 as i8) ^ i8::MIN) as u8;
    let mut want = Vec::new();
    want.extend(be32(1));
    want.extend(be32(1));
    want.extend([q, 0, 0, 0]);
    // A scalar string: no count, length, bytes, no pad needed (8 bytes).
    want.extend(be32(8));
    want.extend(b"ARGO-123");
    assert_eq!(xdr, want);

    let r = get(&format!(
        "{}/types_nc4.nc.dods?scalar_f64,v_char[1:2],v_u16[3]",
        s.base
    ))
    .await;
    let (dds, xdr) = split_dods(&r.bytes().await.unwrap());
    assert_eq!(
        dds,
        "Dataset {\n    UInt16 v_u16[x = 1];\n    String v_char[x = 2];\n    Float64 scalar_f64;\n} types_nc4.nc;\n"
    );
    let mut want = Vec::new();
    want.extend(be32(1));
    want.extend(be32(1));
    want.extend([0, 0, 0xff, 0xff]); // UInt16 widened to 32 bits
    want.extend(be32(2)); // String arrays: count once
    want.extend(be32(2));
    want.extend(b"AB\0\0");
    want.extend(be32(5));
    want.extend(b"hello\0\0\0");
    want.extend(42.5f64.to_be_bytes()); // a scalar: no count
    assert_eq!(xdr, want);
}

#[tokio::test]
async fn errors_are_dap2_error_bodies() {
    let s = start(Some(1000)).await;
    for (path, status) in [
        ("sst_classic.nc.dods?sst[0:3]", 400),
        ("sst_classic.nc.dods?sst%5B", 400),
        ("sst_classic.nc.dods?nope", 400),
        ("sst_classic.nc.dods?lat&lat%3E3", 400),
        ("sst_classic.nc.dds?sst[1:0]", 400),
        ("sst_classic.nc.dods?sst", 400), // over the 1000-byte limit
        ("sst_classic.nc.xyz", 404),
        ("nothing.nc.dds", 404),
    ] {
        let r = get(&format!("{}/{path}", s.base)).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        assert_eq!(r.headers()["content-description"], "dods_error", "{path}");
        let body = r.text().await.unwrap();
        assert!(
            body.starts_with(&format!("Error {{\n    code = {status};\n    message = \""))
                && body.ends_with("\";\n};\n"),
            "{path}: {body}"
        );
    }
    let r = get(&format!("{}/sst_classic.nc.dods?sst", s.base)).await;
    assert!(r.text().await.unwrap().contains("limit of 1000 bytes"));
    // Small requests still pass.
    let r = get(&format!("{}/sst_classic.nc.dods?lat", s.base)).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn conditional_get_and_headers() {
    let s = start(None).await;
    let client = reqwest::Client::new();
    let url = format!("{}/types_nc4.nc.das", s.base);
    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-description"], "dods_das");
    assert_eq!(r.headers()["xdap"], "3.2");
    let etag = r.headers()["etag"].clone();
    let modified = r.headers()["last-modified"].clone();
    let das = r.text().await.unwrap();
    assert!(das.contains("String _Unsigned \"true\";"));
    assert!(das.contains("Int32 DODS.strlen 5;"));
    assert!(das.contains("String Unlimited_Dimension \"rec\";"));
    assert!(das.contains("String a_text \"tab\there, \\\"quoted\\\", back\\\\slash, ünï\";"));
    let r = client
        .get(&url)
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let r = client
        .get(&url)
        .header("If-Modified-Since", modified)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
}

/// Asserts a DAP2 error body with `status`, naming no server path; returns its text.
async fn assert_dap2_error(s: &Server, path: &str, status: u16) -> String {
    let r = get(&format!("{}/{path}", s.base)).await;
    assert_eq!(r.status().as_u16(), status, "{path}");
    assert_eq!(r.headers()["content-description"], "dods_error", "{path}");
    let body = r.text().await.unwrap();
    assert!(
        body.starts_with(&format!("Error {{\n    code = {status};\n    message = \""))
            && body.ends_with("\";\n};\n"),
        "{path}: {body}"
    );
    let dir = s._dir.path().display().to_string();
    assert!(
        !body.contains("/tmp") && !body.contains(&dir),
        "{path} leaks a path: {body}"
    );
    body
}

/// Indices that do not fit an i64 (or wrap a count) are 400s in DAP2's error form, for
/// every response that takes a constraint, and the server keeps answering.
#[tokio::test]
async fn hostile_indices_are_400s_and_the_server_survives() {
    let s = start(None).await;
    let ranges = [
        "lat[0:2:9223372036854775808]",
        "lat[0:2:18446744073709551615]",
        "lat[9223372036854775808]",
        "lat[18446744073709551615:1:18446744073709551615]",
        "lat[0:1:10]",
        "lat[5:1:2]",
        "lat[0:0:3]",
        "sst[0:1:2][0:2:9223372036854775808][0]",
        "sst.sst[0][0][4611686018427387904:1:4611686018427387905]",
        "lat[18446744073709551616]",
        "lat[-1]",
        "lat[]",
    ];
    for suffix in [".dds", ".dods", ".ascii", ".nc"] {
        for ce in ranges {
            assert_dap2_error(&s, &format!("sst_classic.nc{suffix}?{ce}"), 400).await;
        }
    }
    // Responses that ignore the constraint still answer.
    for suffix in [".das", ".html"] {
        let r = get(&format!(
            "{}/sst_classic.nc{suffix}?lat[0:2:9223372036854775808]",
            s.base
        ))
        .await;
        assert_eq!(r.status(), 200, "{suffix}");
    }
    let r = get(&format!("{}/sst_classic.nc.dods?lat[0:2:9]", s.base)).await;
    assert_eq!(r.status(), 200);
    let (dds, xdr) = split_dods(&r.bytes().await.unwrap());
    assert!(dds.contains("Float32 lat[lat = 5];"), "{dds}");
    assert_eq!(xdr.len(), 8 + 5 * 4);
}

/// A stride of 2^31 - 1 or more can only select one index: it is served (netCDF-3
/// refused the stride itself, a 500 before), on classic and 64-bit offset files.
#[tokio::test]
async fn huge_strides_select_one_index() {
    let s = start(None).await;
    for id in ["sst_classic.nc", "offset64.nc"] {
        for ce in [
            "lat[0:2147483647:9]",
            "lat[0:4294967296:9]",
            "lat[0:18446744073709551615:0]",
            "sst[0:2147483647:2][0][0:9223372036854775807:17]",
        ] {
            let r = get(&format!("{}/{id}.dods?{ce}", s.base)).await;
            assert_eq!(r.status(), 200, "{id} {ce}");
            let (dds, xdr) = split_dods(&r.bytes().await.unwrap());
            assert!(dds.contains("= 1]"), "{dds}");
            if ce.starts_with("lat") {
                let mut want = Vec::new();
                want.extend(be32(1));
                want.extend(be32(1));
                want.extend(45f32.to_be_bytes());
                assert_eq!(xdr, want, "{id} {ce}");
            }
            for suffix in [".ascii", ".nc", ".dds"] {
                let r = get(&format!("{}/{id}{suffix}?{ce}", s.base)).await;
                assert_eq!(r.status(), 200, "{id}{suffix} {ce}");
            }
        }
    }
}

/// A dataset that cannot be read answers in DAP2's form without the file's path.
#[tokio::test]
async fn unreadable_files_do_not_leak_paths() {
    let s = start_with(
        |d| std::fs::write(d.join("broken.nc"), b"CDF\x01 this is not netCDF").unwrap(),
        None,
    )
    .await;
    for path in ["broken.nc.dds", "broken.nc.dods?x", "broken.nc.das"] {
        let r = get(&format!("{}/{path}", s.base)).await;
        assert!(r.status().as_u16() >= 400, "{path}");
        let body = r.text().await.unwrap();
        let dir = s._dir.path().display().to_string();
        assert!(
            body.starts_with("Error {") && !body.contains("/tmp") && !body.contains(&dir),
            "{path}: {body}"
        );
    }
    let r = get(&format!("{}/sst_classic.nc.dds", s.base)).await;
    assert_eq!(r.status(), 200);
}
