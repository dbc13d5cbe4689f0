//! The `Reader` of one GRIB hypercube: metadata from the grouped index, data read one
//! message (one field) per range request and decoded by ecCodes on the blocking pool,
//! decoded fields kept in a cache bounded by bytes (Zarr chunks, WMS tiles and EDR
//! points read the same field again and again).

use std::sync::Arc;

use async_trait::async_trait;

use super::coords::{Coord, CoordValues};
use super::ffi;
use super::frame::check_end;
use super::hypercube::{Cube, CubeVar};
use super::index::MessageIndex;
use crate::model::{Array, ArrayValues, DataType, DatasetMeta, DimRef, Dimension, Group, Variable};
use crate::readers::{FormatSpec, ReadError, Reader};
use crate::storage::{DecodedKey, Location, ObjectVersion, Storage};
use crate::subset::{DimSlice, Hyperslab};

/// Where one message lies, and how many grid points it holds: all reads need of the
/// index once the hypercubes are built (the keys are dropped: thousands of messages'
/// keys would weigh megabytes).
struct FieldRef {
    offset: u64,
    length: u64,
    points: usize,
    /// The field within a multi-field message.
    part: Option<usize>,
}

/// Where a file's messages are, and its decoded fields: shared by its hypercubes.
pub(crate) struct FieldSource {
    location: Location,
    version: ObjectVersion,
    storage: Arc<Storage>,
    fields: Vec<FieldRef>,
    /// The file's URL and version: its fields' keys in the shared decoded cache.
    url: Arc<str>,
    shared_version: Arc<ObjectVersion>,
}

impl FieldSource {
    /// Decoded fields go to the storage's shared decoded-chunk cache.
    pub(crate) fn new(
        location: Location,
        version: ObjectVersion,
        storage: Arc<Storage>,
        index: &MessageIndex,
    ) -> FieldSource {
        let fields = index.fields.iter().map(|f| FieldRef {
            offset: f.offset,
            length: f.length,
            part: f.part,
            points: index.grids[f.grid].points(),
        });
        FieldSource {
            url: location.to_string().into(),
            shared_version: Arc::new(version.clone()),
            location,
            version,
            storage,
            fields: fields.collect(),
        }
    }

    /// Memory the message index takes.
    fn index_bytes(&self) -> usize {
        self.fields.len() * std::mem::size_of::<FieldRef>()
    }

    /// The values of message `id`, missing points as NaN (as cfgrib gives them): from
    /// the process's shared decoded-chunk cache, or decoded and put there.
    async fn field(&self, id: usize) -> Result<Arc<Vec<f32>>, ReadError> {
        let key = DecodedKey {
            url: self.url.clone(),
            version: self.shared_version.clone(),
            item: "grib-message".into(),
            coords: vec![id as u64],
        };
        let cache = self.storage.decoded();
        if let Some(bytes) = cache.get(&key) {
            let values = bytes
                .chunks_exact(4)
                .map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            return Ok(Arc::new(values));
        }
        let values = self.decode(id).await?;
        if values.len() * 4 <= cache.max_entry_bytes() {
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
            cache.insert(key, bytes.into());
        }
        Ok(values)
    }

    async fn decode(&self, id: usize) -> Result<Arc<Vec<f32>>, ReadError> {
        let f = &self.fields[id];
        let points = f.points;
        let bytes = (self.storage)
            .get_range_at(&self.location, &self.version, f.offset..f.offset + f.length)
            .await?;
        let damaged = |message: String| ReadError::Format {
            location: self.location.to_string(),
            message: format!("message at byte {}: {message}", f.offset),
        };
        check_end(&bytes).map_err(damaged)?;
        let part = f.part;
        let values = tokio::task::spawn_blocking(move || {
            // One field of a multi-field message: cut out as a message of its own.
            let bytes = match part {
                Some(k) => bytes::Bytes::from(super::multi_field::field(&bytes, k)?),
                None => bytes,
            };
            ffi::with_message(&bytes, |m| {
                let missing = m.double("missingValue")?;
                let values = m.doubles("values", points)?.ok_or("no values")?;
                Ok((values, missing))
            })
        })
        .await
        .map_err(|e| ReadError::Internal(e.to_string()))?;
        let (values, missing) = values.map_err(damaged)?;
        if values.len() != points {
            return Err(damaged(format!(
                "{} values for {points} grid points",
                values.len()
            )));
        }
        Ok(Arc::new(
            values
                .into_iter()
                .map(|v| {
                    if Some(v) == missing {
                        f32::NAN
                    } else {
                        v as f32
                    }
                })
                .collect(),
        ))
    }
}

/// One hypercube of a GRIB file, served as a dataset.
pub struct GribReader {
    format: &'static FormatSpec,
    /// The file holds this hypercube only.
    whole_file: bool,
    meta: Arc<DatasetMeta>,
    cube: Cube,
    source: Arc<FieldSource>,
}

fn dim_refs(dims: &[(String, usize)]) -> Vec<DimRef> {
    dims.iter()
        .map(|(n, l)| DimRef {
            name: n.clone(),
            path: format!("/{n}"),
            len: *l,
        })
        .collect()
}

fn coord_variable(c: &Coord) -> Variable {
    Variable {
        name: c.name.clone(),
        path: format!("/{}", c.name),
        dims: dim_refs(&c.dims),
        dtype: match c.values {
            CoordValues::I32(_) => DataType::I32,
            CoordValues::F64(_) => DataType::F64,
        },
        attributes: c.attrs.clone(),
        chunks: None,
    }
}

fn data_variable(v: &CubeVar) -> Variable {
    // One stored field per chunk: what one message holds.
    let header = v.dims.len() - v.geo_ndim;
    let chunks = v
        .dims
        .iter()
        .enumerate()
        .map(|(i, (_, l))| if i < header { 1 } else { *l });
    Variable {
        name: v.name.clone(),
        path: format!("/{}", v.name),
        dims: dim_refs(&v.dims),
        dtype: DataType::F32,
        attributes: v.attrs.clone(),
        chunks: Some(chunks.collect()),
    }
}

/// The dataset metadata of a hypercube.
fn metadata(cube: &Cube) -> DatasetMeta {
    let mut dimensions: Vec<Dimension> = Vec::new();
    let all_dims = cube.coords.iter().flat_map(|c| &c.dims);
    for (name, len) in all_dims.chain(cube.vars.iter().flat_map(|v| &v.dims)) {
        if !dimensions.iter().any(|d| &d.name == name) {
            dimensions.push(Dimension {
                name: name.clone(),
                path: format!("/{name}"),
                len: *len,
                unlimited: false,
            });
        }
    }
    let mut variables: Vec<Variable> = cube.coords.iter().map(coord_variable).collect();
    variables.extend(cube.vars.iter().map(data_variable));
    DatasetMeta {
        root: Group {
            name: String::new(),
            path: "/".into(),
            dimensions,
            variables,
            attributes: cube.attrs.clone(),
            groups: vec![],
            user_types: Default::default(),
        },
    }
}

impl GribReader {
    pub(crate) fn new(
        format: &'static FormatSpec,
        cube: Cube,
        source: Arc<FieldSource>,
        whole_file: bool,
    ) -> Self {
        GribReader {
            format,
            whole_file,
            meta: Arc::new(metadata(&cube)),
            cube,
            source,
        }
    }

    async fn read_data(&self, var: &CubeVar, slab: &Hyperslab) -> Result<Array, ReadError> {
        let header = var.dims.len() - var.geo_ndim;
        let geo_shape: Vec<usize> = var.dims[header..].iter().map(|(_, l)| *l).collect();
        let geo_slab = Hyperslab::new(slab.dims[header..].to_vec());
        let picks = geo_slab.linear_indices(&geo_shape);
        let header_slab = Hyperslab::new(slab.dims[..header].to_vec());
        let mut out = Vec::with_capacity(slab.num_elements());
        for at in positions(&header_slab) {
            match var.fields.get(&at) {
                Some(&id) => {
                    let field = self.source.field(id).await?;
                    out.extend(
                        picks
                            .iter()
                            .map(|&i| field.get(i).copied().unwrap_or(f32::NAN)),
                    );
                }
                // A combination the file lacks: missing, as in cfgrib.
                None => out.extend(std::iter::repeat_n(f32::NAN, picks.len())),
            }
        }
        Ok(Array::new(slab.shape(), ArrayValues::F32(out)))
    }
}

/// Every index tuple a hyperslab selects, in row-major order.
fn positions(slab: &Hyperslab) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    for d in &slab.dims {
        let d: &DimSlice = d;
        out = out
            .into_iter()
            .flat_map(|p| {
                d.indices().map(move |i| {
                    let mut q = p.clone();
                    q.push(i);
                    q
                })
            })
            .collect();
    }
    out
}

fn select<T: Copy>(values: &[T], slab: &Hyperslab, shape: &[usize]) -> Vec<T> {
    slab.linear_indices(shape)
        .into_iter()
        .filter_map(|i| values.get(i).copied())
        .collect()
}

#[async_trait]
impl Reader for GribReader {
    fn format(&self) -> &'static FormatSpec {
        self.format
    }

    fn metadata(&self) -> Arc<DatasetMeta> {
        self.meta.clone()
    }

    fn memory_budget(&self) -> usize {
        // The message index, counted by the reader of the whole file only (the parts of
        // a split file share it); decoded fields are in the shared cache.
        if self.whole_file {
            self.source.index_bytes()
        } else {
            0
        }
    }

    async fn read(&self, path: &str, slab: &Hyperslab) -> Result<Array, ReadError> {
        let name = path.strip_prefix('/').unwrap_or(path);
        let meta_var = self
            .meta
            .variable(path)
            .ok_or_else(|| ReadError::NoSuchVariable(path.to_string()))?;
        let shape = meta_var.shape();
        slab.validate(&shape)?;
        if let Some(c) = self.cube.coords.iter().find(|c| c.name == name) {
            let values = match &c.values {
                CoordValues::I32(v) => ArrayValues::I32(select(v, slab, &shape)),
                CoordValues::F64(v) => ArrayValues::F64(select(v, slab, &shape)),
            };
            return Ok(Array::new(slab.shape(), values));
        }
        match self.cube.vars.iter().find(|v| v.name == name) {
            Some(v) => self.read_data(v, slab).await,
            None => Err(ReadError::NoSuchVariable(path.to_string())),
        }
    }
}

/// A GRIB file whose messages form several hypercubes: the catalog serves each part
/// as a dataset of its own (`{file}/{part}`); the file itself has no variables.
pub struct GribParts {
    format: &'static FormatSpec,
    meta: Arc<DatasetMeta>,
    parts: Vec<(String, Arc<GribReader>)>,
}

impl GribParts {
    pub(crate) fn new(format: &'static FormatSpec, parts: Vec<(String, Arc<GribReader>)>) -> Self {
        GribParts {
            format,
            meta: Arc::new(DatasetMeta {
                root: Group {
                    path: "/".into(),
                    ..Group::default()
                },
            }),
            parts,
        }
    }
}

#[async_trait]
impl Reader for GribParts {
    fn format(&self) -> &'static FormatSpec {
        self.format
    }

    fn metadata(&self) -> Arc<DatasetMeta> {
        self.meta.clone()
    }

    fn memory_budget(&self) -> usize {
        self.parts
            .first()
            .map_or(0, |(_, r)| r.source.index_bytes())
    }

    async fn read(&self, path: &str, _slab: &Hyperslab) -> Result<Array, ReadError> {
        Err(ReadError::NoSuchVariable(path.to_string()))
    }

    fn parts(&self) -> Vec<String> {
        self.parts.iter().map(|(n, _)| n.clone()).collect()
    }

    fn part(&self, name: &str) -> Option<Arc<dyn Reader>> {
        self.parts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.clone() as Arc<dyn Reader>)
    }
}
