"""kerchunk references in Parquet (kerchunk's `refs_to_dataframe`, fsspec's
LazyReferenceMapper layout: a directory with `.zmetadata` and `{var}/refs.{n}.parq`)
served like the JSON references: DAP2 (netCDF-C via xarray) and virtual Zarr (zarr-python
via xarray) compared with xarray's own read of the references
(`xr.open_dataset("reference://", engine="zarr", ...)`).

The NetCDF-4 file is written by netCDF4 in one process and translated by kerchunk
(h5py) in another, as the two HDF5 libraries do not share a process well."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import xarray as xr

from conftest import BACKENDS, start_server, stop_server

pytest.importorskip("kerchunk")
pytest.importorskip("fastparquet")

WRITE_NC = r"""
import sys
import netCDF4
import numpy as np
with netCDF4.Dataset(sys.argv[1], "w") as d:
    d.createDimension("time", 7)
    d.createDimension("lat", 10)
    d.createDimension("lon", 12)
    t = d.createVariable("time", "f8", ("time",))
    t.units = "days since 2000-01-01"
    t[:] = np.arange(7)
    d.createVariable("lat", "f8", ("lat",))[:] = np.linspace(40, 49, 10)
    d.createVariable("lon", "f8", ("lon",))[:] = np.linspace(0, 11, 12)
    v = d.createVariable("sst", "f4", ("time", "lat", "lon"), zlib=True,
                         chunksizes=(1, 10, 12), fill_value=-999.0)
    v.units = "K"
    v[:] = np.random.default_rng(3).random((7, 10, 12)).astype("f4") + 270
    p = d.createVariable("partial", "f4", ("time", "lat", "lon"), zlib=True,
                         chunksizes=(1, 10, 12), fill_value=-999.0)
    # Time steps 5 and 6 never written: their chunks are not allocated.
    p[0:5] = np.random.default_rng(4).random((5, 10, 12)).astype("f4")
"""

WRITE_REFS = r"""
import json, os, sys
import numpy as np
import xarray as xr
from kerchunk.hdf import SingleHdf5ToZarr
from kerchunk.df import refs_to_dataframe
nc, out, relative_out = sys.argv[1], sys.argv[2], sys.argv[3]
# Coordinates inlined (the `raw` column), chunks (~260 bytes) by byte ranges; 4
# chunks per file: file 1 of `partial` has chunk 4 and two chunks never written.
refs = SingleHdf5ToZarr(nc, inline_threshold=100).translate()
refs_to_dataframe(refs, out, record_size=4)
# The same references with paths relative to the reference directory's parent (for a
# copy in object storage, beside the NetCDF file).
rel = {k: (["a.nc"] + v[1:] if isinstance(v, list) else v) for k, v in refs["refs"].items()}
refs_to_dataframe({"version": 1, "refs": rel}, relative_out, record_size=4)
def reference(fo):
    return xr.open_dataset("reference://", engine="zarr", backend_kwargs={
        "consolidated": False, "storage_options": {"fo": fo, "remote_protocol": "file"}})
ds = reference(out)
# fsspec's own Parquet reader fails on rows of chunks never written (a null path
# read back as NaN): `partial` is read through the same references as JSON.
partial = reference(refs)["partial"].values
np.savez(out + ".npz", sst=ds["sst"].values, lat=ds["lat"].values, time=ds["time"].values,
         partial=partial)
print(sorted(os.listdir(os.path.join(out, "partial"))))
"""


@pytest.fixture(scope="module")
def refs_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("parquet-refs")
    nc = d / "data" / "a.nc"
    nc.parent.mkdir()
    subprocess.run([sys.executable, "-c", WRITE_NC, str(nc)], check=True)
    served, relative = d / "served", d / "relative"
    served.mkdir()
    relative.mkdir()
    out = subprocess.run([sys.executable, "-c", WRITE_REFS, str(nc), str(served / "a.parq"),
                          str(relative / "a.parq")], check=True, capture_output=True, text=True)
    (relative / "a.nc").write_bytes(nc.read_bytes())
    # 7 chunks in records of 4: two Parquet files.
    assert "refs.1.parq" in out.stdout, out.stdout
    return served


@pytest.fixture(scope="module", params=[b for b in ["local", "s3"] if b in BACKENDS])
def server(request, refs_dir, tmp_path_factory):
    """The references on local disk (absolute paths), or in S3 (moto) beside the NetCDF
    file they name by a relative path."""
    if request.param == "local":
        proc, base = start_server([str(refs_dir)])
        yield base
        stop_server(proc)
        return
    from s3server import MotoServer

    moto = MotoServer()
    try:
        # The reference directory's files, sub-directories included.
        root = refs_dir.parent / "relative"
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            moto.client.upload_file(str(path), "datagate-test", f"pq/{path.relative_to(root)}")
        work = tmp_path_factory.mktemp("parquet-s3")
        config = work / "datagate.toml"
        config.write_text(moto.config_toml(work / "file-cache", ["s3://datagate-test/pq/"]))
        proc, base = start_server(["--config", str(config)])
        yield base
        stop_server(proc)
    finally:
        moto.stop()


def expected(refs_dir):
    return np.load(str(refs_dir / "a.parq") + ".npz")


def test_dap2_matches_xarray_reference_read(server, refs_dir):
    want = expected(refs_dir)
    ds = xr.open_dataset(f"{server}/opendap/a.parq", engine="netcdf4")
    np.testing.assert_array_equal(ds["sst"].values, want["sst"])
    np.testing.assert_array_equal(ds["lat"].values, want["lat"])
    np.testing.assert_array_equal(ds["time"].values, want["time"])
    # The chunks never written read as missing, as in xarray's own read.
    np.testing.assert_array_equal(ds["partial"].values, want["partial"])
    assert np.isnan(ds["partial"].values[5:]).all() and not np.isnan(ds["partial"].values[:5]).any()
    assert ds["sst"].attrs["units"] == "K"


def test_zarr_matches_xarray_reference_read(server, refs_dir):
    want = expected(refs_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = xr.open_zarr(f"{server}/zarr/a.parq", consolidated=True)
    np.testing.assert_array_equal(ds["sst"].values, want["sst"])
    np.testing.assert_array_equal(ds["partial"].values, want["partial"])
    np.testing.assert_array_equal(ds["time"].values, want["time"])
