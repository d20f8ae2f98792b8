# SPDX-License-Identifier: MIT
"""Push options whose effects reach past the module tree: the client's own source tree,
what the client prints and what the daemon logs.

Each case prepares, for the target daemon and for upstream's ``rsync --daemon`` alike, a
fresh source directory on the client's side and a fresh module directory (module ``m``,
``use chroot = no``, so ``munge symlinks`` is on by default), pushes with the stock client
to both at the same time, and compares with upstream's run: the exit code, the client's
stdout and stderr (byte counts and version suffixes blanked), both module trees and both
source trees (attribute for attribute), and the daemon log lines of the session (times,
pids, byte counts and paths blanked).

Cases:

- ``--remove-source-files`` (also with ``-H``, ``--no-inc-recursive``, ``--delay-updates``
  and ``--protocol=29``) and ``--remove-sent-files``: the receiving side reports each file,
  hard link, symlink and special it has in place (MSG_SUCCESS), and the client removes
  those sources; files already up to date count too, with ``-n`` nothing is removed
  (upstream receiver.c:recv_files, generator.c:recv_generator, hlink.c:finish_hard_link).
- ``--delete-missing-args``: an argument missing on the client deletes the module entry of
  that name ("*deleting" line); a missing directory goes with its contents only with
  ``--force`` (or ``--delete``), else "cannot delete non-empty directory"; also through
  ``--files-from`` and with ``-R`` (generator.c:recv_generator, delete.c:delete_item).
- entries the run does not make (a symlink without ``-l``, a fifo or device without ``-D``):
  "skipping non-regular file" on the client's stdout and in the daemon log, not with
  ``--info=nonreg0`` (generator.c:recv_generator, INFO_NONREG is on at level 0);
- ``--safe-links`` into a munging module: upstream checks the target as stored, already
  made absolute by the "/rsyncd-munged/" prefix, so every symlink is "ignoring unsafe
  symlink" (flist.c:receive_file_entry, generator.c:recv_generator);
- the daemon log names a pushed symlink's target as stored (munged) in ``%L`` and in its
  ``-v`` line, and a made fifo in its ``-v`` line (log.c:log_formatted, generator.c);
- the daemon log's "sent N bytes  received N bytes  total size N" line of a push: written
  for a run that ends with code 0 only, so not after a dangling symlink under ``-L`` (23)
  nor when the ``--max-delete`` limit stopped deletions (the daemon's code is 25 although
  the client exits 0) (log.c:log_exit, cleanup.c:_exit_cleanup);
- the ``-v`` names of what a push makes: below protocol 29 the client learns them from
  the daemon (FINFO: client and log), in a dry run from the daemon alone (FCLIENT), and a
  dry run's missing directories are named too (rsync.c:set_file_attrs reports a change
  when there is nothing to compare); a hard link's log line with ``%i %n%L`` ends in
  ``=> LEADER`` (generator.c:generate_files' code, hlink.c, log.c:log_item);
- a push as ``uid = nobody`` into a module root that root owns (mode 0777): the module
  root's time, changed by the files made in it, cannot be set back at the end, which
  upstream ignores (generator.c:touch_up_dirs does not report it), so ``-rt`` exits 0 and
  ``-a`` only reports the permissions.
"""

import os
import re
import stat
import threading
import time
import unittest
from typing import Callable, Optional

import harness as h
import tree

ROOT = h.running_as_root()
OLD_S = 1_500_000_000
NEW_S = 1_600_000_000


def _write(root: str, rel: str, data: str, mtime: int) -> None:
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(data)
    os.utime(path, (mtime, mtime))


def _symlink(root: str, rel: str, target: str, mtime: int) -> None:
    path = os.path.join(root, rel)
    os.symlink(target, path)
    os.utime(path, (mtime, mtime), follow_symlinks=False)


def _fix_dir_times(root: str, mtime: int) -> None:
    for dp, dns, _fns in os.walk(root, topdown=False):
        for n in dns:
            os.utime(os.path.join(dp, n), (mtime, mtime), follow_symlinks=False)
    os.utime(root, (mtime, mtime))


def _config(extra: str) -> Callable[[str], str]:
    return lambda root: h.push_module_config(root, name="m", chroot=False, extra=extra)


class _Side:
    """One daemon with its own module directory and its own client-side source."""

    def __init__(self, base: str, role: str, kind: str, extra: str):
        self.dir = os.path.join(base, role)
        self.src = os.path.join(self.dir, "src")
        self.mod = os.path.join(self.dir, "mod")
        os.makedirs(self.src)
        os.makedirs(self.mod)
        for d in (self.dir, self.mod):
            os.chmod(d, 0o755)
        self.daemon = h.Daemon(kind, _config(extra)(self.mod))

    def settled_log_since(self, mark: int) -> str:
        """The log since ``mark`` once the session has written its last line (the daemon
        logs its totals as the session ends, after the client may have exited)."""
        deadline = time.monotonic() + 5
        text = self.daemon.log_since(mark)
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.daemon.log_since(mark)
            if now != text:
                text, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= 0.6:
                break
        return text


def _normalise_log(text: str, side: _Side) -> list[str]:
    out = []
    for line in text.splitlines():
        line = re.sub(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[\d+\] ", "", line)
        line = line.replace(side.dir, "<D>")
        line = re.sub(r"\(\d+\.\d+\.\d+\.\d+\)", "(<IP>)", line)
        line = re.sub(r"\b(sent|received) \d+ bytes", r"\1 <N> bytes", line)
        out.append(line)
    return out


class PushSideEffectsTest(unittest.TestCase):
    """Per case: a fresh daemon pair (target and upstream), each with its own trees."""

    def push(self, args: list[str], prepare: Callable[[str, str], None], *, extra: str = "",
             expect_rc: Optional[int] = 0, client_path: str = "{src}/",
             sources: Optional[list[str]] = None, unordered_stdout: bool = False):
        """Prepares both sides with ``prepare(src, mod)``, pushes ``args`` plus the source
        arguments (``sources``, default ``{src}/``; ``{src}`` is each side's source dir in
        all of them) to ``rsync://.../m/`` on both and
        compares everything with upstream's run; returns (target side, upstream side,
        target result, upstream result)."""
        base = h.make_temp_dir("ocr-push-side-")
        os.chmod(base, 0o755)
        sides = []
        try:
            for role, kind in (("target", h.TARGET), ("upstream", h.UPSTREAM_KIND)):
                sides.append(_Side(base, role, kind, extra))
            t_side, u_side = sides
            for s in sides:
                prepare(s.src, s.mod)
            results: dict[str, h.RunResult] = {}
            marks = {id(s): s.daemon.log_mark() for s in sides}

            def run(side: _Side) -> None:
                argv = args + (sources or [client_path]) + ["{url}/m/"]
                results[side.dir] = h.run_against(side.daemon,
                                                  [a.replace("{src}", side.src) for a in argv])

            threads = [threading.Thread(target=run, args=(s,)) for s in sides]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            res_t, res_u = results[t_side.dir], results[u_side.dir]
            logs = [_normalise_log(s.settled_log_since(marks[id(s)]), s) for s in sides]
            # The session's lines (read before the daemons stop: a stopping upstream
            # listener logs totals of its own).
            self.session_logs = logs
        finally:
            for s in sides:
                s.daemon.stop()
        problems = []
        if expect_rc is not None and res_u.returncode != expect_rc:
            problems.append(f"EXPECTATION ERROR: upstream exited {res_u.returncode}, "
                            f"the test expects {expect_rc}")
        if res_t.returncode != res_u.returncode:
            problems.append(f"exit code {res_t.returncode}, upstream {res_u.returncode}")
        for what, t, u in (("stdout", res_t.stdout, res_u.stdout),
                           ("stderr", res_t.stderr, res_u.stderr)):
            nt = h.normalise_transfer_text(t, [t_side.daemon], [(t_side.dir, "<D>")])
            nu = h.normalise_transfer_text(u, [u_side.daemon], [(u_side.dir, "<D>")])
            if what == "stdout" and unordered_stdout:
                nt, nu = ("\n".join(sorted(x.splitlines())) for x in (nt, nu))
            if nt != nu:
                problems.append(f"{what} differs:\n--- upstream\n{nu}--- target\n{nt}")
        if logs[0] != logs[1]:
            problems.append("daemon logs differ:\n--- upstream\n" + "\n".join(logs[1])
                            + "\n--- target\n" + "\n".join(logs[0]))
        for what in ("mod", "src"):
            got_t = tree.snapshot(getattr(t_side, what))
            got_u = tree.snapshot(getattr(u_side, what))
            # A removal on the client's side gives the directory the moment it happened.
            rules = tree.Rules(exact_times=True, owners=ROOT, dir_times=what == "mod",
                               time_exempt=lambda p: p == ".")
            diff = tree.diff_trees(got_u, got_t, rules)
            if diff:
                problems.append(f"{what} trees differ:\n    " + "\n    ".join(diff[:40]))
        if problems:
            self.fail(f"{' '.join(args)}:\n- " + "\n- ".join(problems)
                      + f"\n{h.brief_result(res_t)}\n{h.brief_result(res_u)}")
        return t_side, u_side, res_t, res_u

    # --- --remove-source-files ----------------------------------------------------------

    @staticmethod
    def _rsf_tree(src: str, mod: str) -> None:
        _write(mod, "keep.txt", "same\n", NEW_S)
        _write(mod, "old.txt", "stale\n", OLD_S)
        for rel, data in (("a.txt", "new a\n"), ("d/b.txt", "bee " * 300), ("keep.txt", "same\n"),
                          ("old.txt", "fresh\n")):
            _write(src, rel, data, NEW_S)
        os.link(os.path.join(src, "a.txt"), os.path.join(src, "hl"))
        _symlink(src, "lnk", "a.txt", NEW_S)
        os.mkfifo(os.path.join(src, "fifo"))
        os.utime(os.path.join(src, "fifo"), (NEW_S, NEW_S))
        _fix_dir_times(src, NEW_S)
        _fix_dir_times(mod, NEW_S)

    def _assert_sources_removed(self, side: _Side) -> None:
        left = sorted(p for p, e in tree.snapshot(side.src).entries.items() if e.kind != "dir")
        self.assertEqual(left, [], f"sources left behind: {left}")

    def test_remove_source_files(self):
        # Verifies that every sent file, the hard link, the symlink and the fifo leave the
        # source, the unchanged keep.txt included, with -i --stats.
        t, _u, _rt, _ru = self.push(["-a", "--remove-source-files", "-i", "--stats"], self._rsf_tree)
        self._assert_sources_removed(t)

    def test_remove_source_files_variants(self):
        # Verifies the same with -H (a member linked to its leader), without incremental
        # lists, with --delay-updates (reported after the renames) and at protocol 29.
        for extra in (["-H"], ["-H", "--no-inc-recursive"], ["--delay-updates"],
                      ["-H", "--protocol=29"]):
            with self.subTest(extra=extra):
                t, _u, _rt, _ru = self.push(["-a", "--remove-source-files", "-i"] + extra,
                                            self._rsf_tree)
                self._assert_sources_removed(t)

    def test_remove_source_files_dry_run(self):
        # Verifies that -n removes nothing.
        self.push(["-a", "-n", "--remove-source-files", "-i"], self._rsf_tree)

    def test_remove_sent_files(self):
        # Verifies the old --remove-sent-files: only what was actually sent (or made, for a
        # symlink) goes; the unchanged keep.txt and the fifo stay, and with -H so does the
        # member made a link to its leader (hlink.c:finish_hard_link checks for 1).
        for extra in ([], ["-H"]):
            with self.subTest(extra=extra):
                t, _u, _rt, _ru = self.push(["-a", "--remove-sent-files", "-i"] + extra,
                                            self._rsf_tree)
                self.assertTrue(os.path.exists(os.path.join(t.src, "keep.txt")))
                self.assertFalse(os.path.exists(os.path.join(t.src, "d/b.txt")))
                self.assertEqual(os.path.exists(os.path.join(t.src, "a.txt")), extra == ["-H"])

    # --- --delete-missing-args ----------------------------------------------------------

    @staticmethod
    def _dma_tree(src: str, mod: str) -> None:
        for rel in ("x1", "x2", "sub/x3"):
            _write(mod, rel, rel + "\n", OLD_S)
        _write(mod, "a.txt", "old\n", OLD_S)
        os.makedirs(os.path.join(mod, "xdir/inner"))
        _write(src, "a.txt", "new\n", NEW_S)
        os.makedirs(os.path.join(src, "sub"))
        _fix_dir_times(mod, OLD_S)
        _fix_dir_times(src, NEW_S)
        with open(os.path.join(os.path.dirname(src), "list"), "w") as fh:
            fh.write("a.txt\nx1\nsub/x3\nxdir\n")

    def test_delete_missing_args_file(self):
        # Verifies "*deleting   x1" and its removal, with -i and with -vv.
        for extra in (["-i"], ["-vv"]):
            with self.subTest(extra=extra):
                t, _u, res_t, _ru = self.push(["-a", "--delete-missing-args"] + extra, self._dma_tree,
                                              sources=["{src}/a.txt", "{src}/x1"])
                self.assertFalse(os.path.exists(os.path.join(t.mod, "x1")))
                if extra == ["-i"]:
                    self.assertIn("*deleting   x1", res_t.stdout)

    def test_delete_missing_args_directory(self):
        # Verifies that a missing directory is deleted with its contents under --force
        # only; without it upstream reports "cannot delete non-empty directory: xdir".
        t, _u, res_t, _ru = self.push(["-a", "-i", "--force", "--delete-missing-args"],
                                      self._dma_tree, sources=["{src}/xdir"])
        self.assertIn("*deleting   xdir/inner/", res_t.stdout)
        self.assertFalse(os.path.exists(os.path.join(t.mod, "xdir")))
        t, _u, res_t, _ru = self.push(["-a", "-i", "--delete-missing-args"],
                                      self._dma_tree, sources=["{src}/xdir"])
        self.assertTrue(os.path.isdir(os.path.join(t.mod, "xdir/inner")))

    def test_delete_missing_args_files_from_and_relative(self):
        # Verifies the deletions named by --files-from (with and without -r: the missing
        # parent "sub" is warned about, rc 24 like upstream) and by a -R argument.
        for extra in ([], ["-r"]):
            with self.subTest(extra=extra):
                self.push(["-a", "-i", "--delete-missing-args", "--files-from={src}/../list"] + extra,
                          self._dma_tree, expect_rc=None)
        t, _u, _rt, _ru = self.push(["-a", "-R", "-i", "--delete-missing-args"], self._dma_tree,
                                    sources=["{src}/./sub/x3"], expect_rc=0)
        self.assertFalse(os.path.exists(os.path.join(t.mod, "sub/x3")))

    # --- the totals line of the daemon log ------------------------------------------------

    @staticmethod
    def _errors_tree(src: str, mod: str) -> None:
        _write(src, "a.txt", "a\n", NEW_S)
        _symlink(src, "dangling", "nowhere", NEW_S)
        for rel in ("gone1", "gone2", "gone3"):
            _write(mod, rel, "old\n", OLD_S)
        _fix_dir_times(src, NEW_S)
        _fix_dir_times(mod, OLD_S)

    def test_no_totals_line_after_errors(self):
        # Verifies the log of runs ending in 23 (-L with a dangling symlink) and of one whose
        # deletions --max-delete=1 stopped (three to do): no totals line.
        for args, rc in ((["-a", "-L", "-i", "--stats"], 23),
                         (["-a", "-i", "--delete", "--max-delete=1"], 0)):
            with self.subTest(args=args):
                self.push(args, self._errors_tree, expect_rc=rc)
                self.assertFalse([ln for ln in self.session_logs[0] if "total size" in ln])

    def test_totals_line_after_success(self):
        # Verifies that a clean push still logs its totals.
        self.push(["-a", "-i"], self._errors_tree)
        self.assertTrue([ln for ln in self.session_logs[0] if "total size" in ln])

    # --- the names of what is made, old protocols ------------------------------------------

    @staticmethod
    def _made_tree(src: str, mod: str) -> None:
        _write(src, "a.txt", "a\n", NEW_S)
        _write(src, "d/e/b.txt", "b\n", NEW_S)
        os.link(os.path.join(src, "a.txt"), os.path.join(src, "d/hl"))
        _symlink(src, "lnk", "a.txt", NEW_S)
        os.mkfifo(os.path.join(src, "fifo"))
        os.utime(os.path.join(src, "fifo"), (NEW_S, NEW_S))
        _fix_dir_times(src, NEW_S)

    def test_names_of_made_entries(self):
        # Verifies -v / -n / -H pushes at protocols 27, 28 and 29, and the %i log with -H.
        for proto in (27, 28, 29):
            for args in (["-av"], ["-avn"], ["-aHv"]):
                with self.subTest(protocol=proto, args=args):
                    self.push([f"--protocol={proto}", *args], self._made_tree)
        with self.subTest(log="%i %n%L"):
            self.push(["-aHv"], self._made_tree,
                      extra="    transfer logging = yes\n    log format = %i %n%L\n")
            self.assertTrue([x for x in self.session_logs[0] if x.startswith("hf") and " => " in x],
                            self.session_logs[0])

    # --- a module root the module's user does not own -------------------------------------

    @staticmethod
    def _foreign_root_tree(src: str, mod: str) -> None:
        _write(src, "a.txt", "a\n", NEW_S)
        _write(src, "d/b.txt", "b\n", NEW_S)
        _fix_dir_times(src, NEW_S)
        # Same time as the source root, so "." needs no update until files land in it.
        os.chmod(mod, 0o777)
        os.utime(mod, (NEW_S, NEW_S))

    def test_module_root_time_failure_is_quiet(self):
        # Verifies -rt (exit 0, no "failed to set times") and -a (exit 23 for the
        # permissions of "." only) as nobody in a root-owned 0777 module root.
        self.assertTrue(ROOT, "this case needs root (a module root owned by another user)")
        for args, rc in ((["-rt", "-i"], 0), (["-a", "-i"], 23)):
            with self.subTest(args=args):
                _t, _u, res_t, _ru = self.push(args, self._foreign_root_tree, expect_rc=rc,
                                               extra="    uid = nobody\n    gid = nogroup\n")
                self.assertNotIn("failed to set times", res_t.stderr)

    # --- entries not made, symlinks in a munging module ------------------------------------

    @staticmethod
    def _links_tree(src: str, mod: str) -> None:
        _write(src, "a.txt", "a\n", NEW_S)
        _write(src, "d/b.txt", "b\n", NEW_S)
        _symlink(src, "lnk", "a.txt", NEW_S)
        _symlink(src, "d/up", "../a.txt", NEW_S)
        _symlink(src, "abs", "/etc/passwd", NEW_S)
        os.mkfifo(os.path.join(src, "fifo"))
        os.utime(os.path.join(src, "fifo"), (NEW_S, NEW_S))
        if ROOT:
            os.mknod(os.path.join(src, "dev"), 0o600 | stat.S_IFCHR, os.makedev(1, 3))
            os.utime(os.path.join(src, "dev"), (NEW_S, NEW_S))
        _fix_dir_times(src, NEW_S)

    def test_nonregular_files_skipped(self):
        # Verifies the "skipping non-regular file" lines (client and log) of -rt, -rtv,
        # -rtl (links made, fifo and device skipped), -a --no-D, and none with
        # --info=nonreg0.
        for args in (["-rt", "-i", "--stats"], ["-rtv"], ["-rtl", "-i"], ["-a", "--no-D", "-i"],
                     ["-rt", "-i", "--info=nonreg0"]):
            with self.subTest(args=args):
                _t, _u, res_t, _ru = self.push(args, self._links_tree)
                self.assertEqual(args[0] in ("-rt", "-rtv") and "--info=nonreg0" not in args,
                                 'skipping non-regular file "lnk"' in res_t.stdout)
                self.assertEqual("--info=nonreg0" not in args,
                                 'skipping non-regular file "fifo"' in res_t.stdout)

    def test_safe_links_in_munging_module(self):
        # Verifies that --safe-links drops every symlink of a push into a munging module,
        # with -i, and with -v, which names the munged target in the message.
        for args in (["-a", "-i", "--safe-links"], ["-av", "--safe-links"]):
            with self.subTest(args=args):
                t, _u, res_t, _ru = self.push(args, self._links_tree)
                self.assertEqual('ignoring unsafe symlink "lnk" -> "/rsyncd-munged/a.txt"' in res_t.stdout,
                                 "-av" in args)
                self.assertFalse(os.path.lexists(os.path.join(t.mod, "lnk")))

    def test_log_shows_munged_symlink_targets(self):
        # Verifies %L of the transfer log and the -v log lines for symlinks and the fifo.
        self.push(["-a", "-i"], self._links_tree,
                  extra="    transfer logging = yes\n    log format = %o %i %n%L\n")
        self.assertIn("recv cL+++++++++ lnk -> /rsyncd-munged/a.txt", self.session_logs[0])
        self.push(["-av"], self._links_tree)
        self.assertIn("lnk -> /rsyncd-munged/a.txt", self.session_logs[0])
        self.assertIn("fifo", self.session_logs[0])


if __name__ == "__main__":
    h.main()
