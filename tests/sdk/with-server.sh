#!/usr/bin/env bash
# Starts Portcullis (built binary at $PORTCULLIS_BIN) with a fresh SQLite data folder on free
# ports — HTTPS with the self-signed CA on one, plain HTTP on another sharing the same data —
# plus a third, separate HTTPS server for the MFA tenant (portcullis.mfa.toml: MFA is a
# tenant-wide policy) with its own data folder but the same CA and certificate, runs
# tests/sdk/run.sh against them, and stops them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${PORTCULLIS_BIN:?PORTCULLIS_BIN must point at the portcullis binary}"
work="$(mktemp -d /tmp/portcullis-sdk.XXXXXX)"
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
https_port="$(free_port)"
http_port="$(free_port)"
mfa_port="$(free_port)"
domain="localhost:${https_port}"
mfa_domain="localhost:${mfa_port}"

write_config() { # $1 = listen port, $2 = tls line
    sed -e "s|@LISTEN@|127.0.0.1:$1|" -e "s|@DATA@|$work/data|" -e "s|@ISSUER@|https://${domain}/|" \
        -e "s|@TLS@|$2|" -e "s|@HERE@|$here|g" "$here/portcullis.sdk.toml"
}
write_config "$https_port" 'tls = "self-signed"' > "$work/https.toml"
write_config "$http_port" '' > "$work/http.toml"

"$bin" serve --config "$work/https.toml" > "$work/https.log" 2>&1 &
pids+=($!)
# The HTTPS node creates the store and the CA first; then a plain-HTTP node shares the data.
for _ in $(seq 1 100); do
    [ -f "$work/data/tls/ca.pem" ] && grep -q "listening" "$work/https.log" && break
    sleep 0.1
done
"$bin" serve --config "$work/http.toml" > "$work/http.log" 2>&1 &
pids+=($!)

# The MFA tenant: its own store, but a copy of the first node's tls folder, so it serves a
# certificate of the same CA (the certificate names localhost/127.0.0.1, not a port).
mkdir -p "$work/mfa-data"
cp -Rp "$work/data/tls" "$work/mfa-data/tls"
sed -e "s|@LISTEN@|127.0.0.1:${mfa_port}|" -e "s|@DATA@|$work/mfa-data|" \
    -e "s|@ISSUER@|https://${mfa_domain}/|" -e 's|@TLS@|tls = "self-signed"|' \
    "$here/portcullis.mfa.toml" > "$work/mfa.toml"
"$bin" serve --config "$work/mfa.toml" > "$work/mfa.log" 2>&1 &
pids+=($!)

status=0
PORTCULLIS_DOMAIN="$domain" PORTCULLIS_HTTP_DOMAIN="127.0.0.1:${http_port}" \
    PORTCULLIS_MFA_DOMAIN="$mfa_domain" PORTCULLIS_CA_FILE="$work/data/tls/ca.pem" \
    "$here/run.sh" "$@" || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- server log (https) ---"; tail -n 50 "$work/https.log"
    echo "--- server log (http) ---"; tail -n 20 "$work/http.log"
    echo "--- server log (mfa) ---"; tail -n 50 "$work/mfa.log"
fi
exit "$status"
