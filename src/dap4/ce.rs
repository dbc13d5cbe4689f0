//! The DAP4 query: `dap4.ce` constraint expressions and `dap4.checksum`.
//!
//! A constraint is a `;`-separated list of clauses: variable projections with optional
//! index subsets (`/group/var[start:stride:stop][i][]`) and dimension subsets
//! (`/dim=[start:stop]`) that apply to every projected variable using that dimension.
//! Stops are inclusive, as in DAP2. Filters (`|`) and field lists in braces (`{}`) are
//! not served; a structure's fields are projected as `/var.field` (`selection`).

use percent_encoding::percent_decode_str;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CeError {
    #[error("dap4.ce: {0}")]
    Syntax(String),
    #[error("dap4.ce: filters (`|`) are not supported")]
    Filter,
    #[error("dap4.ce: structure fields (`{{...}}`) are not supported")]
    Fields,
    #[error("dap4.checksum must be true or false, not {0:?}")]
    Checksum(String),
    #[error("the query is not valid UTF-8 after percent-decoding")]
    Encoding,
}

/// One `[...]` subset. `stop` is inclusive; `None` means "to the last index".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub start: usize,
    pub stride: usize,
    pub stop: Option<usize>,
}

impl Slice {
    pub const ALL: Slice = Slice {
        start: 0,
        stride: 1,
        stop: None,
    };
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// `/dim=[slice]`
    Dimension { path: String, slice: Slice },
    /// `/group/var[slice]...` (fewer subsets than dimensions: the rest are whole).
    Variable { path: String, slices: Vec<Slice> },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Constraint {
    pub clauses: Vec<Clause>,
}

/// What a DAP4 request asks for besides the resource.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub ce: Option<Constraint>,
    pub checksum: bool,
}

fn decode(s: &str) -> Result<String, CeError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| CeError::Encoding)
}

/// Percent-decodes until nothing is left to decode (at most a few rounds): netCDF-C
/// 4.9 encodes the constraint three times (`[` arrives as `%25255b`).
fn decode_fully(s: &str) -> Result<String, CeError> {
    let mut out = decode(s)?;
    for _ in 0..4 {
        let again = decode(&out)?;
        if again == out {
            break;
        }
        out = again;
    }
    Ok(out)
}

/// Parses the raw (percent-encoded) query string of a DAP4 request. Parameters other
/// than `dap4.ce` and `dap4.checksum` are ignored.
pub fn parse_query(raw: Option<&str>) -> Result<Query, CeError> {
    let mut q = Query::default();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match decode(key)?.as_str() {
            "dap4.ce" => {
                let ce = decode_fully(value)?;
                q.ce = if ce.trim().is_empty() {
                    None
                } else {
                    Some(parse_ce(&ce)?)
                };
            }
            "dap4.checksum" => {
                q.checksum = match decode(value)?.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    other => return Err(CeError::Checksum(other.to_string())),
                };
            }
            _ => {}
        }
    }
    Ok(q)
}

/// Parses a decoded constraint expression.
pub fn parse_ce(ce: &str) -> Result<Constraint, CeError> {
    let mut clauses = Vec::new();
    for text in split_unescaped(ce, ';') {
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        clauses.push(parse_clause(text)?);
    }
    if clauses.is_empty() {
        return Err(CeError::Syntax("empty constraint".into()));
    }
    Ok(Constraint { clauses })
}

/// Splits on `sep` except where it is backslash-escaped.
fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut escaped) = (0, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out
}

fn parse_clause(text: &str) -> Result<Clause, CeError> {
    let (name, rest) = take_name(text)?;
    let rest = rest.trim_start();
    if let Some(subset) = rest.strip_prefix('=') {
        let (slices, tail) = parse_subsets(subset.trim_start())?;
        if slices.len() != 1 || !tail.trim().is_empty() {
            return Err(CeError::Syntax(format!(
                "dimension subset {text:?} must be `/dim=[start:stride:stop]`"
            )));
        }
        return Ok(Clause::Dimension {
            path: name,
            slice: slices[0],
        });
    }
    let (slices, tail) = parse_subsets(rest)?;
    let tail = tail.trim();
    if tail.starts_with('|') {
        return Err(CeError::Filter);
    }
    if tail.starts_with('{') {
        return Err(CeError::Fields);
    }
    if !tail.is_empty() {
        return Err(CeError::Syntax(format!("unexpected {tail:?} in {text:?}")));
    }
    Ok(Clause::Variable { path: name, slices })
}

/// Reads a (possibly backslash-escaped, possibly `%`-encoded) fully qualified name up to
/// the first unescaped `[`, `=`, `|` or `{`; returns it with a leading `/`.
fn take_name(text: &str) -> Result<(String, &str), CeError> {
    let mut name = String::new();
    let mut escaped = false;
    let mut end = text.len();
    for (i, c) in text.char_indices() {
        if escaped {
            // Keep the escape so `/` and `.` inside names survive the path split.
            name.push('\\');
            name.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' | '=' | '|' | '{' => {
                end = i;
                break;
            }
            ']' | '}' | ':' | ',' => {
                return Err(CeError::Syntax(format!("unexpected {c:?} in {text:?}")));
            }
            c => name.push(c),
        }
    }
    if escaped {
        return Err(CeError::Syntax(format!("dangling `\\` in {text:?}")));
    }
    let name = name.trim();
    // Names may be %-encoded a second time (`%20` for a space in a name).
    let name = decode(name)?;
    let name = name.trim_end_matches('/');
    if name.is_empty() || name == "/" {
        return Err(CeError::Syntax(format!("missing name in {text:?}")));
    }
    let path = if name.starts_with('/') {
        name.to_string()
    } else {
        format!("/{name}")
    };
    if path.contains("//") {
        return Err(CeError::Syntax(format!("empty path segment in {path:?}")));
    }
    Ok((unescape_path(&path), &text[end..]))
}

/// Removes DAP4 backslash escapes (`\.` → `.`); an escaped `/` cannot be part of a
/// model path, so it stays distinguishable as `\/` and will simply not resolve.
fn unescape_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('/') => out.push_str("\\/"),
                Some(n) => out.push(n),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses consecutive `[...]` subsets; returns them and what follows.
fn parse_subsets(mut text: &str) -> Result<(Vec<Slice>, &str), CeError> {
    let mut slices = Vec::new();
    loop {
        let t = text.trim_start();
        let Some(inner) = t.strip_prefix('[') else {
            return Ok((slices, t));
        };
        let close = inner
            .find(']')
            .ok_or_else(|| CeError::Syntax(format!("missing `]` in {t:?}")))?;
        slices.push(parse_slice(&inner[..close])?);
        text = &inner[close + 1..];
    }
}

fn number(s: &str, what: &str, whole: &str) -> Result<usize, CeError> {
    let s = s.trim();
    s.parse::<usize>().map_err(|_| {
        CeError::Syntax(format!(
            "{what} {s:?} in [{whole}] is not a non-negative integer"
        ))
    })
}

fn parse_slice(inner: &str) -> Result<Slice, CeError> {
    let parts: Vec<&str> = inner.split(':').collect();
    let slice = match parts.as_slice() {
        [only] if only.trim().is_empty() => Slice::ALL,
        [index] => {
            let i = number(index, "index", inner)?;
            Slice {
                start: i,
                stride: 1,
                stop: Some(i),
            }
        }
        [start, stop] => Slice {
            start: number(start, "start", inner)?,
            stride: 1,
            stop: open_stop(stop, inner)?,
        },
        [start, stride, stop] => Slice {
            start: number(start, "start", inner)?,
            stride: number(stride, "stride", inner)?,
            stop: open_stop(stop, inner)?,
        },
        _ => return Err(CeError::Syntax(format!("bad subset [{inner}]"))),
    };
    if slice.stride == 0 {
        return Err(CeError::Syntax(format!("stride 0 in [{inner}]")));
    }
    if let Some(stop) = slice.stop
        && stop < slice.start
    {
        return Err(CeError::Syntax(format!("start after stop in [{inner}]")));
    }
    Ok(slice)
}

fn open_stop(s: &str, whole: &str) -> Result<Option<usize>, CeError> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        number(s, "stop", whole).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(path: &str, slices: Vec<Slice>) -> Clause {
        Clause::Variable {
            path: path.into(),
            slices,
        }
    }

    fn s(start: usize, stride: usize, stop: Option<usize>) -> Slice {
        Slice {
            start,
            stride,
            stop,
        }
    }

    #[test]
    fn projections_and_subsets() {
        let c = parse_ce("/sst[0:1:2][3][];lat; /g/sub/v[1:4] ;/t[2:]").unwrap();
        assert_eq!(
            c.clauses,
            vec![
                var("/sst", vec![s(0, 1, Some(2)), s(3, 1, Some(3)), Slice::ALL]),
                var("/lat", vec![]),
                var("/g/sub/v", vec![s(1, 1, Some(4))]),
                var("/t", vec![s(2, 1, None)]),
            ]
        );
        let c = parse_ce("/lat=[0:2:8];/sst").unwrap();
        assert_eq!(
            c.clauses[0],
            Clause::Dimension {
                path: "/lat".into(),
                slice: s(0, 2, Some(8))
            }
        );
    }

    #[test]
    fn query_is_percent_decoded_once_and_names_twice() {
        let q = parse_query(Some(
            "dap4.ce=%2Fforecast%2Ftemp%5B0%3A1%5D%3B%2Fa%2520b&dap4.checksum=true&x=1",
        ))
        .unwrap();
        assert!(q.checksum);
        assert_eq!(
            q.ce.unwrap().clauses,
            vec![
                var("/forecast/temp", vec![s(0, 1, Some(1))]),
                var("/a b", vec![])
            ]
        );
        let q = parse_query(Some("dap4.checksum=FALSE")).unwrap();
        assert_eq!(q, Query::default());
        assert_eq!(parse_query(None).unwrap(), Query::default());
        assert_eq!(parse_query(Some("dap4.ce=")).unwrap().ce, None);
        // netCDF-C 4.9 encodes three times.
        assert_eq!(
            parse_query(Some("dap4.ce=/lat=%25255b0:4%25255d;/sst%25255b1%25255d"))
                .unwrap()
                .ce
                .unwrap()
                .clauses,
            vec![
                Clause::Dimension {
                    path: "/lat".into(),
                    slice: s(0, 1, Some(4))
                },
                var("/sst", vec![s(1, 1, Some(1))])
            ]
        );
        assert_eq!(
            parse_query(Some("dap4.ce=%2Fa%5Cb%5C.c"))
                .unwrap()
                .ce
                .unwrap()
                .clauses,
            vec![var("/ab.c", vec![])]
        );
    }

    #[test]
    fn malformed_inputs_are_errors() {
        for bad in [
            "/sst[0:1:2",
            "/sst[a]",
            "/sst[-1]",
            "/sst[0:0:3]",
            "/sst[5:2]",
            "/sst[1:2:3:4]",
            "/sst]",
            "/sst[0]x",
            "/lat=",
            "/lat=[0:1][2]",
            "/lat=0:3",
            "[0:1]",
            "/",
            ";;",
            "/a//b",
            "/sst\\",
        ] {
            assert!(
                matches!(parse_ce(bad), Err(CeError::Syntax(_))),
                "{bad:?} -> {:?}",
                parse_ce(bad)
            );
        }
        assert_eq!(parse_ce("/seq|x>1"), Err(CeError::Filter));
        assert_eq!(parse_ce("/s{a;b}").unwrap_err(), CeError::Fields);
        assert!(matches!(
            parse_query(Some("dap4.checksum=maybe")),
            Err(CeError::Checksum(_))
        ));
        assert_eq!(parse_query(Some("dap4.ce=%FF%FE")), Err(CeError::Encoding));
    }

    #[test]
    fn indices_at_the_type_extremes() {
        for n in [1usize << 63, usize::MAX, (1 << 31) - 1] {
            let c = parse_ce(&format!("/lat[0:{n}:{n}]")).unwrap();
            assert_eq!(c.clauses, vec![var("/lat", vec![s(0, n, Some(n))])]);
        }
        for bad in [
            "/lat[18446744073709551616]",
            "/lat[0:18446744073709551616:]",
            "/lat[-9223372036854775808]",
            "/lat[0:-1:3]",
            "/lat[5:1:2]",
            "/lat[18446744073709551615:1:0]",
        ] {
            assert!(
                matches!(parse_ce(bad), Err(CeError::Syntax(_))),
                "{bad:?} -> {:?}",
                parse_ce(bad)
            );
        }
        // `[]` is the whole dimension in DAP4.
        assert_eq!(
            parse_ce("/lat[]").unwrap().clauses,
            vec![var("/lat", vec![Slice::ALL])]
        );
    }
}
