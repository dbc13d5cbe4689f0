//! From a query's geometry and parameters to coverages: nearest cells for points,
//! cells whose centres fall inside a shape for areas, on 1-D or curvilinear grids,
//! with longitudes compared across the -180..180 / 0..360 conventions.

use super::collection::{Collection, Group, Horizontal, TimeAxis, ZAxis};
use super::coverage::{Coord, Coverage, Mask, OutAxis};
use super::error::{EdrError, EdrResult};
use super::geometry::{self, Pos, lon_near};
use super::params::{DateTimeSel, ZSel};
use crate::model::cf::{CfDateTime, TimeUnits};
use crate::subset::lon_index_ranges;

/// Selections common to every query.
#[derive(Debug, Clone, Default)]
pub struct Common {
    pub datetime: Option<DateTimeSel>,
    pub z: Option<ZSel>,
    /// Collection parameter indices, grouped later.
    pub params: Vec<usize>,
    /// Selections on custom dimensions, by id (`custom.rs`).
    pub custom: Vec<(String, super::custom_axis::CustomSel)>,
}

/// Cells of a horizontal selection.
pub enum Cells {
    /// Rows × columns of a 1-D grid: indices, output coordinates, optional mask.
    Rect {
        ys: Vec<usize>,
        lats: Vec<f64>,
        xs: Vec<usize>,
        lons: Vec<f64>,
        keep: Option<Vec<bool>>,
    },
    /// A list of (j, i) cells with (lon, lat) each.
    List(Vec<(usize, usize, f64, f64)>),
}

fn encode_time(units: &TimeUnits, d: &CfDateTime) -> EdrResult<f64> {
    units.encode(d).map_err(|_| {
        EdrError::bad(format!(
            "datetime: {d} does not exist in the dataset's {:?} calendar",
            units.calendar
        ))
    })
}

/// Time indices of a group for `datetime` (all when absent).
pub fn time_indices(t: &TimeAxis, sel: Option<&DateTimeSel>) -> EdrResult<Vec<usize>> {
    let all = || (0..t.axis.len()).collect();
    Ok(match sel {
        None => all(),
        Some(DateTimeSel::Instant(d)) => t
            .axis
            .nearest_within(encode_time(&t.units, d)?)
            .into_iter()
            .collect(),
        Some(DateTimeSel::List(ds)) => {
            let mut out: Vec<usize> = Vec::new();
            for d in ds {
                if let Some(i) = t.axis.nearest_within(encode_time(&t.units, d)?)
                    && !out.contains(&i)
                {
                    out.push(i);
                }
            }
            out
        }
        Some(DateTimeSel::Interval(a, b)) => {
            let lo = match a {
                Some(d) => encode_time(&t.units, d)?,
                None => f64::NEG_INFINITY,
            };
            let hi = match b {
                Some(d) => encode_time(&t.units, d)?,
                None => f64::INFINITY,
            };
            match t.axis.index_range(lo, hi) {
                Some((a, b)) => (a..=b).collect(),
                None => Vec::new(),
            }
        }
    })
}

/// Vertical indices of a group for `z` (all when absent).
pub fn z_indices(z: &ZAxis, sel: Option<&ZSel>) -> Vec<usize> {
    match sel {
        None => (0..z.axis.len()).collect(),
        Some(ZSel::Values(vs)) => {
            let mut out: Vec<usize> = Vec::new();
            for v in vs {
                if let Some(i) = z.axis.nearest_within(*v)
                    && !out.contains(&i)
                {
                    out.push(i);
                }
            }
            out
        }
        Some(ZSel::Interval(lo, hi)) => match z.axis.index_range(*lo, *hi) {
            Some((a, b)) => (a..=b).collect(),
            None => Vec::new(),
        },
    }
}

/// The cell nearest a point: (j, i, lon in the point's frame, lat); `None` off the grid.
pub fn nearest_cell(g: &Group, p: &Pos) -> Option<(usize, usize, f64, f64)> {
    match &g.horizontal {
        Horizontal::Rect { grid, .. } => {
            let j = grid.lat_index(p.y)?;
            let i = grid.lon_index(p.x)?;
            Some((
                j,
                i,
                lon_near(grid.lon().values()[i], p.x),
                grid.lat().values()[j],
            ))
        }
        Horizontal::Curvilinear { grid, .. } => {
            let (j, i) = grid.locate(p.x, p.y)?;
            let c = j * grid.shape().1 + i;
            Some((j, i, lon_near(grid.lon()[c], p.x), grid.lat()[c]))
        }
    }
}

/// Evenly spread picks of at most `n` of `len` positions (resolution-x/y/z).
fn spread(len: usize, n: Option<usize>) -> Vec<usize> {
    match n {
        Some(n) if n < len => {
            if n == 1 {
                return vec![(len - 1) / 2];
            }
            let mut v: Vec<usize> = (0..n)
                .map(|k| ((k * (len - 1)) as f64 / (n - 1) as f64).round() as usize)
                .collect();
            v.dedup();
            v
        }
        _ => (0..len).collect(),
    }
}

/// Cells of the box (w, s, e, n) (longitudes in the request's frame) for which `inside`
/// holds at the cell centre, thinned to `res` points per axis.
pub fn cells_in(
    g: &Group,
    bbox: (f64, f64, f64, f64),
    res: (Option<usize>, Option<usize>),
    inside: &dyn Fn(f64, f64) -> bool,
) -> Cells {
    let (w, s, e, n) = bbox;
    match &g.horizontal {
        Horizontal::Rect { grid, .. } => {
            let (x, y) = (grid.lon(), grid.lat());
            let ys: Vec<usize> = match y.index_range(s, n) {
                Some((a, b)) => (a..=b).collect(),
                None => Vec::new(),
            };
            let mut xl: Vec<(usize, f64)> = lon_index_ranges(x, w, e)
                .into_iter()
                .flat_map(|(a, b)| a..=b)
                .map(|i| (i, geometry::lon_from(x.values()[i], w)))
                .collect();
            xl.sort_by(|a, b| a.1.total_cmp(&b.1));
            xl.dedup_by_key(|p| p.0);
            let ys: Vec<usize> = spread(ys.len(), res.1).into_iter().map(|k| ys[k]).collect();
            let xl: Vec<(usize, f64)> =
                spread(xl.len(), res.0).into_iter().map(|k| xl[k]).collect();
            let lats: Vec<f64> = ys.iter().map(|&j| y.values()[j]).collect();
            let keep: Vec<bool> = lats
                .iter()
                .flat_map(|&lat| xl.iter().map(move |&(_, lon)| inside(lon, lat)))
                .collect();
            Cells::Rect {
                ys,
                lats,
                xs: xl.iter().map(|p| p.0).collect(),
                lons: xl.iter().map(|p| p.1).collect(),
                keep: if keep.iter().all(|k| *k) {
                    None
                } else {
                    Some(keep)
                },
            }
        }
        Horizontal::Curvilinear { grid, .. } => {
            let (lon, lat, nx) = (grid.lon(), grid.lat(), grid.shape().1);
            let mut cells = Vec::new();
            for c in 0..lon.len() {
                let la = lat[c];
                if !lon[c].is_finite() || !la.is_finite() || la < s || la > n {
                    continue;
                }
                // The cell's longitude in the request's frame [w, w + 360).
                let lo = geometry::lon_from(lon[c], w);
                if lo > e && e - w < 360.0 {
                    continue;
                }
                if inside(lo, la) {
                    cells.push((c / nx, c % nx, lo, la));
                }
            }
            if let Some(r) = res.0.or(res.1)
                && r * r < cells.len()
            {
                let keep = spread(cells.len(), Some(r * r));
                cells = keep.into_iter().map(|k| cells[k]).collect();
            }
            Cells::List(cells)
        }
    }
}

/// The parameter indices of `common` split by group.
pub(super) fn by_group(col: &Collection, params: &[usize]) -> Vec<(usize, Vec<usize>)> {
    let mut out: Vec<(usize, Vec<usize>)> = Vec::new();
    for &p in params {
        let g = col.params[p].group;
        match out.iter_mut().find(|(gg, _)| *gg == g) {
            Some((_, v)) => v.push(p),
            None => out.push((g, vec![p])),
        }
    }
    out
}

fn t_axis(g: &Group, idx: &[usize]) -> Option<OutAxis> {
    let t = g.t.as_ref()?;
    Some(OutAxis::simple(
        "t",
        t.dim,
        idx.to_vec(),
        idx.iter().map(|&i| Coord::Time(t.iso[i].clone())).collect(),
    ))
}

fn z_axis(g: &Group, idx: &[usize]) -> Option<OutAxis> {
    let z = g.z.as_ref()?;
    Some(OutAxis::simple(
        "z",
        z.dim,
        idx.to_vec(),
        idx.iter()
            .map(|&i| Coord::Num(z.axis.values()[i]))
            .collect(),
    ))
}

fn yx_dims(g: &Group) -> (usize, usize) {
    match &g.horizontal {
        Horizontal::Rect { xdim, ydim, .. } | Horizontal::Curvilinear { xdim, ydim, .. } => {
            (*ydim, *xdim)
        }
    }
}

/// Time and vertical indices of a group; `NoData` when either selects nothing.
fn tz(g: &Group, c: &Common, z_override: Option<&ZSel>) -> EdrResult<(Vec<usize>, Vec<usize>)> {
    let ts = match &g.t {
        Some(t) => time_indices(t, c.datetime.as_ref())?,
        None => Vec::new(),
    };
    let zs = match &g.z {
        Some(z) => z_indices(z, z_override.or(c.z.as_ref())),
        None => Vec::new(),
    };
    if (g.t.is_some() && ts.is_empty()) || (g.z.is_some() && zs.is_empty()) {
        return Err(EdrError::NoData);
    }
    Ok((ts, zs))
}

/// Position: the nearest cell of each point; one point gives a Point, PointSeries,
/// VerticalProfile or (several times and levels) Grid coverage per group, several
/// points a MultiPoint(Series) coverage per group.
pub fn position(col: &Collection, c: &Common, points: &[Pos]) -> EdrResult<Vec<Coverage>> {
    if points.len() > 1 {
        return multi_position(col, c, points);
    }
    let mut out = Vec::new();
    for p in points {
        for (gi, params) in by_group(col, &c.params) {
            let g = &col.groups[gi];
            let Some((j, i, lon, lat)) = nearest_cell(g, p) else {
                continue;
            };
            let zo = p.z.map(|z| ZSel::Values(vec![z]));
            let (ts, zs) = match tz(g, c, zo.as_ref()) {
                Ok(v) => v,
                Err(EdrError::NoData) => continue,
                Err(e) => return Err(e),
            };
            let (ydim, xdim) = yx_dims(g);
            let mut axes: Vec<OutAxis> = Vec::new();
            axes.extend(t_axis(g, &ts));
            axes.extend(z_axis(g, &zs));
            axes.push(OutAxis::simple("y", ydim, vec![j], vec![Coord::Num(lat)]));
            axes.push(OutAxis::simple("x", xdim, vec![i], vec![Coord::Num(lon)]));
            let (nt, nz) = (ts.len(), zs.len());
            let domain_type = match (nt > 1, nz > 1) {
                (true, true) => "Grid",
                (true, false) => "PointSeries",
                (false, true) => "VerticalProfile",
                (false, false) => "Point",
            };
            out.push(Coverage {
                group: gi,
                domain_type,
                axes,
                mask: None,
                params,
                rank: g.rank(),
                fixed: Vec::new(),
            });
        }
    }
    if out.is_empty() {
        return Err(EdrError::NoData);
    }
    Ok(out)
}

fn multi_position(col: &Collection, c: &Common, points: &[Pos]) -> EdrResult<Vec<Coverage>> {
    let mut out = Vec::new();
    for (gi, params) in by_group(col, &c.params) {
        let g = &col.groups[gi];
        let (ts, zs) = match tz(g, c, None) {
            Ok(v) => v,
            Err(EdrError::NoData) => continue,
            Err(e) => return Err(e),
        };
        let cells: Vec<(usize, usize, f64, f64)> =
            points.iter().filter_map(|p| nearest_cell(g, p)).collect();
        if cells.is_empty() {
            continue;
        }
        let mut axes: Vec<OutAxis> = Vec::new();
        axes.extend(t_axis(g, &ts));
        axes.push(composite_cells(g, &cells, &zs));
        out.push(Coverage {
            group: gi,
            domain_type: if ts.len() > 1 {
                "MultiPointSeries"
            } else {
                "MultiPoint"
            },
            axes,
            mask: None,
            params,
            rank: g.rank(),
            fixed: Vec::new(),
        });
    }
    if out.is_empty() {
        return Err(EdrError::NoData);
    }
    Ok(out)
}

/// Area-like queries (area, cube, radius, corridor): a masked Grid on 1-D grids, a
/// MultiPoint(Series) of the inside cells on curvilinear grids.
pub fn area(
    col: &Collection,
    c: &Common,
    bbox: (f64, f64, f64, f64),
    res: (Option<usize>, Option<usize>, Option<usize>),
    inside: &dyn Fn(f64, f64) -> bool,
) -> EdrResult<Vec<Coverage>> {
    let mut out = Vec::new();
    for (gi, params) in by_group(col, &c.params) {
        let g = &col.groups[gi];
        let (ts, zs) = match tz(g, c, None) {
            Ok(v) => v,
            Err(EdrError::NoData) => continue,
            Err(e) => return Err(e),
        };
        let zs: Vec<usize> = spread(zs.len(), res.2).into_iter().map(|k| zs[k]).collect();
        let (ydim, xdim) = yx_dims(g);
        let mut axes: Vec<OutAxis> = Vec::new();
        axes.extend(t_axis(g, &ts));
        match cells_in(g, bbox, (res.0, res.1), inside) {
            Cells::Rect {
                ys,
                lats,
                xs,
                lons,
                keep,
            } => {
                if ys.is_empty()
                    || xs.is_empty()
                    || keep.as_ref().is_some_and(|k| !k.contains(&true))
                {
                    continue;
                }
                axes.extend(z_axis(g, &zs));
                let y_axis = axes.len();
                axes.push(OutAxis::simple(
                    "y",
                    ydim,
                    ys,
                    lats.into_iter().map(Coord::Num).collect(),
                ));
                axes.push(OutAxis::simple(
                    "x",
                    xdim,
                    xs,
                    lons.into_iter().map(Coord::Num).collect(),
                ));
                out.push(Coverage {
                    group: gi,
                    domain_type: "Grid",
                    axes,
                    mask: keep.map(|keep| Mask {
                        y_axis,
                        x_axis: y_axis + 1,
                        keep,
                    }),
                    params,
                    rank: g.rank(),
                    fixed: Vec::new(),
                });
            }
            Cells::List(cells) => {
                if cells.is_empty() {
                    continue;
                }
                axes.push(composite_cells(g, &cells, &zs));
                out.push(Coverage {
                    group: gi,
                    domain_type: if ts.len() > 1 {
                        "MultiPointSeries"
                    } else {
                        "MultiPoint"
                    },
                    axes,
                    mask: None,
                    params,
                    rank: g.rank(),
                    fixed: Vec::new(),
                });
            }
        }
    }
    if out.is_empty() {
        return Err(EdrError::NoData);
    }
    Ok(out)
}

/// A composite axis of cells (× vertical levels, when the group has them).
fn composite_cells(g: &Group, cells: &[(usize, usize, f64, f64)], zs: &[usize]) -> OutAxis {
    let (ydim, xdim) = yx_dims(g);
    let mut ax = OutAxis {
        name: "composite",
        components: vec!["x", "y"],
        dims: vec![ydim, xdim],
        tuples: Vec::new(),
        coords: Vec::new(),
    };
    match &g.z {
        Some(z) => {
            ax.components.push("z");
            ax.dims.push(z.dim);
            for &(j, i, lon, lat) in cells {
                for &k in zs {
                    ax.tuples.extend([j, i, k]);
                    ax.coords.extend([
                        Coord::Num(lon),
                        Coord::Num(lat),
                        Coord::Num(z.axis.values()[k]),
                    ]);
                }
            }
        }
        None => {
            for &(j, i, lon, lat) in cells {
                ax.tuples.extend([j, i]);
                ax.coords.extend([Coord::Num(lon), Coord::Num(lat)]);
            }
        }
    }
    ax
}

/// Trajectory: the nearest cell of each vertex; time from the vertex's M (epoch
/// seconds) or `datetime`, level from its Z or `z`.
pub fn trajectory(col: &Collection, c: &Common, line: &[Pos]) -> EdrResult<Vec<Coverage>> {
    let epoch = TimeUnits::parse("seconds since 1970-01-01", Some("proleptic_gregorian"))
        .map_err(|e| EdrError::Internal(e.to_string()))?;
    let mut out = Vec::new();
    for (gi, params) in by_group(col, &c.params) {
        let g = &col.groups[gi];
        let (ts, zs) = match tz(g, c, None) {
            Ok(v) => v,
            Err(EdrError::NoData) => continue,
            Err(e) => return Err(e),
        };
        let (ydim, xdim) = yx_dims(g);
        let mut ax = OutAxis {
            name: "composite",
            components: Vec::new(),
            dims: Vec::new(),
            tuples: Vec::new(),
            coords: Vec::new(),
        };
        if g.t.is_some() {
            ax.components.push("t");
            ax.dims.push(g.t.as_ref().map_or(0, |t| t.dim));
        }
        ax.components.extend(["x", "y"]);
        ax.dims.extend([ydim, xdim]);
        if g.z.is_some() {
            ax.components.push("z");
            ax.dims.push(g.z.as_ref().map_or(0, |z| z.dim));
        }
        for p in line {
            let Some((j, i, lon, lat)) = nearest_cell(g, p) else {
                continue;
            };
            let times: Vec<Option<usize>> = match (&g.t, p.m) {
                (None, _) => vec![None],
                (Some(t), Some(m)) => {
                    let d = epoch
                        .decode(m)
                        .ok_or_else(|| EdrError::bad("coords: bad M value"))?;
                    match t.axis.nearest_within(encode_time(&t.units, &d)?) {
                        Some(k) => vec![Some(k)],
                        None => continue,
                    }
                }
                (Some(_), None) => ts.iter().map(|&k| Some(k)).collect(),
            };
            let levels: Vec<Option<usize>> = match (&g.z, p.z) {
                (None, _) => vec![None],
                (Some(z), Some(zv)) => match z.axis.nearest_within(zv) {
                    Some(k) => vec![Some(k)],
                    None => continue,
                },
                (Some(_), None) => zs.iter().map(|&k| Some(k)).collect(),
            };
            for tk in &times {
                for zk in &levels {
                    if let (Some(k), Some(t)) = (tk, &g.t) {
                        ax.tuples.push(*k);
                        ax.coords.push(Coord::Time(t.iso[*k].clone()));
                    }
                    ax.tuples.extend([j, i]);
                    ax.coords.extend([Coord::Num(lon), Coord::Num(lat)]);
                    if let (Some(k), Some(z)) = (zk, &g.z) {
                        ax.tuples.push(*k);
                        ax.coords.push(Coord::Num(z.axis.values()[*k]));
                    }
                }
            }
        }
        if ax.is_empty() {
            continue;
        }
        out.push(Coverage {
            group: gi,
            domain_type: "Trajectory",
            axes: vec![ax],
            mask: None,
            params,
            rank: g.rank(),
            fixed: Vec::new(),
        });
    }
    if out.is_empty() {
        return Err(EdrError::NoData);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subset::{CoordAxis, CurvilinearGrid, RectilinearGrid};

    fn group(horizontal: Horizontal) -> Group {
        Group {
            dims: vec![],
            horizontal,
            t: None,
            z: None,
            custom: Vec::new(),
        }
    }

    fn at(x: f64, y: f64) -> Pos {
        Pos {
            x,
            y,
            z: None,
            m: None,
        }
    }

    #[test]
    fn nearest_cell_on_a_global_0_360_grid_answers_in_the_point_frame() {
        let lon = CoordAxis::new((0..36).map(|i| i as f64 * 10.0).collect()).unwrap();
        let lat = CoordAxis::new(vec![10.0, 0.0, -10.0]).unwrap();
        let g = group(Horizontal::Rect {
            grid: RectilinearGrid::new(lon, lat),
            xdim: 1,
            ydim: 0,
        });
        assert_eq!(nearest_cell(&g, &at(-9.0, 1.0)), Some((1, 35, -10.0, 0.0)));
        assert_eq!(
            nearest_cell(&g, &at(356.0, -8.0)),
            Some((2, 0, 360.0, -10.0))
        );
        assert_eq!(nearest_cell(&g, &at(21.0, 9.0)), Some((0, 2, 20.0, 10.0)));
        assert_eq!(nearest_cell(&g, &at(21.0, 16.0)), None);
    }

    #[test]
    fn nearest_cell_on_a_curvilinear_grid_across_the_antimeridian() {
        let lon = [179.0, -179.0, 179.0, -179.0];
        let lat = [0.0, 0.0, 1.0, 1.0];
        let g = group(Horizontal::Curvilinear {
            grid: CurvilinearGrid::new(2, 2, &lon, &lat).unwrap(),
            ydim: 0,
            xdim: 1,
        });
        assert_eq!(
            nearest_cell(&g, &at(-179.2, 0.1)),
            Some((0, 1, -179.0, 0.0))
        );
        assert_eq!(nearest_cell(&g, &at(179.2, 0.9)), Some((1, 0, 179.0, 1.0)));
        // The same cell seen from the other side of the seam.
        assert_eq!(nearest_cell(&g, &at(180.8, 0.1)), Some((0, 1, 181.0, 0.0)));
        assert_eq!(nearest_cell(&g, &at(0.0, 0.5)), None);
    }
}
