#!/usr/bin/env bash
# Installs what the browser test of the playground needs (cmd/wvsoft/playground_test.go), when it
# is missing: Debian's chromium and the page's npm packages (the lock file pins them, playwright-
# core among them). `make test` runs it; it changes nothing when both are there.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-browser: chromium is missing; install it with: sudo apt-get install chromium" >&2
    exit 1
  fi
  echo "ensure-browser: installing chromium (Debian) for the playground's browser test" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
