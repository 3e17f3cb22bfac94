#!/usr/bin/env bash
# Official-client-library compatibility tests for Portcullis.
#
# Usage: tests/sdk/run.sh [python] [node]        (default: both)
#
# Environment (the server must already be running):
#   PORTCULLIS_DOMAIN       host:port of the HTTPS listener, no scheme   (required)
#   PORTCULLIS_CA_FILE      PEM of the CA that signed its certificate    (optional)
#   PORTCULLIS_HTTP_DOMAIN  host:port of the plain-HTTP listener         (optional)
#   PORTCULLIS_MFA_DOMAIN   host:port of the separate HTTPS server of the MFA tenant
#                           (portcullis.mfa.toml, same CA)               (optional; the
#                           MFA tests are skipped without it)
#
# Installs pinned dependencies into tests/sdk/python/.venv and
# tests/sdk/node/node_modules, runs every requested suite (a failing suite does not
# stop the next one) and exits non-zero if any suite failed.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(python node)

if [ -z "${PORTCULLIS_DOMAIN:-}" ]; then
    echo "run.sh: PORTCULLIS_DOMAIN (host:port) must be set" >&2
    exit 2
fi
if [ -n "${PORTCULLIS_CA_FILE:-}" ]; then
    if [ ! -r "$PORTCULLIS_CA_FILE" ]; then
        echo "run.sh: PORTCULLIS_CA_FILE=$PORTCULLIS_CA_FILE is not readable" >&2
        exit 2
    fi
    PORTCULLIS_CA_FILE="$(cd "$(dirname "$PORTCULLIS_CA_FILE")" && pwd)/$(basename "$PORTCULLIS_CA_FILE")"
    export PORTCULLIS_CA_FILE
    export REQUESTS_CA_BUNDLE="$PORTCULLIS_CA_FILE"   # requests (auth0.authentication)
    export SSL_CERT_FILE="$PORTCULLIS_CA_FILE"        # httpx (auth0.management)
    export NODE_EXTRA_CA_CERTS="$PORTCULLIS_CA_FILE"  # node fetch / https
fi

wait_for_server() { # $1 = host:port
    # Up to ~30 s for https://$1/.well-known/openid-configuration.
    WAIT_DOMAIN="$1" python3 - <<'PY'
import os, ssl, sys, time, urllib.request
url = f"https://{os.environ['WAIT_DOMAIN']}/.well-known/openid-configuration"
ctx = ssl.create_default_context(cafile=os.environ.get("PORTCULLIS_CA_FILE") or None)
last = None
for _ in range(60):
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=5) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception as e:  # noqa: BLE001
        last = e
    time.sleep(0.5)
print(f"run.sh: {url} not reachable: {last}", file=sys.stderr)
sys.exit(1)
PY
}

run_python() {
    local dir="$here/python"
    echo "=== auth0-python suite ==="
    if [ ! -x "$dir/.venv/bin/python" ]; then
        python3 -m venv "$dir/.venv" || return 1
    fi
    # The package index is verified with the system's trust store, not the test CA.
    env -u REQUESTS_CA_BUNDLE -u SSL_CERT_FILE "$dir/.venv/bin/python" -m pip install --quiet \
        --disable-pip-version-check -r "$dir/requirements.txt" || return 1
    (cd "$dir" && .venv/bin/python -m pytest -p no:cacheprovider)
}

run_node() {
    local dir="$here/node"
    echo "=== node suite (auth0 ManagementClient, @auth0/auth0-auth-js, auth0/legacy) ==="
    (cd "$dir" && env -u NODE_EXTRA_CA_CERTS npm ci --no-audit --no-fund --loglevel=error) || return 1
    (cd "$dir" && node --test --test-concurrency=1 test/*.test.mjs)
}

if ! wait_for_server "$PORTCULLIS_DOMAIN"; then
    exit 1
fi
if [ -n "${PORTCULLIS_MFA_DOMAIN:-}" ] && ! wait_for_server "$PORTCULLIS_MFA_DOMAIN"; then
    exit 1
fi

failed=()
for suite in "${suites[@]}"; do
    case "$suite" in
        python) run_python || failed+=(python) ;;
        node) run_node || failed+=(node) ;;
        *) echo "run.sh: unknown suite '$suite' (python|node)" >&2; failed+=("$suite") ;;
    esac
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "SDK compatibility suites failed: ${failed[*]}" >&2
    exit 1
fi
echo "SDK compatibility suites passed: ${suites[*]}"
