#!/usr/bin/env python3
"""datagate side by side with its peers on one generated file, in one run: xpublish
(with its OPeNDAP and EDR plugins) and, given a local checkout of its repository, dars
(a Rust DAP2 server). Prints one table of requests/s, p50/p99 latency and peak RSS.

The file: `analysed_sst` f32 30×720×1440, chunks 1×360×720, zlib level 4 + shuffle
(~56 MB), like a day-by-day SST analysis. Workloads vary their parameters per request
(random windows, time ranges and points, from a wrk Lua script), so a response cache
cannot answer them; the metadata documents (.das/.dds) are one URL each, as clients ask.

Usage: scripts/bench-peers.py [--seconds 10] [--connections 2] [--dars PATH] [--only datagate] [--no-build]
  --dars PATH   a checkout of github.com/gauteh/dars: built with `cargo build --release`
                (needs `pip install cmake`; compiles HDF5, ~10 minutes the first time).
Needs wrk (Debian) and the conformance venv (`conformance/run.sh` creates it); installs
xpublish, xpublish-opendap and xpublish-edr into that venv when missing.
"""

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.environ.get("DATAGATE_VENV", os.path.join(ROOT, "conformance", ".venv"))
PY = os.path.join(VENV, "bin", "python")

NT, NY, NX = 30, 720, 1440
ID = "sst"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_file(path):
    """The benchmark file, written by netCDF4-python (the venv's)."""
    code = f"""
import numpy as np, netCDF4
rng = np.random.default_rng(7)
with netCDF4.Dataset({path!r}, "w") as ds:
    ds.createDimension("time", {NT}); ds.createDimension("lat", {NY}); ds.createDimension("lon", {NX})
    t = ds.createVariable("time", "f8", ("time",)); t.units = "days since 2020-01-01"; t.standard_name = "time"
    t[:] = np.arange({NT})
    la = ds.createVariable("lat", "f4", ("lat",)); la.units = "degrees_north"; la.standard_name = "latitude"
    la[:] = -89.875 + 0.25 * np.arange({NY})
    lo = ds.createVariable("lon", "f4", ("lon",)); lo.units = "degrees_east"; lo.standard_name = "longitude"
    lo[:] = -179.875 + 0.25 * np.arange({NX})
    v = ds.createVariable("analysed_sst", "f4", ("time", "lat", "lon"), zlib=True, complevel=4,
                          shuffle=True, chunksizes=(1, 360, 720), fill_value=np.float32(-32768))
    v.units = "kelvin"; v.standard_name = "sea_surface_temperature"
    lat = la[:][:, None]; lon = lo[:][None, :]
    base = 273.15 + 28 * np.cos(np.deg2rad(lat)) ** 2 + 0.5 * np.sin(np.deg2rad(3 * lon))
    for k in range({NT}):
        noise = rng.normal(0, 0.05, ({NY}, {NX}))
        v[k] = np.round(base + 0.1 * k + noise, 2).astype("f4")
"""
    subprocess.run([PY, "-c", code], check=True)


def decode_limit_mb_s(path):
    """Decoded MB/s one core inflates this file's stored chunks (zlib, then unshuffle):
    what bulk reads are compared with."""
    code = f"""
import h5py, time, zlib, numpy as np
with h5py.File({path!r}) as f:
    d = f["analysed_sst"]
    raw = [d.id.read_direct_chunk(c.chunk_offset)[1] for c in (d.id.get_chunk_info(i) for i in range(d.id.get_num_chunks()))]
n = 0; t0 = time.perf_counter()
for _ in range(3):
    for r in raw:
        b = zlib.decompress(r)
        np.frombuffer(b, "u1").reshape(4, -1).T.copy()
        n += len(b)
print(n / (time.perf_counter() - t0) / 1e6)
"""
    out = subprocess.run([PY, "-c", code], check=True, capture_output=True, text=True).stdout
    return float(out.strip())


def wait_http(url, proc, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {url}")
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"server did not answer: {url}")


def peak_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def start_datagate(data_dir, work, build=True):
    if build:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "datagate"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    port = free_port()
    proc = subprocess.Popen(
        [os.path.join(target, "release", "datagate"), "serve", data_dir, "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "datagate.log"), "w"),
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz", proc)
    return proc, base, {
        "das": f"/opendap/{ID}.nc.das",
        "dds": f"/opendap/{ID}.nc.dds",
        "dods": f"/opendap/{ID}.nc.dods?",
        "edr": f"/edr/collections/{ID}.nc/position?parameter-name=analysed_sst&coords=",
    }


def start_xpublish(path, work):
    have = subprocess.run([PY, "-c", "import xpublish, xpublish_opendap, xpublish_edr"], capture_output=True)
    if have.returncode != 0:
        subprocess.run([PY, "-m", "pip", "install", "-q", "xpublish", "xpublish-opendap", "xpublish-edr"], check=True)
    port = free_port()
    # pyproj first: loaded after another wheel's PROJ (rasterio's), it finds no database.
    code = f"""
import pyproj
pyproj.CRS.from_epsg(4326)
import xarray as xr, xpublish
ds = xr.open_dataset({path!r})
xpublish.Rest({{{ID!r}: ds}}).serve(host="127.0.0.1", port={port}, log_level="error")
"""
    proc = subprocess.Popen([PY, "-c", code], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, "xpublish.log"), "w"))
    base = f"http://127.0.0.1:{port}"
    wait_http(base + f"/datasets/{ID}/opendap.das", proc)
    return proc, base, {
        "das": f"/datasets/{ID}/opendap.das",
        "dds": f"/datasets/{ID}/opendap.dds",
        "dods": f"/datasets/{ID}/opendap.dods?",
        "edr": f"/datasets/{ID}/edr/position?parameter-name=analysed_sst&coords=",
    }


def start_dars(checkout, data_dir, work, build=True):
    # Its HDF5 is built from source with CMake (from the venv: `pip install cmake`).
    env = dict(os.environ, PATH=os.path.join(VENV, "bin") + os.pathsep + os.environ["PATH"])
    if build:
        if not os.path.exists(os.path.join(VENV, "bin", "cmake")):
            subprocess.run([PY, "-m", "pip", "install", "-q", "cmake"], check=True)
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=checkout, check=True, env=env)
    port = free_port()
    binary = os.path.join(checkout, "target", "release", "dars")
    # A trailing "/": datasets at /data/<file>; its index database (sled) in `work`.
    proc = subprocess.Popen([binary, "-a", f"127.0.0.1:{port}", data_dir + "/"], cwd=work,
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "dars.log"), "w"))
    base = f"http://127.0.0.1:{port}"
    wait_http(base + f"/data/{ID}.nc.das", proc)
    return proc, base, {
        "das": f"/data/{ID}.nc.das",
        "dds": f"/data/{ID}.nc.dds",
        "dods": f"/data/{ID}.nc.dods?",
        "edr": None,
    }


def workloads(paths, rng):
    """(name, [paths]) per workload: random windows, time ranges and points."""
    q = urllib.request.quote
    subset = []
    for _ in range(500):
        t, y, x = rng.randrange(NT), rng.randrange(NY - 300), rng.randrange(NX - 400)
        subset.append(paths["dods"] + q(f"analysed_sst[{t}][{y}:{y + 299}][{x}:{x + 399}]", safe=""))
    bulk = []
    for t in range(NT - 9):
        bulk.append(paths["dods"] + q(f"analysed_sst[{t}:{t + 9}][0:{NY - 1}][0:{NX - 1}]", safe=""))
    out = [
        ("DAP2 .das", [paths["das"]]),
        ("DAP2 .dds", [paths["dds"]]),
        (".dods 300×400 subset (random)", subset),
        (".dods 10 steps, whole globe", bulk),
    ]
    if paths["edr"]:
        pts = []
        for _ in range(500):
            lon, lat = rng.uniform(-179, 179), rng.uniform(-89, 89)
            pts.append(paths["edr"] + q(f"POINT({lon:.3f} {lat:.3f})", safe=""))
        out.append(("EDR position, 30-step series (random points)", pts))
    return out


LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def run_wrk(base, urls, seconds, connections, work):
    lst = os.path.join(work, "paths.txt")
    with open(lst, "w") as f:
        f.write("\n".join(urls) + "\n")
    lua = os.path.join(work, "paths.lua")
    with open(lua, "w") as f:
        f.write(LUA % lst)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s", "--latency", "-s", lua, base],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]

    return rps, pct(50), pct(99), int(errors.group(1)) if errors else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=2)
    ap.add_argument("--dars", help="path to a checkout of gauteh/dars")
    ap.add_argument("--only", help="comma-separated servers: datagate,xpublish,dars")
    ap.add_argument("--no-build", action="store_true", help="use the release binaries already built")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("needs wrk: scripts/setup-system.sh --test")
    work = tempfile.mkdtemp(prefix="datagate-peers-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    path = os.path.join(data, f"{ID}.nc")
    write_file(path)
    print(f"file: {path} ({os.path.getsize(path) / 1e6:.1f} MB)")
    limit = decode_limit_mb_s(path)
    cores = os.cpu_count() or 1
    print(f"decode limit: {limit:.0f} MB/s per core (zlib + unshuffle), {limit * cores:.0f} MB/s on {cores} cores")
    bulk_mb = 10 * NY * NX * 4 / 1e6
    build = not args.no_build
    servers = [("datagate", lambda: start_datagate(data, work, build)), ("xpublish", lambda: start_xpublish(path, work))]
    if args.dars:
        servers.append(("dars", lambda: start_dars(os.path.abspath(args.dars), data, work, build)))
    if args.only:
        keep = set(args.only.split(","))
        servers = [s for s in servers if s[0] in keep]
    results = {}
    for name, start in servers:
        proc, base, paths = start()
        try:
            for wname, urls in workloads(paths, random.Random(1)):
                # One untimed pass so every server has opened the file.
                urllib.request.urlopen(base + urls[0], timeout=120).read()
                results[(wname, name)] = run_wrk(base, urls, args.seconds, args.connections, work)
                r = results[(wname, name)]
                print(f"  {name:9} {wname:45} {r[0]:10.1f} req/s  p50 {r[1]:8.1f} ms  p99 {r[2]:8.1f} ms"
                      + (f"  {r[3]} errors" if r[3] else ""), flush=True)
            results[("peak RSS (MB)", name)] = peak_rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    names = [n for n, _ in servers]
    rows = []
    for wname, _ in workloads({"das": "", "dds": "", "dods": "", "edr": "x"}, random.Random(1)):
        rows.append(wname)
    print()
    print("| workload | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    for wname in rows:
        cells = []
        for n in names:
            r = results.get((wname, n))
            cells.append("–" if r is None else f"{r[0]:,.1f} req/s (p50 {r[1]:.1f} ms, p99 {r[2]:.1f} ms)")
        print(f"| {wname} | " + " | ".join(cells) + " |")
    print("| peak RSS | " + " | ".join(f"{results.get(('peak RSS (MB)', n), float('nan')):.0f} MB" for n in names) + " |")
    bulk = ".dods 10 steps, whole globe"
    for n in names:
        r = results.get((bulk, n))
        if r:
            print(f"{n}: bulk .dods {r[0] * bulk_mb:.0f} MB/s = {100 * r[0] * bulk_mb / (limit * cores):.0f}% of the decode limit")


if __name__ == "__main__":
    sys.exit(main())
