//! What a query answers, before any value is read: coverages made of output axes,
//! each axis a list of index tuples into the variables' dimensions with the
//! coordinates to print, and an optional mask of grid cells outside the query shape.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use super::collection::Param;
use super::error::{EdrError, EdrResult};
use crate::catalog::Dataset;
use crate::subset::{DimSlice, Hyperslab};

/// A coordinate printed in the domain or a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Coord {
    Time(String),
    Num(f64),
}

/// One output axis: `len()` entries, each an index tuple into `dims` and a coordinate
/// tuple named by `components`.
#[derive(Debug, Clone)]
pub struct OutAxis {
    /// `t`, `z`, `y`, `x` or `composite`.
    pub name: &'static str,
    pub components: Vec<&'static str>,
    pub dims: Vec<usize>,
    pub tuples: Vec<usize>,
    pub coords: Vec<Coord>,
}

impl OutAxis {
    /// A one-dimension axis.
    pub fn simple(name: &'static str, dim: usize, idx: Vec<usize>, coords: Vec<Coord>) -> OutAxis {
        OutAxis {
            name,
            components: vec![name],
            dims: vec![dim],
            tuples: idx,
            coords,
        }
    }

    pub fn len(&self) -> usize {
        self.tuples.len() / self.dims.len().max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn tuple(&self, k: usize) -> &[usize] {
        let n = self.dims.len();
        &self.tuples[k * n..(k + 1) * n]
    }

    pub fn coord(&self, k: usize) -> &[Coord] {
        let n = self.components.len();
        &self.coords[k * n..(k + 1) * n]
    }
}

/// Grid cells to leave out (null in CoverageJSON, no row in CSV/GeoJSON).
#[derive(Debug, Clone)]
pub struct Mask {
    pub y_axis: usize,
    pub x_axis: usize,
    /// Row-major over (y, x) output positions.
    pub keep: Vec<bool>,
}

/// One coverage of the answer: parameters of one group over one domain.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub group: usize,
    pub domain_type: &'static str,
    pub axes: Vec<OutAxis>,
    pub mask: Option<Mask>,
    /// Indices into the collection's parameters.
    pub params: Vec<usize>,
    /// Rank of the parameters' variables.
    pub rank: usize,
    /// Values chosen on the group's custom dimensions (`custom.rs`).
    pub fixed: Vec<super::custom_axis::Fixed>,
}

impl Coverage {
    pub fn shape(&self) -> Vec<usize> {
        self.axes.iter().map(OutAxis::len).collect()
    }

    /// Axes named in the ranges: all for a Grid, else those with more than one value.
    pub fn range_axes(&self) -> Vec<usize> {
        (0..self.axes.len())
            .filter(|&k| self.domain_type == "Grid" || self.axes[k].len() > 1)
            .collect()
    }

    pub fn kept(&self, out_index: &[usize]) -> bool {
        match &self.mask {
            None => true,
            Some(m) => {
                let nx = self.axes[m.x_axis].len();
                m.keep[out_index[m.y_axis] * nx + out_index[m.x_axis]]
            }
        }
    }

    /// Ranges of the first axis read at once, so that one read stays near `block_bytes`.
    pub fn chunks(&self, elem: u64, block_bytes: usize) -> Vec<(usize, usize)> {
        let shape = self.shape();
        let inner: u64 = shape
            .iter()
            .skip(1)
            .map(|&n| n as u64)
            .product::<u64>()
            .max(1);
        let per = ((block_bytes as u64) / (inner * elem.max(1))).max(1) as usize;
        let n0 = shape.first().copied().unwrap_or(1);
        (0..n0)
            .step_by(per)
            .map(|a| (a, (a + per).min(n0)))
            .collect()
    }

    /// The entries of each axis a chunk covers (axis 0 restricted to the chunk).
    fn views(&self, chunk: (usize, usize)) -> Vec<Range<usize>> {
        (0..self.axes.len())
            .map(|k| {
                if k == 0 {
                    chunk.0..chunk.1
                } else {
                    0..self.axes[k].len()
                }
            })
            .collect()
    }

    fn dim_indices(&self, views: &[Range<usize>]) -> Vec<BTreeSet<usize>> {
        let mut sets = vec![BTreeSet::new(); self.rank];
        for (ax, range) in self.axes.iter().zip(views) {
            for t in range.clone() {
                for (pos, &d) in ax.dims.iter().enumerate() {
                    sets[d].insert(ax.tuple(t)[pos]);
                }
            }
        }
        // A dimension no axis sets is a custom dimension at its chosen value, or one of
        // length 1 (see `collection::build_group`): its only index.
        for (d, set) in sets.iter_mut().enumerate() {
            if !self.axes.iter().any(|a| a.dims.contains(&d)) {
                set.insert(
                    self.fixed
                        .iter()
                        .find(|f| f.dim == d)
                        .map_or(0, |f| f.index),
                );
            }
        }
        sets
    }

    /// A composite axis whose points are scattered makes the box of their rows ×
    /// columns much larger than the points: then each point is read on its own.
    fn split_axis(&self, views: &[Range<usize>]) -> Option<usize> {
        let k = self.axes.iter().position(|a| a.dims.len() > 1)?;
        let boxed: u64 = self
            .dim_indices(views)
            .iter()
            .map(|s| s.len() as u64)
            .product();
        let wanted: u64 = views.iter().map(|r| r.len() as u64).product();
        (boxed > 8 * wanted + 64).then_some(k)
    }

    /// The read pieces of a chunk: the whole chunk, or one per point of a split axis.
    fn pieces(&self, chunk: (usize, usize)) -> Vec<Vec<Range<usize>>> {
        let views = self.views(chunk);
        match self.split_axis(&views) {
            None => vec![views],
            Some(k) => views[k]
                .clone()
                .map(|e| {
                    let mut v = views.clone();
                    v[k] = e..e + 1;
                    v
                })
                .collect(),
        }
    }

    /// Bytes read from the file for one parameter of element size `elem`.
    pub fn read_bytes(&self, elem: u64, block_bytes: usize) -> u64 {
        let mut total = 0u64;
        for c in self.chunks(elem, block_bytes) {
            for piece in self.pieces(c) {
                total += self
                    .dim_indices(&piece)
                    .iter()
                    .map(|s| s.len() as u64)
                    .product::<u64>();
            }
        }
        total * elem
    }

    /// The decoded values of `param` for the output positions of `chunk` (row-major,
    /// masked cells as NaN).
    pub async fn read_chunk(
        &self,
        ds: &Dataset,
        param: &Param,
        chunk: (usize, usize),
    ) -> EdrResult<Vec<f64>> {
        let views = self.views(chunk);
        let pieces = self.pieces(chunk);
        if pieces.len() == 1 {
            return self.read_piece(ds, param, &views).await;
        }
        // Scatter each point's values into the chunk's row-major order.
        let k = self.split_axis(&views).unwrap_or(0);
        let shape: Vec<usize> = views.iter().map(|r| r.len()).collect();
        let mut out = vec![f64::NAN; shape.iter().product()];
        let inner: usize = shape[k + 1..].iter().product();
        let outer: usize = shape[..k].iter().product();
        for piece in &pieces {
            let e = piece[k].start - views[k].start;
            let vals = self.read_piece(ds, param, piece).await?;
            // `vals` has shape `shape` with axis k of length 1.
            for o in 0..outer {
                let src = o * inner;
                let dst = (o * shape[k] + e) * inner;
                out[dst..dst + inner].copy_from_slice(&vals[src..src + inner]);
            }
        }
        Ok(out)
    }

    async fn read_piece(
        &self,
        ds: &Dataset,
        param: &Param,
        views: &[Range<usize>],
    ) -> EdrResult<Vec<f64>> {
        let sets = self.dim_indices(views);
        if sets.iter().any(BTreeSet::is_empty) {
            return Err(EdrError::Internal("a dimension has no selection".into()));
        }
        let runs: Vec<Vec<DimSlice>> = sets.iter().map(runs_of).collect();
        // Where each selected index sits: (run, position in run).
        let lookup: Vec<HashMap<usize, (usize, usize)>> = runs
            .iter()
            .map(|rs| {
                let mut m = HashMap::new();
                for (r, s) in rs.iter().enumerate() {
                    for (p, i) in s.indices().enumerate() {
                        m.insert(i, (r, p));
                    }
                }
                m
            })
            .collect();
        // One read per combination of runs (one in the common case).
        let radix: Vec<usize> = runs.iter().map(Vec::len).collect();
        let combos: usize = radix.iter().product();
        let mut blocks: Vec<(Vec<f64>, Vec<usize>)> = Vec::with_capacity(combos);
        for c in 0..combos {
            let mut rem = c;
            let mut dims = vec![DimSlice::full(0); self.rank];
            for d in (0..self.rank).rev() {
                dims[d] = runs[d][rem % radix[d]];
                rem /= radix[d];
            }
            let slab = Hyperslab::new(dims);
            let shape = slab.shape();
            let arr = ds.read(&param.var.path, &slab).await?;
            let values = param.packing.decode_values(&arr.values);
            let mut strides = vec![1usize; self.rank];
            for d in (0..self.rank.saturating_sub(1)).rev() {
                strides[d] = strides[d + 1] * shape[d + 1];
            }
            blocks.push((values, strides));
        }
        // For each entry of each output axis in view, the (dimension, run, position)
        // of each dimension it sets: looked up once here, not per value.
        let entries: Vec<Vec<Vec<(usize, usize, usize)>>> = self
            .axes
            .iter()
            .zip(views)
            .map(|(ax, range)| {
                range
                    .clone()
                    .map(|t| {
                        ax.dims
                            .iter()
                            .enumerate()
                            .map(|(pos, &d)| {
                                let (r, p) = lookup[d][&ax.tuple(t)[pos]];
                                (d, r, p)
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let mut mult = vec![1usize; self.rank];
        for d in (0..self.rank.saturating_sub(1)).rev() {
            mult[d] = mult[d + 1] * radix[d + 1];
        }
        let shape: Vec<usize> = entries.iter().map(Vec::len).collect();
        let total: usize = shape.iter().product();
        let mut out = Vec::with_capacity(total);
        let mut idx = vec![0usize; shape.len()];
        for _ in 0..total {
            let kept = match &self.mask {
                None => true,
                Some(m) => {
                    let global = |k: usize| views[k].start + idx[k];
                    let nx = self.axes[m.x_axis].len();
                    m.keep[global(m.y_axis) * nx + global(m.x_axis)]
                }
            };
            let value = if kept {
                let mut combo = 0;
                for (k, e) in entries.iter().enumerate() {
                    for &(d, r, _) in &e[idx[k]] {
                        combo += r * mult[d];
                    }
                }
                let (values, strides) = &blocks[combo];
                let mut off = 0;
                for (k, e) in entries.iter().enumerate() {
                    for &(d, _, p) in &e[idx[k]] {
                        off += p * strides[d];
                    }
                }
                values[off]
            } else {
                f64::NAN
            };
            out.push(value);
            // Odometer over the output shape.
            for k in (0..shape.len()).rev() {
                idx[k] += 1;
                if idx[k] < shape[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
        Ok(out)
    }
}

/// Sorted indices split into arithmetic progressions (each one strided read).
fn runs_of(set: &BTreeSet<usize>) -> Vec<DimSlice> {
    let v: Vec<usize> = set.iter().copied().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let start = v[i];
        if i + 1 == v.len() {
            out.push(DimSlice::index(start));
            break;
        }
        let step = v[i + 1] - start;
        let mut j = i + 1;
        while j + 1 < v.len() && v[j + 1] - v[j] == step {
            j += 1;
        }
        out.push(DimSlice {
            start,
            stride: step,
            count: j - i + 1,
        });
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs() {
        let s: BTreeSet<usize> = [0, 1, 2, 16, 17].into_iter().collect();
        let r = runs_of(&s);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].start, r[0].stride, r[0].count), (0, 1, 3));
        assert_eq!((r[1].start, r[1].stride, r[1].count), (16, 1, 2));
        let s: BTreeSet<usize> = [3, 50, 97, 98].into_iter().collect();
        let r = runs_of(&s);
        assert_eq!((r[0].start, r[0].stride, r[0].count), (3, 47, 3));
        assert_eq!((r[1].start, r[1].count), (98, 1));
    }

    #[test]
    fn chunking_and_sizes() {
        let cov = Coverage {
            group: 0,
            domain_type: "Grid",
            axes: vec![
                OutAxis::simple("t", 0, vec![0, 1, 2], vec![Coord::Num(0.0); 3]),
                OutAxis::simple("y", 1, vec![4, 5], vec![Coord::Num(0.0); 2]),
                OutAxis::simple("x", 2, vec![17, 0], vec![Coord::Num(0.0); 2]),
            ],
            mask: None,
            params: vec![0],
            rank: 3,
            fixed: Vec::new(),
        };
        assert_eq!(cov.chunks(4, 16), vec![(0, 1), (1, 2), (2, 3)]);
        assert_eq!(cov.chunks(4, 1 << 20), vec![(0, 3)]);
        assert_eq!(cov.read_bytes(4, 1 << 20), 3 * 2 * 2 * 4);
        assert_eq!(cov.range_axes(), vec![0, 1, 2]);
    }

    #[test]
    fn scattered_points_are_read_one_by_one() {
        // 40 points on a diagonal of a (y, x) grid: their box is 40 x 40 cells.
        let n = 40;
        let tuples: Vec<usize> = (0..n).flat_map(|k| [k, k]).collect();
        let cov = Coverage {
            group: 0,
            domain_type: "Trajectory",
            axes: vec![OutAxis {
                name: "composite",
                components: vec!["x", "y"],
                dims: vec![0, 1],
                tuples,
                coords: vec![Coord::Num(0.0); 2 * n],
            }],
            mask: None,
            params: vec![0],
            rank: 2,
            fixed: Vec::new(),
        };
        assert_eq!(cov.pieces((0, n)).len(), n);
        assert_eq!(cov.read_bytes(4, 1 << 20), 4 * n as u64);
        // Three neighbours stay one read.
        assert_eq!(cov.pieces((0, 3)).len(), 1);
    }
}
