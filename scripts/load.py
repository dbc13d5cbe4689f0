#!/usr/bin/env python3
"""Drives a running datagate with wrk and prints requests/s per endpoint, for the same
datasets served from local disk and from S3 (moto on loopback), plus cold-open times.

Usage: scripts/load.sh [--seconds N] [--connections N] [--backends local,s3]
Needs wrk (Debian package) and the conformance venv (moto) — scripts/load.sh sets both up.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "conformance"))

from conftest import start_server, stop_server  # noqa: E402

# (name, path) — the same workloads for every backend.
WORKLOADS = [
    ("DAS", "/opendap/sst_classic.nc.das"),
    ("DDS", "/opendap/sst_classic.nc.dds"),
    ("DAP2 .dods slice", "/opendap/gridded_nc4.nc.dods?temp%5B0%5D%5B0%5D%5B0:19%5D%5B0:35%5D"),
    ("DAP4 .dmr", "/opendap/types_nc4.nc.dmr.xml"),
    ("DAP4 .dap whole var", "/opendap/gridded_nc4.nc.dap?dap4.ce=/temp"),
    ("Zarr .zmetadata", "/zarr/gridded_nc4.nc/.zmetadata"),
    ("Zarr chunk (passthrough)", "/zarr/gridded_nc4.nc/temp/0.0.0.0"),
    ("WMS GetMap 256x256", "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=gridded_nc4.nc/temp&STYLES=&CRS=EPSG:3857&BBOX=-10000000,-5000000,10000000,5000000&WIDTH=256&HEIGHT=256&FORMAT=image/png"),
    ("EDR position", "/edr/collections/gridded_nc4.nc/position?coords=POINT(10%2010)&parameter-name=temp"),
]


def wrk(url, seconds, connections):
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p50, int(non2xx.group(1)) if non2xx else 0


def cold_ms(url):
    t = time.perf_counter()
    with urllib.request.urlopen(url) as r:
        r.read()
    return (time.perf_counter() - t) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--backends", default="local,s3")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="datagate-load-")
    fixtures = os.path.join(work, "fixtures")
    subprocess.run([os.environ["DATAGATE_BIN"], "make-fixtures", fixtures], check=True, capture_output=True)
    results = {}
    for backend in args.backends.split(","):
        moto = None
        if backend == "local":
            proc, base = start_server([fixtures])
        else:
            from s3server import MotoServer

            moto = MotoServer()
            moto.upload_dir(fixtures, "fixtures")
            config = os.path.join(work, f"{backend}.toml")
            with open(config, "w") as f:
                f.write(moto.config_toml(os.path.join(work, "cache-" + backend), ["s3://datagate-test/fixtures/"], revalidate_secs=10))
            proc, base = start_server(["--config", config])
        try:
            cold = cold_ms(base + WORKLOADS[2][1])
            results[backend] = {"cold": cold}
            for name, path in WORKLOADS:
                results[backend][name] = wrk(base + path, args.seconds, args.connections)
        finally:
            stop_server(proc)
            if moto:
                moto.stop()
    backends = list(results)
    print(f"\nwrk -t2 -c{args.connections} -d{args.seconds}s, release build, requests/s (median latency)\n")
    header = "| workload | " + " | ".join(backends) + (" | s3/local |" if {"local", "s3"} <= set(backends) else " |")
    print(header)
    print("|" + " --- |" * (header.count("|") - 1))
    for name, _ in WORKLOADS:
        cells = []
        for b in backends:
            rps, p50, bad = results[b][name]
            cells.append(f"{rps:,.0f} ({p50})" + (f" [{bad} non-2xx]" if bad else ""))
        ratio = ""
        if {"local", "s3"} <= set(backends):
            ratio = f" {results['s3'][name][0] / results['local'][name][0]:.2f} |"
        print(f"| {name} | " + " | ".join(cells) + " |" + ratio)
    print()
    for b in backends:
        print(f"first request on a fresh server ({b}, opens the dataset): {results[b]['cold']:.1f} ms")


if __name__ == "__main__":
    main()
