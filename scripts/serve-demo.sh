#!/usr/bin/env bash
# Runs datagate on the bundled demo catalog at http://127.0.0.1:8080/ (installing
# libnetcdf first if needed). Extra arguments go to `datagate serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh
exec cargo run --release -- serve "$@"
