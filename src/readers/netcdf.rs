//! NetCDF-3 and NetCDF-4/HDF5 through netCDF-C (the `netcdf` crate).
//!
//! netCDF-C and HDF5 are not thread-safe: every call goes through `NETCDF_GATE`, one
//! permit, on tokio's blocking pool, never on the async workers.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use netcdf::types::NcVariableType;
use netcdf::{AttributeValue, Extent};
use tokio::sync::Semaphore;

use super::netcdf_user_types::{self, TypeScope};
use super::reader::FormatSpec;
use super::{ReadError, Reader, hdf5_chunks, netcdf_open, netcdf3_layout};
use crate::model::{
    Array, ArrayValues, AttrValue, Attribute, ChunkIndex, DataType, DatasetMeta, DimRef, Dimension,
    Group, UserArray, UserTypes, UserVariable, ValueType, Variable,
};
use crate::storage::Location;
use crate::subset::Hyperslab;

/// Which container a NetCDF-family file is: the classic NetCDF-3 header, or HDF5
/// (NetCDF-4). Chunk indexes are read differently from each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Classic,
    Hdf5,
}

/// The one serialisation point for every netCDF-C/HDF5 call in the process.
static NETCDF_GATE: Semaphore = Semaphore::const_new(1);

/// Runs `f` on the blocking pool, alone among netCDF-C users.
pub async fn with_netcdf<T, F>(f: F) -> Result<T, ReadError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let _permit = NETCDF_GATE
        .acquire()
        .await
        .map_err(|e| ReadError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        // The library's own (reentrant) lock, held for the whole sequence of calls: other
        // users in the process (netCDF writes in tests, the HDF5 chunk index) cannot
        // interleave between the calls of one operation.
        let _library = netcdf_sys::libnetcdf_lock.lock();
        silence_hdf5_errors();
        f()
    })
    .await
    .map_err(|e| ReadError::Internal(e.to_string()))
}

/// Stops HDF5 printing its error stack (`HDF5-DIAG ...`) for errors netCDF-C handles
/// itself; the setting is per thread.
fn silence_hdf5_errors() {
    thread_local!(static SILENCED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    SILENCED.with(|s| {
        if !s.get() {
            let _lock = netcdf_sys::libnetcdf_lock.lock();
            // SAFETY: disables the automatic error printer of the default error stack.
            unsafe {
                hdf5_metno_sys::h5e::H5Eset_auto2(
                    hdf5_metno_sys::h5e::H5E_DEFAULT,
                    None,
                    std::ptr::null_mut(),
                )
            };
            s.set(true);
        }
    });
}

pub struct NetcdfReader {
    path: PathBuf,
    format: &'static FormatSpec,
    container: Container,
    meta: Arc<DatasetMeta>,
    /// The open file, kept between reads (opening HDF5 costs milliseconds).
    file: Arc<Mutex<Option<netcdf::File>>>,
    /// Chunk indexes by variable path. A reader serves one version of one file (the
    /// catalog reopens changed files), so the cache is keyed like the catalog's.
    chunk_indexes: super::index_cache::IndexCache,
    /// NetCDF-3 data offsets, parsed from the header once.
    nc3_layout: tokio::sync::OnceCell<Arc<netcdf3_layout::Layout>>,
}

fn format_err(path: &Path, e: impl std::fmt::Display) -> ReadError {
    ReadError::Format {
        location: path.display().to_string(),
        message: e.to_string(),
    }
}

impl NetcdfReader {
    pub async fn open(
        location: &Location,
        format: &'static FormatSpec,
        container: Container,
    ) -> Result<NetcdfReader, ReadError> {
        let path = location
            .local_path()
            .ok_or_else(|| ReadError::Unsupported(format!("{location} is not a local file")))?;
        Self::open_path(path, format, container).await
    }

    /// Opens a local file (a served file, or a remote one's copy in the file cache).
    pub async fn open_path(
        path: &Path,
        format: &'static FormatSpec,
        container: Container,
    ) -> Result<NetcdfReader, ReadError> {
        let path = path.to_path_buf();
        let p = path.clone();
        let (meta, file) = with_netcdf(move || -> Result<_, ReadError> {
            let file = netcdf_open::open(&p).map_err(|e| format_err(&p, e))?;
            // Classic files have no root `Group` in the crate: read through `File`.
            let subgroups: Vec<netcdf::Group<'_>> =
                file.groups().map(|g| g.collect()).unwrap_or_default();
            let types: Vec<NcVariableType> = file.types().map(|t| t.collect()).unwrap_or_default();
            let mut meta = DatasetMeta {
                root: build_group(
                    "/",
                    String::new(),
                    file.dimensions(),
                    file.variables(),
                    file.attributes(),
                    subgroups,
                    types,
                    &Scope::default(),
                ),
            };
            add_enum_fill_values(&mut meta.root, &p);
            Ok((meta, file))
        })
        .await??;
        Ok(NetcdfReader {
            path,
            format,
            container,
            meta: Arc::new(meta),
            file: Arc::new(Mutex::new(Some(file))),
            chunk_indexes: super::index_cache::IndexCache::new(),
            nc3_layout: tokio::sync::OnceCell::new(),
        })
    }

    async fn compute_chunk_index(
        &self,
        path: &str,
        with_chunks: bool,
    ) -> Result<Option<ChunkIndex>, ReadError> {
        let var = self
            .meta
            .variable(path)
            .ok_or_else(|| ReadError::NoSuchVariable(path.to_string()))?;
        if var.dtype == DataType::String {
            return Ok(None); // variable-length: no byte ranges to give
        }
        let shape = var.shape();
        match self.container {
            Container::Hdf5 => {
                let (fpath, vpath) = (self.path.clone(), var.path.clone());
                with_netcdf(move || hdf5_chunks::chunk_index(&fpath, &vpath, &shape, with_chunks))
                    .await?
                    .map_err(|e| format_err(&self.path, e))
            }
            Container::Classic => {
                let layout = self
                    .nc3_layout
                    .get_or_try_init(|| async { read_nc3_layout(&self.path).await.map(Arc::new) })
                    .await?;
                Ok(layout.chunk_index(&var.name, &shape))
            }
        }
    }
}

/// Reads as much of a NetCDF-3 file's start as its header needs and parses it.
async fn read_nc3_layout(path: &Path) -> Result<netcdf3_layout::Layout, ReadError> {
    use tokio::io::AsyncReadExt;
    let mut want = 64 * 1024;
    loop {
        let mut f = tokio::fs::File::open(path)
            .await
            .map_err(|e| format_err(path, e))?;
        let mut buf = Vec::with_capacity(want);
        (&mut f)
            .take(want as u64)
            .read_to_end(&mut buf)
            .await
            .map_err(|e| format_err(path, e))?;
        match netcdf3_layout::parse(&buf) {
            Ok(layout) => return Ok(layout),
            Err(e) if e.contains("truncated") && buf.len() == want => want *= 8,
            Err(e) => return Err(format_err(path, e)),
        }
    }
}

#[async_trait]
impl Reader for NetcdfReader {
    fn format(&self) -> &'static FormatSpec {
        self.format
    }

    fn metadata(&self) -> Arc<DatasetMeta> {
        self.meta.clone()
    }

    async fn read(&self, path: &str, slab: &Hyperslab) -> Result<Array, ReadError> {
        let var = self
            .meta
            .variable(path)
            .ok_or_else(|| ReadError::NoSuchVariable(path.to_string()))?;
        slab.validate(&var.shape())?;
        let (vpath, dtype, slab) = (var.path.clone(), var.dtype, slab.clone());
        let (file, fpath) = (self.file.clone(), self.path.clone());
        with_netcdf(move || {
            let mut guard = file.lock().unwrap_or_else(|p| p.into_inner());
            if guard.is_none() {
                *guard = Some(netcdf_open::open(&fpath).map_err(|e| format_err(&fpath, e))?);
            }
            let f = guard.as_ref().expect("opened above");
            read_values(f, &vpath, dtype, &slab).map_err(|e| format_err(&fpath, e))
        })
        .await?
    }

    async fn read_user(&self, path: &str, slab: &Hyperslab) -> Result<UserArray, ReadError> {
        let var = self
            .meta
            .user_variable(path)
            .ok_or_else(|| ReadError::NoSuchVariable(path.to_string()))?;
        slab.validate(&var.var.shape())?;
        let (vpath, slab) = (var.var.path.clone(), slab.clone());
        let (file, fpath) = (self.file.clone(), self.path.clone());
        with_netcdf(move || {
            let mut guard = file.lock().unwrap_or_else(|p| p.into_inner());
            if guard.is_none() {
                *guard = Some(netcdf_open::open(&fpath).map_err(|e| format_err(&fpath, e))?);
            }
            let f = guard.as_ref().expect("opened above");
            read_user_values(f, &vpath, &slab).map_err(|e| format_err(&fpath, e))
        })
        .await?
    }

    async fn chunk_index(&self, path: &str) -> Result<Option<ChunkIndex>, ReadError> {
        let index = self
            .chunk_indexes
            .index(path, || self.compute_chunk_index(path, true))
            .await?;
        Ok((*index).clone())
    }

    async fn chunk_layout(&self, path: &str) -> Result<Option<ChunkIndex>, ReadError> {
        // NetCDF-3 offsets come from the parsed header: the full index costs nothing.
        let with_chunks = self.container != Container::Hdf5;
        self.chunk_indexes
            .layout(path, || self.compute_chunk_index(path, with_chunks))
            .await
    }
}

fn read_values(
    file: &netcdf::File,
    path: &str,
    dtype: DataType,
    slab: &Hyperslab,
) -> Result<Array, String> {
    // `File::variable` resolves `group/sub/var` paths.
    let var = file
        .variable(path.trim_start_matches('/'))
        .ok_or_else(|| format!("no variable {path}"))?;
    let shape = slab.shape();
    if slab.num_elements() == 0 {
        let values = match ArrayValues::from_ne_bytes(dtype, &[]) {
            Some(v) => v,
            None => ArrayValues::Str(Vec::new()),
        };
        return Ok(Array::new(shape, values));
    }
    let raw = var
        .get_raw_values(extents(slab))
        .map_err(|e| e.to_string())?;
    let values = match dtype {
        DataType::String => ArrayValues::Str(take_strings(raw)),
        other => ArrayValues::from_ne_bytes(other, &raw).ok_or("unreadable type")?,
    };
    Ok(Array::new(shape, values))
}

/// The extents netCDF-C reads `slab` by.
fn extents(slab: &Hyperslab) -> netcdf::Extents {
    let extents: Vec<Extent> = slab
        .dims
        .iter()
        .map(|d| Extent::SliceCount {
            start: d.start,
            count: d.count,
            stride: d.stride as isize,
        })
        .collect();
    if extents.is_empty() {
        netcdf::Extents::All
    } else {
        extents.into()
    }
}

/// Reads a slab of a compound, vlen or opaque variable.
fn read_user_values(
    file: &netcdf::File,
    path: &str,
    slab: &Hyperslab,
) -> Result<UserArray, String> {
    let var = file
        .variable(path.trim_start_matches('/'))
        .ok_or_else(|| format!("no variable {path}"))?;
    let shape = slab.shape();
    if slab.num_elements() == 0 {
        return Ok(UserArray {
            shape,
            values: Vec::new(),
        });
    }
    let raw = var
        .get_raw_values(extents(slab))
        .map_err(|e| e.to_string())?;
    let values = netcdf_user_types::decode(&raw, &var.vartype());
    Ok(UserArray { shape, values })
}

/// Turns the `char*` pointers netCDF-C returned for a string variable into Strings and
/// frees them.
fn take_strings(raw: Vec<u8>) -> Vec<String> {
    let ptr_size = std::mem::size_of::<*mut std::ffi::c_char>();
    let mut ptrs: Vec<*mut std::ffi::c_char> = raw
        .chunks_exact(ptr_size)
        .map(|c| usize::from_ne_bytes(c.try_into().expect("pointer size")) as *mut _)
        .collect();
    let out = ptrs
        .iter()
        .map(|p| {
            if p.is_null() {
                String::new()
            } else {
                // SAFETY: netCDF-C returned NUL-terminated strings it allocated.
                unsafe { std::ffi::CStr::from_ptr(*p) }
                    .to_string_lossy()
                    .into_owned()
            }
        })
        .collect();
    let _lock = netcdf_sys::libnetcdf_lock.lock();
    // SAFETY: the pointers came from nc_get_vars on a string variable and are freed once.
    unsafe { netcdf_sys::nc_free_string(ptrs.len(), ptrs.as_mut_ptr()) };
    out
}

/// What a group sees of its ancestors: dimensions and user-defined types, innermost
/// last, for netCDF's scoping rule (a name resolves to the nearest).
#[derive(Default, Clone)]
struct Scope {
    dims: Vec<Dimension>,
    types: TypeScope,
}

fn attr_value(v: AttributeValue) -> AttrValue {
    match v {
        AttributeValue::Uchar(x) => AttrValue::U8(vec![x]),
        AttributeValue::Uchars(x) => AttrValue::U8(x),
        AttributeValue::Schar(x) => AttrValue::I8(vec![x]),
        AttributeValue::Schars(x) => AttrValue::I8(x),
        AttributeValue::Ushort(x) => AttrValue::U16(vec![x]),
        AttributeValue::Ushorts(x) => AttrValue::U16(x),
        AttributeValue::Short(x) => AttrValue::I16(vec![x]),
        AttributeValue::Shorts(x) => AttrValue::I16(x),
        AttributeValue::Uint(x) => AttrValue::U32(vec![x]),
        AttributeValue::Uints(x) => AttrValue::U32(x),
        AttributeValue::Int(x) => AttrValue::I32(vec![x]),
        AttributeValue::Ints(x) => AttrValue::I32(x),
        AttributeValue::Ulonglong(x) => AttrValue::U64(vec![x]),
        AttributeValue::Ulonglongs(x) => AttrValue::U64(x),
        AttributeValue::Longlong(x) => AttrValue::I64(vec![x]),
        AttributeValue::Longlongs(x) => AttrValue::I64(x),
        AttributeValue::Float(x) => AttrValue::F32(vec![x]),
        AttributeValue::Floats(x) => AttrValue::F32(x),
        AttributeValue::Double(x) => AttrValue::F64(vec![x]),
        AttributeValue::Doubles(x) => AttrValue::F64(x),
        AttributeValue::Str(x) => AttrValue::Text(x),
        AttributeValue::Strs(x) => AttrValue::Strings(x),
    }
}

fn read_attributes<'a>(
    attrs: impl Iterator<Item = netcdf::Attribute<'a>>,
    owner: &str,
) -> Vec<Attribute> {
    attrs
        .filter_map(|a| match a.value() {
            Ok(v) => Some(Attribute::new(a.name(), attr_value(v))),
            Err(e) => {
                tracing::warn!("{owner}: skipping attribute {}: {e}", a.name());
                None
            }
        })
        .collect()
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// Reads a group and its descendants.
fn read_group(g: &netcdf::Group<'_>, path: &str, visible: &Scope) -> Group {
    // `Group::types` panics where `File::types` returns an error.
    let types = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.types().collect()))
        .unwrap_or_default();
    build_group(
        path,
        g.name(),
        g.dimensions(),
        g.variables(),
        g.attributes(),
        g.groups().collect(),
        types,
        visible,
    )
}

/// Builds a model group. `visible` holds what the ancestors declare.
#[allow(clippy::too_many_arguments)]
fn build_group<'f>(
    path: &str,
    name: String,
    dims: impl Iterator<Item = netcdf::Dimension<'f>>,
    vars: impl Iterator<Item = netcdf::Variable<'f>>,
    attrs: impl Iterator<Item = netcdf::Attribute<'f>>,
    subgroups: Vec<netcdf::Group<'f>>,
    types: Vec<NcVariableType>,
    visible: &Scope,
) -> Group {
    let dimensions: Vec<Dimension> = dims
        .map(|d| Dimension {
            name: d.name(),
            path: join(path, &d.name()),
            len: d.len(),
            unlimited: d.is_unlimited(),
        })
        .collect();
    let mut full_scope = visible.clone();
    full_scope.dims.extend(dimensions.iter().cloned());
    for t in &types {
        if let Some(name) = netcdf_user_types::type_name(t) {
            full_scope.types.push((name.to_string(), join(path, name)));
        }
    }
    let mut user_types = UserTypes::default();
    for t in &types {
        if let NcVariableType::Enum(e) = t {
            let e = netcdf_user_types::enum_type(e, &full_scope.types, path);
            user_types.enums.push(e);
        }
    }
    let scope = &full_scope.dims;
    let mut variables = Vec::new();
    for v in vars {
        let vname = v.name();
        let vpath = join(path, &vname);
        let vartype = v.vartype();
        let (dtype, user) = match netcdf_user_types::atomic_type(&vartype) {
            Some(dtype) => (dtype, None),
            None => match netcdf_user_types::value_type(&vartype, &full_scope.types, path) {
                Some(ValueType::Enum(e)) => (e.base, Some(ValueType::Enum(e))),
                Some(ty) => (DataType::U8, Some(ty)),
                None => {
                    tracing::warn!("{vpath}: a type the model cannot describe; skipped");
                    continue;
                }
            },
        };
        let dims = v
            .dimensions()
            .iter()
            .map(|d| {
                let dname = d.name();
                let dpath = scope
                    .iter()
                    .rev()
                    .find(|s| s.name == dname)
                    .map(|s| s.path.clone())
                    .unwrap_or_else(|| join(path, &dname));
                DimRef {
                    name: dname,
                    path: dpath,
                    len: d.len(),
                }
            })
            .collect();
        let var = Variable {
            name: vname,
            path: vpath.clone(),
            dims,
            dtype,
            attributes: read_attributes(v.attributes(), &vpath),
            chunks: v.chunking().ok().flatten(),
        };
        match user {
            None => variables.push(var),
            Some(ValueType::Enum(e)) => {
                if !user_types.enums.iter().any(|d| d.path == e.path) {
                    // Declared in an ancestor, or where the variable is: DAP4 needs
                    // a declaration to point at.
                    if !declared_above(&e.path, path) {
                        user_types.enums.push(e.clone());
                    }
                }
                user_types.enum_variables.push((var.name.clone(), e));
                variables.push(var);
            }
            Some(ty) => user_types.variables.push(UserVariable {
                var,
                ty,
                position: variables.len() + user_types.variables.len(),
            }),
        }
    }
    let groups = subgroups
        .iter()
        .map(|sub| read_group(sub, &join(path, &sub.name()), &full_scope))
        .collect();
    Group {
        name,
        path: path.to_string(),
        dimensions,
        variables,
        attributes: read_attributes(attrs, path),
        groups,
        user_types,
    }
}

/// Adds their `_FillValue` to the enum variables of `group` and its descendants.
fn add_enum_fill_values(group: &mut Group, file: &Path) {
    for (name, _) in &group.user_types.enum_variables {
        let Some(var) = group.variables.iter_mut().find(|v| &v.name == name) else {
            continue;
        };
        if var.attr("_FillValue").is_none()
            && let Some(fill) = netcdf_user_types::enum_fill_value(file, &var.path)
        {
            var.attributes.insert(0, Attribute::new("_FillValue", fill));
        }
    }
    for g in &mut group.groups {
        add_enum_fill_values(g, file);
    }
}

/// Whether type `type_path` lives in an ancestor of group `group` (where it is then
/// declared already).
fn declared_above(type_path: &str, group: &str) -> bool {
    let type_group = match type_path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &type_path[..i],
    };
    type_group != group && (type_group == "/" || group.starts_with(&format!("{type_group}/")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AttributeList;
    use crate::readers::open;
    use crate::storage::Storage;
    use crate::subset::DimSlice;

    async fn reader(dir: &Path, name: &str) -> Arc<dyn Reader> {
        open(
            &Location::Local(dir.join(name)),
            &std::sync::Arc::new(Storage::default()),
            &crate::readers::ReadersConfig {
                local_reads: crate::readers::LocalReads::NetcdfC,
                ..Default::default()
            },
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn reads_every_fixture() {
        let dir = tempfile::tempdir().unwrap();
        crate::fixtures::write_all(dir.path()).unwrap();

        let r = reader(dir.path(), "sst_classic.nc").await;
        assert_eq!(r.format().name, "netcdf3-classic");
        let meta = r.metadata();
        assert!(meta.dimension("/time").unwrap().unlimited);
        let sst = meta.variable("sst").unwrap();
        assert_eq!(sst.shape(), vec![3, 10, 18]);
        // [1][2:2:6][0:3:9] as DAP writes it.
        let slab = Hyperslab::new(vec![
            DimSlice::index(1),
            DimSlice::from_inclusive(1, 2, 2, 6, 10).unwrap(),
            DimSlice::from_inclusive(2, 0, 3, 9, 18).unwrap(),
        ]);
        let a = r.read("/sst", &slab).await.unwrap();
        assert_eq!(a.shape, vec![1, 3, 4]);
        let ArrayValues::F32(v) = &a.values else {
            panic!()
        };
        assert_eq!(v[0], crate::fixtures::sst_value(1, 2, 0).unwrap());
        assert_eq!(v[1], crate::fixtures::sst_value(1, 2, 3).unwrap_or(-999.0));
        let platform = r.read("/platform", &Hyperslab::full(&[8])).await.unwrap();
        assert_eq!(platform.values, ArrayValues::Char(b"ARGO-123".to_vec()));
        let inst = meta.attributes().attr_text("institution").unwrap();
        assert!(inst.contains("Météo"));
        assert!(r.read("/nope", &slab).await.is_err());
        let bad = Hyperslab::new(vec![
            DimSlice::index(3),
            DimSlice::index(0),
            DimSlice::index(0),
        ]);
        assert!(matches!(
            r.read("/sst", &bad).await,
            Err(ReadError::Subset(_))
        ));

        let r = reader(dir.path(), "types_cdf5.nc").await;
        assert_eq!(r.format().name, "netcdf3-cdf5");
        let u64s = r.read("v_u64", &Hyperslab::full(&[4])).await.unwrap();
        assert_eq!(u64s.values, ArrayValues::U64(vec![0, 1, 1 << 63, u64::MAX]));

        let r = reader(dir.path(), "types_nc4.nc").await;
        let meta = r.metadata();
        let temp = meta.variable("/forecast/temp").unwrap();
        assert_eq!(temp.dims[1].path, "/x");
        assert_eq!(temp.dims[0].path, "/forecast/member");
        assert!(meta.variable("/forecast/deep/salinity").is_some());
        let s = r.read("/v_string", &Hyperslab::full(&[4])).await.unwrap();
        let ArrayValues::Str(s) = s.values else {
            panic!()
        };
        assert_eq!(s[2], "ünïcödé ✓");
        assert_eq!(s[0], "");
        let scalar = r.read("/scalar_f64", &Hyperslab::full(&[])).await.unwrap();
        assert_eq!(scalar.values, ArrayValues::F64(vec![42.5]));
        let v = meta.variable("v_i8").unwrap();
        assert_eq!(v.attr("a_u64"), Some(&AttrValue::U64(vec![u64::MAX])));
        assert_eq!(
            v.attr("a_strings"),
            Some(&AttrValue::Strings(vec!["one".into(), "twö".into()]))
        );
        assert_eq!(meta.variable("counter").unwrap().shape(), vec![3]);

        let r = reader(dir.path(), "gridded_nc4.nc").await;
        let temp = r.metadata().variable("temp").unwrap().clone();
        assert_eq!(temp.chunks, Some(vec![1, 1, 10, 18]));
        let cs = crate::model::cf::coordinates(&r.metadata(), &temp);
        assert_eq!(cs.z.unwrap().path, "/depth");
        let sparse = r
            .read("/sparse", &Hyperslab::full(&[20, 36]))
            .await
            .unwrap();
        let ArrayValues::I32(sp) = sparse.values else {
            panic!()
        };
        assert_eq!(sp[13], -1); // row 0, column 13: in a chunk never written
        assert_eq!(sp[36 + 1], 13);

        let r = reader(dir.path(), "curvilinear.nc").await;
        let meta = r.metadata();
        let cs = crate::model::cf::coordinates(&meta, meta.variable("temp").unwrap());
        assert!(cs.is_curvilinear());
    }

    #[tokio::test]
    async fn concurrent_reads_are_serialised_not_failed() {
        let dir = tempfile::tempdir().unwrap();
        crate::fixtures::gridded_nc4(&dir.path().join("g.nc")).unwrap();
        let r = reader(dir.path(), "g.nc").await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let r = r.clone();
                tokio::spawn(
                    async move { r.read("/temp", &Hyperslab::full(&[4, 3, 20, 36])).await },
                )
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().len(), 4 * 3 * 20 * 36);
        }
    }
}
