#!/usr/bin/env bash
# kizuna validate: exit codes, output format, every input form and every kind of bad input.
# usage: validate_cli.sh KIZUNA SHARED_DIR SOURCE_DIR
set -u
K=$1
SRC=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
pass=0

# expect NAME WANT_EXIT GREP_PATTERN -- command...
expect() {
    local name=$1 want=$2 pat=$3
    shift 4
    "$@" >"$T/out" 2>&1
    local got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL $name: exit $got, want $want"; sed 's/^/    /' "$T/out" | head -20; fails=$((fails + 1)); return
    fi
    if [ -n "$pat" ] && ! grep -qE -- "$pat" "$T/out"; then
        echo "FAIL $name: output lacks /$pat/"; sed 's/^/    /' "$T/out" | head -20; fails=$((fails + 1)); return
    fi
    pass=$((pass + 1))
}

IND='{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '"'"'10.0.0.1'"'"']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}'
BAD='{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:47.000Z","pattern":"[ipv4-addr:value = '"'"'10.0.0.1'"'"']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}'

echo "$IND" >"$T/one.json"
echo "[$IND]" >"$T/array.json"
echo "{\"type\":\"bundle\",\"id\":\"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\",\"objects\":[$IND]}" >"$T/bundle.json"
printf '%s\n\n%s\n' "$IND" "$BAD" >"$T/lines.jsonl"
echo "$BAD" >"$T/bad.json"

expect usage-no-file 2 "no FILE" -- "$K" validate
expect usage-bad-option 2 "unknown option" -- "$K" validate --frobnicate x
expect usage-bad-version 2 "2.0 or 2.1" -- "$K" validate --stix-version 3 "$T/one.json"
expect help 0 "usage: kizuna validate" -- "$K" validate --help
expect help-cmd 0 "usage: kizuna validate" -- "$K" help validate
expect top-help 0 "validate" -- "$K" help
expect one-object 0 "summary: 1 object \(indicator 1\), 1 valid, 0 invalid" -- "$K" validate "$T/one.json"
expect array 0 "1 valid" -- "$K" validate "$T/array.json"
expect bundle 0 "1 valid" -- "$K" validate "$T/bundle.json"
expect stdin 0 "1 valid" -- sh -c "\"$K\" validate - < \"$T/one.json\""
expect json-lines 1 "lines.jsonl:3: indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: /modified: modified" -- "$K" validate "$T/lines.jsonl"
expect json-lines-summary 1 "2 objects \(indicator 2\), 1 valid, 1 invalid" -- "$K" validate "$T/lines.jsonl"
expect invalid-format 1 "^$T/bad.json: indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: /modified: " -- "$K" validate "$T/bad.json"
expect missing-file 2 "cannot read: No such file" -- "$K" validate "$T/nope.json"
expect unreadable-wins 2 "summary: 1 object" -- "$K" validate "$T/one.json" "$T/nope.json"

# Warnings and --strict: an unknown open-vocabulary value is a warning.
sed 's/malicious-activity/made-up-type/' "$T/one.json" >"$T/warn.json"
expect warning 0 "/indicator_types/0: warning: " -- "$K" validate "$T/warn.json"
expect strict 1 "0 valid, 1 invalid, 1 warning" -- "$K" validate --strict "$T/warn.json"

# Versions: a 2.0 object (no spec_version) checked by 2.0 rules: labels required on indicators.
echo '{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '"'"'10.0.0.1'"'"']","valid_from":"2016-01-01T00:00:00Z"}' >"$T/v20.json"
expect stix20-labels 1 "/labels: required property 'labels'" -- "$K" validate "$T/v20.json"
expect forced-21 1 "/spec_version: required" -- "$K" validate --stix-version 2.1 "$T/v20.json"
# Same (id, modified) with different bodies.
sed 's/10.0.0.1/10.0.0.2/' "$T/one.json" >"$T/other.json"
cat "$T/one.json" "$T/other.json" >"$T/versions.jsonl"
expect version-conflict 1 "share id and modified" -- "$K" validate "$T/versions.jsonl"

# Bad input: each a clear message, never a crash (exit 2 = unreadable, 1 = invalid object).
printf '{"type": "indicator",\n  "id": x}\n' >"$T/malformed.json"
expect malformed 2 "malformed.json:2:[0-9]+: invalid JSON" -- "$K" validate "$T/malformed.json"
head -c 200 "$T/one.json" >"$T/truncated.json"
expect truncated 2 "truncated.json:1:[0-9]+: invalid JSON" -- "$K" validate "$T/truncated.json"
: >"$T/empty.json"
expect empty 2 "empty input" -- "$K" validate "$T/empty.json"
printf '{"type":"indicator","type":"malware"}' >"$T/dup.json"
expect duplicate-key 2 "duplicate" -- "$K" validate "$T/dup.json"
printf '{"type":"x-thing","id":"x-thing--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","name":"\xff\xfe"}' >"$T/utf8.json"
expect invalid-utf8 2 "invalid JSON: .*(UTF-8|utf-8|decode byte)" -- "$K" validate "$T/utf8.json"
python3 -c 'print("[" * 100000 + "]" * 100000)' >"$T/deep.json" 2>/dev/null ||
    awk 'BEGIN{for(i=0;i<100000;i++)printf "[";for(i=0;i<100000;i++)printf "]";print ""}' >"$T/deep.json"
expect deep-nesting 2 "invalid JSON: .*depth" -- "$K" validate "$T/deep.json"
awk 'BEGIN{printf "{\"type\":\"x-big\",\"id\":\"x-big--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"x_blob\":\""; for(i=0;i<2000000;i++) printf "abcdefgh"; print "\"}"}' >"$T/huge.json"
expect huge-string 0 "1 valid" -- "$K" validate "$T/huge.json"
echo '{"type":"indicator","spec_version":"2.1","id":17,"created":true,"modified":[],"pattern":{},"pattern_type":5,"valid_from":null}' >"$T/types.json"
expect wrong-types 1 "/created: must be an RFC 3339 timestamp" -- "$K" validate "$T/types.json"
echo '"just a string"' >"$T/scalar.json"
expect scalar 1 "expected a STIX object" -- "$K" validate "$T/scalar.json"
echo '[1, "x", null]' >"$T/scalars.json"
expect array-of-scalars 1 "must be a JSON object" -- "$K" validate "$T/scalars.json"
printf '%s\nnot json\n%s\n' "$IND" "$IND" >"$T/mixed.jsonl"
expect jsonl-bad-line 2 "mixed.jsonl:2:[0-9]+: invalid JSON" -- "$K" validate "$T/mixed.jsonl"

# The shipped samples are valid.
expect samples 0 " 0 invalid" -- "$K" validate "$SRC"/samples/*.json "$SRC"/samples/*.jsonl

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
