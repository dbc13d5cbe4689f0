#!/usr/bin/env python3
"""Observation (DSG) request latency over 1-million-observation files.

Writes a timeSeries file (1,000 stations x 1,000 times, orthogonal) and a trajectory
file (100 tracks x 10,000 observations, contiguous ragged) with netCDF4-python, serves
them with $DATAGATE_BIN, and prints the first request (which builds the feature index)
and the median of 20 more for each URL pattern, each with another feature or window.
Usage: DATAGATE_BIN=target/release/datagate scripts/bench-dsg.py
"""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import requests
from netCDF4 import Dataset

os.environ.setdefault("DATAGATE_BIN", "target/release/datagate")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))
from conftest import start_server, stop_server  # noqa: E402


def write(d):
    ns, nt = 1000, 1000
    with Dataset(d / "stations_1m.nc", "w") as nc:
        nc.featureType = "timeSeries"
        nc.createDimension("station", ns)
        nc.createDimension("time", nt)
        sid = nc.createVariable("station", "i4", ("station",))
        sid.cf_role = "timeseries_id"
        sid[:] = np.arange(ns)
        lat = nc.createVariable("lat", "f8", ("station",))
        lat.units = "degrees_north"
        lat[:] = np.linspace(-60, 60, ns)
        lon = nc.createVariable("lon", "f8", ("station",))
        lon.units = "degrees_east"
        lon[:] = np.linspace(-170, 170, ns)
        t = nc.createVariable("time", "f8", ("time",))
        t.units, t.standard_name = "hours since 2000-01-01", "time"
        t[:] = np.arange(nt)
        nc.createVariable("temp", "f4", ("station", "time"))[:] = np.random.rand(ns, nt)
    n_tr, per = 100, 10000
    with Dataset(d / "tracks_1m.nc", "w") as nc:
        nc.featureType = "trajectory"
        nc.createDimension("trajectory", n_tr)
        nc.createDimension("obs", n_tr * per)
        tid = nc.createVariable("trajectory", "i4", ("trajectory",))
        tid.cf_role = "trajectory_id"
        tid[:] = np.arange(n_tr)
        rs = nc.createVariable("row_size", "i4", ("trajectory",))
        rs.sample_dimension = "obs"
        rs[:] = per
        t = nc.createVariable("time", "f8", ("obs",))
        t.units, t.standard_name = "seconds since 2020-01-01", "time"
        t[:] = np.tile(np.arange(per) * 60.0, n_tr)
        for name, units, lo, hi in [("lat", "degrees_north", -60, 60), ("lon", "degrees_east", -170, 170)]:
            v = nc.createVariable(name, "f8", ("obs",))
            v.units = units
            v[:] = np.random.uniform(lo, hi, n_tr * per)
        nc.createVariable("temp", "f4", ("obs",))[:] = np.random.rand(n_tr * per)


# `{s}` a random station (0–999), `{t}` a random track (0–99), `{x}`/`{y}` a random
# place, `{h}` a random hour: each timed request asks for another feature or window, so
# no answer is a repeat (the first request, which builds the index, uses the first
# values).
URLS = [
    "/edr/collections/stations_1m.nc/locations/{s}",
    "/edr/collections/stations_1m.nc/locations/{s}?f=csv",
    "/edr/collections/stations_1m.nc/position?coords=POINT({x}%20{y})",
    "/edr/collections/tracks_1m.nc/locations/{t}?datetime=2020-01-02T{h:02d}:00:00Z/2020-01-02T{h6:02d}:00:00Z",
    "/edr/collections/tracks_1m.nc/locations/{t}",
    "/edr/collections/tracks_1m.nc/area?coords=POLYGON(({x}%20{y},{x10}%20{y},{x10}%20{y10},{x}%20{y10},{x}%20{y}))",
    "/opendap/stations_1m.nc/observations.dods?station,time,temp&station={s}",
]


def fill(url, rng):
    x, y, h = int(rng.integers(-150, 140)), int(rng.integers(-50, 40)), int(rng.integers(0, 17))
    return url.format(s=int(rng.integers(0, 1000)), t=int(rng.integers(0, 100)), x=x, y=y,
                      x10=x + 10, y10=y + 10, h=h, h6=h + 6)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        write(d)
        proc, base = start_server([str(d)])
        try:
            print("| request | first (index build) | median of 20 | bytes |")
            print("| --- | --- | --- | --- |")
            rng = np.random.default_rng(1)
            for u in URLS:
                t0 = time.perf_counter()
                r = requests.get(base + fill(u, rng))
                first = time.perf_counter() - t0
                r.raise_for_status()
                times, sizes = [], []
                for _ in range(20):
                    t0 = time.perf_counter()
                    r = requests.get(base + fill(u, rng))
                    r.raise_for_status()
                    times.append(time.perf_counter() - t0)
                    sizes.append(len(r.content))
                med = statistics.median(times)
                print(f"| `{u}` | {first * 1000:.0f} ms | {med * 1000:.1f} ms | {int(statistics.median(sizes))} |")
        finally:
            stop_server(proc)


if __name__ == "__main__":
    main()
