"""Fill values over DAP4 through netCDF-C (issue: Float32 attribute values arrive a few
ulp off, docs/dap4.md "Float32 attributes and netCDF-C"). Over files written here that
reproduce what real archives hold — a UM-like Float32 `_FillValue = 1e20`, an ORCA-like
default fill, a station series with only `missing_value = -99.9`, a NetCDF-3 `-999`,
valid ranges, Float64 fills and packed data — xarray (netCDF4 engine, netCDF-C 4.10)
and netCDF4-python's own masking read over `dap4://` must mask exactly the values
they mask locally, and decode everything else as locally.
"""

import subprocess

import netCDF4
import numpy as np
import pytest
import xarray as xr
from conftest import start_server, stop_server

NC_FILL_FLOAT = netCDF4.default_fillvals["f4"]


def write_files(d):
    rng = np.random.default_rng(7)
    with netCDF4.Dataset(d / "um_like.nc", "w") as nc:
        nc.createDimension("time", 4)
        nc.createDimension("lat", 5)
        nc.createDimension("lon", 6)
        t = nc.createVariable("surface_temperature", "f4", ("time", "lat", "lon"), fill_value=np.float32(1e20))
        data = rng.uniform(250, 300, (4, 5, 6)).astype("f4")
        data[0, 0, :] = 1e20
        data[2, 3, 4] = 1e20
        t[:] = data
        t.units = "K"
        # ORCA-like: the default fill written explicitly, some cells never written.
        v = nc.createVariable("votemper", "f4", ("time", "lat", "lon"), fill_value=NC_FILL_FLOAT)
        v[:, :3, :] = rng.uniform(-2, 30, (4, 3, 6)).astype("f4")
        # Valid range in Float32: values outside are masked by netCDF4-python.
        s = nc.createVariable("salinity", "f4", ("time", "lat", "lon"))
        s[:] = rng.uniform(30, 40, (4, 5, 6)).astype("f4")
        s.valid_min = np.float32(31.3)
        s.valid_max = np.float32(38.7)
        # Float64 variable with a Float64 fill: already exact.
        p = nc.createVariable("pressure", "f8", ("time", "lat", "lon"), fill_value=-1e30)
        pdata = rng.uniform(900, 1100, (4, 5, 6))
        pdata[1, 1, 1] = -1e30
        p[:] = pdata
        # Packed: Int16 with Float32 scale and offset, Int16 fill.
        k = nc.createVariable("packed", "i2", ("time", "lat", "lon"), fill_value=np.int16(-32767))
        k.scale_factor = np.float32(0.01)
        k.add_offset = np.float32(273.15)
        k.set_auto_maskandscale(False)
        raw = rng.integers(-2000, 2000, (4, 5, 6)).astype("i2")
        raw[3, 0, 0] = -32767
        k[:] = raw
    with netCDF4.Dataset(d / "station.nc", "w") as nc:
        nc.createDimension("time", 50)
        x = nc.createVariable("air_temperature", "f4", ("time",))
        series = rng.uniform(-10, 20, 50).astype("f4")
        series[[3, 17, 40]] = np.float32(-99.9)
        x.missing_value = np.float32(-99.9)
        x[:] = series
    with netCDF4.Dataset(d / "classic.nc", "w", format="NETCDF3_CLASSIC") as nc:
        nc.createDimension("x", 20)
        c = nc.createVariable("depth", "f4", ("x",), fill_value=np.float32(-999))
        values = np.linspace(0, 100, 20).astype("f4")
        values[[0, 5]] = -999
        c[:] = values


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    d = tmp_path_factory.mktemp("fills")
    write_files(d)
    proc, base = start_server([str(d)])
    yield base, d
    stop_server(proc)


def dap4(base, name):
    return f"dap4://{base.split('://', 1)[1]}/opendap/{name}"


CASES = [
    ("um_like.nc", "surface_temperature"),
    ("um_like.nc", "votemper"),
    ("um_like.nc", "salinity"),
    ("um_like.nc", "pressure"),
    ("station.nc", "air_temperature"),
    ("classic.nc", "depth"),
]


@pytest.mark.parametrize("name,var", CASES)
def test_xarray_masks_as_locally(served, name, var):
    base, d = served
    with xr.open_dataset(dap4(base, name), engine="netcdf4") as rem, xr.open_dataset(
        d / name, engine="netcdf4"
    ) as loc:
        a, b = rem[var].values, loc[var].values
        assert a.dtype == b.dtype
        assert np.isnan(b).any() or var == "salinity", "the case must have fill values"
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=var)
        np.testing.assert_array_equal(a, b, err_msg=var)


@pytest.mark.parametrize("name,var", CASES)
def test_netcdf4_python_masks_as_locally(served, name, var):
    # netCDF4-python's own masking: _FillValue, missing_value and the valid range.
    base, d = served
    with netCDF4.Dataset(dap4(base, name)) as rem, netCDF4.Dataset(d / name) as loc:
        a, b = rem[var][:], loc[var][:]
        np.testing.assert_array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b), err_msg=var)
        np.testing.assert_array_equal(a.compressed(), b.compressed(), err_msg=var)
        assert np.ma.getmaskarray(b).any(), "the case must mask something"


def test_valid_range_is_exact(served):
    base, d = served
    with netCDF4.Dataset(dap4(base, "um_like.nc")) as rem:
        s = rem["salinity"]
        assert np.float32(s.valid_min) == np.float32(31.3)
        assert np.float32(s.valid_max) == np.float32(38.7)


def test_packed_values_decode_closely(served):
    # scale_factor/add_offset stay Float32 (a Float64 scale would change xarray's
    # decoded dtype); netCDF-C reads them a few ulp off: values within 1e-6, the
    # masking (an Int16 fill) exact.
    base, d = served
    with xr.open_dataset(dap4(base, "um_like.nc"), engine="netcdf4") as rem, xr.open_dataset(
        d / "um_like.nc", engine="netcdf4"
    ) as loc:
        a, b = rem["packed"].values, loc["packed"].values
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        assert np.isnan(b).any()
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_ncdump_prints_the_fill_exactly(served):
    base, _ = served
    out = subprocess.run(
        ["ncdump", "-h", dap4(base, "station.nc")], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    # Float64 on the wire: the float's exact value, not `-99.90001`.
    assert "air_temperature:missing_value = -99.9000015258789 ;" in out.stdout, out.stdout
