#!/usr/bin/env bash
# Compute compatibility: Debian's real `openstack` client against a running Stratus.
#   STRATUS_URL=http://127.0.0.1:3000 OS_CLIENT_CONFIG_FILE=/etc/openstack/clouds.yaml test/compat/compute.sh
# Uses the `stratus-admin` cloud of that clouds.yaml (written by the seed). Registers the
# test guest image (images/build-test-image.sh, needs root) through the image API when
# it is not there yet, boots one server (one guest at a time), and deletes everything it
# created at the end, also on failure.
set -euo pipefail
STRATUS_URL=${STRATUS_URL:-http://127.0.0.1:3000}
export OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-/etc/openstack/clouds.yaml}
[ -r "$OS_CLIENT_CONFIG_FILE" ] || { echo "no clouds.yaml at $OS_CLIENT_CONFIG_FILE" >&2; exit 2; }
OS=/usr/bin/openstack
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
suffix="$$-$RANDOM"
FLAVOR="ci.tiny-$suffix"
FLAVOR2="ci.small-$suffix"
KEY="k-$suffix"
VM="vm1-$suffix"
AGG="agg-$suffix"
ZONE="az-$suffix"
HOST=""
FORCED=""
IMAGE=${STRATUS_TEST_IMAGE_NAME:-stratus-test}
CREATED_IMAGE=""
BOOT_LIMIT=${BOOT_LIMIT:-300}

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
admin() { "$OS" --os-cloud stratus-admin "$@"; }
cleanup() {
  set +e
  step "cleanup"
  [ -n "$FORCED" ] && admin compute service set --up "$FORCED" nova-compute >/dev/null 2>&1 && echo "    unset forced_down on $FORCED"
  admin server delete --wait "$VM" >/dev/null 2>&1 && echo "    deleted server $VM"
  [ -n "$HOST" ] && admin aggregate remove host "$AGG" "$HOST" >/dev/null 2>&1 && echo "    removed $HOST from $AGG"
  admin aggregate delete "$AGG" >/dev/null 2>&1 && echo "    deleted aggregate $AGG"
  admin keypair delete "$KEY" >/dev/null 2>&1 && echo "    deleted keypair $KEY"
  admin flavor delete "$FLAVOR" >/dev/null 2>&1 && echo "    deleted flavor $FLAVOR"
  admin flavor delete "$FLAVOR2" >/dev/null 2>&1 && echo "    deleted flavor $FLAVOR2"
  [ -n "$CREATED_IMAGE" ] && admin image delete "$CREATED_IMAGE" >/dev/null 2>&1 && echo "    deleted image $CREATED_IMAGE"
  rm -f "/tmp/$KEY.pem"
}
trap cleanup EXIT

step "version discovery: GET $STRATUS_URL/compute/v2.1"
curl -fsS "$STRATUS_URL/compute/v2.1" | grep '"min_version": *"2.1"' || fail "no compute version document"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-OpenStack-Nova-API-Version: 2.99' "$STRATUS_URL/compute/v2.1/")
[ "$code" = 406 ] || fail "unsupported microversion answered $code, not 406"

step "test image '$IMAGE'"
if ! admin image show "$IMAGE" >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "image $IMAGE is missing and building it needs root"
  path=$("$HERE/images/build-test-image.sh" | tail -1)
  echo "    openstack image create --file $path --disk-format qcow2 --container-format bare --public $IMAGE"
  admin image create --file "$path" --disk-format qcow2 --container-format bare --public "$IMAGE" -f value -c id
  CREATED_IMAGE="$IMAGE"
fi
admin image show "$IMAGE" -f value -c status | grep -x active || fail "image $IMAGE is not active"

step "openstack flavor create --ram 128 --disk 1 --vcpus 1 $FLAVOR"
admin flavor create --ram 128 --disk 1 --vcpus 1 "$FLAVOR"

step "openstack flavor list"
admin flavor list -f value -c Name | grep -x "$FLAVOR" || fail "flavor list lacks $FLAVOR"

step "openstack keypair create $KEY (server generates the key)"
admin keypair create "$KEY" >"/tmp/$KEY.pem"
grep -q 'PRIVATE KEY' "/tmp/$KEY.pem" || fail "no private key returned"
admin keypair list -f value -c Name | grep -x "$KEY" || fail "keypair list lacks $KEY"

step "openstack aggregate create --zone $ZONE $AGG"
admin aggregate create --zone "$ZONE" "$AGG" -f value -c availability_zone | tee -a /dev/stderr | grep -x "$ZONE" \
  || fail "aggregate $AGG not in zone $ZONE"
HOST=$(admin compute service list --service nova-compute -f value -c Host | head -1)
[ -n "$HOST" ] || fail "no nova-compute service listed"

step "openstack aggregate add host $AGG $HOST"
admin aggregate add host "$AGG" "$HOST" -f value -c hosts | tee -a /dev/stderr | grep -F "$HOST" || fail "$HOST not in $AGG"

step "openstack aggregate set --property ssd=true $AGG"
admin aggregate set --property ssd=true "$AGG"
admin aggregate show "$AGG" -f value -c properties | tee -a /dev/stderr | grep -F "ssd" || fail "property not set"
admin aggregate list -f value -c Name -c "Availability Zone" | grep -x "$AGG $ZONE" || fail "aggregate list lacks $AGG"

step "openstack availability zone list"
admin availability zone list -f value -c "Zone Name" -c "Zone Status" | tee -a /dev/stderr | grep -x "$ZONE available" \
  || fail "zone $ZONE not listed as available"
admin compute service list --service nova-compute -f value -c Host -c Zone | grep -x "$HOST $ZONE" \
  || fail "the compute service of $HOST is not in $ZONE"

step "openstack server create --image $IMAGE --flavor $FLAVOR --key-name $KEY --availability-zone $ZONE --wait $VM"
t0=$(date +%s)
admin server create --image "$IMAGE" --flavor "$FLAVOR" --key-name "$KEY" --availability-zone "$ZONE" --wait "$VM" \
  -f value -c status | tee -a /dev/stderr | grep -x ACTIVE || fail "server did not become ACTIVE"
admin server show "$VM" -f value -c OS-EXT-AZ:availability_zone | grep -x "$ZONE" || fail "$VM is not in $ZONE"
echo "    ACTIVE after $(( $(date +%s) - t0 )) s"

step "openstack server list / show"
admin server list -f value -c Name -c Status | grep "^$VM ACTIVE$" || fail "server list lacks $VM ACTIVE"
admin server show "$VM" -f value -c status -c OS-EXT-STS:vm_state -c OS-EXT-SRV-ATTR:host

step "openstack console log show $VM (waiting for STRATUS-BOOT-OK)"
deadline=$(( $(date +%s) + BOOT_LIMIT ))
until admin console log show "$VM" | grep STRATUS-BOOT-OK; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "no STRATUS-BOOT-OK in the console log after ${BOOT_LIMIT}s"
  sleep 3
done
admin console log show --lines 5 "$VM"

step "openstack console url show --novnc $VM (the URL opens the console page)"
URL=$(admin console url show --novnc "$VM" -f value -c url)
echo "    $URL"
case "$URL" in "$STRATUS_URL"/console/vnc\?token=*) ;; *) fail "unexpected console URL $URL" ;; esac
curl -fsS -o /dev/null "$URL" || fail "the console page did not load"

wait_status() {
  local want=$1 deadline=$(( $(date +%s) + BOOT_LIMIT ))
  until [ "$(admin server show "$VM" -f value -c status)" = "$want" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "$VM did not reach $want"
    sleep 2
  done
  echo "    $VM is $want"
}

step "openstack server stop $VM"
admin server stop "$VM"
wait_status SHUTOFF

step "openstack server start $VM"
admin server start "$VM"
wait_status ACTIVE

step "openstack server reboot $VM"
admin server reboot "$VM"
wait_status ACTIVE

step "openstack server rebuild --image $IMAGE --wait $VM (root disk made again, boots to the banner)"
admin server rebuild --image "$IMAGE" --wait "$VM" >/dev/null
wait_status ACTIVE
deadline=$(( $(date +%s) + BOOT_LIMIT ))
until admin console log show "$VM" | grep STRATUS-BOOT-OK; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "no STRATUS-BOOT-OK after the rebuild"
  sleep 3
done
admin server event list "$VM" -f value -c Action | grep -x rebuild || fail "no rebuild instance action"

step "openstack flavor create --ram 192 --disk 2 --vcpus 2 $FLAVOR2; openstack server resize --flavor $FLAVOR2 --wait $VM"
admin flavor create --ram 192 --disk 2 --vcpus 2 "$FLAVOR2" >/dev/null
admin server resize --flavor "$FLAVOR2" --wait "$VM"
wait_status VERIFY_RESIZE
admin server show "$VM" -f value -c flavor | tee -a /dev/stderr | grep -F "$FLAVOR2" || fail "$VM does not show $FLAVOR2"

step "openstack server resize revert $VM"
admin server resize revert "$VM"
wait_status ACTIVE
admin server show "$VM" -f value -c flavor | tee -a /dev/stderr | grep -F "$FLAVOR" | grep -vF "$FLAVOR2" \
  || fail "$VM is not back on $FLAVOR"

step "openstack server resize --flavor $FLAVOR2 --wait $VM; openstack server resize confirm $VM"
admin server resize --flavor "$FLAVOR2" --wait "$VM"
wait_status VERIFY_RESIZE
admin server resize confirm "$VM"
wait_status ACTIVE
admin server show "$VM" -f value -c flavor | grep -F "$FLAVOR2" || fail "$VM did not keep $FLAVOR2"

step "openstack server migrate $VM (one compute host: no valid host, 400, nothing changes)"
if out=$(admin server migrate "$VM" 2>&1); then fail "migrate on a single host was accepted: $out"; fi
echo "    $out"
case "$out" in *"No valid host"*"(HTTP 400)"*) ;; *) fail "unexpected migrate refusal: $out" ;; esac
admin server show "$VM" -f value -c status -c OS-EXT-SRV-ATTR:host | tr '\n' ' ' | tee -a /dev/stderr \
  | grep -x "$HOST ACTIVE " || fail "$VM changed after a refused migrate"

step "openstack server migration list --server $VM (GET /os-migrations: the two resizes, no record of the refused migrate)"
migs=$(admin --os-compute-api-version 2.59 server migration list --server "$VM" -f value -c Status -c Type -c "Source Compute" \
  | sort | tr '\n' ';')
echo "    $migs"
[ "$migs" = "$HOST confirmed resize;$HOST reverted resize;" ] || fail "unexpected migrations of $VM: $migs"
admin server migration list --server "$VM" --status confirmed -f value -c Status | tee -a /dev/stderr \
  | grep -x confirmed || fail "no confirmed migration of $VM with --status confirmed"
[ "$(admin --os-compute-api-version 2.59 server migration list --server "$VM" --limit 1 -f value -c Status)" = confirmed ] \
  || fail "the newest migration of $VM is not the confirmed resize"

step "openstack compute service set --down $HOST nova-compute (forced_down, 2.53 PUT /os-services/{id})"
FORCED=$HOST
admin compute service set --down "$HOST" nova-compute
admin compute service list --long --service nova-compute -f value -c Host -c State -c "Forced Down" \
  | tee -a /dev/stderr | grep -x "$HOST down True" || fail "$HOST is not forced down"
admin hypervisor list -f value -c "Hypervisor Hostname" -c State | grep -E "^$HOST down$" \
  || fail "the hypervisor of $HOST is not down"
step "openstack compute service set --up $HOST nova-compute"
admin compute service set --up "$HOST" nova-compute
admin compute service list --long --service nova-compute -f value -c Host -c State -c "Forced Down" \
  | tee -a /dev/stderr | grep -x "$HOST up False" || fail "$HOST is still forced down"

step "openstack --os-compute-api-version 2.11 compute service set --down / --up (PUT /os-services/force-down)"
admin --os-compute-api-version 2.11 compute service set --down "$HOST" nova-compute
admin compute service list --long --service nova-compute -f value -c Host -c "Forced Down" | grep -x "$HOST True" \
  || fail "2.11: $HOST is not forced down"
admin --os-compute-api-version 2.11 compute service set --up "$HOST" nova-compute
admin compute service list --long --service nova-compute -f value -c Host -c "Forced Down" | grep -x "$HOST False" \
  || fail "2.11: $HOST is still forced down"
FORCED=""

step "forced_down refusals: a scheduler service, a malformed body (400, nothing changes)"
# The client only says "Failed to set service state to down"; the API's answer is checked below.
if out=$(admin compute service set --down "$HOST" nova-scheduler 2>&1); then fail "forcing nova-scheduler down was accepted"; fi
echo "    $out"
TOKEN=$(admin token issue -f value -c id)
put_service() { # <service id> <json body> → HTTP status; the body is printed
  local out="/tmp/compat-svc-$suffix.json" code
  code=$(curl -s -o "$out" -w '%{http_code}' -X PUT -H "X-Auth-Token: $TOKEN" \
    -H 'OpenStack-API-Version: compute 2.53' -H 'Content-Type: application/json' \
    -d "$2" "$STRATUS_URL/compute/v2.1/os-services/$1")
  printf '    %s → %s %s\n' "$2" "$code" "$(cat "$out")" >&2
  rm -f "$out"
  echo "$code"
}
SCHED=$(admin compute service list --service nova-scheduler --host "$HOST" -f value -c ID)
[ -n "$SCHED" ] || fail "no nova-scheduler service on $HOST"
[ "$(put_service "$SCHED" '{"forced_down": true}')" = 400 ] || fail "forced_down on nova-scheduler was not 400"
SVC=$(admin compute service list --service nova-compute --host "$HOST" -f value -c ID)
[ "$(put_service "$SVC" '{"forced_down": "yes"}')" = 400 ] || fail "a malformed forced_down was not 400"
[ "$(put_service "$SVC" '{}')" = 400 ] || fail "an empty update was not 400"
admin compute service list --long --host "$HOST" -f value -c Binary -c State -c "Forced Down" | tee -a /dev/stderr \
  | grep -c " up False$" | grep -x 3 || fail "services of $HOST changed after refused updates"

step "openstack server delete --wait $VM"
admin server delete --wait "$VM"
admin server list -f value -c Name | grep -x "$VM" && fail "$VM still listed"

printf '\nOK: compute compatibility flow passed\n'
