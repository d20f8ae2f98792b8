# SPDX-License-Identifier: MIT
"""Self-checks of the pull tests' tree generator and comparator (``tree.py``).

No daemon is involved: these make sure the other pull tests cannot pass by accident.
Checked:

- the generated tree holds every kind of entry the issue lists (as root also device
  nodes with large major/minor numbers and foreign owners), with nanosecond mtimes,
  setuid bits, hard-link groups and a sparse file that is sparse on disk, and the same
  seed gives the same tree;
- a faithful local copy (``rsync -aH``) compares equal, and each single change to it —
  mode, nanoseconds, owner (root), symlink target, symlink owner (root), broken hard
  link, device number (root), a changed byte inside a sparse file, an extra, a missing
  or a retyped entry, the root's mtime — is reported;
- the protocol rules: at protocol 30 a copy that kept the nanoseconds is reported, and
  before 30 a pre-1970 mtime is expected back as 32-bit unsigned seconds;
- a copy with hard links is reported when ``-H`` was not given.
"""

import os
import stat
import subprocess
import unittest

import harness as h
import tree


class GeneratorTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-tree-selfcheck-")
        cls.gen = tree.generate_tree(os.path.join(cls.base, "module"), large_size=tree.MIB)
        cls.src = tree.snapshot(cls.gen.root)

    def test_every_kind_of_entry_is_generated(self):
        """Verifies that the tree holds each entry kind, odd names, modes and times."""
        kinds = {e.kind for e in self.src.entries.values()}
        want = {"dir", "file", "symlink", "fifo", "socket"}
        if h.running_as_root():
            want |= {"chr", "blk"}
        self.assertLessEqual(want, kinds)
        paths = set(self.src.entries)
        for rel in ("names/new\nline", "names/with space", "names/ünïcødé-文件-🚀",
                    "empty-dir", "files/empty", "links/dangling", "links/absolute",
                    "links/out-of-module", "links/munged"):
            self.assertIn(rel, paths)
        self.assertEqual(self.src.entries["modes/setuid"].mode, 0o4755)
        self.assertTrue(any(e.mtime_ns % 10**9 for e in self.src.entries.values()))
        self.assertLess(self.src.entries["times/pre-1970"].mtime_ns, 0)
        self.assertEqual(len(self.src.hard_link_groups()), 2)
        sparse = os.path.join(self.gen.root, "sparse/small-sparse.img")
        self.assertLess(tree.allocated_bytes(sparse), os.path.getsize(sparse) // 4)
        if h.running_as_root():
            self.assertEqual(self.src.entries["specials/char-big"].rdev, (300, 70000))
            owners = {(e.uid, e.gid) for e in self.src.entries.values()}
            self.assertGreaterEqual(len(owners), 4)

    def test_same_seed_same_tree(self):
        """Verifies that a second tree from the same seed has the same names, bytes,
        modes and times."""
        other = tree.generate_tree(os.path.join(self.base, "again", "module"),
                                   large_size=tree.MIB)
        problems = tree.diff_trees(self.src, tree.snapshot(other.root), tree.Rules(
            exact_times=True))
        self.assertEqual(problems, [])


class ComparatorTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-tree-compare-")
        cls.gen = tree.generate_tree(os.path.join(cls.base, "module"), large_size=tree.MIB)
        cls.src = tree.snapshot(cls.gen.root)

    def fresh_copy(self) -> str:
        dest = os.path.join(self.base, "copy")
        tree.remove_tree(dest)
        cp = subprocess.run([h.rsync_client_path(), "-aH", self.gen.root + "/", dest + "/"],
                            capture_output=True, text=True)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        return dest

    def test_faithful_copy_is_equal(self):
        """Verifies that an exact local copy compares equal (also to the nanosecond)."""
        dest = self.fresh_copy()
        self.assertEqual(tree.diff_trees(self.src, tree.snapshot(dest), tree.Rules()), [])
        self.assertEqual(tree.diff_trees(self.src, tree.snapshot(dest),
                                         tree.Rules(exact_times=True)), [])

    def test_each_change_is_reported(self):
        """Verifies that each single kind of difference is reported, naming the path."""
        def chmod(d):
            os.chmod(os.path.join(d, "modes/setuid"), 0o755)

        def nsec(d):
            p = os.path.join(d, "files/empty")
            ns = os.lstat(p).st_mtime_ns + 1
            os.utime(p, ns=(ns, ns))

        def relink(d):
            p = os.path.join(d, "links/relative")
            os.unlink(p)
            os.symlink("elsewhere", p)

        def unlink_hard(d):
            p = os.path.join(d, "hard/second-name")
            st = os.stat(p)
            with open(p, "rb") as fh:
                data = fh.read()
            os.unlink(p)
            with open(p, "wb") as fh:
                fh.write(data)
            os.chmod(p, stat.S_IMODE(st.st_mode))
            os.utime(p, ns=(st.st_mtime_ns, st.st_mtime_ns))

        def sparse_byte(d):
            p = os.path.join(d, "sparse/small-sparse.img")
            st = os.stat(p)
            with open(p, "r+b") as fh:
                fh.seek(2 * tree.MIB)
                fh.write(b"\x01")
            os.utime(p, ns=(st.st_mtime_ns, st.st_mtime_ns))

        def extra(d):
            open(os.path.join(d, "dir/extra"), "w").close()

        def missing(d):
            os.unlink(os.path.join(d, "names/new\nline"))

        def retype(d):
            p = os.path.join(d, "specials/fifo")
            os.unlink(p)
            open(p, "w").close()

        def root_time(d):
            os.utime(d, ns=(1, 1))

        changes = [("modes/setuid", chmod), ("files/empty", nsec), ("links/relative", relink),
                   ("hard/second-name", unlink_hard), ("sparse/small-sparse.img", sparse_byte),
                   ("dir/extra", extra), ("names/new\\nline", missing),
                   ("specials/fifo", retype), ("'.'", root_time)]
        if h.running_as_root():
            def chown(d):
                os.chown(os.path.join(d, "files/empty"), 1, 1)

            def lchown(d):
                os.lchown(os.path.join(d, "owners/link-owned-by-bin"), 0, 0)

            def rdev(d):
                p = os.path.join(d, "specials/char-big")
                st = os.lstat(p)
                os.unlink(p)
                os.mknod(p, stat.S_IFCHR | 0o640, os.makedev(300, 70001))
                os.utime(p, ns=(st.st_mtime_ns, st.st_mtime_ns))

            changes += [("files/empty", chown), ("owners/link-owned-by-bin", lchown),
                        ("specials/char-big", rdev)]
        for where, change in changes:
            with self.subTest(change=change.__name__):
                dest = self.fresh_copy()
                change(dest)
                problems = tree.diff_trees(self.src, tree.snapshot(dest), tree.Rules())
                self.assertTrue(problems, f"{change.__name__} was not reported")
                self.assertIn(where, "\n".join(problems))

    def test_protocol_rules(self):
        """Verifies the time rules: no nanoseconds below 31, 32-bit unsigned seconds
        below 30."""
        dest = self.fresh_copy()
        problems = tree.diff_trees(self.src, tree.snapshot(dest), tree.Rules(protocol=30))
        self.assertTrue(any("'files/empty'" in p for p in problems), problems)
        ns = self.src.entries["times/pre-1970"].mtime_ns
        self.assertEqual(tree.Rules(protocol=29).expected_mtime(ns),
                         ((ns // 10**9) & 0xFFFFFFFF) * 10**9)
        self.assertGreater(tree.Rules(protocol=29).expected_mtime(ns), 2**31 * 10**9)
        self.assertEqual(tree.Rules(protocol=30).expected_mtime(ns), (ns // 10**9) * 10**9)
        self.assertEqual(tree.Rules(protocol=31).expected_mtime(ns), ns)

    def test_hard_links_without_H_are_reported(self):
        """Verifies that a copy keeping hard links fails the rules of a pull without -H."""
        dest = self.fresh_copy()
        problems = tree.diff_trees(self.src, tree.snapshot(dest), tree.Rules(hard_links=False))
        self.assertTrue(any(p.startswith("hard links:") for p in problems), problems)


if __name__ == "__main__":
    h.main()
