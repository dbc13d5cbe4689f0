"""Scale-out: three datagate replicas over one S3 bucket (moto) behind Debian's nginx,
configured with the shipped deploy/nginx/datagate.conf (consistent hashing by dataset
id; only the replicas' addresses and the listening port are replaced).

Real clients (netCDF-C over DAP2 through xarray, zarr-python through xarray) read
through the balancer; each dataset's requests stay on one replica; an object replaced
in the bucket is served by every replica within `storage.revalidate_secs`; a replica
killed and restarted under load, and a rolling restart of all three, lose no request
and never answer wrong bytes. The replicas take their settings from `DATAGATE_…`
environment variables over the file, and log JSON to stdout, as in a container.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import requests
import xarray as xr

from conftest import BIN, _die_with_parent
from s3server import BUCKET, MotoServer, free_port

NGINX_CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "datagate.conf"
FILES = ["sst_classic.nc", "gridded_nc4.nc", "types_nc4.nc", "curvilinear.nc", "offset64.nc"]
REVALIDATE_SECS = 2
PREFIX = "cluster"


def nginx_exe():
    return shutil.which("nginx") or "/usr/sbin/nginx"


pytestmark = pytest.mark.skipif(
    not os.path.exists(nginx_exe()), reason="nginx not installed (scripts/setup-system.sh --test)"
)


def write_series(path, values):
    with netCDF4.Dataset(path, "w", format="NETCDF4_CLASSIC") as nc:
        nc.createDimension("t", len(values))
        v = nc.createVariable("x", "f8", ("t",))
        v[:] = np.asarray(values, dtype="f8")


class Replica:
    """One `datagate serve` process on a fixed loopback port (restartable on it)."""

    def __init__(self, config, env):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config, self.env = config, env
        self.proc = None
        self.log_lines = []

    def start(self, wait=True):
        self.proc = subprocess.Popen(
            [BIN, "serve", "--config", str(self.config), "--bind", f"127.0.0.1:{self.port}"],
            preexec_fn=_die_with_parent,
            stdout=subprocess.PIPE,
            stderr=sys.stderr,
            text=True,
            env={**os.environ, **self.env},
        )
        threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()
        if wait:
            self.wait_ready()

    def _drain(self, proc):
        for line in proc.stdout:
            self.log_lines.append(line)

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"replica exited with {self.proc.returncode}")
            try:
                if requests.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError("replica not ready")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def nginx_config(work, replicas, port):
    """The shipped nginx include with this cluster's addresses, in a main config that
    runs unprivileged under `work`."""
    text = NGINX_CONF.read_text()
    servers = "\n".join(
        f"    server 127.0.0.1:{r.port} max_fails=1 fail_timeout=2s;" for r in replicas
    )
    text, n = re.subn(r"(?:    server 127\.0\.0\.1:808\d [^\n]*\n)+", servers + "\n", text)
    assert n == 1, "the upstream's server lines moved: update this test"
    text, n = re.subn(r"listen 8080;", f"listen 127.0.0.1:{port};", text)
    assert n == 1
    (work / "datagate.conf").write_text(text)
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"  {k}_temp_path {work}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = f"""{user}worker_processes 2;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
  log_format up '$request_uri $datagate_dataset $upstream_addr $status';
  access_log {work}/access.log up;
{temp}
  include {work}/datagate.conf;
}}
"""
    (work / "nginx.conf").write_text(main)
    return work / "nginx.conf"


@pytest.fixture(scope="module")
def cluster(fixtures_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("cluster")
    moto = MotoServer()
    for name in FILES:
        moto.client.upload_file(str(fixtures_dir / name), BUCKET, f"{PREFIX}/{name}")
    write_series(work / "v1.nc", [1.0, 2.0, 3.0, 4.0])
    write_series(work / "v2.nc", [10.0, 20.0, 30.0, 40.0])
    moto.client.upload_file(str(work / "v1.nc"), BUCKET, f"{PREFIX}/replaced.nc")
    # The file gives the store; settings a container would take from its environment
    # come from DATAGATE_ variables.
    config = work / "datagate.toml"
    config.write_text(
        moto.config_toml(work / "file-cache", [f"s3://{BUCKET}/{PREFIX}/"], revalidate_secs=60)
    )
    env = {
        "DATAGATE_STORAGE__REVALIDATE_SECS": str(REVALIDATE_SECS),
        "DATAGATE_SERVER__TRUSTED_PROXIES": '["127.0.0.1"]',
        "DATAGATE_LOG_FORMAT": "json",
    }
    replicas = []
    for i in range(3):
        cache = work / f"file-cache-{i}"
        r = Replica(config, {**env, "DATAGATE_STORAGE__FILE_CACHE_DIR": str(cache)})
        replicas.append(r)
    for r in replicas:
        r.start()
    port = free_port()
    conf = nginx_config(work, replicas, port)
    nginx = subprocess.Popen(
        [nginx_exe(), "-c", str(conf), "-p", str(work), "-e", str(work / "error.log")],
        preexec_fn=_die_with_parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    lb = f"http://127.0.0.1:{port}"
    deadline = time.time() + 15
    while True:
        try:
            requests.get(lb + "/healthz", timeout=2).raise_for_status()
            break
        except requests.RequestException:
            if nginx.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"nginx did not start: {nginx.stderr.read()!r}")
            time.sleep(0.1)
    yield {"lb": lb, "replicas": replicas, "moto": moto, "work": work}
    nginx.send_signal(signal.SIGQUIT)
    try:
        nginx.wait(timeout=10)
    except subprocess.TimeoutExpired:
        nginx.kill()
    for r in replicas:
        r.stop()
    moto.stop()


def test_replicas_log_json_and_are_ready(cluster):
    for r in cluster["replicas"]:
        body = requests.get(r.base + "/readyz", timeout=5).json()
        assert body["ready"] is True and body["datasets"] >= len(FILES) + 1
        assert requests.get(r.base + "/healthz", timeout=5).status_code == 200
        logged = [json.loads(line) for line in r.log_lines if line.startswith("{")]
        assert any("listening on" in e["fields"]["message"] for e in logged), r.log_lines[:5]


@pytest.mark.parametrize("name", ["sst_classic.nc", "gridded_nc4.nc", "curvilinear.nc"])
def test_dap2_through_the_balancer(cluster, fixtures_dir, name):
    local = xr.open_dataset(fixtures_dir / name, engine="netcdf4")
    remote = xr.open_dataset(f"{cluster['lb']}/opendap/{name}", engine="netcdf4")
    for v in local.data_vars:
        if local[v].dtype.kind in "fiu":
            np.testing.assert_allclose(remote[v].values, local[v].values, equal_nan=True)


@pytest.mark.parametrize("name", ["sst_classic.nc", "gridded_nc4.nc", "types_nc4.nc"])
def test_zarr_through_the_balancer(cluster, fixtures_dir, name):
    local = xr.open_dataset(fixtures_dir / name, engine="netcdf4")
    remote = xr.open_zarr(f"{cluster['lb']}/zarr/{name}", consolidated=True)
    assert set(local.variables) == set(remote.variables)
    for v in local.data_vars:
        if local[v].dtype.kind in "fiu":
            np.testing.assert_allclose(remote[v].values, local[v].values, equal_nan=True)


def dataset_counts(replica):
    """{(service, dataset): requests} from a replica's /metrics."""
    text = requests.get(replica.base + "/metrics", timeout=5).text
    out = {}
    pattern = r'^datagate_dataset_requests_total\{dataset="([^"]*)",service="([^"]*)",status="[^"]*"\} (\d+)'
    for m in re.finditer(pattern, text, re.M):
        key = (m.group(2), m.group(1))
        out[key] = out.get(key, 0) + int(m.group(3))
    return out


def test_each_dataset_stays_on_one_replica(cluster):
    lb, replicas = cluster["lb"], cluster["replicas"]
    before = [dataset_counts(r) for r in replicas]
    for name in FILES:
        for path in (
            f"/opendap/{name}.dds",
            f"/opendap/{name}.das",
            f"/zarr/{name}/.zmetadata",
            f"/zarr/{name}/zarr.json",
            f"/edr/collections/{name}",
        ):
            for _ in range(3):
                assert requests.get(lb + path, timeout=30).status_code == 200, path
    after = [dataset_counts(r) for r in replicas]
    served_by = {}
    for i, (b, a) in enumerate(zip(before, after)):
        for (service, dataset), n in a.items():
            if dataset in FILES and n > b.get((service, dataset), 0):
                served_by.setdefault(dataset, set()).add(i)
    assert set(served_by) == set(FILES)
    for dataset, where in served_by.items():
        assert len(where) == 1, f"{dataset} served by replicas {where}"
    # Five datasets over three replicas: the ring spreads them (not all on one).
    assert len({next(iter(w)) for w in served_by.values()}) >= 2, served_by


def ascii_values(base):
    r = requests.get(f"{base}/opendap/replaced.nc.ascii?x", timeout=10)
    r.raise_for_status()
    body = r.text.split("\n", 2)[-1]
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", body.split("x", 1)[-1])][-4:]


def test_replaced_object_is_seen_by_every_replica_within_revalidation(cluster):
    replicas, moto, work = cluster["replicas"], cluster["moto"], cluster["work"]
    for r in replicas:
        assert ascii_values(r.base) == [1.0, 2.0, 3.0, 4.0]
    moto.client.upload_file(str(work / "v2.nc"), BUCKET, f"{PREFIX}/replaced.nc")
    replaced = time.time()
    seen = {}
    while len(seen) < len(replicas) and time.time() - replaced < REVALIDATE_SECS + 8:
        for i, r in enumerate(replicas):
            if i not in seen:
                values = ascii_values(r.base)
                assert values in ([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]), values
                if values[0] == 10.0:
                    seen[i] = time.time() - replaced
        time.sleep(0.2)
    assert len(seen) == len(replicas), seen
    # Within the revalidation interval, plus a request's time.
    assert max(seen.values()) <= REVALIDATE_SECS + 1.5, seen
    assert ascii_values(cluster["lb"]) == [10.0, 20.0, 30.0, 40.0]


def test_sighup_finds_new_objects(cluster):
    replicas, moto, work = cluster["replicas"], cluster["moto"], cluster["work"]
    moto.client.upload_file(str(work / "v1.nc"), BUCKET, f"{PREFIX}/added_later.nc")
    assert requests.get(replicas[0].base + "/opendap/added_later.nc.dds", timeout=5).status_code == 404
    for r in replicas:
        r.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 15
    pending = set(range(len(replicas)))
    while pending and time.time() < deadline:
        for i in list(pending):
            url = replicas[i].base + "/opendap/added_later.nc.dds"
            if requests.get(url, timeout=5).status_code == 200:
                pending.discard(i)
        time.sleep(0.2)
    assert not pending


class Load:
    """Threads asking the balancer for known answers until stopped; records failures
    (anything but 200 with the expected bytes)."""

    def __init__(self, lb, expected, threads=4):
        self.lb, self.expected = lb, expected
        self.stop_flag = threading.Event()
        self.ok = 0
        self.failures = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]

    def run(self, seed):
        paths = sorted(self.expected)
        session = requests.Session()
        i = seed
        while not self.stop_flag.is_set():
            path = paths[i % len(paths)]
            i += 1
            try:
                r = session.get(self.lb + path, timeout=30)
                failure = None
                if r.status_code != 200:
                    failure = f"{path}: {r.status_code} {r.text[:200]}"
                elif r.content != self.expected[path]:
                    failure = f"{path}: WRONG BYTES ({len(r.content)} bytes)"
            except requests.RequestException as e:
                failure = f"{path}: {type(e).__name__}: {e}"
            with self.lock:
                if failure:
                    self.failures.append(failure)
                else:
                    self.ok += 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join()


def expected_answers(lb):
    paths = []
    for name in FILES:
        paths += [f"/opendap/{name}.dds", f"/opendap/{name}.das", f"/zarr/{name}/.zmetadata"]
    paths += [
        "/opendap/sst_classic.nc.dods?sst[0:1:0][0:1:3][0:1:3]",
        "/opendap/gridded_nc4.nc.dods?temp[0:1:1][0:1:2][0:1:2]",
        "/zarr/gridded_nc4.nc/temp/.zarray",
    ]
    out = {}
    for p in paths:
        r = requests.get(lb + p, timeout=30, headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200, p
        out[p] = r.content
    return out


def test_a_killed_replica_loses_no_request(cluster):
    lb, replicas = cluster["lb"], cluster["replicas"]
    expected = expected_answers(lb)
    victim = replicas[1]
    with Load(lb, expected) as load:
        time.sleep(1.0)
        victim.stop(signal.SIGKILL)
        time.sleep(1.5)
        victim.start()
        time.sleep(1.5)
    assert load.ok > 50, load.ok
    assert not [f for f in load.failures if "WRONG BYTES" in f], load.failures
    # A replica killed after it sent an answer's head cuts that answer short: no
    # balancer can retry it and the client sees an error (never wrong data). Anything
    # else, refused connections above all, nginx must retry on another replica.
    cut = [f for f in load.failures if "ChunkedEncodingError" in f or "IncompleteRead" in f]
    assert len(cut) <= 2 and len(load.failures) == len(cut), load.failures


def test_a_rolling_restart_loses_no_request(cluster):
    lb, replicas = cluster["lb"], cluster["replicas"]
    expected = expected_answers(lb)
    with Load(lb, expected) as load:
        time.sleep(0.5)
        for r in replicas:
            r.stop(signal.SIGTERM)
            r.start()
            time.sleep(0.5)
    assert load.ok > 50, load.ok
    assert load.failures == []


def test_readyz_fails_when_draining_and_when_the_store_is_unreachable(cluster, tmp_path):
    config = tmp_path / "datagate.toml"
    config.write_text(
        cluster["moto"].config_toml(tmp_path / "cache", [f"s3://{BUCKET}/{PREFIX}/"])
    )
    r = Replica(config, {"DATAGATE_SERVER__DRAIN_SECS": "3"})
    r.start()
    r.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    # Draining: not ready, yet still answering requests.
    assert requests.get(r.base + "/readyz", timeout=5).status_code == 503
    assert requests.get(r.base + "/opendap/sst_classic.nc.dds", timeout=5).status_code == 200
    r.proc.wait(timeout=20)
    # A store that does not answer: alive, not ready.
    dead = free_port()
    config.write_text(
        config.read_text().replace(cluster["moto"].endpoint, f"http://127.0.0.1:{dead}")
    )
    r = Replica(config, {"DATAGATE_STORAGE__MAX_RETRIES": "0"})
    r.start(wait=False)
    deadline = time.time() + 30
    while True:
        try:
            if requests.get(r.base + "/healthz", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            assert time.time() < deadline and r.proc.poll() is None
            time.sleep(0.2)
    answer = requests.get(r.base + "/readyz", timeout=10)
    assert answer.status_code == 503
    assert answer.json()["reason"] == "object store unreachable"
    assert answer.json()["stores"] == [f"s3://{BUCKET}"]
    r.stop()
