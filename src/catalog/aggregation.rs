//! Aggregations: one dataset made of many files, joined along an existing dimension
//! (ordered by its coordinate values), along a new dimension whose values come from
//! dates in the file names, or as a union of their variables.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::concat::concat;
use super::member_chunks::{self, JoinedChunks};
use super::member_meta::{cast, drop_user_variables, for_each_group_mut, mismatch, set_dim_len};
use super::name_date::date_from_name;
use super::scalar_coords;
use crate::config::Combine;
use crate::model::cf::{TimeUnits, time_units};
use crate::model::{
    Array, AttrValue, Attribute, ChunkIndex, DataType, DatasetMeta, DimRef, Dimension, Variable,
};
use crate::readers::{FormatSpec, ReadError, Reader};
use crate::storage::{Location, ObjectVersion};
use crate::subset::{DimSlice, Hyperslab};

/// One file of an aggregation.
pub struct Member {
    pub id: String,
    pub location: Location,
    pub version: ObjectVersion,
    pub reader: Arc<dyn Reader>,
    /// First index along the joined dimension, and how many it holds there.
    pub offset: usize,
    pub len: usize,
}

pub struct AggregationReader {
    meta: Arc<DatasetMeta>,
    members: Vec<Member>,
    /// Full path of the joined dimension (join kinds only).
    join_dim: Option<String>,
    /// Values of the joined coordinate, in the first file's units (join kinds only).
    join_values: Vec<f64>,
    /// Union: which member holds each variable.
    owner: HashMap<String, usize>,
    format: &'static FormatSpec,
}

/// A file opened for the aggregation, before checks.
pub struct Candidate {
    pub id: String,
    pub location: Location,
    pub version: ObjectVersion,
    pub reader: Arc<dyn Reader>,
}

impl AggregationReader {
    /// Builds the aggregation; files that do not fit are returned as problems, not used.
    pub async fn build(
        candidates: Vec<Candidate>,
        combine: &Combine,
    ) -> Result<(AggregationReader, Vec<String>), String> {
        let mut problems = Vec::new();
        match combine {
            Combine::JoinExisting { dim } => {
                Self::join_existing(candidates, dim, &mut problems).await
            }
            Combine::JoinNew {
                dim,
                date_format,
                units,
            } => {
                Self::join_new(
                    candidates,
                    dim,
                    date_format.as_deref(),
                    units,
                    &mut problems,
                )
                .await
            }
            Combine::Union => Self::union(candidates, &mut problems),
            // Built by `feature_union::build`.
            Combine::Features => Err("features = true is no join of arrays".into()),
        }
        .map(|r| (r, problems))
    }

    async fn join_existing(
        candidates: Vec<Candidate>,
        dim: &str,
        problems: &mut Vec<String>,
    ) -> Result<AggregationReader, String> {
        let dim_path = format!("/{}", dim.trim_start_matches('/'));
        // Read each file's coordinate values along the joined dimension.
        let mut with_coords: Vec<(Candidate, Vec<f64>, Option<TimeUnits>)> = Vec::new();
        for c in candidates {
            let meta = c.reader.metadata();
            let Some(coord) = meta
                .variable(&dim_path)
                .filter(|v| v.is_coordinate_variable())
            else {
                problems.push(format!(
                    "{}: no coordinate variable {dim_path}; excluded",
                    c.id
                ));
                continue;
            };
            let len = coord.dims[0].len;
            match c.reader.read(&dim_path, &Hyperslab::full(&[len])).await {
                Ok(a) if len > 0 => {
                    let units = time_units(coord);
                    with_coords.push((c, a.values.to_f64(), units))
                }
                Ok(_) => problems.push(format!("{}: {dim_path} is empty; excluded", c.id)),
                Err(e) => problems.push(format!("{}: {e}; excluded", c.id)),
            }
        }
        // Times in each file's own units are compared in the first file's units.
        let reference_units = with_coords.first().and_then(|w| w.2.clone());
        for w in &mut with_coords {
            if let (Some(reference), Some(own)) = (&reference_units, &w.2)
                && reference != own
            {
                w.1 =
                    w.1.iter()
                        .map(|v| {
                            own.decode(*v)
                                .and_then(|t| reference.encode(&t).ok())
                                .unwrap_or(f64::NAN)
                        })
                        .collect();
            }
        }
        with_coords.sort_by(|a, b| {
            a.1[0]
                .partial_cmp(&b.1[0])
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let Some(first) = with_coords.first() else {
            return Err("no usable files".into());
        };
        let reference = first.0.reader.metadata();
        let mut members = Vec::new();
        let mut values: Vec<f64> = Vec::new();
        for (c, coords, _) in with_coords {
            let meta = c.reader.metadata();
            if let Some(why) = mismatch(&reference, &meta, Some(&dim_path)) {
                problems.push(format!("{}: {why}; excluded", c.id));
                continue;
            }
            if let Some(last) = values.last()
                && coords[0] <= *last
            {
                problems.push(format!(
                    "{}: {dim_path} overlaps the previous file; excluded",
                    c.id
                ));
                continue;
            }
            members.push(Member {
                id: c.id,
                location: c.location,
                version: c.version,
                reader: c.reader,
                offset: values.len(),
                len: coords.len(),
            });
            values.extend(coords);
        }
        let mut meta = (*reference).clone();
        drop_user_variables(&mut meta);
        set_dim_len(&mut meta, &dim_path, values.len());
        let format = members[0].reader.format();
        Ok(AggregationReader {
            meta: Arc::new(meta),
            members,
            join_dim: Some(dim_path),
            join_values: values,
            owner: HashMap::new(),
            format,
        })
    }

    async fn join_new(
        candidates: Vec<Candidate>,
        dim: &str,
        date_format: Option<&str>,
        units: &str,
        problems: &mut Vec<String>,
    ) -> Result<AggregationReader, String> {
        let units_parsed = TimeUnits::parse(units, None).map_err(|e| e.to_string())?;
        let dim_name = dim.trim_start_matches('/').to_string();
        let dim_path = format!("/{dim_name}");
        let mut dated: Vec<(f64, Candidate)> = Vec::new();
        for c in candidates {
            let value = match date_format {
                Some(format) => {
                    let name = c.id.rsplit('/').next().unwrap_or(&c.id);
                    date_from_name(name, format)
                        .and_then(|t| units_parsed.encode(&t).ok())
                        .ok_or_else(|| format!("no date matching {format:?} in the name"))
                }
                None => scalar_coords::value(c.reader.as_ref(), &dim_path, &units_parsed).await,
            };
            match value {
                Ok(v) => dated.push((v, c)),
                Err(why) => problems.push(format!("{}: {why}; excluded", c.id)),
            }
        }
        dated.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
        let Some(first) = dated.first() else {
            return Err("no usable files".into());
        };
        let reference = first.1.reader.metadata();
        // A scalar coordinate named like the new dimension (a GeoTIFF's time from
        // TIFFTAG_DATETIME, a daily file's scalar time) gives way to the new coordinate.
        let scalar = reference
            .variable(&dim_path)
            .is_some_and(|v| v.dims.is_empty());
        if (reference.variable(&dim_path).is_some() && !scalar)
            || reference.dimension(&dim_path).is_some()
        {
            return Err(format!(
                "the files already have {dim_path}: use join_existing"
            ));
        }
        let mut members = Vec::new();
        let mut values = Vec::new();
        for (v, c) in dated {
            if let Some(why) = mismatch(&reference, &c.reader.metadata(), None) {
                problems.push(format!("{}: {why}; excluded", c.id));
                continue;
            }
            if values.last() == Some(&v) {
                problems.push(format!(
                    "{}: same date as the previous file; excluded",
                    c.id
                ));
                continue;
            }
            members.push(Member {
                id: c.id,
                location: c.location,
                version: c.version,
                reader: c.reader,
                offset: values.len(),
                len: 1,
            });
            values.push(v);
        }
        let n = values.len();
        let mut meta = (*reference).clone();
        drop_user_variables(&mut meta);
        meta.root.variables.retain(|v| v.path != dim_path);
        let new_dim = DimRef {
            name: dim_name.clone(),
            path: dim_path.clone(),
            len: n,
        };
        let auxiliary: Vec<String> = meta
            .variables()
            .iter()
            .filter_map(|v| v.attr("coordinates").and_then(|a| a.as_text()))
            .flat_map(|s| s.split_whitespace().map(String::from).collect::<Vec<_>>())
            .collect();
        // Scalars whose value differs between files (a GRIB file's `valid_time`) vary
        // along the new dimension too, as xarray's concatenation makes them.
        let readers: Vec<&dyn Reader> = members.iter().map(|m| m.reader.as_ref()).collect();
        let varying = scalar_coords::varying(&readers, &meta, &dim_path).await;
        for_each_group_mut(&mut meta.root, &mut |g| {
            for v in &mut g.variables {
                let varies = v.dims.is_empty() && varying.contains(&v.path);
                if varies
                    || (!v.dims.is_empty()
                        && !v.is_coordinate_variable()
                        && !auxiliary.contains(&v.name))
                {
                    v.dims.insert(0, new_dim.clone());
                    if let Some(c) = &mut v.chunks {
                        c.insert(0, 1);
                    }
                }
            }
        });
        meta.root.dimensions.insert(
            0,
            Dimension {
                name: dim_name.clone(),
                path: dim_path.clone(),
                len: n,
                unlimited: false,
            },
        );
        meta.root.variables.insert(
            0,
            Variable {
                name: dim_name,
                path: dim_path.clone(),
                dims: vec![new_dim],
                dtype: DataType::F64,
                attributes: vec![
                    Attribute::new("units", AttrValue::Text(units.to_string())),
                    Attribute::new("calendar", AttrValue::Text("standard".into())),
                    Attribute::new("standard_name", AttrValue::Text("time".into())),
                    Attribute::new("axis", AttrValue::Text("T".into())),
                ],
                chunks: None,
            },
        );
        let format = members[0].reader.format();
        Ok(AggregationReader {
            meta: Arc::new(meta),
            members,
            join_dim: Some(dim_path),
            join_values: values,
            owner: HashMap::new(),
            format,
        })
    }

    fn union(
        candidates: Vec<Candidate>,
        problems: &mut Vec<String>,
    ) -> Result<AggregationReader, String> {
        let mut meta = DatasetMeta::default();
        meta.root.path = "/".into();
        let mut owner = HashMap::new();
        let mut members = Vec::new();
        for c in candidates {
            let m = c.reader.metadata();
            let conflict = m.root.dimensions.iter().find(|d| {
                meta.root
                    .dimensions
                    .iter()
                    .any(|e| e.path == d.path && e.len != d.len)
            });
            if let Some(d) = conflict {
                problems.push(format!(
                    "{}: dimension {} has another length; excluded",
                    c.id, d.path
                ));
                continue;
            }
            if !m.root.groups.is_empty() {
                problems.push(format!(
                    "{}: groups are not merged by a union; only root variables used",
                    c.id
                ));
            }
            let index = members.len();
            for d in &m.root.dimensions {
                if !meta.root.dimensions.iter().any(|e| e.path == d.path) {
                    meta.root.dimensions.push(d.clone());
                }
            }
            for v in &m.root.variables {
                if !owner.contains_key(&v.path) {
                    owner.insert(v.path.clone(), index);
                    meta.root.variables.push(v.clone());
                }
            }
            for a in &m.root.attributes {
                if !meta.root.attributes.iter().any(|b| b.name == a.name) {
                    meta.root.attributes.push(a.clone());
                }
            }
            members.push(Member {
                id: c.id,
                location: c.location,
                version: c.version,
                reader: c.reader,
                offset: 0,
                len: 0,
            });
        }
        if members.is_empty() {
            return Err("no usable files".into());
        }
        let format = members[0].reader.format();
        Ok(AggregationReader {
            meta: Arc::new(meta),
            members,
            join_dim: None,
            join_values: Vec::new(),
            owner,
            format,
        })
    }

    /// An aggregation whose variables are read from no member (a union of features:
    /// the members are read one by one, see `feature_union.rs`).
    pub(super) fn of_members(meta: DatasetMeta, members: Vec<Member>) -> Option<AggregationReader> {
        let format = members.first()?.reader.format();
        Some(AggregationReader {
            meta: Arc::new(meta),
            members,
            join_dim: None,
            join_values: Vec::new(),
            owner: HashMap::new(),
            format,
        })
    }

    pub fn members(&self) -> &[Member] {
        &self.members
    }

    fn joined(&self) -> JoinedChunks<'_> {
        JoinedChunks {
            meta: &self.meta,
            members: self
                .members
                .iter()
                .map(|m| (m.reader.as_ref(), m.offset, m.len))
                .collect(),
            join_dim: self.join_dim.as_deref(),
            owner: &self.owner,
        }
    }

    /// A version for the whole: changes whenever a member changes.
    pub fn version(&self) -> ObjectVersion {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut size = 0;
        let mut newest = None;
        for m in &self.members {
            h.update(m.location.to_string().as_bytes());
            h.update(m.version.size.to_le_bytes());
            h.update(format!("{:?}{:?}", m.version.last_modified, m.version.etag).as_bytes());
            size += m.version.size;
            newest = newest.max(m.version.last_modified);
        }
        let tag: String = h.finalize()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        ObjectVersion {
            size,
            last_modified: newest,
            etag: Some(tag),
        }
    }

    /// Reads the selection along the joined axis `axis` from the members holding it.
    async fn read_joined(
        &self,
        var: &Variable,
        axis: usize,
        slab: &Hyperslab,
    ) -> Result<Array, ReadError> {
        let sel = slab.dims[axis];
        let mut parts = Vec::new();
        let mut k = 0;
        while k < sel.count {
            let global = sel.start + k * sel.stride;
            let m = self
                .members
                .iter()
                .find(|m| global >= m.offset && global < m.offset + m.len)
                .ok_or_else(|| ReadError::Internal(format!("index {global} in no member")))?;
            // How many of the selected indices fall in this member.
            let mut n = 0;
            while k + n < sel.count && sel.start + (k + n) * sel.stride < m.offset + m.len {
                n += 1;
            }
            let local = DimSlice {
                start: global - m.offset,
                stride: sel.stride,
                count: n,
            };
            let mut piece = slab.clone();
            let array = if m.len == 1
                && var.dims.len()
                    > m.reader
                        .metadata()
                        .variable(&var.path)
                        .map_or(0, |v| v.dims.len())
            {
                // A new dimension: the member's variable lacks it.
                piece.dims.remove(axis);
                let mut a = m.reader.read(&var.path, &piece).await?;
                a.shape.insert(axis, 1);
                a
            } else {
                piece.dims[axis] = local;
                m.reader.read(&var.path, &piece).await?
            };
            parts.push(array);
            k += n;
        }
        if parts.is_empty() {
            let mut piece = slab.clone();
            piece.dims[axis] = DimSlice {
                start: 0,
                stride: 1,
                count: 0,
            };
            return self.members[0].reader.read(&var.path, &piece).await;
        }
        concat(parts, axis)
            .ok_or_else(|| ReadError::Internal(format!("{}: members disagree", var.path)))
    }
}

#[async_trait]
impl Reader for AggregationReader {
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
        if let Some(&i) = self.owner.get(&var.path) {
            return self.members[i].reader.read(&var.path, slab).await;
        }
        let Some(join) = &self.join_dim else {
            return Err(ReadError::NoSuchVariable(path.to_string()));
        };
        if &var.path == join {
            let values: Vec<f64> = slab.dims[0]
                .indices()
                .map(|i| self.join_values[i])
                .collect();
            return Ok(Array::new(slab.shape(), cast(&values, var.dtype)));
        }
        match var.dims.iter().position(|d| &d.path == join) {
            Some(axis) => self.read_joined(var, axis, slab).await,
            None => self.members[0].reader.read(&var.path, slab).await,
        }
    }

    async fn chunk_index(&self, path: &str) -> Result<Option<ChunkIndex>, ReadError> {
        self.joined().index(path, true).await
    }

    async fn chunk_layout(&self, path: &str) -> Result<Option<ChunkIndex>, ReadError> {
        self.joined().index(path, false).await
    }

    async fn stored_chunk(&self, key: &str) -> Result<Option<bytes::Bytes>, ReadError> {
        match member_chunks::parse_key(key) {
            Some((i, Some(inner))) if i < self.members.len() => {
                self.members[i].reader.stored_chunk(inner).await
            }
            _ => Ok(None),
        }
    }

    fn chunk_file(&self, key: &str) -> Option<(Location, ObjectVersion)> {
        let (i, inner) = member_chunks::parse_key(key)?;
        let m = self.members.get(i)?;
        match inner {
            None => Some((m.location.clone(), m.version.clone())),
            Some(inner) => m.reader.chunk_file(inner),
        }
    }
}
