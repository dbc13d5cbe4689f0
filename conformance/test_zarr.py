"""Virtual Zarr against the real clients: xarray + zarr-python 3 (v2 and v3 side by side
at /zarr/{id}: v3 by default, v2 with zarr_format=2; /zarr3/{id} is an alias), zarr-python directly over fsspec HTTP, and fsspec's ReferenceFileSystem
over /zarr/{id}/refs.json reading the original files. Every value is compared with
xarray's own netCDF4 read of the same file."""

import base64
import struct
import warnings

import dask
import fsspec
import numpy as np
import pytest
import requests
import xarray as xr
import zarr
import zarr.storage

FIXTURES = [
    "sst_classic.nc",
    "offset64.nc",
    "types_cdf5.nc",
    "types_nc4.nc",
    "gridded_nc4.nc",
    "curvilinear.nc",
]
# zarr_format None is the client's default choice, which must be v3.
FORMATS = [(None, "zarr"), (2, "zarr"), (3, "zarr"), (3, "zarr3")]
GROUPS = [None, "forecast", "forecast/deep"]


@pytest.fixture(autouse=True)
def quiet():
    # zarr-python warns that numcodecs codecs and string dtypes are outside the v3 spec.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        np.testing.assert_allclose(a.astype("f8"), b.astype("f8"), rtol=1e-6, equal_nan=True)
    else:
        assert np.array_equal(a, b), (a, b)


def compare(local, remote):
    assert set(local.variables) == set(remote.variables)
    for name, var in local.variables.items():
        assert remote[name].dims == var.dims, name
        same(var.values, remote[name].values)
    for k, v in local.attrs.items():
        if isinstance(v, (str, int)):
            assert remote.attrs[k] == v, k


@pytest.mark.parametrize("fmt,prefix", FORMATS)
@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize("decode", [True, False])
def test_open_zarr_matches_netcdf(server, fixtures_dir, name, fmt, prefix, decode):
    groups = GROUPS if name == "types_nc4.nc" else [None]
    for group in groups:
        kw = {"group": group} if group else {}
        local = xr.open_dataset(
            fixtures_dir / name, engine="netcdf4", decode_cf=decode, **kw
        )
        remote = xr.open_zarr(
            f"{server}/{prefix}/{name}",
            consolidated=True,
            zarr_format=fmt,
            decode_cf=decode,
            **kw,
        )
        compare(local, remote)


@pytest.mark.parametrize("fmt,prefix", FORMATS)
def test_cf_decoding(server, fixtures_dir, fmt, prefix):
    sst = xr.open_zarr(f"{server}/{prefix}/sst_classic.nc", zarr_format=fmt)
    # noleap times decode to cftime; packed int16 unpacks; fill becomes NaN.
    assert sst.time.values[2].calendar == "noleap"
    assert str(sst.time.values[2]) == "2000-03-01 00:00:00"
    assert np.isnan(sst.sst.values[0, 2, 3])
    assert np.isnan(sst.sst_packed.values[0, 2, 3])
    assert abs(float(sst.sst_packed.values[1, 0, 0]) - float(sst.sst.values[1, 0, 0])) < 0.006
    assert sst.sst.attrs["long_name"] == 'sea surface "skin" temperature'
    assert sst.platform.values.tobytes().rstrip(b"\0") == b"ARGO-123"
    grid = xr.open_zarr(f"{server}/{prefix}/gridded_nc4.nc", zarr_format=fmt)
    assert str(grid.time.values[1]) == "2020-01-01T06:00:00.000000000"
    # The never-written chunks of `sparse` read as its fill value, masked by xarray.
    assert np.isnan(grid.sparse.values[0, 13])
    assert grid.sparse.values[1, 1] == 13
    assert "DIMENSION_LIST" not in grid.temp.attrs
    assert "_Netcdf4Dimid" not in grid.attrs


@pytest.mark.parametrize("fmt,prefix", FORMATS)
def test_dask_mean_over_all_chunks(server, fixtures_dir, fmt, prefix):
    remote = xr.open_zarr(f"{server}/{prefix}/gridded_nc4.nc", zarr_format=fmt)
    assert remote.temp.chunks is not None
    assert len(remote.temp.data.chunks[0]) == 4  # one stored chunk per time step
    with dask.config.set(scheduler="threads"):
        mean = float(remote.temp.mean().compute())
    local = xr.open_dataset(fixtures_dir / "gridded_nc4.nc")
    assert mean == pytest.approx(float(local.temp.mean()), rel=1e-6)


def test_zarr_python_directly(server, fixtures_dir):
    local = xr.open_dataset(fixtures_dir / "gridded_nc4.nc", decode_cf=False)
    g3 = zarr.open_group(f"{server}/zarr/gridded_nc4.nc", mode="r", zarr_format=3)
    same(g3["temp"][2, 1, 5:15, 3:9], local.temp.values[2, 1, 5:15, 3:9])
    assert g3["temp"].chunks == (1, 1, 10, 18)
    store = zarr.storage.FsspecStore.from_url(
        f"{server}/zarr/gridded_nc4.nc", read_only=True
    )
    g2 = zarr.open_group(store, mode="r", zarr_format=2)
    same(g2["sparse"][:], local.sparse.values)
    assert g2["sparse"].fill_value == -1
    assert g2["temp"].filters[0].elementsize == 4
    nested = zarr.open_group(f"{server}/zarr/types_nc4.nc", mode="r", zarr_format=2)
    assert nested["forecast/deep/salinity"][3] == 35.3
    assert list(nested["v_string"][:]) == ["", "plain", "ünïcödé ✓", 'with "quotes" and\nnewline']


@pytest.mark.parametrize("prefix", ["zarr", "zarr3"])
def test_one_url_serves_both_formats(server, prefix):
    url = f"{server}/{prefix}/types_nc4.nc"
    default = zarr.open_group(url, mode="r")
    assert default.metadata.zarr_format == 3
    assert default.metadata.consolidated_metadata is not None
    v2 = zarr.open_group(url, mode="r", zarr_format=2, use_consolidated=True)
    assert v2.metadata.zarr_format == 2
    assert v2.metadata.consolidated_metadata is not None
    for g in (default, v2):
        assert g["forecast/deep/salinity"][3] == 35.3
    # Both chunk forms of one chunk are the same bytes.
    v2_chunk = requests.get(f"{server}/{prefix}/gridded_nc4.nc/temp/1.2.0.1", timeout=10)
    v3_chunk = requests.get(f"{server}/{prefix}/gridded_nc4.nc/temp/c/1/2/0/1", timeout=10)
    assert v2_chunk.status_code == v3_chunk.status_code == 200
    assert v2_chunk.content == v3_chunk.content


def readable_here(refs, request):
    """References point at the dataset's own location: a local path, or s3:// when
    served from object storage, which this venv reads from the moto server by HTTP."""
    targets = [v[0] for v in refs["refs"].values() if isinstance(v, list)]
    if not any(t.startswith("s3://") for t in targets):
        assert all(t.startswith("file:///") or "/zarr/" in t for t in targets)
        return refs
    client = request.getfixturevalue("s3").client
    signed = {}
    for k, v in refs["refs"].items():
        if isinstance(v, list) and v[0].startswith("s3://"):
            if v[0] not in signed:
                bucket, key = v[0][len("s3://") :].split("/", 1)
                signed[v[0]] = client.generate_presigned_url(
                    "get_object", Params={"Bucket": bucket, "Key": key}
                )
            refs["refs"][k] = [signed[v[0]], *v[1:]]
    return refs


@pytest.mark.parametrize("name", FIXTURES)
def test_reference_filesystem_reads_the_original_files(server, fixtures_dir, name, request):
    refs = requests.get(f"{server}/zarr/{name}/refs.json", timeout=30).json()
    assert refs["version"] == 1
    refs = readable_here(refs, request)
    # zarr-python 3 reads through async filesystems: make the reference one async too.
    fs = fsspec.filesystem(
        "reference", fo=refs, asynchronous=True, remote_options={"asynchronous": True}
    )
    groups = GROUPS if name == "types_nc4.nc" else [None]
    for group in groups:
        kw = {"group": group} if group else {}
        store = zarr.storage.FsspecStore(fs, read_only=True, path=group or "")
        remote = xr.open_dataset(store, engine="zarr", consolidated=False, zarr_format=2)
        local = xr.open_dataset(fixtures_dir / name, **kw)
        compare(local, remote)


def test_passthrough_chunks_are_the_stored_bytes(server, fixtures_dir):
    refs = requests.get(f"{server}/zarr/gridded_nc4.nc/refs.json", timeout=30).json()["refs"]
    path, offset, size = refs["temp/3.2.1.1"]
    assert path.endswith("gridded_nc4.nc")
    stored = (fixtures_dir / "gridded_nc4.nc").read_bytes()[offset : offset + size]
    for url in ["zarr/gridded_nc4.nc/temp/3.2.1.1", "zarr3/gridded_nc4.nc/temp/c/3/2/1/1"]:
        r = requests.get(f"{server}/{url}", timeout=10)
        assert r.status_code == 200
        assert r.content == stored
    meta = requests.get(f"{server}/zarr/gridded_nc4.nc/temp/.zarray", timeout=10).json()
    assert meta["compressor"] == {"id": "zlib", "level": 4}
    assert meta["filters"] == [{"id": "shuffle", "elementsize": 4}]
    assert meta["fill_value"] == 1e20 or abs(meta["fill_value"] - 1e20) < 1e13


@pytest.mark.parametrize(
    "url",
    [
        "zarr/gridded_nc4.nc/nope/.zarray",
        "zarr/gridded_nc4.nc/temp/.zgroup",
        "zarr/gridded_nc4.nc/temp/9.0.0.0",
        "zarr/gridded_nc4.nc/temp/0.0.0",
        "zarr/gridded_nc4.nc/sparse/0.2",  # never written: the client fills it
        "zarr3/gridded_nc4.nc/sparse/c/1/2",
        "zarr/gridded_nc4.nc/sparse/c/1/2",  # v3 absent chunks stay absent
        "zarr/gridded_nc4.nc/temp/c/0/0",  # one index per dimension
        "zarr/no_such_dataset.nc/.zmetadata",
        "zarr3/no_such_dataset.nc/zarr.json",
        "zarr/gridded_nc4.ncx/.zgroup",
    ],
)
def test_absent_keys_are_404(server, url):
    for method in (requests.get, requests.head):
        assert method(f"{server}/{url}", timeout=10).status_code == 404, url


def test_head_validators_and_conditional_get(server):
    url = f"{server}/zarr/gridded_nc4.nc/temp/0.0.0.0"
    r = requests.get(url, timeout=10)
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert "max-age" in r.headers["Cache-Control"]
    etag, modified = r.headers["ETag"], r.headers["Last-Modified"]
    h = requests.head(url, timeout=10)
    assert h.status_code == 200 and h.headers["ETag"] == etag
    assert requests.get(url, headers={"If-None-Match": etag}, timeout=10).status_code == 304
    assert requests.get(url, headers={"If-Modified-Since": modified}, timeout=10).status_code == 304
    meta = f"{server}/zarr3/gridded_nc4.nc/zarr.json"
    assert requests.head(meta, timeout=10).status_code == 200
    assert requests.get(meta, headers={"If-None-Match": etag}, timeout=10).status_code == 304
    decoded = requests.get(f"{server}/zarr/sst_classic.nc/sst/0.0.0", timeout=10)
    assert decoded.status_code == 200 and decoded.headers["ETag"]


def test_v3_metadata_follows_the_client_rules(server):
    doc = requests.get(f"{server}/zarr3/sst_classic.nc/zarr.json", timeout=10).json()
    meta = doc["consolidated_metadata"]["metadata"]
    sst = meta["sst"]
    assert sst["dimension_names"] == ["time", "lat", "lon"]
    # xarray reads a v3 float _FillValue as base64 of the little-endian float64.
    assert sst["attributes"]["_FillValue"] == base64.b64encode(struct.pack("<d", -999.0)).decode()
    assert sst["codecs"][0] == {"name": "bytes", "configuration": {"endian": "little"}}
    v2 = requests.get(f"{server}/zarr/types_nc4.nc/.zmetadata", timeout=10).json()
    assert v2["zarr_consolidated_format"] == 1
    for key, value in v2["metadata"].items():
        if key.endswith(".zarray"):
            assert value["filters"] is None or value["filters"]
    f32 = v2["metadata"]["v_f32/.zattrs"]
    assert "_FillValue" not in f32
