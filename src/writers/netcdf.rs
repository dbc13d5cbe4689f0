//! NetCDF-4 files written through netCDF-C, every call through `with_netcdf` (netCDF-C is
//! not thread-safe), into a temporary file deleted when its `TempPath` drops.

use std::path::Path;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use netcdf::types::{FloatType, IntType, NcVariableType};
use netcdf::{AttributeValue, Extent};
use thiserror::Error;

use crate::catalog::Dataset;
use crate::model::{Array, ArrayValues, AttrValue, DataType, DatasetMeta, Group};
use crate::readers::{ReadError, with_netcdf};
use crate::subset::Hyperslab;

/// netCDF `char`, for writing text variables.
#[repr(transparent)]
#[derive(Copy, Clone)]
pub struct NcChar(pub u8);
// SAFETY: one byte, the layout of NC_CHAR.
unsafe impl netcdf::types::NcTypeDescriptor for NcChar {
    fn type_descriptor() -> NcVariableType {
        NcVariableType::Char
    }
}

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("writing NetCDF: {0}")]
    Netcdf(String),
    #[error("temporary file: {0}")]
    Io(String),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{0}")]
    Invalid(String),
}

fn nc_err(e: impl std::fmt::Display) -> WriteError {
    WriteError::Netcdf(e.to_string())
}

/// A NetCDF-4 file being written. Define everything with `create`, write data with
/// `write` or `copy_from`, then `finish` to close it and get its path.
pub struct NetcdfWriter {
    file: Arc<Mutex<Option<netcdf::FileMut>>>,
    path: tempfile::TempPath,
}

impl NetcdfWriter {
    /// Creates a temporary NetCDF-4 file (in `dir`, or the system's temporary directory)
    /// with the structure of `meta`: its groups, dimensions (with the lengths given; an
    /// unlimited one grows as data is written), variables and attributes. Variables'
    /// `dims` name dimensions visible from their group.
    pub async fn create(
        meta: &DatasetMeta,
        dir: Option<&Path>,
    ) -> Result<NetcdfWriter, WriteError> {
        let tmp = match dir {
            Some(d) => tempfile::Builder::new().suffix(".nc").tempfile_in(d),
            None => tempfile::Builder::new().suffix(".nc").tempfile(),
        }
        .map_err(|e| WriteError::Io(e.to_string()))?;
        let path = tmp.into_temp_path();
        let p = path.to_path_buf();
        let root = meta.root.clone();
        let file = with_netcdf(move || -> Result<netcdf::FileMut, WriteError> {
            let mut file = netcdf::create_with(&p, netcdf::Options::NETCDF4).map_err(nc_err)?;
            define_group(&mut file, &root)?;
            Ok(file)
        })
        .await??;
        Ok(NetcdfWriter {
            file: Arc::new(Mutex::new(Some(file))),
            path,
        })
    }

    /// Writes `array` into the variable at `var_path` (`/v`, `/g/v`), starting at `start`.
    pub async fn write(
        &self,
        var_path: &str,
        start: Vec<usize>,
        array: Array,
    ) -> Result<(), WriteError> {
        let file = self.file.clone();
        let var_path = var_path.trim_start_matches('/').to_string();
        with_netcdf(move || -> Result<(), WriteError> {
            let mut guard = file.lock().unwrap_or_else(|p| p.into_inner());
            let f = guard
                .as_mut()
                .ok_or_else(|| nc_err("file already closed"))?;
            let mut var = f.variable_mut(&var_path).ok_or_else(|| {
                WriteError::Invalid(format!("no variable {var_path:?} in the output"))
            })?;
            put(&mut var, &start, &array)
        })
        .await?
    }

    /// Copies `slab` of `src_var` of `ds` into the whole of `dst_var`, block by block
    /// (`read_block_bytes` at a time), so memory stays bounded.
    pub async fn copy_from(
        &self,
        ds: &Arc<Dataset>,
        src_var: &str,
        slab: &Hyperslab,
        dst_var: &str,
        block_bytes: usize,
    ) -> Result<(), WriteError> {
        let elem = ds
            .meta
            .variable(src_var)
            .and_then(|v| v.dtype.size())
            .unwrap_or(64);
        for piece in slab.split_bounded((block_bytes / elem).max(1)) {
            let array = ds.read(src_var, &piece).await?;
            // Where the piece lies in the output: its offset within `slab`, in strides.
            let start = piece
                .dims
                .iter()
                .zip(&slab.dims)
                .map(|(p, s)| (p.start - s.start) / s.stride.max(1))
                .collect();
            self.write(dst_var, start, array).await?;
        }
        Ok(())
    }

    /// Closes the file; the returned path deletes it when dropped.
    pub async fn finish(self) -> Result<tempfile::TempPath, WriteError> {
        let file = self.file.clone();
        with_netcdf(move || -> Result<(), WriteError> {
            let mut guard = file.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(f) = guard.take() {
                f.close().map_err(nc_err)?;
            }
            Ok(())
        })
        .await??;
        Ok(self.path)
    }
}

fn nc_type(t: DataType) -> NcVariableType {
    match t {
        DataType::I8 => NcVariableType::Int(IntType::I8),
        DataType::U8 => NcVariableType::Int(IntType::U8),
        DataType::I16 => NcVariableType::Int(IntType::I16),
        DataType::U16 => NcVariableType::Int(IntType::U16),
        DataType::I32 => NcVariableType::Int(IntType::I32),
        DataType::U32 => NcVariableType::Int(IntType::U32),
        DataType::I64 => NcVariableType::Int(IntType::I64),
        DataType::U64 => NcVariableType::Int(IntType::U64),
        DataType::F32 => NcVariableType::Float(FloatType::F32),
        DataType::F64 => NcVariableType::Float(FloatType::F64),
        DataType::Char => NcVariableType::Char,
        DataType::String => NcVariableType::String,
    }
}

fn attr_value(v: &AttrValue) -> AttributeValue {
    match v {
        AttrValue::I8(x) => AttributeValue::Schars(x.clone()),
        AttrValue::U8(x) => AttributeValue::Uchars(x.clone()),
        AttrValue::I16(x) => AttributeValue::Shorts(x.clone()),
        AttrValue::U16(x) => AttributeValue::Ushorts(x.clone()),
        AttrValue::I32(x) => AttributeValue::Ints(x.clone()),
        AttrValue::U32(x) => AttributeValue::Uints(x.clone()),
        AttrValue::I64(x) => AttributeValue::Longlongs(x.clone()),
        AttrValue::U64(x) => AttributeValue::Ulonglongs(x.clone()),
        AttrValue::F32(x) => AttributeValue::Floats(x.clone()),
        AttrValue::F64(x) => AttributeValue::Doubles(x.clone()),
        AttrValue::Text(s) => AttributeValue::Str(s.clone()),
        AttrValue::Strings(x) => AttributeValue::Strs(x.clone()),
    }
}

/// Defines `model` and its subgroups. Everything goes through `FileMut` with paths
/// (`g/sub/name`): the crate's `GroupMut::add_variable*` borrow the group for its whole
/// lifetime.
fn define_group(f: &mut netcdf::FileMut, model: &Group) -> Result<(), WriteError> {
    let prefix = match model.path.trim_matches('/') {
        "" => String::new(),
        p => format!("{p}/"),
    };
    if !prefix.is_empty() {
        f.add_group(prefix.trim_end_matches('/')).map_err(nc_err)?;
    }
    for d in &model.dimensions {
        let name = format!("{prefix}{}", d.name);
        if d.unlimited {
            f.add_unlimited_dimension(&name).map_err(nc_err)?;
        } else {
            f.add_dimension(&name, d.len).map_err(nc_err)?;
        }
    }
    for a in &model.attributes {
        f.add_attribute(&format!("{prefix}{}", a.name), attr_value(&a.value))
            .map_err(nc_err)?;
    }
    for v in &model.variables {
        let dims: Vec<&str> = v.dims.iter().map(|d| d.name.as_str()).collect();
        let mut var = f
            .add_variable_with_type(&format!("{prefix}{}", v.name), &dims, &nc_type(v.dtype))
            .map_err(|e| nc_err(format!("{}: {e}", v.path)))?;
        for a in &v.attributes {
            var.put_attribute(&a.name, attr_value(&a.value))
                .map_err(|e| nc_err(format!("{}:{}: {e}", v.path, a.name)))?;
        }
    }
    for sub in &model.groups {
        define_group(f, sub)?;
    }
    Ok(())
}

fn put(
    var: &mut netcdf::VariableMut<'_>,
    start: &[usize],
    array: &Array,
) -> Result<(), WriteError> {
    if array.is_empty() {
        return Ok(());
    }
    let extents: netcdf::Extents = if array.shape.is_empty() {
        netcdf::Extents::All
    } else {
        start
            .iter()
            .zip(&array.shape)
            .map(|(&s, &n)| Extent::SliceCount {
                start: s,
                count: n,
                stride: 1,
            })
            .collect::<Vec<_>>()
            .into()
    };
    let r = match &array.values {
        ArrayValues::I8(v) => var.put_values(v, extents),
        ArrayValues::U8(v) => var.put_values(v, extents),
        ArrayValues::I16(v) => var.put_values(v, extents),
        ArrayValues::U16(v) => var.put_values(v, extents),
        ArrayValues::I32(v) => var.put_values(v, extents),
        ArrayValues::U32(v) => var.put_values(v, extents),
        ArrayValues::I64(v) => var.put_values(v, extents),
        ArrayValues::U64(v) => var.put_values(v, extents),
        ArrayValues::F32(v) => var.put_values(v, extents),
        ArrayValues::F64(v) => var.put_values(v, extents),
        ArrayValues::Char(v) => {
            let chars: Vec<NcChar> = v.iter().map(|b| NcChar(*b)).collect();
            var.put_values(&chars, extents)
        }
        ArrayValues::Str(v) => {
            // One string at a time: the crate writes strings singly.
            let mut index = vec![0usize; array.shape.len()];
            for s in v {
                let at: Vec<usize> = index.iter().zip(start).map(|(i, s0)| i + s0).collect();
                var.put_string(s, at.as_slice()).map_err(nc_err)?;
                for k in (0..index.len()).rev() {
                    index[k] += 1;
                    if index[k] < array.shape[k] {
                        break;
                    }
                    index[k] = 0;
                }
            }
            Ok(())
        }
    };
    r.map_err(nc_err)
}

/// Reads a whole NetCDF file's bytes as a stream of chunks (for download responses).
pub fn stream_file(
    path: tempfile::TempPath,
) -> impl futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static {
    futures::stream::once(async move { tokio::fs::File::open(&path).await.map(|f| (f, path)) })
        .map(|opened| match opened {
            Ok((f, path)) => {
                let chunks = futures::stream::unfold((f, Some(path)), |(mut f, path)| async move {
                    use tokio::io::AsyncReadExt;
                    let mut buf = vec![0u8; 256 * 1024];
                    match f.read(&mut buf).await {
                        Ok(0) => {
                            drop(path); // the file is deleted once sent
                            None
                        }
                        Ok(n) => {
                            buf.truncate(n);
                            Some((Ok(bytes::Bytes::from(buf)), (f, path)))
                        }
                        Err(e) => Some((Err(e), (f, None))),
                    }
                });
                chunks.boxed()
            }
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        })
        .flatten()
}
