# SPDX-License-Identifier: MIT
"""Pulls that end in an error, compared with upstream's daemon: exit code, client output
and the daemon's log lines for the session.

Checked:

- a pull of a path the module does not have (``rsync rsync://h/mod/nonexistent DEST``),
  alone and next to one that exists, at protocols 29..32: the client reports the
  sender's ``link_stat ... failed`` error and exits 23 (upstream's got_xfer_error: the
  transfer error alone makes the run partial, no I/O error bit is set for ENOENT); the
  daemon logs the error and then its ``sent ... total size`` line, as upstream does for a
  sender whatever its exit code;
- a module whose ``exclude from``, ``include from`` or leading ``filter = merge FILE``
  names a file that does not exist: upstream fails before ``@RSYNCD: OK``, the client
  prints "didn't get server startup line" and exits 5, and the daemon log holds
  ``rsync: [Receiver] failed to open exclude file ...`` and the ``error in file IO
  (code 11)`` line, with no "rsync on" line;
- a module whose ``filter`` or ``exclude`` spells out a rule upstream cannot parse
  (``filter = x *.tmp``, or a bad rule after good ones): upstream fails before
  ``@RSYNCD: OK`` (exclude.c:filter_rule_err), the client prints "didn't get server startup
  line" and exits 5, and the daemon log holds ``Unknown filter rule: ...`` and ``rsync
  error: syntax or usage error (code 1)``, with no "rsync on" line;
- a pull whose argument lies inside a directory the module's ``exclude`` hides (``exclude =
  /d/e`` and a pull of ``d/e/secret.key``, ``d/e/``, or ``d/c`` under ``exclude = /d``):
  upstream (flist.c:change_pathname, path_is_daemon_excluded on the whole directory)
  refuses the argument's directory itself with ``change_dir "d/e" (in mod) failed: No
  such file or directory (2)`` and exit 23, and nothing is sent or listed;
- ``refuse options`` words that name no option (``DELETE``, ``bogus*``, ``!nothing-here``):
  upstream's set_refuse_options logs ``No match for refuse-options string "WORD"`` for each
  one every time it parses a client's arguments, before the ``rsync on`` line; the pull
  itself succeeds;
- a pull refused by ``refuse options`` (``-c`` against ``refuse options = c``) at protocols
  29..32: the sending daemon's log has upstream's order, the error, then ``sent N bytes
  received 0 bytes  total size 0`` (N counts only the multiplexed error frame, as
  upstream's stats do), then ``rsync error: requested action not supported (code 4)``;
- file names with control characters in the transfer log and in error lines: escaped as
  upstream's log file has them (``\\#ooo``);
- ``--open-noatime`` (or the module's ``open noatime``) with ``uid = nobody`` over a tree
  root owns, as root: the sender opens directories it lists and files it reads with
  O_NOATIME, so each one nobody does not own fails with EPERM (``opendir "." (in mod)
  failed: Operation not permitted (1)``, ``send_files failed to open``) and the run exits
  23, while directories only walked through are not affected.
"""

import os
import pwd
import re
import unittest

import harness as h

PROTOCOLS = (29, 30, 31, 32)


class PullErrorTestCase(h.DaemonTestCase):
    """Shared: run one client command against both daemons, compare everything."""

    def module_dir(self) -> str:
        root = os.path.join(self.tmp, "module")
        os.makedirs(root, exist_ok=True)
        os.chmod(root, 0o755)
        with open(os.path.join(root, "a.txt"), "w") as fh:
            fh.write("a file that exists\n")
        os.chmod(os.path.join(root, "a.txt"), 0o644)
        return root

    def compare(self, pair: h.DaemonPair, args, dest_name: str, last_log: str,
                expect_rc: int, blank_counts: bool = False):
        """Run ``args`` + a fresh destination against both daemons; compare exit codes,
        stdout, stderr and the session's log lines (once ``last_log`` has been logged).
        ``blank_counts`` blanks the byte counts of the "sent ... received" line: how the
        multiplexed data is cut into frames (4 bytes of header each) depends on timing,
        in upstream's daemon as in ours."""
        daemons = (pair.target, pair.upstream)
        results = []
        logs = []
        for which, d in zip(("target", "upstream"), daemons):
            dest = os.path.join(self.tmp, f"{dest_name}-{which}")
            mark = d.log_mark()
            res = h.run_against(d, list(args) + [dest])
            d.wait_for_log(last_log, since=mark, timeout=10)
            results.append(res)
            lines = h.session_log_lines(d, mark, daemons)
            if blank_counts:
                lines = [re.sub(r"^sent \d+ bytes  received \d+ bytes", "sent N bytes  received N bytes", x)
                         for x in lines]
            logs.append(lines)
        (rc_t, out_t, err_t), (rc_u, out_u, err_u) = (h.normalise_result(r, daemons) for r in results)
        detail = f"\nargs: {args}\n{results[0]}\n{results[1]}"
        self.assertEqual(rc_u, expect_rc, "EXPECTATION ERROR (upstream)" + detail)
        self.assertEqual(rc_t, rc_u, "exit code differs" + detail)
        self.assertEqual(out_t, out_u, "stdout differs" + detail)
        self.assertEqual(err_t, err_u, "stderr differs" + detail)
        self.assertEqual(logs[0], logs[1], "daemon log differs" + detail)
        return logs[1]


class MissingSourceTest(PullErrorTestCase):
    """A pull naming a path the module does not have."""

    def setUp(self):
        super().setUp()
        root = self.module_dir()
        self.pair = self.start_pair(f"[mod]\n    path = {root}\n    read only = yes\n")

    def test_missing_file_alone_exits_23(self):
        """Verifies exit code 23, the client's stderr and the daemon log for a pull of only
        a missing file (an empty file list), at protocols 29..32."""
        for proto in PROTOCOLS:
            with self.subTest(protocol=proto):
                log = self.compare(self.pair, [f"--protocol={proto}", "{url}/mod/nonexistent"],
                                   f"alone-{proto}", r"^.*sent \d+ bytes  received", 23)
                self.assertIn('rsync: [sender] link_stat "nonexistent" (in mod) failed: '
                              "No such file or directory (2)", log)

    def test_missing_file_next_to_existing_one_exits_23(self):
        """Verifies the same when another, existing file is transferred in the same run."""
        for proto in PROTOCOLS:
            with self.subTest(protocol=proto):
                log = self.compare(self.pair, [f"--protocol={proto}", "-a", "{url}/mod/nonexistent",
                                               "{url}/mod/a.txt"],
                                   f"mixed-{proto}", r"^.*sent \d+ bytes  received", 23)
                self.assertTrue(any(line.startswith("sent ") for line in log), log)


class UnreadableFilterFileTest(PullErrorTestCase):
    """A module whose operator filter file is missing fails before "@RSYNCD: OK"."""

    def check(self, setting: str, kind: str):
        root = self.module_dir()
        missing = os.path.join(self.tmp, "no-such-filter-file")
        pair = self.start_pair(f"[mod]\n    path = {root}\n    {setting} {missing}\n")
        log = self.compare(pair, ["-a", "{url}/mod/"], "dest", r"^.*rsync error: ", 5)
        self.assertIn(f"rsync: [Receiver] failed to open {kind} file {missing}: "
                      "No such file or directory (2)", log)
        self.assertIn("rsync error: error in file IO (code 11) at <FILE>(<LINE>) "
                      "[Receiver=<VERSION>]", log)
        self.assertFalse(any(line.startswith("rsync on ") for line in log), log)

    def test_exclude_from(self):
        """Verifies a missing "exclude from" file: exit 5 and upstream's log lines."""
        self.check("exclude from =", "exclude")

    def test_include_from(self):
        """Verifies a missing "include from" file ("include file" in the log)."""
        self.check("include from =", "include")

    def test_filter_merge(self):
        """Verifies a missing file named by a leading "filter = merge FILE" rule."""
        self.check("filter = merge", "exclude")


class BadModuleFilterRuleTest(PullErrorTestCase):
    """A module whose own filter rules do not parse fails before "@RSYNCD: OK"."""

    def check(self, settings: str, bad: str):
        root = self.module_dir()
        pair = self.start_pair(f"[mod]\n    path = {root}\n{settings}")
        log = self.compare(pair, ["-a", "{url}/mod/"], "dest", r"^.*rsync error: ", 5)
        self.assertIn(f"Unknown filter rule: {bad}", log)
        self.assertIn("rsync error: syntax or usage error (code 1) at <FILE>(<LINE>) "
                      "[Receiver=<VERSION>]", log)
        self.assertFalse(any(line.startswith("rsync on ") for line in log), log)

    def test_unknown_rule_in_filter(self):
        """Verifies "filter = x *.tmp": exit 5 and upstream's log lines."""
        self.check("    filter = x *.tmp\n", "x *.tmp")

    def test_bad_rule_after_good_ones(self):
        """Verifies a bad word in "filter" after a good "exclude" and rule."""
        self.check("    exclude = *.o\n    filter = + a ! c\n", "c")


class ExcludedArgumentDirectoryTest(PullErrorTestCase):
    """An argument whose directory the module excludes is refused, not served."""

    def pull_refused(self, exclude: str, source: str, refused_dir: str, extra=()):
        root = self.module_dir()
        h.make_tree(root, {"d/c": "visible\n", "d/e/secret.key": "hidden\n"})
        pair = self.start_pair(f"[mod]\n    path = {root}\n    read only = yes\n    exclude = {exclude}\n")
        log = self.compare(pair, ["-a", *extra, "{url}/mod/" + source], "dest",
                           r"^.*sent \d+ bytes  received", 23)
        self.assertIn(f'rsync: [sender] change_dir "{refused_dir}" (in mod) failed: '
                      "No such file or directory (2)", log)
        if not extra:
            for which in ("target", "upstream"):
                dest = os.path.join(self.tmp, f"dest-{which}")
                got = [os.path.join(dp, n) for dp, _, fns in os.walk(dest) for n in fns]
                self.assertEqual(got, [], f"{which} received files: {got}")

    def test_file_in_excluded_directory(self):
        """Verifies that d/e/secret.key is not sent when the module excludes /d/e."""
        self.pull_refused("/d/e", "d/e/secret.key", "d/e")

    def test_excluded_directory_with_trailing_slash(self):
        """Verifies that d/e/ is not sent when the module excludes /d/e."""
        self.pull_refused("/d/e", "d/e/", "d/e")

    def test_unanchored_directory_rule(self):
        """Verifies that an unanchored "e/" rule hides d/e/secret.key too."""
        self.pull_refused("e/", "d/e/secret.key", "d/e")

    def test_file_below_excluded_top_directory(self):
        """Verifies that d/c is not sent when the module excludes /d."""
        self.pull_refused("/d", "d/c", "d")

    def test_listing_of_excluded_directory(self):
        """Verifies that --list-only of d/e/ lists nothing when the module excludes /d/e."""
        self.pull_refused("/d/e", "d/e/", "d/e", extra=("--list-only",))


class RefuseOptionsNoMatchTest(PullErrorTestCase):
    """Unknown words in "refuse options" are logged per connection."""

    def test_unmatched_words_are_logged_before_the_request(self):
        """Verifies the "No match for refuse-options string" lines and where they fall."""
        root = self.module_dir()
        pair = self.start_pair(f"[mod]\n    path = {root}\n    refuse options = DELETE bogus* !nothing-here c\n")
        log = self.compare(pair, ["-a", "{url}/mod/"], "dest", r"^.*sent \d+ bytes  received", 0,
                           blank_counts=True)
        expected = [f'No match for refuse-options string "{w}"' for w in ("DELETE", "bogus*", "nothing-here")]
        self.assertEqual([x for x in log if x.startswith("No match")], expected, log)
        request = next(i for i, x in enumerate(log) if x.startswith("rsync on "))
        self.assertLess(log.index(expected[-1]), request, log)


class RefusedOptionLogTest(PullErrorTestCase):
    """The log of a pull that "refuse options" stops."""

    def test_sender_logs_totals_between_error_lines(self):
        """Verifies the whole session log, in order, against upstream's."""
        root = self.module_dir()
        pair = self.start_pair(f"[mod]\n    path = {root}\n    refuse options = c\n")
        for proto in PROTOCOLS:
            with self.subTest(protocol=proto):
                # The client reads on into upstream's reset connection: exit 10.
                log = self.compare(pair, [f"--protocol={proto}", "-ac", "{url}/mod/"], f"dest-{proto}",
                                   r"^.*rsync error: ", 10)
                refusal = "rsync: The server is configured to refuse --checksum (-c)"
                self.assertIn(refusal, log)
                totals = log.index(refusal) + 1
                self.assertEqual(log[totals], f"sent {len(refusal) + 5} bytes  received 0 bytes  total size 0", log)
                self.assertTrue(log[totals + 1].startswith("rsync error: requested action not supported"), log)


class ModulePolicyRefusalTest(PullErrorTestCase):
    """Pulls a module's policy refuses: the sender reads the client's filter list first."""

    def refused(self, module_lines: str, args: list[str], message: str) -> None:
        root = self.module_dir()
        pair = self.start_pair(f"[mod]\n    path = {root}\n{module_lines}")
        for proto in PROTOCOLS:
            for extra in ([], ["--exclude=*.o", "--exclude=*.a"]):
                with self.subTest(protocol=proto, filters=extra):
                    dest = f"dest-{proto}-{len(extra)}"
                    # Below protocol 31 the client reads on into the closed connection.
                    log = self.compare(pair, [f"--protocol={proto}", "-r", *extra, *args, "{url}/mod/"], dest,
                                       r"^.*rsync error: ", 1 if proto >= 31 else 12)
                    self.assertIn(message, log)
                    # Upstream counts the filter list it read, with its frame header when the
                    # client multiplexes (protocol 30 on, or --remove-source-files): each rule
                    # is a 4-byte length and the text, then a 0.
                    rules = 4 + sum(4 + len("- ") + len(e.split("=", 1)[1]) for e in extra)
                    received = rules + (4 if proto >= 30 or "--remove-source-files" in args else 0)
                    totals = log.index(message) + 1
                    self.assertRegex(log[totals], rf"^sent \d+ bytes  received {received} bytes  total size 0$", log)

    def test_write_only_module(self):
        """Verifies that a pull from a "write only" module logs the error, the totals with
        the filter list's bytes received, then the exit line, as upstream does; below
        protocol 31 the client sees the connection close (exit 12), as with upstream."""
        self.refused("    write only = yes\n    timeout = 30\n", [], "ERROR: module is write only")

    def test_remove_source_files_on_read_only_module(self):
        """Verifies the same order for --remove-source-files from a read-only module."""
        self.refused("", ["--remove-source-files"],
                     "ERROR: --remove-source-files cannot be used with a read-only module")


class LogEscapingTest(PullErrorTestCase):
    """File names with control characters in the daemon's transfer log."""

    def test_control_characters_are_escaped_in_the_log(self):
        """Verifies that the transfer log and error lines show a newline, an escape and a
        C1 control in file names as upstream's log file does ("\\#ooo"), byte for byte."""
        root = self.module_dir()
        weird = "new\nline\x1b[0m\u0085.txt"
        with open(os.path.join(root, weird), "w") as fh:
            fh.write("x\n")
        os.chmod(os.path.join(root, weird), 0o644)
        pair = self.start_pair(f"[mod]\n    path = {root}\n    transfer logging = yes\n")
        log = self.compare(pair, ["-r", "{url}/mod/", "{url}/mod/missing\tname"], "dest",
                           r"^.*sent \d+ bytes  received", 23)
        self.assertTrue(any("new\\#012line\\#033[0m" in line for line in log), log)
        self.assertFalse(any("\x1b" in line for line in log), log)


class OpenNoatimeTest(PullErrorTestCase):
    """--open-noatime: O_NOATIME on the sender's opens, refused on entries not owned."""

    def setUp(self):
        super().setUp()
        self.root = self.module_dir()
        os.makedirs(os.path.join(self.root, "sub", "s2"))
        for d in ("sub", "sub/s2"):
            os.chmod(os.path.join(self.root, d), 0o755)
        h.write_file(os.path.join(self.root, "sub", "s2", "c.txt"), "deep\n")
        if h.running_as_root():
            # nobody owns the module directory and sub/s2; sub and a.txt stay root's.
            nobody = pwd.getpwnam("nobody").pw_uid
            for rel in ("", "sub/s2", "sub/s2/c.txt"):
                os.chown(os.path.join(self.root, rel), nobody, -1)

    def pair_with(self, extra: str = "") -> h.DaemonPair:
        return self.start_pair(f"[mod]\n    path = {self.root}\n    read only = yes\n    uid = nobody\n"
                               f"    gid = {'nogroup' if h.running_as_root() else os.getegid()}\n{extra}")

    def expected_rc(self) -> int:
        # Not root: the daemon's uid owns everything, so O_NOATIME is always allowed.
        return 23 if h.running_as_root() else 0

    def test_whole_module(self):
        """Verifies that a recursive pull with --open-noatime reports the root-owned
        directory and file with EPERM and exits 23, as upstream."""
        log = self.compare(self.pair_with(), ["-a", "--open-noatime", "{url}/mod/"], "whole",
                           r"^.*sent \d+ bytes  received", self.expected_rc(), blank_counts=True)
        if h.running_as_root():
            self.assertIn('rsync: [sender] opendir "sub" (in mod) failed: Operation not permitted (1)', log)
            self.assertIn('rsync: [sender] send_files failed to open "a.txt" (in mod): '
                          "Operation not permitted (1)", log)

    def test_root_owned_module_root(self):
        """Verifies that a module root nobody does not own fails as opendir "." with
        EPERM when the module sets "open noatime = yes" (no client option)."""
        if h.running_as_root():
            os.chown(self.root, 0, -1)
        log = self.compare(self.pair_with("    open noatime = yes\n"), ["-a", "{url}/mod/"], "modroot",
                           r"^.*sent \d+ bytes  received", self.expected_rc(), blank_counts=True)
        if h.running_as_root():
            self.assertIn('rsync: [sender] opendir "." (in mod) failed: Operation not permitted (1)', log)

    def test_module_turns_it_off(self):
        """Verifies that "open noatime = no" overrides the client's --open-noatime."""
        self.compare(self.pair_with("    open noatime = no\n"), ["-a", "--open-noatime", "{url}/mod/"],
                     "off", r"^.*sent \d+ bytes  received", 0, blank_counts=True)

    def test_walked_through_directory_is_not_opened(self):
        """Verifies that a root-owned directory on the way to the pulled one does not
        fail: only the directory listed and the files read get O_NOATIME."""
        self.compare(self.pair_with(), ["-a", "--open-noatime", "{url}/mod/sub/s2/"], "through",
                     r"^.*sent \d+ bytes  received", 0, blank_counts=True)
        with open(os.path.join(self.tmp, "through-target", "c.txt")) as fh:
            self.assertEqual(fh.read(), "deep\n")


if __name__ == "__main__":
    h.main()
