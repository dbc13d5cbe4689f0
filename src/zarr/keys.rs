//! Store keys: what a path below `/zarr/{id}/` or `/zarr3/{id}/` names.

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
    Chunk(&'l ArrayLayout, Vec<u64>),
}

/// Parses the key `rest` (no leading `/`); `None` for anything the store does not hold.
pub fn parse<'l>(version: Version, rest: &str, layout: &'l StoreLayout) -> Option<Key<'l>> {
    let (node, leaf) = rest.rsplit_once('/').unwrap_or(("", rest));
    match version {
        Version::V2 => match leaf {
            "refs.json" if node.is_empty() => Some(Key::Refs),
            ".zgroup" => layout.group(node).map(|_| Key::ZGroup),
            ".zmetadata" => layout.group(node).map(Key::ZMetadata),
            ".zarray" => layout.array(node).map(Key::ZArray),
            ".zattrs" => match layout.group(node) {
                Some(g) => Some(Key::GroupAttrs(g)),
                None => layout.array(node).map(Key::ArrayAttrs),
            },
            _ => {
                let a = layout.array(node)?;
                let coords = if a.shape.is_empty() {
                    (leaf == "0").then(Vec::new)?
                } else {
                    numbers(leaf.split('.'))?
                };
                Some(Key::Chunk(a, coords))
            }
        },
        Version::V3 => {
            if leaf == "zarr.json" {
                return match layout.group(node) {
                    Some(g) => Some(Key::GroupJson(g)),
                    None => layout.array(node).map(Key::ArrayJson),
                };
            }
            // `{array}/c` (rank 0) or `{array}/c/i/j/...`.
            layout.arrays.iter().find_map(|a| {
                let after = rest.strip_prefix(a.key.as_str())?.strip_prefix("/c")?;
                let coords = if after.is_empty() {
                    Vec::new()
                } else {
                    numbers(after.strip_prefix('/')?.split('/'))?
                };
                (coords.len() == a.shape.len()).then_some(Key::Chunk(a, coords))
            })
        }
    }
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
        assert!(
            matches!(parse(Version::V2, ".zmetadata", &l), Some(Key::ZMetadata(g)) if g.key.is_empty())
        );
        assert!(
            matches!(parse(Version::V2, "g/.zmetadata", &l), Some(Key::ZMetadata(g)) if g.key == "g")
        );
        assert!(matches!(
            parse(Version::V2, "t/.zattrs", &l),
            Some(Key::ArrayAttrs(_))
        ));
        assert!(
            matches!(parse(Version::V2, "t/0.1", &l), Some(Key::Chunk(_, c)) if c == vec![0, 1])
        );
        assert!(matches!(parse(Version::V2, "g/s/0", &l), Some(Key::Chunk(_, c)) if c.is_empty()));
        assert!(parse(Version::V2, "t/.zgroup", &l).is_none());
        assert!(parse(Version::V2, "t/0.01", &l).is_none());
        assert!(parse(Version::V2, "zarr.json", &l).is_none());
        assert!(parse(Version::V2, "nope/.zarray", &l).is_none());
        assert!(matches!(
            parse(Version::V2, "refs.json", &l),
            Some(Key::Refs)
        ));
    }

    #[test]
    fn v3_keys() {
        let l = layout();
        assert!(matches!(
            parse(Version::V3, "zarr.json", &l),
            Some(Key::GroupJson(_))
        ));
        assert!(
            matches!(parse(Version::V3, "g/c/zarr.json", &l), Some(Key::ArrayJson(a)) if a.key == "g/c")
        );
        assert!(
            matches!(parse(Version::V3, "g/c/c/3", &l), Some(Key::Chunk(a, c)) if a.key == "g/c" && c == vec![3])
        );
        assert!(matches!(parse(Version::V3, "g/s/c", &l), Some(Key::Chunk(_, c)) if c.is_empty()));
        assert!(matches!(
            parse(Version::V3, "t/c/1/2", &l),
            Some(Key::Chunk(_, _))
        ));
        assert!(parse(Version::V3, "t/c/1", &l).is_none());
        assert!(parse(Version::V3, ".zmetadata", &l).is_none());
        assert!(parse(Version::V3, "t/0.0", &l).is_none());
    }
}
