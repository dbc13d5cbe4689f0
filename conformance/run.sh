#!/usr/bin/env bash
# Conformance suites: real clients against a running datagate. Creates the Python venv
# (conformance/.venv, or $DATAGATE_VENV) with the clients, builds datagate, runs pytest.
# Arguments go to pytest (e.g. `conformance/run.sh -k dap2`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh --test
venv="${DATAGATE_VENV:-conformance/.venv}"
req=conformance/requirements.txt
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
stamp="$venv/.requirements.sha"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r "$req"
  echo "$want" > "$stamp"
fi
cargo build --quiet --bin datagate
export DATAGATE_BIN="${DATAGATE_BIN:-$PWD/target/debug/datagate}"
exec "$venv/bin/python" -m pytest conformance -q "$@"
