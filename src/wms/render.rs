//! Rendering: for each pixel centre of the requested map, the nearest grid cell's
//! value, coloured by the scale. Rows and columns are located once each when the CRS
//! and grid allow (rectilinear grids in CRS:84, EPSG:4326, Web Mercator); otherwise
//! every pixel is inverse-projected and located.

use super::crs::Crs;
use super::style::ColorScale;
use crate::subset::HorizontalGrid;

/// A 2-D field: a grid and its decoded values (NaN = missing).
#[derive(Clone, Copy)]
pub struct Field<'a> {
    pub grid: &'a HorizontalGrid,
    pub values: &'a [f32],
    pub row_stride: usize,
    pub col_stride: usize,
}

impl Field<'_> {
    #[inline]
    pub fn value(&self, row: usize, col: usize) -> f32 {
        self.values[row * self.row_stride + col * self.col_stride]
    }
}

/// The map a request asks for: bbox as (min east, min north, max east, max north).
#[derive(Debug, Clone)]
pub struct MapView {
    pub crs: Crs,
    pub bbox: [f64; 4],
    pub width: u32,
    pub height: u32,
}

impl MapView {
    /// Map x of the centre of pixel column `c`.
    #[inline]
    pub fn x(&self, c: u32) -> f64 {
        self.bbox[0] + (c as f64 + 0.5) * (self.bbox[2] - self.bbox[0]) / self.width as f64
    }

    /// Map y of the centre of pixel row `r` (row 0 at the top).
    #[inline]
    pub fn y(&self, r: u32) -> f64 {
        self.bbox[3] - (r as f64 + 0.5) * (self.bbox[3] - self.bbox[1]) / self.height as f64
    }

    /// (lon, lat) of the centre of pixel (c, r).
    pub fn lonlat(&self, c: u32, r: u32) -> Option<(f64, f64)> {
        self.crs.to_lonlat(self.x(c), self.y(r))
    }
}

/// Draws `field` into `rgba` (width × height × 4, row-major), pixels off the grid or
/// missing left untouched.
pub fn render(field: Field<'_>, scale: &ColorScale, view: &MapView, rgba: &mut [u8]) {
    let (w, h) = (view.width as usize, view.height as usize);
    debug_assert_eq!(rgba.len(), w * h * 4);
    if w == 0 || h == 0 {
        return;
    }
    let mut put = |px: usize, v: f32| {
        let c = scale.color(v);
        if c[3] != 0 {
            rgba[px * 4..px * 4 + 4].copy_from_slice(&c);
        }
    };
    match field.grid {
        HorizontalGrid::Rectilinear(g) if view.crs.is_separable() => {
            let cols: Vec<Option<usize>> = (0..view.width)
                .map(|c| g.lon_index(view.crs.x_to_lon(view.x(c))))
                .map(|i| i.map(|i| i * field.col_stride))
                .collect();
            for r in 0..h {
                let Some(j) = g.lat_index(view.crs.y_to_lat(view.y(r as u32))) else {
                    continue;
                };
                let row = &field.values[j * field.row_stride..];
                for (c, off) in cols.iter().enumerate() {
                    if let Some(off) = off {
                        put(r * w + c, row[*off]);
                    }
                }
            }
        }
        grid => {
            // Every pixel is located through the lattice (or inverse-projected): rows
            // on every core (the caller runs this off the async workers).
            use rayon::prelude::*;
            let lattice = Lattice::new(view, grid);
            rgba.par_chunks_mut(w * 4)
                .enumerate()
                .for_each(|(r, line)| {
                    for c in 0..w {
                        let Some((row, col)) = lattice.locate(view, grid, c as u32, r as u32)
                        else {
                            continue;
                        };
                        let colour = scale.color(field.value(row, col));
                        if colour[3] != 0 {
                            line[c * 4..c * 4 + 4].copy_from_slice(&colour);
                        }
                    }
                });
        }
    }
}

/// Inverse projections at every `LATTICE`-th pixel only. Inside a lattice cell whose
/// four corners are close on the sphere, a pixel's position is the bilinear blend of
/// the corners' longitudes and latitudes, or, near a pole or across the antimeridian
/// (where those are not smooth), of their unit vectors; a cell whose four corners fall
/// in one grid cell is filled with it without locating each pixel. Other pixels are
/// projected exactly.
/// Projecting every pixel of a 4096² polar-stereographic map took ~10 s of CPU.
struct Lattice {
    cols: u32,
    /// Unit vectors, longitudes and latitudes of the lattice points (`None`: outside
    /// the projection).
    points: Vec<Option<Corner>>,
    /// Per lattice cell: `Some(grid cell)` when its four corners lie in that grid cell
    /// and are close (`Uniform`), whether its pixels may be blended (`Blend`), or not.
    cells: Vec<CellKind>,
}

#[derive(Clone, Copy, PartialEq)]
enum CellKind {
    Uniform(usize, usize),
    /// Blend longitudes and latitudes (cheaper: no trigonometry per pixel).
    BlendDegrees,
    /// Blend unit vectors.
    BlendSphere,
    Exact,
}

#[derive(Clone, Copy)]
struct Corner {
    v: [f64; 3],
    lon: f64,
    lat: f64,
}

/// A lattice point and the grid cell it lies in.
type LatticePoint = (Corner, Option<(usize, usize)>);

const LATTICE: u32 = 8;
/// Largest chord (radians on the unit sphere, ~1°) between a lattice cell's corners
/// for which a blend is trusted: its error grows with the square of the cell, and is
/// far below a pixel at this size (see the test against exact projection).
const LATTICE_CHORD: f64 = 0.0175;
/// Longitudes and latitudes are blended where a cell spans at most this many degrees
/// of longitude and stays this far from the poles.
const DEGREES_SPREAD: f64 = 1.0;
const DEGREES_MAX_LAT: f64 = 80.0;

fn unit_vector((lon, lat): (f64, f64)) -> [f64; 3] {
    let (lon, lat) = (lon.to_radians(), lat.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

fn lonlat_of(v: [f64; 3]) -> (f64, f64) {
    let lon = v[1].atan2(v[0]).to_degrees();
    let lat = v[2].atan2(v[0].hypot(v[1])).to_degrees();
    (lon, lat)
}

impl Lattice {
    fn new(view: &MapView, grid: &HorizontalGrid) -> Lattice {
        use rayon::prelude::*;
        let cols = view.width.div_ceil(LATTICE) + 1;
        let rows = view.height.div_ceil(LATTICE) + 1;
        // Lattice points are the centres of every LATTICE-th pixel.
        let located: Vec<Option<LatticePoint>> = (0..rows * cols)
            .into_par_iter()
            .map(|i| {
                let (r, c) = (i / cols, i % cols);
                let (lon, lat) = view
                    .crs
                    .to_lonlat(view.x(c * LATTICE), view.y(r * LATTICE))?;
                let corner = Corner {
                    v: unit_vector((lon, lat)),
                    lon,
                    lat,
                };
                Some((corner, grid.locate(lon, lat)))
            })
            .collect();
        let cells = (0..(rows - 1) * (cols - 1))
            .into_par_iter()
            .map(|i| {
                let (lr, lc) = (i / (cols - 1), i % (cols - 1));
                let at = |dc: u32, dr: u32| located[((lr + dr) * cols + lc + dc) as usize];
                let (Some(a), Some(b), Some(d), Some(e)) = (at(0, 0), at(1, 0), at(0, 1), at(1, 1))
                else {
                    return CellKind::Exact;
                };
                let chord = |p: [f64; 3], q: [f64; 3]| {
                    ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt()
                };
                if [b, d, e]
                    .iter()
                    .any(|p| chord(a.0.v, p.0.v) > LATTICE_CHORD)
                {
                    return CellKind::Exact;
                }
                let lons = [a.0.lon, b.0.lon, d.0.lon, e.0.lon];
                let spread = lons.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                    - lons.iter().copied().fold(f64::INFINITY, f64::min);
                let polar = [a, b, d, e].iter().any(|p| p.0.lat.abs() > DEGREES_MAX_LAT);
                match a.1 {
                    Some(cell) if [b, d, e].iter().all(|p| p.1 == Some(cell)) => {
                        CellKind::Uniform(cell.0, cell.1)
                    }
                    _ if spread <= DEGREES_SPREAD && !polar => CellKind::BlendDegrees,
                    _ => CellKind::BlendSphere,
                }
            })
            .collect();
        let points = located.into_iter().map(|p| p.map(|p| p.0)).collect();
        Lattice {
            cols,
            points,
            cells,
        }
    }

    fn locate(
        &self,
        view: &MapView,
        grid: &HorizontalGrid,
        c: u32,
        r: u32,
    ) -> Option<(usize, usize)> {
        let (lc, lr) = (c / LATTICE, r / LATTICE);
        match self.cells[(lr * (self.cols - 1) + lc) as usize] {
            CellKind::Uniform(row, col) => Some((row, col)),
            kind @ (CellKind::BlendDegrees | CellKind::BlendSphere) => {
                let at = |i: u32, j: u32| self.points[(j * self.cols + i) as usize];
                let (a, b, d, e) = (
                    at(lc, lr)?,
                    at(lc + 1, lr)?,
                    at(lc, lr + 1)?,
                    at(lc + 1, lr + 1)?,
                );
                let fx = (c % LATTICE) as f64 / LATTICE as f64;
                let fy = (r % LATTICE) as f64 / LATTICE as f64;
                let blend = |p: f64, q: f64, s: f64, t: f64| {
                    (p * (1.0 - fx) + q * fx) * (1.0 - fy) + (s * (1.0 - fx) + t * fx) * fy
                };
                let (lon, lat) = if kind == CellKind::BlendDegrees {
                    (
                        blend(a.lon, b.lon, d.lon, e.lon),
                        blend(a.lat, b.lat, d.lat, e.lat),
                    )
                } else {
                    let k = |i: usize| blend(a.v[i], b.v[i], d.v[i], e.v[i]);
                    lonlat_of([k(0), k(1), k(2)])
                };
                grid.locate(lon, lat)
            }
            CellKind::Exact => {
                let (lon, lat) = view.lonlat(c, r)?;
                grid.locate(lon, lat)
            }
        }
    }
}

/// Puts `rgba` over an opaque `background`, in place (no second image in memory).
pub fn flatten_on(rgba: &mut [u8], background: [u8; 4]) {
    let bg = [background[0], background[1], background[2], 255];
    for p in rgba.chunks_exact_mut(4) {
        let mut out = bg;
        composite_over(&mut out, p);
        p.copy_from_slice(&out);
    }
}

/// Puts `top` (RGBA) over `bottom` in place.
pub fn composite_over(bottom: &mut [u8], top: &[u8]) {
    for (b, t) in bottom.chunks_exact_mut(4).zip(top.chunks_exact(4)) {
        match t[3] {
            0 => {}
            255 => b.copy_from_slice(t),
            a => {
                let (a, ba) = (a as u32, b[3] as u32);
                let out_a = a + ba * (255 - a) / 255;
                for k in 0..3 {
                    let v = (t[k] as u32 * a + b[k] as u32 * ba * (255 - a) / 255) / out_a.max(1);
                    b[k] = v.min(255) as u8;
                }
                b[3] = out_a.min(255) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subset::CoordAxis;
    use crate::subset::{CurvilinearGrid, RectilinearGrid};
    use crate::wms::style::OutOfRange;

    fn scale() -> ColorScale {
        ColorScale::new(
            "greys",
            0.0,
            3.0,
            false,
            4,
            OutOfRange::Extend,
            OutOfRange::Extend,
        )
    }

    /// Which of the 4 grey levels each pixel got ('.' = untouched).
    fn picture(rgba: &[u8], w: usize, s: &ColorScale) -> String {
        let mut out = String::new();
        for (k, px) in rgba.chunks_exact(4).enumerate() {
            if k > 0 && k % w == 0 {
                out.push('\n');
            }
            out.push(if px[3] == 0 {
                '.'
            } else {
                (0..4)
                    .find(|b| s.band_color(*b)[..] == px[..])
                    .map_or('?', |b| (b'0' + b as u8) as char)
            });
        }
        out
    }

    /// A 2×4 grid with descending latitude and 0..360 longitudes, drawn across the
    /// antimeridian: the values must land where their coordinates say.
    #[test]
    fn descending_latitude_across_the_antimeridian() {
        let lon = CoordAxis::new(vec![0.0, 90.0, 180.0, 270.0]).unwrap();
        let lat = CoordAxis::new(vec![45.0, -45.0]).unwrap();
        let grid = HorizontalGrid::Rectilinear(RectilinearGrid::new(lon, lat));
        // Row 0 (north): 0 1 2 3; row 1 (south): 3 2 1 NaN.
        let values = [0.0, 1.0, 2.0, 3.0, 3.0, 2.0, 1.0, f32::NAN];
        let field = Field {
            grid: &grid,
            values: &values,
            row_stride: 4,
            col_stride: 1,
        };
        let s = scale();
        // -180..180 in 8 columns of 45°: centres -157.5, -112.5, ... 157.5.
        let view = MapView {
            crs: Crs::parse("CRS:84").unwrap(),
            bbox: [-180.0, -90.0, 180.0, 90.0],
            width: 8,
            height: 2,
        };
        let mut rgba = vec![0u8; 8 * 2 * 4];
        render(field, &s, &view, &mut rgba);
        assert_eq!(picture(&rgba, 8, &s), "23300112\n1..33221");
        // The same in EPSG:4326 of WMS 1.3.0 (lat,lon bbox) once swapped.
        let crs = Crs::parse("EPSG:4326").unwrap();
        let view2 = MapView {
            bbox: crs.bbox_xy(crate::wms::Version::V130, [-90.0, -180.0, 90.0, 180.0]),
            crs,
            ..view.clone()
        };
        let mut rgba2 = vec![0u8; 8 * 2 * 4];
        render(field, &s, &view2, &mut rgba2);
        assert_eq!(rgba, rgba2);
    }

    #[test]
    fn curvilinear_and_projected_paths_agree_with_the_grid() {
        // A 2×2 curvilinear grid that is really regular: 1° cells at 10..11E, 50..51N.
        let lon = [10.0, 11.0, 10.0, 11.0];
        let lat = [50.0, 50.0, 51.0, 51.0];
        let grid = HorizontalGrid::Curvilinear(CurvilinearGrid::new(2, 2, &lon, &lat).unwrap());
        let values = [0.0, 1.0, 2.0, 3.0];
        let field = Field {
            grid: &grid,
            values: &values,
            row_stride: 2,
            col_stride: 1,
        };
        let s = scale();
        let view = MapView {
            crs: Crs::parse("CRS:84").unwrap(),
            bbox: [9.0, 49.0, 12.0, 52.0],
            width: 6,
            height: 6,
        };
        let mut rgba = vec![0u8; 6 * 6 * 4];
        render(field, &s, &view, &mut rgba);
        assert_eq!(
            picture(&rgba, 6, &s),
            "......\n.2233.\n.2233.\n.0011.\n.0011.\n......"
        );
        // Web Mercator of the same area: the same cells, north at the top.
        let merc = Crs::parse("EPSG:3857").unwrap();
        let (x0, y0) = merc.from_lonlat(9.6, 49.6).unwrap();
        let (x1, y1) = merc.from_lonlat(11.4, 51.4).unwrap();
        let view = MapView {
            crs: merc,
            bbox: [x0, y0, x1, y1],
            width: 2,
            height: 2,
        };
        let mut rgba = vec![0u8; 2 * 2 * 4];
        render(field, &s, &view, &mut rgba);
        assert_eq!(picture(&rgba, 2, &s), "23\n01");
    }

    /// The lattice (blends on the sphere, uniform cells) against every pixel projected
    /// exactly: a polar-stereographic view over the pole and the antimeridian of a
    /// global 0.25° grid locates (nearly) every pixel in the same cell.
    #[test]
    fn the_lattice_agrees_with_exact_projection_over_the_pole() {
        let (ny, nx) = (720usize, 1440usize);
        let lat = CoordAxis::new((0..ny).map(|j| 89.875 - 0.25 * j as f64).collect()).unwrap();
        let lon = CoordAxis::new((0..nx).map(|i| 0.125 + 0.25 * i as f64).collect()).unwrap();
        let grid = HorizontalGrid::Rectilinear(RectilinearGrid::new(lon, lat));
        // Over the pole (unit vectors blended) and at mid latitudes (degrees blended),
        // 5 km pixels: the lattice's cells ~0.36° across.
        for (bbox, kind) in [
            ([-1e6, -1e6, 1e6, 1e6], CellKind::BlendSphere),
            ([1.5e6, -4.5e6, 3.5e6, -2.5e6], CellKind::BlendDegrees),
        ] {
            let view = MapView {
                crs: Crs::parse("EPSG:3413").unwrap(),
                bbox,
                width: 400,
                height: 400,
            };
            let lattice = Lattice::new(&view, &grid);
            let blended = lattice
                .cells
                .iter()
                .filter(|k| **k != CellKind::Exact)
                .count();
            // Only a few cells (the pole's) are projected pixel by pixel.
            assert!(blended * 100 > lattice.cells.len() * 95, "{blended}");
            assert!(lattice.cells.contains(&kind));
            let (mut differ, mut total) = (0, 0);
            for r in 0..view.height {
                for c in 0..view.width {
                    let exact = view.lonlat(c, r).and_then(|(x, y)| grid.locate(x, y));
                    let got = lattice.locate(&view, &grid, c, r);
                    total += 1;
                    if exact != got {
                        // A neighbour at worst (a pixel on a cell boundary).
                        let (e, g) = (exact.unwrap(), got.unwrap());
                        assert!(e.0.abs_diff(g.0) <= 1, "{c},{r}: {e:?} {g:?}");
                        assert!(e.1.abs_diff(g.1) <= 1 || e.1.abs_diff(g.1) == nx - 1);
                        differ += 1;
                    }
                }
            }
            // Pixels whose centre lies within a blend error of a cell boundary.
            assert!(differ * 200 < total, "{differ} of {total} pixels differ");
        }
    }

    #[test]
    fn compositing() {
        let mut bottom = vec![255, 255, 255, 255, 0, 0, 0, 0];
        composite_over(&mut bottom, &[0, 0, 0, 128, 10, 20, 30, 255]);
        assert!(bottom[0] > 120 && bottom[0] < 135 && bottom[3] == 255);
        assert_eq!(&bottom[4..], &[10, 20, 30, 255]);
    }
}
