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

BIN = os.environ.get("DATAGATE_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "target", "debug", "datagate"
)


@pytest.fixture(scope="session")
def fixtures_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("fixtures")
    subprocess.run([BIN, "make-fixtures", str(d)], check=True, capture_output=True)
    return d


def start_server(args, env=None):
    """Starts `datagate serve ARGS --bind 127.0.0.1:0`; returns (process, base URL)."""
    proc = subprocess.Popen(
        [BIN, "serve", *args, "--bind", "127.0.0.1:0"],
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


@pytest.fixture(scope="session")
def server(fixtures_dir):
    """Base URL of a datagate serving the fixtures directory (ids = file names)."""
    proc, base = start_server([str(fixtures_dir)])
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
