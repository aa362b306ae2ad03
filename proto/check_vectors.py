#!/usr/bin/env python3
"""An independent check of proto/vectors/, written from proto/SPEC.md alone.

It shares no code with the Rust implementation: Python's hashlib and zlib, and the
`cryptography` package for Ed25519. It checks every kind of vector: `chain`, `signed`,
`decode`, `log`, `live`, and `verify`, for which it carries its own verifier written from
SPEC §9 (rules version 3). Exit status 0 when every vector agrees.

    python3 proto/check_vectors.py
"""

import glob
import hashlib
import json
import os
import struct
import sys
import zlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MAX = 65536
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493


def H(tag, *parts):
    h = hashlib.sha256(tag.encode() + b"\x00")
    for p in parts:
        h.update(p)
    return h.digest()


class Malformed(Exception):
    pass


class Reader:
    """SPEC §2: fixed-width little-endian integers, u64 lengths, raw arrays."""

    def __init__(self, data):
        self.d, self.i = data, 0

    def take(self, n):
        if n < 0 or self.i + n > len(self.d):
            raise Malformed("runs past the end")
        b = self.d[self.i:self.i + n]
        self.i += n
        return b

    def u(self, n):
        return int.from_bytes(self.take(n), "little")

    def string(self):
        try:
            return self.take(self.u(8)).decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("not UTF-8")

    def vec(self, item):
        n = self.u(8)
        if n > MAX:
            raise Malformed("count too large")
        return [item(self) for _ in range(n)]

    def option(self, item):
        tag = self.u(1)
        if tag == 0:
            return None
        if tag == 1:
            return item(self)
        raise Malformed("option tag")

    def done(self):
        if self.i != len(self.d):
            raise Malformed("trailing bytes")


def timestamp(r):
    return (r.u(8), r.u(8))


def audio(r):
    return dict(codec=r.u(1), rate=r.u(4), channels=r.u(1), frame=r.u(4), chunk=r.u(4), bitrate=r.u(4))


def party(r):
    return (r.take(32), r.string())


def start_record(r):
    return dict(version=r.u(2), session=r.take(16), parties=r.vec(party), audio=audio(r), started=r.u(8))


def party_sig(r):
    return (r.take(32), r.take(64))


def end_record(r):
    session, ended_by = r.take(16), r.take(32)
    reason = r.u(4)
    if reason > 5:
        raise Malformed("end reason")
    at = r.u(8)
    finals = r.vec(lambda r: (r.take(32), r.u(8), r.take(32), r.option(lambda r: r.take(32))))
    return dict(session=session, ended_by=ended_by, reason=reason, at=at, finals=finals)


def checkpoint(r):
    return dict(session=r.take(16), index=r.u(8), first_packet=r.u(8), count=r.u(4),
                first_sample=r.u(8), samples=r.u(4), digest=r.take(32), chain=r.take(32),
                time=timestamp(r))


def receipt(r):
    return dict(checkpoint=r.take(32), time=timestamp(r))


def capture_gap(r):
    return dict(session=r.take(16), first_sample=r.u(8), samples=r.u(8), time=timestamp(r))


def signed(body):
    def parse(r):
        start = r.i
        b = body(r)
        body_bytes = r.d[start:r.i]
        out = dict(body=b, body_bytes=body_bytes, signer=r.take(32), sig=r.take(64))
        out["raw"] = r.d[start:r.i]
        return out
    return parse


def cosigned(body):
    def parse(r):
        start = r.i
        b = body(r)
        body_bytes = r.d[start:r.i]
        out = dict(record=b, body_bytes=body_bytes, sigs=r.vec(party_sig))
        out["raw"] = r.d[start:r.i]
        return out
    return parse


def log_record(r):
    kind = r.u(4)
    parsers = [cosigned(start_record), signed(checkpoint), signed(receipt), cosigned(end_record),
               signed(capture_gap)]
    if kind >= len(parsers):
        raise Malformed("record type")
    return kind, parsers[kind](r)


def decode(data, parser):
    if len(data) > MAX:
        raise OverflowError("too large")
    r = Reader(data)
    v = parser(r)
    r.done()
    return v


def canonical_point(b):
    y = int.from_bytes(b, "little") & (2**255 - 1)
    sign = b[31] >> 7
    return y < P and not (sign and y in (1, P - 1))


SMALL_ORDER = {  # encodings of the 8 points of small order (and common non-canonical ones)
    bytes.fromhex(h) for h in [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    ]
}


def verify(key, tag, body, sig):
    """SPEC §3.3. OpenSSL's check is cofactorless; for every vector here the two agree."""
    if not canonical_point(key) or key in SMALL_ORDER:
        return False
    if not canonical_point(sig[:32]) or int.from_bytes(sig[32:], "little") >= L:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(sig, tag.encode() + b"\x00" + body)
        return True
    except (InvalidSignature, ValueError):
        return False


def check_chain(v):
    start = bytes.fromhex(v["start_record"])
    producer = bytes.fromhex(v["producer"])
    e = v["expect"]
    sh = H("dualrec/start-hash/v1", start)
    assert sh.hex() == e["start_hash"], "start hash"
    c = H("dualrec/chain-genesis/v1", sh, producer)
    assert c.hex() == e["genesis"], "genesis"
    for chunk, want in zip(v["packets"], e["chunks"]):
        hashes = [H("dualrec/packet/v1", struct.pack("<I", len(p)), p) for p in map(bytes.fromhex, chunk)]
        assert [h.hex() for h in hashes] == want["packet_hashes"], "packet hashes"
        d = H("dualrec/chunk/v1", struct.pack("<I", len(hashes)), *hashes)
        assert d.hex() == want["digest"], "chunk digest"
        c = H("dualrec/chain/v1", c, d)
        assert c.hex() == want["chain"], "chain"


def start_valid(s):
    rec = s["record"]
    parties = rec["parties"]
    if rec["version"] != 1 or not 2 <= len(parties) <= 16 or len(s["sigs"]) != len(parties):
        return False
    keys = [k for k, _ in parties]
    if len(set(keys)) != len(keys) or any(not 1 <= len(n.encode()) <= 64 for _, n in parties):
        return False
    a = rec["audio"]
    if a["codec"] != 1 or a["rate"] != 48000 or a["channels"] not in (1, 2):
        return False
    if a["frame"] not in (120, 240, 480, 960, 1920, 2880) or a["chunk"] % a["frame"] or not 0 < a["chunk"] <= 2880000:
        return False
    return all(signer == key and verify(key, "dualrec/start/v1", s["body_bytes"], sig)
               for (signer, sig), key in zip(s["sigs"], keys))


def end_valid(e, start):
    keys = {k for k, _ in start["record"]["parties"]}
    rec = e["record"]
    finals = [f[0] for f in rec["finals"]]
    if not finals or len(finals) > len(keys) or len(set(finals)) != len(finals) or not set(finals) <= keys:
        return False
    if rec["ended_by"] not in keys or not e["sigs"]:
        return False
    signers = [s for s, _ in e["sigs"]]
    if len(set(signers)) != len(signers) or not set(signers) <= keys:
        return False
    return all(verify(k, "dualrec/end/v1", e["body_bytes"], sig) for k, sig in e["sigs"])


def check_signed(v):
    data = bytes.fromhex(v["encoding"])
    e = v["expect"]
    t = v["type"]
    if t == "checkpoint":
        s = decode(data, signed(checkpoint))
        assert H("dualrec/checkpoint-hash/v1", data).hex() == e["checkpoint_hash"], "checkpoint hash"
        ok = verify(s["signer"], "dualrec/checkpoint/v1", s["body_bytes"], s["sig"])
    elif t == "receipt":
        s = decode(data, signed(receipt))
        ok = verify(s["signer"], "dualrec/receipt/v1", s["body_bytes"], s["sig"])
    elif t == "gap":
        s = decode(data, signed(capture_gap))
        ok = verify(s["signer"], "dualrec/gap/v1", s["body_bytes"], s["sig"])
    elif t == "start":
        ok = start_valid(decode(data, cosigned(start_record)))
    elif t == "end":
        start = decode(bytes.fromhex(v["start_record"]), cosigned(start_record))
        ok = end_valid(decode(data, cosigned(end_record)), start)
    else:
        raise AssertionError("unknown type " + t)
    assert ok == e["valid"], "validity %s, expected %s" % (ok, e["valid"])


def check_decode(v):
    data = bytes.fromhex(v["bytes"])
    try:
        decode(data, log_record)
        got = "ok"
    except OverflowError:
        got = "too_large"
    except Malformed as m:
        got = "trailing_bytes" if str(m) == "trailing bytes" else "malformed"
    assert got == v["expect"].get("error", "ok"), got


def read_log(data):
    """SPEC §8.3."""
    header = b"DUALRECL\x01\x00" + b"\x00" * 6
    if len(data) < 16:
        if header.startswith(data):
            return 0, dict(record=0, offset=0, bytes=len(data))
        return dict(kind="bad_magic")
    if data[:8] != b"DUALRECL":
        return dict(kind="bad_magic")
    if data[8:10] != b"\x01\x00":
        return dict(kind="version")
    if any(data[10:16]):
        return dict(kind="corrupt", record=0, offset=10)
    pos, n = 16, 0
    while pos < len(data):
        rest = data[pos:]
        torn = (n, dict(record=n, offset=pos, bytes=len(rest)))
        if len(rest) < 8 or not any(rest):
            return torn
        length, crc = struct.unpack("<II", rest[:8])
        if not 1 <= length <= MAX:
            return dict(kind="corrupt", record=n, offset=pos)
        if 8 + length > len(rest):
            return torn
        payload = rest[8:8 + length]
        if zlib.crc32(payload) != crc:
            if 8 + length == len(rest):
                return torn
            return dict(kind="corrupt", record=n, offset=pos)
        try:
            decode(payload, log_record)
        except (Malformed, OverflowError):
            return dict(kind="malformed", record=n, offset=pos)
        n += 1
        pos += 8 + length
    return n, None


def check_log(v):
    got = read_log(bytes.fromhex(v["file"]))
    e = v["expect"]
    if "error" in e:
        assert got == e["error"], got
    else:
        assert got == (e["records"], e["torn_tail"]), got


def check_live(v):
    """SPEC §12.4: rebuild each compact checkpoint from the receiver's view of the
    producer's chain, then check it as §7.2 says."""
    start_bytes = bytes.fromhex(v["start_record"])
    start = decode(start_bytes, start_record)
    producer = bytes.fromhex(v["producer"])
    chain = H("dualrec/chain-genesis/v1", H("dualrec/start-hash/v1", start_bytes), producer)
    index = first_packet = first_sample = 0
    rebuilt, error = [], None
    for k, hexframe in enumerate(v["frames"]):
        r = Reader(bytes.fromhex(hexframe))
        assert r.u(4) == 0, "a checkpoint frame"
        got_index, count, samples, digest = r.u(4), r.u(4), r.u(4), r.take(32)
        time, sig = r.take(16), r.take(64)
        r.done()
        if got_index != index:
            error = dict(frame=k, kind="out_of_order")
            break
        new_chain = H("dualrec/chain/v1", chain, digest)
        body = (start["session"] + struct.pack("<QQIQI", index, first_packet, count, first_sample, samples)
                + digest + new_chain + time)
        if not verify(producer, "dualrec/checkpoint/v1", body, sig):
            error = dict(frame=k, kind="bad_signature")
            break
        rebuilt.append((body + producer + sig).hex())
        chain, index = new_chain, index + 1
        first_packet, first_sample = first_packet + count, first_sample + samples
    e = v["expect"]
    if "error" in e:
        assert error == e["error"], error
    else:
        assert error is None and rebuilt == e["checkpoints"], error or "rebuilt checkpoints differ"


# ---------------------------------------------------------------- SPEC §9 (rules v2)

def log_records(data):
    """SPEC §8.3, returning the records (the verify vectors hold readable logs)."""
    pos, out = 16, []
    torn = None
    while pos < len(data):
        rest = data[pos:]
        if len(rest) < 8 or not any(rest):
            torn = True
            break
        length, crc = struct.unpack("<II", rest[:8])
        if 8 + length > len(rest) or zlib.crc32(rest[8:8 + length]) != crc:
            torn = True
            break
        out.append(decode(rest[8:8 + length], log_record))
        pos += 8 + length
    return out, torn


def fingerprint(key):
    return H("dualrec/fingerprint/v1", key)[:10]


def step(chain, digest):
    return H("dualrec/chain/v1", chain, digest)


def chunk_digest(hashes):
    return H("dualrec/chunk/v1", struct.pack("<I", len(hashes)), *hashes)


def shapes_of(pairs, chunk_samples):
    """§9.5 Shapes: the (count, samples) pairs worth scanning, counts by frequency."""
    freq, spans = {}, {}
    for n, samples in pairs:
        if n == 0 or n > chunk_samples // 120 or samples > chunk_samples:
            continue
        freq[n] = freq.get(n, 0) + 1
        spans.setdefault(n, set()).add(samples)
    lens = sorted(freq, key=lambda n: (-freq[n], n))[:4]
    return lens, spans


class Aligner:
    def __init__(self, hashes, starts, ends):
        self.h, self.starts, self.ends = hashes, starts, ends

    def end_of(self, a, b):
        """Where packets a..b end; an empty range ends where packet a starts."""
        return self.ends[b - 1] if b > a else self.starts[a]

    def window(self, q, n):
        if q + n > len(self.h):
            return None
        return chunk_digest(self.h[q:q + n])

    def fits(self, at, cp, end):
        n = cp["count"]
        return n > 0 and at + n <= end and self.window(at, n) == cp["digest"]

    def tried(self, shapes, q, end):
        """The (digest, n) of windows at q tried for these shapes, in order."""
        lens, spans = shapes
        for n in lens:
            if q + n > end:
                continue
            if self.ends[q + n - 1] - self.starts[q] not in spans[n]:
                continue
            yield self.window(q, n), n

    def walk(self, E, chunks, a, b, chunk_samples, out):
        shapes = shapes_of([(E[k]["count"], E[k]["samples"]) for k in chunks], chunk_samples)
        p, idx = a, 0
        while idx < len(chunks):
            i = chunks[idx]
            if self.fits(p, E[i], b):
                out.append(("match", i, p))
                p += E[i]["count"]
                idx += 1
                continue
            found = None
            for q in range(p, b):
                for d, n in self.tried(shapes, q, b):
                    ks = [k for k in chunks if k >= i and E[k]["digest"] == d and E[k]["count"] == n]
                    if ks:
                        found = (q, min(ks))
                        break
                if found:
                    break
            if found is None:
                out.append(("gap", chunks[idx:], (p, b)))
                return
            q, k = found
            out.append(("gap", [c for c in chunks if i <= c < k], (p, q)))
            out.append(("match", k, q))
            p = q + E[k]["count"]
            idx = chunks.index(k) + 1
        if p < b:
            out.append(("gap", [], (p, b)))


def verify_vector(v, threshold=10000):
    packets = [bytes.fromhex(x) for x in v["packets"]]
    producer, session = bytes.fromhex(v["producer"]), bytes.fromhex(v["session"])
    excerpt = v.get("excerpt", False)
    playback, file_sha = v.get("playback"), v.get("file_sha256")
    logs = [log_records(bytes.fromhex(x)) for x in v["logs"]]
    findings = ["log_torn_tail" for _, torn in logs if torn]
    records = [rec for recs, _ in logs for rec in recs]

    # §9.2 session
    starts, seen = {}, set()
    for kind, rec in records:
        if kind != 0 or rec["raw"] in seen:
            continue
        seen.add(rec["raw"])
        if start_valid(rec):
            starts.setdefault(rec["record"]["session"], []).append(rec)
        else:
            findings.append("bad_start")
    group = starts[session]
    if len({r["body_bytes"] for r in group}) > 1:
        findings.append("conflicting_start")
    start = group[0]
    parties = [k for k, _ in start["record"]["parties"]]
    audio = start["record"]["audio"]
    genesis = H("dualrec/chain-genesis/v1", H("dualrec/start-hash/v1", start["body_bytes"]), producer)

    # §9.3 screening
    ours, cands, gaps, ends = {}, {}, {}, {}
    for kind, rec in records:
        if kind == 0:
            continue
        body = rec.get("body") or rec.get("record")
        if kind in (1, 3, 4) and body["session"] != session:
            findings.append("foreign_session")
            continue
        if kind in (1, 2, 4) and rec["signer"] not in parties:
            findings.append("non_party_signer")
            continue
        if kind == 1 and rec["signer"] == producer:
            ours.setdefault(rec["raw"], rec)
        elif kind == 2 and rec["signer"] != producer:
            cands.setdefault(rec["raw"], rec)
        elif kind == 4 and rec["signer"] == producer:
            gaps.setdefault(rec["raw"], rec)
        elif kind == 3:
            ends.setdefault(rec["raw"], rec)
    valid_cps = {}
    for raw, rec in ours.items():
        if verify(rec["signer"], "dualrec/checkpoint/v1", rec["body_bytes"], rec["sig"]):
            valid_cps[H("dualrec/checkpoint-hash/v1", raw)] = rec["body"]
        else:
            findings.append("bad_signature")
    valid_gaps = []
    for rec in gaps.values():
        if verify(rec["signer"], "dualrec/gap/v1", rec["body_bytes"], rec["sig"]):
            valid_gaps.append(rec["body"])
        else:
            findings.append("bad_signature")
    receipts = {}
    for rec in cands.values():
        if rec["body"]["checkpoint"] not in valid_cps:
            continue
        if verify(rec["signer"], "dualrec/receipt/v1", rec["body_bytes"], rec["sig"]):
            receipts.setdefault(rec["body"]["checkpoint"], []).append(rec)
        else:
            findings.append("bad_signature")
    valid_ends = []
    for rec in ends.values():
        if end_valid(rec, start):
            valid_ends.append(rec)
        else:
            findings.append("bad_end")

    # §9.4 versions, primaries, links
    versions = {}
    for h, cp in valid_cps.items():
        versions.setdefault(cp["index"], []).append((h, cp))
    for vs in versions.values():
        vs.sort(key=lambda x: x[0])
    primary, covered_next = {}, None
    for i in sorted(versions, reverse=True):
        vs = versions[i]
        if len(vs) > 1:
            findings.append("equivocation")
        implied = lambda cp: covered_next is not None and covered_next[0] == i + 1 and \
            step(cp["chain"], covered_next[1]) == covered_next[2]
        pick = next((x for x in vs if x[0] in receipts), None) or \
            next((x for x in vs if implied(x[1])), None) or vs[0]
        covered_next = (i, pick[1]["digest"], pick[1]["chain"]) if (pick[0] in receipts or implied(pick[1])) else None
        primary[i] = pick
    keys = sorted(primary)
    E = [primary[i][1] for i in keys]

    # §9.5 alignment
    hashes = [H("dualrec/packet/v1", struct.pack("<I", len(p)), p) for p in packets]
    positions = v.get("positions") or [960 * k for k in range(len(packets))]
    damaged = v.get("damaged") or []
    if playback:
        audio_end = playback["audio_end"]
    elif len(positions) > 1:
        audio_end = 2 * positions[-1] - positions[-2]
    else:
        audio_end = positions[0] + 960 if positions else 0
    file_audio_end = audio_end
    # §9.5 excerpt mode: with a place, align the excerpt's timeline
    place = excerpt if isinstance(excerpt, dict) else None
    base, real = 0, (0, len(packets))
    if place:
        head = [(n, bytes.fromhex(x)) for n, x in place["head"]]
        tail = [(n, bytes.fromhex(x)) for n, x in place["tail"]]
        s0, m = place["first_sample"], len(head)
        base, real = place["first_packet"] - m, (m, m + len(packets))
        assert base >= 0 and all(120 <= n <= 5760 for n, _ in head + tail)
        x, head_pos = s0 - sum(n for n, _ in head), []
        for n, _ in head:
            head_pos.append(x)
            x += n
        x, tail_pos = s0 + file_audio_end, []
        for n, _ in tail:
            tail_pos.append(x)
            x += n
        hashes = [h for _, h in head] + hashes + [h for _, h in tail]
        positions = head_pos + [s0 + q for q in positions] + tail_pos
        audio_end = x
        damaged = [dict(d, first_sample=d["first_sample"] + s0) for d in damaged]
    # §9.5: where each packet ends (the next start, the audio's end, or a damage's start)
    ends = positions[1:] + [audio_end] if positions else []
    for d in damaged:
        before = [k for k, x in enumerate(positions) if x < d["first_sample"]]
        if before and d["first_sample"] < ends[before[-1]]:
            ends[before[-1]] = d["first_sample"]
    al = Aligner(hashes, positions, ends)
    segs, p, k0 = [], 0, 0
    for k, cp in enumerate(E):
        at = cp["first_packet"] - base
        if at < 0 or not al.fits(at, cp, len(hashes)) or at < p:
            continue
        al.walk(E, list(range(k0, k)), p, at, audio["chunk"], segs)
        segs.append(("match", k, at))
        p, k0 = at + cp["count"], k + 1
    al.walk(E, list(range(k0, len(E))), p, len(hashes), audio["chunk"], segs)

    rows, regions = {}, []

    def row(cp, h, found, place):
        return dict(first=cp["first_sample"], samples=cp["samples"], found=found, place=place,
                    hash=h, chain=cp["chain"], proven=False, linked=False)

    def region(a, b, kind, **fields):
        a, b = max(a, real[0]), min(b, real[1])  # excerpt mode: the file's own packets
        if a < b:
            if kind == "edge" and al.end_of(a, b) - positions[a] >= audio["chunk"]:
                kind = "inserted"
            regions.append(dict(first_packet=a - real[0], packets=b - a, kind=kind, **fields))

    for s_ in segs:
        if s_[0] == "match":
            i = keys[s_[1]]
            rows[i] = row(primary[i][1], primary[i][0], s_[2], "found")
    # found elsewhere, every gap first
    any_d = {}
    for i, vs in versions.items():
        for h, cp in vs:
            any_d.setdefault((cp["digest"], cp["count"]), []).append((i, h == primary[i][0]))
    for lst in any_d.values():
        lst.sort()
    shapes = shapes_of([(cp["count"], cp["samples"]) for vs in versions.values() for _, cp in vs], audio["chunk"])
    own = [f for e in valid_ends for f in e["record"]["finals"]
           if f[0] == producer and producer in [s for s, _ in e["sigs"]]]
    own_distinct = []
    for f in own:
        if f not in own_distinct:
            own_distinct.append(f)
    own_account = own_distinct[0] if len(own_distinct) == 1 else None
    matches = [(si, keys[s_[1]]) for si, s_ in enumerate(segs) if s_[0] == "match"]

    def uncovered(si):
        before = next((i for sj, i in reversed(matches) if sj < si), None)
        after = next((i for sj, i in matches if sj > si), None)
        lower = 0 if before is None else before + 1
        bound = after if after is not None else (own_account[1] if own_account is not None else None)
        return bound is None or bound - 1 >= lower

    left = {}
    for si, s_ in enumerate(segs):
        if s_[0] != "gap":
            continue
        a, b = s_[2]
        if not s_[1] and uncovered(si):
            # no chunk the evidence holds lies here, though the chain has indices here
            left[si] = ([(a, b)], False)
            continue
        leftover, resigned, unk, q = [], False, a, a
        while q < b:
            hit = next(((any_d[(d, n)], n) for d, n in al.tried(shapes, q, b) if (d, n) in any_d), None)
            if hit is None:
                q += 1
                continue
            lst, n = hit
            if unk < q:
                leftover.append((unk, q))
            prim = any(x[1] for x in lst)
            idxs = [x[0] for x in lst if x[1] == prim]
            if not prim:
                resigned = True
                region(q, q + n, "resigned", of=idxs[0])
            else:
                free = next((x for x in idxs if x not in rows), None)
                if free is None:
                    region(q, q + n, "duplicate", of=idxs[0])
                else:
                    rows[free] = row(primary[free][1], primary[free][0], q, "moved")
            q += n
            unk = q
        if unk < b:
            leftover.append((unk, b))
        left[si] = (leftover, resigned)
    first_m = matches[0][0] if matches else None
    last_m = matches[-1][0] if matches else None
    per_chunk = audio["chunk"] // audio["frame"]
    for si, s_ in enumerate(segs):
        if s_[0] != "gap":
            continue
        chunks, (a, b) = s_[1], s_[2]
        leftover, resigned = left[si]
        missing = [keys[k] for k in chunks if keys[k] not in rows]
        if excerpt and (first_m is None or si < first_m or si > last_m):
            for i in missing:
                rows[i] = row(primary[i][1], primary[i][0], None, "outside")
            for x, y in leftover:
                region(x, y, "edge")
            continue
        if missing:
            place = "altered" if (leftover or resigned) else "removed"
            for i in missing:
                rows[i] = row(primary[i][1], primary[i][0], None, place)
            for x, y in leftover:
                region(x, y, "replaces", chunks=missing)
            continue
        if leftover == [(a, b)]:
            before = next((i for sj, i in reversed(matches) if sj < si), None)
            after = next((i for sj, i in matches if sj > si), None)
            lower = 0 if before is None else before + 1
            if after is not None:
                upper = after - 1
            elif own_account is not None:
                upper = own_account[1] - 1
            else:
                region(a, b, "not_covered", **{"from": lower, "to": None})
                continue
            if upper < lower:
                region(a, b, "inserted")
                continue
            count, L_ = upper - lower + 1, b - a
            split = None
            if (count - 1) * per_chunk < L_ <= count * per_chunk:
                split = [(a + c * per_chunk, min(a + (c + 1) * per_chunk, b)) for c in range(count)]
            chain = genesis if before is None else rows[before]["chain"]
            chains = []
            ok = False
            if split:
                for x, y in split:
                    chain = step(chain, chunk_digest(hashes[x:y]))
                    chains.append(chain)
                if after is not None:
                    ok = step(chain, primary[after][1]["digest"]) == primary[after][1]["chain"]
                else:
                    ok = chain == own_account[2]
            findings.append("evidence_gap")
            first = 0 if before is None else rows[before]["first"] + rows[before]["samples"]
            for c, (x, y) in enumerate(split or []):
                samples = al.end_of(x, y) - positions[x]
                rows[lower + c] = dict(first=first, samples=samples, found=x, place="found" if ok else "not_covered",
                                       hash=None, chain=chains[c], proven=ok, linked=ok)
                first += samples
            if not ok:
                region(a, b, "not_covered", **{"from": lower, "to": upper})
            continue
        for x, y in leftover:
            region(x, y, "inserted")
    for i in keys:
        if i not in rows:
            rows[i] = row(primary[i][1], primary[i][0], None, "removed")
    # links (§9.4)
    for i in keys:
        cp = primary[i][1]
        prev = (genesis, 0, 0) if i == 0 else None
        if i > 0 and i - 1 in primary:
            q = primary[i - 1][1]
            prev = (q["chain"], q["first_packet"] + q["count"], q["first_sample"] + q["samples"])
        if prev is None:
            continue
        if step(prev[0], cp["digest"]) == cp["chain"] and cp["first_packet"] == prev[1] and cp["first_sample"] == prev[2]:
            rows[i]["linked"] = True
        else:
            findings.append("chain_broken")
    for i in [i for i, r in rows.items() if r["proven"]]:
        if i + 1 in rows:
            rows[i + 1]["linked"] = True
    # sample counts
    for i, r in rows.items():
        if r["place"] in ("found", "moved") and not r["proven"] and i in primary:
            cp = primary[i][1]
            at = r["found"]
            end = at + cp["count"]
            if al.end_of(at, min(end, len(hashes))) - positions[at] != cp["samples"]:
                findings.append("sample_count_mismatch")
    # excerpt place: the first chunk in file order found in place or in order
    firsts = sorted((r["found"], i) for i, r in rows.items() if r["place"] == "found" and not r["proven"])
    if place and firsts:
        q, i = firsts[0]
        if base + q != primary[i][1]["first_packet"] or positions[q] != rows[i]["first"]:
            findings.append("excerpt_misplaced")

    for d in damaged:
        findings.append("damaged_file")
        for r in rows.values():
            overlaps = r["first"] < d["first_sample"] + d["samples"] and d["first_sample"] < r["first"] + r["samples"]
            if overlaps and r["place"] in ("removed", "altered"):
                r["place"] = "damaged"

    # §9.6 witnessing
    impossible = {}
    witnessed, carry, above = {}, None, None
    for i in sorted(rows, reverse=True):
        r = rows[i]
        if not (above is not None and above[0] == i + 1 and above[1]):
            carry = None
        end_ms = (r["first"] + r["samples"]) * 1000 // 48000
        best = None
        for rc in receipts.get(r["hash"], []):
            mono = rc["body"]["time"][1]
            if mono - end_ms < -2000 or mono > 315360000000:
                impossible.setdefault(rc["signer"], 0)
                impossible[rc["signer"]] += 1
                continue
            if best is None or (mono, rc["signer"]) < best:
                best = (mono, rc["signer"])
        if best is not None and (carry is None or best[0] <= carry[0]):
            carry = best
        if r["place"] == "not_covered":
            carry = None
        if carry is not None:
            witnessed[i] = carry[0] - end_ms
        above = (i, r["linked"])
    findings += ["impossible_receipt_time"] * len(impossible)

    # §9.7 gaps
    gap_keys = {(g["first_sample"], g["samples"]) for g in valid_gaps}
    findings += ["capture_gap"] * len(gap_keys)

    # §9.8 playback
    if playback:
        if playback["channels"] != audio["channels"]:
            findings.append("playback_altered")
        if playback["output_gain"] != 0:
            findings.append("playback_altered")
        if playback["pre_skip"] > 960:
            findings.append("playback_altered")
        g = playback["final_granule"]
        if g is not None and (g < playback["pre_skip"] or not 0 <= file_audio_end - g < audio["frame"]):
            findings.append("playback_altered")

    # §9.9 ends
    if not valid_ends:
        findings.append("no_end")
    if any(len(e["sigs"]) < len(parties) for e in valid_ends):
        findings.append("one_sided_end")
    cosigned = None
    for e in sorted(valid_ends, key=lambda e: -len(e["sigs"])):
        signers = [s for s, _ in e["sigs"]]
        for f in e["record"]["finals"]:
            if f[0] != producer:
                continue
            if producer not in signers:
                findings += ["peer_claim"] * len(signers)
            elif cosigned is None and len(signers) > 1 and own_account is not None:
                cosigned = (f, [s for s in signers if s != producer])
    disputed = len(own_distinct) > 1
    if disputed:
        findings.append("conflicting_end")
    places = {i: r["place"] for i, r in rows.items()}
    if file_sha and not excerpt and own_account and own_account[3] is not None and own_account[3].hex() != file_sha:
        exact = not regions and all(pl == "found" for pl in places.values()) and "playback_altered" not in findings
        findings.append("container_rewritten" if exact else "file_hash_mismatch")

    through = max(witnessed) if witnessed else None
    cut = lambda n: any(pl in ("removed", "altered") for i, pl in places.items() if i < n)
    if excerpt:
        completeness, c_holds = "not_established", True
    elif disputed:
        completeness, c_holds = "disputed", False
    elif cosigned is None:
        completeness = "incomplete" if through is not None and cut(through + 1) else "not_established"
        c_holds = False
    else:
        n = cosigned[0][1]
        last_known = max(rows) if rows else None
        mismatch = (last_known is not None and last_known >= n) or (0 if last_known is None else last_known + 1) < n \
            or (n > 0 and n - 1 in rows and rows[n - 1]["chain"] != cosigned[0][2])
        if mismatch:
            findings.append("end_mismatch")
        if mismatch or cut(n):
            completeness = "incomplete"
        elif all(places.get(i) in ("found", "moved") for i in range(n)):
            completeness = "complete"
        else:
            completeness = "not_established"
        c_holds = completeness == "complete"

    statuses = []
    for i in sorted(rows):
        pl = places[i]
        if pl == "found":
            d = witnessed.get(i)
            statuses.append("signed_only" if d is None else "witnessed_live" if d <= threshold else "witnessed_late")
        else:
            statuses.append({"removed": "removed", "altered": "altered", "moved": "moved", "damaged": "damaged",
                             "not_covered": "not_covered", "outside": "outside_excerpt"}[pl])
    edited = any(k in findings for k in ("equivocation", "chain_broken", "sample_count_mismatch",
                                         "excerpt_misplaced")) \
        or any(s_ in ("altered", "removed", "moved") for s_ in statuses) \
        or any(r["kind"] not in ("not_covered", "edge") for r in regions)
    uncovered = not statuses or "not_covered" in statuses \
        or any(r["kind"] in ("not_covered", "edge") for r in regions)
    integrity = "altered" if edited else "damaged" if "damaged" in statuses else \
        "playback_altered" if "playback_altered" in findings else \
        "partly_uncovered" if uncovered else "container_rewritten" if "container_rewritten" in findings else "exact"
    witnessing = "some_unwitnessed" if (not statuses or any(s_ in ("signed_only", "not_covered") for s_ in statuses)) \
        else "some_late" if "witnessed_late" in statuses else "all_live"
    problems = [f for f in findings if f not in ("log_torn_tail", "no_end", "one_sided_end", "capture_gap",
                                                  "container_rewritten", "evidence_gap", "bad_signature",
                                                  "non_party_signer", "foreign_session", "bad_start", "bad_end",
                                                  "peer_claim")]
    intact = integrity in ("exact", "container_rewritten") and witnessing == "all_live" \
        and "impossible_receipt_time" not in findings and c_holds and not problems
    regions.sort(key=lambda r: r["first_packet"])
    return {"verdict": "intact" if intact else "problems", "integrity": integrity, "witnessing": witnessing,
            "completeness": completeness, "statuses": statuses, "regions": regions, "findings": sorted(findings)}


def check_verify(v):
    got = verify_vector(v)
    want = dict(v["expect"])
    assert got == want, "\n got  %s\n want %s" % (json.dumps(got, sort_keys=True), json.dumps(want, sort_keys=True))



def check_fingerprint(v):
    """SPEC §4.2."""
    f = fingerprint(bytes.fromhex(v["key"])).hex()
    assert "-".join(f[i:i + 4] for i in range(0, 20, 4)) == v["expect"]["fingerprint"], f


def check_pairing(v):
    """SPEC §13: the commitment, the reveal check and the six digits both screens show."""
    ki, kr = bytes.fromhex(v["initiator"]), bytes.fromhex(v["responder"])
    ni, nr = bytes.fromhex(v["initiator_nonce"]), bytes.fromhex(v["responder_nonce"])
    reveal = bytes.fromhex(v["revealed_nonce"])
    c = H("dualrec/pair-commit/v1", ki, ni)
    e = v["expect"]
    assert c.hex() == e["commitment"], "commitment"
    if H("dualrec/pair-commit/v1", ki, reveal) != c:
        assert e.get("error") == "reveal_mismatch", "the reveal does not match the commitment"
        return
    d = H("dualrec/pair-code/v1", ki, kr, reveal, nr)
    n = int.from_bytes(d[:4], "little") % 1000000
    assert "%03d %03d" % (n // 1000, n % 1000) == e["code"], "code"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    checks = dict(chain=check_chain, signed=check_signed, decode=check_decode, log=check_log,
                  live=check_live, verify=check_verify, fingerprint=check_fingerprint,
                  pairing=check_pairing)
    passed = failed = skipped = 0
    for path in sorted(glob.glob(os.path.join(here, "vectors", "*.json"))):
        v = json.load(open(path))
        check = checks.get(v["kind"])
        if check is None:
            skipped += 1
            continue
        try:
            check(v)
            passed += 1
        except Exception as ex:  # noqa: BLE001 - report every disagreement
            failed += 1
            print("DISAGREE %s: %s" % (os.path.basename(path), ex))
    print("independent check: %d vectors agree, %d disagree, %d of an unknown kind"
          % (passed, failed, skipped))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
