#!/usr/bin/env bash
# Image data throughput: upload and download of a 1 GiB image over HTTP on loopback,
# side by side with `cp` of the same file on the same disk.
#   OS_CLIENT_CONFIG_FILE=/etc/openstack/clouds.yaml bench/image/run.sh [size_mib] [runs]
# IMAGE_ENDPOINT=http://127.0.0.1:PORT/image points it at another server with the same
# database (e.g. bench/image/server.ts started with STRATUS_IMAGE_HASH_ALGORITHM=sha256).
# Needs a running Stratus (./stratus up) and its clouds.yaml (cloud `stratus`). The test
# file is written next to the image store (the state dir), so that cp, the upload and
# the download all use the same disk. Prints MB/s (MiB/s) per run and the ratio to cp.
set -euo pipefail
SIZE_MIB=${1:-1024}
RUNS=${2:-3}
export OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-/etc/openstack/clouds.yaml}
STATE_DIR=${STRATUS_STATE_DIR:-/var/lib/stratus}
OS="/usr/bin/openstack --os-cloud stratus"
WORK=$(mktemp -d "$STATE_DIR/bench-image.XXXXXX")
IDS=()
cleanup() {
  for id in "${IDS[@]}"; do curl -s -o /dev/null -X DELETE -H "x-auth-token: $TOKEN" "$EP/v2/images/$id" || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

TOKEN=$($OS token issue -f value -c id)
EP=${IMAGE_ENDPOINT:-}
[ -n "$EP" ] || EP=$($OS catalog show image -f json | /usr/bin/python3 -c 'import json,sys; print([e["url"] for e in json.load(sys.stdin)["endpoints"] if e["interface"]=="public"][0])')
now() { date +%s.%N; }
# CPU seconds used by the server process (user + sys), a figure that does not depend on
# what else the machine is doing.
PORT=$(/usr/bin/python3 -c "import urllib.parse,sys; u=urllib.parse.urlparse('$EP'); print(u.port or 80)")
SERVER_PID=${SERVER_PID:-$(ss -ltnpH "sport = :$PORT" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)}
TCK=$(getconf CLK_TCK)
cpu() { [ -n "$SERVER_PID" ] && awk -v t="$TCK" '{printf "%.2f", ($14+$15)/t}' "/proc/$SERVER_PID/stat" || echo 0; }
rate() { /usr/bin/python3 -c "print(f'{$SIZE_MIB / ($2 - $1):.0f}')"; }

echo "image bench: server pid ${SERVER_PID:-?}, ${SIZE_MIB} MiB, $RUNS runs, endpoint $EP, files in $WORK ($(df --output=source "$WORK" | tail -1))"
head -c "${SIZE_MIB}M" /dev/urandom >"$WORK/src.raw"
sync
RESULTS="$WORK/results.txt"
for run in $(seq 1 "$RUNS"); do
  t0=$(now); cp "$WORK/src.raw" "$WORK/copy.raw"; t1=$(now); sync; t2=$(now)
  rm -f "$WORK/copy.raw"; sync
  id=$(curl -fsS -X POST -H "x-auth-token: $TOKEN" -H 'content-type: application/json' \
    -d "{\"name\":\"bench-$$-$run\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}" "$EP/v2/images" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  IDS+=("$id")
  c3=$(cpu); t3=$(now)
  curl -fsS -X PUT -H "x-auth-token: $TOKEN" -H 'content-type: application/octet-stream' -T "$WORK/src.raw" "$EP/v2/images/$id/file"
  t4=$(now); c4=$(cpu)
  curl -fsS -H "x-auth-token: $TOKEN" -o "$WORK/down.raw" "$EP/v2/images/$id/file"
  t5=$(now); c5=$(cpu)
  cmp "$WORK/src.raw" "$WORK/down.raw" || { echo "download differs" >&2; exit 1; }
  rm -f "$WORK/down.raw"
  curl -fsS -o /dev/null -X DELETE -H "x-auth-token: $TOKEN" "$EP/v2/images/$id"
  cp_rate=$(rate "$t0" "$t1"); cps_rate=$(rate "$t0" "$t2"); up=$(rate "$t3" "$t4"); down=$(rate "$t4" "$t5")
  echo "$cp_rate $cps_rate $up $down" >>"$RESULTS"
  /usr/bin/python3 -c "print(f'run $run: cp {$cp_rate} MB/s (cp+sync {$cps_rate}) | upload {$up} MB/s = {$up/$cp_rate:.2f}x cp, {$up/$cps_rate:.2f}x cp+sync | download {$down} MB/s = {$down/$cp_rate:.2f}x cp | server CPU-s/GiB: upload {($c4-$c3)*1024/$SIZE_MIB:.1f}, download {($c5-$c4)*1024/$SIZE_MIB:.1f} | load {open(\"/proc/loadavg\").read().split()[0]}')"
done
# Medians over the runs, and the median of the per-run ratios (each ratio is to the cp of its own run).
/usr/bin/python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
med = lambda xs: statistics.median(xs)
cp, cps, up, down = ([r[i] for r in rows] for i in range(4))
print(f"median of {len(rows)}: cp {med(cp):.0f} MB/s, cp+sync {med(cps):.0f} | upload {med(up):.0f} MB/s, ratio to cp {med([r[2]/r[0] for r in rows]):.2f} (to cp+sync {med([r[2]/r[1] for r in rows]):.2f}) | download {med(down):.0f} MB/s, ratio to cp {med([r[3]/r[0] for r in rows]):.2f}")
PY
