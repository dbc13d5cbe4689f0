//! Styles: palettes (from `colorous`) and the colour scale that maps a value to a
//! colour: range, log scale, number of bands, colours above and below the range.
//! Parameter names follow ncWMS (COLORSCALERANGE, NUMCOLORBANDS, LOGSCALE,
//! ABOVEMAXCOLOR, BELOWMINCOLOR) since Godiva and many portals send them.

use super::error::{ExceptionCode, WmsError};
use super::params::{Params, parse_color};

/// Palettes offered as styles `default-scalar/{name}`.
pub const PALETTES: &[(&str, colorous::Gradient)] = &[
    ("viridis", colorous::VIRIDIS),
    ("plasma", colorous::PLASMA),
    ("inferno", colorous::INFERNO),
    ("magma", colorous::MAGMA),
    ("cividis", colorous::CIVIDIS),
    ("turbo", colorous::TURBO),
    ("rdbu", colorous::RED_BLUE),
    ("spectral", colorous::SPECTRAL),
    ("blues", colorous::BLUES),
    ("greys", colorous::GREYS),
];

/// Most colour bands a request may ask for.
pub const MAX_BANDS: usize = 250;

pub const STYLE_PREFIX: &str = "default-scalar/";

/// The style name of a palette.
pub fn style_name(palette: &str) -> String {
    format!("{STYLE_PREFIX}{palette}")
}

fn palette(name: &str) -> Option<(&'static str, colorous::Gradient)> {
    PALETTES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .copied()
}

/// The palette of a style name (`default-scalar/viridis`, `viridis`, or empty =
/// `default`).
pub fn palette_of_style(style: &str, default: &str) -> Result<&'static str, WmsError> {
    let s = style.trim();
    let name = s.strip_prefix(STYLE_PREFIX).unwrap_or(s);
    let name = if name.is_empty() || name.eq_ignore_ascii_case("default") {
        default
    } else {
        name
    };
    palette(name).map(|(n, _)| n).ok_or_else(|| {
        WmsError::new(
            ExceptionCode::StyleNotDefined,
            format!("no style {style:?}"),
        )
    })
}

/// What happens to values outside the colour range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutOfRange {
    /// The end colour of the palette.
    Extend,
    Transparent,
    Color([u8; 4]),
}

impl OutOfRange {
    fn parse(v: Option<&str>, name: &str) -> Result<OutOfRange, WmsError> {
        let Some(v) = v else {
            return Ok(OutOfRange::Extend);
        };
        match v.to_ascii_lowercase().as_str() {
            "extend" => Ok(OutOfRange::Extend),
            "transparent" => Ok(OutOfRange::Transparent),
            _ => parse_color(v)
                .map(OutOfRange::Color)
                .ok_or_else(|| WmsError::invalid(&format!("{name}={v} is not a colour"))),
        }
    }
}

/// Maps values to colours.
#[derive(Debug, Clone)]
pub struct ColorScale {
    pub palette: &'static str,
    pub min: f64,
    pub max: f64,
    pub log: bool,
    pub bands: usize,
    pub above: OutOfRange,
    pub below: OutOfRange,
    /// One colour per band.
    lut: Vec<[u8; 4]>,
    // Precomputed for `color`: value → band index.
    lo: f64,
    inv_span: f64,
}

/// The style parameters of a request, before the data's default range is known.
#[derive(Debug, Clone, PartialEq)]
pub struct StyleRequest {
    pub palette: &'static str,
    pub range: Option<(f64, f64)>,
    pub log: bool,
    pub bands: usize,
    pub above: OutOfRange,
    pub below: OutOfRange,
}

impl StyleRequest {
    /// Reads the ncWMS styling parameters; `style` is this layer's entry of STYLES.
    pub fn from_params(
        p: &Params,
        style: &str,
        default_palette: &str,
    ) -> Result<StyleRequest, WmsError> {
        let mut palette = palette_of_style(style, default_palette)?;
        // ncWMS' PALETTE parameter overrides the style's palette.
        if let Some(name) = p.non_empty("PALETTE") {
            palette = palette_of_style(name, default_palette)?;
        }
        let range = match p.non_empty("COLORSCALERANGE") {
            None => None,
            Some(v) if v.eq_ignore_ascii_case("default") || v.eq_ignore_ascii_case("auto") => None,
            Some(v) => {
                let nums: Vec<f64> = v
                    .split(',')
                    .map(|s| s.trim().parse::<f64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| {
                        WmsError::invalid(&format!("COLORSCALERANGE={v} is not min,max"))
                    })?;
                match nums[..] {
                    [a, b] if a.is_finite() && b.is_finite() && a < b => Some((a, b)),
                    _ => {
                        return Err(WmsError::invalid(&format!(
                            "COLORSCALERANGE={v}: need two numbers, min below max"
                        )));
                    }
                }
            }
        };
        let log = p.flag("LOGSCALE")?.unwrap_or(false);
        let bands = match p.non_empty("NUMCOLORBANDS") {
            None => MAX_BANDS,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (2..=MAX_BANDS).contains(n))
                .ok_or_else(|| {
                    WmsError::invalid(&format!("NUMCOLORBANDS={v} must be within 2..{MAX_BANDS}"))
                })?,
        };
        if log && range.is_some_and(|(a, _)| a <= 0.0) {
            return Err(WmsError::invalid(
                "LOGSCALE=true needs a positive COLORSCALERANGE minimum",
            ));
        }
        Ok(StyleRequest {
            palette,
            range,
            log,
            bands,
            above: OutOfRange::parse(p.non_empty("ABOVEMAXCOLOR"), "ABOVEMAXCOLOR")?,
            below: OutOfRange::parse(p.non_empty("BELOWMINCOLOR"), "BELOWMINCOLOR")?,
        })
    }

    /// The colour scale, with `default_range` where the request gave none.
    pub fn scale(&self, default_range: (f64, f64)) -> ColorScale {
        let (mut min, mut max) = self.range.unwrap_or(default_range);
        if self.log && min <= 0.0 {
            // A default range reaching zero: keep three decades below the maximum.
            min = if max > 0.0 { max * 1e-3 } else { 1e-3 };
            max = max.max(min * 10.0);
        }
        ColorScale::new(
            self.palette,
            min,
            max,
            self.log,
            self.bands,
            self.above,
            self.below,
        )
    }
}

impl ColorScale {
    pub fn new(
        palette_name: &str,
        min: f64,
        max: f64,
        log: bool,
        bands: usize,
        above: OutOfRange,
        below: OutOfRange,
    ) -> ColorScale {
        let (name, gradient) = palette(palette_name).unwrap_or(PALETTES[0]);
        let bands = bands.clamp(2, MAX_BANDS);
        let lut = (0..bands)
            .map(|b| {
                let c = gradient.eval_rational(b, bands);
                [c.r, c.g, c.b, 255]
            })
            .collect();
        let (lo, hi) = if log {
            (min.ln(), max.ln())
        } else {
            (min, max)
        };
        let span = hi - lo;
        ColorScale {
            palette: name,
            min,
            max,
            log,
            bands,
            above,
            below,
            lut,
            lo,
            inv_span: if span > 0.0 { 1.0 / span } else { 0.0 },
        }
    }

    /// The colour of a value; fully transparent for NaN (missing data).
    #[inline]
    pub fn color(&self, v: f32) -> [u8; 4] {
        if v.is_nan() {
            return [0, 0, 0, 0];
        }
        let v = v as f64;
        if v < self.min {
            return self.outside(self.below, 0);
        }
        if v > self.max {
            return self.outside(self.above, self.bands - 1);
        }
        let x = if self.log { v.ln() } else { v };
        let t = (x - self.lo) * self.inv_span;
        let band = ((t * self.bands as f64) as usize).min(self.bands - 1);
        self.lut[band]
    }

    fn outside(&self, how: OutOfRange, end: usize) -> [u8; 4] {
        match how {
            OutOfRange::Extend => self.lut[end],
            OutOfRange::Transparent => [0, 0, 0, 0],
            OutOfRange::Color(c) => c,
        }
    }

    /// The colour of band `b` of `self.bands`.
    pub fn band_color(&self, b: usize) -> [u8; 4] {
        self.lut[b.min(self.bands - 1)]
    }

    /// The value at fraction `t` (0..1) of the scale.
    pub fn value_at(&self, t: f64) -> f64 {
        if self.log {
            (self.lo + t / self.inv_span.max(f64::MIN_POSITIVE)).exp()
        } else {
            self.min + t * (self.max - self.min)
        }
    }
}

/// A robust default range: the 1st and 99th percentiles of the finite values.
pub fn robust_range(values: &mut Vec<f32>) -> Option<(f64, f64)> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return None;
    }
    let n = values.len();
    let pick = |values: &mut Vec<f32>, q: f64| {
        let k = ((n - 1) as f64 * q).round() as usize;
        *values.select_nth_unstable_by(k, f32::total_cmp).1 as f64
    };
    let lo = pick(values, 0.01);
    let hi = pick(values, 0.99);
    Some(if hi > lo {
        (lo, hi)
    } else {
        let pad = (lo.abs() * 0.01).max(1e-6);
        (lo - pad, hi + pad)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scale(bands: usize) -> ColorScale {
        ColorScale::new(
            "viridis",
            0.0,
            10.0,
            false,
            bands,
            OutOfRange::Extend,
            OutOfRange::Extend,
        )
    }

    #[test]
    fn maps_ends_bands_and_missing() {
        let s = scale(250);
        let first = colorous::VIRIDIS.eval_rational(0, 250);
        let last = colorous::VIRIDIS.eval_rational(249, 250);
        assert_eq!(s.color(0.0), [first.r, first.g, first.b, 255]);
        assert_eq!(s.color(10.0), [last.r, last.g, last.b, 255]);
        assert_eq!(s.color(-5.0), s.color(0.0));
        assert_eq!(s.color(50.0), s.color(10.0));
        assert_eq!(s.color(f32::NAN)[3], 0);
        // Two bands: everything below the middle has the first colour.
        let two = scale(2);
        assert_eq!(two.color(0.1), two.color(4.9));
        assert_ne!(two.color(4.9), two.color(5.1));
        assert_eq!(two.color(5.1), two.color(9.9));
    }

    #[test]
    fn out_of_range_colours_and_log() {
        let s = ColorScale::new(
            "rdbu",
            1.0,
            1000.0,
            true,
            3,
            OutOfRange::Color([255, 0, 0, 255]),
            OutOfRange::Transparent,
        );
        assert_eq!(s.color(2000.0), [255, 0, 0, 255]);
        assert_eq!(s.color(0.5)[3], 0);
        assert_eq!(s.color(-1.0)[3], 0);
        // Log scale: 1..10, 10..100, 100..1000 are the three bands.
        assert_eq!(s.color(2.0), s.color(9.0));
        assert_ne!(s.color(9.0), s.color(11.0));
        assert_eq!(s.color(11.0), s.color(99.0));
        assert!((s.value_at(0.5) - 31.6227766).abs() < 1e-6);
    }

    #[test]
    fn parses_ncwms_parameters() {
        let p = Params::parse(Some(
            "COLORSCALERANGE=250,320&NUMCOLORBANDS=20&ABOVEMAXCOLOR=0xFF0000&BELOWMINCOLOR=transparent",
        ));
        let r = StyleRequest::from_params(&p, "default-scalar/plasma", "viridis").unwrap();
        assert_eq!(r.palette, "plasma");
        assert_eq!(r.range, Some((250.0, 320.0)));
        assert_eq!(r.bands, 20);
        assert_eq!(r.above, OutOfRange::Color([255, 0, 0, 255]));
        assert_eq!(r.below, OutOfRange::Transparent);
        let d = StyleRequest::from_params(&Params::default(), "", "viridis").unwrap();
        assert_eq!(d.palette, "viridis");
        assert_eq!(d.bands, MAX_BANDS);
        let e = StyleRequest::from_params(&Params::default(), "nope", "viridis").unwrap_err();
        assert_eq!(e.code, Some(ExceptionCode::StyleNotDefined));
        for bad in [
            "COLORSCALERANGE=5,1",
            "COLORSCALERANGE=a,b",
            "NUMCOLORBANDS=1",
            "NUMCOLORBANDS=251",
            "LOGSCALE=true&COLORSCALERANGE=0,10",
            "ABOVEMAXCOLOR=bright",
        ] {
            assert!(
                StyleRequest::from_params(&Params::parse(Some(bad)), "", "viridis").is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn robust_range_ignores_outliers() {
        let mut v: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        v.push(1e30);
        v.push(f32::NAN);
        let (lo, hi) = robust_range(&mut v).unwrap();
        assert!(
            (lo - 10.0).abs() <= 1.0 && (hi - 990.0).abs() <= 1.0,
            "{lo} {hi}"
        );
        assert_eq!(robust_range(&mut vec![f32::NAN]), None);
        let (lo, hi) = robust_range(&mut vec![5.0; 10]).unwrap();
        assert!(lo < 5.0 && hi > 5.0);
    }
}
