#!/usr/bin/env bash
# The whole test suite: the checks (ruff lint and format, the JS lint and format with biome,
# the JSDoc types with tsc), the JS unit tests, then pytest (unit, notebooks, browser end-to-end). The first check that
# fails stops the run and says which one and how to fix it.
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
if [ ! -x js/node_modules/.bin/biome ] || [ ! -x js/node_modules/.bin/tsc ] || [ ! -x js/node_modules/.bin/vitest ]; then
  (cd js && npm ci --no-audit --no-fund)
fi

# check NAME FIX COMMAND...: run COMMAND; if it fails, stop with NAME and how to FIX it.
check() {
  local name=$1 fix=$2
  shift 2
  if ! "$@"; then
    echo "tests/run.sh: $name failed; $fix" >&2
    exit 1
  fi
}
check "ruff check" "fix the findings above (ruff check --fix . fixes some)" ruff check .
check "ruff format --check" "run: ruff format ." ruff format --check .
check "JS lint (biome)" "fix the findings above (npm --prefix js run format fixes the formatting)" \
  npm --prefix js run lint --silent
check "JS types (tsc --checkJs)" "fix the types above (js/src/types.js holds the traits and the header)" \
  npm --prefix js run typecheck --silent
check "JS unit tests" "see the failures above (cd js && npx vitest run)" npm --prefix js test --silent
python -m pytest "$@"
