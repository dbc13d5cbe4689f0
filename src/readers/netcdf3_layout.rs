//! Where each variable's data lies in a NetCDF-3 file (classic, 64-bit offset, CDF-5),
//! from the header: netCDF-C does not expose the offsets.
//!
//! Fixed-size variables are one contiguous range at `begin`. Record variables store one
//! slab per record at `begin + r * recsize`, where `recsize` is the sum of the record
//! variables' padded slab sizes (no padding when there is a single record variable).

use std::collections::HashMap;

use crate::model::{ChunkEntry, ChunkIndex};

/// One variable's placement.
#[derive(Debug, Clone, PartialEq)]
pub struct VarLayout {
    pub begin: u64,
    /// Bytes of one record's slab (record variables) or of the whole variable, unpadded.
    pub data_size: u64,
    pub is_record: bool,
    pub element_size: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub vars: HashMap<String, VarLayout>,
    pub recsize: u64,
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    /// CDF-5 counts are 64-bit.
    wide_counts: bool,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| "NetCDF-3 header is truncated".to_string())?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn count(&mut self) -> Result<u64, String> {
        if self.wide_counts {
            self.u64()
        } else {
            self.u32().map(u64::from)
        }
    }
    fn name(&mut self) -> Result<String, String> {
        let n = self.count()? as usize;
        let bytes = self.take(n)?.to_vec();
        self.take((4 - n % 4) % 4)?;
        String::from_utf8(bytes).map_err(|e| e.to_string())
    }
    /// A list header: tag and element count (ABSENT is zero elements).
    fn list(&mut self, tag: u32) -> Result<u64, String> {
        let t = self.u32()?;
        let n = self.count()?;
        if t != tag && !(t == 0 && n == 0) {
            return Err(format!(
                "NetCDF-3 header: expected list tag {tag}, found {t}"
            ));
        }
        Ok(n)
    }
    fn skip_attributes(&mut self) -> Result<(), String> {
        for _ in 0..self.list(0x0C)? {
            self.name()?;
            let ty = self.u32()?;
            let n = usize::try_from(self.count()?).map_err(|_| TOO_LARGE)?;
            let bytes = n
                .checked_mul(type_size(ty)?)
                .and_then(|b| b.checked_add((4 - b % 4) % 4))
                .ok_or(TOO_LARGE)?;
            self.take(bytes)?;
        }
        Ok(())
    }
}

/// A size in the header that no file can have (an overflow of the arithmetic).
const TOO_LARGE: &str = "NetCDF-3 header: a size is too large";

fn type_size(nc_type: u32) -> Result<usize, String> {
    Ok(match nc_type {
        1 | 2 | 7 => 1,
        3 | 8 => 2,
        4 | 5 | 9 => 4,
        6 | 10 | 11 => 8,
        t => return Err(format!("NetCDF-3 header: unknown type {t}")),
    })
}

/// Parses the header (the file's first bytes; enough of them to hold the header).
pub fn parse(header: &[u8]) -> Result<Layout, String> {
    if header.len() < 4 || &header[..3] != b"CDF" {
        return Err("not a NetCDF-3 file".into());
    }
    let version = header[3];
    let mut c = Cursor {
        buf: header,
        pos: 4,
        wide_counts: version == 5,
    };
    c.count()?; // numrecs: the model has the authoritative record count
    let mut dims = Vec::new();
    for _ in 0..c.list(0x0A)? {
        c.name()?;
        dims.push(c.count()?);
    }
    c.skip_attributes()?;
    let mut vars = HashMap::new();
    let mut record_slabs = Vec::new();
    for _ in 0..c.list(0x0B)? {
        let name = c.name()?;
        let ndims = c.count()?;
        // Not preallocated: the count is the file's word (a damaged header runs out first).
        let mut ids = Vec::new();
        for _ in 0..ndims {
            ids.push(c.count()? as usize);
        }
        c.skip_attributes()?;
        let element_size = type_size(c.u32()?)?;
        c.count()?; // vsize: recomputed below, it overflows its field for huge slabs
        let begin = if version == 1 {
            u64::from(c.u32()?)
        } else {
            c.u64()?
        };
        let lens: Vec<u64> = ids
            .iter()
            .map(|&i| dims.get(i).copied().ok_or("bad dimension id"))
            .collect::<Result<_, _>>()?;
        let is_record = lens.first() == Some(&0);
        let data_size = lens
            .iter()
            .skip(usize::from(is_record))
            .try_fold(element_size as u64, |size, &n| size.checked_mul(n))
            .ok_or(TOO_LARGE)?;
        if is_record {
            record_slabs.push(data_size.div_ceil(4).checked_mul(4).ok_or(TOO_LARGE)?);
        }
        vars.insert(
            name,
            VarLayout {
                begin,
                data_size,
                is_record,
                element_size,
            },
        );
    }
    let recsize = match record_slabs.len() {
        1 => vars
            .values()
            .find(|v| v.is_record)
            .map_or(0, |v| v.data_size),
        _ => record_slabs
            .iter()
            .try_fold(0u64, |sum, &n| sum.checked_add(n))
            .ok_or(TOO_LARGE)?,
    };
    Ok(Layout { vars, recsize })
}

impl Layout {
    /// The chunk index of variable `name` (root-level; NetCDF-3 has no groups) whose
    /// current shape (records included) is `shape`.
    pub fn chunk_index(&self, name: &str, shape: &[usize]) -> Option<ChunkIndex> {
        let v = self.vars.get(name)?;
        let rest: Vec<usize> = shape
            .iter()
            .skip(usize::from(v.is_record))
            .copied()
            .collect();
        // Record offsets past any possible file (a damaged header): no index.
        if v.is_record
            && (shape[0] as u64)
                .checked_mul(self.recsize)
                .and_then(|n| n.checked_add(v.begin))
                .is_none()
        {
            return None;
        }
        let chunks = if v.is_record {
            (0..shape[0] as u64)
                .filter(|_| v.data_size > 0)
                .map(|r| {
                    let mut coords = vec![0; shape.len()];
                    coords[0] = r;
                    ChunkEntry {
                        coords,
                        offset: v.begin + r * self.recsize,
                        size: v.data_size,
                        filter_mask: 0,
                        key: None,
                    }
                })
                .collect()
        } else if v.data_size > 0 {
            vec![ChunkEntry {
                coords: vec![0; shape.len()],
                offset: v.begin,
                size: v.data_size,
                filter_mask: 0,
                key: None,
            }]
        } else {
            Vec::new()
        };
        let mut chunk_shape: Vec<usize> = rest.iter().map(|&n| n.max(1)).collect();
        if v.is_record {
            chunk_shape.insert(0, 1);
        }
        Some(ChunkIndex {
            chunk_shape,
            filters: Vec::new(),
            little_endian: false,
            chunks,
            records: v.is_record,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic (CDF-1) header: `dims` (name, length), then variables (name, dimension
    /// ids, nc_type, begin); no attributes.
    fn header(dims: &[(&str, u32)], vars: &[(&str, &[u32], u32, u32)]) -> Vec<u8> {
        let mut h = b"CDF\x01".to_vec();
        let word = |h: &mut Vec<u8>, n: u32| h.extend_from_slice(&n.to_be_bytes());
        let name = |h: &mut Vec<u8>, s: &str| {
            h.extend_from_slice(&(s.len() as u32).to_be_bytes());
            h.extend_from_slice(s.as_bytes());
            h.resize(h.len().div_ceil(4) * 4, 0);
        };
        word(&mut h, 0); // numrecs
        word(&mut h, 0x0A);
        word(&mut h, dims.len() as u32);
        for (n, len) in dims {
            name(&mut h, n);
            word(&mut h, *len);
        }
        h.extend_from_slice(&[0; 8]); // no global attributes
        word(&mut h, 0x0B);
        word(&mut h, vars.len() as u32);
        for (n, ids, ty, begin) in vars {
            name(&mut h, n);
            word(&mut h, ids.len() as u32);
            for id in *ids {
                word(&mut h, *id);
            }
            h.extend_from_slice(&[0; 8]); // no attributes
            word(&mut h, *ty);
            word(&mut h, 0); // vsize
            word(&mut h, *begin);
        }
        h
    }

    #[test]
    fn parses_offsets() {
        let h = header(
            &[("t", 0), ("x", 3)],
            &[
                ("a", &[1], 5, 100),
                ("r", &[0, 1], 6, 112),
                ("s", &[0], 3, 136),
            ],
        );
        let layout = parse(&h).unwrap();
        assert_eq!(layout.vars["a"].data_size, 12);
        assert_eq!(layout.vars["r"].data_size, 24);
        assert_eq!(layout.recsize, 24 + 4);
        let index = layout.chunk_index("r", &[2, 3]).unwrap();
        assert_eq!(index.chunks[1].offset, 112 + 28);
    }

    /// Found by fuzzing the reader with damaged files: sizes that overflow (a variable
    /// of 2^32 x 2^32 x 2^32 doubles), a dimension count allocated before it was read,
    /// attribute sizes that overflow, record offsets past any file.
    #[test]
    fn damaged_headers_give_errors() {
        let big = u32::MAX;
        let h = header(
            &[("a", big), ("b", big), ("c", big)],
            &[("v", &[0, 1, 2], 6, 0)],
        );
        assert!(parse(&h).unwrap_err().contains("too large"));
        let h = header(
            &[("t", 0), ("a", big), ("b", big)],
            &[("r", &[0, 1, 2], 6, 0), ("s", &[0, 1], 6, 0)],
        );
        assert!(parse(&h).is_err());

        // CDF-5 (64-bit counts): a variable claiming 2^60 dimensions.
        let mut h = b"CDF\x05".to_vec();
        h.extend_from_slice(&0u64.to_be_bytes()); // numrecs
        h.extend_from_slice(&[0; 24]); // no dimensions, no attributes
        h.extend_from_slice(&0x0Bu32.to_be_bytes());
        h.extend_from_slice(&1u64.to_be_bytes());
        h.extend_from_slice(&1u64.to_be_bytes());
        h.extend_from_slice(b"v\0\0\0");
        h.extend_from_slice(&(1u64 << 60).to_be_bytes());
        assert!(parse(&h).unwrap_err().contains("truncated"));

        // An attribute of 2^62 doubles.
        let mut h = b"CDF\x05".to_vec();
        h.extend_from_slice(&0u64.to_be_bytes()); // numrecs
        h.extend_from_slice(&[0; 12]); // no dimensions
        h.extend_from_slice(&0x0Cu32.to_be_bytes());
        h.extend_from_slice(&1u64.to_be_bytes());
        h.extend_from_slice(&1u64.to_be_bytes());
        h.extend_from_slice(b"a\0\0\0");
        h.extend_from_slice(&6u32.to_be_bytes());
        h.extend_from_slice(&(1u64 << 62).to_be_bytes());
        assert!(parse(&h).unwrap_err().contains("too large"));

        let layout = Layout {
            vars: HashMap::from([(
                "r".to_string(),
                VarLayout {
                    begin: 100,
                    data_size: 8,
                    is_record: true,
                    element_size: 8,
                },
            )]),
            recsize: 1 << 40,
        };
        assert!(layout.chunk_index("r", &[1 << 30]).is_none());
    }
}
