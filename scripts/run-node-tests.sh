#!/usr/bin/env bash
# Runs node's test runner over every test file under test/ (or the files given).
set -euo pipefail
cd "$(dirname "$0")/.."
if (($#)); then
  files=("$@")
else
  mapfile -t files < <(find test -name '*.test.ts' -not -path '*/fixtures/*' | sort)
fi
exec node --import tsx --test --test-reporter=spec --test-concurrency=2 "${files[@]}"
