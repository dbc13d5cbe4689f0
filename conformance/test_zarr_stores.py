"""Zarr v2/v3 stores and kerchunk reference files served like any NetCDF file: the data
is written here by xarray (`to_zarr`, v2 and v3, consolidated and not, blosc / zstd /
sharding) and kerchunk (`SingleHdf5ToZarr` on a NetCDF-4 file written here), into a
directory a server of its own scans at start; every protocol's view is compared with
xarray's local read of the same store or references."""

import json
import warnings

import numpy as np
import pytest
import requests
import xarray as xr

from conftest import start_server, stop_server

STORES = {
    # id: (zarr_format, consolidated, compressor kind, sharded)
    "stores/v2_blosc.zarr": (2, True, "blosc", False),
    "stores/v2_zstd_plain.zarr": (2, False, "zstd", False),
    # Codecs virtual Zarr can declare: its chunks are sent as stored.
    "stores/v2_zlib.zarr": (2, True, "zlib", False),
    "stores/v3_zstd.zarr": (3, True, "zstd", False),
    "stores/v3_sharded_plain.zarr": (3, False, "blosc", True),
}
REFS = ["refs/source.json", "refs/relative.refs.json"]


@pytest.fixture(autouse=True)
def quiet():
    # zarr-python warns about consolidated metadata and numcodecs outside the v3 spec.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def dataset():
    rng = np.random.default_rng(7)
    temp = (280 + 20 * rng.random((4, 7, 18))).astype("f4")
    temp[1, 2, 3] = np.nan
    count = rng.integers(0, 500, (7, 18)).astype("i2")
    count[0, 0] = -1
    return xr.Dataset(
        {
            "temp": (("time", "lat", "lon"), temp, {"units": "K", "standard_name": "air_temperature"}),
            "count": (("lat", "lon"), count, {"long_name": "observations"}),
        },
        coords={
            "time": ("time", np.array(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"], dtype="M8[ns]")),
            "lat": ("lat", np.linspace(-60, 60, 7), {"units": "degrees_north", "standard_name": "latitude"}),
            "lon": ("lon", np.linspace(-170, 170, 18), {"units": "degrees_east", "standard_name": "longitude"}),
        },
        attrs={"title": "zarr store test", "Conventions": "CF-1.8"},
    )


def compressor(fmt, kind):
    if fmt == 2:
        import numcodecs

        if kind == "zlib":
            return numcodecs.Zlib(level=4)
        return numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1) if kind == "blosc" else numcodecs.Zstd(level=3)
    import zarr.codecs

    return zarr.codecs.BloscCodec(cname="zstd", shuffle="shuffle") if kind == "blosc" else zarr.codecs.ZstdCodec(level=3)


def write_store(path, fmt, consolidated, kind, sharded):
    ds = dataset()
    temp = {"chunks": (1, 4, 9), "compressors": [compressor(fmt, kind)]}
    if sharded:
        temp["shards"] = (2, 4, 18)
    if kind == "zlib":
        import numcodecs

        temp["filters"] = [numcodecs.Shuffle(elementsize=4)]
    encoding = {
        "temp": temp,
        "count": {"_FillValue": -1, "compressors": [compressor(fmt, kind)]},
        # Float days: DAP2 has no 64-bit integers.
        "time": {"units": "days since 2000-01-01", "dtype": "f8"},
    }
    ds.to_zarr(path, zarr_format=fmt, consolidated=consolidated, encoding=encoding, mode="w")


def write_references(refs_dir):
    import kerchunk.hdf

    refs_dir.mkdir(parents=True)
    source = refs_dir / "source.nc"
    dataset().to_netcdf(
        source,
        engine="netcdf4",
        encoding={
            "temp": {"zlib": True, "shuffle": True, "chunksizes": (2, 7, 9)},
            "count": {"_FillValue": -1},
            "time": {"units": "days since 2000-01-01", "dtype": "f8"},
        },
    )
    refs = kerchunk.hdf.SingleHdf5ToZarr(str(source), inline_threshold=64).translate()
    (refs_dir / "source.json").write_text(json.dumps(refs))
    # Version 0 (the flat key map) with paths relative to the reference file.
    flat = {k: (["source.nc", *v[1:]] if isinstance(v, list) else v) for k, v in refs["refs"].items()}
    (refs_dir / "relative.refs.json").write_text(json.dumps(flat))
    # Damaged references: truncated JSON.
    (refs_dir / "broken.refs.json").write_text(json.dumps(refs)[:300])
    # Not references: a JSON document that must not become a dataset.
    (refs_dir / "notes.json").write_text(json.dumps({"type": "Feature", "properties": {}}))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("zarr-stores")
    for sid, spec in STORES.items():
        write_store(root / sid, *spec)
    write_references(root / "refs")
    # A damaged store: consolidated metadata cut short, a chunk of another store garbled.
    broken = root / "stores/broken.zarr"
    write_store(broken, 2, True, "zstd", False)
    (broken / ".zmetadata").write_text((broken / ".zmetadata").read_text()[:200])
    garbled = root / "stores/garbled.zarr"
    write_store(garbled, 2, True, "zstd", False)
    (garbled / "temp/0.0.0").write_bytes(b"not zstd")
    return root


@pytest.fixture(scope="module")
def served(data):
    proc, base = start_server([str(data)])
    yield base
    stop_server(proc)


def local_store(data, sid):
    fmt = STORES[sid][0]
    return xr.open_zarr(data / sid, zarr_format=fmt, consolidated=STORES[sid][1])


def local_refs(data, rid):
    return xr.open_dataset(
        "reference://",
        engine="zarr",
        backend_kwargs={"consolidated": False, "storage_options": {"fo": str(data / rid)}},
    )


def same_values(local, remote, names=("temp", "count", "time", "lat", "lon")):
    for name in names:
        a, b = np.asarray(local[name].values), np.asarray(remote[name].values)
        assert a.shape == b.shape, name
        if a.dtype.kind == "f":
            np.testing.assert_allclose(b.astype("f8"), a.astype("f8"), rtol=1e-6, equal_nan=True, err_msg=name)
        else:
            assert np.array_equal(a, b), name
    assert remote.temp.attrs["units"] == "K"
    assert remote.lat.attrs["units"] == "degrees_north"


def test_datasets_lists_stores_and_references(served):
    listing = requests.get(served + "/datasets", timeout=30).json()["datasets"]
    formats = {d["id"]: d.get("format") for d in listing}
    for sid in STORES:
        assert formats.get(sid) == "zarr", formats
    for rid in REFS:
        assert formats.get(rid) == "kerchunk", formats
    # The source NetCDF is a dataset too; nothing inside a store, and no other JSON.
    assert "refs/source.nc" in formats
    assert not [i for i in formats if ".zarr/" in i], formats
    assert "refs/notes.json" not in formats


def test_damaged_datasets_are_errors_not_crashes(served):
    for did in ["stores/broken.zarr", "refs/broken.refs.json"]:
        r = requests.get(f"{served}/opendap/{did}.dds", timeout=30)
        assert 400 <= r.status_code < 600, (did, r.status_code)
    # Metadata opens; the garbled chunk fails its read, the others read.
    ok = requests.get(f"{served}/opendap/stores/garbled.zarr.ascii?temp[1:1:1][0:1:3][0:1:8]", timeout=30)
    assert ok.status_code == 200, ok.text[:300]
    bad = requests.get(f"{served}/opendap/stores/garbled.zarr.dods?temp[0:1:0][0:1:3][0:1:8]", timeout=30)
    assert bad.status_code >= 400 or b"Data:" not in bad.content
    r = requests.get(f"{served}/zarr/stores/garbled.zarr/temp/0.0.0", timeout=30)
    assert r.status_code >= 400
    # The server is still serving the rest.
    assert requests.get(f"{served}/opendap/stores/v2_blosc.zarr.dds", timeout=30).status_code == 200
    assert requests.get(f"{served}/datasets", timeout=30).status_code == 200


@pytest.mark.parametrize("sid", list(STORES))
def test_store_over_dap2_dap4_and_zarr(served, data, sid):
    local = local_store(data, sid)
    host = served.split("://", 1)[1]
    remotes = {
        "dap2": xr.open_dataset(f"{served}/opendap/{sid}", engine="netcdf4"),
        "dap4": xr.open_dataset(f"dap4://{host}/opendap/{sid}", engine="netcdf4"),
        "zarr2": xr.open_zarr(f"{served}/zarr/{sid}", zarr_format=2, consolidated=True),
        "zarr3": xr.open_zarr(f"{served}/zarr3/{sid}", zarr_format=3, consolidated=True),
    }
    assert np.isnan(local.temp.values[1, 2, 3])
    assert np.isnan(local["count"].values[0, 0])  # the fill value masks
    for name, remote in remotes.items():
        try:
            same_values(local, remote)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from e
        assert remote.attrs["title"] == "zarr store test", name


@pytest.mark.parametrize("rid", REFS)
def test_references_over_dap2_dap4_and_zarr(served, data, rid):
    # fsspec resolves relative paths against its working directory, not the reference
    # file (datagate resolves them against the file): the absolute set is the reference.
    local = local_refs(data, "refs/source.json")
    # The references read the NetCDF file's own values.
    same_values(xr.open_dataset(data / "refs/source.nc"), local)
    host = served.split("://", 1)[1]
    remotes = {
        "dap2": xr.open_dataset(f"{served}/opendap/{rid}", engine="netcdf4"),
        "dap4": xr.open_dataset(f"dap4://{host}/opendap/{rid}", engine="netcdf4"),
        "zarr2": xr.open_zarr(f"{served}/zarr/{rid}", zarr_format=2, consolidated=True),
        "zarr3": xr.open_zarr(f"{served}/zarr3/{rid}", zarr_format=3, consolidated=True),
    }
    for name, remote in remotes.items():
        try:
            same_values(local, remote)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from e


def test_zarr_passes_stored_chunks_through(served, data):
    # A store whose codecs virtual Zarr declares: chunk objects sent byte for byte.
    sid = "stores/v2_zlib.zarr"
    zarray = requests.get(f"{served}/zarr/{sid}/temp/.zarray", timeout=30).json()
    assert zarray["compressor"]["id"] == "zlib", zarray
    assert zarray["chunks"] == [1, 4, 9]
    for key in ["temp/0.0.0", "temp/3.1.1"]:
        r = requests.get(f"{served}/zarr/{sid}/{key}", timeout=30)
        assert r.status_code == 200
        assert r.content == (data / sid / key).read_bytes(), key
    # References: chunks are the NetCDF file's own bytes at the referenced range.
    refs = json.loads((data / "refs/source.json").read_text())["refs"]
    url, offset, length = refs["temp/0.0.0"]
    stored = (data / "refs/source.nc").read_bytes()[offset : offset + length]
    r = requests.get(f"{served}/zarr/refs/source.json/temp/0.0.0", timeout=30)
    assert r.content == stored
    zarray = requests.get(f"{served}/zarr/refs/source.json/temp/.zarray", timeout=30).json()
    assert zarray["chunks"] == [2, 7, 9], zarray
    # Blosc is decoded and re-encoded (zlib).
    zarray = requests.get(f"{served}/zarr/stores/v2_blosc.zarr/temp/.zarray", timeout=30).json()
    assert zarray["compressor"]["id"] == "zlib"


def test_subsets_over_dap2(served, data):
    sid = "stores/v3_sharded_plain.zarr"
    local = local_store(data, sid)
    remote = xr.open_dataset(f"{served}/opendap/{sid}", engine="netcdf4")
    np.testing.assert_array_equal(remote.temp[1:4:2, 1:6, ::3].values, local.temp[1:4:2, 1:6, ::3].values)


@pytest.mark.parametrize("did", ["stores/v2_blosc.zarr", "refs/source.json"])
def test_edr_position_and_wms_getmap(served, data, did):
    r = requests.get(
        f"{served}/edr/collections/{did}/position",
        params={"coords": "POINT(-150 -40)", "parameter-name": "temp"},
        timeout=30,
    )
    assert r.status_code == 200, r.text[:500]
    values = r.json()["ranges"]["temp"]["values"]
    local = local_store(data, "stores/v2_blosc.zarr")
    want = local.temp.sel(lon=-150, lat=-40, method="nearest").values
    np.testing.assert_allclose(values, want, rtol=1e-6)
    r = requests.get(
        f"{served}/wms",
        params={
            "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": f"{did}/temp",
            "STYLES": "", "CRS": "CRS:84", "BBOX": "-180,-90,180,90", "WIDTH": "64",
            "HEIGHT": "32", "FORMAT": "image/png",
        },
        timeout=30,
    )
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"] == "image/png"


# ------------------------------------------------------------- over object storage


@pytest.fixture(scope="module")
def s3_served(data, tmp_path_factory):
    import os

    from s3server import BUCKET, MotoServer

    moto = MotoServer()
    for dirpath, _, files in os.walk(data):
        for name in files:
            path = os.path.join(dirpath, name)
            key = "zarrdata/" + os.path.relpath(path, data).replace(os.sep, "/")
            moto.client.upload_file(path, BUCKET, key)
    work = tmp_path_factory.mktemp("zarr-s3")
    config = work / "datagate.toml"
    config.write_text(moto.config_toml(work / "file-cache", [f"s3://{BUCKET}/zarrdata/"]))
    proc, base = start_server(["--config", str(config)])
    yield base
    stop_server(proc)
    moto.stop()


def test_s3_listing_finds_stores_and_references(s3_served):
    listing = requests.get(s3_served + "/datasets", timeout=30).json()["datasets"]
    formats = {d["id"]: d.get("format") for d in listing}
    for sid in STORES:
        assert formats.get(sid) == "zarr", formats
    assert formats.get("refs/relative.refs.json") == "kerchunk", formats
    assert not [i for i in formats if ".zarr/" in i], formats
    assert "refs/notes.json" not in formats


@pytest.mark.parametrize("sid", list(STORES))
def test_s3_store_reads_like_local(s3_served, data, sid):
    local = local_store(data, sid)
    same_values(local, xr.open_dataset(f"{s3_served}/opendap/{sid}", engine="netcdf4"))
    same_values(local, xr.open_zarr(f"{s3_served}/zarr/{sid}", zarr_format=2, consolidated=True))


def test_s3_references_resolve_in_the_bucket(s3_served, data):
    local = local_refs(data, "refs/source.json")
    remote = xr.open_dataset(f"{s3_served}/opendap/refs/relative.refs.json", engine="netcdf4")
    same_values(local, remote)
    # The absolute set points at the server's disk: refused from a bucket, with an error
    # rather than bytes of local files.
    r = requests.get(f"{s3_served}/opendap/refs/source.json.dds", timeout=30)
    if r.status_code == 200:
        r = requests.get(f"{s3_served}/opendap/refs/source.json.dods", timeout=30)
    assert r.status_code >= 400, r.text[:300]
