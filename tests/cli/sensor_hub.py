"""`kizuna sensor` with a real `kizuna hub` on 127.0.0.1: indicators pulled from the hub (full,
then incremental by the cursor), planted hits all alerted and nothing else, sightings at the
hub whose counts equal the alerts, a re-run that changes nothing at the hub, a run while the
hub is down (protected by the indicator set on disk, sightings queued) and the next run that
delivers them without double counting. Never contacts anything but 127.0.0.1."""
import collections
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub_harness import Client, Hub, check, finish  # noqa: E402
from sensor_lib import compare, gen, inputs, read_jsonl, sensor  # noqa: E402

K = sys.argv[1]
hub = Hub(K)
org, (intel, sight) = hub.org_user("Intel", "Sightings")
hub.start()
T = hub.tmp
ENV = {"KIZUNA_PASSWORD": "pw-alice"}
check(org.startswith("identity--"), "admin org add prints the organisation's identity: %r" % org)


def url():
    return "http://127.0.0.1:%d/api/" % hub.port


def hub_sightings():
    c = Client(hub, user="alice", password="pw-alice")
    out, nxt = [], None
    while True:
        params = {"match[type]": "sighting", "limit": "1000"}
        if nxt:
            params["next"] = nxt
        st, _, doc = c.get("/api/collections/%s/objects/" % sight, params=params)
        if st != 200:
            raise RuntimeError("GET sightings: %s %r" % (st, doc))
        out += doc.get("objects", [])
        nxt = doc.get("next")
        if not doc.get("more"):
            return out


def per_indicator(alerts):
    return collections.Counter(a["alert"]["signature_id"] for a in alerts)


def per_indicator_hub(objs):
    c = collections.Counter()
    for s in objs:
        c[s["sighting_of_ref"]] += s["count"]
    return c


state = os.path.join(T, "state")
ind, telA = gen(K, os.path.join(T, "a"), count=800, records=600, hits=80, seed=21)
r = subprocess.run([K, "taxii", "post", url(), "--collection", intel, "--user", "alice", ind],
                   capture_output=True, text=True, env=dict(os.environ, **ENV), timeout=120)
check(r.returncode == 0, "indicators posted to the hub: %s" % r.stderr)


def run(tel, alerts_path, extra=()):
    return sensor(K, "--once", "--hub", url(), "--collection", intel, "--user", "alice",
                  "--sightings-collection", sight, "--org", org, "--state", state,
                  "--sensor-name", "edge-1", "--bucket", "600", "--alerts", alerts_path,
                  *extra, *inputs(tel), env=ENV)


# ---- run 1: full pull, alerts = answer key, sightings = alerts ------------------------------
a1p = os.path.join(T, "a1.jsonl")
r = run(telA, a1p)
check(r.returncode == 0, "run 1 exits 0: %s" % r.stderr[-1500:])
check("pulled 801 indicator objects" in r.stderr or "pulled 800 indicator objects" in r.stderr,
      "run 1 pulls the whole collection: %s" % r.stderr[-800:])
a1 = read_jsonl(a1p)
problems = compare(os.path.join(telA, "expected-hits.jsonl"), a1)
check(not problems, "run 1: alerts equal the answer key: %s" % problems)
s1 = hub_sightings()
check(sum(s["count"] for s in s1) == len(a1) and len(a1) > 0,
      "sightings counts at the hub equal the alerts (%d vs %d)" % (
          sum(s["count"] for s in s1), len(a1)))
check(per_indicator_hub(s1) == per_indicator(a1), "per indicator too")
check(all(s["where_sighted_refs"] == [org] and s["created_by_ref"] == org and
          s["first_seen"] <= s["last_seen"] for s in s1),
      "sightings name the sensor's organisation and a sane time range")
check(os.path.exists(os.path.join(state, "indicators.jsonl")), "the indicator set is on disk")

# ---- run 2: a new indicator is pulled incrementally; the hub counts nothing twice ----------
newind = os.path.join(T, "new.json")
with open(newind, "w") as f:
    json.dump({"type": "indicator", "spec_version": "2.1",
               "id": "indicator--11111111-2222-4333-8444-555555555555",
               "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
               "pattern": "[domain-name:value = 'never-seen.invalid']", "pattern_type": "stix",
               "valid_from": "2025-01-01T00:00:00Z"}, f)
r = subprocess.run([K, "taxii", "post", url(), "--collection", intel, "--user", "alice", newind],
                   capture_output=True, text=True, env=dict(os.environ, **ENV), timeout=60)
check(r.returncode == 0, "one more indicator posted")
a2p = os.path.join(T, "a2.jsonl")
r = run(telA, a2p)
check(r.returncode == 0, "run 2 exits 0: %s" % r.stderr[-1500:])
check("pulled 1 indicator objects" in r.stderr,
      "run 2 pulls only what was added since the cursor: %s" % r.stderr[-600:])
check(not compare(os.path.join(telA, "expected-hits.jsonl"), read_jsonl(a2p)),
      "run 2 alerts the same")
s2 = hub_sightings()
check(sorted((s["id"], s["count"]) for s in s2) == sorted((s["id"], s["count"]) for s in s1),
      "a re-run after a restart posts exact duplicates: the hub counts nothing twice")

# ---- run 3 with the hub down: the set on disk protects, sightings wait in the outbox --------
hub.stop()
_, telB = gen(K, os.path.join(T, "b"), records=500, hits=60, seed=22,
              start="2026-02-01T09:00:00Z", indicators=ind)
a3p = os.path.join(T, "a3.jsonl")
r = run(telB, a3p)
check(r.returncode == 0, "run 3 (hub down) exits 0: %s" % r.stderr[-1500:])
check("unreachable" in r.stderr and "not delivered" in r.stderr,
      "run 3 says the hub is down and the sightings wait: %s" % r.stderr[-1000:])
a3 = read_jsonl(a3p)
problems = compare(os.path.join(telB, "expected-hits.jsonl"), a3)
check(not problems, "run 3 (no hub): alerts equal the answer key from the set on disk: %s" %
      problems)
ob = [f for f in os.listdir(state) if f.startswith("outbox-") and f.endswith(".sqlite")]
check(len(ob) == 1, "one outbox file in the state directory: %r" % ob)
if ob:
    r = subprocess.run([K, "taxii", "outbox", "status", "--outbox", os.path.join(state, ob[0])],
                       capture_output=True, text=True, timeout=60)
    st = dict(ln.split("\t") for ln in r.stdout.splitlines() if "\t" in ln)
    check(r.returncode == 0 and int(st.get("waiting", 0)) == len(
        {(a["alert"]["signature_id"]) for a in a3}) and int(st.get("dead", 1)) == 0,
          "one sighting per hit indicator waits in the outbox, none dead: %s" % r.stdout)

# ---- run 4: the hub is back; queued and re-made sightings arrive once ----------------------
hub.start()
a4p = os.path.join(T, "a4.jsonl")
r = run(telB, a4p)
check(r.returncode == 0, "run 4 exits 0: %s" % r.stderr[-1500:])
s4 = hub_sightings()
total = sum(s["count"] for s in s4)
check(total == len(a1) + len(a3),
      "after the outage the hub holds every sighting once (%d == %d + %d)" % (total, len(a1),
                                                                             len(a3)))
check(per_indicator_hub(s4) == per_indicator(a1) + per_indicator(a3), "per indicator too")
check(len({s["id"] for s in s4}) == len(s4), "no sighting id twice")

# ---- follow mode: an indicator added at the hub while running is pulled and used, and the
# sighting of its hit reaches the hub without stopping the sensor ---------------------------
live_dir = os.path.join(T, "live")
os.makedirs(live_dir)
dns = open(os.path.join(telA, "dns.log")).read().splitlines(True)
hdr = [ln for ln in dns if ln.startswith("#") and not ln.startswith("#close")]
row = next(ln for ln in dns if not ln.startswith("#")).split("\t")
fields = next(ln for ln in dns if ln.startswith("#fields")).rstrip("\n").split("\t")[1:]


def live_row(query):
    r = list(row)
    r[fields.index("ts")] = "%.6f" % time.time()
    r[fields.index("query")] = query
    return "\t".join(r).rstrip("\n") + "\n"


live = os.path.join(live_dir, "dns.log")
with open(live, "w") as f:
    f.writelines(hdr + [live_row("live-test.invalid")])
fout = os.path.join(T, "follow.jsonl")
env = dict(os.environ, **ENV)
p = subprocess.Popen([K, "sensor", "--hub", url(), "--collection", intel, "--user", "alice",
                      "--sightings-collection", sight, "--org", org, "--state",
                      os.path.join(T, "state-live"), "--sensor-name", "live", "--poll", "1",
                      "--flush", "1", "--bucket", "1", "--alerts", fout,
                      "--input", "zeek:" + live], env=env, stderr=subprocess.PIPE, text=True)


def wait_for(fn, limit=15):
    end = time.time() + limit
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    return None


try:
    time.sleep(1.5)
    check(not (os.path.exists(fout) and read_jsonl(fout)), "no alert before the indicator exists")
    lid = "indicator--99999999-2222-4333-8444-555555555555"
    with open(newind, "w") as f:
        json.dump({"type": "indicator", "spec_version": "2.1", "id": lid,
                   "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
                   "name": "live test", "pattern": "[domain-name:value = 'live-test.invalid']",
                   "pattern_type": "stix", "valid_from": "2025-01-01T00:00:00Z"}, f)
    r = subprocess.run([K, "taxii", "post", url(), "--collection", intel, "--user", "alice",
                        newind], capture_output=True, text=True, env=env, timeout=60)
    check(r.returncode == 0, "live indicator posted")
    time.sleep(2.5)  # more than one --poll
    with open(live, "a") as f:
        f.write(live_row("live-test.invalid"))
    got = wait_for(lambda: os.path.exists(fout) and read_jsonl(fout))
    check(got and len(got) == 1 and got[0]["alert"]["signature_id"] == lid,
          "the indicator pulled while following fires on a new line: %r" % got)
    sl = wait_for(lambda: [s for s in hub_sightings() if s["sighting_of_ref"] == lid])
    check(sl and sum(s["count"] for s in sl) == 1,
          "its sighting reaches the hub while the sensor runs: %r" % sl)
finally:
    p.send_signal(signal.SIGTERM)
    try:
        err = p.communicate(timeout=15)[1]
    except subprocess.TimeoutExpired:
        p.kill()
        err = p.communicate()[1]
check(p.returncode == 0, "SIGTERM stops the follower with 0: %s" % err[-800:])

# ---- HTTPS: the hub's self-signed certificate is trusted only through --cacert --------------
hub.stop()
hub.start(plain=False)
check(hub.tls, "the hub serves HTTPS")
surl = "https://127.0.0.1:%d/api/" % hub.port
cert = os.path.join(hub.data, "hub-cert.pem")


def tls_run(state_dir, *extra):
    return sensor(K, "--once", "--hub", surl, "--collection", intel, "--user", "alice",
                  "--state", state_dir, "--alerts", "-", "--quiet", *extra, *inputs(telA),
                  env=ENV)


r = tls_run(os.path.join(T, "state-tls-bad"))
check(r.returncode == 1 and "no indicator" in r.stderr,
      "without --cacert the self-signed hub is not trusted (rc %d): %s" % (r.returncode,
                                                                         r.stderr[-600:]))
r = tls_run(os.path.join(T, "state-tls"), "--cacert", cert)
check(r.returncode == 0 and not compare(os.path.join(telA, "expected-hits.jsonl"),
                                        read_jsonl(r.stdout, True)),
      "over HTTPS with --cacert the pulled indicators give the exact alerts: %s" % r.stderr[-600:])
finish()
