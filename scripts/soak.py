#!/usr/bin/env python3
"""Soak: mixed load on every protocol, valid and hostile requests with parameters that
vary per request, against a running datagate for a set time. Prints RSS at start and
end, counts per outcome, p50/p99 latency; exits 1 if a valid request got a 5xx, the
server died, or RSS grew by more than --max-growth.

Usage: soak.py BASE_URL PID SECONDS [--workers N] [--max-growth 0.10]
"""
import argparse
import random
import statistics
import sys
import threading
import time
from collections import Counter

import requests


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def valid(rng):
    """A valid request with parameters drawn per call (no two alike: no cache test)."""
    t = rng.randrange(3)
    j0, i0 = rng.randrange(8), rng.randrange(15)
    lon, lat = rng.uniform(-170, 170), rng.uniform(-60, 60)
    w = rng.uniform(10, 120)
    choices = [
        f"/opendap/sst_classic.nc.dods?sst[{t}][{j0}:1:{j0 + 2}][{i0}:1:{i0 + 3}]",
        f"/opendap/sst_classic.nc.ascii?sst[{t}][{j0}][{i0}:1:{i0 + 2}]",
        "/opendap/gridded_nc4.nc.dds",
        "/opendap/gridded_nc4.nc.das",
        f"/opendap/gridded_nc4.nc.dap?dap4.ce=/temp[{rng.randrange(4)}][0][0:1:{rng.randrange(20)}][0:1:5]",
        "/opendap/gridded_nc4.nc.dmr.xml",
        f"/zarr/gridded_nc4.nc/temp/{rng.randrange(4)}.0.0.0",
        "/zarr/gridded_nc4.nc/.zmetadata",
        f"/edr/collections/sst_classic.nc/position?coords=POINT({lon:.3f} {lat:.3f})&parameter-name=sst",
        f"/edr/collections/sst_classic.nc/area?coords=POLYGON(({lon:.2f} {lat:.2f},{lon + 20:.2f} {lat:.2f},{lon + 20:.2f} {lat + 10:.2f},{lon:.2f} {lat:.2f}))",
        (f"/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=sst_classic.nc/sst&STYLES=&CRS=CRS:84"
         f"&BBOX={lon - w:.3f},{lat - w / 2:.3f},{lon + w:.3f},{lat + w / 2:.3f}&WIDTH=256&HEIGHT=256&FORMAT=image/png"),
        f"/wms/tiles/sst_classic.nc/sst/{(z := rng.randrange(1, 4))}/{rng.randrange(2 ** z)}/{rng.randrange(2 ** z)}.png",
        f"/stac/search?bbox={lon - 30:.2f},{lat - 20:.2f},{lon + 30:.2f},{lat + 20:.2f}&limit={rng.randrange(1, 20)}",
        "/datasets",
        "/thredds/catalog.xml",
    ]
    return rng.choice(choices)


def hostile(rng):
    big = str(rng.choice([2**31 - 1, 2**32, 2**63, 2**64 - 1, 2**70]))
    choices = [
        f"/opendap/sst_classic.nc.dods?lat[0:2:{big}]",
        f"/opendap/gridded_nc4.nc.dap?dap4.ce=/temp[0:2:{big}][0][0][0]",
        f"/opendap/sst_classic.nc.dods?sst[0:{big}:2][0][0]",
        "/edr/collections/sst_classic.nc/position?coords=" + "GEOMETRYCOLLECTION(" * 300 + "POINT(0 0)" + ")" * 300,
        f"/edr/collections/sst_classic.nc/cube?bbox=0,-10,20,10&resolution-x={big}",
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=" + ",".join(["sst_classic.nc/sst"] * rng.randrange(50, 300))
        + "&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=256&HEIGHT=256&FORMAT=image/png",
        "/stac/search?bbox=NaN,0,1,1",
        f"/zarr/gridded_nc4.nc/temp/{big}.0.0.0",
        "/opendap/nothing.nc.dds",
    ]
    return rng.choice(choices)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("pid", type=int)
    ap.add_argument("seconds", type=float)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--max-growth", type=float, default=0.10)
    args = ap.parse_args()
    base = args.base.rstrip("/")
    # The first fifth (at least 5 s) warms up (first opens, caches fill) under the same
    # load; RSS growth is measured from its end.
    warm = max(5.0, args.seconds * 0.2)
    began = time.time()
    deadline = began + warm + args.seconds
    lock = threading.Lock()
    outcomes, latencies, bad = Counter(), [], []

    def worker(seed):
        rng = random.Random(seed)
        s = requests.Session()
        while time.time() < deadline:
            kind = "hostile" if rng.random() < 0.25 else "valid"
            path = hostile(rng) if kind == "hostile" else valid(rng)
            t0 = time.time()
            try:
                status = s.get(base + path, timeout=60).status_code
            except requests.RequestException as e:
                status = type(e).__name__
            dt = time.time() - t0
            with lock:
                outcomes[(kind, status)] += 1
                latencies.append(dt)
                if kind == "valid" and (not isinstance(status, int) or status >= 500):
                    bad.append((path, status))
                if kind == "hostile" and (not isinstance(status, int) or (status >= 500 and status != 503)):
                    bad.append((path, status))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.workers)]
    for t in threads:
        t.start()
    start_rss, peak, series, next_mark = None, 0.0, [], began
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        try:
            now = rss_mb(args.pid)
            if time.time() >= next_mark:
                series.append(f"{now:.0f}")
                next_mark += 60
            peak = max(peak, now)
            if start_rss is None and time.time() - began >= warm:
                start_rss = now
        except FileNotFoundError:
            print("the server died")
            return 1
    for t in threads:
        t.join()
    end_rss = rss_mb(args.pid)
    latencies.sort()
    q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
    start_rss = start_rss or end_rss
    print(f"requests: {len(latencies)} in {warm + args.seconds:.0f} s ({warm:.0f} s warm-up) with {args.workers} workers")
    for (kind, status), n in sorted(outcomes.items(), key=str):
        print(f"  {kind:8} {status}: {n}")
    print(f"latency ms: p50 {q(0.5):.1f}  p99 {q(0.99):.1f}  max {latencies[-1] * 1000:.1f}")
    growth = (end_rss - start_rss) / start_rss if start_rss else 0.0
    print(f"RSS MB: start {start_rss:.0f}  end {end_rss:.0f}  peak {peak:.0f}  growth {growth * 100:.1f}%")
    print(f"RSS MB each minute: {' '.join(series)}")
    ok = True
    if bad:
        print(f"FAIL: {len(bad)} server errors, e.g. {bad[:5]}")
        ok = False
    if growth > args.max_growth:
        print(f"FAIL: RSS grew more than {args.max_growth * 100:.0f}%")
        ok = False
    if requests.get(base + "/healthz", timeout=5).text != "ok":
        print("FAIL: /healthz")
        ok = False
    print("soak: ok" if ok else "soak: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
