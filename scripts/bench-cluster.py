#!/usr/bin/env python3
"""Scale-out figures: requests/s through nginx (deploy/nginx/datagate.conf) with 1 and 3
datagate replicas over one S3 server (moto), and the cache hit ratios with and without
hashing by dataset id.

The archive is N copies of `make-fixtures --large T` (a 720x1440 grid, chunks of
1x180x360 float32, compressed) under different keys; each request reads one chunk of
one dataset (a 10x10 DAP2 subset), dataset, time step and chunk drawn at random. The
replicas' decoded-chunk and block caches are sized to hold about a quarter of the
archive each, so where requests land decides what is cached.

    DATAGATE_BIN=target/debug/datagate conformance/.venv/bin/python scripts/bench-cluster.py \
        [--datasets 12] [--steps 2] [--seconds 15] [--connections 16]
(`datagate` built with `--features fixtures`; wrk and nginx installed:
scripts/setup-system.sh --test).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))

from cluster import Nginx, Replica  # noqa: E402
from conftest import BIN  # noqa: E402
from s3server import BUCKET, MotoServer  # noqa: E402

CHUNK = (180, 360)
GRID = (720, 1440)


def metrics(replicas):
    """Summed counters of every replica: {(name, labels): value}."""
    out = {}
    for r in replicas:
        text = requests.get(r.base + "/metrics", timeout=10).text
        for m in re.finditer(r"^(datagate_[a-z_]+_total)\{([^}]*)\} (\d+)", text, re.M):
            key = (m.group(1), m.group(2))
            out[key] = out.get(key, 0) + int(m.group(3))
    return out


def delta(after, before):
    return {k: v - before.get(k, 0) for k, v in after.items()}


def cache_ratio(counts, cache):
    hits = counts.get(("datagate_cache_events_total", f'cache="{cache}",event="hit"'), 0)
    misses = counts.get(("datagate_cache_events_total", f'cache="{cache}",event="miss"'), 0)
    return hits / (hits + misses) if hits + misses else float("nan")


def store_gets(counts):
    return sum(v for (name, _), v in counts.items()
               if name == "datagate_object_store_requests_total")


def paths(datasets, steps):
    out = []
    for d in range(datasets):
        for t in range(steps):
            for cy in range(GRID[0] // CHUNK[0]):
                for cx in range(GRID[1] // CHUNK[1]):
                    y, x = cy * CHUNK[0], cx * CHUNK[1]
                    out.append(
                        f"/opendap/ds_{d:02d}.nc.dods?temp%5B{t}%5D%5B{y}:1:{y + 9}%5D"
                        f"%5B{x}:1:{x + 9}%5D"
                    )
    return out


def wrk(base, script, seconds, connections):
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script), base],
        check=True, capture_output=True, text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return rps, int(bad.group(1)) if bad else 0, errors.group(1) if errors else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=int, default=12)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    subprocess.run([BIN, "make-fixtures", str(work / "fx"), "--large", str(args.steps)],
                   check=True, capture_output=True)
    moto = MotoServer()
    for d in range(args.datasets):
        moto.client.upload_file(str(work / "fx" / "large.nc"), BUCKET, f"bench/ds_{d:02d}.nc")
    decoded = 4 * CHUNK[0] * CHUNK[1]
    chunks = args.datasets * args.steps * (GRID[0] // CHUNK[0]) * (GRID[1] // CHUNK[1])
    stored = args.datasets * (work / "fx" / "large.nc").stat().st_size
    # Each replica's shared caches hold a quarter of the archive: decoded chunks, and
    # stored bytes in 64 KiB blocks. Each open file's own decoded-chunk cache holds two
    # chunks, so repeated reads fall through to the shared caches.
    cache_bytes = chunks // 4 * decoded
    block_cache = stored // 4
    config = work / "datagate.toml"
    config.write_text(moto.config_toml(
        work / "cache", [f"s3://{BUCKET}/bench/"], revalidate_secs=300,
        storage=[f"block_cache_bytes = {block_cache}", "block_bytes = 65536"],
        readers=[f"decoded_chunk_cache_bytes = {2 * decoded}"],
    ) + f"[cache]\ndecoded_chunk_bytes = {cache_bytes}\n")
    script = work / "paths.lua"
    lua_paths = ",\n".join(f'"{p}"' for p in paths(args.datasets, args.steps))
    script.write_text(
        f"paths = {{\n{lua_paths}\n}}\n"
        "request = function()\n"
        "  return wrk.format('GET', paths[math.random(#paths)])\n"
        "end\n"
    )
    rows = []
    for label, n, hashed in [
        ("1 replica", 1, True),
        ("3 replicas, hash by dataset id", 3, True),
        ("3 replicas, round robin", 3, False),
    ]:
        replicas = [Replica(config, {"DATAGATE_STORAGE__FILE_CACHE_DIR": str(work / f"fc{i}"),
                                     "RUST_LOG": "warn"}) for i in range(n)]
        for r in replicas:
            r.start()
        nginx = Nginx(work, replicas, hashed=hashed)
        try:
            wrk(nginx.base, script, args.warmup, args.connections)
            before = metrics(replicas)
            rps, bad, errors = wrk(nginx.base, script, args.seconds, args.connections)
            counts = delta(metrics(replicas), before)
        finally:
            nginx.stop()
            for r in replicas:
                r.stop()
        rows.append((label, rps, bad, errors, cache_ratio(counts, "decoded_chunk"),
                     cache_ratio(counts, "block"), store_gets(counts) / args.seconds))
        print(f"{label}: {rps:.0f} req/s", file=sys.stderr)
    moto.stop()
    print(f"{args.datasets} datasets x {args.steps} steps = {chunks} chunks; "
          f"{args.connections} connections, {args.seconds} s after {args.warmup} s warm-up; "
          f"archive {stored >> 10} KiB stored; per replica: decoded-chunk cache "
          f"{cache_bytes >> 20} MiB, block cache {block_cache >> 10} KiB in 64 KiB blocks")
    print()
    print("| setup | requests/s | non-2xx | decoded-chunk hit ratio | block hit ratio | "
          "object-store GETs/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, rps, bad, errors, dec, blk, gets in rows:
        note = f" ({errors})" if errors else ""
        print(f"| {label} | {rps:.0f}{note} | {bad} | {dec:.2f} | {blk:.2f} | {gets:.1f} |")


if __name__ == "__main__":
    main()
