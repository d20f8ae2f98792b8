#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""PROXY protocol v1/v2 from a real HAProxy in front of the daemon (issue 5): the client's
address reaches "hosts allow", the log and %a; peers outside "proxy protocol hosts" are refused."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import harness
from harness import DaemonTestCase, free_port, make_tree, ocrsyncd_only, write_file
from tls_client import require_tool, run_rsync_ssl


class HAProxy:
    """haproxy -db in TCP mode: 127.0.0.1:front -> 127.0.0.1:back with send-proxy[-v2]."""

    def __init__(self, workdir: str, back_port: int, mode: str, source: str = ""):
        self.port = free_port()
        cfg = write_file(os.path.join(workdir, f"haproxy-{self.port}.cfg"), f"""
global
    maxconn 200
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
listen rsync
    bind 127.0.0.1:{self.port}
    server daemon 127.0.0.1:{back_port} {mode}{" source " + source if source else ""}
""")
        self.log = open(os.path.join(workdir, f"haproxy-{self.port}.log"), "wb")
        self.proc = subprocess.Popen([require_tool("haproxy"), "-db", "-f", cfg], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise AssertionError(f"haproxy did not start on {self.port}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class ProxyProtocolTest(DaemonTestCase):

    def config(self, trusted: str, extra_globals: str = "") -> str:
        self.src = make_tree(os.path.join(self.tmp, "src"), {"a.txt": "via haproxy\n"})
        return (f"proxy protocol = yes\nproxy protocol hosts = {trusted}\nreverse lookup = no\n{extra_globals}\n"
                f"[tree]\n    path = {self.src}\n    read only = yes\n    hosts allow = 127.0.0.2\n"
                f"    transfer logging = yes\n    log format = seen %a %h %m\n")

    def haproxy(self, back_port: int, mode: str, source: str = "") -> HAProxy:
        hp = HAProxy(self.tmp, back_port, mode, source)
        self.addCleanup(hp.stop)
        return hp

    def through(self, hp: HAProxy, source: str, path: str) -> tuple[int, str, str]:
        return harness.run_rsync([f"--address={source}", f"rsync://127.0.0.1:{hp.port}/{path}"], timeout=60)

    def check_mode(self, mode: str) -> None:
        d = self.start_daemon(self.config("127.0.0.1"))
        hp = self.haproxy(d.port, mode)
        rc, out, err = self.through(hp, "127.0.0.2", "tree/")
        self.assertEqual(rc, 0, err + d.describe())
        self.assertIn("a.txt", out)
        d.wait_for_log(r"connect from \S+ \(127\.0\.0\.2\)")
        # %a and %h of the transfer log come from the header too.
        dst = os.path.join(self.tmp, "dst")
        rc, out, err = harness.run_rsync(["--address=127.0.0.2", "-a", f"rsync://127.0.0.1:{hp.port}/tree/",
                                          dst + "/"], timeout=60)
        self.assertEqual(rc, 0, err + d.describe())
        d.wait_for_log(r"seen 127\.0\.0\.2 UNDETERMINED tree")
        # Another client address behind the same proxy is held to "hosts allow".
        rc, out, err = self.through(hp, "127.0.0.3", "tree/")
        self.assertNotEqual(rc, 0)
        self.assertIn("@ERROR: access denied to tree from UNDETERMINED (127.0.0.3)", err)

    # Verifies that HAProxy's send-proxy (v1) header feeds hosts allow, the log and %a.
    def test_haproxy_v1(self) -> None:
        self.check_mode("send-proxy")

    # Verifies that HAProxy's send-proxy-v2 header feeds hosts allow, the log and %a.
    def test_haproxy_v2(self) -> None:
        self.check_mode("send-proxy-v2")

    # Verifies that a proxy outside "proxy protocol hosts" is refused and logged as upstream does.
    def test_untrusted_proxy_refused(self) -> None:
        d = self.start_daemon(self.config("10.9.9.9"))
        hp = self.haproxy(d.port, "send-proxy-v2")
        rc, out, err = self.through(hp, "127.0.0.2", "")
        self.assertNotEqual(rc, 0)
        self.assertNotIn("tree", out)
        d.wait_for_log(r"proxy protocol rejected from untrusted peer UNDETERMINED \(127\.0\.0\.1\)")

    # Verifies that a trusted peer without a header (plain rsync straight to the daemon) is refused.
    def test_missing_header_refused(self) -> None:
        d = self.start_daemon(self.config("127.0.0.1"))
        rc, out, err = harness.run_rsync([harness.rsync_url(d, "")], timeout=30)
        self.assertNotEqual(rc, 0)
        self.assertNotIn("tree", out)

    # Verifies that the PROXY header comes before TLS: HAProxy send-proxy-v2 in front of the TLS port.
    @ocrsyncd_only
    def test_haproxy_v2_before_tls(self) -> None:
        from tls_ca import TestCA
        ca = TestCA()
        server = ca.server()
        tls_port = free_port()
        # HAProxy connects from 127.0.0.5, rsync-ssl from 127.0.0.1.
        d = self.start_daemon(self.config("127.0.0.5", extra_globals=(
            f"tls port = {tls_port}\ntls cert file = {server.cert}\ntls key file = {server.key}\n")))
        hp = self.haproxy(tls_port, "send-proxy-v2", source="127.0.0.5")
        rc, out, err = run_rsync_ssl(["rsync://localhost/tree/"], ssl_type="openssl", port=hp.port, ca=ca.cert)
        # "hosts allow = 127.0.0.2" refuses the header's 127.0.0.1 (not the proxy's 127.0.0.5),
        # and the refusal arrived over TLS, so the header was read before the TLS handshake.
        self.assertNotEqual(rc, 0)
        self.assertIn("@ERROR: access denied to tree from UNDETERMINED (127.0.0.1)", err)
        d.wait_for_log(r"TLS session from UNDETERMINED \(127\.0\.0\.1\): TLSv1\.3")


if __name__ == "__main__":
    harness.main()
