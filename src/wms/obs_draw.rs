//! Drawing observations: filled dots (stations, profiles, points) and coloured track
//! segments (trajectories), anti-aliased with `tiny-skia`, onto a transparent image.

use tiny_skia::{FillRule, LineCap, Paint, PathBuilder, Pixmap, Stroke, Transform};

/// Radius of a dot, in pixels.
pub const DOT_RADIUS: f32 = 5.0;
/// Width of a track, in pixels.
pub const LINE_WIDTH: f32 = 3.0;
/// The dark rim around a dot, so that it stands out on any background.
const RIM: [u8; 4] = [0, 0, 0, 160];

/// One thing drawn, at image positions (x right, y down, pixel centres at +0.5).
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    Dot {
        at: [f32; 2],
        color: [u8; 4],
    },
    Segment {
        from: [f32; 2],
        to: [f32; 2],
        color: [u8; 4],
    },
}

fn paint(c: [u8; 4]) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(c[0], c[1], c[2], c[3]);
    p.anti_alias = true;
    p
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
        ..Stroke::default()
    };
    for m in marks {
        if let Mark::Segment { from, to, color } = m {
            let mut pb = PathBuilder::new();
            pb.move_to(from[0], from[1]);
            pb.line_to(to[0], to[1]);
            if let Some(path) = pb.finish() {
                pixmap.stroke_path(&path, &paint(*color), &stroke, Transform::identity(), None);
            }
        }
    }
    let rim = Stroke {
        width: 1.0,
        ..Stroke::default()
    };
    for m in marks {
        if let Mark::Dot { at, color } = m
            && let Some(circle) = PathBuilder::from_circle(at[0], at[1], DOT_RADIUS)
        {
            pixmap.fill_path(
                &circle,
                &paint(*color),
                FillRule::Winding,
                Transform::identity(),
                None,
            );
            if let Some(edge) = PathBuilder::from_circle(at[0], at[1], DOT_RADIUS + 0.5) {
                pixmap.stroke_path(&edge, &paint(RIM), &rim, Transform::identity(), None);
            }
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
    fn dots_and_segments_where_asked_transparent_elsewhere() {
        let red = [200, 10, 20, 255];
        let blue = [10, 20, 200, 255];
        let marks = [
            Mark::Dot {
                at: [10.5, 10.5],
                color: red,
            },
            Mark::Segment {
                from: [20.5, 30.5],
                to: [60.5, 30.5],
                color: blue,
            },
        ];
        let img = draw(&marks, 80, 50);
        assert_eq!(img.len(), 80 * 50 * 4);
        assert_eq!(px(&img, 80, 10, 10), red);
        assert_eq!(px(&img, 80, 13, 10), red);
        assert_eq!(px(&img, 80, 40, 30), blue);
        assert_eq!(px(&img, 80, 20, 30), blue);
        for (x, y) in [(0, 0), (30, 10), (40, 40), (70, 30), (10, 25)] {
            assert_eq!(px(&img, 80, x, y)[3], 0, "({x}, {y})");
        }
    }

    #[test]
    fn marks_off_the_image_and_empty_images_are_harmless() {
        let marks = [
            Mark::Dot {
                at: [-1e9, 1e9],
                color: [1, 2, 3, 255],
            },
            Mark::Segment {
                from: [f32::NAN, 0.0],
                to: [5.0, f32::INFINITY],
                color: [1, 2, 3, 255],
            },
        ];
        let img = draw(&marks, 16, 16);
        assert!(img.chunks_exact(4).all(|p| p[3] == 0));
        assert!(draw(&marks, 0, 16).is_empty());
    }
}
