//! Datasets: a catalogued entry, and an opened dataset with its reader.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use futures::StreamExt;
use serde::Serialize;

use crate::model::{Array, DatasetMeta};
use crate::readers::{FormatSpec, ReadError, Reader};
use crate::storage::{Location, ObjectVersion};
use crate::subset::Hyperslab;

/// A catalogued dataset, before it is opened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetEntry {
    pub id: String,
    pub title: Option<String>,
    #[serde(skip)]
    pub location: Location,
    /// Which of the datasets the file holds, when it holds several (`parts.rs`).
    #[serde(skip)]
    pub part: Option<String>,
}

/// An opened dataset: metadata and the reader that serves its data.
pub struct Dataset {
    pub id: String,
    pub title: String,
    pub location: Location,
    pub version: ObjectVersion,
    pub meta: Arc<DatasetMeta>,
    pub reader: Arc<dyn Reader>,
}

impl Dataset {
    /// The dataset's row of the format table (`format().name` for listings).
    pub fn format(&self) -> &'static FormatSpec {
        self.reader.format()
    }

    pub async fn read(&self, var: &str, slab: &Hyperslab) -> Result<Array, ReadError> {
        self.reader.read(var, slab).await
    }

    /// Reads `slab` of a variable of a compound, vlen or opaque type.
    pub async fn read_user(
        &self,
        var: &str,
        slab: &Hyperslab,
    ) -> Result<crate::model::UserArray, ReadError> {
        self.reader.read_user(var, slab).await
    }

    /// The shapes of the reduced-resolution copies of `var` (`Reader::reduced_resolutions`).
    pub fn reduced_resolutions(&self, var: &str) -> Vec<Vec<usize>> {
        self.reader.reduced_resolutions(var)
    }

    /// Reads `slab` of the reduced-resolution copy `level` of `var`.
    pub async fn read_reduced(
        &self,
        var: &str,
        level: usize,
        slab: &Hyperslab,
    ) -> Result<Array, ReadError> {
        self.reader.read_reduced(var, level, slab).await
    }

    /// Reads `slab` of `var` in consecutive pieces of at most `max_bytes` each (at least
    /// one innermost row), in row-major order: for streaming responses with bounded
    /// memory. Each piece is read only when the stream is polled.
    pub fn read_blocks(
        self: &Arc<Self>,
        var: &str,
        slab: &Hyperslab,
        max_bytes: usize,
    ) -> impl futures::Stream<Item = Result<Array, ReadError>> + Send + 'static {
        let elem = self
            .meta
            .variable(var)
            .and_then(|v| v.dtype.size())
            .unwrap_or(64);
        let pieces = slab.split((max_bytes / elem).max(1));
        let (ds, var) = (self.clone(), var.to_string());
        futures::stream::iter(pieces).then(move |piece| {
            let (ds, var) = (ds.clone(), var.clone());
            async move { ds.read(&var, &piece).await }
        })
    }

    /// A strong validator for the dataset's current version (size + modification time).
    pub fn etag(&self) -> String {
        let mtime = self
            .version
            .last_modified
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        match &self.version.etag {
            Some(tag) if !tag.is_empty() => format!("\"{}\"", tag.trim_matches('"')),
            _ => format!("\"{:x}-{:x}\"", self.version.size, mtime),
        }
    }
}

/// The feature model (DSG) reads an opened dataset's arrays through this.
#[async_trait::async_trait]
impl crate::features::ArraySource for Dataset {
    async fn read_array(&self, path: &str, slab: &Hyperslab) -> Result<Array, ReadError> {
        self.read(path, slab).await
    }
}

impl AsRef<DatasetMeta> for Dataset {
    fn as_ref(&self) -> &DatasetMeta {
        &self.meta
    }
}
