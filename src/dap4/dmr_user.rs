//! The DMR of user-defined types, as netCDF-C's DAP4 client (`libdap4/d4parser.c`,
//! `d4meta.c`) maps them back to netCDF-4 types:
//! - an enumeration is an `<Enumeration>` of its group, its variables `<Enum enum=…>`;
//! - a compound is a `<Structure>` whose members are its fields (array fields with
//!   anonymous `Dim size=…`), nested compounds nested Structures;
//! - a vlen is a `<Sequence>` marked `_edu.ucar.isvlen` whose one member, named like
//!   the variable, has the base type (netCDF-C then builds a vlen of that type rather
//!   than a vlen of a compound);
//! - an opaque is `<Opaque>` with its size in `_edu.ucar.opaque.size` (netCDF-C assumes
//!   16 bytes otherwise).
//!
//! `_edu.ucar.orig.type` gives compound and vlen types their names in the file; netCDF-C
//! refuses a DMR that names one type twice (each Structure or Sequence defines its
//! own), so only the first use of a type carries the name; later ones get netCDF-C's
//! default names.

use std::collections::HashSet;

use quick_xml::events::{BytesEnd, Event};

use super::dmr::{
    DmrInput, XmlResult, XmlWriter, fqn, start, type_name, write_attribute, write_checksum,
    write_dims,
};
use crate::model::{EnumType, Field, UserVariable, ValueType};

pub const ORIG_TYPE: &str = "_edu.ucar.orig.type";
pub const IS_VLEN: &str = "_edu.ucar.isvlen";
pub const OPAQUE_SIZE: &str = "_edu.ucar.opaque.size";

/// The type paths already named in the DMR being written.
#[derive(Default)]
pub struct TypeNames(HashSet<String>);

impl TypeNames {
    /// The original-type XML attribute value for `path`, on its first use only.
    fn first_use(&mut self, path: &str) -> Option<String> {
        self.0.insert(path.to_string()).then(|| fqn(path))
    }
}

pub fn write_enumeration(w: &mut XmlWriter, e: &EnumType) -> XmlResult {
    let base = type_name(e.base);
    w.write_event(Event::Start(start(
        "Enumeration",
        &[("name", &e.name), ("basetype", base)],
    )))?;
    for (name, value) in &e.members {
        let value = value.to_string();
        w.write_event(Event::Empty(start(
            "EnumConst",
            &[("name", name), ("value", &value)],
        )))?;
    }
    w.write_event(Event::End(BytesEnd::new("Enumeration")))
}

/// The element of a value of `ty` named `name`: its tag and XML attributes.
fn element(
    ty: &ValueType,
    name: &str,
    named: &mut TypeNames,
) -> (&'static str, Vec<(String, String)>) {
    let mut attrs = vec![("name".to_string(), name.to_string())];
    let tag = match ty {
        ValueType::Atomic(t) => type_name(*t),
        ValueType::Enum(e) => {
            attrs.push(("enum".into(), fqn(&e.path)));
            "Enum"
        }
        ValueType::Opaque(o) => {
            attrs.push((OPAQUE_SIZE.into(), o.size.to_string()));
            "Opaque"
        }
        ValueType::Compound(c) => {
            if let Some(orig) = named.first_use(&c.path) {
                attrs.push((ORIG_TYPE.into(), orig));
            }
            "Structure"
        }
        ValueType::Vlen(v) => {
            attrs.push((IS_VLEN.into(), "1".into()));
            if let Some(orig) = named.first_use(&v.path) {
                attrs.push((ORIG_TYPE.into(), orig));
            }
            "Sequence"
        }
    };
    (tag, attrs)
}

fn open(w: &mut XmlWriter, tag: &str, attrs: &[(String, String)]) -> XmlResult {
    let attrs: Vec<(&str, &str)> = attrs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    w.write_event(Event::Start(start(tag, &attrs)))
}

/// The members of a Structure (the compound's fields) or a vlen Sequence (one member of
/// the base type, named `name`).
fn write_members(
    w: &mut XmlWriter,
    ty: &ValueType,
    name: &str,
    named: &mut TypeNames,
) -> XmlResult {
    match ty {
        ValueType::Compound(c) => {
            for f in &c.fields {
                write_field(w, f, named)?;
            }
            Ok(())
        }
        ValueType::Vlen(v) => write_field(
            w,
            &Field {
                name: name.to_string(),
                ty: v.base.clone(),
                shape: Vec::new(),
            },
            named,
        ),
        _ => Ok(()),
    }
}

fn write_field(w: &mut XmlWriter, f: &Field, named: &mut TypeNames) -> XmlResult {
    let (tag, attrs) = element(&f.ty, &f.name, named);
    open(w, tag, &attrs)?;
    write_members(w, &f.ty, &f.name, named)?;
    for n in &f.shape {
        let size = n.to_string();
        w.write_event(Event::Empty(start("Dim", &[("size", &size)])))?;
    }
    w.write_event(Event::End(BytesEnd::new(tag)))
}

/// A variable of a compound, vlen or opaque type.
pub fn write_user_variable(
    w: &mut XmlWriter,
    input: &DmrInput<'_>,
    u: &UserVariable,
    named: &mut TypeNames,
) -> XmlResult {
    let (tag, attrs) = element(&u.ty, &u.var.name, named);
    open(w, tag, &attrs)?;
    write_members(w, &u.ty, &u.var.name, named)?;
    write_dims(w, input, &u.var)?;
    for a in &u.var.attributes {
        write_attribute(w, a)?;
    }
    write_checksum(w, input, &u.var)?;
    w.write_event(Event::End(BytesEnd::new(tag)))
}
