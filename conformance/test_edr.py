"""OGC API EDR against real judges: edr-pydantic and covjson-pydantic on every
document, openapi-spec-validator on /edr/api, OWSLib's EDR client, and values compared
with xarray's own decoded read of the same files."""

import csv
import io
import math
import os
import shutil
import subprocess

import numpy as np
import pytest
import requests
import xarray as xr
from covjson_pydantic.coverage import Coverage, CoverageCollection
from edr_pydantic.capabilities import ConformanceModel, LandingPageModel
from edr_pydantic.collections import Collection, Collections

from conftest import start_server

CORE_10 = "http://www.opengis.net/spec/ogcapi-edr-1/1.0/conf/core"
CORE_11 = "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/core"
R_KM = 6371.0088


def open_local(fixtures_dir, name):
    coder = xr.coders.CFDatetimeCoder(use_cftime=True)
    return xr.open_dataset(os.path.join(fixtures_dir, name), decode_times=coder)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# A JSON schema of the CoverageJSON structures EDR answers use, written from the
# CoverageJSON specification (OGC 21-069r2): objects, members and their types. The
# cross-member rules (shape vs. values vs. domain axes) are checked in code below.
_AXIS = {
    "oneOf": [
        {"type": "object", "required": ["values"],
         "properties": {"values": {"type": "array", "minItems": 1},
                        "dataType": {"type": "string"},
                        "coordinates": {"type": "array", "items": {"type": "string"}},
                        "bounds": {"type": "array"}}},
        {"type": "object", "required": ["start", "stop", "num"],
         "properties": {"start": {"type": "number"}, "stop": {"type": "number"},
                        "num": {"type": "integer", "minimum": 1}}},
    ]
}
_I18N = {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"}}
COVJSON_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "definitions": {
        "domain": {
            "type": "object",
            "required": ["type", "axes"],
            "properties": {
                "type": {"const": "Domain"},
                "domainType": {"enum": ["Grid", "VerticalProfile", "PointSeries", "Point", "MultiPointSeries",
                                        "MultiPoint", "PolygonSeries", "Polygon", "Trajectory", "Section"]},
                "axes": {"type": "object", "minProperties": 1,
                         "properties": {"x": _AXIS, "y": _AXIS, "z": _AXIS, "t": _AXIS, "composite": _AXIS}},
                "referencing": {"type": "array", "items": {
                    "type": "object", "required": ["coordinates", "system"],
                    "properties": {"coordinates": {"type": "array", "items": {"type": "string"}},
                                   "system": {"type": "object", "required": ["type"]}}}},
            },
        },
        "parameter": {
            "type": "object",
            "required": ["type", "observedProperty"],
            "properties": {
                "type": {"const": "Parameter"},
                "label": _I18N,
                "description": _I18N,
                "observedProperty": {"type": "object", "required": ["label"],
                                     "properties": {"id": {"type": "string"}, "label": _I18N}},
                "unit": {"type": "object", "anyOf": [{"required": ["label"]}, {"required": ["symbol"]}]},
            },
        },
        "ndarray": {
            "type": "object",
            "required": ["type", "dataType", "values"],
            "properties": {
                "type": {"const": "NdArray"},
                "dataType": {"enum": ["float", "integer", "string"]},
                "axisNames": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                "values": {"type": "array", "items": {"type": ["number", "string", "null"]}},
            },
        },
        "coverage": {
            "type": "object",
            "required": ["type", "domain", "ranges"],
            "properties": {
                "type": {"const": "Coverage"},
                "domain": {"$ref": "#/definitions/domain"},
                "parameters": {"type": "object", "additionalProperties": {"$ref": "#/definitions/parameter"}},
                "ranges": {"type": "object", "minProperties": 1,
                           "additionalProperties": {"$ref": "#/definitions/ndarray"}},
            },
        },
    },
    "oneOf": [
        {"$ref": "#/definitions/coverage"},
        {"type": "object", "required": ["type", "coverages"],
         "properties": {"type": {"const": "CoverageCollection"},
                        "parameters": {"type": "object",
                                       "additionalProperties": {"$ref": "#/definitions/parameter"}},
                        "coverages": {"type": "array", "items": {"$ref": "#/definitions/coverage"}}}},
    ],
}


def check_covjson_schema(doc):
    import jsonschema

    jsonschema.validate(doc, COVJSON_SCHEMA)
    covs = doc["coverages"] if doc["type"] == "CoverageCollection" else [doc]
    params = doc.get("parameters", {})
    for cov in covs:
        axes = cov["domain"]["axes"]
        for name, rng in cov["ranges"].items():
            assert name in {**params, **cov.get("parameters", {})}, name
            assert math.prod(rng.get("shape", [1])) == len(rng["values"])
            assert len(rng.get("axisNames", [])) == len(rng.get("shape", []))
            for a, n in zip(rng.get("axisNames", []), rng.get("shape", [])):
                assert len(axes[a]["values"]) == n, (a, n)
            if rng["dataType"] == "integer":
                assert all(v is None or isinstance(v, int) for v in rng["values"])
        if "t" in axes:
            assert all(isinstance(v, str) and v.endswith("Z") for v in axes["t"]["values"])


def get(server, path, **params):
    return requests.get(f"{server}/edr{path}", params=params, timeout=30)


def coverage(r):
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/prs.coverage+json")
    doc = r.json()
    if doc["type"] == "CoverageCollection":
        CoverageCollection.model_validate_json(r.text)
    else:
        Coverage.model_validate_json(r.text)
    check_covjson_schema(doc)
    return doc


def values(doc, name):
    return np.array([np.nan if v is None else v for v in doc["ranges"][name]["values"]], dtype=float)


def problem(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["code"] == status
    assert body["title"] and body["detail"] and body["description"]
    return body


# ---------------------------------------------------------------- metadata


def test_edr_landing_conformance_collections(server):
    r = get(server, "")
    LandingPageModel.model_validate_json(r.text)
    rels = {link["rel"]: link for link in r.json()["links"]}
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["conformance"]["href"].endswith("/edr/conformance")
    conf = get(server, "/conformance")
    ConformanceModel.model_validate_json(conf.text)
    classes = conf.json()["conformsTo"]
    assert CORE_10 in classes and CORE_11 in classes
    for c in ["collections", "covjson", "geojson", "html", "oas30", "position", "area", "cube",
              "radius", "trajectory", "corridor", "locations"]:
        assert f"http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/{c}" in classes
    cols = get(server, "/collections")
    Collections.model_validate_json(cols.text)
    ids = [c["id"] for c in cols.json()["collections"]]
    assert {"sst_classic.nc", "gridded_nc4.nc", "curvilinear.nc"} <= set(ids)
    # No gridded variable, no collection.
    assert "types_nc4.nc" not in ids
    problem(get(server, "/collections/types_nc4.nc"), 404)


def test_edr_collection_metadata(server, fixtures_dir):
    r = get(server, "/collections/sst_classic.nc")
    Collection.model_validate_json(r.text)
    c = r.json()
    ds = open_local(fixtures_dir, "sst_classic.nc")
    # 0..360 grid covering the globe: CRS84 bbox -180..180.
    assert c["extent"]["spatial"]["bbox"] == [[-180.0, -45.0, 180.0, 45.0]]
    assert c["extent"]["temporal"]["interval"] == [[iso(ds.time.values[0]), iso(ds.time.values[-1])]]
    assert c["extent"]["temporal"]["values"] == [iso(t) for t in ds.time.values]
    assert c["extent"]["temporal"]["trs"].startswith("TIMECRS")
    assert set(c["parameter_names"]) == {"sst", "sst_packed", "quality"}
    sst = c["parameter_names"]["sst"]
    assert sst["type"] == "Parameter"
    assert sst["unit"]["label"] == "K" and sst["unit"]["symbol"]["value"] == "K"
    assert sst["observedProperty"]["label"] == "sea_surface_temperature"
    assert sst["observedProperty"]["id"]
    assert "CoverageJSON" in c["output_formats"]
    for q in ["position", "area", "cube", "radius", "trajectory", "corridor", "locations", "items"]:
        link = c["data_queries"][q]["link"]
        assert link["variables"]["query_type"] == q
        assert "CoverageJSON" in link["variables"]["output_formats"] or q == "items"
    assert c["data_queries"]["radius"]["link"]["variables"]["within_units"]
    g = get(server, "/collections/gridded_nc4.nc")
    Collection.model_validate_json(g.text)
    v = g.json()["extent"]["vertical"]
    assert v["interval"] == [["0", "50"]] and v["values"] == ["0", "10", "50"]
    assert g.json()["extent"]["spatial"]["bbox"] == [[-180.0, -47.5, 180.0, 47.5]]  # global cells


def test_edr_openapi_document_is_valid(server):
    from openapi_spec_validator import validate

    r = get(server, "/api")
    assert r.status_code == 200
    assert "openapi" in r.headers["content-type"]
    doc = r.json()
    validate(doc)
    paths = doc["paths"]
    for q in ["position", "area", "cube", "radius", "trajectory", "corridor", "items", "locations"]:
        assert f"/edr/collections/{{collectionId}}/{q}" in paths
    names = {p["name"] for p in paths["/edr/collections/{collectionId}/corridor"]["get"]["parameters"]}
    assert {"coords", "corridor-width", "width-units", "corridor-height", "datetime", "parameter-name", "z", "f"} <= names
    assert "bbox" in {p["name"] for p in paths["/edr/collections/{collectionId}/cube"]["get"]["parameters"]}


def test_edr_html_for_browsers(server):
    h = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    for path in ["", "/collections", "/collections/sst_classic.nc", "/conformance"]:
        r = requests.get(f"{server}/edr{path}", headers=h, timeout=10)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "<html" in r.text and r.text.rstrip().endswith("</html>")
        assert '<header class="site">' in r.text  # the server's one layout
    r = get(server, "/collections/sst_classic.nc", f="html")
    assert "sst_packed" in r.text and "<table" in r.text
    r = requests.get(f"{server}/edr/collections/sst_classic.nc/position",
                     params={"coords": "POINT(20 5)", "parameter-name": "sst"}, headers=h, timeout=10)
    assert r.headers["content-type"].startswith("text/html") and "<td>" in r.text


# ---------------------------------------------------------------- values vs xarray


def test_edr_position_series_matches_xarray(server, fixtures_dir):
    ds = open_local(fixtures_dir, "sst_classic.nc")
    # Grid point lon=40, lat=15 (j=3, i=2), asked as -320 to exercise normalisation.
    doc = coverage(get(server, "/collections/sst_classic.nc/position",
                       coords="POINT(-320 15)", **{"parameter-name": "sst,sst_packed,quality"}))
    assert doc["domain"]["domainType"] == "PointSeries"
    axes = doc["domain"]["axes"]
    assert axes["t"]["values"] == [iso(t) for t in ds.time.values]  # noleap calendar
    assert axes["y"]["values"] == [15.0]
    cell = ds.sel(lat=15, lon=40)
    np.testing.assert_allclose(values(doc, "sst"), cell.sst.values, rtol=1e-6)
    np.testing.assert_allclose(values(doc, "sst_packed"), cell.sst_packed.values, rtol=1e-6)
    assert doc["ranges"]["quality"]["dataType"] == "integer"
    assert doc["ranges"]["quality"]["values"] == [int(v) for v in cell.quality.values]
    # A fill cell (lat 25, lon 60): null, like xarray's NaN.
    doc = coverage(get(server, "/collections/sst_classic.nc/position",
                       coords="POINT(61 24)", **{"parameter-name": "sst,sst_packed"}))
    assert np.isnan(ds.sst.sel(lat=25, lon=60).values).all()
    assert doc["ranges"]["sst"]["values"] == [None, None, None]
    assert doc["ranges"]["sst_packed"]["values"] == [None, None, None]


def test_edr_position_levels_and_instants(server, fixtures_dir):
    ds = open_local(fixtures_dir, "gridded_nc4.nc")
    url = "/collections/gridded_nc4.nc/position"
    doc = coverage(get(server, url, coords="POINT(-101 13)", **{"parameter-name": "temp"},
                       datetime="2020-01-01T12:00:00Z"))
    assert doc["domain"]["domainType"] == "VerticalProfile"
    exp = ds.temp.sel(lon=-105, lat=12.5).isel(time=2).values
    np.testing.assert_allclose(values(doc, "temp"), exp, rtol=1e-6)
    doc = coverage(get(server, url, coords="POINT Z(-101 13 10)", **{"parameter-name": "temp"}))
    assert doc["domain"]["domainType"] == "PointSeries"
    np.testing.assert_allclose(values(doc, "temp"), ds.temp.sel(lon=-105, lat=12.5, depth=10).values, rtol=1e-6)
    doc = coverage(get(server, url, coords="POINT(-101 13)", **{"parameter-name": "temp"}, z="0/10",
                       datetime="2020-01-01T06:00:00Z/.."))
    assert doc["domain"]["domainType"] == "Grid"
    exp = ds.temp.sel(lon=-105, lat=12.5, depth=[0, 10]).isel(time=slice(1, None)).values
    assert doc["ranges"]["temp"]["shape"] == [3, 2, 1, 1]
    np.testing.assert_allclose(values(doc, "temp"), exp.ravel(), rtol=1e-6)
    # A list of instants, and 2-D parameters beside 4-D ones: a CoverageCollection.
    doc = coverage(get(server, url, coords="POINT(-101 13)", datetime="2020-01-01T00:00:00Z,2020-01-01T18:00:00Z",
                       z="50", parameter_names="temp,mask"))
    assert doc["type"] == "CoverageCollection" and len(doc["coverages"]) == 2
    t = doc["coverages"][0]
    assert t["domain"]["axes"]["t"]["values"] == ["2020-01-01T00:00:00Z", "2020-01-01T18:00:00Z"]
    np.testing.assert_allclose(values(t, "temp"), ds.temp.sel(lon=-105, lat=12.5, depth=50).isel(time=[0, 3]).values, rtol=1e-6)
    assert doc["coverages"][1]["ranges"]["mask"]["values"] == [int(ds.mask.sel(lon=-105, lat=12.5))]


def inside_polygon(ring, x, y):
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        (xi, yi), (xj, yj) = ring[i], ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def test_edr_area_polygon_mask_matches_xarray(server, fixtures_dir):
    ds = open_local(fixtures_dir, "sst_classic.nc")
    ring = [(-50, -30), (50, -30), (0, 40), (-50, -30)]
    wkt = "POLYGON((" + ",".join(f"{x} {y}" for x, y in ring) + "))"
    doc = coverage(get(server, "/collections/sst_classic.nc/area", coords=wkt,
                       **{"parameter-name": "sst"}, datetime="2000-02-01"))
    assert doc["domain"]["domainType"] == "Grid"
    xs = doc["domain"]["axes"]["x"]["values"]
    assert xs == sorted(xs) and min(xs) >= -50 and max(xs) <= 50  # 0..360 data in the request's frame
    got = values(doc, "sst")
    # xarray: cells whose centres are inside, on the 0..360 grid.
    field = ds.sst.isel(time=1)
    lon180 = ((field.lon + 180) % 360) - 180
    mask = np.array([[inside_polygon(ring, float(x), float(y)) for x in lon180] for y in field.lat])
    exp = field.values[mask]
    assert np.isfinite(got).sum() == np.isfinite(exp).sum()
    assert math.isclose(np.nanmean(got), np.nanmean(exp), rel_tol=1e-6)
    assert math.isclose(np.nansum(got), np.nansum(exp), rel_tol=1e-6)


def test_edr_cube_across_antimeridian_matches_xarray(server, fixtures_dir):
    ds = open_local(fixtures_dir, "gridded_nc4.nc")
    doc = coverage(get(server, "/collections/gridded_nc4.nc/cube", bbox="160,-20,-160,10", z="0/10",
                       datetime="2020-01-01T06:00:00Z/2020-01-01T12:00:00Z", **{"parameter-name": "temp"}))
    axes = doc["domain"]["axes"]
    assert axes["x"]["values"] == [165.0, 175.0, 185.0, 195.0]
    assert axes["t"]["values"] == ["2020-01-01T06:00:00Z", "2020-01-01T12:00:00Z"]
    sub = ds.temp.sel(lon=[165, 175, -175, -165], lat=slice(-20, 10), depth=slice(0, 10)).isel(time=[1, 2])
    assert doc["ranges"]["temp"]["shape"] == list(sub.shape)
    np.testing.assert_allclose(values(doc, "temp"), sub.values.ravel(), rtol=1e-6)
    # resolution-x/y: evenly spread picks.
    doc = coverage(get(server, "/collections/gridded_nc4.nc/cube", bbox="-180,-50,180,50",
                       **{"resolution-x": "5", "resolution-y": "4", "parameter-name": "mask"}))
    assert doc["ranges"]["mask"]["shape"] == [4, 5]
    lon = ds.lon.values[[0, 9, 18, 26, 35]]
    lat = ds.lat.values[[0, 6, 13, 19]]
    assert doc["domain"]["axes"]["x"]["values"] == [float(v) for v in lon]
    assert doc["domain"]["axes"]["y"]["values"] == [float(v) for v in lat]
    assert doc["ranges"]["mask"]["values"] == [int(v) for v in ds.mask.sel(lon=lon, lat=lat).values.ravel()]


def haversine(x1, y1, x2, y2):
    p1, p2 = np.radians(y1), np.radians(y2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(x2 - x1) / 2) ** 2
    return 2 * R_KM * np.arcsin(np.sqrt(a))


def test_edr_radius_matches_xarray(server, fixtures_dir):
    ds = open_local(fixtures_dir, "sst_classic.nc")
    doc = coverage(get(server, "/collections/sst_classic.nc/radius", coords="POINT(350 5)", within="2500",
                       **{"within-units": "km", "parameter-name": "sst"}, datetime="2000-01-01"))
    got = values(doc, "sst")
    field = ds.sst.isel(time=0)
    lon2, lat2 = np.meshgrid(field.lon.values, field.lat.values)
    inside = haversine(350.0, 5.0, lon2, lat2) <= 2500
    assert inside.sum() > 4
    assert np.isfinite(got).sum() == np.isfinite(field.values[inside]).sum()
    assert math.isclose(np.nansum(got), np.nansum(field.values[inside]), rel_tol=1e-6)
    # Miles are converted.
    doc2 = coverage(get(server, "/collections/sst_classic.nc/radius", coords="POINT(350 5)",
                        within=str(2500 / 1.609344), **{"within-units": "mi", "parameter-name": "sst"},
                        datetime="2000-01-01"))
    assert np.isfinite(values(doc2, "sst")).sum() == np.isfinite(got).sum()


def test_edr_trajectory_matches_xarray(server, fixtures_dir):
    ds = open_local(fixtures_dir, "gridded_nc4.nc")
    # M = epoch seconds: 2020-01-01T00:00Z and T18:00Z; Z = depth.
    t0 = 1577836800
    wkt = f"LINESTRING ZM(-101 11 0 {t0}, -52 21 10 {t0 + 6 * 3600}, 121 -41 50 {t0 + 18 * 3600})"
    doc = coverage(get(server, "/collections/gridded_nc4.nc/trajectory", coords=wkt, **{"parameter-name": "temp"}))
    assert doc["domain"]["domainType"] == "Trajectory"
    comp = doc["domain"]["axes"]["composite"]
    assert comp["coordinates"] == ["t", "x", "y", "z"]
    exp = [ds.temp.sel(lon=x, lat=y, depth=z, time=ds.time.values[k], method="nearest").item()
           for (x, y, z, k) in [(-101, 11, 0, 0), (-52, 21, 10, 1), (121, -41, 50, 3)]]
    np.testing.assert_allclose(values(doc, "temp"), exp, rtol=1e-6)
    assert comp["values"][2] == ["2020-01-01T18:00:00Z", 125.0, -42.5, 50.0]


def test_edr_corridor_matches_xarray(server, fixtures_dir):
    ds = open_local(fixtures_dir, "gridded_nc4.nc")
    doc = coverage(get(server, "/collections/gridded_nc4.nc/corridor", coords="LINESTRING(-30 -20, 30 20)",
                       **{"corridor-width": "1200", "width-units": "km", "parameter-name": "mask"}))
    got = np.array([v is not None for v in doc["ranges"]["mask"]["values"]])
    lon2, lat2 = np.meshgrid(ds.lon.values, ds.lat.values)

    # Distance to the segment on a local plane, as the server documents.
    lat0 = 0.0
    k = R_KM * np.pi / 180
    bx, by = 60 * np.cos(lat0) * k, 40 * k
    px, py = (lon2 + 30) * np.cos(lat0) * k, (lat2 + 20) * k
    t = np.clip((px * bx + py * by) / (bx * bx + by * by), 0, 1)
    d = np.hypot(px - t * bx, py - t * by)
    assert got.sum() == (d <= 600).sum() > 10


def test_edr_curvilinear_grid(server, fixtures_dir):
    ds = open_local(fixtures_dir, "curvilinear.nc")
    lon, lat = ds.lon.values, ds.lat.values
    d = haversine(10.3, 50.1, lon, lat)
    j, i = np.unravel_index(np.argmin(d), d.shape)
    doc = coverage(get(server, "/collections/curvilinear.nc/position", coords="POINT(10.3 50.1)"))
    assert doc["domain"]["axes"]["x"]["values"] == [float(lon[j, i])]
    assert doc["domain"]["axes"]["y"]["values"] == [float(lat[j, i])]
    np.testing.assert_allclose(values(doc, "temp"), ds.temp.values[:, j, i], rtol=1e-6)
    ring = [(8, 48), (12, 48), (12, 51), (8, 51), (8, 48)]
    wkt = "POLYGON((" + ",".join(f"{x} {y}" for x, y in ring) + "))"
    doc = coverage(get(server, "/collections/curvilinear.nc/area", coords=wkt, datetime="2010-01-02"))
    assert doc["domain"]["domainType"] == "MultiPoint"
    inside = np.array([[inside_polygon(ring, lon[a, b], lat[a, b]) for b in range(lon.shape[1])]
                       for a in range(lon.shape[0])])
    assert len(doc["domain"]["axes"]["composite"]["values"]) == inside.sum() > 3
    np.testing.assert_allclose(sorted(values(doc, "temp")), sorted(ds.temp.values[1][inside]), rtol=1e-6)
    # Far off the grid: no data.
    assert get(server, "/collections/curvilinear.nc/position", coords="POINT(100 0)").status_code == 204


def test_edr_csv_and_geojson(server, fixtures_dir):
    ds = open_local(fixtures_dir, "sst_classic.nc")
    r = get(server, "/collections/sst_classic.nc/position", coords="POINT(40 15)", f="CSV",
            **{"parameter-name": "sst,quality"})
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["datetime"] for row in rows] == [iso(t) for t in ds.time.values]
    np.testing.assert_allclose([float(row["sst"]) for row in rows], ds.sst.sel(lat=15, lon=40).values, rtol=1e-6)
    r = requests.get(f"{server}/edr/collections/sst_classic.nc/area",
                     params={"coords": "POLYGON((30 10,50 10,50 30,30 30,30 10))", "parameter-name": "sst",
                             "datetime": "2000-01-01"},
                     headers={"Accept": "application/geo+json"}, timeout=10)
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    pts = sorted((f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][1]) for f in fc["features"])
    assert pts == [(40.0, 15.0), (40.0, 25.0)]
    f0 = [f for f in fc["features"] if f["geometry"]["coordinates"][1] == 15.0][0]
    assert math.isclose(f0["properties"]["sst"], float(ds.sst.sel(lat=15, lon=40).isel(time=0)), rel_tol=1e-6)
    assert f0["properties"]["datetime"] == "2000-01-01T00:00:00Z"


def test_edr_owslib_client(server, fixtures_dir):
    edr_mod = pytest.importorskip("owslib.ogcapi.edr")
    api = edr_mod.EnvironmentalDataRetrieval(f"{server}/edr")
    assert CORE_10 in api.conformance()["conformsTo"]
    assert "sst_classic.nc" in api.data()
    meta = api.collection("sst_classic.nc")
    assert "sst" in meta["parameter_names"]
    doc = api.query_data("sst_classic.nc", "position", coords="POINT(40 15)", parameter_names=["sst"])
    Coverage.model_validate(doc)
    ds = open_local(fixtures_dir, "sst_classic.nc")
    np.testing.assert_allclose(values(doc, "sst"), ds.sst.sel(lat=15, lon=40).values, rtol=1e-6)
    assert list(doc["ranges"]) == ["sst"]  # parameter_names honoured
    cube = api.query_data("gridded_nc4.nc", "cube", bbox=[0, 0, 20, 10], parameter_names=["mask"])
    Coverage.model_validate(cube)
    assert cube["ranges"]["mask"]["shape"] == [2, 2]


# ---------------------------------------------------------------- errors


def test_edr_errors(server):
    url = "/collections/sst_classic.nc/position"
    problem(get(server, url, coords="POINT(10"), 400)
    problem(get(server, url, coords="CIRCLE(1 2)"), 400)
    problem(get(server, url, coords="POINT(10 -2)", datetime="yesterday"), 400)
    problem(get(server, url, coords="POINT(10 -2)", datetime="2000-02-01/2000-01-01"), 400)
    problem(get(server, url, coords="POINT(10 -2)", datetime="2000-02-29"), 400)  # not in noleap
    problem(get(server, url, coords="POINT(10 -2)", **{"parameter-name": "nope"}), 400)
    problem(get(server, url, coords="POINT(10 -2)", f="xml"), 400)
    problem(get(server, url, coords="POINT(10 -2)", bogus="1"), 400)
    problem(get(server, url), 400)
    problem(get(server, "/collections/sst_classic.nc/area", coords="POINT(1 2)"), 400)
    problem(get(server, "/collections/sst_classic.nc/radius", coords="POINT(1 2)"), 400)
    problem(get(server, "/collections/sst_classic.nc/cube", bbox="1,2,3"), 400)
    problem(get(server, "/collections/sst_classic.nc/corridor", coords="LINESTRING(0 0,1 1)"), 400)
    problem(get(server, "/collections/nope.nc"), 404)
    problem(get(server, "/collections/nope.nc/position", coords="POINT(1 2)"), 404)
    problem(get(server, "/collections/sst_classic.nc/nothing"), 404)
    problem(get(server, "/collections/sst_classic.nc/locations/nowhere"), 404)
    # No data: before the first time step, or a level outside the axis.
    r = get(server, url, coords="POINT(10 -2)", datetime="1990-01-01")
    assert r.status_code == 204 and r.content == b""
    r = get(server, "/collections/gridded_nc4.nc/position", coords="POINT(10 -2)", z="5000",
            **{"parameter-name": "temp"})
    assert r.status_code == 204


# ---------------------------------------------------------------- configured server


@pytest.fixture(scope="module")
def configured(tmp_path_factory, fixtures_dir):
    d = tmp_path_factory.mktemp("edrdata")
    os.makedirs(d / "deep" / "er")
    shutil.copy(os.path.join(fixtures_dir, "sst_classic.nc"), d / "deep" / "er" / "sst.nc")
    shutil.copy(os.path.join(fixtures_dir, "gridded_nc4.nc"), d / "big.nc")
    cfg = d / "datagate.toml"
    cfg.write_text(
        "[limits]\nmax_response_bytes = 4000\n"
        "[[edr.locations]]\nid = \"equator\"\nname = \"Equator 40E\"\ncoords = \"POINT(40 5)\"\n"
        "[[edr.locations]]\nid = \"north\"\ncoords = \"POINT(-100 45)\"\ncollections = [\"big.nc\"]\n"
    )
    proc, base = start_server(["--config", str(cfg), str(d)])
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_edr_ids_with_slashes_and_locations(configured, fixtures_dir):
    ds = open_local(fixtures_dir, "sst_classic.nc")
    for cid in ["deep/er/sst.nc", "deep%2Fer%2Fsst.nc"]:
        r = requests.get(f"{configured}/edr/collections/{cid}", timeout=10)
        Collection.model_validate_json(r.text)
        assert r.json()["id"] == "deep/er/sst.nc"
        doc = coverage(requests.get(f"{configured}/edr/collections/{cid}/position",
                                    params={"coords": "POINT(40 15)", "parameter-name": "sst"}, timeout=10))
        np.testing.assert_allclose(values(doc, "sst"), ds.sst.sel(lat=15, lon=40).values, rtol=1e-6)
    locs = requests.get(f"{configured}/edr/collections/deep/er/sst.nc/locations", timeout=10).json()
    assert [f["id"] for f in locs["features"]] == ["equator"]
    big = requests.get(f"{configured}/edr/collections/big.nc/locations", timeout=10).json()
    assert [f["id"] for f in big["features"]] == ["equator", "north"]
    doc = coverage(requests.get(f"{configured}/edr/collections/deep/er/sst.nc/locations/equator",
                                params={"parameter-name": "sst"}, timeout=10))
    np.testing.assert_allclose(values(doc, "sst"), ds.sst.sel(lat=5, lon=40).values, rtol=1e-6)
    problem(requests.get(f"{configured}/edr/collections/deep/er/sst.nc/locations/north", timeout=10), 404)


def test_edr_too_large_is_413(configured):
    # 4 x 3 x 20 x 36 floats = 34560 bytes > 4000: refused before reading.
    r = requests.get(f"{configured}/edr/collections/big.nc/cube",
                     params={"bbox": "-180,-90,180,90", "parameter-name": "temp"}, timeout=10)
    problem(r, 413)
    # A small cube still works.
    ok = requests.get(f"{configured}/edr/collections/big.nc/cube",
                      params={"bbox": "0,0,20,10", "parameter-name": "temp"}, timeout=10)
    assert ok.status_code == 200


def test_edr_schemathesis_finds_no_server_error(server, tmp_path):
    """Fuzzes every route of /edr/api (bounded examples); no 5xx allowed."""
    import shutil as sh
    import sys

    st = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    if not os.path.exists(st):
        st = sh.which("schemathesis")
    if st is None:
        pytest.skip("schemathesis is not installed")
    out = subprocess.run(
        [st, "run", f"{server}/edr/api", "--url", server, "--checks", "not_a_server_error",
         "--max-examples", "15", "--request-timeout", "20", "--generation-deterministic",
         "--continue-on-failure"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_edr_multipoint_position(server, fixtures_dir):
    ds = open_local(fixtures_dir, "sst_classic.nc")
    doc = coverage(get(server, "/collections/sst_classic.nc/position",
                       coords="MULTIPOINT((41 16),(-99 -26),(181 44))", **{"parameter-name": "sst_packed"}))
    assert doc["domain"]["domainType"] == "MultiPointSeries"
    comp = doc["domain"]["axes"]["composite"]
    assert comp["values"] == [[40.0, 15.0], [-100.0, -25.0], [180.0, 45.0]]
    assert doc["ranges"]["sst_packed"]["axisNames"] == ["t", "composite"]
    exp = np.stack([ds.sst_packed.sel(lon=x, lat=y).values for x, y in [(40, 15), (260, -25), (180, 45)]], axis=1)
    np.testing.assert_allclose(values(doc, "sst_packed"), exp.ravel(), rtol=1e-6)
    doc = coverage(get(server, "/collections/sst_classic.nc/position", datetime="2000-03-01",
                       coords="MULTIPOINT((41 16),(-99 -26))", **{"parameter-name": "sst"}))
    assert doc["domain"]["domainType"] == "MultiPoint"
    assert doc["domain"]["axes"]["t"]["values"] == ["2000-03-01T00:00:00Z"]


def test_edr_long_trajectory_reads_points_not_boxes(server, fixtures_dir):
    """A diagonal of 30 vertices: the box of its rows x columns is 20 x 30 cells, so the
    server reads point by point; the values must still be xarray's nearest cells."""
    ds = open_local(fixtures_dir, "gridded_nc4.nc")
    pts = [(-171 + 11.3 * k, -46 + 3.07 * k) for k in range(30)]  # no ties
    wkt = "LINESTRING(" + ",".join(f"{x:.2f} {y:.2f}" for x, y in pts) + ")"
    doc = coverage(get(server, "/collections/gridded_nc4.nc/trajectory", coords=wkt, z="10",
                       datetime="2020-01-01T12:00:00Z", **{"parameter-name": "temp"}))
    lons = [((x + 180) % 360) - 180 for x, _ in pts]
    exp = [ds.temp.isel(time=2).sel(depth=10, lon=lo, lat=round(y, 2), method="nearest").item()
           for lo, (_, y) in zip(lons, pts)]
    np.testing.assert_allclose(values(doc, "temp"), exp, rtol=1e-6)


def test_edr_netcdf_output_reads_back_in_xarray(server, fixtures_dir, tmp_path):
    ds = open_local(fixtures_dir, "gridded_nc4.nc")
    r = get(server, "/collections/gridded_nc4.nc/cube", bbox="160,-20,-160,10", z="0/10",
            datetime="2020-01-01T06:00:00Z/2020-01-01T12:00:00Z", f="NetCDF", **{"parameter-name": "temp"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-netcdf"
    assert r.content[:4] == b"\x89HDF"
    path = tmp_path / "cube.nc"
    path.write_bytes(r.content)
    out = open_local(tmp_path, "cube.nc")
    sub = ds.temp.sel(lon=[165, 175, -175, -165], lat=slice(-20, 10), depth=slice(0, 10)).isel(time=[1, 2])
    assert out.temp.dims == ("time", "depth", "lat", "lon")
    np.testing.assert_allclose(out.temp.values, sub.values, rtol=1e-6)
    assert list(out.lon.values) == [165, 175, 185, 195]
    assert [iso(t) for t in out.time.values] == ["2020-01-01T06:00:00Z", "2020-01-01T12:00:00Z"]
    assert out.temp.attrs["units"] == "degC"
    # Area with a mask and packed data: decoded, outside cells missing.
    sst = open_local(fixtures_dir, "sst_classic.nc")
    r = get(server, "/collections/sst_classic.nc/area", coords="POLYGON((30 10,50 10,50 30,30 10))",
            f="NetCDF", **{"parameter-name": "sst_packed"})
    path = tmp_path / "area.nc"
    path.write_bytes(r.content)
    out = open_local(tmp_path, "area.nc")
    assert [iso(t) for t in out.time.values] == [iso(t) for t in sst.time.values]  # noleap kept
    assert out.time.attrs.get("calendar", out.time.encoding.get("calendar")) == "noleap"
    got = out.sst_packed.values
    assert np.isfinite(got).sum() == 3 * 1  # one cell centre (40, 15) inside the triangle, 3 times
    np.testing.assert_allclose(got[np.isfinite(got)], sst.sst_packed.sel(lon=40, lat=15).values, rtol=1e-6)
