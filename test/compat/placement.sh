#!/usr/bin/env bash
# Placement compatibility: Debian's `openstack` client with osc-placement 4 against a running Stratus.
#   STRATUS_URL=http://127.0.0.1:3000 OS_CLIENT_CONFIG_FILE=/etc/openstack/clouds.yaml test/compat/placement.sh
# Needs python3-osc-placement (apt). Uses the `stratus-admin` cloud of that clouds.yaml.
# osc-placement negotiates its microversion (GET /placement with 1.29, then the 406's
# max_version). Everything it creates carries a unique suffix and is deleted at the end.
set -euo pipefail
STRATUS_URL=${STRATUS_URL:-http://127.0.0.1:3000}
export OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-/etc/openstack/clouds.yaml}
[ -r "$OS_CLIENT_CONFIG_FILE" ] || { echo "no clouds.yaml at $OS_CLIENT_CONFIG_FILE" >&2; exit 2; }
[ -d /usr/lib/python3/dist-packages/osc_placement ] || { echo "python3-osc-placement is not installed (apt-get install -y python3-osc-placement)" >&2; exit 2; }
OS=/usr/bin/openstack
suffix="$$-$RANDOM"
RP="compat-rp-$suffix"
RP_UUID=""

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
admin() { "$OS" --os-cloud stratus-admin "$@"; }
cleanup() {
  set +e
  step "cleanup"
  [ -n "$RP_UUID" ] && admin resource provider delete "$RP_UUID" >/dev/null 2>&1 && echo "    deleted resource provider $RP"
}
trap cleanup EXIT

step "version discovery: GET $STRATUS_URL/placement/ (no token) and microversion negotiation"
curl -fsS "$STRATUS_URL/placement/" | grep '"CURRENT"' || fail "no placement version document"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'OpenStack-API-Version: placement 9.99' "$STRATUS_URL/placement/")
[ "$code" = 406 ] || fail "unsupported microversion answered $code, expected 406"
echo "    GET /placement/ → 200; placement 9.99 → 406"

step "openstack resource provider create $RP"
RP_UUID=$(admin resource provider create "$RP" -f value -c uuid)
[ -n "$RP_UUID" ] || fail "no uuid returned"
echo "    uuid $RP_UUID"

step "openstack resource provider list / show"
admin resource provider list -f value -c name | grep -x "$RP" || fail "$RP not listed"
admin resource provider list --name "$RP" -f value -c uuid | grep -x "$RP_UUID" || fail "--name filter did not find $RP"
[ "$(admin resource provider show "$RP_UUID" -f value -c name)" = "$RP" ] || fail "show returned another name"
admin resource provider show "$RP_UUID"

step "openstack resource provider inventory set $RP_UUID --resource VCPU=8 --resource MEMORY_MB=4096 --resource DISK_GB=100"
admin resource provider inventory set "$RP_UUID" --resource VCPU=8 --resource MEMORY_MB=4096 --resource MEMORY_MB:reserved=512 --resource DISK_GB=100
admin resource provider inventory list "$RP_UUID"
[ "$(admin resource provider inventory show "$RP_UUID" VCPU -f value -c total)" = 8 ] || fail "VCPU total is not 8"

step "openstack allocation candidate list --resource VCPU=1 --resource MEMORY_MB=512"
out=$(admin allocation candidate list --resource VCPU=1 --resource MEMORY_MB=512 --limit 1000 -f value)
echo "$out" | grep "$RP_UUID" || fail "$RP is not an allocation candidate"
echo "$out" | grep "$RP_UUID" | head -1 | sed 's/^/    /'

step "openstack resource provider allocation set/show/delete (a consumer of VCPU=2)"
CONSUMER=$(cat /proc/sys/kernel/random/uuid)
admin resource provider allocation set "$CONSUMER" --project-id compat-project --user-id compat-user \
  --allocation "rp=$RP_UUID,VCPU=2,MEMORY_MB=1024" >/dev/null
admin resource provider allocation show "$CONSUMER" -f value | grep "$RP_UUID" || fail "allocation not shown"
admin resource provider usage show "$RP_UUID" -f value | grep '^VCPU 2$' || fail "usage of VCPU is not 2"
if admin resource provider delete "$RP_UUID" >/dev/null 2>&1; then fail "a provider with allocations was deleted"; fi
echo "    provider in use → delete refused (409)"
admin resource provider allocation delete "$CONSUMER"

step "openstack resource provider trait set / aggregate set"
admin resource provider trait set "$RP_UUID" --trait HW_CPU_X86_AVX2 >/dev/null
admin resource provider trait list "$RP_UUID" -f value | grep -x HW_CPU_X86_AVX2 || fail "trait not set"
AGG=$(cat /proc/sys/kernel/random/uuid)
admin resource provider aggregate set "$RP_UUID" --aggregate "$AGG" --generation "$(admin resource provider show "$RP_UUID" -f value -c generation)" >/dev/null
admin resource provider list --member-of "$AGG" -f value -c uuid | grep -x "$RP_UUID" || fail "member_of filter did not find $RP"

step "openstack resource provider delete $RP_UUID"
admin resource provider delete "$RP_UUID"
if admin resource provider show "$RP_UUID" >/dev/null 2>&1; then fail "provider still exists"; fi
RP_UUID=""
trap - EXIT
printf '\nplacement compatibility: OK\n'
