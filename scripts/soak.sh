#!/usr/bin/env bash
# Soak test: SECONDS (default 600) of mixed valid and hostile load on every protocol
# against a release build serving the fixtures; prints RSS at start/end, outcome
# counts and p99 latency. `--debug` uses the debug build and only checks for server
# errors, not memory growth (the CI smoke: `scripts/soak.sh 20 --debug`). Needs
# python3 with requests (the conformance venv).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
profile=release
if [ "${2:-}" = "--debug" ]; then profile=debug; fi
if [ $profile = release ]; then cargo build --release --quiet --features fixtures --bin datagate; else cargo build --quiet --features fixtures --bin datagate; fi
bin="${CARGO_TARGET_DIR:-$PWD/target}/$profile/datagate"
py="${DATAGATE_VENV:-conformance/.venv}/bin/python"
[ -x "$py" ] || py=python3
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
"$bin" make-fixtures "$work/data" >/dev/null
# Cache budgets small enough to fill during the warm-up: growth after it is a leak,
# not a cache filling.
cat >"$work/soak.toml" <<TOML
[[roots]]
path = "$work/data"
[cache]
metadata_bytes = 67108864
zarr_chunk_bytes = 8388608
derived_bytes = 8388608
[wms]
slice_cache_bytes = 33554432
image_cache_bytes = 8388608
[storage]
block_cache_bytes = 16777216
TOML
"$bin" serve --config "$work/soak.toml" --bind 127.0.0.1:0 >"$work/out" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do
  base=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/out" | head -1)
  [ -n "$base" ] && break
  sleep 0.1
done
echo "soak: $profile build at $base for $seconds s"
growth=0.10
if [ $profile = debug ]; then growth=10; fi
"$py" scripts/soak.py "$base" "$pid" "$seconds" --max-growth "$growth"
