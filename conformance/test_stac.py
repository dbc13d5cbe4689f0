"""STAC API judged by pystac-client: collections from aggregations, one item per file with
its footprint and time span, search by bbox / intersects / datetime (GET and POST), exact
counts, paging."""

import subprocess

import netCDF4
import numpy as np
import pytest
import requests
from pystac_client import Client

from conftest import BIN, start_server, stop_server


@pytest.fixture(scope="module")
def stac_server(fixtures_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("stac")
    subprocess.run([BIN, "make-fixtures", "--daily-series", "12", str(work / "series")], check=True, capture_output=True)
    config = work / "datagate.toml"
    config.write_text(
        f"""
[[roots]]
path = "{fixtures_dir}"

[[collections]]
id = "sst-daily"
title = "Daily SST"
glob = "{work}/series/daily/sst_*.nc"
join_existing = "time"
"""
    )
    proc, base = start_server(["--config", str(config)])
    yield base, work
    stop_server(proc)


def test_landing_conformance_and_collections(stac_server):
    base, _ = stac_server
    client = Client.open(base + "/stac")
    assert client.conforms_to("ITEM_SEARCH")
    ids = sorted(c.id for c in client.get_collections())
    assert ids == ["datasets", "sst-daily"]
    daily = client.get_collection("sst-daily")
    assert daily.extent.temporal.intervals[0][0].isoformat().startswith("2020-01-30T12:00")
    assert daily.extent.spatial.bboxes[0] == [20.0, 10.0, 24.0, 13.0]


def test_items_have_footprints_times_and_assets(stac_server, fixtures_dir):
    base, _ = stac_server
    client = Client.open(base + "/stac")
    items = list(client.get_collection("datasets").get_items())
    by_id = {i.id: i for i in items}
    # Files without a time coordinate (types_*.nc) are not items; a file the aggregation
    # excluded (sst_bad.nc, another grid) is an item of the default collection.
    assert sorted(by_id) == [
        "curvilinear.nc", "gridded_nc4.nc", "offset64.nc", "sst-daily/sst_bad.nc", "sst_classic.nc"
    ]
    g = by_id["gridded_nc4.nc"]
    with netCDF4.Dataset(fixtures_dir / "gridded_nc4.nc") as nc:
        lon, lat = nc["lon"][:], nc["lat"][:]
    assert g.bbox == [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())]
    assert g.properties["start_datetime"] == "2020-01-01T00:00:00Z"
    assert g.properties["end_datetime"] == "2020-01-01T18:00:00Z"
    assert set(g.assets) >= {"opendap", "dap4", "zarr", "edr", "netcdf", "references"}
    assert g.assets["zarr"].media_type == "application/vnd+zarr"
    assert "references" in g.assets["references"].roles
    # The asset links point at this server's endpoints for the dataset, and open.
    assert g.assets["opendap"].href == base + "/opendap/gridded_nc4.nc"
    import xarray as xr

    via_dap = xr.open_dataset(g.assets["opendap"].href, engine="netcdf4")
    via_zarr = xr.open_zarr(g.assets["zarr"].href, consolidated=True)
    np.testing.assert_array_equal(via_dap["temp"].values, via_zarr["temp"].values)
    assert requests.get(g.assets["edr"].href, timeout=10).status_code == 200


def test_search_by_area_and_time(stac_server):
    base, _ = stac_server
    client = Client.open(base + "/stac")
    # Daily files: 2020-01-30 .. 2020-02-10 at 12:00.
    s = client.search(collections=["sst-daily"], datetime="2020-02-01/2020-02-03T23:59:59Z")
    got = sorted(i.id for i in s.items())
    assert got == [f"sst-daily/sst_2020020{d}.nc" for d in (1, 2, 3)]
    assert s.matched() == 3
    # POST (pystac-client's default) and GET give the same.
    s_get = client.search(collections=["sst-daily"], datetime="2020-02-01/2020-02-03T23:59:59Z", method="GET")
    assert sorted(i.id for i in s_get.items()) == got
    # Area: only the curvilinear grid lies around 10E 50N.
    s = client.search(bbox=[5, 48, 15, 55])
    assert [i.id for i in s.items()] == ["curvilinear.nc"]
    point = {"type": "Point", "coordinates": [21.5, 11.5]}
    s = client.search(intersects=point, max_items=100)
    assert {i.id for i in s.items()} >= {"sst_classic.nc", "gridded_nc4.nc", "sst-daily/sst_20200130.nc"}
    s = client.search(intersects=point, collections=["sst-daily"], max_items=100)
    assert s.matched() == 12
    # A 0..360 file found from a -180..180 query around the antimeridian.
    s = client.search(bbox=[170, -10, -170, 10], collections=["datasets"])
    assert "sst_classic.nc" in [i.id for i in s.items()]


def test_paging_and_exact_counts(stac_server):
    base, _ = stac_server
    client = Client.open(base + "/stac")
    s = client.search(collections=["sst-daily"], limit=5)
    pages = list(s.pages())
    assert [len(p.items) for p in pages] == [5, 5, 2]
    assert len({i.id for p in pages for i in p.items}) == 12
    r = requests.get(base + "/stac/search", params={"collections": "sst-daily", "limit": 1}, timeout=10).json()
    assert r["numberMatched"] == 12 and r["numberReturned"] == 1


def test_bad_searches_are_400(stac_server):
    base, _ = stac_server
    for params in [{"bbox": "1,2,3"}, {"datetime": "yesterday"}, {"limit": "0"}, {"intersects": "{nope"}]:
        r = requests.get(base + "/stac/search", params=params, timeout=10)
        assert r.status_code == 400, params
        assert "description" in r.json()
    r = requests.post(base + "/stac/search", data="not json", timeout=10)
    assert r.status_code == 400
    assert requests.get(base + "/stac/collections/nope", timeout=10).status_code == 404
