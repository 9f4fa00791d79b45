#!/usr/bin/env bash
# The script a user would otherwise write to add organizations: log in, list what the server
# has, then add each missing organization, one request after another. vboctl-bench runs it
# beside vboctl against the same emulator and compares the two.
#
#   VBOCTL_SERVER=https://vbo.example.com:4443 VBOCTL_CA_CERT=ca.pem \
#   VBOCTL_USERNAME=admin VBOCTL_PASSWORD=... bench/baseline.sh bodies.jsonl
#
# bodies.jsonl holds one organization per line, as POST /v8/Organizations takes it.
set -euo pipefail

bodies=$1
api="${VBOCTL_SERVER%/}/v8"
curl=(curl --silent --show-error --fail --cacert "$VBOCTL_CA_CERT")

token=$("${curl[@]}" "$api/token" \
    --data grant_type=password \
    --data-urlencode "username=$VBOCTL_USERNAME" \
    --data-urlencode "password=$VBOCTL_PASSWORD" \
    --data disable_antiforgery_token=true | jq -r .access_token)
auth=(--header "Authorization: Bearer $token")

# Every name on the server, in lower case, a page of 1,000 at a time.
existing=$(mktemp)
trap 'rm -f "$existing"' EXIT
offset=0
while :; do
    page=$("${curl[@]}" "${auth[@]}" "$api/Organizations?offset=$offset&limit=1000")
    count=$(jq '.results | length' <<<"$page")
    jq -r '.results[].name | ascii_downcase' <<<"$page" >>"$existing"
    [ "$count" -lt 1000 ] && break
    offset=$((offset + count))
done

created=0
while IFS= read -r body; do
    name=$(jq -r '.name | ascii_downcase' <<<"$body")
    grep -qxF -- "$name" "$existing" && continue
    "${curl[@]}" "${auth[@]}" --header 'Content-Type: application/json' \
        --data "$body" "$api/Organizations" >/dev/null
    created=$((created + 1))
done <"$bodies"
echo "created $created"
