//! kerchunk / VirtualiZarr reference files (JSON, versions 0 and 1): a Zarr v2
//! hierarchy whose keys are inline values or byte ranges of other files. Keys are
//! served to the Zarr reader (`zarr_store`) through the storage layer: ranges of remote
//! files through the block cache, at the version seen on first use.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value};

use futures::future::BoxFuture;

use super::reader::{FormatSpec, OpenRequest};
use super::zarr_store::ZarrReader;
use super::zarr_store::keys::KeySource;
use super::{ReadError, Reader};
use crate::storage::{Location, ObjectVersion, Storage};

/// The content test of the `kerchunk` row: a `.json` file holding a JSON object whose
/// first bytes show a reference set (`"refs"` of version 1, or Zarr keys of version 0).
pub fn looks_like_references(name: &str, head: &[u8]) -> bool {
    if !name.ends_with(".json") {
        return false;
    }
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start();
    text.starts_with('{')
        && (text.contains("\"refs\"")
            || text.contains("\".zgroup\"")
            || text.contains("\".zarray\""))
}

/// Opens a kerchunk reference file (the `kerchunk` row of the format table): a Zarr v2
/// hierarchy whose keys are the references.
pub(super) fn open_references<'a>(
    format: &'static FormatSpec,
    req: OpenRequest<'a>,
) -> BoxFuture<'a, Result<Arc<dyn Reader>, ReadError>> {
    Box::pin(async move {
        let source = References::open(&req).await?;
        let cache = req.config.decoded_chunk_cache_bytes;
        let reader = ZarrReader::open(format, Arc::new(source), cache).await?;
        Ok(Arc::new(reader) as Arc<dyn Reader>)
    })
}

/// Opens a directory dataset (the `zarr` row): kerchunk references in Parquet when
/// its `.zmetadata` is theirs (`record_size`), else a Zarr store.
pub(super) fn open_store<'a>(
    format: &'static FormatSpec,
    req: OpenRequest<'a>,
) -> BoxFuture<'a, Result<Arc<dyn Reader>, ReadError>> {
    Box::pin(async move {
        let Some(refs) = parquet_refs::load(&req).await? else {
            return super::zarr_store::open_store(format, req).await;
        };
        let source = References {
            location: req.location.clone(),
            refs,
            storage: req.storage.clone(),
            versions: Mutex::new(HashMap::new()),
        };
        let cache = req.config.decoded_chunk_cache_bytes;
        let reader = ZarrReader::open(format, Arc::new(source), cache).await?;
        Ok(Arc::new(reader) as Arc<dyn Reader>)
    })
}

/// Parses a reference file (version 0: the flat key map; version 1: `refs`, with
/// `templates` substituted into URLs, and `gen` expanded).
pub fn parse(json: &[u8]) -> Result<HashMap<String, Ref>, String> {
    let top: Map<String, Value> = match serde_json::from_slice(json) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return Err("not a JSON object".into()),
        Err(e) => return Err(format!("invalid JSON: {e}")),
    };
    let (mut refs, templates) = match top.get("refs") {
        Some(Value::Object(refs)) => {
            let templates: HashMap<String, String> = match top.get("templates") {
                Some(Value::Object(t)) => t
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect(),
                _ => HashMap::new(),
            };
            (refs.clone(), templates)
        }
        Some(_) => return Err("\"refs\" is not an object".into()),
        None => (top.clone(), HashMap::new()),
    };
    match top.get("gen") {
        Some(Value::Array(entries)) if top.contains_key("refs") => {
            // Explicit references win over generated ones of the same key.
            for (key, target) in generate::expand(entries, &templates)? {
                refs.entry(key).or_insert(target);
            }
        }
        _ => {}
    }
    refs.into_iter()
        .map(|(key, v)| Ok((key.clone(), one_ref(&key, v, &templates)?)))
        .collect()
}

fn one_ref(key: &str, v: Value, templates: &HashMap<String, String>) -> Result<Ref, String> {
    let bad = |why: &str| format!("reference {key:?}: {why}");
    match v {
        Value::String(s) => match s.strip_prefix("base64:") {
            Some(b64) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map(|b| Ref::Inline(Bytes::from(b)))
                .map_err(|e| bad(&format!("bad base64: {e}"))),
            None => Ok(Ref::Inline(Bytes::from(s.into_bytes()))),
        },
        // Some writers inline metadata documents as JSON rather than as text.
        Value::Object(_) => Ok(Ref::Inline(Bytes::from(v.to_string().into_bytes()))),
        Value::Array(items) => {
            let url = items
                .first()
                .and_then(Value::as_str)
                .map(|u| substitute(u, templates))
                .ok_or_else(|| bad("no URL"))?;
            match items.len() {
                1 => Ok(Ref::Whole(url)),
                3 => {
                    let offset = items[1].as_u64().ok_or_else(|| bad("bad offset"))?;
                    let length = items[2].as_u64().ok_or_else(|| bad("bad length"))?;
                    Ok(Ref::Range {
                        url,
                        offset,
                        length,
                    })
                }
                _ => Err(bad("expected [url] or [url, offset, length]")),
            }
        }
        _ => Err(bad("expected a string or a list")),
    }
}

/// `{{name}}` (spaces allowed inside) replaced by its template.
fn substitute(url: &str, templates: &HashMap<String, String>) -> String {
    if !url.contains("{{") {
        return url.to_string();
    }
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            break;
        };
        let name = rest[open + 2..open + close].trim();
        out.push_str(&rest[..open]);
        match templates.get(name) {
            Some(t) => out.push_str(t),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

/// Where a referenced URL is: absolute URLs as they are, paths relative to the
/// reference file. A reference file in object storage may not point at local files
/// (anyone able to write to the bucket could otherwise read the server's disk).
pub fn resolve(url: &str, refs: &Location) -> Result<Location, String> {
    let base = std::path::Path::new("/");
    if url.contains("://") {
        let loc = Location::parse(url, base).map_err(|e| e.to_string())?;
        if refs.is_remote() && !loc.is_remote() {
            return Err(format!(
                "{url}: a remote reference file cannot point at local files"
            ));
        }
        return Ok(loc);
    }
    match refs {
        Location::Local(p) => {
            let dir = p.parent().unwrap_or(base);
            Location::parse(url, dir).map_err(|e| e.to_string())
        }
        Location::Remote(r) if !url.starts_with('/') => {
            // A directory of references (Parquet) has a key ending with `/`.
            let mut parts: Vec<&str> = r.key.trim_end_matches('/').split('/').collect();
            parts.pop(); // the reference file's (or directory's) own name
            for part in url.split('/') {
                match part {
                    "" | "." => {}
                    ".." => {
                        parts
                            .pop()
                            .ok_or_else(|| format!("{url}: outside the store"))?;
                    }
                    p => parts.push(p),
                }
            }
            Ok(Location::Remote(r.with_key(parts.join("/"))))
        }
        _ => Err(format!(
            "{url}: an absolute path in a remote reference file"
        )),
    }
}

/// An open reference set: the keys of a Zarr v2 hierarchy.
pub struct References {
    location: Location,
    refs: HashMap<String, Ref>,
    storage: Arc<Storage>,
    /// Versions of the referenced files, taken on first use: ranges are then read at
    /// that version (a file changed since is an error, not mixed bytes).
    versions: Mutex<HashMap<Location, ObjectVersion>>,
}

impl References {
    pub async fn open(req: &OpenRequest<'_>) -> Result<References, ReadError> {
        let bytes = req
            .storage
            .get_range_at(req.location, req.version, 0..req.version.size)
            .await?;
        let refs = parse(&bytes).map_err(|message| ReadError::Format {
            location: req.location.to_string(),
            message,
        })?;
        Ok(References {
            location: req.location.clone(),
            refs,
            storage: req.storage.clone(),
            versions: Mutex::new(HashMap::new()),
        })
    }

    fn target(&self, url: &str) -> Result<Location, ReadError> {
        resolve(url, &self.location).map_err(|message| ReadError::Format {
            location: self.location.to_string(),
            message,
        })
    }

    async fn version(&self, loc: &Location) -> Result<ObjectVersion, ReadError> {
        let known = self
            .versions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(loc)
            .cloned();
        if let Some(v) = known {
            return Ok(v);
        }
        let v = self.storage.head(loc).await?;
        self.versions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(loc.clone(), v.clone());
        Ok(v)
    }

    /// Bytes `range` (relative to the referenced span) of a file span.
    async fn read_span(&self, url: &str, span: Range<u64>) -> Result<Bytes, ReadError> {
        let loc = self.target(url)?;
        let version = self.version(&loc).await?;
        if span.end > version.size || span.start > span.end {
            return Err(ReadError::Format {
                location: self.location.to_string(),
                message: format!("{url}: a reference beyond the end of the file"),
            });
        }
        Ok(self.storage.read_cached(&loc, &version, span).await?)
    }
}

#[async_trait]
impl KeySource for References {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, ReadError> {
        self.get_range(key, 0..u64::MAX).await
    }

    async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Option<Bytes>, ReadError> {
        let Some(r) = self.refs.get(key) else {
            return Ok(None);
        };
        let within = |len: u64| range.start.min(len)..range.end.min(len);
        Ok(Some(match r {
            Ref::Inline(b) => {
                let w = within(b.len() as u64);
                b.slice(w.start as usize..w.end as usize)
            }
            Ref::Whole(url) => {
                let size = self.version(&self.target(url)?).await?.size;
                self.read_span(url, within(size)).await?
            }
            Ref::Range {
                url,
                offset,
                length,
            } => {
                let w = within(*length);
                let end = offset.checked_add(w.end).ok_or_else(|| ReadError::Format {
                    location: self.location.to_string(),
                    message: format!("reference {key:?}: offset out of range"),
                })?;
                self.read_span(url, offset + w.start..end).await?
            }
        }))
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, ReadError> {
        Ok(match self.refs.get(key) {
            None => None,
            Some(Ref::Inline(b)) => Some(b.len() as u64),
            Some(Ref::Range { length, .. }) => Some(*length),
            Some(Ref::Whole(url)) => Some(self.version(&self.target(url)?).await?.size),
        })
    }

    async fn keys(&self) -> Result<Vec<(String, u64)>, ReadError> {
        let mut out = Vec::with_capacity(self.refs.len());
        for (key, r) in &self.refs {
            let size = match r {
                Ref::Inline(b) => b.len() as u64,
                Ref::Range { length, .. } => *length,
                // One HEAD per referenced file (rare for chunks), remembered.
                Ref::Whole(url) => self.version(&self.target(url)?).await?.size,
            };
            out.push((key.clone(), size));
        }
        Ok(out)
    }

    async fn names(&self) -> Result<Vec<String>, ReadError> {
        Ok(self.refs.keys().cloned().collect())
    }

    fn location(&self) -> &Location {
        &self.location
    }
}

mod generate;
mod parquet_refs;
mod reference;
pub use reference::Ref;
#[cfg(test)]
mod tests;
