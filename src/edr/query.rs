//! Running a query's geometry: cost caps decided before any cell is tested, the work
//! on the blocking pool, stopped when the client goes away.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::collection::{Collection, Horizontal};
use super::coverage::Coverage;
use super::error::{EdrError, EdrResult};
use super::geometry::{self, Geometry, Pos};
use super::params::{self, Params};
use super::select::{self, Common};
use crate::subset::lon_index_ranges;

fn coords(params: &Params) -> EdrResult<Geometry> {
    let c = params
        .get("coords")
        .ok_or_else(|| EdrError::bad("coords is required (a WKT geometry)"))?;
    geometry::parse(c)
}

/// Degrees of latitude and longitude spanned by `km` at latitude `lat`.
fn degrees(km: f64, lat: f64) -> (f64, f64) {
    let per_deg = geometry::EARTH_RADIUS_KM.to_radians();
    let dlat = km / per_deg;
    let reach = (lat.abs() + dlat).min(90.0);
    let dlon = if reach >= 89.999 {
        180.0
    } else {
        (km / (per_deg * reach.to_radians().cos())).min(180.0)
    };
    (dlat, dlon)
}

/// The box around points (longitudes unwrapped next to the first point) grown by km.
fn grown_bbox(pts: &[Pos], km: f64) -> (f64, f64, f64, f64) {
    let x0 = pts[0].x;
    let mut b = (f64::INFINITY, 90.0f64, f64::NEG_INFINITY, -90.0f64);
    let mut prev = x0;
    for p in pts {
        let x = geometry::lon_near(p.x, prev);
        prev = x;
        let (dlat, dlon) = degrees(km, p.y);
        b.0 = b.0.min(x - dlon);
        b.2 = b.2.max(x + dlon);
        b.1 = b.1.min((p.y - dlat).max(-90.0));
        b.3 = b.3.max((p.y + dlat).min(90.0));
    }
    if b.2 - b.0 >= 360.0 {
        b.2 = b.0 + 360.0;
    }
    b
}

/// Runs `work` on the blocking pool (never on the async workers) with a budget whose
/// cancellation flag is set when the client goes away (this future is dropped).
pub(super) async fn with_budget<T, F>(limits: &crate::config::LimitsConfig, work: F) -> EdrResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Budget<'_>) -> EdrResult<T> + Send + 'static,
{
    struct CancelOnDrop(Arc<AtomicBool>);
    impl Drop for CancelOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let cancelled = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancelled.clone());
    let limits = limits.clone();
    tokio::task::spawn_blocking(move || {
        work(&Budget {
            limits: &limits,
            cancelled: &cancelled,
        })
    })
    .await
    .map_err(|e| EdrError::Internal(format!("query task failed: {e}")))?
}

/// Runs a query's geometry on the blocking pool (never on the async workers); when
/// the client goes away (this future is dropped), the work stops at its next cell.
pub(super) async fn off_the_workers(
    col: &Arc<Collection>,
    q: &str,
    params: &Params,
    common: Common,
    limits: &crate::config::LimitsConfig,
) -> EdrResult<Vec<Coverage>> {
    struct CancelOnDrop(Arc<AtomicBool>);
    impl Drop for CancelOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let cancelled = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancelled.clone());
    let max_values = limits.max_answer_values;
    let custom = common.custom.clone();
    let (col, q, params, limits) = (col.clone(), q.to_string(), params.clone(), limits.clone());
    let covs = tokio::task::spawn_blocking(move || {
        let budget = Budget {
            limits: &limits,
            cancelled: &cancelled,
        };
        let covs = run_query(&col, &q, &params, &common, &budget)?;
        super::custom::expand(&col, &custom, covs)
    })
    .await
    .map_err(|e| EdrError::Internal(format!("query task failed: {e}")))??;
    let values = covs
        .iter()
        .map(|c| {
            c.shape()
                .iter()
                .fold(c.params.len() as u64, |n, &k| n.saturating_mul(k as u64))
        })
        .fold(0u64, u64::saturating_add);
    if values > max_values {
        return Err(EdrError::TooLarge {
            bytes: values.saturating_mul(8),
            limit: max_values.saturating_mul(8),
        });
    }
    Ok(covs)
}

/// What a query may spend, and whether its client is still there.
pub(super) struct Budget<'a> {
    pub(super) limits: &'a crate::config::LimitsConfig,
    pub(super) cancelled: &'a AtomicBool,
}

impl Budget<'_> {
    /// Refuses a geometry query whose cells × tests would exceed the limit, before it
    /// runs.
    pub(super) fn check(&self, what: &str, cells: u64, tests_per_cell: u64) -> EdrResult<()> {
        let work = cells.saturating_mul(tests_per_cell.max(1));
        let max = self.limits.max_geometry_work;
        if work > max {
            return Err(EdrError::bad(format!(
                "{what}: the query would test {cells} cells against {tests_per_cell} points or \
                 vertices each ({work} tests), more than this server's limit of {max}; \
                 query a smaller area or a simpler geometry"
            )));
        }
        Ok(())
    }

    /// `inside`, answering "no" at once when the client has gone away.
    fn unless_cancelled<'f>(
        &'f self,
        inside: &'f dyn Fn(f64, f64) -> bool,
    ) -> impl Fn(f64, f64) -> bool + 'f {
        move |x, y| !self.cancelled.load(Ordering::Relaxed) && inside(x, y)
    }
}

fn run_query(
    col: &Collection,
    q: &str,
    params: &Params,
    common: &Common,
    budget: &Budget<'_>,
) -> EdrResult<Vec<Coverage>> {
    let res = (
        params.count("resolution-x")?,
        params.count("resolution-y")?,
        params.count("resolution-z")?,
    );
    match q {
        "position" => {
            params.only(&["coords"])?;
            match coords(params)? {
                Geometry::Points(pts) => select::position(col, common, &pts),
                _ => Err(EdrError::bad(
                    "position: coords must be a POINT or MULTIPOINT",
                )),
            }
        }
        "area" => {
            params.only(&["coords", "resolution-x", "resolution-y"])?;
            let Geometry::Polygons(polys) = coords(params)? else {
                return Err(EdrError::bad(
                    "area: coords must be a POLYGON or MULTIPOLYGON",
                ));
            };
            let (w, s, e, n) = geometry::bounds(polys.iter().flatten().flatten())
                .ok_or_else(|| EdrError::bad("area: empty polygon"))?;
            let vertices = polys.iter().flatten().map(|ring| ring.len() as u64).sum();
            let cells = candidate_cells(col, common, (w, s, e, n), (res.0, res.1));
            budget.check("area", cells, vertices)?;
            let inside = |x: f64, y: f64| polys.iter().any(|p| geometry::polygon_contains(p, x, y));
            let inside = budget.unless_cancelled(&inside);
            select::area(col, common, (w, s, e, n), (res.0, res.1, None), &inside)
        }
        "cube" => {
            params.only(&["bbox", "resolution-x", "resolution-y", "resolution-z"])?;
            let bbox = params
                .get("bbox")
                .ok_or_else(|| EdrError::bad("cube: bbox is required"))?;
            let (w, s, mut e, n, zr) = params::parse_bbox(bbox)?;
            if e < w {
                e += 360.0; // crosses the antimeridian
            }
            let mut c = common.clone();
            if let Some((z0, z1)) = zr
                && c.z.is_none()
            {
                c.z = Some(params::ZSel::Interval(z0.min(z1), z0.max(z1)));
            }
            select::area(col, &c, (w, s, e, n), res, &|_, _| true)
        }
        "radius" => {
            params.only(&["coords", "within", "within-units"])?;
            let Geometry::Points(pts) = coords(params)? else {
                return Err(EdrError::bad(
                    "radius: coords must be a POINT or MULTIPOINT",
                ));
            };
            let within = params
                .number("within")?
                .ok_or_else(|| EdrError::bad("radius: within is required"))?;
            let km = params::distance_km(within, params.get("within-units"), "within")?;
            let bbox = grown_bbox(&pts, km);
            let cells = candidate_cells(col, common, bbox, (None, None));
            budget.check("radius", cells, pts.len() as u64)?;
            let inside = |x: f64, y: f64| {
                pts.iter()
                    .any(|p| geometry::distance_km(p.x, p.y, x, y) <= km)
            };
            let inside = budget.unless_cancelled(&inside);
            select::area(col, common, bbox, (None, None, None), &inside)
        }
        "trajectory" => {
            params.only(&["coords"])?;
            match coords(params)? {
                Geometry::Line(line) => select::trajectory(col, common, &line),
                _ => Err(EdrError::bad("trajectory: coords must be a LINESTRING")),
            }
        }
        "corridor" => {
            params.only(&[
                "coords",
                "corridor-width",
                "width-units",
                "corridor-height",
                "height-units",
                "resolution-x",
                "resolution-y",
            ])?;
            let Geometry::Line(line) = coords(params)? else {
                return Err(EdrError::bad("corridor: coords must be a LINESTRING"));
            };
            let width = params
                .number("corridor-width")?
                .ok_or_else(|| EdrError::bad("corridor: corridor-width is required"))?;
            let half =
                params::distance_km(width, params.get("width-units"), "corridor-width")? / 2.0;
            let mut c = common.clone();
            if let Some(h) = params.number("corridor-height")? {
                if h < 0.0 {
                    return Err(EdrError::bad("corridor-height must not be negative"));
                }
                let zs: Vec<f64> = line.iter().filter_map(|p| p.z).collect();
                if let (Some(lo), Some(hi)) = (
                    zs.iter().copied().reduce(f64::min),
                    zs.iter().copied().reduce(f64::max),
                ) && c.z.is_none()
                {
                    c.z = Some(params::ZSel::Interval(lo - h / 2.0, hi + h / 2.0));
                }
            }
            let bbox = grown_bbox(&line, half);
            let cells = candidate_cells(col, &c, bbox, (res.0, res.1));
            budget.check("corridor", cells, line.len() as u64)?;
            let inside = |x: f64, y: f64| geometry::distance_to_line_km(&line, x, y) <= half;
            let inside = budget.unless_cancelled(&inside);
            select::area(col, &c, bbox, (res.0, res.1, None), &inside)
        }
        _ => Err(EdrError::NotFound(format!("no query {q:?}"))),
    }
}

/// How many cells `area` would test over the box in every group of the query: the
/// cost of a geometry query, known before any geometry is evaluated.
pub fn candidate_cells(
    col: &Collection,
    c: &Common,
    bbox: (f64, f64, f64, f64),
    res: (Option<usize>, Option<usize>),
) -> u64 {
    let (w, s, e, n) = bbox;
    let thin = |len: usize, r: Option<usize>| r.map_or(len, |r| r.min(len)) as u64;
    select::by_group(col, &c.params)
        .into_iter()
        .map(|(gi, _)| match &col.groups[gi].horizontal {
            Horizontal::Rect { grid, .. } => {
                let ys = grid
                    .lat()
                    .index_range(s, n)
                    .map_or(0, |(a, b)| b.saturating_sub(a) + 1);
                let xs: usize = lon_index_ranges(grid.lon(), w, e)
                    .into_iter()
                    .map(|(a, b)| b.saturating_sub(a) + 1)
                    .sum();
                thin(ys, res.1).saturating_mul(thin(xs, res.0))
            }
            Horizontal::Curvilinear { grid, .. } => grid
                .lat()
                .iter()
                .filter(|la| la.is_finite() && **la >= s && **la <= n)
                .count() as u64,
        })
        .fold(0u64, u64::saturating_add)
}
