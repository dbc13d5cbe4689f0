#!/usr/bin/env bash
# Conformance suites: real clients against a running datagate. Creates the Python venv
# (conformance/.venv, or $DATAGATE_VENV) with the clients, builds datagate, runs pytest.
# Arguments go to pytest (e.g. `conformance/run.sh -k dap2`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh --test
venv="${DATAGATE_VENV:-conformance/.venv}"
conformance/prepare.sh
# `make-fixtures` (the suites' datasets) is in the binary only with the feature.
cargo build --quiet --bin datagate --features fixtures
export DATAGATE_BIN="${DATAGATE_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/debug/datagate}"
# One pytest process per suite: netCDF4-python and the clients' C libraries are not
# thread-safe, and a crash (seen: a segfault in netCDF-C under dask threads) must not
# take the other suites' results with it.
failed=()
for suite in conformance/test_*.py; do
  echo "== $suite"
  set +e
  "$venv/bin/python" -m pytest "$suite" -q -p no:cacheprovider "$@"
  status=$?
  set -e
  # 5 = no tests selected (a -k filter matched nothing in this suite).
  if [ $status -ne 0 ] && [ $status -ne 5 ]; then
    failed+=("$suite")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "conformance failures: ${failed[*]}"
  exit 1
fi
echo "conformance: all suites passed"
