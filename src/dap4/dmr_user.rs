//! The DMR of user-defined types, as netCDF-C's DAP4 client (`libdap4/d4parser.c`,
//! `d4meta.c`) maps them back to netCDF-4 types:
//! - an enumeration is an `<Enumeration>` of its group, its variables `<Enum enum=…>`;
//! - a compound is a `<Structure>` whose members are its fields (array fields with
//!   anonymous `Dim size=…`), nested compounds nested Structures;
//! - a vlen is a `<Sequence>` whose one member, named like the variable, has the base
//!   type: netCDF-C reads it as a vlen of a one-member compound;
//! - an opaque is `<Opaque>` with its size in `_edu.ucar.opaque.size`, which netCDF-C
//!   honours when the URL asks for it (`#translate=nc4`; 16 bytes otherwise).
//!
//! Not written, as netCDF-C cannot read them (see `docs/dap4.md`): `_edu.ucar.isvlen`
//! (it would map the Sequence to a plain vlen, but its data code then dereferences a
//! NULL type: a crash or a `malloc` failure) and `_edu.ucar.orig.type` (the type's name
//! in the file: 4.9.0 and 4.10.1 crash on it). netCDF-C names each type after its
//! variable instead (`obs_t`, `obs_pos_t`, `ragged_int_t`).

use quick_xml::Writer;
use quick_xml::events::{BytesEnd, Event};

use super::xml::{fqn, start, type_name};
use crate::model::{AttrValue, Attribute, EnumType, Field, ValueType};

pub const OPAQUE_SIZE: &str = "_edu.ucar.opaque.size";

type XmlWriter = Writer<Vec<u8>>;
type XmlResult = std::io::Result<()>;

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

/// An enum variable's `_FillValue` as netCDF-C takes it: a String naming the enum's
/// constant (it refuses a number of the base type for an enum variable in 4.10, and
/// looks the text up among the constants in 4.9). `None` for other attributes.
pub fn enum_fill_value(e: &EnumType, a: &Attribute) -> Option<Attribute> {
    if a.name != "_FillValue" {
        return None;
    }
    let value: i128 = match &a.value {
        AttrValue::I8(v) => (*v.first()?).into(),
        AttrValue::U8(v) => (*v.first()?).into(),
        AttrValue::I16(v) => (*v.first()?).into(),
        AttrValue::U16(v) => (*v.first()?).into(),
        AttrValue::I32(v) => (*v.first()?).into(),
        AttrValue::U32(v) => (*v.first()?).into(),
        AttrValue::I64(v) => (*v.first()?).into(),
        AttrValue::U64(v) => (*v.first()?).into(),
        _ => return None,
    };
    let text = e
        .members
        .iter()
        .find(|(_, v)| *v == value)
        .map_or_else(|| value.to_string(), |(n, _)| n.clone());
    Some(Attribute::new("_FillValue", AttrValue::Text(text)))
}

/// The element of a value of `ty` named `name`: its tag and XML attributes.
fn element(ty: &ValueType, name: &str) -> (&'static str, Vec<(String, String)>) {
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
        ValueType::Compound(_) => "Structure",
        ValueType::Vlen(_) => "Sequence",
    };
    (tag, attrs)
}

/// Opens the element of a variable or field of type `ty` named `name` and writes its
/// members (a Structure's fields, a vlen Sequence's one member named `name`); the
/// caller adds dimensions and attributes and closes the returned tag.
pub fn open_user_element(
    w: &mut XmlWriter,
    ty: &ValueType,
    name: &str,
) -> std::io::Result<&'static str> {
    let (tag, attrs) = element(ty, name);
    let attrs: Vec<(&str, &str)> = attrs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    w.write_event(Event::Start(start(tag, &attrs)))?;
    match ty {
        ValueType::Compound(c) => {
            for f in &c.fields {
                write_field(w, f)?;
            }
        }
        ValueType::Vlen(v) => write_field(
            w,
            &Field {
                name: name.to_string(),
                ty: v.base.clone(),
                shape: Vec::new(),
            },
        )?,
        _ => {}
    }
    Ok(tag)
}

fn write_field(w: &mut XmlWriter, f: &Field) -> XmlResult {
    let tag = open_user_element(w, &f.ty, &f.name)?;
    for n in &f.shape {
        let size = n.to_string();
        w.write_event(Event::Empty(start("Dim", &[("size", &size)])))?;
    }
    w.write_event(Event::End(BytesEnd::new(tag)))
}
