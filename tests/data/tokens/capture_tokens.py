#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerates the token-stream test vectors in this folder from the real rsync.

Starts upstream's daemon (rsync --daemon, use chroot = no) behind scripts/wiretap.py,
pushes (or pulls) generated files with the stock client for each case below, takes the
token streams out of the capture and writes <case>.meta plus <case>.<n>.tokens.

The files themselves are not stored: both this script and the unit test
(tests/unit/protocol/token_vectors_test.cpp) build them from a tiny xorshift32
generator, described by "spec" strings:
    text SEED LEN     words from a fixed list, 12 a line
    bin SEED LEN      pseudo-random bytes
    edited SEED LEN   text SEED LEN with 100 bytes overwritten, 1000 removed, 7 appended
    none              no basis on the receiving side

Usage: capture_tokens.py [--rsync /usr/bin/rsync] [--old-dir DIR] [--port 23891] [case ...]
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WIRETAP = os.path.join(HERE, "..", "..", "..", "scripts", "wiretap.py")

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi "
         "omicron pi rho sigma tau upsilon phi chi psi omega").split()


class XorShift32:
    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFF or 1

    def next(self):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x


def make_text(seed, n):
    rng = XorShift32(seed)
    out = bytearray()
    while len(out) < n:
        out += (" ".join(WORDS[rng.next() % len(WORDS)] for _ in range(12)) + "\n").encode()
    return bytes(out[:n])


def make_bin(seed, n):
    rng = XorShift32(seed)
    return bytes(rng.next() & 0xFF for _ in range(n))


def make_edited(seed, n):
    b = bytearray(make_text(seed, n))
    at = n // 20
    b[at:at + 100] = b"X" * 100
    cut = n * 2 // 5
    del b[cut:cut + 1000]
    return bytes(b) + b"trailer"


def build(spec):
    kind, *rest = spec.split()
    if kind == "none":
        return None
    seed, n = int(rest[0]), int(rest[1])
    return {"text": make_text, "bin": make_bin, "edited": make_edited}[kind](seed, n)


# name: (compression, level, protocol, [client options], [(file name, original, basis)], pull?
#        [, client binary in --old-dir instead of --rsync])
CASES = {
    "simple_new": ("none", 0, 32, [], [("a.txt", "text 1 3000", "none")], False),
    "simple_basis": ("none", 0, 32, [], [("a.txt", "text 1 100000", "edited 1 100000")], False),
    "simple_bin": ("none", 0, 32, [], [("r.bin", "bin 2 40000", "none")], False),
    "zlibx_basis": ("zlibx", 6, 32, ["--compress-choice=zlibx"],
                    [("a.txt", "text 1 100000", "edited 1 100000")], False),
    "zlibx_new_bin": ("zlibx", 6, 32, ["--new-compress"],
                      [("r.bin", "bin 2 40000", "none"), ("t.txt", "text 3 90000", "none")], False),
    "zlib_basis_p32": ("zlib", 6, 32, ["--old-compress"],
                       [("a.txt", "text 1 100000", "edited 1 100000"),
                        ("b.txt", "text 4 20000", "edited 4 20000")], False),
    "zlib_basis_p31": ("zlib", 6, 31, ["--protocol=31", "--compress-choice=zlib"],
                       [("a.txt", "text 1 100000", "edited 1 100000")], False),
    "zlib_basis_p30": ("zlib", 6, 30, ["--protocol=30", "--old-compress"],
                       [("a.txt", "text 1 100000", "edited 1 100000")], False),
    "zlib_bigblock_p30": ("zlib", 6, 30, ["--protocol=30", "--old-compress", "--block-size=70000"],
                          [("a.txt", "text 5 300000", "edited 5 300000")], False),
    "zlib_bigblock_p31": ("zlib", 6, 31, ["--protocol=31", "--old-compress", "--block-size=70000"],
                          [("a.txt", "text 5 300000", "edited 5 300000")], False),
    "zlib_level1": ("zlib", 1, 32, ["--old-compress", "--compress-level=1"],
                    [("a.txt", "text 1 100000", "edited 1 100000")], False),
    "zlibx_level9": ("zlibx", 9, 32, ["--new-compress", "--compress-level=9"],
                     [("a.txt", "text 1 100000", "edited 1 100000")], False),
    "zlib_level0": ("none", 0, 32, ["--old-compress", "--compress-level=0"],
                    [("a.txt", "text 1 100000", "edited 1 100000")], False),
    "zstd_default": ("zstd", 3, 32, ["-z"],
                     [("a.txt", "text 1 100000", "edited 1 100000"),
                      ("b.txt", "text 1 100000", "none"),
                      ("c.bin", "bin 2 40000", "none")], False),
    "zstd_level19": ("zstd", 19, 32, ["--compress-choice=zstd", "--compress-level=19"],
                     [("a.txt", "text 1 100000", "edited 1 100000")], False),
    "zstd_p30": ("zstd", 3, 30, ["--protocol=30", "--compress-choice=zstd"],
                 [("a.txt", "text 1 100000", "edited 1 100000")], False),
    "lz4_basis": ("lz4", 0, 32, ["--compress-choice=lz4"],
                  [("a.txt", "text 1 100000", "edited 1 100000")], False),
    "lz4_new": ("lz4", 0, 32, ["--compress-choice=lz4"],
                [("s.txt", "text 6 20000", "none"), ("b.txt", "text 1 100000", "none")], False),
    "skip_gz": ("zlibx", 6, 32, ["--new-compress", "--skip-compress=txt"],
                [("plain.gz", "text 7 30000", "none"), ("t.txt", "text 7 30000", "none")], False),
    "pull_zlibx": ("zlibx", 6, 32, ["--new-compress"],
                   [("a.txt", "text 1 100000", "edited 1 100000")], True),
    "pull_dont_compress_all": ("zlibx", 0, 32, ["--new-compress"],
                               [("a.txt", "text 1 100000", "edited 1 100000")], "star"),
    # Old clients (static builds from upstream's old_versions/, with their bundled zlib and
    # its real Z_INSERT_ONLY): "-z" means zlib with matched-block history.
    "old300_zlib": ("zlib", 6, 30, ["-z"],
                    [("a.txt", "text 1 100000", "edited 1 100000"),
                     ("b.txt", "text 5 300000", "edited 5 300000")], False, "rsync_3.0.0"),
    "old300_bigblock": ("zlib", 6, 30, ["-z", "--block-size=70000"],
                        [("a.txt", "text 5 300000", "edited 5 300000")], False, "rsync_3.0.0"),
    "old313_zlib": ("zlib", 6, 31, ["-z", "--block-size=70000"],
                    [("a.txt", "text 5 300000", "edited 5 300000")], False, "rsync_3.1.3"),
}


def parse_tap(log):
    """Returns the concatenated C>S and S>C bytes of the first connection."""
    streams = {"C>S": bytearray(), "S>C": bytearray()}
    for line in log.splitlines():
        m = re.match(r"\+[\d.]+ (C>S|S>C) \d+: (b['\"].*)$", line)
        if m:
            streams[m.group(1)] += eval(m.group(2))  # the tap prints Python bytes reprs
    return bytes(streams["C>S"]), bytes(streams["S>C"])


def demux(raw):
    """Finds where multiplexing starts (frames then run exactly to EOF) and joins MSG_DATA."""
    for start in range(len(raw)):
        pos, data, ok = start, bytearray(), True
        while pos < len(raw):
            if pos + 4 > len(raw) or raw[pos + 3] < 7:
                ok = False
                break
            n = raw[pos] | raw[pos + 1] << 8 | raw[pos + 2] << 16
            if pos + 4 + n > len(raw):
                ok = False
                break
            if raw[pos + 3] == 7:
                data += raw[pos + 4:pos + 4 + n]
            pos += 4 + n
        if ok and start < len(raw):
            return bytes(data)
    raise SystemExit("no multiplexed tail found")


def i32(b, p):
    return int.from_bytes(b[p:p + 4], "little", signed=True)


def find_requests(req, nfiles):
    """Finds the generator's requests: ndx byte, iflags with ITEM_TRANSFER, sum head, sums."""
    for p in range(len(req) - 19):
        if req[p] != 1 or not req[p + 2] & 0x80 or req[p + 2] & 0x18:
            continue
        heads, q = [], p
        try:
            for _ in range(nfiles):
                if req[q] != 1 or not req[q + 2] & 0x80:
                    raise ValueError
                count, blen, s2, rem = (i32(req, q + 3 + 4 * k) for k in range(4))
                if count < 0 or not 0 <= blen <= 1 << 17 or not 0 <= s2 <= 16 or not 0 <= rem <= blen:
                    raise ValueError
                heads.append((req[q:q + 19], (count, blen, s2, rem)))
                q += 19 + count * (4 + s2)
        except (ValueError, IndexError):
            continue
        return heads
    raise SystemExit("requests not found")


def token_end(data, p, compressed):
    if not compressed:
        while True:
            n = i32(data, p)
            p += 4
            if n == 0:
                return p
            if n > 0:
                p += n
    while True:
        flag = data[p]
        p += 1
        if flag == 0:
            return p
        if flag & 0xC0 == 0x40:
            p += 1 + ((flag & 0x3F) << 8 | data[p])
        elif flag & 0x80:
            p += 2 if flag & 0x40 else 0
        else:
            p += 4 + (2 if flag & 1 else 0)


def run_case(name, case, rsync, old_dir, port, outdir):
    compression, level, protocol, opts, files, pull = case[:6]
    files = sorted(files)  # the order of the sorted file list, so of the requests
    client = os.path.join(old_dir, case[6]) if len(case) > 6 else rsync
    if not os.access(client, os.X_OK):
        print(f"{name}: skipped ({client} missing)")
        return
    work = tempfile.mkdtemp(prefix="tokcap-")
    mod, src = os.path.join(work, "mod"), os.path.join(work, "src")
    os.mkdir(mod)
    os.mkdir(src)
    conf = os.path.join(work, "rsyncd.conf")
    with open(conf, "w") as f:
        f.write(f"port = {port}\naddress = 127.0.0.1\nuse chroot = no\nuid = {os.getuid()}\n"
                f"gid = {os.getgid()}\npid file = {work}/pid\nlog file = {work}/log\n"
                f"[mod]\npath = {mod}\nread only = no\n")
        if pull == "star":
            f.write("dont compress = *\n")
    # The side that receives holds the basis; the side that sends holds the original.
    send_dir, recv_dir = (mod, src) if pull else (src, mod)
    for fname, orig, basis in files:
        with open(os.path.join(send_dir, fname), "wb") as f:
            f.write(build(orig))
        if basis != "none":
            with open(os.path.join(recv_dir, fname), "wb") as f:
                f.write(build(basis))
    daemon = subprocess.Popen([rsync, "--daemon", "--no-detach", f"--config={conf}"])
    tap_log = os.path.join(work, "tap.log")
    with open(tap_log, "w") as tl:
        tap = subprocess.Popen([sys.executable, WIRETAP, str(port + 1), "127.0.0.1", str(port)],
                               stdout=tl)
    try:
        time.sleep(0.6)
        names = [f for f, _, _ in files]
        if pull:
            cmd = [client, *opts] + [f"rsync://127.0.0.1:{port + 1}/mod/{n}" for n in names] + [src + "/"]
        else:
            cmd = [client, *opts] + [os.path.join(src, n) for n in names] + [f"rsync://127.0.0.1:{port + 1}/mod/"]
        subprocess.run(cmd, check=True)
        time.sleep(0.3)
        for fname, orig, _ in files:
            with open(os.path.join(recv_dir, fname), "rb") as f:
                if f.read() != build(orig):
                    raise SystemExit(f"{name}: {fname} not transferred correctly")
    finally:
        tap.send_signal(signal.SIGTERM)
        daemon.send_signal(signal.SIGTERM)
        tap.wait()
        daemon.wait()
    with open(tap_log) as f:
        c2s, s2c = parse_tap(f.read())
    shutil.rmtree(work)
    requester, sender = (c2s, s2c) if pull else (s2c, c2s)
    req, snd = demux(requester), demux(sender)
    heads = find_requests(req, len(files))
    meta = [f"case {name}", f"client {os.path.basename(client)}", f"compression {compression}",
            f"level {level}", f"protocol {protocol}", f"pull {'yes' if pull else 'no'}"]
    pos = 0
    for i, ((fname, orig, basis), (hdr, sumhead)) in enumerate(zip(files, heads)):
        at = snd.find(hdr[1:], pos)  # the echoed ndx may be coded differently; skip it
        if at < 0:
            raise SystemExit(f"{name}: echo of request {i} not found")
        start = at + 18
        end = token_end(snd, start, compression != "none")
        tok_name = f"{name}.{i}.tokens"
        with open(os.path.join(outdir, tok_name), "wb") as f:
            f.write(snd[start:end])
        meta += [f"file {fname}", f"original {orig}", f"basis {basis}",
                 "sum_head {} {} {} {}".format(*sumhead), f"tokens {tok_name}"]
        pos = end
    with open(os.path.join(outdir, f"{name}.meta"), "w") as f:
        f.write("\n".join(meta) + "\n")
    print(f"{name}: {len(files)} stream(s)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rsync", default="/usr/bin/rsync")
    ap.add_argument("--old-dir", default="/tmp/old_versions",
                    help="where rsync_3.0.0 etc. are (git show HEAD:old_versions/rsync_3.0.0)")
    ap.add_argument("--port", type=int, default=23891)
    ap.add_argument("--out", default=HERE)
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    for name in args.cases or CASES:
        run_case(name, CASES[name], args.rsync, args.old_dir, args.port, args.out)


if __name__ == "__main__":
    main()
