#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerates the file-list test vectors in this directory from upstream rsync.

Builds a small tree (every file type, several owners, hard links, nanosecond and
out-of-range times, awkward names), serves it with upstream's `rsync --daemon`
(use chroot = no, plus a chrooted module) behind scripts/wiretap.py, and runs the
stock client against it (pulls, and pushes into a second module) with a range of
options and protocols. For each run it writes:

  <name>.bin  the sender's data stream (multiplexed frames undone) from its first
              byte: the file list(s), then whatever followed in the capture
  <name>.vec  the options both ends agreed on, the uid/gid names, and for each list
              in send order the entries as lstat() saw them (names in hex)

The send order is worked out here the way upstream's walker does it (readdir order,
depth first; with incremental recursion one list per directory in sorted-tree
order), independently of the C++ code under test. Needs root (devices, owners).
Usage: capture.py [OUTDIR]
"""
import ast
import grp
import hashlib
import os
import pwd
import socket
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WIRETAP = os.path.join(HERE, "..", "..", "..", "scripts", "wiretap.py")
DAEMON_PORT = 23961
TAP_PORT = 23962


# --- the tree ---------------------------------------------------------------------

def build_tree(root):
    def mk(path, data=b"", mode=0o644, uid=0, gid=0, mtime_ns=None, atime_ns=None):
        full = os.path.join(root, path)
        with open(full, "wb") as f:
            f.write(data)
        os.chmod(full, mode)
        os.chown(full, uid, gid)
        if mtime_ns is not None:
            os.utime(full, ns=(atime_ns or mtime_ns, mtime_ns))
        return full

    t0 = 1_700_000_000 * 10**9
    os.makedirs(os.path.join(root, "sub", "deep"))
    mk("empty", mtime_ns=t0)
    mk("file_a", b"a\n", 0o600, 1, 1, t0 + 123456789)
    mk("file_ab", b"ab\n", 0o640, 65534, 65534, t0 + 5)
    mk("file_abc", b"abc\n", 0o644, 12345, 23456, t0)
    mk("with space.txt", b"space\n", mtime_ns=t0)
    mk("new\nline", b"nl\n", mtime_ns=t0 + 999999999)
    mk("utf8-\u00e9\u4e2d.txt", "caf\u00e9\n".encode(), mtime_ns=t0)
    mk("future", b"f\n", mtime_ns=7258118400 * 10**9 + 1)
    mk("past", b"p\n", mtime_ns=-1000 * 10**9)
    big = mk("big.sparse", mtime_ns=t0)
    os.truncate(big, 0x80000123)
    os.utime(big, ns=(t0, t0))
    mk("hl1", b"hard\n", 0o644, 2, 2, t0)
    os.link(os.path.join(root, "hl1"), os.path.join(root, "hl2"))
    os.link(os.path.join(root, "hl1"), os.path.join(root, "sub", "hl3"))
    mk("hlx1", b"other\n", mtime_ns=t0 + 7)
    os.link(os.path.join(root, "hlx1"), os.path.join(root, "hlx2"))
    os.symlink("file_a", os.path.join(root, "link"))
    os.symlink("/etc/passwd", os.path.join(root, "link_abs"))
    os.symlink("sub", os.path.join(root, "dirlink"))
    os.mkfifo(os.path.join(root, "fifo"))
    s = socket.socket(socket.AF_UNIX)
    s.bind(os.path.join(root, "sock"))
    s.close()
    for name, kind, major, minor in (("chr", stat.S_IFCHR, 1, 3), ("blk", stat.S_IFBLK, 7, 0),
                                     ("chr_big", stat.S_IFCHR, 259, 70000),
                                     ("chr_min", stat.S_IFCHR, 4, 300)):
        os.mknod(os.path.join(root, name), kind | 0o660, os.makedev(major, minor))
    mk("sub/b", b"b\n", 0o755, mtime_ns=t0)
    mk("sub/c", b"c\n", 0o644, 1, 2, t0)
    mk("sub/deep/d", b"d\n", mtime_ns=t0)
    os.chmod(os.path.join(root, "sub"), 0o750)
    long_dir = os.path.join(root, "A" * 200, "B" * 200)
    os.makedirs(long_dir)
    mk(os.path.join("A" * 200, "B" * 200, "C" * 200), b"long\n", mtime_ns=t0)
    os.makedirs(os.path.join(root, "emptydir"))
    # Directory times last, after their contents changed.
    for d in ("sub/deep", "sub", "A" * 200 + "/" + "B" * 200, "A" * 200, "emptydir", "."):
        os.utime(os.path.join(root, d), ns=(t0, t0 + 42))


# --- upstream's walk order ----------------------------------------------------------

def is_dir_entry(root, rel):
    return stat.S_ISDIR(os.lstat(os.path.join(root, rel)).st_mode)


def join(d, n):
    return n if d in ("", ".") else d + "/" + n


def walk_plain(root):
    """One list, depth first: a directory's entries, then each subdirectory in turn."""
    order = ["."]

    def walk(rel):
        sent = [join(rel, n) for n in os.listdir(os.path.join(root, rel))]
        order.extend(sent)
        for r in sent:
            if is_dir_entry(root, r):
                walk(r)

    walk("")
    return [(-1, order)]


def sibling_key(rel):
    # Directories of one list share a parent; they compare as "name/" byte strings,
    # and "." comes first.
    base = rel.rsplit("/", 1)[-1]
    return b"" if rel == "." else base.encode("utf-8", "surrogateescape") + b"/"


def walk_incremental(root):
    """The first list is "." and its entries; then one list per directory, in the
    sender's sorted directory-tree order, each announced by its directory index."""
    first = ["."] + [join("", n) for n in os.listdir(root)]
    lists = [(-1, first)]
    table = []
    index = {}

    def add_dirs(names):
        dirs = sorted((r for r in names if is_dir_entry(root, r)), key=sibling_key)
        for d in dirs:
            index[d] = len(table)
            table.append(d)
        return [d for d in dirs if d != "."]

    def visit(d):
        names = [join(d, n) for n in os.listdir(os.path.join(root, d))]
        lists.append((index[d], names))
        for k in add_dirs(names):
            visit(k)

    for top in add_dirs(first):
        visit(top)
    return lists


# --- entries ------------------------------------------------------------------------

def entry_line(root, rel, flags, checksum):
    st = os.lstat(os.path.join(root, rel))
    mode = st.st_mode
    link = os.readlink(os.path.join(root, rel)).encode("utf-8", "surrogateescape") if stat.S_ISLNK(mode) else None
    summ = None
    if checksum and stat.S_ISREG(mode):
        h = hashlib.md5()
        with open(os.path.join(root, rel), "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        summ = h.digest()
    if not stat.S_ISDIR(mode):
        flags = ""
    rdev = st.st_rdev if (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) else 0
    fields = [
        "e", rel.encode("utf-8", "surrogateescape").hex(), "%o" % mode, str(st.st_size),
        str(st.st_mtime_ns // 10**9), str(st.st_mtime_ns % 10**9), str(st.st_atime_ns // 10**9),
        str(st.st_uid), str(st.st_gid), str(os.major(rdev)), str(os.minor(rdev)),
        link.hex() if link else "-", summ.hex() if summ else "-",
        str(st.st_dev), str(st.st_ino), str(st.st_nlink), flags or "-",
    ]
    return " ".join(fields)


def name_of(lookup, i):
    try:
        return lookup(i)
    except KeyError:
        return None


def sorted_names(output, role):
    """Index -> name as upstream's own sorted lists print them (--debug=FLIST3 lines
    "[receiver] i=N DEPTH NAME mode=..." or "[sender] i=N ROOT NAME mode=...")."""
    prefixes = ("[sender] ",) if role == "sender" else ("[Receiver] ", "[receiver] ")
    seen = {}
    for line in output.split(b"\n"):
        text = line.decode("utf-8", "surrogateescape")
        if not text.startswith(prefixes) or " i=" not in text or " mode=0" not in text:
            continue
        head, _ = text.rsplit(" mode=0", 1)
        _, rest = head.split(" i=", 1)
        ndx, _, path = rest.split(" ", 2)
        raw = path.encode("utf-8", "surrogateescape")
        # Unprintable bytes are shown as \#ooo.
        out = bytearray()
        i = 0
        while i < len(raw):
            if raw[i:i + 2] == b"\\#" and i + 5 <= len(raw):
                out.append(int(raw[i + 2:i + 5], 8))
                i += 5
            else:
                out.append(raw[i])
                i += 1
        if out.endswith(b"/") and len(out) > 1:
            out = out[:-1]
        if out == b"./" or out == b".":
            out = bytearray(b".")
        seen.setdefault(int(ndx), bytes(out))
    return sorted(seen.items())


# --- wire parsing -------------------------------------------------------------------

def read_tap(path):
    """Returns [(direction, bytes)] of the last connection in a wiretap log."""
    chunks = []
    with open(path) as f:
        for line in f:
            if line.startswith("--- connection"):
                chunks = []
                continue
            parts = line.rstrip("\n").split(" ", 3)
            if len(parts) == 4 and parts[1] in ("C>S", "S>C") and parts[2].endswith(":"):
                chunks.append((parts[1], ast.literal_eval(parts[3])))
    return chunks


def stream(chunks, direction):
    return b"".join(d for tag, d in chunks if tag == direction)


def get_varint(buf, pos):
    lead = buf[pos]
    extra = 0
    while extra < 6 and lead & (0x80 >> extra):
        extra += 1
    val = int.from_bytes(buf[pos + 1:pos + 1 + extra], "little")
    val |= (lead & ((1 << (8 - extra)) - 1) if extra else lead) << (8 * extra)
    return val, pos + 1 + extra


def get_vstring(buf, pos):
    n = buf[pos]
    pos += 1
    if n & 0x80:
        n = ((n & 0x7F) << 8) | buf[pos]
        pos += 1
    return buf[pos:pos + n], pos + n


def demux(buf, pos):
    out = bytearray()
    while pos + 4 <= len(buf):
        hdr = int.from_bytes(buf[pos:pos + 4], "little")
        tag, n = (hdr >> 24) - 7, hdr & 0xFFFFFF
        if tag == 0:
            out += buf[pos + 4:pos + 4 + n]
        pos += 4 + n
    return bytes(out)


def split_setup(chunks, push):
    """Finds the protocol, compat flags and the sender's data stream."""
    s2c, c2s = stream(chunks, "S>C"), stream(chunks, "C>S")
    server_ver = int(s2c.split(b" ")[1].split(b".")[0])
    client_ver = int(c2s.split(b" ")[1].split(b".")[0])
    ok = s2c.index(b"@RSYNCD: OK\n") + len(b"@RSYNCD: OK\n")
    pos = ok
    # The client's arguments follow the module line; protocol 30+ ends them with an
    # empty NUL-terminated argument, older ones with an empty line.
    args_start = c2s.index(b"\n", c2s.index(b"\n") + 1) + 1
    proto = min(server_ver, client_ver)
    sep = b"\0" if proto >= 30 else b"\n"
    args_end = c2s.index(sep + sep, args_start) + 2
    args = c2s[args_start:args_end].split(sep)
    cflags = 0
    if proto >= 30:
        cflags, pos = get_varint(s2c, pos)
    negotiate = bool(cflags & 0x80) and not any(a.startswith(b"--checksum-choice") for a in args)
    if negotiate:
        _, pos = get_vstring(s2c, pos)
    pos += 4  # checksum seed
    if not push:
        return proto, cflags, args, demux(s2c, pos)
    cpos = args_end
    if negotiate:
        _, cpos = get_vstring(c2s, cpos)
    data = demux(c2s, cpos) if proto >= 30 else c2s[cpos:]
    return proto, cflags, args, data


# --- running ------------------------------------------------------------------------

def plain_flags(rel):
    return "TC" if rel == "." else "C"


def run(name, client_args, outdir, tree, dest, module="mod", push=False, checksum=False, sources=None,
        explicit=None):
    tap_log = os.path.join(outdir, ".tap-" + name)
    tap = subprocess.Popen([sys.executable, WIRETAP, str(TAP_PORT), "127.0.0.1", str(DAEMON_PORT)],
                           stdout=open(tap_log, "w"), stderr=subprocess.STDOUT)
    time.sleep(0.5)
    try:
        url = "rsync://127.0.0.1:%d/%s/" % (TAP_PORT, module)
        srcs = [url + s for s in sources] if sources else [url]
        cmd = ["rsync", "-n", "--debug=FLIST3"] + client_args + ([tree + "/", url] if push else srcs + [dest + "/"])
        proc = subprocess.run(cmd, capture_output=True)
        if proc.returncode != 0:
            raise SystemExit("%s: rsync failed: %s" % (name, proc.stderr.decode(errors="replace")))
        time.sleep(0.3)
    finally:
        tap.terminate()
        tap.wait()
    chunks = read_tap(tap_log)
    os.unlink(tap_log)
    proto, cflags, args, data = split_setup(chunks, push)
    bundle = next(a for a in args if a.startswith(b"-") and not a.startswith(b"--") and a != b"-e" and len(a) > 1)
    letters = bundle[1:].split(b".")[0].decode()
    has = lambda c: c in letters
    flag_args = [a.decode() for a in args]
    inc = bool(cflags & 1)
    numeric = "--numeric-ids" in flag_args
    opts = {
        "protocol": proto,
        "varint_flags": int(bool(cflags & 0x80)),
        "preserve_uid": int(has("o")),
        "preserve_gid": int(has("g")),
        "preserve_links": int(has("l")),
        "preserve_devices": int(has("D")),
        "preserve_specials": int(has("D")),
        "preserve_hard_links": int(has("H")),
        "preserve_atimes": int(has("U")),
        "always_checksum": int(has("c")),
        "checksum_len": 16,
        "inc_recurse": int(inc),
        "numeric_ids": "wire" if numeric else ("local" if module == "chr" else "off"),
        "xmit_id0_names": int(bool(cflags & 0x100)),
        "use_safe_inc_flist": int(bool(cflags & 0x8) or proto >= 31),
        "recurse": int(has("r")),
        "relative_paths": int(has("R")),
    }
    # Stat the tree right after the run: only a -c run reads file contents, and it
    # reads them after taking the stat it sends.
    if explicit:
        lists = explicit(tree)
    else:
        lists = [(d, [(tree, r, plain_flags(r)) for r in names])
                 for d, names in (walk_incremental(tree) if inc else walk_plain(tree))]
    lines = ["# %s: rsync %s" % (name, " ".join(client_args)),
             "# captured from upstream rsync 3.5.0 by capture.py; cflags=0x%x" % cflags]
    lines += ["opt %s %s" % (k, v) for k, v in opts.items()]
    ids = set()
    for _, names in lists:
        for base, rel, _ in names:
            st = os.lstat(os.path.join(base, rel))
            ids.add(("u", st.st_uid))
            ids.add(("g", st.st_gid))
    ids.add(("u", 0))
    ids.add(("g", 0))
    chrooted = module == "chr"
    for kind, i in sorted(ids):
        look = (lambda x: pwd.getpwuid(x).pw_name) if kind == "u" else (lambda x: grp.getgrgid(x).gr_name)
        n = None if chrooted else name_of(look, i)
        if n is not None:
            lines.append("%s %d %s" % ("user" if kind == "u" else "group", i, n))
    for dir_ndx, names in lists:
        lines.append("list %d" % dir_ndx)
        for base, rel, flags in names:
            lines.append(entry_line(base, rel, flags, checksum))
    for ndx, rel in sorted_names(proc.stdout, "sender" if push else "receiver"):
        lines.append("sorted %d %s" % (ndx, rel.hex()))
    lines.append("end")
    with open(os.path.join(outdir, name + ".vec"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(outdir, name + ".bin"), "wb") as f:
        f.write(data)
    print("%-24s proto %d cflags 0x%03x lists %d data %d bytes" % (name, proto, cflags, len(lists), len(data)))


def relative_lists(tree):
    # -R of "sub/deep/d": the parents go first as implied directories.
    return [(-1, [(tree, "sub", "I"), (tree, "sub/deep", "I"), (tree, "sub/deep/d", "")])]


def twice_lists(tree):
    # The same directory named twice: each argument sends "." and the whole tree again.
    sub = os.path.join(tree, "sub")
    once = [(sub, r, plain_flags(r)) for r in walk_plain(sub)[0][1]]
    return [(-1, once + once)]


SCENARIOS = [
    ("pull_p32_inc", ["-a"], {}),
    ("pull_p32_flat", ["-a", "--no-inc-recursive"], {}),
    ("pull_p32_hlinks_inc", ["-aH"], {}),
    ("pull_p32_hlinks_flat", ["-aH", "--no-inc-recursive"], {}),
    ("pull_p32_checksum", ["-ac", "--checksum-choice=md5", "--no-inc-recursive"], {"checksum": True}),
    ("pull_p32_checksum_inc", ["-acH", "--checksum-choice=md5"], {"checksum": True}),
    ("pull_p32_numeric", ["-a", "--numeric-ids", "--no-inc-recursive"], {}),
    ("pull_p32_numeric_inc", ["-a", "--numeric-ids"], {}),
    ("pull_p32_atimes", ["-aU", "--no-inc-recursive"], {}),
    ("pull_p32_chroot", ["-a", "--no-inc-recursive"], {"module": "chr"}),
    ("pull_p31_inc", ["-aH", "--protocol=31"], {}),
    ("pull_p30_inc", ["-aH", "--protocol=30"], {}),
    ("pull_p30_flat", ["-aH", "--protocol=30", "--no-inc-recursive"], {}),
    ("pull_p29", ["-aH", "--protocol=29"], {}),
    ("pull_p28", ["-aH", "--protocol=28"], {}),
    ("pull_p27", ["-aH", "--protocol=27"], {}),
    ("pull_p27_checksum", ["-ac", "--protocol=27", "--checksum-choice=md5"], {"checksum": True}),
    ("pull_p32_relative", ["-aR", "--no-inc-recursive"], {"sources": ["sub/deep/d"], "explicit": relative_lists}),
    ("pull_p29_relative", ["-aR", "--protocol=29"], {"sources": ["sub/deep/d"], "explicit": relative_lists}),
    ("pull_p32_twice", ["-a", "--no-inc-recursive"], {"sources": ["sub/", "sub/"], "explicit": twice_lists}),
    ("pull_p28_twice", ["-a", "--protocol=28"], {"sources": ["sub/", "sub/"], "explicit": twice_lists}),
    ("push_p32_inc", ["-aH"], {"push": True, "module": "up"}),
    ("push_p32_flat", ["-a", "--no-inc-recursive"], {"push": True, "module": "up"}),
    ("push_p29", ["-aH", "--protocol=29"], {"push": True, "module": "up"}),
]


def main():
    if os.geteuid() != 0:
        raise SystemExit("capture.py needs root (devices and owners)")
    outdir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else HERE)
    work = tempfile.mkdtemp(prefix="flist-capture-")
    tree = os.path.join(work, "tree")
    up = os.path.join(work, "up")
    dest = os.path.join(work, "dest")
    for d in (tree, up, dest):
        os.makedirs(d)
    build_tree(tree)
    conf = os.path.join(work, "rsyncd.conf")
    with open(conf, "w") as f:
        f.write("pid file = %s/rsyncd.pid\nuid = root\ngid = root\n" % work)
        f.write("[mod]\n    path = %s\n    use chroot = no\n" % tree)
        f.write("[chr]\n    path = %s\n    use chroot = yes\n" % tree)
        f.write("[up]\n    path = %s\n    use chroot = no\n    read only = no\n" % up)
    daemon = subprocess.Popen(["rsync", "--daemon", "--no-detach", "--config=" + conf,
                               "--port=%d" % DAEMON_PORT, "--address=127.0.0.1",
                               "--log-file=" + os.path.join(work, "rsyncd.log")])
    time.sleep(1)
    try:
        only = set(sys.argv[2:])
        for name, args, kw in SCENARIOS:
            if only and name not in only:
                continue
            run(name, args, outdir, tree, dest, **kw)
    finally:
        daemon.terminate()
        daemon.wait()
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
