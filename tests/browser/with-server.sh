#!/usr/bin/env bash
# Browser tests: starts Portcullis (built binary at $PORTCULLIS_BIN) twice on free loopback
# ports with fresh SQLite data folders — the tenant of portcullis.browser.toml, and the same
# tenant with MFA required for everyone — then runs the playwright-core tests in Chromium
# (Debian's /usr/bin/chromium, or $CHROMIUM) and stops the servers.
#
# Screenshots of each page go to $SCREENSHOT_DIR (default tests/browser/screenshots).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${PORTCULLIS_BIN:?PORTCULLIS_BIN must point at the portcullis binary}"
work="$(mktemp -d /tmp/portcullis-browser.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
port="$(free_port)"
mfa_port="$(free_port)"
app_port="$(free_port)"
app="http://localhost:${app_port}"

start() { # $1 = name, $2 = port, $3 = extra TOML
    mkdir -p "$work/$1"
    {
        sed -e "s|@LISTEN@|127.0.0.1:$2|" -e "s|@DATA@|$work/$1/data|" \
            -e "s|@ISSUER@|http://localhost:$2/|" -e "s|@APP@|$app|g" -e "s|@HERE@|$here|g" \
            "$here/portcullis.browser.toml"
        printf '%s\n' "$3"
    } > "$work/$1/portcullis.toml"
    "$bin" serve --config "$work/$1/portcullis.toml" > "$work/$1/server.log" 2>&1 &
    pids+=($!)
}
start main "$port" ""
start mfa "$mfa_port" '
[guardian]
policy = "all-applications"
[guardian.factors]
otp = { enabled = true }
recovery-code = { enabled = true }'

for p in "$port" "$mfa_port"; do
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$p/.well-known/openid-configuration" > /dev/null && break
        sleep 0.1
    done
done

(cd "$here" && env -u NODE_EXTRA_CA_CERTS npm ci --no-audit --no-fund --loglevel=error)

status=0
(
    cd "$here"
    PORTCULLIS_ISSUER="http://localhost:${port}/" \
    PORTCULLIS_MFA_ISSUER="http://localhost:${mfa_port}/" \
    PORTCULLIS_BIN="$bin" PORTCULLIS_CONFIG="$work/main/portcullis.toml" \
    APP_PORT="$app_port" \
    SCREENSHOT_DIR="${SCREENSHOT_DIR:-$here/screenshots}" \
        node --test --test-concurrency=1 ${BROWSER_TESTS:-test/*.test.mjs}
) || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- server log (main) ---"; tail -n 40 "$work/main/server.log"
    echo "--- server log (mfa) ---"; tail -n 40 "$work/mfa/server.log"
fi
exit "$status"
