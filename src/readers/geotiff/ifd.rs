//! The TIFF container read by byte ranges: the header, the chain of image file
//! directories (IFDs) and the values of their tags, classic TIFF and BigTIFF, either
//! byte order. Nothing is read before its offset and length are checked against the
//! file, and no value larger than `MAX_VALUE_BYTES` is read at all.

use std::collections::HashSet;

use super::super::error::ReadError;
use super::source::ByteSource;

/// Largest tag value read (tile offset tables of very large COGs stay far below).
const MAX_VALUE_BYTES: u64 = 64 << 20;
/// Most IFDs followed along the chain (a COG has one per overview level, and masks).
const MAX_IFDS: usize = 64;
/// Most entries in one IFD (real files have a few dozen).
const MAX_ENTRIES: u64 = 4096;

/// Byte order and variant of a TIFF file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Layout {
    pub little: bool,
    pub big_tiff: bool,
}

impl Layout {
    /// Reads the header's first bytes: the layout and the offset of the first IFD.
    pub fn parse_header(head: &[u8]) -> Result<(Layout, u64), String> {
        let little = match head.get(..2) {
            Some(b"II") => true,
            Some(b"MM") => false,
            _ => return Err("not a TIFF file (no byte-order mark)".into()),
        };
        let probe = Layout {
            little,
            big_tiff: false,
        };
        let short = |at| probe.uint(head.get(at..at + 2).ok_or("truncated TIFF header"));
        match short(2)? {
            42 => Ok((
                probe,
                probe.uint(head.get(4..8).ok_or("truncated TIFF header"))?,
            )),
            43 => {
                if short(4)? != 8 || short(6)? != 0 {
                    return Err("BigTIFF header with an unknown offset size".into());
                }
                let layout = Layout {
                    little,
                    big_tiff: true,
                };
                Ok((
                    layout,
                    layout.uint(head.get(8..16).ok_or("truncated BigTIFF header"))?,
                ))
            }
            other => Err(format!("not a TIFF file (version {other})")),
        }
    }

    /// An unsigned integer of 1, 2, 4 or 8 bytes in the file's byte order.
    pub fn uint(&self, bytes: Result<&[u8], &str>) -> Result<u64, String> {
        let b = bytes?;
        let mut v = 0u64;
        for i in 0..b.len().min(8) {
            let byte = if self.little {
                b[b.len() - 1 - i]
            } else {
                b[i]
            };
            v = (v << 8) | byte as u64;
        }
        Ok(v)
    }

    fn offset_size(&self) -> usize {
        if self.big_tiff { 8 } else { 4 }
    }

    fn entry_size(&self) -> usize {
        if self.big_tiff { 20 } else { 12 }
    }

    fn count_size(&self) -> usize {
        if self.big_tiff { 8 } else { 2 }
    }
}

/// One tag of an IFD, its value not yet read when it lies outside the entry.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub tag: u16,
    pub typ: u16,
    pub count: u64,
    /// The value/offset field as stored (4 or 8 bytes, left-aligned).
    field: [u8; 8],
}

/// Bytes per value of a TIFF field type; `None` for unknown types.
fn type_size(typ: u16) -> Option<u64> {
    Some(match typ {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 | 16 | 17 | 18 => 8,
        _ => return None,
    })
}

/// Parses the entries of one IFD from its bytes (count field excluded).
fn parse_entries(layout: Layout, bytes: &[u8], n: usize) -> Result<Vec<Entry>, String> {
    let size = layout.entry_size();
    let off = layout.offset_size();
    (0..n)
        .map(|i| {
            let e = bytes.get(i * size..(i + 1) * size).ok_or("truncated IFD")?;
            let count_at = 4;
            let count_len = off;
            let mut field = [0u8; 8];
            field[..off].copy_from_slice(&e[count_at + count_len..count_at + count_len + off]);
            Ok(Entry {
                tag: layout.uint(Ok(&e[0..2]))? as u16,
                typ: layout.uint(Ok(&e[2..4]))? as u16,
                count: layout.uint(Ok(&e[count_at..count_at + count_len]))?,
                field,
            })
        })
        .collect()
}

/// The chain of IFDs, read one at a time: a reader stops at the image it wants, so
/// the IFDs of overviews stored at the end of a file cost no requests.
pub(super) struct IfdChain {
    pub layout: Layout,
    next: u64,
    seen: HashSet<u64>,
}

impl IfdChain {
    /// Reads the header.
    pub async fn start(src: &dyn ByteSource) -> Result<IfdChain, ReadError> {
        let head = src.read(0, src.size().min(16)).await?;
        let (layout, next) = Layout::parse_header(&head).map_err(|m| src.damaged(m))?;
        Ok(IfdChain {
            layout,
            next,
            seen: HashSet::new(),
        })
    }

    /// The entries of the next IFD, or `None` at the end of the chain.
    pub async fn next(&mut self, src: &dyn ByteSource) -> Result<Option<Vec<Entry>>, ReadError> {
        let (layout, at) = (self.layout, self.next);
        if at == 0 {
            return Ok(None);
        }
        if self.seen.len() >= MAX_IFDS || !self.seen.insert(at) {
            return Err(src.damaged("the IFD chain loops or is too long"));
        }
        let count_bytes = src.read(at, layout.count_size() as u64).await?;
        let n = layout.uint(Ok(&count_bytes)).map_err(|m| src.damaged(m))?;
        if n == 0 || n > MAX_ENTRIES {
            return Err(src.damaged(format!("an IFD with {n} entries")));
        }
        let body_len = n * layout.entry_size() as u64 + layout.offset_size() as u64;
        let body_at = at
            .checked_add(layout.count_size() as u64)
            .ok_or_else(|| src.damaged("an IFD past the end of the file"))?;
        let body = src.read(body_at, body_len).await?;
        let entries = parse_entries(layout, &body, n as usize).map_err(|m| src.damaged(m))?;
        let tail = &body[body.len() - layout.offset_size()..];
        self.next = layout.uint(Ok(tail)).map_err(|m| src.damaged(m))?;
        Ok(Some(entries))
    }
}

/// Reads tag values, inline or at their offset.
pub(super) struct Values<'a> {
    pub src: &'a dyn ByteSource,
    pub layout: Layout,
}

impl Values<'_> {
    /// The raw bytes of an entry's value, in the file's byte order.
    pub async fn raw(&self, e: &Entry) -> Result<Vec<u8>, ReadError> {
        let size = type_size(e.typ).ok_or_else(|| {
            self.src
                .damaged(format!("tag {} has unknown type {}", e.tag, e.typ))
        })?;
        let total = e
            .count
            .checked_mul(size)
            .filter(|&t| t <= MAX_VALUE_BYTES)
            .ok_or_else(|| self.src.damaged(format!("tag {} is too large", e.tag)))?;
        let off = self.layout.offset_size();
        if total <= off as u64 {
            return Ok(e.field[..total as usize].to_vec());
        }
        let at = self
            .layout
            .uint(Ok(&e.field[..off]))
            .map_err(|m| self.src.damaged(m))?;
        Ok(self.src.read(at, total).await?.to_vec())
    }

    /// Integer values (BYTE, SHORT, LONG, LONG8 and their signed forms as bits).
    pub async fn uints(&self, e: &Entry) -> Result<Vec<u64>, ReadError> {
        let size = match e.typ {
            1 | 6 | 7 => 1,
            3 | 8 => 2,
            4 | 9 | 13 => 4,
            16..=18 => 8,
            t => {
                return Err(self
                    .src
                    .damaged(format!("tag {} has type {t}, not an integer", e.tag)));
            }
        };
        let raw = self.raw(e).await?;
        raw.chunks_exact(size)
            .map(|c| self.layout.uint(Ok(c)).map_err(|m| self.src.damaged(m)))
            .collect()
    }

    /// Floating-point values (DOUBLE, FLOAT, or integers and rationals converted).
    pub async fn floats(&self, e: &Entry) -> Result<Vec<f64>, ReadError> {
        match e.typ {
            11 | 12 => {
                let raw = self.raw(e).await?;
                let size = if e.typ == 11 { 4 } else { 8 };
                Ok(raw
                    .chunks_exact(size)
                    .map(|c| {
                        let bits = self.layout.uint(Ok(c)).unwrap_or(0);
                        if size == 4 {
                            f32::from_bits(bits as u32) as f64
                        } else {
                            f64::from_bits(bits)
                        }
                    })
                    .collect())
            }
            5 => {
                let raw = self.raw(e).await?;
                Ok(raw
                    .chunks_exact(8)
                    .map(|c| {
                        let n = self.layout.uint(Ok(&c[..4])).unwrap_or(0) as f64;
                        let d = self.layout.uint(Ok(&c[4..])).unwrap_or(0) as f64;
                        n / d
                    })
                    .collect())
            }
            _ => Ok(self.uints(e).await?.into_iter().map(|v| v as f64).collect()),
        }
    }

    /// ASCII text, up to the first NUL.
    pub async fn text(&self, e: &Entry) -> Result<String, ReadError> {
        let raw = self.raw(e).await?;
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        Ok(String::from_utf8_lossy(&raw[..end]).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(
            Layout::parse_header(b"II*\0\x08\0\0\0").unwrap(),
            (
                Layout {
                    little: true,
                    big_tiff: false
                },
                8
            )
        );
        assert_eq!(Layout::parse_header(b"MM\0*\0\0\0\x10").unwrap().1, 16);
        let big = b"II+\0\x08\0\0\0\x10\0\0\0\0\0\0\0";
        let (l, at) = Layout::parse_header(big).unwrap();
        assert!(l.big_tiff && l.little);
        assert_eq!(at, 16);
        assert!(Layout::parse_header(b"II*").is_err());
        assert!(Layout::parse_header(b"II+\0\x04\0\0\0").is_err());
        assert!(Layout::parse_header(b"XX*\0\x08\0\0\0").is_err());
        assert!(Layout::parse_header(b"II\x2b\x01\x08\0\0\0").is_err());
    }

    #[test]
    fn entries_of_both_byte_orders() {
        let le = Layout {
            little: true,
            big_tiff: false,
        };
        // ImageWidth, SHORT, 1, 300
        let e = parse_entries(le, &[0, 1, 3, 0, 1, 0, 0, 0, 44, 1, 0, 0], 1).unwrap();
        assert_eq!((e[0].tag, e[0].typ, e[0].count), (256, 3, 1));
        assert_eq!(le.uint(Ok(&e[0].field[..2])).unwrap(), 300);
        let be = Layout {
            little: false,
            big_tiff: false,
        };
        let e = parse_entries(be, &[1, 0, 0, 3, 0, 0, 0, 1, 1, 44, 0, 0], 1).unwrap();
        assert_eq!(e[0].tag, 256);
        assert_eq!(be.uint(Ok(&e[0].field[..2])).unwrap(), 300);
        assert!(parse_entries(le, &[0; 11], 1).is_err());
    }
}
