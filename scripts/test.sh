#!/usr/bin/env bash
# Runs every test layer: lint, types, unit, integration, system (root on Linux),
# compatibility (real openstack CLI) and end-to-end (Playwright in Debian's Chromium)
# against a stack started with ./stratus up in a temporary state directory.
# Usage: scripts/test.sh [layer...]   layers: lint types unit integration system compat e2e
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
layers=("$@")
[ ${#layers[@]} -gt 0 ] || layers=(lint types unit integration system compat e2e)
failed=()
passed=()
want() { local l; for l in "${layers[@]}"; do [ "$l" = "$1" ] && return 0; done; return 1; }
run() { # name command...
  local name=$1; shift
  printf '\n\033[1;34m==> %s\033[0m\n' "$name"
  local t0=$SECONDS
  if "$@"; then passed+=("$name"); echo "    $name: ok ($((SECONDS - t0)) s)"
  else failed+=("$name"); echo "    $name: FAILED ($((SECONDS - t0)) s)"; fi
}

want lint && run lint npx --no-install biome lint .
if want types; then
  for p in packages/db packages/core apps/worker apps/web .; do run "types $p" npx --no-install tsc -p "$p/tsconfig.json"; done
fi
want unit && run unit npx --no-install vitest run --project unit
want integration && run integration npx --no-install vitest run --project integration
if want system; then
  if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ]; then run system npx --no-install vitest run --project system --passWithNoTests
  else echo "system tests need root on Linux: not run"; fi
fi

# compat and e2e need a running stack: their own state dir and ports.
if want compat || want e2e; then
  STACK=$(mktemp -d /tmp/stratus-test-XXXXXX)
  chmod 711 "$STACK" # the embedded PostgreSQL runs as user postgres
  export STRATUS_STATE_DIR=$STACK STRATUS_WEB_PORT=${TEST_WEB_PORT:-3190} STRATUS_PG_PORT=${TEST_PG_PORT:-5490} STRATUS_HOST=stratus-test
  export STRATUS_CONSOLE_PROXY_PORT=${TEST_CONSOLE_PORT:-6190}
  export STRATUS_OBJECT_SERVER_PORT=${TEST_OBJECT_PORT:-6390}
  # Its own dataplane marker: the sync job must never touch a running cloud's networks.
  export STRATUS_NETWORK_MARKER=stratustest
  export STRATUS_CLOUDS_YAML=$STACK/clouds.yaml STRATUS_PUBLIC_URL=http://127.0.0.1:$STRATUS_WEB_PORT
  export STRATUS_URL=http://127.0.0.1:$STRATUS_WEB_PORT OS_CLIENT_CONFIG_FILE=$STACK/clouds.yaml
  stop_stack() { ./stratus purge >/dev/null 2>&1; rm -rf "$STACK"; }
  trap stop_stack EXIT
  run "stack up" ./stratus up
  if [[ " ${failed[*]} " != *" stack up "* ]]; then
    if want compat; then
      for t in test/compat/*.sh; do [ -e "$t" ] && run "compat $(basename "$t" .sh)" bash "$t"; done
    fi
    want e2e && run e2e npx --no-install playwright test
  else
    tail -n 40 "$STACK"/logs/*.log
  fi
fi

echo
echo "layers passed: ${passed[*]:-none}"
[ ${#failed[@]} -eq 0 ] || { echo "layers FAILED: ${failed[*]}"; echo "${#passed[@]} passed, ${#failed[@]} failed"; exit 1; }
echo "${#passed[@]} passed, 0 failed"
