"""WMS 1.1.1 / 1.3.0 judged by real clients: OWSLib, GDAL's WMS driver, Pillow.

The fixture sst_classic.nc has a smooth field warmest at the equator, descending
latitudes 45..-45 (10° steps), longitudes 0..340 (20° steps) and two land cells
(fill) at (25N, 60E) and (25S, 220E = 140W)."""

import io
import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest
import requests
from owslib.util import ServiceException
from owslib.wms import WebMapService
from PIL import Image

SST = "sst_classic.nc/sst"
ARTIFACTS = os.environ.get("DATAGATE_ARTIFACTS")


def sst_value(t, j, i):
    """The fixture's value (datagate/src/fixtures.rs sst_value)."""
    if (j, i) in ((2, 3), (7, 11)):
        return None
    lat = 45.0 - 10.0 * j
    return 300.0 - abs(lat) * 0.5 + t * 0.25 + i * 0.01


def getmap(server, path="/wms", **params):
    base = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetMap",
        "LAYERS": SST,
        "STYLES": "",
        "CRS": "CRS:84",
        "BBOX": "-180,-90,180,90",
        "WIDTH": "360",
        "HEIGHT": "180",
        "FORMAT": "image/png",
    }
    base.update({k.upper(): v for k, v in params.items()})
    return requests.get(server + path, params=base, timeout=30)


def image(resp, name=None):
    assert resp.status_code == 200, resp.text[:500]
    assert resp.headers["content-type"].startswith("image/"), resp.headers["content-type"]
    img = Image.open(io.BytesIO(resp.content))
    img.load()
    if ARTIFACTS and name:
        os.makedirs(ARTIFACTS, exist_ok=True)
        img.save(os.path.join(ARTIFACTS, name + ".png"))
    return img.convert("RGBA")


def luminance(px):
    r, g, b = px[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def exception(resp, version="1.3.0"):
    """(code, message) of a ServiceExceptionReport, checking its content type."""
    ctype = resp.headers["content-type"].split(";")[0]
    want = "text/xml" if version == "1.3.0" else "application/vnd.ogc.se_xml"
    assert ctype == want, (ctype, resp.text[:300])
    assert 400 <= resp.status_code < 500, resp.status_code
    root = ET.fromstring(resp.content)
    ns = "{http://www.opengis.net/ogc}" if version == "1.3.0" else ""
    assert root.tag == ns + "ServiceExceptionReport"
    se = root.find(ns + "ServiceException")
    return se.get("code"), se.text


# ---------------------------------------------------------------- capabilities


@pytest.mark.parametrize("version", ["1.1.1", "1.3.0"])
def test_owslib_lists_layers_with_dimensions_and_extent(server, version):
    wms = WebMapService(server + "/wms", version=version)
    assert wms.identification.version == version
    names = list(wms.contents)
    for want in [SST, "sst_classic.nc/sst_packed", "gridded_nc4.nc/temp", "curvilinear.nc/temp"]:
        assert want in names
    # Not maps: 1-D, char, coordinate and string variables.
    assert not any(n.endswith(("/lat", "/lon", "/time", "/platform")) for n in names)
    assert not any(n.startswith("types_") for n in names)
    sst = wms[SST]
    assert sst.title == 'sea surface "skin" temperature'
    assert sst.boundingBoxWGS84 == (-180.0, -50.0, 180.0, 50.0)
    for crs in ["CRS:84", "EPSG:4326", "EPSG:3857"]:
        assert crs in sst.crsOptions or (version == "1.1.1" and crs == "CRS:84")
    # Monthly steps of a noleap calendar, compact, latest by default.
    assert sst.timepositions == ["2000-01-01T00:00:00Z/2000-03-01T00:00:00Z/P1M"]
    assert sst.defaulttimeposition == "2000-03-01T00:00:00Z"
    assert "default-scalar/viridis" in sst.styles
    legend = sst.styles["default-scalar/viridis"]["legend"]
    img = Image.open(io.BytesIO(requests.get(legend, timeout=30).content))
    assert img.size == (110, 264)
    if version == "1.3.0":
        dims = wms["gridded_nc4.nc/temp"].dimensions
        assert dims["elevation"]["values"] == ["0", "10", "50"]
        assert dims["elevation"]["units"] == "m"
        assert dims["time"]["values"] == ["2020-01-01T00:00:00Z/2020-01-01T18:00:00Z/PT6H"]


LAYER_ORDER_130 = [
    "Name", "Title", "Abstract", "KeywordList", "CRS", "EX_GeographicBoundingBox",
    "BoundingBox", "Dimension", "Attribution", "AuthorityURL", "Identifier",
    "MetadataURL", "DataURL", "FeatureListURL", "Style", "MinScaleDenominator",
    "MaxScaleDenominator", "Layer",
]
LAYER_ORDER_111 = [
    "Name", "Title", "Abstract", "KeywordList", "SRS", "LatLonBoundingBox",
    "BoundingBox", "Dimension", "Extent", "Attribution", "AuthorityURL", "Identifier",
    "MetadataURL", "DataURL", "FeatureListURL", "Style", "ScaleHint", "Layer",
]


@pytest.mark.parametrize("version", ["1.1.1", "1.3.0"])
def test_capabilities_follow_the_schema_order(server, version):
    r = requests.get(server + "/wms", params={"service": "WMS", "request": "GetCapabilities", "version": version}, timeout=30)
    assert r.status_code == 200
    ctype = r.headers["content-type"].split(";")[0]
    assert ctype == ("text/xml" if version == "1.3.0" else "application/vnd.ogc.wms_xml")
    root = ET.fromstring(r.content)
    ns = "{http://www.opengis.net/wms}" if version == "1.3.0" else ""
    assert root.tag == ns + ("WMS_Capabilities" if version == "1.3.0" else "WMT_MS_Capabilities")
    assert root.get("version") == version
    order = LAYER_ORDER_130 if version == "1.3.0" else LAYER_ORDER_111
    top = [c.tag.replace(ns, "") for c in root]
    assert top == ["Service", "Capability"]
    cap = [c.tag.replace(ns, "") for c in root.find(ns + "Capability")]
    assert cap == ["Request", "Exception", "Layer"]
    service = [c.tag.replace(ns, "") for c in root.find(ns + "Service")]
    assert service[:3] == ["Name", "Title", "Abstract"]
    named = 0
    for layer in root.iter(ns + "Layer"):
        tags = [c.tag.replace(ns, "") for c in layer]
        positions = [order.index(t) for t in tags]
        assert positions == sorted(positions), tags
        if layer.find(ns + "Name") is not None:
            named += 1
            geo = "EX_GeographicBoundingBox" if version == "1.3.0" else "LatLonBoundingBox"
            assert layer.find(ns + geo) is not None
            for dim in layer.findall(ns + "Dimension"):
                if dim.get("name") == "time":
                    assert dim.get("units") == "ISO8601"
    assert named >= 8
    if version == "1.3.0":
        # EPSG:4326 bounding boxes are latitude first in 1.3.0.
        sst = [l for l in root.iter(ns + "Layer") if l.findtext(ns + "Name") == SST][0]
        bb = {b.get("CRS"): b for b in sst.findall(ns + "BoundingBox")}
        assert bb["EPSG:4326"].get("minx") == "-50" and bb["EPSG:4326"].get("miny") == "-180"
        assert bb["CRS:84"].get("minx") == "-180"


@pytest.mark.parametrize(
    "asked,got", [(None, "1.3.0"), ("1.3.0", "1.3.0"), ("1.1.1", "1.1.1"), ("1.2.0", "1.1.1"), ("1.0.0", "1.1.1"), ("3.0.0", "1.3.0")]
)
def test_version_negotiation(server, asked, got):
    params = {"SERVICE": "WMS", "REQUEST": "GetCapabilities"}
    if asked:
        params["VERSION"] = asked
    r = requests.get(server + "/wms", params=params, timeout=30)
    assert ET.fromstring(r.content).get("version") == got


def test_one_dataset_service(server):
    wms = WebMapService(server + "/wms/sst_classic.nc", version="1.3.0")
    assert sorted(wms.contents) == ["quality", "sst", "sst_packed"]
    img = wms.getmap(layers=["sst"], styles=[""], srs="CRS:84", bbox=(-180, -90, 180, 90), size=(90, 45), format="image/png")
    assert Image.open(io.BytesIO(img.read())).size == (90, 45)
    r = requests.get(server + "/wms/nope.nc", params={"REQUEST": "GetCapabilities"}, timeout=30)
    assert r.status_code == 404


# ---------------------------------------------------------------------- GetMap


def pixel_of(lon, lat, bbox=(-180, -90, 180, 90), size=(360, 180)):
    x = int((lon - bbox[0]) / (bbox[2] - bbox[0]) * size[0])
    y = int((bbox[3] - lat) / (bbox[3] - bbox[1]) * size[1])
    return x, y


def test_getmap_png_orientation_fill_and_transparency(server):
    img = image(getmap(server, transparent="TRUE"), "sst_crs84")
    assert img.size == (360, 180)
    # Outside the data's latitudes (|lat| > 50): transparent.
    assert img.getpixel(pixel_of(0, 70))[3] == 0
    assert img.getpixel(pixel_of(0, -70))[3] == 0
    # Land (fill) cells transparent, exactly where they are: 25N 60E and 25S 140W.
    # A latitude flip would swap them to the other hemisphere.
    assert img.getpixel(pixel_of(60, 25))[3] == 0
    assert img.getpixel(pixel_of(-140, -25))[3] == 0
    assert img.getpixel(pixel_of(60, -25))[3] == 255
    assert img.getpixel(pixel_of(-140, 25))[3] == 255
    # The warm equator band in the middle rows (viridis brightens with value).
    mid = luminance(img.getpixel(pixel_of(0, 3)))
    north = luminance(img.getpixel(pixel_of(0, 44)))
    south = luminance(img.getpixel(pixel_of(0, -44)))
    assert mid > north + 20 and mid > south + 20
    # Not transparent by default: the fill shows the background colour.
    opaque = image(getmap(server))
    assert opaque.getpixel(pixel_of(60, 25)) == (255, 255, 255, 255)
    assert all(a == 255 for a in opaque.getchannel("A").getdata())
    red = image(getmap(server, bgcolor="0xFF0000"))
    assert red.getpixel(pixel_of(60, 25)) == (255, 0, 0, 255)


def test_epsg4326_in_130_is_crs84_with_swapped_bbox(server):
    a = image(getmap(server, crs="CRS:84", bbox="-100,-40,60,40", width=160, height=80))
    b = image(getmap(server, crs="EPSG:4326", bbox="-40,-100,40,60", width=160, height=80))
    c = image(getmap(server, version="1.1.1", crs=None, srs="EPSG:4326", bbox="-100,-40,60,40", width=160, height=80))
    assert list(a.getdata()) == list(b.getdata())
    assert list(a.getdata()) == list(c.getdata())


def test_owslib_getmap_both_versions(server):
    # OWSLib takes lon,lat and sends EPSG:4326 lat,lon in 1.3.0 itself.
    for version in ["1.1.1", "1.3.0"]:
        bbox = (-180, -90, 180, 90)
        wms = WebMapService(server + "/wms", version=version)
        out = wms.getmap(layers=[SST], styles=[""], srs="EPSG:4326", bbox=bbox, size=(360, 180), format="image/png", transparent=True)
        img = Image.open(io.BytesIO(out.read())).convert("RGBA")
        assert img.size == (360, 180)
        assert img.getpixel(pixel_of(60, 25))[3] == 0
        assert img.getpixel(pixel_of(60, -25))[3] == 255


def test_antimeridian_and_0_360_longitudes(server):
    # 100E..260E across the antimeridian; the data's longitudes are 0..340.
    img = image(getmap(server, bbox="100,-50,260,50", width=160, height=100, transparent="TRUE"), "sst_antimeridian")
    assert all(a == 255 for a in [img.getpixel((x, 10))[3] for x in range(160)])
    # Land at 25S 140W = 220E: column 120, row 75 in this map.
    assert img.getpixel((120, 75))[3] == 0
    assert img.getpixel((120, 25))[3] == 255
    # The same area as -260..-100 gives the same picture.
    same = image(getmap(server, bbox="-260,-50,-100,50", width=160, height=100, transparent="TRUE"))
    assert list(img.getdata()) == list(same.getdata())


def test_web_mercator_places_cells_right(server):
    # Web Mercator world; land cell at 25N 60E.
    import math

    R = 6378137.0
    half = math.pi * R
    img = image(getmap(server, crs="EPSG:3857", bbox=f"{-half},{-half},{half},{half}", width=512, height=512, transparent="TRUE"), "sst_3857")

    def px(lon, lat):
        x = R * math.radians(lon)
        y = R * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
        return int((x + half) / (2 * half) * 512), int((half - y) / (2 * half) * 512)

    assert img.getpixel(px(60, 25))[3] == 0
    assert img.getpixel(px(60, -25))[3] == 255
    assert img.getpixel(px(0, 60))[3] == 0  # beyond 50N: no data
    assert img.getpixel(px(0, 45))[3] == 255


def test_time_and_elevation_select_the_field(server):
    t0 = image(getmap(server, time="2000-01-01T00:00:00Z", colorscalerange="290,300.5", numcolorbands="250"))
    t2 = image(getmap(server, time="2000-03-01T00:00:00Z", colorscalerange="290,300.5"))
    assert t0.getpixel(pixel_of(0, 0)) != t2.getpixel(pixel_of(0, 0))
    near = image(getmap(server, time="2000-02-25T00:00:00Z", colorscalerange="290,300.5"))
    assert list(near.getdata()) == list(t2.getdata())
    code, _ = exception(getmap(server, time="1999-01-01T00:00:00Z"))
    assert code == "InvalidDimensionValue"
    code, _ = exception(getmap(server, time="not-a-time"))
    assert code == "InvalidDimensionValue"
    g = {"layers": "gridded_nc4.nc/temp", "colorscalerange": "10,22"}
    z0 = image(getmap(server, elevation="0", **g))
    z50 = image(getmap(server, elevation="50", **g))
    assert luminance(z0.getpixel(pixel_of(0, 0))) > luminance(z50.getpixel(pixel_of(0, 0)))
    code, _ = exception(getmap(server, elevation="5000", **g))
    assert code == "InvalidDimensionValue"


def test_colour_scale_parameters(server):
    # Everything above 290 K red, below 285 K transparent.
    img = image(getmap(server, colorscalerange="285,290", abovemaxcolor="0xFF0000", belowmincolor="transparent", transparent="TRUE"), "sst_outside_range")
    assert img.getpixel(pixel_of(0, 3)) == (255, 0, 0, 255)
    assert img.getpixel(pixel_of(0, 44))[3] == 0  # ~277.5 K
    # Two bands: only two colours in the data area.
    two = image(getmap(server, colorscalerange="277,298", numcolorbands="2", transparent="TRUE"))
    colours = {p for p in two.getdata() if p[3] == 255}
    assert len(colours) == 2
    for bad in [{"colorscalerange": "5,1"}, {"numcolorbands": "1000"}, {"logscale": "true", "colorscalerange": "0,10"}]:
        code, _ = exception(getmap(server, **bad))
        assert code == "InvalidParameterValue"
    # Palettes are styles; one scale for all tiles: a small window has the colours
    # of the same place in the whole map.
    whole = image(getmap(server, styles="default-scalar/rdbu"))
    part = image(getmap(server, styles="default-scalar/rdbu", bbox="0,0,10,10", width=10, height=10))
    assert part.getpixel((5, 5)) == whole.getpixel(pixel_of(5, 5))
    log = image(getmap(server, logscale="true", colorscalerange="270,310"))
    assert log.size == (360, 180)


def test_packed_values_are_decoded(server):
    a = image(getmap(server, colorscalerange="270,310", transparent="TRUE"))
    b = image(getmap(server, layers="sst_classic.nc/sst_packed", colorscalerange="270,310", transparent="TRUE"))
    same = sum(1 for p, q in zip(a.getdata(), b.getdata()) if p == q)
    assert same / (360 * 180) > 0.99


def test_curvilinear_grid(server):
    bbox = (5.0, 45.5, 15.0, 54.5)
    img = image(getmap(server, layers="curvilinear.nc/temp", bbox=",".join(map(str, bbox)), width=200, height=180, transparent="TRUE"), "curvilinear")
    # The grid's centre (10E, 50N) is covered; the corners of the bbox are off the
    # rotated grid.
    assert img.getpixel(pixel_of(10, 50, bbox, (200, 180)))[3] == 255
    for corner in [(0, 0), (199, 0), (0, 179), (199, 179)]:
        assert img.getpixel(corner)[3] == 0
    covered = sum(1 for p in img.getdata() if p[3] == 255)
    # 6×8 cells of ~1°×1° (cos-scaled): roughly 48 cells of the 90 in the bbox.
    assert 0.3 < covered / (200 * 180) < 0.7
    # At the centre of cell (j=3, i=3) of the 30°-rotated grid, its value
    # (t=1: 280 + (48 + 8j + i) * 0.1 = 287.5).
    import math

    s, c = math.sin(math.radians(30)), math.cos(math.radians(30))
    lon, lat = 10 - 0.5 * c - 0.5 * s, 50 - 0.5 * s + 0.5 * c
    r = requests.get(server + "/wms", params={
        "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetFeatureInfo", "QUERY_LAYERS": "curvilinear.nc/temp",
        "LAYERS": "curvilinear.nc/temp", "CRS": "CRS:84", "BBOX": f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}",
        "WIDTH": "1", "HEIGHT": "1", "I": "0", "J": "0", "INFO_FORMAT": "application/json"}, timeout=30)
    f = r.json()["features"][0]
    assert f["value"] == pytest.approx(287.5, abs=1e-4), f
    assert f["cell_longitude"] == pytest.approx(lon) and f["cell_latitude"] == pytest.approx(lat)


def test_jpeg_and_size_limits(server):
    r = getmap(server, format="image/jpeg", width=300, height=150)
    img = image(r)
    assert r.headers["content-type"] == "image/jpeg" and img.size == (300, 150)
    code, msg = exception(getmap(server, width="5000"))
    assert code == "InvalidParameterValue" and "5000" in msg


# -------------------------------------------------------------- GetFeatureInfo


def feature_info(server, version="1.3.0", **params):
    base = {
        "SERVICE": "WMS", "VERSION": version, "REQUEST": "GetFeatureInfo", "LAYERS": SST, "QUERY_LAYERS": SST,
        "STYLES": "", "BBOX": "-180,-90,180,90", "WIDTH": "360", "HEIGHT": "180", "INFO_FORMAT": "application/json",
    }
    base["CRS" if version == "1.3.0" else "SRS"] = "CRS:84" if version == "1.3.0" else "EPSG:4326"
    base.update({k.upper(): v for k, v in params.items()})
    return requests.get(server + "/wms", params=base, timeout=30)


def test_feature_info_values(server):
    # Pixel (200, 64): lon 20.5, lat 25.5 → cell (lat 25, lon 20) = j 2, i 1.
    r = feature_info(server, I="200", J="64", TIME="2000-01-01T00:00:00Z")
    f = r.json()["features"][0]
    assert f["cell_latitude"] == 25.0 and f["cell_longitude"] == 20.0
    assert f["time"] == "2000-01-01T00:00:00Z"
    assert abs(f["value"] - sst_value(0, 2, 1)) < 1e-4
    # Land: no value. 1.1.1 uses X/Y.
    r = feature_info(server, version="1.1.1", X="240", Y="64")
    assert r.json()["features"][0]["value"] is None
    # Other formats.
    t = feature_info(server, I="200", J="64", INFO_FORMAT="text/plain")
    assert t.headers["content-type"].startswith("text/plain") and "value: 2" in t.text
    x = feature_info(server, I="200", J="64", INFO_FORMAT="text/xml")
    assert float(ET.fromstring(x.content).find("FeatureInfo/value").text) == pytest.approx(sst_value(2, 2, 1), abs=1e-4)
    # Elevation selects the level: depth 10 m is 2 degrees colder than the surface.
    g = {"QUERY_LAYERS": "gridded_nc4.nc/temp", "LAYERS": "gridded_nc4.nc/temp", "I": "185", "J": "85"}
    v0 = feature_info(server, ELEVATION="0", **g).json()["features"][0]["value"]
    v10 = feature_info(server, ELEVATION="10", **g).json()["features"][0]["value"]
    assert v0 - v10 == pytest.approx(2.0, abs=1e-4)
    # OWSLib 1.3.0.
    wms = WebMapService(server + "/wms", version="1.3.0")
    out = wms.getfeatureinfo(layers=[SST], srs="CRS:84", bbox=(-180, -90, 180, 90), size=(360, 180),
                             format="image/png", query_layers=[SST], info_format="application/json", xy=(200, 64))
    assert json.loads(out.read())["features"][0]["cell_longitude"] == 20.0
    code, _ = exception(feature_info(server, I="400", J="10"))
    assert code == "InvalidPoint"
    code, _ = exception(feature_info(server, I="1", J="1", INFO_FORMAT="image/gif"))
    assert code == "InvalidFormat"


# -------------------------------------------------------------- legend, errors


def test_legend_graphic(server):
    r = requests.get(server + "/wms", params={"REQUEST": "GetLegendGraphic", "LAYER": SST, "STYLE": "default-scalar/plasma", "COLORSCALERANGE": "270,300"}, timeout=30)
    img = image(r, "legend")
    assert img.size == (110, 264)
    bar = image(requests.get(server + "/wms", params={"REQUEST": "GetLegendGraphic", "LAYER": SST, "COLORBARONLY": "true", "WIDTH": "10", "HEIGHT": "100"}, timeout=30))
    assert bar.size == (10, 100)
    assert luminance(bar.getpixel((5, 0))) > luminance(bar.getpixel((5, 99)))


@pytest.mark.parametrize("version", ["1.1.1", "1.3.0"])
def test_service_exceptions(server, version):
    crs_key = "CRS" if version == "1.3.0" else "SRS"
    cases = [
        ({"LAYERS": "sst_classic.nc/nope"}, "LayerNotDefined"),
        ({"LAYERS": "nope.nc/sst"}, "LayerNotDefined"),
        ({crs_key: "EPSG:99999"}, "InvalidCRS" if version == "1.3.0" else "InvalidSRS"),
        ({"FORMAT": "image/gif"}, "InvalidFormat"),
        ({"STYLES": "default-scalar/nope"}, "StyleNotDefined"),
        ({"TIME": "2100-01-01"}, "InvalidDimensionValue"),
        ({"BBOX": "10,0,0,10"}, "InvalidParameterValue"),
        ({"WIDTH": "0"}, "InvalidParameterValue"),
        ({"REQUEST": "DescribeEverything"}, "OperationNotSupported"),
        ({"LAYERS": ""}, "MissingParameterValue"),
    ]
    for override, want in cases:
        params = {"VERSION": version}
        if version == "1.1.1":
            params["CRS"] = None
            params["SRS"] = "EPSG:4326"
        params.update(override)
        code, msg = exception(getmap(server, **params), version)
        assert code == want, (override, code, msg)


def test_owslib_sees_exceptions(server):
    wms = WebMapService(server + "/wms", version="1.3.0")
    with pytest.raises(ServiceException):
        wms.getmap(layers=["sst_classic.nc/nope"], styles=[""], srs="CRS:84", bbox=(-180, -90, 180, 90), size=(10, 10), format="image/png")


def test_exceptions_in_image_and_blank(server):
    for mode, v in [("INIMAGE", "1.3.0"), ("BLANK", "1.3.0"), ("application/vnd.ogc.se_inimage", "1.1.1")]:
        r = getmap(server, layers="nope.nc/x", exceptions=mode, width=120, height=60, version=v)
        img = image(r)
        assert img.size == (120, 60)
        colours = set(img.getdata())
        if "inimage" in mode.lower():
            assert len(colours) > 1  # the message is drawn
        else:
            assert colours == {(255, 255, 255, 255)}


# ------------------------------------------------------------------ GDAL, tiles


def test_gdal_reads_capabilities_and_a_map(server, tmp_path):
    out = subprocess.run(["gdalinfo", f"WMS:{server}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "LAYERS=sst_classic.nc%2Fsst" in out.stdout
    tif = tmp_path / "sst.tif"
    url = f"WMS:{server}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=sst_classic.nc%2Fsst&CRS=EPSG:4326&BBOX=-50,-180,50,180&FORMAT=image/png&TRANSPARENT=TRUE"
    p = subprocess.run(["gdal_translate", "-q", "-outsize", "360", "100", url, str(tif)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr

    def at(lon, lat):
        r = subprocess.run(["gdallocationinfo", "-valonly", "-geoloc", str(tif), str(lon), str(lat)], capture_output=True, text=True, timeout=60)
        return [int(v) for v in r.stdout.split()]

    assert at(60, 25)[3] == 0  # land
    assert at(60, -25)[3] == 255
    eq, north = at(0.5, 0.5), at(0.5, 44.5)
    assert luminance(eq) > luminance(north) + 20


def test_xyz_tiles(server):
    r = requests.get(server + "/wms/tiles/sst_classic.nc/sst/0/0/0.png", timeout=30)
    img = image(r, "tile_0_0_0")
    assert img.size == (256, 256)
    # Transparent by default beyond the data (above 50N), opaque at the equator.
    assert img.getpixel((128, 10))[3] == 0
    assert img.getpixel((10, 128))[3] == 255
    # Zoom 1: the north-east quarter holds the land cell at 25N 60E.
    ne = image(requests.get(server + "/wms/tiles/sst_classic.nc/sst/1/1/0.png", timeout=30))
    import math

    y = math.log(math.tan(math.pi / 4 + math.radians(25) / 2))
    py = int((math.pi - y) / math.pi * 256)
    px = int(60 / 180 * 256)
    assert ne.getpixel((px, py))[3] == 0
    assert ne.getpixel((px, 256 - 1))[3] == 255
    styled = requests.get(server + "/wms/tiles/sst_classic.nc/sst/0/0/0.png?style=default-scalar/greys&colorscalerange=270,300", timeout=30)
    assert image(styled).getpixel((10, 128)) != img.getpixel((10, 128))
    bad = requests.get(server + "/wms/tiles/sst_classic.nc/sst/1/5/0.png", timeout=30)
    assert bad.status_code == 400
    missing = requests.get(server + "/wms/tiles/sst_classic.nc/nope/0/0/0.png", timeout=30)
    assert missing.status_code == 400 and b"LayerNotDefined" in missing.content
