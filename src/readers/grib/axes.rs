//! The latitude and longitude axes of a regular grid (`regular_ll`, `regular_gg`), as
//! cfgrib takes them: ecCodes' `distinctLatitudes` (in the scanning direction) and
//! `distinctLongitudes` (ascending). ecCodes makes those lists by sorting every
//! point's coordinate, four times the cost of listing them (BENCHMARKS.md, "Stop 32:
//! a regular grid's axes"); when the points show the lists directly (below), they are
//! taken from the points instead, else asked of ecCodes.

use super::ffi::Message;

/// A grid's latitudes and longitudes.
type Axes = (Vec<f64>, Vec<f64>);

/// The grid's latitude and longitude axes; `nx × ny` is its number of points.
pub(super) fn regular_axes(
    m: &Message,
    nx: usize,
    ny: usize,
    south_to_north: bool,
) -> Result<Axes, String> {
    if let Some(axes) = axes_from_points(m, nx, ny, south_to_north)? {
        return Ok(axes);
    }
    // Each axis has as many distinct values as the grid has rows or columns; more is a
    // damaged grid (an error from ecCodes, which then wrote nothing).
    let lat = m
        .doubles_up_to("distinctLatitudes", ny)?
        .ok_or("no latitudes")?;
    let lon = m
        .doubles_up_to("distinctLongitudes", nx)?
        .ok_or("no longitudes")?;
    Ok((lat, lon))
}

/// The axes read off every point's coordinates, when the points are row after row
/// (each row one latitude, each column one longitude, equal to the bit) and the first
/// column's latitudes and the first row's longitudes run strictly in the distinct
/// lists' order. Then those are the distinct lists: every point's value is one of
/// them, and sorting them changes nothing. `None` otherwise (another scanning
/// order, a longitude wrapping round, a damaged grid).
fn axes_from_points(
    m: &Message,
    nx: usize,
    ny: usize,
    south_to_north: bool,
) -> Result<Option<Axes>, String> {
    let Some(n) = nx.checked_mul(ny).filter(|&n| n > 0) else {
        return Ok(None);
    };
    let (Some(lats), Some(lons)) = (
        m.doubles_up_to("latitudes", n)?,
        m.doubles_up_to("longitudes", n)?,
    ) else {
        return Ok(None);
    };
    if lats.len() != n || lons.len() != n {
        return Ok(None);
    }
    let lat: Vec<f64> = lats.iter().step_by(nx).copied().collect();
    let lon = lons[..nx].to_vec();
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
    let rows_are_one_latitude = lats
        .chunks_exact(nx)
        .zip(&lat)
        .all(|(row, &v)| row.iter().all(|&x| same(x, v)));
    let columns_are_one_longitude = lons
        .chunks_exact(nx)
        .all(|row| row.iter().zip(&lon).all(|(&x, &v)| same(x, v)));
    let lat_ordered = lat.windows(2).all(|w| {
        if south_to_north {
            w[0] < w[1]
        } else {
            w[0] > w[1]
        }
    });
    let lon_ordered = lon.windows(2).all(|w| w[0] < w[1]);
    Ok(
        (rows_are_one_latitude && columns_are_one_longitude && lat_ordered && lon_ordered)
            .then_some((lat, lon)),
    )
}

#[cfg(test)]
mod tests {
    use super::super::ffi::{SetValue, message_from_sample, with_message};
    use super::*;

    /// A 8 × 5 `regular_ll` message scanned as `scan` says, with longitudes from
    /// `lon0` to `lon0 + 315`.
    fn grid(scan: &[(&'static str, i64)], lat: (f64, f64), lon0: f64) -> Vec<u8> {
        let mut keys = vec![
            ("Ni", SetValue::Long(8)),
            ("Nj", SetValue::Long(5)),
            ("latitudeOfFirstGridPointInDegrees", SetValue::Double(lat.0)),
            ("latitudeOfLastGridPointInDegrees", SetValue::Double(lat.1)),
            ("longitudeOfFirstGridPointInDegrees", SetValue::Double(lon0)),
            (
                "longitudeOfLastGridPointInDegrees",
                SetValue::Double(lon0 + 315.0),
            ),
            ("iDirectionIncrementInDegrees", SetValue::Double(45.0)),
            ("jDirectionIncrementInDegrees", SetValue::Double(45.0)),
        ];
        keys.extend(scan.iter().map(|&(k, v)| (k, SetValue::Long(v))));
        message_from_sample("regular_ll_sfc_grib2", &keys, Some(&[1.0; 40])).unwrap()
    }

    /// Scanning keys set, first and last latitude, first longitude, and whether the
    /// axes can be read off the points.
    type Case = (&'static [(&'static str, i64)], (f64, f64), f64, bool);

    /// Whatever the scanning order, the axes are ecCodes' own distinct lists, and
    /// the points are used where they show them.
    #[test]
    fn axes_are_eccodes_distinct_lists_in_every_scanning_order() {
        let cases: [Case; 6] = [
            (&[], (90.0, -90.0), 0.0, true),
            (&[("jScansPositively", 1)], (-90.0, 90.0), 0.0, true),
            (&[("iScansNegatively", 1)], (90.0, -90.0), 315.0, false),
            (&[("jPointsAreConsecutive", 1)], (90.0, -90.0), 0.0, false),
            // Longitudes from 180° wrap past 360°.
            (&[], (90.0, -90.0), 180.0, true),
            (
                &[("jScansPositively", 1), ("iScansNegatively", 1)],
                (-90.0, 90.0),
                315.0,
                false,
            ),
        ];
        for (scan, lat, lon0, from_points) in cases {
            let bytes = grid(scan, lat, lon0);
            with_message(&bytes, |m| {
                let south_to_north = m.long("jScansPositively")? == Some(1);
                let axes = regular_axes(m, 8, 5, south_to_north)?;
                let lat = m.doubles_up_to("distinctLatitudes", 5)?.unwrap();
                let lon = m.doubles_up_to("distinctLongitudes", 8)?.unwrap();
                assert_eq!(axes, (lat, lon), "{scan:?} from {lon0}");
                assert_eq!(
                    axes_from_points(m, 8, 5, south_to_north)?.is_some(),
                    from_points,
                    "{scan:?} from {lon0}"
                );
                Ok(())
            })
            .unwrap();
        }
    }
}
