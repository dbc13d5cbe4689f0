"""Virtual Zarr over HDF5 filter pipelines and layouts beyond the shared fixtures, written
here with netCDF4-python (netCDF-C): Fletcher-32 (which netCDF-C puts first in the
pipeline), big-endian storage, shuffle of 8-byte values, deflate alone, chunked without
filters, and unwritten chunks of a variable without _FillValue. zarr-python must read
every value as netCDF-C does, verifying the Fletcher-32 checksums on the way."""

import warnings

import netCDF4
import numpy as np
import pytest
import requests
import xarray as xr
import zarr

from conftest import start_server

NAME = "filters.nc"


@pytest.fixture(scope="module")
def filters_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("zarr_filters")
    with netCDF4.Dataset(d / NAME, "w") as nc:
        nc.createDimension("y", 7)
        nc.createDimension("x", 10)
        data = (np.arange(70, dtype="f8").reshape(7, 10) - 20.5) * 1.25
        specs = {
            # netCDF-C order: fletcher32, shuffle, deflate.
            "checked": dict(datatype="f4", zlib=True, shuffle=True, fletcher32=True),
            "checked_be": dict(datatype="f4", zlib=True, shuffle=True, fletcher32=True, endian="big"),
            # 8-byte values plus a 4-byte checksum cannot be shuffled by numcodecs.
            "checked_f8": dict(datatype="f8", zlib=True, shuffle=True, fletcher32=True),
            "big": dict(datatype="i4", zlib=True, shuffle=True, endian="big"),
            "f8_shuffled": dict(datatype="f8", zlib=True, shuffle=True, complevel=9),
            "deflate_only": dict(datatype="i2", zlib=True, shuffle=False),
            "plain_chunked": dict(datatype="u2", zlib=False),
        }
        for name, kw in specs.items():
            dtype = kw.pop("datatype")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # endian= differs from the dtype's order
                v = nc.createVariable(name, dtype, ("y", "x"), chunksizes=(3, 4), **kw)
            v[:] = data.astype(dtype)
        # No _FillValue and only one chunk written: the rest is netCDF-C's default fill.
        part = nc.createVariable("partial", "f4", ("y", "x"), chunksizes=(3, 4), zlib=True,
                                 shuffle=True, fletcher32=True)
        part[0:3, 0:4] = np.ones((3, 4), "f4")
    proc, base = start_server([str(d)])
    yield base, d
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("fmt,prefix", [(2, "zarr"), (3, "zarr3")])
@pytest.mark.parametrize("decode", [True, False])
def test_every_pipeline_reads_like_netcdf_c(filters_server, fmt, prefix, decode):
    base, d = filters_server
    local = xr.open_dataset(d / NAME, engine="netcdf4", decode_cf=decode)
    remote = xr.open_zarr(f"{base}/{prefix}/{NAME}", zarr_format=fmt, decode_cf=decode)
    assert set(local.variables) == set(remote.variables)
    for name in local.variables:
        np.testing.assert_array_equal(local[name].values, remote[name].values, err_msg=name)


def test_which_variables_pass_through(filters_server):
    base, _ = filters_server
    meta = requests.get(f"{base}/zarr/{NAME}/.zmetadata", timeout=10).json()["metadata"]
    native = {k.split("/")[0] for k, v in meta.items() if k.endswith(".zarray") and v["chunks"] == [3, 4]}
    assert native == {"checked", "checked_be", "big", "f8_shuffled", "deflate_only", "plain_chunked", "partial"}
    assert meta["checked/.zarray"]["filters"] == [{"id": "fletcher32"}, {"id": "shuffle", "elementsize": 4}]
    assert meta["checked_be/.zarray"]["dtype"] == ">f4"
    assert meta["big/.zarray"]["dtype"] == ">i4"
    assert meta["plain_chunked/.zarray"]["compressor"] is None
    assert meta["plain_chunked/.zarray"]["filters"] is None
    assert meta["deflate_only/.zarray"]["filters"] is None
    assert meta["partial/.zarray"]["fill_value"] is None


def test_zarr_python_verifies_checksums(filters_server):
    base, d = filters_server
    with netCDF4.Dataset(d / NAME) as nc:
        nc.set_auto_maskandscale(False)
        want = nc["checked"][:]
        partial = nc["partial"][:]
    g = zarr.open_group(f"{base}/zarr/{NAME}", mode="r", zarr_format=2)
    np.testing.assert_array_equal(g["checked"][:], want)
    # Unwritten chunks of a variable without _FillValue are encoded here (checksum
    # included) with netCDF-C's default fill, which is what netCDF-C reads.
    np.testing.assert_array_equal(g["partial"][:], partial)
    assert requests.get(f"{base}/zarr/{NAME}/partial/1.1", timeout=10).status_code == 200
    # In v3 the fill value is in the metadata: the same chunk is absent.
    assert requests.get(f"{base}/zarr3/{NAME}/partial/c/1/1", timeout=10).status_code == 404
    g3 = zarr.open_group(f"{base}/zarr3/{NAME}", mode="r", zarr_format=3)
    np.testing.assert_array_equal(g3["partial"][:], partial)


def test_references_read_the_file(filters_server):
    import fsspec

    base, d = filters_server
    refs = requests.get(f"{base}/zarr/{NAME}/refs.json", timeout=10).json()
    fs = fsspec.filesystem("reference", fo=refs)
    remote = xr.open_dataset(fs.get_mapper(""), engine="zarr", consolidated=False, zarr_format=2)
    local = xr.open_dataset(d / NAME)
    for name in local.variables:
        np.testing.assert_array_equal(local[name].values, remote[name].values, err_msg=name)
    assert refs["refs"]["checked/0.0"][0].startswith("file://")
