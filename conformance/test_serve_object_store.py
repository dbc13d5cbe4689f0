"""`datagate serve s3://bucket/prefix/` serves an object-store prefix like a directory,
with credentials and endpoint from the standard AWS environment variables (a moto
server here); HEAD on a `.nc` download answers from metadata, without writing the file."""

import subprocess
import time

import netCDF4
import numpy as np
import pytest
import requests

from conftest import BIN, start_server, stop_server
from s3server import BUCKET, MotoServer


@pytest.fixture(scope="module")
def moto(fixtures_dir):
    m = MotoServer()
    m.upload_dir(fixtures_dir, "fixtures")
    yield m
    m.stop()


def aws_env(moto, cache):
    return {
        "AWS_ENDPOINT_URL": moto.endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
        "TMPDIR": str(cache),
    }


@pytest.fixture(scope="module")
def from_s3(moto, tmp_path_factory):
    cache = tmp_path_factory.mktemp("s3-cache")
    proc, base = start_server([f"s3://{BUCKET}/fixtures/"], env=aws_env(moto, cache))
    yield base
    stop_server(proc)


@pytest.fixture(scope="module")
def from_dir(fixtures_dir):
    proc, base = start_server([str(fixtures_dir)])
    yield base
    stop_server(proc)


def listing(base):
    return {d["id"]: d for d in requests.get(base + "/datasets", timeout=30).json()["datasets"]}


def test_bucket_prefix_lists_like_the_directory(from_s3, from_dir):
    remote, local = listing(from_s3), listing(from_dir)
    assert sorted(remote) == sorted(local) and "sst_classic.nc" in remote
    for name, d in local.items():
        assert remote[name]["variables"] == d["variables"], name


@pytest.mark.parametrize("name,var", [("sst_classic.nc", "sst"), ("gridded_nc4.nc", "temp")])
def test_dap2_read_from_the_bucket_equals_the_file(from_s3, fixtures_dir, name, var):
    with netCDF4.Dataset(f"{from_s3}/opendap/{name}") as served, netCDF4.Dataset(
        fixtures_dir / name
    ) as nc:
        got, want = served[var][:], nc[var][:]
        np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(want))
        np.testing.assert_array_equal(got.filled(0), want.filled(0))
        assert served[var].units == nc[var].units


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    d = tmp_path_factory.mktemp("large")
    subprocess.run([BIN, "make-fixtures", "--large", "6", str(d)], check=True, capture_output=True)
    proc, base = start_server([str(d)])
    yield base
    stop_server(proc)


def test_head_of_nc_download_answers_from_metadata(large):
    url = f"{large}/opendap/large.nc.nc"
    # Uncompressed, so the GET states its length.
    plain = {"Accept-Encoding": "identity"}
    t0 = time.monotonic()
    head = requests.head(url, headers=plain, timeout=60)
    head_secs = time.monotonic() - t0
    t0 = time.monotonic()
    get = requests.get(url, headers=plain, timeout=120)
    get_secs = time.monotonic() - t0
    assert head.status_code == get.status_code == 200, get.text[:200]
    assert head.content == b""
    assert len(get.content) == int(get.headers["content-length"]) > 10_000_000
    # Same headers but the length, which only the written file knows.
    skip = {"content-length", "transfer-encoding", "date"}
    assert {k: v for k, v in head.headers.items() if k.lower() not in skip} == {
        k: v for k, v in get.headers.items() if k.lower() not in skip
    }
    assert head.headers["content-type"] == "application/x-netcdf"
    assert "etag" in {k.lower() for k in head.headers} or "last-modified" in {
        k.lower() for k in head.headers
    }
    assert "content-length" not in {k.lower() for k in head.headers} or head.headers["content-length"] != "0"
    assert head_secs < get_secs / 3, (head_secs, get_secs)
    # The same faults as a GET: a bad constraint is a 400 without a file.
    assert requests.head(url + "?nosuchvar", timeout=30).status_code == requests.get(
        url + "?nosuchvar", timeout=30
    ).status_code
    # Conditional HEAD: the validators hold.
    etag = head.headers.get("etag")
    if etag:
        assert requests.head(url, headers={"If-None-Match": etag}, timeout=30).status_code == 304
