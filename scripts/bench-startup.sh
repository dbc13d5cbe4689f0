#!/usr/bin/env bash
# Measures start-up over a directory of N small NetCDF files (default 1000): time until
# the server listens, and time of the first (cold) and second (warm) /datasets.
# Usage: scripts/bench-startup.sh [N]   (uses target/release/datagate; builds it)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000}"
# With `fixtures`: the files are written by `datagate make-fixtures`.
cargo build --release --quiet --bin datagate --features fixtures
bin=target/release/datagate
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
$bin make-fixtures "$work/seed" > /dev/null
mkdir -p "$work/many"
for i in $(seq 1 "$n"); do
  case $((i % 3)) in
    0) cp "$work/seed/sst_classic.nc" "$work/many/f$i.nc" ;;
    1) cp "$work/seed/types_cdf5.nc" "$work/many/f$i.nc" ;;
    2) cp "$work/seed/curvilinear.nc" "$work/many/f$i.nc" ;;
  esac
done
ms() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(ms)
$bin serve "$work/many" --bind 127.0.0.1:0 > "$work/out" 2> "$work/err" &
pid=$!
until grep -q "listening on" "$work/out"; do sleep 0.01; done
t1=$(ms)
url=$(sed -n 's/listening on \(http[^ ]*\)/\1/p' "$work/out" | head -1)
count=$(curl -s "${url}datasets" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["datasets"]))')
t2=$(ms)
curl -s "${url}datasets" > /dev/null
t3=$(ms)
echo "files: $n, listed: $count"
echo "start-up until listening: $((t1 - t0)) ms"
echo "first /datasets (opens every file): $((t2 - t1)) ms"
echo "second /datasets (metadata cache): $((t3 - t2)) ms"
