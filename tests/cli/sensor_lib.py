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
