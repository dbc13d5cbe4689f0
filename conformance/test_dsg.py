"""Observations (CF discrete sampling geometries) through EDR: features listed as
GeoJSON, a feature's data and the spatial queries as CoverageJSON (checked with
covjson-pydantic and edr-pydantic), values compared with netCDF4's read of the same
files; malformed files give a clear error and the server stays up."""

import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys

from urllib.parse import quote

import netCDF4
import numpy as np
import pytest
import requests
from covjson_pydantic.coverage import Coverage, CoverageCollection
from edr_pydantic.collections import Collection, Collections

import dsg_files
from conftest import start_server, stop_server


@pytest.fixture(scope="module")
def dsg_dir(tmp_path_factory, fixtures_dir):
    """The DSG files beside a gridded file: each must be served as its kind."""
    d = tmp_path_factory.mktemp("dsg")
    dsg_files.write_all(d)
    shutil.copy(fixtures_dir / "gridded_nc4.nc", d / "gridded_nc4.nc")
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


def test_grids_beside_observations_stay_grids(base):
    doc = requests.get(col(base, "gridded_nc4.nc")).json()
    assert "locations" in doc["data_queries"] and doc["parameter_names"]
    assert "cube" in doc["data_queries"] and "corridor" in doc["data_queries"]
    r = requests.get(col(base, "gridded_nc4.nc") + "/position", params={"coords": "POINT(10 40)"})
    assert r.status_code == 200 and r.json()["type"] in ("Coverage", "CoverageCollection")
    r = requests.get(f"{base}/opendap/gridded_nc4.nc/observations.dds")
    assert r.status_code == 404 and "featureType" in r.text


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
    item = requests.get(col(base, "glider.nc") + "/items/glider-1").json()
    assert item["type"] == "Feature" and item["geometry"] == feats[0]["geometry"]
    assert requests.get(col(base, "glider.nc") + "/items/nope").status_code == 404
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


def test_netcdf_download_is_cf_dsg(base, dsg_dir, tmp_path):
    q = {"coords": "POLYGON((-21 39,-18 39,-18 42,-21 42,-21 39))", "f": "netcdf"}
    r = requests.get(col(base, "profiles.nc") + "/area", params=q)
    r.raise_for_status()
    assert r.headers["content-type"].startswith("application/x-netcdf")
    out = tmp_path / "profiles-area.nc"
    out.write_bytes(r.content)
    with netCDF4.Dataset(out) as nc, netCDF4.Dataset(dsg_dir / "profiles.nc") as src:
        assert nc.featureType == "profile"
        assert list(nc["profile"][:]) == ["1001", "1002"]
        assert list(nc["row_size"][:]) == [5, 3]
        assert nc["row_size"].sample_dimension == "obs"
        assert list(nc["lat"][:]) == dsg_files.PROFILE_LAT[:2]
        close(values(nc["salinity"][:]), values(src["salinity"][:8]))
        close(values(nc["z"][:]), values(src["z"][:8]))
    # A station series, read back as a DSG by the file's own reader and checked by
    # compliance-checker's CF suite.
    r = requests.get(col(base, "stations.nc") + "/locations/ST-B", params={"f": "netcdf"})
    out = tmp_path / "st-b.nc"
    out.write_bytes(r.content)
    report = tmp_path / "cf.json"
    subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "compliance-checker"), "-t", "cf:1.8",
         "-f", "json", "-o", str(report), str(out)],
        capture_output=True, timeout=300,
    )
    cf = json.loads(report.read_text())["cf:1.8"]
    failed = [c["name"] for c in cf["high_priorities"] + cf["medium_priorities"] if c["value"][0] != c["value"][1]]
    assert failed == [], failed
    with netCDF4.Dataset(out) as nc:
        assert nc.featureType == "timeSeries" and list(nc["station_name"][:]) == ["ST-B"]
        close(values(nc["temp"][:]), values(netCDF4.Dataset(dsg_dir / "stations.nc")["temp"][1, :]))


def test_stac_items_carry_feature_geometry(base, dsg_dir):
    def item(name):
        r = requests.get(f"{base}/stac/collections/datasets/items/{name}")
        r.raise_for_status()
        return r.json()

    stations = item("stations.nc")
    assert stations["geometry"] == {
        "type": "MultiPoint",
        "coordinates": [[x, y] for x, y in zip(dsg_files.STATION_LON, dsg_files.STATION_LAT)],
    }
    assert stations["bbox"] == [-5.0, -30.25, 150.0, 20.5]
    assert stations["properties"]["start_datetime"] == "2021-03-01T00:00:00Z"
    glider = item("glider.nc")
    assert glider["geometry"]["type"] == "MultiLineString"
    with netCDF4.Dataset(dsg_dir / "glider.nc") as nc:
        idx, lon, lat = nc["trajectory_index"][:], nc["lon"][:], nc["lat"][:]
    for g, line in enumerate(glider["geometry"]["coordinates"]):
        assert line == [[float(x), float(y)] for x, y, i in zip(lon, lat, idx) if i == g]
    # Profiles have their time per profile only: the item still gets its time span.
    profiles = item("profiles.nc")
    assert profiles["properties"]["start_datetime"] == "2022-06-01T12:00:00Z"
    assert profiles["geometry"]["type"] == "MultiPoint"


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


# DAP2 Sequences: /opendap/{id}/observations, read with pydap's client.


def flatten_stations(path):
    """The table the server should send: one row per (station, time), file order."""
    with netCDF4.Dataset(path) as nc:
        t = nc["time"][:]
        rows = []
        for s, name in enumerate(dsg_files.STATIONS):
            temp, wind = nc["temp"][s, :], nc["wind"][s, :]
            for k in range(len(t)):
                tv = float("nan") if temp[k] is np.ma.masked else float(temp[k])
                rows.append((name, float(t[k]), dsg_files.STATION_LAT[s], dsg_files.STATION_LON[s], tv, float(wind[k])))
    return rows


def same_rows(got, want):
    assert len(got) == len(want), (len(got), len(want))
    for g, w in zip(got, want):
        assert g[0] == w[0]
        for a, b in zip(g[1:], w[1:]):
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-6), (g, w)


def test_sequence_dds_and_das(base):
    dds = requests.get(f"{base}/opendap/stations.nc/observations.dds").text
    assert "Sequence {" in dds and "} timeSeries;" in dds
    assert "String station_name;" in dds and "Float32 temp;" in dds and "Float64 time;" in dds
    das = requests.get(f"{base}/opendap/stations.nc/observations.das").text
    assert 'String units "hours since 2021-03-01 00:00:00";' in das
    assert "_FillValue" not in das.split("NC_GLOBAL")[0], "values are decoded: no fill value"
    # The arrays view is unchanged.
    arrays = requests.get(f"{base}/opendap/stations.nc.dds").text
    assert "Sequence" not in arrays and "temp[station = 3][time = 24]" in arrays


def test_pydap_reads_the_sequence(base, dsg_dir):
    from pydap.client import open_url

    ds = open_url(f"{base}/opendap/stations.nc/observations", output_grid=False)
    seq = ds["timeSeries"]
    assert list(seq.keys()) == ["station_name", "time", "lat", "lon", "temp", "wind"]
    got = [tuple(r) for r in seq.iterdata()]
    same_rows(got, flatten_stations(dsg_dir / "stations.nc"))


def test_pydap_selection_is_evaluated_on_the_server(base, dsg_dir):
    from pydap.client import open_url

    ds = open_url(f"{base}/opendap/stations.nc/observations", output_grid=False)
    seq = ds["timeSeries"]
    want_all = flatten_stations(dsg_dir / "stations.nc")
    # lat < 15: stations A (10N) and C (30.25S); temp > 283: C's values and A's last ones.
    picked = seq[(seq["lat"] < 15) & (seq["temp"] > 283.5)]
    got = [tuple(r) for r in picked.iterdata()]
    want = [r for r in want_all if r[2] < 15 and r[4] > 283.5]
    assert {r[0] for r in want} == {"ST-A", "ST-C"}
    same_rows(got, want)
    # The same filter as numpy does it on the local file.
    with netCDF4.Dataset(dsg_dir / "stations.nc") as nc:
        temp = nc["temp"][:]
        lat = np.array(dsg_files.STATION_LAT)[:, None] * np.ones(temp.shape)
        mask = (lat < 15) & (temp.filled(np.nan) > 283.5)
        assert len(got) == int(mask.sum())
    # A string clause on the feature id, quoted by pydap.
    got = [tuple(r) for r in seq[seq["station_name"] == "ST-B"].iterdata()]
    same_rows(got, [r for r in want_all if r[0] == "ST-B"])


def test_sequence_selection_by_date_and_projection(base, dsg_dir):
    q = 'trajectory.trajectory,trajectory.time,trajectory.temp&trajectory.time>="2023-01-01T01:00:00Z"&trajectory.temp<14'
    r = requests.get(f"{base}/opendap/glider.nc/observations.ascii?" + quote(q, safe=",&."))
    r.raise_for_status()
    lines = r.text.split("---------------------------------------------\n")[1].strip().splitlines()
    assert lines[0] == "trajectory.trajectory, trajectory.time, trajectory.temp"
    with netCDF4.Dataset(dsg_dir / "glider.nc") as nc:
        idx, t, temp = nc["trajectory_index"][:], nc["time"][:], nc["temp"][:]
    want = [(dsg_files.GLIDERS[i], float(tt), float(v)) for i, tt, v in zip(idx, t, temp) if tt >= 3600 and v < 14]
    got = [tuple(x.strip().strip('"') for x in line.split(",")) for line in lines[1:]]
    # Rows come feature by feature.
    want.sort(key=lambda r: dsg_files.GLIDERS.index(r[0]))
    assert [(g[0], float(g[1]), float(g[2])) for g in got] == [(w[0], w[1], pytest.approx(w[2], rel=1e-6)) for w in want]
    bad = requests.get(f"{base}/opendap/glider.nc/observations.dods?&nope%3C3")
    assert bad.status_code == 400 and "no column" in bad.text


def test_sequence_of_a_malformed_file_is_a_dap_error(base):
    r = requests.get(f"{base}/opendap/bad_counts.nc/observations.dds")
    assert r.status_code == 503
    assert r.text.startswith("Error {") and "add up" in r.text
    r = requests.get(f"{base}/opendap/profiles.nc/observations.dods")
    assert r.status_code == 200 and r.content.endswith(b"\xa5\x00\x00\x00")
