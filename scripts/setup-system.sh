#!/usr/bin/env bash
# Installs the Debian packages datagate needs to build (libnetcdf-dev, libeccodes-dev) and, with
# --test, the command-line clients the conformance suites use (ncdump, GDAL, wrk, nginx
# as the cluster test's load balancer) and
# Node.js with npm (to install Azurite, the Azure Blob Storage emulator), unless present.
set -euo pipefail
pkgs=(libnetcdf-dev libeccodes-dev pkg-config)
missing=()
if [ "${1:-}" = "--test" ]; then
  pkgs+=(netcdf-bin gdal-bin wrk libeccodes-tools nginx-light)
  # Headless Chromium and its WebDriver for the web interface's browser tests.
  pkgs+=(chromium chromium-driver)
  # Any Node.js with npm will do (Debian's, or one installed otherwise).
  command -v npm >/dev/null || missing+=(nodejs npm)
fi
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
