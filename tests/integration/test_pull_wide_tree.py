# SPDX-License-Identifier: MIT
"""Pulls of trees whose first file list alone fills upstream's look-ahead.

With incremental recursion the sender keeps at least 1000 entries announced ahead of the
client (upstream MIN_FILECNT_LOOKAHEAD) and, while it waits for the client, keeps sending
sub-lists up to 10000 (io.c:perform_io with extra_flist_sending_enabled). A module whose
top level has more than 1000 directories makes the first list reach the minimum by
itself: a client that asks for nothing (``-n``, or every file up to date) then waits for
the next sub-list, and a sender that only answered requests would wait forever.

Checked against upstream's daemon, same tree: ``-an --out-format=%n`` and ``-a`` into an
empty directory at protocols 30, 31 and 32 (incremental recursion) and 29 (none), each
bounded by a timeout, with equal exit codes, output and (for ``-a``) trees.
"""

import os
import unittest

import harness as h
import tree

TOP_DIRS = 1200
PROTOCOLS = (29, 30, 31, 32)


def _make_wide_tree(root: str) -> None:
    for d in range(TOP_DIRS):
        sub = os.path.join(root, f"d{d:04}")
        os.makedirs(sub)
        with open(os.path.join(sub, "f"), "w") as fh:
            fh.write(f"{d}\n")
        os.utime(sub, ns=(1_300_000_000 * 10**9, 1_300_000_000 * 10**9))
    os.utime(root, ns=(1_300_000_000 * 10**9, 1_300_000_000 * 10**9))


class PullWideTreeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-pull-wide-")
        cls.root = os.path.join(cls.base, "module")
        _make_wide_tree(cls.root)
        cls.pair = h.DaemonPair(h.tree_module_config(cls.root))
        cls.addClassCleanup(cls.pair.stop)

    def run_both(self, args, dests=None):
        res = []
        for daemon, dest in zip((self.pair.target, self.pair.upstream), dests or (None, None)):
            res.append(h.run_against(daemon, list(args) + ([dest] if dest else []), timeout=60))
        return res

    def test_dry_run_lists_every_name(self):
        """Verifies that a dry-run pull of the wide tree finishes and prints the same names
        as upstream's, at protocols with and without incremental recursion."""
        for proto in PROTOCOLS:
            with self.subTest(protocol=proto):
                ours, up = self.run_both([f"--protocol={proto}", "-an", "--out-format=%n", "{url}/tree/",
                                          os.path.join(self.base, "nowhere")])
                self.assertEqual(up.returncode, 0, "EXPECTATION ERROR (upstream)\n" + h.brief_result(up))
                self.assertEqual(ours.returncode, 0, h.brief_result(ours))
                self.assertEqual(ours.stdout, up.stdout)
                self.assertEqual(len(ours.stdout.splitlines()), 1 + 2 * TOP_DIRS)

    def test_pull_copies_the_tree(self):
        """Verifies that a real pull of the wide tree creates the same tree as upstream's."""
        for proto in PROTOCOLS:
            with self.subTest(protocol=proto):
                d_t = os.path.join(self.base, f"ours-{proto}")
                d_u = os.path.join(self.base, f"up-{proto}")
                ours, up = self.run_both([f"--protocol={proto}", "-a", "{url}/tree/"], (d_t + "/", d_u + "/"))
                self.assertEqual(up.returncode, 0, "EXPECTATION ERROR (upstream)\n" + h.brief_result(up))
                self.assertEqual(ours.returncode, 0, h.brief_result(ours))
                rules = tree.Rules(protocol=proto)
                tree.assert_trees_equal(self, tree.snapshot(self.root), tree.snapshot(d_t), rules)
                tree.assert_trees_equal(self, tree.snapshot(d_u), tree.snapshot(d_t),
                                        tree.Rules(protocol=proto, exact_times=True))


if __name__ == "__main__":
    h.main()
