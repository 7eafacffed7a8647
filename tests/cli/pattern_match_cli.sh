#!/usr/bin/env bash
# CLI test for `kizuna pattern match`: exit codes 0 (match, ids printed), 1 (no match),
# 2 (invalid pattern, unreadable/malformed input, usage), 3 (data cannot be evaluated).
# Usage: pattern_match_cli.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
bin=$1
src=$3
data=$src/tests/data/pattern
fails=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# expect WANT_STATUS ARGS...: run `kizuna pattern match ARGS...`, check the exit status
expect() {
    local want=$1
    shift
    "$bin" pattern match "$@" >"$out" 2>"$err"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: pattern match $*: exit $got, want $want"
        sed 's/^/  stdout: /' "$out"
        sed 's/^/  stderr: /' "$err"
        fails=$((fails + 1))
        return 1
    fi
    return 0
}

# 0: a match prints the observed-data ids of the binding, in input order
if expect 0 "[ipv4-addr:value ISSUBSET '198.51.100.0/24']" "$data/match21.json"; then
    [ "$(cat "$out")" = "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf" ] ||
        { echo "FAIL: wrong ids: $(cat "$out")"; fails=$((fails + 1)); }
fi
if expect 0 "[ipv4-addr:value = '198.51.100.3'] FOLLOWEDBY [domain-name:resolves_to_refs[*].value = '198.51.100.3'] WITHIN 60 SECONDS" \
    "$data/match21.json"; then
    [ "$(wc -l <"$out")" -eq 2 ] || { echo "FAIL: expected two ids"; fails=$((fails + 1)); }
fi
# number_observed 2 satisfies REPEATS 2 on its own; STIX 2.0 data in JSON lines
if expect 0 --stix-version 2.0 "[file:name = 'evil.exe'] REPEATS 2 TIMES" "$data/match20.jsonl"; then
    [ "$(cat "$out")" = "observed-data--0a8b1c2d-0000-4000-8000-000000000001" ] ||
        { echo "FAIL: wrong ids: $(cat "$out")"; fails=$((fails + 1)); }
fi
# several files form one observation stream
expect 0 --stix-version 2.0 "[file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] AND [domain-name:value = 'example.com']" \
    "$data/match20.jsonl" "$data/match21.json"
# stdin
"$bin" pattern match "[domain-name:value LIKE '%.com']" - <"$data/match21.json" >"$out" 2>"$err" ||
    { echo "FAIL: stdin input"; fails=$((fails + 1)); }

# 1: no match
expect 1 "[ipv4-addr:value = '203.0.113.1']" "$data/match21.json"
expect 1 "[domain-name:value = 'example.com'] FOLLOWEDBY [ipv4-addr:value = '198.51.100.3']" \
    "$data/match21.json"
expect 1 --stix-version 2.0 "[file:name = 'evil.exe'] REPEATS 3 TIMES" "$data/match20.jsonl"
[ -s "$out" ] && { echo "FAIL: output on no match"; fails=$((fails + 1)); }

# 2: invalid pattern (LINE:COLUMN: message), unreadable or malformed input, usage
if expect 2 "[ipv4-addr:value = ]" "$data/match21.json"; then
    grep -Eq '^1:[0-9]+: ' "$err" || { echo "FAIL: no line:column in: $(cat "$err")"; fails=$((fails + 1)); }
fi
expect 2 "[ipv4-addr:value = '1.2.3.4']" "$data/does-not-exist.json"
expect 2 "[ipv4-addr:value = '1.2.3.4']" "$data/broken.json"
expect 2 "[ipv4-addr:value = '1.2.3.4']"
expect 2 --stix-version 3.0 "[ipv4-addr:value = '1.2.3.4']" "$data/match21.json"

# 3: the data cannot be evaluated
if expect 3 --stix-version 2.0 "[event:when > t'2016-01-01T00:00:00Z']" "$data/bad_timestamp.json"; then
    grep -q 'timestamp' "$err" || { echo "FAIL: no reason in: $(cat "$err")"; fails=$((fails + 1)); }
fi
expect 3 "[domain-name:value MATCHES '(']" "$data/match21.json"
expect 3 "[domain-name:value = 'x'] WITHIN 0 SECONDS" "$data/match21.json"

"$bin" pattern match --help >/dev/null || { echo "FAIL: --help"; fails=$((fails + 1)); }

# Random patterns and observation sets against a brute-force model of the reference semantics
# (tests/data/pattern/model_check.py); skipped without python3.
if command -v python3 >/dev/null; then
    work=$(mktemp -d)
    python3 "$data/model_check.py" "$bin" "$work" 1 200 || fails=$((fails + 1))
    rm -rf "$work"
else
    echo "note: python3 not found, model check skipped"
fi

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "pattern match CLI: all checks passed"
exit 0
