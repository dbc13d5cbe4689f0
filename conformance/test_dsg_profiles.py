"""Profiles at stations and along trajectories (CF timeSeriesProfile and
trajectoryProfile, multidimensional and ragged) through EDR, DAP2 Sequences and NetCDF
downloads: each answer is compared with netCDF4's read of the same file."""

import csv
import io
import json
import os
import subprocess
import sys

import netCDF4
import numpy as np
import pytest
import requests
from covjson_pydantic.coverage import CoverageCollection
from edr_pydantic.collections import Collection

import dsg_files
from conftest import start_server, stop_server
from test_dsg import close, values


@pytest.fixture(scope="module")
def pdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("dsg-profiles")
    dsg_files.write_profiles_all(d)
    return d


@pytest.fixture(scope="module")
def base(pdir):
    proc, url = start_server([str(pdir)])
    yield url
    stop_server(proc)


def col(base, name):
    return f"{base}/edr/collections/{name}"


def iso(nc, var="time"):
    t = nc[var]
    dates = netCDF4.num2date(np.ma.filled(t[:], np.nan).ravel(), t.units, only_use_cftime_datetimes=False)
    return [d.strftime("%Y-%m-%dT%H:%M:%SZ") for d in dates]


def local_profiles(path):
    """{feature id: [(time iso, lon, lat, [z], {param: [values]}, time)]} read with netCDF4,
    profiles in time order, levels without a z left out."""
    out = {}
    with netCDF4.Dataset(path) as nc:
        ft = nc.featureType
        role = "timeseries_id" if ft == "timeSeriesProfile" else "trajectory_id"
        idv = next(v for v in nc.variables.values() if getattr(v, "cf_role", None) == role)
        raw = netCDF4.chartostring(idv[:]) if idv.dtype == "S1" else idv[:]
        ids = [str(x) for x in np.atleast_1d(raw)]
        times = iso(nc)
        t = nc["time"]
        lat, lon, z = nc["lat"][:], nc["lon"][:], nc["z"][:]
        data = [n for n, v in nc.variables.items() if n not in ("lat", "lon", "time", "z") and v.ndim and v.dimensions[-1] in ("obs", "z") and v.dtype.kind == "f"]
        if "row_size" in nc.variables:
            idx_var = next(v for v in nc.variables.values() if hasattr(v, "instance_dimension"))
            counts, owners = nc["row_size"][:], idx_var[:]
            start = 0
            for p, (c, s) in enumerate(zip(counts, owners)):
                sl = slice(start, start + int(c))
                start += int(c)
                x = float(lon[p] if nc["lon"].dimensions[0] == "profile" else lon[s])
                y = float(lat[p] if nc["lat"].dimensions[0] == "profile" else lat[s])
                prof = (times[p], x, y, [float(v) for v in z[sl]], {d: values(nc[d][sl]) for d in data}, float(t[p]))
                out.setdefault(ids[s], []).append((float(t[p]), prof))
        else:
            def at(v, s, p):
                dims = nc[v].dimensions
                key = tuple(s if d != "profile" and d not in ("z", "obs") else p for d in dims if d not in ("z",))
                return nc[v][key + ((slice(None),) if dims and dims[-1] == "z" else ())]

            for s, fid in enumerate(ids):
                for p in range(nc.dimensions["profile"].size):
                    ti = p if t.ndim == 1 else s * t.shape[1] + p
                    zs = np.ma.masked_array(at("z", s, p))
                    keep = ~np.ma.getmaskarray(zs)
                    prof = (times[ti], float(at("lon", s, p)), float(at("lat", s, p)), [float(v) for v in zs[keep]],
                            {d: values(np.ma.masked_array(at(d, s, p))[keep]) for d in data}, float(t[:].ravel()[ti]))
                    out.setdefault(fid, []).append((float(t[:].ravel()[ti]), prof))
    return {k: [p for _, p in sorted(v, key=lambda e: e[0])] for k, v in out.items()}


FILES = ["moorings.nc", "moorings_ragged.nc", "ships.nc", "ship_c.nc", "one_glider.nc"]


@pytest.mark.parametrize("name", FILES)
def test_collection_and_locations(base, pdir, name):
    r = requests.get(col(base, name))
    r.raise_for_status()
    Collection.model_validate_json(r.text)
    doc = r.json()
    assert {"locations", "position", "area", "cube", "radius", "corridor", "items"} <= set(doc["data_queries"])
    want = local_profiles(pdir / name)
    feats = requests.get(col(base, name) + "/locations").json()["features"]
    assert sorted(f["id"] for f in feats) == sorted(want)
    for f in feats:
        profs = want[f["id"]]
        assert f["properties"]["featureType"] in ("timeSeriesProfile", "trajectoryProfile")
        assert f["properties"]["datetime"] == f"{profs[0][0]}/{profs[-1][0]}"
        places = []
        for p in profs:
            if not places or places[-1] != [p[1], p[2]]:
                places.append([p[1], p[2]])
        if len(places) == 1:
            assert f["geometry"] == {"type": "Point", "coordinates": places[0]}
        else:
            assert f["geometry"] == {"type": "LineString", "coordinates": places}


@pytest.mark.parametrize("name", FILES)
def test_location_is_a_collection_of_profiles(base, pdir, name):
    want = local_profiles(pdir / name)
    for fid, profs in want.items():
        r = requests.get(col(base, name) + f"/locations/{fid}")
        r.raise_for_status()
        doc = r.json()
        CoverageCollection.model_validate_json(json.dumps(doc))
        assert doc["type"] == "CoverageCollection" and doc["domainType"] == "VerticalProfile"
        assert len(doc["coverages"]) == len(profs)
        for cov, (t, x, y, z, data, _) in zip(doc["coverages"], profs):
            axes = cov["domain"]["axes"]
            assert cov["domain"]["domainType"] == "VerticalProfile"
            assert cov["id"] == f"{fid}@{t}"
            assert axes["t"]["values"] == [t]
            assert axes["x"]["values"] == [x] and axes["y"]["values"] == [y]
            assert axes["z"]["values"] == z
            for p, v in data.items():
                close(cov["ranges"][p]["values"], v)
                assert cov["ranges"][p]["shape"] == [len(z)]


def test_filters_on_a_station(base, pdir):
    want = local_profiles(pdir / "moorings.nc")["M2"]
    q = {"datetime": "2024-05-01T05:00:00Z/2024-05-01T13:00:00Z", "z": "5/60", "parameter-name": "temp"}
    doc = requests.get(col(base, "moorings.nc") + "/locations/M2", params=q).json()
    CoverageCollection.model_validate_json(json.dumps(doc))
    assert [c["domain"]["axes"]["t"]["values"][0] for c in doc["coverages"]] == [want[1][0], want[2][0]]
    for cov, prof in zip(doc["coverages"], want[1:3]):
        assert cov["domain"]["axes"]["z"]["values"] == [10.0, 20.0, 50.0]
        assert list(cov["ranges"]) == ["temp"]
        close(cov["ranges"]["temp"]["values"], prof[4]["temp"][1:4])
    # The missing value read by netCDF4 as masked is null here.
    assert doc["coverages"][1]["ranges"]["temp"]["values"][2] is None
    r = requests.get(col(base, "moorings.nc") + "/locations/M2", params={"datetime": "2020-01-01T00:00:00Z"})
    assert r.status_code == 204
    assert requests.get(col(base, "moorings.nc") + "/locations/nope").status_code == 404


def test_spatial_queries_pick_profiles(base, pdir):
    ships = local_profiles(pdir / "ships.nc")
    # A box around ship-A's first two stops (10S, 30W and 29W).
    q = {"coords": "POLYGON((-30.5 -10.5,-28.5 -10.5,-28.5 -9.5,-30.5 -9.5,-30.5 -10.5))"}
    doc = requests.get(col(base, "ships.nc") + "/area", params=q).json()
    CoverageCollection.model_validate_json(json.dumps(doc))
    assert [c["id"] for c in doc["coverages"]] == [f"ship-A@{p[0]}" for p in ships["ship-A"][:2]]
    for cov, prof in zip(doc["coverages"], ships["ship-A"][:2]):
        close(cov["ranges"]["salinity"]["values"], prof[4]["salinity"])
    # position: the nearest feature, all its profiles; radius and cube with z.
    doc = requests.get(col(base, "moorings.nc") + "/position", params={"coords": "POINT(-124.1 38.2)"}).json()
    assert {c["id"].split("@")[0] for c in doc["coverages"]} == {"M3"}
    assert len(doc["coverages"]) == 4
    doc = requests.get(col(base, "moorings.nc") + "/cube", params={"bbox": "-124,36,-121,37.5", "z": "0/10"}).json()
    CoverageCollection.model_validate_json(json.dumps(doc))
    assert {c["id"].split("@")[0] for c in doc["coverages"]} == {"M1", "M2"}
    assert all(c["domain"]["axes"]["z"]["values"] == [0.0, 10.0] for c in doc["coverages"])
    doc = requests.get(col(base, "ships.nc") + "/radius", params={"coords": "POINT(-20 1)", "within": "50", "within-units": "km"}).json()
    assert [c["id"] for c in doc["coverages"]] == [f"ship-B@{ships['ship-B'][1][0]}"]
    line = "LINESTRING(-20 -0.5,-20 1.5)"
    doc = requests.get(col(base, "ships.nc") + "/corridor", params={"coords": line, "corridor-width": "20", "width-units": "km", "datetime": "2024-01-01T00:00:00Z/2024-01-01T12:00:00Z"}).json()
    assert [c["id"] for c in doc["coverages"]] == [f"ship-B@{ships['ship-B'][0][0]}"]


def test_csv_and_geojson_flatten_observations(base, pdir):
    want = local_profiles(pdir / "moorings_ragged.nc")["M1"]
    rows = list(csv.DictReader(io.StringIO(requests.get(col(base, "moorings_ragged.nc") + "/locations/M1", params={"f": "csv"}).text)))
    flat = [(t, x, y, zz, v) for (t, x, y, z, d, _) in want for zz, v in zip(z, d["temp"])]
    assert len(rows) == len(flat)
    for row, (t, x, y, zz, v) in zip(rows, flat):
        assert row["id"] == "M1" and row["time"] == t
        assert (float(row["longitude"]), float(row["latitude"]), float(row["z"])) == (x, y, zz)
        assert float(row["temp"]) == pytest.approx(v, rel=1e-6)
    gj = requests.get(col(base, "ships.nc") + "/locations/ship-B", params={"f": "geojson"}).json()
    ship_b = local_profiles(pdir / "ships.nc")["ship-B"]
    assert [f["geometry"]["coordinates"] for f in gj["features"]] == [[x, y] for (_, x, y, z, _, _) in ship_b for _ in z]
    assert [f["properties"]["datetime"] for f in gj["features"]] == [t for (t, _, _, z, _, _) in ship_b for _ in z]


def test_items_list_the_features(base):
    doc = requests.get(col(base, "ships.nc") + "/items").json()
    assert [f["id"] for f in doc["features"]] == dsg_files.SHIPS
    item = requests.get(col(base, "ships.nc") + "/items/ship-A").json()
    assert item["geometry"]["type"] == "LineString"


def test_pydap_sequence_with_selection(base, pdir):
    from pydap.client import open_url

    ds = open_url(f"{base}/opendap/ships.nc/observations", output_grid=False)
    seq = ds["trajectoryProfile"]
    assert list(seq.keys()) == ["trajectory", "time", "lat", "lon", "z", "salinity"]
    ships = local_profiles(pdir / "ships.nc")
    want = [(fid, traw, y, x, zz, v) for fid in dsg_files.SHIPS for (_, x, y, z, d, traw) in ships[fid] for zz, v in zip(z, d["salinity"])]
    got = [tuple(r) for r in seq.iterdata()]
    assert len(got) == len(want)
    picked = [tuple(r) for r in seq[(seq["z"] >= 10) & (seq["lat"] > -5)].iterdata()]
    sel = [w for w in want if w[4] >= 10 and w[2] > -5]
    assert {r[0] for r in sel} == {"ship-B"} and len(sel) > 0
    assert len(picked) == len(sel)
    for g, w in zip(picked, sel):
        assert g[0] == w[0]
        assert g[1:] == pytest.approx(w[1:], rel=1e-6)


def test_netcdf_download_is_cf_dsg(base, pdir, tmp_path):
    r = requests.get(col(base, "moorings.nc") + "/locations/M2", params={"f": "netcdf"})
    r.raise_for_status()
    out = tmp_path / "m2.nc"
    out.write_bytes(r.content)
    want = local_profiles(pdir / "moorings.nc")["M2"]
    with netCDF4.Dataset(out) as nc:
        assert nc.featureType == "timeSeriesProfile"
        assert list(nc["station_name"][:]) == ["M2"]
        assert list(nc["row_size"][:]) == [len(p[3]) for p in want]
        assert nc["row_size"].sample_dimension == "obs"
        assert nc["feature_index"].instance_dimension == "feature"
        close(values(nc["temp"][:]), [v for p in want for v in p[4]["temp"]])
    r = requests.get(col(base, "ships.nc") + "/locations/ship-A", params={"f": "netcdf"})
    ships = tmp_path / "ship-a.nc"
    ships.write_bytes(r.content)
    with netCDF4.Dataset(ships) as nc:
        assert nc.featureType == "trajectoryProfile" and nc["lat"].dimensions == ("profile",)
    report = tmp_path / "cf.json"
    for f in (out, ships):
        subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "compliance-checker"), "-t", "cf:1.8",
             "-f", "json", "-o", str(report), str(f)],
            capture_output=True, timeout=300,
        )
        cf = json.loads(report.read_text())["cf:1.8"]
        failed = [c["name"] for c in cf["high_priorities"] + cf["medium_priorities"] if c["value"][0] != c["value"][1]]
        assert failed == [], (f.name, failed)


def test_malformed_two_level_file(base):
    r = requests.get(col(base, "bad_tsp_counts.nc") + "/locations")
    assert r.status_code == 503
    assert "row_size" in r.json()["detail"] and "add up" in r.json()["detail"]
    r = requests.get(f"{base}/opendap/bad_tsp_counts.nc/observations.dds")
    assert r.status_code == 503 and r.text.startswith("Error {")
    requests.get(f"{base}/healthz").raise_for_status()


# Aggregations of DSG files by their features (`features = true`).


@pytest.fixture(scope="module")
def agg(tmp_path_factory):
    work = tmp_path_factory.mktemp("dsg-agg")
    (work / "floats").mkdir()
    (work / "mixed").mkdir()
    for i in range(4):
        dsg_files.write_float(work / "floats", i)
    dsg_files.write_ship_profiles_multidim(work / "mixed" / "a.nc")
    dsg_files.write_stations(work / "mixed" / "b.nc")
    config = work / "datagate.toml"
    config.write_text(f"""
[[collections]]
id = "floats"
title = "Floats"
glob = "{work}/floats/*.nc"
features = true

[[collections]]
id = "mixed"
glob = "{work}/mixed/*.nc"
features = true
""")
    proc, base = start_server(["--config", str(config)])
    # A fifth float arrives: a rescan adds its features.
    dsg_files.write_float(work / "floats", 4)
    problems = requests.post(base + "/datasets/rescan", timeout=60).json()["problems"]
    yield base, work, problems
    stop_server(proc)


def test_aggregation_lists_and_finds_every_members_features(agg):
    base, work, problems = agg
    want = {}
    for f in sorted((work / "floats").glob("*.nc")):
        want.update(local_profiles(f))
    assert sorted(want) == dsg_files.FLOATS
    feats = requests.get(col(base, "floats") + "/locations").json()["features"]
    assert sorted(f["id"] for f in feats) == dsg_files.FLOATS
    for f in feats:
        profs = want[f["id"]]
        assert f["geometry"] == {"type": "LineString", "coordinates": [[p[1], p[2]] for p in profs]}
        assert f["properties"]["datetime"] == f"{profs[0][0]}/{profs[-1][0]}"
        doc = requests.get(col(base, "floats") + f"/locations/{f['id']}").json()
        CoverageCollection.model_validate_json(json.dumps(doc))
        assert [c["domain"]["axes"]["t"]["values"][0] for c in doc["coverages"]] == [p[0] for p in profs]
        for cov, p in zip(doc["coverages"], profs):
            close(cov["ranges"]["temp"]["values"], p[4]["temp"])
    # One combined index: an area over two members' first profiles, a time window.
    q = {"coords": "POLYGON((99 -41,106 -41,106 -36.8,99 -36.8,99 -41))"}
    doc = requests.get(col(base, "floats") + "/area", params=q).json()
    assert [c["id"] for c in doc["coverages"]] == [f"float-{i}@{want[f'float-{i}'][p][0]}" for i, p in [(1, 0), (1, 1), (1, 2), (1, 3), (2, 0)]]
    q = {"bbox": "90,-50,130,-20", "datetime": "2024-02-09T00:00:00Z/2024-02-10T00:00:00Z"}
    doc = requests.get(col(base, "floats") + "/cube", params=q).json()
    assert [c["id"] for c in doc["coverages"]] == [
        "float-4@2024-02-09T00:00:00Z", "float-4@2024-02-10T00:00:00Z",
        "float-5@2024-02-09T00:00:00Z", "float-5@2024-02-10T00:00:00Z",
    ]
    # Files of two featureTypes are a configuration error, said at the rescan.
    assert any("mixed" in p and "one featureType" in p for p in problems), problems
    assert requests.get(col(base, "mixed")).status_code in (404, 503)


def test_stac_item_per_feature_found_by_search(agg):
    from pystac_client import Client

    base, work, _ = agg
    client = Client.open(base + "/stac")
    items = {i.id: i for i in client.get_collection("floats").get_items()}
    assert sorted(items) == dsg_files.FLOATS
    want = local_profiles(work / "floats" / "float-3.nc")["float-3"]
    it = items["float-3"]
    assert it.geometry == {"type": "LineString", "coordinates": [[p[1], p[2]] for p in want]}
    assert it.properties["start_datetime"] == want[0][0] and it.properties["end_datetime"] == want[-1][0]
    found = client.search(collections=["floats"], bbox=[109, -35, 112, -33]).item_collection()
    assert [i.id for i in found] == ["float-3"]
    found = client.search(collections=["floats"], datetime="2024-02-10T12:00:00Z/2024-02-20T00:00:00Z").item_collection()
    assert sorted(i.id for i in found) == ["float-5"]
    # Across collections: the member of the aggregation that could not be built is an
    # item of its own, in the default collection.
    found = client.search(bbox=[95, -45, 130, -20], datetime="2024-02-01T00:00:00Z/2024-02-04T00:00:00Z").item_collection()
    assert sorted(i.id for i in found) == ["float-1", "float-2", "mixed/a.nc"]


def test_aggregation_sequence_unites_members_rows(agg):
    from pydap.client import open_url

    base, work, _ = agg
    seq = open_url(f"{base}/opendap/floats/observations", output_grid=False)["trajectoryProfile"]
    want = []
    for fid in dsg_files.FLOATS:
        for (_, x, y, z, d, _) in local_profiles(work / "floats" / f"{fid}.nc")[fid]:
            want.extend((fid, y, x, zz, v) for zz, v in zip(z, d["temp"]))
    got = [(r[0], r[2], r[3], r[4], r[5]) for r in seq.iterdata()]
    assert len(got) == len(want) == 60
    for g, w in zip(got, want):
        assert g[0] == w[0] and g[1:] == pytest.approx(w[1:], rel=1e-6), (g, w)
    picked = [tuple(r) for r in seq[seq["lat"] > -30].iterdata()]
    assert {r[0] for r in picked} == {"float-4", "float-5"}
    assert len(picked) == len([w for w in want if w[1] > -30])
