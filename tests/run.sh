#!/usr/bin/env bash
# The whole test suite: lint, JS unit tests, then pytest (unit, notebooks, browser end-to-end).
# Installs what the tests need when it is missing: the package with its test extra,
# Debian's chromium for the browser tests, and the JS dependencies.
# Extra arguments go to pytest, e.g. `bash tests/run.sh -m "not e2e"`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python -c "import attnwidget, pytest, playwright, voila" 2>/dev/null; then
  python -m pip install "torch==2.13.0" -e ".[test]"
fi
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "tests/run.sh: /usr/bin/chromium is missing; install Debian's chromium package" >&2
  fi
fi
if [ ! -d js/node_modules ]; then
  (cd js && npm ci --no-audit --no-fund)
fi

ruff check .
ruff format --check .
(cd js && npm test --silent)
python -m pytest "$@"
