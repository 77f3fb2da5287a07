#!/usr/bin/env bash
# Installs what the system and the tests need and is not there yet: Debian
# packages (as root, or through sudo) and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(chromium mosquitto influxdb victoria-metrics libsystemd-dev)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "vigil: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm dependencies at the lockfile's versions when node_modules is absent or
# older than the lockfile. `npm install` rather than `npm ci`: the registry
# mirror here lacks some platform builds of optional packages (biome's
# non-Linux binaries), which `npm ci` treats as a lockfile mismatch.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "vigil: installing npm dependencies (native modules build from source)"
  npm install --no-audit --no-fund
fi
