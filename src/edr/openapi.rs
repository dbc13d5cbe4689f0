//! The OpenAPI 3.0 description of the EDR routes and their parameters.

use serde_json::{Value, json};

use super::metadata::QUERIES;

fn param(name: &str, description: &str, schema: Value, required: bool) -> Value {
    json!({
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
        "style": "form",
        "explode": false,
    })
}

fn with_example(mut p: Value, example: Value) -> Value {
    p["example"] = example;
    p
}

fn string() -> Value {
    json!({"type": "string"})
}

fn number() -> Value {
    json!({"type": "number"})
}

fn count() -> Value {
    json!({"type": "integer", "minimum": 1})
}

fn common() -> Vec<Value> {
    vec![
        param(
            "datetime",
            "An instant, a closed or open interval (`a/b`, `../b`, `a/..`) or a list of instants, ISO 8601 in UTC.",
            string(),
            false,
        ),
        param(
            "parameter-name",
            "Comma-separated parameter names (default: all). `parameter_names` is accepted as an alias.",
            string(),
            false,
        ),
        param(
            "z",
            "A level, a list of levels, an interval `lo/hi` or `Rn/start/step`.",
            string(),
            false,
        ),
        param(
            "crs",
            "Coordinate reference system of coords (only CRS84).",
            json!({"type": "string", "enum": ["CRS84", "OGC:CRS84", "EPSG:4326"]}),
            false,
        ),
        param(
            "f",
            "Output format (else negotiated with Accept).",
            json!({"type": "string", "enum": ["CoverageJSON", "GeoJSON", "CSV", "NetCDF", "JSON", "HTML"]}),
            false,
        ),
    ]
}

fn coords(required: bool, what: &str, example: &str) -> Value {
    let mut p = param(
        "coords",
        &format!("Well Known Text {what}, longitude latitude in CRS84."),
        string(),
        required,
    );
    p["example"] = json!(example);
    p
}

fn units(name: &str) -> Value {
    param(
        name,
        "Distance units.",
        json!({"type": "string", "enum": ["km", "m", "mi", "nmi"]}),
        false,
    )
}

fn query_params(q: &str) -> Vec<Value> {
    let mut p = match q {
        "position" => vec![coords(
            true,
            "POINT or MULTIPOINT (Z allowed)",
            "POINT(10 20)",
        )],
        "area" => vec![
            coords(
                true,
                "POLYGON or MULTIPOLYGON",
                "POLYGON((0 0,20 0,20 20,0 20,0 0))",
            ),
            param("resolution-x", "Number of points along x.", count(), false),
            param("resolution-y", "Number of points along y.", count(), false),
        ],
        "cube" => vec![
            with_example(
                param(
                    "bbox",
                    "minx,miny,maxx,maxy (or minx,miny,minz,maxx,maxy,maxz) in CRS84.",
                    string(),
                    true,
                ),
                json!("0,0,20,10"),
            ),
            param("resolution-x", "Number of points along x.", count(), false),
            param("resolution-y", "Number of points along y.", count(), false),
            param("resolution-z", "Number of levels.", count(), false),
        ],
        "radius" => vec![
            coords(true, "POINT or MULTIPOINT", "POINT(10 20)"),
            with_example(
                param("within", "Radius around the point(s).", number(), true),
                json!(500),
            ),
            units("within-units"),
        ],
        "trajectory" => vec![coords(
            true,
            "LINESTRING (Z: level, M: time in seconds since 1970-01-01)",
            "LINESTRING(0 0,20 10)",
        )],
        "corridor" => vec![
            coords(
                true,
                "LINESTRING (Z/M as for trajectory)",
                "LINESTRING(0 0,20 10)",
            ),
            param(
                "corridor-width",
                "Total width of the corridor.",
                number(),
                true,
            ),
            units("width-units"),
            param(
                "corridor-height",
                "Total height of the corridor around the line's Z values.",
                number(),
                false,
            ),
            param("height-units", "Height units.", string(), false),
            param("resolution-x", "Number of points along x.", count(), false),
            param("resolution-y", "Number of points along y.", count(), false),
        ],
        _ => Vec::new(),
    };
    p.extend(common());
    p
}

fn collection_id(example: Option<&str>) -> Value {
    let mut p = json!({
        "name": "collectionId",
        "in": "path",
        "required": true,
        "description": "A dataset id. Ids containing `/` may be given with the slashes as they are or percent-encoded (`%2F`).",
        "schema": {"type": "string"},
    });
    if let Some(e) = example {
        p["example"] = json!(e);
    }
    p
}

fn responses(data: bool) -> Value {
    let problem =
        json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/problem"}}});
    let mut r = json!({
        "200": {
            "description": "The answer.",
            "content": if data {
                json!({
                    "application/prs.coverage+json": {"schema": {"type": "object"}},
                    "application/vnd.cov+json": {"schema": {"type": "object"}},
                    "application/geo+json": {"schema": {"type": "object"}},
                    "text/csv": {"schema": {"type": "string"}},
                    "application/x-netcdf": {"schema": {"type": "string", "format": "binary"}},
                    "text/html": {"schema": {"type": "string"}},
                })
            } else {
                json!({
                    "application/json": {"schema": {"type": "object"}},
                    "text/html": {"schema": {"type": "string"}},
                })
            },
        },
        "400": {"description": "Bad request.", "content": problem.clone()},
        "404": {"description": "No such collection or location.", "content": problem.clone()},
    });
    if data {
        r["204"] = json!({"description": "The query selects no data."});
        r["413"] =
            json!({"description": "The answer would exceed the size limit.", "content": problem});
    }
    r
}

fn get(summary: &str, op: &str, params: Vec<Value>, data: bool) -> Value {
    json!({"get": {
        "summary": summary,
        "operationId": op,
        "parameters": params,
        "responses": responses(data),
    }})
}

/// The document; `example` is a collection id offered to API explorers and fuzzers.
pub fn document(base: &str, example: Option<&str>) -> Value {
    let f = || {
        vec![param(
            "f",
            "Output format.",
            json!({"type": "string", "enum": ["json", "html"]}),
            false,
        )]
    };
    let mut paths = serde_json::Map::new();
    paths.insert(
        "/edr".into(),
        get("Landing page", "getLandingPage", f(), false),
    );
    paths.insert(
        "/edr/conformance".into(),
        get("Conformance classes", "getConformance", f(), false),
    );
    paths.insert(
        "/edr/api".into(),
        get("This API definition", "getApi", f(), false),
    );
    paths.insert(
        "/edr/collections".into(),
        get(
            "The collections (one per dataset)",
            "getCollections",
            f(),
            false,
        ),
    );
    let mut cp = f();
    cp.insert(0, collection_id(example));
    paths.insert(
        "/edr/collections/{collectionId}".into(),
        get("One collection", "getCollection", cp, false),
    );
    for q in QUERIES {
        let mut ps = vec![collection_id(example)];
        let (summary, data) = match *q {
            "items" => ("The named locations as GeoJSON features", false),
            "locations" => ("The named locations", false),
            _ => ("Data query", true),
        };
        if matches!(*q, "items" | "locations") {
            ps.extend(f());
        } else {
            ps.extend(query_params(q));
        }
        let op = format!("get{}{}", q[..1].to_uppercase(), &q[1..]);
        paths.insert(
            format!("/edr/collections/{{collectionId}}/{q}"),
            get(&format!("{summary}: {q}"), &op, ps, data),
        );
    }
    let mut lp = vec![
        collection_id(example),
        json!({"name": "locId", "in": "path", "required": true, "description": "A location id.", "schema": {"type": "string"}}),
    ];
    lp.extend(common());
    paths.insert(
        "/edr/collections/{collectionId}/locations/{locId}".into(),
        get("Data at a named location", "getLocation", lp, true),
    );
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "datagate OGC API - Environmental Data Retrieval",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "One EDR collection per dataset; values decoded (scale/offset applied, fill as null), times in UTC in each dataset's calendar.",
        },
        "servers": [{"url": base}],
        "paths": paths,
        "components": {"schemas": {"problem": {
            "type": "object",
            "required": ["title", "status"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "code": {"type": "integer"},
                "description": {"type": "string"},
            },
        }}},
    })
}
