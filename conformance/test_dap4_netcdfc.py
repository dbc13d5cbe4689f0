"""DAP4 through netCDF-C: Debian's ncdump (netCDF-C 4.9.0, fetches the whole dataset)
and the netCDF4 Python wheel's netCDF-C 4.10 (fetches each variable with dap4.ce), the
latter through xarray's netCDF4 engine. Every variable must read back as xarray reads
the file locally.

Known netCDF-C bugs, not ours (see docs/dap4.md):
- Float32 attribute values are converted twice through a union (d4meta.c), corrupting
  them by a few ulp; so Float32 attributes are compared approximately. The server
  sends a Float32 variable's `missing_value` (repeating a `_FillValue`) as an exact
  Float64, so masking matches (test_dap4_fill_values.py covers the cases).
- Values of multi-valued string attributes are entity-escaped again (`"` → `&quot;`).
- Map elements appear as an extra `_edu.ucar.maps` attribute.
"""

import re
import subprocess
import sys
import urllib.parse

import netCDF4
import numpy as np
import pytest
import requests
import xarray as xr

FILES = ["types_nc4.nc", "sst_classic.nc", "gridded_nc4.nc"]
EXTRA_ATTRS = {"_edu.ucar.maps", "_DAP4_Checksum_CRC32", "_NCProperties"}


def dap4_url(server, name, query=""):
    host = server.split("://", 1)[1]
    return f"dap4://{host}/opendap/{name}" + (f"?{query}" if query else "")


def ncdump(*args):
    out = subprocess.run(
        ["ncdump", *args], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


TYPES = "byte|ubyte|char|short|ushort|int|uint|int64|uint64|float|double|string"


def declarations(cdl):
    """Dimension and variable declarations (type, name, dims) per group, from CDL."""
    found = []
    group = "/"
    for line in cdl.splitlines():
        m = re.match(r"\s*group: (\S+) \{", line)
        if m:
            group = m.group(1)
        elif m := re.match(r"\s+(\w+) = (UNLIMITED|\d+) ;", line):
            found.append((group, "dim", m.group(1), m.group(2)))
        elif m := re.match(rf"\s+({TYPES}) (\w+)(\([^)]*\))? ;$", line):
            found.append((group, "var", *m.groups()))
    return found


def data_section(cdl):
    """The data of a CDL dump, without the attribute lines of group headers (their
    text attributes are `string` typed over DAP4)."""
    lines = cdl[cdl.index("data:") :].splitlines()
    return [line for line in lines if not re.match(r"\s+(string )?\w*:\w+ = ", line)]


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("form", ["dap4", "fragment"])
def test_ncdump_header_matches_local(server, fixtures_dir, name, form):
    if form == "dap4":
        url = dap4_url(server, name)
    else:
        url = f"{server}/opendap/{name}#dap4"
    remote = ncdump("-h", url)
    local = ncdump("-h", str(fixtures_dir / name))
    assert declarations(remote) == declarations(local)
    assert declarations(remote), "no declarations parsed"


@pytest.mark.parametrize(
    "name,variables",
    [
        ("types_nc4.nc", "v_i8,v_u16,v_u32,v_i64,v_u64,v_f32,v_f64,v_char,v_string,scalar_f64,counter"),
        ("types_nc4.nc", "/forecast/temp,/forecast/deep/salinity"),
        ("sst_classic.nc", "time,lat,lon,sst_packed,quality,platform"),
        ("gridded_nc4.nc", "depth,mask,sparse"),
    ],
)
def test_ncdump_values_match_local(server, fixtures_dir, name, variables):
    remote = ncdump("-v", variables, dap4_url(server, name))
    local = ncdump("-v", variables, str(fixtures_dir / name))
    assert data_section(remote) == data_section(local)


def test_ncdump_verifies_checksums(server, fixtures_dir):
    # netCDF-C recomputes each variable's CRC-32 and fails on a mismatch.
    remote = ncdump("-v", "v_string,v_i64", dap4_url(server, "types_nc4.nc", "dap4.checksum=true"))
    local = ncdump("-v", "v_string,v_i64", str(fixtures_dir / "types_nc4.nc"))
    assert data_section(remote) == data_section(local)


def walk(group, prefix=""):
    for name in group.variables:
        yield prefix, name
    for name, sub in group.groups.items():
        yield from walk(sub, f"{prefix}/{name}")


def assert_same_attrs(remote, local, where):
    names = set(remote) - EXTRA_ATTRS
    if "missing_value" in remote and "missing_value" not in local:
        # A Float32 `_FillValue` repeated as an exact Float64 `missing_value`
        # (docs/dap4.md, "Float32 attributes and netCDF-C").
        fill = local.get("_FillValue")
        assert isinstance(fill, np.float32), where
        assert np.float64(remote["missing_value"]) == np.float64(fill), where
        names.discard("missing_value")
    assert names == set(local), where
    for k, lv in local.items():
        rv = remote[k]
        if isinstance(lv, np.ndarray) and lv.dtype == np.float32 or isinstance(lv, np.float32):
            # netCDF-C's DAP4 Float32 attribute bug: a few ulp off.
            np.testing.assert_allclose(rv, lv, rtol=2e-6, err_msg=f"{where}:{k}")
        elif isinstance(lv, list) and len(lv) > 1 and isinstance(lv[0], str):
            # netCDF-C re-escapes multi-valued string attributes.
            assert [s.replace("&quot;", '"') for s in rv] == lv, f"{where}:{k}"
        elif isinstance(lv, (np.ndarray, np.generic, float, int)):
            np.testing.assert_array_equal(rv, lv, err_msg=f"{where}:{k}")
        else:
            assert rv == lv, f"{where}:{k}"


@pytest.mark.parametrize("query", ["", "dap4.checksum=true"])
@pytest.mark.parametrize("name", FILES)
def test_netcdf4_python_reads_every_variable_raw(server, fixtures_dir, name, query):
    with netCDF4.Dataset(dap4_url(server, name, query)) as rem, netCDF4.Dataset(
        fixtures_dir / name
    ) as loc:
        for nc in (rem, loc):
            nc.set_auto_maskandscale(False)
            nc.set_auto_chartostring(False)
        assert_same_attrs(
            {k: rem.getncattr(k) for k in rem.ncattrs()},
            {k: loc.getncattr(k) for k in loc.ncattrs()},
            "/",
        )
        count = 0
        for group, var in walk(loc):
            lv = loc[f"{group}/{var}"] if group else loc[var]
            rv = rem[f"{group}/{var}"] if group else rem[var]
            assert rv.dtype == lv.dtype, var
            assert rv.dimensions == lv.dimensions, var
            a, b = rv[...], lv[...]
            if lv.dtype == str:
                assert list(np.ravel(a)) == list(np.ravel(b)), var
            else:
                np.testing.assert_array_equal(a, b, err_msg=var)
            assert_same_attrs(
                {k: rv.getncattr(k) for k in rv.ncattrs()},
                {k: lv.getncattr(k) for k in lv.ncattrs()},
                f"{group}/{var}",
            )
            count += 1
        assert count == len(list(walk(loc)))


def open_both(server, fixtures_dir, name, **kw):
    return (
        xr.open_dataset(dap4_url(server, name), engine="netcdf4", **kw),
        xr.open_dataset(fixtures_dir / name, engine="netcdf4", **kw),
    )


@pytest.mark.parametrize("name", FILES)
def test_xarray_whole_and_sliced(server, fixtures_dir, name):
    rem, loc = open_both(server, fixtures_dir, name, mask_and_scale=False)
    assert set(rem.variables) == set(loc.variables)
    for v in loc.variables:
        np.testing.assert_array_equal(rem[v].values, loc[v].values, err_msg=v)
        if loc[v].ndim:
            sl = {d: slice(1, None, 2) for d in loc[v].dims}
            np.testing.assert_array_equal(
                rem[v].isel(sl).values, loc[v].isel(sl).values, err_msg=v
            )
    if "time" in loc.variables:
        # Times decode with their calendars (noleap, proleptic_gregorian).
        rem, loc = open_both(server, fixtures_dir, name, mask_and_scale=False, decode_times=True)
        np.testing.assert_array_equal(rem["time"].values, loc["time"].values)


@pytest.mark.parametrize("group", ["forecast", "forecast/deep"])
def test_xarray_groups(server, fixtures_dir, group):
    rem, loc = open_both(server, fixtures_dir, "types_nc4.nc", group=group)
    assert set(rem.variables) == set(loc.variables)
    for v in loc.variables:
        np.testing.assert_array_equal(rem[v].values, loc[v].values, err_msg=v)
    assert rem.attrs == loc.attrs


def test_xarray_decodes_int_fill_and_types(server, fixtures_dir):
    # Fill values that are not Float32 survive netCDF-C: masking matches exactly.
    rem, loc = open_both(server, fixtures_dir, "gridded_nc4.nc")
    np.testing.assert_array_equal(rem["sparse"].values, loc["sparse"].values)
    assert np.isnan(rem["sparse"].values).any()
    rem, loc = open_both(server, fixtures_dir, "types_nc4.nc")
    for v in ["v_i64", "v_u64", "v_u8", "v_string", "v_char", "scalar_f64"]:
        assert rem[v].dtype == loc[v].dtype, v
        np.testing.assert_array_equal(rem[v].values, loc[v].values, err_msg=v)


def test_xarray_decodes_packed_data_closely(server, fixtures_dir):
    # scale_factor/add_offset are Float32 and reach netCDF-C a few ulp off.
    rem, loc = open_both(server, fixtures_dir, "sst_classic.nc")
    a, b = rem["sst_packed"].values, loc["sst_packed"].values
    assert np.array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_xarray_masks_float32_fill_values(server, fixtures_dir):
    rem, loc = open_both(server, fixtures_dir, "sst_classic.nc")
    np.testing.assert_array_equal(rem["sst"].values, loc["sst"].values)


def test_bad_constraint_is_a_dap4_error(server):
    ce = urllib.parse.quote("/sst[0:1:99]", safe="")
    r = requests.get(f"{server}/opendap/sst_classic.nc.dap?dap4.ce={ce}", timeout=30)
    assert r.status_code == 400
    assert '<Error httpcode="400">' in r.text
    # netCDF-C sees the error response and fails the open (in a child process: a
    # failed DAP4 open exercises netCDF-C's error paths, which we keep out of this one).
    code = (
        "import netCDF4, sys\n"
        "try:\n    netCDF4.Dataset(sys.argv[1])\n"
        "except OSError as e:\n    print('refused', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, dap4_url(server, "sst_classic.nc", "dap4.ce=/nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and out.stdout.startswith("refused"), out


def cdl_values(cdl, var):
    """The numbers of `var = ... ;` in a CDL data section."""
    text = data_section(cdl)
    body = "\n".join(text)
    m = re.search(rf"\n {var} =\s*(.*?) ;", body, re.S)
    assert m, body
    items = [x for x in re.split(r"[,\s]+", m.group(1).strip()) if x]
    return np.array([np.nan if x == "_" else float(x) for x in items])  # `_`: fill


@pytest.mark.parametrize(
    "ce,var,index",
    [
        ("/sst_packed[1][0:4][0:3:9]", "sst_packed", (1, slice(0, 5), slice(0, 10, 3))),
        ("/lat=[2:2:8];/quality;/lat", "quality", (slice(None), slice(2, 9, 2), slice(None))),
        ("/lat=[2:2:8];/quality;/lat", "lat", (slice(2, 9, 2),)),
        ("/time[1:2]", "time", (slice(1, 3),)),
    ],
)
def test_constrained_urls(server, fixtures_dir, ce, var, index):
    # ncdump 4.9 (which percent-encodes the constraint three times) and netCDF-C 4.10.
    with netCDF4.Dataset(fixtures_dir / "sst_classic.nc") as nc:
        nc.set_auto_maskandscale(False)
        want = np.asarray(nc[var][index])
        fill = getattr(nc[var], "_FillValue", None)
    cdl = ncdump(dap4_url(server, "sst_classic.nc", f"dap4.ce={ce}"))
    shown = want.ravel().astype(float)
    if fill is not None:
        shown[want.ravel() == fill] = np.nan
    np.testing.assert_array_equal(cdl_values(cdl, var), shown)
    with netCDF4.Dataset(dap4_url(server, "sst_classic.nc", f"dap4.ce={ce}")) as rem:
        rem.set_auto_maskandscale(False)
        got = rem[var][...]
        # An integer index keeps its dimension, of length 1.
        assert got.size == want.size
        np.testing.assert_array_equal(got.reshape(want.shape), want)
