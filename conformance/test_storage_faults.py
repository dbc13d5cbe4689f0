"""Object-storage faults: a stopped S3 server, slow and truncated HTTP objects. Each gives
a clean error in the protocol's form (502/504), never a hang, and the server keeps
serving its other datasets."""

import shutil
import subprocess

import pytest
import requests

from conftest import BIN, start_server, stop_server
from faulty_http import FaultyFileServer
from s3server import MotoServer


def opendap_error_status(base, dataset_id):
    r = requests.get(f"{base}/opendap/{dataset_id}.dds", timeout=60)
    return r.status_code, r.text


@pytest.fixture
def mixed(fixtures_dir, tmp_path):
    """datagate over a local directory and an S3 prefix; the S3 server can be stopped."""
    moto = MotoServer()
    moto.upload_dir(fixtures_dir, "remote")
    local = tmp_path / "local"
    local.mkdir()
    shutil.copy(fixtures_dir / "sst_classic.nc", local / "local_sst.nc")
    config = tmp_path / "datagate.toml"
    config.write_text(
        moto.config_toml(
            tmp_path / "cache",
            [str(local), "s3://datagate-test/remote/"],
            revalidate_secs=0,
            timeout_secs=3,
        )
    )
    proc, base = start_server(["--config", str(config)])
    yield moto, base
    stop_server(proc)
    moto.stop()


def test_stopped_s3_gives_clean_errors_and_local_data_stays(mixed):
    moto, base = mixed
    ids = {d["id"] for d in requests.get(base + "/datasets", timeout=60).json()["datasets"]}
    assert {"local_sst.nc", "gridded_nc4.nc"} <= ids
    moto.stop()
    status, body = opendap_error_status(base, "gridded_nc4.nc")
    assert status in (502, 504), body
    assert body.startswith("Error {"), body
    # The local dataset is unaffected, and /datasets still answers (without the S3 ones).
    assert requests.get(base + "/opendap/local_sst.nc.dds", timeout=30).status_code == 200
    listed = requests.get(base + "/datasets", timeout=60).json()["datasets"]
    assert "local_sst.nc" in {d["id"] for d in listed}
    assert requests.get(base + "/healthz", timeout=5).text == "ok"
    # Every protocol answers in its own error form.
    wms = requests.get(
        base + "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=gridded_nc4.nc/temp&STYLES="
        "&CRS=CRS:84&BBOX=0,0,10,10&WIDTH=16&HEIGHT=16&FORMAT=image/png",
        timeout=60,
    )
    assert wms.status_code in (502, 504) and "ServiceException" in wms.text, wms.text
    edr = requests.get(
        base + "/edr/collections/gridded_nc4.nc/position?coords=POINT(10%2010)", timeout=60
    )
    assert edr.status_code in (502, 504), edr.text
    assert edr.headers["content-type"].startswith("application/problem+json"), edr.headers
    zarr = requests.get(base + "/zarr/gridded_nc4.nc/.zmetadata", timeout=60)
    assert zarr.status_code in (502, 504), zarr.text
    dap4 = requests.get(base + "/opendap/gridded_nc4.nc.dmr.xml", timeout=60)
    assert dap4.status_code in (502, 504) and "<Error" in dap4.text, dap4.text


@pytest.fixture
def http_backed(fixtures_dir, tmp_path):
    files = FaultyFileServer(str(fixtures_dir))
    config = tmp_path / "datagate.toml"
    config.write_text(
        "\n".join(
            [
                "[storage]",
                "timeout_secs = 2",
                "connect_timeout_secs = 2",
                "max_retries = 0",
                f'file_cache_dir = "{tmp_path / "cache"}"',
                "[[datasets]]",
                'id = "remote"',
                f'location = "{files.url}/gridded_nc4.nc"',
                "[[datasets]]",
                'id = "local"',
                f'location = "{fixtures_dir / "sst_classic.nc"}"',
            ]
        )
        + "\n"
    )
    proc, base = start_server(["--config", str(config)])
    yield files, base
    stop_server(proc)
    files.stop()


def test_http_location_reads_like_local(http_backed):
    files, base = http_backed
    remote = requests.get(base + "/opendap/remote.dds", timeout=30)
    assert remote.status_code == 200, remote.text
    assert "temp" in remote.text


def test_slow_object_times_out_cleanly(http_backed):
    files, base = http_backed
    files.mode = "slow"
    status, body = opendap_error_status(base, "remote")
    assert status in (502, 504), body
    assert requests.get(base + "/opendap/local.dds", timeout=30).status_code == 200


def test_truncated_object_is_an_error_not_data(http_backed):
    files, base = http_backed
    files.mode = "truncate"
    status, body = opendap_error_status(base, "remote")
    assert status == 502, body
    assert "truncated" in body or "Error" in body


def test_store_failing_mid_response_aborts_the_stream(tmp_path):
    """A response already streaming when the object store starts failing is cut off:
    the client sees an incomplete body, never a complete-looking short one."""
    data = tmp_path / "data"
    subprocess.run([BIN, "make-fixtures", str(data), "--large", "2"], check=True, capture_output=True)
    files = FaultyFileServer(str(data))
    config = tmp_path / "datagate.toml"
    config.write_text(
        "\n".join(
            [
                "[limits]",
                "read_block_bytes = 65536",
                "[storage]",
                "revalidate_secs = 600",
                "timeout_secs = 3",
                "max_retries = 0",
                "block_bytes = 65536",
                f'file_cache_dir = "{tmp_path / "cache"}"',
                "[[datasets]]",
                'id = "remote"',
                f'location = "{files.url}/large.nc"',
            ]
        )
        + "\n"
    )
    proc, base = start_server(["--config", str(config)])
    try:
        assert requests.get(base + "/opendap/remote.dds", timeout=30).status_code == 200
        files.gets_left = 3
        r = requests.get(base + "/opendap/remote.dods?temp", stream=True, timeout=60)
        assert r.status_code == 200  # headers went out before the store failed
        declared = r.headers.get("content-length")
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            body = b"".join(r.iter_content(65536))
            # Reached only if the body ended cleanly: then it must be whole.
            assert declared is None or len(body) == int(declared)
        # Once the store works again, so does the dataset.
        files.gets_left = None
        whole = requests.get(base + "/opendap/remote.dods?temp[0][0:9][0:9]", timeout=60)
        assert whole.status_code == 200
    finally:
        stop_server(proc)
        files.stop()


def test_object_replaced_mid_interval_never_mixes_versions(fixtures_dir, tmp_path):
    """An object replaced at the source while datagate trusts its old version (long
    revalidation interval): reads needing bytes not cached yet fail with a DAP 503
    (conditional range GETs see the ETag changed) instead of decoding a mix of two
    files, and the next request serves the new version."""
    moto = MotoServer()
    key = "changing/data.nc"
    moto.client.upload_file(str(fixtures_dir / "gridded_nc4.nc"), "datagate-test", key)
    config = tmp_path / "datagate.toml"
    config.write_text(
        moto.config_toml(tmp_path / "cache", ["s3://datagate-test/changing/"], revalidate_secs=600)
        .replace("[storage]\n", "[storage]\nblock_bytes = 4096\n")
    )
    proc, base = start_server(["--config", str(config)])
    try:
        assert "temp" in requests.get(base + "/opendap/data.nc.dds", timeout=30).text
        moto.client.upload_file(str(fixtures_dir / "curvilinear.nc"), "datagate-test", key)
        r = requests.get(base + "/opendap/data.nc.ascii?temp", timeout=30)
        assert r.status_code == 503, r.text[:300]
        assert r.text.startswith("Error {") and "changed" in r.text, r.text
        # At once (not after 600 s) the new object is what is served.
        dds = requests.get(base + "/opendap/data.nc.dds", timeout=30)
        assert dds.status_code == 200
        assert "[y = 6]" in dds.text, dds.text
        new = requests.get(base + "/opendap/data.nc.ascii?temp", timeout=30)
        assert new.status_code == 200, new.text[:300]
    finally:
        stop_server(proc)
        moto.stop()
