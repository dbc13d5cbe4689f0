//! GRIB message framing, in pure Rust: where each message starts and how long it is,
//! from its indicator section (and, for GRIB 1 messages over 8 MiB, the section
//! lengths of the "large message" convention). It lets the index be built from byte
//! ranges and ecCodes be handed exactly one checked, complete message.

/// What framing needs to go on.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// The message's total length in bytes.
    Length(u64),
    /// The window must hold at least this many bytes from the message start.
    NeedBytes(usize),
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |acc, &b| (acc << 8) | b as u64)
}

/// The length of the message starting at `window[0]` (`GRIB`...), from the bytes the
/// window holds; `Err` if the header is not a GRIB 1 or 2 indicator section.
pub(crate) fn message_len(window: &[u8]) -> Result<Framing, String> {
    if window.len() < 16 {
        return Ok(Framing::NeedBytes(16));
    }
    if &window[..4] != b"GRIB" {
        return Err("no GRIB indicator".into());
    }
    let len = match window[7] {
        2 => be(&window[8..16]),
        1 => match grib1_len(window)? {
            Framing::Length(l) => l,
            need => return Ok(need),
        },
        e => return Err(format!("GRIB edition {e} is not supported")),
    };
    // Indicator (8 or 16) + end section (4): anything shorter is damaged.
    if len < 20 {
        return Err(format!("message length {len} is too short"));
    }
    Ok(Framing::Length(len))
}

/// GRIB 1: a 3-byte length, unless its top bit is set (messages over 8 MiB): then the
/// length counts 120-byte units and the binary data section's length corrects it.
fn grib1_len(w: &[u8]) -> Result<Framing, String> {
    let coded = be(&w[4..7]);
    if coded & 0x80_0000 == 0 {
        return Ok(Framing::Length(coded));
    }
    // Product definition section: its flags say whether sections 2 and 3 exist.
    let mut at = 8usize;
    if w.len() < at + 8 {
        return Ok(Framing::NeedBytes(at + 8));
    }
    let pds_len = be(&w[at..at + 3]) as usize;
    let flags = w[at + 7];
    at += pds_len;
    for present in [flags & 0x80 != 0, flags & 0x40 != 0] {
        if present {
            if w.len() < at + 3 {
                return Ok(Framing::NeedBytes(at + 3));
            }
            let len = be(&w[at..at + 3]) as usize;
            if len == 0 {
                return Err("empty GRIB 1 section".into());
            }
            at += len;
        }
    }
    if w.len() < at + 3 {
        return Ok(Framing::NeedBytes(at + 3));
    }
    let bds_len = be(&w[at..at + 3]);
    let mut total = (coded & 0x7f_ffff) * 120;
    if bds_len < 120 {
        total = (total + 4)
            .checked_sub(bds_len)
            .ok_or("inconsistent GRIB 1 large-message length")?;
    }
    Ok(Framing::Length(total))
}

/// Checks a whole message's end marker (`7777`), what a truncated or mis-framed
/// message lacks.
pub(crate) fn check_end(message: &[u8]) -> Result<(), String> {
    if message.len() < 20 || !message.ends_with(b"7777") {
        return Err("message does not end with 7777 (truncated or damaged)".into());
    }
    Ok(())
}

/// The offset of the next `GRIB` indicator at or after `from` in `window`.
pub(crate) fn find_indicator(window: &[u8], from: usize) -> Option<usize> {
    window
        .get(from..)?
        .windows(4)
        .position(|w| w == b"GRIB")
        .map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(edition: u8, len: u64) -> Vec<u8> {
        let mut h = b"GRIB".to_vec();
        if edition == 2 {
            h.extend([0, 0, 0, 2]);
            h.extend(len.to_be_bytes());
        } else {
            h.extend(&len.to_be_bytes()[5..8]);
            h.push(1);
            h.extend([0; 8]);
        }
        h
    }

    #[test]
    fn lengths_of_both_editions() {
        assert_eq!(message_len(&header(2, 180)), Ok(Framing::Length(180)));
        assert_eq!(message_len(&header(1, 1000)), Ok(Framing::Length(1000)));
        assert_eq!(message_len(b"GRIB"), Ok(Framing::NeedBytes(16)));
        assert!(message_len(&header(2, 3)).is_err());
        let mut bad = header(2, 100);
        bad[7] = 3;
        assert!(message_len(&bad).is_err());
        assert!(message_len(b"GRUB\0\0\0\x02\0\0\0\0\0\0\0\x40").is_err());
    }

    #[test]
    fn grib1_large_message_convention() {
        // PDS of 28 bytes with no GDS/BMS, then a BDS whose length is 100 (< 120).
        let mut m = header(1, 0x80_0000 | 10);
        m.truncate(8);
        let mut pds = vec![0u8; 28];
        pds[2] = 28;
        m.extend(&pds);
        assert_eq!(message_len(&m), Ok(Framing::NeedBytes(8 + 28 + 3)));
        m.extend([0, 0, 100]);
        assert_eq!(message_len(&m), Ok(Framing::Length(10 * 120 + 4 - 100)));
    }

    #[test]
    fn end_marker_and_search() {
        assert!(check_end(&[b"GRIB".as_slice(), &[0; 16], b"7777"].concat()).is_ok());
        assert!(check_end(&[b"GRIB".as_slice(), &[0; 16], b"777"].concat()).is_err());
        assert_eq!(find_indicator(b"xxGRIBGRIB", 0), Some(2));
        assert_eq!(find_indicator(b"xxGRIBGRIB", 3), Some(6));
        assert_eq!(find_indicator(b"xx", 5), None);
    }
}
