//! GetLegendGraphic: a vertical colour bar with the scale's range and units.

use super::draw::Canvas;
use super::style::ColorScale;

pub const DEFAULT_WIDTH: u32 = 110;
pub const DEFAULT_HEIGHT: u32 = 264;

/// Short text of a legend value (at most 9 characters).
pub fn label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e6).contains(&a) {
        return format!("{v:.2e}");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.chars().take(9).collect()
}

/// Draws the legend. With `bar_only`, the whole image is the colour bar (maximum at
/// the top); otherwise a bar with labels at the ends, middle and the units on top.
pub fn draw(
    scale: &ColorScale,
    units: Option<&str>,
    width: u32,
    height: u32,
    bar_only: bool,
) -> Canvas {
    let white = [255, 255, 255, 255];
    let black = [0, 0, 0, 255];
    let mut c = Canvas::new(width, height, if bar_only { [0, 0, 0, 0] } else { white });
    let (bar_x, bar_w, top, bottom) = if bar_only {
        (0i64, width as i64, 0i64, height as i64)
    } else {
        (4, 24.min(width as i64 / 3).max(4), 16, height as i64 - 8)
    };
    let bar_h = (bottom - top).max(1);
    for y in top..bottom {
        // Row y shows the band at fraction t from the bottom.
        let t = (bottom - 1 - y) as f64 / bar_h as f64;
        let band = ((t * scale.bands as f64) as usize).min(scale.bands - 1);
        c.rect(bar_x, y, bar_w, 1, scale.band_color(band));
    }
    if bar_only {
        return c;
    }
    let text_x = bar_x + bar_w + 4;
    if let Some(u) = units {
        c.text(2, 4, u, black);
    }
    for (t, y) in [(1.0, top), (0.5, top + bar_h / 2 - 4), (0.0, bottom - 8)] {
        c.text(text_x, y, &label(scale.value_at(t)), black);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wms::style::OutOfRange;

    #[test]
    fn labels() {
        assert_eq!(label(250.0), "250");
        assert_eq!(label(285.5), "285.5");
        assert_eq!(label(0.00012), "1.20e-4");
        assert_eq!(label(-3.25), "-3.25");
    }

    #[test]
    fn bar_has_the_end_colours_at_the_ends() {
        let s = ColorScale::new(
            "viridis",
            0.0,
            1.0,
            false,
            10,
            OutOfRange::Extend,
            OutOfRange::Extend,
        );
        let c = draw(&s, Some("K"), 20, 100, true);
        let px = |y: usize| &c.rgba[(y * 20) * 4..(y * 20) * 4 + 4];
        assert_eq!(px(0), s.band_color(9));
        assert_eq!(px(99), s.band_color(0));
        let full = draw(&s, Some("K"), DEFAULT_WIDTH, DEFAULT_HEIGHT, false);
        assert_eq!(
            full.rgba.len(),
            (DEFAULT_WIDTH * DEFAULT_HEIGHT * 4) as usize
        );
    }
}
