#!/usr/bin/env bash
# S3 compatibility: Debian's real `aws` (awscli) against a running Stratus's S3 API, with
# EC2 credentials made by Debian's `openstack ec2 credentials create`.
#   STRATUS_URL=http://127.0.0.1:3000 OS_CLIENT_CONFIG_FILE=/etc/openstack/clouds.yaml test/compat/s3.sh
# Uses the `stratus` (demo project) and `stratus-admin` clouds; the admin makes a second
# project with a member user (an admin may read every project, so it is not "another
# project" for the isolation check) and EC2 credentials for that user. Makes a
# bucket, uploads a SIZE_MIB (default 20) file (aws multipart: 8 MiB parts), lists it,
# downloads it byte-identical, checks a wrong secret (SignatureDoesNotMatch) and another
# project's credentials (AccessDenied), then deletes everything, also on failure.
set -euo pipefail
export OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-/etc/openstack/clouds.yaml}
[ -r "$OS_CLIENT_CONFIG_FILE" ] || { echo "no clouds.yaml at $OS_CLIENT_CONFIG_FILE" >&2; exit 2; }
STRATUS_URL=${STRATUS_URL:-${STRATUS_PUBLIC_URL:-http://127.0.0.1:3000}}
OS=/usr/bin/openstack
AWS=/usr/bin/aws
[ -x "$AWS" ] || { echo "Debian's awscli is not installed ($AWS)" >&2; exit 2; }
SIZE_MIB=${SIZE_MIB:-20}
suffix="$$-$RANDOM"
B="compat-s3-$suffix"
P2="compat-s3-p-$suffix"
U2="compat-s3-u-$suffix"
WORK=$(mktemp -d /tmp/stratus-s3-compat.XXXXXX)
ENDPOINT="$STRATUS_URL/s3"

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
demo() { "$OS" --os-cloud stratus "$@"; }
admin() { "$OS" --os-cloud stratus-admin "$@"; }

cat >"$WORK/config" <<CFG
[default]
region = us-east-1
s3 =
    addressing_style = path
CFG
export AWS_CONFIG_FILE="$WORK/config" AWS_SHARED_CREDENTIALS_FILE="$WORK/credentials" AWS_PAGER=""
# aws as the demo project (or with the access/secret given as $1 $2).
s3as() {
  local access=$1 secret=$2
  shift 2
  AWS_ACCESS_KEY_ID=$access AWS_SECRET_ACCESS_KEY=$secret "$AWS" --endpoint-url "$ENDPOINT" "$@"
}

DEMO_ACCESS="" ADMIN_ACCESS=""
cleanup() {
  set +e
  if [ -n "$DEMO_ACCESS" ]; then
    s3as "$DEMO_ACCESS" "$DEMO_SECRET" s3 rb "s3://$B" --force >/dev/null 2>&1
    demo ec2 credentials delete "$DEMO_ACCESS" >/dev/null 2>&1
  fi
  [ -n "$ADMIN_ACCESS" ] && admin ec2 credentials delete --user "$U2" "$ADMIN_ACCESS" >/dev/null 2>&1
  admin user delete "$U2" >/dev/null 2>&1
  admin project delete "$P2" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

field() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

step "openstack ec2 credentials create (demo project; a member of another project)"
cred=$(demo ec2 credentials create -f json)
DEMO_ACCESS=$(field access <<<"$cred")
DEMO_SECRET=$(field secret <<<"$cred")
admin project create "$P2" >/dev/null
admin user create --project "$P2" --password "pw-$suffix" "$U2" >/dev/null
admin role add --project "$P2" --user "$U2" member
cred=$(admin ec2 credentials create --user "$U2" --project "$P2" -f json)
ADMIN_ACCESS=$(field access <<<"$cred")
ADMIN_SECRET=$(field secret <<<"$cred")
demo ec2 credentials list -f value -c Access >"$WORK/list"
grep -qx "$DEMO_ACCESS" "$WORK/list" || fail "ec2 credentials list does not show $DEMO_ACCESS"

step "aws s3 mb s3://$B"
s3as "$DEMO_ACCESS" "$DEMO_SECRET" s3 mb "s3://$B"
s3as "$DEMO_ACCESS" "$DEMO_SECRET" s3 ls >"$WORK/buckets"
grep -q " $B\$" "$WORK/buckets" || fail "bucket $B not listed"

step "aws s3 cp of a $SIZE_MIB MiB file (multipart)"
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$WORK/big.bin"
s3as "$DEMO_ACCESS" "$DEMO_SECRET" s3 cp "$WORK/big.bin" "s3://$B/dir/big.bin" --no-progress
s3as "$DEMO_ACCESS" "$DEMO_SECRET" s3api head-object --bucket "$B" --key dir/big.bin >"$WORK/head"
etag=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ETag"])' "$WORK/head")
case "$etag" in *-*) echo "multipart ETag $etag" ;; *) fail "expected a multipart ETag, got $etag" ;; esac
echo "small" >"$WORK/small.txt"
s3as "$DEMO_ACCESS" "$DEMO_SECRET" s3 cp "$WORK/small.txt" "s3://$B/small.txt" --no-progress

step "aws s3 ls (prefix, recursive) and s3api list-objects-v2"
s3as "$DEMO_ACCESS" "$DEMO_SECRET" s3 ls "s3://$B/" >"$WORK/ls"
cat "$WORK/ls"
grep -q 'PRE dir/' "$WORK/ls" || fail "dir/ not listed as a prefix"
grep -q 'small.txt' "$WORK/ls" || fail "small.txt not listed"
s3as "$DEMO_ACCESS" "$DEMO_SECRET" s3 ls --recursive "s3://$B/" >"$WORK/lsr"
grep -q "$((SIZE_MIB * 1024 * 1024)) dir/big.bin" "$WORK/lsr" || fail "dir/big.bin not listed with its size"
s3as "$DEMO_ACCESS" "$DEMO_SECRET" s3api list-objects-v2 --bucket "$B" --page-size 1 >"$WORK/v2"
/usr/bin/python3 - "$WORK/v2" <<'PY' || fail "list-objects-v2 paging did not return both keys"
import json, sys
d = json.load(open(sys.argv[1]))
keys = [o["Key"] for o in d.get("Contents", [])]
assert keys == ["dir/big.bin", "small.txt"], keys
PY

step "aws s3 cp back: byte-identical"
s3as "$DEMO_ACCESS" "$DEMO_SECRET" s3 cp "s3://$B/dir/big.bin" "$WORK/back.bin" --no-progress
cmp "$WORK/big.bin" "$WORK/back.bin" || fail "downloaded file differs"
echo "identical ($SIZE_MIB MiB)"

step "the same object through the Swift API"
demo object show "$B" dir/big.bin -f value -c content-length >"$WORK/swiftlen"
[ "$(cat "$WORK/swiftlen")" = "$((SIZE_MIB * 1024 * 1024))" ] || fail "swift sees another size: $(cat "$WORK/swiftlen")"

step "wrong secret → SignatureDoesNotMatch"
if s3as "$DEMO_ACCESS" "wrong-secret-$suffix" s3 ls "s3://$B/" >"$WORK/out" 2>&1; then fail "a wrong secret was accepted"; fi
cat "$WORK/out"
grep -q 'SignatureDoesNotMatch' "$WORK/out" || fail "expected SignatureDoesNotMatch"

step "another project's credentials → AccessDenied"
if s3as "$ADMIN_ACCESS" "$ADMIN_SECRET" s3api get-object --bucket "$B" --key small.txt "$WORK/stolen.txt" >"$WORK/out" 2>&1; then
  fail "another project read the object"
fi
cat "$WORK/out"
grep -q 'AccessDenied' "$WORK/out" || fail "expected AccessDenied"
if s3as "$ADMIN_ACCESS" "$ADMIN_SECRET" s3 cp "$WORK/small.txt" "s3://$B/intruder.txt" >"$WORK/out" 2>&1; then
  fail "another project wrote into the bucket"
fi
grep -q 'AccessDenied' "$WORK/out" || fail "expected AccessDenied on write"

step "delete objects and bucket"
s3as "$DEMO_ACCESS" "$DEMO_SECRET" s3 rm "s3://$B/dir/big.bin"
s3as "$DEMO_ACCESS" "$DEMO_SECRET" s3 rm "s3://$B/small.txt"
s3as "$DEMO_ACCESS" "$DEMO_SECRET" s3 rb "s3://$B"
s3as "$DEMO_ACCESS" "$DEMO_SECRET" s3 ls >"$WORK/buckets"
if grep -q " $B\$" "$WORK/buckets"; then fail "bucket $B still listed"; fi

echo
echo "s3 compat: OK"
