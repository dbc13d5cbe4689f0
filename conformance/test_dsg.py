"""Observations (CF discrete sampling geometries) through EDR: features listed as
GeoJSON, a feature's data and the spatial queries as CoverageJSON (checked with
covjson-pydantic and edr-pydantic), values compared with netCDF4's read of the same
files; malformed files give a clear error and the server stays up."""

import csv
import io
import json
import math

import netCDF4
import numpy as np
import pytest
import requests
from covjson_pydantic.coverage import Coverage, CoverageCollection
from edr_pydantic.collections import Collection, Collections

import dsg_files
from conftest import start_server, stop_server


@pytest.fixture(scope="module")
def dsg_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("dsg")
    dsg_files.write_all(d)
    return d


@pytest.fixture(scope="module")
def base(dsg_dir):
    proc, url = start_server([str(dsg_dir)])
    yield url
    stop_server(proc)


def col(base, name):
    return f"{base}/edr/collections/{name}"


def local_times(path, var="time"):
    with netCDF4.Dataset(path) as nc:
        t = nc[var]
        dates = netCDF4.num2date(t[:], t.units, only_use_cftime_datetimes=False)
        return [d.strftime("%Y-%m-%dT%H:%M:%SZ") for d in np.atleast_1d(dates)]


def values(masked):
    return [None if v is np.ma.masked else float(v) for v in np.ma.masked_array(masked).ravel()]


def close(a, b):
    assert len(a) == len(b), (a, b)
    for x, y in zip(a, b):
        if x is None or y is None:
            assert x is None and y is None, (a, b)
        else:
            assert math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-6), (a, b)


def test_collections_list_observation_datasets(base):
    r = requests.get(f"{base}/edr/collections")
    r.raise_for_status()
    Collections.model_validate_json(r.text)
    ids = {c["id"] for c in r.json()["collections"]}
    assert {"stations.nc", "profiles.nc", "glider.nc"} <= ids
    assert "bad_counts.nc" not in ids
    for name in ["stations.nc", "profiles.nc", "glider.nc"]:
        r = requests.get(col(base, name))
        Collection.model_validate_json(r.text)
        doc = r.json()
        assert {"locations", "position", "radius", "area", "cube", "items"} <= set(doc["data_queries"])
    doc = requests.get(col(base, "stations.nc")).json()
    assert set(doc["parameter_names"]) == {"temp", "wind"}
    assert doc["extent"]["temporal"]["interval"] == [["2021-03-01T00:00:00Z", "2021-03-01T23:00:00Z"]]
    assert doc["extent"]["spatial"]["bbox"] == [[-5.0, -30.25, 150.0, 20.5]]


def test_station_locations(base):
    r = requests.get(col(base, "stations.nc") + "/locations")
    r.raise_for_status()
    assert r.headers["content-type"].startswith("application/geo+json")
    feats = r.json()["features"]
    assert [f["id"] for f in feats] == dsg_files.STATIONS
    for f, la, lo in zip(feats, dsg_files.STATION_LAT, dsg_files.STATION_LON):
        assert f["geometry"] == {"type": "Point", "coordinates": [lo, la]}
        assert f["properties"]["datetime"] == "2021-03-01T00:00:00Z/2021-03-01T23:00:00Z"
        assert set(f["properties"]["parameter-name"]) == {"temp", "wind"}


def test_station_series_equals_file(base, dsg_dir):
    r = requests.get(col(base, "stations.nc") + "/locations/ST-B")
    r.raise_for_status()
    cov = r.json()
    Coverage.model_validate_json(json.dumps(cov))
    assert cov["domain"]["domainType"] == "PointSeries"
    assert cov["domain"]["axes"]["t"]["values"] == local_times(dsg_dir / "stations.nc")
    assert cov["domain"]["axes"]["x"]["values"] == [5.5]
    with netCDF4.Dataset(dsg_dir / "stations.nc") as nc:
        temp = values(nc["temp"][1, :])
        wind = values(nc["wind"][1, :])
    assert temp[7] is None
    close(cov["ranges"]["temp"]["values"], temp)
    close(cov["ranges"]["wind"]["values"], wind)
    assert cov["ranges"]["temp"]["shape"] == [24]


def test_station_filters(base, dsg_dir):
    q = {"datetime": "2021-03-01T05:00:00Z/2021-03-01T08:00:00Z", "parameter-name": "temp"}
    cov = requests.get(col(base, "stations.nc") + "/locations/ST-A", params=q).json()
    Coverage.model_validate_json(json.dumps(cov))
    assert cov["domain"]["axes"]["t"]["values"] == local_times(dsg_dir / "stations.nc")[5:9]
    assert list(cov["ranges"]) == ["temp"]
    close(cov["ranges"]["temp"]["values"], [dsg_files.station_temp(0, t) for t in range(5, 9)])
    r = requests.get(col(base, "stations.nc") + "/locations/nope")
    assert r.status_code == 404
    r = requests.get(col(base, "stations.nc") + "/locations/ST-A", params={"datetime": "1990-01-01"})
    assert r.status_code == 204


def test_position_near_a_station(base):
    r = requests.get(col(base, "stations.nc") + "/position", params={"coords": "POINT(5.4 20.6)"})
    r.raise_for_status()
    doc = r.json()
    CoverageCollection.model_validate_json(json.dumps(doc))
    assert [c["id"] for c in doc["coverages"]] == ["ST-B"]
    assert doc["coverages"][0]["domain"]["axes"]["y"]["values"] == [20.5]


def test_radius(base):
    q = {"coords": "POINT(0 15)", "within": "1000", "within-units": "km"}
    doc = requests.get(col(base, "stations.nc") + "/radius", params=q).json()
    CoverageCollection.model_validate_json(json.dumps(doc))
    # ST-A (10N 5W) is ~780 km away, ST-B (20.5N 5.5E) ~850 km, ST-C far.
    assert [c["id"] for c in doc["coverages"]] == ["ST-A", "ST-B"]


def test_area_over_profiles(base, dsg_dir):
    q = {"coords": "POLYGON((-21 39,-18 39,-18 42,-21 42,-21 39))"}
    r = requests.get(col(base, "profiles.nc") + "/area", params=q)
    r.raise_for_status()
    doc = r.json()
    CoverageCollection.model_validate_json(json.dumps(doc))
    assert doc["domainType"] == "VerticalProfile"
    assert [c["id"] for c in doc["coverages"]] == ["1001", "1002"]
    with netCDF4.Dataset(dsg_dir / "profiles.nc") as nc:
        z = nc["z"][:]
        sal = nc["salinity"][:]
    second = doc["coverages"][1]
    assert second["domain"]["axes"]["z"]["values"] == [float(v) for v in z[5:8]]
    close(second["ranges"]["salinity"]["values"], values(sal[5:8]))
    assert second["domain"]["axes"]["t"]["values"] == ["2022-06-02T12:00:00Z"]
    # z filters pick levels.
    q["z"] = "0/15"
    doc = requests.get(col(base, "profiles.nc") + "/area", params=q).json()
    assert [c["domain"]["axes"]["z"]["values"] for c in doc["coverages"]] == [[0.0, 10.0]] * 2


def test_profile_location_and_outputs(base):
    cov = requests.get(col(base, "profiles.nc") + "/locations/1004").json()
    Coverage.model_validate_json(json.dumps(cov))
    assert cov["domain"]["domainType"] == "VerticalProfile"
    assert cov["domain"]["axes"]["z"]["values"] == [0.0, 10.0, 20.0, 30.0]
    r = requests.get(col(base, "profiles.nc") + "/locations/1004", params={"f": "csv"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert r.headers["content-type"].startswith("text/csv")
    assert [row["z"] for row in rows] == ["0", "10", "20", "30"]
    assert {row["id"] for row in rows} == {"1004"}
    assert float(rows[1]["salinity"]) == pytest.approx(37.1, rel=1e-6)
    gj = requests.get(col(base, "profiles.nc") + "/locations/1004", params={"f": "geojson"}).json()
    assert len(gj["features"]) == 4
    assert gj["features"][0]["geometry"]["coordinates"] == [5.0, 50.0]


def test_glider_tracks(base, dsg_dir):
    feats = requests.get(col(base, "glider.nc") + "/locations").json()["features"]
    assert [f["id"] for f in feats] == dsg_files.GLIDERS
    with netCDF4.Dataset(dsg_dir / "glider.nc") as nc:
        idx = nc["trajectory_index"][:]
        lon, lat = nc["lon"][:], nc["lat"][:]
        temp = nc["temp"][:]
    track = [[float(x), float(y)] for x, y, i in zip(lon, lat, idx) if i == 0]
    assert feats[0]["geometry"] == {"type": "LineString", "coordinates": track}
    cov = requests.get(col(base, "glider.nc") + "/locations/glider-1").json()
    Coverage.model_validate_json(json.dumps(cov))
    assert cov["domain"]["domainType"] == "Trajectory"
    comp = cov["domain"]["axes"]["composite"]
    assert comp["coordinates"] == ["t", "x", "y", "z"]
    assert [v[1:3] for v in comp["values"]] == track
    close(cov["ranges"]["temp"]["values"], [float(v) for v, i in zip(temp, idx) if i == 0])


def test_corridor_along_glider_track(base):
    # Along glider-1's path (35N, 10.0E..10.9E), 20 km wide, over its first half.
    q = {"coords": "LINESTRING(9.95 35, 10.35 35)", "corridor-width": "20", "width-units": "km"}
    r = requests.get(col(base, "glider.nc") + "/corridor", params=q)
    r.raise_for_status()
    doc = r.json()
    CoverageCollection.model_validate_json(json.dumps(doc))
    assert [c["id"] for c in doc["coverages"]] == ["glider-1"]
    xs = [v[1] for v in doc["coverages"][0]["domain"]["axes"]["composite"]["values"]]
    assert xs == pytest.approx([10.0, 10.1, 10.2, 10.3, 10.4])
    # A cube around glider-2's start, with a depth range.
    q = {"bbox": "-1,59.9,1,60.35", "z": "0/15"}
    doc = requests.get(col(base, "glider.nc") + "/cube", params=q).json()
    CoverageCollection.model_validate_json(json.dumps(doc))
    assert [c["id"] for c in doc["coverages"]] == ["glider-2"]
    assert [v[3] for v in doc["coverages"][0]["domain"]["axes"]["composite"]["values"]] == [0, 5, 10, 15]


def test_malformed_files_give_clear_errors(base):
    r = requests.get(col(base, "bad_counts.nc") + "/locations")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "row_size" in r.json()["detail"] and "add up" in r.json()["detail"]
    r = requests.get(col(base, "no_cf_role.nc") + "/locations/ST-A")
    assert r.status_code == 503
    assert "cf_role" in r.json()["detail"]
    requests.get(f"{base}/healthz").raise_for_status()
    assert requests.get(col(base, "stations.nc") + "/locations").status_code == 200
