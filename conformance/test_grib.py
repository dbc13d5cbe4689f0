"""GRIB 1 and 2 served like NetCDF: DAP2 and DAP4 (netCDF-C via xarray) and virtual Zarr
(xarray + zarr-python) compared with cfgrib's own read of the same files
(`xr.open_dataset(path, engine="cfgrib")`, and `cfgrib.open_datasets` for a file that
splits into several datasets); EDR position and WMS GetMap on a GRIB dataset; a damaged
GRIB skipped at scan time. The files are written by the ecCodes Python module from the
samples bundled with ecCodes (grib_data.py): nothing is downloaded."""

import importlib.util
import io
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import requests
import xarray as xr
from PIL import Image

from conftest import BACKENDS, start_server, stop_server

if importlib.util.find_spec("eccodes") is None or importlib.util.find_spec("cfgrib") is None:
    pytest.skip("needs the eccodes and cfgrib Python modules", allow_module_level=True)
@pytest.fixture(scope="module")
def grib_dir(tmp_path_factory):
    """The GRIB files, written (and read by cfgrib) in a process of its own: see grib_data.py."""
    d = tmp_path_factory.mktemp("grib")
    script = os.path.join(os.path.dirname(__file__), "grib_data.py")
    subprocess.run([sys.executable, script, str(d)], check=True)
    return d


@pytest.fixture(scope="module")
def cfgrib_reads(grib_dir):
    with open(grib_dir / ".cfgrib.pickle", "rb") as f:
        return pickle.load(f)


@pytest.fixture(scope="module", params=[b for b in ["local", "s3"] if b in BACKENDS])
def grib_server(request, grib_dir, tmp_path_factory):
    """A datagate serving the GRIB files from local disk, or copied into S3 (moto) and
    read by byte ranges."""
    if request.param == "local":
        proc, base = start_server([str(grib_dir)])
        yield base
        stop_server(proc)
        return
    from s3server import MotoServer

    moto = MotoServer()
    try:
        moto.upload_dir(grib_dir, "grib")
        work = tmp_path_factory.mktemp("grib-s3")
        config = work / "datagate.toml"
        config.write_text(moto.config_toml(work / "file-cache", ["s3://datagate-test/grib/"]))
        proc, base = start_server(["--config", str(config)])
        yield base
        stop_server(proc)
    finally:
        moto.stop()


def comparable(values):
    """Times as seconds since 1970, steps as hours: cfgrib decodes them, a client may not."""
    a = np.asarray(values)
    if a.dtype.kind == "M":
        return a.astype("datetime64[s]").astype("f8")
    if a.dtype.kind == "m":
        return a.astype("timedelta64[s]").astype("f8") / 3600.0
    return a.astype("f8") if a.dtype.kind in "fiu" else a


# Attributes clients rely on; GRIB_name and the like depend on the ecCodes version.
MAIN_ATTRS = ["units", "long_name", "standard_name", "GRIB_paramId", "GRIB_shortName",
              "GRIB_units", "GRIB_typeOfLevel", "GRIB_gridType", "GRIB_stepType", "GRIB_dataType"]


def compare(local, remote):
    for name, var in local.variables.items():
        assert name in remote.variables, f"{name} missing: {list(remote.variables)}"
        r = remote[name]
        assert r.dims == var.dims, (name, r.dims, var.dims)
        a, b = comparable(var.values), comparable(r.values)
        if a.dtype.kind == "f":
            np.testing.assert_allclose(b, a, rtol=1e-6, equal_nan=True, err_msg=name)
        else:
            assert np.array_equal(a, b), name
    for name, var in local.data_vars.items():
        for k in MAIN_ATTRS:
            if k in var.attrs:
                assert remote[name].attrs.get(k) == var.attrs[k], (name, k)
    for k in ["GRIB_edition", "GRIB_centre", "Conventions", "institution"]:
        assert remote.attrs.get(k) == local.attrs[k], k


def opendap(base, ident, protocol):
    if protocol == "dap2":
        return xr.open_dataset(f"{base}/opendap/{ident}", engine="netcdf4")
    if protocol == "dap4":
        return xr.open_dataset(base.replace("http://", "dap4://") + f"/opendap/{ident}", engine="netcdf4")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xr.open_zarr(f"{base}/zarr/{ident}", consolidated=True)


PROTOCOLS = ["dap2", "dap4", "zarr"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    "name", ["pl.grib2", "z.grib1", "gauss.grib2", "reduced_gg.grib2", "polar.grib2", "ens.grib2",
             "wind.grib2"]  # wind.grib2: multi-field messages (u and v in one message)
)
def test_one_hypercube_matches_cfgrib(grib_server, cfgrib_reads, name, protocol):
    local = cfgrib_reads[name]
    remote = opendap(grib_server, name, protocol)
    compare(local, remote)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_split_file_matches_cfgrib_open_datasets(grib_server, cfgrib_reads, protocol):
    listed = {d["id"] for d in requests.get(f"{grib_server}/datasets", timeout=30).json()["datasets"]}
    parts = sorted(i for i in listed if i.startswith("mixed.grib2/"))
    assert parts == ["mixed.grib2/heightAboveGround", "mixed.grib2/isobaricInhPa", "mixed.grib2/surface"]
    assert "mixed.grib2" not in listed
    for local in cfgrib_reads["mixed.grib2"]:
        level = next(iter(local.data_vars.values())).attrs["GRIB_typeOfLevel"]
        compare(local, opendap(grib_server, f"mixed.grib2/{level}", protocol))


def test_damaged_grib_is_skipped_and_server_stays_up(grib_server):
    listed = {d["id"] for d in requests.get(f"{grib_server}/datasets", timeout=30).json()["datasets"]}
    assert "damaged.grib2" not in listed
    assert "pl.grib2" in listed
    assert requests.get(f"{grib_server}/opendap/damaged.grib2.dds", timeout=30).status_code == 404
    assert requests.get(f"{grib_server}/healthz", timeout=30).status_code == 200


def test_edr_position_on_grib(grib_server, cfgrib_reads):
    # z.grib1 has time and pressure (forecast steps and ensemble members are custom
    # dimensions: see test_edr_custom_dimensions_*).
    local = cfgrib_reads["z.grib1"]
    r = requests.get(f"{grib_server}/edr/collections/z.grib1/position",
                     params={"coords": "POINT(5 35)", "parameter-name": "z"}, timeout=30)
    assert r.status_code == 200, r.text[:500]
    doc = r.json()
    covs = doc.get("coverages", [doc])
    got = [v for c in covs for v in c["ranges"]["z"]["values"]]
    want = local.z.sel(latitude=35, longitude=5).values.ravel()
    np.testing.assert_allclose(sorted(got), sorted(want), rtol=1e-6)
    axes = covs[0]["domain"]["axes"]
    assert axes["t"]["values"] == ["2024-01-01T12:00:00Z", "2024-01-02T12:00:00Z"]


@pytest.mark.parametrize("layer,bbox", [
    ("pl.grib2/t", "-10,40,25,60"),
    ("mixed.grib2/surface/sp", "-10,40,25,60"),  # a part of a split file
    ("gauss.grib2/t2m", "-170,-80,170,80"),  # Gaussian latitudes, longitudes 0..360
])
def test_wms_getmap_on_grib(grib_server, layer, bbox):
    params = {"SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": layer,
              "STYLES": "", "CRS": "CRS:84", "BBOX": bbox, "WIDTH": "70", "HEIGHT": "40",
              "FORMAT": "image/png", "TRANSPARENT": "TRUE"}
    r = requests.get(f"{grib_server}/wms", params=params, timeout=30)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(r.content)).convert("RGBA")
    assert img.size == (70, 40)
    pixels = [img.getpixel((x, y)) for y in range(img.height) for x in range(img.width)]
    opaque = [px for px in pixels if px[3] > 0]
    assert len(opaque) > 0.9 * 70 * 40
    assert len(set(opaque)) > 3  # a gradient, not a flat fill


def test_stac_items_carry_valid_times(grib_server):
    r = requests.get(f"{grib_server}/stac/search", params={"limit": 100}, timeout=30)
    items = {f["id"]: f["properties"] for f in r.json()["features"]}
    # valid_time = reference time + step: 2024-01-01T12 + 0 h .. 2024-01-02T12 + 6 h.
    pl = items["pl.grib2"]
    assert (pl["start_datetime"], pl["end_datetime"]) == ("2024-01-01T12:00:00Z", "2024-01-02T18:00:00Z")
    sfc = items["mixed.grib2/surface"]
    assert (sfc["start_datetime"], sfc["end_datetime"]) == ("2024-01-01T12:00:00Z", "2024-01-01T18:00:00Z")


@pytest.fixture(scope="module")
def series_server(grib_dir, tmp_path_factory):
    """The daily GRIB series as one collection joined along a new `time` dimension, whose
    values are each file's own (scalar) time: no date pattern in the configuration."""
    work = tmp_path_factory.mktemp("grib-series")
    config = work / "datagate.toml"
    config.write_text(
        f"""
[[collections]]
id = "t2m-daily"
glob = "{grib_dir}/series/an_*.grib2"
join_new = "time"
units = "hours since 2024-01-01 00:00:00"

[[collections]]
id = "surface-daily"
glob = "{grib_dir}/split_series/fc_*.grib2"
part = "surface"
join_new = "time"
units = "hours since 2024-01-01 00:00:00"
"""
    )
    proc, base = start_server(["--config", str(config)])
    yield base
    stop_server(proc)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_grib_files_aggregate_along_time_like_open_mfdataset(series_server, cfgrib_reads, protocol):
    local = cfgrib_reads["series"]
    remote = opendap(series_server, "t2m-daily", protocol)
    assert remote.sizes["time"] == 3
    compare(local, remote)
    # valid_time differs per file: it follows the new dimension, as in xarray.
    assert remote["valid_time"].dims == ("time",)
    assert remote["step"].dims == ()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_parts_of_split_grib_files_aggregate(series_server, cfgrib_reads, protocol):
    # One part (`surface`) of each split file, joined along time, equals cfgrib's
    # `filter_by_keys` reads concatenated.
    local = cfgrib_reads["split_series"]
    remote = opendap(series_server, "surface-daily", protocol)
    assert remote.sizes["time"] == 2
    assert "isobaricInhPa" not in remote.coords
    compare(local, remote)


def edr_position(base, name, **params):
    from covjson_pydantic.coverage import Coverage, CoverageCollection

    r = requests.get(f"{base}/edr/collections/{name}/position",
                     params={"coords": "POINT(5 50)", **params}, timeout=30)
    assert r.status_code == 200, r.text[:500]
    doc = r.json()
    # covjson-pydantic judges every answer.
    (CoverageCollection if "coverages" in doc else Coverage).model_validate_json(r.text)
    return doc.get("coverages", [doc])


def test_edr_custom_dimensions_are_listed_in_the_extent(grib_server):
    from edr_pydantic.collections import Collection

    r = requests.get(f"{grib_server}/edr/collections/pl.grib2", timeout=30)
    Collection.model_validate_json(r.text)  # edr-pydantic judges the extent
    ext = r.json()["extent"]
    (step,) = ext["custom"]
    assert step["id"] == "step" and step["reference"] == "hours"
    assert step["interval"] == [[0, 6]] and step["values"] == ["0", "6"]
    ext = requests.get(f"{grib_server}/edr/collections/ens.grib2", timeout=30).json()["extent"]
    assert {c["id"]: c["values"] for c in ext["custom"]} == {"number": ["0", "1", "2"],
                                                             "step": ["0", "6"]}


def test_edr_custom_dimension_step_matches_cfgrib(grib_server, cfgrib_reads):
    local = cfgrib_reads["pl.grib2"].t.sel(latitude=50, longitude=5, isobaricInhPa=500)
    hours = lambda h: np.timedelta64(h, "h")
    # One value: a coverage at that step, named in its domain.
    (cov,) = edr_position(grib_server, "pl.grib2", **{"parameter-name": "t", "z": "500", "step": "6"})
    assert cov["domain"]["custom"] == {"step": 6}
    np.testing.assert_allclose(cov["ranges"]["t"]["values"], local.sel(step=hours(6)).values, rtol=1e-6)
    # No selection: the first step, as the extent lists them.
    (cov,) = edr_position(grib_server, "pl.grib2", **{"parameter-name": "t", "z": "500"})
    assert cov["domain"]["custom"] == {"step": 0}
    np.testing.assert_allclose(cov["ranges"]["t"]["values"], local.sel(step=hours(0)).values, rtol=1e-6)
    # A range: one coverage per step.
    covs = edr_position(grib_server, "pl.grib2", **{"parameter-name": "t", "z": "500", "step": "0/6"})
    assert [c["domain"]["custom"]["step"] for c in covs] == [0, 6]
    for c, h in zip(covs, [0, 6]):
        np.testing.assert_allclose(c["ranges"]["t"]["values"], local.sel(step=hours(h)).values, rtol=1e-6)
    # CSV names the step in a column.
    r = requests.get(f"{grib_server}/edr/collections/pl.grib2/position", timeout=30, params={
        "coords": "POINT(5 50)", "parameter-name": "t", "z": "500", "step": "0,6", "f": "CSV"})
    lines = r.text.strip().splitlines()
    assert lines[0].split(",")[:3] == ["datetime", "z", "step"] and len(lines) == 5


def test_edr_custom_dimensions_of_an_ensemble_match_cfgrib(grib_server, cfgrib_reads):
    local = cfgrib_reads["ens.grib2"].t.sel(latitude=50, longitude=5)
    covs = edr_position(grib_server, "ens.grib2", number="1,2", step="6")
    got = {(c["domain"]["custom"]["number"], c["domain"]["custom"]["step"]):
           c["ranges"]["t"]["values"] for c in covs}
    assert sorted(got) == [(1, 6), (2, 6)]
    for (number, step), values in got.items():
        want = local.sel(number=int(number), step=np.timedelta64(int(step), "h")).values
        np.testing.assert_allclose(values, [want], rtol=1e-6)


@pytest.mark.parametrize("query,why", [
    ({"number": "7"}, "no value"),
    ({"number": "x"}, "not a number"),
    ({"step": "1/2"}, "no value"),
])
def test_edr_custom_dimension_errors_are_400(grib_server, query, why):
    r = requests.get(f"{grib_server}/edr/collections/ens.grib2/position",
                     params={"coords": "POINT(5 50)", **query}, timeout=30)
    assert r.status_code == 400, r.text[:300]
    assert why in r.json()["detail"]
