# SPDX-License-Identifier: MIT
"""The daemon's "socket options" and --sockopts, compared with upstream's daemon.

Upstream's socket.c:set_socket_options knows a fixed table of options; it sets each one it
knows (an integer option without "=N" gets 1, IPTOS_LOWDELAY/IPTOS_THROUGHPUT set the
IP_TOS field and take no value) and logs "Unknown socket option NAME" or "syntax error --
NAME does not take a value" for the others, once, when it opens its listening socket.
Checked against upstream, for the config's "socket options" and for --sockopts (which
replaces it):

- the TOS of the connections the daemon accepts (read with ``ss --tos``): IPTOS_LOWDELAY
  gives 0x10, and of two TOS options the later one wins;
- the complaint lines in the log, each exactly once after two connections.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import harness as h

OPTIONS = "IPTOS_LOWDELAY, SO_SNDBUF, BOGUS=3 SO_KEEPALIVE"
LATER_WINS = "IPTOS_LOWDELAY IPTOS_THROUGHPUT=1"
COMPLAINT = re.compile(r"(Unknown socket option|syntax error --|failed to set socket option)")


def server_tos(port: int) -> list[str]:
    """The TOS of each established connection whose local port is ``port``."""
    ss = shutil.which("ss")
    if not ss:
        raise AssertionError("ss (iproute2) is missing: scripts/install-deps installs it")
    out = subprocess.run([ss, "-tnH", "--tos", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    return re.findall(r"\btos:(0x[0-9a-f]+)", out)


class SocketOptionsTest(h.DaemonTestCase):

    def observe(self, config_line: str, extra_args: list[str]) -> list[tuple[list[str], list[str]]]:
        module = h.make_tree(self.tmp + "/tree", {"f": "x\n"})
        text = config_line + f"[m]\n    path = {module}\n"
        seen = []
        for kind in (h.TARGET, h.UPSTREAM_KIND):
            d = self.start_daemon(text, kind=kind, extra_args=extra_args)
            tos = []
            for _ in range(2):
                with h.raw_connect(d) as c:
                    c.read_greeting()
                    tos += server_tos(d.port)
            rc, out, err = h.run_rsync([d.url("")])
            self.assertEqual(rc, 0, err)
            complaints = [line for line in h.session_log_lines(d, 0, [d]) if COMPLAINT.search(line)]
            seen.append((tos, complaints))
        self.assertEqual(seen[0], seen[1])
        return seen[1]

    def test_config_socket_options(self):
        tos, complaints = self.observe(f"socket options = {OPTIONS}\n", [])
        self.assertEqual(tos, ["0x10", "0x10"], f"EXPECTATION ERROR (upstream): {tos}")
        self.assertEqual(complaints, ["Unknown socket option BOGUS"], f"EXPECTATION ERROR (upstream): {complaints}")

    def test_sockopts_replaces_the_config(self):
        tos, complaints = self.observe("socket options = IPTOS_LOWDELAY\n", [f"--sockopts={LATER_WINS}"])
        self.assertEqual(tos, ["0x8", "0x8"], f"EXPECTATION ERROR (upstream): {tos}")
        self.assertEqual(complaints, ["syntax error -- IPTOS_THROUGHPUT does not take a value"],
                         f"EXPECTATION ERROR (upstream): {complaints}")


if __name__ == "__main__":
    h.main()
