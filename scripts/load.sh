#!/usr/bin/env bash
# Load test: wrk against a running release build of datagate, local disk vs S3 (moto).
# Arguments go to scripts/load.py (--seconds, --connections, --backends).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh --test
venv="${DATAGATE_VENV:-conformance/.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r conformance/requirements.txt
# With `fixtures`: load.py writes its datasets with `datagate make-fixtures`.
cargo build --release --quiet --bin datagate --features fixtures
export DATAGATE_BIN="$PWD/target/release/datagate"
exec "$venv/bin/python" scripts/load.py "$@"
