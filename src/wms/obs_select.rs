//! Which observations of an observation layer a map shows: the features in view, the
//! observations TIME and ELEVATION pick from each, and where they fall on the image.
//! Works on the feature index alone (no file read), so a map's cost is known before
//! anything is read.

use crate::features::{Feature, FeatureIndex};

use super::render::MapView;

/// A station's latest value is looked for among its last this many selected
/// observations (missing values at the end of a record are skipped, not a whole
/// record read).
pub const STATION_TAIL: usize = 64;

/// Which observations TIME selects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeSelection {
    /// No TIME: every observation (a station shows its latest value, a track is drawn
    /// whole).
    All,
    /// `start/end` in the time variable's units, both inclusive.
    Range(f64, f64),
    /// One time: each feature's observation nearest it, if the feature was observing
    /// then (within half its mean spacing).
    Instant(f64),
}

/// The observations of one feature a map shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    /// Index into `FeatureIndex::features`.
    pub feature: usize,
    /// Observations (indices into the feature's rows): a fixed feature's in time
    /// order, a track's in its own order.
    pub picks: Vec<usize>,
    /// Image position (pixels, x right, y down) of each pick.
    pub pixels: Vec<[f32; 2]>,
    /// A feature at one place (drawn as a dot) rather than a track.
    pub fixed: bool,
}

#[derive(Debug, Default)]
pub struct Selection {
    pub items: Vec<Selected>,
    pub observations: usize,
}

/// Where (lon, lat) falls on the image; longitudes are shifted by a turn when the
/// view's CRS is geographic or Web Mercator and the shifted point lies nearer the
/// view (maps across the antimeridian).
fn project(view: &MapView, lon: f64, lat: f64, shift: f64) -> Option<[f32; 2]> {
    let (x, y) = view.crs.from_lonlat(lon + shift, lat)?;
    let b = view.bbox;
    let px = (x - b[0]) / (b[2] - b[0]) * view.width as f64;
    let py = (b[3] - y) / (b[3] - b[1]) * view.height as f64;
    (px.is_finite() && py.is_finite()).then_some([px as f32, py as f32])
}

/// The turn (−360, 0, +360) that brings `lon` nearest the view's centre.
fn best_shift(view: &MapView, lon: f64, lat: f64) -> f64 {
    if !view.crs.is_separable() {
        return 0.0;
    }
    let centre = view.width as f32 / 2.0;
    [0.0, -360.0, 360.0]
        .into_iter()
        .filter_map(|s| project(view, lon, lat, s).map(|p| (s, (p[0] - centre).abs())))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0.0, |(s, _)| s)
}

fn inside(p: [f32; 2], view: &MapView, margin: f32) -> bool {
    p[0] >= -margin
        && p[1] >= -margin
        && p[0] <= view.width as f32 + margin
        && p[1] <= view.height as f32 + margin
}

/// Several distinct levels at one place (a profile): ELEVATION picks among them.
pub fn has_levels(f: &Feature) -> bool {
    f.is_fixed() && {
        let mut zs = f.z.iter().filter(|z| z.is_finite());
        zs.next()
            .is_some_and(|first| f.z.iter().any(|z| z.is_finite() && z != first))
    }
}

/// The observations of `f` that TIME selects.
fn by_time(f: &Feature, time: TimeSelection) -> Vec<usize> {
    let n = f.len();
    match time {
        TimeSelection::All => (0..n).collect(),
        TimeSelection::Range(a, b) => (0..n)
            .filter(|&k| {
                let t = f.t(k);
                t >= a && t <= b
            })
            .collect(),
        TimeSelection::Instant(x) => {
            let Some((lo, hi)) = f.time_span else {
                return Vec::new();
            };
            let Some(nearest) = (0..n)
                .map(|k| f.t(k))
                .filter(|t| t.is_finite())
                .min_by(|a, b| (a - x).abs().total_cmp(&(b - x).abs()))
            else {
                return Vec::new();
            };
            // Half the mean spacing of its observation times, as for gridded layers.
            let distinct = if f.t.len() <= 1 { 1 } else { n };
            let tolerance = if distinct > 1 && hi > lo {
                (hi - lo) / (distinct - 1) as f64 / 2.0
            } else {
                1e-6 * x.abs().max(1.0)
            };
            if (nearest - x).abs() > tolerance {
                return Vec::new();
            }
            (0..n).filter(|&k| f.t(k) == nearest).collect()
        }
    }
}

/// Keeps the observations at the level nearest `z`.
fn by_level(f: &Feature, picks: Vec<usize>, z: f64) -> Vec<usize> {
    let Some(nearest) = picks
        .iter()
        .map(|&k| f.z(k))
        .filter(|v| v.is_finite())
        .min_by(|a, b| (a - z).abs().total_cmp(&(b - z).abs()))
    else {
        return Vec::new();
    };
    picks.into_iter().filter(|&k| f.z(k) == nearest).collect()
}

/// The observations of `index` the map `view` shows for TIME and ELEVATION (`level`),
/// with a `margin` in pixels around the image (a dot's radius).
pub fn select(
    index: &FeatureIndex,
    view: &MapView,
    time: TimeSelection,
    level: Option<f64>,
    margin: f32,
) -> Selection {
    let mut out = Selection::default();
    for (fi, f) in index.features.iter().enumerate() {
        let fixed = f.is_fixed();
        // A fixed feature off the image is skipped before its times are looked at.
        let Some((lon0, lat0)) = (0..f.x.len().max(1))
            .map(|k| (f.x(k), f.y(k)))
            .find(|p| p.0.is_finite() && p.1.is_finite())
        else {
            continue;
        };
        let shift = best_shift(view, lon0, lat0);
        let here = if fixed {
            match project(view, lon0, lat0, shift) {
                Some(p) if inside(p, view, margin) => Some(p),
                _ => continue,
            }
        } else {
            None
        };
        let mut picks = by_time(f, time);
        if let Some(z) = level
            && has_levels(f)
        {
            picks = by_level(f, picks, z);
        }
        if picks.is_empty() {
            continue;
        }
        let (picks, pixels) = match here {
            Some(p) => {
                picks.sort_by(|&a, &b| f.t(a).total_cmp(&f.t(b)));
                let tail = picks.split_off(picks.len().saturating_sub(STATION_TAIL));
                let pixels = vec![p; tail.len()];
                (tail, pixels)
            }
            None => {
                let mut kept = Vec::with_capacity(picks.len());
                let mut pixels = Vec::with_capacity(picks.len());
                for k in picks {
                    if let Some(p) = project(view, f.x(k), f.y(k), shift) {
                        kept.push(k);
                        pixels.push(p);
                    }
                }
                // Drawn if the box of its positions meets the image.
                let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
                for p in &pixels {
                    lo = [lo[0].min(p[0]), lo[1].min(p[1])];
                    hi = [hi[0].max(p[0]), hi[1].max(p[1])];
                }
                let meets = hi[0] >= -margin
                    && hi[1] >= -margin
                    && lo[0] <= view.width as f32 + margin
                    && lo[1] <= view.height as f32 + margin;
                if kept.is_empty() || !meets {
                    continue;
                }
                (kept, pixels)
            }
        };
        out.observations += picks.len();
        out.items.push(Selected {
            feature: fi,
            picks,
            pixels,
            fixed,
        });
    }
    out
}

/// Distance from `p` to the segment `a`–`b`, and whether `a` is the nearer end.
fn to_segment(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> (f32, bool) {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let s = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (cx, cy) = (a[0] + s * dx, a[1] + s * dy);
    ((p[0] - cx).hypot(p[1] - cy), s <= 0.5)
}

/// The selected feature nearest the image point `p` within `tolerance` pixels: its
/// position in `sel.items` and, for a track, the observation (index into its picks)
/// nearest `p`; `None` for a fixed feature (its shown value decides).
pub fn nearest(sel: &Selection, p: [f32; 2], tolerance: f32) -> Option<(usize, Option<usize>)> {
    let mut best: Option<(f32, usize, Option<usize>)> = None;
    for (i, item) in sel.items.iter().enumerate() {
        let candidate = if item.fixed || item.pixels.len() == 1 {
            let q = item.pixels[0];
            let d = (p[0] - q[0]).hypot(p[1] - q[1]);
            (d, (!item.fixed).then_some(0))
        } else {
            item.pixels
                .windows(2)
                .enumerate()
                .map(|(k, w)| {
                    let (d, first) = to_segment(p, w[0], w[1]);
                    (d, Some(if first { k } else { k + 1 }))
                })
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .unwrap_or((f32::INFINITY, None))
        };
        if candidate.0 <= tolerance && best.is_none_or(|b| candidate.0 < b.0) {
            best = Some((candidate.0, i, candidate.1));
        }
    }
    best.map(|(_, i, k)| (i, k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::build_index;
    use crate::features::testing::{profiles, stations, tracks};
    use crate::wms::crs::Crs;

    fn world(width: u32, height: u32) -> MapView {
        MapView {
            crs: Crs::parse("CRS:84").unwrap(),
            bbox: [-180.0, -90.0, 180.0, 90.0],
            width,
            height,
        }
    }

    async fn index(m: crate::features::testing::Mem) -> FeatureIndex {
        build_index(&m, &m.meta).await.unwrap()
    }

    #[tokio::test]
    async fn stations_in_view_at_their_positions() {
        let ix = index(stations()).await;
        let view = world(360, 180);
        let sel = select(&ix, &view, TimeSelection::All, None, 5.0);
        assert_eq!(sel.items.len(), 3);
        assert_eq!(sel.observations, 12);
        // Station A at (-5, 10): pixel (175, 80).
        assert_eq!(sel.items[0].pixels[0], [175.0, 80.0]);
        assert!(sel.items.iter().all(|s| s.fixed));
        // Station C at 350°E is drawn at -10°.
        assert_eq!(sel.items[2].pixels[0], [170.0, 60.0]);
        // A view around station B only.
        let b = MapView {
            bbox: [0.0, 15.0, 10.0, 25.0],
            ..world(100, 100)
        };
        let sel = select(&ix, &b, TimeSelection::All, None, 5.0);
        assert_eq!(sel.items.len(), 1);
        assert_eq!(ix.features[sel.items[0].feature].id, "B");
    }

    #[tokio::test]
    async fn time_selects_observations() {
        let ix = index(stations()).await;
        let view = world(360, 180);
        let sel = select(&ix, &view, TimeSelection::Range(1.0, 2.0), None, 5.0);
        assert_eq!(sel.items[0].picks, vec![1, 2]);
        let sel = select(&ix, &view, TimeSelection::Instant(2.2), None, 5.0);
        assert_eq!(sel.items[0].picks, vec![2]);
        // Beyond half a spacing after the record: nothing.
        let sel = select(&ix, &view, TimeSelection::Instant(3.6), None, 5.0);
        assert!(sel.items.is_empty());
        let sel = select(&ix, &view, TimeSelection::Range(5.0, 6.0), None, 5.0);
        assert!(sel.items.is_empty());
    }

    #[tokio::test]
    async fn profiles_pick_the_nearest_level() {
        let ix = index(profiles(&[3, 2])).await;
        let view = world(360, 180);
        let sel = select(&ix, &view, TimeSelection::All, Some(9.0), 5.0);
        assert_eq!(sel.items[0].picks, vec![1]); // 10 m
        assert_eq!(sel.items[1].picks, vec![1]); // 5 m
        let sel = select(&ix, &view, TimeSelection::Instant(11.0), Some(0.0), 5.0);
        assert_eq!(sel.items.len(), 1);
        assert_eq!(ix.features[sel.items[0].feature].id, "102");
    }

    #[tokio::test]
    async fn tracks_and_the_nearest_observation() {
        let ix = index(tracks(&[0, 1, 0, 1, 0])).await;
        let view = world(360, 180);
        let sel = select(&ix, &view, TimeSelection::All, None, 5.0);
        assert_eq!(sel.items.len(), 2);
        let g1 = &sel.items[0];
        assert!(!g1.fixed);
        assert_eq!(g1.picks, vec![0, 1, 2]);
        assert_eq!(g1.pixels[2], [182.0, 88.0]);
        // Near g1's second observation (1°, 1°).
        assert_eq!(nearest(&sel, [181.2, 89.0], 4.0), Some((0, Some(1))));
        // Nothing near the south pole.
        assert_eq!(nearest(&sel, [10.0, 170.0], 4.0), None);
        let sel = select(&ix, &view, TimeSelection::Range(1.0, 2.0), None, 5.0);
        assert_eq!(sel.items[0].picks, vec![1, 2]);
        assert_eq!(sel.observations, 3);
    }
}
