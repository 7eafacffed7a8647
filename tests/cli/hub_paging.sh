#!/usr/bin/env bash
# Hub integration test: 100,000 objects posted in batches of 1000 and paged back with none missed or duplicated.
# Runs a real `kizuna hub` on 127.0.0.1 (random port); the logic is in hub_paging.py.
# Usage: bash hub_paging.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed (the hub tests drive HTTP with its standard library)"
    exit 77
fi
exec python3 "$3/tests/cli/hub_paging.py" "$1"
