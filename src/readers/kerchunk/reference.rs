//! One reference of a kerchunk reference set, whatever its storage (JSON, Parquet).

use bytes::Bytes;

/// What one key of a reference set holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Ref {
    /// The value itself (a metadata document, a small chunk).
    Inline(Bytes),
    /// A whole file.
    Whole(String),
    /// `length` bytes of a file from `offset`.
    Range {
        url: String,
        offset: u64,
        length: u64,
    },
}
