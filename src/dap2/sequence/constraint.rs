//! DAP2 constraints on a Sequence (DAP2 §4.7): a projection of columns, then
//! selection clauses `&column op value` evaluated on the server, row by row.
//! Names may carry the sequence's name (`timeSeries.lat`, as pydap sends them).

use super::super::error::Dap2Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Eq => ord == Equal,
            Op::Ne => ord != Equal,
            Op::Lt => ord == Less,
            Op::Le => ord != Greater,
            Op::Gt => ord == Greater,
            Op::Ge => ord != Less,
        }
    }
}

/// A clause's right-hand side: a number, or a quoted string.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Num(f64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub column: String,
    pub op: Op,
    pub value: Operand,
}

/// The projected column names (empty: all) and the selection clauses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeqConstraint {
    pub projection: Vec<String>,
    pub clauses: Vec<Clause>,
}

fn bad(msg: impl Into<String>) -> Dap2Error {
    Dap2Error::BadRequest(msg.into())
}

/// Splits on `sep` outside double quotes.
fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let (mut out, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// A column name without the sequence prefix; the bare sequence name means all.
fn column<'a>(name: &'a str, sequence: &str) -> &'a str {
    let name = name.trim();
    name.strip_prefix(sequence)
        .and_then(|rest| rest.strip_prefix('.'))
        .unwrap_or(name)
}

fn operand(text: &str) -> Result<Operand, Dap2Error> {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        return Ok(Operand::Text(
            inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        ));
    }
    t.parse::<f64>().map(Operand::Num).map_err(|_| {
        bad(format!(
            "selection: {t:?} is neither a number nor a quoted string"
        ))
    })
}

fn clause(text: &str, sequence: &str) -> Result<Clause, Dap2Error> {
    // The first operator outside quotes; two-character operators first.
    let pos = text
        .find(['<', '>', '=', '!'])
        .ok_or_else(|| bad(format!("selection {text:?}: expected column<op>value")))?;
    let rest = &text[pos..];
    let (op, len) = if rest.starts_with("<=") {
        (Op::Le, 2)
    } else if rest.starts_with(">=") {
        (Op::Ge, 2)
    } else if rest.starts_with("!=") {
        (Op::Ne, 2)
    } else if rest.starts_with("=~") {
        return Err(bad("selection: regular expressions (=~) are not supported"));
    } else if rest.starts_with('<') {
        (Op::Lt, 1)
    } else if rest.starts_with('>') {
        (Op::Gt, 1)
    } else if rest.starts_with('=') {
        (Op::Eq, 1)
    } else {
        return Err(bad(format!("selection {text:?}: unknown operator")));
    };
    let name = column(&text[..pos], sequence);
    if name.is_empty() {
        return Err(bad(format!(
            "selection {text:?}: no column before the operator"
        )));
    }
    Ok(Clause {
        column: name.to_string(),
        op,
        value: operand(&rest[len..])?,
    })
}

/// Parses a raw (percent-encoded) query string for sequence `sequence`.
pub fn parse(raw_query: Option<&str>, sequence: &str) -> Result<SeqConstraint, Dap2Error> {
    let raw = raw_query.unwrap_or("");
    let ce = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| bad("the constraint expression is not valid UTF-8"))?;
    let mut parts = split_unquoted(&ce, '&').into_iter();
    let mut out = SeqConstraint::default();
    for name in parts.next().unwrap_or("").split(',') {
        let name = name.trim();
        if name.is_empty() || name == sequence {
            continue;
        }
        if name.contains('[') {
            return Err(bad(format!(
                "{name:?}: a Sequence has no index ranges; select rows with &column<op>value"
            )));
        }
        let c = column(name, sequence).to_string();
        if !out.projection.contains(&c) {
            out.projection.push(c);
        }
    }
    for part in parts {
        if !part.trim().is_empty() {
            out.clauses.push(clause(part.trim(), sequence)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projections_and_selections() {
        let c = parse(
            Some("timeSeries.time,lat,temp&time%3E=%222021-03-01%22&lat<40&name=\"a&b\""),
            "timeSeries",
        )
        .unwrap();
        assert_eq!(c.projection, ["time", "lat", "temp"]);
        assert_eq!(c.clauses.len(), 3);
        assert_eq!(c.clauses[0].op, Op::Ge);
        assert_eq!(c.clauses[0].value, Operand::Text("2021-03-01".into()));
        assert_eq!(
            c.clauses[1],
            Clause {
                column: "lat".into(),
                op: Op::Lt,
                value: Operand::Num(40.0)
            }
        );
        assert_eq!(c.clauses[2].value, Operand::Text("a&b".into()));
        let all = parse(Some("timeSeries&timeSeries.lat!=-1.5"), "timeSeries").unwrap();
        assert!(all.projection.is_empty());
        assert_eq!(all.clauses[0].op, Op::Ne);
        assert!(parse(Some("&lat=~\"x\""), "s").is_err());
        assert!(parse(Some("&lat<abc"), "s").is_err());
        assert!(parse(Some("&<3"), "s").is_err());
        assert!(parse(Some("lat[0:1]"), "s").is_err());
        assert!(parse(None, "s").unwrap().clauses.is_empty());
    }
}
