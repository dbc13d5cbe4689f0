//! Virtual Zarr on the real server: stored chunks are served byte for byte, checksummed
//! and big-endian variables pass through with the right declarations, absent keys 404.

mod common;

use std::ffi::CString;
use std::io::Read;
use std::path::Path;

use datagate::config::Config;

async fn serve(dir: &Path) -> String {
    common::serve(Config::for_roots(&[dir.to_path_buf()])).await
}

/// `b(y=6, x=8)` float32, chunks 3×4, shuffle + deflate, big-endian, and `v`, the same
/// with Fletcher-32: written with netCDF-C directly (the `netcdf` crate has no
/// Fletcher-32 setter).
fn checksummed_big_endian(path: &Path) -> Vec<f32> {
    use netcdf_sys::*;
    let values: Vec<f32> = (0..48).map(|k| k as f32 * 0.25 - 3.0).collect();
    let _lock = libnetcdf_lock.lock();
    let cpath = CString::new(path.to_str().unwrap()).unwrap();
    let check = |status: i32| assert_eq!(status, 0, "netCDF-C error {status}");
    // SAFETY: plain netCDF-C calls on a file this function creates and closes.
    unsafe {
        let (mut nc, mut y, mut x, mut v, mut b) = (0, 0, 0, 0, 0);
        check(nc_create(cpath.as_ptr(), NC_NETCDF4 | NC_CLOBBER, &mut nc));
        check(nc_def_dim(nc, c"y".as_ptr(), 6, &mut y));
        check(nc_def_dim(nc, c"x".as_ptr(), 8, &mut x));
        let dims = [y, x];
        check(nc_def_var(
            nc,
            c"v".as_ptr(),
            NC_FLOAT,
            2,
            dims.as_ptr(),
            &mut v,
        ));
        let chunks = [3usize, 4];
        check(nc_def_var_chunking(nc, v, NC_CHUNKED, chunks.as_ptr()));
        check(nc_def_var_deflate(nc, v, 1, 1, 5));
        check(nc_def_var_fletcher32(nc, v, 1));
        check(nc_def_var_endian(nc, v, NC_ENDIAN_BIG));
        check(nc_def_var(
            nc,
            c"b".as_ptr(),
            NC_FLOAT,
            2,
            dims.as_ptr(),
            &mut b,
        ));
        check(nc_def_var_chunking(nc, b, NC_CHUNKED, chunks.as_ptr()));
        check(nc_def_var_deflate(nc, b, 1, 1, 5));
        check(nc_def_var_endian(nc, b, NC_ENDIAN_BIG));
        check(nc_enddef(nc));
        check(nc_put_var_float(nc, v, values.as_ptr()));
        check(nc_put_var_float(nc, b, values.as_ptr()));
        check(nc_close(nc));
    }
    values
}

fn inflate(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(b)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unshuffle(b: &[u8], size: usize) -> Vec<u8> {
    let n = b.len() / size;
    let mut out = vec![0; b.len()];
    for i in 0..n {
        for k in 0..size {
            out[i * size + k] = b[k * n + i];
        }
    }
    out
}

#[tokio::test]
async fn passthrough_chunks_are_the_stored_bytes() {
    let dir = tempfile::tempdir().unwrap();
    datagate::fixtures::write_all(dir.path()).unwrap();
    let values = checksummed_big_endian(&dir.path().join("checked.nc"));
    let base = serve(dir.path()).await;
    let client = reqwest::Client::new();
    let get = |url: String| {
        let client = client.clone();
        async move { client.get(url).send().await.unwrap() }
    };

    // The kerchunk references give each stored chunk's range in the file.
    let refs: serde_json::Value = get(format!("{base}/zarr/gridded_nc4.nc/refs.json"))
        .await
        .json()
        .await
        .unwrap();
    let r = &refs["refs"]["temp/1.2.0.1"];
    let (offset, size) = (
        r[1].as_u64().unwrap() as usize,
        r[2].as_u64().unwrap() as usize,
    );
    let file = std::fs::read(dir.path().join("gridded_nc4.nc")).unwrap();
    let chunk = get(format!("{base}/zarr/gridded_nc4.nc/temp/1.2.0.1")).await;
    assert_eq!(chunk.status(), 200);
    assert_eq!(
        &chunk.bytes().await.unwrap()[..],
        &file[offset..offset + size]
    );
    let v3 = get(format!("{base}/zarr/gridded_nc4.nc/temp/c/1/2/0/1")).await;
    assert_eq!(&v3.bytes().await.unwrap()[..], &file[offset..offset + size]);

    // Big-endian shuffled and deflated: passed through, declared big-endian.
    let zarray: serde_json::Value = get(format!("{base}/zarr/checked.nc/b/.zarray"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(zarray["dtype"], ">f4");
    assert_eq!(zarray["chunks"], serde_json::json!([3, 4]));
    assert_eq!(zarray["filters"][0]["elementsize"], 4);
    let refs = refs_of(&base, "checked.nc").await;
    let r = &refs["refs"]["b/1.1"];
    let (offset, size) = (
        r[1].as_u64().unwrap() as usize,
        r[2].as_u64().unwrap() as usize,
    );
    let file = std::fs::read(dir.path().join("checked.nc")).unwrap();
    let body = get(format!("{base}/zarr/checked.nc/b/1.1"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(&body[..], &file[offset..offset + size]);
    let raw = unshuffle(&inflate(&body), 4);
    let got: Vec<f32> = raw
        .chunks(4)
        .map(|b| f32::from_be_bytes(b.try_into().unwrap()))
        .collect();
    let want: Vec<f32> = (3..6)
        .flat_map(|j| (4..8).map(move |i| (j, i)))
        .map(|(j, i)| values[j * 8 + i])
        .collect();
    assert_eq!(got, want);
    let v3: serde_json::Value = get(format!("{base}/zarr3/checked.nc/b/zarr.json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v3["codecs"][0]["configuration"]["endian"], "big");

    // netCDF-C puts Fletcher-32 first: its checksum is shuffled and deflated with the
    // data, so it is declared as the first filter and the chunks still pass through.
    let reader = datagate::readers::open(
        &datagate::storage::Location::Local(dir.path().join("checked.nc")),
        &std::sync::Arc::new(datagate::storage::Storage::default()),
        &Default::default(),
    )
    .await
    .unwrap();
    let index = reader.chunk_index("/v").await.unwrap().unwrap();
    assert_eq!(index.filters[0], datagate::model::Filter::Fletcher32);
    let zarray: serde_json::Value = get(format!("{base}/zarr/checked.nc/v/.zarray"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        zarray["filters"],
        serde_json::json!([{"id": "fletcher32"}, {"id": "shuffle", "elementsize": 4}])
    );
    assert_eq!(
        zarray["compressor"],
        serde_json::json!({"id": "zlib", "level": 5})
    );
    let r = &refs["refs"]["v/1.0"];
    let (offset, size) = (
        r[1].as_u64().unwrap() as usize,
        r[2].as_u64().unwrap() as usize,
    );
    let body = get(format!("{base}/zarr/checked.nc/v/1.0"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(&body[..], &file[offset..offset + size]);
    let raw = unshuffle(&inflate(&body), 4);
    assert_eq!(raw.len(), 3 * 4 * 4 + 4);
    let got: Vec<f32> = raw[..48]
        .chunks(4)
        .map(|b| f32::from_be_bytes(b.try_into().unwrap()))
        .collect();
    let want: Vec<f32> = (3..6)
        .flat_map(|j| (0..4).map(move |i| (j, i)))
        .map(|(j, i)| values[j * 8 + i])
        .collect();
    assert_eq!(got, want);

    // One URL serves both formats; `/zarr3/` is its alias.
    for url in [
        "zarr/gridded_nc4.nc/zarr.json",
        "zarr/gridded_nc4.nc/.zgroup",
        "zarr3/gridded_nc4.nc/.zgroup",
        "zarr3/gridded_nc4.nc/zarr.json",
    ] {
        assert_eq!(get(format!("{base}/{url}")).await.status(), 200, "{url}");
    }
    for url in [
        "zarr/gridded_nc4.nc/sparse/1.2",
        "zarr/nothing.nc/.zgroup",
        "zarr/gridded_nc4.nc/temp/0.0.0",
    ] {
        assert_eq!(get(format!("{base}/{url}")).await.status(), 404, "{url}");
    }
}

async fn refs_of(base: &str, id: &str) -> serde_json::Value {
    reqwest::get(format!("{base}/zarr/{id}/refs.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `m(y=6, x=8)` f32, chunks 3×4, deflate, where chunk (1, 1) was written with the
/// deflate filter skipped (filter mask 1), as HDF5 allows for optional filters.
fn masked_chunk_file(path: &Path) -> Vec<f32> {
    use hdf5_metno_sys::{h5d, h5f, h5p};
    use netcdf_sys::*;
    let values: Vec<f32> = (0..48).map(|k| k as f32 + 0.5).collect();
    let _lock = libnetcdf_lock.lock();
    let cpath = CString::new(path.to_str().unwrap()).unwrap();
    let check = |status: i32| assert!(status >= 0, "error {status}");
    // SAFETY: netCDF-C then HDF5 calls on a file created and closed here.
    unsafe {
        let (mut nc, mut y, mut x, mut v) = (0, 0, 0, 0);
        check(nc_create(cpath.as_ptr(), NC_NETCDF4 | NC_CLOBBER, &mut nc));
        check(nc_def_dim(nc, c"y".as_ptr(), 6, &mut y));
        check(nc_def_dim(nc, c"x".as_ptr(), 8, &mut x));
        let dims = [y, x];
        check(nc_def_var(
            nc,
            c"m".as_ptr(),
            NC_FLOAT,
            2,
            dims.as_ptr(),
            &mut v,
        ));
        let chunks = [3usize, 4];
        check(nc_def_var_chunking(nc, v, NC_CHUNKED, chunks.as_ptr()));
        check(nc_def_var_deflate(nc, v, 0, 1, 6));
        check(nc_close(nc));

        let f = h5f::H5Fopen(cpath.as_ptr(), h5f::H5F_ACC_RDWR, h5p::H5P_DEFAULT);
        check(f as i32);
        let d = h5d::H5Dopen2(f, c"/m".as_ptr(), h5p::H5P_DEFAULT);
        check(d as i32);
        for (cy, cx) in [(0u64, 0u64), (0, 1), (1, 0), (1, 1)] {
            let raw: Vec<u8> = (0..3)
                .flat_map(|j| (0..4).map(move |i| (cy as usize * 3 + j) * 8 + cx as usize * 4 + i))
                .flat_map(|k| values[k].to_le_bytes())
                .collect();
            let (mask, bytes) = if (cy, cx) == (1, 1) {
                (1u32, raw)
            } else {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
                std::io::Write::write_all(&mut e, &raw).unwrap();
                (0u32, e.finish().unwrap())
            };
            let offset = [cy * 3, cx * 4];
            check(h5d::H5Dwrite_chunk(
                d,
                h5p::H5P_DEFAULT,
                mask,
                offset.as_ptr(),
                bytes.len(),
                bytes.as_ptr().cast(),
            ));
        }
        h5d::H5Dclose(d);
        h5f::H5Fclose(f);
    }
    values
}

#[tokio::test]
async fn chunks_with_a_skipped_filter_are_re_encoded() {
    let dir = tempfile::tempdir().unwrap();
    let values = masked_chunk_file(&dir.path().join("masked.nc"));
    let reader = datagate::readers::open(
        &datagate::storage::Location::Local(dir.path().join("masked.nc")),
        &std::sync::Arc::new(datagate::storage::Storage::default()),
        &Default::default(),
    )
    .await
    .unwrap();
    let index = reader.chunk_index("/m").await.unwrap().unwrap();
    let masks: Vec<u32> = index.chunks.iter().map(|c| c.filter_mask).collect();
    assert_eq!(masks, vec![0, 0, 0, 1]);

    let base = serve(dir.path()).await;
    let zarray: serde_json::Value = reqwest::get(format!("{base}/zarr/masked.nc/m/.zarray"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(zarray["chunks"], serde_json::json!([3, 4]));
    for (key, (cy, cx)) in [("0.1", (0, 1)), ("1.1", (1, 1))] {
        let body = reqwest::get(format!("{base}/zarr/masked.nc/m/{key}"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        // Both decode with the declared zlib: the masked one was re-encoded.
        let got: Vec<f32> = inflate(&body)
            .chunks(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        let want: Vec<f32> = (0..3)
            .flat_map(|j| (0..4).map(move |i| (cy * 3 + j) * 8 + cx * 4 + i))
            .map(|k| values[k])
            .collect();
        assert_eq!(got, want, "{key}");
    }
}
