# SPDX-License-Identifier: MIT
"""Push options whose effect lies with the receiving daemon (issue 4, follow-up).

One small source tree (nested and empty directories, files, safe and unsafe symlinks) is
pushed by the stock client to a target daemon and to upstream's ``rsync --daemon`` at the
same time, each into its own copy of the same prepared module directory. Every case
compares with upstream's run: the exit code, the client's stdout (``-i`` lines in order)
and stderr after blanking only byte counts and version/line suffixes, and the module
trees, attribute for attribute and to the nanosecond.

Cases:

- ``-m`` (``--prune-empty-dirs``): the receiver prunes directories left empty by the
  filters (upstream flist.c:flist_clean runs on the receiving side), also with
  ``--delete`` over a prepared module;
- ``--safe-links``: symlinks leaving the tree are not created (generator.c:recv_generator);
- ``-T``/``--temp-dir`` naming a missing directory or a file: refused before the transfer
  ("The temp-dir does not exist: ...", exit 1, main.c:do_recv); an existing one works;
- ``--backup-dir`` naming a file (or a symlink to one): refused before the transfer ("The
  backup-dir is not a directory: ...", exit 1, main.c:do_recv); one under a file ("Failed
  to stat ...: Not a directory", exit 11); a missing one is made by the first backup;
- ``--compare-dest``/``--copy-dest``/``--link-dest`` naming a missing directory: the warning
  "--X-dest arg does not exist: ..." (main.c:check_alt_basis_dirs), chrooted module and not;
- ``--link-dest``/``--compare-dest``/``--copy-dest`` naming a previous copy of the tree
  (``../prev``, a backup-style push into a new directory): files identical there are
  hard-linked (inode shared with the previous copy), skipped or copied locally; a file
  whose attributes differ is copied; a changed one is sent as a delta against the old
  copy (basis type j on the wire); with ``-i`` and ``-ii``, and with ``-H``
  (generator.c:try_dests_reg);
- ``--inplace -b``: the old contents of a file updated in place are kept under its backup
  name (suffix or ``--backup-dir``) with its old mode and time, not in a dry run
  (generator.c:recv_generator, back_file);
- ``-n`` over existing entries: their times and modes stay as they are;
- ``--no-implied-dirs -R``: the implied parents are not sent, yet the push succeeds;
- ``--delete-during -i`` at protocol 31 over a stale copy: the "*deleting" line of a
  sub-directory comes before the itemized transfer of a file of its parent, every time;
- the transfer log's ``%U``/``%G`` after ``--chown`` and ``--usermap``/``--groupmap`` show the
  receiver's (mapped) ids, as upstream's daemon logs them (root only: needs foreign ids);
- a module directory the daemon's user cannot write into: "mkstemp ... failed" names the
  last temp name tried, six random characters included, as upstream's does (exit 23).
"""

import os
import re
import shutil
import unittest
from typing import Callable, Optional

import harness as h
import tree

ROOT = h.running_as_root()
FIXED_NS = 1_600_000_000_123_456_789
PREP_NS = 1_650_000_000_424_242_424


def make_source(root: str) -> None:
    """The pushed tree; every time fixed so that both modules end up identical."""
    for d in ("d1/d2/d3", "d1/e", "empty", "only-tmp"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    files = {"a.txt": b"alpha\n", "b.tmp": b"bee\n", "d1/f1": b"one\n" * 50,
             "d1/d2/x.txt": b"ex\n", "d1/d2/d3/y": b"why\n", "d1/e/z.tmp": b"zed\n",
             "only-tmp/t.tmp": b"tee\n"}
    for rel, data in files.items():
        with open(os.path.join(root, rel), "wb") as fh:
            fh.write(data)
    os.symlink("a.txt", os.path.join(root, "lnk"))
    os.symlink("/etc/passwd", os.path.join(root, "abslnk"))
    os.symlink("../../a.txt", os.path.join(root, "d1/d2/up"))
    os.symlink("../../../a.txt", os.path.join(root, "d1/d2/out"))
    for dp, dns, fns in os.walk(root, topdown=False):
        for n in dns + fns:
            os.utime(os.path.join(dp, n), ns=(FIXED_NS, FIXED_NS), follow_symlinks=False)
    os.utime(root, ns=(FIXED_NS, FIXED_NS))


def _config(root: str) -> str:
    return (h.push_module_config(root, name="push", chroot=True) + "\n"
            + h.push_module_config(root, name="plain", chroot=False))


def _clear(path: str) -> None:
    for n in os.listdir(path):
        p = os.path.join(path, n)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.unlink(p)


def _settle_times(root: str) -> None:
    """Gives what a case just made (and the module root) one fixed time, so that the two
    modules start identical to the nanosecond; older times a case chose stay."""
    recent = 1_700_000_000 * 10**9
    for dp, dns, fns in os.walk(root, topdown=False):
        for n in dns + fns:
            p = os.path.join(dp, n)
            if os.lstat(p).st_mtime_ns > recent:
                os.utime(p, ns=(PREP_NS, PREP_NS), follow_symlinks=False)
    os.utime(root, ns=(PREP_NS, PREP_NS))


class PushOptionsTest(unittest.TestCase):
    """One source tree and one target/upstream daemon pair for all cases."""

    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-push-options-")
        cls.src = os.path.join(cls.base, "source")
        os.makedirs(cls.src)
        make_source(cls.src)
        cls.pair = h.PushPair(cls.base, _config)
        cls.addClassCleanup(cls.pair.stop)

    def setUp(self):
        for r in self.pair.roots():
            _clear(r)

    def push(self, args: list[str], *, module: str = "push", dest: str = "",
             prepare: Optional[Callable[[str], None]] = None, source: Optional[str] = None,
             expect_rc: Optional[int] = None, time_exempt: Callable[[str], bool] = lambda _p: False,
             fresh_dirs: bool = False, unordered_stdout: bool = False):
        """Pushes to both daemons and compares everything; returns (target, upstream)."""
        for r in self.pair.roots():
            if prepare:
                prepare(r)
            _settle_times(r)
        src = source if source is not None else self.src + "/"
        res_t, res_u = h.run_both(self.pair, args + [src, f"{{url}}/{module}/{dest}"])
        daemons = self.pair.daemons()
        problems = []
        if expect_rc is not None and res_u.returncode != expect_rc:
            problems.append(f"EXPECTATION ERROR: upstream exited {res_u.returncode}, "
                            f"the test expects {expect_rc}")
        if res_t.returncode != res_u.returncode:
            problems.append(f"exit code {res_t.returncode}, upstream {res_u.returncode}")
        for what, t, u in (("stdout", res_t.stdout, res_u.stdout),
                           ("stderr", res_t.stderr, res_u.stderr)):
            nt = h.normalise_transfer_text(t, daemons, [(self.pair.target_root, "<M>"),
                                                        (self.base, "<B>")])
            nu = h.normalise_transfer_text(u, daemons, [(self.pair.upstream_root, "<M>"),
                                                        (self.base, "<B>")])
            if what == "stdout" and unordered_stdout:
                nt, nu = ("\n".join(sorted(x.splitlines())) for x in (nt, nu))
            if nt != nu:
                problems.append(f"{what} differs:\n--- upstream\n{nu}--- target\n{nt}")
        got_t, got_u = (tree.snapshot(r) for r in self.pair.roots())
        if fresh_dirs:
            # Directories the push itself made without a time from the list keep the
            # moment of their mkdir, which differs between any two runs.
            recent = 1_700_000_000 * 10**9
            fresh = {p for p, e in got_u.entries.items() if e.kind == "dir" and e.mtime_ns > recent}
            exempt = time_exempt
            time_exempt = lambda p: p in fresh or exempt(p)  # noqa: E731
        diff = tree.diff_trees(got_u, got_t, tree.Rules(exact_times=True, owners=ROOT,
                                                        time_exempt=time_exempt))
        if diff:
            problems.append("module trees differ:\n    " + "\n    ".join(diff[:40]))
        if problems:
            self.fail(f"{' '.join(args)}:\n- " + "\n- ".join(problems)
                      + f"\n{h.brief_result(res_t)}\n{h.brief_result(res_u)}")
        return res_t, res_u

    # --- 1: --prune-empty-dirs ----------------------------------------------------------

    def test_prune_empty_dirs_with_filters(self):
        # Verifies that -m with --include=*/ --include=*.txt --exclude=* leaves out every
        # directory without a .txt below it, exactly as upstream's receiver prunes.
        res_t, _ = self.push(["-ai", "-m", "--include=*/", "--include=*.txt", "--exclude=*"],
                             expect_rc=0)
        self.assertNotIn("empty/", res_t.stdout)
        self.assertIn("d1/d2/x.txt", res_t.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.pair.target_root, "d1/e")))

    def test_prune_empty_dirs_alone(self):
        # Verifies that -m alone prunes the one empty directory of the tree.
        self.push(["-ai", "--prune-empty-dirs"], expect_rc=0)
        self.assertFalse(os.path.exists(os.path.join(self.pair.target_root, "empty")))

    def test_prune_empty_dirs_keeps_excluded_dir(self):
        # Verifies that a directory the rules exclude is kept by -m's pruning (with
        # --delete, an excluded but existing module directory is protected).
        def prepare(r):
            os.makedirs(os.path.join(r, "only-tmp/keep"))
        self.push(["-ai", "-m", "--delete", "--exclude=*.tmp", "--exclude=keep/"],
                  prepare=prepare, expect_rc=0)

    def test_prune_empty_dirs_with_delete(self):
        # Verifies that -m --delete over a prepared module deletes what pruning leaves out.
        def prepare(r):
            os.makedirs(os.path.join(r, "empty/old"))
            os.makedirs(os.path.join(r, "d1/e/sub"))
        # Without incremental lists (-m turns them off) upstream's "./" line comes out
        # between the deletions in "." and those in "d1": its loop check flushes after the
        # first entry (generator.c:generate_files, io.c:maybe_flush_socket).
        self.push(["-ai", "-m", "--delete", "--include=*/", "--include=*.txt", "--exclude=*"],
                  prepare=prepare, expect_rc=0)

    def test_delete_during_without_incremental_lists(self):
        # Verifies the order of "deleting" lines against itemized ones when the whole list
        # comes at once (--no-inc-recursive at protocols 30 to 32, and protocol 29, where
        # --delete means --delete-before).
        def prepare(r):
            os.makedirs(os.path.join(r, "gone/old"))
            os.makedirs(os.path.join(r, "d1/gone2/sub"))
        for extra in (["--no-inc-recursive"], ["--protocol=30", "--no-inc-recursive"],
                      ["--protocol=31", "--no-inc-recursive"], ["--protocol=29"]):
            with self.subTest(extra=extra):
                for r in self.pair.roots():
                    _clear(r)
                self.push(["-ai", "--delete"] + extra, prepare=prepare, expect_rc=0)

    # --- 2: --safe-links ----------------------------------------------------------------

    def test_safe_links_drops_unsafe_symlinks(self):
        # Verifies that --safe-links does not create the absolute and the escaping symlink
        # and keeps the safe ones.
        self.push(["-ai", "--safe-links"], expect_rc=0)
        root = self.pair.target_root
        self.assertFalse(os.path.lexists(os.path.join(root, "abslnk")))
        self.assertFalse(os.path.lexists(os.path.join(root, "d1/d2/out")))
        self.assertTrue(os.path.islink(os.path.join(root, "d1/d2/up")))

    def test_safe_links_verbose_message(self):
        # Verifies that with -v the dropped symlinks are reported as upstream words it.
        # Compared unordered: where the generator's message lands among the names the
        # client prints itself depends on when the incremental lists reach the generator,
        # which under ASan's slowness varied (1 run in 4) between our two threads.
        res_t, _ = self.push(["-av", "--safe-links"], expect_rc=0, unordered_stdout=True)
        self.assertIn('ignoring unsafe symlink "abslnk" -> "/etc/passwd"', res_t.stdout)

    def test_safe_links_into_subdir(self):
        # Verifies that --safe-links judges a link from the destination directory's
        # transfer root, not the module root.
        def prepare(r):
            os.makedirs(os.path.join(r, "sub/deeper"))
        self.push(["-ai", "--safe-links"], dest="sub/deeper/", prepare=prepare, expect_rc=0)

    # --- 3: --temp-dir --------------------------------------------------------------------

    def test_temp_dir_missing_absolute(self):
        # Verifies that -T naming a missing directory is refused before any transfer.
        res_t, _ = self.push(["-ai", "-T", "/nonexist"], expect_rc=1)
        self.assertIn("The temp-dir does not exist: /nonexist", res_t.stderr)

    def test_temp_dir_missing_relative_not_chrooted(self):
        # Verifies the same refusal in a module that is not chrooted (the name shown is
        # the daemon's sanitized one).
        self.push(["-ai", "--temp-dir=nonexist"], module="plain", expect_rc=1)

    def test_temp_dir_not_a_directory(self):
        # Verifies that -T naming a file is refused ("is not a directory").
        def prepare(r):
            with open(os.path.join(r, "afile"), "wb") as fh:
                fh.write(b"x")
        res_t, _ = self.push(["-ai", "-T", "/afile"], prepare=prepare, expect_rc=1)
        self.assertIn("The temp-dir is not a directory", res_t.stderr)

    def test_temp_dir_existing(self):
        # Verifies that an existing temp dir is used and the push succeeds.
        def prepare(r):
            os.makedirs(os.path.join(r, "tmpd"))
        # (the temp dir's own time is that of the last temp file's rename)
        self.push(["-ai", "-T", "/tmpd"], prepare=prepare, expect_rc=0,
                  time_exempt=lambda p: p == "tmpd")

    def test_temp_dir_relative_to_the_destination(self):
        # Verifies that a relative -T is looked up from the destination directory, as
        # upstream's receiver does after chdir-ing there, and that ".." climbs from it.
        for opt, made, rc in (("--temp-dir=tmpd", "sub/tmpd", 0), ("--temp-dir=tmpd", "tmpd", 1),
                              ("--temp-dir=../tmpd", "tmpd", 0)):
            with self.subTest(opt=opt, made=made):
                for r in self.pair.roots():
                    _clear(r)

                def prepare(r, made=made):
                    os.makedirs(os.path.join(r, made))
                self.push(["-ai", opt], dest="sub/", prepare=prepare, expect_rc=rc, fresh_dirs=True,
                          time_exempt=lambda p, made=made: p == made)

    # --- 3b: --backup-dir ------------------------------------------------------------------

    @staticmethod
    def _prepare_backup_file(r: str) -> None:
        with open(os.path.join(r, "bk"), "wb") as fh:
            fh.write(b"not a dir\n")
        os.symlink("bk", os.path.join(r, "bklink"))
        os.makedirs(os.path.join(r, "sub"))

    def test_backup_dir_is_a_file(self):
        # Verifies that --backup-dir naming a file is refused before the transfer, in the
        # forms upstream shows differently (relative, "./" prefix, trailing '/', absolute).
        for opt, module in (("--backup-dir=bk", "push"), ("--backup-dir=./bk/", "plain"),
                            ("--backup-dir=/bk", "plain"), ("--backup-dir=/bk", "push")):
            with self.subTest(opt=opt, module=module):
                for r in self.pair.roots():
                    _clear(r)
                res_t, _ = self.push(["-ai", opt], module=module, prepare=self._prepare_backup_file,
                                     expect_rc=1)
                self.assertIn("The backup-dir is not a directory: ", res_t.stderr)
                self.assertFalse(os.path.exists(os.path.join(self.pair.target_root, "a.txt")))

    def test_backup_dir_symlink_to_a_file(self):
        # Verifies that the check follows a symlink (upstream's do_stat).
        res_t, _ = self.push(["-ai", "--backup-dir=bklink"], prepare=self._prepare_backup_file,
                             expect_rc=1)
        self.assertIn("The backup-dir is not a directory: bklink", res_t.stderr)

    def test_backup_dir_below_a_file(self):
        # Verifies that a backup dir beneath a file fails its stat: exit 11.
        res_t, _ = self.push(["-ai", "--backup-dir=bk/x"], prepare=self._prepare_backup_file,
                             expect_rc=11)
        self.assertIn("Failed to stat bk/x: Not a directory", res_t.stderr)

    def test_backup_dir_relative_to_the_destination(self):
        # Verifies that a relative backup dir is looked up from the destination: "bk" in
        # sub/ does not exist (made by the first backup), so the push goes on.
        self.push(["-ai", "--backup-dir=bk"], module="plain", dest="sub/",
                  prepare=self._prepare_backup_file, expect_rc=0)

    def test_backup_dir_climbing_from_the_destination(self):
        # Verifies that --backup-dir=../bak from sub/ of a chrooted module puts the backups
        # beside sub/, as upstream's chdir into the destination makes it.
        def prepare(r):
            os.makedirs(os.path.join(r, "sub", "d1"))
            for rel in ("a.txt", "d1/f1"):
                with open(os.path.join(r, "sub", rel), "wb") as fh:
                    fh.write(b"older\n")
        self.push(["-ai", "--backup-dir=../bak"], dest="sub/", prepare=prepare, expect_rc=0,
                  fresh_dirs=True)
        self.assertTrue(os.path.isfile(os.path.join(self.pair.upstream_root, "bak", "d1", "f1")),
                        "EXPECTATION ERROR: upstream made no backup beside sub/")

    def test_backup_of_hard_linked_files(self):
        # Verifies that -H -b backs up every member of a replaced hard-link group (upstream
        # hlink.c:maybe_hard_link goes through atomic_create and its make_backup), so that
        # the backups stay linked to each other.
        src = os.path.join(self.base, "hl-source")
        if os.path.exists(src):
            shutil.rmtree(src)
        os.makedirs(src)
        with open(os.path.join(src, "file"), "wb") as fh:
            fh.write(b"hello\n")
        os.link(os.path.join(src, "file"), os.path.join(src, "hard1"))
        os.link(os.path.join(src, "file"), os.path.join(src, "hard2"))
        os.utime(os.path.join(src, "file"), ns=(FIXED_NS, FIXED_NS))
        os.utime(src, ns=(FIXED_NS, FIXED_NS))

        def prepare(r):
            with open(os.path.join(r, "file"), "wb") as fh:
                fh.write(b"hello\n")
            os.link(os.path.join(r, "file"), os.path.join(r, "hard1"))
            os.link(os.path.join(r, "file"), os.path.join(r, "hard2"))
        for opts in (["--backup-dir=bak"], ["--suffix=.old"]):
            with self.subTest(opts=opts):
                for r in self.pair.roots():
                    _clear(r)
                self.push(["-aHi", "-b"] + opts, prepare=prepare, source=src + "/", expect_rc=0,
                          fresh_dirs=True)

    def test_inplace_backup(self):
        # Verifies that --inplace -b keeps the old contents of every file it updates in
        # place under its backup name, with the old file's mode and time, beside the file
        # (suffix "~" or --suffix) or under --backup-dir (from the module root with a
        # leading '/'), sent as a delta or whole (-W); "backed up" lines follow the items
        # (generator.c:recv_generator's back_file, written while the sums are read). Below
        # protocol 31 the backup's mtime has no nanoseconds (flist.c:make_file).
        def prepare(r):
            os.makedirs(os.path.join(r, "d1/d2"))
            for rel, data in (("a.txt", b"old alpha\n"), ("d1/f1", b"old one\n" * 40),
                              ("d1/d2/x.txt", b"")):
                with open(os.path.join(r, rel), "wb") as fh:
                    fh.write(data)
            os.chmod(os.path.join(r, "a.txt"), 0o600)
        for opts in (["--info=backup"], ["--suffix=.old"], ["--protocol=30"], ["-W", "--info=backup"],
                     ["--backup-dir=/bk", "--info=backup"], ["--backup-dir=bk", "-n"]):
            with self.subTest(opts=opts):
                for r in self.pair.roots():
                    _clear(r)
                self.push(["-ai", "--inplace", "-b"] + opts, module="plain", prepare=prepare,
                          expect_rc=0, fresh_dirs=True)
                backup = ("bk/d1/f1" if "--backup-dir=/bk" in opts
                          else "d1/f1.old" if "--suffix=.old" in opts else "d1/f1~")
                self.assertEqual(os.path.exists(os.path.join(self.pair.upstream_root, backup)),
                                 "-n" not in opts, "EXPECTATION ERROR: upstream's backups")
                if "-n" not in opts:
                    with open(os.path.join(self.pair.target_root, backup), "rb") as fh:
                        self.assertEqual(fh.read(), b"old one\n" * 40)

    def test_dry_run_changes_no_attributes(self):
        # Verifies that -n leaves the times and modes of existing entries alone (upstream's
        # syscall.c wrappers do nothing in a dry run), also with --inplace -b.
        def prepare(r):
            os.makedirs(os.path.join(r, "d1/d2"))
            for rel in ("a.txt", "d1/f1"):
                with open(os.path.join(r, rel), "wb") as fh:
                    fh.write(b"older\n")
            os.chmod(os.path.join(r, "a.txt"), 0o600)
            os.chmod(os.path.join(r, "d1/d2"), 0o700)
        for opts in ([], ["--inplace", "-b"]):
            with self.subTest(opts=opts):
                for r in self.pair.roots():
                    _clear(r)
                self.push(["-ain"] + opts, module="plain", prepare=prepare, expect_rc=0)

    # --- 4: --compare-dest / --copy-dest / --link-dest --------------------------------

    def test_alt_dest_missing_warnings(self):
        # Verifies the "arg does not exist" warning of each --*-dest form, relative and
        # absolute, in a chrooted module.
        for opt in ("--compare-dest=/nonexist", "--copy-dest=nonexist/", "--link-dest=../gone"):
            with self.subTest(opt=opt):
                for r in self.pair.roots():
                    _clear(r)
                res_t, _ = self.push(["-ai", opt], expect_rc=0)
                self.assertIn("arg does not exist", res_t.stderr)

    def test_alt_dest_missing_warning_not_chrooted(self):
        # Verifies the warning's path in a module that is not chrooted, into a subdir
        # (upstream sanitizes the argument against the destination's depth).
        def prepare(r):
            os.makedirs(os.path.join(r, "sub"))
        for opt in ("--compare-dest=../nonexist", "--link-dest=/abs/missing"):
            with self.subTest(opt=opt):
                for r in self.pair.roots():
                    _clear(r)
                self.push(["-ai", opt], module="plain", dest="sub/", prepare=prepare, expect_rc=0)

    def test_alt_dest_not_a_dir_warning(self):
        # Verifies the "arg is not a dir" warning.
        def prepare(r):
            with open(os.path.join(r, "afile"), "wb") as fh:
                fh.write(b"x")
        self.push(["-ai", "--compare-dest=/afile"], prepare=prepare, expect_rc=0)

    @staticmethod
    def _prepare_prev(r: str) -> None:
        """A previous copy of the source in ``prev``: identical files, one with other
        permissions, one changed (older, other content), one missing."""
        prev = os.path.join(r, "prev")
        shutil.copytree(PushOptionsTest.src, prev, symlinks=True)
        os.chmod(os.path.join(prev, "b.tmp"), 0o600)
        with open(os.path.join(prev, "d1/f1"), "wb") as fh:
            fh.write(b"one\n" * 40 + b"an older version\n")
        os.utime(os.path.join(prev, "d1/f1"), ns=(FIXED_NS - 10**12,) * 2)
        os.unlink(os.path.join(prev, "d1/d2/d3/y"))
        for rel in ("d1/d2/d3", "d1/d2", "d1", ""):
            os.utime(os.path.join(prev, rel), ns=(FIXED_NS, FIXED_NS))

    def alt_dest_push(self, args: list[str], module: str = "push"):
        for r in self.pair.roots():
            _clear(r)
        # (the module root's time is that of the new directory's mkdir)
        return self.push(args, module=module, dest="new/", prepare=self._prepare_prev, expect_rc=0,
                         time_exempt=lambda p: p == ".")

    def test_link_dest_backup_push(self):
        # Verifies a backup-style --link-dest push into a new directory: -i output and the
        # tree, with the unchanged files sharing the previous copy's inodes.
        for extra in ([], ["-H"], ["--protocol=30"], ["--whole-file"]):
            with self.subTest(extra=extra):
                self.alt_dest_push(["-ai", "--link-dest=../prev"] + extra)
                st_new = os.stat(os.path.join(self.pair.target_root, "new/a.txt"))
                st_prev = os.stat(os.path.join(self.pair.target_root, "prev/a.txt"))
                self.assertEqual(st_new.st_ino, st_prev.st_ino)

    def test_link_dest_through_symlinks(self):
        # Verifies --link-dest naming a symlink to the previous backup (the usual "latest"
        # link), relative, absolute and through two links, in a chrooted module and in one
        # that is not: upstream follows them, and so must we (within the module). In the
        # module that is not chrooted, "/prev" names the real root's /prev, which is missing.
        for module, link, target in (("push", "latest", "prev"), ("push", "abslatest", "/prev"),
                                     ("plain", "latest", "prev"), ("plain", "abslatest", "/prev"),
                                     ("push", "chain", "latest")):
            with self.subTest(module=module, link=link):
                for r in self.pair.roots():
                    _clear(r)

                def prepare(r, link=link, target=target):
                    self._prepare_prev(r)
                    if link != "latest":
                        os.symlink("prev", os.path.join(r, "latest"))
                    os.symlink(target, os.path.join(r, link))
                self.push(["-ai", f"--link-dest=../{link}"], module=module, dest="new/",
                          prepare=prepare, expect_rc=0, time_exempt=lambda p: p == ".")
                for root in (self.pair.upstream_root, self.pair.target_root):
                    if module == "plain" and link == "abslatest":
                        break  # nothing to link to
                    st_new = os.stat(os.path.join(root, "new/a.txt"))
                    st_prev = os.stat(os.path.join(root, "prev/a.txt"))
                    label = "EXPECTATION ERROR: upstream" if root == self.pair.upstream_root else "target"
                    self.assertEqual(st_new.st_ino, st_prev.st_ino, f"{label}: new/a.txt is not linked")

    def test_open_noatime_keeps_basis_atime(self):
        # Verifies that --open-noatime reads a basis file (here a --compare-dest partial
        # match) without touching its access time, as upstream's O_NOATIME opens do, and
        # that without it the read does update it (relatime: the atime is not newer than
        # the mtime), so the check can tell.
        old = FIXED_NS - 10**12
        for opts, kept in ((["--open-noatime"], True), ([], False)):
            with self.subTest(opts=opts):
                self.alt_dest_push(["-ai", "--compare-dest=../prev"] + opts)
                for root in (self.pair.upstream_root, self.pair.target_root):
                    atime = os.stat(os.path.join(root, "prev/d1/f1")).st_atime_ns
                    label = "EXPECTATION ERROR: upstream" if root == self.pair.upstream_root else "target"
                    self.assertEqual(atime == old, kept, f"{label}: basis atime {atime} with {opts}")

    def test_link_dest_double_itemize(self):
        # Verifies -ii output of a --link-dest push (the "hf" lines of linked files).
        self.alt_dest_push(["-aii", "--link-dest=../prev"])

    def test_link_dest_not_chrooted_absolute(self):
        # Verifies an absolute --link-dest in a module that is not chrooted.
        self.alt_dest_push(["-ai", "--link-dest=/prev"], module="plain")

    def test_compare_dest(self):
        # Verifies --compare-dest: identical files are left out of the new directory.
        for extra in ([], ["-ii"], ["-v"]):
            with self.subTest(extra=extra):
                self.alt_dest_push(["-ai", "--compare-dest=../prev"] + extra)
        self.assertFalse(os.path.exists(os.path.join(self.pair.target_root, "new/a.txt")))

    def test_copy_dest(self):
        # Verifies --copy-dest: identical files are copied locally (own inodes).
        for extra in ([], ["-ii"]):
            with self.subTest(extra=extra):
                self.alt_dest_push(["-ai", "--copy-dest=../prev"] + extra)
        st_new = os.stat(os.path.join(self.pair.target_root, "new/a.txt"))
        st_prev = os.stat(os.path.join(self.pair.target_root, "prev/a.txt"))
        self.assertNotEqual(st_new.st_ino, st_prev.st_ino)

    def test_two_alt_dest_dirs(self):
        # Verifies the choice among several alt-dest dirs: the first is nearly empty, the
        # second is the previous copy (basis index 1 for the changed file's delta).
        def prepare(r):
            self._prepare_prev(r)
            os.makedirs(os.path.join(r, "older/d1"))
            with open(os.path.join(r, "older/d1/f1"), "wb") as fh:
                fh.write(b"one\n" * 30)
            for rel in ("older/d1/f1", "older/d1", "older"):
                os.utime(os.path.join(r, rel), ns=(FIXED_NS - 10**12,) * 2)
        for opt in ("--link-dest", "--compare-dest", "--copy-dest"):
            with self.subTest(opt=opt):
                for r in self.pair.roots():
                    _clear(r)
                self.push(["-ai", f"{opt}=../older", f"{opt}=../prev"], dest="new/", prepare=prepare,
                          expect_rc=0, time_exempt=lambda p: p == ".")

    def test_link_dest_over_existing_destination(self):
        # Verifies that an existing, differing file in the destination is replaced by a link
        # to the identical file of the --link-dest dir.
        def prepare(r):
            self._prepare_prev(r)
            os.makedirs(os.path.join(r, "new"))
            with open(os.path.join(r, "new/a.txt"), "wb") as fh:
                fh.write(b"stale\n")
            os.utime(os.path.join(r, "new/a.txt"), ns=(FIXED_NS - 10**12,) * 2)
            os.utime(os.path.join(r, "new"), ns=(FIXED_NS, FIXED_NS))
        for r in self.pair.roots():
            _clear(r)
        self.push(["-ai", "--link-dest=../prev"], dest="new/", prepare=prepare, expect_rc=0,
                  time_exempt=lambda p: p == ".")

    # --- 5: --no-implied-dirs -R --------------------------------------------------------

    def test_no_implied_dirs_relative(self):
        # Verifies that -R --no-implied-dirs with a deep source path succeeds like upstream
        # (the implied parents are made as plain directories).
        self.push(["-ai", "-R", "--no-implied-dirs"], source=self.src + "/d1/d2", expect_rc=0,
                  fresh_dirs=True)

    def test_no_implied_dirs_relative_dot_marker(self):
        # Verifies the same with a "/./" marker in the source path.
        self.push(["-ai", "-R", "--no-implied-dirs"], source=self.src + "/./d1/d2/x.txt",
                  expect_rc=0, fresh_dirs=True)

    # --- 6: delete-during message order -----------------------------------------------

    def test_delete_during_message_order(self):
        # Verifies that at protocol 31 the "*deleting" line of a sub-directory's extra
        # entry comes before the parent's changed file, in every one of several runs.
        def prepare(r):
            shutil.copytree(self.src, os.path.join(r, "dst"), symlinks=True)
            with open(os.path.join(r, "dst/d1/f1"), "wb") as fh:
                fh.write(b"older and different\n")
            os.utime(os.path.join(r, "dst/d1/f1"), ns=(FIXED_NS - 10**12,) * 2)
            with open(os.path.join(r, "dst/d1/d2/extra.tmp"), "wb") as fh:
                fh.write(b"extra\n")
            for rel in ("dst/d1/d2/extra.tmp", "dst/d1/d2", "dst/d1"):
                os.utime(os.path.join(r, rel), ns=(FIXED_NS, FIXED_NS))
        for run in range(6):
            with self.subTest(run=run):
                for r in self.pair.roots():
                    _clear(r)
                res_t, _ = self.push(["--protocol=31", "-a", "--delete-during", "-i"],
                                     dest="dst/", prepare=prepare, expect_rc=0)
                lines = res_t.stdout.splitlines()
                self.assertLess(lines.index("*deleting   d1/d2/extra.tmp"),
                                lines.index("<f.st...... d1/f1"))


def _log_config(root: str) -> str:
    return h.push_module_config(root, name="push", chroot=True,
                                extra="    transfer logging = yes\n"
                                      "    log format = %o %n uid=%U gid=%G\n")


@unittest.skipUnless(ROOT, "mapping owners needs root")
class PushTransferLogIdsTest(unittest.TestCase):
    """The daemon log's %U/%G of a push with mapped owners."""

    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-push-logids-")
        cls.src = os.path.join(cls.base, "source")
        os.makedirs(cls.src)
        make_source(cls.src)
        cls.pair = h.PushPair(cls.base, _log_config)
        cls.addClassCleanup(cls.pair.stop)

    def _recv_lines(self, daemon, mark: int) -> list[str]:
        out = []
        for line in daemon.log_since(mark).splitlines():
            if "] recv " in line:
                out.append(line.split("] ", 1)[1])
        return sorted(out)

    def _check(self, args: list[str]) -> list[str]:
        for r in self.pair.roots():
            _clear(r)
        marks = [d.log_mark() for d in self.pair.daemons()]
        res_t, res_u = h.run_both(self.pair, args + [self.src + "/", "{url}/push/"])
        self.assertEqual((res_t.returncode, res_u.returncode), (0, 0),
                         f"{h.brief_result(res_t)}\n{h.brief_result(res_u)}")
        import time
        time.sleep(0.3)  # the daemons write their log lines as the session ends
        got_t, got_u = (self._recv_lines(d, m) for d, m in zip(self.pair.daemons(), marks))
        self.assertTrue(got_u, "upstream logged no recv lines")
        self.assertEqual(got_t, got_u)
        return got_t

    def test_chown_logs_mapped_ids(self):
        # Verifies that after --chown the log shows the ids the files were given.
        lines = self._check(["-a", "--chown=65534:65534"])
        self.assertTrue(all("uid=65534 gid=65534" in ln for ln in lines), lines)

    def test_usermap_groupmap_logs_mapped_ids(self):
        # Verifies the same for --usermap/--groupmap with numeric ids.
        src_uid = os.lstat(self.src).st_uid
        src_gid = os.lstat(self.src).st_gid
        lines = self._check(["-a", "--numeric-ids", f"--usermap={src_uid}:4242",
                             f"--groupmap={src_gid}:4343"])
        self.assertTrue(any("uid=4242 gid=4343" in ln for ln in lines), lines)


class UnwritableModuleTest(h.DaemonTestCase):
    """A writable module whose directory the daemon's user cannot write into."""

    def test_mkstemp_error_names_the_name_it_tried(self):
        # Verifies that the receiver's "mkstemp ... failed" names the temp file as upstream
        # does: with the six random characters of the last name tried (syscall.c:
        # do_mkstemp_atfd fills its template in place), not the template's XXXXXX; exit 23.
        root = os.path.join(self.tmp, "module")
        os.makedirs(root)
        os.chmod(root, 0o555)  # as root the daemon serves as nobody, who cannot write here either
        src = os.path.join(self.tmp, "f.txt")
        with open(src, "w") as fh:
            fh.write("data\n")
        pair = self.start_pair(f"[m]\n    path = {root}\n    read only = no\n")
        tried = re.compile(r'mkstemp "\.f\.txt\.([A-Za-z0-9]{6})" \(in m\) failed: Permission denied \(13\)')
        results = [h.run_against(d, [src, "{url}/m/"]) for d in (pair.target, pair.upstream)]
        for res in results:
            self.assertEqual(res.returncode, 23, str(res))
            m = tried.search(res.stderr)
            self.assertIsNotNone(m, str(res))
            self.assertNotEqual(m.group(1), "XXXXXX", str(res))
        t, u = (tried.sub('mkstemp ".f.txt.<RANDOM>" (in m) failed: Permission denied (13)',
                          h.normalise_text(r.stderr, (pair.target, pair.upstream))) for r in results)
        self.assertEqual(t, u)


if __name__ == "__main__":
    h.main()
