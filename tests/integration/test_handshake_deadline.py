# SPDX-License-Identifier: MIT
"""The handshake deadline: stalled connections are closed, silently, on time.

Behaviours checked:
- upstream 3.5.0's rule (both daemons): a global `timeout` of 1..60 s also bounds the
  pre-transfer handshake; a connection that sends nothing, one that sends its greeting and
  stalls, and one that stalls in the middle of its argument list are each closed about
  `timeout` seconds after they started waiting, with nothing sent beyond the normal lines;
- a module-level `timeout = 2` bounds the argument phase of that module even when the
  global timeout is unset (upstream re-arms the deadline with the module's value);
- ocrsyncd's `handshake timeout = 2` (global extension, no `timeout`) does the same for
  the three stalls.
"""

import os
import time
import unittest

import harness as h

DEADLINE = 2.0
SLACK = 1.5          # scheduling, second-granularity clocks, loaded CI machines
EARLY = 0.9          # closing much earlier than the deadline would be a bug too

GREETING = b"@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4\n"


class _StallChecks:
    """Shared checks; subclasses provide self.daemons (the daemons to run them against)."""

    daemons: list

    def open_stalls(self, daemon: h.Daemon, module: str = "mod"):
        """Open the three kinds of stalled connection; [(name, client, t0, expected bytes)]."""
        silent = h.raw_connect(daemon)
        t_silent = time.monotonic()
        greeted = h.raw_connect(daemon)
        greeted.handshake()
        t_greeted = time.monotonic()
        in_args = h.raw_connect(daemon)
        lines = in_args.select_module(module)
        self.assertEqual(lines[-1:], ["@RSYNCD: OK"], in_args.received)
        in_args.send(b"--server\0--sender\0-lo")   # no terminating NUL, no empty arg
        t_args = time.monotonic()
        return [("sends nothing", silent, t_silent, GREETING),
                ("greeting then stall", greeted, t_greeted, GREETING),
                ("stall inside argument list", in_args, t_args,
                 GREETING + b"@RSYNCD: OK\n")]

    def check_stalls_closed(self, daemons, module: str = "mod"):
        """Open all stalls on all ``daemons`` at once (their deadlines run concurrently)."""
        stalls = [(d, s) for d in daemons for s in self.open_stalls(d, module)]
        try:
            for daemon, (name, client, t0, expected) in stalls:
                with self.subTest(daemon=daemon.kind, port=daemon.port, stall=name):
                    left = t0 + DEADLINE + SLACK - time.monotonic()
                    closed, _ = client.wait_closed(max(left, 0.1))
                    elapsed = time.monotonic() - t0
                    self.assertTrue(closed, f"{name}: still open {elapsed:.2f}s after it "
                                            f"started stalling (deadline {DEADLINE}s)\n"
                                            f"{daemon.describe()}")
                    self.assertGreaterEqual(elapsed, EARLY,
                                            f"{name}: closed after only {elapsed:.2f}s")
                    self.assertEqual(client.received, expected,
                                     f"{name}: unexpected bytes before the close")
        finally:
            for _, (_, client, _, _) in stalls:
                client.close()


class TimeoutBoundsHandshakeTest(_StallChecks, unittest.TestCase):
    """upstream 3.5.0: `timeout` (1..60) bounds the handshake; run on target and upstream."""

    @classmethod
    def setUpClass(cls):
        base = h.make_temp_dir("ocr-deadline-")
        mod = h.make_tree(os.path.join(base, "tree"), {"file.txt": "x\n"})
        cls.pair = h.DaemonPair(f"timeout = {int(DEADLINE)}\n[mod]\n    path = {mod}\n")
        cls.addClassCleanup(cls.pair.stop)
        cls.module_pair = h.DaemonPair(
            f"[mod]\n    path = {mod}\n    timeout = {int(DEADLINE)}\n")
        cls.addClassCleanup(cls.module_pair.stop)

    def test_global_timeout_closes_stalled_handshakes(self):
        """Verifies that with `timeout = 2` each of the three stalled connections is closed
        within 2 s + slack (and not before ~1 s), on the target and on upstream."""
        self.check_stalls_closed([self.pair.target, self.pair.upstream])

    def test_module_timeout_bounds_argument_phase(self):
        """Verifies that a module's own `timeout = 2` closes a connection that stalls in
        that module's argument list (global timeout unset), like upstream."""
        clients = []
        try:
            for d in (self.module_pair.target, self.module_pair.upstream):
                c = h.raw_connect(d)
                clients.append((d, c))
                lines = c.select_module("mod")
                self.assertEqual(lines[-1:], ["@RSYNCD: OK"], c.received)
                c.send(b"--server\0")
                c.t0 = time.monotonic()
            for d, c in clients:
                closed, _ = c.wait_closed(max(c.t0 + DEADLINE + SLACK - time.monotonic(), 0.1))
                elapsed = time.monotonic() - c.t0
                self.assertTrue(closed, f"{d.kind}: argument stall not closed after "
                                        f"{elapsed:.2f}s\n{d.describe()}")
                self.assertGreaterEqual(elapsed, EARLY)
        finally:
            for _, c in clients:
                c.close()


@h.ocrsyncd_only
class HandshakeTimeoutExtensionTest(_StallChecks, unittest.TestCase):
    """ocrsyncd's `handshake timeout` global (not an upstream parameter)."""

    @classmethod
    def setUpClass(cls):
        base = h.make_temp_dir("ocr-deadline-ext-")
        mod = h.make_tree(os.path.join(base, "tree"), {"file.txt": "x\n"})
        cls.daemon = h.Daemon(h.TARGET, f"handshake timeout = {int(DEADLINE)}\n"
                                        f"[mod]\n    path = {mod}\n")
        cls.addClassCleanup(cls.daemon.stop)

    def test_handshake_timeout_closes_stalled_handshakes(self):
        """Verifies that with `handshake timeout = 2` (and no `timeout`) each of the three
        stalled connections is closed within 2 s + slack, silently."""
        self.check_stalls_closed([self.daemon])


if __name__ == "__main__":
    h.main()
