//! Damaged GRIB files (truncated, bit-flipped, randomly changed, implausible grid
//! sizes): an error for the file, or a dataset whose reads fail cleanly; never a panic,
//! an abort, or ecCodes grinding through a damaged size under its lock.

use super::testdata;
use super::tests::open_bytes;
use crate::readers::ReadError;
use crate::subset::Hyperslab;

#[tokio::test]
async fn damaged_files_give_errors_never_panics() {
    let good = testdata::pressure_levels().unwrap();
    let one = good.len() / 24;
    // Truncated: inside the last message, and inside the first header.
    for cut in [good.len() - 10, good.len() - one / 2, 12] {
        let err = open_bytes(&good[..cut]).await.err();
        assert!(
            matches!(err, Some(ReadError::Format { .. })),
            "cut at {cut}: {err:?}"
        );
    }
    assert!(matches!(
        open_bytes(b"GRIB\0\0\0\x09garbage").await,
        Err(ReadError::Format { .. })
    ));
    // Bit flips all over the first message: an error or a dataset, never a panic; and a
    // dataset that opened can be read (errors allowed) without a panic either.
    for at in (0..one).step_by(3) {
        let mut bad = good.clone();
        bad[at] ^= 0x5a;
        if let Ok(r) = open_bytes(&bad).await {
            for part in std::iter::once(r.clone()).chain(r.parts().iter().filter_map(|p| r.part(p)))
            {
                for v in part.metadata().variables() {
                    let _ = part.read(&v.path, &Hyperslab::full(&v.shape())).await;
                }
            }
        }
    }
}

#[tokio::test]
async fn random_damage_anywhere_gives_errors_never_panics() {
    let good = testdata::mixed_levels().unwrap();
    // A fixed xorshift sequence: several bytes changed anywhere in the file, or the
    // file cut anywhere.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..150 {
        let mut bad = good.clone();
        if round % 5 == 4 {
            bad.truncate(next() as usize % good.len());
        } else {
            for _ in 0..1 + round % 4 {
                let at = next() as usize % bad.len();
                bad[at] = next() as u8;
            }
        }
        let t0 = std::time::Instant::now();
        let opened = open_bytes(&bad).await;
        let t1 = t0.elapsed();
        let Ok(r) = opened else {
            if t1.as_millis() > 200 {
                eprintln!("round {round}: open failed in {t1:?}");
            }
            continue;
        };
        for part in std::iter::once(r.clone()).chain(r.parts().iter().filter_map(|p| r.part(p))) {
            for v in part.metadata().variables() {
                let _ = part.read(&v.path, &Hyperslab::full(&v.shape())).await;
            }
        }
        if t0.elapsed().as_millis() > 200 {
            eprintln!("round {round}: open {t1:?} total {:?}", t0.elapsed());
        }
    }
}

#[tokio::test]
async fn a_damaged_grid_size_is_refused_before_eccodes_iterates_it() {
    use super::ffi::{SetValue, message_from_sample};
    let bad = message_from_sample(
        "regular_ll_pl_grib2",
        &[("Ni", SetValue::Long(1_600_000_000))],
        None,
    );
    let bad = bad.unwrap();
    let t0 = std::time::Instant::now();
    let err = open_bytes(&bad).await.err();
    assert!(matches!(err, Some(ReadError::Format { .. })), "{err:?}");
    assert!(t0.elapsed().as_secs() < 5);
}

/// Found by fuzzing: a reduced Gaussian grid whose N reads 4,194,336 (the sample's is
/// 32). ecCodes spent hours computing its latitudes; now refused at once.
#[tokio::test]
async fn a_damaged_gaussian_number_is_refused_before_eccodes_computes_latitudes() {
    let bad = include_bytes!("regressions/huge_gaussian_n.grib2");
    let t0 = std::time::Instant::now();
    let err = open_bytes(bad).await.err();
    assert!(matches!(err, Some(ReadError::Format { .. })), "{err:?}");
    assert!(t0.elapsed().as_secs() < 5, "{:?}", t0.elapsed());
}

/// Found by fuzzing: reduced Gaussian grids whose first longitude reads -1392.5° (and a
/// second message that ecCodes' own `grib_ls` aborts on with a double free): ecCodes'
/// coordinate iterator segfaulted the process. Now refused before ecCodes is asked.
#[tokio::test]
async fn grid_corners_out_of_range_are_refused_before_eccodes_iterates() {
    let bad = include_bytes!("regressions/reduced_gg_bad_longitudes.grib2");
    let err = open_bytes(bad).await.err();
    assert!(matches!(err, Some(ReadError::Format { .. })), "{err:?}");
}

/// Found by fuzzing: a reduced lat-lon grid (a mutated reduced Gaussian sample) whose
/// `pl` does not add up to its 6,114 points: ecCodes' iterator segfaulted the process.
#[tokio::test]
async fn a_reduced_grid_whose_pl_does_not_add_up_is_refused() {
    let bad = include_bytes!("regressions/reduced_ll_bad_pl.grib2");
    let err = open_bytes(bad).await.err();
    assert!(matches!(err, Some(ReadError::Format { .. })), "{err:?}");
}

/// Found by fuzzing: a second message whose grid type ecCodes calls
/// `unknown_PLPresent`, with Ni = 4,294,902,528: asked for its coordinates, ecCodes
/// segfaulted. Now its points have none, and the file opens and reads cleanly.
#[tokio::test]
async fn an_unknown_grid_type_is_not_iterated_by_eccodes() {
    let bad = include_bytes!("regressions/unknown_pl_present_huge_ni.grib2");
    let r = open_bytes(bad).await.unwrap();
    for part in std::iter::once(r.clone()).chain(r.parts().iter().filter_map(|p| r.part(p))) {
        for v in part.metadata().variables() {
            let _ = part.read(&v.path, &Hyperslab::full(&v.shape())).await;
        }
    }
}

/// Found by fuzzing: a GRIB1 regular Gaussian grid from 90° to -90° with N = 1000 and
/// 181 rows: ecCodes' iterator segfaulted looking its rows up.
#[tokio::test]
async fn gaussian_rows_that_do_not_fit_n_are_refused() {
    let bad = include_bytes!("regressions/regular_gg_rows_to_the_poles.grib1");
    let err = open_bytes(bad).await.err();
    assert!(matches!(err, Some(ReadError::Format { .. })), "{err:?}");
}

/// Found by fuzzing: a GRIB1 message whose constant field (no data bits) claims
/// 65,432 × 1,717 points (here in 107 bytes): ecCodes took 27 s and 900 MB sorting its
/// points for their distinct latitudes. Now refused at once, as an HDF5 chunk over
/// `readers.max_decoded_chunk_bytes` is.
#[tokio::test]
async fn a_grid_larger_than_the_decode_limit_is_refused_before_eccodes_sorts_it() {
    let bad = include_bytes!("regressions/regular_ll_constant_112m_points.grib1");
    let t0 = std::time::Instant::now();
    let err = open_bytes(bad).await.err();
    assert!(matches!(err, Some(ReadError::Format { .. })), "{err:?}");
    assert!(t0.elapsed().as_secs() < 2, "{:?}", t0.elapsed());
}
