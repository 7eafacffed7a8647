"""`kizuna sensor --input iface:lo`: live capture on the loopback interface. The test sends
UDP DNS queries for a planted domain from 127.0.0.1 to 127.0.0.1 (nothing else is ever
addressed) and expects alerts for them, with the live input's name and kind, and none for
another domain queried at the same time; SIGTERM stops the capture thread and the sensor with
0. Exits 77 (skip) when packet capture is not permitted here (not root and no CAP_NET_RAW,
or a sandbox that refuses raw sockets) or there is no loopback interface."""
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub_harness import check, finish  # noqa: E402
from sensor_lib import dns_query, domain_indicators, jsonl_if_exists, stop  # noqa: E402

K = sys.argv[1]
CAP_NET_RAW = 13


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def may_capture():
    if os.geteuid() == 0:
        return True
    try:
        for ln in open("/proc/self/status"):
            if ln.startswith("CapEff:"):
                return bool(int(ln.split()[1], 16) >> CAP_NET_RAW & 1)
    except OSError:
        pass
    return False


# KZ_TEST_FORCE_IFACE=1 tries the capture anyway (to exercise the refused-capture skip)
if not may_capture() and not os.environ.get("KZ_TEST_FORCE_IFACE"):
    skip("live capture needs root or CAP_NET_RAW; this test runs without them")
if not os.path.exists("/sys/class/net/lo"):
    skip("no loopback interface named lo")

T = tempfile.mkdtemp(prefix="kz-sensor-iface-")
tag = uuid.uuid4().hex[:10]
planted = "iface-%s.invalid" % tag
other = "other-%s.invalid" % tag
ind = os.path.join(T, "ind.json")
ids = domain_indicators(ind, [planted])
out = os.path.join(T, "alerts.jsonl")
errp = os.path.join(T, "stderr.txt")
errf = open(errp, "w")
p = subprocess.Popen([K, "sensor", "--indicators", ind, "--input", "iface:lo", "--alerts", out,
                      "--sensor-name", "lo-test"], stderr=errf)


def err_text():
    with open(errp) as f:
        return f.read()


sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
try:
    alerts = []
    end = time.time() + 15
    n = 0
    while time.time() < end:
        e = err_text()
        if "cannot capture on lo" in e:
            stop(p)
            why = [ln for ln in e.splitlines() if "cannot capture" in ln][0]
            if "ermission" in e or "not permitted" in e:
                skip("the capture is refused here: " + why)
            check(False, "the capture on lo starts: " + why)
            break
        if p.poll() is not None:
            break
        # loopback only: 127.0.0.1 to 127.0.0.1, port 53 (nothing needs to listen)
        sock.sendto(dns_query(other, 0x2000 + n % 1000), ("127.0.0.1", 53))
        sock.sendto(dns_query(planted, 0x4000 + n % 1000), ("127.0.0.1", 53))
        n += 1
        alerts = jsonl_if_exists(out)
        if alerts:
            time.sleep(0.3)
            alerts = jsonl_if_exists(out)
            break
        time.sleep(0.2)
    check(p.poll() is None, "the sensor is still capturing: %s" % err_text()[-600:])
    check(alerts, "a DNS query for the planted domain on lo alerts (%d queries sent): %s" % (
        n, err_text()[-600:]))
    good = [a for a in alerts
            if a["alert"]["signature_id"] == ids[planted] and a["input_type"] == "iface" and
            a["input"] == "lo" and a["sensor"] == "lo-test" and a["src_ip"] == "127.0.0.1" and
            a["dest_ip"] == "127.0.0.1" and a["dest_port"] == 53 and "packet" in a]
    check(alerts and len(good) == len(alerts),
          "every alert is the planted indicator, from iface lo, 127.0.0.1 -> 127.0.0.1:53: %r" %
          alerts[:2])
finally:
    sock.close()
    e = stop(p)
    errf.close()
check(p.returncode == 0, "SIGTERM stops the capture and the sensor with 0 (rc %s): %s" % (
    p.returncode, err_text()[-600:]))
check("records" in err_text(), "the summary is printed at the stop")
import shutil  # noqa: E402
shutil.rmtree(T, True)
finish()
