//! Bytes of Zarr chunks: element encoding, fill values, padding of edge chunks, and the
//! codecs datagate declares (shuffle, zlib, vlen-utf8), written the way numcodecs reads.

use std::io::Write;

use crate::model::{ArrayValues, AttrValue, DataType};

/// A scalar fill value of a numeric or char variable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fill {
    Int(i128),
    Float(f64),
}

impl Fill {
    /// The first value of a `_FillValue` attribute, typed like `dtype`.
    pub fn from_attr(value: &AttrValue, dtype: DataType) -> Option<Fill> {
        let fill = match value {
            AttrValue::I8(v) => Fill::Int(i128::from(*v.first()?)),
            AttrValue::U8(v) => Fill::Int(i128::from(*v.first()?)),
            AttrValue::I16(v) => Fill::Int(i128::from(*v.first()?)),
            AttrValue::U16(v) => Fill::Int(i128::from(*v.first()?)),
            AttrValue::I32(v) => Fill::Int(i128::from(*v.first()?)),
            AttrValue::U32(v) => Fill::Int(i128::from(*v.first()?)),
            AttrValue::I64(v) => Fill::Int(i128::from(*v.first()?)),
            AttrValue::U64(v) => Fill::Int(i128::from(*v.first()?)),
            AttrValue::F32(v) => Fill::Float(f64::from(*v.first()?)),
            AttrValue::F64(v) => Fill::Float(*v.first()?),
            AttrValue::Text(s) => Fill::Int(i128::from(*s.as_bytes().first().unwrap_or(&0))),
            AttrValue::Strings(_) => return None,
        };
        Some(match (fill, dtype.is_float()) {
            (Fill::Int(i), true) => Fill::Float(i as f64),
            (Fill::Float(f), false) => Fill::Int(f as i128),
            (f, _) => f,
        })
    }

    /// netCDF-C's default fill value of a type: what it returns for never-written data.
    pub fn netcdf_default(dtype: DataType) -> Fill {
        match dtype {
            DataType::I8 => Fill::Int(-127),
            DataType::U8 => Fill::Int(255),
            DataType::Char => Fill::Int(0),
            DataType::I16 => Fill::Int(-32767),
            DataType::U16 => Fill::Int(65535),
            DataType::I32 => Fill::Int(-2147483647),
            DataType::U32 => Fill::Int(4294967295),
            DataType::I64 => Fill::Int(-9223372036854775806),
            DataType::U64 => Fill::Int(18446744073709551614),
            DataType::F32 => Fill::Float(f64::from(9.969_21e36_f32)),
            DataType::F64 => Fill::Float(9.969_209_968_386_869e36),
            DataType::String => Fill::Int(0),
        }
    }

    /// The Zarr JSON form: numbers, with non-finite floats as strings.
    pub fn to_json(self, dtype: DataType) -> serde_json::Value {
        match self {
            Fill::Float(f) => float_json(f, dtype == DataType::F32),
            Fill::Int(i) => {
                if i < 0 {
                    serde_json::Value::from(i as i64)
                } else {
                    serde_json::Value::from(i as u64)
                }
            }
        }
    }

    /// One element's bytes.
    pub fn bytes(self, dtype: DataType, little_endian: bool) -> Vec<u8> {
        let mut b = match (self, dtype) {
            (Fill::Float(f), DataType::F32) => (f as f32).to_le_bytes().to_vec(),
            (Fill::Float(f), _) => f.to_le_bytes().to_vec(),
            (Fill::Int(i), t) => i.to_le_bytes()[..t.size().unwrap_or(1)].to_vec(),
        };
        if !little_endian {
            b.reverse();
        }
        b
    }
}

/// A float as Zarr JSON: finite numbers as numbers (single precision by its shortest
/// decimal form, so 0.01f32 reads back as 0.01), others as "NaN"/"Infinity"/"-Infinity".
pub fn float_json(f: f64, single: bool) -> serde_json::Value {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else if single {
        let shortest: f64 = format!("{}", f as f32).parse().unwrap_or(f);
        serde_json::Value::from(shortest)
    } else {
        serde_json::Value::from(f)
    }
}

/// Values as little-endian bytes (numeric and char types).
pub fn to_le_bytes(values: &ArrayValues) -> Vec<u8> {
    match values {
        ArrayValues::I8(v) => v.iter().map(|x| *x as u8).collect(),
        ArrayValues::U8(v) | ArrayValues::Char(v) => v.clone(),
        ArrayValues::I16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ArrayValues::U16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ArrayValues::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ArrayValues::U32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ArrayValues::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ArrayValues::U64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ArrayValues::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ArrayValues::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ArrayValues::Str(_) => Vec::new(),
    }
}

/// Places a region (`region` shape, row-major elements of `elem` bytes) at the origin of
/// a full chunk of `chunk` shape whose other elements are `fill`: Zarr edge chunks are
/// always stored whole.
pub fn pad<T: Clone>(
    data: &[T],
    region: &[usize],
    chunk: &[usize],
    elem: usize,
    fill: &[T],
) -> Vec<T> {
    if region == chunk {
        return data.to_vec();
    }
    let total: usize = chunk.iter().product();
    let mut out: Vec<T> = Vec::with_capacity(total * elem);
    for _ in 0..total {
        out.extend_from_slice(fill);
    }
    let rank = region.len();
    let rows: usize = region[..rank - 1].iter().product();
    let row_len = region[rank - 1] * elem;
    let mut idx = vec![0usize; rank.saturating_sub(1)];
    for r in 0..rows {
        // Offset of this row in the chunk.
        let mut off = 0;
        for (d, &i) in idx.iter().enumerate() {
            off = off * chunk[d] + i;
        }
        let off = off * chunk[rank - 1] * elem;
        out[off..off + row_len].clone_from_slice(&data[r * row_len..(r + 1) * row_len]);
        for d in (0..idx.len()).rev() {
            idx[d] += 1;
            if idx[d] < region[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// HDF5/numcodecs byte shuffle: byte k of every element together.
pub fn shuffle(data: &[u8], elem: usize) -> Vec<u8> {
    if elem <= 1 {
        return data.to_vec();
    }
    let n = data.len() / elem;
    let mut out = vec![0u8; data.len()];
    for i in 0..n {
        for k in 0..elem {
            out[k * n + i] = data[i * elem + k];
        }
    }
    // Trailing bytes that do not fill an element stay in place, as HDF5 leaves them.
    out[n * elem..].copy_from_slice(&data[n * elem..]);
    out
}

/// A zlib stream (what HDF5's deflate writes and numcodecs' `zlib` reads).
pub fn zlib(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        flate2::Compression::new(level.min(9)),
    );
    e.write_all(data).expect("writing to memory");
    e.finish().expect("writing to memory")
}

/// HDF5's Fletcher-32 checksum (16-bit big-endian words, as `H5_checksum_fletcher32`).
pub fn fletcher32(data: &[u8]) -> u32 {
    let (mut sum1, mut sum2) = (0u32, 0u32);
    for block in data[..data.len() / 2 * 2].chunks(720) {
        for w in block.chunks_exact(2) {
            sum1 += u32::from(w[0]) << 8 | u32::from(w[1]);
            sum2 += sum1;
        }
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    if data.len() % 2 == 1 {
        sum1 += u32::from(data[data.len() - 1]) << 8;
        sum2 += sum1;
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    (sum2 << 16) | sum1
}

/// The bytes with their Fletcher-32 checksum appended (little-endian), as HDF5 stores.
pub fn with_fletcher32(mut data: Vec<u8>) -> Vec<u8> {
    let sum = fletcher32(&data);
    data.extend_from_slice(&sum.to_le_bytes());
    data
}

/// numcodecs' `vlen-utf8`: element count, then each string's length and bytes (u32 LE).
pub fn vlen_utf8(strings: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + strings.iter().map(|s| s.len() + 4).sum::<usize>());
    out.extend_from_slice(&(strings.len() as u32).to_le_bytes());
    for s in strings {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_edge_chunks() {
        // A 2x2 region in a 3x3 chunk.
        let got = pad(&[1u8, 2, 3, 4], &[2, 2], &[3, 3], 1, &[0]);
        assert_eq!(got, vec![1, 2, 0, 3, 4, 0, 0, 0, 0]);
        let got = pad(&[1u8, 2], &[1], &[2], 2, &[9, 9]);
        assert_eq!(got, vec![1, 2, 9, 9]);
    }

    #[test]
    fn shuffles_like_hdf5() {
        assert_eq!(
            shuffle(&[1, 2, 3, 4, 5, 6, 7], 2),
            vec![1, 3, 5, 2, 4, 6, 7]
        );
    }

    #[test]
    fn fills() {
        assert_eq!(Fill::Float(f64::NAN).to_json(DataType::F32), "NaN");
        assert_eq!(Fill::Float(0.1f32 as f64).to_json(DataType::F32), 0.1);
        assert_eq!(Fill::Int(-1).bytes(DataType::I16, false), vec![0xff, 0xff]);
        assert_eq!(Fill::Int(1).bytes(DataType::I16, false), vec![0, 1]);
        assert_eq!(
            Fill::from_attr(&AttrValue::F32(vec![1e20]), DataType::F32),
            Some(Fill::Float(f64::from(1e20f32)))
        );
        assert_eq!(
            Fill::netcdf_default(DataType::U64).to_json(DataType::U64),
            serde_json::json!(18446744073709551614u64)
        );
    }

    #[test]
    fn fletcher32_like_numcodecs() {
        // numcodecs.Fletcher32().encode(np.arange(3, dtype="<u2")) and (4, ...)
        assert_eq!(
            with_fletcher32(vec![0, 0, 1, 0, 2, 0])[6..],
            [0x00, 0x03, 0x00, 0x04]
        );
        assert_eq!(
            with_fletcher32(vec![0, 0, 1, 0, 2, 0, 3, 0])[8..],
            [0x00, 0x06, 0x00, 0x0a]
        );
    }

    #[test]
    fn vlen() {
        let b = vlen_utf8(&["a".into(), "ü".into()]);
        assert_eq!(
            b,
            vec![2, 0, 0, 0, 1, 0, 0, 0, b'a', 2, 0, 0, 0, 0xc3, 0xbc]
        );
    }
}
