//! Overviews are offered as reduced copies of the data variable, read tile by tile;
//! masks and damaged overviews are left out, never failing the file.

use bytes::Bytes;

use super::super::source::InMemory;
use super::super::*;
use super::build::{Val, tiff_images};
use crate::readers::formats::GEOTIFF;
use crate::subset::DimSlice;

/// An 8 × 8 u8 image in 4 × 4 tiles (value r·8 + c), its 4 × 4 overview in one tile
/// (value 200 + r·4 + c), and an 8 × 8 mask.
fn with_overview() -> Vec<u8> {
    let tags = |w: u16, subfile: u32| {
        vec![
            (254, Val::Long(vec![subfile])),
            (256, Val::Short(vec![w])),
            (257, Val::Short(vec![w])),
            (258, Val::Short(vec![8])),
            (322, Val::Short(vec![4])),
            (323, Val::Short(vec![4])),
        ]
    };
    let main: Vec<Vec<u8>> = (0..4)
        .map(|t| {
            let (tr, tc) = (t / 2, t % 2);
            (0..16)
                .map(|k| ((tr * 4 + k / 4) * 8 + tc * 4 + k % 4) as u8)
                .collect()
        })
        .collect();
    let overview = vec![(0..16).map(|k| 200 + k as u8).collect::<Vec<u8>>()];
    let mask: Vec<Vec<u8>> = (0..4).map(|_| vec![255; 16]).collect();
    let mut first = tags(8, 0);
    first.extend(super::geo_tags().into_iter().filter(|t| t.0 != 42112));
    tiff_images(
        true,
        vec![
            (true, main, first),
            (true, overview, tags(4, 1)),
            (true, mask, tags(8, 4)),
        ],
    )
}

async fn open(bytes: Vec<u8>) -> Result<GeotiffReader, ReadError> {
    GeotiffReader::open(Arc::new(InMemory(Bytes::from(bytes))), &GEOTIFF, 1 << 20).await
}

#[tokio::test]
async fn overviews_are_reduced_copies_of_the_data() {
    let r = open(with_overview()).await.unwrap();
    assert_eq!(r.reduced_resolutions("/band_data"), vec![vec![1, 4, 4]]);
    assert!(r.reduced_resolutions("/x").is_empty());
    let full = r
        .read("/band_data", &Hyperslab::full(&[1, 8, 8]))
        .await
        .unwrap();
    assert_eq!(full.values.get_f64(9), 9.0);
    let ov = r
        .read_reduced("/band_data", 0, &Hyperslab::full(&[1, 4, 4]))
        .await
        .unwrap();
    assert_eq!(ov.shape, vec![1, 4, 4]);
    let want: Vec<u8> = (200..216).collect();
    assert_eq!(ov.values, ArrayValues::U8(want));
    let window = Hyperslab::new(vec![
        DimSlice::index(0),
        DimSlice::index(2),
        DimSlice {
            start: 1,
            stride: 2,
            count: 2,
        },
    ]);
    let part = r.read_reduced("band_data", 0, &window).await.unwrap();
    assert_eq!(part.values, ArrayValues::U8(vec![209, 211]));
    // Reads of the full image after the overview's are not mixed up in the cache of
    // decoded blocks.
    let again = r
        .read("/band_data", &Hyperslab::full(&[1, 8, 8]))
        .await
        .unwrap();
    assert_eq!(again.values, full.values);
    // No such level, a slab outside the copy: errors.
    assert!(
        r.read_reduced("/band_data", 1, &Hyperslab::full(&[1, 4, 4]))
            .await
            .is_err()
    );
    assert!(
        r.read_reduced("/band_data", 0, &Hyperslab::full(&[1, 8, 8]))
            .await
            .is_err()
    );
    assert!(
        r.read_reduced("/x", 0, &Hyperslab::full(&[4]))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn damaged_overviews_are_errors_not_panics() {
    let file = with_overview();
    for len in 0..file.len() {
        if let Ok(r) = open(file[..len].to_vec()).await {
            for (level, shape) in r.reduced_resolutions("/band_data").iter().enumerate() {
                let _ = r
                    .read_reduced("/band_data", level, &Hyperslab::full(shape))
                    .await;
            }
        }
    }
    for i in 0..file.len() {
        let mut flipped = file.clone();
        flipped[i] ^= 0x10;
        if let Ok(r) = open(flipped).await {
            for (level, shape) in r.reduced_resolutions("/band_data").iter().enumerate() {
                if shape.iter().product::<usize>() <= 1 << 20 {
                    let _ = r
                        .read_reduced("/band_data", level, &Hyperslab::full(shape))
                        .await;
                }
            }
        }
    }
}
