//! `.ascii`: the constrained values as comma-separated text, one line per innermost row
//! (`name[i][j], v, v, ...`), as libdap's ASCII response lays them out.

use std::fmt::Write;

use super::selection::Projected;
use super::stream::Event;
use crate::model::{ArrayValues, format_float};

/// An encoder for `stream::body`, tracking the position of each row across blocks.
pub fn encoder() -> impl FnMut(Event<'_>, &mut Vec<u8>) + Send + 'static {
    let mut done = 0usize; // elements of the current array written so far
    let mut label = String::new();
    move |ev, out| match ev {
        Event::Start(p, s) => {
            done = 0;
            label = match p {
                Projected::Array(_) => s.array.name.clone(),
                Projected::Grid { array, .. } => format!("{}.{}", array.array.name, s.array.name),
                Projected::Structure { name, .. } => format!("{name}.{}", s.array.name),
            };
        }
        Event::Block(s, a) => {
            // Blocks may end inside a row: a line starts at each row's first value.
            let shape = s.slab.shape();
            let row = shape.last().copied().unwrap_or(1).max(1);
            let mut text = String::new();
            for v in texts(&a.values, s.array.char_len) {
                if done.is_multiple_of(row) {
                    if done > 0 {
                        text.push('\n');
                    }
                    text.push_str(&label);
                    if shape.len() > 1 {
                        let mut r = done / row;
                        let mut idx = vec![0; shape.len() - 1];
                        for k in (0..shape.len() - 1).rev() {
                            idx[k] = r % shape[k].max(1);
                            r /= shape[k].max(1);
                        }
                        for i in idx {
                            let _ = write!(text, "[{i}]");
                        }
                    }
                }
                let _ = write!(text, ", {v}");
                done += 1;
            }
            out.extend_from_slice(text.as_bytes());
        }
        Event::End(_) => out.push(b'\n'),
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", super::das::escape_string(s))
}

fn texts(v: &ArrayValues, char_len: Option<usize>) -> Vec<String> {
    match v {
        ArrayValues::F32(x) => x.iter().map(|v| format_float(*v as f64, true)).collect(),
        ArrayValues::F64(x) => x.iter().map(|v| format_float(*v, false)).collect(),
        ArrayValues::Char(c) => c
            .chunks(char_len.unwrap_or(1).max(1))
            .map(|s| {
                let end = s.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
                quote(&String::from_utf8_lossy(&s[..end]))
            })
            .collect(),
        ArrayValues::Str(x) => x.iter().map(|s| quote(s)).collect(),
        other => (0..other.len())
            .map(|i| match other {
                ArrayValues::I8(x) => x[i].to_string(),
                ArrayValues::U8(x) => x[i].to_string(),
                ArrayValues::I16(x) => x[i].to_string(),
                ArrayValues::U16(x) => x[i].to_string(),
                ArrayValues::I32(x) => x[i].to_string(),
                ArrayValues::U32(x) => x[i].to_string(),
                ArrayValues::I64(x) => x[i].to_string(),
                ArrayValues::U64(x) => x[i].to_string(),
                _ => String::new(),
            })
            .collect(),
    }
}
