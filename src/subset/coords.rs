//! Coordinate → index selection on 1-D axes: value ranges, nearest points, longitudes.

use super::SubsetError;

/// A 1-D coordinate axis with monotonic values (ascending or descending).
#[derive(Debug, Clone, PartialEq)]
pub struct CoordAxis {
    values: Vec<f64>,
    ascending: bool,
    /// The step of an evenly spaced axis (every value within a quarter step of
    /// `first + k × step`): nearest values are then found by arithmetic, not search
    /// (a reprojected map locates millions of pixels).
    step: Option<f64>,
}

impl CoordAxis {
    /// Fails if the values are not strictly monotonic or contain NaN.
    pub fn new(values: Vec<f64>) -> Result<CoordAxis, SubsetError> {
        if values.iter().any(|v| !v.is_finite()) {
            return Err(SubsetError::Coordinate(
                "coordinate has missing values".into(),
            ));
        }
        let ascending = values.len() < 2 || values[1] > values[0];
        let monotonic = values
            .windows(2)
            .all(|w| if ascending { w[1] > w[0] } else { w[1] < w[0] });
        if !monotonic {
            return Err(SubsetError::Coordinate(
                "coordinate is not monotonic".into(),
            ));
        }
        let step = even_step(&values);
        Ok(CoordAxis {
            values,
            ascending,
            step,
        })
    }

    pub fn values(&self) -> &[f64] {
        &self.values
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn is_ascending(&self) -> bool {
        self.ascending
    }

    /// (min, max) of the values.
    pub fn bounds(&self) -> Option<(f64, f64)> {
        let (a, b) = (*self.values.first()?, *self.values.last()?);
        Some((a.min(b), a.max(b)))
    }

    /// Index range (inclusive) of the values within `[lo, hi]`; `None` if none are.
    pub fn index_range(&self, lo: f64, hi: f64) -> Option<(usize, usize)> {
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        let inside: Vec<usize> = if self.ascending {
            let a = self.values.partition_point(|v| *v < lo);
            let b = self.values.partition_point(|v| *v <= hi);
            (a..b).collect()
        } else {
            let a = self.values.partition_point(|v| *v > hi);
            let b = self.values.partition_point(|v| *v >= lo);
            (a..b).collect()
        };
        Some((*inside.first()?, *inside.last()?))
    }

    /// Index of the value nearest `x` (ties to the lower index).
    pub fn nearest(&self, x: f64) -> Option<usize> {
        if self.values.is_empty() || !x.is_finite() {
            return None;
        }
        let distance = |i: usize| (self.values[i] - x).abs();
        let closer = |&a: &usize, &b: &usize| {
            distance(a)
                .partial_cmp(&distance(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        };
        if let Some(step) = self.step {
            // The estimate is the nearest index or next to it (values lie within a
            // quarter step of the even grid): the three settle it exactly, as the
            // search would (`min_by` keeps the first, lower, index on ties).
            let last = self.values.len() - 1;
            let guess = ((x - self.values[0]) / step)
                .round()
                .clamp(0.0, last as f64) as usize;
            return (guess.saturating_sub(1)..=(guess + 1).min(last)).min_by(closer);
        }
        let p = if self.ascending {
            self.values.partition_point(|v| *v < x)
        } else {
            self.values.partition_point(|v| *v > x)
        };
        let candidates = [p.checked_sub(1), Some(p).filter(|&i| i < self.values.len())];
        candidates.into_iter().flatten().min_by(closer)
    }

    /// Index of the value nearest `x`, only if `x` lies within the axis' extent
    /// widened by half a cell at each end.
    pub fn nearest_within(&self, x: f64) -> Option<usize> {
        let (lo, hi) = self.bounds()?;
        let half = if self.values.len() > 1 {
            (hi - lo) / (self.values.len() - 1) as f64 / 2.0
        } else {
            0.0
        };
        if x < lo - half || x > hi + half {
            return None;
        }
        self.nearest(x)
    }
}

/// The step of evenly spaced values (each within a quarter step of where an even
/// grid from the first to the last value puts it), if they are.
fn even_step(values: &[f64]) -> Option<f64> {
    let n = values.len();
    if n < 3 {
        return None;
    }
    let step = (values[n - 1] - values[0]) / (n - 1) as f64;
    let even = step != 0.0
        && step.is_finite()
        && values
            .iter()
            .enumerate()
            .all(|(k, v)| (v - (values[0] + k as f64 * step)).abs() <= 0.25 * step.abs());
    even.then_some(step)
}

/// Longitude conventions of an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LonConvention {
    /// Values within -180..180.
    Signed,
    /// Values within 0..360 (some above 180).
    Positive,
}

impl LonConvention {
    pub fn of(values: &[f64]) -> LonConvention {
        if values.iter().any(|v| *v > 180.0) {
            LonConvention::Positive
        } else {
            LonConvention::Signed
        }
    }

    /// Brings a longitude into this convention.
    pub fn normalize(self, lon: f64) -> f64 {
        match self {
            LonConvention::Positive => lon.rem_euclid(360.0),
            LonConvention::Signed => {
                let x = (lon + 180.0).rem_euclid(360.0) - 180.0;
                if x == -180.0 && lon > 0.0 { 180.0 } else { x }
            }
        }
    }
}

/// Index ranges (inclusive) of a longitude axis within `[west, east]` given in any
/// convention; two ranges when the interval crosses the axis' seam. An interval of
/// 360° or more selects everything.
pub fn lon_index_ranges(axis: &CoordAxis, west: f64, east: f64) -> Vec<(usize, usize)> {
    if axis.is_empty() {
        return Vec::new();
    }
    if east - west >= 360.0 {
        return vec![(0, axis.len() - 1)];
    }
    let conv = LonConvention::of(axis.values());
    let (w, e) = (conv.normalize(west), conv.normalize(east));
    if w <= e {
        axis.index_range(w, e).into_iter().collect()
    } else {
        // Crosses the seam: [w, seam end] and [seam start, e].
        let (lo, hi) = match conv {
            LonConvention::Positive => (0.0, 360.0),
            LonConvention::Signed => (-180.0, 180.0),
        };
        let mut out: Vec<(usize, usize)> = Vec::new();
        out.extend(axis.index_range(w, hi));
        out.extend(axis.index_range(lo, e));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The arithmetic nearest of even axes answers as the search does, ties included,
    /// on ascending and descending axes, between, on and beyond the values.
    #[test]
    fn even_axes_find_the_nearest_like_the_search() {
        let axes = [
            (0..1440)
                .map(|i| 0.125 + 0.25 * i as f64)
                .collect::<Vec<_>>(),
            (0..720).map(|j| 89.875 - 0.25 * j as f64).collect(),
            (0..50)
                .map(|i| i as f64 * 0.1 + if i % 2 == 0 { 0.02 } else { 0.0 })
                .collect(),
        ];
        for values in axes {
            let fast = CoordAxis::new(values.clone()).unwrap();
            assert!(fast.step.is_some());
            let searched = CoordAxis {
                step: None,
                ..fast.clone()
            };
            let (lo, hi) = fast.bounds().unwrap();
            for k in 0..20_000 {
                let x = lo - 3.0 + (hi - lo + 6.0) * k as f64 / 19_999.0;
                assert_eq!(fast.nearest(x), searched.nearest(x), "{x}");
            }
            // Exactly between two values: the lower index.
            let mid = (values[3] + values[4]) / 2.0;
            assert_eq!(fast.nearest(mid), searched.nearest(mid));
        }
        let uneven = CoordAxis::new(vec![0.0, 1.0, 2.0, 10.0, 11.0]).unwrap();
        assert!(uneven.step.is_none());
    }

    #[test]
    fn ranges_ascending_and_descending() {
        let asc = CoordAxis::new(vec![0.0, 10.0, 20.0, 30.0]).unwrap();
        assert_eq!(asc.index_range(5.0, 25.0), Some((1, 2)));
        assert_eq!(asc.index_range(25.0, 5.0), Some((1, 2)));
        assert_eq!(asc.index_range(31.0, 40.0), None);
        let desc = CoordAxis::new(vec![45.0, 15.0, -15.0, -45.0]).unwrap();
        assert_eq!(desc.index_range(-20.0, 20.0), Some((1, 2)));
        assert_eq!(desc.index_range(-45.0, 45.0), Some((0, 3)));
        assert_eq!(desc.nearest(40.0), Some(0));
        assert_eq!(desc.nearest(-100.0), Some(3));
        assert_eq!(desc.nearest_within(-100.0), None);
        assert_eq!(asc.nearest(14.0), Some(1));
        assert_eq!(asc.nearest(16.0), Some(2));
    }

    #[test]
    fn rejects_non_monotonic() {
        assert!(CoordAxis::new(vec![0.0, 2.0, 1.0]).is_err());
        assert!(CoordAxis::new(vec![0.0, f64::NAN]).is_err());
    }

    #[test]
    fn longitudes() {
        assert_eq!(LonConvention::Positive.normalize(-10.0), 350.0);
        assert_eq!(LonConvention::Signed.normalize(350.0), -10.0);
        assert_eq!(LonConvention::Signed.normalize(180.0), 180.0);
        let pos = CoordAxis::new((0..36).map(|i| i as f64 * 10.0).collect()).unwrap();
        // -20..20 on a 0..360 axis: 340, 350 and 0, 10, 20.
        assert_eq!(lon_index_ranges(&pos, -20.0, 20.0), vec![(34, 35), (0, 2)]);
        let signed = CoordAxis::new((0..36).map(|i| -180.0 + i as f64 * 10.0).collect()).unwrap();
        // 170..190 on a -180..180 axis: 170 and -180, -170.
        assert_eq!(
            lon_index_ranges(&signed, 170.0, 190.0),
            vec![(35, 35), (0, 1)]
        );
        assert_eq!(lon_index_ranges(&signed, 350.0, 355.0), vec![(17, 17)]); // -10
        assert_eq!(
            lon_index_ranges(&signed, 351.0, 355.0),
            Vec::<(usize, usize)>::new()
        );
        assert_eq!(lon_index_ranges(&signed, -180.0, 180.0), vec![(0, 35)]);
    }
}
