//! The Dataset Descriptor Structure, whole or constrained.

use std::fmt::Write;

use super::schema::escape_name;
use super::selection::{Projected, Selected};

fn decl(out: &mut String, indent: &str, s: &Selected) {
    let a = &s.array;
    let _ = write!(out, "{indent}{} {}", a.dtype.name(), escape_name(&a.name));
    for (d, slice) in a.dims.iter().zip(&s.slab.dims) {
        let _ = write!(out, "[{} = {}]", escape_name(&d.name), slice.count);
    }
    out.push_str(";\n");
}

/// The DDS of `projected` (the whole dataset when nothing was constrained).
pub fn dds(dataset_name: &str, projected: &[Projected]) -> String {
    let mut out = String::from("Dataset {\n");
    for p in projected {
        match p {
            Projected::Array(s) => decl(&mut out, "    ", s),
            Projected::Grid { array, maps } => {
                out.push_str("    Grid {\n      ARRAY:\n");
                decl(&mut out, "        ", array);
                out.push_str("      MAPS:\n");
                for m in maps {
                    decl(&mut out, "        ", m);
                }
                let _ = writeln!(out, "    }} {};", escape_name(&array.array.name));
            }
            Projected::Structure { name, members } => {
                out.push_str("    Structure {\n");
                for m in members {
                    decl(&mut out, "        ", m);
                }
                let _ = writeln!(out, "    }} {};", escape_name(name));
            }
        }
    }
    // The dataset name is informative only: keep it readable.
    let name: String = dataset_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-./".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let _ = writeln!(out, "}} {name};");
    out
}
