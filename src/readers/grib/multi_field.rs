//! Multi-field GRIB 2 messages: one message whose sections 2–7 (or 3–7, or 4–7)
//! repeat, one field per section 7 (u and v wind in one message). Each field is cut
//! out as a single-field message of its own — section 0 with the new length, section
//! 1, the local use and grid sections in force, the field's sections 4–7 and `7777` —
//! so that the one-field path (ecCodes on one message) decodes it, as ecCodes' multi
//! support and cfgrib see the fields.

/// Bytes of GRIB 2's section 0 (indicator).
const SECTION0: usize = 16;

/// The sections in force when a field's data section is reached.
#[derive(Default, Clone, Copy)]
struct InForce<'a> {
    s1: Option<&'a [u8]>,
    s2: Option<&'a [u8]>,
    s3: Option<&'a [u8]>,
    s4: Option<&'a [u8]>,
    s5: Option<&'a [u8]>,
    s6: Option<&'a [u8]>,
    /// The last bit-map section that defined a bit map (indicator 0), which a later
    /// section 6 of indicator 254 ("the bit map defined before") reuses.
    bitmap: Option<&'a [u8]>,
}

/// The fields of a GRIB 2 message as single-field messages, when it has more than
/// one; `None` for a one-field message or another edition. A message whose sections
/// do not follow GRIB 2's layout is an error.
pub(crate) fn split(message: &[u8]) -> Result<Option<Vec<Vec<u8>>>, String> {
    if message.len() < SECTION0 + 4 || &message[..4] != b"GRIB" || message[7] != 2 {
        return Ok(None);
    }
    let end = message.len() - 4;
    if &message[end..] != b"7777" {
        return Err("no end section 7777".into());
    }
    let mut pos = SECTION0;
    let mut s = InForce::default();
    let mut fields: Vec<[&[u8]; 7]> = Vec::new();
    while pos < end {
        let head = message
            .get(pos..pos + 5)
            .ok_or_else(|| format!("section header cut at byte {pos}"))?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let number = head[4];
        if len < 5 || pos.checked_add(len).is_none_or(|e| e > end) {
            return Err(format!("section {number} at byte {pos} has length {len}"));
        }
        let section = &message[pos..pos + len];
        match number {
            1 => s.s1 = Some(section),
            2 => s.s2 = Some(section),
            3 => s.s3 = Some(section),
            4 => s.s4 = Some(section),
            5 => s.s5 = Some(section),
            6 => {
                let indicator = *section
                    .get(5)
                    .ok_or_else(|| format!("bit-map section at byte {pos} is empty"))?;
                s.s6 = Some(match indicator {
                    0 => {
                        s.bitmap = Some(section);
                        section
                    }
                    254 => s.bitmap.ok_or_else(|| {
                        format!("section 6 at byte {pos} reuses a bit map never defined")
                    })?,
                    _ => section,
                });
            }
            7 => {
                let missing = |n: u8| format!("field {} has no section {n}", fields.len() + 1);
                fields.push([
                    s.s1.ok_or_else(|| missing(1))?,
                    s.s2.unwrap_or(&[]),
                    s.s3.ok_or_else(|| missing(3))?,
                    s.s4.ok_or_else(|| missing(4))?,
                    s.s5.ok_or_else(|| missing(5))?,
                    s.s6.ok_or_else(|| missing(6))?,
                    section,
                ]);
                // A field's sections 4–6 are its own; the next field brings its own.
                (s.s4, s.s5, s.s6) = (None, None, None);
            }
            n => return Err(format!("unknown section {n} at byte {pos}")),
        }
        pos += len;
    }
    if fields.len() <= 1 {
        return Ok(None);
    }
    Ok(Some(
        fields
            .into_iter()
            .map(|parts| {
                let total = SECTION0 + parts.iter().map(|p| p.len()).sum::<usize>() + 4;
                let mut out = Vec::with_capacity(total);
                out.extend_from_slice(&message[..8]);
                out.extend_from_slice(&(total as u64).to_be_bytes());
                for p in parts {
                    out.extend_from_slice(p);
                }
                out.extend_from_slice(b"7777");
                out
            })
            .collect(),
    ))
}

/// Field `k` of a multi-field message (`split`'s `k`-th), or why not.
pub(crate) fn field(message: &[u8], k: usize) -> Result<Vec<u8>, String> {
    split(message)?
        .and_then(|mut fields| (k < fields.len()).then(|| fields.swap_remove(k)))
        .ok_or_else(|| format!("the message has no field {}", k + 1))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn section(number: u8, body: &[u8]) -> Vec<u8> {
        let mut s = ((body.len() + 5) as u32).to_be_bytes().to_vec();
        s.push(number);
        s.extend_from_slice(body);
        s
    }

    /// A message of the given sections (section 0 and 7777 added).
    pub(crate) fn message(sections: &[Vec<u8>]) -> Vec<u8> {
        let total = SECTION0 + sections.iter().map(Vec::len).sum::<usize>() + 4;
        let mut m = b"GRIB\0\0\0\x02".to_vec();
        m.extend_from_slice(&(total as u64).to_be_bytes());
        for s in sections {
            m.extend_from_slice(s);
        }
        m.extend_from_slice(b"7777");
        m
    }

    #[test]
    fn fields_are_cut_out_with_the_sections_in_force() {
        let (s1, s3) = (section(1, b"id"), section(3, b"grid"));
        let (u4, u5, u6, u7) = (
            section(4, b"u"),
            section(5, b"pack"),
            section(6, &[0, 1, 2]),
            section(7, b"uu"),
        );
        let (v4, v6, v7) = (section(4, b"v"), section(6, &[254]), section(7, b"vv"));
        let m = message(&[
            s1.clone(),
            s3.clone(),
            u4.clone(),
            u5.clone(),
            u6.clone(),
            u7.clone(),
            v4.clone(),
            u5.clone(),
            v6,
            v7.clone(),
        ]);
        let fields = split(&m).unwrap().unwrap();
        assert_eq!(fields.len(), 2);
        assert_eq!(
            fields[0],
            message(&[s1.clone(), s3.clone(), u4, u5.clone(), u6.clone(), u7])
        );
        // The second field reuses the first one's bit map.
        assert_eq!(fields[1], message(&[s1, s3, v4, u5, u6, v7]));
        assert_eq!(field(&m, 1).unwrap(), fields[1]);
        assert!(field(&m, 2).is_err());
    }

    #[test]
    fn single_fields_and_other_editions_are_left_alone() {
        let one = message(&[
            section(1, b""),
            section(3, b""),
            section(4, b""),
            section(5, b""),
            section(6, &[255]),
            section(7, b""),
        ]);
        assert_eq!(split(&one).unwrap(), None);
        let mut grib1 = one.clone();
        grib1[7] = 1;
        assert_eq!(split(&grib1).unwrap(), None);
    }

    #[test]
    fn damaged_messages_are_errors() {
        let good = message(&[
            section(1, b""),
            section(3, b""),
            section(4, b""),
            section(5, b""),
            section(6, &[255]),
            section(7, b""),
            section(4, b""),
            section(5, b""),
            section(6, &[254]),
            section(7, b""),
        ]);
        // Reusing a bit map never defined.
        assert!(split(&good).is_err());
        for cut in 0..good.len() {
            let _ = split(&good[..cut]);
        }
        for i in 0..good.len() {
            let mut m = good.clone();
            m[i] ^= 0xff;
            let _ = split(&m);
        }
        let mut bad = message(&[section(1, b""), section(9, b"")]);
        assert!(split(&bad).is_err());
        bad.truncate(bad.len() - 1);
        assert!(split(&bad).is_err());
    }
}
