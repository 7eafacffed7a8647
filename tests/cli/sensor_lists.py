"""List-valued references in sensor observations: a Zeek dns.log line becomes a domain-name
(the query) whose resolves_to_refs lists its answers, a smtp.log line an email-message whose
to_refs lists its recipients. Indicators over [*] of those lists alert on exactly the lines
that carry the listed value, and [n] indexes the list in answer order."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub_harness import check, finish  # noqa: E402
from sensor_lib import read_jsonl, sensor  # noqa: E402

K = sys.argv[1]
T = tempfile.mkdtemp(prefix="kz-sensor-lists-")

HDR = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
dns = os.path.join(T, "dns.log")
with open(dns, "w") as f:
    f.write(HDR + "#path\tdns\n"
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\tquery"
            "\tqtype_name\trcode_name\tanswers\tTTLs\n"
            "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tstring\tstring\tstring"
            "\tvector[string]\tvector[interval]\n")
    rows = [
        ("a.example.org", "cdn.example.net,192.0.2.7"),      # line 8: both answers
        ("b.example.org", "198.51.100.1"),                   # line 9: another address
        ("c.example.org", "192.0.2.7"),                      # line 10: the address alone
        ("d.example.org", "-"),                              # line 11: no answer
    ]
    for i, (q, ans) in enumerate(rows):
        f.write("1700000000.%06d\tC%d\t10.0.0.1\t5353\t10.0.0.53\t53\tudp\t%d\t%s\tA\tNOERROR"
                "\t%s\t60.0\n" % (i, i, i, q, ans))
smtp = os.path.join(T, "smtp.log")
with open(smtp, "w") as f:
    f.write(HDR + "#path\tsmtp\n"
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmailfrom\trcptto\tsubject\n"
            "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tset[string]\tstring\n"
            "1700000001.000000\tM1\t10.0.0.2\t40000\t10.0.0.25\t25\talice@example.org"
            "\tbob@example.org,eve@evil.example\thello\n"
            "1700000002.000000\tM2\t10.0.0.2\t40001\t10.0.0.25\t25\talice@example.org"
            "\tcarol@example.org\thi\n")


def ind(n, pattern):
    return {"type": "indicator", "spec_version": "2.1",
            "id": "indicator--00000000-0000-4000-8000-%012d" % n,
            "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
            "name": "list %d" % n, "pattern": pattern, "pattern_type": "stix",
            "valid_from": "2020-01-01T00:00:00Z"}


objs = [ind(1, "[domain-name:resolves_to_refs[*].value = '192.0.2.7']"),
        ind(2, "[domain-name:resolves_to_refs[0].value = 'cdn.example.net']"),
        ind(3, "[domain-name:value = 'b.example.org' AND domain-name:resolves_to_refs[*].value = '192.0.2.7']"),
        ind(4, "[email-message:to_refs[*].value = 'eve@evil.example']"),
        ind(5, "[email-message:from_ref.value = 'alice@example.org' AND email-message:to_refs[*].value = 'carol@example.org']")]
indf = os.path.join(T, "ind.json")
with open(indf, "w") as f:
    json.dump({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-0000000000bb",
               "objects": objs}, f)
alerts = os.path.join(T, "alerts.jsonl")
r = sensor(K, "--once", "--indicators", indf, "--alerts", alerts, "--input", "zeek:" + dns,
           "--input", "zeek:" + smtp)
check(r.returncode == 0, "the sensor runs: %s" % r.stderr[-600:])
got = sorted((os.path.basename(a["input"]), a["line"], a["alert"]["signature_id"][-2:])
             for a in read_jsonl(alerts)) if os.path.exists(alerts) else []
# (file line numbers: seven header lines come first)
want = sorted([("dns.log", 8, "01"), ("dns.log", 10, "01"), ("dns.log", 8, "02"),
               ("smtp.log", 8, "04"), ("smtp.log", 9, "05")])
check(got == want, "alerts on exactly the lines whose lists hold the values: %r" % got)
finish()
