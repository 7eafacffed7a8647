#!/usr/bin/env bash
# Hub integration test: every TAXII endpoint, filter, error code and permission case over plain HTTP.
# Runs a real `kizuna hub` on 127.0.0.1 (random port); the logic is in hub_api.py.
# Usage: bash hub_api.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed (the hub tests drive HTTP with its standard library)"
    exit 77
fi
exec python3 "$3/tests/cli/hub_api.py" "$1"
