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
            let n = self.count()? as usize;
            let bytes = n * type_size(ty)?;
            self.take(bytes + (4 - bytes % 4) % 4)?;
        }
        Ok(())
    }
}

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
        let ndims = c.count()? as usize;
        let mut ids = Vec::with_capacity(ndims);
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
        let inner: u64 = lens.iter().skip(usize::from(is_record)).product();
        let data_size = inner * element_size as u64;
        if is_record {
            record_slabs.push(data_size.div_ceil(4) * 4);
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
        _ => record_slabs.iter().sum(),
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
                    }
                })
                .collect()
        } else if v.data_size > 0 {
            vec![ChunkEntry {
                coords: vec![0; shape.len()],
                offset: v.begin,
                size: v.data_size,
                filter_mask: 0,
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
