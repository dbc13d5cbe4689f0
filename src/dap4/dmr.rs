//! The DMR: the DAP4 dataset description in XML.
//!
//! Written for the clients' parsers as they are (see `docs/dap4.md`): an XML
//! declaration with its encoding (pydap), `Int8`/`UInt8` rather than `Byte`, full-path
//! `Dim`/`Map` references, global attributes directly on `<Dataset>` (netCDF-C ignores
//! nested attribute containers), `_edu.ucar.isunlimited` on unlimited dimensions, and
//! single attribute values in a `value=` XML attribute (netCDF-C re-escapes `<Value>`
//! text, turning `"` into `&quot;` and dropping backslashes).

use std::collections::HashMap;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::dmr_user::{enum_fill_value, open_user_element, write_enumeration};
use super::selection::Selection;
use super::xml::{escape, start};
pub use super::xml::{escape_attr, fqn, type_name};
use crate::model::{AttrValue, Attribute, DatasetMeta, Group, ValueType, Variable};

pub const DAP4_NAMESPACE: &str = "http://xml.opendap.org/ns/DAP/4.0#";
/// The attribute carrying a variable's CRC-32 (decimal) when checksums are on.
pub const CHECKSUM_ATTR: &str = "_DAP4_Checksum_CRC32";

/// Formats a float attribute value so that it reads back exactly (exponent form for
/// large and small magnitudes, `NaN`/`Inf` by name). Float32 values are written as the
/// double they widen to: pydap parses every float attribute as a double, and compares
/// it with float32 data (a `_FillValue` of `1e20` would not match `1e20f32`).
fn float_text(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Inf".into() } else { "-Inf".into() }
    } else {
        format!("{x:?}")
    }
}

/// The attribute's DAP4 type and its values as text.
fn attr_values(v: &AttrValue) -> (&'static str, Vec<String>) {
    fn ints<T: ToString>(v: &[T]) -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    }
    match v {
        AttrValue::I8(x) => ("Int8", ints(x)),
        AttrValue::U8(x) => ("UInt8", ints(x)),
        AttrValue::I16(x) => ("Int16", ints(x)),
        AttrValue::U16(x) => ("UInt16", ints(x)),
        AttrValue::I32(x) => ("Int32", ints(x)),
        AttrValue::U32(x) => ("UInt32", ints(x)),
        AttrValue::I64(x) => ("Int64", ints(x)),
        AttrValue::U64(x) => ("UInt64", ints(x)),
        AttrValue::F32(x) => (
            "Float32",
            x.iter().map(|f| float_text(f64::from(*f))).collect(),
        ),
        AttrValue::F64(x) => ("Float64", x.iter().map(|f| float_text(*f)).collect()),
        // DAP4 has no text attributes but String: a netCDF `char` attribute is one string.
        AttrValue::Text(s) => ("String", vec![s.clone()]),
        AttrValue::Strings(s) => ("String", s.clone()),
    }
}

/// What goes into one DMR.
pub struct DmrInput<'a> {
    pub meta: &'a DatasetMeta,
    pub selection: &'a Selection<'a>,
    /// The dataset's name (its id).
    pub name: &'a str,
    /// CRC-32 of each projected variable, by path, when checksums were asked for.
    pub checksums: Option<&'a HashMap<String, u32>>,
}

type XmlWriter = Writer<Vec<u8>>;
type XmlResult = std::io::Result<()>;

/// Writes the DMR document.
pub fn write_dmr(input: &DmrInput<'_>) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write_document(&mut w, input).expect("writing to memory cannot fail");
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    String::from_utf8(bytes).expect("the DMR is built from UTF-8 strings")
}

fn write_document(w: &mut XmlWriter, input: &DmrInput<'_>) -> XmlResult {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let root = start(
        "Dataset",
        &[
            ("xmlns", DAP4_NAMESPACE),
            ("dapVersion", "4.0"),
            ("dmrVersion", "1.0"),
            ("name", input.name),
        ],
    );
    w.write_event(Event::Start(root))?;
    write_group_body(w, input, &input.meta.root)?;
    w.write_event(Event::End(BytesEnd::new("Dataset")))
}

fn write_group_body(w: &mut XmlWriter, input: &DmrInput<'_>, group: &Group) -> XmlResult {
    let sel = input.selection;
    for d in &group.dimensions {
        if !sel.declares_dim(&d.path) {
            continue;
        }
        let size = sel.dim_size(&d.path, d.len).to_string();
        let mut attrs = vec![("name", d.name.as_str()), ("size", size.as_str())];
        if d.unlimited {
            attrs.push(("_edu.ucar.isunlimited", "1"));
        }
        w.write_event(Event::Empty(start("Dimension", &attrs)))?;
    }
    for e in &group.user_types.enums {
        write_enumeration(w, e)?;
    }
    for v in group.own_any_variables() {
        if sel.get(&v.var.path).is_none() {
            continue;
        }
        match v.ty {
            None => write_variable(w, input, v.var)?,
            Some(own) => write_user_variable(w, input, v.var, own)?,
        }
    }
    for g in &group.groups {
        if sel.touches_group(g) {
            w.write_event(Event::Start(start("Group", &[("name", &g.name)])))?;
            write_group_body(w, input, g)?;
            w.write_event(Event::End(BytesEnd::new("Group")))?;
        }
    }
    for a in &group.attributes {
        write_attribute(w, a)?;
    }
    Ok(())
}

fn write_variable(w: &mut XmlWriter, input: &DmrInput<'_>, v: &Variable) -> XmlResult {
    let enum_type = input.meta.enum_of(v);
    let (tag, enum_fqn) = match enum_type {
        Some(e) => ("Enum", fqn(&e.path)),
        None => (type_name(v.dtype), String::new()),
    };
    let mut attrs = vec![("name", v.name.as_str())];
    if enum_type.is_some() {
        attrs.push(("enum", &enum_fqn));
    }
    w.write_event(Event::Start(start(tag, &attrs)))?;
    write_dims(w, input, v)?;
    for a in super::netcdf_c_floats::wire_attributes(v).iter() {
        match enum_type.and_then(|e| enum_fill_value(e, a)) {
            Some(fill) => write_attribute(w, &fill)?,
            None => write_attribute(w, a)?,
        }
    }
    write_checksum(w, input, v)?;
    for map in maps(input, v) {
        w.write_event(Event::Empty(start("Map", &[("name", &fqn(&map))])))?;
    }
    w.write_event(Event::End(BytesEnd::new(tag)))
}

/// A variable of a compound, vlen or opaque type (of type `own`, or as projected).
fn write_user_variable(
    w: &mut XmlWriter,
    input: &DmrInput<'_>,
    v: &Variable,
    own: &ValueType,
) -> XmlResult {
    let ty = input
        .selection
        .get(&v.path)
        .and_then(|s| s.user.as_ref())
        .unwrap_or(own);
    let tag = open_user_element(w, ty, &v.name)?;
    write_dims(w, input, v)?;
    for a in &v.attributes {
        write_attribute(w, a)?;
    }
    write_checksum(w, input, v)?;
    w.write_event(Event::End(BytesEnd::new(tag)))
}

/// A variable's `Dim` references: shared dimensions by name, or anonymous sizes when
/// its subset differs from them.
fn write_dims(w: &mut XmlWriter, input: &DmrInput<'_>, v: &Variable) -> XmlResult {
    let s = input
        .selection
        .get(&v.path)
        .expect("only selected variables are written");
    for (d, slice) in v.dims.iter().zip(&s.slab.dims) {
        if s.named_dims {
            let name = fqn(&d.path);
            w.write_event(Event::Empty(start("Dim", &[("name", &name)])))?;
        } else {
            let size = slice.count.to_string();
            w.write_event(Event::Empty(start("Dim", &[("size", &size)])))?;
        }
    }
    Ok(())
}

/// The variable's checksum attribute, when checksums were asked for.
fn write_checksum(w: &mut XmlWriter, input: &DmrInput<'_>, v: &Variable) -> XmlResult {
    if let Some(crc) = input.checksums.and_then(|c| c.get(&v.path)) {
        let value = crc.to_string();
        let attrs = [
            ("name", CHECKSUM_ATTR),
            ("type", "UInt32"),
            ("value", &value),
        ];
        w.write_event(Event::Empty(start("Attribute", &attrs)))?;
    }
    Ok(())
}

/// The coordinate variables of `v`'s dimensions, when they are in the response with
/// the same shared dimensions (a Map must match its variable's dimension).
fn maps(input: &DmrInput<'_>, v: &Variable) -> Vec<String> {
    let sel = input.selection;
    if v.is_coordinate_variable() || !sel.get(&v.path).is_some_and(|s| s.named_dims) {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for d in &v.dims {
        if let Some(cv) = input.meta.coordinate_variable(d)
            && sel.get(&cv.path).is_some_and(|s| s.named_dims)
            && !out.contains(&cv.path)
        {
            out.push(cv.path.clone());
        }
    }
    out
}

fn write_attribute(w: &mut XmlWriter, a: &Attribute) -> XmlResult {
    let (ty, values) = attr_values(&a.value);
    if values.len() == 1 {
        let attrs = [
            ("name", a.name.as_str()),
            ("type", ty),
            ("value", &values[0]),
        ];
        return w.write_event(Event::Empty(start("Attribute", &attrs)));
    }
    let attrs = [("name", a.name.as_str()), ("type", ty)];
    if values.is_empty() {
        return w.write_event(Event::Empty(start("Attribute", &attrs)));
    }
    w.write_event(Event::Start(start("Attribute", &attrs)))?;
    for v in &values {
        w.write_event(Event::Start(BytesStart::new("Value")))?;
        w.write_event(Event::Text(BytesText::from_escaped(escape(v, false))))?;
        w.write_event(Event::End(BytesEnd::new("Value")))?;
    }
    w.write_event(Event::End(BytesEnd::new("Attribute")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dap4::ce::parse_ce;
    use crate::dap4::selection::resolve;
    use crate::model::{DataType, DimRef, Dimension};

    fn dref(name: &str, path: &str, len: usize) -> DimRef {
        DimRef {
            name: name.into(),
            path: path.into(),
            len,
        }
    }

    fn var(path: &str, dtype: DataType, dims: Vec<DimRef>, attributes: Vec<Attribute>) -> Variable {
        Variable {
            name: path.rsplit('/').next().unwrap().into(),
            path: path.into(),
            dims,
            dtype,
            attributes,
            chunks: None,
        }
    }

    /// Every atomic type, a group with a dimension of its own and an inherited one, a
    /// nested group, an unlimited dimension, a scalar, attributes of every kind.
    fn sample() -> DatasetMeta {
        let x = || dref("x", "/x", 2);
        let types = [
            DataType::I8,
            DataType::U8,
            DataType::I16,
            DataType::U16,
            DataType::I32,
            DataType::U32,
            DataType::I64,
            DataType::U64,
            DataType::F32,
            DataType::F64,
            DataType::String,
        ];
        let mut variables = vec![var(
            "/x",
            DataType::F64,
            vec![x()],
            vec![Attribute::new("units", AttrValue::Text("m".into()))],
        )];
        for t in types {
            variables.push(var(&format!("/v_{}", t.name()), t, vec![x()], vec![]));
        }
        variables.push(var(
            "/v_char",
            DataType::Char,
            vec![x(), dref("n", "/n", 3)],
            vec![],
        ));
        variables.push(var(
            "/scalar",
            DataType::F64,
            vec![],
            vec![
                Attribute::new("a_i8", AttrValue::I8(vec![-1, 2])),
                Attribute::new("a_u64", AttrValue::U64(vec![u64::MAX])),
                Attribute::new("a_f32", AttrValue::F32(vec![0.1, f32::NAN])),
                Attribute::new("a_f64", AttrValue::F64(vec![1e300])),
                Attribute::new(
                    "a_text",
                    AttrValue::Text("tab\tline\n\"q\" <&> back\\slash".into()),
                ),
                Attribute::new(
                    "a_strings",
                    AttrValue::Strings(vec!["a<b".into(), "ü".into()]),
                ),
            ],
        ));
        DatasetMeta {
            root: Group {
                name: String::new(),
                path: "/".into(),
                dimensions: vec![
                    Dimension {
                        name: "x".into(),
                        path: "/x".into(),
                        len: 2,
                        unlimited: true,
                    },
                    Dimension {
                        name: "n".into(),
                        path: "/n".into(),
                        len: 3,
                        unlimited: false,
                    },
                ],
                variables,
                attributes: vec![Attribute::new("title", AttrValue::Text("T".into()))],
                groups: vec![Group {
                    name: "fc".into(),
                    path: "/fc".into(),
                    dimensions: vec![Dimension {
                        name: "m".into(),
                        path: "/fc/m".into(),
                        len: 3,
                        unlimited: false,
                    }],
                    variables: vec![var(
                        "/fc/t",
                        DataType::F32,
                        vec![dref("m", "/fc/m", 3), x()],
                        vec![],
                    )],
                    attributes: vec![Attribute::new("model", AttrValue::Text("M".into()))],
                    groups: vec![Group {
                        name: "deep".into(),
                        path: "/fc/deep".into(),
                        ..Default::default()
                    }],
                    user_types: Default::default(),
                }],
                user_types: Default::default(),
            },
        }
    }

    const EXPECTED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Dataset xmlns="http://xml.opendap.org/ns/DAP/4.0#" dapVersion="4.0" dmrVersion="1.0" name="s.nc">
  <Dimension name="x" size="2" _edu.ucar.isunlimited="1"/>
  <Dimension name="n" size="3"/>
  <Float64 name="x">
    <Dim name="/x"/>
    <Attribute name="units" type="String" value="m"/>
  </Float64>
  <Int8 name="v_i8">
    <Dim name="/x"/>
    <Map name="/x"/>
  </Int8>
  <UInt8 name="v_u8">
    <Dim name="/x"/>
    <Map name="/x"/>
  </UInt8>
  <Int16 name="v_i16">
    <Dim name="/x"/>
    <Map name="/x"/>
  </Int16>
  <UInt16 name="v_u16">
    <Dim name="/x"/>
    <Map name="/x"/>
  </UInt16>
  <Int32 name="v_i32">
    <Dim name="/x"/>
    <Map name="/x"/>
  </Int32>
  <UInt32 name="v_u32">
    <Dim name="/x"/>
    <Map name="/x"/>
  </UInt32>
  <Int64 name="v_i64">
    <Dim name="/x"/>
    <Map name="/x"/>
  </Int64>
  <UInt64 name="v_u64">
    <Dim name="/x"/>
    <Map name="/x"/>
  </UInt64>
  <Float32 name="v_f32">
    <Dim name="/x"/>
    <Map name="/x"/>
  </Float32>
  <Float64 name="v_f64">
    <Dim name="/x"/>
    <Map name="/x"/>
  </Float64>
  <String name="v_string">
    <Dim name="/x"/>
    <Map name="/x"/>
  </String>
  <Char name="v_char">
    <Dim name="/x"/>
    <Dim name="/n"/>
    <Map name="/x"/>
  </Char>
  <Float64 name="scalar">
    <Attribute name="a_i8" type="Int8">
      <Value>-1</Value>
      <Value>2</Value>
    </Attribute>
    <Attribute name="a_u64" type="UInt64" value="18446744073709551615"/>
    <Attribute name="a_f32" type="Float32">
      <Value>0.10000000149011612</Value>
      <Value>NaN</Value>
    </Attribute>
    <Attribute name="a_f64" type="Float64" value="1e300"/>
    <Attribute name="a_text" type="String" value="tab&#9;line&#10;&quot;q&quot; &lt;&amp;&gt; back\slash"/>
    <Attribute name="a_strings" type="String">
      <Value>a&lt;b</Value>
      <Value>ü</Value>
    </Attribute>
  </Float64>
  <Group name="fc">
    <Dimension name="m" size="3"/>
    <Float32 name="t">
      <Dim name="/fc/m"/>
      <Dim name="/x"/>
      <Map name="/x"/>
    </Float32>
    <Group name="deep">
    </Group>
    <Attribute name="model" type="String" value="M"/>
  </Group>
  <Attribute name="title" type="String" value="T"/>
</Dataset>
"#;

    #[test]
    fn whole_dataset_dmr() {
        let meta = sample();
        let sel = Selection::whole(&meta);
        let dmr = write_dmr(&DmrInput {
            meta: &meta,
            selection: &sel,
            name: "s.nc",
            checksums: None,
        });
        for (i, (got, want)) in dmr.lines().zip(EXPECTED.lines()).enumerate() {
            assert_eq!(got, want, "line {}", i + 1);
        }
        assert_eq!(dmr, EXPECTED);
        // Well-formed XML.
        let mut r = quick_xml::Reader::from_str(&dmr);
        loop {
            match r.read_event().unwrap() {
                Event::Eof => break,
                _ => continue,
            }
        }
    }

    #[test]
    fn constrained_dmr_with_checksums() {
        let meta = sample();
        let ce = parse_ce("/fc/t[0:1][1];/x=[1:1];/x").unwrap();
        let sel = resolve(&meta, Some(&ce)).unwrap();
        let sums: HashMap<String, u32> =
            [("/x".to_string(), 7u32), ("/fc/t".to_string(), 9)].into();
        let dmr = write_dmr(&DmrInput {
            meta: &meta,
            selection: &sel,
            name: "s.nc",
            checksums: Some(&sums),
        });
        let want = r#"<?xml version="1.0" encoding="UTF-8"?>
<Dataset xmlns="http://xml.opendap.org/ns/DAP/4.0#" dapVersion="4.0" dmrVersion="1.0" name="s.nc">
  <Dimension name="x" size="1" _edu.ucar.isunlimited="1"/>
  <Float64 name="x">
    <Dim name="/x"/>
    <Attribute name="units" type="String" value="m"/>
    <Attribute name="_DAP4_Checksum_CRC32" type="UInt32" value="7"/>
  </Float64>
  <Group name="fc">
    <Float32 name="t">
      <Dim size="2"/>
      <Dim size="1"/>
      <Attribute name="_DAP4_Checksum_CRC32" type="UInt32" value="9"/>
    </Float32>
    <Attribute name="model" type="String" value="M"/>
  </Group>
  <Attribute name="title" type="String" value="T"/>
</Dataset>
"#;
        assert_eq!(dmr, want);
    }

    #[test]
    fn names_and_text_are_escaped() {
        assert_eq!(fqn("/g/a.b"), "/g/a\\.b");
        assert_eq!(escape_attr("a\r\u{1}"), "a&#13;\u{FFFD}");
    }

    fn user_types_meta() -> DatasetMeta {
        use crate::model::{
            CompoundType, EnumType, Field, OpaqueType, UserVariable, ValueType, VlenType,
        };
        use std::sync::Arc;
        let x = || dref("x", "/x", 2);
        let cloud = Arc::new(EnumType {
            name: "cloud_t".into(),
            path: "/cloud_t".into(),
            base: DataType::U8,
            members: vec![("clear".into(), 0), ("missing".into(), 255)],
        });
        let atomic = |name: &str, t: DataType, shape: Vec<usize>| Field {
            name: name.into(),
            ty: ValueType::Atomic(t),
            shape,
        };
        let pos = ValueType::Compound(Arc::new(CompoundType {
            name: "pos_t".into(),
            path: "/pos_t".into(),
            fields: vec![atomic("lat", DataType::F32, vec![])],
        }));
        let obs = ValueType::Compound(Arc::new(CompoundType {
            name: "obs_t".into(),
            path: "/obs_t".into(),
            fields: vec![
                atomic("id", DataType::I32, vec![]),
                Field {
                    name: "pos".into(),
                    ty: pos,
                    shape: vec![],
                },
                atomic("levels", DataType::F64, vec![2]),
                Field {
                    name: "kind".into(),
                    ty: ValueType::Enum(cloud.clone()),
                    shape: vec![],
                },
            ],
        }));
        let user = |name: &str, ty: ValueType, position: usize| UserVariable {
            var: var(&format!("/{name}"), DataType::U8, vec![x()], vec![]),
            ty,
            position,
        };
        let mut meta = DatasetMeta::default();
        let root = &mut meta.root;
        root.path = "/".into();
        root.dimensions = vec![Dimension {
            name: "x".into(),
            path: "/x".into(),
            len: 2,
            unlimited: false,
        }];
        root.variables = vec![
            var(
                "/cloud",
                DataType::U8,
                vec![x()],
                vec![Attribute::new("_FillValue", AttrValue::U8(vec![255]))],
            ),
            var("/temp", DataType::F32, vec![x()], vec![]),
        ];
        root.user_types.enums = vec![cloud.clone()];
        root.user_types.enum_variables = vec![("cloud".into(), cloud)];
        let vlen = ValueType::Vlen(Arc::new(VlenType {
            name: "vint_t".into(),
            path: "/vint_t".into(),
            base: ValueType::Atomic(DataType::I32),
        }));
        let blob = ValueType::Opaque(Arc::new(OpaqueType {
            name: "blob_t".into(),
            path: "/blob_t".into(),
            size: 5,
        }));
        root.user_types.variables = vec![
            user("obs", obs, 1),
            user("ragged", vlen, 3),
            user("blob", blob, 4),
        ];
        meta
    }

    #[test]
    fn user_types_in_the_dmr() {
        let meta = user_types_meta();
        let sel = Selection::whole(&meta);
        let dmr = write_dmr(&DmrInput {
            meta: &meta,
            selection: &sel,
            name: "u.nc",
            checksums: None,
        });
        let body: Vec<&str> = dmr.lines().skip(2).map(str::trim).collect();
        let want = [
            r#"<Dimension name="x" size="2"/>"#,
            r#"<Enumeration name="cloud_t" basetype="UInt8">"#,
            r#"<EnumConst name="clear" value="0"/>"#,
            r#"<EnumConst name="missing" value="255"/>"#,
            "</Enumeration>",
            r#"<Enum name="cloud" enum="/cloud_t">"#,
            r#"<Dim name="/x"/>"#,
            // netCDF-C takes an enum's fill value by name.
            r#"<Attribute name="_FillValue" type="String" value="missing"/>"#,
            "</Enum>",
            // In the file's order: the structure was second.
            r#"<Structure name="obs">"#,
            r#"<Int32 name="id">"#,
            "</Int32>",
            r#"<Structure name="pos">"#,
            r#"<Float32 name="lat">"#,
            "</Float32>",
            "</Structure>",
            r#"<Float64 name="levels">"#,
            r#"<Dim size="2"/>"#,
            "</Float64>",
            r#"<Enum name="kind" enum="/cloud_t">"#,
            "</Enum>",
            r#"<Dim name="/x"/>"#,
            "</Structure>",
            r#"<Float32 name="temp">"#,
            r#"<Dim name="/x"/>"#,
            "</Float32>",
            r#"<Sequence name="ragged">"#,
            r#"<Int32 name="ragged">"#,
            "</Int32>",
            r#"<Dim name="/x"/>"#,
            "</Sequence>",
            r#"<Opaque name="blob" _edu.ucar.opaque.size="5">"#,
            r#"<Dim name="/x"/>"#,
            "</Opaque>",
            "</Dataset>",
        ];
        assert_eq!(body, want);
    }

    #[test]
    fn structure_fields_projected() {
        let meta = user_types_meta();
        let ce = parse_ce("/obs.levels[1];/obs.id[1]").unwrap();
        let sel = resolve(&meta, Some(&ce)).unwrap();
        assert_eq!(sel.vars.len(), 1);
        assert_eq!(sel.vars[0].fields, Some(vec![0, 2]));
        // id (4) and levels (2 × 8) of one element.
        assert_eq!(sel.fixed_bytes(), Some(20));
        let sums: HashMap<String, u32> = [("/obs".to_string(), 3u32)].into();
        let dmr = write_dmr(&DmrInput {
            meta: &meta,
            selection: &sel,
            name: "u.nc",
            checksums: Some(&sums),
        });
        let s = &dmr[dmr.find("<Structure").unwrap()..];
        assert!(s.contains(r#"<Int32 name="id">"#) && s.contains(r#"<Float64 name="levels">"#));
        assert!(!s.contains("pos") && !s.contains("kind"));
        assert!(s.contains(r#"<Dim size="1"/>"#));
        assert!(s.contains(r#"value="3"/>"#));
        // Whole and by field at once: whole.
        let ce = parse_ce("/obs.id;/obs").unwrap();
        assert_eq!(resolve(&meta, Some(&ce)).unwrap().vars[0].fields, None);
        let ragged = parse_ce("/ragged.ragged[0]").unwrap();
        assert_eq!(
            resolve(&meta, Some(&ragged)).unwrap().vars[0].var.path,
            "/ragged"
        );
        for bad in ["/obs.nope", "/blob.blob", "/obs[2]", "/obs.id[0][0]"] {
            let ce = parse_ce(bad).unwrap();
            assert!(resolve(&meta, Some(&ce)).is_err(), "{bad}");
        }
    }
}
