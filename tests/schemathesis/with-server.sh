#!/usr/bin/env bash
# Schemathesis (pinned in requirements.txt, installed into a virtualenv here) generates
# requests from docs/openapi.json — valid ones and hostile ones — against a fresh server
# (built binary at $PORTCULLIS_BIN) and fails on any 5xx answer.
# ST_MAX_EXAMPLES (default 40) sets how many cases each operation gets.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${PORTCULLIS_BIN:?PORTCULLIS_BIN must point at the portcullis binary}"
venv="${SCHEMATHESIS_VENV:-/var/tmp/portcullis-schemathesis-venv}"
work="$(mktemp -d /tmp/portcullis-st.XXXXXX)"
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    wait 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

if ! "$venv/bin/pip" freeze 2>/dev/null | diff -q - <(grep -v '^#' "$here/requirements.txt") > /dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
base="http://127.0.0.1:${port}"
sed -e "s|@LISTEN@|127.0.0.1:${port}|" -e "s|@DATA@|$work/data|" -e "s|@ISSUER@|${base}/|" \
    "$here/portcullis.toml" > "$work/portcullis.toml"
RUST_LOG=warn "$bin" serve --config "$work/portcullis.toml" > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    curl -sf "$base/health" > /dev/null && break
    sleep 0.1
done

token="$(curl -sf "$base/oauth/token" -d grant_type=client_credentials -d client_id=backend \
    -d client_secret=a-long-random-secret --data-urlencode "audience=${base}/api/v2/" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

status=0
# One worker: Python 3.11's AST validator is not thread-safe, and hypothesis parses lambdas
# while generating ("AST constructor recursion depth mismatch" with several workers).
# The Management API's token on every request: elsewhere it is simply a wrong credential.
"$venv/bin/st" run "$root/docs/openapi.json" --url "$base" \
    --checks not_a_server_error \
    --phases examples,coverage,fuzzing \
    --max-examples "${ST_MAX_EXAMPLES:-40}" \
    --workers 1 \
    --seed 1 \
    --request-timeout 30 \
    --suppress-health-check all \
    --warnings off \
    --no-color \
    -H "Authorization: Bearer $token" || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- server log ---"; tail -n 50 "$work/server.log"
fi
exit "$status"
