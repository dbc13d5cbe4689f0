//! Horizontal grids: which data cell is nearest a longitude/latitude. Rectilinear grids
//! use their 1-D axes (ascending or descending, with 0..360 longitudes and the
//! antimeridian handled); 2-D curvilinear grids use a bin index built once per grid.
//! Shared by every protocol that maps points to cells (WMS pixels, EDR queries).

use super::{BBox, CoordAxis, LonConvention};

/// A horizontal grid. Cells are addressed as (row, col) along the grid's two
/// dimensions: (latitude, longitude) for a rectilinear grid, the 2-D coordinate
/// arrays' dimensions for a curvilinear one.
#[derive(Debug, Clone)]
pub enum HorizontalGrid {
    Rectilinear(RectilinearGrid),
    Curvilinear(CurvilinearGrid),
}

impl HorizontalGrid {
    pub fn shape(&self) -> (usize, usize) {
        match self {
            HorizontalGrid::Rectilinear(g) => (g.lat.len(), g.lon.len()),
            HorizontalGrid::Curvilinear(g) => (g.ny, g.nx),
        }
    }

    /// The nearest cell to (lon, lat), if the point lies on the grid.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<(usize, usize)> {
        match self {
            HorizontalGrid::Rectilinear(g) => Some((g.lat_index(lat)?, g.lon_index(lon)?)),
            HorizontalGrid::Curvilinear(g) => g.locate(lon, lat),
        }
    }

    /// Approximate memory held, for the cache's byte budget.
    pub fn approx_bytes(&self) -> usize {
        match self {
            HorizontalGrid::Rectilinear(g) => (g.lon.len() + g.lat.len()) * 8 + 64,
            HorizontalGrid::Curvilinear(g) => {
                g.lon.len() * (8 + 8 + 8 + 4 + 1)
                    + (g.bins.offsets.len() + g.bins.cells.len()) * 4
                    + 128
            }
        }
    }

    /// The longitude and latitude of a cell centre (a curvilinear grid's longitude in
    /// its contiguous frame: 181 rather than -179 on a grid centred on the antimeridian).
    pub fn cell_centre(&self, row: usize, col: usize) -> (f64, f64) {
        match self {
            HorizontalGrid::Rectilinear(g) => (g.lon.values()[col], g.lat.values()[row]),
            HorizontalGrid::Curvilinear(g) => {
                let k = row * g.nx + col;
                (g.lon_centred[k], g.lat[k])
            }
        }
    }

    /// Geographic extent in -180..180 longitudes; a grid crossing the antimeridian
    /// reports the whole longitude range.
    pub fn bbox(&self) -> BBox {
        match self {
            HorizontalGrid::Rectilinear(g) => g.bbox(),
            HorizontalGrid::Curvilinear(g) => g.bbox,
        }
    }
}

/// A grid with 1-D monotonic longitude and latitude axes.
#[derive(Debug, Clone)]
pub struct RectilinearGrid {
    lon: CoordAxis,
    lat: CoordAxis,
    conv: LonConvention,
    /// The longitudes go round the whole earth: wrap across the seam.
    global: bool,
}

impl RectilinearGrid {
    pub fn new(lon: CoordAxis, lat: CoordAxis) -> RectilinearGrid {
        let conv = LonConvention::of(lon.values());
        let global = match lon.bounds() {
            Some((lo, hi)) if lon.len() > 1 => {
                let step = (hi - lo) / (lon.len() - 1) as f64;
                hi - lo + step >= 360.0 - 1e-6 * step.max(1.0)
            }
            _ => false,
        };
        RectilinearGrid {
            lon,
            lat,
            conv,
            global,
        }
    }

    pub fn lon(&self) -> &CoordAxis {
        &self.lon
    }

    pub fn lat(&self) -> &CoordAxis {
        &self.lat
    }

    /// Whether the longitudes go round the whole earth (lookups wrap at the seam).
    pub fn is_global(&self) -> bool {
        self.global
    }

    /// The column nearest `lon` (any convention); `None` beyond half a cell off a
    /// regional grid.
    pub fn lon_index(&self, lon: f64) -> Option<usize> {
        if !lon.is_finite() {
            return None;
        }
        let l = self.conv.normalize(lon);
        self.lon.nearest_within(l).or_else(|| {
            if !self.global {
                return None;
            }
            // Past the last cell of a global axis: the nearer of the two seam cells.
            let (lo, hi) = self.lon.bounds()?;
            let (a, b) = (self.lon.nearest(lo)?, self.lon.nearest(hi)?);
            let to_lo = (l - 360.0 - lo).abs().min((l + 360.0 - lo).abs());
            let to_hi = (l - hi).abs();
            Some(if to_lo < to_hi { a } else { b })
        })
    }

    /// The row nearest `lat`; `None` beyond half a cell off the axis.
    pub fn lat_index(&self, lat: f64) -> Option<usize> {
        if !lat.is_finite() {
            return None;
        }
        self.lat.nearest_within(lat)
    }

    pub fn bbox(&self) -> BBox {
        let half = |a: &CoordAxis| match a.bounds() {
            Some((lo, hi)) if a.len() > 1 => (hi - lo) / (a.len() - 1) as f64 / 2.0,
            _ => 0.0,
        };
        let (s, n) = self.lat.bounds().unwrap_or((-90.0, 90.0));
        let hl = half(&self.lat);
        let (s, n) = ((s - hl).max(-90.0), (n + hl).min(90.0));
        let bbox = |w, e| BBox::new(w, s, e, n).unwrap_or_else(|_| BBox::world());
        if self.global {
            return bbox(-180.0, 180.0);
        }
        let (w, e) = self.lon.bounds().unwrap_or((-180.0, 180.0));
        let hw = half(&self.lon);
        let (w, e) = (
            LonConvention::Signed.normalize(w - hw),
            LonConvention::Signed.normalize(e + hw),
        );
        if w < e {
            bbox(w, e)
        } else {
            bbox(-180.0, 180.0)
        }
    }
}

/// A grid with 2-D longitude and latitude arrays (rows × cols), indexed by uniform
/// bins in (lon, lat) for nearest-cell lookups.
#[derive(Debug, Clone)]
pub struct CurvilinearGrid {
    ny: usize,
    nx: usize,
    /// The longitudes as given, for callers that print them unchanged.
    lon: Vec<f64>,
    /// Longitudes brought within ±180° of `centre_lon`, so that a grid crossing the
    /// antimeridian is contiguous.
    lon_centred: Vec<f64>,
    lat: Vec<f64>,
    centre_lon: f64,
    /// Largest squared distance at which a point still belongs to an inner cell: the
    /// largest squared distance to a neighbour.
    reach2: Vec<f32>,
    /// Sides of each cell without a neighbour (bits: col-1, col+1, row-1, row+1): on
    /// those sides a point belongs to the cell only within half a cell.
    open_sides: Vec<u8>,
    bins: Bins,
    bbox: BBox,
}

#[derive(Debug, Clone)]
struct Bins {
    lon0: f64,
    lat0: f64,
    size: f64,
    nlon: usize,
    nlat: usize,
    /// CSR: cells of bin b are `cells[offsets[b]..offsets[b + 1]]`.
    offsets: Vec<u32>,
    cells: Vec<u32>,
    /// Largest reach of any cell, in bins.
    max_reach_bins: usize,
}

/// Squared distance in degrees with longitude shrunk by cos(latitude).
fn dist2(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let c = ((lat1 + lat2) * 0.5).to_radians().cos();
    let dx = (lon1 - lon2) * c;
    let dy = lat1 - lat2;
    dx * dx + dy * dy
}

impl CurvilinearGrid {
    /// `lon` and `lat` are row-major `ny × nx`; missing (NaN) cells are never found.
    pub fn new(ny: usize, nx: usize, lon: &[f64], lat: &[f64]) -> Option<CurvilinearGrid> {
        if ny * nx == 0 || lon.len() != ny * nx || lat.len() != ny * nx {
            return None;
        }
        // Centre on the circular mean of the longitudes.
        let (mut sx, mut sy) = (0.0, 0.0);
        for l in lon.iter().filter(|l| l.is_finite()) {
            sx += l.to_radians().cos();
            sy += l.to_radians().sin();
        }
        let centre_lon = sy.atan2(sx).to_degrees();
        let wrap = |l: f64| centre_lon + (l - centre_lon + 180.0).rem_euclid(360.0) - 180.0;
        let lon_given = lon.to_vec();
        let lon: Vec<f64> = lon.iter().map(|&l| wrap(l)).collect();
        let lat = lat.to_vec();
        let ok = |k: usize| lon[k].is_finite() && lat[k].is_finite();
        let mut reach2 = vec![0f32; ny * nx];
        let mut open_sides = vec![0u8; ny * nx];
        let mut max_reach = 0f64;
        for j in 0..ny {
            for i in 0..nx {
                let k = j * nx + i;
                if !ok(k) {
                    continue;
                }
                let mut far = 0f64;
                let neighbours = [
                    (i > 0).then(|| k - 1),
                    (i + 1 < nx).then(|| k + 1),
                    (j > 0).then(|| k - nx),
                    (j + 1 < ny).then(|| k + nx),
                ];
                for (side, n) in neighbours.into_iter().enumerate() {
                    match n.filter(|&n| ok(n)) {
                        Some(n) => far = far.max(dist2(lon[k], lat[k], lon[n], lat[n])),
                        None => open_sides[k] |= 1 << side,
                    }
                }
                let r2 = if far > 0.0 { far * 1.0001 } else { 1e-12 };
                reach2[k] = r2 as f32;
                max_reach = max_reach.max(r2.sqrt());
            }
        }
        let finite = |v: &[f64]| {
            v.iter()
                .filter(|x| x.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                    (a.min(x), b.max(x))
                })
        };
        let (w, e) = finite(&lon);
        let (s, n) = finite(&lat);
        if !w.is_finite() || !s.is_finite() {
            return None;
        }
        // About one cell per bin.
        let cells = (ny * nx) as f64;
        let size = (((e - w).max(1e-9) * (n - s).max(1e-9)) / cells)
            .sqrt()
            .max(1e-9);
        let nlon = (((e - w) / size).floor() as usize + 1).min(4096);
        let nlat = (((n - s) / size).floor() as usize + 1).min(4096);
        let size = ((e - w) / nlon as f64).max((n - s) / nlat as f64).max(1e-9) * 1.000001;
        let bin_of = |lo: f64, la: f64| {
            let bi = (((lo - w) / size) as usize).min(nlon - 1);
            let bj = (((la - s) / size) as usize).min(nlat - 1);
            bj * nlon + bi
        };
        let mut counts = vec![0u32; nlon * nlat + 1];
        for k in (0..ny * nx).filter(|&k| ok(k)) {
            counts[bin_of(lon[k], lat[k]) + 1] += 1;
        }
        for b in 1..counts.len() {
            counts[b] += counts[b - 1];
        }
        let offsets = counts.clone();
        let mut fill = counts;
        let mut cells_v = vec![0u32; *offsets.last().unwrap_or(&0) as usize];
        for k in (0..ny * nx).filter(|&k| ok(k)) {
            let b = bin_of(lon[k], lat[k]);
            cells_v[fill[b] as usize] = k as u32;
            fill[b] += 1;
        }
        // Longitude distances shrink by cos(lat): widen the search accordingly.
        let min_cos = s.abs().max(n.abs()).min(89.0).to_radians().cos();
        let max_reach_bins = (max_reach / size / min_cos).ceil() as usize + 1;
        let (bw, be) = if e - w >= 360.0 || w < -180.0 || e > 180.0 {
            let (ws, es) = (
                LonConvention::Signed.normalize(w),
                LonConvention::Signed.normalize(e),
            );
            if e - w < 360.0 && ws < es {
                (ws, es)
            } else {
                (-180.0, 180.0)
            }
        } else {
            (w, e)
        };
        let bbox = BBox::new(bw, s, be, n).ok()?;
        Some(CurvilinearGrid {
            ny,
            nx,
            lon: lon_given,
            lon_centred: lon,
            lat,
            centre_lon,
            reach2,
            open_sides,
            bins: Bins {
                lon0: w,
                lat0: s,
                size,
                nlon,
                nlat,
                offsets,
                cells: cells_v,
                max_reach_bins,
            },
            bbox,
        })
    }

    /// (rows, columns).
    pub fn shape(&self) -> (usize, usize) {
        (self.ny, self.nx)
    }

    /// The longitudes as given, row-major.
    pub fn lon(&self) -> &[f64] {
        &self.lon
    }

    /// The latitudes, row-major.
    pub fn lat(&self) -> &[f64] {
        &self.lat
    }

    /// The cell nearest (lon, lat) as (row, col), using the bin index: `None` when
    /// the point is farther from the nearest cell than that cell's farthest
    /// neighbour, or beyond half a cell on a side where the grid ends.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<(usize, usize)> {
        if !lon.is_finite() || !lat.is_finite() {
            return None;
        }
        let lon = self.centre_lon + (lon - self.centre_lon + 180.0).rem_euclid(360.0) - 180.0;
        let b = &self.bins;
        let fi = ((lon - b.lon0) / b.size).floor();
        let fj = ((lat - b.lat0) / b.size).floor();
        let reach = b.max_reach_bins as f64;
        if fi < -reach
            || fj < -reach
            || fi > (b.nlon as f64 + reach)
            || fj > (b.nlat as f64 + reach)
        {
            return None;
        }
        let (ci, cj) = (fi as i64, fj as i64);
        let cos_lat = lat.to_radians().cos();
        let mut best: Option<(f64, usize)> = None;
        for ring in 0..=b.max_reach_bins as i64 {
            // Once a candidate is nearer than anything in this ring can be, stop.
            if let Some((d2, _)) = best {
                let ring_dist =
                    (ring - 1) as f64 * b.size * (lat.abs().min(89.0)).to_radians().cos();
                if ring_dist > 0.0 && ring_dist * ring_dist > d2 {
                    break;
                }
            }
            for bj in (cj - ring)..=(cj + ring) {
                if bj < 0 || bj >= b.nlat as i64 {
                    continue;
                }
                let on_edge_row = bj == cj - ring || bj == cj + ring;
                let step = if on_edge_row { 1 } else { (2 * ring).max(1) };
                let mut bi = ci - ring;
                while bi <= ci + ring {
                    if bi >= 0 && bi < b.nlon as i64 {
                        let bin = bj as usize * b.nlon + bi as usize;
                        for &k in &b.cells[b.offsets[bin] as usize..b.offsets[bin + 1] as usize] {
                            let k = k as usize;
                            // cos(lat) of the query for every candidate: they are near.
                            let dx = (lon - self.lon_centred[k]) * cos_lat;
                            let dy = lat - self.lat[k];
                            let d2 = dx * dx + dy * dy;
                            if best.is_none_or(|(bd, _)| d2 < bd) {
                                best = Some((d2, k));
                            }
                        }
                    }
                    bi += step;
                }
            }
        }
        let (d2, k) = best?;
        (d2 <= self.reach2[k] as f64 && self.within_open_sides(k, lon, lat))
            .then_some((k / self.nx, k % self.nx))
    }

    /// On the sides of cell `k` that have no neighbour, the point lies within half a
    /// cell: its offset, in the frame of the cell's two grid directions, is ≤ ½.
    fn within_open_sides(&self, k: usize, lon: f64, lat: f64) -> bool {
        let open = self.open_sides[k];
        if open == 0 {
            return true;
        }
        let c = self.lat[k].to_radians().cos();
        let vec_to = |n: usize| {
            (
                (self.lon_centred[n] - self.lon_centred[k]) * c,
                self.lat[n] - self.lat[k],
            )
        };
        // A grid direction from the neighbour on either side.
        let dir = |minus: u8, plus: u8, step: usize| -> Option<(f64, f64)> {
            if open & plus == 0 {
                Some(vec_to(k + step))
            } else if open & minus == 0 {
                let (x, y) = vec_to(k - step);
                Some((-x, -y))
            } else {
                None
            }
        };
        let (Some(a), Some(b)) = (dir(1, 2, 1), dir(4, 8, self.nx)) else {
            return true;
        };
        let det = a.0 * b.1 - a.1 * b.0;
        if det.abs() < 1e-300 {
            return true;
        }
        let (dx, dy) = ((lon - self.lon_centred[k]) * c, lat - self.lat[k]);
        let u = (dx * b.1 - dy * b.0) / det;
        let v = (a.0 * dy - a.1 * dx) / det;
        let half = 0.5 + 1e-9;
        !((open & 1 != 0 && u < -half)
            || (open & 2 != 0 && u > half)
            || (open & 4 != 0 && v < -half)
            || (open & 8 != 0 && v > half))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rectilinear_wraps_global_positive_longitudes() {
        let lon = CoordAxis::new((0..18).map(|i| i as f64 * 20.0).collect()).unwrap();
        let lat = CoordAxis::new((0..10).map(|j| 45.0 - 10.0 * j as f64).collect()).unwrap();
        let g = RectilinearGrid::new(lon, lat);
        assert!(g.global);
        assert_eq!(g.lon_index(-20.0), Some(17)); // 340
        assert_eq!(g.lon_index(-9.0), Some(0)); // nearer 0 than 340
        assert_eq!(g.lon_index(-11.0), Some(17));
        assert_eq!(g.lon_index(351.0), Some(0));
        assert_eq!(g.lon_index(180.0), Some(9));
        assert_eq!(g.lat_index(44.0), Some(0));
        assert_eq!(g.lat_index(-49.0), Some(9));
        assert_eq!(g.lat_index(-51.0), None);
        assert_eq!(g.bbox().to_array(), [-180.0, -50.0, 180.0, 50.0]);
    }

    #[test]
    fn rectilinear_regional() {
        let lon = CoordAxis::new(vec![170.0, 180.0, 190.0]).unwrap();
        let lat = CoordAxis::new(vec![0.0, 1.0]).unwrap();
        let g = RectilinearGrid::new(lon, lat);
        assert!(!g.global);
        assert_eq!(g.lon_index(-170.0), Some(2));
        assert_eq!(g.lon_index(-164.0), None);
        assert_eq!(g.lon_index(166.0), Some(0));
        assert_eq!(g.lon_index(0.0), None);
        // Crosses the antimeridian: reported as the whole range.
        assert_eq!(g.bbox().west(), -180.0);
        let g = RectilinearGrid::new(
            CoordAxis::new(vec![-10.0, 0.0, 10.0]).unwrap(),
            CoordAxis::new(vec![0.0, 1.0]).unwrap(),
        );
        assert_eq!(g.bbox().to_array(), [-15.0, -0.5, 15.0, 1.5]);
        assert_eq!(g.lon_index(354.0), Some(0));
    }

    /// A 3×4 grid rotated by 90°: rows go east, columns go south.
    #[test]
    fn curvilinear_nearest_on_a_known_grid() {
        let (ny, nx) = (3, 4);
        let mut lon = Vec::new();
        let mut lat = Vec::new();
        for j in 0..ny {
            for i in 0..nx {
                lon.push(10.0 + j as f64);
                lat.push(5.0 - i as f64);
            }
        }
        let g = CurvilinearGrid::new(ny, nx, &lon, &lat).unwrap();
        assert_eq!(g.locate(10.0, 5.0), Some((0, 0)));
        assert_eq!(g.locate(12.2, 2.1), Some((2, 3)));
        assert_eq!(g.locate(11.4, 3.6), Some((1, 1)));
        assert_eq!(g.locate(20.0, 3.0), None);
        assert_eq!(g.locate(9.6, 5.3), Some((0, 0)));
        assert_eq!(g.locate(9.0, 5.0), None);
        // Pixel-exact picture of the grid on a 0.5° raster.
        let mut picture = String::new();
        for r in 0..6 {
            for c in 0..8 {
                let (lo, la) = (9.25 + c as f64 * 0.5, 5.75 - r as f64 * 0.5 - 0.5);
                picture.push(match g.locate(lo, la) {
                    Some((j, _)) => (b'a' + j as u8) as char,
                    None => '.',
                });
            }
            picture.push('\n');
        }
        assert_eq!(picture, ".aabbcc.\n".repeat(6), "\n{picture}");
    }

    #[test]
    fn curvilinear_across_the_antimeridian() {
        let lon = vec![179.0, -179.0, 179.0, -179.0];
        let lat = vec![0.0, 0.0, 1.0, 1.0];
        let g = CurvilinearGrid::new(2, 2, &lon, &lat).unwrap();
        assert_eq!(g.locate(-179.2, 0.1), Some((0, 1)));
        assert_eq!(g.locate(179.2, 0.9), Some((1, 0)));
        assert_eq!(g.locate(0.0, 0.5), None);
        assert_eq!(g.bbox.west(), -180.0);
        // Given longitudes are kept for printing; the lookup frame is contiguous.
        assert_eq!(g.lon(), &[179.0, -179.0, 179.0, -179.0]);
        let grid = HorizontalGrid::Curvilinear(g);
        assert_eq!(grid.cell_centre(0, 1), (181.0, 0.0));
    }

    #[test]
    fn rectilinear_ascending_latitudes_descending_longitudes() {
        let lon = CoordAxis::new(vec![30.0, 20.0, 10.0, 0.0]).unwrap();
        let lat = CoordAxis::new(vec![-10.0, 0.0, 10.0]).unwrap();
        let g = HorizontalGrid::Rectilinear(RectilinearGrid::new(lon, lat));
        assert_eq!(g.shape(), (3, 4));
        assert_eq!(g.locate(29.0, -9.0), Some((0, 0)));
        assert_eq!(g.locate(1.0, 9.0), Some((2, 3)));
        assert_eq!(g.locate(16.0, 4.0), Some((1, 1)));
        assert_eq!(g.locate(14.0, 6.0), Some((2, 2)));
        assert_eq!(g.locate(-4.9, 0.0), Some((1, 3)));
        assert_eq!(g.locate(-5.1, 0.0), None);
        assert_eq!(g.locate(10.0, 15.1), None);
        assert_eq!(g.locate(f64::NAN, 0.0), None);
        assert_eq!(g.cell_centre(2, 1), (20.0, 10.0));
        assert_eq!(g.bbox().to_array(), [-5.0, -15.0, 35.0, 15.0]);
    }

    #[test]
    fn curvilinear_rejects_mismatched_or_empty_arrays() {
        assert!(CurvilinearGrid::new(2, 2, &[0.0; 3], &[0.0; 4]).is_none());
        assert!(CurvilinearGrid::new(0, 2, &[], &[]).is_none());
        assert!(CurvilinearGrid::new(1, 2, &[f64::NAN; 2], &[f64::NAN; 2]).is_none());
    }
}
