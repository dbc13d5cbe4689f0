//! Geographic bounding boxes in degrees. A box whose west lies east of its east
//! crosses the antimeridian (as in GeoJSON and STAC).

use thiserror::Error;

/// Why four numbers are not a bounding box.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BBoxError {
    #[error("bbox: {0} is not a finite number")]
    NotFinite(&'static str),
    #[error("bbox: south {south} is north of north {north}")]
    Inverted { south: f64, north: f64 },
}

/// West, south, east, north in degrees. `west > east` means the box crosses the
/// antimeridian.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    west: f64,
    south: f64,
    east: f64,
    north: f64,
}

/// One longitude interval `[lo, hi]` with `lo <= hi`, for boxes split at the antimeridian.
type LonPart = (f64, f64);

impl BBox {
    /// Rejects non-finite values and a south north of north; longitudes are kept as
    /// given (a west east of east crosses the antimeridian).
    pub fn new(west: f64, south: f64, east: f64, north: f64) -> Result<BBox, BBoxError> {
        for (name, v) in [
            ("west", west),
            ("south", south),
            ("east", east),
            ("north", north),
        ] {
            if !v.is_finite() {
                return Err(BBoxError::NotFinite(name));
            }
        }
        if south > north {
            return Err(BBoxError::Inverted { south, north });
        }
        Ok(BBox {
            west,
            south,
            east,
            north,
        })
    }

    /// The whole earth.
    pub fn world() -> BBox {
        BBox {
            west: -180.0,
            south: -90.0,
            east: 180.0,
            north: 90.0,
        }
    }

    /// The box of data whose longitudes span `[lon_min, lon_max]` in either the
    /// -180..180 or the 0..360 convention, in -180..180 longitudes, latitudes clamped
    /// to ±90. Data east of 180 is moved west by a turn; data on both sides of 180, or
    /// spanning (almost) the whole circle, gets the whole longitude range.
    pub fn of_data(
        lon_min: f64,
        lat_min: f64,
        lon_max: f64,
        lat_max: f64,
    ) -> Result<BBox, BBoxError> {
        let (w, e) = if lon_max > 180.0 {
            if lon_max - lon_min >= 359.0 || lon_min < 180.0 {
                (-180.0, 180.0)
            } else {
                (lon_min - 360.0, lon_max - 360.0)
            }
        } else {
            (lon_min, lon_max)
        };
        BBox::new(w, lat_min.max(-90.0), e, lat_max.min(90.0))
    }

    pub fn west(&self) -> f64 {
        self.west
    }
    pub fn south(&self) -> f64 {
        self.south
    }
    pub fn east(&self) -> f64 {
        self.east
    }
    pub fn north(&self) -> f64 {
        self.north
    }

    /// `[west, south, east, north]`, the GeoJSON/STAC order.
    pub fn to_array(&self) -> [f64; 4] {
        [self.west, self.south, self.east, self.north]
    }

    pub fn crosses_antimeridian(&self) -> bool {
        self.west > self.east
    }

    /// The longitude intervals of the box: one, or two when it crosses the antimeridian.
    fn lon_parts(&self) -> Vec<LonPart> {
        if self.crosses_antimeridian() {
            vec![(self.west, 180.0), (-180.0, self.east)]
        } else {
            vec![(self.west, self.east)]
        }
    }

    fn lats_overlap(&self, other: &BBox) -> bool {
        self.south <= other.north && self.north >= other.south
    }

    /// Whether the boxes share at least a point (edges included).
    pub fn intersects(&self, other: &BBox) -> bool {
        self.lats_overlap(other)
            && self
                .lon_parts()
                .iter()
                .any(|a| other.lon_parts().iter().any(|b| a.0 <= b.1 && a.1 >= b.0))
    }

    /// The overlap of two boxes: none, one box, or two when a box crossing the
    /// antimeridian meets one reaching both of its ends.
    pub fn intersection(&self, other: &BBox) -> Vec<BBox> {
        if !self.lats_overlap(other) {
            return Vec::new();
        }
        let (s, n) = (self.south.max(other.south), self.north.min(other.north));
        let mut parts: Vec<LonPart> = Vec::new();
        for a in self.lon_parts() {
            for b in other.lon_parts() {
                let (lo, hi) = (a.0.max(b.0), a.1.min(b.1));
                if lo <= hi {
                    parts.push((lo, hi));
                }
            }
        }
        // The halves of a box crossing the antimeridian meet again at ±180.
        if let (Some(east_half), Some(west_half)) = (
            parts.iter().position(|p| p.1 == 180.0),
            parts.iter().position(|p| p.0 == -180.0),
        ) && parts.len() == 2
            && east_half != west_half
        {
            let (w, e) = (parts[east_half].0, parts[west_half].1);
            return vec![BBox {
                west: w,
                south: s,
                east: e,
                north: n,
            }];
        }
        parts
            .into_iter()
            .map(|(w, e)| BBox {
                west: w,
                south: s,
                east: e,
                north: n,
            })
            .collect()
    }

    /// The smallest box covering both. Boxes that do not cross the antimeridian give
    /// one that does not either (their plain min/max); otherwise the shorter way round,
    /// the whole longitude range when that covers the circle.
    pub fn union(&self, other: &BBox) -> BBox {
        let (s, n) = (self.south.min(other.south), self.north.max(other.north));
        if !self.crosses_antimeridian() && !other.crosses_antimeridian() {
            return BBox {
                west: self.west.min(other.west),
                south: s,
                east: self.east.max(other.east),
                north: n,
            };
        }
        // Unwrapped intervals (east >= west), the other shifted by whole turns.
        let unwrap = |b: &BBox| {
            let e = if b.crosses_antimeridian() {
                b.east + 360.0
            } else {
                b.east
            };
            (b.west, e)
        };
        let (aw, ae) = unwrap(self);
        let (bw, be) = unwrap(other);
        let (w, e) = [-360.0, 0.0, 360.0]
            .into_iter()
            .map(|k| (aw.min(bw + k), ae.max(be + k)))
            .min_by(|x, y| (x.1 - x.0).total_cmp(&(y.1 - y.0)))
            .unwrap_or((aw, ae));
        if e - w >= 360.0 {
            return BBox {
                west: -180.0,
                south: s,
                east: 180.0,
                north: n,
            };
        }
        let signed = |x: f64| (x + 180.0).rem_euclid(360.0) - 180.0;
        let east = signed(e);
        BBox {
            west: signed(w),
            south: s,
            east: if east == -180.0 { 180.0 } else { east },
            north: n,
        }
    }

    /// Whether the point lies in the box (edges included); `lon` in -180..180.
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        lat >= self.south
            && lat <= self.north
            && self
                .lon_parts()
                .iter()
                .any(|&(lo, hi)| lon >= lo && lon <= hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(w: f64, s: f64, e: f64, n: f64) -> BBox {
        BBox::new(w, s, e, n).unwrap()
    }

    #[test]
    fn rejects_nan_infinite_and_inverted() {
        assert_eq!(
            BBox::new(f64::NAN, 0.0, 1.0, 1.0),
            Err(BBoxError::NotFinite("west"))
        );
        assert_eq!(
            BBox::new(0.0, 0.0, 1.0, f64::INFINITY),
            Err(BBoxError::NotFinite("north"))
        );
        assert!(matches!(
            BBox::new(0.0, 5.0, 1.0, 4.0),
            Err(BBoxError::Inverted { .. })
        ));
        // West east of east is not an error: the box crosses the antimeridian.
        assert!(b(170.0, 0.0, -170.0, 1.0).crosses_antimeridian());
    }

    #[test]
    fn of_data_brings_0_360_into_signed_longitudes() {
        assert_eq!(
            BBox::of_data(190.0, -95.0, 200.0, 10.0).unwrap().to_array(),
            [-170.0, -90.0, -160.0, 10.0]
        );
        assert_eq!(
            BBox::of_data(0.0, 0.0, 359.0, 1.0).unwrap().to_array(),
            [-180.0, 0.0, 180.0, 1.0]
        );
        assert_eq!(
            BBox::of_data(170.0, 0.0, 190.0, 1.0).unwrap().to_array(),
            [-180.0, 0.0, 180.0, 1.0]
        );
        assert_eq!(
            BBox::of_data(-10.0, 0.0, 10.0, 1.0).unwrap().to_array(),
            [-10.0, 0.0, 10.0, 1.0]
        );
    }

    #[test]
    fn union_of_plain_boxes_is_min_max() {
        let u = b(-170.0, -10.0, -160.0, 0.0).union(&b(160.0, 0.0, 170.0, 20.0));
        assert_eq!(u.to_array(), [-170.0, -10.0, 170.0, 20.0]);
    }

    #[test]
    fn union_across_the_antimeridian_goes_the_short_way() {
        let u = b(170.0, 0.0, -170.0, 1.0).union(&b(-175.0, -5.0, -160.0, 0.5));
        assert_eq!(u.to_array(), [170.0, -5.0, -160.0, 1.0]);
        let u = b(150.0, 0.0, 160.0, 1.0).union(&b(170.0, 0.0, -170.0, 1.0));
        assert_eq!(u.to_array(), [150.0, 0.0, -170.0, 1.0]);
        let u = b(10.0, 0.0, -10.0, 1.0).union(&b(-20.0, 0.0, 20.0, 1.0));
        assert_eq!(u.to_array(), [-180.0, 0.0, 180.0, 1.0]);
    }

    #[test]
    fn intersection_and_intersects() {
        let a = b(0.0, 0.0, 10.0, 10.0);
        assert_eq!(
            a.intersection(&b(5.0, 5.0, 20.0, 20.0)),
            vec![b(5.0, 5.0, 10.0, 10.0)]
        );
        assert!(a.intersection(&b(11.0, 0.0, 20.0, 10.0)).is_empty());
        assert!(!a.intersects(&b(11.0, 0.0, 20.0, 10.0)));
        assert!(!a.intersects(&b(0.0, 11.0, 10.0, 20.0)));
        assert!(a.intersects(&b(10.0, 10.0, 20.0, 20.0)));
        // A query crossing the antimeridian.
        let q = b(170.0, -5.0, 5.0, 5.0);
        assert!(q.intersects(&a));
        assert!(q.intersects(&b(175.0, 0.0, 178.0, 1.0)));
        assert!(!q.intersects(&b(6.0, 0.0, 169.0, 1.0)));
        assert_eq!(q.intersection(&a), vec![b(0.0, 0.0, 5.0, 5.0)]);
        // Two boxes crossing it overlap in one box crossing it.
        assert_eq!(
            q.intersection(&b(160.0, -1.0, -170.0, 1.0)),
            vec![b(170.0, -1.0, -170.0, 1.0)]
        );
        // A box reaching both ends of a crossing one: two pieces.
        assert_eq!(
            b(-170.0, 0.0, 170.0, 1.0).intersection(&b(160.0, 0.0, -160.0, 1.0)),
            vec![b(160.0, 0.0, 170.0, 1.0), b(-170.0, 0.0, -160.0, 1.0)]
        );
    }

    #[test]
    fn contains_points() {
        let q = b(170.0, -5.0, -170.0, 5.0);
        assert!(q.contains(175.0, 0.0));
        assert!(q.contains(-175.0, 5.0));
        assert!(!q.contains(0.0, 0.0));
        assert!(!q.contains(175.0, 6.0));
        assert!(b(0.0, 0.0, 1.0, 1.0).contains(1.0, 0.0));
    }
}
