#!/usr/bin/env python3
"""WMS maps of a big COG in S3 (moto): bytes fetched and time of a whole-extent 256²
GetMap drawn from the overviews, beside the same raster without overviews (drawn from
the full-resolution slice). Run with the conformance venv's Python:

    DATAGATE_BIN=target/debug/datagate conformance/.venv/bin/python scripts/bench-cog-overviews.py [SIZE]

SIZE: the raster's side in pixels (default 4096: a 64 MiB float32 raster).
"""

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))
from conftest import start_server, stop_server  # noqa: E402
from s3server import MotoServer  # noqa: E402

WRITE = r"""
import subprocess, sys
import numpy as np
import rasterio
from rasterio.transform import from_origin
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(1)
rows, cols = np.mgrid[0:n, 0:n]
a = (0.5 * (rows + cols) / (2 * n) + 0.5 * rng.random((n, n))).astype("float32")
with rasterio.open(f"{out}/src.tif", "w", driver="GTiff", height=n, width=n, count=1,
                   dtype="float32", crs="EPSG:4326", transform=from_origin(0, 20, 20 / n, 20 / n)) as d:
    d.write(a, 1)
for name, ov in [("with_overviews.tif", "AUTO"), ("no_overviews.tif", "NONE")]:
    subprocess.run(["gdal_translate", "-q", "-of", "COG", "-co", "COMPRESS=DEFLATE",
                    "-co", "BLOCKSIZE=256", "-co", f"OVERVIEWS={ov}", "-co", "RESAMPLING=AVERAGE",
                    f"{out}/src.tif", f"{out}/{name}"], check=True)
"""


def counters(base):
    text = requests.get(base + "/metrics", timeout=10).text
    get = lambda name: sum(int(float(v)) for v in re.findall(
        name + r'\{kind="range"\} ([0-9.e+]+)', text))
    return get("datagate_object_store_requests_total"), get("datagate_object_store_bytes_total")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4096
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        subprocess.run([sys.executable, "-c", WRITE, str(data), str(n)], check=True)
        (data / "src.tif").unlink()
        moto = MotoServer()
        try:
            moto.upload_dir(data, "cogs")
            config = Path(tmp) / "datagate.toml"
            config.write_text(moto.config_toml(Path(tmp) / "cache", ["s3://datagate-test/cogs/"]))
            proc, base = start_server(["--config", str(config)])
            try:
                print(f"| raster | request | range requests | bytes fetched | time |")
                print("| --- | --- | --- | --- | --- |")
                for name in ["with_overviews.tif", "no_overviews.tif"]:
                    size = (data / name).stat().st_size
                    for label, extra in [("cold", {}), ("another style (slice cached)", {"STYLES": "default-scalar/greys"})]:
                        before = counters(base)
                        t0 = time.perf_counter()
                        r = requests.get(base + "/wms", timeout=600, params={
                            "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap",
                            "LAYERS": f"{name}/band_data", "STYLES": "", "CRS": "CRS:84",
                            "BBOX": "0,0,20,20", "WIDTH": "256", "HEIGHT": "256",
                            "FORMAT": "image/png", "COLORSCALERANGE": "0,1", **extra})
                        dt = time.perf_counter() - t0
                        after = counters(base)
                        assert r.status_code == 200, r.text[:300]
                        print(f"| {name} ({size / 2**20:.1f} MiB) | 256² map, {label} | "
                              f"{after[0] - before[0]} | {(after[1] - before[1]) / 2**20:.2f} MiB | "
                              f"{dt * 1000:.0f} ms |")
            finally:
                stop_server(proc)
        finally:
            moto.stop()
    os._exit(0)


if __name__ == "__main__":
    main()
