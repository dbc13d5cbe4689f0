//! The reader on TIFFs built here byte by byte: tiled and striped, both byte orders,
//! compressed and not, checked against the values written, against the reader
//! contract, and truncated or bit-flipped (errors, never panics).

use std::io::Write;

use bytes::Bytes;

use super::source::InMemory;
use super::*;
use crate::model::AttrValue;
use crate::readers::formats::GEOTIFF;
use crate::subset::DimSlice;
use build::{Val, tiff};

mod build;
mod overviews;
mod ranges;

fn geo_tags() -> Vec<(u16, Val)> {
    vec![
        (33550, Val::Double(vec![1.0, 1.0, 0.0])),
        (33922, Val::Double(vec![0.0, 0.0, 0.0, 10.0, 50.0, 0.0])),
        (34735, Val::Short(vec![1, 1, 0, 2, 1024, 0, 1, 2, 2048, 0, 1, 4326])),
        (42113, Val::Ascii("-9999".into())),
        (42112, Val::Ascii(
            r#"<GDALMetadata><Item name="SCALE" sample="0" role="scale">0.5</Item><Item name="SCALE" sample="1" role="scale">0.5</Item></GDALMetadata>"#.into(),
        )),
        (306, Val::Ascii("2020:06:01 12:00:00".into())),
    ]
}

/// A 2-band i16 raster of 5 × 6 pixels: value = band * 1000 + row * 10 + col.
fn value(b: usize, r: usize, c: usize) -> i16 {
    (b * 1000 + r * 10 + c) as i16
}

/// Tiled 4×4, chunky, deflate with predictor 2, little-endian.
fn tiled_deflate() -> Vec<u8> {
    let (w, h, tw, th) = (6usize, 5usize, 4usize, 4usize);
    let mut blocks = Vec::new();
    for tr in 0..h.div_ceil(th) {
        for tc in 0..w.div_ceil(tw) {
            let mut raw = Vec::new();
            for r in 0..th {
                let mut prev = [0i16; 2];
                for c in 0..tw {
                    for (b, prev) in prev.iter_mut().enumerate() {
                        let (rr, cc) = (tr * th + r, tc * tw + c);
                        let v = if rr < h && cc < w {
                            value(b, rr, cc)
                        } else {
                            0
                        };
                        raw.extend(v.wrapping_sub(*prev).to_le_bytes());
                        *prev = v;
                    }
                }
            }
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), Default::default());
            z.write_all(&raw).unwrap();
            blocks.push(z.finish().unwrap());
        }
    }
    let mut tags = vec![
        (256, Val::Long(vec![w as u32])),
        (257, Val::Long(vec![h as u32])),
        (258, Val::Short(vec![16, 16])),
        (259, Val::Short(vec![8])),
        (277, Val::Short(vec![2])),
        (317, Val::Short(vec![2])),
        (322, Val::Short(vec![tw as u16])),
        (323, Val::Short(vec![th as u16])),
        (339, Val::Short(vec![2, 2])),
    ];
    tags.extend(geo_tags());
    tiff(true, true, &blocks, tags)
}

/// Striped (2 rows a strip), planar-separate, uncompressed, big-endian.
fn striped_big_endian() -> Vec<u8> {
    let (w, h, rps) = (6usize, 5usize, 2usize);
    let mut blocks = Vec::new();
    for b in 0..2 {
        for s in 0..h.div_ceil(rps) {
            let mut raw = Vec::new();
            for r in s * rps..((s + 1) * rps).min(h) {
                for c in 0..w {
                    raw.extend(value(b, r, c).to_be_bytes());
                }
            }
            blocks.push(raw);
        }
    }
    let mut tags = vec![
        (256, Val::Short(vec![w as u16])),
        (257, Val::Short(vec![h as u16])),
        (258, Val::Short(vec![16, 16])),
        (277, Val::Short(vec![2])),
        (278, Val::Short(vec![rps as u16])),
        (284, Val::Short(vec![2])),
        (339, Val::Short(vec![2, 2])),
    ];
    tags.extend(geo_tags());
    tiff(false, false, &blocks, tags)
}

async fn open_bytes(bytes: Vec<u8>) -> Result<GeotiffReader, ReadError> {
    GeotiffReader::open(Arc::new(InMemory(Bytes::from(bytes))), &GEOTIFF, 1 << 20).await
}

async fn check_reader(r: &GeotiffReader) {
    let all = r
        .read("/band_data", &Hyperslab::full(&[2, 5, 6]))
        .await
        .unwrap();
    let want: Vec<i16> = (0..2)
        .flat_map(|b| (0..5).flat_map(move |r| (0..6).map(move |c| value(b, r, c))))
        .collect();
    assert_eq!(all.values, ArrayValues::I16(want));
    // A strided window across blocks: band 1, rows 1 and 4, columns 1, 4.
    let slab = Hyperslab::new(vec![
        DimSlice::index(1),
        DimSlice {
            start: 1,
            stride: 3,
            count: 2,
        },
        DimSlice {
            start: 1,
            stride: 3,
            count: 2,
        },
    ]);
    let part = r.read("band_data", &slab).await.unwrap();
    assert_eq!(part.values, ArrayValues::I16(vec![1011, 1014, 1041, 1044]));
    let problems = crate::readers::conformance::check(r).await;
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn tiled_deflate_predictor_raster() {
    let r = open_bytes(tiled_deflate()).await.unwrap();
    check_reader(&r).await;
    let meta = r.metadata();
    let data = meta.variable("band_data").unwrap();
    assert_eq!(data.attr("_FillValue"), Some(&AttrValue::I16(vec![-9999])));
    assert_eq!(data.attr("scale_factor"), Some(&AttrValue::F64(vec![0.5])));
    assert_eq!(data.chunks, Some(vec![1, 4, 4]));
    // Predictor 2 and interleaved bands: no stored chunks for Zarr clients.
    assert!(r.chunk_index("/band_data").await.unwrap().is_none());
    let x = r.read("x", &Hyperslab::full(&[6])).await.unwrap();
    assert_eq!(
        x.values,
        ArrayValues::F64(vec![10.5, 11.5, 12.5, 13.5, 14.5, 15.5])
    );
    let y = r.read("y", &Hyperslab::full(&[5])).await.unwrap();
    assert_eq!(y.values.get_f64(0), 49.5);
    let t = r.read("time", &Hyperslab::new(vec![])).await.unwrap();
    assert_eq!(t.values, ArrayValues::F64(vec![1_591_012_800.0]));
    // Geographic: x and y are the longitudes and latitudes.
    let cs = crate::model::cf::coordinates(&meta, data);
    assert_eq!(cs.x.unwrap().path, "/x");
    assert_eq!(cs.t.unwrap().path, "/time");
    assert!(meta.variable("lon").is_none());
}

#[tokio::test]
async fn striped_planar_big_endian_raster() {
    let r = open_bytes(striped_big_endian()).await.unwrap();
    check_reader(&r).await;
}

#[tokio::test]
async fn projected_raster_has_lon_lat() {
    let mut bytes_tags = geo_tags();
    bytes_tags[0] = (33550, Val::Double(vec![1000.0, 1000.0, 0.0]));
    bytes_tags[1] = (
        33922,
        Val::Double(vec![0.0, 0.0, 0.0, 1_113_194.9, 0.0, 0.0]),
    );
    bytes_tags[2] = (
        34735,
        Val::Short(vec![1, 1, 0, 2, 1024, 0, 1, 1, 3072, 0, 1, 3857]),
    );
    let mut tags = vec![
        (256, Val::Short(vec![2])),
        (257, Val::Short(vec![2])),
        (258, Val::Short(vec![8])),
    ];
    tags.extend(bytes_tags);
    let r = open_bytes(tiff(true, false, &[vec![1, 2, 3, 4]], tags))
        .await
        .unwrap();
    let meta = r.metadata();
    let data = meta.variable("band_data").unwrap();
    assert_eq!(
        data.attr("coordinates")
            .and_then(AttrValue::as_text)
            .as_deref(),
        Some("lon lat time")
    );
    let lon = r.read("lon", &Hyperslab::full(&[2, 2])).await.unwrap();
    assert!((lon.values.get_f64(0) - 10.0045).abs() < 1e-3, "{lon:?}");
    let lat = r.read("lat", &Hyperslab::full(&[2, 2])).await.unwrap();
    assert!(lat.values.get_f64(0) < 0.0 && lat.values.get_f64(0) > -0.01);
    let cs = crate::model::cf::coordinates(&meta, data);
    assert_eq!(cs.x.unwrap().path, "/lon");
    assert!(crate::readers::conformance::check(&r).await.is_empty());
}

#[tokio::test]
async fn damaged_files_are_errors_not_panics() {
    for file in [tiled_deflate(), striped_big_endian()] {
        for len in 0..file.len() {
            let truncated = file[..len].to_vec();
            if let Ok(r) = open_bytes(truncated).await {
                let _ = r.read("/band_data", &Hyperslab::full(&[2, 5, 6])).await;
            }
        }
        for i in 0..file.len() {
            for bit in [0x01u8, 0x80] {
                let mut flipped = file.clone();
                flipped[i] ^= bit;
                if let Ok(r) = open_bytes(flipped).await {
                    // Whole reads of small images only: a flipped width may be huge.
                    let shape = r.metadata().variable("band_data").unwrap().shape();
                    if shape.iter().product::<usize>() <= 1 << 20 {
                        let _ = r.read("/band_data", &Hyperslab::full(&shape)).await;
                    }
                }
            }
        }
    }
    let err = open_bytes(b"II*\0\xff\xff\xff\x7f".to_vec())
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("past the end"), "{err}");
    // BigTIFF offsets near 2^64 must not overflow.
    let mut big = b"II+\0\x08\0\0\0".to_vec();
    big.extend((u64::MAX - 2).to_le_bytes());
    assert!(open_bytes(big).await.is_err());
    // Found by the `reader` fuzz target: BitsPerSample present with no value.
    let empty_bits = include_bytes!("empty_bits_per_sample.tif").to_vec();
    let err = open_bytes(empty_bits).await.err().unwrap();
    assert!(err.to_string().contains("BitsPerSample"), "{err}");
    // An IFD that points to itself.
    let mut looped = b"II*\0\x08\0\0\0\x01\0".to_vec();
    looped.extend([0, 1, 3, 0, 1, 0, 0, 0, 4, 0, 0, 0]);
    looped.extend(8u32.to_le_bytes());
    assert!(open_bytes(looped).await.is_err());
}
