#!/usr/bin/env bash
# `kizuna taxii` against a real `kizuna hub` on 127.0.0.1 (random port): discovery, paging,
# incremental pull, post, auth errors, the outbox across outages and kill -9, HTTPS.
# The logic is in taxii_client.py (it reuses hub_harness.py).
# Usage: bash taxii_client.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed (the client tests drive the hub with its standard library)"
    exit 77
fi
exec python3 "$3/tests/cli/taxii_client.py" "$1"
