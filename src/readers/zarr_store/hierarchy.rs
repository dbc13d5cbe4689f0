//! Finding the arrays and groups of a Zarr hierarchy and their metadata documents:
//! from consolidated metadata when there is some (v2 `.zmetadata`, v3 inline in the
//! root `zarr.json`: one read), else from a listing of the keys.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value};

use super::keys::KeySource;
use crate::readers::ReadError;

/// Metadata documents read at once when the hierarchy is not consolidated.
const CONCURRENT_READS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZarrFormat {
    V2,
    V3,
}

/// An array: its path in the hierarchy (`temp`, `forecast/temp`), its metadata document
/// (`.zarray`, or the v3 `zarr.json`) and its attributes.
#[derive(Debug, Clone)]
pub struct ArrayNode {
    pub path: String,
    pub metadata: Value,
    pub attributes: Map<String, Value>,
}

/// The hierarchy: arrays, and group attributes by group path (`` for the root).
#[derive(Debug, Clone)]
pub struct Hierarchy {
    pub format: ZarrFormat,
    pub arrays: Vec<ArrayNode>,
    pub groups: BTreeMap<String, Map<String, Value>>,
}

fn damaged(source: &dyn KeySource, message: String) -> ReadError {
    ReadError::Format {
        location: source.location().to_string(),
        message,
    }
}

fn parse(source: &dyn KeySource, key: &str, bytes: &[u8]) -> Result<Value, ReadError> {
    serde_json::from_slice(bytes).map_err(|e| damaged(source, format!("{key}: {e}")))
}

fn object(source: &dyn KeySource, key: &str, v: Value) -> Result<Map<String, Value>, ReadError> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(damaged(source, format!("{key}: not a JSON object"))),
    }
}

/// Reads the hierarchy's metadata.
pub async fn discover(source: &dyn KeySource) -> Result<Hierarchy, ReadError> {
    if let Some(bytes) = source.get("zarr.json").await? {
        let root = object(source, "zarr.json", parse(source, "zarr.json", &bytes)?)?;
        return v3(source, root).await;
    }
    if let Some(bytes) = source.get(".zmetadata").await? {
        let doc = object(source, ".zmetadata", parse(source, ".zmetadata", &bytes)?)?;
        let Some(Value::Object(docs)) = doc.get("metadata") else {
            return Err(damaged(source, ".zmetadata: no \"metadata\" object".into()));
        };
        return v2(source, docs.clone().into_iter().collect());
    }
    let keys = source.names().await?;
    let wanted: Vec<String> = keys
        .into_iter()
        .filter(|k| {
            let name = k.rsplit('/').next().unwrap_or(k);
            matches!(name, ".zarray" | ".zattrs" | ".zgroup")
        })
        .collect();
    let docs = read_documents(source, wanted).await?;
    if !docs.contains_key(".zgroup") {
        return Err(damaged(
            source,
            "no .zgroup, .zmetadata or zarr.json".into(),
        ));
    }
    v2(source, docs)
}

/// Reads and parses the documents at `keys`, concurrently.
async fn read_documents(
    source: &dyn KeySource,
    keys: Vec<String>,
) -> Result<BTreeMap<String, Value>, ReadError> {
    futures::stream::iter(keys)
        .map(|key| async move {
            let bytes = source.get(&key).await?;
            let value = match bytes {
                Some(b) => Some(parse(source, &key, &b)?),
                None => None,
            };
            Ok::<_, ReadError>(value.map(|v| (key, v)))
        })
        .buffer_unordered(CONCURRENT_READS)
        .try_filter_map(|x| async move { Ok(x) })
        .try_collect()
        .await
}

/// The parent path of a key (`a/b/.zarray` → `a/b`, `.zarray` → ``).
fn node_path<'k>(key: &'k str, name: &str) -> Option<&'k str> {
    if key == name {
        return Some("");
    }
    key.strip_suffix(name)?.strip_suffix('/')
}

/// A v2 hierarchy from its documents by key.
fn v2(source: &dyn KeySource, docs: BTreeMap<String, Value>) -> Result<Hierarchy, ReadError> {
    let attributes = |path: &str| -> Result<Map<String, Value>, ReadError> {
        let key = if path.is_empty() {
            ".zattrs".to_string()
        } else {
            format!("{path}/.zattrs")
        };
        match docs.get(&key) {
            Some(v) => object(source, &key, v.clone()),
            None => Ok(Map::new()),
        }
    };
    let mut arrays = Vec::new();
    let mut groups = BTreeMap::new();
    for (key, doc) in &docs {
        if let Some(path) = node_path(key, ".zarray") {
            if path.is_empty() {
                return Err(ReadError::Unsupported(
                    "a Zarr store whose root is an array".into(),
                ));
            }
            arrays.push(ArrayNode {
                path: path.to_string(),
                metadata: Value::Object(object(source, key, doc.clone())?),
                attributes: attributes(path)?,
            });
        } else if let Some(path) = node_path(key, ".zgroup") {
            groups.insert(path.to_string(), attributes(path)?);
        }
    }
    Ok(Hierarchy {
        format: ZarrFormat::V2,
        arrays,
        groups,
    })
}

/// A v3 hierarchy from its root `zarr.json`: consolidated when it carries
/// `consolidated_metadata`, else every `zarr.json` under it, found by listing.
async fn v3(source: &dyn KeySource, root: Map<String, Value>) -> Result<Hierarchy, ReadError> {
    if root.get("node_type").and_then(Value::as_str) != Some("group") {
        return Err(ReadError::Unsupported(
            "a Zarr store whose root is an array".into(),
        ));
    }
    let consolidated = root
        .get("consolidated_metadata")
        .and_then(|c| c.get("metadata"))
        .and_then(Value::as_object)
        .cloned();
    let nodes: BTreeMap<String, Value> = match consolidated {
        Some(docs) => docs.into_iter().collect(),
        None => {
            let keys: Vec<String> = source
                .names()
                .await?
                .into_iter()
                .filter(|k| k != "zarr.json" && k.ends_with("/zarr.json"))
                .collect();
            read_documents(source, keys)
                .await?
                .into_iter()
                .filter_map(|(k, v)| Some((node_path(&k, "zarr.json")?.to_string(), v)))
                .collect()
        }
    };
    let attrs = |doc: &Map<String, Value>| match doc.get("attributes") {
        Some(Value::Object(a)) => a.clone(),
        _ => Map::new(),
    };
    let mut groups = BTreeMap::from([(String::new(), attrs(&root))]);
    let mut arrays = Vec::new();
    for (path, doc) in nodes {
        let key = format!("{path}/zarr.json");
        let mut doc = object(source, &key, doc)?;
        match doc.get("node_type").and_then(Value::as_str) {
            Some("array") => {
                let attributes = attrs(&doc);
                // Consolidated entries may omit the inner consolidated metadata of
                // groups, and arrays must not carry it.
                doc.remove("consolidated_metadata");
                arrays.push(ArrayNode {
                    path,
                    metadata: Value::Object(doc),
                    attributes,
                });
            }
            Some("group") => {
                groups.insert(path, attrs(&doc));
            }
            _ => return Err(damaged(source, format!("{key}: no valid node_type"))),
        }
    }
    Ok(Hierarchy {
        format: ZarrFormat::V3,
        arrays,
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_paths() {
        assert_eq!(node_path(".zarray", ".zarray"), Some(""));
        assert_eq!(node_path("a/b/.zarray", ".zarray"), Some("a/b"));
        assert_eq!(node_path("a/b.zarray", ".zarray"), None);
        assert_eq!(node_path("t/zarr.json", "zarr.json"), Some("t"));
    }
}
