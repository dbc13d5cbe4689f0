#!/usr/bin/env python3
"""Drives a running datagate with wrk and prints requests/s per endpoint, for the same
datasets served from local disk (netCDF-C, and the pure-Rust reader: local-native),
from S3 (moto on loopback) read by byte ranges, and from S3 through the whole-file cache; plus, per workload, the first (cold) request's
time and the range requests sent to S3 per response, cold and warm.

Usage: scripts/load.sh [--seconds N] [--connections N] [--backends local,local-native,s3,s3-file-cache]
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
    # large.nc: 48 steps of 720x1440 f32 in 180x360 deflated chunks (~13 MB stored).
    ("large: DAP2 10x10 window", "/opendap/large.nc.dods?temp%5B4%5D%5B300:309%5D%5B700:709%5D"),
    ("large: Zarr chunk", "/zarr/large.nc/temp/4.1.1"),
    ("large: EDR position", "/edr/collections/large.nc/position?coords=POINT(10%2010)&parameter-name=temp&datetime=2000-01-05T00:00:00Z"),
    ("large: WMS GetMap", "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=large.nc/temp&STYLES=&CRS=EPSG:4326&BBOX=0,0,45,45&WIDTH=256&HEIGHT=256&FORMAT=image/png&TIME=2000-01-05T00:00:00Z"),
]


def store_reads(base):
    """(GET requests, bytes) datagate has sent to / received from object stores so far,
    ranges and whole-file downloads together (from /metrics)."""
    with urllib.request.urlopen(base + "/metrics") as r:
        text = r.read().decode()
    total = lambda name: sum(  # noqa: E731
        float(v) for v in re.findall(rf"datagate_object_store_{name}_total\{{kind=\"\w+\"\}} (\S+)", text)
    )
    return int(total("requests")), int(total("bytes"))


def wrk(url, seconds, connections):
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", out).group(1)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p50, int(non2xx.group(1)) if non2xx else 0, total


def cold_ms(url):
    t = time.perf_counter()
    with urllib.request.urlopen(url) as r:
        r.read()
    return (time.perf_counter() - t) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--backends", default="local,local-native,s3,s3-file-cache")
    ap.add_argument("--large-steps", type=int, default=48)
    args = ap.parse_args()
    # Request logs off: a log line per request would be part of what is measured.
    os.environ.setdefault("RUST_LOG", "warn")
    work = tempfile.mkdtemp(prefix="datagate-load-")
    fixtures = os.path.join(work, "fixtures")
    subprocess.run([os.environ["DATAGATE_BIN"], "make-fixtures", fixtures], check=True, capture_output=True)
    subprocess.run(
        [os.environ["DATAGATE_BIN"], "make-fixtures", fixtures, "--large", str(args.large_steps)],
        check=True, capture_output=True,
    )
    results = {}
    for backend in args.backends.split(","):
        moto = None
        if backend == "local":
            proc, base = start_server([fixtures])
        elif backend == "local-native":
            config = os.path.join(work, "local-native.toml")
            with open(config, "w") as f:
                f.write(f'[readers]\nlocal_reads = "native"\n[[roots]]\npath = "{fixtures}"\n')
            proc, base = start_server(["--config", config])
        else:
            from s3server import MotoServer

            moto = MotoServer()
            moto.upload_dir(fixtures, "fixtures")
            config = os.path.join(work, f"{backend}.toml")
            mode = "file-cache" if backend == "s3-file-cache" else "ranges"
            with open(config, "w") as f:
                f.write(moto.config_toml(
                    os.path.join(work, "cache-" + backend), ["s3://datagate-test/fixtures/"],
                    revalidate_secs=10, readers=[f'remote_reads = "{mode}"'],
                ))
            proc, base = start_server(["--config", config])
        try:
            results[backend] = {}
            for name, path in WORKLOADS:
                before = store_reads(base)
                cold = cold_ms(base + path)
                after = store_reads(base)
                cold_reads = (after[0] - before[0], after[1] - before[1])
                rps, p50, bad, total = wrk(base + path, args.seconds, args.connections)
                warm = (store_reads(base)[0] - after[0]) / max(total, 1)
                results[backend][name] = (rps, p50, bad, cold, cold_reads, warm)
        finally:
            stop_server(proc)
            if moto:
                moto.stop()
    backends = list(results)
    print(f"\nwrk -t2 -c{args.connections} -d{args.seconds}s, release build, requests/s (median latency)\n")
    both = "local" in backends and len(backends) > 1
    header = "| workload | " + " | ".join(backends) + " |"
    if both:
        header += "".join(f" {b}/local |" for b in backends if b != "local")
    print(header)
    print("|" + " --- |" * (header.count("|") - 1))
    for name, _ in WORKLOADS:
        cells = []
        for b in backends:
            rps, p50, bad = results[b][name][:3]
            cells.append(f"{rps:,.0f} ({p50})" + (f" [{bad} non-2xx]" if bad else ""))
        ratios = ""
        if both:
            ratios = "".join(
                f" {results[b][name][0] / results['local'][name][0]:.2f} |" for b in backends if b != "local"
            )
        print(f"| {name} | " + " | ".join(cells) + " |" + ratios)
    print("\nfirst request of each workload on a fresh server, in order: ms (GETs to the object store, KiB received)\n")
    remote = [b for b in backends if b.startswith("s3")]
    print("| workload | " + " | ".join(f"{b} cold" for b in backends) + " | " + " | ".join(f"{b} warm GETs/response" for b in remote) + " |")
    print("|" + " --- |" * (1 + len(backends) + len(remote)))
    for name, _ in WORKLOADS:
        cold = []
        for b in backends:
            ms, (n, nbytes) = results[b][name][3], results[b][name][4]
            cold.append(f"{ms:.1f}" + (f" ({n}, {nbytes / 1024:,.0f})" if b in remote else ""))
        warm = [f"{results[b][name][5]:.3f}" for b in remote]
        print(f"| {name} | " + " | ".join(cold) + " | " + " | ".join(warm) + " |")


if __name__ == "__main__":
    main()
