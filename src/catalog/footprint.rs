//! The footprint of a swath or curvilinear grid: the outline of its 2-D longitudes and
//! latitudes, walked around the edge of the array, as GeoJSON polygon rings split at
//! the antimeridian (a box would claim the whole gap between a tilted swath's edges).

/// Vertices taken along each side of the array at most.
const PER_SIDE: usize = 50;

/// Indices `0..n` thinned to about `PER_SIDE`, always keeping the last.
fn thinned(n: usize) -> Vec<usize> {
    let step = n.div_ceil(PER_SIDE).max(1);
    let mut ix: Vec<usize> = (0..n).step_by(step).collect();
    if ix.last() != Some(&(n - 1)) {
        ix.push(n - 1);
    }
    ix
}

/// The edge cells of a `rows` × `cols` array, clockwise from the first: first row,
/// last column, last row backwards, first column backwards.
fn edge(rows: usize, cols: usize) -> Vec<(usize, usize)> {
    let (r, c) = (thinned(rows), thinned(cols));
    let mut e: Vec<(usize, usize)> = c.iter().map(|&j| (0, j)).collect();
    e.extend(r.iter().skip(1).map(|&i| (i, cols - 1)));
    e.extend(c.iter().rev().skip(1).map(|&j| (rows - 1, j)));
    // Up the first column, stopping short of the first cell (the ring is closed after).
    e.extend(
        r.iter()
            .rev()
            .skip(1)
            .take(r.len().saturating_sub(2))
            .map(|&i| (i, 0)),
    );
    e
}

/// Clips a ring to the half plane `lon <= limit` (`keep_west`) or `lon >= limit`
/// (Sutherland–Hodgman against one edge).
fn clip(ring: &[[f64; 2]], limit: f64, keep_west: bool) -> Vec<[f64; 2]> {
    let inside = |p: &[f64; 2]| {
        if keep_west {
            p[0] <= limit
        } else {
            p[0] >= limit
        }
    };
    let mut out = Vec::new();
    for k in 0..ring.len() {
        let (a, b) = (ring[k], ring[(k + 1) % ring.len()]);
        if inside(&a) {
            out.push(a);
        }
        if inside(&a) != inside(&b) {
            let t = (limit - a[0]) / (b[0] - a[0]);
            out.push([limit, a[1] + t * (b[1] - a[1])]);
        }
    }
    out
}

fn closed(mut ring: Vec<[f64; 2]>) -> Option<Vec<[f64; 2]>> {
    ring.dedup();
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    if ring.len() < 3 {
        return None;
    }
    ring.push(ring[0]);
    Some(ring)
}

/// Outline polygons (closed outer rings, longitudes in -180..180) of 2-D coordinates
/// given row by row; `None` where no outline can stand for the footprint: missing
/// values on the edge, or an edge going all the way round the earth (over a pole).
pub fn outline(lon: &[f64], lat: &[f64], rows: usize, cols: usize) -> Option<Vec<Vec<[f64; 2]>>> {
    if rows < 2 || cols < 2 || lon.len() != rows * cols || lat.len() != rows * cols {
        return None;
    }
    let mut ring: Vec<[f64; 2]> = Vec::new();
    for (i, j) in edge(rows, cols) {
        let (x, y) = (lon[i * cols + j], lat[i * cols + j]);
        if !x.is_finite() || !y.is_finite() || x.abs() > 720.0 || y.abs() > 90.0 {
            return None;
        }
        // Unwrapped: each vertex within half a turn of the one before.
        let x = match ring.last() {
            Some(p) => x - 360.0 * ((x - p[0]) / 360.0).round(),
            None => x,
        };
        ring.push([x, y]);
    }
    // An edge that does not close on itself after unwrapping circles a pole.
    let (first, last) = (ring[0], ring[ring.len() - 1]);
    if (first[0] - last[0]).abs() > 180.0 {
        return None;
    }
    let west = ring.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min);
    let turns = ((west + 180.0) / 360.0).floor();
    for p in &mut ring {
        p[0] -= 360.0 * turns;
    }
    let east = ring.iter().map(|p| p[0]).fold(f64::NEG_INFINITY, f64::max);
    if east <= 180.0 {
        return Some(vec![closed(ring)?]);
    }
    let west_part = clip(&ring, 180.0, true);
    let mut east_part = clip(&ring, 180.0, false);
    for p in &mut east_part {
        p[0] -= 360.0;
    }
    Some(
        [west_part, east_part]
            .into_iter()
            .filter_map(closed)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tilted swath: rows going north, cells across with a shift per row.
    fn swath(rows: usize, cols: usize, lon0: f64) -> (Vec<f64>, Vec<f64>) {
        let mut lon = Vec::new();
        let mut lat = Vec::new();
        for i in 0..rows {
            for j in 0..cols {
                lon.push(lon0 + i as f64 * 0.5 + j as f64);
                lat.push(-10.0 + i as f64);
            }
        }
        (lon, lat)
    }

    #[test]
    fn outline_of_a_swath_follows_its_edges() {
        let (lon, lat) = swath(5, 3, 10.0);
        let rings = outline(&lon, &lat, 5, 3).unwrap();
        assert_eq!(rings.len(), 1);
        assert_eq!(
            rings[0],
            vec![
                [10.0, -10.0],
                [11.0, -10.0],
                [12.0, -10.0],
                [12.5, -9.0],
                [13.0, -8.0],
                [13.5, -7.0],
                [14.0, -6.0],
                [13.0, -6.0],
                [12.0, -6.0],
                [11.5, -7.0],
                [11.0, -8.0],
                [10.5, -9.0],
                [10.0, -10.0],
            ]
        );
    }

    #[test]
    fn crossing_the_antimeridian_splits_in_two() {
        let (lon, lat) = swath(5, 3, 178.0);
        let lon: Vec<f64> = lon
            .iter()
            .map(|x| if *x > 180.0 { x - 360.0 } else { *x })
            .collect();
        let rings = outline(&lon, &lat, 5, 3).unwrap();
        assert_eq!(rings.len(), 2);
        assert!(rings[0].iter().all(|p| p[0] >= 178.0 && p[0] <= 180.0));
        assert!(rings[1].iter().all(|p| p[0] >= -180.0 && p[0] <= -177.0));
        assert!(rings.iter().all(|r| r.first() == r.last()));
    }

    #[test]
    fn large_arrays_are_thinned_and_missing_edges_give_none() {
        let (lon, lat) = swath(1000, 200, -30.0);
        // Rows 0.05 degrees apart, so the swath stays between the poles.
        let mut lat: Vec<f64> = lat.iter().map(|y| -10.0 + (y + 10.0) * 0.05).collect();
        let rings = outline(&lon, &lat, 1000, 200).unwrap();
        assert!(rings[0].len() <= 4 * PER_SIDE + 8, "{}", rings[0].len());
        lat[0] = f64::NAN;
        assert!(outline(&lon, &lat, 1000, 200).is_none());
    }
}
