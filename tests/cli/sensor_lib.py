"""Helpers for the sensor tests (sensor_files.py, sensor_hub.py): generate data with a known
answer (`kizuna gen`), run `kizuna sensor`, and compare its alerts with the answer key.
Never contacts anything but 127.0.0.1."""
import collections
import json
import os
import subprocess

ZEEK = ["conn", "dns", "http", "ssl", "files"]


def gen(k, d, count=1000, records=800, hits=120, seed=1, start=None, indicators=None):
    os.makedirs(d, exist_ok=True)
    ind = indicators or os.path.join(d, "ind.json")
    if not indicators:
        r = subprocess.run([k, "gen", "indicators", "--count", str(count), "--seed", str(seed),
                            "--out", ind], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("gen indicators: " + r.stderr)
    tel = os.path.join(d, "tel")
    args = [k, "gen", "telemetry", "--indicators", ind, "--out-dir", tel, "--records",
            str(records), "--hits", str(hits), "--seed", str(seed)]
    if start:
        args += ["--start", start]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("gen telemetry: " + r.stderr)
    return ind, tel


def inputs(tel):
    a = []
    for z in ZEEK:
        a += ["--input", "zeek:" + os.path.join(tel, z + ".log")]
    a += ["--input", "eve:" + os.path.join(tel, "eve.json")]
    a += ["--input", "pcap:" + os.path.join(tel, "traffic.pcap")]
    return a


def sensor(k, *args, env=None, timeout=120):
    e = dict(os.environ)
    e.pop("KIZUNA_PASSWORD", None)
    e.pop("KIZUNA_TOKEN", None)
    if env:
        e.update(env)
    return subprocess.run([k, "sensor"] + list(args), capture_output=True, text=True, env=e,
                          timeout=timeout)


def read_jsonl(path_or_text, is_text=False):
    text = path_or_text if is_text else open(path_or_text).read()
    return [json.loads(x) for x in text.splitlines() if x.strip()]


def loc(a):
    return (os.path.basename(a["input"]), a.get("line", a.get("packet")))


def family(f):
    return "pcap" if f.endswith(".pcap") else "eve" if f.startswith("eve") else "zeek"


def compare(key_path, alerts):
    """Returns a list of problems (empty when the alerts are exactly the answer key).

    A single-observation hit must be alerted at every place the key lists, with that
    indicator, and nowhere else. A multi-observation hit (FOLLOWEDBY, REPEATS: `parts` > 1) is
    alerted once per source family (Zeek, EVE, pcap), at the place of whichever of its parts
    arrived last (files are read one after another, so that need not be the latest in time),
    naming other parts' places in `related`; all of them must be places of that hit."""
    key = read_jsonl(key_path)
    single = set()
    multi_places = collections.defaultdict(set)  # (hit, family) -> places (file, line)
    multi_ind = {}
    for e in key:
        place = (e["file"], e.get("line", e.get("packet")))
        if e["parts"] == 1:
            single.add((e["indicator_id"],) + place)
        else:
            multi_places[(e["hit"], family(e["file"]))].add(place)
            multi_ind[(e["hit"], family(e["file"]))] = e["indicator_id"]
    got_single = set()
    covered = set()
    problems = []
    for a in alerts:
        place = loc(a)
        iid = a["alert"]["signature_id"]
        cands = [h for h, ps in multi_places.items() if multi_ind[h] == iid and place in ps]
        if not cands:
            if (iid,) + place in got_single:
                problems.append("alert %r twice" % ((iid,) + place,))
            got_single.add((iid,) + place)
            continue
        rel = [(os.path.basename(r["input"]), r.get("line", r.get("packet")))
               for r in a.get("related", [])]
        ok = [h for h in cands if all(p in multi_places[h] for p in rel)]
        if not ok:
            problems.append("related %r of alert %r are not parts of its hit" % (rel, place))
        covered.update(ok)
    missing = sorted(single - got_single) + sorted(set(multi_places) - covered)
    extra = sorted(got_single - single)
    if missing:
        problems.append("%d planted hits not alerted, e.g. %r" % (len(missing), missing[:5]))
    if extra:
        problems.append("%d alerts not in the answer key, e.g. %r" % (len(extra), extra[:5]))
    return problems


# ---- hand-made captures and indicators (sensor_follow.py, sensor_iface.py, ...) ------------
import signal  # noqa: E402
import struct  # noqa: E402
import time  # noqa: E402


def dns_query(name, qid=0x1234):
    """The bytes of a DNS query (type A) for name."""
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", 1, 1)


def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_packet(payload, src="192.0.2.10", dst="192.0.2.53", sport=40000, dport=53):
    """An Ethernet + IPv4 + UDP frame carrying payload (documentation addresses)."""
    s = bytes(int(x) for x in src.split("."))
    d = bytes(int(x) for x in dst.split("."))
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, s, d)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + udp


def pcap_header(linktype=1):
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)


def pcap_record(frame, ts=None):
    ts = time.time() if ts is None else ts
    return struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(frame), len(frame)) + frame


def _block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def pcapng_header(linktype=1):
    """A section header and one interface (microsecond timestamps)."""
    shb = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    return shb + _block(1, struct.pack("<HHI", linktype, 0, 65535))


def pcapng_packet(frame, ts=None):
    us = int((time.time() if ts is None else ts) * 1e6)
    return _block(6, struct.pack("<IIIII", 0, us >> 32, us & 0xFFFFFFFF, len(frame), len(frame))
                  + frame)


def domain_indicators(path, domains):
    """A bundle of one `[domain-name:value = 'D']` indicator per domain; returns their ids."""
    objs, ids = [], {}
    for i, dname in enumerate(domains):
        iid = "indicator--0000%04d-0000-4000-8000-%012d" % (i, i)
        ids[dname] = iid
        objs.append({"type": "indicator", "spec_version": "2.1", "id": iid,
                     "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
                     "name": "test domain %s" % dname,
                     "pattern": "[domain-name:value = '%s']" % dname, "pattern_type": "stix",
                     "valid_from": "2020-01-01T00:00:00Z"})
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-0000000000aa",
                   "objects": objs}, f)
    return ids


def wait_for(fn, limit=15, step=0.1):
    """fn's first true value within limit seconds, else None."""
    end = time.time() + limit
    while True:
        v = fn()
        if v or time.time() >= end:
            return v or None
        time.sleep(step)


def jsonl_if_exists(path):
    """The complete lines of a JSON lines file that a running sensor may be writing (a line
    not finished yet is left for the next look); [] when it does not exist yet."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        text = f.read()
    return read_jsonl(text[:text.rfind("\n") + 1], True)


def stop(proc, timeout=15):
    """SIGTERM, then the process's stderr (killed if it does not stop in time)."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=timeout)[1] or ""
    except subprocess.TimeoutExpired:
        proc.kill()
        return "(killed after %d s) " % timeout + (proc.communicate()[1] or "")
