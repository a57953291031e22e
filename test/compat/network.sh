#!/usr/bin/env bash
# Networking compatibility: Debian's real `openstack` client against a running Stratus.
#   STRATUS_URL=http://127.0.0.1:3000 OS_CLIENT_CONFIG_FILE=/etc/openstack/clouds.yaml test/compat/network.sh
# Uses the `stratus-admin` cloud of that clouds.yaml (written by the seed). It creates
# its own host-only external network (a random 10.x range, unless EXTERNAL_NET names an
# existing one such as `public`) and deletes everything it made at the end, also on failure.
set -euo pipefail
STRATUS_URL=${STRATUS_URL:-http://127.0.0.1:3000}
export OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-/etc/openstack/clouds.yaml}
[ -r "$OS_CLIENT_CONFIG_FILE" ] || { echo "no clouds.yaml at $OS_CLIENT_CONFIG_FILE" >&2; exit 2; }
OS=/usr/bin/openstack
suffix="$$-$RANDOM"
NET="compat-net-$suffix"
SUBNET="compat-subnet-$suffix"
ROUTER="compat-router-$suffix"
EXT="${EXTERNAL_NET:-}"
OWN_EXT=""
FIP=""
RULE=""
B=$((RANDOM % 100 + 100))

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
os() { "$OS" --os-cloud stratus-admin "$@"; }
cleanup() {
  set +e
  step "cleanup"
  [ -n "$RULE" ] && os security group rule delete "$RULE" >/dev/null 2>&1 && echo "    deleted rule $RULE"
  [ -n "$FIP" ] && os floating ip delete "$FIP" >/dev/null 2>&1 && echo "    deleted floating ip $FIP"
  os router unset --external-gateway "$ROUTER" >/dev/null 2>&1
  os router remove subnet "$ROUTER" "$SUBNET" >/dev/null 2>&1 && echo "    removed $SUBNET from $ROUTER"
  os router delete "$ROUTER" >/dev/null 2>&1 && echo "    deleted router $ROUTER"
  os subnet delete "$SUBNET" >/dev/null 2>&1 && echo "    deleted subnet $SUBNET"
  os network delete "$NET" >/dev/null 2>&1 && echo "    deleted network $NET"
  [ -n "$OWN_EXT" ] && os network delete "$OWN_EXT" >/dev/null 2>&1 && echo "    deleted network $OWN_EXT"
}
trap cleanup EXIT

step "discovery: GET $STRATUS_URL/network/ and /network/v2.0/"
curl -fsS "$STRATUS_URL/network/" | grep '"v2.0"' || fail "no v2.0 version document"
curl -fsS "$STRATUS_URL/network/v2.0/" | grep '"networks"' || fail "no resources document"

if [ -z "$EXT" ]; then
  OWN_EXT="compat-ext-$suffix"
  EXT="$OWN_EXT"
  step "openstack network create --external $EXT (host-only, 10.$B.250.0/24)"
  os network create --external "$EXT" -f value -c id
  os subnet create --network "$EXT" --subnet-range "10.$B.250.0/24" --no-dhcp "compat-ext-subnet-$suffix" -f value -c id
fi

step "openstack network create $NET"
os network create "$NET"
step "openstack subnet create --network $NET --subnet-range 10.$B.10.0/24 $SUBNET"
os subnet create --network "$NET" --subnet-range "10.$B.10.0/24" "$SUBNET"
[ "$(os subnet show "$SUBNET" -f value -c gateway_ip)" = "10.$B.10.1" ] || fail "unexpected gateway"

step "openstack router create $ROUTER"
os router create "$ROUTER"
step "openstack router add subnet $ROUTER $SUBNET"
os router add subnet "$ROUTER" "$SUBNET"
step "openstack router set --external-gateway $EXT $ROUTER"
os router set --external-gateway "$EXT" "$ROUTER"
os router show "$ROUTER" -f value -c external_gateway_info | grep "$(os network show "$EXT" -f value -c id)" || fail "gateway not set"

step "openstack floating ip create $EXT"
FIP=$(os floating ip create "$EXT" -f value -c id)
os floating ip show "$FIP"

step "openstack security group rule create --protocol tcp --dst-port 22 --remote-ip 0.0.0.0/0 default"
# An admin sees every project's `default` group: name the admin project's own.
PROJECT_ID=$(os token issue -f value -c project_id)
SG=$(os security group list --project "$PROJECT_ID" -f value -c ID -c Name | awk '$2 == "default" { print $1 }')
[ -n "$SG" ] || SG=default
RULE=$(os security group rule create --protocol tcp --dst-port 22 --remote-ip 0.0.0.0/0 "$SG" -f value -c id)
os security group rule show "$RULE" -f value -c port_range_min | grep -x 22 || fail "rule not stored"

step "listings"
os network list
os subnet list
os router list
os floating ip list
os port list --router "$ROUTER"

step "deletes"
os security group rule delete "$RULE" && RULE=""
os floating ip delete "$FIP" && FIP=""
os router unset --external-gateway "$ROUTER"
os router remove subnet "$ROUTER" "$SUBNET"
os router delete "$ROUTER"
os subnet delete "$SUBNET"
os network delete "$NET"
if [ -n "$OWN_EXT" ]; then os network delete "$OWN_EXT" && OWN_EXT=""; fi
os network show "$NET" >/dev/null 2>&1 && fail "network still there"

step "network compatibility: OK"
