# SPDX-License-Identifier: MIT
"""Generated file trees for the pull tests, and a comparator for transferred trees.

``generate_tree(root)`` builds a deterministic (seeded) module tree holding every kind of
entry a pull has to carry: nested and empty directories, empty, small, boundary-sized,
large and sparse files, hard links, relative / absolute / dangling / out-of-module /
munged symlinks, FIFOs, a unix socket, device nodes (root only), names with spaces,
newlines, tabs, UTF-8 and bytes that are not UTF-8, nanosecond mtimes (also before 1970
and after 2038), setuid / setgid / sticky and odd modes, and several owners (root only:
``daemon``, ``bin``, ``nobody`` and a uid without a name).

``snapshot(root)`` records a tree (type, mode, owner, mtime in ns, size, content digest,
symlink target, device number, hard-link groups); ``diff_trees(expected, actual, rules)``
lists every difference under the given ``Rules`` (which say what the protocol and the
options carry: nanoseconds only at protocol >= 31, 32-bit times before 30, owners only as
root, link structure only with ``-H``); ``assert_trees_equal`` fails a test with that list.

``expected_from_source(source_snapshot, ...)`` (and ``expected_relative`` for ``-R``)
turns the source into the tree a client
should receive, following upstream's semantics (verified against upstream's daemon by the
tests themselves): with ``munge symlinks`` on (the default of a ``use chroot = no``
module) the sender strips a leading ``/rsyncd-munged/`` from symlink targets longer than
that prefix (Upstream: flist.c:readlink_stat); a chroot module sends targets verbatim.

``make_delta_versions`` writes a large file and a copy of it changed in spread-out places
(overwrites, insertions, deletions) for delta-transfer tests and the benchmark.

Only the Python standard library is used.
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import socket
import stat
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Optional

MIB = 1024 * 1024
GIB = 1024 * MIB

# Upstream: rsync.h SYMLINK_PREFIX; stripped by the sender only when the target is longer.
MUNGE_PREFIX = "/rsyncd-munged/"

# Content digests read files in chunks of this size; all-zero chunks (holes included)
# contribute nothing, so a sparse source and a dense copy of it compare equal.
DIGEST_CHUNK = 4 * MIB
_ZERO_CHUNK = bytes(DIGEST_CHUNK)


def running_as_root() -> bool:
    return os.geteuid() == 0


# ----------------------------------------------------------------------------------------
# Generator
# ----------------------------------------------------------------------------------------

# Names that exercise escaping in the client's output and in the file-list encoding.
ODD_NAMES = (
    "with space",
    "  leading and trailing spaces  ",
    "new\nline",
    "tab\tname",
    "back\\slash",
    "quote'and\"double",
    "star*question?[bracket]",
    "-dash-first",
    "#hash",
    "ünïcødé-文件-🚀",
    "\u00e9t\u00e9-nfc",          # precomposed é
    "e\u0301te\u0301-nfd",        # decomposed é: a different name, same glyphs
    os.fsdecode(b"latin1-\xe9t\xe9"),  # not UTF-8: a raw byte 0xE9
    "x" * 200,                    # long name (below NAME_MAX)
)

# A boundary between two protocol time encodings (32-bit before protocol 30, varlong
# after) and the nanosecond field (protocol >= 31) are exercised by these mtimes.
FIXED_MTIMES_NS = {
    "times/epoch": 0,
    "times/pre-1970": -305_000_000 * 10**9 + 250_000_000,
    "times/y2038-edge": (2**31 - 1) * 10**9 + 999_999_999,
    "times/post-2038": 4_102_542_245 * 10**9 + 500_000_000,
    "times/post-2106": 7_258_118_400 * 10**9 + 1,
    "times/whole-second": 1_600_000_000 * 10**9,
}

# (relative path, mode) for the permission cases; "root" marks those only root can
# serve and receive faithfully (unreadable to the owner, or non-writable directories a
# non-root receiver could not fill).
MODE_FILES = (
    ("modes/setuid", 0o4755, False),
    ("modes/setgid", 0o2755, False),
    ("modes/setuid-setgid-sticky", 0o7777, False),
    ("modes/read-only", 0o444, False),
    ("modes/private", 0o600, False),
    ("modes/exec-only-others", 0o711, False),
    ("modes/world-writable", 0o666, False),
    ("modes/odd-0421", 0o421, False),
    ("modes/no-perms", 0o000, True),
    ("modes/write-only", 0o200, True),
)
MODE_DIRS = (
    ("modes/sticky-dir", 0o1777, False),
    ("modes/setgid-dir", 0o2775, False),
    ("modes/private-dir", 0o700, False),
    ("modes/read-only-dir", 0o555, True),
)


@dataclass
class GeneratedTree:
    """What ``generate_tree`` made, for tests that need to know which entry is which."""
    root: str
    outside: str                     # sibling of root that out-of-module links point into
    seed: int
    with_root_items: bool
    hard_link_groups: list[list[str]] = field(default_factory=list)
    symlinks: dict[str, str] = field(default_factory=dict)        # path -> target as stored
    devices: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # (c|b, maj, min)
    owners: dict[str, tuple[int, int]] = field(default_factory=dict)
    sparse_files: dict[str, int] = field(default_factory=dict)   # path -> apparent size
    filter_files: list[str] = field(default_factory=list)        # .rsync-filter files


def _random_bytes(rng: random.Random, n: int) -> bytes:
    return rng.randbytes(n)


def _write(path: str, data: bytes, mode: int = 0o644) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
    os.chmod(path, mode)


def write_random_file(path: str, size: int, seed: int, mode: int = 0o644) -> None:
    """A file of ``size`` seeded random bytes, written in chunks (sizes up to GiBs)."""
    rng = random.Random(seed)
    with open(path, "wb") as fh:
        left = size
        while left > 0:
            n = min(left, 16 * MIB)
            fh.write(rng.randbytes(n))
            left -= n
    os.chmod(path, mode)


def make_sparse_file(path: str, size: int, data_at: Iterable[tuple[int, bytes]] = (),
                     mode: int = 0o644) -> None:
    """A sparse file of apparent ``size``: the given data blocks, holes elsewhere, and one
    byte at the very end (so the size is real and the tail is not a hole)."""
    with open(path, "wb") as fh:
        for off, data in data_at:
            fh.seek(off)
            fh.write(data)
        fh.seek(size - 1)
        fh.write(b"\x01")
    os.chmod(path, mode)


def make_delta_versions(old_path: str, new_path: str, size: int, *, seed: int = 3,
                        overwrites: tuple[int, int] = (12, 200_000),
                        inserts: tuple[int, int] = (2, 140_000),
                        deletes: tuple[int, int] = (2, 100_000)) -> int:
    """Write ``size`` seeded random bytes to ``old_path`` and a changed copy to
    ``new_path``: ``(count, length)`` overwritten ranges, insertions and deletions,
    spread evenly over the file with some jitter (the defaults change 1% of 256 MiB).
    Insertions and deletions shift what follows them, so matching needs the rolling
    checksum. Returns the number of new bytes (overwritten plus inserted), which no
    block of the old version can match."""
    write_random_file(old_path, size, seed)
    with open(old_path, "rb") as fh:
        data = bytearray(fh.read())
    rng = random.Random(seed + 1)
    kinds = (["overwrite"] * overwrites[0] + ["insert"] * inserts[0]
             + ["delete"] * deletes[0])
    rng.shuffle(kinds)
    n = len(kinds)
    # Edit from the end backwards so that the earlier offsets stay valid.
    places = sorted((int((i + 0.5) * size / n) + rng.randrange(-size // (4 * n), size // (4 * n))
                     for i in range(n)), reverse=True)
    fresh = 0
    for off, kind in zip(places, kinds):
        if kind == "overwrite":
            data[off:off + overwrites[1]] = rng.randbytes(overwrites[1])
            fresh += overwrites[1]
        elif kind == "insert":
            data[off:off] = rng.randbytes(inserts[1])
            fresh += inserts[1]
        else:
            del data[off:off + deletes[1]]
    with open(new_path, "wb") as fh:
        fh.write(data)
    os.chmod(new_path, 0o644)
    return fresh


def allocated_bytes(path: str) -> int:
    return os.lstat(path).st_blocks * 512


def _system_ids() -> dict[str, tuple[int, int]]:
    """uid/gid of the system users the owner cases use (those that exist here)."""
    import pwd
    out = {}
    for name in ("daemon", "bin", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        out[name] = (pw.pw_uid, pw.pw_gid)
    return out


def generate_tree(root: str, *, seed: int = 1, with_root_items: Optional[bool] = None,
                  large_size: int = 4 * MIB, huge_sparse_size: int = 0,
                  filter_files: bool = True) -> GeneratedTree:
    """Create the module tree under ``root`` (which must not exist or be empty).

    ``with_root_items`` (default: whether we run as root) adds device nodes, several
    owners and the modes only root can serve and receive. ``huge_sparse_size`` > 0 adds
    ``sparse/huge.img`` of that apparent size (a few data blocks, the rest holes).
    An ``outside`` directory is created next to ``root`` for out-of-module symlinks.
    """
    if with_root_items is None:
        with_root_items = running_as_root()
    rng = random.Random(seed)
    parent = os.path.dirname(os.path.abspath(root))
    outside = os.path.join(parent, "outside-module")
    os.makedirs(outside, exist_ok=True)
    os.chmod(outside, 0o755)
    _write(os.path.join(outside, "secret"), b"this file is outside the module\n")
    os.makedirs(root, exist_ok=True)
    os.chmod(root, 0o755)
    info = GeneratedTree(root=root, outside=outside, seed=seed, with_root_items=with_root_items)

    def p(rel: str) -> str:
        return os.path.join(root, rel)

    def mkdir(rel: str, mode: int = 0o755) -> None:
        os.makedirs(p(rel), exist_ok=True)
        os.chmod(p(rel), mode)

    # --- directories ----------------------------------------------------------------
    for d in ("dir", "dir/nested", "dir/nested/deeper", "dir/nested/deeper/deepest",
              "empty-dir", "dir/empty-nested", "dir/nested/empty-leaf", "files", "large",
              "sparse", "links", "hard", "hard/other", "specials", "names", "times",
              "modes", "filtered", "filtered/sub"):
        mkdir(d)

    # --- regular files of many sizes --------------------------------------------------
    sizes = {"empty": 0, "one-byte": 1, "small-100": 100, "block-699": 699,
             "block-700": 700, "block-701": 701, "page-4096": 4096,
             "chunk-32767": 32767, "chunk-32768": 32768, "chunk-32769": 32769,
             "odd-65549": 65549, "mid-300k": 300 * 1024 + 7}
    for name, size in sizes.items():
        _write(p(f"files/{name}"), _random_bytes(rng, size))
    _write(p("dir/a.txt"), b"alpha\n")
    _write(p("dir/nested/b.txt"), b"bravo\n" * 100)
    _write(p("dir/nested/deeper/deepest/c.txt"), b"charlie, deep down\n")
    _write(p("dir/nested/deeper/d.bin"), _random_bytes(rng, 5000))
    text = b"".join(b"line %06d of a very compressible text file\n" % i for i in range(24000))
    _write(p("large/compressible.txt"), text)
    _write(p("large/zeros-dense.bin"), bytes(MIB))  # zeros really on disk, not a hole
    write_random_file(p("large/random.bin"), large_size, seed * 7919 + 1)

    # --- sparse files ------------------------------------------------------------------
    make_sparse_file(p("sparse/small-sparse.img"), 3 * MIB + 123,
                     [(MIB, _random_bytes(rng, 4096))])
    info.sparse_files["sparse/small-sparse.img"] = 3 * MIB + 123
    if huge_sparse_size:
        make_sparse_file(p("sparse/huge.img"), huge_sparse_size,
                         [(0, b"head of a huge sparse file\n"),
                          (GIB + 12345, _random_bytes(rng, 70000)),
                          (4 * GIB - 2, b"spans the 4 GiB line")])
        info.sparse_files["sparse/huge.img"] = huge_sparse_size

    # --- hard links ----------------------------------------------------------------------
    _write(p("hard/original"), _random_bytes(rng, 2000))
    os.link(p("hard/original"), p("hard/second-name"))
    os.link(p("hard/original"), p("hard/other/third-name"))
    os.link(p("hard/original"), p("dir/hard-link-elsewhere"))
    info.hard_link_groups.append(["dir/hard-link-elsewhere", "hard/original",
                                  "hard/other/third-name", "hard/second-name"])
    _write(p("hard/pair-a"), b"", 0o600)  # an empty hard-linked file, odd mode
    os.link(p("hard/pair-a"), p("hard/pair-b"))
    info.hard_link_groups.append(["hard/pair-a", "hard/pair-b"])
    _write(p("hard/lonely"), b"not linked\n")

    # --- symlinks ------------------------------------------------------------------------
    links = {
        "links/relative": "../dir/a.txt",
        "links/relative-dir": "../dir/nested",
        "links/same-dir": "sibling",
        "links/absolute": "/etc/hostname",
        "links/absolute-missing": "/nonexistent/absolute/target",
        "links/dangling": "no-such-file",
        "links/out-of-module": "../../outside-module/secret",
        "links/out-of-module-dir": "../../outside-module",
        "links/up-and-back": "../links/../dir/./a.txt",
        "links/munged": MUNGE_PREFIX + "etc/passwd",
        "links/munge-prefix-only": MUNGE_PREFIX,
        "links/space target": "target with spaces",
        "links/self-loop": "self-loop",
        "dir/nested/deeper/link-to-top": "../../../files/small-100",
        "names/link-to-newline": "new\nline",
    }
    _write(p("links/sibling"), b"sibling\n")
    for rel, target in links.items():
        os.symlink(target, p(rel))
    info.symlinks.update(links)

    # --- specials ------------------------------------------------------------------------
    os.mkfifo(p("specials/fifo"), 0o644)
    os.mkfifo(p("dir/nested/fifo-deep"), 0o600)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(p("specials/socket"))
    finally:
        sock.close()
    os.chmod(p("specials/socket"), 0o755)
    if with_root_items:
        for rel, kind, major, minor in (("specials/char-1-3", "c", 1, 3),
                                        ("specials/char-big", "c", 300, 70000),
                                        ("specials/block-7-200", "b", 7, 200),
                                        ("specials/block-0-0", "b", 0, 0)):
            ftype = stat.S_IFCHR if kind == "c" else stat.S_IFBLK
            os.mknod(p(rel), ftype | 0o640, os.makedev(major, minor))
            info.devices[rel] = (kind, major, minor)

    # --- odd names -----------------------------------------------------------------------
    for i, name in enumerate(ODD_NAMES):
        _write(p(f"names/{name}"), f"file number {i}\n".encode())
    mkdir("names/dir with space")
    _write(p("names/dir with space/inner file"), b"inner\n")
    mkdir("names/日本語ディレクトリ")
    _write(p("names/日本語ディレクトリ/ファイル.txt"), "内容\n".encode())

    # --- times -----------------------------------------------------------------------------
    for rel in FIXED_MTIMES_NS:
        _write(p(rel), rel.encode() + b"\n")

    # --- modes -----------------------------------------------------------------------------
    for rel, mode, root_only in MODE_FILES:
        if root_only and not with_root_items:
            continue
        _write(p(rel), rel.encode() + b"\n", mode)
    for rel, mode, root_only in MODE_DIRS:
        if root_only and not with_root_items:
            continue
        os.makedirs(p(rel), exist_ok=True)
        _write(os.path.join(p(rel), "inside"), b"inside\n")
        os.chmod(p(rel), mode)

    # --- filter material ------------------------------------------------------------------
    for rel in ("filtered/keep.txt", "filtered/drop.tmp", "filtered/keep.tmp",
                "filtered/note.skip", "filtered/sub/deep.skip", "filtered/sub/deep.txt",
                "dir/scratch.tmp"):
        _write(p(rel), rel.encode() + b"\n")
    if filter_files:
        _write(p("filtered/.rsync-filter"), b"- *.skip\n")
        info.filter_files.append("filtered/.rsync-filter")

    # --- owners (root) --------------------------------------------------------------------
    if with_root_items:
        ids = _system_ids()
        mkdir("owners")
        plan = []
        for name, (uid, gid) in ids.items():
            _write(p(f"owners/{name}-file"), name.encode() + b"\n")
            plan.append((f"owners/{name}-file", uid, gid))
        _write(p("owners/unnamed-ids"), b"ids without names\n")
        plan.append(("owners/unnamed-ids", 4242, 4343))
        if "daemon" in ids and "bin" in ids:
            _write(p("owners/daemon-user-bin-group"), b"mixed\n")
            plan.append(("owners/daemon-user-bin-group", ids["daemon"][0], ids["bin"][1]))
            mkdir("owners/bin-dir")
            _write(p("owners/bin-dir/setuid-daemon"), b"setuid, not root\n", 0o4750)
            plan.append(("owners/bin-dir", ids["bin"][0], ids["bin"][1]))
            plan.append(("owners/bin-dir/setuid-daemon", ids["daemon"][0], ids["daemon"][1]))
            os.symlink("daemon-file", p("owners/link-owned-by-bin"))
            plan.append(("owners/link-owned-by-bin", ids["bin"][0], ids["bin"][1]))
        for rel, uid, gid in plan:
            mode = os.lstat(p(rel)).st_mode
            os.lchown(p(rel), uid, gid)
            if not stat.S_ISLNK(mode):
                os.chmod(p(rel), stat.S_IMODE(mode))  # chown cleared setuid/setgid
            info.owners[rel] = (uid, gid)

    # --- mtimes (last: creating entries changes their directory's mtime) -----------------
    _set_times(root, rng)
    return info


def _set_times(root: str, rng: random.Random) -> None:
    """Give every entry a seeded mtime with nanoseconds (fixed ones for times/*), children
    before their directory, the root last; names in sorted order, so that the same seed
    gives the same times on any file system."""
    base = 1_500_000_000

    def seeded_ns() -> int:
        return (base + rng.randrange(0, 200_000_000)) * 10**9 + rng.randrange(10**9)

    def visit(dir_path: str) -> None:
        for name in sorted(os.listdir(dir_path)):
            path = os.path.join(dir_path, name)
            if stat.S_ISDIR(os.lstat(path).st_mode):
                visit(path)
                continue
            ns = FIXED_MTIMES_NS.get(os.path.relpath(path, root))
            if ns is None:
                ns = seeded_ns()
            os.utime(path, ns=(ns, ns), follow_symlinks=False)
        ns = seeded_ns()
        os.utime(dir_path, ns=(ns, ns))

    visit(root)


# ----------------------------------------------------------------------------------------
# Snapshot
# ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One tree entry as the comparator sees it."""
    kind: str                  # dir, file, symlink, fifo, socket, chr, blk
    mode: int                  # permission bits incl. setuid/setgid/sticky
    uid: int
    gid: int
    mtime_ns: int
    size: int = 0              # files only
    digest: str = ""           # files only
    target: str = ""           # symlinks only
    rdev: tuple[int, int] = (0, 0)  # devices only
    nlink: int = 1
    inode: tuple[int, int] = (0, 0)

    def describe(self) -> str:
        extra = ""
        if self.kind == "file":
            extra = f" size={self.size} digest={self.digest[:16]}"
        elif self.kind == "symlink":
            extra = f" -> {self.target!r}"
        elif self.kind in ("chr", "blk"):
            extra = f" rdev={self.rdev[0]},{self.rdev[1]}"
        return (f"{self.kind} mode={self.mode:04o} owner={self.uid}:{self.gid} "
                f"mtime={format_ns(self.mtime_ns)}{extra}")


def format_ns(ns: int) -> str:
    sec, frac = divmod(ns, 10**9)
    return f"{sec}.{frac:09d}"


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"), (stat.S_ISLNK, "symlink"),
                       (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "chr"), (stat.S_ISBLK, "blk")):
        if test(mode):
            return name
    return "unknown"


def content_digest(path: str, size: int) -> str:
    """SHA-256 over (chunk index, chunk hash) of every chunk that is not all zeros.

    Holes are skipped with SEEK_DATA, so hashing a 4 GiB sparse file costs only its data.
    Equal digests mean equal bytes (for files of equal size).
    """
    h = hashlib.sha256(size.to_bytes(8, "little"))
    try:
        # Looking must not change what is looked at: tests compare access times too.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NOATIME)
    except PermissionError:  # O_NOATIME needs ownership (or root)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        k = 0
        while k * DIGEST_CHUNK < size:
            off = k * DIGEST_CHUNK
            try:
                data_off = os.lseek(fd, off, os.SEEK_DATA)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # only a hole remains
                    break
                raise
            if data_off >= off + DIGEST_CHUNK:
                k = data_off // DIGEST_CHUNK
                continue
            want = min(DIGEST_CHUNK, size - off)
            chunk = os.pread(fd, want, off)
            if len(chunk) != want:
                raise AssertionError(f"{path}: short read at {off} ({len(chunk)} of {want})")
            if chunk != _ZERO_CHUNK[:want]:
                h.update(k.to_bytes(8, "little"))
                h.update(hashlib.sha256(chunk).digest())
            k += 1
    finally:
        os.close(fd)
    return h.hexdigest()


@dataclass
class Snapshot:
    """All entries of a tree, keyed by path relative to its root ("." is the root)."""
    root: str
    entries: dict[str, Entry]

    def hard_link_groups(self) -> set[frozenset[str]]:
        """Groups (of two or more paths) of non-directories sharing one inode."""
        by_inode: dict[tuple[int, int], set[str]] = {}
        for path, e in self.entries.items():
            if e.kind != "dir" and e.nlink > 1:
                by_inode.setdefault(e.inode, set()).add(path)
        return {frozenset(v) for v in by_inode.values() if len(v) > 1}

    def paths(self) -> list[str]:
        return sorted(self.entries)


def snapshot(root: str, digests: bool = True) -> Snapshot:
    """Walk ``root`` (never following symlinks) and record every entry."""
    entries: dict[str, Entry] = {}

    def record(path: str, rel: str) -> Optional[os.stat_result]:
        st = os.lstat(path)
        kind = _kind(st.st_mode)
        size = digest = target = ""
        rdev = (0, 0)
        if kind == "file":
            size = st.st_size
            digest = content_digest(path, st.st_size) if digests else ""
        elif kind == "symlink":
            target = os.readlink(path)
        elif kind in ("chr", "blk"):
            rdev = (os.major(st.st_rdev), os.minor(st.st_rdev))
        entries[rel] = Entry(kind=kind, mode=stat.S_IMODE(st.st_mode), uid=st.st_uid,
                             gid=st.st_gid, mtime_ns=st.st_mtime_ns,
                             size=size if kind == "file" else 0, digest=digest or "",
                             target=target or "", rdev=rdev, nlink=st.st_nlink,
                             inode=(st.st_dev, st.st_ino))
        return st

    def walk(dir_path: str, rel_dir: str) -> None:
        for name in sorted(os.listdir(dir_path)):
            path = os.path.join(dir_path, name)
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            st = record(path, rel)
            if st is not None and stat.S_ISDIR(st.st_mode):
                walk(path, rel)

    record(root, ".")
    walk(root, ".")
    return Snapshot(root, entries)


# ----------------------------------------------------------------------------------------
# Expected trees
# ----------------------------------------------------------------------------------------

def munged_target(target: str) -> str:
    """What a sender with ``munge symlinks`` on sends for a stored symlink target.

    Upstream: flist.c:readlink_stat strips the prefix only when the target is longer.
    """
    if len(target) > len(MUNGE_PREFIX) and target.startswith(MUNGE_PREFIX):
        return target[len(MUNGE_PREFIX):]
    return target


def expected_from_source(src: Snapshot, *, munge_symlinks: bool,
                         include: Optional[Callable[[str], bool]] = None) -> Snapshot:
    """The tree a client should end up with when pulling ``src``.

    ``munge_symlinks``: the module's effective ``munge symlinks`` (on for ``use chroot =
    no`` modules unless configured off). ``include(path)``: False for paths a filter
    removes (their descendants go too).
    """
    out: dict[str, Entry] = {}
    excluded_dirs: list[str] = []
    for path in sorted(src.entries):
        e = src.entries[path]
        if path != "." and any(path.startswith(d + "/") for d in excluded_dirs):
            continue
        if path != "." and include is not None and not include(path):
            if e.kind == "dir":
                excluded_dirs.append(path)
            continue
        if e.kind == "symlink" and munge_symlinks:
            e = replace(e, target=munged_target(e.target))
        out[path] = e
    return Snapshot(src.root, out)


# ----------------------------------------------------------------------------------------
# Comparison
# ----------------------------------------------------------------------------------------

@dataclass
class Rules:
    """What must be equal between an expected tree and a received one."""
    protocol: int = 32          # nanoseconds at >= 31; 32-bit unsigned seconds below 30
    owners: bool = True         # uid/gid (only meaningful when the receiver runs as root)
    hard_links: bool = True     # True: same groups; False: the copy has no hard links
    perms: bool = True
    times: bool = True
    dir_times: bool = True
    root_entry: bool = True     # compare "." itself
    exact_times: bool = False   # compare mtime_ns verbatim (tree vs tree from the same pull)
    ignore: Callable[[str], bool] = lambda _p: False
    time_exempt: Callable[[str], bool] = lambda _p: False  # paths whose mtime is not compared

    def expected_mtime(self, ns: int) -> int:
        """The mtime a receiver sets for a source mtime of ``ns`` at this protocol."""
        if self.exact_times:
            return ns
        sec = ns // 10**9
        if self.protocol < 30:
            # Upstream: flist.c:send_file_entry writes a 32-bit int, recv_file_entry
            # reads it back as unsigned before protocol 30.
            sec &= 0xFFFFFFFF
        frac = ns % 10**9 if self.protocol >= 31 else 0
        return sec * 10**9 + frac


def diff_trees(expected: Snapshot, actual: Snapshot, rules: Rules) -> list[str]:
    """Human-readable differences (empty when the trees are equal under ``rules``)."""
    problems: list[str] = []
    exp_paths = {p for p in expected.entries if not rules.ignore(p)}
    act_paths = {p for p in actual.entries if not rules.ignore(p)}
    if not rules.root_entry:
        exp_paths.discard(".")
        act_paths.discard(".")
    for path in sorted(exp_paths - act_paths):
        problems.append(f"missing:    {path!r} ({expected.entries[path].describe()})")
    for path in sorted(act_paths - exp_paths):
        problems.append(f"unexpected: {path!r} ({actual.entries[path].describe()})")
    for path in sorted(exp_paths & act_paths):
        e, a = expected.entries[path], actual.entries[path]
        what = []
        if e.kind != a.kind:
            problems.append(f"type:       {path!r}: expected {e.kind}, got {a.kind}")
            continue
        if rules.perms and e.kind != "symlink" and e.mode != a.mode:
            what.append(f"mode {e.mode:04o} != {a.mode:04o}")
        if rules.owners and (e.uid, e.gid) != (a.uid, a.gid):
            what.append(f"owner {e.uid}:{e.gid} != {a.uid}:{a.gid}")
        if rules.times and (e.kind != "dir" or rules.dir_times) and not rules.time_exempt(path):
            want = rules.expected_mtime(e.mtime_ns)
            if want != a.mtime_ns:
                what.append(f"mtime {format_ns(want)} != {format_ns(a.mtime_ns)}"
                            + ("" if want == e.mtime_ns else
                               f" (source {format_ns(e.mtime_ns)}, protocol {rules.protocol})"))
        if e.kind == "file" and (e.size, e.digest) != (a.size, a.digest):
            what.append(f"content size={e.size}/{e.digest[:12]} != size={a.size}/{a.digest[:12]}")
        if e.kind == "symlink" and e.target != a.target:
            what.append(f"target {e.target!r} != {a.target!r}")
        if e.kind in ("chr", "blk") and e.rdev != a.rdev:
            what.append(f"rdev {e.rdev} != {a.rdev}")
        if what:
            problems.append(f"differs:    {path!r}: " + "; ".join(what))
    problems += _diff_links(expected, actual, rules, exp_paths & act_paths)
    return problems


def _diff_links(expected: Snapshot, actual: Snapshot, rules: Rules,
                common: set[str]) -> list[str]:
    def groups(s: Snapshot) -> set[frozenset[str]]:
        out = set()
        for g in s.hard_link_groups():
            g = frozenset(p for p in g if p in common)
            if len(g) > 1:
                out.add(g)
        return out

    exp, act = groups(expected), groups(actual)
    if not rules.hard_links:
        return [f"hard links: the copy links {sorted(g)} but -H was not given" for g in
                sorted(act, key=sorted)]
    problems = []
    for g in sorted(exp - act, key=sorted):
        problems.append(f"hard links: expected one inode for {sorted(g)}")
    for g in sorted(act - exp, key=sorted):
        problems.append(f"hard links: unexpected inode group {sorted(g)}")
    return problems


def assert_trees_equal(test, expected: Snapshot, actual: Snapshot, rules: Rules,
                       context: str = "") -> None:
    """Fail ``test`` with every difference listed (at most 60 lines)."""
    problems = diff_trees(expected, actual, rules)
    if problems:
        shown = problems[:60]
        more = f"\n... and {len(problems) - 60} more" if len(problems) > 60 else ""
        test.fail(f"{context}\ntrees differ ({expected.root} vs {actual.root}), "
                  f"{len(problems)} difference(s):\n  " + "\n  ".join(shown) + more)


def expected_relative(src: Snapshot, sources: Iterable[str], *, munge_symlinks: bool) -> Snapshot:
    """What ``-R`` delivers for module paths like ``dir/nested/./deeper`` or ``names/x``:
    the part after ``/./`` (or the whole path) with its implied parent directories, which
    carry their source attributes, and everything below it. The destination root is not
    part of the result (``-R`` does not send the module root)."""
    out: dict[str, Entry] = {}
    for spec in sources:
        base, _, rel = spec.rpartition("/./")
        if not _:
            base, rel = "", spec
        for path, e in src.entries.items():
            if path == ".":
                continue
            if base:
                if not path.startswith(base + "/"):
                    continue
                path = path[len(base) + 1:]
            if path == rel or path.startswith(rel + "/") or rel.startswith(path + "/"):
                if e.kind == "symlink" and munge_symlinks:
                    e = replace(e, target=munged_target(e.target))
                out[path] = e
    return Snapshot(src.root, out)


def remove_tree(path: str) -> None:
    """rm -rf that also works as non-root on trees with read-only directories."""
    import shutil

    def fix(func, p, _exc):
        try:
            os.chmod(os.path.dirname(p), 0o755)
            if os.path.isdir(p) and not os.path.islink(p):
                os.chmod(p, 0o755)
            func(p)
        except OSError:
            pass
    if os.path.lexists(path):
        shutil.rmtree(path, onerror=fix)


# ----------------------------------------------------------------------------------------
# Push helpers (issue 4)
# ----------------------------------------------------------------------------------------

def copy_tree(src: str, dst: str) -> None:
    """A copy of ``src`` at ``dst`` with every attribute (owners as root, nanosecond
    mtimes, devices, FIFOs, sockets) but without hard links (each name its own inode)."""
    import subprocess
    if os.path.lexists(dst):
        raise FileExistsError(dst)
    subprocess.run(["cp", "-a", "--no-preserve=links", src, dst], check=True)


def with_expected_times(src: Snapshot, protocol: int, seconds_only: bool = False) -> Snapshot:
    """``src`` with each mtime replaced by what a receiver sets at ``protocol``
    (``Rules.expected_mtime``), cut to whole seconds if ``seconds_only``. Compare the
    result with ``Rules(exact_times=True)`` (after ``seconds_only`` on both sides when
    some entries may keep their older, nanosecond, mtime)."""
    rules = Rules(protocol=protocol)
    out = {}
    for path, e in src.entries.items():
        ns = rules.expected_mtime(e.mtime_ns)
        if seconds_only:
            ns -= ns % 10**9
        out[path] = replace(e, mtime_ns=ns)
    return Snapshot(src.root, out)


def seconds_only(snap: Snapshot) -> Snapshot:
    """``snap`` with every mtime cut to whole seconds."""
    return Snapshot(snap.root, {p: replace(e, mtime_ns=e.mtime_ns - e.mtime_ns % 10**9)
                                for p, e in snap.entries.items()})


def merged(base: Snapshot, overlay: dict[str, Entry], drop: Iterable[str] = ()) -> Snapshot:
    """``base`` with ``overlay`` entries added or replacing, and ``drop`` paths (and
    everything below them) removed."""
    drop = list(drop)
    out = {p: e for p, e in base.entries.items()
           if not any(p == d or p.startswith(d + "/") for d in drop)}
    out.update(overlay)
    return Snapshot(base.root, out)
