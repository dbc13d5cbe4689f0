"""Aggregations read by real clients, the intake catalog, sample notebooks and raw file
downloads (THREDDS' HTTPServer)."""

import hashlib
import json

import intake
import netCDF4
import nbformat
import numpy as np
import requests
import xarray as xr
from siphon.catalog import TDSCatalog

from test_stac import stac_server  # noqa: F401  (the server with the sst-daily aggregation)


def test_aggregation_over_dap_equals_open_mfdataset(stac_server):  # noqa: F811
    base, work = stac_server
    files = sorted((work / "series" / "daily").glob("sst_2020*.nc"))
    local = xr.open_mfdataset(files, combine="by_coords", engine="netcdf4")
    remote = xr.open_dataset(base + "/opendap/sst-daily", engine="netcdf4")
    assert remote.sizes["time"] == 12 == local.sizes["time"]
    np.testing.assert_array_equal(remote["time"].values, local["time"].values)
    np.testing.assert_array_equal(remote["sst"].values, local["sst"].values)
    # A strided subset across files, as ncdump/xarray would ask for it.
    sub = xr.open_dataset(base + "/opendap/sst-daily", engine="netcdf4")["sst"][1:11:3, 2, :].values
    np.testing.assert_array_equal(sub, local["sst"][1:11:3, 2, :].values)


def test_aggregation_over_zarr_and_dap4(stac_server):  # noqa: F811
    base, work = stac_server
    files = sorted((work / "series" / "daily").glob("sst_2020*.nc"))
    local = xr.open_mfdataset(files, combine="by_coords", engine="netcdf4")
    z = xr.open_zarr(base + "/zarr/sst-daily", consolidated=True)
    np.testing.assert_array_equal(z["sst"].values, local["sst"].values)
    np.testing.assert_array_equal(z["time"].values, local["time"].values)
    d4 = xr.open_dataset("dap4://" + base.split("://", 1)[1] + "/opendap/sst-daily", engine="netcdf4")
    np.testing.assert_array_equal(d4["sst"].values, local["sst"].values)


def test_aggregation_passes_member_chunks_through(stac_server):  # noqa: F811
    # Members share their chunking and chunks end on member boundaries: the Zarr view
    # of the aggregation is the members' stored chunks side by side, served as stored
    # (not decoded and re-chunked), and kerchunk references point into member files.
    base, work = stac_server
    files = sorted((work / "series" / "daily").glob("sst_2020*.nc"))
    with netCDF4.Dataset(files[0]) as nc:
        chunking = nc["sst"].chunking()
        assert nc["sst"].filters()["zlib"] is False
    za = requests.get(base + "/zarr/sst-daily/sst/.zarray", timeout=30).json()
    assert za["chunks"] == chunking
    assert za["compressor"] is None and not za["filters"]
    refs = requests.get(base + "/zarr/sst-daily/refs.json", timeout=30).json()["refs"]
    for step in [0, 5, 11]:
        url, offset, size = refs[f"sst/{step}.0.0"]
        assert url.endswith(files[step].name), url
        stored = files[step].read_bytes()[offset : offset + size]
        v2 = requests.get(f"{base}/zarr/sst-daily/sst/{step}.0.0", timeout=30)
        v3 = requests.get(f"{base}/zarr/sst-daily/sst/c/{step}/0/0", timeout=30)
        assert v2.content == stored == v3.content
    # kerchunk's reference filesystem reads the members' bytes directly.
    import fsspec

    fs = fsspec.filesystem("reference", fo=base + "/zarr/sst-daily/refs.json")
    z = xr.open_dataset(fs.get_mapper(""), engine="zarr", consolidated=False)
    local = xr.open_mfdataset(files, combine="by_coords", engine="netcdf4")
    np.testing.assert_array_equal(z["sst"].values, local["sst"].values)


def test_rescan_picks_up_new_files(stac_server):  # noqa: F811
    base, work = stac_server
    r = requests.post(base + "/datasets/rescan", timeout=30).json()
    assert any("sst_bad.nc" in p for p in r["problems"]), r


def test_intake_catalog_opens_datasets(stac_server):  # noqa: F811
    base, _ = stac_server
    cat = intake.open_catalog(base + "/intake/catalog.yaml")
    assert "sst_classic_nc" in list(cat)
    assert "sst_daily_zarr" in list(cat)
    ds = cat["sst_classic_nc"].to_dask()
    assert ds["sst"].shape == (3, 10, 18)
    dz = cat["sst_daily_zarr"].to_dask()
    assert dz["sst"].shape == (12, 4, 5)


def test_notebook_is_valid_and_its_code_runs(stac_server):  # noqa: F811
    base, _ = stac_server
    r = requests.get(base + "/datasets/gridded_nc4.nc/notebook.ipynb", timeout=10)
    nb = nbformat.reads(r.text, as_version=4)
    nbformat.validate(nb)
    scope = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(cell.source, scope)  # the notebook's own code, against this server
    assert scope["ds"]["temp"].shape == (4, 3, 20, 36)
    assert scope["dz"]["temp"].shape == (4, 3, 20, 36)
    assert scope["r"].status_code == 200
    assert requests.get(base + "/datasets/nope/notebook.ipynb", timeout=10).status_code == 404


def test_raw_file_download_with_ranges(stac_server, fixtures_dir):  # noqa: F811
    base, _ = stac_server
    want = (fixtures_dir / "gridded_nc4.nc").read_bytes()
    r = requests.get(base + "/files/gridded_nc4.nc", timeout=10)
    assert r.status_code == 200
    assert hashlib.sha256(r.content).digest() == hashlib.sha256(want).digest()
    r = requests.get(base + "/files/gridded_nc4.nc", headers={"Range": "bytes=0-7"}, timeout=10)
    assert r.status_code == 206 and r.content == want[:8]
    assert requests.get(base + "/files/sst-daily", timeout=10).status_code == 404
    cat = TDSCatalog(base + "/thredds/catalog.xml")
    assert cat.datasets["gridded_nc4.nc"].access_urls["HTTPServer"] == base + "/files/gridded_nc4.nc"
