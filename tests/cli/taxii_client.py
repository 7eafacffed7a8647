"""`kizuna taxii` (lib/taxii's client) against a real `kizuna hub` on 127.0.0.1: discovery,
collections, paging a few thousand objects with limit 100 (none missed or duplicated), the
incremental pull with its cursor on disk, post + status, 401/403/404 surfaced with their
status, credentials never on the command line, the outbox across a hub outage and across a
kill -9 of the delivering process (nothing lost, nothing double-counted), dead letters, and
HTTPS with the hub's self-signed certificate. Never contacts anything but 127.0.0.1."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub_harness import Client, Hub, check, finish, indicator  # noqa: E402

K = sys.argv[1]
hub = Hub(K)
hub.admin("org", "add", "acme")
hub.admin("org", "add", "other")
hub.admin("user", "add", "alice", "--org", "acme", stdin="pw-alice\n")
hub.admin("user", "add", "bob", "--org", "acme", stdin="pw-bob\n")
hub.admin("user", "add", "carol", "--org", "other", stdin="pw-carol\n")
intel = hub.admin("collection", "add", "--title", "Intel", "--alias", "intel").stdout.strip()
sight = hub.admin("collection", "add", "--title", "Sightings").stdout.strip()
hub.admin("grant", "read,write", intel, "--user", "alice")
hub.admin("grant", "read,write", sight, "--user", "alice")
hub.admin("grant", "read", intel, "--user", "bob")
token = hub.admin("token", "add", "alice", "ci").stdout.strip().split()[-1]
hub.start()
T = hub.tmp


def url(path="/api/"):
    return "http://127.0.0.1:%d%s" % (hub.port, path)


def run(*args, password="pw-alice", env_extra=None, timeout=120):
    env = dict(os.environ)
    env.pop("KIZUNA_PASSWORD", None)
    env.pop("KIZUNA_TOKEN", None)
    if password is not None:
        env["KIZUNA_PASSWORD"] = password
    if env_extra:
        env.update(env_extra)
    return subprocess.run([K, "taxii"] + list(args), capture_output=True, text=True, env=env,
                          timeout=timeout)


def lines(out):
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def write_jsonl(name, objs):
    p = os.path.join(T, name)
    with open(p, "w") as f:
        for o in objs:
            f.write(json.dumps(o) + "\n")
    return p


# ---- discovery and collections -------------------------------------------------------------
r = run("discover", url("/taxii2/"), "--user", "alice")
check(r.returncode == 0, "discover: %s" % r.stderr)
doc = json.loads(r.stdout) if r.returncode == 0 else {}
check("/api/" in doc.get("api_roots", []), "discovery lists /api/: %r" % doc)
r = run("collections", url(), "--user", "alice")
cols = json.loads(r.stdout).get("collections", []) if r.returncode == 0 else []
check({c["id"] for c in cols} == {intel, sight}, "alice sees her two collections: %r" % cols)
r = run("collections", url(), "--user", "bob", password="pw-bob")
check(r.returncode == 0 and [c["id"] for c in json.loads(r.stdout)["collections"]] == [intel],
      "bob sees only intel")

# ---- post: 3,000 indicators in envelopes of 1,000, as JSON lines, with a token -------------
N = 3000
inds = [indicator(i) for i in range(N)]
tokfile = os.path.join(T, "token")
with open(tokfile, "w") as f:
    f.write(token + "\n")
r = run("post", url(), "--collection", intel, "--batch", "1000", "--token-file", tokfile,
        write_jsonl("inds.jsonl", inds), password=None)
check(r.returncode == 0 and "3000 succeeded" in r.stdout and "3 envelopes" in r.stdout,
      "post 3000 in 3 envelopes: %s %s" % (r.stdout, r.stderr))

# ---- post to a server whose status does not account for every object sent ------------------
# (a scripted TAXII server on 127.0.0.1: the status of each envelope leaves one object out)
import http.server  # noqa: E402
import threading  # noqa: E402


class ShortStatus(http.server.BaseHTTPRequestHandler):
    huge = False  # counts past any envelope, whose sum wraps a 64-bit size to the right one

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        objs = json.loads(self.rfile.read(n)).get("objects", [])
        told = len(objs) - 1
        if ShortStatus.huge:  # 2 * (2^63 - 1) + n + 2 is n modulo 2^64
            counts = (2 ** 63 - 1, 2 ** 63 - 1, len(objs) + 2, len(objs))
        else:
            counts = (told, 0, 0, told)
        body = json.dumps({"id": "st-%d" % len(objs), "status": "complete",
                           "success_count": counts[0], "failure_count": counts[1],
                           "pending_count": counts[2], "total_count": counts[3],
                           "successes": [{"id": o["id"], "version": o["modified"]}
                                         for o in objs[:told]]}).encode()
        self.send_response(202)
        self.send_header("Content-Type", "application/taxii+json;version=2.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


fake = http.server.HTTPServer(("127.0.0.1", 0), ShortStatus)
threading.Thread(target=fake.serve_forever, daemon=True).start()
r = run("post", "http://127.0.0.1:%d/api/" % fake.server_address[1], "--collection", "c1",
        "--batch", "10", "--user", "alice", write_jsonl("short.jsonl", inds[:25]))
check(r.returncode == 3 and "3 not accounted for by the status" in r.stdout and
      r.stderr.count("accounts for") == 3,
      "a status short of its envelope is reported, exit 3: %s %s" % (r.stdout, r.stderr))
ShortStatus.huge = True
r = run("post", "http://127.0.0.1:%d/api/" % fake.server_address[1], "--collection", "c1",
        "--batch", "10", "--user", "alice", write_jsonl("short.jsonl", inds[:25]))
check(r.returncode == 3 and "0 succeeded" in r.stdout and
      "25 not accounted for by the status" in r.stdout and r.stderr.count("are ignored") == 3,
      "counts past the envelope are not believed: %s %s" % (r.stdout, r.stderr))
fake.shutdown()

# ---- paging with limit 100: every object exactly once -------------------------------------
state = os.path.join(T, "state")
os.mkdir(state)
t0 = time.time()
r = run("get", url(), "--collection", intel, "--limit", "100", "--state", state, "--user",
        "alice")
got = lines(r.stdout) if r.returncode == 0 else []
ids = [o["id"] for o in got]
check(r.returncode == 0, "full pull: %s" % r.stderr)
check(len(ids) == N and len(set(ids)) == N and set(ids) == {o["id"] for o in inds},
      "full pull: %d objects, %d distinct, all of them" % (len(ids), len(set(ids))))
check("in 30 pages" in r.stderr, "30 pages of 100: %s" % r.stderr.strip())
print("full pull of %d objects, limit 100: %.2f s" % (N, time.time() - t0), file=sys.stderr)
cursor_file = os.path.join(state, "cursor-" + intel)
check(os.path.exists(cursor_file), "cursor saved")
cursor1 = open(cursor_file).read().strip()
check(cursor1 in r.stderr, "the saved cursor is the last X-TAXII-Date-Added-Last")

# Nothing new: the incremental pull returns nothing and keeps the cursor.
r = run("get", url(), "--collection", intel, "--limit", "100", "--state", state, "--user",
        "alice")
check(r.returncode == 0 and r.stdout.strip() == "", "no new objects: %r" % r.stdout[:200])
check(open(cursor_file).read().strip() == cursor1, "cursor unchanged by an empty pull")

# 250 new objects and one new version of an old one: exactly those come back.
c = Client(hub, "alice", "pw-alice")
new = [indicator(i) for i in range(N, N + 250)]
new.append(indicator(7, modified="2021-01-01T00:00:00.000Z"))
st, _, sd = c.post("/api/collections/%s/objects/" % intel, {"objects": new})
check(st == 202 and sd["success_count"] == 251, "251 added directly")
r = run("get", url(), "--collection", intel, "--limit", "100", "--state", state, "--user",
        "alice")
got = lines(r.stdout) if r.returncode == 0 else []
check(sorted((o["id"], o["modified"]) for o in got) ==
      sorted((o["id"], o["modified"]) for o in new),
      "incremental pull: only the 251 new versions (%d)" % len(got))
check(open(cursor_file).read().strip() > cursor1, "cursor moved forward")

# One page without --all: limit objects, more, and a next cursor.
r = run("get", url(), "--collection", "intel", "--limit", "100", "--user", "alice")
check(r.returncode == 0 and len(lines(r.stdout)) == 100 and "more: yes; next: " in r.stderr,
      "one page by alias: %s" % r.stderr)
r = run("get", url(), "--collection", intel, "--all", "--limit", "100", "--match-type",
        "indicator", "--match-id", "indicator--00000000-0000-4000-8000-000000000007",
        "--match-version", "all", "--user", "alice")
got = lines(r.stdout) if r.returncode == 0 else []
check(len(got) == 2 and {o["modified"] for o in got} ==
      {"2020-01-01T00:00:00.000Z", "2021-01-01T00:00:00.000Z"}, "filters: both versions of one")
r = run("get", url(), "--collection", intel, "--added-after", "yesterday", "--user", "alice")
check(r.returncode == 1 and "HTTP 400" in r.stderr and "added_after" in r.stderr,
      "bad filter: the hub's 400 with its message: %s" % r.stderr)

# ---- errors: 401, 403, 404, credentials handling ------------------------------------------
r = run("get", url(), "--collection", intel, "--user", "alice", password="wrong")
check(r.returncode == 1 and "HTTP 401" in r.stderr, "wrong password: 401: %s" % r.stderr)
check("wrong" not in r.stderr, "the password is never echoed")
r = run("discover", url("/taxii2/"), password=None)
check(r.returncode == 1 and "HTTP 401" in r.stderr, "no credentials: 401")
r = run("post", url(), "--collection", intel, "--user", "bob", write_jsonl("one.jsonl", new[:1]),
        password="pw-bob")
check(r.returncode == 1 and "HTTP 403" in r.stderr, "read-only account posting: 403: %s"
      % r.stderr)
r = run("get", url(), "--collection", intel, "--user", "carol", password="pw-carol")
check(r.returncode == 1 and "HTTP 404" in r.stderr, "no right at all: 404: %s" % r.stderr)
r = run("get", url(), "--collection", intel, "--user", "alice", password=None)
check(r.returncode == 2 and "KIZUNA_PASSWORD" in r.stderr, "--user without a password")
r = run("get", url(), "--collection", intel, "--user", "alice", "--password", "pw-alice")
check(r.returncode == 2 and "not accepted on the command line" in r.stderr,
      "--password refused")
pwfile = os.path.join(T, "pw")
with open(pwfile, "w") as f:
    f.write("pw-alice\n")
r = run("get", url(), "--collection", intel, "--limit", "5", "--user", "alice",
        "--password-file", pwfile, password=None)
check(r.returncode == 0 and len(lines(r.stdout)) == 5, "--password-file")
r = run("get", "http://alice:pw@127.0.0.1:%d/api/" % hub.port, "--collection", intel)
check(r.returncode == 2 and "never in the URL" in r.stderr, "credentials in the URL refused")
bad = indicator(99999)
bad["pattern"] = "[ipv4-addr:value = "
r = run("post", url(), "--collection", intel, "--user", "alice",
        write_jsonl("bad.jsonl", [bad, indicator(N + 500)]))
check(r.returncode == 3 and "1 succeeded, 1 refused" in r.stdout and "refused: " + bad["id"]
      in r.stderr, "a refused object is reported: %s %s" % (r.stdout, r.stderr))

# ---- the outbox: hub down, hub up, kill -9 mid-delivery ------------------------------------


def sighting(i, modified="2026-01-01T00:00:00.000Z"):
    return {"type": "sighting", "spec_version": "2.1",
            "id": "sighting--00000000-0000-4000-9000-%012x" % i,
            "created": "2026-01-01T00:00:00.000Z", "modified": modified,
            "sighting_of_ref": inds[i % N]["id"], "count": 1 + i % 5}


def hub_sightings():
    cl = Client(hub, "alice", "pw-alice")
    out, nxt = [], None
    while True:
        p = {"limit": "1000", "match[version]": "all"}
        if nxt:
            p["next"] = nxt
        st, _, d = cl.get("/api/collections/%s/objects/" % sight, params=p)
        if st != 200:
            check(False, "reading sightings: %d" % st)
            return out
        out += d.get("objects", [])
        if not d.get("more"):
            return out
        nxt = d["next"]


box = os.path.join(T, "outbox.db")
hub.stop()
r = run("outbox", "add", "--outbox", box, write_jsonl("s1.jsonl", [sighting(i) for i in
                                                                    range(500)]))
check(r.returncode == 0 and "queued 500" in r.stdout, "500 sightings queued: %s" % r.stderr)
r = run("outbox", "flush", url(), "--collection", sight, "--outbox", box, "--user", "alice",
        "--retries", "0", "--timeout", "5")
check(r.returncode == 1 and "waiting 500" in r.stdout, "hub down: flush fails, all kept: %s %s"
      % (r.stdout, r.stderr))
r = run("outbox", "status", "--outbox", box)
check("waiting\t500" in r.stdout and "dead\t0" in r.stdout, "status while the hub is down")
hub.start()
r = run("outbox", "flush", url(), "--collection", sight, "--outbox", box, "--user", "alice",
        "--batch", "200")
check(r.returncode == 0 and "delivered 500, refused 0, waiting 0 (3 envelopes)" in r.stdout,
      "hub up: delivered: %s %s" % (r.stdout, r.stderr))
s = hub_sightings()
check(len(s) == 500 and len({o["id"] for o in s}) == 500, "500 sightings at the hub (%d)"
      % len(s))
r = run("outbox", "flush", url(), "--collection", sight, "--outbox", box, "--user", "alice")
check(r.returncode == 0 and "delivered 0" in r.stdout and "(0 envelopes)" in r.stdout,
      "a second flush sends nothing")

# kill -9 of the delivering process while its POST is in flight (the hub is stopped with
# SIGSTOP so the request hangs), then deliver again: nothing lost, nothing counted twice.
r = run("outbox", "add", "--outbox", box, write_jsonl("s2.jsonl", [sighting(i) for i in
                                                                    range(500, 800)]))
check(r.returncode == 0, "300 more queued")
hub.proc.send_signal(signal.SIGSTOP)
env = dict(os.environ, KIZUNA_PASSWORD="pw-alice")
p = subprocess.Popen([K, "taxii", "outbox", "flush", url(), "--collection", sight, "--outbox",
                      box, "--user", "alice", "--batch", "100"], env=env,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.7)
p.send_signal(signal.SIGKILL)
p.wait()
hub.proc.send_signal(signal.SIGCONT)
check(p.returncode == -signal.SIGKILL, "the flushing process was killed with SIGKILL")
time.sleep(0.3)
print("sightings at the hub after the kill (the in-flight envelope may or may not have been "
      "committed): %d" % len(hub_sightings()), file=sys.stderr)
r = run("outbox", "status", "--outbox", box)
check("waiting\t300" in r.stdout, "after kill -9 all 300 are still queued: %s" % r.stdout)
r = run("outbox", "flush", url(), "--collection", sight, "--outbox", box, "--user", "alice")
check(r.returncode == 0 and "delivered 300" in r.stdout and "waiting 0" in r.stdout,
      "after kill -9: delivered: %s %s" % (r.stdout, r.stderr))
s = hub_sightings()
keys = [(o["id"], o["modified"]) for o in s]
check(len(keys) == 800 and len(set(keys)) == 800,
      "800 sightings, each version once, after a kill -9 mid-delivery (%d, %d distinct)"
      % (len(keys), len(set(keys))))

# Producers enqueue from several processes while a flush delivers: all arrive, once each.
procs = []
for w in range(4):
    f = write_jsonl("w%d.jsonl" % w, [sighting(i) for i in range(1000 + 100 * w,
                                                                  1100 + 100 * w)])
    procs.append(subprocess.Popen([K, "taxii", "outbox", "add", "--outbox", box, f],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
r = run("outbox", "flush", url(), "--collection", sight, "--outbox", box, "--user", "alice",
        "--batch", "50")
# 3 = done, with objects queued after the flush started still waiting for the next one
check(r.returncode in (0, 3) and r.stderr == "", "flush while producers enqueue: %d %s"
      % (r.returncode, r.stderr))
check(all(p.wait() == 0 for p in procs), "4 concurrent producers enqueued")
r = run("outbox", "flush", url(), "--collection", sight, "--outbox", box, "--user", "alice")
check(r.returncode == 0 and "waiting 0" in r.stdout, "the rest delivered: %s" % r.stdout)
s = hub_sightings()
keys = [(o["id"], o["modified"]) for o in s]
check(len(keys) == 1200 and len(set(keys)) == 1200, "1200 sightings, each once (%d)" % len(keys))

# An updated count is a new version of the same sighting; a refused one is dead-lettered.
upd = sighting(3, modified="2026-01-02T00:00:00.000Z")
upd["count"] = 42
broken = sighting(900)
del broken["sighting_of_ref"]
r = run("outbox", "add", "--outbox", box, write_jsonl("s3.jsonl", [upd, broken]))
r = run("outbox", "flush", url(), "--collection", sight, "--outbox", box, "--user", "alice")
check(r.returncode == 3 and "delivered 1, refused 1, waiting 0" in r.stdout,
      "one delivered, one refused: %s %s" % (r.stdout, r.stderr))
r = run("outbox", "dead", "--outbox", box)
dead = lines(r.stdout) if r.returncode == 0 else []
check(len(dead) == 1 and dead[0]["id"] == broken["id"] and "sighting_of_ref" in
      dead[0]["reason"] and dead[0]["object"] == broken, "dead letter with the reason: %r" % dead)
st, _, d = Client(hub, "alice", "pw-alice").get(
    "/api/collections/%s/objects/%s/" % (sight, upd["id"]))
check(st == 200 and d["objects"][0]["count"] == 42, "latest version of the sighting has count 42")

# ---- HTTPS with the hub's self-signed certificate -------------------------------------------
hub.stop()
hub.start(plain=False)
cert = os.path.join(hub.data, "hub-cert.pem")
surl = "https://127.0.0.1:%d/taxii2/" % hub.port
r = run("discover", surl, "--user", "alice", "--cacert", cert)
check(r.returncode == 0 and "/api/" in r.stdout, "HTTPS verified with --cacert: %s" % r.stderr)
r = run("discover", surl, "--user", "alice", "--retries", "0")
check(r.returncode == 1 and "HTTP" not in r.stderr, "HTTPS without trusting the certificate "
      "fails: %s" % r.stderr.strip())
r = run("discover", surl, "--user", "alice", "--insecure")
check(r.returncode == 0, "--insecure skips verification")
r = run("get", "https://127.0.0.1:%d/api/" % hub.port, "--collection", intel, "--limit", "10",
        "--user", "alice", "--cacert", cert)
check(r.returncode == 0 and len(lines(r.stdout)) == 10, "objects over HTTPS")
hub.stop()
finish()
