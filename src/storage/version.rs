//! The version of an object: what every cache key is made of.

use std::time::SystemTime;

/// Size and version of an object: what cache keys are made of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectVersion {
    pub size: u64,
    pub last_modified: Option<SystemTime>,
    pub etag: Option<String>,
}
