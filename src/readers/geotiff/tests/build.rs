//! A TIFF writer for the tests: IFDs of the given blocks and tags, either byte order.

pub(super) enum Val {
    Short(Vec<u16>),
    Long(Vec<u32>),
    Double(Vec<f64>),
    Ascii(String),
}

/// A one-IFD classic TIFF: `blocks` stored after the header, then the IFD of `tags`
/// (offsets/byte-count tags for the blocks added), then out-of-line values.
pub(super) fn tiff(
    little: bool,
    tiled: bool,
    blocks: &[Vec<u8>],
    tags: Vec<(u16, Val)>,
) -> Vec<u8> {
    tiff_images(little, vec![(tiled, blocks.to_vec(), tags)])
}

/// One image to write: tiled (else striped), its blocks, its tags.
pub(super) type ImageParts = (bool, Vec<Vec<u8>>, Vec<(u16, Val)>);

/// A classic TIFF of several images (IFDs chained in order), each stored as `tiff`
/// stores its one.
pub(super) fn tiff_images(little: bool, images: Vec<ImageParts>) -> Vec<u8> {
    let u16b = |v: u16| {
        if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    };
    let u32b = |v: u32| {
        if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    };
    let mut out: Vec<u8> = if little {
        b"II".to_vec()
    } else {
        b"MM".to_vec()
    };
    out.extend(u16b(42));
    out.extend(u32b(0)); // patched below
    let mut link_at = 4;
    for (tiled, blocks, mut tags) in images {
        let mut offsets = Vec::new();
        for b in &blocks {
            offsets.push(out.len() as u32);
            out.extend(b);
        }
        let (off_tag, cnt_tag) = if tiled { (324, 325) } else { (273, 279) };
        tags.push((off_tag, Val::Long(offsets)));
        tags.push((
            cnt_tag,
            Val::Long(blocks.iter().map(|b| b.len() as u32).collect()),
        ));
        tags.sort_by_key(|t| t.0);
        let ifd_at = out.len() as u32;
        out[link_at..link_at + 4].copy_from_slice(&u32b(ifd_at));
        let mut extra_at = ifd_at + 2 + 12 * tags.len() as u32 + 4;
        let mut extra = Vec::new();
        out.extend(u16b(tags.len() as u16));
        for (tag, val) in &tags {
            let (typ, count, bytes): (u16, u32, Vec<u8>) = match val {
                Val::Short(v) => (3, v.len() as u32, v.iter().flat_map(|x| u16b(*x)).collect()),
                Val::Long(v) => (4, v.len() as u32, v.iter().flat_map(|x| u32b(*x)).collect()),
                Val::Double(v) => (
                    12,
                    v.len() as u32,
                    v.iter()
                        .flat_map(|x| {
                            if little {
                                x.to_le_bytes()
                            } else {
                                x.to_be_bytes()
                            }
                        })
                        .collect(),
                ),
                Val::Ascii(s) => (2, s.len() as u32 + 1, [s.as_bytes(), &[0]].concat()),
            };
            out.extend(u16b(*tag));
            out.extend(u16b(typ));
            out.extend(u32b(count));
            if bytes.len() <= 4 {
                let mut field = bytes.clone();
                field.resize(4, 0);
                out.extend(field);
            } else {
                out.extend(u32b(extra_at));
                extra_at += bytes.len() as u32;
                extra.extend(bytes);
            }
        }
        link_at = out.len();
        out.extend(u32b(0));
        out.extend(extra);
    }
    out
}
