#!/usr/bin/env python3
"""Open + read a 365-file aggregation: xarray over DAP2 (and Zarr) from datagate, versus
xr.open_mfdataset of the same files locally. Prints wall times (best of 3).

Usage: cargo build --release --features fixtures (for `make-fixtures`), then
  DATAGATE_BIN=target/release/datagate conformance/.venv/bin/python scripts/bench-aggregation.py
"""

import os
import subprocess
import sys
import tempfile
import time

import xarray as xr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "conformance"))
from conftest import start_server, stop_server  # noqa: E402


def best_of(n, f):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    work = tempfile.mkdtemp(prefix="datagate-agg-")
    subprocess.run([os.environ["DATAGATE_BIN"], "make-fixtures", "--daily-series", "365", work], check=True, capture_output=True)
    os.remove(os.path.join(work, "daily", "sst_bad.nc"))
    files = sorted(os.path.join(work, "daily", f) for f in os.listdir(os.path.join(work, "daily")))
    config = os.path.join(work, "datagate.toml")
    with open(config, "w") as f:
        f.write(f'[[collections]]\nid = "year"\nglob = "{work}/daily/sst_*.nc"\njoin_existing = "time"\n')
    t = time.perf_counter()
    proc, base = start_server(["--config", config])
    start = time.perf_counter() - t
    try:
        local = best_of(3, lambda: xr.open_mfdataset(files, combine="by_coords", engine="netcdf4").load())
        dap = best_of(3, lambda: xr.open_dataset(base + "/opendap/year", engine="netcdf4").load())
        zarr = best_of(3, lambda: xr.open_zarr(base + "/zarr/year", consolidated=True).load())
    finally:
        stop_server(proc)
    print("365 files of sst(time=1, lat=4, lon=5), one aggregation joined along time")
    print(f"| server start-up incl. building the aggregation (opens 365 files) | {start * 1000:.0f} ms |")
    print(f"| xr.open_mfdataset(365 local files).load() | {local * 1000:.0f} ms |")
    print(f"| xr.open_dataset(DAP2 URL of the aggregation).load() | {dap * 1000:.0f} ms |")
    print(f"| xr.open_zarr(Zarr URL of the aggregation).load() | {zarr * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
