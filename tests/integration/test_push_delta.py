# SPDX-License-Identifier: MIT
"""Delta transfer on a push: only the changed 1% of a 256 MiB file travels as literal data.

The client holds ``big.bin``, 256 MiB of seeded random bytes; the module starts with an
older version of it that differs in 1% of its bytes, spread over the file: twelve
overwritten ranges, two insertions and two deletions (these shift everything after them,
so the client's rolling checksum has to find blocks at unaligned offsets). On a push the
daemon is the generator: it chooses the block size and sends the block sums of its old
version, and the client (sender) matches against them. Each push runs ``-a --stats`` to
the target and to upstream's daemon, each over a fresh copy of the old version in its own
module, and checks:

- exit code 0 and the module's file equals the client's (bytes and mtime) afterwards;
- "Literal data" is at least the inserted/overwritten byte count and at most that plus
  three blocks per changed place (about 1.0-1.3% of the file), and "Literal data" +
  "Matched data" is the file size;
- both numbers equal upstream's for the same files (the client's matching is deterministic
  once the daemon's block size and strong-sum length equal upstream's choice).

Variants: protocols 32 (xxh128 block sums), 30 (MD5), 29 and 27 (MD4), compression (-z),
a forced block size (-B 8192, which the daemon must use), ``--inplace`` (the file is
rebuilt in place: same inode; blocks can then only match at or after their own offset, so
the insertions cost about 40% literal data, which must again equal upstream's) and -W as
the control case (whole file: no matched data).
"""

import os
import shutil
import unittest

import harness as h
import tree
from test_pull_delta import stat_number

SIZE = 256 * tree.MIB
OVERWRITES = 12
OVERWRITE_LEN = 200_000
INSERTS = 2
INSERT_LEN = 140_000
DELETES = 2
DELETE_LEN = 100_000
CHANGED_PLACES = OVERWRITES + INSERTS + DELETES
NEW_MTIME_NS = 1_700_000_000 * 10**9 + 123_456_789
OLD_MTIME_NS = 1_600_000_000 * 10**9


class PushDeltaTest(unittest.TestCase):
    """One 256 MiB file pair, one target/upstream daemon pair with a module each."""

    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-push-delta-")
        cls.source = os.path.join(cls.base, "source")
        os.makedirs(cls.source)
        os.chmod(cls.source, 0o755)
        cls.old = os.path.join(cls.base, "old.bin")
        cls.new = os.path.join(cls.source, "big.bin")
        cls.fresh = tree.make_delta_versions(
            cls.old, cls.new, SIZE, overwrites=(OVERWRITES, OVERWRITE_LEN),
            inserts=(INSERTS, INSERT_LEN), deletes=(DELETES, DELETE_LEN))
        os.utime(cls.new, ns=(NEW_MTIME_NS, NEW_MTIME_NS))
        cls.new_size = os.path.getsize(cls.new)
        cls.new_digest = tree.content_digest(cls.new, cls.new_size)
        cls.pair = h.PushPair(cls.base, lambda root: h.push_module_config(root))
        cls.addClassCleanup(cls.pair.stop)

    def _prepare(self, root: str, name: str) -> str:
        dest = os.path.join(root, name)
        tree.remove_tree(dest)
        os.makedirs(dest)
        os.chmod(dest, 0o755)
        basis = os.path.join(dest, "big.bin")
        shutil.copyfile(self.old, basis)
        os.utime(basis, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
        return dest

    def check_variant(self, name: str, args: list[str], whole_file: bool = False,
                      protocol: int = 32, inplace: bool = False) -> None:
        dest_t = self._prepare(self.pair.target_root, name)
        dest_u = self._prepare(self.pair.upstream_root, name)
        inode_before = os.stat(os.path.join(dest_t, "big.bin")).st_ino
        full = (["-a", "--stats", f"--protocol={protocol}"] + args
                + [self.source + "/", f"{{url}}/push/{name}/"])
        res_t, res_u = h.run_both(self.pair, full, timeout=300)
        try:
            detail = (f"\nargs: {full}{h.push_refused_hint(res_t)}"
                      f"\n{h.brief_result(res_t)}\n{h.brief_result(res_u)}")
            self.assertEqual(res_u.returncode, 0, "EXPECTATION ERROR (upstream)" + detail)
            self.assertEqual(res_t.returncode, 0, "the push failed" + detail)
            got = os.path.join(dest_t, "big.bin")
            self.assertEqual(os.path.getsize(got), self.new_size, detail)
            self.assertEqual(tree.content_digest(got, self.new_size), self.new_digest,
                             "the module's rebuilt file differs from the client's" + detail)
            self.assertEqual(os.stat(got).st_mtime_ns,
                             tree.Rules(protocol=protocol).expected_mtime(NEW_MTIME_NS))
            if inplace:
                self.assertEqual(os.stat(got).st_ino, inode_before,
                                 "--inplace must rewrite the file in place" + detail)
            self.assertEqual(sorted(os.listdir(dest_t)), ["big.bin"],
                             "a temp file was left behind" + detail)
            lit_t = stat_number(res_t.stdout, "Literal data")
            mat_t = stat_number(res_t.stdout, "Matched data")
            lit_u = stat_number(res_u.stdout, "Literal data")
            mat_u = stat_number(res_u.stdout, "Matched data")
            self.assertEqual(lit_t + mat_t, self.new_size,
                             "literal + matched must be the file size" + detail)
            if whole_file:
                self.assertEqual((lit_t, mat_t), (self.new_size, 0), detail)
            elif inplace:
                # In place, a block may only match at or after its own offset (what lies
                # before is already overwritten): the insertions cost their whole tails.
                self.assertGreater(mat_t, self.new_size // 4, "--inplace matched almost "
                                   "nothing" + detail)
            else:
                slack = 3 * 16384 * CHANGED_PLACES
                self.assertGreaterEqual(lit_t, self.fresh, "less literal data than the bytes "
                                        "that cannot match" + detail)
                self.assertLessEqual(lit_t, self.fresh + slack, "too much literal data: the "
                                     "delta is not working" + detail)
                self.assertLess(lit_t / self.new_size, 0.013, detail)
            self.assertEqual((lit_t, mat_t), (lit_u, mat_u),
                             "literal/matched data differ from upstream's" + detail)
        finally:
            if not os.environ.get("OCR_TEST_KEEP"):
                tree.remove_tree(dest_t)
                tree.remove_tree(dest_u)

    def test_delta_protocol_32(self):
        """Verifies that a protocol-32 push (xxh128 block sums from the daemon) sends about
        1% literal data, exactly as much as to upstream, and the module's file is rebuilt."""
        self.check_variant("p32", [], protocol=32)

    def test_delta_protocol_30(self):
        """Verifies the same at protocol 30 (MD5 block sums)."""
        self.check_variant("p30", [], protocol=30)

    def test_delta_protocol_29(self):
        """Verifies the same at protocol 29 (MD4 block sums, no varints)."""
        self.check_variant("p29", [], protocol=29)

    def test_delta_protocol_27(self):
        """Verifies the same at protocol 27."""
        self.check_variant("p27", [], protocol=27)

    def test_delta_compressed(self):
        """Verifies the same with -z (compressed literal data and block matches)."""
        self.check_variant("z", ["-z"])

    def test_delta_forced_block_size(self):
        """Verifies the same with -B 8192 (the daemon's generator must use the client's
        block size)."""
        self.check_variant("B8192", ["-B", "8192"])

    def test_delta_inplace(self):
        """Verifies that with --inplace the file keeps its inode and the literal and matched
        data equal upstream's (matches only at or after a block's own offset)."""
        self.check_variant("inplace", ["--inplace"], inplace=True)

    def test_whole_file_control(self):
        """Verifies that with -W everything is literal data and nothing matched (the
        control case for the statistics parsing)."""
        self.check_variant("W", ["-W"], whole_file=True)


if __name__ == "__main__":
    h.main()
