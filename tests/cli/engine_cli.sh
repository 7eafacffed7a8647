#!/usr/bin/env bash
# kizuna engine: stats and match over tests/data/engine (single observations and --stream).
# usage: engine_cli.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
K=$1
D=$3/tests/data/engine
NOW=2025-01-01T00:00:00Z
fail=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }

out=$("$K" engine stats --indicators "$D/indicators.json" --now $NOW 2>"$T/err.txt")

check "stats live=4" 'echo "$out" | grep -q "\"live\":4"'
check "stats rejected=1" 'echo "$out" | grep -q "\"rejected\":1"'
check "stats other types" 'echo "$out" | grep -q "\"other_pattern_types\":1"'
check "rejection has id and line:col" 'grep -q "indicator--33333333-3333-4333-8333-333333333333: invalid pattern: 1:20:" "$T/err.txt"'

out=$("$K" engine match --indicators "$D/indicators.json" --now $NOW "$D/observations.json" 2>/dev/null)
rc=$?
check "match exit 0" '[ $rc -eq 0 ]'
check "four single hits" '[ $(echo "$out" | wc -l) -eq 4 ]'
check "suffix hit on www" 'echo "$out" | grep "\"observation\":0" | grep -q "LIKE"'
check "cidr hit" 'echo "$out" | grep "\"observation\":3" | grep -q "ISSUBSET"'
check "context carried" 'echo "$out" | grep -q "command-and-control"'
check "no hit on 192.0.2.1" '! echo "$out" | grep -q "\"observation\":4"'

out=$("$K" engine match --stream --indicators "$D/indicators.json" --now $NOW "$D/observations.json" 2>/dev/null)
check "stream FOLLOWEDBY binding" 'echo "$out" | grep "1f4e4a2e" | grep -q "\"binding\":\[{\"observation\":1,[^]]*},{\"observation\":2"'

# before valid_from nothing is live
out=$("$K" engine match --indicators "$D/indicators.json" --now 2023-01-01T00:00:00Z "$D/observations.json" 2>/dev/null)
rc=$?
check "nothing live before valid_from (exit 1)" '[ $rc -eq 1 ] && [ -z "$out" ]'

"$K" engine match --indicators "$D/indicators.json" >/dev/null 2>&1
check "usage error exit 2" '[ $? -eq 2 ]'
"$K" engine match --indicators /nonexistent "$D/observations.json" >/dev/null 2>&1
check "unreadable exit 2" '[ $? -eq 2 ]'

# Hit texts are pattern syntax: a hash path's hyphenated key is quoted, so the reported
# pattern and comparison parse again.
cat >"$T/hash-ind.json" <<'EOF2'
{"type":"indicator","spec_version":"2.1","id":"indicator--0b1f7a4d-3a3e-4a65-8f0a-1c2d3e4f5a6b","created":"2026-11-02T10:15:00.000Z","modified":"2026-11-02T10:15:00.000Z","pattern":"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z","indicator_types":["malicious-activity"]}
EOF2
cat >"$T/hash-obs.json" <<'EOF2'
{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"observed-data","spec_version":"2.1","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf","created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z","first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z","number_observed":1,"object_refs":["file--5d0092c5-5f74-4287-9642-33f4c354e56e"]},{"type":"file","spec_version":"2.1","id":"file--5d0092c5-5f74-4287-9642-33f4c354e56e","hashes":{"SHA-256":"aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"}}]}
EOF2
out=$("$K" engine match --indicators "$T/hash-ind.json" "$T/hash-obs.json" 2>/dev/null)
pat=$(echo "$out" | sed -n 's/.*"pattern":"\(\[[^]]*\]\)".*/\1/p')
check "hash hit pattern is quoted" 'echo "$pat" | grep -q "hashes.'"'"'SHA-256'"'"' = "'
check "hash hit pattern parses" '"$K" pattern validate "$pat" >/dev/null 2>&1'
exit $fail
