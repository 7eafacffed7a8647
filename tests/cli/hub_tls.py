"""HTTPS by default: first start on an empty data directory generates a self-signed certificate
(said in the log); clients that trust that certificate verify it for 127.0.0.1 and negotiate
TLS 1.2 or later; TLS 1.1 is refused; plain HTTP is refused off loopback; -n checks config."""
import os
import ssl
import subprocess
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub_harness import Client, Hub, check, finish  # noqa: E402

K = sys.argv[1]
hub = Hub(K)
hub.admin("org", "add", "acme")
hub.admin("user", "add", "alice", "--org", "acme", stdin="pw\n")

# plain HTTP off loopback, and bad configuration, are refused before anything starts
r = subprocess.run([K, "hub", "--data", hub.data, "--listen", "0.0.0.0:0", "--plain-http"],
                   capture_output=True, text=True, timeout=30)
check(r.returncode == 2 and "refusing plain HTTP" in r.stderr, "plain HTTP off loopback refused")
bad = os.path.join(hub.tmp, "bad.conf")
with open(bad, "w") as f:
    f.write("page_size = 0\n")
r = subprocess.run([K, "hub", "--data", hub.data, "--config", bad, "-n"], capture_output=True,
                   text=True, timeout=30)
check(r.returncode == 2 and "bad.conf:1" in r.stderr, "bad config reported with its line")
with open(bad, "w") as f:
    f.write("max_connection = 5\n")
r = subprocess.run([K, "hub", "--data", hub.data, "--config", bad, "-n"], capture_output=True,
                   text=True, timeout=30)
check(r.returncode == 2 and "unknown key" in r.stderr, "unknown config key refused")
r = subprocess.run([K, "hub", "--data", hub.data, "-n"], capture_output=True, text=True, timeout=30)
check(r.returncode == 0, "-n on a good configuration")

hub.start(plain=False)
check(hub.tls, "HTTPS by default")
cert = os.path.join(hub.data, "hub-cert.pem")
check("generated a self-signed" in hub.logtext() and os.path.exists(cert), "certificate generated")
check(os.stat(os.path.join(hub.data, "hub-key.pem")).st_mode & 0o077 == 0, "key file is private")
ctx = ssl.create_default_context(cafile=cert)  # verifies the chain and the IP SAN
c = Client(hub, "alice", "pw", ctx=ctx)
st, _, doc = c.get("/taxii2/")
check(st == 200 and doc["title"], "discovery over verified HTTPS")
check(c.c.sock.version() in ("TLSv1.2", "TLSv1.3"), "TLS 1.2+: %s" % c.c.sock.version())
warnings.simplefilter("ignore", DeprecationWarning)
old = ssl.create_default_context(cafile=cert)
try:
    old.minimum_version = ssl.TLSVersion.TLSv1
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        Client(hub, "alice", "pw", ctx=old).get("/taxii2/")
        check(False, "TLS 1.1 accepted")
    except (ssl.SSLError, OSError):
        check(True, "TLS 1.1 refused")
except (ValueError, ssl.SSLError):
    pass  # this OpenSSL cannot even offer TLS 1.1; nothing to test
check(Client(hub, ctx=ctx).get("/taxii2/")[0] == 401, "401 over HTTPS")
hub.stop()

# second start reuses the certificate (no new one)
before = open(cert).read()
hub.start(plain=False)
check(open(cert).read() == before, "certificate kept across restarts")
check(Client(hub, "alice", "pw", ctx=ctx).get("/taxii2/")[0] == 200, "same trust after restart")
finish()
