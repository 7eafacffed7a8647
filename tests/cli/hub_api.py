"""Every TAXII 2.1 endpoint of the hub, its filters, error codes and permission rules."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub_harness import MT, Client, Hub, check, finish, indicator  # noqa: E402

K = sys.argv[1]
hub = Hub(K)
conf = os.path.join(hub.tmp, "hub.conf")
with open(conf, "w") as f:
    f.write("# test configuration\ntitle = Test hub\nmax_content_length = 200000\n"
            "page_size = 50\nthreads 4\nbody_timeout = 2\ntlp_ceiling = amber\n")
hub.config = conf

# ---- accounts and grants -------------------------------------------------------------------
hub.admin("org", "add", "acme")
hub.admin("org", "add", "other")
hub.admin("org", "add", "partners")
for user, org in (("alice", "acme"), ("alice2", "acme"), ("bob", "other"), ("carol", "other"),
                  ("dave", "other"), ("erin", "partners")):
    hub.admin("user", "add", user, "--org", org, stdin="pw-" + user + "\n")
c1 = hub.admin("collection", "add", "--title", "One", "--description", "first",
               "--alias", "one").stdout.strip()
c2 = hub.admin("collection", "add", "--title", "Two", "--id",
               "6f0b2b5e-5f43-4d0f-8d0c-7f6c6a0b9e11").stdout.strip()
check(c2 == "6f0b2b5e-5f43-4d0f-8d0c-7f6c6a0b9e11", "collection add keeps the given id")
hub.admin("grant", "read,write", "one", "--user", "alice")
hub.admin("grant", "read", c2, "--user", "alice")
hub.admin("grant", "read", "one", "--user", "bob")
hub.admin("grant", "write", "one", "--user", "carol")
hub.admin("grant", "read", "one", "--org", "partners")
hub.admin("grant", "read", "one", "--org", "acme")
token = hub.admin("token", "add", "alice", "ci").stdout.strip()
check(token.startswith("kzt_") and len(token) > 40, "token printed")
dup = hub.admin("collection", "add", "--title", "x", "--alias", "one", ok=False)
check(dup.returncode == 1 and "already" in dup.stderr, "duplicate alias refused")
check(hub.admin("user", "add", "zed", "--org", "nope", stdin="x\n", ok=False).returncode == 1,
      "user in a missing org refused")
check(hub.admin("user", "add", "zed", "--org", "acme", ok=False, stdin="").returncode == 2,
      "user add without a password is bad usage")
check(hub.admin("root", "add", "trust-1", "--title", "Trust group", "--description", "t").returncode
      == 0, "root add")
check(hub.admin("root", "add", "taxii2", ok=False).returncode == 1, "root 'taxii2' refused")
check(hub.admin("frobnicate", ok=False).returncode == 2, "unknown admin action is bad usage")
check(hub.admin("grant", "execute", "one", "--user", "alice", ok=False).returncode == 2,
      "grant of an unknown right is bad usage")
ul = hub.admin("user", "list").stdout
check("alice\tacme" in ul and "pw-" not in ul, "user list shows accounts, no secrets")
check(c1 in hub.admin("collection", "list").stdout, "collection list")
check("acme\tidentity--" in hub.admin("org", "list").stdout, "org list shows identities")

hub.start()
alice = Client(hub, "alice", "pw-alice")
alice_t = Client(hub, token=token)
alice2 = Client(hub, "alice2", "pw-alice2")
bob = Client(hub, "bob", "pw-bob")
carol = Client(hub, "carol", "pw-carol")
dave = Client(hub, "dave", "pw-dave")
erin = Client(hub, "erin", "pw-erin")
anon = Client(hub)
root = "/api/"
coll = root + "collections/" + c1 + "/"
objs = coll + "objects/"

# ---- authentication and negotiation --------------------------------------------------------
st, r, doc = anon.get("/taxii2/")
check(st == 401 and "Basic" in (r.getheader("WWW-Authenticate") or ""), "401 with challenge")
check(doc and doc.get("http_status") == "401" and doc.get("title"), "401 error object")
check(r.getheader("Content-Type") == MT, "error content type")
st, _, _ = Client(hub, "alice", "wrong").get("/taxii2/")
check(st == 401, "wrong password is 401")
st, _, _ = Client(hub, token="kzt_nope").get("/taxii2/")
check(st == 401, "unknown token is 401")
st, _, _ = Client(hub, "nobody", "x").get("/taxii2/")
check(st == 401, "unknown user is 401")
st, _, _ = alice.get("/taxii2/", headers={"Authorization": "Basic !!!"})
check(st == 401, "malformed basic is 401")
for acc, want in ((MT, 200), ("application/taxii+json", 200),
                  ("application/json, application/taxii+json;version=2.1;q=0.5", 200),
                  ("application/taxii+json;version=2.0", 406), ("application/json", 406),
                  ("*/*", 406), (None, 406), ("application/taxii+json;version=2.1;q=0", 406)):
    st, r, doc = alice.get("/taxii2/", accept=acc)
    check(st == want, "Accept %r -> %d (got %d)" % (acc, want, st))
    check(r.getheader("Content-Type") == MT, "content type for Accept %r" % acc)
st, r, doc = alice.get("/taxii2/", accept=MT)
check(doc["title"] == "Test hub" and doc["api_roots"] == ["/api/", "/trust-1/"] and
      doc["default"] == "/api/", "discovery resource: %r" % doc)
st, _, doc = alice.get("/trust-1/")
check(st == 200 and doc["title"] == "Trust group" and doc["description"] == "t", "second root")
st, _, doc = alice.get("/trust-1/collections/")
check(st == 200 and doc == {}, "collections are per root")
check(alice.get("/trust-1/collections/" + c1 + "/")[0] == 404, "collection not in another root")
st, r, doc = alice_t.get("/taxii2/")
check(st == 200, "bearer token works")
st, r, doc = alice.get("/taxii2/", headers={"Authorization": "Token " + token})
check(st == 200, "'Token' scheme (taxii2-client TokenAuth) works")

# ---- API root, collections -----------------------------------------------------------------
st, r, doc = alice.get(root)
check(st == 200 and doc["versions"] == [MT] and doc["max_content_length"] == 200000,
      "api root resource")
check(alice.get("/nope/")[0] == 404, "unknown api root 404")
check(alice.get("/api")[0] == 404, "path without trailing slash is 404")
check(alice.req("POST", "/taxii2/", body={})[0] == 405, "POST discovery 405")
st, r, doc = alice.get(root + "collections/")
ids = [c["id"] for c in doc["collections"]]
check(st == 200 and ids == [c1, c2], "collections in creation order: %r" % ids)
one = doc["collections"][0]
check(one["can_read"] and one["can_write"] and one["alias"] == "one" and
      one["description"] == "first" and "application/stix+json;version=2.1" in one["media_types"],
      "collection resource fields")
st, r, doc = dave.get(root + "collections/")
check(st == 200 and doc == {}, "no collections: empty object")
st, r, doc = bob.get(coll)
check(st == 200 and doc["can_read"] and not doc["can_write"], "bob read-only")
st, r, doc = carol.get(root + "collections/one/")
check(st == 200 and not doc["can_read"] and doc["can_write"], "carol write-only, by alias")
check(dave.get(coll)[0] == 404, "no rights: collection 404")
check(erin.get(coll)[0] == 200, "org grant gives read")
check(alice.get(root + "collections/" + "0" * 8 + "-0000-4000-8000-" + "0" * 12 + "/")[0] == 404,
      "unknown collection 404")
check(alice.req("DELETE", coll)[0] == 405, "DELETE collection 405")

# ---- POST ----------------------------------------------------------------------------------
env = {"objects": [indicator(1), indicator(2), indicator(3, spec="2.0")]}
check(alice.post(objs, env, ctype="application/json")[0] == 415, "415 wrong content type")
check(alice.post(objs, env, ctype=None)[0] == 415, "415 without content type")
check(alice.post(objs, env, accept="application/json")[0] == 406, "POST 406")
check(bob.post(objs, env)[0] == 403, "read-only POST 403")
check(dave.post(objs, env)[0] == 404, "no-rights POST 404")
check(anon.post(objs, env)[0] == 401, "anonymous POST 401")
st, _, doc = alice.post(objs, b'{"objects": [')
check(st == 400 and "1:" in doc.get("description", ""), "400 on broken JSON with a position")
check(alice.post(objs, b'{"objects": 1}')[0] == 422, "422 on non-envelope")
check(alice.post(objs, b'[1]')[0] == 422, "422 on array body")
check(alice.post(objs, b'{"objects":[],"a":1,"a":2}')[0] == 400, "duplicate keys rejected")
big = {"objects": [indicator(i, name="x" * 1000) for i in range(300)]}
st, _, doc = alice.post(objs, big)
check(st == 413 and doc["http_status"] == "413", "413 above max_content_length")
st, r, doc = alice.post(objs, env)
check(st == 202 and r.getheader("Content-Type") == MT, "POST 202")
check(doc["status"] == "complete" and doc["total_count"] == 3 and doc["success_count"] == 3 and
      doc["failure_count"] == 0 and doc["pending_count"] == 0, "status counts %r" % doc)
sid = doc["id"]
check([s["version"] for s in doc["successes"]] == ["2020-01-01T00:00:00.000Z"] * 3,
      "success versions")
bad = indicator(9)
del bad["pattern"]
st, _, doc = alice.post(objs, {"objects": [indicator(1), bad, 7,
                                           dict(indicator(2), name="changed")]})
check(st == 202 and doc["success_count"] == 1 and doc["failure_count"] == 3,
      "duplicate is success, invalid/conflict fail: %r" % doc)
# what taxii2-client's Status validation demands of every status resource
check(len(doc["successes"]) == doc["success_count"] and len(doc["failures"]) ==
      doc["failure_count"] and doc["success_count"] + doc["failure_count"] +
      doc["pending_count"] == doc["total_count"] == 4, "status counts are consistent")
msgs = {f["id"]: f.get("message", "") for f in doc["failures"]}
check("pattern" in msgs.get(bad["id"], ""), "failure names the missing property: %r" % msgs)
check("already" in msgs.get(indicator(2)["id"], ""), "conflict message")
st, _, doc = carol.post(objs, {"objects": [indicator(10, modified="2021-01-01T00:00:00.000Z",
                                                     uuid="00000000-0000-4000-8000-000000000001")]})
check(st == 202 and doc["success_count"] == 1, "write-only account may POST a new version")
st, _, doc = alice.post(objs, {"objects": [
    indicator(11, modified="2019-01-01T00:00:00.000Z", created="2019-01-01T00:00:00.000Z",
              uuid="00000000-0000-4000-8000-000000000001"),
    indicator(12, modified="2022-06-01T00:00:00.123Z", uuid="00000000-0000-4000-8000-000000000001")]})
check(st == 202 and doc["success_count"] == 2, "two more versions")
st, _, doc = alice.post(objs, {})
check(st == 202 and doc["total_count"] == 0, "empty envelope")

# ---- status --------------------------------------------------------------------------------
st, _, doc = alice.get(root + "status/" + sid + "/")
check(st == 200 and doc["id"] == sid and doc["success_count"] == 3, "status GET")
check(alice2.get(root + "status/" + sid + "/")[0] == 200, "colleague sees status")
check(bob.get(root + "status/" + sid + "/")[0] == 404, "other org: status 404")
check(alice.get(root + "status/2d086da7-4bdc-4f91-900e-d77486753710/")[0] == 404,
      "unknown status 404")

# ---- objects, filters, headers -------------------------------------------------------------
ID1 = "indicator--00000000-0000-4000-8000-000000000001"
st, r, doc = alice.get(objs)
got = [(o["id"], o["modified"]) for o in doc["objects"]]
check(st == 200 and len(got) == 3, "latest versions only by default: %r" % got)
check((ID1, "2022-06-01T00:00:00.123Z") in got, "last version of ID1")
first_h, last_h = r.getheader("X-TAXII-Date-Added-First"), r.getheader("X-TAXII-Date-Added-Last")
st, r, man = alice.get(coll + "manifest/")
das = [m["date_added"] for m in man["objects"]]
check(st == 200 and das == sorted(das) and len(das) == 3, "manifest sorted by date_added")
check(first_h == das[0] and last_h == das[-1], "date-added headers match manifest")
check(r.getheader("X-TAXII-Date-Added-First") == das[0], "manifest headers")
check(all(m["media_type"].startswith("application/stix+json;version=2.") for m in man["objects"]),
      "manifest media types")
check(any(m["media_type"].endswith("2.0") for m in man["objects"]), "2.0 object manifest")


def ids_of(params, who=alice, path=objs):
    st, r, doc = who.get(path, params=params)
    if st != 200:
        return st
    return [(o["id"], o.get("modified", o.get("version"))) for o in (doc or {}).get("objects", [])]


check(len(ids_of({"match[version]": "all"})) == 6, "all versions (ID1 has 4)")
check(ids_of({"match[version]": "first", "match[id]": ID1}) ==
      [(ID1, "2019-01-01T00:00:00.000Z")], "first version")
check(sorted(ids_of({"match[version]": "first,last", "match[id]": ID1})) ==
      [(ID1, "2019-01-01T00:00:00.000Z"), (ID1, "2022-06-01T00:00:00.123Z")], "first,last")
check(ids_of({"match[version]": "2021-01-01T00:00:00Z"}) == [(ID1, "2021-01-01T00:00:00.000Z")],
      "exact version compares instants")
check(len(ids_of({"match[version]": "2020-01-01T00:00:00.000Z,2021-01-01T00:00:00.000Z"})) == 4,
      "version list")
check(ids_of({"match[spec_version]": "2.0"}) == [(indicator(3)["id"], "2020-01-01T00:00:00.000Z")],
      "spec_version 2.0")
check(len(ids_of({"match[spec_version]": "2.1"})) == 2, "spec_version 2.1")
check(len(ids_of({"match[type]": "indicator,malware"})) == 3, "type list")
check(ids_of({"match[type]": "malware"}) == [], "type with no match")
check(len(ids_of({"match[id]": ID1 + "," + indicator(2)["id"]})) == 2, "id list")
check(ids_of({"match[type]": "indicator", "match[id]": ID1, "match[version]": "all"}) is not None
      and len(ids_of({"match[type]": "indicator", "match[id]": ID1, "match[version]": "all"})) == 4,
      "filters AND together")
st, r, empty = alice.get(objs, params={"match[type]": "malware", "added_after": das[1]})
check(st == 200 and empty == {}, "empty envelope is {}")
check(r.getheader("X-TAXII-Date-Added-Last") == das[1] and
      r.getheader("X-TAXII-Date-Added-First") == das[1], "empty page headers keep the position")
check(ids_of({"added_after": das[0]}) == ids_of({})[1:], "added_after excludes the boundary")
check(ids_of({"added_after": das[-1]}) == [], "added_after last: nothing")
for bad_params in ({"limit": "0"}, {"limit": "-1"}, {"limit": "x"}, {"limit": ""},
                   {"added_after": "yesterday"}, {"added_after": "2020-01-01"},
                   {"match[version]": "all,last"}, {"match[version]": "last,last"},
                   {"match[version]": "2020-13-01T00:00:00Z"}, {"match[type]": "a,,b"},
                   {"next": "garbage"}, {"next": "1.0000000000000000"}):
    st, _, doc = alice.get(objs, params=bad_params)
    check(st == 400 and doc.get("http_status") == "400", "400 for %r" % bad_params)
st, _, doc = alice.get(objs + "?limit=1&limit=2")
check(st == 400 and "more than once" in doc["description"], "repeated parameter 400")
check(alice.get(objs + "?match[foo]=bar")[0] == 200, "unknown match field ignored")

# paging with limit and next; page size cap 50 from the config
st, r, p1 = alice.get(objs, params={"limit": "2", "match[version]": "all"})
check(st == 200 and len(p1["objects"]) == 2 and p1["more"] is True and p1.get("next"),
      "page 1 more/next")
seen = [o["id"] + o["modified"] for o in p1["objects"]]
nxt = p1["next"]
while nxt:
    st, r, p = alice.get(objs, params={"limit": "2", "match[version]": "all", "next": nxt})
    check(st == 200, "next page")
    seen += [o["id"] + o["modified"] for o in p.get("objects", [])]
    nxt = p.get("next")
    check(bool(p.get("more")) == bool(nxt), "more iff next")
check(len(seen) == 6 and len(set(seen)) == 6, "paged all 6 versions once: %d" % len(seen))
st, _, doc = alice.get(objs, params={"limit": "2", "next": p1["next"]})
check(st == 400 and "another query" in doc["description"], "next bound to its query")
st, _, doc = alice.get(coll + "manifest/", params={"limit": "1000"})
check(st == 200 and len(doc["objects"]) == 3, "limit above cap is capped, not an error")
st, _, doc = alice.get(coll + "manifest/", params={"limit": "9" * 40})
check(st == 200 and len(doc["objects"]) == 3, "limit beyond 64 bits is capped, not an error")
st, _, doc = alice.get(coll + "manifest/", params={"limit": "1", "match[version]": "all"})
check(doc["more"] is True and len(doc["objects"]) == 1 and doc.get("next"),
      "manifest pages with more and next (as taxii2-client expects)")
mseen, mnext = [doc["objects"][0]["date_added"]], doc.get("next")
while mnext:
    st, _, d2 = alice.get(coll + "manifest/", params={"limit": "1", "match[version]": "all",
                                                      "next": mnext})
    mseen += [m["date_added"] for m in d2.get("objects", [])]
    mnext = d2.get("next")
check(len(mseen) == 6 and len(set(mseen)) == 6, "manifest next paging: %d" % len(mseen))
# paging by added_after with the Last header
after, n = None, 0
while True:
    params = {"limit": "1", "match[version]": "all"}
    if after:
        params["added_after"] = after
    st, r, doc = alice.get(coll + "manifest/", params=params)
    if not doc.get("objects"):
        break
    n += len(doc["objects"])
    after = r.getheader("X-TAXII-Date-Added-Last")
    check(after == doc["objects"][-1]["date_added"], "Last header = last record")
check(n == 6, "added_after paging sees every version: %d" % n)

# ---- permissions on reads ------------------------------------------------------------------
check(carol.get(objs)[0] == 403, "write-only GET objects 403")
check(carol.get(coll + "manifest/")[0] == 403, "write-only manifest 403")
check(dave.get(objs)[0] == 404, "no-rights objects 404")
check(bob.get(objs)[0] == 200, "read-only GET objects")
check(erin.get(coll + "manifest/")[0] == 200, "org read grant")

# ---- one object, versions, delete ----------------------------------------------------------
o1 = objs + ID1 + "/"
st, r, doc = alice.get(o1)
check(st == 200 and [o["modified"] for o in doc["objects"]] == ["2022-06-01T00:00:00.123Z"],
      "get an object: last version")
check(r.getheader("X-TAXII-Date-Added-First") and r.getheader("X-TAXII-Date-Added-Last"),
      "object headers")
st, r, doc = alice.get(o1, params={"match[version]": "all"})
check(st == 200 and len(doc["objects"]) == 4, "object all versions")
st, r, doc = alice.get(o1, params={"match[version]": "all", "limit": "1"})
check(doc["more"] is True and doc["next"], "object paging")
st, r, doc = alice.get(o1 + "versions/")
check(st == 200 and sorted(doc["versions"]) == ["2019-01-01T00:00:00.000Z",
                                                "2020-01-01T00:00:00.000Z",
                                                "2021-01-01T00:00:00.000Z",
                                                "2022-06-01T00:00:00.123Z"],
      "versions resource: %r" % doc)
check(r.getheader("X-TAXII-Date-Added-First") is not None, "versions headers")
st, r, doc = alice.get(o1 + "versions/", params={"limit": "2"})
check(len(doc["versions"]) == 2 and doc["more"] is True, "versions paging")
check(alice.get(o1 + "versions/", params={"match[spec_version]": "2.0"})[2] == {},
      "versions spec filter")
missing = objs + "indicator--11111111-1111-4111-8111-111111111111/"
check(alice.get(missing)[0] == 404, "unknown object 404")
check(alice.get(missing + "versions/")[0] == 404, "unknown object versions 404")
check(alice.req("POST", o1, body={})[0] == 405, "POST to an object 405")
check(bob.req("DELETE", o1)[0] == 403, "DELETE read-only 403")
check(carol.req("DELETE", o1)[0] == 403, "DELETE write-only 403")
check(dave.req("DELETE", o1)[0] == 404, "DELETE no rights 404")
check(alice.req("DELETE", missing)[0] == 404, "DELETE unknown 404")
st, r, _ = alice.req("DELETE", o1, params={"match[version]": "first"})
check(st == 200 and r.getheader("Content-Type") == MT, "DELETE first version")
st, _, doc = alice.get(o1 + "versions/")
check(sorted(doc["versions"]) == ["2020-01-01T00:00:00.000Z", "2021-01-01T00:00:00.000Z",
                                  "2022-06-01T00:00:00.123Z"], "first version gone")
check(ids_of({"match[version]": "first", "match[id]": ID1}) == [(ID1, "2020-01-01T00:00:00.000Z")],
      "first recomputed after delete")
check(alice.req("DELETE", o1, params={"match[version]": "last"})[0] == 200, "DELETE last")
check(ids_of({"match[id]": ID1}) == [(ID1, "2021-01-01T00:00:00.000Z")],
      "last recomputed after delete")
check(alice.req("DELETE", o1)[0] == 200, "DELETE all versions")
check(alice.get(o1)[0] == 404, "deleted object 404")
st, _, doc = alice.get(coll + "manifest/", params={"match[version]": "all"})
check(all(m["id"] != ID1 for m in doc["objects"]), "deleted object not in manifest")

# ---- sharing rule: above tlp_ceiling (amber here) only the creator's organisation reads --
RED2 = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
AMBER2 = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
red = dict(indicator(500), object_marking_refs=[RED2])
amber = dict(indicator(501), object_marking_refs=[AMBER2])
st, _, doc = alice.post(objs, {"objects": [red, amber]})
check(st == 202 and doc["success_count"] == 2, "marked objects stored: %r" % doc)
for who, name, sees_red in ((alice2, "alice2 (same org)", True), (bob, "bob (other org)", False),
                            (erin, "erin (org grant)", False)):
    got = ids_of({"match[id]": red["id"] + "," + amber["id"]}, who=who)
    check(isinstance(got, list), "read by %s: %r" % (name, got))
    got = {o[0] for o in got} if isinstance(got, list) else set()
    check((red["id"] in got) == sees_red and amber["id"] in got,
          "TLP:RED visible to %s: %s" % (name, sees_red))
    st, _, m = who.get(coll + "manifest/", params={"match[id]": red["id"]})
    check((len(m.get("objects", [])) == 1) == sees_red, "manifest honours TLP for " + name)

# ---- second collection is separate ---------------------------------------------------------
st, _, doc = alice.get(root + "collections/" + c2 + "/objects/")
check(st == 200 and doc == {}, "other collection empty")
check(alice.post(root + "collections/" + c2 + "/objects/", env)[0] == 403,
      "read-only collection POST 403")

# ---- revocation and deletion of accounts ---------------------------------------------------
hub.admin("revoke", "read", "one", "--user", "bob")
check(hub.admin("token", "revoke", "alice", "ci").returncode == 0, "token revoke")
check(hub.admin("token", "revoke", "alice", "ci", ok=False).returncode == 1, "revoke twice fails")
hub.admin("user", "del", "dave")
hub.stop()
hub.start()  # a fresh process: no cached authentications
check(Client(hub, "bob", "pw-bob").get(objs)[0] == 404, "revoked grant: 404")
check(Client(hub, token=token).get("/taxii2/")[0] == 401, "revoked token: 401")
check(Client(hub, "dave", "pw-dave").get("/taxii2/")[0] == 401, "deleted user: 401")
check(Client(hub, "alice", "pw-alice").get(objs)[0] == 200, "data survives restart")

# ---- limits --------------------------------------------------------------------------------
s = socket.create_connection(("127.0.0.1", hub.port), timeout=10)
s.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
resp = b""
try:
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        resp += chunk
except OSError:
    pass
s.close()
check(resp == b"" or int(resp.split()[1]) in (413, 431), "oversized headers refused: %r" % resp[:40])
check(Client(hub, "alice", "pw-alice").get("/taxii2/")[0] == 200, "hub alive after abuse")

# bodies are never read before the headers pass: no buffering for strangers
def raw_post(auth_header):
    so = socket.create_connection(("127.0.0.1", hub.port), timeout=5)
    hdr = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 150000\r\nAccept: %s\r\n"
           "Content-Type: %s\r\n%s\r\n" % (objs, MT, MT, auth_header))
    so.sendall(hdr.encode())  # and no body at all
    try:
        line = so.recv(4096).split(b"\r\n")[0]
    except OSError:
        line = b""
    so.close()
    return line


t0 = time.time()
check(raw_post("").startswith(b"HTTP/1.1 401"), "401 before any body is sent")
check(raw_post("Authorization: Basic Ym9iOnB3LWJvYg==\r\n").startswith(b"HTTP/1.1 404"),
      "revoked reader: refused before any body is sent")
check(time.time() - t0 < 3, "refusals did not wait for the body")

# slow clients hold only their own connections
slow = []
for _ in range(40):
    so = socket.create_connection(("127.0.0.1", hub.port), timeout=10)
    so.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
    slow.append(so)
t0 = time.time()
check(Client(hub, "alice", "pw-alice").get("/taxii2/")[0] == 200 and time.time() - t0 < 2,
      "served while 40 clients stall (%.2fs)" % (time.time() - t0))
# a body trickled in slower than body_timeout is cut off
tr = socket.create_connection(("127.0.0.1", hub.port), timeout=10)
tr.sendall(b"POST " + objs.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
           b"Accept: " + MT.encode() + b"\r\nContent-Type: " + MT.encode() + b"\r\n\r\n{")
closed = False
t0 = time.time()
try:
    while time.time() - t0 < 8:
        time.sleep(0.5)
        tr.sendall(b" ")
except OSError:
    closed = True
check(closed and time.time() - t0 < 6, "trickled body cut after body_timeout (%.1fs)" % (time.time() - t0))
for so in slow + [tr]:
    so.close()
check(Client(hub, "alice", "pw-alice").get("/taxii2/")[0] == 200, "hub alive after stalls")

# ---- the log -------------------------------------------------------------------------------
log = hub.logtext()
check("GET /api/collections/ 200" in log and " alice" in log, "one line per request")
check("pw-" not in log and token not in log and "Basic" not in log, "no credential in the log")
check("?" not in "".join(l for l in log.splitlines() if l.startswith("GET")),
      "no query strings in the log")
finish()
