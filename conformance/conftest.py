"""Shared fixtures: the deterministic datasets and a datagate server serving them.

The server is the real binary ($DATAGATE_BIN), started once per session on a free
loopback port over a fresh `datagate make-fixtures` directory.
"""

import os
import re
import subprocess
import sys
import time

import pytest
import requests

sys.path.insert(0, os.path.dirname(__file__))

BIN = os.environ.get("DATAGATE_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "target", "debug", "datagate"
)


@pytest.fixture(scope="session")
def fixtures_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("fixtures")
    subprocess.run([BIN, "make-fixtures", str(d)], check=True, capture_output=True)
    return d


def _die_with_parent():
    """Linux: the server gets SIGTERM if pytest dies (a crash skips fixture teardown)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def start_server(args, env=None):
    """Starts `datagate serve ARGS --bind 127.0.0.1:0`; returns (process, base URL)."""
    proc = subprocess.Popen(
        [BIN, "serve", *args, "--bind", "127.0.0.1:0"],
        preexec_fn=_die_with_parent,
        stdout=subprocess.PIPE,
        stderr=sys.stderr,
        text=True,
        env={**os.environ, **(env or {})},
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                raise RuntimeError(f"datagate exited with {proc.returncode}")
            continue
        m = re.search(r"listening on (http://\S+?)/?$", line.strip())
        if m:
            base = m.group(1).rstrip("/")
            requests.get(base + "/healthz", timeout=5).raise_for_status()
            return proc, base
    proc.kill()
    raise RuntimeError("datagate did not start")


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


# Every suite runs against the fixtures on local disk (read by netCDF-C, and by the
# pure-Rust reader: `native`) and, copied into a real S3-compatible server (moto), over
# object storage: results must be identical. DATAGATE_BACKENDS=local (or native, s3)
# restricts the run.
BACKENDS = [b for b in os.environ.get("DATAGATE_BACKENDS", "local,native,s3").split(",") if b]


@pytest.fixture(scope="session")
def s3(fixtures_dir):
    from s3server import MotoServer

    moto = MotoServer()
    moto.upload_dir(fixtures_dir, "fixtures")
    yield moto
    moto.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def server(request, fixtures_dir, tmp_path_factory):
    """Base URL of a datagate serving the fixtures (ids = file names), from local disk
    (netCDF-C or native, the default) or from S3."""
    if request.param == "local":
        config = tmp_path_factory.mktemp("netcdf-c") / "datagate.toml"
        config.write_text(
            f'[readers]\nlocal_reads = "netcdf-c"\n[[roots]]\npath = "{fixtures_dir}"\n'
        )
        proc, base = start_server(["--config", str(config)])
    elif request.param == "native":
        config = tmp_path_factory.mktemp("native") / "datagate.toml"
        config.write_text(
            f'[readers]\nlocal_reads = "native"\n[[roots]]\npath = "{fixtures_dir}"\n'
        )
        proc, base = start_server(["--config", str(config)])
    else:
        moto = request.getfixturevalue("s3")
        work = tmp_path_factory.mktemp("s3-backed")
        config = work / "datagate.toml"
        config.write_text(
            moto.config_toml(work / "file-cache", ["s3://datagate-test/fixtures/"])
        )
        proc, base = start_server(["--config", str(config)])
    yield base
    stop_server(proc)


# cfgrib (ecCodes) and rioxarray (GDAL, PROJ) register xarray backends, so every process
# that opens a dataset with xarray loads their bundled C libraries beside netCDF4's; the
# interpreter's teardown then aborts in their destructors ("free(): invalid pointer"),
# after every test has passed. Once pytest is done, the process exits without that
# teardown, with pytest's own status.
@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    session.config._datagate_exitstatus = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    status = getattr(config, "_datagate_exitstatus", None)
    if status is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)

