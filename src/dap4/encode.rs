//! DAP4 data encoding: values little-endian with no padding, each string preceded by
//! its length as an 8-byte count (little-endian too: pydap reads counts that way
//! whatever the flags say).

use std::ops::Range;

use crate::model::ArrayValues;

/// Appends the encoding of `values` to `out`.
pub fn encode_values(values: &ArrayValues, out: &mut Vec<u8>) {
    encode_range(values, 0..values.len(), out);
}

/// Appends the encoding of `values[range]` to `out`: lets a block be encoded a chunk
/// at a time instead of all at once.
pub fn encode_range(values: &ArrayValues, range: Range<usize>, out: &mut Vec<u8>) {
    // Resize once, then fill fixed-size slots: compiles to a straight copy on
    // little-endian hosts (a push per element does not vectorise).
    macro_rules! le {
        ($v:expr, $n:expr) => {{
            let v = &$v[range];
            let start = out.len();
            out.resize(start + v.len() * $n, 0);
            for (dst, x) in out[start..].chunks_exact_mut($n).zip(v.iter()) {
                dst.copy_from_slice(&x.to_le_bytes());
            }
        }};
    }
    match values {
        ArrayValues::I8(v) => out.extend(v[range].iter().map(|x| *x as u8)),
        ArrayValues::U8(v) | ArrayValues::Char(v) => out.extend_from_slice(&v[range]),
        ArrayValues::I16(v) => le!(v, 2),
        ArrayValues::U16(v) => le!(v, 2),
        ArrayValues::I32(v) => le!(v, 4),
        ArrayValues::U32(v) => le!(v, 4),
        ArrayValues::I64(v) => le!(v, 8),
        ArrayValues::U64(v) => le!(v, 8),
        ArrayValues::F32(v) => le!(v, 4),
        ArrayValues::F64(v) => le!(v, 8),
        ArrayValues::Str(v) => {
            for s in &v[range] {
                out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
}

/// The encoded size of element `i` of `values`.
pub fn encoded_len_at(values: &ArrayValues, i: usize) -> usize {
    match values {
        ArrayValues::Str(v) => 8 + v[i].len(),
        other => other.dtype().size().unwrap_or(0),
    }
}

/// The encoded size of `values` in bytes.
pub fn encoded_len(values: &ArrayValues) -> usize {
    match values {
        ArrayValues::Str(v) => v.iter().map(|s| 8 + s.len()).sum(),
        other => other.len() * other.dtype().size().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn little_endian_and_counted_strings() {
        let mut out = Vec::new();
        encode_values(&ArrayValues::I16(vec![-2, 0x0102]), &mut out);
        assert_eq!(out, [0xFE, 0xFF, 0x02, 0x01]);
        out.clear();
        encode_values(&ArrayValues::I8(vec![-1, 5]), &mut out);
        assert_eq!(out, [0xFF, 5]);
        out.clear();
        encode_values(&ArrayValues::F64(vec![1.0]), &mut out);
        assert_eq!(out, 1.0f64.to_le_bytes());
        out.clear();
        let s = ArrayValues::Str(vec!["".into(), "ü".into()]);
        encode_values(&s, &mut out);
        assert_eq!(
            out,
            [0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0xC3, 0xBC]
        );
        assert_eq!(encoded_len(&s), out.len());
        assert_eq!(encoded_len(&ArrayValues::U64(vec![1, 2])), 16);
        assert_eq!(encoded_len_at(&s, 1), 10);
    }

    #[test]
    fn ranges_concatenate_to_the_whole() {
        let v = ArrayValues::F64((0..10).map(f64::from).collect());
        let s = ArrayValues::Str(vec!["a".into(), "".into(), "xyz".into()]);
        for values in [v, s] {
            let mut whole = Vec::new();
            encode_values(&values, &mut whole);
            let mut parts = Vec::new();
            for r in [0..1, 1..1, 1..3, 3..values.len()] {
                encode_range(&values, r, &mut parts);
            }
            assert_eq!(parts, whole);
        }
    }
}
