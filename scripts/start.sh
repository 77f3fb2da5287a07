#!/usr/bin/env bash
# Starts the whole system on embedded defaults: the relay (broker, embedded
# history store, dashboard) and three emulated bedside gateways.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
exec node --import tsx scripts/start.ts "$@"
