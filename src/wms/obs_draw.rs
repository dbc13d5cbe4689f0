//! Drawing observations: filled dots (stations, profiles, points) and coloured track
//! lines (trajectories), anti-aliased with `tiny-skia`, onto a transparent image.
//! A dot of each colour is drawn once into a stamp and copied to each place: drawing
//! 10 000 dots as paths took seconds.

use std::collections::HashMap;

use tiny_skia::{FillRule, LineCap, LineJoin, Paint, PathBuilder, Pixmap, Stroke, Transform};

/// Radius of a dot, in pixels.
pub const DOT_RADIUS: f32 = 5.0;
/// Width of a track, in pixels.
pub const LINE_WIDTH: f32 = 3.0;
/// The dark rim around a dot, so that it stands out on any background.
const RIM: [u8; 4] = [0, 0, 0, 160];
/// Side of a dot's stamp (even: the dot is centred on a pixel corner).
const STAMP: u32 = 2 * (DOT_RADIUS as u32 + 2);

/// One thing drawn, at image positions (x right, y down, pixel centres at +0.5).
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    Dot {
        at: [f32; 2],
        color: [u8; 4],
    },
    /// A polyline of one colour.
    Line {
        points: Vec<[f32; 2]>,
        color: [u8; 4],
    },
}

fn paint(c: [u8; 4]) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(c[0], c[1], c[2], c[3]);
    p.anti_alias = true;
    p
}

/// A dot of colour `c` centred in a `STAMP`-sided pixmap, with its rim.
fn stamp(c: [u8; 4]) -> Option<Pixmap> {
    let mut pm = Pixmap::new(STAMP, STAMP)?;
    let mid = STAMP as f32 / 2.0;
    let circle = PathBuilder::from_circle(mid, mid, DOT_RADIUS)?;
    pm.fill_path(
        &circle,
        &paint(c),
        FillRule::Winding,
        Transform::identity(),
        None,
    );
    let edge = PathBuilder::from_circle(mid, mid, DOT_RADIUS + 0.5)?;
    let rim = Stroke {
        width: 1.0,
        ..Stroke::default()
    };
    pm.stroke_path(&edge, &paint(RIM), &rim, Transform::identity(), None);
    Some(pm)
}

/// Puts premultiplied `src` over `dst` (both `tiny-skia` RGBA data) with its top-left
/// corner at (x, y), clipped to `dst`.
fn blit(dst: &mut Pixmap, src: &Pixmap, x: i64, y: i64) {
    let (dw, dh) = (dst.width() as i64, dst.height() as i64);
    let sw = src.width() as i64;
    let (s, d) = (src.data(), dst.data_mut());
    for sy in 0..src.height() as i64 {
        let ty = y + sy;
        if ty < 0 || ty >= dh {
            continue;
        }
        for sx in 0..sw {
            let tx = x + sx;
            if tx < 0 || tx >= dw {
                continue;
            }
            let si = ((sy * sw + sx) * 4) as usize;
            let a = s[si + 3] as u32;
            if a == 0 {
                continue;
            }
            let di = ((ty * dw + tx) * 4) as usize;
            for k in 0..4 {
                let under = d[di + k] as u32 * (255 - a) / 255;
                d[di + k] = (s[si + k] as u32 + under).min(255) as u8;
            }
        }
    }
}

/// The marks drawn on a transparent `width` × `height` RGBA image (straight alpha, row
/// major): tracks first, dots over them.
pub fn draw(marks: &[Mark], width: u32, height: u32) -> Vec<u8> {
    let n = width as usize * height as usize * 4;
    let Some(mut pixmap) = Pixmap::new(width, height) else {
        return vec![0; n];
    };
    let stroke = Stroke {
        width: LINE_WIDTH,
        line_cap: LineCap::Round,
        line_join: LineJoin::Round,
        ..Stroke::default()
    };
    for m in marks {
        if let Mark::Line { points, color } = m
            && let [first, rest @ ..] = points.as_slice()
        {
            let mut pb = PathBuilder::new();
            pb.move_to(first[0], first[1]);
            for p in rest {
                pb.line_to(p[0], p[1]);
            }
            if let Some(path) = pb.finish() {
                pixmap.stroke_path(&path, &paint(*color), &stroke, Transform::identity(), None);
            }
        }
    }
    let mut stamps: HashMap<[u8; 4], Option<Pixmap>> = HashMap::new();
    let limit = (width.max(height) as f32 + STAMP as f32) * 2.0;
    for m in marks {
        if let Mark::Dot { at, color } = m
            && at[0].is_finite()
            && at[1].is_finite()
            && at[0].abs() < limit
            && at[1].abs() < limit
            && let Some(s) = stamps.entry(*color).or_insert_with(|| stamp(*color))
        {
            let half = (STAMP / 2) as i64;
            let (x, y) = (at[0].round() as i64 - half, at[1].round() as i64 - half);
            blit(&mut pixmap, s, x, y);
        }
    }
    let mut out = Vec::with_capacity(n);
    for p in pixmap.pixels() {
        let c = p.demultiply();
        out.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(img: &[u8], w: u32, x: u32, y: u32) -> [u8; 4] {
        let k = (y * w + x) as usize * 4;
        [img[k], img[k + 1], img[k + 2], img[k + 3]]
    }

    #[test]
    fn dots_and_lines_where_asked_transparent_elsewhere() {
        let red = [200, 10, 20, 255];
        let blue = [10, 20, 200, 255];
        let marks = [
            Mark::Dot {
                at: [10.0, 10.0],
                color: red,
            },
            Mark::Line {
                points: vec![[20.5, 30.5], [60.5, 30.5], [60.5, 45.5]],
                color: blue,
            },
        ];
        let img = draw(&marks, 80, 50);
        assert_eq!(img.len(), 80 * 50 * 4);
        // The dot is centred on the corner shared by pixels (9..10, 9..10).
        for (x, y) in [(9, 9), (10, 10), (9, 10), (12, 10), (7, 9)] {
            assert_eq!(px(&img, 80, x, y), red, "({x}, {y})");
        }
        // Its rim is darker than the fill, and it is round.
        assert!(px(&img, 80, 15, 9)[0] < 200);
        assert_eq!(px(&img, 80, 14, 14)[3], 0);
        assert_eq!(px(&img, 80, 40, 30), blue);
        assert_eq!(px(&img, 80, 20, 30), blue);
        assert_eq!(px(&img, 80, 60, 40), blue);
        for (x, y) in [(0, 0), (30, 10), (40, 40), (70, 30), (10, 25), (50, 40)] {
            assert_eq!(px(&img, 80, x, y)[3], 0, "({x}, {y})");
        }
    }

    #[test]
    fn dots_on_the_edge_are_clipped_and_overlaps_blend() {
        let marks = [
            Mark::Dot {
                at: [0.0, 0.0],
                color: [0, 0, 255, 255],
            },
            Mark::Dot {
                at: [16.0, 16.0],
                color: [0, 255, 0, 255],
            },
            Mark::Dot {
                at: [20.0, 16.0],
                color: [255, 0, 0, 255],
            },
        ];
        let img = draw(&marks, 24, 20);
        assert_eq!(px(&img, 24, 0, 0), [0, 0, 255, 255]);
        // The later dot lies over the earlier one.
        assert_eq!(px(&img, 24, 17, 16), [255, 0, 0, 255]);
        assert_ne!(px(&img, 24, 15, 16), [0, 255, 0, 255]);
        assert_eq!(px(&img, 24, 12, 16), [0, 255, 0, 255]);
    }

    #[test]
    fn marks_off_the_image_and_empty_images_are_harmless() {
        let marks = [
            Mark::Dot {
                at: [-1e9, 1e9],
                color: [1, 2, 3, 255],
            },
            Mark::Dot {
                at: [f32::NAN, 3.0],
                color: [1, 2, 3, 255],
            },
            Mark::Line {
                points: vec![[f32::NAN, 0.0], [5.0, f32::INFINITY]],
                color: [1, 2, 3, 255],
            },
            Mark::Line {
                points: vec![],
                color: [1, 2, 3, 255],
            },
        ];
        let img = draw(&marks, 16, 16);
        assert!(img.chunks_exact(4).all(|p| p[3] == 0));
        assert!(draw(&marks, 0, 16).is_empty());
    }
}
