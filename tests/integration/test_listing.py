# SPDX-License-Identifier: MIT
"""Module listing: what a client sees for `rsync rsync://HOST:PORT/` and for raw `#list`.

Behaviours checked (each against upstream's daemon with the same config):
- the listing shows the motd, then one `%-15s\\t%s` line per listed module, in config order;
- modules with `list = no` are hidden;
- a module with an empty comment, short names (padded) and names longer than 15 characters;
- the same listing for client protocols 27..32;
- a config without a motd;
- a raw `#list` (and empty-line) request gets the listing followed by `@RSYNCD: EXIT`, and the
  daemon closes the connection after it; a protocol-24 client gets no `@RSYNCD: EXIT`;
- greeting errors (`protocol startup error`, omitted sub-protocol, omitted digest list,
  unknown `#command`) are byte-identical to upstream.
"""

import os
import unittest

import harness as h

MOTD = "Welcome to the test mirror.\nSecond motd line.\n"


def listing_config(base: str, with_motd: bool) -> str:
    mod = h.make_tree(os.path.join(base, "tree"), {"file.txt": "hello\n"})
    motd = ""
    if with_motd:
        motd = f"motd file = {h.write_file(os.path.join(base, 'motd'), MOTD)}\n"
    return f"""{motd}
[pub]
    path = {mod}
    comment = Public files
[hidden]
    path = {mod}
    comment = You cannot see me
    list = no
[a]
    path = {mod}
    comment = single-letter name
[averyveryverylongmodulename]
    path = {mod}
    comment = name longer than fifteen
[exactly15chars_]
    path = {mod}
    comment = padding boundary
[nocomment]
    path = {mod}
[spaced]
    path = {mod}
    comment =   leading and trailing spaces are trimmed   
"""


EXPECTED_MODULE_LINES = (
    "pub            \tPublic files\n"
    "a              \tsingle-letter name\n"
    "averyveryverylongmodulename\tname longer than fifteen\n"
    "exactly15chars_\tpadding boundary\n"
    "nocomment      \t\n"
    "spaced         \tleading and trailing spaces are trimmed\n"
)


class ListingWithMotdTest(unittest.TestCase):
    """One target daemon and one upstream daemon, shared by the tests of this class."""

    @classmethod
    def setUpClass(cls):
        base = h.make_temp_dir("ocr-listing-")
        cls.pair = h.DaemonPair(listing_config(base, with_motd=True))
        cls.addClassCleanup(cls.pair.stop)
        cls.daemon = cls.pair.target

    def test_listing_matches_upstream(self):
        """Verifies that the client's listing output (motd, module lines) and exit code are
        identical to upstream's and have the expected exact shape."""
        cmp = self.pair.run(["{url}/"])
        h.assert_same_as_upstream(self, cmp)
        self.assertEqual(cmp.target.returncode, 0, str(cmp.target))
        self.assertEqual(cmp.target.stdout, MOTD + "\n" + EXPECTED_MODULE_LINES, str(cmp.target))
        self.assertEqual(cmp.target.stderr, "")

    def test_hidden_module_not_listed(self):
        """Verifies that a module with `list = no` does not appear in the listing."""
        rc, out, err = h.run_rsync([self.daemon.url()])
        self.assertEqual(rc, 0, err)
        self.assertNotIn("hidden", out)
        self.assertNotIn("You cannot see me", out)

    def test_listing_for_each_client_protocol(self):
        """Verifies that clients forced to protocols 27..32 get the same listing as from
        upstream, and the same exact module lines."""
        for proto in range(27, 33):
            with self.subTest(protocol=proto):
                cmp = self.pair.run([f"--protocol={proto}", "{url}/"])
                h.assert_same_as_upstream(self, cmp)
                self.assertEqual(cmp.target.returncode, 0, str(cmp.target))
                self.assertTrue(cmp.target.stdout.endswith(EXPECTED_MODULE_LINES),
                                str(cmp.target))

    def test_raw_list_request(self):
        """Verifies that a raw `#list` request gets greeting, motd, blank line, module lines and
        `@RSYNCD: EXIT`, byte-for-byte as upstream sends them, and that the daemon closes."""
        transcripts = []
        for d in (self.pair.target, self.pair.upstream):
            with h.raw_connect(d) as c:
                c.send_line(h.CLIENT_GREETING_32)
                c.send_line("#list")
                c.read_all(timeout=10)
                transcripts.append(c.received)
        self.assertEqual(transcripts[0], transcripts[1])
        expected = ("@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4\n" + MOTD + "\n"
                    + EXPECTED_MODULE_LINES + "@RSYNCD: EXIT\n").encode()
        self.assertEqual(transcripts[0], expected)

    def test_empty_line_request_lists_too(self):
        """Verifies that an empty module line is a listing request, like `#list`."""
        with h.raw_connect(self.daemon) as c:
            c.handshake()
            c.send_line("")
            rest = c.read_all(timeout=10).decode()
        self.assertEqual(rest, MOTD + "\n" + EXPECTED_MODULE_LINES + "@RSYNCD: EXIT\n")

    def test_exit_line_terminates_connection(self):
        """Verifies that after `@RSYNCD: EXIT` the daemon closes the connection promptly and
        the daemon logs the module-list request."""
        mark = self.daemon.log_mark()
        with h.raw_connect(self.daemon) as c:
            c.handshake()
            c.send_line("#list")
            lines = c.read_lines_until(lambda l: l == "@RSYNCD: EXIT", timeout=10)
            self.assertEqual(lines[-1], "@RSYNCD: EXIT", c.received)
            closed, waited = c.wait_closed(5)
            self.assertTrue(closed, f"connection still open {waited:.1f}s after @RSYNCD: EXIT")
            self.assertEqual(c.buf, b"", "bytes after @RSYNCD: EXIT")
        self.daemon.wait_for_log(r"module-list request from \S+ \(127\.0\.0\.1\)", since=mark)

    def test_old_protocol_gets_no_exit_line(self):
        """Verifies that a protocol-24 client gets the module lines but no `@RSYNCD: EXIT`
        (it is only sent to protocol >= 25), like upstream."""
        got = []
        for d in (self.pair.target, self.pair.upstream):
            with h.raw_connect(d) as c:
                c.handshake("@RSYNCD: 24")
                c.send_line("")
                got.append(c.read_all(timeout=10))
        self.assertEqual(got[0], got[1])
        self.assertEqual(got[0].decode(), MOTD + "\n" + EXPECTED_MODULE_LINES)

    def test_greeting_errors_match_upstream(self):
        """Verifies that bad client greetings and unknown `#` commands get the same `@ERROR`
        bytes as from upstream (after the normal greeting and motd)."""
        cases = {
            "not a greeting": ("HELLO\n", "@ERROR: protocol startup error\n"),
            "no subprotocol": ("@RSYNCD: 31\n",
                               "@ERROR: your client omitted the subprotocol value: "
                               "@RSYNCD: 31\n"),
            "no digest list": ("@RSYNCD: 32.0\n",
                               "@ERROR: your client omitted the digest name list: "
                               "@RSYNCD: 32.0\n"),
            "unknown command": (h.CLIENT_GREETING_32 + "\n#frobnicate\n",
                                "@ERROR: Unknown command '#frobnicate'\n"),
            "unknown module": (h.CLIENT_GREETING_32 + "\nnosuchmodule\n",
                               "@ERROR: Unknown module 'nosuchmodule'\n"),
        }
        prefix = "@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4\n" + MOTD + "\n"
        for name, (sent, expected_tail) in cases.items():
            with self.subTest(case=name):
                got = []
                for d in (self.pair.target, self.pair.upstream):
                    with h.raw_connect(d) as c:
                        c.send(sent)
                        c.read_all(timeout=10)
                        got.append(c.received)
                self.assertEqual(got[0], got[1], f"target vs upstream for {name}")
                self.assertEqual(got[0].decode(), prefix + expected_tail)


class ListingWithoutMotdTest(unittest.TestCase):
    """A config with no `motd file`."""

    @classmethod
    def setUpClass(cls):
        base = h.make_temp_dir("ocr-listing-nomotd-")
        cls.pair = h.DaemonPair(listing_config(base, with_motd=False))
        cls.addClassCleanup(cls.pair.stop)

    def test_listing_without_motd_matches_upstream(self):
        """Verifies that without a motd the client prints only the module lines (no leading
        blank line), exactly like upstream."""
        cmp = self.pair.run(["{url}/"])
        h.assert_same_as_upstream(self, cmp)
        self.assertEqual(cmp.target.returncode, 0, str(cmp.target))
        self.assertEqual(cmp.target.stdout, EXPECTED_MODULE_LINES)

    def test_raw_greeting_without_motd(self):
        """Verifies that without a motd the greeting is followed directly by the listing."""
        got = []
        for d in (self.pair.target, self.pair.upstream):
            with h.raw_connect(d) as c:
                c.send_line(h.CLIENT_GREETING_32)
                c.send_line("#list")
                c.read_all(timeout=10)
                got.append(c.received)
        self.assertEqual(got[0], got[1])
        self.assertEqual(got[0].decode(), "@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4\n"
                         + EXPECTED_MODULE_LINES + "@RSYNCD: EXIT\n")


if __name__ == "__main__":
    h.main()
