//! DAP2 constraint expressions: parsing the query string into projections.
//!
//! Grammar (DAP2 §4.7, projections only; selections apply to Sequences, which datagate
//! never serves):
//! ```text
//! ce         := projection? ('&' selection)*
//! projection := path (',' path)*
//! path       := component ('.' component)*
//! component  := name ('[' index ']')*
//! index      := int | int ':' int | int ':' int ':' int     (start[:stride]:stop, stop included)
//! ```
//! The query arrives percent-encoded; it is decoded once here. Names keep their own
//! `%XX` escapes (as the DDS writes them), compared against escaped names later.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CeError {
    #[error("malformed constraint expression at character {pos}: {message}")]
    Syntax { pos: usize, message: String },
    #[error("selection clauses (&{0}) apply only to Sequences, and this dataset has none")]
    Selection(String),
    #[error("server functions are not supported: {0}")]
    Function(String),
    #[error("the constraint expression is not valid UTF-8 once percent-decoded")]
    Encoding,
}

/// One index range as written: `[start]`, `[start:stop]`, `[start:stride:stop]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexRange {
    pub start: usize,
    pub stride: usize,
    /// `None` for `[start]` alone.
    pub stop: Option<usize>,
}

impl IndexRange {
    pub fn stop_or_start(&self) -> usize {
        self.stop.unwrap_or(self.start)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// The name as written (DDS-escaped form).
    pub name: String,
    pub ranges: Vec<IndexRange>,
}

/// A parsed constraint: the projected paths (empty = everything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Constraint {
    pub projections: Vec<Vec<Component>>,
}

/// Parses a raw (percent-encoded) query string.
pub fn parse(raw_query: Option<&str>) -> Result<Constraint, CeError> {
    let Some(raw) = raw_query else {
        return Ok(Constraint::default());
    };
    // `+` is not a space in DAP2 constraints; decode `%XX` only.
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| CeError::Encoding)?;
    parse_decoded(&decoded)
}

pub fn parse_decoded(ce: &str) -> Result<Constraint, CeError> {
    let mut parts = ce.splitn(2, '&');
    let projection = parts.next().unwrap_or("");
    if let Some(rest) = parts.next() {
        let first = rest.split('&').find(|s| !s.trim().is_empty());
        if let Some(sel) = first {
            return Err(CeError::Selection(sel.to_string()));
        }
    }
    let mut p = Parser {
        s: projection.as_bytes(),
        pos: 0,
    };
    p.skip_ws();
    let mut projections = Vec::new();
    if p.at_end() {
        return Ok(Constraint { projections });
    }
    loop {
        projections.push(p.path()?);
        p.skip_ws();
        if p.at_end() {
            break;
        }
        p.expect(b',')?;
        p.skip_ws();
    }
    Ok(Constraint { projections })
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, CeError> {
        Err(CeError::Syntax {
            pos: self.pos,
            message: message.into(),
        })
    }

    fn expect(&mut self, c: u8) -> Result<(), CeError> {
        match self.peek() {
            Some(x) if x == c => {
                self.pos += 1;
                Ok(())
            }
            Some(x) => self.err(format!(
                "expected '{}', found '{}'",
                c as char,
                String::from_utf8_lossy(&self.s[self.pos..])
                    .chars()
                    .next()
                    .unwrap_or(x as char)
            )),
            None => self.err(format!("expected '{}' at the end", c as char)),
        }
    }

    fn path(&mut self) -> Result<Vec<Component>, CeError> {
        let mut out = vec![self.component()?];
        while self.peek() == Some(b'.') {
            self.pos += 1;
            out.push(self.component()?);
        }
        Ok(out)
    }

    fn component(&mut self) -> Result<Component, CeError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if matches!(
                c,
                b'.' | b'[' | b']' | b',' | b'&' | b'(' | b')' | b' ' | b'\t' | b':' | b'"'
            ) || matches!(c, b'<' | b'>' | b'=' | b'!' | b'{' | b'}')
            {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            return match self.peek() {
                Some(c) => self.err(format!("expected a variable name, found '{}'", c as char)),
                None => self.err("expected a variable name at the end"),
            };
        }
        let name = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
        if self.peek() == Some(b'(') {
            return Err(CeError::Function(name));
        }
        let mut ranges = Vec::new();
        while self.peek() == Some(b'[') {
            self.pos += 1;
            ranges.push(self.range()?);
        }
        Ok(Component { name, ranges })
    }

    fn range(&mut self) -> Result<IndexRange, CeError> {
        self.skip_ws();
        let mut nums = vec![self.number()?];
        self.skip_ws();
        while self.peek() == Some(b':') {
            self.pos += 1;
            self.skip_ws();
            nums.push(self.number()?);
            self.skip_ws();
        }
        self.expect(b']')?;
        Ok(match nums[..] {
            [start] => IndexRange {
                start,
                stride: 1,
                stop: None,
            },
            [start, stop] => IndexRange {
                start,
                stride: 1,
                stop: Some(stop),
            },
            [start, stride, stop] => IndexRange {
                start,
                stride,
                stop: Some(stop),
            },
            _ => {
                return self.err(format!(
                    "an index range has at most 3 parts (start:stride:stop), found {}",
                    nums.len()
                ));
            }
        })
    }

    fn number(&mut self) -> Result<usize, CeError> {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        if self.pos == start {
            return match self.peek() {
                Some(b'-') => self.err("negative indices are not allowed"),
                Some(c) => self.err(format!(
                    "expected a non-negative integer index, found '{}'",
                    c as char
                )),
                None => self.err("expected an index at the end"),
            };
        }
        std::str::from_utf8(&self.s[start..self.pos])
            .ok()
            .and_then(|t| t.parse().ok())
            .map_or_else(|| self.err("index too large"), Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: usize, stride: usize, stop: Option<usize>) -> IndexRange {
        IndexRange {
            start,
            stride,
            stop,
        }
    }

    fn one(ce: &str) -> Vec<Component> {
        let c = parse(Some(ce)).unwrap();
        assert_eq!(c.projections.len(), 1, "{ce}");
        c.projections[0].clone()
    }

    #[test]
    fn every_hyperslab_form() {
        assert_eq!(parse(None).unwrap().projections.len(), 0);
        assert_eq!(parse(Some("")).unwrap().projections.len(), 0);
        assert_eq!(one("sst")[0].ranges, vec![]);
        assert_eq!(one("sst[2]")[0].ranges, vec![r(2, 1, None)]);
        assert_eq!(one("sst[2:5]")[0].ranges, vec![r(2, 1, Some(5))]);
        assert_eq!(one("sst[2:3:11]")[0].ranges, vec![r(2, 3, Some(11))]);
        assert_eq!(
            one("sst[0:1:0][3:7][1:2:9]")[0].ranges,
            vec![r(0, 1, Some(0)), r(3, 1, Some(7)), r(1, 2, Some(9))]
        );
        assert_eq!(one("sst[ 1 : 2 ]")[0].ranges, vec![r(1, 1, Some(2))]);
        let g = one("sst.lat[1:2]");
        assert_eq!((g[0].name.as_str(), g[1].name.as_str()), ("sst", "lat"));
        assert_eq!(g[1].ranges, vec![r(1, 1, Some(2))]);
        let many = parse(Some("a,b[1],c.d")).unwrap();
        assert_eq!(many.projections.len(), 3);
    }

    #[test]
    fn percent_encoded_forms() {
        assert_eq!(
            one("sst%5B0:1:0%5D%5B2%3A3%5D")[0].ranges,
            vec![r(0, 1, Some(0)), r(2, 1, Some(3))]
        );
        assert_eq!(parse(Some("a%2Cb")).unwrap().projections.len(), 2);
        // A name's own escape survives one decoding.
        assert_eq!(one("my%2520var")[0].name, "my%20var");
        assert_eq!(parse(Some("%FF")), Err(CeError::Encoding));
    }

    #[test]
    fn malformed_forms() {
        for bad in [
            "sst[",
            "sst[]",
            "sst[1",
            "sst[1:]",
            "sst[:1]",
            "sst[a]",
            "sst[-1]",
            "sst[1:2:3:4]",
            "sst]",
            "sst[1]]",
            ",sst",
            "sst,",
            "sst,,lat",
            "sst..lat",
            ".sst",
            "sst.",
            "sst[1][",
            "sst[1.5]",
            "sst[99999999999999999999999]",
            "sst lat",
            "sst[1]x",
            "sst:1",
            "\"sst\"",
        ] {
            assert!(
                matches!(parse_decoded(bad), Err(CeError::Syntax { .. })),
                "{bad:?} -> {:?}",
                parse_decoded(bad)
            );
        }
        assert!(matches!(
            parse_decoded("sst&sst>3"),
            Err(CeError::Selection(_))
        ));
        assert!(matches!(
            parse_decoded("&lat<4"),
            Err(CeError::Selection(_))
        ));
        assert!(parse_decoded("sst&").is_ok());
        assert!(matches!(
            parse_decoded("geogrid(sst,1,2,3,4)"),
            Err(CeError::Function(_))
        ));
    }

    #[test]
    fn indices_at_the_type_extremes() {
        // Every u64 parses (bounds are checked against the dimension later, as usize);
        // one more is a syntax error, never a wrap.
        for n in [1u64 << 63, u64::MAX, (1 << 31) - 1] {
            let ce = format!("lat[0:{n}:{n}]");
            assert_eq!(one(&ce)[0].ranges, vec![r(0, n as usize, Some(n as usize))]);
        }
        for bad in [
            "lat[18446744073709551616]",
            "lat[0:18446744073709551616:1]",
            "lat[0:1:18446744073709551616]",
            "lat[-9223372036854775808]",
            "lat[0:-1:3]",
            "lat[]",
        ] {
            assert!(
                matches!(parse_decoded(bad), Err(CeError::Syntax { .. })),
                "{bad:?} -> {:?}",
                parse_decoded(bad)
            );
        }
        // Start after stop parses; `select` refuses it against the dimension.
        assert_eq!(one("lat[5:1:2]")[0].ranges, vec![r(5, 1, Some(2))]);
    }
}
