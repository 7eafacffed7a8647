#!/usr/bin/env bash
# Hub integration test: HTTPS with the certificate generated on first start; plain HTTP refused off loopback.
# Runs a real `kizuna hub` on 127.0.0.1 (random port); the logic is in hub_tls.py.
# Usage: bash hub_tls.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed (the hub tests drive HTTP with its standard library)"
    exit 77
fi
exec python3 "$3/tests/cli/hub_tls.py" "$1"
