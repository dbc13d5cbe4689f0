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
import signal
import threading
import time

import netCDF4
import numpy as np
import pytest
import requests
import xarray as xr

from cluster import NGINX_CONF, Nginx, Replica, nginx_exe
from s3server import BUCKET, MotoServer, free_port

FILES = ["sst_classic.nc", "gridded_nc4.nc", "types_nc4.nc", "curvilinear.nc", "offset64.nc"]
REVALIDATE_SECS = 2
PREFIX = "cluster"


pytestmark = pytest.mark.skipif(
    not os.path.exists(nginx_exe()), reason="nginx not installed (scripts/setup-system.sh --test)"
)


def write_series(path, values):
    with netCDF4.Dataset(path, "w", format="NETCDF4_CLASSIC") as nc:
        nc.createDimension("t", len(values))
        v = nc.createVariable("x", "f8", ("t",))
        v[:] = np.asarray(values, dtype="f8")


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
        r.start(first=True)
    nginx = Nginx(work, replicas)
    yield {"lb": nginx.base, "replicas": replicas, "moto": moto, "work": work}
    nginx.stop()
    for r in replicas:
        r.stop()
    moto.stop()


def test_replicas_log_json_and_are_ready(cluster):
    for r in cluster["replicas"]:
        body = requests.get(r.base + "/readyz", timeout=5).json()
        assert body["ready"] is True and body["datasets"] >= len(FILES) + 1
        assert requests.get(r.base + "/healthz", timeout=5).status_code == 200
        # One line per request, with its own fields (the writer flushes every 20 ms).
        deadline = time.monotonic() + 5
        while True:
            logged = [json.loads(line) for line in list(r.log_lines) if line.startswith("{")]
            requests_logged = [e["fields"] for e in logged if e.get("target") == "datagate::request"]
            if any(f.get("uri") == "/healthz" for f in requests_logged) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert any("listening on" in e["fields"].get("message", "") for e in logged), r.log_lines[:5]
        line = next(f for f in requests_logged if f.get("uri") == "/healthz")
        assert line["method"] == "GET" and line["status"] == 200, line
        assert float(line["latency_ms"]) >= 0, line


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
                status = requests.get(lb + path, timeout=30).status_code
                # Files without a CF grid are no EDR collection: a 404 counts too.
                assert status == 200 or (status == 404 and "/edr/" in path), path
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


def test_the_balancer_keys_requests_by_dataset_id(cluster):
    """The shipped map's key for each URL form (nginx logs it: see cluster.py's
    log_format), whether or not the dataset exists."""
    lb, work = cluster["lb"], cluster["work"]
    cases = {
        "/opendap/sst_classic.nc.dods?sst": "sst_classic.nc",
        "/opendap/dir/sub/file.nc.dmr.xml": "dir/sub/file.nc",
        "/zarr/gridded_nc4.nc/temp/c/0/0/0": "gridded_nc4.nc",
        "/zarr3/a/b.grib2/forecast/t/zarr.json": "a/b.grib2",
        "/edr/collections/curvilinear.nc/position?coords=POINT(1 2)": "curvilinear.nc",
        "/wms/store.zarr?SERVICE=WMS": "store.zarr",
        "/opendap/sst-l4.dds": "sst-l4",
        "/zarr/sst-l4/.zmetadata": "sst-l4",
        "/stac/collections/sst-l4/items": "sst-l4",
    }
    for path in cases:
        requests.get(lb + path, timeout=30)
    # nginx writes a request's log line after the client has its answer: wait for them.
    deadline = time.monotonic() + 10
    while True:
        logged = {}
        for line in (work / "access.log").read_text().splitlines():
            uri, key = line.split(" ")[:2]
            logged[requests.utils.unquote(uri)] = key
        if all(p in logged for p in cases) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for path, key in cases.items():
        assert logged.get(path) == key, (path, logged.get(path))


def ascii_values(base):
    """The values of `x` in replaced.nc, or None while a replica answers 503 ("changed
    at the source; retry": the new version is not trusted yet, the old one's uncached
    bytes are gone)."""
    r = requests.get(f"{base}/opendap/replaced.nc.ascii?x", timeout=10)
    if r.status_code == 503:
        return None
    r.raise_for_status()
    # DAP2 ASCII: "Dataset: replaced.nc", then "x, 1, 2, 3, 4".
    line = next(l for l in r.text.splitlines() if l.startswith("x, "))
    return [float(v) for v in line.split(",")[1:]]


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
                assert values in (None, [1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]), values
                if values and values[0] == 10.0:
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


def test_the_grafana_dashboard_queries_metrics_the_replicas_export(cluster):
    """Every metric the example dashboard plots is one a replica exports (after the
    traffic of the tests above: object-store reads, cache lookups, every service)."""
    dashboard = json.loads(
        (NGINX_CONF.parent.parent / "grafana" / "datagate.json").read_text()
    )
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set(re.findall(r"\b(datagate_[a-z_]+)\{", " ".join(exprs)))
    exported = set()
    for r in cluster["replicas"]:
        text = requests.get(r.base + "/metrics", timeout=5).text
        exported |= set(re.findall(r"^(datagate_[a-z_]+)[{ ]", text, re.M))
    assert used and used <= exported, used - exported


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
            # nginx leaves a replica out for fail_timeout (1 s) after it failed, even
            # once back: the documented pace of a rolling restart.
            time.sleep(1.5)
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

