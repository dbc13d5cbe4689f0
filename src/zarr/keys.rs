//! Store keys: what a path below `/zarr/{id}/` (or its alias `/zarr3/{id}/`) names.
//!
//! One store answers both Zarr formats, so a key's form alone says which format it
//! belongs to:
//! - `zarr.json` is v3 metadata; `.zgroup`, `.zattrs`, `.zarray`, `.zmetadata` and
//!   `refs.json` are v2.
//! - `{array}/c` (rank 0) or `{array}/c/i/j/…` with one index per dimension is a v3
//!   chunk; `{array}/i.j.…` (`{array}/0` for rank 0) is a v2 chunk.
//!
//! The two chunk forms never name the same key: a v3 chunk key of array `A` continues
//! `A/c/`, so a v2 reading would need an array `A/c` or `A/c/i` below the array `A`, and
//! an array has no children (netCDF gives a variable and a group of one parent distinct
//! names). A v2 array named `c` (`g/c/3`) is therefore a v2 key: no array `g` exists.

use super::layout::{ArrayLayout, GroupLayout, StoreLayout};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2,
    V3,
}

#[derive(Debug)]
pub enum Key<'l> {
    Refs,
    ZGroup,
    ZMetadata(&'l GroupLayout),
    GroupAttrs(&'l GroupLayout),
    ZArray(&'l ArrayLayout),
    ArrayAttrs(&'l ArrayLayout),
    GroupJson(&'l GroupLayout),
    ArrayJson(&'l ArrayLayout),
    /// A chunk, in the format its key was written in (v2 and v3 differ on absent chunks).
    Chunk(&'l ArrayLayout, Vec<u64>, Version),
}

/// Parses the key `rest` (no leading `/`); `None` for anything the store does not hold.
pub fn parse<'l>(rest: &str, layout: &'l StoreLayout) -> Option<Key<'l>> {
    let (node, leaf) = rest.rsplit_once('/').unwrap_or(("", rest));
    match leaf {
        "refs.json" if node.is_empty() => Some(Key::Refs),
        ".zgroup" => layout.group(node).map(|_| Key::ZGroup),
        ".zmetadata" => layout.group(node).map(Key::ZMetadata),
        ".zarray" => layout.array(node).map(Key::ZArray),
        ".zattrs" => match layout.group(node) {
            Some(g) => Some(Key::GroupAttrs(g)),
            None => layout.array(node).map(Key::ArrayAttrs),
        },
        "zarr.json" => match layout.group(node) {
            Some(g) => Some(Key::GroupJson(g)),
            None => layout.array(node).map(Key::ArrayJson),
        },
        _ => v3_chunk(rest, layout).or_else(|| v2_chunk(node, leaf, layout)),
    }
}

/// `{array}/c` (rank 0) or `{array}/c/i/j/…`.
fn v3_chunk<'l>(rest: &str, layout: &'l StoreLayout) -> Option<Key<'l>> {
    layout.arrays.iter().find_map(|a| {
        let after = rest.strip_prefix(a.key.as_str())?.strip_prefix("/c")?;
        let coords = if after.is_empty() {
            Vec::new()
        } else {
            numbers(after.strip_prefix('/')?.split('/'))?
        };
        (coords.len() == a.shape.len()).then_some(Key::Chunk(a, coords, Version::V3))
    })
}

/// `{array}/i.j.…` (`{array}/0` for rank 0).
fn v2_chunk<'l>(node: &str, leaf: &str, layout: &'l StoreLayout) -> Option<Key<'l>> {
    let a = layout.array(node)?;
    let coords = if a.shape.is_empty() {
        (leaf == "0").then(Vec::new)?
    } else {
        numbers(leaf.split('.'))?
    };
    (coords.len() == a.shape.len()).then_some(Key::Chunk(a, coords, Version::V2))
}

fn numbers<'s>(parts: impl Iterator<Item = &'s str>) -> Option<Vec<u64>> {
    parts
        .map(|p| {
            // Plain decimal only: `+1` or `01` are other keys.
            let canonical = !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p == "0" || !p.starts_with('0'));
            canonical.then(|| p.parse().ok()).flatten()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DataType;
    use crate::zarr::layout::Encoding;

    fn layout() -> StoreLayout {
        let arr = |key: &str, shape: Vec<usize>| ArrayLayout {
            key: key.into(),
            var_path: format!("/{key}"),
            dims: vec![],
            chunk_shape: shape.clone(),
            shape,
            dtype: DataType::F32,
            encoding: Encoding::Decoded,
            fill: None,
            attributes: vec![],
        };
        let grp = |key: &str| GroupLayout {
            key: key.into(),
            attributes: vec![],
        };
        StoreLayout {
            arrays: vec![
                arr("t", vec![2, 3]),
                arr("g/s", vec![]),
                arr("g/c", vec![4]),
            ],
            groups: vec![grp(""), grp("g")],
        }
    }

    #[test]
    fn v2_keys() {
        let l = layout();
        let v2 = Version::V2;
        assert!(matches!(parse(".zmetadata", &l), Some(Key::ZMetadata(g)) if g.key.is_empty()));
        assert!(matches!(parse("g/.zmetadata", &l), Some(Key::ZMetadata(g)) if g.key == "g"));
        assert!(matches!(parse("t/.zattrs", &l), Some(Key::ArrayAttrs(_))));
        assert!(
            matches!(parse("t/0.1", &l), Some(Key::Chunk(_, c, v)) if c == vec![0, 1] && v == v2)
        );
        assert!(matches!(parse("g/s/0", &l), Some(Key::Chunk(_, c, v)) if c.is_empty() && v == v2));
        assert!(parse("t/.zgroup", &l).is_none());
        assert!(parse("t/0.01", &l).is_none());
        assert!(parse("t/0", &l).is_none(), "one index for a rank-2 array");
        assert!(parse("nope/.zarray", &l).is_none());
        assert!(matches!(parse("refs.json", &l), Some(Key::Refs)));
        assert!(parse("g/refs.json", &l).is_none());
    }

    #[test]
    fn v3_keys() {
        let l = layout();
        let v3 = Version::V3;
        assert!(matches!(parse("zarr.json", &l), Some(Key::GroupJson(_))));
        assert!(matches!(parse("g/zarr.json", &l), Some(Key::GroupJson(g)) if g.key == "g"));
        assert!(matches!(parse("g/c/zarr.json", &l), Some(Key::ArrayJson(a)) if a.key == "g/c"));
        assert!(
            matches!(parse("g/c/c/3", &l), Some(Key::Chunk(a, c, v)) if a.key == "g/c" && c == vec![3] && v == v3)
        );
        assert!(matches!(parse("g/s/c", &l), Some(Key::Chunk(_, c, v)) if c.is_empty() && v == v3));
        assert!(
            matches!(parse("t/c/1/2", &l), Some(Key::Chunk(_, c, v)) if c == vec![1, 2] && v == v3)
        );
        assert!(parse("t/c/1", &l).is_none());
        assert!(parse("t/c/1/02", &l).is_none());
        assert!(parse("nope/zarr.json", &l).is_none());
    }

    /// The array named `c` keeps its v2 keys: `g/c/3` is chunk 3 of `g/c`, since no
    /// array `g` could own a v3 key `g/c/…`.
    #[test]
    fn an_array_named_c_is_unambiguous() {
        let l = layout();
        assert!(
            matches!(parse("g/c/3", &l), Some(Key::Chunk(a, c, Version::V2)) if a.key == "g/c" && c == vec![3])
        );
        assert!(
            matches!(parse("g/c/c/3", &l), Some(Key::Chunk(a, c, Version::V3)) if a.key == "g/c" && c == vec![3])
        );
        assert!(
            parse("g/c/c", &l).is_none(),
            "rank-1 v3 chunk needs an index"
        );
        assert!(parse("g/c", &l).is_none());
    }
}
