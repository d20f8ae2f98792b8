# SPDX-License-Identifier: MIT
"""Delta transfer on a pull: only the changed 1% of a 256 MiB file travels as literal data.

The module holds ``big.bin``, 256 MiB of seeded random bytes; the destination starts with
an older version of it that differs in 1% of its bytes, spread over the file: twelve
overwritten ranges, two insertions and two deletions (these shift everything after them,
so the sender's rolling checksum has to find blocks at unaligned offsets). Each pull runs
``-a --stats`` from the target and from upstream, over a fresh copy of the old version,
and checks:

- exit code 0 and the received file equals the module's (bytes and mtime);
- "Literal data" is at least the inserted/overwritten byte count and at most that plus
  three blocks per changed place (about 1.0-1.3% of the file), and "Literal data" +
  "Matched data" is the file size;
- both numbers equal upstream's for the same files (the matching is deterministic: the
  client chooses the block size and sends the block sums; random data has no ambiguous
  matches).

Variants: protocols 32 (xxh128 block sums), 30 (MD5), 29 and 27 (MD4), compression (-z),
a forced block size (-B 8192), and -W as the control case (whole file: no matched data).
Nothing here depends on running as root.
"""

import os
import re
import shutil
import unittest

import harness as h
import tree

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


def stat_number(stdout: str, label: str) -> int:
    m = re.search(rf"^{label}: ([\d,]+)", stdout, re.MULTILINE)
    if not m:
        raise AssertionError(f"no '{label}' line in the --stats output:\n{stdout}")
    return int(m.group(1).replace(",", ""))


class PullDeltaTest(unittest.TestCase):
    """One 256 MiB file pair, one target/upstream daemon pair."""

    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-pull-delta-")
        cls.module = os.path.join(cls.base, "module")
        os.makedirs(cls.module)
        os.chmod(cls.module, 0o755)
        cls.old = os.path.join(cls.base, "old.bin")
        cls.new = os.path.join(cls.module, "big.bin")
        cls.fresh = tree.make_delta_versions(
            cls.old, cls.new, SIZE, overwrites=(OVERWRITES, OVERWRITE_LEN),
            inserts=(INSERTS, INSERT_LEN), deletes=(DELETES, DELETE_LEN))
        os.utime(cls.new, ns=(NEW_MTIME_NS, NEW_MTIME_NS))
        cls.new_size = os.path.getsize(cls.new)
        cls.new_digest = tree.content_digest(cls.new, cls.new_size)
        cls.pair = h.DaemonPair(h.tree_module_config(cls.module))
        cls.addClassCleanup(cls.pair.stop)

    def pull(self, daemon: h.Daemon, args: list[str], name: str) -> tuple[h.RunResult, str]:
        dest = os.path.join(self.base, f"dest-{name}-{daemon.kind}-{daemon.port}")
        tree.remove_tree(dest)
        os.makedirs(dest)
        basis = os.path.join(dest, "big.bin")
        shutil.copyfile(self.old, basis)
        os.utime(basis, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
        res = h.run_against(daemon, args + ["{url}/tree/", dest + "/"], timeout=300)
        return res, dest

    def check_variant(self, name: str, args: list[str], whole_file: bool = False,
                      protocol: int = 32) -> None:
        full = ["-a", "--stats", f"--protocol={protocol}"] + args
        res_t, dest_t = self.pull(self.pair.target, full, name)
        res_u, dest_u = self.pull(self.pair.upstream, full, name)
        try:
            detail = (f"\nargs: {full}{h.transfer_refused_hint(res_t)}"
                      f"\n{h.brief_result(res_t)}\n{h.brief_result(res_u)}")
            self.assertEqual(res_u.returncode, 0, "EXPECTATION ERROR (upstream)" + detail)
            self.assertEqual(res_t.returncode, 0, "the pull failed" + detail)
            got = os.path.join(dest_t, "big.bin")
            self.assertEqual(os.path.getsize(got), self.new_size, detail)
            self.assertEqual(tree.content_digest(got, self.new_size), self.new_digest,
                             "the rebuilt file differs from the module's" + detail)
            self.assertEqual(os.stat(got).st_mtime_ns,
                             tree.Rules(protocol=protocol).expected_mtime(NEW_MTIME_NS))
            lit_t = stat_number(res_t.stdout, "Literal data")
            mat_t = stat_number(res_t.stdout, "Matched data")
            lit_u = stat_number(res_u.stdout, "Literal data")
            mat_u = stat_number(res_u.stdout, "Matched data")
            self.assertEqual(lit_t + mat_t, self.new_size,
                             "literal + matched must be the file size" + detail)
            if whole_file:
                self.assertEqual((lit_t, mat_t), (self.new_size, 0), detail)
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
            tree.remove_tree(dest_t)
            tree.remove_tree(dest_u)

    def test_delta_protocol_32(self):
        """Verifies that a protocol-32 pull (xxh128 block sums) sends about 1% literal data,
        exactly as much as upstream, and rebuilds the file."""
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
        """Verifies the same with -B 8192 (the sender must use the client's block size)."""
        self.check_variant("B8192", ["-B", "8192"])

    def test_whole_file_control(self):
        """Verifies that with -W everything is literal data and nothing matched (the
        control case for the statistics parsing)."""
        self.check_variant("W", ["-W"], whole_file=True)


if __name__ == "__main__":
    h.main()
