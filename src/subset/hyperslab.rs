//! `Hyperslab`: start, stride and count along each dimension of a variable.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SubsetError {
    #[error("expected {expected} dimension ranges, got {got}")]
    Rank { expected: usize, got: usize },
    #[error("dimension {dim}: stride must be at least 1")]
    ZeroStride { dim: usize },
    #[error("dimension {dim}: start {start} is past the last index of a dimension of length {len}")]
    StartOutOfRange {
        dim: usize,
        start: usize,
        len: usize,
    },
    #[error("dimension {dim}: stop {stop} is past the last index of a dimension of length {len}")]
    StopOutOfRange { dim: usize, stop: usize, len: usize },
    #[error("dimension {dim}: start {start} is after stop {stop}")]
    StartAfterStop {
        dim: usize,
        start: usize,
        stop: usize,
    },
    /// Element counts or byte sizes that do not fit the machine's integers: no real
    /// variable is that large, so the request is wrong.
    #[error("the selection is too large to count ({0} overflows)")]
    Overflow(&'static str),
    #[error("{0}")]
    Coordinate(String),
}

impl crate::error::Kinded for SubsetError {
    fn kind(&self) -> crate::error::ErrorKind {
        crate::error::ErrorKind::BadRequest
    }
}

/// The selection along one dimension: `count` indices from `start`, `stride` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DimSlice {
    pub start: usize,
    pub stride: usize,
    pub count: usize,
}

impl DimSlice {
    pub fn full(len: usize) -> DimSlice {
        DimSlice {
            start: 0,
            stride: 1,
            count: len,
        }
    }

    pub fn index(i: usize) -> DimSlice {
        DimSlice {
            start: i,
            stride: 1,
            count: 1,
        }
    }

    /// The DAP form `[start:stride:stop]`, `stop` included, checked against `len`.
    /// Compared as `usize` (a cast to a signed type would let indices ≥ 2^63 pass), and
    /// a single selected index gets stride 1: the stride cannot matter, and readers
    /// such as netCDF-3 refuse strides ≥ 2^31 − 1 even then.
    pub fn from_inclusive(
        dim: usize,
        start: usize,
        stride: usize,
        stop: usize,
        len: usize,
    ) -> Result<DimSlice, SubsetError> {
        if stride == 0 {
            return Err(SubsetError::ZeroStride { dim });
        }
        if start >= len {
            return Err(SubsetError::StartOutOfRange { dim, start, len });
        }
        if stop >= len {
            return Err(SubsetError::StopOutOfRange { dim, stop, len });
        }
        if start > stop {
            return Err(SubsetError::StartAfterStop { dim, start, stop });
        }
        // stop - start < len, so neither this nor `last` can overflow.
        let count = (stop - start) / stride + 1;
        Ok(DimSlice {
            start,
            stride: if count == 1 { 1 } else { stride },
            count,
        })
    }

    /// The last index selected (start when count is 0); `None` if it does not fit a
    /// `usize` (only a slice built by hand can do that).
    pub fn checked_last(&self) -> Option<usize> {
        self.count
            .saturating_sub(1)
            .checked_mul(self.stride)
            .and_then(|n| n.checked_add(self.start))
    }

    /// The last index selected (start when count is 0), saturating.
    pub fn last(&self) -> usize {
        self.checked_last().unwrap_or(usize::MAX)
    }

    /// The indices selected, in order.
    pub fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.count).map(move |k| self.start + k * self.stride)
    }
}

/// A rectangular, possibly strided, selection of a variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Hyperslab {
    pub dims: Vec<DimSlice>,
}

impl Hyperslab {
    pub fn new(dims: Vec<DimSlice>) -> Self {
        Hyperslab { dims }
    }

    /// The whole of a variable of this shape.
    pub fn full(shape: &[usize]) -> Self {
        Hyperslab {
            dims: shape.iter().map(|&n| DimSlice::full(n)).collect(),
        }
    }

    pub fn rank(&self) -> usize {
        self.dims.len()
    }

    /// Shape of the selected array.
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().map(|d| d.count).collect()
    }

    /// Number of elements selected; `None` if the product overflows.
    pub fn checked_num_elements(&self) -> Option<usize> {
        self.dims
            .iter()
            .try_fold(1usize, |n, d| n.checked_mul(d.count))
    }

    /// Number of elements selected, saturating at `usize::MAX` (never wrapping to a
    /// small number); requests are validated with `checked_bytes` first.
    pub fn num_elements(&self) -> usize {
        self.checked_num_elements().unwrap_or(usize::MAX)
    }

    /// Bytes of the selection at `elem_bytes` per element, checked.
    pub fn checked_bytes(&self, elem_bytes: usize) -> Result<u64, SubsetError> {
        self.checked_num_elements()
            .and_then(|n| n.checked_mul(elem_bytes))
            .and_then(|n| u64::try_from(n).ok())
            .ok_or(SubsetError::Overflow("the byte size"))
    }

    /// Row-major positions, in a whole array of `shape`, of the elements selected, in
    /// order: for selecting from values already in memory.
    pub fn linear_indices(&self, shape: &[usize]) -> Vec<usize> {
        let mut out = vec![0usize];
        let mut stride = 1usize;
        let mut strides = vec![0usize; shape.len()];
        for (d, &n) in shape.iter().enumerate().rev() {
            strides[d] = stride;
            stride *= n;
        }
        for (s, &step) in self.dims.iter().zip(&strides) {
            out = out
                .iter()
                .flat_map(|&base| s.indices().map(move |i| base + i * step))
                .collect();
        }
        out
    }

    /// Checks that the selection fits a variable of `shape`.
    pub fn validate(&self, shape: &[usize]) -> Result<(), SubsetError> {
        if self.dims.len() != shape.len() {
            return Err(SubsetError::Rank {
                expected: shape.len(),
                got: self.dims.len(),
            });
        }
        for (dim, (s, &len)) in self.dims.iter().zip(shape).enumerate() {
            if s.stride == 0 {
                return Err(SubsetError::ZeroStride { dim });
            }
            if s.count == 0 {
                continue;
            }
            if s.start >= len {
                return Err(SubsetError::StartOutOfRange {
                    dim,
                    start: s.start,
                    len,
                });
            }
            match s.checked_last() {
                Some(last) if last < len => {}
                last => {
                    return Err(SubsetError::StopOutOfRange {
                        dim,
                        stop: last.unwrap_or(usize::MAX),
                        len,
                    });
                }
            }
        }
        Ok(())
    }

    /// The selection of `inner` taken within this one: index `i` of `inner` along a
    /// dimension is index `start + i * stride` of the variable.
    pub fn compose(&self, inner: &Hyperslab) -> Result<Hyperslab, SubsetError> {
        let dims = self
            .dims
            .iter()
            .zip(&inner.dims)
            .map(|(o, i)| {
                let start = i
                    .start
                    .checked_mul(o.stride)
                    .and_then(|n| n.checked_add(o.start));
                let stride = o.stride.checked_mul(i.stride);
                match (start, stride) {
                    (Some(start), Some(stride)) => Ok(DimSlice {
                        start,
                        stride,
                        count: i.count,
                    }),
                    _ => Err(SubsetError::Overflow("a composed index")),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Hyperslab { dims })
    }

    /// Splits the selection into consecutive pieces of at most `max_elements` each
    /// (at least one row of the innermost dimension), whose results concatenated in
    /// order are the row-major result of the whole. Lets encoders stream with bounded
    /// memory.
    pub fn split(&self, max_elements: usize) -> Vec<Hyperslab> {
        let mut out = Vec::new();
        if self.num_elements() == 0 {
            out.push(self.clone());
            return out;
        }
        self.split_into(0, max_elements.max(1), &mut out);
        out
    }

    /// Like `split`, but a piece never exceeds `max_elements`: innermost rows longer
    /// than that are cut too (a 1-D variable of gigabytes is not read at once).
    pub fn split_bounded(&self, max_elements: usize) -> Vec<Hyperslab> {
        let max = max_elements.max(1);
        let mut out = Vec::new();
        for piece in self.split(max) {
            let Some(last) = piece.dims.last().copied() else {
                out.push(piece);
                continue;
            };
            if piece.num_elements() <= max {
                out.push(piece);
                continue;
            }
            // `split` leaves more than `max` only in single rows.
            let mut k = 0;
            while k < last.count {
                let n = max.min(last.count - k);
                let mut p = piece.clone();
                *p.dims.last_mut().expect("rank >= 1") = DimSlice {
                    start: last.start + k * last.stride,
                    stride: last.stride,
                    count: n,
                };
                out.push(p);
                k += n;
            }
        }
        out
    }

    fn split_into(&self, dim: usize, max: usize, out: &mut Vec<Hyperslab>) {
        if self.num_elements() <= max || dim + 1 >= self.dims.len() {
            out.push(self.clone());
            return;
        }
        let inner: usize = self.dims[dim + 1..].iter().map(|d| d.count).product();
        let d = self.dims[dim];
        if inner <= max {
            let rows = (max / inner).max(1);
            let mut k = 0;
            while k < d.count {
                let n = rows.min(d.count - k);
                let mut piece = self.clone();
                piece.dims[dim] = DimSlice {
                    start: d.start + k * d.stride,
                    stride: d.stride,
                    count: n,
                };
                out.push(piece);
                k += n;
            }
        } else {
            for k in 0..d.count {
                let mut piece = self.clone();
                piece.dims[dim] = DimSlice::index(d.start + k * d.stride);
                piece.split_into(dim + 1, max, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_indices_are_row_major_positions() {
        // [1][0:2:3] of a 3x4 array: row 1, columns 0 and 2.
        let slab = Hyperslab::new(vec![
            DimSlice::index(1),
            DimSlice {
                start: 0,
                stride: 2,
                count: 2,
            },
        ]);
        assert_eq!(slab.linear_indices(&[3, 4]), vec![4, 6]);
        assert_eq!(
            Hyperslab::full(&[2, 2]).linear_indices(&[2, 2]),
            vec![0, 1, 2, 3]
        );
        assert_eq!(Hyperslab::full(&[]).linear_indices(&[]), vec![0]);
    }

    #[test]
    fn inclusive_stop() {
        let s = DimSlice::from_inclusive(0, 10, 5, 30, 40).unwrap();
        assert_eq!(s.count, 5); // 10, 15, 20, 25, 30
        assert_eq!(s.indices().collect::<Vec<_>>(), vec![10, 15, 20, 25, 30]);
        assert_eq!(DimSlice::from_inclusive(0, 3, 1, 3, 4).unwrap().count, 1);
        assert_eq!(
            DimSlice::from_inclusive(1, 0, 1, 4, 4),
            Err(SubsetError::StopOutOfRange {
                dim: 1,
                stop: 4,
                len: 4
            })
        );
        assert!(matches!(
            DimSlice::from_inclusive(0, 3, 1, 2, 4),
            Err(SubsetError::StartAfterStop { .. })
        ));
        assert!(matches!(
            DimSlice::from_inclusive(0, 0, 0, 2, 4),
            Err(SubsetError::ZeroStride { .. })
        ));
    }

    /// Found by fuzzing the DAP2 constraint parser (`sst[0:1:1][0:18446744073709551615]`):
    /// indices of 2^63 and more passed the bounds checks (compared as i64), then the
    /// count overflowed, or a selection of 2^63 elements reached the reader.
    #[test]
    fn huge_indices_are_out_of_range() {
        assert!(matches!(
            DimSlice::from_inclusive(1, 0, 1, usize::MAX, 4),
            Err(SubsetError::StopOutOfRange { .. })
        ));
        assert!(matches!(
            DimSlice::from_inclusive(1, 1 << 63, 1, usize::MAX, 4),
            Err(SubsetError::StartOutOfRange { .. })
        ));
        assert!(matches!(
            DimSlice::from_inclusive(0, 0, 1, 0, 0),
            Err(SubsetError::StartOutOfRange { .. })
        ));
        let huge = |start, stride, count| {
            Hyperslab::new(vec![DimSlice {
                start,
                stride,
                count,
            }])
        };
        assert!(huge(1 << 63, 1, 1 << 63).validate(&[4]).is_err());
        assert!(huge(2, usize::MAX, 2).validate(&[4]).is_err());
        assert!(huge(0, 1, usize::MAX).validate(&[4]).is_err());
        assert!(huge(3, 1, 1).validate(&[4]).is_ok());
    }

    #[test]
    fn validation() {
        let h = Hyperslab::full(&[3, 4]);
        assert!(h.validate(&[3, 4]).is_ok());
        assert!(matches!(h.validate(&[3]), Err(SubsetError::Rank { .. })));
        assert!(h.validate(&[2, 4]).is_err());
        assert_eq!(h.num_elements(), 12);
    }

    #[test]
    fn split_preserves_order_and_bounds() {
        let h = Hyperslab::new(vec![
            DimSlice {
                start: 1,
                stride: 2,
                count: 3,
            },
            DimSlice {
                start: 0,
                stride: 1,
                count: 5,
            },
            DimSlice {
                start: 2,
                stride: 3,
                count: 4,
            },
        ]);
        for max in [1, 3, 4, 7, 20, 21, 1000] {
            let pieces = h.split(max);
            let mut seen = Vec::new();
            for p in &pieces {
                assert!(p.num_elements() <= max.max(4), "{max}: {p:?}");
                for a in p.dims[0].indices() {
                    for b in p.dims[1].indices() {
                        for c in p.dims[2].indices() {
                            seen.push((a, b, c));
                        }
                    }
                }
            }
            let mut all = Vec::new();
            for a in h.dims[0].indices() {
                for b in h.dims[1].indices() {
                    for c in h.dims[2].indices() {
                        all.push((a, b, c));
                    }
                }
            }
            assert_eq!(seen, all, "max {max}");
        }
    }

    #[test]
    fn split_bounded_cuts_long_rows() {
        let h = Hyperslab::new(vec![
            DimSlice::full(2),
            DimSlice {
                start: 1,
                stride: 3,
                count: 10,
            },
        ]);
        let pieces = h.split_bounded(4);
        assert!(pieces.iter().all(|p| p.num_elements() <= 4));
        let mut seen = Vec::new();
        for p in &pieces {
            for a in p.dims[0].indices() {
                for b in p.dims[1].indices() {
                    seen.push((a, b));
                }
            }
        }
        let all: Vec<(usize, usize)> = h.dims[0]
            .indices()
            .flat_map(|a| h.dims[1].indices().map(move |b| (a, b)))
            .collect();
        assert_eq!(seen, all);
        assert_eq!(Hyperslab::full(&[]).split_bounded(1).len(), 1);
    }

    #[test]
    fn compose_nested() {
        let outer = Hyperslab::new(vec![DimSlice {
            start: 10,
            stride: 2,
            count: 5,
        }]);
        let inner = Hyperslab::new(vec![DimSlice {
            start: 1,
            stride: 2,
            count: 2,
        }]);
        assert_eq!(
            outer.compose(&inner).unwrap().dims[0]
                .indices()
                .collect::<Vec<_>>(),
            vec![12, 16]
        );
    }

    const HUGE: usize = 1 << 63;

    #[test]
    fn indices_past_i64_are_out_of_range_not_negative() {
        // `as i64` made 2^63 and u64::MAX negative, so they passed the bound checks.
        for big in [HUGE, usize::MAX, HUGE + 1] {
            assert_eq!(
                DimSlice::from_inclusive(0, 0, 2, big, 10),
                Err(SubsetError::StopOutOfRange {
                    dim: 0,
                    stop: big,
                    len: 10
                })
            );
            assert_eq!(
                DimSlice::from_inclusive(2, big, 1, big, 10),
                Err(SubsetError::StartOutOfRange {
                    dim: 2,
                    start: big,
                    len: 10
                })
            );
        }
        // An empty dimension has no index at all.
        assert!(matches!(
            DimSlice::from_inclusive(0, 0, 1, 0, 0),
            Err(SubsetError::StartOutOfRange { len: 0, .. })
        ));
    }

    #[test]
    fn stop_before_start_and_stop_beyond_length() {
        assert!(matches!(
            DimSlice::from_inclusive(0, 5, 1, 2, 10),
            Err(SubsetError::StartAfterStop {
                start: 5,
                stop: 2,
                ..
            })
        ));
        assert!(matches!(
            DimSlice::from_inclusive(0, 0, 1, 10, 10),
            Err(SubsetError::StopOutOfRange { stop: 10, .. })
        ));
        assert_eq!(DimSlice::from_inclusive(0, 9, 1, 9, 10).unwrap().count, 1);
    }

    #[test]
    fn huge_strides_select_one_index_with_stride_one() {
        // netCDF-3 refuses strides >= 2^31 - 1 even for one index: normalised away.
        for stride in [(1 << 31) - 1, 1 << 31, HUGE, usize::MAX] {
            let s = DimSlice::from_inclusive(0, 0, stride, 0, 1).unwrap();
            assert_eq!(s, DimSlice::index(0), "{stride}");
            let s = DimSlice::from_inclusive(0, 3, stride, 9, 10).unwrap();
            assert_eq!(s, DimSlice::index(3), "{stride}");
        }
        let s = DimSlice::from_inclusive(0, 0, (1 << 31) - 1, usize::MAX - 1, usize::MAX).unwrap();
        // Strides that large stay when they select several indices, and `last` fits.
        let stride = (1 << 31) - 1;
        assert_eq!(s.count, (usize::MAX - 1) / stride + 1);
        assert_eq!(s.stride, stride);
        assert!(s.checked_last().is_some_and(|l| l < usize::MAX));
    }

    #[test]
    fn counts_and_sizes_are_checked() {
        let big = Hyperslab::new(vec![DimSlice::full(1 << 40), DimSlice::full(1 << 40)]);
        assert_eq!(big.checked_num_elements(), None);
        assert_eq!(big.num_elements(), usize::MAX, "saturates, never wraps");
        assert!(matches!(
            big.checked_bytes(4),
            Err(SubsetError::Overflow(_))
        ));
        let h = Hyperslab::new(vec![DimSlice::full(1 << 61)]);
        assert_eq!(h.checked_num_elements(), Some(1 << 61));
        assert!(h.checked_bytes(8).is_err());
        assert_eq!(Hyperslab::full(&[3, 4]).checked_bytes(8), Ok(96));
        assert_eq!(Hyperslab::full(&[]).checked_bytes(8), Ok(8));
    }

    #[test]
    fn validate_catches_overflowing_hand_built_slices() {
        let wraps = DimSlice {
            start: 5,
            stride: HUGE,
            count: 3,
        };
        assert_eq!(wraps.checked_last(), None);
        assert_eq!(wraps.last(), usize::MAX);
        assert!(matches!(
            Hyperslab::new(vec![wraps]).validate(&[10]),
            Err(SubsetError::StopOutOfRange { .. })
        ));
        let far = Hyperslab::new(vec![DimSlice::index(HUGE)]);
        assert!(matches!(
            far.validate(&[10]),
            Err(SubsetError::StartOutOfRange { .. })
        ));
        let outer = Hyperslab::new(vec![DimSlice {
            start: 0,
            stride: HUGE,
            count: 1,
        }]);
        assert!(
            outer
                .compose(&Hyperslab::new(vec![DimSlice {
                    start: 0,
                    stride: 2,
                    count: 1,
                }]))
                .is_err()
        );
    }
}
