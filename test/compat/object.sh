#!/usr/bin/env bash
# Object storage compatibility: Debian's real `swift` (python3-swiftclient) and `openstack
# container/object` clients against a running Stratus.
#   STRATUS_URL=http://127.0.0.1:3000 OS_CLIENT_CONFIG_FILE=/etc/openstack/clouds.yaml test/compat/object.sh
# Uses the `stratus` (demo project) and `stratus-admin` clouds of that clouds.yaml (written by
# the seed); swift itself authenticates against Keystone with the same credentials (OS_* from
# the clouds.yaml). Everything it creates carries a unique suffix and is deleted at the end,
# also on failure. SIZE_MIB (default 100) sets the size of the large file.
set -euo pipefail
export OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-/etc/openstack/clouds.yaml}
[ -r "$OS_CLIENT_CONFIG_FILE" ] || { echo "no clouds.yaml at $OS_CLIENT_CONFIG_FILE" >&2; exit 2; }
OS=/usr/bin/openstack
SWIFT=/usr/bin/swift
SIZE_MIB=${SIZE_MIB:-100}
suffix="$$-$RANDOM"
C="compat-c-$suffix"
PUB="compat-pub-$suffix"
WORK=$(mktemp -d /tmp/stratus-object-compat.XXXXXX)

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
demo() { "$OS" --os-cloud stratus "$@"; }
admin() { "$OS" --os-cloud stratus-admin "$@"; }

# swift reads OS_* variables, not clouds.yaml: export those of a cloud into a subshell.
cloud_env() {
  /usr/bin/python3 - "$OS_CLIENT_CONFIG_FILE" "$1" <<'PY'
import shlex, sys, yaml
c = yaml.safe_load(open(sys.argv[1]))["clouds"][sys.argv[2]]
a = c["auth"]
env = {"OS_AUTH_URL": a["auth_url"], "OS_USERNAME": a["username"], "OS_PASSWORD": a["password"],
       "OS_PROJECT_NAME": a["project_name"], "OS_USER_DOMAIN_NAME": a.get("user_domain_name", "Default"),
       "OS_PROJECT_DOMAIN_NAME": a.get("project_domain_name", "Default"), "OS_IDENTITY_API_VERSION": "3",
       "OS_AUTH_VERSION": "3", "OS_REGION_NAME": c.get("region_name", "RegionOne")}
print(" ".join(f"export {k}={shlex.quote(str(v))};" for k, v in env.items()))
PY
}
DEMO_ENV=$(cloud_env stratus)
ADMIN_ENV=$(cloud_env stratus-admin)
swift_demo() { (eval "$DEMO_ENV"; "$SWIFT" "$@"); }
swift_admin() { (eval "$ADMIN_ENV"; "$SWIFT" "$@"); }

cleanup() {
  set +e
  step "cleanup"
  for c in "$C" "${C}_segments" "$PUB"; do
    swift_demo delete "$c" >/dev/null 2>&1 && echo "    deleted container $c"
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

STORAGE_URL=$(swift_demo auth | sed -n 's/^export OS_STORAGE_URL=//p')
[ -n "$STORAGE_URL" ] || fail "swift auth gave no storage URL"
echo "    storage URL: $STORAGE_URL"

step "swift capabilities (GET /info)"
swift_demo capabilities > "$WORK/caps.txt"
sed -n 1,5p "$WORK/caps.txt"
for k in slo tempurl bulk_delete account_quotas container_quotas; do
  grep -qE "^(Core|Additional middleware): $k\$" "$WORK/caps.txt" || fail "capability $k missing"
done

step "swift upload of a ${SIZE_MIB} MiB file, then swift download: byte-identical"
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom > "$WORK/big.bin"
cd "$WORK"
swift_demo upload "$C" big.bin
mkdir -p "$WORK/dl"
swift_demo download "$C" big.bin -o "$WORK/dl/big.bin"
cmp "$WORK/big.bin" "$WORK/dl/big.bin" || fail "downloaded file differs"
[ "$(swift_demo stat "$C" big.bin | awk '/ETag:/ {print $2}')" = "$(md5sum < big.bin | cut -d' ' -f1)" ] || fail "etag is not the md5 of the file"
echo "    identical ($(stat -c %s dl/big.bin) bytes)"

step "swift upload --use-slo --segment-size 16M (SLO), download byte-identical"
swift_demo upload --use-slo --segment-size 16M "$C" big.bin --object-name big-slo.bin
swift_demo stat "$C" big-slo.bin | tee "$WORK/slo.txt"
grep 'X-Static-Large-Object: True' "$WORK/slo.txt" >/dev/null || fail "not an SLO"
swift_demo download "$C" big-slo.bin -o "$WORK/dl/big-slo.bin"
cmp "$WORK/big.bin" "$WORK/dl/big-slo.bin" || fail "SLO download differs"
echo "    identical; segments: $(swift_demo list "${C}_segments" | wc -l)"

step "swift upload --segment-size 16M (DLO), download byte-identical"
swift_demo upload --segment-size 16M "$C" big.bin --object-name big-dlo.bin
swift_demo stat "$C" big-dlo.bin | grep -i 'Manifest:' || fail "not a DLO (no X-Object-Manifest)"
swift_demo download "$C" big-dlo.bin -o "$WORK/dl/big-dlo.bin"
cmp "$WORK/big.bin" "$WORK/dl/big-dlo.bin" || fail "DLO download differs"
echo "    identical"
rm -f "$WORK/dl/"*.bin

step "swift list with --prefix / --delimiter"
mkdir -p tree/a/b tree/c
for f in tree/one.txt tree/a/two.txt tree/a/b/three.txt tree/c/four.txt; do echo "$f" > "$f"; done
swift_demo upload "$C" tree >/dev/null
got=$(swift_demo list "$C" --prefix tree/ | tr '\n' ' ')
[ "$got" = "tree/a/b/three.txt tree/a/two.txt tree/c/four.txt tree/one.txt " ] || fail "list --prefix tree/: $got"
got=$(swift_demo list "$C" --prefix tree/ --delimiter / | tr '\n' ' ')
[ "$got" = "tree/a/ tree/c/ tree/one.txt " ] || fail "list --prefix tree/ --delimiter /: $got"
got=$(swift_demo list "$C" --delimiter / | tr '\n' ' ')
[ "$got" = "big-dlo.bin big-slo.bin big.bin tree/ " ] || fail "list --delimiter /: $got"
echo "    ok: $got"

step "swift stat / post (metadata) on account, container, object"
swift_demo post -m "Purpose:compat" "$C"
swift_demo stat "$C" | tee "$WORK/cstat.txt"
grep -q 'Meta Purpose: compat' "$WORK/cstat.txt" || fail "container metadata not set"
grep -q 'Objects: 7' "$WORK/cstat.txt" || fail "container object count is not 7 (big, big-slo, big-dlo, 4 tree files)"
swift_demo post -m "Color:blue" "$C" tree/one.txt
swift_demo stat "$C" tree/one.txt | grep 'Meta Color: blue' >/dev/null || fail "object metadata not set"
swift_demo post -m "Team:qa" >/dev/null
swift_demo stat | tee "$WORK/astat.txt"
grep -q 'Meta Team: qa' "$WORK/astat.txt" || fail "account metadata not set"

step "openstack container/object commands"
demo container list -f value | grep -x "$C" >/dev/null || fail "container list misses $C"
demo object list "$C" -f value -c Name | grep -x "tree/one.txt" >/dev/null || fail "object list misses tree/one.txt"
demo object show "$C" tree/one.txt -f json | grep '"content-type"' >/dev/null || fail "object show has no content-type"
echo "openstack object create" > "$WORK/osc.txt"
demo object create "$C" "$WORK/osc.txt" --name osc.txt -f value
demo object save "$C" osc.txt --file "$WORK/osc-back.txt"
cmp "$WORK/osc.txt" "$WORK/osc-back.txt" || fail "object save differs"
demo container show "$C" -f json | grep '"object_count"' >/dev/null || fail "container show lacks object_count"
demo object delete "$C" osc.txt

step "temp URL made with swift tempurl, fetched with curl"
KEY="compat-key-$suffix"
swift_demo post -m "Temp-URL-Key:$KEY"
PATH_ONLY=$(/usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.urlparse(sys.argv[1]).path)' "$STORAGE_URL/$C/tree/one.txt")
HOST=$(/usr/bin/python3 -c 'import sys, urllib.parse; u = urllib.parse.urlparse(sys.argv[1]); print(f"{u.scheme}://{u.netloc}")' "$STORAGE_URL")
TEMP=$(swift_demo tempurl GET 300 "$PATH_ONLY" "$KEY")
curl -fsS "$HOST$TEMP" -o "$WORK/temp.txt"
cmp "$WORK/temp.txt" tree/one.txt || fail "temp URL content differs"
code=$(curl -s -o /dev/null -w '%{http_code}' "$HOST${TEMP/temp_url_sig=/temp_url_sig=0}")
[ "$code" = 401 ] || fail "a bad signature answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data x "$HOST$TEMP")
[ "$code" = 401 ] || fail "a GET temp URL allowed a PUT ($code)"
echo "    GET with the temp URL: ok; tampered: 401"

step "isolation: another project's token gets 403 on the private container; no token 401"
ADMIN_TOKEN=$(admin token issue -f value -c id)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $ADMIN_TOKEN" "$STORAGE_URL/$C/tree/one.txt")
echo "    (the cloud admin reads it: $code)"
PROJECT2="compat-p2-$suffix"
USER2="compat-u2-$suffix"
PW2="pw-$RANDOM-$RANDOM-x"
admin project create "$PROJECT2" -f value -c id >/dev/null
admin user create --password "$PW2" --project "$PROJECT2" "$USER2" -f value -c id >/dev/null
admin role add --project "$PROJECT2" --user "$USER2" member
cleanup2() {
  admin user delete "$USER2" >/dev/null 2>&1
  admin project delete "$PROJECT2" >/dev/null 2>&1
}
trap 'cleanup2; cleanup' EXIT
TOKEN2=$(OS_CLOUD= "$OS" --os-auth-url "$(/usr/bin/python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["clouds"]["stratus"]["auth"]["auth_url"])' "$OS_CLIENT_CONFIG_FILE")" \
  --os-identity-api-version 3 --os-username "$USER2" --os-password "$PW2" --os-project-name "$PROJECT2" \
  --os-user-domain-name Default --os-project-domain-name Default token issue -f value -c id)
code=$(curl -s -o "$WORK/403.html" -w '%{http_code}' -H "X-Auth-Token: $TOKEN2" "$STORAGE_URL/$C/tree/one.txt")
[ "$code" = 403 ] || fail "another project's token answered $code"
cat "$WORK/403.html"; echo
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $TOKEN2" "$STORAGE_URL/$C")
[ "$code" = 403 ] || fail "another project's listing answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$STORAGE_URL/$C/tree/one.txt")
[ "$code" = 401 ] || fail "no token answered $code"

step ".r:* makes reads public (curl without a token)"
swift_demo post "$PUB" --read-acl ".r:*"
echo "public hello" > "$WORK/public.txt"
(cd "$WORK" && swift_demo upload "$PUB" public.txt >/dev/null)
curl -fsS "$STORAGE_URL/$PUB/public.txt" -o "$WORK/public-back.txt"
cmp "$WORK/public.txt" "$WORK/public-back.txt" || fail "public read differs"
code=$(curl -s -o /dev/null -w '%{http_code}' "$STORAGE_URL/$PUB")
[ "$code" = 401 ] || fail "listing without .rlistings answered $code"
swift_demo post "$PUB" --read-acl ".r:*,.rlistings"
[ "$(curl -fsS "$STORAGE_URL/$PUB")" = "public.txt" ] || fail "public listing with .rlistings"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data x "$STORAGE_URL/$PUB/evil.txt")
[ "$code" = 401 ] || fail "anonymous write answered $code"
echo "    public read: ok; anonymous write: 401"

step "swift delete (bulk delete) of the container"
swift_demo delete "$C" >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' -I -H "X-Auth-Token: $ADMIN_TOKEN" "$STORAGE_URL/$C")
[ "$code" = 404 ] || fail "container still there after swift delete ($code)"
swift_demo delete "${C}_segments" >/dev/null 2>&1 || true
swift_demo delete "$PUB" >/dev/null
echo "    deleted"

step "PASS: object storage compatibility"
