"""GRIB open and field-read times: datagate (DAP2, cold and warm) against cfgrib on the
same local file. Usage: python scripts/bench-grib.py DATAGATE_BIN [MESSAGES_PER_VAR]

Writes a 1° global file (t, u, v on 13 pressure levels x N steps, 16-bit packing) with
the ecCodes Python module, serves it, and times:
  - datagate: start-up to listening (the scan builds the message index), the first
    `.dds`, and one field over DAP2, first and second time;
  - cfgrib: `xr.open_dataset(engine="cfgrib")` without an index file, and one field.
cfgrib runs in a child process (ecCodes' and netCDF4's bundled libraries clash at exit).
"""

import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "conformance"))
from conftest import start_server, stop_server  # noqa: E402

LEVELS = [1000, 925, 850, 700, 600, 500, 400, 300, 250, 200, 150, 100, 50]

WRITE = """
import sys, numpy as np, eccodes
path, steps = sys.argv[1], int(sys.argv[2])
grid = dict(Ni=360, Nj=181, latitudeOfFirstGridPointInDegrees=90.0, longitudeOfFirstGridPointInDegrees=0.0,
            latitudeOfLastGridPointInDegrees=-90.0, longitudeOfLastGridPointInDegrees=359.0,
            iDirectionIncrementInDegrees=1.0, jDirectionIncrementInDegrees=1.0)
levels = %r
base = np.sin(np.arange(65160) / 700.0) * 20 + 250
with open(path, "wb") as f:
    for name in ["t", "u", "v"]:
        for step in range(0, 6 * steps, 6):
            for level in levels:
                h = eccodes.codes_grib_new_from_samples("regular_ll_pl_grib2")
                for k, v in {**grid, "shortName": name, "dataDate": 20240101, "dataTime": 0,
                             "stepRange": str(step), "typeOfLevel": "isobaricInhPa", "level": level,
                             "bitsPerValue": 16}.items():
                    eccodes.codes_set(h, k, v)
                eccodes.codes_set_values(h, base + level / 100 + step)
                eccodes.codes_write(h, f)
                eccodes.codes_release(h)
""" % LEVELS

CFGRIB = """
import os, sys, time, xarray as xr
t0 = time.perf_counter()
ds = xr.open_dataset(sys.argv[1], engine="cfgrib", backend_kwargs={"indexpath": ""})
t1 = time.perf_counter()
ds.t.isel(step=1, isobaricInhPa=5).values
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.4f}", flush=True)
os._exit(0)
"""


def main():
    binary = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    d = tempfile.mkdtemp()
    path = os.path.join(d, "global.grib2")
    subprocess.run([sys.executable, "-c", WRITE, path, str(steps)], check=True)
    size = os.path.getsize(path)
    messages = 3 * len(LEVELS) * steps
    os.environ["DATAGATE_BIN"] = binary
    import conftest

    conftest.BIN = binary
    ts = time.perf_counter()
    proc, base = start_server([d])
    te = time.perf_counter()
    try:
        t0 = time.perf_counter()
        requests.get(f"{base}/opendap/global.grib2.dds", timeout=600).raise_for_status()
        t1 = time.perf_counter()
        url = f"{base}/opendap/global.grib2.dods?t[1][5][0:1:180][0:1:359]"
        # No compression: the figure is the read, not gzip.
        plain = {"Accept-Encoding": "identity"}
        requests.get(url, timeout=600, headers=plain).raise_for_status()
        t2 = time.perf_counter()
        requests.get(url, timeout=600, headers=plain).raise_for_status()
        t3 = time.perf_counter()
    finally:
        stop_server(proc)
    out = subprocess.run([sys.executable, "-c", CFGRIB, path], capture_output=True, text=True)
    cf_open, cf_field = (float(x) for x in out.stdout.split())
    print(f"file: {messages} messages, {size / 1e6:.1f} MB")
    # The index is built at start-up: the catalog scan opens GRIB files to learn their parts.
    print(f"datagate start-up to listening, index included: {1000 * (te - ts):.0f} ms")
    print(f"datagate first .dds: {1000 * (t1 - t0):.1f} ms")
    print(f"datagate one field over DAP2: cold {1000 * (t2 - t1):.1f} ms, warm {1000 * (t3 - t2):.1f} ms")
    print(f"cfgrib open_dataset: {1000 * cf_open:.0f} ms, one field: {1000 * cf_field:.1f} ms")


if __name__ == "__main__":
    main()
