"""WMS over observations (CF discrete sampling geometries), judged by OWSLib and
Pillow: each observed variable is a layer with the features' extent and times;
GetMap draws stations as dots and trajectories as tracks where they are, coloured by
the value netCDF4 reads from the same file; TIME picks the observations;
GetFeatureInfo answers the nearest station's id and value."""

import io
import math
import xml.etree.ElementTree as ET

import netCDF4
import numpy as np
import pytest
import requests
from owslib.wms import WebMapService
from PIL import Image

import dsg_files
from conftest import start_server, stop_server

STATIONS = "stations.nc/temp"
GLIDER = "glider.nc/temp"
PROFILES = "profiles.nc/salinity"
WORLD = (-180, -90, 180, 90)


@pytest.fixture(scope="module")
def obs_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("obswms")
    dsg_files.write_stations(d / "stations.nc")
    dsg_files.write_glider(d / "glider.nc")
    dsg_files.write_profiles(d / "profiles.nc")
    return d


@pytest.fixture(scope="module")
def base(obs_dir):
    proc, url = start_server([str(obs_dir)])
    yield url
    stop_server(proc)


def getmap(base, **params):
    q = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetMap",
        "LAYERS": STATIONS,
        "STYLES": "",
        "CRS": "CRS:84",
        "BBOX": ",".join(str(v) for v in WORLD),
        "WIDTH": "360",
        "HEIGHT": "180",
        "FORMAT": "image/png",
        "TRANSPARENT": "TRUE",
        "COLORSCALERANGE": "280,300",
    }
    q.update({k.upper(): v for k, v in params.items()})
    return requests.get(base + "/wms", params=q, timeout=30)


def rgba(resp):
    assert resp.status_code == 200, resp.text[:500]
    assert resp.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(resp.content))
    img.load()
    return img.convert("RGBA")


def pixel(lon, lat, bbox=WORLD, size=(360, 180)):
    """The pixel whose corner the point falls on (dots are centred on the point)."""
    x = (lon - bbox[0]) / (bbox[2] - bbox[0]) * size[0]
    y = (bbox[3] - lat) / (bbox[3] - bbox[1]) * size[1]
    return int(x), int(y)


def luminance(px):
    return 0.2126 * px[0] + 0.7152 * px[1] + 0.0722 * px[2]


def last_valid_temps(path):
    """Each station's latest value and its time index, read with netCDF4."""
    with netCDF4.Dataset(path) as nc:
        temp = nc["temp"][:]
        out = []
        for s in range(temp.shape[0]):
            row = np.ma.masked_array(temp[s])
            k = max(i for i in range(row.size) if row[i] is not np.ma.masked)
            out.append((float(row[k]), k))
        return out


def exception_code(resp):
    assert 400 <= resp.status_code < 500, resp.status_code
    assert resp.headers["content-type"].startswith("text/xml"), resp.text[:200]
    root = ET.fromstring(resp.content)
    se = root.find("{http://www.opengis.net/ogc}ServiceException")
    return se.get("code"), se.text


@pytest.mark.parametrize("version", ["1.1.1", "1.3.0"])
def test_observation_layers_in_capabilities(base, version):
    wms = WebMapService(base + "/wms", version=version, timeout=30)
    names = set(wms.contents)
    assert {STATIONS, "stations.nc/wind", GLIDER, PROFILES} <= names, names
    st = wms[STATIONS]
    lons, lats = dsg_files.STATION_LON, dsg_files.STATION_LAT
    want = (min(lons), min(lats), max(lons), max(lats))
    got = st.boundingBoxWGS84
    assert all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(got, want)), got
    # Hourly observations: the compact Annex C interval.
    assert st.timepositions == ["2021-03-01T00:00:00Z/2021-03-01T23:00:00Z/PT1H"], st.timepositions
    assert st.queryable
    assert [s for s in st.styles]  # the palettes, with legends
    gl = wms[GLIDER]
    assert gl.timepositions == ["2023-01-01T00:00:00Z/2023-01-01T01:30:00Z/PT10M"]
    # Profiles have levels: an elevation dimension listing them.
    doc = requests.get(
        base + "/wms", params={"SERVICE": "WMS", "REQUEST": "GetCapabilities", "VERSION": version}
    ).text
    root = ET.fromstring(doc)
    ns = "{http://www.opengis.net/wms}" if version == "1.3.0" else ""
    tag = "Dimension" if version == "1.3.0" else "Extent"
    for layer in root.iter(ns + "Layer"):
        name = layer.find(ns + "Name")
        if name is not None and name.text == PROFILES:
            dims = {d.get("name"): d for d in layer.findall(ns + tag)}
            assert dims["elevation"].text == "0,10,20,30,40,50", dims["elevation"].text
            assert dims["time"].get("multipleValues") == "1"
            break
    else:
        pytest.fail("no profiles layer")


def test_getmap_draws_stations_where_they_are(base, obs_dir):
    wms = WebMapService(base + "/wms", version="1.3.0", timeout=30)
    resp = wms.getmap(
        layers=[STATIONS],
        styles=[""],
        srs="CRS:84",
        bbox=WORLD,
        size=(360, 180),
        format="image/png",
        transparent=True,
        colorscalerange="280,300",
    )
    img = Image.open(io.BytesIO(resp.read())).convert("RGBA")
    lums = []
    for lon, lat in zip(dsg_files.STATION_LON, dsg_files.STATION_LAT):
        px = img.getpixel(pixel(lon, lat))
        assert px[3] == 255, (lon, lat, px)
        lums.append(luminance(px))
    # Latest values 285.75 < 290.75 < 295.75 K: viridis grows brighter with value.
    values = [v for v, _ in last_valid_temps(obs_dir / "stations.nc")]
    assert values == sorted(values)
    assert lums[0] < lums[1] < lums[2], lums
    opaque = sum(img.getchannel("A").histogram()[1:])
    assert 3 * 50 < opaque < 3 * 200, opaque  # three dots, nothing else
    for far in [(0, 0), (300, 20), (100, 150), (359, 179)]:
        assert img.getpixel(far)[3] == 0, far


def test_getmap_in_web_mercator(base):
    r = 6378137.0
    extent = math.pi * r
    bbox = (-extent, -extent, extent, extent)
    img = rgba(getmap(base, crs="EPSG:3857", bbox=",".join(map(str, bbox)), width=256, height=256))
    for lon, lat in zip(dsg_files.STATION_LON, dsg_files.STATION_LAT):
        x = math.radians(lon) * r
        y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * r
        px = pixel(x, y, bbox, (256, 256))
        assert img.getpixel(px)[3] == 255, (lon, lat, px)
    assert img.getpixel((10, 10))[3] == 0
    # The XYZ tile of the whole world is the same map.
    tile = rgba(requests.get(f"{base}/wms/tiles/{STATIONS}/0/0/0.png?colorscalerange=280,300"))
    assert tile.tobytes() == img.tobytes()
    # The one-dataset service names the layer by its variable.
    one = requests.get(f"{base}/wms/stations.nc", params={
        "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": "temp",
        "STYLES": "", "CRS": "EPSG:3857", "BBOX": ",".join(map(str, bbox)), "WIDTH": "256",
        "HEIGHT": "256", "FORMAT": "image/png", "TRANSPARENT": "TRUE",
        "COLORSCALERANGE": "280,300"})
    assert rgba(one).tobytes() == img.tobytes()


def test_time_range_selects_values(base):
    a = pixel(dsg_files.STATION_LON[0], dsg_files.STATION_LAT[0])
    early = rgba(getmap(base, time="2021-03-01T00:00:00Z/2021-03-01T02:00:00Z")).getpixel(a)
    late = rgba(getmap(base, time="2021-03-01T20:00:00Z/2021-03-01T23:00:00Z")).getpixel(a)
    # Station A: 280.5 K at 02:00, 285.75 K at 23:00.
    assert early[3] == late[3] == 255
    assert luminance(early) < luminance(late), (early, late)
    # One instant, and a range with no observation at all.
    assert rgba(getmap(base, time="2021-03-01T05:00:00Z")).getpixel(a)[3] == 255
    empty = rgba(getmap(base, time="2021-04-01T00:00:00Z/2021-04-02T00:00:00Z"))
    assert empty.getchannel("A").getextrema() == (0, 0)


def test_tracks_drawn_along_the_trajectory(base):
    # glider-1 goes east along 35N from 10E to 10.9E; glider-2 is far north.
    bbox = (9.5, 34.5, 11.5, 35.5)
    size = (400, 200)
    params = dict(layers=GLIDER, bbox=",".join(map(str, bbox)), width=400, height=200,
                  colorscalerange="13,15")
    img = rgba(getmap(base, **params))
    y = pixel(10.0, 35.0, bbox, size)[1]
    x0, x1 = pixel(10.0, 35.0, bbox, size)[0], pixel(10.9, 35.0, bbox, size)[0]
    for x in range(x0 + 2, x1 - 2, 5):
        assert img.getpixel((x, y))[3] == 255, x
    # Cooling eastwards (15 - 0.1 × observation): darker in viridis.
    assert luminance(img.getpixel((x0 + 5, y))) > luminance(img.getpixel((x1 - 5, y)))
    for far in [(x0 - 20, y), (x1 + 20, y), ((x0 + x1) // 2, y - 30), ((x0 + x1) // 2, y + 30)]:
        assert img.getpixel(far)[3] == 0, far
    # The first 40 minutes only: the track stops at 10.4E.
    part = rgba(getmap(base, time="2023-01-01T00:00:00Z/2023-01-01T00:40:00Z", **params))
    xm = pixel(10.4, 35.0, bbox, size)[0]
    assert part.getpixel((x0 + 10, y))[3] == 255
    assert part.getpixel((xm + 20, y))[3] == 0


def feature_info(base, i, j, **params):
    q = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetFeatureInfo",
        "LAYERS": STATIONS,
        "QUERY_LAYERS": STATIONS,
        "CRS": "CRS:84",
        "BBOX": "-180,-90,180,90",
        "WIDTH": "360",
        "HEIGHT": "180",
        "I": str(i),
        "J": str(j),
        "INFO_FORMAT": "application/json",
    }
    q.update({k.upper(): v for k, v in params.items()})
    return requests.get(base + "/wms", params=q, timeout=30)


def test_feature_info_names_the_nearest_station(base, obs_dir):
    latest = last_valid_temps(obs_dir / "stations.nc")
    with netCDF4.Dataset(obs_dir / "stations.nc") as nc:
        times = netCDF4.num2date(nc["time"][:], nc["time"].units, only_use_cftime_datetimes=False)
        t6 = float(nc["temp"][1, 6])
    for s, name in enumerate(dsg_files.STATIONS):
        x, y = pixel(dsg_files.STATION_LON[s], dsg_files.STATION_LAT[s])
        r = feature_info(base, x + 2, y - 1)
        assert r.status_code == 200, r.text
        f = r.json()["features"][0]
        assert f["feature"] == name, f
        value, k = latest[s]
        assert math.isclose(f["value"], value, rel_tol=1e-6), (f, value)
        assert f["time"] == times[k].strftime("%Y-%m-%dT%H:%M:%SZ")
        assert math.isclose(f["cell_longitude"], dsg_files.STATION_LON[s])
    # One time: station B's value then; at 07:00 its record has a gap.
    x, y = pixel(dsg_files.STATION_LON[1], dsg_files.STATION_LAT[1])
    f = feature_info(base, x, y, time="2021-03-01T06:00:00Z").json()["features"][0]
    assert f["feature"] == "ST-B" and math.isclose(f["value"], t6, rel_tol=1e-6)
    f = feature_info(base, x, y, time="2021-03-01T07:00:00Z").json()["features"][0]
    assert f["feature"] == "ST-B" and f["value"] is None
    # Nowhere near a station: no feature.
    f = feature_info(base, 20, 170).json()["features"][0]
    assert "feature" not in f and f["value"] is None
    text = feature_info(base, x, y, info_format="text/plain")
    assert text.headers["content-type"].startswith("text/plain")
    assert "feature: ST-B" in text.text
    html = feature_info(base, x, y, info_format="text/html")
    assert "ST-B" in html.text
    xml = feature_info(base, x, y, info_format="text/xml")
    assert ET.fromstring(xml.content).find("FeatureInfo/feature").text == "ST-B"


def test_feature_info_on_a_track(base, obs_dir):
    bbox = (9.5, 34.5, 11.5, 35.5)
    x, y = pixel(10.5, 35.0, bbox, (400, 200))
    r = feature_info(base, x, y + 1, layers=GLIDER, query_layers=GLIDER,
                     bbox=",".join(map(str, bbox)), width=400, height=200)
    f = r.json()["features"][0]
    assert f["feature"] == "glider-1", f
    with netCDF4.Dataset(obs_dir / "glider.nc") as nc:
        lon, temp = nc["lon"][:], nc["temp"][:]
        k = int(np.argmin(np.abs(lon - 10.5) + (nc["trajectory_index"][:] != 0) * 1e9))
        assert math.isclose(f["value"], float(temp[k]), rel_tol=1e-6)
        assert math.isclose(f["cell_longitude"], float(lon[k]), abs_tol=1e-9)


def test_legend_and_errors(base):
    r = requests.get(base + "/wms", params={
        "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetLegendGraphic",
        "LAYER": STATIONS, "FORMAT": "image/png"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    Image.open(io.BytesIO(r.content)).load()
    assert exception_code(getmap(base, layers="stations.nc/nothing"))[0] == "LayerNotDefined"
    code, text = exception_code(getmap(base, time="yesterday"))
    assert code == "InvalidDimensionValue" and "yesterday" in text
    code, _ = exception_code(getmap(base, time="2021-03-02T00:00:00Z/2021-03-01T00:00:00Z"))
    assert code == "InvalidDimensionValue"
    code, _ = exception_code(getmap(base, layers=PROFILES, elevation="deep"))
    assert code == "InvalidDimensionValue"


def test_access_control_hides_restricted_observation_layers(obs_dir, tmp_path):
    """Observation layers are listed, drawn and queried only for those admitted to
    their dataset, as gridded layers are."""
    import bcrypt

    password = "seen-by-alice-3"
    (tmp_path / "users.htpasswd").write_text(
        "alice:" + bcrypt.hashpw(password.encode(), bcrypt.gensalt(5)).decode() + "\n"
    )
    config = tmp_path / "datagate.toml"
    config.write_text(
        f"""
[auth]
users_file = "users.htpasswd"
[[roots]]
path = "{obs_dir}"
[[roots]]
path = "{obs_dir}"
prefix = "restricted/"
[[access]]
datasets = "restricted/**"
allow = ["user:alice"]
[wms]
max_map_features = 2
"""
    )
    proc, url = start_server(["--config", str(config)])
    try:
        secret = "restricted/" + STATIONS
        anon = WebMapService(url + "/wms", version="1.3.0", timeout=30)
        assert STATIONS in anon.contents and secret not in anon.contents
        alice = requests.Session()
        alice.auth = ("alice", password)
        caps = alice.get(url + "/wms", params={"SERVICE": "WMS", "REQUEST": "GetCapabilities"})
        assert f"<Name>{secret}</Name>" in caps.text
        r = getmap(url, layers=secret)
        assert r.status_code == 401 and r.headers["content-type"].startswith("text/xml"), r.status_code
        # Three stations in view, two allowed per map: counted before anything is read.
        r = getmap(url)
        assert r.status_code == 413 and "at most 2 features" in r.text, r.text
        assert "ServiceException" in r.text
        bbox = (-20, 0, 20, 30)  # station A and B only
        q = {"SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": secret,
             "STYLES": "", "CRS": "CRS:84", "BBOX": ",".join(map(str, bbox)), "WIDTH": "400",
             "HEIGHT": "300", "FORMAT": "image/png", "TRANSPARENT": "TRUE"}
        img = rgba(alice.get(url + "/wms", params=q, timeout=30))
        lon, lat = dsg_files.STATION_LON[0], dsg_files.STATION_LAT[0]
        assert img.getpixel(pixel(lon, lat, bbox, (400, 300)))[3] == 255
    finally:
        stop_server(proc)


def test_elevation_picks_a_profile_level(base, obs_dir):
    """Profile 1001 (40N, 20W): ELEVATION picks the level nearest, as netCDF4 reads it."""
    bbox = (-30, 30, 10, 60)
    x, y = pixel(dsg_files.PROFILE_LON[0], dsg_files.PROFILE_LAT[0], bbox, (400, 300))
    with netCDF4.Dataset(obs_dir / "profiles.nc") as nc:
        z, sal = nc["z"][:5], nc["salinity"][:5]
    seen = []
    for level in ["0", "12", "40"]:
        r = feature_info(base, x, y, layers=PROFILES, query_layers=PROFILES,
                         bbox=",".join(map(str, bbox)), width=400, height=300, elevation=level)
        f = r.json()["features"][0]
        k = int(np.argmin(np.abs(z - float(level))))
        assert f["feature"] == "1001" and f["elevation"] == float(z[k]), f
        assert math.isclose(f["value"], float(sal[k]), rel_tol=1e-6)
        img = rgba(getmap(base, layers=PROFILES, bbox=",".join(map(str, bbox)), width=400,
                          height=300, elevation=level, colorscalerange="34,34.4"))
        seen.append(img.getpixel((x, y)))
    assert all(p[3] == 255 for p in seen)
    assert luminance(seen[0]) < luminance(seen[1]) < luminance(seen[2]), seen
