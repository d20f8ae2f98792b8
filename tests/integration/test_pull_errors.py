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
- file names with control characters in the transfer log and in error lines: escaped as
  upstream's log file has them (``\\#ooo``).
"""

import os
import unittest

import harness as h

PROTOCOLS = (29, 30, 31, 32)


def _session_log(daemon: h.Daemon, mark: int, daemons) -> list[str]:
    """The log lines written since ``mark``, normalised, without the time/pid prefix."""
    lines = []
    for line in h.normalise_text(daemon.log_since(mark), daemons).splitlines():
        prefix = "<TIME> [<PID>] "
        lines.append(line[len(prefix):] if line.startswith(prefix) else line)
    return lines


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
                expect_rc: int):
        """Run ``args`` + a fresh destination against both daemons; compare exit codes,
        stdout, stderr and the session's log lines (once ``last_log`` has been logged)."""
        daemons = (pair.target, pair.upstream)
        results = []
        logs = []
        for which, d in zip(("target", "upstream"), daemons):
            dest = os.path.join(self.tmp, f"{dest_name}-{which}")
            mark = d.log_mark()
            res = h.run_against(d, list(args) + [dest])
            d.wait_for_log(last_log, since=mark, timeout=10)
            results.append(res)
            logs.append(_session_log(d, mark, daemons))
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


if __name__ == "__main__":
    h.main()
