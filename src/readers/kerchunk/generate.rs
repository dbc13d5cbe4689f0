//! kerchunk version 1 `gen`: references generated from templates over the product of
//! integer dimensions, e.g. `{"key": "t/{{i}}.0", "url": "f_{{i}}.nc", "offset":
//! "{{i * 1000}}", "length": "1000", "dimensions": {"i": {"stop": 5}}}`. Expressions in
//! `{{ }}` are names (dimensions, `templates`) and integer arithmetic (`+ - * // %`,
//! parentheses): the subset of jinja2 the generators write.

use std::collections::HashMap;

use serde_json::Value;

/// Expands every `gen` entry into `(key, [url, offset, length])` references.
pub fn expand(
    gen_entries: &[Value],
    templates: &HashMap<String, String>,
) -> Result<Vec<(String, Value)>, String> {
    let mut out = Vec::new();
    for entry in gen_entries {
        let field = |name: &str| entry.get(name).and_then(Value::as_str);
        let key = field("key").ok_or("gen: no key")?;
        let url = field("url").ok_or("gen: no url")?;
        let dims = dimensions(entry.get("dimensions"))?;
        let total: usize = dims.iter().map(|(_, v)| v.len()).product();
        if total > 10_000_000 {
            return Err("gen: too many references".into());
        }
        let mut index = vec![0usize; dims.len()];
        for _ in 0..total {
            let vars: HashMap<&str, i64> = dims
                .iter()
                .zip(&index)
                .map(|((n, v), &i)| (n.as_str(), v[i]))
                .collect();
            let render = |t: &str| render(t, &vars, templates);
            let mut target = vec![Value::String(render(url)?)];
            if let (Some(offset), Some(length)) = (entry.get("offset"), entry.get("length")) {
                for v in [offset, length] {
                    let text = match v {
                        Value::String(s) => render(s)?,
                        other => other.to_string(),
                    };
                    let n: u64 = text
                        .trim()
                        .parse()
                        .map_err(|_| format!("gen: {text:?} is not a byte count"))?;
                    target.push(Value::from(n));
                }
            }
            out.push((render(key)?, Value::Array(target)));
            for d in (0..index.len()).rev() {
                index[d] += 1;
                if index[d] < dims[d].1.len() {
                    break;
                }
                index[d] = 0;
            }
        }
    }
    Ok(out)
}

/// Each dimension's values: `{"start", "stop", "step"}` or a list of integers.
fn dimensions(v: Option<&Value>) -> Result<Vec<(String, Vec<i64>)>, String> {
    let Some(Value::Object(dims)) = v else {
        return Err("gen: no dimensions".into());
    };
    dims.iter()
        .map(|(name, d)| {
            let values = match d {
                Value::Array(list) => list.iter().map(Value::as_i64).collect::<Option<Vec<_>>>(),
                Value::Object(r) => {
                    let get = |k: &str, default: i64| r.get(k).map_or(Some(default), Value::as_i64);
                    let (start, stop, step) = (
                        get("start", 0),
                        r.get("stop").and_then(Value::as_i64),
                        get("step", 1),
                    );
                    match (start, stop, step) {
                        (Some(a), Some(b), Some(s)) if s > 0 && b - a <= 10_000_000 => {
                            Some((a..b).step_by(s as usize).collect())
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            Ok((
                name.clone(),
                values.ok_or(format!("gen: bad dimension {name:?}"))?,
            ))
        })
        .collect()
}

/// A template with each `{{ expression }}` replaced by its value.
fn render(
    t: &str,
    vars: &HashMap<&str, i64>,
    templates: &HashMap<String, String>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = t;
    while let Some(open) = rest.find("{{") {
        let close = rest[open..]
            .find("}}")
            .ok_or(format!("gen: unclosed {{{{ in {t:?}"))?;
        let expr = rest[open + 2..open + close].trim();
        out.push_str(&rest[..open]);
        match templates.get(expr) {
            Some(s) if !vars.contains_key(expr) => out.push_str(s),
            _ => out.push_str(
                &Expr {
                    s: expr.as_bytes(),
                    i: 0,
                    vars,
                }
                .whole()?
                .to_string(),
            ),
        }
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A recursive-descent evaluator of integer expressions.
struct Expr<'a> {
    s: &'a [u8],
    i: usize,
    vars: &'a HashMap<&'a str, i64>,
}

impl Expr<'_> {
    fn whole(&mut self) -> Result<i64, String> {
        let v = self.sum()?;
        self.skip();
        match self.i == self.s.len() {
            true => Ok(v),
            false => Err(format!(
                "gen: cannot evaluate {:?}",
                String::from_utf8_lossy(self.s)
            )),
        }
    }

    fn skip(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, op: &str) -> bool {
        self.skip();
        let hit = self.s[self.i..].starts_with(op.as_bytes());
        if hit {
            self.i += op.len();
        }
        hit
    }

    fn sum(&mut self) -> Result<i64, String> {
        let mut v = self.product()?;
        loop {
            if self.eat("+") {
                v = v.checked_add(self.product()?).ok_or("gen: overflow")?;
            } else if self.eat("-") {
                v = v.checked_sub(self.product()?).ok_or("gen: overflow")?;
            } else {
                return Ok(v);
            }
        }
    }

    fn product(&mut self) -> Result<i64, String> {
        let mut v = self.atom()?;
        loop {
            let op = ["//", "*", "%"].into_iter().find(|op| self.eat(op));
            let Some(op) = op else { return Ok(v) };
            let r = self.atom()?;
            v = match op {
                "*" => v.checked_mul(r),
                "//" => v.checked_div_euclid(r),
                _ => v.checked_rem_euclid(r),
            }
            .ok_or("gen: overflow or division by zero")?;
        }
    }

    fn atom(&mut self) -> Result<i64, String> {
        self.skip();
        if self.eat("(") {
            let v = self.sum()?;
            return if self.eat(")") {
                Ok(v)
            } else {
                Err("gen: missing )".into())
            };
        }
        if self.eat("-") {
            return Ok(-self.atom()?);
        }
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.i += 1;
        }
        let word = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
        if let Ok(n) = word.parse() {
            return Ok(n);
        }
        self.vars
            .get(word)
            .copied()
            .ok_or(format!("gen: unknown name {word:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expands_the_specification_example() {
        let templates = HashMap::from([("u".to_string(), "server.com".to_string())]);
        let g = json!([{"key": "gen_key{{i}}", "url": "http://{{u}}_{{i}}", "offset": "{{(i + 1) * 1000}}",
            "length": "1000", "dimensions": {"i": {"stop": 5}}}]);
        let refs = expand(g.as_array().unwrap(), &templates).unwrap();
        assert_eq!(refs.len(), 5);
        assert_eq!(
            refs[1],
            (
                "gen_key1".to_string(),
                json!(["http://server.com_1", 2000, 1000])
            )
        );
    }

    #[test]
    fn products_lists_and_arithmetic() {
        let g = json!([{"key": "t/{{j}}.{{k}}", "url": "f{{ j // 2 }}.bin", "offset": "{{ (j % 2) * 8 - -k }}", "length": 8,
            "dimensions": {"j": [0, 1, 2], "k": {"start": 0, "stop": 4, "step": 2}}}]);
        let refs = expand(g.as_array().unwrap(), &HashMap::new()).unwrap();
        let keys: Vec<_> = refs.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(keys, ["t/0.0", "t/0.2", "t/1.0", "t/1.2", "t/2.0", "t/2.2"]);
        assert_eq!(refs[3].1, json!(["f0.bin", 10, 8]));
        assert_eq!(refs[5].1, json!(["f1.bin", 2, 8]));
    }

    #[test]
    fn bad_generators_are_errors() {
        let bad = |g: Value| expand(g.as_array().unwrap(), &HashMap::new()).is_err();
        assert!(bad(
            json!([{"key": "k{{i}}", "url": "u", "dimensions": {"i": {"stop": "x"}}}])
        ));
        assert!(bad(
            json!([{"key": "k{{ i ** 2 }}", "url": "u", "dimensions": {"i": [1]}}])
        ));
        assert!(bad(
            json!([{"key": "k{{ i // 0 }}", "url": "u", "dimensions": {"i": [1]}}])
        ));
        assert!(bad(
            json!([{"key": "k{{ nope }}", "url": "u", "dimensions": {"i": [1]}}])
        ));
        assert!(bad(
            json!([{"key": "k{{i", "url": "u", "dimensions": {"i": [1]}}])
        ));
        assert!(bad(json!([{"url": "u", "dimensions": {"i": [1]}}])));
        assert!(bad(
            json!([{"key": "k", "url": "u", "dimensions": {"i": {"stop": 100000000000i64}}}])
        ));
    }
}
