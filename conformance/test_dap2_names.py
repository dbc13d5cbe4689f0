"""DAP2 attribute names with characters outside `[A-Za-z0-9_]`, as real clients read
them (docs/dap2.md, "Attribute names"): ncdump (netCDF-C 4.9), xarray's netCDF4 engine
(netCDF-C 4.10) and pydap, over a file written here.

Names made of what netCDF-C's DAS lexer keeps in a word come back as they are locally.
A space or a non-ASCII letter ends a DAS word in netCDF-C and it decodes no `%20`, so
those names arrive in their `%XX` form (the form Hyrax and THREDDS send too): that
documented fallback is what is checked for them.
"""

import subprocess

import netCDF4
import numpy as np
import pytest
import xarray as xr
from conftest import start_server, stop_server

# Local name -> the name every DAP2 client shows.
GLOBAL = {
    "Model scenario": "Model%20scenario",
    "source.version": "source.version",
    "a+b*c-d!e~f": "a+b*c-d!e~f",
    "share_100%": "share_100%",
    "température": "temp%C3%A9rature",
}
VARIABLE = {"long name": "long%20name", "valid.range": "valid.range"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    d = tmp_path_factory.mktemp("names")
    with netCDF4.Dataset(d / "names.nc", "w") as nc:
        for i, name in enumerate(GLOBAL):
            nc.setncattr(name, f"value {i}")
        nc.createDimension("x", 3)
        v = nc.createVariable("t", "f4", ("x",))
        v[:] = np.arange(3, dtype="f4")
        for i, name in enumerate(VARIABLE):
            v.setncattr(name, f"variable value {i}")
    proc, base = start_server([str(d)])
    yield f"{base}/opendap/names.nc", d / "names.nc"
    stop_server(proc)


def expected(names, prefix=""):
    """Sent name -> value, as the file was written (values numbered in order)."""
    return {sent: f"{prefix}value {i}" for i, sent in enumerate(names.values())}


def header_lines(target):
    out = subprocess.run(["ncdump", "-h", str(target)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.splitlines())


def test_ncdump_shows_the_names(served):
    url, path = served
    remote, local = header_lines(url), header_lines(path)
    # ncdump writes names in CDL (`a+b\*c`): compare its lines, not the raw names.
    for owner, names, prefix in (("", GLOBAL, ""), ("t", VARIABLE, "variable ")):
        for i, (name, sent) in enumerate(names.items()):
            if name == sent:
                line = next(x for x in local if f'= "{prefix}value {i}" ;' in x)
                assert line in remote, (line, remote)
            else:
                line = f'\t\t{owner}:{sent} = "{prefix}value {i}" ;'
                assert line in remote, (line, remote)


def test_netcdf4_python_over_dap2(served):
    with netCDF4.Dataset(served[0]) as nc:
        got = {k: nc.getncattr(k) for k in nc.ncattrs() if k in GLOBAL.values()}
        assert got == expected(GLOBAL)
        t = nc.variables["t"]
        got = {k: t.getncattr(k) for k in t.ncattrs() if k in VARIABLE.values()}
        assert got == expected(VARIABLE, "variable ")


def test_pydap_over_dap2(served):
    ds = xr.open_dataset(served[0], engine="pydap")
    got = {k: v for k, v in ds.attrs.items() if k in GLOBAL.values()}
    assert got == expected(GLOBAL)
    got = {k: v for k, v in ds.t.attrs.items() if k in VARIABLE.values()}
    assert got == expected(VARIABLE, "variable ")
