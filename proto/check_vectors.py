#!/usr/bin/env python3
"""An independent check of proto/vectors/, written from proto/SPEC.md alone.

It shares no code with the Rust implementation: Python's hashlib and zlib, and the
`cryptography` package for Ed25519. It checks the `chain`, `signed`, `decode`, `log` and
`live` vectors (the `verify` vectors need the alignment of SPEC §9.3, which this script does not
implement). Exit status 0 when every checked vector agrees.

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
        return dict(body=b, body_bytes=body_bytes, signer=r.take(32), sig=r.take(64))
    return parse


def cosigned(body):
    def parse(r):
        start = r.i
        b = body(r)
        body_bytes = r.d[start:r.i]
        return dict(record=b, body_bytes=body_bytes, sigs=r.vec(party_sig))
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


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    checks = dict(chain=check_chain, signed=check_signed, decode=check_decode, log=check_log,
                  live=check_live)
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
    print("independent check: %d vectors agree, %d disagree, %d verify vectors left to the Rust runner"
          % (passed, failed, skipped))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
