# SPDX-License-Identifier: MIT
"""A client that closes its side while it sends its arguments, compared with upstream.

Upstream's read_args reads each argument with io.c:read_line, which stops at the end of
input as at a terminator: what it read of an argument becomes one more argument, the next
read finds nothing, and that ends the list. The session then goes on with those arguments
and meets the end of input again where it reads next. Checked, byte for byte after
"@RSYNCD: OK" (the 4-byte checksum seed blanked) and line for line in the daemon log:

- no arguments at all, on a read-only module: a bare list makes a receiver, so the
  session ends with "ERROR: module is read only" and exit code 1 in the log and in the
  multiplexed error frames, as a push to a read-only module does;
- no arguments, on a writable module: "receiving file list", then "connection unexpectedly
  closed (0 bytes received so far) [Receiver]" and code 12;
- a pull's list cut after its last argument (``--server --sender -r . m/`` then EOF), at
  protocol 32 (NUL-terminated) and 29 (LF-terminated): the sender's setup goes out, then
  the end of input while reading the filter list ends it with "connection unexpectedly
  closed ... [sender]", the "sent 0 bytes" totals and code 12.
"""

from __future__ import annotations

import os
import socket

import harness as h

SEED_LEN = 4


class ArgsEofTest(h.DaemonTestCase):

    def make_pair(self, read_only: bool) -> h.DaemonPair:
        root = os.path.join(self.tmp, "module")
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "f"), "w") as fh:
            fh.write("x\n")
        return self.start_pair(f"[m]\n    path = {root}\n    read only = {'yes' if read_only else 'no'}\n")

    def session(self, d: h.Daemon, greeting: str, args: bytes) -> bytes:
        with h.raw_connect(d) as c:
            lines = c.select_module("m", greeting)
            self.assertEqual(lines[-1], "@RSYNCD: OK", c.received)
            c.send(args)
            c.sock.shutdown(socket.SHUT_WR)  # the client is done sending
            return c.read_all(timeout=15)

    def compare(self, read_only: bool, greeting: str, args: bytes, last_log: str, seed_at: int,
                expect_in_log: str) -> None:
        pair = self.make_pair(read_only)
        daemons = (pair.target, pair.upstream)
        outs, logs = [], []
        for d in daemons:
            mark = d.log_mark()
            out = self.session(d, greeting, args)
            d.wait_for_log(last_log, since=mark, timeout=10)
            # The checksum seed is random; everything around it must match.
            outs.append(out[:seed_at] + b"<SEED>" + out[seed_at + SEED_LEN:])
            logs.append(h.session_log_lines(d, mark, daemons))
        self.assertEqual(outs[0], outs[1])
        self.assertEqual(logs[0], logs[1])
        self.assertTrue(any(expect_in_log in line for line in logs[1]),
                        f"EXPECTATION ERROR (upstream log): {logs[1]}")

    def test_no_arguments_on_read_only_module(self):
        self.compare(True, h.CLIENT_GREETING_32, b"", r"rsync error: syntax or usage error \(code 1\)",
                     1, "ERROR: module is read only")

    def test_no_arguments_on_writable_module(self):
        self.compare(False, h.CLIENT_GREETING_32, b"", r"rsync error: error in rsync protocol data stream",
                     1, "connection unexpectedly closed (0 bytes received so far) [Receiver]")

    def test_pull_list_without_terminator(self):
        self.compare(True, h.CLIENT_GREETING_32, b"--server\0--sender\0-r\0.\0m/",
                     r"rsync error: error in rsync protocol data stream", 1,
                     "connection unexpectedly closed (0 bytes received so far) [sender]")

    def test_pull_list_without_terminator_protocol_29(self):
        self.compare(True, "@RSYNCD: 29.0", b"--server\n--sender\n-r\n.\nm/",
                     r"rsync error: error in rsync protocol data stream", 0,
                     "connection unexpectedly closed (0 bytes received so far) [sender]")


if __name__ == "__main__":
    h.main()
