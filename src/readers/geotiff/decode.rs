//! Decoding one stored tile or strip into native-endian samples: decompression
//! (none, deflate, LZW, PackBits, Zstandard), then the byte order and the predictor (2: horizontal
//! differencing, 3: floating point). Output sizes are fixed before decompressing, so a
//! damaged or hostile block can never grow past the size of the block.

use std::io::Read;

/// How the blocks of an image are encoded.
#[derive(Debug, Clone, Copy)]
pub(super) struct BlockCodec {
    pub compression: u16,
    pub predictor: u16,
    pub little_endian: bool,
    pub sample_bytes: usize,
    /// Samples per pixel within a block.
    pub samples: usize,
    /// Pixels per row of a block.
    pub width: usize,
}

/// The compressions this reader decodes.
pub(super) fn supported_compression(c: u16) -> bool {
    matches!(c, 1 | 5 | 8 | 32946 | 32773 | ZSTD)
}

/// GDAL's code for Zstandard (not in TIFF 6).
const ZSTD: u16 = 50000;

/// Zstandard, into at most `want` bytes; the window a frame may ask for is bounded too,
/// so that a damaged header cannot make the decoder allocate a large buffer.
fn zstd(stored: &[u8], want: usize) -> Result<Vec<u8>, String> {
    let window = (want as u64).saturating_mul(2).max(8 << 20);
    let decoder = ruzstd::decoding::StreamingDecoder::new_with_max_window_size(stored, window)
        .map_err(|e| format!("zstd: {e}"))?;
    let mut out = Vec::with_capacity(want);
    decoder
        .take(want as u64)
        .read_to_end(&mut out)
        .map_err(|e| format!("zstd: {e}"))?;
    Ok(out)
}

impl BlockCodec {
    /// Decodes a stored block of `rows` rows into native-endian sample bytes.
    pub fn decode(&self, stored: &[u8], rows: usize) -> Result<Vec<u8>, String> {
        let row_bytes = self
            .width
            .checked_mul(self.samples)
            .and_then(|n| n.checked_mul(self.sample_bytes))
            .ok_or("block rows too large")?;
        let want = row_bytes.checked_mul(rows).ok_or("block too large")?;
        let mut out = self.decompress(stored, want)?;
        if out.len() < want {
            return Err(format!(
                "a block decoded to {} bytes, {want} expected",
                out.len()
            ));
        }
        out.truncate(want);
        match self.predictor {
            1 => self.swap_to_native(&mut out),
            2 => {
                self.swap_to_native(&mut out);
                for row in out.chunks_exact_mut(row_bytes) {
                    self.undo_horizontal(row);
                }
            }
            3 => {
                for row in out.chunks_exact_mut(row_bytes) {
                    self.undo_floating_point(row);
                }
            }
            p => return Err(format!("predictor {p} is not supported")),
        }
        Ok(out)
    }

    fn decompress(&self, stored: &[u8], want: usize) -> Result<Vec<u8>, String> {
        match self.compression {
            1 => Ok(stored[..stored.len().min(want)].to_vec()),
            8 | 32946 => {
                let mut out = Vec::with_capacity(want);
                flate2::read::ZlibDecoder::new(stored)
                    .take(want as u64)
                    .read_to_end(&mut out)
                    .map_err(|e| format!("deflate: {e}"))?;
                Ok(out)
            }
            5 => lzw(stored, want),
            32773 => packbits(stored, want),
            ZSTD => zstd(stored, want),
            c => Err(format!("compression {c} is not supported")),
        }
    }

    /// Swaps each sample to the machine's byte order.
    fn swap_to_native(&self, bytes: &mut [u8]) {
        if self.little_endian != cfg!(target_endian = "little") && self.sample_bytes > 1 {
            for s in bytes.chunks_exact_mut(self.sample_bytes) {
                s.reverse();
            }
        }
    }

    /// Predictor 2: each sample was stored as the difference from the same sample of
    /// the previous pixel (integer arithmetic, wrapping).
    fn undo_horizontal(&self, row: &mut [u8]) {
        let (n, s) = (self.sample_bytes, self.samples);
        let step = n * s;
        for i in (step..row.len()).step_by(n) {
            let prev = read_ne(&row[i - step..i - step + n]);
            let cur = read_ne(&row[i..i + n]);
            write_ne(&mut row[i..i + n], cur.wrapping_add(prev));
        }
    }

    /// Predictor 3: the row's bytes were split into planes, most significant byte
    /// first, and differenced byte by byte; the result is in the machine's order.
    fn undo_floating_point(&self, row: &mut [u8]) {
        let stride = self.samples;
        for i in stride..row.len() {
            row[i] = row[i].wrapping_add(row[i - stride]);
        }
        let n = self.sample_bytes;
        let count = row.len() / n;
        let planes = row.to_vec();
        for k in 0..count {
            for b in 0..n {
                // Plane 0 holds the most significant bytes.
                let plane = if cfg!(target_endian = "little") {
                    n - 1 - b
                } else {
                    b
                };
                row[k * n + b] = planes[plane * count + k];
            }
        }
    }
}

fn read_ne(b: &[u8]) -> u64 {
    match b.len() {
        1 => b[0] as u64,
        2 => u16::from_ne_bytes([b[0], b[1]]) as u64,
        4 => u32::from_ne_bytes(b.try_into().expect("4 bytes")) as u64,
        _ => u64::from_ne_bytes(b.try_into().expect("8 bytes")),
    }
}

fn write_ne(b: &mut [u8], v: u64) {
    match b.len() {
        1 => b[0] = v as u8,
        2 => b.copy_from_slice(&(v as u16).to_ne_bytes()),
        4 => b.copy_from_slice(&(v as u32).to_ne_bytes()),
        _ => b.copy_from_slice(&v.to_ne_bytes()),
    }
}

/// TIFF LZW (MSB-first codes, early code-size change), into at most `want` bytes.
fn lzw(stored: &[u8], want: usize) -> Result<Vec<u8>, String> {
    let mut decoder = weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
    let mut out = vec![0u8; want];
    let (mut read, mut written) = (0, 0);
    while written < want {
        let r = decoder.decode_bytes(&stored[read..], &mut out[written..]);
        read += r.consumed_in;
        written += r.consumed_out;
        match r.status {
            Ok(weezl::LzwStatus::Ok) if r.consumed_in + r.consumed_out > 0 => {}
            Ok(_) => break,
            Err(e) => return Err(format!("LZW: {e}")),
        }
    }
    out.truncate(written);
    Ok(out)
}

/// PackBits run-length decoding, into at most `want` bytes.
fn packbits(stored: &[u8], want: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(want);
    let mut i = 0;
    while i < stored.len() && out.len() < want {
        let n = stored[i] as i8;
        i += 1;
        if n >= 0 {
            let len = n as usize + 1;
            let lit = stored
                .get(i..i + len)
                .ok_or("PackBits: truncated literal")?;
            out.extend_from_slice(lit);
            i += len;
        } else if n != -128 {
            let b = *stored.get(i).ok_or("PackBits: truncated run")?;
            out.extend(std::iter::repeat_n(b, (1 - n as isize) as usize));
            i += 1;
        }
    }
    out.truncate(want);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn codec(compression: u16, predictor: u16, sample_bytes: usize, samples: usize) -> BlockCodec {
        BlockCodec {
            compression,
            predictor,
            little_endian: true,
            sample_bytes,
            samples,
            width: 3,
        }
    }

    #[test]
    fn horizontal_predictor_over_deflate() {
        // Two bands of u16, 3 pixels, 1 row: values (10, 100) (12, 90) (15, 95).
        let diffs: [u16; 6] = [10, 100, 2, (-10i16) as u16, 3, 5];
        let raw: Vec<u8> = diffs.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&raw).unwrap();
        let out = codec(8, 2, 2, 2).decode(&z.finish().unwrap(), 1).unwrap();
        let vals: Vec<u16> = out
            .chunks_exact(2)
            .map(|c| u16::from_ne_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(vals, vec![10, 100, 12, 90, 15, 95]);
    }

    #[test]
    fn floating_point_predictor() {
        let vals = [1.5f32, -2.25, 1e10];
        // Encode as libtiff does: MSB planes, then byte differences.
        let mut planes = vec![0u8; 12];
        for (k, v) in vals.iter().enumerate() {
            for (b, byte) in v.to_be_bytes().iter().enumerate() {
                planes[b * 3 + k] = *byte;
            }
        }
        for i in (1..12).rev() {
            planes[i] = planes[i].wrapping_sub(planes[i - 1]);
        }
        let out = codec(1, 3, 4, 1).decode(&planes, 1).unwrap();
        let back: Vec<f32> = out
            .chunks_exact(4)
            .map(|c| f32::from_ne_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(back, vals);
    }

    #[test]
    fn lzw_and_packbits() {
        let data: Vec<u8> = (0..3u8).cycle().take(9).collect();
        let stored = weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
            .encode(&data)
            .unwrap();
        let c = BlockCodec {
            width: 9,
            ..codec(5, 1, 1, 1)
        };
        assert_eq!(c.decode(&stored, 1).unwrap(), data);
        // 3 literals, then a run of 4 x 7.
        let pb = [2u8, 1, 2, 3, (-3i8) as u8, 7];
        let c = BlockCodec {
            width: 7,
            ..codec(32773, 1, 1, 1)
        };
        assert_eq!(c.decode(&pb, 1).unwrap(), vec![1, 2, 3, 7, 7, 7, 7]);
    }

    #[test]
    fn zstd_blocks() {
        // A frame of the 9 bytes 0..9 (made with `zstd -c`).
        let data: Vec<u8> = (0..9).collect();
        let frame = [
            0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x49, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04,
            0x05, 0x06, 0x07, 0x08,
        ];
        let c = BlockCodec {
            width: 9,
            ..codec(ZSTD, 1, 1, 1)
        };
        assert_eq!(c.decode(&frame, 1).unwrap(), data);
        assert!(c.decode(&frame[..10], 1).is_err());
        assert!(c.decode(b"\x28\xb5\x2f\xfd\xff\xff\xff", 1).is_err());
    }

    #[test]
    fn damaged_blocks_are_errors() {
        let c = codec(8, 1, 4, 1);
        assert!(c.decode(b"not zlib at all", 1).is_err());
        assert!(codec(1, 1, 4, 1).decode(&[0; 5], 1).is_err());
        assert!(codec(32773, 1, 1, 1).decode(&[5, 1], 1).is_err());
        assert!(codec(5, 1, 1, 1).decode(&[0xff; 4], 1).is_err());
        assert!(codec(7, 1, 1, 1).decode(&[0; 3], 1).is_err());
        assert!(codec(1, 9, 1, 1).decode(&[0; 3], 1).is_err());
    }
}
