//! The GDAL_METADATA tag (42112): a small XML document of `<Item name=".."
//! sample=".." role="..">value</Item>` elements holding dataset metadata and each
//! band's scale, offset, description and units. Its grammar is this flat, so it is
//! scanned directly rather than through a general XML parser.

/// One `<Item>`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Item {
    pub name: String,
    /// The band (0-based) the item is about; `None` for the dataset.
    pub sample: Option<usize>,
    pub role: Option<String>,
    pub value: String,
}

/// The items of a GDAL_METADATA document; anything malformed is skipped.
pub(super) fn parse(xml: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<Item") {
        rest = &rest[start + 5..];
        let Some(head_end) = rest.find('>') else {
            break;
        };
        let head = &rest[..head_end];
        rest = &rest[head_end + 1..];
        let (value, after) = if head.ends_with('/') {
            ("", rest)
        } else {
            match rest.find("</Item>") {
                Some(end) => (&rest[..end], &rest[end + 7..]),
                None => break,
            }
        };
        rest = after;
        let Some(name) = attribute(head, "name") else {
            continue;
        };
        items.push(Item {
            name,
            sample: attribute(head, "sample").and_then(|s| s.trim().parse().ok()),
            role: attribute(head, "role"),
            value: unescape(value.trim()),
        });
    }
    items
}

/// The value of `key="..."` (or single quotes) in an element's head.
fn attribute(head: &str, key: &str) -> Option<String> {
    let mut search = head;
    while let Some(i) = search.find(key) {
        let before_ok = i == 0 || search[..i].ends_with(char::is_whitespace);
        let after = search[i + key.len()..].trim_start();
        if before_ok && let Some(after) = after.strip_prefix('=') {
            let after = after.trim_start();
            let quote = after.chars().next()?;
            if quote == '"' || quote == '\'' {
                let body = &after[1..];
                return body.find(quote).map(|end| unescape(&body[..end]));
            }
        }
        search = &search[i + key.len()..];
    }
    None
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_of_a_gdal_document() {
        let xml = r#"<GDALMetadata>
  <Item name="AREA_OR_POINT">Area</Item>
  <Item name="OFFSET" sample="0" role="offset">-5</Item>
  <Item name="SCALE" sample="0" role="scale">0.01</Item>
  <Item name="DESCRIPTION" sample="1" role="description">a &amp; b</Item>
  <Item name="empty" />
  <Item role="x">no name</Item>
</GDALMetadata>"#;
        let items = parse(xml);
        assert_eq!(items.len(), 5);
        assert_eq!(items[0].value, "Area");
        assert_eq!(items[0].sample, None);
        assert_eq!(items[2].role.as_deref(), Some("scale"));
        assert_eq!(items[2].sample, Some(0));
        assert_eq!(items[3].value, "a & b");
        assert_eq!(items[4].value, "");
        // Truncated documents give what was complete.
        assert_eq!(parse(&xml[..60]).len(), 1);
        assert!(parse("<Item name=\"x\">").is_empty());
    }
}
