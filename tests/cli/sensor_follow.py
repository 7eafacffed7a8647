"""`kizuna sensor` follows captures like `tail -F`: a pcap written in pieces (records cut in
the middle) gives exactly the alerts of `--once` on the whole file; a DNS query appended to a
followed pcap alerts at once, also when its record arrives in two halves; after a rotation the
new file (pcapng this time) is read from packet 1; a truncated capture is read again; a
restarted follower with --state alerts only the packets added while it was stopped; SIGTERM
exits 0."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub_harness import check, finish  # noqa: E402
from sensor_lib import (dns_query, domain_indicators, gen, jsonl_if_exists, pcap_header,  # noqa: E402
                        pcap_record, pcapng_header, pcapng_packet, read_jsonl, sensor, stop,
                        udp_packet, wait_for)

K = sys.argv[1]
T = tempfile.mkdtemp(prefix="kz-sensor-follow-")


def follower(ind, path, out, *extra):
    return subprocess.Popen([K, "sensor", "--indicators", ind, "--input", "pcap:" + path,
                             "--alerts", out, "--sensor-name", "f", *extra],
                            stderr=subprocess.PIPE, text=True)


def packets_handled(state):
    """The packet count the follower saved in STATE/positions (every second), or -1."""
    try:
        with open(os.path.join(state, "positions")) as f:
            return int(f.read().split("\t")[2])
    except (OSError, ValueError, IndexError):
        return -1


def at(state, path, packets):
    """True once the follower saved that it handled `packets` packets of the file now at
    path (same inode): it has seen this version of the file."""
    try:
        with open(os.path.join(state, "positions")) as f:
            _, ino, n, _ = f.read().split("\t", 3)
        return int(ino) == os.stat(path).st_ino and int(n) == packets
    except (OSError, ValueError):
        return False


def count_packets(raw):
    n, off = 0, 24
    while off + 16 <= len(raw):
        off += 16 + struct.unpack("<I", raw[off + 8:off + 12])[0]
        n += 1
    return n


def places(alerts):
    return sorted((a["alert"]["signature_id"], a["packet"]) for a in alerts)


try:
    # ---- a generated capture written in pieces equals --once on the whole file ------------
    ind, tel = gen(K, os.path.join(T, "g"), count=400, records=400, hits=60, seed=5)
    whole = os.path.join(tel, "traffic.pcap")
    r = sensor(K, "--once", "--indicators", ind, "--input", "pcap:" + whole, "--alerts", "-",
               "--clock", "records", "--sensor-name", "f")
    check(r.returncode == 0, "--once on the capture exits 0: %s" % r.stderr[-800:])
    want = read_jsonl(r.stdout, True)
    check(len(want) >= 5, "the generated capture has planted hits (%d alerts)" % len(want))
    data = open(whole, "rb").read()
    live = os.path.join(T, "live.pcap")
    out = os.path.join(T, "gen-follow.jsonl")
    pieces = 8
    step = len(data) // pieces + 37  # never on a record boundary by design
    with open(live, "wb") as f:
        f.write(data[:step])
    npk = count_packets(data)
    st1 = os.path.join(T, "st1")
    p = follower(ind, live, out, "--clock", "records", "--state", st1)
    try:
        with open(live, "ab") as f:
            for off in range(step, len(data), step):
                time.sleep(0.25)
                f.write(data[off:off + step])
                f.flush()
        check(wait_for(lambda: packets_handled(st1) == npk, limit=20),
              "the follower handles all %d packets (%d)" % (npk, packets_handled(st1)))
        mid = jsonl_if_exists(out)
        check(len(mid) >= len(want) // 2,
              "alerts arrive before the stop, while following (%d of %d)" % (len(mid),
                                                                            len(want)))
    finally:
        err = stop(p)
    check(p.returncode == 0, "SIGTERM stops the follower with 0: %s" % err[-800:])
    got = jsonl_if_exists(out)
    check(places(got) == places(want),
          "the capture followed in %d cut pieces gives the alerts of --once (%d vs %d): "
          "missing %r extra %r" % (pieces, len(got), len(want),
                                   sorted(set(places(want)) - set(places(got)))[:5],
                                   sorted(set(places(got)) - set(places(want)))[:5]))
    check("malformed (" not in err, "no malformed report for records cut by the writer: %s" %
          err[-800:])

    # ---- the same capture as big-endian pcapng with nanosecond timestamps ----------------
    def to_pcapng_be_ns(raw):
        def blk(btype, body):
            body += b"\0" * (-len(body) % 4)
            return struct.pack(">II", btype, 12 + len(body)) + body + struct.pack(">I",
                                                                              12 + len(body))
        lt = struct.unpack("<I", raw[20:24])[0]
        outb = [blk(0x0A0D0D0A, struct.pack(">IHHq", 0x1A2B3C4D, 1, 0, -1)),
                # if_tsresol = 9: nanoseconds; then opt_endofopt
                blk(1, struct.pack(">HHI", lt, 0, 65535) + struct.pack(">HHB3x", 9, 1, 9) +
                    struct.pack(">HH", 0, 0))]
        off = 24
        while off + 16 <= len(raw):
            sec, usec, cap, wire = struct.unpack("<IIII", raw[off:off + 16])
            ns = sec * 1000000000 + usec * 1000
            outb.append(blk(6, struct.pack(">IIIII", 0, ns >> 32, ns & 0xFFFFFFFF, cap, wire) +
                            raw[off + 16:off + 16 + cap]))
            off += 16 + cap
        return b"".join(outb)

    ng = to_pcapng_be_ns(data)
    live = os.path.join(T, "live.pcapng")
    out = os.path.join(T, "gen-follow-ng.jsonl")
    with open(live, "wb") as f:
        f.write(ng[:len(ng) // 3])
    st2 = os.path.join(T, "st2")
    p = follower(ind, live, out, "--clock", "records", "--state", st2)
    try:
        time.sleep(0.4)
        with open(live, "ab") as f:
            f.write(ng[len(ng) // 3:])
        check(wait_for(lambda: packets_handled(st2) == npk, limit=20),
              "the pcapng follower handles all %d packets" % npk)
    finally:
        err = stop(p)
    got = jsonl_if_exists(out)
    check(p.returncode == 0 and
          sorted((a["alert"]["signature_id"], a["packet"], a["timestamp"]) for a in got) ==
          sorted((a["alert"]["signature_id"], a["packet"], a["timestamp"]) for a in want),
          "the capture as big-endian pcapng with nanosecond stamps, followed, gives the same "
          "alerts and times (%d vs %d): %s" % (len(got), len(want), err[-400:]))

    # ---- planted queries: appended in halves, a rotation to pcapng, a truncation ----------
    doms = ["follow-one.invalid", "follow-two.invalid", "follow-three.invalid",
            "follow-four.invalid", "follow-five.invalid"]
    pind = os.path.join(T, "planted.json")
    ids = domain_indicators(pind, doms)
    cap = os.path.join(T, "cap.pcap")
    out = os.path.join(T, "planted.jsonl")
    with open(cap, "wb") as f:
        f.write(pcap_header() + pcap_record(udp_packet(dns_query("benign.example"))))
    st3 = os.path.join(T, "st3")
    p = follower(pind, cap, out, "--state", st3)
    try:
        time.sleep(0.6)
        rec = pcap_record(udp_packet(dns_query(doms[0])))
        with open(cap, "ab") as f:
            f.write(rec[:30])
            f.flush()
            time.sleep(0.6)
            check(not jsonl_if_exists(out), "half a packet record is not decoded")
            f.write(rec[30:])
        a = wait_for(lambda: jsonl_if_exists(out))
        check(a and len(a) == 1 and a[0]["alert"]["signature_id"] == ids[doms[0]] and
              a[0]["packet"] == 2 and a[0]["input_type"] == "pcap" and a[0]["input"] == cap,
              "a DNS query appended to the followed pcap (in two halves) alerts at packet 2: %r" %
              a)
        # rotation: the path now names a pcapng file; the old one gets one more packet first
        with open(cap, "ab") as f:
            f.write(pcap_record(udp_packet(dns_query(doms[1]))))
        os.rename(cap, cap + ".1")
        with open(cap, "wb") as f:
            f.write(pcapng_header() + pcapng_packet(udp_packet(dns_query(doms[2]))))
        a = wait_for(lambda: len(jsonl_if_exists(out)) >= 3 and jsonl_if_exists(out))
        check(a and [(x["alert"]["signature_id"], x["packet"]) for x in a] ==
              [(ids[doms[0]], 2), (ids[doms[1]], 3), (ids[doms[2]], 1)],
              "the old file is read to its end, then the new pcapng file from packet 1: %r" %
              [(x.get("alert", {}).get("signature", "?"), x.get("packet")) for x in (a or [])])
        # truncation: the file is rewritten shorter, and read again from its start
        with open(cap, "r+b") as f:
            f.truncate(0)
            f.write(pcapng_header()[:40])
        # tail -F sees a truncation only while the file is shorter than before
        check(wait_for(lambda: at(st3, cap, 0)), "the follower notices the truncation")
        with open(cap, "ab") as f:
            f.write(pcapng_header()[40:] + pcapng_packet(udp_packet(dns_query(doms[3]))))
        a = wait_for(lambda: len(jsonl_if_exists(out)) >= 4 and jsonl_if_exists(out))
        check(a and len(a) == 4 and a[3]["alert"]["signature_id"] == ids[doms[3]] and
              a[3]["packet"] == 1,
              "a truncated capture is read again from packet 1: %r" %
              [(x["alert"]["signature"], x["packet"]) for x in (a or [])])
        # garbage instead of a capture: reported, never fatal; a new file is read again
        os.rename(cap, cap + ".2")
        with open(cap, "wb") as f:
            f.write(b"this is not a capture at all, just text\n")
        check(wait_for(lambda: at(st3, cap, 0)), "the follower opens the file that is not a capture")
        os.rename(cap, cap + ".3")
        with open(cap, "wb") as f:
            f.write(pcap_header() + pcap_record(udp_packet(dns_query(doms[4]))))
        a = wait_for(lambda: len(jsonl_if_exists(out)) >= 5 and jsonl_if_exists(out))
        check(a and len(a) == 5 and a[4]["alert"]["signature_id"] == ids[doms[4]],
              "after a file that is not a capture, the next one alerts again")
    finally:
        err = stop(p)
    check(p.returncode == 0, "SIGTERM stops the follower with 0: %s" % err[-800:])
    check("not a pcap or pcapng file" in err and "malformed (io)" in err,
          "the file that is not a capture is reported: %s" % err[-800:])
    check(len(read_jsonl(out)) == 5, "nothing else was alerted")

    # ---- with --once a file that is not a capture is an error, reported, not a crash -------
    junk = os.path.join(T, "junk.pcap")
    with open(junk, "wb") as f:
        f.write(b"this is not a capture at all, just text\n")
    r = sensor(K, "--once", "--indicators", pind, "--input", "pcap:" + junk)
    check(r.returncode == 1 and "junk.pcap" in r.stderr and "malformed (io)" in r.stderr,
          "--once on a file that is not a capture: reported, exit 1 (rc %d): %s" % (
              r.returncode, r.stderr[-500:]))

    # ---- a restarted follower with --state resumes after the packets it handled ----------
    st = os.path.join(T, "state")
    rcap = os.path.join(T, "restart.pcap")
    rout = os.path.join(T, "restart.jsonl")
    with open(rcap, "wb") as f:
        f.write(pcap_header() + pcap_record(udp_packet(dns_query("benign.example"))) +
                pcap_record(udp_packet(dns_query(doms[0]))))
    p = follower(pind, rcap, rout, "--state", st)
    check(wait_for(lambda: jsonl_if_exists(rout)), "the follower alerts the packet in the file")
    check(wait_for(lambda: at(st, rcap, 2)), "the follower saved its position (2 packets)")
    err = stop(p)
    check(p.returncode == 0, "first follower stops with 0: %s" % err[-500:])
    with open(rcap, "ab") as f:
        f.write(pcap_record(udp_packet(dns_query(doms[1]))))
    p = follower(pind, rcap, rout, "--state", st)
    check(wait_for(lambda: len(jsonl_if_exists(rout)) >= 2), "the packet added meanwhile alerts")
    time.sleep(0.5)
    err = stop(p)
    check(p.returncode == 0, "second follower stops with 0: %s" % err[-500:])
    ra = read_jsonl(rout)
    check([(a["alert"]["signature_id"], a["packet"]) for a in ra] ==
          [(ids[doms[0]], 2), (ids[doms[1]], 3)],
          "nothing is alerted twice across the restart: %r" % [a["packet"] for a in ra])
finally:
    shutil.rmtree(T, True)
finish()
