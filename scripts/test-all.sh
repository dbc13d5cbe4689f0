#!/usr/bin/env bash
# Runs every test: formatting and lints, Rust unit and integration tests, then the
# conformance suites where real clients (ncdump, xarray, pydap, zarr, OWSLib, GDAL)
# judge a running server. Installs what it needs (Debian packages, a Python venv).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh --test
# Two things that do not need the stable build run beside it: the conformance clients'
# downloads (the venv, Azurite), and the fuzz smoke's nightly build (a second build of
# every dependency, at nice 19: it takes what the Rust tests and the suites leave idle).
logs=$(mktemp -d)
conformance/prepare.sh >"$logs/prepare.log" 2>&1 &
prepare=$!
if ! cargo +nightly fuzz --version >/dev/null 2>&1 && rustup toolchain list 2>/dev/null | grep -q nightly; then
  cargo install --quiet cargo-fuzz
fi
FUZZ_SMOKE=1 FUZZ_BUILD_ONLY=1 scripts/fuzz.sh >"$logs/fuzz-build.log" 2>&1 &
fuzz_build=$!
# A background step's log, and its failure.
finish() {
  if ! wait "$1"; then
    cat "$2"
    echo "test-all.sh: $3 failed" >&2
    exit 1
  fi
}
echo "== cargo fmt --check"
cargo fmt --check
echo "== layers and import cycles"
python3 scripts/check-layers.py
echo "== cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings
# The production build, without the test datasets (`fixtures` feature).
cargo clippy --lib --bins --quiet -- -D warnings
echo "== cargo test"
cargo test --all-targets --quiet
echo "== conformance"
finish "$prepare" "$logs/prepare.log" "conformance/prepare.sh"
conformance/run.sh "$@"
echo "== deployment: the Dockerfile's stages on this host, the Kubernetes manifests"
scripts/docker-stages.sh --binary "${CARGO_TARGET_DIR:-$PWD/target}/debug/datagate"
"${DATAGATE_VENV:-conformance/.venv}/bin/python" scripts/check-k8s.py \
  --datagate "${CARGO_TARGET_DIR:-$PWD/target}/debug/datagate"
echo "== soak (smoke: 20 s of mixed valid and hostile load)"
scripts/soak.sh 20 --debug
echo "== fuzz (smoke: 5 s per target, no sanitizer)"
finish "$fuzz_build" "$logs/fuzz-build.log" "the fuzz build"
cat "$logs/fuzz-build.log"
FUZZ_SMOKE=1 scripts/fuzz.sh 5
