"""Azure Blob Storage (Azurite): the fixtures uploaded, served from an `az://` root, read
by real clients (xarray over DAP2, zarr-python over Zarr) exactly like the local files.
(Why no Google Cloud Storage server: see cloudservers.py.)"""

import numpy as np
import pytest
import requests
import xarray as xr

from cloudservers import BUCKET, Azurite
from conftest import start_server, stop_server

@pytest.fixture(scope="module")
def cloud(fixtures_dir, tmp_path_factory):
    store = Azurite()
    store.upload_dir(str(fixtures_dir), "fixtures")
    config = tmp_path_factory.mktemp("azure") / "datagate.toml"
    config.write_text(store.config_toml(f"az://{BUCKET}/fixtures/"))
    proc, base = start_server(["--config", str(config)], env=store.env())
    yield base
    stop_server(proc)
    store.stop()


def test_prefix_listing_finds_every_fixture(cloud, fixtures_dir):
    ids = {d["id"] for d in requests.get(cloud + "/datasets", timeout=30).json()["datasets"]}
    local = {p.name for p in fixtures_dir.glob("*.nc")}
    assert local <= ids, ids


def test_dap2_reads_like_local(cloud, fixtures_dir):
    remote = xr.open_dataset(f"{cloud}/opendap/gridded_nc4.nc", engine="netcdf4", decode_cf=False)
    local = xr.open_dataset(fixtures_dir / "gridded_nc4.nc", decode_cf=False)
    np.testing.assert_array_equal(remote.temp[1, 2, 3:9, 4:20].values, local.temp[1, 2, 3:9, 4:20].values)
    assert remote.temp.attrs["units"] == local.temp.attrs["units"]


def test_zarr_reads_like_local(cloud, fixtures_dir):
    remote = xr.open_zarr(f"{cloud}/zarr/sst_classic.nc", zarr_format=2, decode_cf=False)
    local = xr.open_dataset(fixtures_dir / "sst_classic.nc", decode_cf=False)
    np.testing.assert_array_equal(remote.sst.values, local.sst.values)


def test_missing_object_is_a_dap_404(cloud):
    r = requests.get(cloud + "/opendap/nope.nc.dds", timeout=30)
    assert r.status_code == 404
    assert r.text.startswith("Error {")
