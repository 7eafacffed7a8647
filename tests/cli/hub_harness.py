"""Harness for the hub integration tests (tests/cli/hub_*.sh): a real `kizuna hub` on
127.0.0.1 with a kernel-chosen port, driven over HTTP(S) with the standard library only.

The hub is always killed at the end (atexit and signal handlers), whatever happens.
Never contacts anything but 127.0.0.1.
"""
import atexit
import base64
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

MT = "application/taxii+json;version=2.1"

_procs = []
_failures = []
_checks = [0]


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(_cleanup)
for _s in (signal.SIGTERM, signal.SIGINT):
    signal.signal(_s, lambda *a: sys.exit(1))


def check(cond, what):
    _checks[0] += 1
    if not cond:
        _failures.append(what)
        print("FAIL: " + what, file=sys.stderr)
    return cond


def finish():
    _cleanup()
    print("%d checks, %d failed" % (_checks[0], len(_failures)), file=sys.stderr)
    sys.exit(1 if _failures else 0)


class Hub:
    def __init__(self, kizuna, data=None, config=None):
        self.k = kizuna
        self.tmp = tempfile.mkdtemp(prefix="kz-hub-")
        atexit.register(shutil.rmtree, self.tmp, True)
        self.data = data or os.path.join(self.tmp, "data")
        self.config = config
        self.proc = None
        self.port = None
        self.tls = False
        self.logpath = os.path.join(self.tmp, "hub.log")

    def admin(self, *args, stdin=None, ok=True):
        r = subprocess.run([self.k, "admin", "--data", self.data] + list(args),
                           input=stdin, capture_output=True, text=True, timeout=60)
        if ok and r.returncode != 0:
            raise RuntimeError("admin %s failed: %s" % (args, r.stderr))
        return r

    def org_user(self, *titles, password="pw-alice"):
        """The usual tenant: org "acme", user "alice" with the password, and one collection
        per title that alice may read and write. Returns (org id, [collection ids])."""
        org = self.admin("org", "add", "acme").stdout.split()[-1]
        self.admin("user", "add", "alice", "--org", "acme", stdin=password + "\n")
        ids = []
        for t in titles:
            c = self.admin("collection", "add", "--title", t).stdout.strip()
            self.admin("grant", "read,write", c, "--user", "alice")
            ids.append(c)
        return org, ids

    def start(self, plain=True, extra=()):
        args = [self.k, "hub", "--data", self.data, "--listen", "127.0.0.1:0"]
        if plain:
            args.append("--plain-http")
        if self.config:
            args += ["--config", self.config]
        args += list(extra)
        self.log = open(self.logpath, "a")
        self.log_start = os.path.getsize(self.logpath)
        self.proc = subprocess.Popen(args, stderr=self.log, stdout=subprocess.DEVNULL)
        _procs.append(self.proc)
        deadline = time.time() + 15
        while time.time() < deadline:
            with open(self.logpath) as f:
                f.seek(self.log_start)
                m = re.search(r"listening on (https?)://127\.0\.0\.1:(\d+)/", f.read())
            if m:
                self.tls = m.group(1) == "https"
                self.port = int(m.group(2))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("hub exited: " + open(self.logpath).read())
            time.sleep(0.02)
        raise RuntimeError("hub did not start: " + open(self.logpath).read())

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def logtext(self):
        with open(self.logpath) as f:
            return f.read()

    def conn(self, ctx=None):
        if self.tls:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=60, context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)


class Client:
    """One keep-alive connection with a set of credentials."""

    def __init__(self, hub, user=None, password=None, token=None, ctx=None):
        self.hub = hub
        self.ctx = ctx
        self.c = hub.conn(ctx)
        self.auth = None
        if user is not None:
            self.auth = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        elif token is not None:
            self.auth = "Bearer " + token

    def req(self, method, path, params=None, body=None, accept=MT, ctype=MT, headers=None,
            auth=True):
        if params:
            path += "?" + urllib.parse.urlencode(params, safe=",[]:")
        h = {}
        if accept is not None:
            h["Accept"] = accept
        if auth and self.auth:
            h["Authorization"] = self.auth
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            if isinstance(data, str):
                data = data.encode()
            if ctype is not None:
                h["Content-Type"] = ctype
        if headers:
            h.update(headers)
        for attempt in range(2):
            try:
                self.c.request(method, path, body=data, headers=h)
                r = self.c.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, ConnectionError, OSError):
                self.c.close()
                self.c = self.hub.conn(self.ctx)
                if attempt:
                    raise
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw
        return r.status, r, doc

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.req("POST", path, body=body, **kw)


def indicator(i, modified="2020-01-01T00:00:00.000Z", uuid=None, spec="2.1", name=None,
              created="2020-01-01T00:00:00.000Z"):
    uid = uuid or "00000000-0000-4000-8000-%012x" % i
    o = {
        "type": "indicator",
        "id": "indicator--" + uid,
        "created": created,
        "modified": modified,
        "name": name or ("ind %d" % i),
        "pattern": "[ipv4-addr:value = '10.%d.%d.%d']" % ((i >> 16) & 255, (i >> 8) & 255, i & 255),
        "pattern_type": "stix",
        "valid_from": "2020-01-01T00:00:00Z",
    }
    if spec == "2.1":
        o["spec_version"] = "2.1"
    else:
        del o["pattern_type"]
        o["labels"] = ["malicious-activity"]
    return o
