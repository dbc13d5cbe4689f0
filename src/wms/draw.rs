//! A tiny raster toolkit for legends and image exceptions: filled rectangles and 8×8
//! bitmap text (ASCII; other characters drawn as `?`).

use font8x8::legacy::BASIC_LEGACY;

/// An RGBA canvas.
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl Canvas {
    pub fn new(width: u32, height: u32, fill: [u8; 4]) -> Canvas {
        let mut rgba = Vec::with_capacity(width as usize * height as usize * 4);
        for _ in 0..width as usize * height as usize {
            rgba.extend_from_slice(&fill);
        }
        Canvas {
            width,
            height,
            rgba,
        }
    }

    pub fn put(&mut self, x: i64, y: i64, c: [u8; 4]) {
        if x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height {
            let k = (y as usize * self.width as usize + x as usize) * 4;
            self.rgba[k..k + 4].copy_from_slice(&c);
        }
    }

    pub fn rect(&mut self, x: i64, y: i64, w: i64, h: i64, c: [u8; 4]) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.put(xx, yy, c);
            }
        }
    }

    /// Draws `text` with its top-left corner at (x, y); each glyph 8×8 pixels.
    pub fn text(&mut self, x: i64, y: i64, text: &str, c: [u8; 4]) {
        for (n, ch) in text.chars().enumerate() {
            let code = if ch.is_ascii() {
                ch as usize
            } else {
                b'?' as usize
            };
            let glyph = BASIC_LEGACY[code];
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits & (1 << col) != 0 {
                        self.put(x + n as i64 * 8 + col, y + row as i64, c);
                    }
                }
            }
        }
    }

    /// Draws text wrapped to the canvas width, from (x, y) down.
    pub fn wrapped_text(&mut self, x: i64, y: i64, text: &str, c: [u8; 4]) {
        let per_line = ((self.width as i64 - x) / 8).max(1) as usize;
        let chars: Vec<char> = text.chars().collect();
        for (k, line) in chars.chunks(per_line).enumerate() {
            let line: String = line.iter().collect();
            self.text(x, y + k as i64 * 10, &line, c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_glyphs_inside_the_canvas_only() {
        let mut c = Canvas::new(20, 10, [0, 0, 0, 0]);
        c.text(0, 0, "1", [255, 255, 255, 255]);
        c.text(16, 0, "MM", [255, 255, 255, 255]); // partly outside: no panic
        let lit = c.rgba.chunks_exact(4).filter(|p| p[3] == 255).count();
        assert!(lit > 5, "{lit}");
        c.rect(-5, -5, 100, 100, [1, 2, 3, 4]);
        assert!(c.rgba.chunks_exact(4).all(|p| p == [1, 2, 3, 4]));
    }
}
