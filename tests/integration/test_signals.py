# SPDX-License-Identifier: MIT
"""Signals and config reload: SIGHUP, SIGTERM, the pid file.

What upstream does (checked on rsync 3.5.0): the daemon re-reads rsyncd.conf for every new
connection, so an edited file applies without any signal; SIGHUP *terminates* it (exit 20,
main.c routes SIGHUP to the same handler as SIGINT); SIGTERM makes it exit 0 and remove its
pid file, and connections already accepted finish on their own.
ocrsyncd reloads on SIGHUP instead. So `Daemon.reload()` sends SIGHUP only to ocrsyncd.

Behaviours checked:
- (both) a reloaded config with a changed module comment shows in the next listing;
- (both) the pid file holds the daemon's pid; SIGTERM -> exit status 0, pid file removed,
  new connections are no longer served, and a connection accepted before the signal still
  completes its listing;
- (ocrsyncd only) SIGHUP does not stop the daemon; a broken config on SIGHUP keeps the old
  config serving and the log says why; a later good config is picked up.
"""

import os
import signal
import socket
import time

import harness as h


def module_config(mod: str, comment: str, extra_module: str = "") -> str:
    cfg = f"[mod]\n    path = {mod}\n    comment = {comment}\n"
    if extra_module:
        cfg += f"[{extra_module}]\n    path = {mod}\n"
    return cfg


def listing(daemon: h.Daemon) -> str:
    rc, out, err = h.run_rsync([daemon.url()])
    if rc != 0:
        raise AssertionError(f"listing failed rc={rc}: {err}\n{daemon.describe()}")
    return out


class ReloadTest(h.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.mod = h.make_tree(os.path.join(self.tmp, "tree"), {"f": "x\n"})

    def test_reload_shows_new_comment(self):
        """Verifies that after a reload (SIGHUP for ocrsyncd, just the rewritten file for
        upstream) the listing shows the changed comment and a newly added module."""
        d = self.start_daemon(module_config(self.mod, "before reload"))
        self.assertIn("mod            \tbefore reload\n", listing(d))
        d.reload(module_config(self.mod, "after reload", extra_module="added"))
        h.eventually(lambda: "mod            \tafter reload\n" in listing(d), timeout=5,
                     message=lambda: "listing did not show the reloaded comment\n" + d.describe())
        self.assertIn("added          \t\n", listing(d))
        self.assertTrue(d.running(), "daemon stopped after the reload")

    @h.ocrsyncd_only
    def test_sighup_keeps_running(self):
        """Verifies that SIGHUP with an unchanged config leaves the daemon running and
        serving (upstream would exit 20 instead)."""
        d = self.start_daemon(module_config(self.mod, "steady"))
        d.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        self.assertTrue(d.running(), f"daemon exited on SIGHUP\n{d.describe()}")
        self.assertIn("mod            \tsteady\n", listing(d))

    @h.ocrsyncd_only
    def test_broken_config_on_sighup_keeps_old(self):
        """Verifies that SIGHUP with a broken config (an unterminated section header) keeps
        the old config serving, logs a line about the failed reload, and that a following
        good config is picked up."""
        d = self.start_daemon(module_config(self.mod, "old and good"))
        mark = d.log_mark()
        d.reload(module_config(self.mod, "never shown") + "[broken\n    path = /nonexistent\n")
        # Loose on wording: the line must at least mention the config, or reloading.
        d.wait_for_log(r"(?i)(rsyncd\.conf|config|reload)", timeout=5, since=mark)
        self.assertTrue(d.running(), f"daemon exited after a broken reload\n{d.describe()}")
        out = listing(d)
        self.assertIn("mod            \told and good\n", out)
        self.assertNotIn("never shown", out)
        d.reload(module_config(self.mod, "fixed again"))
        h.eventually(lambda: "mod            \tfixed again\n" in listing(d), timeout=5,
                     message=lambda: "a good config after a broken one was not picked up\n"
                             + d.describe())


class SigtermTest(h.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.mod = h.make_tree(os.path.join(self.tmp, "tree"), {"f": "x\n"})

    def test_pid_file_written_and_removed(self):
        """Verifies that the pid file holds the daemon's pid, and that SIGTERM makes the
        daemon exit with status 0 and remove the pid file."""
        d = self.start_daemon(module_config(self.mod, "c"))
        h.eventually(lambda: os.path.exists(d.pid_path), timeout=5,
                     message=lambda: "pid file not written\n" + d.describe())
        with open(d.pid_path) as fh:
            self.assertEqual(int(fh.read().strip()), d.pid)
        d.send_signal(signal.SIGTERM)
        rc = d.wait(10)
        self.assertIsNotNone(rc, f"daemon did not exit within 10s of SIGTERM\n{d.describe()}")
        self.assertEqual(rc, 0, d.describe())
        self.assertFalse(os.path.exists(d.pid_path), "pid file left behind")

    def test_sigterm_stops_accepting_and_lets_connection_finish(self):
        """Verifies that after SIGTERM new connections are not served, a connection accepted
        before the signal still completes its listing, and the daemon exits 0."""
        d = self.start_daemon(module_config(self.mod, "draining"))
        inflight = h.raw_connect(d)
        self.addCleanup(inflight.close)
        inflight.handshake()
        d.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        try:
            late = socket.create_connection(("127.0.0.1", d.port), timeout=1)
        except OSError:
            late = None  # refused: the listener is gone
        if late is not None:
            with late:
                late.settimeout(1)
                try:
                    data = late.recv(100)
                except (socket.timeout, ConnectionResetError):
                    data = b""
            self.assertNotIn(b"@RSYNCD", data, "a connection made after SIGTERM was served")
        inflight.send_line("#list")
        self.assertEqual(inflight.read_all(timeout=10).decode(),
                         "mod            \tdraining\n@RSYNCD: EXIT\n")
        rc = d.wait(10)
        self.assertEqual(rc, 0, d.describe())
        self.assertFalse(os.path.exists(d.pid_path), "pid file left behind")


if __name__ == "__main__":
    h.main()
