#!/usr/bin/env bash
# Every test: installs what is missing, then lint, typecheck and node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "vigil: lint"
npx biome check .
echo "vigil: typecheck"
npx tsc --noEmit -p tsconfig.json
echo "vigil: tests"
bash scripts/run-node-tests.sh
