#!/usr/bin/env bash
# The conformance suites' clients: the Python venv (conformance/.venv, or
# $DATAGATE_VENV) with the packages of requirements.txt, reinstalled when that file
# changes, and Azurite (the Azure Blob Storage emulator) from the npm registry.
# Downloads, not builds: the test command runs it beside the Rust build.
set -euo pipefail
cd "$(dirname "$0")/.."
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
if [ ! -x conformance/.work/node/node_modules/.bin/azurite-blob ]; then
  mkdir -p conformance/.work/node
  npm install --silent --no-audit --no-fund --prefix conformance/.work/node azurite@3
fi
