"""Level-2 granules in STAC, judged by pystac-client: a swath whose time is `time(row)`
(one time per scan line, named by no data variable) with 2-D lat/lon, and a granule
described only by ACDD global attributes, are items found by a bbox + datetime search;
their bbox and times equal what netCDF4 reads locally."""

import datetime as dt

import netCDF4
import numpy as np
import pytest
from pystac_client import Client

from conftest import start_server, stop_server

ROWS, CELLS = 40, 12


def write_swath(path, lon0, lat0, start):
    """A tilted swath: rows go north-east along the track, cells across it; fill values
    on an interior cell must not count."""
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("row", ROWS)
        nc.createDimension("cell", CELLS)
        t = nc.createVariable("scan_time", "f8", ("row",))
        t.standard_name = "time"
        t.units = f"seconds since {start}"
        t[:] = np.arange(ROWS) * 1.5 + 30.0
        i, j = np.meshgrid(np.arange(ROWS), np.arange(CELLS), indexing="ij")
        lat = nc.createVariable("lat", "f4", ("row", "cell"))
        lat.standard_name = "latitude"
        lat.units = "degrees_north"
        lat[:] = lat0 + i * 0.25 - j * 0.05
        lon = nc.createVariable("lon", "f4", ("row", "cell"))
        lon.standard_name = "longitude"
        lon.units = "degrees_east"
        lon[:] = lon0 + i * 0.1 + j * 0.3
        sst = nc.createVariable("sst", "f4", ("row", "cell"), fill_value=-999.0)
        sst.coordinates = "lat lon"
        sst[:] = 290.0
        sst[5, 5] = np.ma.masked


def write_acdd_granule(path):
    """No coordinates at all: only the granule's declared coverage."""
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("n", 8)
        v = nc.createVariable("radiance", "f4", ("n",))
        v[:] = np.arange(8)
        nc.time_coverage_start = "2022-03-04T05:06:07Z"
        nc.time_coverage_end = "2022-03-04T05:11:07Z"
        nc.geospatial_lat_min = -30.5
        nc.geospatial_lat_max = -20.0
        nc.geospatial_lon_min = 140.0
        nc.geospatial_lon_max = 152.25


@pytest.fixture(scope="module")
def granules(tmp_path_factory):
    d = tmp_path_factory.mktemp("granules")
    write_swath(d / "swath.nc", 10.0, -5.0, "2021-07-01 12:00:00")
    write_swath(d / "swath_antimeridian.nc", 176.0, 40.0, "2021-07-02 00:00:00")
    with netCDF4.Dataset(d / "swath_antimeridian.nc", "a") as nc:
        lon = nc["lon"][:]
        nc["lon"][:] = np.where(lon > 180, lon - 360, lon)
    write_acdd_granule(d / "acdd_granule.nc")
    proc, base = start_server([str(d)])
    yield base, d
    stop_server(proc)


def local_extent(path):
    with netCDF4.Dataset(path) as nc:
        t = nc["scan_time"]
        times = netCDF4.num2date(
            [t[:].min(), t[:].max()], t.units, only_use_cftime_datetimes=False
        )
        lon, lat = nc["lon"][:], nc["lat"][:]
        bbox = [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())]
        return bbox, [x.replace(tzinfo=dt.timezone.utc) for x in times]


def search(base, **kw):
    return {i.id: i for i in Client.open(base + "/stac").search(**kw).items()}


def test_swath_is_an_item_with_its_time_and_bbox(granules):
    base, d = granules
    bbox, (start, end) = local_extent(d / "swath.nc")
    found = search(base, bbox=[12, -3, 13, -2], datetime="2021-07-01T12:00:00Z/2021-07-01T12:01:00Z")
    assert list(found) == ["swath.nc"]
    item = found["swath.nc"]
    assert item.bbox == pytest.approx(bbox, abs=1e-5)
    assert item.properties["start_datetime"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert dt.datetime.fromisoformat(item.properties["end_datetime"]) == end
    # The footprint is the swath's outline, not its box: a polygon with many vertices,
    # every one on the data.
    assert item.geometry["type"] == "Polygon"
    ring = np.array(item.geometry["coordinates"][0])
    assert len(ring) > 5 and (ring[0] == ring[-1]).all()
    assert ring[:, 0].min() == pytest.approx(bbox[0], abs=1e-5)
    assert ring[:, 1].max() == pytest.approx(bbox[3], abs=1e-5)


def test_disjoint_place_or_time_does_not_find_the_swath(granules):
    base, _ = granules
    assert "swath.nc" not in search(base, bbox=[30, -3, 31, -2], datetime="2021-07-01/2021-07-02")
    assert "swath.nc" not in search(base, bbox=[12, -3, 13, -2], datetime="2021-07-01T13:00:00Z/..")
    assert "swath.nc" not in search(base, bbox=[12, -3, 13, -2], datetime="../2021-07-01T12:00:29Z")


def test_search_follows_the_outline_not_the_box(granules):
    """The north-west corner of the swath's box is a place the tilted swath never saw."""
    base, d = granules
    with netCDF4.Dataset(d / "swath.nc") as nc:
        lon, lat = nc["lon"][:], nc["lat"][:]
        west, north = float(lon.min()), float(lat.max())
        # Locally: no pixel in the corner box.
        corner = [west, north - 1.0, west + 1.0, north]
        inside = (lon >= corner[0]) & (lon <= corner[2]) & (lat >= corner[1]) & (lat <= corner[3])
        assert not inside.any()
    assert "swath.nc" not in search(base, bbox=corner, datetime="2021-07-01")
    assert "swath.nc" in search(base, bbox=[12, -3, 13, -2], datetime="2021-07-01")


def test_swath_across_the_antimeridian(granules):
    base, d = granules
    found = search(base, bbox=[-179, 45, -178, 46], datetime="2021-07-02")
    assert "swath_antimeridian.nc" in found
    item = found["swath_antimeridian.nc"]
    w, s, e, n = item.bbox
    assert w > 170 and e < -170, item.bbox  # crosses the antimeridian, not the whole circle
    assert item.geometry["type"] == "MultiPolygon"
    for polygon in item.geometry["coordinates"]:
        lons = [p[0] for p in polygon[0]]
        assert max(lons) - min(lons) < 180
    assert "swath_antimeridian.nc" not in search(base, bbox=[0, 45, 10, 46], datetime="2021-07-02")


def test_acdd_granule_is_an_item(granules):
    base, d = granules
    found = search(base, bbox=[150, -25, 151, -24], datetime="2022-03-04T05:10:00Z")
    assert list(found) == ["acdd_granule.nc"]
    item = found["acdd_granule.nc"]
    with netCDF4.Dataset(d / "acdd_granule.nc") as nc:
        assert item.bbox == [nc.geospatial_lon_min, nc.geospatial_lat_min,
                             nc.geospatial_lon_max, nc.geospatial_lat_max]
        assert item.properties["start_datetime"] == nc.time_coverage_start
        assert item.properties["end_datetime"] == nc.time_coverage_end
    assert not search(base, bbox=[150, -25, 151, -24], datetime="2022-03-05")
    assert not search(base, bbox=[0, -25, 1, -24], datetime="2022-03-04")
