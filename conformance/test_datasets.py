"""/datasets lists every fixture with the variables xarray reads from the same files."""

import numpy as np
import requests
import xarray as xr
import netCDF4

FILES = [
    "sst_classic.nc",
    "offset64.nc",
    "types_cdf5.nc",
    "types_nc4.nc",
    "gridded_nc4.nc",
    "curvilinear.nc",
]


def walk_groups(group, prefix=""):
    """(path, variable) for every variable of a netCDF4 group tree."""
    for name, var in group.variables.items():
        yield f"{prefix}/{name}", var
    for name, sub in group.groups.items():
        yield from walk_groups(sub, f"{prefix}/{name}")


def test_listing_matches_local_files(server, fixtures_dir):
    listing = requests.get(server + "/datasets", timeout=30).json()["datasets"]
    by_id = {d["id"]: d for d in listing}
    assert sorted(by_id) == sorted(FILES)
    for name in FILES:
        served = {v["path"]: v for v in by_id[name]["variables"]}
        with netCDF4.Dataset(fixtures_dir / name) as nc:
            local = {p: (list(v.shape), list(v.dimensions)) for p, v in walk_groups(nc)}
        assert sorted(served) == sorted(local), name
        for path, (shape, dims) in local.items():
            assert served[path]["shape"] == shape, path
            assert served[path]["dims"] == dims, path


def test_xarray_variables_and_units(server, fixtures_dir):
    listing = requests.get(server + "/datasets", timeout=30).json()["datasets"]
    sst = next(d for d in listing if d["id"] == "sst_classic.nc")
    served = {v["name"]: v for v in sst["variables"]}
    ds = xr.open_dataset(fixtures_dir / "sst_classic.nc", decode_times=False, concat_characters=False)
    for name, da in ds.variables.items():
        assert served[name]["shape"] == list(da.shape)
        if "units" in da.attrs:
            assert served[name]["units"] == da.attrs["units"]
    assert np.all(np.diff(ds["lat"].values) < 0), "fixture has descending latitude"


def test_landing_json_and_html(server):
    r = requests.get(server + "/", headers={"Accept": "application/json"}, timeout=10)
    assert r.headers["content-type"].startswith("application/json")
    assert len(r.json()["datasets"]) == len(FILES)
    r = requests.get(server + "/", timeout=10)
    assert "text/html" in r.headers["content-type"]
    assert "sst_classic.nc" in r.text


def test_unknown_and_escaping_paths_are_404(server):
    for path in [
        "/opendap/nope.nc.dds",
        "/opendap/../sst_classic.nc.dds",
        "/opendap/%2e%2e/%2e%2e/etc/passwd.dds",
        "/opendap//etc/passwd.dds",
        "/nothing/here",
    ]:
        r = requests.get(server + path, timeout=10)
        assert r.status_code == 404, path
        assert "root:" not in r.text
