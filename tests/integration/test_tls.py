#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Native TLS (issue 5): the TLS port with the stock rsync-ssl client, refusals, client
certificates, "tls only", "plain listener = no" (a TLS-only daemon), logs, start-up checks
and reload of certificates."""

from __future__ import annotations

import os
import random
import resource
import socket
import ssl
import subprocess
import time
import unittest

import harness
from harness import DaemonTestCase, DaemonError, free_port, make_tree, write_file
from tls_ca import TestCA
from tls_client import files_equal_trees, read_line, require_tool, run_rsync_ssl, tls_connect

# One CA for the whole file: making keys is the slow part.
_CA: TestCA | None = None


def ca() -> TestCA:
    global _CA
    if _CA is None:
        _CA = TestCA()
    return _CA


def source_tree(root: str) -> str:
    rng = random.Random(5)
    return make_tree(root, {
        "small.txt": "hello over TLS\n",
        "dir/big.bin": bytes(rng.getrandbits(8) for _ in range(3 * 1024 * 1024 + 17)),
        "dir/sub/empty": "",
        "dir/sub/c.txt": "c\n" * 1000,
    })


class TlsBase(DaemonTestCase):
    ocrsyncd_only = True

    def tls_config(self, server, *, extra_globals: str = "", module_extra: str = "", src: str | None = None) -> str:
        self.tls_port = free_port()
        self.src = src or source_tree(os.path.join(self.tmp, "src"))
        return (f"tls port = {self.tls_port}\n"
                f"tls cert file = {server.cert}\n"
                f"tls key file = {server.key}\n"
                f"{extra_globals}\n"
                f"[tree]\n    path = {self.src}\n    read only = yes\n{module_extra}")

    def start_tls(self, server=None, **kwargs):
        server = server or ca().server()
        self.server_cert = server
        return self.start_daemon(self.tls_config(server, **kwargs))


class TlsTransferTest(TlsBase):
    """rsync-ssl (openssl and stunnel types) lists and pulls through the TLS port."""

    def check_list_and_pull(self, ssl_type: str) -> None:
        d = self.start_tls()
        rc, out, err = run_rsync_ssl(["rsync://localhost/"], ssl_type=ssl_type, port=self.tls_port, ca=ca().cert)
        self.assertEqual(rc, 0, err + d.describe())
        self.assertRegex(out, r"(?m)^tree\s")
        dst = os.path.join(self.tmp, "dst")
        rc, out, err = run_rsync_ssl(["-a", "rsync://localhost/tree/", dst + "/"], ssl_type=ssl_type,
                                     port=self.tls_port, ca=ca().cert)
        self.assertEqual(rc, 0, err + d.describe())
        self.assertEqual(files_equal_trees(self.src, dst), [])
        self.assertEqual(files_equal_trees(dst, self.src), [])

    # Verifies that rsync-ssl's openssl type lists and pulls with verification against the test CA.
    def test_openssl_type_lists_and_pulls(self) -> None:
        self.check_list_and_pull("openssl")

    # Verifies that rsync-ssl's stunnel type (RSYNC_SSL_CA_CERT) lists and pulls.
    def test_stunnel_type_lists_and_pulls(self) -> None:
        self.check_list_and_pull("stunnel")

    # Verifies that an RSA key with an intermediate CA in the cert file is served as a chain.
    def test_rsa_key_and_chain(self) -> None:
        inter = ca().intermediate("ocrsyncd test intermediate")
        leaf = inter.chain_issue("localhost", key="rsa", san=["DNS:localhost", "IP:127.0.0.1"], server=True)
        d = self.start_tls(leaf)
        dst = os.path.join(self.tmp, "dst")
        rc, _, err = run_rsync_ssl(["-a", "rsync://localhost/tree/", dst + "/"], ssl_type="openssl",
                                   port=self.tls_port, ca=ca().cert)
        self.assertEqual(rc, 0, err + d.describe())
        self.assertEqual(files_equal_trees(self.src, dst), [])

    def check_push(self, ssl_type: str) -> None:
        dest = os.path.join(self.tmp, "dest")
        os.mkdir(dest)
        d = self.start_tls(module_extra=f"[up]\n    path = {dest}\n    read only = no\n    uid = root\n    gid = root\n")
        src = source_tree(os.path.join(self.tmp, "pushsrc"))
        rc, _, err = run_rsync_ssl(["-a", src + "/", "rsync://localhost/up/"], ssl_type=ssl_type,
                                   port=self.tls_port, ca=ca().cert)
        self.assertEqual(rc, 0, err + d.describe())
        self.assertEqual(files_equal_trees(src, dest), [])
        self.assertEqual(files_equal_trees(dest, src), [])

    # Verifies that rsync-ssl's openssl type pushes through the TLS port.
    def test_openssl_type_pushes(self) -> None:
        self.check_push("openssl")

    # Verifies that rsync-ssl's stunnel type pushes through the TLS port.
    def test_stunnel_type_pushes(self) -> None:
        self.check_push("stunnel")


class TlsRefusalTest(TlsBase):
    """What must fail fails cleanly, and costs the daemon nothing."""

    def assert_still_serves(self, d) -> None:
        rc, out, err = run_rsync_ssl(["rsync://localhost/"], ssl_type="openssl", port=self.tls_port, ca=ca().cert)
        self.assertEqual(rc, 0, err + d.describe())

    # Verifies that a client trusting another CA refuses the server.
    def test_wrong_ca_fails_verification(self) -> None:
        d = self.start_tls()
        other = TestCA("another CA")
        rc, out, err = run_rsync_ssl(["rsync://localhost/"], ssl_type="openssl", port=self.tls_port, ca=other.cert)
        self.assertNotEqual(rc, 0)
        self.assertNotRegex(out, r"(?m)^tree\s")
        self.assertIn("verify", err.lower())
        self.assert_still_serves(d)

    # Verifies that plain rsync on the TLS port fails (no hang) and is logged.
    def test_plain_rsync_on_tls_port(self) -> None:
        d = self.start_tls()
        mark = d.log_mark()
        rc, out, err = harness.run_rsync([f"rsync://127.0.0.1:{self.tls_port}/"], timeout=30)
        self.assertNotEqual(rc, 0)
        self.assertNotRegex(out, r"(?m)^tree\s")
        d.wait_for_log(r"TLS handshake with 127\.0\.0\.1 failed: ", since=mark)
        self.assert_still_serves(d)

    # Verifies that TLS on the plain port fails cleanly.
    def test_tls_on_plain_port(self) -> None:
        d = self.start_tls()
        rc, out, err = run_rsync_ssl(["rsync://localhost/"], ssl_type="openssl", port=d.port, ca=ca().cert,
                                     timeout=60)
        self.assertNotEqual(rc, 0)
        self.assertNotRegex(out, r"(?m)^tree\s")
        self.assert_still_serves(d)

    # Verifies that TLS 1.1 is refused (openssl s_client -tls1_1) with the reason logged.
    def test_tls11_refused(self) -> None:
        d = self.start_tls()
        mark = d.log_mark()
        cp = subprocess.run([require_tool("openssl"), "s_client", "-tls1_1", "-connect",
                             f"127.0.0.1:{self.tls_port}", "-CAfile", ca().cert],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertNotEqual(cp.returncode, 0)
        self.assertNotIn(b"@RSYNCD:", cp.stdout)
        d.wait_for_log(r"TLS handshake with 127\.0\.0\.1 failed: .*(version|protocol)", since=mark)
        self.assert_still_serves(d)

    # Verifies that "tls min version = 1.3" refuses a TLS 1.2 client and admits 1.3.
    def test_min_version_13(self) -> None:
        self.start_tls(extra_globals="tls min version = 1.3")
        with self.assertRaises(ssl.SSLError):
            tls_connect(self.tls_port, ca().cert, maximum=ssl.TLSVersion.TLSv1_2).close()
        with tls_connect(self.tls_port, ca().cert) as s:
            self.assertEqual(s.version(), "TLSv1.3")
            self.assertTrue(read_line(s).startswith("@RSYNCD: "))

    # Verifies that garbage on the TLS port gets the connection closed at once.
    def test_garbage_is_closed(self) -> None:
        d = self.start_tls()
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10) as s:
            s.sendall(bytes(random.Random(9).getrandbits(8) for _ in range(4096)))
            t0 = time.monotonic()
            try:
                while s.recv(65536):
                    pass
            except ConnectionResetError:
                pass
            self.assertLess(time.monotonic() - t0, 5)
        self.assert_still_serves(d)

    # Verifies that a thousand stalled TLS handshakes delay a good client by less than 100 ms.
    def test_stalled_handshakes_do_not_delay(self) -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 2200:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        self.start_tls(extra_globals="handshake timeout = 60")

        def good_client() -> float:
            t0 = time.monotonic()
            with tls_connect(self.tls_port, ca().cert) as s:
                self.assertTrue(read_line(s).startswith("@RSYNCD: "))
            return time.monotonic() - t0

        def median(xs):
            return sorted(xs)[len(xs) // 2]

        for _ in range(3):
            good_client()  # warm up
        baseline = median([good_client() for _ in range(9)])
        stalled = []
        try:
            hello = None
            for i in range(1000):
                s = socket.create_connection(("127.0.0.1", self.tls_port), timeout=10)
                if i % 2 == 0:
                    # Half send the start of a TLS record and then nothing.
                    s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
                stalled.append(s)
            time.sleep(0.5)
            loaded = median([good_client() for _ in range(9)])
        finally:
            for s in stalled:
                s.close()
        self.assertLess(loaded - baseline, 0.100, f"baseline {baseline:.3f}s, with 1000 stalled {loaded:.3f}s")


class TlsClientCertTest(TlsBase):
    """tls verify client / tls ca file / tls user from / auth users."""

    def cert_config(self, verify: str, user_from: str = "cn", auth: str = "alice") -> str:
        secrets = write_file(os.path.join(self.tmp, "secrets"), "bob:pw\n", 0o600)
        return self.tls_config(ca().server(), extra_globals=(
            f"tls ca file = {ca().cert}\ntls verify client = {verify}\ntls user from = {user_from}\n"),
            module_extra=f"    auth users = {auth}\n    secrets file = {secrets}\n")

    # Verifies that with "require", a certificate from the test CA is let in as the CN's user,
    # with no password, and the log names the subject.
    def test_require_lets_cert_user_in(self) -> None:
        d = self.start_daemon(self.cert_config("require"))
        alice = ca().issue("alice", client=True)
        dst = os.path.join(self.tmp, "dst")
        mark = d.log_mark()
        rc, _, err = run_rsync_ssl(["-a", "rsync://alice@localhost/tree/", dst + "/"], ssl_type="openssl",
                                   port=self.tls_port, ca=ca().cert, cert=alice.cert, key=alice.key)
        self.assertEqual(rc, 0, err + d.describe())
        self.assertEqual(files_equal_trees(self.src, dst), [])
        d.wait_for_log(r"TLS session from .*: TLSv1\.[23] \S+, client certificate CN=alice", since=mark)
        d.wait_for_log(r"TLS client certificate of alice accepted for module tree", since=mark)

    # Verifies that no certificate, or one from another CA, is refused with "require".
    def test_require_refuses_missing_or_foreign_cert(self) -> None:
        d = self.start_daemon(self.cert_config("require"))
        rc, out, err = run_rsync_ssl(["rsync://localhost/"], ssl_type="openssl", port=self.tls_port, ca=ca().cert)
        self.assertNotEqual(rc, 0)
        self.assertNotRegex(out, r"(?m)^tree\s")
        foreign = TestCA("foreign CA").issue("alice", client=True)
        rc, out, err = run_rsync_ssl(["rsync://localhost/tree/"], ssl_type="openssl", port=self.tls_port,
                                     ca=ca().cert, cert=foreign.cert, key=foreign.key)
        self.assertNotEqual(rc, 0)
        self.assertNotIn("small.txt", out)
        self.assertIn("TLS handshake with 127.0.0.1 failed", d.log_text())

    # Verifies that a certificate user the auth users rules do not list is refused.
    def test_cert_user_not_in_auth_users(self) -> None:
        d = self.start_daemon(self.cert_config("require"))
        mallory = ca().issue("mallory", client=True)
        rc, out, err = run_rsync_ssl(["rsync://localhost/tree/"], ssl_type="openssl", port=self.tls_port,
                                     ca=ca().cert, cert=mallory.cert, key=mallory.key)
        self.assertNotEqual(rc, 0)
        self.assertIn("@ERROR: auth failed on module tree", err)
        self.assertIn("for mallory (TLS client certificate): no matching rule", d.log_text())

    # Verifies "tls user from = san-email" and "optional" without a certificate (password asked).
    def test_san_email_and_optional(self) -> None:
        d = self.start_daemon(self.cert_config("optional", "san-email", auth="carol@example.org, bob"))
        carol = ca().issue("Carol", client=True, san=["email:carol@example.org"])
        rc, out, err = run_rsync_ssl(["rsync://localhost/tree/"], ssl_type="openssl", port=self.tls_port,
                                     ca=ca().cert, cert=carol.cert, key=carol.key)
        self.assertEqual(rc, 0, err + d.describe())
        self.assertIn("small.txt", out)
        # No certificate: the password path still works.
        rc, out, err = run_rsync_ssl(["rsync://bob@localhost/tree/"], ssl_type="openssl", port=self.tls_port,
                                     ca=ca().cert, password="pw")
        self.assertEqual(rc, 0, err + d.describe())
        self.assertIn("small.txt", out)
        rc, out, err = run_rsync_ssl(["rsync://bob@localhost/tree/"], ssl_type="openssl", port=self.tls_port,
                                     ca=ca().cert, password="wrong")
        self.assertNotEqual(rc, 0)
        self.assertIn("@ERROR: auth failed on module tree", err)


class TlsOnlyTest(TlsBase):
    """tls only = yes."""

    # Verifies that a "tls only" module refuses plain clients with upstream-style @ERROR and admits TLS ones.
    def test_tls_only(self) -> None:
        d = self.start_tls(module_extra="    tls only = yes\n")
        rc, out, err = harness.run_rsync([harness.rsync_url(d, "tree/")])
        self.assertNotEqual(rc, 0)
        self.assertIn("@ERROR: module tree requires TLS", err)
        rc, out, err = run_rsync_ssl(["rsync://localhost/tree/"], ssl_type="openssl", port=self.tls_port, ca=ca().cert)
        self.assertEqual(rc, 0, err + d.describe())
        self.assertIn("small.txt", out)


class TlsListenerDaemon(harness.Daemon):
    """A daemon told ``--port=PLAIN`` but waited for on its TLS port (``self.port``): with
    "plain listener = no" nothing ever listens on PLAIN, which the harness would wait for."""

    def __init__(self, config_text: str, *, plain_port: int, tls_port: int, **kwargs):
        self.plain_port = plain_port  # command() needs it while the base class starts us
        super().__init__(harness.TARGET, config_text, port=tls_port, **kwargs)

    def command(self) -> list[str]:
        return [f"--port={self.plain_port}" if a == f"--port={self.port}" else a for a in super().command()]


class TlsPlainListenerTest(TlsBase):
    """plain listener = no: only the TLS port is opened."""

    def start_tls_only(self, *, module_extra: str = "") -> TlsListenerDaemon:
        self.plain_port = free_port()
        cfg = self.tls_config(ca().server(), extra_globals="plain listener = no", module_extra=module_extra)
        d = TlsListenerDaemon(cfg, plain_port=self.plain_port, tls_port=self.tls_port)
        self.addCleanup(d.stop)
        return d

    # Verifies that the plain port is not opened: the stock client gets "Connection refused"
    # and exit 10 as from any closed port, and the start-up line names only the TLS port.
    def test_plain_port_refuses_connections(self) -> None:
        d = self.start_tls_only()
        self.assertFalse(harness.port_listened_by(self.plain_port, d.processes()))
        rc, out, err = harness.run_rsync([f"rsync://127.0.0.1:{self.plain_port}/"], timeout=30)
        self.assertEqual(rc, 10, err)
        self.assertEqual(out, "")
        self.assertIn("rsync: [Receiver] failed to connect to 127.0.0.1 (127.0.0.1): Connection refused (111)",
                      err)
        self.assertRegex(err, r"rsync error: error in socket IO \(code 10\) at clientserver\.c\(\d+\)")
        d.wait_for_log(rf"starting, listening on TLS port {self.tls_port} only \(127\.0\.0\.1:{self.tls_port} "
                       r"\(TLS\)\)$")
        self.assertNotIn(f"listening on port {self.plain_port}", d.log_text())
        self.assertNotIn(f":{self.plain_port}", d.log_text())

    # Verifies that rsync-ssl lists, pulls and pushes on the TLS port of a TLS-only daemon.
    def test_rsync_ssl_lists_pulls_and_pushes(self) -> None:
        dest = os.path.join(self.tmp, "dest")
        os.mkdir(dest)
        d = self.start_tls_only(
            module_extra=f"[up]\n    path = {dest}\n    read only = no\n    uid = root\n    gid = root\n")
        rc, out, err = run_rsync_ssl(["rsync://localhost/"], ssl_type="openssl", port=self.tls_port, ca=ca().cert)
        self.assertEqual(rc, 0, err + d.describe())
        self.assertRegex(out, r"(?m)^tree\s")
        dst = os.path.join(self.tmp, "dst")
        rc, _, err = run_rsync_ssl(["-a", "rsync://localhost/tree/", dst + "/"], ssl_type="openssl",
                                   port=self.tls_port, ca=ca().cert)
        self.assertEqual(rc, 0, err + d.describe())
        self.assertEqual(files_equal_trees(self.src, dst), [])
        self.assertEqual(files_equal_trees(dst, self.src), [])
        src = source_tree(os.path.join(self.tmp, "pushsrc"))
        rc, _, err = run_rsync_ssl(["-a", src + "/", "rsync://localhost/up/"], ssl_type="openssl",
                                   port=self.tls_port, ca=ca().cert)
        self.assertEqual(rc, 0, err + d.describe())
        self.assertEqual(files_equal_trees(src, dest), [])
        self.assertEqual(files_equal_trees(dest, src), [])

    # Verifies that "plain listener = no" without "tls cert file" refuses to start with exit
    # code 1 and one line on stderr, and that --check-config reports the same at its line.
    def test_refused_without_certificate(self) -> None:
        src = source_tree(os.path.join(self.tmp, "src"))
        d = self.start_daemon(f"plain listener = no\n[tree]\n    path = {src}\n", start=False)
        with self.assertRaises(DaemonError):
            d.start()
        self.assertEqual(d.returncode, 1, d.describe())
        with open(d.config_path) as fh:
            line = fh.read().splitlines().index("plain listener = no") + 1
        message = (f"{d.config_path}:{line}: \"plain listener\" is off but \"tls cert file\" is not set, "
                   "so there is no port to listen on")
        self.assertEqual(d.stderr_text(), f"refusing to start: {message}\n")
        cp = subprocess.run([harness.ocrsyncd_path(), "--check-config", f"--config={d.config_path}"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(cp.returncode, 1)
        self.assertIn(message + "\n", cp.stderr.decode())

    # Verifies that a reload switching "plain listener" off keeps the plain port open, as a
    # reload keeps the old "port": sockets are opened at start only.
    def test_reload_keeps_sockets(self) -> None:
        d = self.start_tls()
        tls_port = self.tls_port
        new_config = self.tls_config(self.server_cert, extra_globals="plain listener = no", src=self.src)
        new_config = new_config.replace(f"tls port = {self.tls_port}", f"tls port = {tls_port}")
        self.tls_port = tls_port
        mark = d.log_mark()
        d.reload(new_config)
        d.wait_for_log(r"configuration reloaded", since=mark)
        rc, out, err = harness.run_rsync([harness.rsync_url(d)], timeout=30)
        self.assertEqual(rc, 0, err + d.describe())
        self.assertRegex(out, r"(?m)^tree\s")
        rc, out, err = run_rsync_ssl(["rsync://localhost/"], ssl_type="openssl", port=self.tls_port, ca=ca().cert)
        self.assertEqual(rc, 0, err + d.describe())
        self.assertRegex(out, r"(?m)^tree\s")


class TlsStartupTest(TlsBase):
    """Start-up refuses unusable certificates and keys; reload swaps them."""

    def expect_refusal(self, server, pattern: str, key_path: str | None = None) -> None:
        cfg = self.tls_config(server)
        if key_path is not None:
            cfg = cfg.replace(f"tls key file = {server.key}", f"tls key file = {key_path}")
        with self.assertRaises(DaemonError) as cm:
            self.start_daemon(cfg)
        self.assertRegex(str(cm.exception), pattern)

    # Verifies that a missing certificate file is refused at start with a message naming it.
    def test_missing_cert(self) -> None:
        s = ca().server()
        os.unlink(s.cert)
        self.expect_refusal(s, r"tls cert file .*: No such file or directory")

    # Verifies that a key that does not match the certificate is refused.
    def test_mismatched_key(self) -> None:
        s = ca().server()
        other = ca().server()
        self.expect_refusal(s, r"key .*(does not match|mismatch)", key_path=other.key)

    # Verifies that an unreadable key file is refused.
    def test_unreadable_key(self) -> None:
        if harness.running_as_root():
            # root reads any file: make it a directory instead.
            s = ca().server()
            self.expect_refusal(s, r"tls key file", key_path=self.tmp)
            return
        s = ca().server()
        os.chmod(s.key, 0)
        self.expect_refusal(s, r"tls key file .*Permission denied")

    # Verifies that an expired certificate is refused.
    def test_expired_cert(self) -> None:
        s = ca().issue("localhost", server=True, start="20200101000000Z", end="20200201000000Z")
        self.expect_refusal(s, r"certificate expired")

    # Verifies that a certificate expiring within 14 days is warned about at start.
    def test_expiry_warning(self) -> None:
        s = ca().server(days=5)
        d = self.start_tls(s)
        d.wait_for_log(r"certificate expires on .*within 14 days")

    # Verifies that SIGHUP reloads the certificate: new connections get the new one, a live
    # session keeps working.
    def test_reload_swaps_certificate(self) -> None:
        first = ca().server()
        d = self.start_tls(first)
        live = tls_connect(self.tls_port, ca().cert)
        self.assertTrue(read_line(live).startswith("@RSYNCD: "))
        serial_before = live.getpeercert()["serialNumber"]
        second = ca().server()
        mark = d.log_mark()
        with open(first.cert, "w") as out, open(second.cert) as src:
            out.write(src.read())
        with open(first.key, "w") as out, open(second.key) as src:
            out.write(src.read())
        d.send_signal(__import__("signal").SIGHUP)
        d.wait_for_log(r"TLS certificate and key reloaded", since=mark)
        with tls_connect(self.tls_port, ca().cert) as s:
            self.assertNotEqual(s.getpeercert()["serialNumber"], serial_before)
        # The live session still talks.
        live.sendall((harness.CLIENT_GREETING_32 + "\n\n").encode())
        rest = b""
        while b"@RSYNCD: EXIT" not in rest:
            chunk = live.recv(4096)
            if not chunk:
                break
            rest += chunk
        self.assertIn(b"tree", rest)
        live.close()


if __name__ == "__main__":
    harness.main()
