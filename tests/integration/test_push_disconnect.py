# SPDX-License-Identifier: MIT
"""A push whose client goes away before it has sent its file list, compared with
upstream's daemon.

A hand-made client selects a writable module, sends a push's arguments (no
``--sender``) and closes. Upstream's receiving daemon is then still the one process that
set the session up and reads the first file list: its who_am_i() is "Receiver" (the
"receiver" name belongs to the child it forks later), so its log has ``rsync: connection
unexpectedly closed (0 bytes received so far) [Receiver]`` and the ``rsync error: error
in rsync protocol data stream (code 12)`` line. Checked at protocols 27, 30 and 31: the
session's log lines equal upstream's, in order.
"""

import os
import socket
import time
import unittest

import harness as h

ARGS = {
    27: ("@RSYNCD: 27.0", b"--server\n-vlogDtpr\n.\nw/\n\n"),
    30: ("@RSYNCD: 30.0", b"--server\0-vlogDtpr\0.\0w/\0\0"),
    31: ("@RSYNCD: 31.0 md5", b"--server\0-vlogDtpre.iLsfxC\0.\0w/\0\0"),
}


class PushDisconnectTest(h.DaemonTestCase):
    """The client closes where the daemon waits for the file list."""

    def session_log(self, daemon: h.Daemon, greeting: str, args: bytes, daemons) -> list[str]:
        mark = daemon.log_mark()
        client = h.raw_connect(daemon)
        try:
            self.assertEqual(client.select_module("w", greeting)[-1:], ["@RSYNCD: OK"], client.received)
            client.send(args)
            # Take what the daemon sends (its setup: compat flags, seed) so that the close
            # is an orderly end of stream, not a reset.
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                try:
                    if not client._fill(0.1):
                        break
                except socket.timeout:
                    pass
        finally:
            client.close()
        daemon.wait_for_log(r"rsync error: ", since=mark, timeout=10)
        return h.session_log_lines(daemon, mark, daemons)

    def test_close_before_file_list(self):
        """Verifies the log lines of the session at protocols 27, 30 and 31."""
        root = os.path.join(self.tmp, "module")
        os.makedirs(root)
        pair = self.start_pair(f"[w]\n    path = {root}\n    read only = no\n")
        daemons = (pair.target, pair.upstream)
        for proto, (greeting, args) in ARGS.items():
            with self.subTest(protocol=proto):
                logs = [self.session_log(d, greeting, args, daemons) for d in daemons]
                self.assertIn("rsync: connection unexpectedly closed (0 bytes received so far) [Receiver]",
                              logs[1], "EXPECTATION ERROR (upstream)")
                self.assertEqual(logs[0], logs[1])


if __name__ == "__main__":
    h.main()
