"""`kizuna sensor --alerts syslog --syslog-socket PATH`: the test binds its own Unix socket in
place of /dev/log and reads what arrives. Every alert of a run arrives as one RFC 3164
message (`<28>` = daemon.warning, a timestamp, `kizuna-sensor[PID]: `) whose JSON equals the
alert written to a file by the same run over the same input; a stream socket gets the same
messages NUL-terminated; a daemon that is absent is reported and counted, never fatal; a
daemon that restarts (a new socket at the path) is reconnected to."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub_harness import check, finish  # noqa: E402
from sensor_lib import (dns_query, domain_indicators, gen, inputs, pcap_header,  # noqa: E402
                        pcap_record, read_jsonl, sensor, stop, udp_packet, wait_for)

K = sys.argv[1]
T = tempfile.mkdtemp(prefix="kz-sensor-syslog-")
MSG = re.compile(r"^<28>[A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d kizuna-sensor\[(\d+)\]: (\{.*\})$",
                 re.S)


class DgramLog:
    """A stand-in for the syslog daemon: a datagram socket at path, read by a thread."""

    def __init__(self, path):
        self.path = path
        self.msgs = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.done = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.done:
            try:
                self.msgs.append(self.sock.recv(1 << 20).decode())
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        self.done = True
        self.t.join()
        self.sock.close()
        os.unlink(self.path)


def parse(msgs, pid):
    out, bad = [], []
    for m in msgs:
        g = MSG.match(m)
        if not g or int(g.group(1)) != pid:
            bad.append(m[:200])
            continue
        out.append(json.loads(g.group(2)))
    return out, bad


def canon(alerts):
    return sorted(json.dumps(a, sort_keys=True) for a in alerts)


try:
    ind, tel = gen(K, os.path.join(T, "g"), count=300, records=300, hits=40, seed=7)
    ref = sensor(K, "--once", "--indicators", ind, "--alerts", "-", "--sensor-name", "sl",
                 *inputs(tel))
    check(ref.returncode == 0, "reference run exits 0: %s" % ref.stderr[-600:])
    want = read_jsonl(ref.stdout, True)
    check(len(want) >= 20, "the reference run has alerts (%d)" % len(want))

    # ---- datagram socket: every alert is one message, its JSON the alert ------------------
    sock = os.path.join(T, "log")
    d = DgramLog(sock)
    p = subprocess.Popen([K, "sensor", "--once", "--indicators", ind, "--alerts", "syslog",
                          "--syslog-socket", sock, "--sensor-name", "sl", *inputs(tel)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=60)
    check(p.returncode == 0, "--alerts syslog run exits 0: %s" % err[-600:])
    check(out == "", "nothing on stdout when alerts go to syslog")
    wait_for(lambda: len(d.msgs) >= len(want), limit=5)
    got, bad = parse(d.msgs, p.pid)
    check(not bad, "every message is `<28>Mmm dd hh:mm:ss kizuna-sensor[PID]: JSON`: %r" % bad[:2])
    check(len(d.msgs) == len(want) and canon(got) == canon(want),
          "the messages carry exactly the alerts of the file run (%d vs %d)" % (len(got),
                                                                              len(want)))
    d.close()

    # ---- a stream socket gets the same, NUL-terminated --------------------------------------
    ssock = os.path.join(T, "slog")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(ssock)
    srv.listen(1)
    srv.settimeout(30)
    chunks = []

    def accept():
        try:
            c, _ = srv.accept()
        except OSError:
            return
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            chunks.append(b)
        c.close()

    th = threading.Thread(target=accept, daemon=True)
    th.start()
    p = subprocess.Popen([K, "sensor", "--once", "--indicators", ind, "--alerts", "syslog",
                          "--syslog-socket", ssock, "--sensor-name", "sl", *inputs(tel)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=60)
    th.join(10)
    srv.close()
    raw = b"".join(chunks)
    check(p.returncode == 0 and raw.endswith(b"\0"),
          "a stream socket: exit 0, messages end in NUL: %s" % err[-400:])
    got, bad = parse([x.decode() for x in raw.split(b"\0") if x], p.pid)
    check(not bad and canon(got) == canon(want),
          "the stream socket receives every alert once (%d vs %d)" % (len(got), len(want)))

    # ---- no daemon: reported and counted, the run still succeeds ----------------------------
    r = sensor(K, "--once", "--indicators", ind, "--alerts", "syslog", "--syslog-socket",
               os.path.join(T, "nobody-listens"), *inputs(tel))
    check(r.returncode == 0 and "cannot reach syslog" in r.stderr and
          ("%d alerts could not be sent to syslog" % len(want)) in r.stderr,
          "an absent syslog is reported and every alert counted as dropped: %s" %
          r.stderr[-600:])
    r = sensor(K, "--once", "--indicators", ind, "--syslog-socket", sock, *inputs(tel))
    check(r.returncode == 2, "--syslog-socket without --alerts syslog is a usage error")

    # ---- the daemon restarts while the sensor follows: the new socket is used --------------
    doms = ["syslog-one.invalid", "syslog-two.invalid"]
    pind = os.path.join(T, "planted.json")
    ids = domain_indicators(pind, doms)
    cap = os.path.join(T, "cap.pcap")
    with open(cap, "wb") as f:
        f.write(pcap_header())
    d = DgramLog(sock)
    p = subprocess.Popen([K, "sensor", "--indicators", pind, "--input", "pcap:" + cap,
                          "--alerts", "syslog", "--syslog-socket", sock],
                         stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        with open(cap, "ab") as f:
            f.write(pcap_record(udp_packet(dns_query(doms[0]))))
        check(wait_for(lambda: d.msgs), "a followed alert reaches syslog")
        first, bad1 = parse(d.msgs, p.pid)
        d.close()
        d = DgramLog(sock)  # the daemon restarted: a new socket at the same path
        with open(cap, "ab") as f:
            f.write(pcap_record(udp_packet(dns_query(doms[1]))))
        check(wait_for(lambda: d.msgs), "after the daemon restarts, the next alert reaches it")
        second, bad2 = parse(d.msgs, p.pid)
        check(not bad1 and not bad2 and
              [a["alert"]["signature_id"] for a in first + second] == [ids[doms[0]],
                                                                       ids[doms[1]]],
              "one message per alert, before and after the restart: %r" % (d.msgs,))
    finally:
        err = stop(p)
        d.close()
    check(p.returncode == 0 and "could not be sent" not in err,
          "SIGTERM exits 0 and no alert was dropped: %s" % err[-600:])
finally:
    shutil.rmtree(T, True)
finish()
