//! `DATAGATE_…` environment variables overriding configuration keys: a container or a
//! Kubernetes pod sets a few keys without rewriting the mounted file.
//!
//! `DATAGATE_SERVER__BIND=0.0.0.0:8080` sets `server.bind`: after the prefix, `__`
//! separates the levels of the key and names are case-insensitive. The value is read
//! as a TOML value (`10`, `true`, `["10.0.0.0/8"]`, `[{path = "s3://b/p/"}]`), and as a
//! string when it is not one (`0.0.0.0:8080`); quote it to force a string
//! (`DATAGATE_STORAGE__S3__REGION='"123"'`). Only variables whose first level is a
//! configuration section are keys, so `DATAGATE_LOG_FORMAT` or the test scripts'
//! `DATAGATE_BIN` are not; an unknown key inside a section is an error, as in the file.

/// The prefix of every configuration variable.
pub const PREFIX: &str = "DATAGATE_";

/// The top-level keys of the configuration (its sections and lists).
const SECTIONS: &[&str] = &[
    "server",
    "limits",
    "cache",
    "wms",
    "storage",
    "readers",
    "edr",
    "datasets",
    "collections",
    "roots",
];

/// One variable that names a configuration key.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The variable's name, for messages.
    pub variable: String,
    /// The key's levels, lower-case (`["server", "bind"]`).
    pub path: Vec<String>,
    pub value: toml::Value,
}

/// The configuration keys among `vars` (name, value), in name order (so the result
/// does not depend on the environment's order).
pub fn overrides(vars: impl IntoIterator<Item = (String, String)>) -> Vec<Override> {
    let mut out: Vec<Override> = vars
        .into_iter()
        .filter_map(|(name, value)| {
            let rest = name.strip_prefix(PREFIX)?;
            let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
            if !SECTIONS.contains(&path[0].as_str()) || path.iter().any(String::is_empty) {
                return None;
            }
            Some(Override {
                variable: name.clone(),
                path,
                value: parse_value(&value),
            })
        })
        .collect();
    out.sort_by(|a, b| a.variable.cmp(&b.variable));
    out
}

/// A variable's text as a TOML value, or as a string when it is not one.
fn parse_value(text: &str) -> toml::Value {
    let wrapped = format!("v = {text}");
    match toml::from_str::<toml::Table>(&wrapped) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(text.to_string())),
        Err(_) => toml::Value::String(text.to_string()),
    }
}

/// Sets each override in the configuration's `table`, making missing sections; a key
/// below a value that is not a table (`DATAGATE_SERVER__BIND__X`) is an error naming
/// the variable.
pub fn apply(table: &mut toml::Table, overrides: &[Override]) -> Result<(), String> {
    for o in overrides {
        let (last, parents) = o.path.split_last().expect("at least one level");
        let mut here = &mut *table;
        for level in parents {
            let next = here
                .entry(level.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            here = match next {
                toml::Value::Table(t) => t,
                _ => {
                    return Err(format!(
                        "{}: {} is not a section",
                        o.variable,
                        o.path.join(".")
                    ));
                }
            };
        }
        here.insert(last.clone(), o.value.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_section_keys_are_overrides() {
        let o = overrides(vars(&[
            ("DATAGATE_SERVER__BIND", "0.0.0.0:9000"),
            ("DATAGATE_LOG_FORMAT", "json"),
            ("DATAGATE_BIN", "/x"),
            ("DATAGATE_STORAGE__S3__ENDPOINT", "http://minio:9000"),
            ("DATAGATE_storage__revalidate_secs", "3"),
            ("DATAGATE_SERVER__", "x"),
            ("HOME", "/root"),
        ]));
        let paths: Vec<String> = o.iter().map(|o| o.path.join(".")).collect();
        assert_eq!(
            paths,
            [
                "server.bind",
                "storage.s3.endpoint",
                "storage.revalidate_secs"
            ]
        );
        assert_eq!(o[0].value, toml::Value::String("0.0.0.0:9000".into()));
        assert_eq!(o[2].value, toml::Value::Integer(3));
    }

    #[test]
    fn values_are_toml_or_strings() {
        assert_eq!(parse_value("true"), toml::Value::Boolean(true));
        assert_eq!(parse_value("\"123\""), toml::Value::String("123".into()));
        assert_eq!(
            parse_value("secret+/=key"),
            toml::Value::String("secret+/=key".into())
        );
        assert!(parse_value("[\"10.0.0.0/8\"]").is_array());
        assert!(parse_value("[{path = \"s3://b/p/\"}]").is_array());
    }

    #[test]
    fn a_key_under_a_value_is_an_error() {
        let mut t: toml::Table = toml::from_str("[server]\nbind = \"a\"").unwrap();
        let o = overrides(vars(&[("DATAGATE_SERVER__BIND__X", "1")]));
        let e = apply(&mut t, &o).unwrap_err();
        assert!(e.contains("DATAGATE_SERVER__BIND__X"), "{e}");
    }
}
