#!/usr/bin/env bash
# Fresh clone → dashboard reachable: clones this repository's HEAD into a temp dir and
# times `./stratus up` (npm install, Node LTS install if needed, build, embedded
# PostgreSQL init, migrations, seed, start) until /readyz answers, then a second
# `./stratus up` on the running cloud (the idempotent re-run). Cleans up afterwards.
# Usage (root): bench/startup.sh            Debian packages are assumed installed.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/stratus-bench-startup-XXXXXX)
chmod 711 "$WORK" # the embedded PostgreSQL runs as user postgres
export STRATUS_STATE_DIR=$WORK/state STRATUS_WEB_PORT=${PORT:-3290} STRATUS_PG_PORT=${PG_PORT:-5590} STRATUS_HOST=bench-startup
export STRATUS_CLOUDS_YAML=$WORK/clouds.yaml STRATUS_NETWORK_MARKER=benchstart STRATUS_CONSOLE_PROXY_PORT=6290
cleanup() { (cd "$WORK/clone" 2>/dev/null && ./stratus purge >/dev/null 2>&1) || true; rm -rf "$WORK"; }
trap cleanup EXIT
git clone -q "$SRC" "$WORK/clone"
cd "$WORK/clone"
t0=$(date +%s.%N)
./stratus up >"$WORK/up1.log" 2>&1 || { tail -30 "$WORK/up1.log"; exit 1; }
t1=$(date +%s.%N)
curl -fsS "http://127.0.0.1:$STRATUS_WEB_PORT/" >/dev/null
./stratus up >"$WORK/up2.log" 2>&1
t2=$(date +%s.%N)
printf 'fresh clone -> dashboard ready: %.1f s\nre-run on a running cloud:      %.1f s\n' "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
