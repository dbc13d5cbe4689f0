//! What every `Reader` must do, checked on a real dataset: consistent metadata, reads
//! that agree with each other however a selection is cut, errors (never panics) for bad
//! selections, and a chunk layout that agrees with the chunk index. A new reader runs
//! `check` on its test files; the NetCDF readers and aggregations do.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;

use super::{ReadError, Reader};
use crate::model::{Array, ArrayValues, ChunkIndex, DatasetMeta, Variable};
use crate::subset::{DimSlice, Hyperslab};

/// Variables larger than this are checked for metadata and errors only: whole reads of
/// them would make the check slow, and the fixtures are far smaller.
const MAX_CHECKED_ELEMENTS: usize = 1 << 22;

/// Every way `reader` breaks the contract, one line each (empty: it conforms).
pub async fn check(reader: &dyn Reader) -> Vec<String> {
    let meta = reader.metadata();
    let mut problems = metadata_problems(&meta);
    for var in meta.variables() {
        let mut found = Vec::new();
        if var.num_elements() <= MAX_CHECKED_ELEMENTS {
            read_problems(reader, var, &mut found).await;
        }
        bad_selection_problems(reader, var, &mut found).await;
        layout_problems(reader, var, &mut found).await;
        problems.extend(found.into_iter().map(|p| format!("{}: {p}", var.path)));
    }
    let missing = read_caught(reader, "/no such variable", &Hyperslab::new(vec![])).await;
    if !matches!(missing, Ok(Err(ReadError::NoSuchVariable(_)))) {
        problems.push(format!("an unknown variable gave {missing:?}"));
    }
    problems
}

/// Each variable's dimensions exist, with the lengths the variable sees.
fn metadata_problems(meta: &DatasetMeta) -> Vec<String> {
    let mut problems = Vec::new();
    for var in meta.variables() {
        for d in &var.dims {
            match meta.dimension(&d.path) {
                None => problems.push(format!("{}: no dimension {}", var.path, d.path)),
                Some(dim) if dim.len != d.len => problems.push(format!(
                    "{}: dimension {} has length {}, the variable sees {}",
                    var.path, d.path, dim.len, d.len
                )),
                Some(_) => {}
            }
        }
        if meta.variable(&var.path).map(|v| &v.path) != Some(&var.path) {
            problems.push(format!("{}: not found by its own path", var.path));
        }
    }
    problems
}

/// A read, with a panic turned into a problem instead of ending the check.
async fn read_caught(
    reader: &dyn Reader,
    path: &str,
    slab: &Hyperslab,
) -> Result<Result<Array, ReadError>, String> {
    AssertUnwindSafe(reader.read(path, slab))
        .catch_unwind()
        .await
        .map_err(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("?");
            format!("panicked reading {slab:?}: {message}")
        })
}

/// The whole variable equals its rows read one by one and concatenated, and strided
/// selections equal the same elements picked from the whole.
async fn read_problems(reader: &dyn Reader, var: &Variable, problems: &mut Vec<String>) {
    let shape = var.shape();
    let whole = match read_caught(reader, &var.path, &Hyperslab::full(&shape)).await {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => return problems.push(format!("whole read failed: {e}")),
        Err(p) => return problems.push(p),
    };
    if whole.shape != shape || whole.values.len() != var.num_elements() {
        problems.push(format!(
            "whole read has shape {:?} and {} values for shape {shape:?}",
            whole.shape,
            whole.values.len()
        ));
        return;
    }
    if whole.dtype() != var.dtype {
        problems.push(format!(
            "read {:?} for a {:?} variable",
            whole.dtype(),
            var.dtype
        ));
    }
    if shape.is_empty() || shape.contains(&0) {
        return;
    }
    let row = shape[shape.len() - 1];
    let mut joined: Option<ArrayValues> = None;
    for piece in Hyperslab::full(&shape).split(row) {
        match read_caught(reader, &var.path, &piece).await {
            Ok(Ok(a)) => match joined.as_mut() {
                None => joined = Some(a.values),
                Some(j) => {
                    if j.extend(a.values).is_err() {
                        return problems.push(format!("row {piece:?} changed type"));
                    }
                }
            },
            Ok(Err(e)) => return problems.push(format!("row read {piece:?} failed: {e}")),
            Err(p) => return problems.push(p),
        }
    }
    if !joined.is_some_and(|j| same_values(&j, &whole.values)) {
        problems.push("rows read one by one differ from the whole".into());
    }
    for (start, stride) in [(0, 2), (1, 3)] {
        let slab = Hyperslab::new(
            shape
                .iter()
                .map(|&len| {
                    let start = start.min(len - 1);
                    DimSlice {
                        start,
                        stride,
                        count: (len - start).div_ceil(stride),
                    }
                })
                .collect(),
        );
        let want = pick(&whole.values, &slab.linear_indices(&shape));
        match read_caught(reader, &var.path, &slab).await {
            Ok(Ok(a)) if a.shape == slab.shape() && same_values(&a.values, &want) => {}
            Ok(Ok(_)) => problems.push(format!("strided read {slab:?} differs from the whole")),
            Ok(Err(e)) => problems.push(format!("strided read {slab:?} failed: {e}")),
            Err(p) => problems.push(p),
        }
    }
}

/// Selections of the wrong rank or beyond the shape are errors, not panics or data.
async fn bad_selection_problems(reader: &dyn Reader, var: &Variable, problems: &mut Vec<String>) {
    let shape = var.shape();
    let mut bad = vec![Hyperslab::full(&[shape.clone(), vec![1]].concat())];
    if let Some(&len) = shape.first() {
        let mut past_end = Hyperslab::full(&shape);
        past_end.dims[0] = DimSlice::index(len);
        let mut too_long = Hyperslab::full(&shape);
        too_long.dims[0] = DimSlice::full(len + 1);
        bad.extend([past_end, too_long]);
    }
    for slab in bad {
        match read_caught(reader, &var.path, &slab).await {
            Ok(Err(_)) => {}
            Ok(Ok(_)) => problems.push(format!("the bad selection {slab:?} gave data")),
            Err(p) => problems.push(p),
        }
    }
}

/// `chunk_layout` is `chunk_index` without its chunks; the index fits the variable.
async fn layout_problems(reader: &dyn Reader, var: &Variable, problems: &mut Vec<String>) {
    // The layout first, so that it is computed on its own, not taken from a cached index.
    let layout = reader.chunk_layout(&var.path).await;
    let index = reader.chunk_index(&var.path).await;
    match (layout, index) {
        (Ok(None), Ok(None)) => {}
        (Ok(Some(layout)), Ok(Some(index))) => {
            if !layout.chunks.is_empty() {
                problems.push("chunk_layout lists chunks".into());
            }
            let mut bare = index.clone();
            bare.chunks.clear();
            if bare != layout {
                problems.push(format!(
                    "chunk_layout {layout:?} disagrees with chunk_index {bare:?}"
                ));
            }
            index_problems(&index, &var.shape(), problems);
        }
        (layout, index) => problems.push(format!(
            "chunk_layout gave {layout:?} but chunk_index {:?}",
            index.map(|i| i.map(|i| i.chunk_shape))
        )),
    }
}

fn index_problems(index: &ChunkIndex, shape: &[usize], problems: &mut Vec<String>) {
    if index.chunk_shape.len() != shape.len() || index.chunk_shape.contains(&0) {
        return problems.push(format!(
            "chunk shape {:?} for shape {shape:?}",
            index.chunk_shape
        ));
    }
    let grid: Vec<u64> = shape
        .iter()
        .zip(&index.chunk_shape)
        .map(|(&n, &c)| n.div_ceil(c).max(1) as u64)
        .collect();
    for chunk in &index.chunks {
        let inside =
            chunk.coords.len() == grid.len() && chunk.coords.iter().zip(&grid).all(|(c, g)| c < g);
        if !inside || chunk.size == 0 {
            problems.push(format!(
                "chunk {chunk:?} outside the grid {grid:?} or empty"
            ));
        }
    }
}

/// The elements of `values` at `indices`, in that order.
fn pick(values: &ArrayValues, indices: &[usize]) -> ArrayValues {
    macro_rules! take {
        ($($variant:ident),*) => {
            match values {
                $(ArrayValues::$variant(v) => {
                    ArrayValues::$variant(indices.iter().map(|&i| v[i].clone()).collect())
                })*
            }
        };
    }
    take!(I8, U8, I16, U16, I32, U32, I64, U64, F32, F64, Char, Str)
}

/// Equal values, NaN equal to the same NaN (floats compared by their bits).
fn same_values(a: &ArrayValues, b: &ArrayValues) -> bool {
    match (a, b) {
        (ArrayValues::F32(x), ArrayValues::F32(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        (ArrayValues::F64(x), ArrayValues::F64(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;
    use crate::readers::{FormatSpec, LocalReads, ReadersConfig, open};
    use crate::storage::{Location, Storage};

    async fn open_all(config: &ReadersConfig) -> (tempfile::TempDir, Vec<Arc<dyn Reader>>) {
        let dir = tempfile::tempdir().unwrap();
        let files = crate::fixtures::write_all(dir.path()).unwrap();
        let storage = Arc::new(Storage::default());
        let mut readers = Vec::new();
        for f in files {
            readers.push(open(&Location::Local(f), &storage, config).await.unwrap());
        }
        (dir, readers)
    }

    #[tokio::test]
    async fn netcdf_c_reader_conforms() {
        let netcdf_c = ReadersConfig {
            local_reads: LocalReads::NetcdfC,
            ..ReadersConfig::default()
        };
        let (_dir, readers) = open_all(&netcdf_c).await;
        for r in readers {
            assert_eq!(r.memory_budget(), 0, "not the netCDF-C reader");
            let problems = check(r.as_ref()).await;
            assert!(problems.is_empty(), "{}: {problems:#?}", r.format().name);
        }
    }

    #[tokio::test]
    async fn range_reader_conforms_on_local_files() {
        let native = ReadersConfig {
            local_reads: LocalReads::Native,
            ..ReadersConfig::default()
        };
        let (_dir, readers) = open_all(&native).await;
        for r in readers {
            assert!(r.memory_budget() > 0, "not the range reader");
            let problems = check(r.as_ref()).await;
            assert!(problems.is_empty(), "{}: {problems:#?}", r.format().name);
        }
    }

    /// A reader with the faults the check is for, over a correct one.
    struct Faulty(Arc<dyn Reader>);

    #[async_trait]
    impl Reader for Faulty {
        fn format(&self) -> &'static FormatSpec {
            self.0.format()
        }
        fn metadata(&self) -> Arc<DatasetMeta> {
            self.0.metadata()
        }
        async fn read(&self, path: &str, slab: &Hyperslab) -> Result<Array, ReadError> {
            let shape = self.0.metadata().variable(path).map(|v| v.shape());
            if shape.is_some_and(|s| s.len() != slab.rank()) {
                panic!("rank");
            }
            let mut a = self.0.read(path, slab).await?;
            // Strided reads of floats come back off by one.
            if slab.dims.iter().any(|d| d.stride > 1)
                && let ArrayValues::F32(v) = &mut a.values
            {
                v.iter_mut().for_each(|x| *x += 1.0);
            }
            Ok(a)
        }
        async fn chunk_index(&self, path: &str) -> Result<Option<ChunkIndex>, ReadError> {
            self.0.chunk_index(path).await
        }
        async fn chunk_layout(&self, path: &str) -> Result<Option<ChunkIndex>, ReadError> {
            // A layout without its filters.
            Ok(self.0.chunk_layout(path).await?.map(|mut l| {
                l.filters.clear();
                l
            }))
        }
    }

    #[tokio::test]
    async fn finds_the_faults_of_a_faulty_reader() {
        let (dir, _) = open_all(&ReadersConfig::default()).await;
        let inner = open(
            &Location::Local(dir.path().join("gridded_nc4.nc")),
            &Arc::new(Storage::default()),
            &ReadersConfig::default(),
        )
        .await
        .unwrap();
        let problems = check(&Faulty(inner)).await;
        let has = |s: &str| {
            problems
                .iter()
                .any(|p| p.starts_with("/temp: ") && p.contains(s))
        };
        assert!(has("strided read"), "{problems:#?}");
        assert!(has("panicked"), "{problems:#?}");
        assert!(has("disagrees with chunk_index"), "{problems:#?}");
    }
}
