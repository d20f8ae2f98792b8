# SPDX-License-Identifier: MIT
"""Listings of a module's contents and dry-run (``-ni``) pulls, byte-equal to upstream's.

One generated tree (see ``tree.generate_tree``; it also holds ``sparse/huge.img``, a
sparse file of 4 GiB + 4113 bytes, which costs nothing to list) is served by the target
and by upstream's daemon. Checked, for client protocols 27..32 where it matters:

- ``rsync rsync://HOST:PORT/tree/`` (no destination: a listing of the top level),
  ``-r`` / ``-a`` listings of everything, listings of a subdirectory with and without a
  trailing slash, of a single file, of a daemon-side wildcard, of several paths at once,
  and of a missing path (error text and exit code 23): stdout, stderr and exit code
  equal upstream's after blanking only ports and daemon dirs; the top-level names are
  exactly the module's;
- the listed size of the > 4 GiB sparse file is exact at every protocol (64-bit sizes in
  the file list, encoded differently before protocol 30);
- ``-ni`` into a missing destination, into an up-to-date copy (prints nothing), and
  ``-ni --delete`` / ``-nic`` into a copy with many kinds of differences (content with
  equal size and mtime, mtime, mode, a missing file, extra files and dirs, a changed
  symlink target, a type change, a truncated file and, as root, an owner): the itemized
  output equals upstream's, and the dry run changes nothing in the destination.

Not root: the tree has no device nodes or foreign owners and the owner difference is left
out of the modified copy; everything else above is checked the same way.
"""

import os
import re
import unittest

import harness as h
import tree

PROTOCOLS = (27, 28, 29, 30, 31, 32)
HUGE_SIZE = 4 * tree.GIB + 4096 + 17


def _mutate_copy(dest: str) -> None:
    """Make a copy differ from the module in every way a generator itemizes."""
    def p(rel: str) -> str:
        return os.path.join(dest, rel)

    st = os.stat(p("files/block-700"))
    with open(p("files/block-700"), "r+b") as fh:    # same size and mtime, other bytes
        fh.write(b"CHANGED")
    os.utime(p("files/block-700"), ns=(st.st_atime_ns, st.st_mtime_ns))
    os.utime(p("files/small-100"), ns=(1_234_567_890 * 10**9, 1_234_567_890 * 10**9))
    os.chmod(p("modes/setuid"), 0o755)
    os.unlink(p("dir/a.txt"))
    with open(p("dir/extra.txt"), "w") as fh:
        fh.write("only in the destination\n")
    os.makedirs(p("extra-dir/sub"))
    with open(p("extra-dir/sub/x"), "w") as fh:
        fh.write("x\n")
    os.unlink(p("links/relative"))
    os.symlink("somewhere-else", p("links/relative"))
    os.unlink(p("files/one-byte"))
    os.mkdir(p("files/one-byte"))
    with open(p("large/random.bin"), "r+b") as fh:
        fh.truncate(1000)
    if h.running_as_root():
        os.chown(p("owners/bin-file"), 1, 1)
    for rel in ("dir", "files", "links", "large", "."):  # keep dir mtimes deterministic
        os.utime(p(rel), ns=(1_300_000_000 * 10**9, 1_300_000_000 * 10**9))


class PullListingTest(unittest.TestCase):
    """One tree, one target/upstream pair for all listing and dry-run tests."""

    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-pull-listing-")
        cls.gen = tree.generate_tree(os.path.join(cls.base, "module"),
                                     huge_sparse_size=HUGE_SIZE, large_size=tree.MIB)
        cls.src = tree.snapshot(cls.gen.root)
        cls.pair = h.DaemonPair(h.tree_module_config(cls.gen.root))
        cls.addClassCleanup(cls.pair.stop)

    def compare(self, args, dests=None, expect_rc=0, any_order=False):
        """Run ``args`` against both daemons; ``dests``: (target dest, upstream dest),
        appended as the last argument. ``any_order``: compare stdout as a set of lines
        (for output two client processes interleave). Returns the target's RunResult."""
        a_t = list(args) + ([dests[0]] if dests else [])
        a_u = list(args) + ([dests[1]] if dests else [])
        res_t = h.run_against(self.pair.target, a_t)
        res_u = h.run_against(self.pair.upstream, a_u)
        labels = [(d.rstrip("/"), "<DEST>") for d in (dests or ())]
        daemons = (self.pair.target, self.pair.upstream)
        got = [(r.returncode, h.normalise_transfer_text(r.stdout, daemons, labels),
                h.normalise_transfer_text(r.stderr, daemons, labels)) for r in (res_t, res_u)]
        detail = (f"\nargs: {args}{h.transfer_refused_hint(res_t)}"
                  f"\n{h.brief_result(res_t)}\n{h.brief_result(res_u)}")
        self.assertEqual(res_u.returncode, expect_rc, "EXPECTATION ERROR (upstream)" + detail)
        self.assertEqual(got[0][0], got[1][0], "exit code differs from upstream's" + detail)
        if any_order:
            got = [(rc, sorted(out.splitlines()), err) for rc, out, err in got]
        self.assertEqual(got[0][1], got[1][1], "stdout differs from upstream's" + detail)
        self.assertEqual(got[0][2], got[1][2], "stderr differs from upstream's" + detail)
        return res_t

    def test_top_level_listing_each_protocol(self):
        """Verifies that listing the module root prints, at every protocol, exactly
        upstream's lines, one per top-level entry (and "." first)."""
        top = sorted(p for p in self.src.entries if p != "." and "/" not in p)
        for proto in PROTOCOLS:
            with self.subTest(protocol=proto):
                res = self.compare([f"--protocol={proto}", "{url}/tree/"])
                names = [re.match(r"^\S+ +[\d,]+ \S+ \S+ (.*)$", line).group(1)
                         for line in res.stdout.splitlines()]
                self.assertEqual(names[0], ".", res.stdout)
                self.assertEqual(sorted(names[1:]), top, res.stdout)

    def test_recursive_listings_each_protocol(self):
        """Verifies that -r and -a listings of the whole module equal upstream's at every
        protocol and have one line per module entry."""
        for proto in PROTOCOLS:
            for opt in ("-r", "-a", "-rH"):
                with self.subTest(protocol=proto, option=opt):
                    res = self.compare([f"--protocol={proto}", opt, "--list-only",
                                        "{url}/tree/"])
                    self.assertEqual(len(res.stdout.splitlines()), len(self.src.entries))

    def test_huge_sparse_file_size_listed_exactly(self):
        """Verifies that the > 4 GiB file's size is listed exactly at every protocol."""
        want = f"{HUGE_SIZE:,}"
        for proto in PROTOCOLS:
            with self.subTest(protocol=proto):
                res = self.compare([f"--protocol={proto}", "{url}/tree/sparse/huge.img"])
                self.assertRegex(res.stdout, rf"^-rw-r--r-- +{want} \S+ \S+ huge\.img\n$")

    def test_listing_of_paths(self):
        """Verifies listings of a directory with and without trailing slash, a single
        file, daemon-side wildcards, odd names and a path through `..` against upstream."""
        cases = [
            ["{url}/tree/names"],
            ["{url}/tree/names/"],
            ["-r", "{url}/tree/names/"],
            ["{url}/tree/files/one-byte"],
            ["{url}/tree/files/block-70*"],
            ["{url}/tree/files/chunk-3276[79]"],
            ["{url}/tree/names/with space"],
            ["{url}/tree/names/*space*"],
            ["-d", "{url}/tree/links/*"],
            ["{url}/tree/links/relative-dir"],
            ["{url}/tree/links/relative-dir/"],
            ["{url}/tree/dir/../files/empty"],
            ["{url}/tree/specials/"],
        ]
        for proto in (27, 29, 30, 32):
            for args in cases:
                with self.subTest(protocol=proto, args=args):
                    self.compare([f"--protocol={proto}"] + args)
            with self.subTest(protocol=proto, args="name with a newline"):
                # Before protocol 30 the client sends its arguments to the daemon one per
                # line, so a newline splits this one and the listing fails (code 23).
                self.compare([f"--protocol={proto}", "{url}/tree/names/new\nline"],
                             expect_rc=0 if proto >= 30 else 23)

    def test_missing_path_fails_like_upstream(self):
        """Verifies that listing a missing path, and a dry run of a missing path next to
        an existing one, give upstream's error text and code 23."""
        for proto in (27, 30, 32):
            with self.subTest(protocol=proto):
                self.compare([f"--protocol={proto}", "{url}/tree/no-such-file"], expect_rc=23)
                dests = tuple(os.path.join(self.base, f"dry-partial-{proto}-{w}/")
                              for w in ("t", "u"))
                self.compare([f"--protocol={proto}", "-ani", "{url}/tree/no-such-dir/",
                              "{url}/tree/files/empty"], dests, expect_rc=23)

    # -- dry runs ---------------------------------------------------------------------

    def _two_copies(self, name: str, mutate: bool) -> tuple[str, str]:
        """Two identical copies of the module, pulled from upstream's daemon (so that
        symlinks arrive munged as the module serves them)."""
        dests = []
        for who in ("target", "upstream"):
            d = os.path.join(self.base, f"{name}-{who}")
            tree.remove_tree(d)
            res = h.run_against(self.pair.upstream, ["-aH", "--exclude=/sparse/huge.img",
                                                     "{url}/tree/", d + "/"])
            self.assertEqual(res.returncode, 0, f"preparing the copy failed:\n{res}")
            if mutate:
                _mutate_copy(d)
            dests.append(d + "/")
        self.addCleanup(lambda: [tree.remove_tree(x) for x in dests])
        return dests[0], dests[1]

    def test_dry_run_into_missing_destination(self):
        """Verifies that -ni into a missing destination itemizes every entry as upstream
        does, at every protocol, and creates nothing."""
        for proto in PROTOCOLS:
            with self.subTest(protocol=proto):
                dests = tuple(os.path.join(self.base, f"dry-missing-{proto}-{w}/")
                              for w in ("t", "u"))
                self.compare([f"--protocol={proto}", "-ani", "{url}/tree/"], dests)
                for d in dests:
                    self.assertFalse(os.path.exists(d), f"dry run created {d}")

    def test_dry_run_into_up_to_date_copy(self):
        """Verifies that -ni into an identical copy prints what upstream prints: nothing
        from protocol 30 on; before 30 the mtimes outside 32-bit range differ (they travel
        as 32-bit values) and are itemized, as from upstream."""
        dests = self._two_copies("uptodate", mutate=False)
        for proto in PROTOCOLS:
            with self.subTest(protocol=proto):
                res = self.compare([f"--protocol={proto}", "-aHni",
                                    "--exclude=/sparse/huge.img", "{url}/tree/"], dests)
                if proto >= 30:
                    self.assertEqual(res.stdout, "", "an up-to-date copy needs no change")
                else:
                    self.assertEqual([line.split(" ", 1)[1] for line in res.stdout.splitlines()],
                                     ["times/post-2106", "times/pre-1970"], res.stdout)

    def test_dry_run_into_modified_copy(self):
        """Verifies that -ni --delete and -nic into a copy with many differences itemize
        the same changes as upstream at every protocol and change nothing."""
        dests = self._two_copies("modified", mutate=True)
        before = tree.snapshot(dests[0])
        for proto in PROTOCOLS:
            for extra in (["--delete"], ["-c"], ["--delete-after", "-c", "-H"]):
                with self.subTest(protocol=proto, options=extra):
                    # With --delete (during) and incremental recursion the client's
                    # generator and receiver both print, in an order that varies from
                    # run to run (upstream against itself too).
                    res = self.compare([f"--protocol={proto}", "-ani", *extra,
                                        "--exclude=/sparse/huge.img", "{url}/tree/"], dests,
                                       any_order="--delete" in extra)
                    if "--delete" in extra:
                        self.assertIn("*deleting   extra-dir/sub/x", res.stdout)
                    if "-c" in extra and proto >= 29:  # older: ">f?????????"
                        self.assertIn(">fc", res.stdout)  # block-700: only -c sees it
        tree.assert_trees_equal(self, before, tree.snapshot(dests[0]),
                                tree.Rules(exact_times=True), "the dry run changed the copy")


if __name__ == "__main__":
    h.main()
