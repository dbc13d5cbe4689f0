//! GRIB test files, written by ecCodes from its bundled samples (nothing downloaded):
//! for the reader's unit tests and the integration tests.

use super::ffi::{SetValue, message_from_sample};

/// The value every test field holds at a point: distinct per variable, date, step,
/// level and point, so a misplaced field shows.
pub fn value(var: usize, day: usize, step: i64, level: i64, point: usize) -> f64 {
    200.0
        + 1000.0 * var as f64
        + 100.0 * day as f64
        + step as f64
        + level as f64 / 100.0
        + point as f64 / 8.0
}

/// The 8 × 5 regular lat/lon grid of the GRIB 2 files: 60°N..40°N, 10°W..25°E, 5°.
fn grid() -> Vec<(&'static str, SetValue)> {
    use SetValue::*;
    vec![
        ("Ni", Long(8)),
        ("Nj", Long(5)),
        ("latitudeOfFirstGridPointInDegrees", Double(60.0)),
        ("longitudeOfFirstGridPointInDegrees", Double(-10.0)),
        ("latitudeOfLastGridPointInDegrees", Double(40.0)),
        ("longitudeOfLastGridPointInDegrees", Double(25.0)),
        ("iDirectionIncrementInDegrees", Double(5.0)),
        ("jDirectionIncrementInDegrees", Double(5.0)),
    ]
}

/// One field: `sample` with the grid, then `keys`, filled by `value`.
#[allow(clippy::too_many_arguments)]
fn field(
    sample: &str,
    grid: &[(&'static str, SetValue)],
    short_name: &'static str,
    type_of_level: &'static str,
    (var, day, step, level): (usize, usize, i64, i64),
    points: usize,
) -> Result<Vec<u8>, String> {
    let mut keys = grid.to_vec();
    keys.extend([
        ("shortName", SetValue::Text(short_name)),
        ("dataDate", SetValue::Long(20240101 + day as i64)),
        ("dataTime", SetValue::Long(1200)),
        ("stepRange", SetValue::Text(STEPS[step as usize / 6])),
        ("typeOfLevel", SetValue::Text(type_of_level)),
        ("level", SetValue::Long(level)),
    ]);
    let values: Vec<f64> = (0..points)
        .map(|p| value(var, day, step, level, p))
        .collect();
    message_from_sample(sample, &keys, Some(&values))
}

const STEPS: &[&str] = &["0", "6", "12"];

/// `t` and `u` on 850, 500 and 250 hPa, 2 dates × steps 0 and 6 h: one hypercube.
pub fn pressure_levels() -> Result<Vec<u8>, String> {
    pressure_levels_from(0)
}

/// `pressure_levels` for the 2 dates from 2024-01-01 + `first_day` (at most 29).
pub fn pressure_levels_from(first_day: usize) -> Result<Vec<u8>, String> {
    let mut file = Vec::new();
    for (var, name) in ["t", "u"].into_iter().enumerate() {
        for day in first_day..first_day + 2 {
            for step in [0, 6] {
                for level in [850, 500, 250] {
                    let key = (var, day, step, level);
                    file.extend(field(
                        "regular_ll_pl_grib2",
                        &grid(),
                        name,
                        "isobaricInhPa",
                        key,
                        40,
                    )?);
                }
            }
        }
    }
    Ok(file)
}

/// Messages that form no single hypercube: `t` on pressure levels and at the surface,
/// `sp` at the surface, `2t` at 2 m; one date, steps 0 and 6 h.
pub fn mixed_levels() -> Result<Vec<u8>, String> {
    let mut file = Vec::new();
    for step in [0, 6] {
        for level in [850, 500] {
            file.extend(field(
                "regular_ll_pl_grib2",
                &grid(),
                "t",
                "isobaricInhPa",
                (0, 0, step, level),
                40,
            )?);
        }
        file.extend(field(
            "regular_ll_pl_grib2",
            &grid(),
            "t",
            "surface",
            (0, 0, step, 0),
            40,
        )?);
        file.extend(field(
            "regular_ll_pl_grib2",
            &grid(),
            "sp",
            "surface",
            (1, 0, step, 0),
            40,
        )?);
        file.extend(field(
            "regular_ll_pl_grib2",
            &grid(),
            "2t",
            "heightAboveGround",
            (2, 0, step, 2),
            40,
        )?);
    }
    Ok(file)
}

/// GRIB 1: `z` on 500 and 850 hPa at two dates, on a 6 × 4 grid (0..25°E, 30..45°N).
pub fn grib1() -> Result<Vec<u8>, String> {
    use SetValue::*;
    let grid = vec![
        ("Ni", Long(6)),
        ("Nj", Long(4)),
        ("latitudeOfFirstGridPointInDegrees", Double(45.0)),
        ("longitudeOfFirstGridPointInDegrees", Double(0.0)),
        ("latitudeOfLastGridPointInDegrees", Double(30.0)),
        ("longitudeOfLastGridPointInDegrees", Double(25.0)),
        ("iDirectionIncrementInDegrees", Double(5.0)),
        ("jDirectionIncrementInDegrees", Double(5.0)),
    ];
    let mut file = Vec::new();
    for day in 0..2 {
        for level in [500, 850] {
            file.extend(field(
                "GRIB1",
                &grid,
                "z",
                "isobaricInhPa",
                (0, day, 0, level),
                24,
            )?);
        }
    }
    Ok(file)
}

/// A regular Gaussian grid (N32, 128 × 64): `2t` at steps 0, 6 and 12 h.
pub fn gaussian() -> Result<Vec<u8>, String> {
    let mut file = Vec::new();
    for step in [0, 6, 12] {
        file.extend(field(
            "regular_gg_sfc_grib2",
            &[],
            "2t",
            "heightAboveGround",
            (0, 0, step, 2),
            8192,
        )?);
    }
    Ok(file)
}

/// An ensemble: `t` at 500 hPa for members 0, 1 and 2 at steps 0 and 6 h.
pub fn ensemble() -> Result<Vec<u8>, String> {
    let mut file = Vec::new();
    for number in 0..3i64 {
        for step in [0i64, 6] {
            // The product template comes first: it defines the `number` key.
            let mut keys = vec![("productDefinitionTemplateNumber", SetValue::Long(1))];
            keys.extend(grid());
            keys.extend([
                ("shortName", SetValue::Text("t")),
                ("dataDate", SetValue::Long(20240101)),
                ("dataTime", SetValue::Long(1200)),
                ("stepRange", SetValue::Text(STEPS[step as usize / 6])),
                ("typeOfLevel", SetValue::Text("isobaricInhPa")),
                ("level", SetValue::Long(500)),
                ("number", SetValue::Long(number)),
                ("numberOfForecastsInEnsemble", SetValue::Long(3)),
            ]);
            let values: Vec<f64> = (0..40)
                .map(|p| value(number as usize, 0, step, 500, p))
                .collect();
            file.extend(message_from_sample(
                "regular_ll_pl_grib2",
                &keys,
                Some(&values),
            )?);
        }
    }
    Ok(file)
}
