#!/usr/bin/env bash
# Installs the page's npm packages (the lock file pins them, playwright-core among them) that the
# browser test of the playground needs (cmd/wvsoft/playground_test.go), when they are missing or
# older than the lock file. Chromium itself comes from `make chromium`. `make test` runs both.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
