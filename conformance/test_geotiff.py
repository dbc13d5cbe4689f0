"""GeoTIFF / COG datasets against real clients: DAP2 and DAP4 (netCDF-C via xarray),
virtual Zarr (zarr-python via xarray), EDR and WMS, compared with
`rioxarray.open_rasterio` of the same files.

The files are written here with rasterio and `gdal_translate -of COG`; rasterio and
the reference reads run in a subprocess, because rasterio and netCDF4 in one process
may abort at exit (two copies of the HDF5/netCDF libraries)."""

import json
import re
import subprocess
import sys
import warnings
import io

import numpy as np
import pyproj
import pytest
import requests
import xarray as xr
from PIL import Image

from conftest import start_server, stop_server

# Written in a subprocess: (file name, what it is).
GOOD = {
    # EPSG:4326, int16, 1 band, nodata, scale/offset, TIFFTAG_DATETIME, COG (deflate,
    # predictor 2, 64×64 tiles, with overviews).
    "cog_4326.tif": "geotiff",
    # EPSG:32633 (UTM 33N), uint16, 3 bands, striped (7 rows a strip), LZW.
    "utm_striped.tif": "geotiff",
    # EPSG:3857, float32, 1 band, NaN nodata, 32×32 tiles, LZW + predictor 3, big-endian.
    "mercator_be.tif": "geotiff-be",
    # The UTM raster as a COG with Zstandard (GDAL's compression 50000), 16×16 tiles
    # (the edge tiles padded), pixel-interleaved bands.
    "utm_zstd_cog.tif": "geotiff",
    # The EPSG:4326 raster as a COG with deflate and no predictor: its tiles are the
    # virtual Zarr's chunks, passed through as stored.
    "cog_plain.tif": "geotiff",
}

WRITE = r"""
import json, os, subprocess, sys
import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.warp import transform as warp
import rioxarray

src, out = sys.argv[1], sys.argv[2]
h, w = 100, 200
rows, cols = np.mgrid[0:h, 0:w]
a = (rows * 7 + cols * 3 - 500).astype("int16")
a[30:35, 60:70] = -9999
with rasterio.open(f"{src}/a.tif", "w", driver="GTiff", height=h, width=w, count=1,
                   dtype="int16", crs="EPSG:4326", nodata=-9999,
                   transform=from_origin(-20, 60, 0.2, 0.2)) as d:
    d.write(a, 1)
    d.scales = (0.01,)
    d.offsets = (5.0,)
    d.update_tags(TIFFTAG_DATETIME="2021:06:15 12:00:00")
subprocess.run(["gdal_translate", "-q", "-of", "COG", "-co", "COMPRESS=DEFLATE",
                "-co", "BLOCKSIZE=64", "-co", "PREDICTOR=YES", "-co", "OVERVIEWS=AUTO",
                f"{src}/a.tif", f"{out}/cog_4326.tif"], check=True)
subprocess.run(["gdal_translate", "-q", "-of", "COG", "-co", "COMPRESS=DEFLATE",
                "-co", "BLOCKSIZE=64", f"{src}/a.tif", f"{out}/cog_plain.tif"], check=True)

h, w = 40, 60
rows, cols = np.mgrid[0:h, 0:w]
b = np.stack([rows * 100 + cols + k * 10000 for k in range(3)]).astype("uint16")
with rasterio.open(f"{out}/utm_striped.tif", "w", driver="GTiff", height=h, width=w,
                   count=3, dtype="uint16", crs="EPSG:32633", compress="lzw",
                   blockysize=7, transform=from_origin(500000, 5600000, 1000, 1000)) as d:
    d.write(b)
subprocess.run(["gdal_translate", "-q", "-of", "COG", "-co", "COMPRESS=ZSTD",
                "-co", "BLOCKSIZE=16", f"{out}/utm_striped.tif", f"{out}/utm_zstd_cog.tif"],
               check=True)

h, w = 50, 70
rows, cols = np.mgrid[0:h, 0:w]
c = (np.sin(rows / 7.0) * 100 + cols * 0.5).astype("float32")
c[3, 4:9] = np.nan
with rasterio.open(f"{out}/mercator_be.tif", "w", driver="GTiff", height=h, width=w,
                   count=1, dtype="float32", crs="EPSG:3857", nodata=np.nan, tiled=True,
                   blockxsize=32, blockysize=32, compress="lzw", predictor=3,
                   ENDIANNESS="BIG", transform=from_origin(1000000, 6000000, 2000, 2000)) as d:
    d.write(c, 1)

# A large COG of incompressible values (2048² float32, 16 MiB, 256² deflate tiles): a
# small window must cost a few tiles' bytes, not the file's.
rng = np.random.default_rng(7)
big = rng.random((2048, 2048), dtype="float32")
with rasterio.open(f"{src}/big.tif", "w", driver="GTiff", height=2048, width=2048, count=1,
                   dtype="float32", crs="EPSG:4326", transform=from_origin(0, 20, 0.01, 0.01)) as d:
    d.write(big, 1)
subprocess.run(["gdal_translate", "-q", "-of", "COG", "-co", "COMPRESS=DEFLATE",
                "-co", "BLOCKSIZE=256", "-co", "OVERVIEWS=NONE", f"{src}/big.tif",
                f"{out}/big_cog.tif"], check=True)
os.remove(f"{src}/big.tif")
np.save(f"{src}/big_window.npy", big[1000:1010, 1500:1510])

# Daily COGs for a join_new aggregation, each with its own TIFFTAG_DATETIME.
os.makedirs(f"{src}/daily", exist_ok=True)
for day in range(1, 4):
    v = (np.arange(12 * 16).reshape(12, 16) * day).astype("float32")
    with rasterio.open(f"{src}/daily/tmp.tif", "w", driver="GTiff", height=12, width=16,
                       count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_origin(0, 12, 1, 1)) as d:
        d.write(v, 1)
        d.update_tags(TIFFTAG_DATETIME=f"2021:06:{day:02d} 10:00:00")
    subprocess.run(["gdal_translate", "-q", "-of", "COG", "-co", "COMPRESS=DEFLATE",
                    f"{src}/daily/tmp.tif", f"{src}/daily/ndvi_202106{day:02d}.tif"], check=True)
    os.remove(f"{src}/daily/tmp.tif")
    np.save(f"{src}/daily_{day}.npy", rioxarray.open_rasterio(f"{src}/daily/ndvi_202106{day:02d}.tif").values)

ref = {}
for name in ["cog_4326.tif", "utm_striped.tif", "mercator_be.tif", "utm_zstd_cog.tif",
             "cog_plain.tif"]:
    raw = rioxarray.open_rasterio(f"{out}/{name}")
    dec = rioxarray.open_rasterio(f"{out}/{name}", mask_and_scale=True)
    np.save(f"{src}/{name}.raw.npy", raw.values)
    np.save(f"{src}/{name}.decoded.npy", dec.values)
    t = raw.rio.transform()
    # Longitude and latitude of pixel (row 10, col 20), for EDR.
    x, y = t * (20.5, 10.5)
    lon, lat = warp(raw.rio.crs, "EPSG:4326", [x], [y])
    ref[name] = {
        "x": raw.x.values.tolist(), "y": raw.y.values.tolist(),
        "band": raw.band.values.tolist(), "dtype": str(raw.dtype),
        "attrs": {k: (v.item() if hasattr(v, "item") else v) for k, v in raw.attrs.items()
                  if isinstance(v, (int, float, str, np.generic))},
        "epsg": raw.rio.crs.to_epsg(), "pixel": [lon[0], lat[0]],
    }
json.dump(ref, open(f"{src}/ref.json", "w"))
"""


@pytest.fixture(scope="module")
def tiffs(tmp_path_factory):
    src = tmp_path_factory.mktemp("tiff-src")
    data = tmp_path_factory.mktemp("tiff-data")
    subprocess.run([sys.executable, "-c", WRITE, str(src), str(data)], check=True)
    cog = (data / "cog_4326.tif").read_bytes()
    # Damaged files: an IFD offset past the end; a COG cut in its tile data.
    (data / "broken_header.tif").write_bytes(b"II*\0\xff\xff\xff\x7f" + bytes(100))
    (data / "truncated.tif").write_bytes(cog[: len(cog) // 3])
    ref = json.loads((src / "ref.json").read_text())
    return data, src, ref


@pytest.fixture(scope="module", params=["local", "s3"])
def server(request, tiffs, tmp_path_factory):
    """The files served from local disk, and from S3 (moto): tiles read by ranges."""
    if request.param == "local":
        proc, base = start_server([str(tiffs[0])])
    else:
        from s3server import MotoServer

        moto = MotoServer()
        request.addfinalizer(moto.stop)
        moto.upload_dir(tiffs[0], "tiffs")
        work = tmp_path_factory.mktemp("tiff-s3")
        config = work / "datagate.toml"
        config.write_text(moto.config_toml(work / "file-cache", ["s3://datagate-test/tiffs/"]))
        proc, base = start_server(["--config", str(config)])
    yield base
    stop_server(proc)


def raw(tiffs, name):
    return np.load(tiffs[1] / f"{name}.raw.npy")


def decoded(tiffs, name):
    return np.load(tiffs[1] / f"{name}.decoded.npy")


def check_dataset(ds, tiffs, name, masked):
    ref = tiffs[2][name]
    want = decoded(tiffs, name) if masked else raw(tiffs, name)
    got = ds["band_data"]
    assert got.dims == ("band", "y", "x")
    # Decoded values: float32 (rioxarray) against float64 (a float64 scale_factor).
    tol = {"rtol": 1e-6, "atol": 1e-5} if masked else {"rtol": 0}
    np.testing.assert_allclose(got.values.astype("f8"), want.astype("f8"), equal_nan=True, **tol)
    np.testing.assert_allclose(ds["x"].values, ref["x"])
    np.testing.assert_allclose(ds["y"].values, ref["y"])
    assert ds["band"].values.tolist() == ref["band"]


def test_datasets_lists_geotiffs_and_leaves_out_damaged(server):
    listing = requests.get(server + "/datasets", timeout=60).json()["datasets"]
    by_id = {d["id"]: d for d in listing}
    for name, fmt in GOOD.items():
        assert by_id[name]["format"] == fmt, name
        paths = {v["path"] for v in by_id[name]["variables"]}
        assert {"/band_data", "/band", "/x", "/y", "/spatial_ref"} <= paths
    assert "broken_header.tif" not in by_id
    assert requests.get(server + "/healthz", timeout=10).status_code == 200


@pytest.mark.parametrize("name", sorted(GOOD))
@pytest.mark.parametrize("masked", [False, True])
def test_dap2_matches_rioxarray(server, tiffs, name, masked):
    ds = xr.open_dataset(f"{server}/opendap/{name}", engine="netcdf4",
                         mask_and_scale=masked, decode_times=False)
    check_dataset(ds, tiffs, name, masked)
    attrs = tiffs[2][name]["attrs"]
    var = ds["band_data"]
    if not masked:
        for k in ["_FillValue", "scale_factor", "add_offset"]:
            if k in attrs and not (isinstance(attrs[k], float) and np.isnan(attrs[k])):
                got = var.encoding.get(k, var.attrs.get(k))
                assert got == pytest.approx(attrs[k]), k


@pytest.mark.parametrize("name", sorted(GOOD))
def test_dap4_matches_rioxarray(server, tiffs, name):
    host = server.split("://", 1)[1]
    ds = xr.open_dataset(f"dap4://{host}/opendap/{name}", engine="netcdf4",
                         mask_and_scale=False, decode_times=False)
    check_dataset(ds, tiffs, name, masked=False)


@pytest.mark.parametrize("name", sorted(GOOD))
@pytest.mark.parametrize("prefix,fmt", [("zarr", 2), ("zarr3", 3)])
def test_zarr_matches_rioxarray(server, tiffs, name, prefix, fmt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw_ds = xr.open_zarr(f"{server}/{prefix}/{name}", zarr_format=fmt,
                              consolidated=True, mask_and_scale=False, decode_times=False)
        check_dataset(raw_ds, tiffs, name, masked=False)
        dec = xr.open_zarr(f"{server}/{prefix}/{name}", zarr_format=fmt,
                           consolidated=True, decode_times=False)
        check_dataset(dec, tiffs, name, masked=True)


def test_zarr_passes_deflate_tiles_through(server, tiffs):
    zarray = requests.get(f"{server}/zarr/cog_plain.tif/band_data/.zarray", timeout=30).json()
    assert zarray["chunks"] == [1, 64, 64]
    assert zarray["compressor"]["id"] == "zlib"
    assert zarray["fill_value"] == -9999
    # The chunk is the stored tile, byte for byte.
    chunk = requests.get(f"{server}/zarr/cog_plain.tif/band_data/0.1.2", timeout=30)
    assert chunk.status_code == 200
    assert len(chunk.content) > 0 and chunk.content in (tiffs[0] / "cog_plain.tif").read_bytes()


def store_bytes(server, kind):
    text = requests.get(server + "/metrics", timeout=10).text
    m = re.search(r'datagate_object_store_bytes_total\{kind="%s"\} (\d+)' % kind, text)
    return int(m.group(1)) if m else 0


def store_requests(server):
    text = requests.get(server + "/metrics", timeout=10).text
    m = re.search(r'datagate_object_store_requests_total\{kind="range"\} (\d+)', text)
    return int(m.group(1)) if m else 0


def test_a_window_of_a_cog_in_object_storage_costs_its_tiles(server, tiffs, request):
    if request.node.callspec.params["server"] != "s3":
        pytest.skip("counts object-store bytes")
    size = (tiffs[0] / "big_cog.tif").stat().st_size
    ranges, whole = store_bytes(server, "range"), store_bytes(server, "whole")
    ds = xr.open_dataset(f"{server}/opendap/big_cog.tif", engine="netcdf4")
    got = ds["band_data"][0, 1000:1010, 1500:1510].values
    np.testing.assert_array_equal(got, np.load(tiffs[1] / "big_window.npy"))
    assert store_bytes(server, "whole") == whole
    fetched = store_bytes(server, "range") - ranges
    # The header and IFDs, and the one 256 KiB tile holding the window, in 512 KiB
    # blocks of the block cache: a small part of the 16 MiB file.
    assert 0 < fetched <= 2 * 512 * 1024 < size / 8, (fetched, size)
    # A whole row of tiles (GDAL puts a few bytes around each) is one request.
    requests_before = store_requests(server)
    ds["band_data"][0, 256:512, :].values
    assert store_requests(server) - requests_before == 1


def test_time_from_tiff_datetime(server, tiffs):
    ds = xr.open_dataset(f"{server}/opendap/cog_4326.tif", engine="netcdf4")
    assert str(ds["time"].values)[:19] == "2021-06-15T12:00:00"
    assert ds["band_data"].attrs["TIFFTAG_DATETIME"] == "2021:06:15 12:00:00"


def test_stac_item_time_and_footprint(server):
    r = requests.get(f"{server}/stac/search", params={"ids": "cog_4326.tif"}, timeout=30)
    assert r.status_code == 200, r.text[:300]
    items = r.json()["features"]
    assert len(items) == 1
    item = items[0]
    assert item["properties"]["datetime"].startswith("2021-06-15T12:00:00")
    assert item["bbox"] == pytest.approx([-20, 40, 20, 60], abs=0.11)


def test_projected_raster_has_lon_lat(server, tiffs):
    ds = xr.open_dataset(f"{server}/opendap/utm_striped.tif", engine="netcdf4")
    lon, lat = tiffs[2]["utm_striped.tif"]["pixel"]
    assert ds["lon"].dims == ("y", "x")
    assert float(ds["lon"][10, 20]) == pytest.approx(lon, abs=1e-6)
    assert float(ds["lat"][10, 20]) == pytest.approx(lat, abs=1e-6)
    assert ds["spatial_ref"].attrs["epsg_code"] == "EPSG:32633"
    # The WKT names the CRS for pyproj (and so rioxarray) on the client.
    for name, d in tiffs[2].items():
        remote = xr.open_dataset(f"{server}/opendap/{name}", engine="netcdf4")
        crs = pyproj.CRS.from_wkt(remote["spatial_ref"].attrs["crs_wkt"])
        assert crs.to_epsg() == d["epsg"], name
        assert pyproj.CRS.from_cf(remote["spatial_ref"].attrs).to_epsg() in (d["epsg"], None)
    assert ds["band_data"].attrs["grid_mapping"] == "spatial_ref"


@pytest.mark.parametrize("name", ["cog_4326.tif", "mercator_be.tif"])
def test_edr_position_at_a_pixel(server, tiffs, name):
    lon, lat = tiffs[2][name]["pixel"]
    r = requests.get(f"{server}/edr/collections/{name}/position",
                     params={"coords": f"POINT({lon} {lat})", "f": "CoverageJSON"}, timeout=60)
    assert r.status_code == 200, r.text[:500]
    doc = r.json()
    value = doc["ranges"]["band_data"]["values"][0]
    want = decoded(tiffs, name)[0, 10, 20]
    assert value == pytest.approx(float(want), rel=1e-6)


def getmap(server, layer, crs, bbox):
    return requests.get(server + "/wms", params={
        "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": layer,
        "STYLES": "", "CRS": crs, "BBOX": bbox, "WIDTH": "200", "HEIGHT": "100",
        "FORMAT": "image/png", "TRANSPARENT": "TRUE"}, timeout=60)


@pytest.mark.parametrize("layer,crs,bbox", [
    ("cog_4326.tif/band_data", "CRS:84", "-20,40,20,60"),
    ("utm_striped.tif/band_data", "CRS:84", "14,50,16,51"),
    ("mercator_be.tif/band_data", "EPSG:3857", "1000000,5900000,1140000,6000000"),
])
def test_wms_getmap_draws_the_raster(server, layer, crs, bbox):
    r = getmap(server, layer, crs, bbox)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"] == "image/png"
    img = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))
    assert (img[..., 3] > 0).sum() > 1000


def test_damaged_files_fail_alone(server):
    r = requests.get(f"{server}/opendap/broken_header.tif.dds", timeout=30)
    assert r.status_code >= 400
    try:
        r = requests.get(f"{server}/opendap/truncated.tif.dods", timeout=30)
        assert r.status_code >= 400
    except requests.exceptions.RequestException:
        pass  # failing mid-body closes the connection: also an error to the client
    assert requests.get(server + "/healthz", timeout=10).status_code == 200
    r = requests.get(f"{server}/opendap/cog_4326.tif.dds", timeout=30)
    assert r.status_code == 200


@pytest.fixture(scope="module")
def daily_server(tiffs, tmp_path_factory):
    src = tiffs[1]
    config = tmp_path_factory.mktemp("tiff-daily") / "datagate.toml"
    config.write_text(f"""
[[collections]]
id = "ndvi"
glob = "{src}/daily/ndvi_*.tif"
join_new = "time"
date_format = "ndvi_%Y%m%d.tif"
units = "days since 2021-01-01"
""")
    proc, base = start_server(["--config", str(config)])
    yield base
    stop_server(proc)


def test_daily_cogs_join_new_along_time(daily_server, tiffs):
    """Daily COGs as one dataset: the dates from the file names become `time` (the
    files' own scalar time from TIFFTAG_DATETIME gives way to it)."""
    ds = xr.open_dataset(f"{daily_server}/opendap/ndvi", engine="netcdf4")
    assert ds["band_data"].dims == ("time", "band", "y", "x")
    assert [str(t)[:10] for t in ds["time"].values] == ["2021-06-01", "2021-06-02", "2021-06-03"]
    want = np.stack([np.load(tiffs[1] / f"daily_{d}.npy") for d in (1, 2, 3)])
    np.testing.assert_array_equal(ds["band_data"].values, want)
    np.testing.assert_array_equal(ds["band_data"][1:3, 0, 5, 2:9].values, want[1:3, 0, 5, 2:9])
