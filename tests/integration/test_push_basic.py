# SPDX-License-Identifier: MIT
"""A first real-client push: the stock client uploads a small tree to a writable module.

The same client command runs against the target daemon and against upstream's, each with
its own empty module (``read only = no``, ``transfer logging = yes``), and the test checks:

- the exit code and the client's itemized output (``-i``) are the same as upstream's;
- the module ends up with the same tree as upstream's: names, types, permissions, sizes,
  file contents, symlink targets and (for files and symlinks) modification times;
- a second identical push transfers nothing and prints nothing;
- after changing two files a third push updates exactly those, through the delta;
- ``-n`` into a missing directory reports the same and writes nothing;
- one file pushed to a new name, and protocols 29 and 30 (no incremental recursion).

The module directories are owned by the daemons' module user (``nobody``) so that
setting the root's own attributes succeeds on both daemons.
"""

import os
import pwd
import re
import shutil
import unittest

import harness as h

MTIME = 1_600_000_000


def build_source(root: str) -> None:
    os.makedirs(os.path.join(root, "a", "b"))
    os.makedirs(os.path.join(root, "empty"))
    h.write_file(os.path.join(root, "f1"), "hello\n")
    with open(os.path.join(root, "a", "big"), "wb") as fh:
        fh.write(bytes((i * 7919 + (i >> 8)) & 0xFF for i in range(200_000)))
    h.write_file(os.path.join(root, "a", "b", "c"), "x\n", mode=0o600)
    os.symlink("f1", os.path.join(root, "link"))
    os.chmod(os.path.join(root, "a"), 0o750)
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames + dirnames:
            os.utime(os.path.join(dirpath, name), (MTIME, MTIME), follow_symlinks=False)
    os.utime(root, (MTIME, MTIME))


def snapshot(root: str) -> list[tuple]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            kind = "l" if os.path.islink(p) else "d" if os.path.isdir(p) else "f"
            extra = os.readlink(p) if kind == "l" else None
            if kind == "f":
                with open(p, "rb") as fh:
                    extra = fh.read()
            mtime = None if kind == "d" else st.st_mtime_ns
            out.append((rel, kind, st.st_mode & 0o7777 if kind != "l" else 0, st.st_size if kind != "d" else 0,
                        mtime, extra))
    return sorted(out)


def drop_byte_totals(text: str) -> str:
    # Also the client's own timings of its file list, which vary with the machine's load.
    return re.sub(r"^(Total bytes (sent|received):|sent [\d,]+ bytes|total size is [\d,]+  speedup"
                  r"|File list (generation|transfer) time:).*$", "", text, flags=re.MULTILINE)


CONFIG = """
[mod]
path = {path}
read only = no
transfer logging = yes
"""


class PushBasicTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-push-basic-")
        cls.src = os.path.join(cls.base, "src")
        build_source(cls.src)
        cls.modules = {}
        cls.daemons = {}
        nobody = pwd.getpwnam("nobody")
        for kind in ("target", "upstream"):
            mod = os.path.join(cls.base, f"mod-{kind}")
            os.makedirs(mod)
            if os.geteuid() == 0:
                os.chown(mod, nobody.pw_uid, nobody.pw_gid)
            cls.modules[kind] = mod
        try:
            # In the upstream campaign the "target" is a second upstream daemon.
            cls.target = h.Daemon(h.TARGET, CONFIG.format(path=cls.modules["target"]))
            cls.upstream = h.Daemon(h.UPSTREAM_KIND, CONFIG.format(path=cls.modules["upstream"]))
        except BaseException:
            h._stop_all_daemons()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.target.stop()
        cls.upstream.stop()

    def clear_modules(self):
        for mod in self.modules.values():
            for name in os.listdir(mod):
                p = os.path.join(mod, name)
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                else:
                    os.unlink(p)

    def both(self, args: list[str]):
        cmp = h.Comparison(h.run_against(self.target, args), h.run_against(self.upstream, args),
                           self.target, self.upstream)
        # Byte totals depend on how the multiplexed stream happened to be framed, which
        # varies from run to run on upstream too; everything else must match.
        (rc_t, out_t, err_t), (rc_u, out_u, err_u) = cmp.normalised()
        self.assertEqual(rc_t, rc_u, f"{cmp.target}\n{cmp.upstream}")
        self.assertEqual(drop_byte_totals(out_t), drop_byte_totals(out_u), f"{cmp.target}\n{cmp.upstream}")
        self.assertEqual(err_t, err_u, f"{cmp.target}\n{cmp.upstream}")
        return cmp

    def assert_same_trees(self, sub: str = ""):
        t = snapshot(os.path.join(self.modules["target"], sub))
        u = snapshot(os.path.join(self.modules["upstream"], sub))
        self.assertEqual(t, u)

    def test_push_repush_and_delta(self):
        # Verifies that a fresh push, a no-op re-push and a delta update match upstream.
        self.clear_modules()
        src = self.src + "/"
        cmp = self.both(["-ai", src, "{url}/mod/"])
        self.assertEqual(cmp.target.returncode, 0, cmp.target)
        self.assertIn("<f+++++++++ a/big", cmp.target.stdout)
        self.assert_same_trees()
        # Symlink targets are munged ("use chroot = no"); everything else equals the source.
        no_links = lambda rows: [r for r in rows if r[1] != "l"]  # noqa: E731
        self.assertEqual(no_links(snapshot(self.modules["target"])), no_links(snapshot(self.src)))
        cmp = self.both(["-ai", src, "{url}/mod/"])
        self.assertEqual(cmp.target.stdout.strip(), "")
        work = os.path.join(self.base, "work")
        shutil.copytree(self.src, work, symlinks=True)
        try:
            with open(os.path.join(work, "a", "big"), "r+b") as fh:
                fh.seek(100_000)
                fh.write(b"changed in the middle")
            with open(os.path.join(work, "f1"), "a") as fh:
                fh.write("more\n")
            cmp = self.both(["-ai", "--stats", work + "/", "{url}/mod/"])
            self.assertIn("<f..t...... a/big", cmp.target.stdout)
            self.assertIn("<f.st...... f1", cmp.target.stdout)
            self.assertRegex(cmp.target.stdout, r"Matched data: [1-9]")
            self.assert_same_trees()
            with open(os.path.join(self.modules["target"], "a", "big"), "rb") as fh, \
                    open(os.path.join(work, "a", "big"), "rb") as src_fh:
                self.assertEqual(fh.read(), src_fh.read())
        finally:
            shutil.rmtree(work)

    def test_dry_run_into_missing_dir(self):
        # Verifies that -n reports like upstream and leaves the module untouched.
        self.clear_modules()
        self.both(["-ain", self.src + "/", "{url}/mod/new/"])
        self.assertEqual(os.listdir(self.modules["target"]), [])

    def test_single_file_to_new_name(self):
        # Verifies that one file pushed to a new name lands under that name.
        self.clear_modules()
        self.both(["-ai", os.path.join(self.src, "f1"), "{url}/mod/renamed"])
        with open(os.path.join(self.modules["target"], "renamed")) as fh:
            self.assertEqual(fh.read(), "hello\n")
        self.assert_same_trees()

    def test_old_protocols(self):
        # Verifies pushes without incremental recursion (protocols 29 and 30).
        for proto in ("29", "30"):
            with self.subTest(protocol=proto):
                self.clear_modules()
                self.both(["-ai", f"--protocol={proto}", self.src + "/", "{url}/mod/sub/"])
                self.assert_same_trees()


if __name__ == "__main__":
    h.main()
