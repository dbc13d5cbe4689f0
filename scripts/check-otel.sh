#!/usr/bin/env bash
# The `otel` feature (OpenTelemetry trace export), which the default build and CI leave
# out (it is heavy): clippy with it, a build with it, and conformance/test_otel.py
# (spans reaching an OTLP/HTTP receiver). Rebuilds the crate with the feature in the
# usual target directory; the next ordinary build rebuilds it without.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${DATAGATE_VENV:-conformance/.venv}"
cargo clippy --lib --bins --features otel --quiet -- -D warnings
cargo build --quiet --bin datagate --features otel,fixtures
bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/datagate"
DATAGATE_BIN="$bin" DATAGATE_OTEL_BIN="$bin" "$venv/bin/python" -m pytest \
  conformance/test_otel.py -q -p no:cacheprovider "$@"
