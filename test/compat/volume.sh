#!/usr/bin/env bash
# Block-storage compatibility: Debian's real `openstack` client against a running Stratus.
#   STRATUS_URL=http://127.0.0.1:3000 OS_CLIENT_CONFIG_FILE=/etc/openstack/clouds.yaml test/compat/volume.sh
# Uses the `stratus-admin` cloud of that clouds.yaml (written by the seed): volume types,
# volumes (create/list/show/set/extend/delete), snapshots, backups with restore, attach
# and detach on a real guest, boot from volume (the root volume outlives its server),
# and the refusals (extend smaller, delete in-use, attach across projects, over quota)
# with Cinder/Nova-shaped 4xx bodies. Deletes everything it made, also on failure.
set -euo pipefail
STRATUS_URL=${STRATUS_URL:-http://127.0.0.1:3000}
export OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-/etc/openstack/clouds.yaml}
[ -r "$OS_CLIENT_CONFIG_FILE" ] || { echo "no clouds.yaml at $OS_CLIENT_CONFIG_FILE" >&2; exit 2; }
OS=/usr/bin/openstack
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
suffix="$$-$RANDOM"
TYPE="compat-type-$suffix"
V1="compat-v1-$suffix"
V2="compat-v2-$suffix"
V3="compat-v3-$suffix"
SNAP="compat-snap-$suffix"
BACKUP="compat-backup-$suffix"
BACKUP_INC="compat-backup-inc-$suffix"
BACKUP_C="compat-backup-c-$suffix"
BCONT="compat-bk-$suffix"
FLAVOR="compat-vol-flavor-$suffix"
VM="compat-vol-vm-$suffix"
BFV="compat-bfv-$suffix"
PROJECT="compat-vol-proj-$suffix"
USER="compat-vol-user-$suffix"
PW="pw-$suffix-$RANDOM"
IMAGE=${STRATUS_TEST_IMAGE_NAME:-stratus-test}
CREATED_IMAGE=""
BFV_VOL=""
OTHER_VOLS=()
LIMIT=${BOOT_LIMIT:-300}

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
admin() { "$OS" --os-cloud stratus-admin "$@"; }
other() {
  "$OS" --os-auth-url "$AUTH_URL" --os-username "$USER" --os-password "$PW" --os-project-name "$PROJECT" \
    --os-user-domain-name Default --os-project-domain-name Default --os-identity-api-version 3 "$@"
}
cleanup() {
  set +e
  step "cleanup"
  admin server delete --wait "$VM" >/dev/null 2>&1 && echo "    deleted server $VM"
  admin server delete --wait "$BFV" >/dev/null 2>&1 && echo "    deleted server $BFV"
  for v in "$V3" "$V2"; do admin volume delete "$v" >/dev/null 2>&1 && echo "    deleted volume $v"; done
  admin volume snapshot delete "$SNAP" >/dev/null 2>&1 && echo "    deleted snapshot $SNAP"
  for b in "$BACKUP_INC" "$BACKUP_C"; do admin volume backup delete "$b" >/dev/null 2>&1 && echo "    deleted backup $b"; done
  for i in $(seq 1 30); do admin volume backup show "$BACKUP_INC" >/dev/null 2>&1 || break; sleep 1; done
  admin volume backup delete "$BACKUP" >/dev/null 2>&1 && echo "    deleted backup $BACKUP"
  for i in $(seq 1 30); do admin volume snapshot show "$SNAP" >/dev/null 2>&1 || break; sleep 1; done
  admin volume delete "$V1" >/dev/null 2>&1 && echo "    deleted volume $V1"
  [ -n "$BFV_VOL" ] && admin volume delete "$BFV_VOL" >/dev/null 2>&1 && echo "    deleted volume $BFV_VOL"
  for v in "${OTHER_VOLS[@]}"; do admin volume delete "$v" >/dev/null 2>&1 && echo "    deleted volume $v"; done
  admin user delete "$USER" >/dev/null 2>&1 && echo "    deleted user $USER"
  admin project delete "$PROJECT" >/dev/null 2>&1 && echo "    deleted project $PROJECT"
  admin flavor delete "$FLAVOR" >/dev/null 2>&1 && echo "    deleted flavor $FLAVOR"
  for i in $(seq 1 30); do admin volume show "$V1" >/dev/null 2>&1 || break; sleep 1; done
  admin volume type delete "$TYPE" >/dev/null 2>&1 && echo "    deleted volume type $TYPE"
  [ -n "$CREATED_IMAGE" ] && admin image delete "$CREATED_IMAGE" >/dev/null 2>&1 && echo "    deleted image $CREATED_IMAGE"
}
trap cleanup EXIT

# wait_for KIND NAME STATUS: polls `openstack KIND show NAME` until its status is STATUS.
wait_for() {
  local kind=$1 name=$2 want=$3 s=""
  for _ in $(seq 1 "$LIMIT"); do
    # shellcheck disable=SC2086
    s=$(admin $kind show "$name" -f value -c status 2>/dev/null || true)
    [ "$s" = "$want" ] && return 0
    case "$s" in error*) fail "$kind $name went to $s" ;; esac
    sleep 1
  done
  fail "$kind $name is '$s', not $want"
}

TOKEN=$(admin token issue -f value -c id)
PROJECT_ID=$(admin token issue -f value -c project_id)
AUTH_URL=$(admin catalog show identity -f json | /usr/bin/python3 -c 'import json,sys; print([e["url"] for e in json.load(sys.stdin)["endpoints"] if e["interface"]=="public"][0]) ' 2>/dev/null ||
  echo "$STRATUS_URL/identity/v3")
API="$STRATUS_URL/volume/v3/$PROJECT_ID"
# call METHOD PATH [BODY]: prints the HTTP status, the body goes to /tmp/compat-vol-body.
call() {
  curl -s -o /tmp/compat-vol-body -w '%{http_code}' -X "$1" -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' \
    ${3:+-d "$3"} "$2"
}

step "version discovery: GET $STRATUS_URL/volume/ and /volume/v3/"
curl -s "$STRATUS_URL/volume/" | grep '"v3.0"' || fail "no v3.0 version document"
curl -fsS "$STRATUS_URL/volume/v3/" | grep '"min_version": *"3.0"' || fail "no v3 document"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'OpenStack-API-Version: volume 3.99' -H "X-Auth-Token: $TOKEN" "$API/volumes")
[ "$code" = 406 ] || fail "unsupported microversion answered $code, not 406"

step "openstack volume type create $TYPE / list"
admin volume type create --property volume_backend_name="${VOLUME_BACKEND_NAME:-file}" "$TYPE" -f value -c id
admin volume type list -f value -c Name | grep -x "$TYPE" || fail "type not listed"

step "openstack volume create --size 1 --type $TYPE $V1"
admin volume create --size 1 --type "$TYPE" --property purpose=compat "$V1" -f value -c id
wait_for volume "$V1" available
admin volume list -f value -c Name | grep -x "$V1" || fail "volume not listed"
admin volume show "$V1" -f value -c size | grep -x 1 || fail "size is not 1"

step "openstack volume set --name/--property/--bootable/--size 2"
admin volume set --property owner=compat --bootable --size 2 "$V1"
wait_for volume "$V1" available
[ "$(admin volume show "$V1" -f value -c size)" = 2 ] || fail "extend to 2 GB did not happen"
admin volume show "$V1" -f value -c properties | grep owner || fail "property not set"
admin volume show "$V1" -f value -c bootable | grep -x true || fail "not bootable"
V1_ID=$(admin volume show "$V1" -f value -c id)

step "bad input: extend smaller → 400 badRequest, size unchanged"
code=$(call POST "$API/volumes/$V1_ID/action" '{"os-extend":{"new_size":1}}')
[ "$code" = 400 ] || fail "extend smaller answered $code"
grep '"badRequest"' /tmp/compat-vol-body || fail "no Cinder error body"
if admin volume set --size 1 "$V1" 2>/tmp/compat-vol-err; then fail "CLI extend smaller succeeded"; fi
grep -iE "greater than|must be greater|larger" /tmp/compat-vol-err || fail "CLI did not show the reason"
[ "$(admin volume show "$V1" -f value -c size)" = 2 ] || fail "size changed"

step "openstack volume snapshot create --volume $V1 $SNAP / list; volume from snapshot"
admin volume snapshot create --volume "$V1" "$SNAP" -f value -c id
wait_for "volume snapshot" "$SNAP" available
admin volume snapshot list -f value -c Name | grep -x "$SNAP" || fail "snapshot not listed"
admin volume create --snapshot "$SNAP" "$V2" -f value -c id
wait_for volume "$V2" available
admin volume delete "$V2"
admin volume snapshot delete "$SNAP"

step "openstack volume backup create --name $BACKUP $V1, then --incremental; restore to a new volume $V3"
BACKUP_ID=$(admin volume backup create --name "$BACKUP" "$V1" -f value -c id)
wait_for "volume backup" "$BACKUP" available
[ "$(admin volume backup show "$BACKUP" -f value -c container)" = volumebackups ] || fail "default container is not volumebackups"
# Where it lives (a Stratus field; ./stratus up runs object servers) and 3.56's user_id.
[ "$(admin volume backup show "$BACKUP" -f value -c 'stratus:store')" = object ] || fail "backup not reported in the object store"
[ -n "$(admin --os-volume-api-version 3.56 volume backup show "$BACKUP" -f value -c user_id)" ] || fail "no user_id at 3.56"
wait_for volume "$V1" available
INC_ID=$(admin volume backup create --name "$BACKUP_INC" --incremental "$V1" -f value -c id)
wait_for "volume backup" "$BACKUP_INC" available
[ "$(admin volume backup show "$BACKUP_INC" -f value -c is_incremental)" = True ] || fail "backup is not incremental"
[ "$(admin volume backup show "$BACKUP" -f value -c has_dependent_backups)" = True ] || fail "full backup has no dependents"
# The chunks are objects in the owner's account (the object store is the default target when
# the cloud runs object servers, as ./stratus up does): `openstack object list volumebackups`.
admin object list volumebackups -f value -c Name >/tmp/compat-vol-objects
grep -x "$BACKUP_ID/metadata.json" /tmp/compat-vol-objects >/dev/null || fail "full backup's metadata object not listed"
grep -x "$INC_ID/metadata.json" /tmp/compat-vol-objects >/dev/null || fail "incremental's metadata object not listed"
# Cinder's rule: a backup with dependent incrementals cannot be deleted.
if admin volume backup delete "$BACKUP" 2>/tmp/compat-vol-err; then fail "deleted a backup with dependents"; fi
grep "Incremental backups exist" /tmp/compat-vol-err >/dev/null || fail "unexpected refusal: $(cat /tmp/compat-vol-err)"
# Our answer is Cinder's ({"restore": {backup_id, volume_id, volume_name}}, 202); OSC 6.0's
# RestoreVolumeBackup returns the client's Restore object where cliff wants (columns, data)
# and fails to print it ("cannot unpack non-iterable VolumeBackupsRestore object", python-
# openstackclient bug #2063335, fixed upstream in 2024): accept exactly that error, and
# check the restored volume itself.
if ! admin volume backup restore "$BACKUP_INC" "$V3" 2>/tmp/compat-vol-err; then
  grep "cannot unpack non-iterable VolumeBackupsRestore" /tmp/compat-vol-err || fail "restore failed: $(cat /tmp/compat-vol-err)"
fi
wait_for volume "$V3" available
[ "$(admin volume show "$V3" -f value -c size)" = 2 ] || fail "restored volume is not 2 GB"
wait_for "volume backup" "$BACKUP_INC" available

step "openstack volume backup create --container $BCONT; objects there; deletes empty it"
C_ID=$(admin volume backup create --name "$BACKUP_C" --container "$BCONT" "$V1" -f value -c id)
wait_for "volume backup" "$BACKUP_C" available
[ "$(admin volume backup show "$BACKUP_C" -f value -c container)" = "$BCONT" ] || fail "container not kept"
admin object list "$BCONT" -f value -c Name >/tmp/compat-vol-objects
grep -x "$C_ID/metadata.json" /tmp/compat-vol-objects >/dev/null || fail "backup not in container $BCONT"
for b in "$BACKUP_C" "$BACKUP_INC"; do
  admin volume backup delete "$b"
  for _ in $(seq 1 "$LIMIT"); do admin volume backup show "$b" >/dev/null 2>&1 || break; sleep 1; done
done
admin volume backup delete "$BACKUP"
for _ in $(seq 1 "$LIMIT"); do admin volume backup show "$BACKUP" >/dev/null 2>&1 || break; sleep 1; done
[ -z "$(admin object list "$BCONT" -f value -c Name)" ] || fail "objects left in $BCONT"
[ -z "$(admin object list volumebackups -f value -c Name | grep -e "^$BACKUP_ID/" -e "^$INC_ID/" || true)" ] ||
  fail "objects of deleted backups left in volumebackups"
admin container delete "$BCONT"
admin volume delete "$V3"

step "test image '$IMAGE', flavor $FLAVOR, server $VM"
if ! admin image show "$IMAGE" >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "image $IMAGE is missing and building it needs root"
  path=$("$HERE/images/build-test-image.sh" | tail -1)
  admin image create --file "$path" --disk-format qcow2 --container-format bare --public "$IMAGE" -f value -c id
  CREATED_IMAGE="$IMAGE"
fi
admin flavor create --ram 128 --disk 1 --vcpus 1 "$FLAVOR" -f value -c id
admin server create --image "$IMAGE" --flavor "$FLAVOR" --wait "$VM" -f value -c id

step "openstack server add volume $VM $V1"
admin server add volume "$VM" "$V1"
wait_for volume "$V1" in-use
admin volume show "$V1" -f json -c attachments | grep '/dev/vd' || fail "no device reported"
# Nova's os-extended-volumes:volumes_attached in the server body.
admin server show "$VM" -f value -c volumes_attached | grep "$V1_ID" || fail "server show lists no volumes_attached"

step "bad input: delete an in-use volume → 400, still in-use"
code=$(call DELETE "$API/volumes/$V1_ID")
[ "$code" = 400 ] || fail "delete in-use answered $code"
grep '"badRequest"' /tmp/compat-vol-body || fail "no Cinder error body"
[ "$(admin volume show "$V1" -f value -c status)" = in-use ] || fail "status changed"

step "openstack server remove volume $VM $V1"
admin server remove volume "$VM" "$V1"
wait_for volume "$V1" available
if admin server show "$VM" -f value -c volumes_attached | grep "$V1_ID"; then fail "a detached volume is still in volumes_attached"; fi

step "another project: attach to a server it cannot see → 404; over its volume quota → 413"
admin project create "$PROJECT" -f value -c id
admin user create --password "$PW" --project "$PROJECT" "$USER" -f value -c id
admin role add --project "$PROJECT" --user "$USER" member
OTHER_ID=$(admin project show "$PROJECT" -f value -c id)
admin quota set --volumes 1 "$PROJECT"
ov="compat-ov-$suffix"
OTHER_VOLS+=("$ov")
other volume create --size 1 "$ov" -f value -c id
for _ in $(seq 1 "$LIMIT"); do [ "$(other volume show "$ov" -f value -c status)" = available ] && break; sleep 1; done
if other server add volume "$VM" "$ov" 2>/tmp/compat-vol-err; then fail "attach to another project's server succeeded"; fi
grep -Ei "no server|not found|could not be found" /tmp/compat-vol-err || fail "unexpected attach error: $(cat /tmp/compat-vol-err)"
if other volume create --size 1 "compat-ov2-$suffix" 2>/tmp/compat-vol-err; then fail "over-quota create succeeded"; fi
grep -E "413|exceeded" /tmp/compat-vol-err || fail "no quota error: $(cat /tmp/compat-vol-err)"
OTHER_TOKEN=$(other token issue -f value -c id)
code=$(curl -s -o /tmp/compat-vol-body -w '%{http_code}' -X POST -H "X-Auth-Token: $OTHER_TOKEN" -H 'Content-Type: application/json' \
  -d '{"volume":{"size":1}}' "$STRATUS_URL/volume/v3/$OTHER_ID/volumes")
[ "$code" = 413 ] || fail "over quota answered $code"
grep '"overLimit"' /tmp/compat-vol-body || fail "no overLimit body"
[ "$(other volume list -f value -c ID | wc -l)" = 1 ] || fail "a refused create left a volume"
other volume delete "$ov"

step "openstack server create --boot-from-volume 1 --image $IMAGE $BFV; the volume outlives the server"
BFV_ID=$(admin server create --boot-from-volume 1 --image "$IMAGE" --flavor "$FLAVOR" --wait "$BFV" -f value -c id | tail -n1)
admin server show "$BFV" -f value -c image | grep -i "booted from volume" || fail "server shows an image"
BFV_VOL=$(admin volume list -f json --long | /usr/bin/python3 -c '
import json, sys
vm = sys.argv[1]
for v in json.load(sys.stdin):
    if any(a.get("server_id") == vm for a in v.get("Attached to") or []):
        print(v["ID"])' "$BFV_ID")
[ -n "$BFV_VOL" ] || fail "no volume attached to $BFV"
wait_for volume "$BFV_VOL" in-use
admin server show "$BFV" -f value -c volumes_attached | grep "$BFV_VOL" || fail "the boot volume is not in volumes_attached"
admin server delete --wait "$BFV"
wait_for volume "$BFV_VOL" available

step "openstack server create --volume $BFV_VOL (boot from an existing volume)"
admin server create --volume "$BFV_VOL" --flavor "$FLAVOR" --wait "$BFV" -f value -c id
wait_for volume "$BFV_VOL" in-use
admin server delete --wait "$BFV"
wait_for volume "$BFV_VOL" available

step "openstack volume delete $V1"
admin volume delete "$V1"
for _ in $(seq 1 "$LIMIT"); do admin volume show "$V1" >/dev/null 2>&1 || break; sleep 1; done
if admin volume show "$V1" >/dev/null 2>&1; then fail "volume still there"; fi
echo "volume compatibility: OK"
