//! Reads fetch only the blocks they need, and blocks never written read as nodata.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use super::super::source::{ByteSource, InMemory};
use super::super::*;
use super::build::{Val, tiff};
use crate::readers::formats::GEOTIFF;
use crate::subset::DimSlice;

/// Counts the bytes fetched from an in-memory file.
struct Counting(InMemory, AtomicU64, AtomicU64);

#[async_trait::async_trait]
impl ByteSource for Counting {
    fn size(&self) -> u64 {
        self.0.size()
    }

    fn name(&self) -> String {
        self.0.name()
    }

    async fn fetch(&self, range: std::ops::Range<u64>) -> Result<Bytes, ReadError> {
        let n = range.end - range.start;
        self.1.fetch_add(n, Ordering::SeqCst);
        self.2.fetch_add(1, Ordering::SeqCst);
        self.0.fetch(range).await
    }
}

#[tokio::test]
async fn a_window_reads_only_its_tiles() {
    // 64 × 64 u8 pixels in 8 × 8 uncompressed tiles: 64 tiles of 64 bytes.
    let blocks: Vec<Vec<u8>> = (0..64u8).map(|t| vec![t; 64]).collect();
    let tags = vec![
        (256, Val::Short(vec![64])),
        (257, Val::Short(vec![64])),
        (258, Val::Short(vec![8])),
        (322, Val::Short(vec![8])),
        (323, Val::Short(vec![8])),
    ];
    let file = Bytes::from(tiff(true, true, &blocks, tags));
    let source = Arc::new(Counting(
        InMemory(file),
        AtomicU64::new(0),
        AtomicU64::new(0),
    ));
    let r = GeotiffReader::open(source.clone(), &GEOTIFF, 1 << 20)
        .await
        .unwrap();
    let fetched = || source.1.load(Ordering::SeqCst);
    let at_open = fetched();
    // Rows 10..12, columns 20..22: all in tile (1, 2), the 11th.
    let slab = Hyperslab::new(vec![
        DimSlice::index(0),
        DimSlice {
            start: 10,
            stride: 1,
            count: 2,
        },
        DimSlice {
            start: 20,
            stride: 1,
            count: 2,
        },
    ]);
    let a = r.read("band_data", &slab).await.unwrap();
    assert_eq!(a.values, ArrayValues::U8(vec![10; 4]));
    assert_eq!(fetched() - at_open, 64);
    // Again: the decoded tile is kept, nothing is fetched.
    let a = r.read("band_data", &slab).await.unwrap();
    assert_eq!(a.values, ArrayValues::U8(vec![10; 4]));
    assert_eq!(fetched() - at_open, 64);
    // Across four tiles: four tiles read.
    let slab = Hyperslab::new(vec![
        DimSlice::index(0),
        DimSlice {
            start: 7,
            stride: 1,
            count: 2,
        },
        DimSlice {
            start: 7,
            stride: 1,
            count: 2,
        },
    ]);
    let a = r.read("band_data", &slab).await.unwrap();
    assert_eq!(a.values, ArrayValues::U8(vec![0, 1, 8, 9]));
    // Tiles 0, 1, 8 and 9: the 384 bytes between tiles 1 and 8 cost less than a
    // second request, so tiles 0..=9 are read as one run.
    assert_eq!(fetched() - at_open, 64 + 64 * 10);
    // A whole read: the 64 tiles are stored one after another, so one request.
    let requests = source.2.load(Ordering::SeqCst);
    let all = r
        .read("band_data", &Hyperslab::full(&[1, 64, 64]))
        .await
        .unwrap();
    assert_eq!(all.values.get_f64(64 * 63 + 63), 63.0);
    assert_eq!(source.2.load(Ordering::SeqCst) - requests, 1);
    // Uncompressed one-band tiles are chunks a Zarr client reads as stored.
    let index = r.chunk_index("/band_data").await.unwrap().unwrap();
    assert_eq!(index.chunk_shape, vec![1, 8, 8]);
    assert_eq!(index.chunks.len(), 64);
    assert_eq!(index.chunks[10].coords, vec![0, 1, 2]);
    assert_eq!(index.chunks[10].size, 64);
    assert!(crate::readers::conformance::check(&r).await.is_empty());
}

#[tokio::test]
async fn blocks_never_written_read_as_nodata() {
    // 16 × 8 u16 pixels in two 8 × 8 tiles; the second was never written (byte count
    // 0, as GDAL leaves empty tiles of a sparse COG).
    let written: Vec<u8> = (0..64u16).flat_map(|v| v.to_le_bytes()).collect();
    let tags = vec![
        (256, Val::Short(vec![16])),
        (257, Val::Short(vec![8])),
        (258, Val::Short(vec![16])),
        (322, Val::Short(vec![8])),
        (323, Val::Short(vec![8])),
        (42113, Val::Ascii("65535".into())),
    ];
    let file = tiff(true, true, &[written, vec![]], tags);
    let r = GeotiffReader::open(Arc::new(InMemory(Bytes::from(file))), &GEOTIFF, 1 << 20)
        .await
        .unwrap();
    let row = Hyperslab::new(vec![
        DimSlice::index(0),
        DimSlice::index(1),
        DimSlice::full(16),
    ]);
    let a = r.read("band_data", &row).await.unwrap();
    let mut want: Vec<u16> = (8..16).collect();
    want.extend([65535; 8]);
    assert_eq!(a.values, ArrayValues::U16(want));
    // The tile never written is no chunk: it reads as the fill value.
    let index = r.chunk_index("/band_data").await.unwrap().unwrap();
    assert_eq!(index.chunks.len(), 1);
}
