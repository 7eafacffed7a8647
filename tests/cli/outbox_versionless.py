"""Objects without `modified` through the hub, the outbox and the sensor, with a real
`kizuna hub` on 127.0.0.1.

TAXII 2.1 (status resource, `version`): the STIX `modified`; for an object without it, its
`created`; for one with neither (an SCO), a value consistent to the server. The hub files such
SCOs under 1970-01-01T00:00:00.000Z, so every verdict about them, success or failure, must
carry that version, and the outbox must match refusals back to the queued objects: each is
counted as refused and dead-lettered with the hub's message, none stays queued unreported
(the bug: invalid SCOs were refused under version "" and silently re-queued forever).
Never contacts anything but 127.0.0.1."""
import json
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub_harness import Client, Hub, check, finish, indicator  # noqa: E402

K = sys.argv[1]
SCO_VERSION = "1970-01-01T00:00:00.000Z"
hub = Hub(K)
org, (coll,) = hub.org_user("Sightings")
hub.start()
T = hub.tmp
ENV = dict(os.environ)
ENV.pop("KIZUNA_TOKEN", None)
ENV["KIZUNA_PASSWORD"] = "pw-alice"
API = "http://127.0.0.1:%d/api/" % hub.port
cl = Client(hub, user="alice", password="pw-alice")


def uid(i):
    return "00000000-0000-4000-8000-%012x" % i


def sco(kind, value, i):
    return {"type": kind, "spec_version": "2.1", "id": "%s--%s" % (kind, uid(i)), "value": value}


good_ip = sco("ipv4-addr", "198.51.100.7", 1)
bad_dom = sco("domain-name", "TXT 11 hello world", 2)        # a space: not a domain name
bad_ip = sco("ipv4-addr", "not-an-address", 3)
bad_mark = {"type": "marking-definition", "spec_version": "2.1",     # created, no modified
            "id": "marking-definition--" + uid(4), "created": "2021-02-03T04:05:06.000Z",
            "definition_type": "statement"}                           # definition missing
good_mark = dict(bad_mark, id="marking-definition--" + uid(5),
                 definition={"statement": "Copyright acme"})
bad_ind = indicator(6, modified="2022-01-01T00:00:00.000Z")
bad_ind["pattern"] = "[ipv4-addr:value = "                            # broken pattern
good_ind = indicator(7, modified="2022-01-01T00:00:00.000Z")

# ---- the hub: each verdict carries the version the object is filed under ------------------
objs = [good_ip, bad_dom, bad_ip, bad_mark, good_mark, bad_ind, good_ind]
want = {o["id"]: o.get("modified", o.get("created", SCO_VERSION)) for o in objs}
st, _, doc = cl.post("/api/collections/%s/objects/" % coll, {"objects": objs})
check(st == 202 and doc.get("status") == "complete", "POST answered 202 complete: %s %r" % (st, doc))
succ = {d["id"]: d for d in doc.get("successes", [])}
fail = {d["id"]: d for d in doc.get("failures", [])}
check(set(succ) == {good_ip["id"], good_mark["id"], good_ind["id"]} and
      set(fail) == {bad_dom["id"], bad_ip["id"], bad_mark["id"], bad_ind["id"]},
      "the valid objects succeed and the invalid ones fail: %r / %r" % (sorted(succ), sorted(fail)))
wrong = [(i, d.get("version"), want[i]) for i, d in list(succ.items()) + list(fail.items())
         if d.get("version") != want[i]]
check(not wrong, "every success and failure carries the object's filing version (modified, "
                 "else created, else %s): wrong %r" % (SCO_VERSION, wrong))
check(all(d.get("message") for d in fail.values()), "every failure has a message: %r" % fail)
st2, _, again = cl.get("/api/status/%s/" % doc.get("id"))
check(st2 == 200 and again == doc, "the stored status resource says the same (%s)" % st2)
st3, _, vers = cl.get("/api/collections/%s/objects/%s/versions/" % (coll, good_ip["id"]))
check(st3 == 200 and vers.get("versions") == [SCO_VERSION],
      "the stored SCO is filed under the version its success named: %r" % (vers,))
# an item that is not an object still gets both fields (the spec makes them required)
st, _, doc = cl.post("/api/collections/%s/objects/" % coll, {"objects": [42]})
check(st == 202 and len(doc.get("failures", [])) == 1 and
      all(isinstance(doc["failures"][0].get(k), str) for k in ("id", "version", "message")),
      "a non-object item is a failure with string id, version and message: %r" % (doc,))


# ---- the outbox: refusals of versionless objects are counted and dead-lettered -------------
def taxii(*args):
    return subprocess.run([K, "taxii"] + list(args), capture_output=True, text=True, env=ENV,
                          timeout=120)


ob = os.path.join(T, "ob.sqlite")
fresh = [sco("ipv4-addr", "198.51.100.%d" % (10 + i), 100 + i) for i in range(3)]
bad_dom2 = sco("domain-name", "has space.example", 200)
bad_mark2 = dict(bad_mark, id="marking-definition--" + uid(201))
queued = fresh + [bad_dom2, bad_mark2, sco("domain-name", "ok.example", 202)]
src = os.path.join(T, "q.jsonl")
with open(src, "w") as f:
    for o in queued:
        f.write(json.dumps(o) + "\n")
r = taxii("outbox", "add", "--outbox", ob, src)
check(r.returncode == 0, "outbox add: %s" % r.stderr)
r = taxii("outbox", "flush", API, "--collection", coll, "--outbox", ob, "--user", "alice",
          "--batch", "4")
check(r.returncode == 3 and "delivered 4, refused 2, waiting 0" in r.stdout,
      "the flush counts the two refused versionless objects and leaves nothing waiting "
      "(exit 3): %r %r" % (r.stdout, r.stderr[-800:]))
for o in (bad_dom2, bad_mark2):
    check(o["id"] in r.stderr, "the flush names the refused %s on stderr: %r" %
          (o["id"], r.stderr[-800:]))
check("cannot occur in a domain name" in r.stderr,
      "the flush prints the hub's reason: %r" % r.stderr[-800:])
r = taxii("outbox", "dead", "--outbox", ob)
dead = {d["id"]: d for d in (json.loads(x) for x in r.stdout.splitlines() if x.strip())}
check(r.returncode == 0 and set(dead) == {bad_dom2["id"], bad_mark2["id"]},
      "both refused objects are dead letters: %r" % sorted(dead))
check("cannot occur in a domain name" in dead.get(bad_dom2["id"], {}).get("reason", "") and
      dead.get(bad_dom2["id"], {}).get("object") == bad_dom2,
      "the dead letter keeps the hub's reason and the object: %r" % dead.get(bad_dom2["id"]))
check(dead.get(bad_mark2["id"], {}).get("version") == bad_mark2["created"] and
      dead.get(bad_dom2["id"], {}).get("version") == SCO_VERSION,
      "dead letters carry the filing versions (created; %s)" % SCO_VERSION)
r = taxii("outbox", "flush", API, "--collection", coll, "--outbox", ob, "--user", "alice")
check(r.returncode == 0 and "delivered 0, refused 0, waiting 0 (0 envelopes)" in r.stdout,
      "a second flush has nothing left to post: %r" % r.stdout)

# ---- the sensor: an answer that is no valid SCO stays out of its evidence -----------------
# (a DNS TXT answer is not a domain name: the observed-data leaves it out rather than have
# the hub refuse it; the valid answer and the query are posted, nothing is refused)
dns = os.path.join(T, "dns.log")
with open(dns, "w") as f:
    f.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
            "#path\tdns\n#open\t2023-11-14-22-13-20\n"
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt"
            "\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA"
            "\tZ\tanswers\tTTLs\trejected\n"
            "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount"
            "\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount"
            "\tvector[string]\tvector[interval]\tbool\n"
            "1700000000.000000\tCx1\t192.0.2.10\t40000\t192.0.2.53\t53\tudp\t7\t0.010000"
            "\ttxt.example.org\t1\tC_INTERNET\t16\tTXT\t0\tNOERROR\tT\tF\tT\tT\t0"
            "\tTXT 11 hello world,good.example.org\t60.000000,60.000000\tF\n")
ind = os.path.join(T, "ind.json")
ioc = indicator(900, modified="2020-01-01T00:00:00.000Z")
ioc["pattern"] = "[domain-name:value = 'txt.example.org']"
with open(ind, "w") as f:
    json.dump({"type": "bundle", "id": "bundle--" + uid(901), "objects": [ioc]}, f)
state = os.path.join(T, "state")
env = dict(ENV)
r = subprocess.run([K, "sensor", "--once", "--indicators", ind, "--hub", API, "--user", "alice",
                    "--sightings-collection", coll, "--org", org, "--state", state,
                    "--sensor-name", "vl", "--sighting-observed-data", "--alerts",
                    os.path.join(T, "alerts.jsonl"), "--input", "zeek:" + dns],
                   capture_output=True, text=True, env=env, timeout=120)
alerts = [x for x in open(os.path.join(T, "alerts.jsonl")).read().splitlines() if x.strip()]
check(len(alerts) == 1, "the planted query alerts once (%d): %s" % (len(alerts), r.stderr[-800:]))
check(r.returncode == 0 and "rejected 0," in r.stderr and "still queued 0" in r.stderr,
      "the sensor posts its evidence without a refusal and leaves nothing queued: %r" %
      r.stderr[-1200:])
obfile = [os.path.join(state, x) for x in os.listdir(state) if x.startswith("outbox-")]
db = sqlite3.connect(obfile[0]) if len(obfile) == 1 else None
rows = db.execute("SELECT id, reason FROM dead").fetchall() if db else None
check(rows == [], "no dead letter in the sensor's outbox: %r" % rows)
check(db is not None and db.execute("SELECT count(*) FROM queue").fetchone()[0] == 0,
      "nothing stays queued in the sensor's outbox")
st, _, doc = cl.get("/api/collections/%s/objects/?match[type]=domain-name,observed-data&limit=1000"
                    % coll)
objs = (doc or {}).get("objects", []) if st == 200 else []
values = {o.get("value") for o in objs if o.get("type") == "domain-name"}
ods = [o for o in objs if o.get("type") == "observed-data"]
check("txt.example.org" in values and "good.example.org" in values and
      not any("TXT" in (v or "") for v in values),
      "the query and the valid answer reach the hub, the TXT answer does not: %r" % sorted(
          v for v in values if v))
dom_ids = {o["id"] for o in objs if o.get("type") == "domain-name" and
           o.get("value") in ("txt.example.org", "good.example.org")}
check(any(dom_ids <= set(od.get("object_refs", [])) for od in ods),
      "an observed-data lists both valid domain names: %r" % [od.get("object_refs") for od in ods])
finish()
