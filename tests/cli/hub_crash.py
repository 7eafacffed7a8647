"""kill -9 during concurrent ingest: everything acknowledged with a 202 (objects and their
status resources) is there after a restart, twice over; nothing is duplicated."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub_harness import Client, Hub, check, finish, indicator  # noqa: E402

K = sys.argv[1]
hub = Hub(K)
_, (cid,) = hub.org_user("Crash", password="pw")
objs = "/api/collections/%s/objects/" % cid
acked, statuses = set(), []
lock = threading.Lock()
counter = [0]


def writer(stop):
    c = Client(hub, "alice", "pw")
    while not stop.is_set():
        with lock:
            base = counter[0]
            counter[0] += 200
        batch = [indicator(base + i) for i in range(200)]
        try:
            st, _, doc = c.post(objs, {"objects": batch})
        except Exception:
            return  # the hub died under us: this batch was never acknowledged
        if st == 202:
            with lock:
                acked.update(o["id"] for o in batch)
                statuses.append(doc["id"])


for rnd in range(2):
    hub.start()
    stop = threading.Event()
    ts = [threading.Thread(target=writer, args=(stop,)) for _ in range(4)]
    for t in ts:
        t.start()
    time.sleep(1.0)
    hub.kill9()  # mid-ingest: writers are blocked in requests right now
    stop.set()
    for t in ts:
        t.join()
    check(len(acked) > 0, "round %d: some batches were acknowledged" % rnd)

hub.start()
c = Client(hub, "alice", "pw")
stored, nxt, dups = set(), None, 0
while True:
    params = {"limit": "1000"}
    if nxt:
        params["next"] = nxt
    st, _, doc = c.get(objs, params=params)
    if not check(st == 200, "read back after crash"):
        break
    for o in doc.get("objects", []):
        dups += o["id"] in stored
        stored.add(o["id"])
    nxt = doc.get("next")
    if not nxt:
        break
lost = acked - stored
check(not lost, "acknowledged objects lost after kill -9: %d of %d" % (len(lost), len(acked)))
check(dups == 0, "no duplicates after recovery")
missing_status = [s for s in statuses if c.get("/api/status/%s/" % s)[0] != 200]
check(not missing_status, "acknowledged status resources survive: %r" % missing_status[:3])
print("acknowledged %d objects in %d requests; %d stored (unacknowledged in-flight batches may"
      " or may not be)" % (len(acked), len(statuses), len(stored)), file=sys.stderr)
finish()
