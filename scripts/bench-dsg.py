#!/usr/bin/env python3
"""Observation (DSG) request latency over 1-million-observation files.

Writes a timeSeries file (1,000 stations x 1,000 times, orthogonal) and a trajectory
file (100 tracks x 10,000 observations, contiguous ragged) with netCDF4-python, serves
them with $DATAGATE_BIN, and prints the first request (which builds the feature index)
and the median of 20 more for each URL.
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


URLS = [
    "/edr/collections/stations_1m.nc/locations/500",
    "/edr/collections/stations_1m.nc/locations/500?f=csv",
    "/edr/collections/stations_1m.nc/position?coords=POINT(0%200)",
    "/edr/collections/tracks_1m.nc/locations/50?datetime=2020-01-02T00:00:00Z/2020-01-02T06:00:00Z",
    "/edr/collections/tracks_1m.nc/locations/50",
    "/edr/collections/tracks_1m.nc/area?coords=POLYGON((0%200,10%200,10%2010,0%2010,0%200))",
    "/opendap/stations_1m.nc/observations.dods?station,time,temp&station=500",
]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        write(d)
        proc, base = start_server([str(d)])
        try:
            print("| request | first (index build) | median of 20 | bytes |")
            print("| --- | --- | --- | --- |")
            for u in URLS:
                t0 = time.perf_counter()
                r = requests.get(base + u)
                first = time.perf_counter() - t0
                r.raise_for_status()
                times = []
                for _ in range(20):
                    t0 = time.perf_counter()
                    requests.get(base + u).raise_for_status()
                    times.append(time.perf_counter() - t0)
                med = statistics.median(times)
                print(f"| `{u}` | {first * 1000:.0f} ms | {med * 1000:.1f} ms | {len(r.content)} |")
        finally:
            stop_server(proc)


if __name__ == "__main__":
    main()
