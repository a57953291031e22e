#!/usr/bin/env bash
# Identity compatibility: Debian's real `openstack` client against a running Stratus.
#   STRATUS_URL=http://127.0.0.1:3000 OS_CLIENT_CONFIG_FILE=/etc/openstack/clouds.yaml test/compat/identity.sh
# Uses the `stratus-admin` cloud of that clouds.yaml (written by the seed). Everything it
# creates carries a unique suffix and is deleted at the end, also on failure.
set -euo pipefail
STRATUS_URL=${STRATUS_URL:-http://127.0.0.1:3000}
export OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-/etc/openstack/clouds.yaml}
[ -r "$OS_CLIENT_CONFIG_FILE" ] || { echo "no clouds.yaml at $OS_CLIENT_CONFIG_FILE" >&2; exit 2; }
OS=/usr/bin/openstack
AUTH_URL="$STRATUS_URL/identity/v3"
suffix="$$-$RANDOM"
PROJECT="compat-proj-$suffix"
USERNAME="compat-user-$suffix"
ROLE="compat-role-$suffix"
PASSWORD="compat-pw-$RANDOM$RANDOM"

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
admin() { "$OS" --os-cloud stratus-admin "$@"; }
as_user() {
  "$OS" --os-auth-url "$AUTH_URL" --os-identity-api-version 3 --os-username "$USERNAME" --os-password "$PASSWORD" \
    --os-user-domain-name Default --os-project-name "$PROJECT" --os-project-domain-name Default "$@"
}
cleanup() {
  set +e
  step "cleanup"
  admin user delete "$USERNAME" >/dev/null 2>&1 && echo "    deleted user $USERNAME"
  admin project delete "$PROJECT" >/dev/null 2>&1 && echo "    deleted project $PROJECT"
  admin role delete "$ROLE" >/dev/null 2>&1 && echo "    deleted role $ROLE"
}
trap cleanup EXIT

step "version discovery: GET $STRATUS_URL/identity (300) and /identity/v3 (200)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$STRATUS_URL/identity")
[ "$code" = 300 ] || fail "GET /identity answered $code"
curl -fsS "$AUTH_URL" | grep '"v3.14"' || fail "no v3 version document"

step "openstack token issue (stratus-admin)"
admin token issue
ADMIN_TOKEN=$(admin token issue -f value -c id)
[ -n "$ADMIN_TOKEN" ] || fail "no token"

step "openstack catalog list"
catalog=$(admin catalog list -f value -c Type)
echo "$catalog"
for t in identity compute network image volumev3 block-storage object-store orchestration placement; do
  grep -qx "$t" <<<"$catalog" || fail "catalog lacks $t"
done

step "openstack project create $PROJECT"
admin project create --description "identity compat test" "$PROJECT"
admin project list -f value -c Name | grep -x "$PROJECT" || fail "project list lacks $PROJECT"

step "openstack user create --password … --project $PROJECT $USERNAME"
admin user create --password "$PASSWORD" --project "$PROJECT" "$USERNAME"

step "openstack role add --project $PROJECT --user $USERNAME member"
admin role add --project "$PROJECT" --user "$USERNAME" member

step "openstack role create / list ($ROLE)"
admin role create "$ROLE"
admin role list -f value -c Name | grep -x "$ROLE" || fail "role list lacks $ROLE"

step "openstack role assignment list --project $PROJECT --names"
assignments=$(admin role assignment list --project "$PROJECT" --names -f value -c Role -c User)
echo "$assignments"
grep -q "^member $USERNAME@Default$" <<<"$assignments" || fail "assignment member/$USERNAME missing"

step "the new user issues a token for $PROJECT"
USER_TOKEN=$(as_user token issue -f value -c id)
as_user project show "$PROJECT" -f value -c name | grep -x "$PROJECT" || fail "member cannot show own project"
# OSC falls back to /v3/users/{id}/projects when /v3/projects is forbidden.
visible=$(as_user project list -f value -c Name)
[ "$visible" = "$PROJECT" ] || fail "member sees projects other than its own: $visible"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $USER_TOKEN" "$AUTH_URL/projects")
[ "$code" = 403 ] || fail "member GET /v3/projects answered $code, expected 403"
echo "    member sees only its own project; GET /v3/projects → 403"

step "openstack token revoke <user token>"
admin token revoke "$USER_TOKEN"

step "the revoked token is refused"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $ADMIN_TOKEN" -H "X-Subject-Token: $USER_TOKEN" "$AUTH_URL/auth/tokens")
[ "$code" = 404 ] || fail "validating the revoked token answered $code, expected 404"
echo "    GET /v3/auth/tokens → 404"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $USER_TOKEN" "$AUTH_URL/auth/projects")
[ "$code" = 401 ] || fail "using the revoked token answered $code, expected 401"
echo "    GET /v3/auth/projects with it → 401"
if "$OS" --os-auth-type token --os-token "$USER_TOKEN" --os-auth-url "$AUTH_URL" --os-identity-api-version 3 \
  --os-project-name "$PROJECT" --os-project-domain-name Default project list >/dev/null 2>&1; then
  fail "openstack accepted the revoked token"
fi
echo "    openstack --os-auth-type token --os-token <revoked> project list → refused"

step "openstack role remove / user delete / project delete"
admin role remove --project "$PROJECT" --user "$USERNAME" member
admin role assignment list --project "$PROJECT" -f value | grep . && fail "assignment still listed"
admin user delete "$USERNAME"
admin project delete "$PROJECT"
admin role delete "$ROLE"
trap - EXIT
printf '\nidentity compatibility: OK\n'
