# SPDX-License-Identifier: MIT
"""Daemon authentication: `auth users`, `secrets file`, `auth digest`, `strict modes`.

Behaviours checked:
- the right RSYNC_PASSWORD passes auth (log `rsync on auth/ from alice@HOST (ADDR)`, no
  `@ERROR: auth failed`), for the client's default settings, `--protocol=30` and
  `--protocol=29`;
- a wrong password gets `@ERROR: auth failed on module auth` and exit code 5, byte-identical
  to upstream, for the same three client settings, and the log gives the reason;
- a user not named in `auth users`, a `:deny` rule and an `@group` rule;
- raw-socket challenge/response with every digest a client can negotiate (sha512, sha256,
  sha1, md5, md4 by name, md5 implied at protocol 30, the seeded "old" md4 implied at
  protocol 29), right and wrong;
- `auth digest = sha512` refuses a client that negotiated anything weaker before any
  challenge is sent (the stock 3.5.0 client sends its digest list even with
  `--protocol=29`, so it still negotiates sha512 and passes: the floor is about the digest,
  not the protocol);
- a secrets file readable by others is refused under `strict modes` (the default) and
  accepted with `strict modes = no`.
"""

import os
import re
import unittest

import harness as h

USER, GROUP = h.current_user_and_group()
CLIENT_SETTINGS = {"default": [], "protocol 30": ["--protocol=30"],
                   "protocol 29": ["--protocol=29"]}
AUTH_FAILED_STDERR = ("@ERROR: auth failed on module {mod}\n"
                      "rsync error: error starting client-server protocol (code 5)")


def auth_config(base: str) -> str:
    mod = h.make_tree(os.path.join(base, "tree"), {"file.txt": "hello\n"})
    secrets = h.write_file(os.path.join(base, "secrets"),
                           "# comment line\nalice:alicepw\nbob:bobpw\n"
                           f"@{GROUP}:grouppw\n", 0o600)
    open_secrets = h.write_file(os.path.join(base, "secrets-other-readable"),
                                "alice:alicepw\n", 0o644)
    return f"""
[auth]
    path = {mod}
    comment = needs a password
    auth users = alice, bob:deny, @{GROUP}
    secrets file = {secrets}
[floor]
    path = {mod}
    auth users = alice
    secrets file = {secrets}
    auth digest = sha512
[strict]
    path = {mod}
    auth users = alice
    secrets file = {open_secrets}
[lax]
    path = {mod}
    auth users = alice
    secrets file = {open_secrets}
    strict modes = no
"""


def session_log_re(module: str, user: str) -> str:
    return rf"rsync on {re.escape(module)}/ from {re.escape(user)}@\S+ \(127\.0\.0\.1\)"


class AuthTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        base = h.make_temp_dir("ocr-auth-")
        cls.pair = h.DaemonPair(auth_config(base))
        cls.addClassCleanup(cls.pair.stop)
        cls.daemon = cls.pair.target

    def assert_auth_passed(self, module: str, user: str, password: str, extra_args=()):
        mark = self.daemon.log_mark()
        rc, out, err = h.run_rsync(list(extra_args) + [self.daemon.url(f"{module}/", user)],
                                   env={"RSYNC_PASSWORD": password})
        detail = f"rc={rc}\nstdout:\n{out}\nstderr:\n{err}\n{self.daemon.describe()}"
        self.assertNotIn("@ERROR: auth failed", err, detail)
        self.assertNotIn("auth failed on module", self.daemon.log_since(mark), detail)
        self.daemon.wait_for_log(session_log_re(module, user), since=mark)
        self.assertEqual(rc, 0, detail)
        self.assertIn("file.txt", out, detail)

    def assert_auth_failed_like_upstream(self, module: str, user: str, password: str,
                                         extra_args=(), log_reason: str = ""):
        marks = (self.pair.target.log_mark(), self.pair.upstream.log_mark())
        cmp = self.pair.run(list(extra_args) + [f"rsync://{user}@127.0.0.1:{{port}}/{module}/"],
                            env={"RSYNC_PASSWORD": password})
        h.assert_same_as_upstream(self, cmp)
        self.assertEqual(cmp.target.returncode, 5, str(cmp.target))
        self.assertTrue(cmp.target.stderr.startswith(AUTH_FAILED_STDERR.format(mod=module)),
                        str(cmp.target))
        for d, mark in zip((self.pair.target, self.pair.upstream), marks):
            d.wait_for_log(rf"auth failed on module {module} from \S+ \(127\.0\.0\.1\)"
                           rf"( for {re.escape(user)})?: {log_reason}", since=mark)
            self.assertNotRegex(d.log_since(mark), session_log_re(module, user))

    def test_right_password_passes(self):
        """Verifies that alice with the right password passes auth (session log line, no
        auth error) with default client settings, --protocol=30 and --protocol=29."""
        for name, args in CLIENT_SETTINGS.items():
            with self.subTest(client=name):
                self.assert_auth_passed("auth", "alice", "alicepw", args)

    def test_wrong_password_refused_like_upstream(self):
        """Verifies that a wrong password gets `@ERROR: auth failed on module auth`, exit
        code 5 and a `password mismatch` log line, identical to upstream, for each client
        setting."""
        for name, args in CLIENT_SETTINGS.items():
            with self.subTest(client=name):
                self.assert_auth_failed_like_upstream("auth", "alice", "not-the-password",
                                                      args, "password mismatch")

    def test_user_not_listed_refused(self):
        """Verifies that a user not named in `auth users` is refused (`no matching rule`)
        even with a password that is valid for another user."""
        self.assert_auth_failed_like_upstream("auth", "carol", "alicepw",
                                              log_reason="no matching rule")

    def test_deny_rule_refused(self):
        """Verifies that `bob:deny` refuses bob even with bob's correct password."""
        self.assert_auth_failed_like_upstream("auth", "bob", "bobpw",
                                              log_reason="denied by rule")

    def test_group_rule_passes(self):
        """Verifies that `@GROUP` admits a system user in that group with the `@GROUP:`
        password from the secrets file (the running user and its primary group)."""
        self.assert_auth_passed("auth", USER, "grouppw")

    def test_group_rule_wrong_password_refused(self):
        """Verifies that a group member with a wrong password is refused like upstream."""
        self.assert_auth_failed_like_upstream("auth", USER, "wrong-group-pw",
                                              log_reason="password mismatch")

    def test_raw_auth_with_each_digest(self):
        """Verifies that a raw client gets a challenge of the negotiated digest's length and
        `@RSYNCD: OK` for the right response / `@ERROR: auth failed on module auth` for a
        wrong one, for each digest (incl. the implied md5 at protocol 30 and the seeded md4
        at protocol 29)."""
        cases = [
            ("@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4", "sha512", 86),
            ("@RSYNCD: 31.0 sha256", "sha256", 43),
            ("@RSYNCD: 31.0 sha1", "sha1", 27),
            ("@RSYNCD: 31.0 md5", "md5", 22),
            ("@RSYNCD: 31.0 md4", "md4", 22),
            ("@RSYNCD: 30.0", "md5", 22),
            ("@RSYNCD: 29", "md4-old", 22),
        ]
        for greeting, digest, challenge_len in cases:
            for password, expected in (("alicepw", "@RSYNCD: OK"),
                                       ("wrong", "@ERROR: auth failed on module auth")):
                with self.subTest(greeting=greeting, password=password):
                    with h.raw_connect(self.daemon) as c:
                        lines = c.select_module("auth", greeting)
                        self.assertTrue(lines and lines[-1].startswith("@RSYNCD: AUTHREQD "),
                                        c.received)
                        challenge = lines[-1].split(" ", 2)[2]
                        self.assertEqual(len(challenge), challenge_len, lines[-1])
                        self.assertRegex(challenge, r"^[A-Za-z0-9+/]+$")
                        c.send_line("alice " + h.auth_response(digest, password, challenge))
                        self.assertEqual(c.read_line(), expected, c.received)

    def test_unknown_digest_list_refused(self):
        """Verifies that a client listing no digest the daemon supports gets upstream's
        `@ERROR: your client does not support one of our daemon-auth checksums` line, and
        that the daemon logs the same lines as upstream, ending with its "requested action
        not supported (code 4)" exit line."""
        got = []
        logs = []
        daemons = (self.pair.target, self.pair.upstream)
        for d in daemons:
            mark = d.log_mark()
            with h.raw_connect(d) as c:
                c.select_module("auth", "@RSYNCD: 31.0 nosuchdigest")
                c.read_all(timeout=10)
                got.append(c.received.decode())
            d.wait_for_log(r"rsync error: requested action not supported \(code 4\)", timeout=10, since=mark)
            logs.append(h.session_log_lines(d, mark, daemons))
        self.assertEqual(got[0], got[1])
        self.assertEqual(logs[0], logs[1])
        self.assertTrue(got[0].endswith(
            "\n@ERROR: your client does not support one of our daemon-auth "
            "checksums: sha512 sha256 sha1 md5 md4\n"), got[0])

    def test_digest_floor_refuses_weaker_digests(self):
        """Verifies that with `auth digest = sha512` a client that negotiates md4 (protocol
        29, no list), md5 or sha256 gets `@ERROR: auth failed on module floor` without any
        challenge, byte-identical to upstream, and the log names the weak digest."""
        for greeting, weak in (("@RSYNCD: 29", "md4"), ("@RSYNCD: 30.0", "md5"),
                               ("@RSYNCD: 31.0 sha256 sha1", "sha256")):
            with self.subTest(greeting=greeting):
                got = []
                for d in (self.pair.target, self.pair.upstream):
                    mark = d.log_mark()
                    with h.raw_connect(d) as c:
                        c.send_line(greeting)
                        c.send_line("floor")
                        c.read_all(timeout=10)
                        got.append(c.received)
                    d.wait_for_log(rf"auth failed on module floor from \S+ \(127\.0\.0\.1\): "
                                   rf"negotiated auth digest {weak} is weaker than the required "
                                   rf"'auth digest = sha512'", since=mark)
                self.assertEqual(got[0], got[1])
                self.assertNotIn(b"AUTHREQD", got[0])
                self.assertTrue(got[0].endswith(b"\n@ERROR: auth failed on module floor\n"),
                                got[0])

    def test_digest_floor_admits_stock_client_at_protocol_29(self):
        """Verifies that the sha512 floor admits the stock client even with --protocol=29:
        it still sends its digest list, so sha512 is negotiated (as with upstream)."""
        self.assert_auth_passed("floor", "alice", "alicepw", ["--protocol=29"])

    def test_floor_wrong_password_refused_like_upstream(self):
        """Verifies that the floor module still checks the password (sha512 negotiated)."""
        self.assert_auth_failed_like_upstream("floor", "alice", "wrong",
                                              log_reason="password mismatch")

    def test_strict_modes_refuses_other_readable_secrets(self):
        """Verifies that an other-readable secrets file is refused under the default
        `strict modes` (client sees auth failed, exit 5, as with upstream; log explains)."""
        marks = (self.pair.target.log_mark(), self.pair.upstream.log_mark())
        self.assert_auth_failed_like_upstream("strict", "alice", "alicepw",
                                              log_reason="ignoring secrets file")
        for d, mark in zip((self.pair.target, self.pair.upstream), marks):
            d.wait_for_log(r"secrets file must not be other-accessible \(see strict modes "
                           r"option\)", since=mark)

    def test_strict_modes_off_accepts_other_readable_secrets(self):
        """Verifies that `strict modes = no` accepts the same other-readable secrets file."""
        self.assert_auth_passed("lax", "alice", "alicepw")


if __name__ == "__main__":
    h.main()
