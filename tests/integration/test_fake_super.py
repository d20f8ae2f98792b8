# SPDX-License-Identifier: MIT
"""``fake super = yes``: privileged attributes kept in ``user.rsync.%stat`` xattrs (issue 4).

A target daemon and upstream's ``rsync --daemon`` (``harness.PushPair``, same config) each
serve two writable ``fake super`` modules:

- ``fsroot``: ``uid = root``, ``gid = root``, ``use chroot = yes`` (symlink targets stored
  verbatim);
- ``fsnobody``: ``uid = nobody``, ``gid = nogroup``, ``use chroot = no`` (so ``munge
  symlinks`` is on), its directory owned by nobody.

The source (built as root for each test) holds a setuid file owned by 1234:5678 with a
hard link, a read-only file, a plain file, a setgid directory owned by 42:43 with a file
owned by 7:8 inside, a directory of mode 0000, a sticky directory, a character and a block
device, a FIFO with a hard link, a socket, a relative symlink owned by 99:98 with an old
mtime and an absolute symlink; mtimes carry nanoseconds.

Each test (one per module and protocol 29, 30 and 31) pushes it with ``-aHi
--numeric-ids`` to both daemons and checks:

- exit code, stdout (the ``-i`` lines) and stderr equal upstream's;
- the two module trees are equal entry by entry *including* the ``user.rsync.%stat``
  xattr of every entry (read without following symlinks): real type (devices, FIFOs,
  sockets and symlinks are regular files there), real permissions, real owner, size,
  bytes (a symlink's stand-in holds its target), mtime to the nanosecond, hard-link
  groups and every user xattr; and that records exist at all (so that two daemons which
  both store nothing cannot pass);
- a second push of the unchanged source itemizes exactly what upstream's does;
- after changing the source (a mode, an owner, a device number, a symlink's owner) a
  third push itemizes and stores what upstream's does;
- a pull of the module directory back as root (``-aHi --numeric-ids``) prints what
  upstream's prints, and both pulled trees equal the source: types, modes (setuid,
  setgid, sticky), owners, device numbers, symlink targets, hard-link groups and mtimes.

More tests push over and pull a module entry whose record is malformed (upstream:
"Corrupt ... xattr", exit 11), one whose record is longer than upstream reads (its "failed to read
xattr" error, exit 23), and entries whose records lie about their type (exit 23), on both
daemons.

Needs root (owners, devices); run as another user the class fails saying so.
"""

import os
import socket
import stat
import unittest
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import harness as h
import tree

ROOT = h.running_as_root()
XATTR = "user.rsync.%stat"
MODULES = ("fsroot", "fsnobody")
PROTOCOLS = (29, 30, 31)
NOBODY = 65534
BASE_NS = 1_600_000_000 * 10**9 + 123_456_789


def _config(root: str) -> str:
    return (f"[fsroot]\n    path = {root}/fsroot\n    read only = no\n    uid = root\n"
            f"    gid = root\n    use chroot = yes\n    fake super = yes\n"
            f"[fsnobody]\n    path = {root}/fsnobody\n    read only = no\n    uid = nobody\n"
            f"    gid = nogroup\n    use chroot = no\n    fake super = yes\n")


def _prepare_modules(pair: h.PushPair) -> None:
    for root in pair.roots():
        for m in MODULES:
            d = os.path.join(root, m)
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
            if m == "fsnobody":
                os.chown(d, NOBODY, NOBODY)


def build_source(root: str) -> None:
    """The source tree (see the module docstring)."""
    os.makedirs(root)

    def p(rel: str) -> str:
        return os.path.join(root, rel)

    def put(rel: str, data: bytes, mode: int, uid: int = 0, gid: int = 0) -> None:
        with open(p(rel), "wb") as fh:
            fh.write(data)
        os.chown(p(rel), uid, gid)
        os.chmod(p(rel), mode)

    put("file", b"hello\n", 0o4755, 1234, 5678)
    os.link(p("file"), p("hard1"))
    put("ro", b"read only\n", 0o400)
    put("plain", b"plain\n", 0o644)
    os.mkdir(p("dir"))
    put("dir/inner", b"inner\n", 0o644, 7, 8)
    os.chown(p("dir"), 42, 43)
    os.chmod(p("dir"), 0o2750)
    os.mkdir(p("sticky"))
    os.chmod(p("sticky"), 0o1777)
    os.mkdir(p("dir000"))
    os.mknod(p("chr"), stat.S_IFCHR | 0o620, os.makedev(1, 3))
    os.chown(p("chr"), 11, 12)
    os.mknod(p("blk"), stat.S_IFBLK | 0o644, os.makedev(8, 1))
    os.mkfifo(p("fifo"), 0o640)
    os.chmod(p("fifo"), 0o640)
    os.chown(p("fifo"), 5, 6)
    os.link(p("fifo"), p("hardfifo"))
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(p("sock"))
    finally:
        s.close()
    os.chmod(p("sock"), 0o755)
    os.symlink("file", p("link"))
    os.lchown(p("link"), 99, 98)
    os.symlink("/etc/passwd", p("abslink"))
    set_times(root)


def set_times(root: str) -> None:
    """Fixed mtimes with nanoseconds (directories last, the old symlink older)."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + dirnames:
            entries.append(os.path.join(dirpath, name))
    for i, path in enumerate(sorted(entries, key=lambda x: (-x.count("/"), x))):
        ns = BASE_NS + i * 1_000_000_007
        if path.endswith("/link"):
            ns = 1_577_836_800 * 10**9 + 5
        os.utime(path, ns=(ns, ns), follow_symlinks=False)
    os.utime(root, ns=(BASE_NS, BASE_NS))


def change_source(root: str) -> None:
    """What the third push carries over: a mode, owners, a device number, a group."""
    def p(rel: str) -> str:
        return os.path.join(root, rel)

    os.chmod(p("file"), 0o755)
    os.lchown(p("link"), 100, 100)
    os.chmod(p("plain"), 0o600)
    os.chown(p("dir"), 0, 0)
    os.chmod(p("dir"), 0o2750)
    os.unlink(p("chr"))
    os.mknod(p("chr"), stat.S_IFCHR | 0o620, os.makedev(1, 5))
    os.chown(p("chr"), 11, 12)
    os.chown(p("ro"), 0, 33)
    set_times(root)


def user_xattrs(path: str) -> dict[str, bytes]:
    out = {}
    for name in os.listxattr(path, follow_symlinks=False):
        if name.startswith("user."):
            out[name] = os.getxattr(path, name, follow_symlinks=False)
    return out


def module_snapshot(root: str) -> tuple[dict[str, tuple], set[frozenset[str]]]:
    """Every entry of a module directory as stored: (kind, permission bits, owner, size,
    bytes, mtime_ns, rdev, symlink target, user xattrs), and the hard-link groups."""
    entries: dict[str, tuple] = {}
    inodes: dict[tuple[int, int], set[str]] = {}

    def record(path: str, rel: str) -> os.stat_result:
        st = os.lstat(path)
        kind = tree._kind(st.st_mode)
        data = b""
        if kind == "file":
            with open(path, "rb") as fh:
                data = fh.read()
        target = os.readlink(path) if kind == "symlink" else ""
        rdev = (os.major(st.st_rdev), os.minor(st.st_rdev)) if kind in ("chr", "blk") else (0, 0)
        entries[rel] = (kind, oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid, st.st_size,
                        data, st.st_mtime_ns if kind != "symlink" else 0, rdev, target,
                        tuple(sorted(user_xattrs(path).items())))
        if kind != "dir" and st.st_nlink > 1:
            inodes.setdefault((st.st_dev, st.st_ino), set()).add(rel)
        return st

    def walk(dir_path: str, rel_dir: str) -> None:
        for name in sorted(os.listdir(dir_path)):
            path = os.path.join(dir_path, name)
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if stat.S_ISDIR(record(path, rel).st_mode):
                walk(path, rel)

    record(root, ".")
    walk(root, ".")
    return entries, {frozenset(g) for g in inodes.values() if len(g) > 1}


def without_fresh_dir_times(snap: tuple[dict, set]) -> tuple[dict, set]:
    """The snapshot with the mtime of directories made or changed just now (the backup
    area, the module directory holding it) set to 0: it is the moment of the mkdir."""
    recent = 1_700_000_000 * 10**9
    entries = {p: (e[:6] + (0,) + e[7:] if e[0] == "dir" and e[6] > recent else e)
               for p, e in snap[0].items()}
    return entries, snap[1]


def diff_snapshots(a: tuple[dict, set], b: tuple[dict, set]) -> list[str]:
    (ea, la), (eb, lb) = a, b
    problems = []
    for path in sorted(set(ea) | set(eb)):
        if ea.get(path) != eb.get(path):
            problems.append(f"{path!r}: target {ea.get(path)!r}\n    upstream {eb.get(path)!r}")
    if la != lb:
        problems.append(f"hard-link groups: target {sorted(map(sorted, la))}, "
                        f"upstream {sorted(map(sorted, lb))}")
    return problems


class FakeSuperTest(unittest.TestCase):
    """One daemon pair for every test; each test uses its own directories."""

    @classmethod
    def setUpClass(cls):
        if not ROOT:
            raise AssertionError("test_fake_super needs root: the source has devices and "
                                 "foreign owners, and the pull must restore them")
        cls.base = h.make_temp_dir("ocr-fake-super-")
        cls.pair = h.PushPair(cls.base, _config)
        cls.addClassCleanup(cls.pair.stop)
        _prepare_modules(cls.pair)

    def setUp(self):
        self.work = h.make_temp_dir("ocr-fake-super-work-")
        self.src = os.path.join(self.work, "source")
        build_source(self.src)

    def both(self, args: list[str], what: str, expected_rc: Optional[int] = 0,
             labels: tuple[tuple[str, str], ...] = ()) -> tuple[h.RunResult, h.RunResult]:
        res_t, res_u = h.run_both(self.pair, args)
        daemons = self.pair.daemons()
        paths = ((self.src, "<SRC>"),) + labels
        out_t, out_u, err_t, err_u = (h.normalise_transfer_text(t, daemons, paths) for t in
                                      (res_t.stdout, res_u.stdout, res_t.stderr, res_u.stderr))
        problems = []
        if expected_rc is not None and res_u.returncode != expected_rc:
            problems.append(f"EXPECTATION ERROR: upstream exited {res_u.returncode}, "
                            f"the test expects {expected_rc}")
        if res_t.returncode != res_u.returncode:
            problems.append(f"target exited {res_t.returncode}, upstream {res_u.returncode}")
        if out_t != out_u:
            problems.append(f"stdout differs:\n--- upstream\n{out_u}--- target\n{out_t}")
        if err_t != err_u:
            problems.append(f"stderr differs:\n--- upstream\n{err_u}--- target\n{err_t}")
        if problems:
            self.fail(f"{what}:\n- " + "\n- ".join(problems)
                      + f"\n{h.brief_result(res_t)}\n{h.brief_result(res_u)}")
        return res_t, res_u

    def assert_modules_equal(self, rel: str, what: str) -> None:
        dirs = [os.path.join(root, rel) for root in self.pair.roots()]
        snap_t, snap_u = (module_snapshot(d) for d in dirs)
        problems = diff_snapshots(snap_t, snap_u)
        if problems:
            self.fail(f"{what}: the module trees differ ({len(problems)}):\n  "
                      + "\n  ".join(problems[:40]))
        # Not vacuous: upstream stored records, for a device's stand-in among others.
        with_records = [p for p, e in snap_u[0].items() if e[-1]]
        self.assertIn("chr", with_records, f"{what}: upstream stored no record for 'chr'")
        self.assertGreater(len(with_records), 5, f"{what}: too few records: {with_records}")

    def run_module(self, module: str, proto: int) -> None:
        rel = f"{module}/p{proto}"
        url = f"{{url}}/{rel}/"
        push = [f"--protocol={proto}", "-aHi", "--numeric-ids", self.src + "/", url]
        self.both(push, f"first push to {module} at protocol {proto}")
        self.assert_modules_equal(rel, "after the first push")
        self.both(push, f"unchanged second push to {module} at protocol {proto}")
        self.assert_modules_equal(rel, "after the second push")
        change_source(self.src)
        self.both(push, f"push of the changed source to {module} at protocol {proto}")
        self.assert_modules_equal(rel, "after the third push")

        dests = [os.path.join(self.work, f"pulled-{side}") for side in ("target", "upstream")]
        args = [f"--protocol={proto}", "-aHi", "--numeric-ids"]
        with ThreadPoolExecutor(max_workers=2) as pool:
            fut_t = pool.submit(h.run_against, self.pair.target, args + [url, dests[0] + "/"])
            fut_u = pool.submit(h.run_against, self.pair.upstream, args + [url, dests[1] + "/"])
            pulled = (fut_t.result(), fut_u.result())
        daemons = self.pair.daemons()
        texts = [[h.normalise_transfer_text(t, daemons, ((d, "<DEST>"),)) for t in (r.stdout, r.stderr)]
                 for r, d in zip(pulled, dests)]
        detail = f"\n{h.brief_result(pulled[0])}\n{h.brief_result(pulled[1])}"
        self.assertEqual(pulled[1].returncode, 0, f"EXPECTATION ERROR: upstream's pull failed{detail}")
        self.assertEqual(pulled[0].returncode, pulled[1].returncode, f"pull exit codes differ{detail}")
        self.assertEqual(texts[0], texts[1], f"pull output differs{detail}")
        src = tree.snapshot(self.src)
        rules = tree.Rules(protocol=proto)
        for side, d in zip(("target", "upstream"), dests):
            got = tree.snapshot(d)
            label = "" if side == "target" else "EXPECTATION ERROR: upstream: "
            tree.assert_trees_equal(self, src, got, rules,
                                    f"{label}the tree pulled back from {module} at protocol {proto}")

    def test_corrupt_record_ends_pull(self):
        """Verifies that a malformed record ends a pull with upstream's message and code 11."""
        self.hostile_record("corrupt", b"garbage", 11)

    def test_overlong_record_is_reported(self):
        """Verifies that a record longer than upstream reads (ERANGE) is reported like upstream
        reports it and the entry sent with its real attributes (exit 23)."""
        self.hostile_record("overlong", b"100644 0,0 0:0" + b" " * 300, 23)

    def test_corrupt_record_ends_push(self):
        """Verifies that a push meeting a malformed record in the module ends with upstream's
        "Corrupt ... xattr" error from the generator and code 11."""
        rel = "fsroot/corrupt-push"
        for root in self.pair.roots():
            d = os.path.join(root, rel)
            if os.path.exists(d):
                tree.remove_tree(d)
            os.makedirs(d)
            with open(os.path.join(d, "plain"), "wb") as fh:
                fh.write(b"old\n")
            os.setxattr(os.path.join(d, "plain"), XATTR, b"garbage", follow_symlinks=False)
        res_t, res_u = h.run_both(self.pair, ["-ai", "--numeric-ids", self.src + "/", f"{{url}}/{rel}/"])
        detail = f"\n{h.brief_result(res_t)}\n{h.brief_result(res_u)}"
        self.assertEqual(res_u.returncode, 11, f"EXPECTATION ERROR: upstream{detail}")
        self.assertEqual(res_t.returncode, res_u.returncode, f"exit codes differ{detail}")
        daemons = self.pair.daemons()
        # The message and the "rsync error:" line naming the generator as upstream's
        # generator process does; what follows is the client's view of the reset.
        first_t, first_u = (h.normalise_transfer_text(r.stderr, daemons).splitlines()[:2] for r in (res_t, res_u))
        self.assertTrue(first_u and first_u[0].startswith("Corrupt "), f"EXPECTATION ERROR{detail}")
        self.assertEqual(first_t, first_u, f"the error lines differ{detail}")

    def test_records_that_lie_about_types(self):
        """Verifies a pull of entries whose records claim another type (a file that says it is
        a directory, a file that says it is a device, a file with bits beyond a mode's 16)
        or other modes: listed, itemized and failed as upstream's."""
        rel = "fsroot/liars"
        for root in self.pair.roots():
            d = os.path.join(root, rel)
            if os.path.exists(d):
                tree.remove_tree(d)
            os.makedirs(os.path.join(d, "dir"))
            for name in ("file", "dev", "wide", "dir/in"):
                with open(os.path.join(d, name), "wb") as fh:
                    fh.write(b"data\n")
            # (A directory whose record says "regular file" is left out: upstream's sender
            # then reads it and fails with EISDIR, ours refuses non-regular files to send,
            # see sender.cpp.)
            for name, value in (("file", b"40755 0,0 0:0"), ("dev", b"20644 4,64 3:4"),
                                ("wide", b"1100644 0,0 0:0"), ("dir", b"42700 0,0 5:6")):
                os.setxattr(os.path.join(d, name), XATTR, value, follow_symlinks=False)
            for entry in ("file", "dev", "wide", "dir/in", "dir", "."):
                os.utime(os.path.join(d, entry), ns=(BASE_NS, BASE_NS))
        dest = os.path.join(self.work, "pulled")
        args = ["-ai", "--numeric-ids", f"{{url}}/{rel}/"]
        with ThreadPoolExecutor(max_workers=2) as pool:
            fut_t = pool.submit(h.run_against, self.pair.target, args + [dest + "-t/"])
            fut_u = pool.submit(h.run_against, self.pair.upstream, args + [dest + "-u/"])
            res_t, res_u = fut_t.result(), fut_u.result()
        detail = f"\n{h.brief_result(res_t)}\n{h.brief_result(res_u)}"
        self.assertEqual(res_u.returncode, 23, f"EXPECTATION ERROR: upstream{detail}")
        self.assertEqual(res_t.returncode, res_u.returncode, f"exit codes differ{detail}")
        daemons = self.pair.daemons()
        out_t, err_t = (h.normalise_transfer_text(t, daemons, ((dest + "-t", "<DEST>"),))
                        for t in (res_t.stdout, res_t.stderr))
        out_u, err_u = (h.normalise_transfer_text(t, daemons, ((dest + "-u", "<DEST>"),))
                        for t in (res_u.stdout, res_u.stderr))
        self.assertEqual(out_t, out_u, f"stdout differs{detail}")
        self.assertEqual(sorted(err_t.splitlines()), sorted(err_u.splitlines()), f"stderr differs{detail}")
        got_t, got_u = tree.snapshot(dest + "-t"), tree.snapshot(dest + "-u")
        tree.assert_trees_equal(self, got_u, got_t, tree.Rules(exact_times=True),
                                "the trees pulled from both daemons")

    def test_backups_keep_records(self):
        """Verifies that -b, with --backup-dir and with a suffix, backs up replaced and
        deleted entries of a fake-super module with their records, as upstream's does."""
        for module in MODULES:
            for tag, backup in (("dir", ["--backup-dir=../bak"]), ("suffix", ["--suffix=.old"])):
                rel = f"{module}/backup-{tag}"
                url = f"{{url}}/{rel}/dest/"
                src = os.path.join(self.work, f"src-{module}-{tag}")
                build_source(src)
                for root in self.pair.roots():
                    os.makedirs(os.path.join(root, rel), exist_ok=True)
                    if module == "fsnobody":
                        os.chown(os.path.join(root, rel), NOBODY, NOBODY)
                push = ["-aHi", "--numeric-ids", "--delete", src + "/", url]
                self.both(push, f"first push to {rel}", labels=((src, "<SRC>"),))
                change_source(src)
                for gone in ("plain", "fifo", "dir/inner"):
                    os.unlink(os.path.join(src, gone))
                set_times(src)
                self.both(["-b"] + backup + push, f"push with backups to {rel}", labels=((src, "<SRC>"),))
                snaps = [without_fresh_dir_times(module_snapshot(os.path.join(root, rel)))
                         for root in self.pair.roots()]
                problems = diff_snapshots(snaps[0], snaps[1])
                if problems:
                    self.fail(f"{rel}: the module trees differ ({len(problems)}):\n  " + "\n  ".join(problems[:40]))
                kept = [p for p, e in snaps[1][0].items() if e[-1] and ("/bak/" in "/" + p or p.endswith(".old"))]
                self.assertTrue(kept, f"EXPECTATION ERROR: upstream kept no backup with a record in {rel}")

    def hostile_record(self, name: str, value: bytes, rc: int) -> None:
        rel = f"fsroot/{name}"
        for root in self.pair.roots():
            d = os.path.join(root, rel)
            if os.path.exists(d):
                tree.remove_tree(d)
            os.makedirs(d)
            with open(os.path.join(d, "victim"), "wb") as fh:
                fh.write(b"data\n")
            with open(os.path.join(d, "other"), "wb") as fh:
                fh.write(b"more\n")
            os.setxattr(os.path.join(d, "victim"), XATTR, value, follow_symlinks=False)
            for entry in ("victim", "other", "."):
                os.utime(os.path.join(d, entry), ns=(BASE_NS, BASE_NS))
        dest = os.path.join(self.work, "pulled")
        args = ["-ai", "--numeric-ids", f"{{url}}/{rel}/"]
        with ThreadPoolExecutor(max_workers=2) as pool:
            fut_t = pool.submit(h.run_against, self.pair.target, args + [dest + "-t/"])
            fut_u = pool.submit(h.run_against, self.pair.upstream, args + [dest + "-u/"])
            res_t, res_u = fut_t.result(), fut_u.result()
        detail = f"\n{h.brief_result(res_t)}\n{h.brief_result(res_u)}"
        self.assertEqual(res_u.returncode, rc, f"EXPECTATION ERROR: upstream{detail}")
        self.assertEqual(res_t.returncode, res_u.returncode, f"exit codes differ{detail}")
        daemons = self.pair.daemons()
        err_t = h.normalise_transfer_text(res_t.stderr, daemons, ((dest + "-t", "<DEST>"),))
        err_u = h.normalise_transfer_text(res_u.stderr, daemons, ((dest + "-u", "<DEST>"),))
        # The first error line is the daemon's message; what follows a fatal error may
        # include a connection reset that either daemon races into.
        first_t = err_t.splitlines()[:1]
        first_u = err_u.splitlines()[:1]
        self.assertTrue(first_u, f"EXPECTATION ERROR: upstream printed nothing{detail}")
        self.assertEqual(first_t, first_u, f"first error line differs{detail}")


def _make_test(module: str, proto: int):
    def test(self):
        self.run_module(module, proto)
    test.__doc__ = (f"Verifies that a push to and a pull from the fake-super module {module} at "
                    f"protocol {proto} store, itemize and restore what upstream's daemon does.")
    return test


for _module in MODULES:
    for _proto in PROTOCOLS:
        setattr(FakeSuperTest, f"test_p{_proto}_{_module}", _make_test(_module, _proto))


if __name__ == "__main__":
    h.main()
