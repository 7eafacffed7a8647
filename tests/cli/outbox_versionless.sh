#!/usr/bin/env bash
# Objects without `modified` (SCOs, marking-definitions) through the hub's status resource,
# the outbox and the sensor, against a real `kizuna hub` on 127.0.0.1 (random port): every
# per-object verdict carries the version the object is filed under, every refusal is
# counted and dead-lettered with the hub's message, and the sensor prints it.
# The logic is in outbox_versionless.py (it reuses hub_harness.py).
# Usage: bash outbox_versionless.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed (the client tests drive the hub with its standard library)"
    exit 77
fi
exec python3 "$3/tests/cli/outbox_versionless.py" "$1"
