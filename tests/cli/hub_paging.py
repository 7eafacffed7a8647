"""100,000 objects posted in batches of 1,000 by concurrent clients, then paged back with
limit=1000 through `next` (objects) and through added_after (manifest): every object exactly
once, pages in strictly increasing date_added order."""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub_harness import Client, Hub, check, finish  # noqa: E402

K = sys.argv[1]
N, BATCH, WRITERS = 100000, 1000, 4
hub = Hub(K)
_, (cid,) = hub.org_user("Bulk", password="pw")
hub.start()
objs = "/api/collections/%s/objects/" % cid

TEMPLATE = ('{"type":"indicator","spec_version":"2.1","id":"indicator--%s",'
            '"created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z",'
            '"pattern":"[ipv4-addr:value = \'%s\']","pattern_type":"stix",'
            '"valid_from":"2020-01-01T00:00:00Z"}')


def oid(i):
    return "%08x-0000-4000-8000-%012x" % (i >> 16, i)


def batch_body(b):
    items = []
    for i in range(b * BATCH, (b + 1) * BATCH):
        items.append(TEMPLATE % (oid(i), "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)))
    return ('{"objects":[' + ",".join(items) + "]}").encode()


errors = []
t0 = time.time()


def writer(w):
    c = Client(hub, "alice", "pw")
    for b in range(w, N // BATCH, WRITERS):
        st, _, doc = c.post(objs, batch_body(b))
        if st != 202 or doc["success_count"] != BATCH:
            errors.append((b, st, doc if st != 202 else doc["failures"][:2]))


threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
t_ingest = time.time() - t0
check(not errors, "every batch accepted: %r" % errors[:3])

c = Client(hub, "alice", "pw")
t0 = time.time()
seen, pages, nxt, prev_last = set(), 0, None, ""
dups = 0
order_ok = True
while True:
    params = {"limit": "1000"}
    if nxt:
        params["next"] = nxt
    st, r, doc = c.get(objs, params=params)
    if st != 200:
        check(False, "page %d status %d %r" % (pages, st, doc))
        break
    page = doc.get("objects", [])
    pages += 1
    first = r.getheader("X-TAXII-Date-Added-First")
    if page:
        order_ok &= first > prev_last
        prev_last = r.getheader("X-TAXII-Date-Added-Last")
    for o in page:
        if o["id"] in seen:
            dups += 1
        seen.add(o["id"])
    nxt = doc.get("next")
    if not doc.get("more"):
        break
    if len(page) > 1000:
        check(False, "page larger than limit")
t_read = time.time() - t0
check(dups == 0, "no duplicates (%d)" % dups)
check(len(seen) == N, "every object once: %d of %d" % (len(seen), N))
check(seen == {"indicator--" + oid(i) for i in range(N)}, "exactly the posted ids")
check(pages == N // 1000, "%d pages" % pages)
check(order_ok, "pages in strictly increasing date_added order")

# the manifest, paged with added_after = X-TAXII-Date-Added-Last (no next on manifests)
t0 = time.time()
after, count, das = None, 0, []
while True:
    params = {"limit": "1000"}
    if after:
        params["added_after"] = after
    st, r, doc = c.get("/api/collections/%s/manifest/" % cid, params=params)
    recs = doc.get("objects", []) if st == 200 else []
    if not recs:
        break
    count += len(recs)
    das.extend(m["date_added"] for m in recs[:1] + recs[-1:])
    after = r.getheader("X-TAXII-Date-Added-Last")
check(count == N, "manifest paging by added_after sees %d of %d" % (count, N))
check(das == sorted(das) and len(set(das)) == len(das), "date_added strictly increasing")
t_manifest = time.time() - t0
print("ingest %.1fs (%.0f obj/s), objects paging %.1fs (%.0f obj/s), manifest %.1fs"
      % (t_ingest, N / t_ingest, t_read, N / t_read, t_manifest), file=sys.stderr)
finish()
