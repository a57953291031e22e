#!/usr/bin/env bash
# Image compatibility: Debian's real `openstack` client (SDK image proxy) against a running Stratus.
#   STRATUS_URL=http://127.0.0.1:3000 OS_CLIENT_CONFIG_FILE=/etc/openstack/clouds.yaml test/compat/image.sh
# Uses the `stratus` (demo project) and `stratus-admin` clouds of that clouds.yaml (written
# by the seed). Everything it creates carries a unique suffix and is deleted at the end,
# also on failure.
set -euo pipefail
export OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-/etc/openstack/clouds.yaml}
[ -r "$OS_CLIENT_CONFIG_FILE" ] || { echo "no clouds.yaml at $OS_CLIENT_CONFIG_FILE" >&2; exit 2; }
OS=/usr/bin/openstack
suffix="$$-$RANDOM"
NAME="compat-image-$suffix"
EVIL="compat-evil-$suffix"
WORK=$(mktemp -d /tmp/stratus-image-compat.XXXXXX)

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
demo() { "$OS" --os-cloud stratus "$@"; }
admin() { "$OS" --os-cloud stratus-admin "$@"; }
cleanup() {
  set +e
  step "cleanup"
  for n in "$NAME" "$EVIL"; do
    for id in $(demo image list --private -f value -c ID -c Name 2>/dev/null | awk -v n="$n" '$2 == n {print $1}') \
      $(demo image list -f value -c ID -c Name 2>/dev/null | awk -v n="$n" '$2 == n {print $1}'); do
      demo image delete "$id" >/dev/null 2>&1 && echo "    deleted image $id ($n)"
    done
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# The image endpoint from the catalog, for the unauthenticated discovery check.
IMAGE_URL=$(demo catalog show image -f json | /usr/bin/python3 -c 'import json,sys; print([e["url"] for e in json.load(sys.stdin)["endpoints"] if e["interface"]=="public"][0])')
step "version discovery: GET $IMAGE_URL (300)"
code=$(curl -s -o "$WORK/versions.json" -w '%{http_code}' "$IMAGE_URL")
[ "$code" = 300 ] || fail "GET $IMAGE_URL answered $code"
grep -q '"v2.16"' "$WORK/versions.json" || fail "no v2.16 in the versions document"
cat "$WORK/versions.json" | head -c 300; echo

step "make a small qcow2 with some data (qemu-img, qemu-io)"
F="$WORK/disk.qcow2"
qemu-img create -q -f qcow2 "$F" 64M
qemu-io -c "write -P 0x5a 0 3M" -c "write -P 0xa5 16M 1M" "$F" >/dev/null
ls -l "$F"
MD5=$(md5sum "$F" | cut -d' ' -f1)
SHA512=$(sha512sum "$F" | cut -d' ' -f1)
SIZE=$(stat -c %s "$F")

step "openstack image create --file $F --disk-format qcow2 --container-format bare $NAME"
demo image create --file "$F" --disk-format qcow2 --container-format bare "$NAME"

step "openstack image list"
demo image list
demo image list -f value -c Name | grep -x "$NAME" || fail "image list lacks $NAME"

step "openstack image show $NAME"
demo image show "$NAME"
demo image show "$NAME" -f json >"$WORK/show.json"
# OSC 6.0 prints attributes it does not know (os_hash_*) under "properties".
field() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$WORK/show.json')); p=d.get('properties') or {}; print(d['$1'] if '$1' in d else p.get('$1'))"; }
[ "$(field status)" = active ] || fail "status is $(field status), not active"
[ "$(field checksum)" = "$MD5" ] || fail "checksum $(field checksum) != md5sum $MD5"
[ "$(field os_hash_algo)" = sha512 ] || fail "os_hash_algo is $(field os_hash_algo)"
[ "$(field os_hash_value)" = "$SHA512" ] || fail "os_hash_value != sha512sum"
[ "$(field size)" = "$SIZE" ] || fail "size $(field size) != $SIZE"
[ "$(field virtual_size)" = $((64 * 1024 * 1024)) ] || fail "virtual_size $(field virtual_size) != 64 MiB"
echo "    checksum = md5sum, os_hash_value = sha512sum, size and virtual_size right"

step "openstack image set --property os_distro=x $NAME"
demo image set --property os_distro=x "$NAME"
demo image show "$NAME" -f json | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); p=d.get("properties") or {}; v=p.get("os_distro", d.get("os_distro")); print("    os_distro =", v); sys.exit(0 if v == "x" else 1)' \
  || fail "os_distro not set"

step "openstack image save --file OUT $NAME; cmp with the original"
demo image save --file "$WORK/out.qcow2" "$NAME"
cmp "$F" "$WORK/out.qcow2" || fail "downloaded data differs"
[ "$(md5sum <"$WORK/out.qcow2" | cut -d' ' -f1)" = "$MD5" ] || fail "md5 of the download differs"
[ "$(sha512sum <"$WORK/out.qcow2" | cut -d' ' -f1)" = "$SHA512" ] || fail "sha512 of the download differs"
echo "    identical ($SIZE bytes)"

ADMIN_PROJECT=$(admin token issue -f value -c project_id)
step "openstack image add project $NAME $ADMIN_PROJECT (members)"
demo image add project "$NAME" "$ADMIN_PROJECT"
demo image member list "$NAME"
demo image member list "$NAME" -f value -c "Member ID" -c Status | grep "^$ADMIN_PROJECT pending$" || fail "member not pending"
step "as the member: openstack image set --accept $NAME"
IMAGE_ID=$(field id)
admin image set --accept "$IMAGE_ID"
demo image member list "$NAME" -f value -c "Member ID" -c Status | grep "^$ADMIN_PROJECT accepted$" || fail "member not accepted"
echo "    accepted"
step "openstack image remove project $NAME $ADMIN_PROJECT"
demo image remove project "$NAME" "$ADMIN_PROJECT"
[ -z "$(demo image member list "$NAME" -f value -c 'Member ID')" ] || fail "member still listed"

step "a qcow2 whose backing file is /etc/passwd is refused (400) and nothing is stored"
qemu-img create -q -f qcow2 -b /etc/passwd -F raw "$WORK/evil.qcow2"
if demo image create --file "$WORK/evil.qcow2" --disk-format qcow2 --container-format bare "$EVIL" >"$WORK/evil.out" 2>&1; then
  cat "$WORK/evil.out"; fail "the backing-file image was accepted"
fi
sed 's/^/    /' "$WORK/evil.out" | tail -3
grep -qi 'backing file' "$WORK/evil.out" || fail "the refusal does not say why"
evil_status=$(demo image show "$EVIL" -f value -c status 2>/dev/null || echo none)
echo "    $EVIL status: $evil_status"
[ "$evil_status" != active ] || fail "the backing-file image became active"

step "openstack image delete $NAME"
demo image delete "$NAME"
if demo image show "$NAME" >/dev/null 2>&1; then fail "image still shown after delete"; fi
echo "    gone"

step "image compatibility: OK"
