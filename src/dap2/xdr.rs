//! XDR encoding of DAP2 data (big-endian; 8- and 16-bit integers widened to 32 bits
//! except in Byte arrays, which are packed and padded to 4 bytes).

use super::schema::Dap2Type;
use crate::model::ArrayValues;

/// What precedes an array's values: numeric and Byte arrays carry their element count
/// twice, String arrays once, scalars not at all.
pub fn prefix(dtype: Dap2Type, count: usize, scalar: bool, out: &mut Vec<u8>) {
    if scalar {
        return;
    }
    let n = (count as u32).to_be_bytes();
    out.extend_from_slice(&n);
    if dtype != Dap2Type::String {
        out.extend_from_slice(&n);
    }
}

/// What follows an array's values: zero padding of a Byte array to 4 bytes.
pub fn suffix(dtype: Dap2Type, count: usize, scalar: bool, out: &mut Vec<u8>) {
    if dtype == Dap2Type::Byte && !scalar {
        out.extend(std::iter::repeat_n(0u8, pad(count)));
    }
}

fn pad(n: usize) -> usize {
    (4 - n % 4) % 4
}

fn string(s: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
    out.extend(std::iter::repeat_n(0u8, pad(s.len())));
}

/// Appends the XDR form of consecutive values of one array. `char_len` splits char data
/// into strings (trailing NULs dropped, as netCDF reads them). A scalar Byte is one
/// 32-bit word.
pub fn values(
    dtype: Dap2Type,
    values: &ArrayValues,
    char_len: Option<usize>,
    scalar: bool,
    out: &mut Vec<u8>,
) {
    match values {
        ArrayValues::I8(v) => bytes(v.iter().map(|x| *x as u8), v.len(), scalar, out),
        ArrayValues::U8(v) => bytes(v.iter().copied(), v.len(), scalar, out),
        ArrayValues::I16(v) => words(v.iter().map(|x| (*x as i32).to_be_bytes()), out),
        ArrayValues::U16(v) => words(v.iter().map(|x| (*x as u32).to_be_bytes()), out),
        ArrayValues::I32(v) => words(v.iter().map(|x| x.to_be_bytes()), out),
        ArrayValues::U32(v) => words(v.iter().map(|x| x.to_be_bytes()), out),
        ArrayValues::F32(v) => words(v.iter().map(|x| x.to_be_bytes()), out),
        ArrayValues::F64(v) => {
            let start = out.len();
            out.resize(start + v.len() * 8, 0);
            for (dst, x) in out[start..].chunks_exact_mut(8).zip(v) {
                dst.copy_from_slice(&x.to_be_bytes());
            }
        }
        ArrayValues::Char(c) => {
            let n = char_len.unwrap_or(1).max(1);
            for s in c.chunks(n) {
                let end = s.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
                string(&s[..end], out);
            }
        }
        ArrayValues::Str(v) => {
            for s in v {
                string(s.as_bytes(), out);
            }
        }
        // Never produced: 64-bit variables are not in the DAP2 view.
        ArrayValues::I64(_) | ArrayValues::U64(_) => {
            debug_assert!(false, "64-bit integers have no DAP2 type ({dtype:?})")
        }
    }
}

fn bytes(v: impl Iterator<Item = u8>, len: usize, scalar: bool, out: &mut Vec<u8>) {
    if scalar {
        for b in v {
            out.extend_from_slice(&[0, 0, 0, b]);
        }
    } else {
        out.reserve(len);
        out.extend(v);
    }
}

fn words(v: impl ExactSizeIterator<Item = [u8; 4]>, out: &mut Vec<u8>) {
    // Into a zeroed tail, word by word: the compiler turns this into vector byte
    // swaps, which pushing 4 bytes at a time prevented.
    let start = out.len();
    out.resize(start + v.len() * 4, 0);
    for (dst, w) in out[start..].chunks_exact_mut(4).zip(v) {
        dst.copy_from_slice(&w);
    }
}

/// The exact encoded size of `count` values, when it is known without reading them
/// (not for netCDF-4 strings: `None`). Saturates at `u64::MAX` rather than wrap: an
/// impossible size must stay larger than any limit.
pub fn encoded_size(
    dtype: Dap2Type,
    count: usize,
    char_len: Option<usize>,
    scalar: bool,
) -> Option<u64> {
    let head: u64 = if scalar {
        0
    } else if dtype == Dap2Type::String {
        4
    } else {
        8
    };
    let count = count as u64;
    let body = match (dtype, char_len) {
        (Dap2Type::Byte, _) if scalar => 4,
        (Dap2Type::Byte, _) => count.saturating_add(pad(count as usize) as u64),
        (Dap2Type::String, Some(n)) => {
            count.saturating_mul((4 + n as u64).saturating_add(pad(n) as u64))
        }
        (Dap2Type::String, None) => return None,
        (t, _) => count.saturating_mul(t.xdr_width().unwrap_or(4) as u64),
    };
    Some(head.saturating_add(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(dtype: Dap2Type, v: ArrayValues, char_len: Option<usize>, scalar: bool) -> Vec<u8> {
        let count = match (&v, char_len) {
            (ArrayValues::Char(c), Some(n)) => c.len() / n,
            _ => v.len(),
        };
        let mut out = Vec::new();
        prefix(dtype, count, scalar, &mut out);
        values(dtype, &v, char_len, scalar, &mut out);
        suffix(dtype, count, scalar, &mut out);
        assert_eq!(
            encoded_size(dtype, count, char_len, scalar).unwrap_or(out.len() as u64),
            out.len() as u64
        );
        out
    }

    #[test]
    fn byte_arrays_count_twice_and_pad() {
        assert_eq!(
            whole(
                Dap2Type::Byte,
                ArrayValues::I8(vec![-128, -1, 5]),
                None,
                false
            ),
            [0, 0, 0, 3, 0, 0, 0, 3, 0x80, 0xff, 5, 0]
        );
        assert_eq!(
            whole(
                Dap2Type::Byte,
                ArrayValues::U8(vec![1, 2, 3, 4]),
                None,
                false
            ),
            [0, 0, 0, 4, 0, 0, 0, 4, 1, 2, 3, 4]
        );
        assert_eq!(
            whole(Dap2Type::Byte, ArrayValues::U8(vec![7]), None, true),
            [0, 0, 0, 7]
        );
    }

    #[test]
    fn sixteen_bits_widen() {
        assert_eq!(
            whole(
                Dap2Type::Int16,
                ArrayValues::I16(vec![-2, 300]),
                None,
                false
            ),
            [
                0, 0, 0, 2, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0x2c
            ]
        );
        assert_eq!(
            whole(Dap2Type::UInt16, ArrayValues::U16(vec![65535]), None, true),
            [0, 0, 0xff, 0xff]
        );
    }

    #[test]
    fn floats_and_ints_big_endian() {
        assert_eq!(
            whole(Dap2Type::Float32, ArrayValues::F32(vec![1.0]), None, false),
            [0, 0, 0, 1, 0, 0, 0, 1, 0x3f, 0x80, 0, 0]
        );
        assert_eq!(
            whole(Dap2Type::Float64, ArrayValues::F64(vec![-2.0]), None, true),
            [0xc0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            whole(
                Dap2Type::UInt32,
                ArrayValues::U32(vec![u32::MAX]),
                None,
                false
            ),
            [0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]
        );
    }

    #[test]
    fn strings_count_once_and_pad() {
        assert_eq!(
            whole(
                Dap2Type::String,
                ArrayValues::Str(vec!["ab".into(), "".into(), "wxyz".into()]),
                None,
                false
            ),
            [
                0, 0, 0, 3, // count, once
                0, 0, 0, 2, b'a', b'b', 0, 0, //
                0, 0, 0, 0, //
                0, 0, 0, 4, b'w', b'x', b'y', b'z'
            ]
        );
        // Char data as strings of 3: trailing NULs dropped.
        assert_eq!(
            whole(
                Dap2Type::String,
                ArrayValues::Char(b"abcd\0\0".to_vec()),
                Some(3),
                false
            ),
            [
                0, 0, 0, 2, 0, 0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0, 1, b'd', 0, 0, 0
            ]
        );
        assert_eq!(
            whole(
                Dap2Type::String,
                ArrayValues::Char(b"hi".to_vec()),
                Some(2),
                true
            ),
            [0, 0, 0, 2, b'h', b'i', 0, 0]
        );
    }

    #[test]
    fn encoded_sizes_saturate_instead_of_wrapping() {
        assert_eq!(
            encoded_size(Dap2Type::Float64, usize::MAX, None, false),
            Some(u64::MAX)
        );
        assert_eq!(
            encoded_size(Dap2Type::String, 1 << 62, Some(usize::MAX - 8), false),
            Some(u64::MAX)
        );
        assert_eq!(
            encoded_size(Dap2Type::Byte, usize::MAX, None, false),
            Some(u64::MAX)
        );
        assert_eq!(encoded_size(Dap2Type::Byte, 5, None, false), Some(8 + 8));
        assert_eq!(
            encoded_size(Dap2Type::Float32, 3, None, false),
            Some(8 + 12)
        );
    }
}
