//! Request parameters: case-insensitive names, `+` as space, percent-decoding, and the
//! parsing of the values every operation shares.

use std::collections::HashMap;

use super::error::WmsError;

/// The query parameters of one request, keyed by upper-case name.
#[derive(Debug, Clone, Default)]
pub struct Params {
    map: HashMap<String, String>,
}

impl Params {
    pub fn parse(query: Option<&str>) -> Params {
        let mut map = HashMap::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (decode(k), decode(v));
            // The first occurrence wins, as most servers do.
            map.entry(k.trim().to_ascii_uppercase())
                .or_insert_with(|| v.trim().to_string());
        }
        Params { map }
    }

    /// Sets `name` (upper-case) to `value`, replacing any given value.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.map.insert(name.to_string(), value.into());
    }

    /// A stable text of all parameters, for cache keys.
    pub fn canonical(&self) -> String {
        let mut pairs: Vec<_> = self.map.iter().collect();
        pairs.sort();
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The value of `name` (upper-case), if given (possibly empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// The value of `name`, absent when empty.
    /// The version of an operation other than GetCapabilities: VERSION if given,
    /// else 1.1.1 when the request uses 1.1.1's `SRS`, else 1.3.0.
    pub fn version(&self) -> super::Version {
        use super::Version;
        match self
            .non_empty("VERSION")
            .or_else(|| self.non_empty("WMTVER"))
        {
            Some(v) => Version::negotiate(Some(v)),
            None if self.non_empty("SRS").is_some() && self.non_empty("CRS").is_none() => {
                Version::V111
            }
            None => Version::V130,
        }
    }

    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, WmsError> {
        self.non_empty(name)
            .ok_or_else(|| WmsError::missing(&format!("missing parameter {name}")))
    }

    /// A boolean such as `TRANSPARENT=TRUE` (any case; `1`/`0`, `yes`/`no` too).
    pub fn flag(&self, name: &str) -> Result<Option<bool>, WmsError> {
        let Some(v) = self.non_empty(name) else {
            return Ok(None);
        };
        match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Some(true)),
            "false" | "0" | "no" | "off" => Ok(Some(false)),
            _ => Err(WmsError::invalid(&format!(
                "{name}={v} is not TRUE or FALSE"
            ))),
        }
    }

    /// A positive pixel count.
    pub fn dimension(&self, name: &str, max: u32) -> Result<u32, WmsError> {
        let v = self.required(name)?;
        let n: u32 = v
            .parse()
            .map_err(|_| WmsError::invalid(&format!("{name}={v} is not a positive integer")))?;
        if n == 0 {
            return Err(WmsError::invalid(&format!("{name} must be positive")));
        }
        if n > max {
            return Err(WmsError::too_large(&format!(
                "{name}={n} exceeds the limit of {max} pixels"
            )));
        }
        Ok(n)
    }

    /// A comma-separated list (an empty or missing value gives an empty list).
    pub fn list(&self, name: &str) -> Vec<String> {
        match self.non_empty(name) {
            Some(v) => v.split(',').map(|s| s.trim().to_string()).collect(),
            None => Vec::new(),
        }
    }
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Parses four comma-separated numbers.
pub fn parse_bbox(v: &str) -> Result<[f64; 4], WmsError> {
    let nums: Vec<f64> = v
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| WmsError::invalid(&format!("BBOX={v} is not four numbers")))?;
    let b: [f64; 4] = nums
        .try_into()
        .map_err(|_| WmsError::invalid(&format!("BBOX={v} is not four numbers")))?;
    if b.iter().any(|x| !x.is_finite()) {
        return Err(WmsError::invalid(&format!("BBOX={v} is not finite")));
    }
    if b[0] >= b[2] || b[1] >= b[3] {
        return Err(WmsError::invalid(&format!(
            "BBOX={v}: minimum must be below maximum on both axes"
        )));
    }
    Ok(b)
}

/// A colour: `0xRRGGBB`, `0xAARRGGBB`, `#RRGGBB`, `RRGGBB`; alpha 255 unless given.
pub fn parse_color(v: &str) -> Option<[u8; 4]> {
    let hex = v
        .strip_prefix("0x")
        .or_else(|| v.strip_prefix("0X"))
        .or_else(|| v.strip_prefix('#'))
        .unwrap_or(v);
    let n = u32::from_str_radix(hex, 16).ok()?;
    match hex.len() {
        6 => Some([(n >> 16) as u8, (n >> 8) as u8, n as u8, 255]),
        8 => Some([(n >> 16) as u8, (n >> 8) as u8, n as u8, (n >> 24) as u8]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_names_and_values() {
        let p = Params::parse(Some(
            "service=WMS&Request=GetMap&layers=a%2Fb&STYLES=&time=2000-01-01T00:00:00Z&x+y=1+2",
        ));
        assert_eq!(p.get("REQUEST"), Some("GetMap"));
        assert_eq!(p.get("LAYERS"), Some("a/b"));
        assert_eq!(p.get("STYLES"), Some(""));
        assert_eq!(p.non_empty("STYLES"), None);
        assert_eq!(p.get("X Y"), Some("1 2"));
        assert!(p.required("BBOX").is_err());
        let p = Params::parse(Some("transparent=true&w=10&h=0&big=99999"));
        assert_eq!(p.flag("TRANSPARENT").unwrap(), Some(true));
        assert_eq!(p.dimension("W", 100).unwrap(), 10);
        assert!(p.dimension("H", 100).is_err());
        assert!(p.dimension("BIG", 100).is_err());
    }

    #[test]
    fn bbox_and_colours() {
        assert_eq!(
            parse_bbox("-180,-90,180,90").unwrap(),
            [-180.0, -90.0, 180.0, 90.0]
        );
        assert!(parse_bbox("1,2,1,3").is_err());
        assert!(parse_bbox("1,2,3").is_err());
        assert!(parse_bbox("a,b,c,d").is_err());
        assert_eq!(parse_color("0xFF0000"), Some([255, 0, 0, 255]));
        assert_eq!(parse_color("#00ff00"), Some([0, 255, 0, 255]));
        assert_eq!(parse_color("0x800000FF"), Some([0, 0, 255, 128]));
        assert_eq!(parse_color("red"), None);
    }
}
