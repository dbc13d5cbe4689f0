//! DAP4 chunked framing: each chunk is a 4-byte big-endian header (flags in the high
//! byte, length in the low 24 bits) and its bytes. The DMR is the first chunk; data
//! follows in chunks of at most 64 KiB; the last chunk carries the `LAST` flag (and may
//! be empty); an error chunk replaces the rest when a failure happens mid-stream.

use std::collections::VecDeque;

use bytes::Bytes;

pub const LAST: u8 = 0x01;
pub const ERROR: u8 = 0x02;
pub const LITTLE_ENDIAN: u8 = 0x04;
/// "This response carries no checksums", on the DMR chunk. netCDF-C 4.9.x (built with
/// its `CHECKSUMHACK`) otherwise expects a CRC after every variable; later netCDF-C
/// masks the bit off and pydap does not look at it.
pub const NO_CHECKSUMS: u8 = 0x08;

/// Largest chunk, header included (TDS's limit; some clients assume it).
pub const MAX_CHUNK: usize = 64 * 1024;
/// Largest data payload of one chunk.
pub const MAX_PAYLOAD: usize = MAX_CHUNK - 4;
/// The 24-bit length field's limit (for the DMR chunk, which cannot be split).
pub const MAX_LENGTH: usize = (1 << 24) - 1;

/// Every chunk we write declares little-endian data (pydap reads the byte order from
/// the DMR chunk's flags, netCDF-C from each).
const FLAGS: u8 = LITTLE_ENDIAN;

pub fn header(flags: u8, len: usize) -> [u8; 4] {
    debug_assert!(len <= MAX_LENGTH);
    ((u32::from(flags) << 24) | (len as u32 & 0x00FF_FFFF)).to_be_bytes()
}

/// Decodes a header into (flags, length).
pub fn parse_header(h: [u8; 4]) -> (u8, usize) {
    let v = u32::from_be_bytes(h);
    ((v >> 24) as u8, (v & 0x00FF_FFFF) as usize)
}

/// The DMR chunk: the document followed by `\r\n` (netCDF-C drops the chunk's last
/// byte, taking it for the terminator). `None` if the DMR does not fit in one chunk.
pub fn dmr_chunk(dmr: &str, checksums: bool) -> Option<Vec<u8>> {
    let body = dmr.trim_end_matches(['\r', '\n']);
    let len = body.len() + 2;
    if len > MAX_LENGTH {
        return None;
    }
    let mut out = Vec::with_capacity(len + 4);
    let flags = if checksums {
        FLAGS
    } else {
        FLAGS | NO_CHECKSUMS
    };
    out.extend_from_slice(&header(flags, len));
    out.extend_from_slice(body.as_bytes());
    out.extend_from_slice(b"\r\n");
    Some(out)
}

/// An error chunk (also the last): the DAP4 `<Error>` document.
pub fn error_chunk(xml: &str) -> Bytes {
    let body = &xml.as_bytes()[..xml.len().min(MAX_PAYLOAD)];
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&header(FLAGS | ERROR | LAST, body.len()));
    out.extend_from_slice(body);
    Bytes::from(out)
}

/// Cuts a stream of data bytes into chunks. Data is appended to `pending` (encoders
/// write straight into it); `take_full` removes the complete chunks, `finish` the rest
/// as the last chunk.
#[derive(Debug, Default)]
pub struct Framer {
    pub pending: Vec<u8>,
}

impl Framer {
    pub fn new() -> Framer {
        Framer {
            pending: Vec::with_capacity(MAX_PAYLOAD),
        }
    }

    /// The complete chunks buffered so far, framed, one buffer each (64 KiB buffers are
    /// recycled by the allocator; one large buffer per block would be fresh pages every
    /// time); the remainder stays pending.
    pub fn take_full(&mut self, out: &mut VecDeque<Bytes>) {
        let full = self.pending.len() / MAX_PAYLOAD;
        if full == 0 {
            return;
        }
        for piece in self.pending.chunks_exact(MAX_PAYLOAD) {
            let mut chunk = Vec::with_capacity(MAX_CHUNK);
            chunk.extend_from_slice(&header(FLAGS, MAX_PAYLOAD));
            chunk.extend_from_slice(piece);
            out.push_back(Bytes::from(chunk));
        }
        self.pending.drain(..full * MAX_PAYLOAD);
    }

    /// The first full chunk pending, framed, if there is one. Taking chunks one at a
    /// time keeps what a response buffers to one chunk, whatever the block size.
    pub fn take_chunk(&mut self) -> Option<Bytes> {
        if self.pending.len() < MAX_PAYLOAD {
            return None;
        }
        let mut chunk = Vec::with_capacity(MAX_CHUNK);
        chunk.extend_from_slice(&header(FLAGS, MAX_PAYLOAD));
        chunk.extend_from_slice(&self.pending[..MAX_PAYLOAD]);
        // What is left is usually less than one element (a long string can leave more).
        self.pending.drain(..MAX_PAYLOAD);
        Some(Bytes::from(chunk))
    }

    /// Everything still pending, as the last chunk (possibly empty).
    pub fn finish(&mut self) -> Bytes {
        let mut out = Vec::with_capacity(self.pending.len() + 4);
        out.extend_from_slice(&header(FLAGS | LAST, self.pending.len()));
        out.append(&mut self.pending);
        Bytes::from(out)
    }
}

/// Reassembles a chunked response into (DMR text, data bytes, error text): what a
/// client does. For tests and benchmarks.
pub fn dechunk(mut body: &[u8]) -> Result<(String, Vec<u8>, Option<String>), String> {
    let mut dmr = None;
    let mut data = Vec::new();
    loop {
        if body.len() < 4 {
            return Err("truncated before the last chunk".into());
        }
        let (flags, len) = parse_header(body[..4].try_into().expect("4 bytes"));
        if flags & LITTLE_ENDIAN == 0 {
            return Err("chunk without the little-endian flag".into());
        }
        let payload = body
            .get(4..4 + len)
            .ok_or_else(|| format!("chunk of {len} bytes truncated"))?;
        body = &body[4 + len..];
        if flags & ERROR != 0 {
            let text = String::from_utf8_lossy(payload).into_owned();
            return Ok((dmr.unwrap_or_default(), data, Some(text)));
        }
        match dmr {
            None => {
                let text = std::str::from_utf8(payload).map_err(|e| e.to_string())?;
                let text = text
                    .strip_suffix("\r\n")
                    .ok_or("the DMR chunk does not end with \\r\\n")?;
                dmr = Some(text.to_string());
            }
            Some(_) => {
                if len + 4 > MAX_CHUNK {
                    return Err(format!("data chunk of {len} bytes"));
                }
                data.extend_from_slice(payload);
            }
        }
        if flags & LAST != 0 {
            if !body.is_empty() {
                return Err("bytes after the last chunk".into());
            }
            return Ok((dmr.unwrap_or_default(), data, None));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout() {
        assert_eq!(
            header(LITTLE_ENDIAN | LAST, 0x0102),
            [0x05, 0x00, 0x01, 0x02]
        );
        assert_eq!(parse_header([0x06, 0xAB, 0xCD, 0xEF]), (0x06, 0xABCDEF));
    }

    #[test]
    fn checksum_is_the_ieee_crc32() {
        // The check value of CRC-32/ISO-HDLC: what zlib, netCDF-C (`NC_crc32`) and
        // TDS compute, so clients verify our checksums.
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
        // Over a variable's encoded bytes, string counts included.
        let mut bytes = Vec::new();
        crate::dap4::encode::encode_values(
            &crate::model::ArrayValues::Str(vec!["ab".into()]),
            &mut bytes,
        );
        let mut h = crc32fast::Hasher::new();
        h.update(&bytes[..8]);
        h.update(&bytes[8..]);
        assert_eq!(h.finalize(), crc32fast::hash(b"\x02\0\0\0\0\0\0\0ab"));
    }

    #[test]
    fn framing_round_trip() {
        let dmr = dmr_chunk("<Dataset/>\n", false).unwrap();
        assert_eq!(&dmr[..4], &header(LITTLE_ENDIAN | NO_CHECKSUMS, 12));
        assert_eq!(dmr_chunk("<Dataset/>", true).unwrap()[0], LITTLE_ENDIAN);
        assert!(dmr.ends_with(b"<Dataset/>\r\n"));

        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut f = Framer::new();
        let mut body = dmr.clone();
        let mut ready = VecDeque::new();
        for piece in data.chunks(7777) {
            f.pending.extend_from_slice(piece);
            f.take_full(&mut ready);
            for b in ready.drain(..) {
                assert_eq!(b.len(), MAX_CHUNK);
                body.extend_from_slice(&b);
            }
        }
        let last = f.finish();
        assert_eq!(last.len(), 4 + 200_000 % MAX_PAYLOAD);
        assert_eq!(last[0], LITTLE_ENDIAN | LAST);
        body.extend_from_slice(&last);
        let (text, got, err) = dechunk(&body).unwrap();
        assert_eq!(text, "<Dataset/>");
        assert_eq!(got, data);
        assert!(err.is_none());

        // No data: still an (empty) last chunk.
        let mut body = dmr.clone();
        body.extend_from_slice(&Framer::new().finish());
        assert_eq!(&body[body.len() - 4..], &[0x05, 0, 0, 0]);
        assert_eq!(dechunk(&body).unwrap().1, Vec::<u8>::new());

        // An error chunk ends the response.
        let mut body = dmr;
        body.extend_from_slice(&error_chunk("<Error/>"));
        assert_eq!(body[body.len() - 12], LITTLE_ENDIAN | ERROR | LAST);
        assert_eq!(dechunk(&body).unwrap().2.as_deref(), Some("<Error/>"));
        assert!(dechunk(&body[..body.len() - 1]).is_err());
    }
}
