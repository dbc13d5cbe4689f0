//! Server-level guards on the real server: header time-out, URL size, method and
//! overload errors in each protocol's own form, forwarded headers from untrusted
//! peers.

mod common;

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn half_sent_request_heads_are_dropped() {
    let s = common::start(|c| c.server.header_timeout_secs = 1).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut conns = Vec::new();
    for _ in 0..20 {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        conns.push(c);
    }
    let start = Instant::now();
    for mut c in conns {
        let mut buf = [0u8; 256];
        // The server closes (perhaps after a 408): never holds the connection.
        let read = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match c.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => continue,
                }
            }
        })
        .await;
        assert!(read.is_ok(), "a half-sent head was held open");
    }
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(s.healthy().await);
}

#[tokio::test]
async fn overlong_urls_get_414_in_the_protocol_form() {
    let s = common::start(|c| c.server.max_url_bytes = 2000).await;
    let long = "x".repeat(3000);
    let (status, body) = s
        .text(&format!("/opendap/sst_classic.nc.dods?{long}"))
        .await;
    assert_eq!(status, 414);
    assert!(body.starts_with("Error {"), "{body}");
    let (status, body) = s.text(&format!("/opendap/gridded_nc4.nc.dap?{long}")).await;
    assert_eq!(status, 414);
    assert!(body.contains("<Error httpcode=\"414\""), "{body}");
    let (status, body) = s
        .text(&format!("/wms?SERVICE=WMS&REQUEST=GetMap&X={long}"))
        .await;
    assert_eq!(status, 414);
    assert!(body.contains("ServiceExceptionReport"), "{body}");
    let (status, body) = s.text(&format!("/edr/collections?x={long}")).await;
    assert_eq!(status, 414);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], 414);
    assert!(s.healthy().await);
}

#[tokio::test]
async fn wrong_methods_get_405_in_the_protocol_form() {
    let s = common::start(|_| {}).await;
    let client = reqwest::Client::new();
    let r = client
        .post(s.url("/opendap/sst_classic.nc.dds"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.text().await.unwrap().starts_with("Error {"));
    let r = client.post(s.url("/wms?SERVICE=WMS")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.text().await.unwrap().contains("ServiceExceptionReport"));
    let r = client
        .delete(s.url("/edr/collections"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["code"], 405);
}

#[tokio::test]
async fn overload_is_a_503_with_retry_after() {
    // No read may run at once, and none may wait: every data read is refused.
    let s = common::start_config(
        |d| datagate::fixtures::large_nc4(&d.join("data/large.nc"), 4).unwrap(),
        |d| {
            let mut c = datagate::config::Config::for_roots(&[d.join("data")]);
            c.limits.concurrent_reads = 1;
            c.limits.admission_wait_ms = 0;
            c
        },
    )
    .await;
    // Hold the one permit with a 16 MB response the client does not read: it cannot
    // finish while the socket buffers are full.
    let held = reqwest::get(s.url("/opendap/large.nc.dods")).await.unwrap();
    assert_eq!(held.status(), 200);
    let (status, body) = s.text("/opendap/sst_classic.nc.dods").await;
    let r = s.get("/opendap/sst_classic.nc.ascii").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.starts_with("Error {"), "{body}");
    assert!(r.headers().contains_key("retry-after"));
    // Metadata is not held up.
    assert_eq!(s.text("/opendap/sst_classic.nc.dds").await.0, 200);
    assert!(s.healthy().await);
    // A client that goes away frees its permit.
    drop(held);
    let start = Instant::now();
    while s.text("/opendap/sst_classic.nc.dods").await.0 != 200 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the permit was never freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn forwarded_headers_only_from_trusted_proxies() {
    let client = reqwest::Client::new();
    let ask = |base: String| {
        let client = client.clone();
        async move {
            client
                .get(format!("{base}/?f=json"))
                .header("X-Forwarded-Host", "evil.example")
                .header("X-Forwarded-Proto", "https")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let open = common::start(|_| {}).await;
    let body = ask(open.base.clone()).await;
    assert!(!body.contains("evil.example"), "{body}");
    let behind = common::start(|c| c.server.trusted_proxies = vec!["127.0.0.0/8".into()]).await;
    let body = ask(behind.base.clone()).await;
    assert!(body.contains("https://evil.example/"), "{body}");
}

/// A damaged NetCDF-3 header (found by fuzzing) on which netCDF-C 4.9 segfaults: the
/// server must answer an error for that dataset and keep serving the others.
#[tokio::test]
async fn a_damaged_netcdf3_header_is_an_error_not_a_crash() {
    use base64::Engine;
    let damaged = base64::engine::general_purpose::STANDARD
        .decode(DAMAGED_CDF2)
        .unwrap();
    let t = common::start_config(
        |d| std::fs::write(d.join("data/damaged.nc"), &damaged).unwrap(),
        |d| datagate::config::Config::for_roots(&[d.join("data")]),
    )
    .await;
    for suffix in [".dds", ".das", ".dods"] {
        let (status, body) = t.text(&format!("/opendap/damaged.nc{suffix}")).await;
        assert!(status == 503 || status == 404, "{suffix}: {status} {body}");
        if status == 503 {
            assert!(body.starts_with("Error {"), "{body}");
        }
    }
    let (status, _) = t.text("/zarr/damaged.nc/.zmetadata").await;
    assert!(status == 503 || status == 404, "{status}");
    assert!(t.healthy().await, "the server died");
    assert_eq!(t.text("/opendap/sst_classic.nc.dds").await.0, 200);
}

const DAMAGED_CDF2: &str = include_str!("damaged_cdf2.b64");

/// A damaged HDF5 file (found by fuzzing) the pure-Rust reader refuses (a checksum
/// mismatch) and on which libhdf5 1.10, behind netCDF-C, segfaults: damage never goes
/// to netCDF-C, whichever reader the configuration prefers for local files.
#[tokio::test]
async fn a_damaged_hdf5_file_never_reaches_netcdf_c() {
    use datagate::readers::LocalReads;
    for reads in [LocalReads::Native, LocalReads::NetcdfC] {
        let t = common::start_config(
            |d| std::fs::write(d.join("data/damaged.nc"), DAMAGED_HDF5).unwrap(),
            |d| {
                let mut c = datagate::config::Config::for_roots(&[d.join("data")]);
                c.readers.local_reads = reads;
                c
            },
        )
        .await;
        for suffix in [".dds", ".dmr", ".das"] {
            let (status, body) = t.text(&format!("/opendap/damaged.nc{suffix}")).await;
            assert_eq!(status, 503, "{suffix}: {body}");
            // The pure-Rust reader's verdict, not netCDF-C's "HDF error".
            assert!(body.contains("damaged HDF5 structure"), "{reads:?}: {body}");
            assert!(!body.contains("/data/"), "{body}");
        }
        assert!(t.healthy().await, "the server died");
        assert_eq!(t.text("/opendap/sst_classic.nc.dds").await.0, 200);
    }
}

const DAMAGED_HDF5: &[u8] = include_bytes!("damaged_hdf5_segv.h5");

/// Damaged GeoTIFFs (an IFD past the end of the file; an IFD of garbage; a tile
/// offset past the end) give an error for that dataset, leave it out of the listing,
/// and the server keeps serving the others.
#[tokio::test]
async fn damaged_geotiffs_are_errors_not_crashes() {
    // A valid 2 × 1 u8 strip image whose strip offset lies past the end.
    let mut tile_past_end = b"II*\0\x08\0\0\0".to_vec();
    let entries: [(u16, u16, u32, u32); 6] = [
        (256, 3, 1, 2),      // ImageWidth
        (257, 3, 1, 1),      // ImageLength
        (258, 3, 1, 8),      // BitsPerSample
        (273, 4, 1, 100000), // StripOffsets: past the end
        (278, 3, 1, 1),      // RowsPerStrip
        (279, 4, 1, 2),      // StripByteCounts
    ];
    tile_past_end.extend((entries.len() as u16).to_le_bytes());
    for (tag, typ, count, value) in entries {
        tile_past_end.extend(tag.to_le_bytes());
        tile_past_end.extend(typ.to_le_bytes());
        tile_past_end.extend(count.to_le_bytes());
        tile_past_end.extend(value.to_le_bytes());
    }
    tile_past_end.extend(0u32.to_le_bytes());
    let files: [(&str, Vec<u8>); 3] = [
        ("ifd_past_end.tif", b"II*\0\xff\xff\xff\x7f".to_vec()),
        (
            "garbage_ifd.tif",
            [&b"MM\0*\0\0\0\x08"[..], &[0x5a; 300]].concat(),
        ),
        ("tile_past_end.tif", tile_past_end),
    ];
    let t = common::start_config(
        |d| {
            for (name, bytes) in &files {
                std::fs::write(d.join("data").join(name), bytes).unwrap();
            }
        },
        |d| datagate::config::Config::for_roots(&[d.join("data")]),
    )
    .await;
    for name in ["ifd_past_end.tif", "garbage_ifd.tif"] {
        let (status, body) = t.text(&format!("/opendap/{name}.dds")).await;
        assert!(status == 503 || status == 404, "{name}: {status} {body}");
    }
    // Opens (the header is sound), but its data cannot be read.
    assert_eq!(t.text("/opendap/tile_past_end.tif.dds").await.0, 200);
    let (status, body) = t.text("/opendap/tile_past_end.tif.ascii?band_data").await;
    assert!(status >= 400, "{status} {body}");
    let listing = t.json("/datasets").await;
    let ids: Vec<&str> = listing["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert!(!ids.contains(&"ifd_past_end.tif") && !ids.contains(&"garbage_ifd.tif"));
    assert!(ids.contains(&"tile_past_end.tif"), "{ids:?}");
    assert!(t.healthy().await, "the server died");
    assert_eq!(t.text("/opendap/sst_classic.nc.dds").await.0, 200);
}
