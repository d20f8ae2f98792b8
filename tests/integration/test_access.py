# SPDX-License-Identifier: MIT
"""Access control and per-module policy, each compared with upstream's daemon.

Behaviours checked:
- `hosts allow` / `hosts deny` with exact addresses, CIDR, address/mask, lists, host names
  (forward lookup), wildcards (need the reverse lookup), allow-before-deny precedence;
- global `reverse lookup = no` (host shown as UNDETERMINED, wildcards stop matching, a plain
  name still matches by forward lookup unless `forward lookup = no`, a module can turn the
  reverse lookup back on);
- denied + `list = no` answers `Unknown module` instead of `access denied`;
- an unknown module;
- `max connections = 1`: a raw connection that selected the module and waits before sending
  its arguments holds the slot; a second client gets `@ERROR: max connections (1) reached --
  try again later` (exit 5); after the first closes a new client gets in;
- modules that share a lock file share its slots (upstream locks byte ranges of the lock
  file): while a connection to a module with `max connections = 2` holds slot 0, a module
  with `max connections = 1` and the same `lock file` is full, and a module with another
  lock file is not;
- a `lock file` that cannot be opened (its directory is missing): upstream's `@ERROR: failed
  to open lock file` (exit 5) and `rsync: [Receiver] failed to open lock file PATH: No such
  file or directory (2)` in the log;
- the lock file is really locked: ocrsyncd and upstream's daemon sharing one lock file with
  `max connections = 1` each see the other's connection (both ways), and a slot is free
  again once its holder goes; after a reload that moves the module to another lock file, a
  connection from before still holds its range of the old one until it ends (ocrsyncd only);
- `refuse options = compress` vs `rsync -z`, `refuse options = delete` vs `--delete`;
- push to a `read only` module and pull from a `write only` module.
"""

import fcntl
import os
import re
import struct
import time
import unittest

import harness as h

NAME = h.loopback_name()           # what the daemon's reverse lookup of 127.0.0.1 yields
WILD = NAME[:3] + "*"              # a wildcard that matches NAME only by its name

# module -> (config lines, allowed?) with the global reverse lookup on (the default)
ACL_CASES = {
    "ip_ok": ("hosts allow = 127.0.0.1", True),
    "ip_no": ("hosts allow = 192.0.2.1", False),
    "cidr_ok": ("hosts allow = 127.0.0.0/8", True),
    "cidr_no": ("hosts allow = 192.0.2.0/24", False),
    "mask_ok": ("hosts allow = 127.0.0.0/255.0.0.0", True),
    "mask_deny": ("hosts deny = 127.0.0.0/255.255.255.0", False),
    "deny_other": ("hosts deny = 192.0.2.7", True),
    "allow_beats_deny": ("hosts allow = 127.0.0.1\n    hosts deny = *", True),
    "deny_wins": ("hosts allow = 192.0.2.1\n    hosts deny = 127.0.0.1", False),
    "list_ok": ("hosts allow = 192.0.2.1, 10.0.0.0/8 127.0.0.1", True),
    "name_ok": (f"hosts allow = {NAME}", True),
    "wild_ok": (f"hosts allow = {WILD}", True),
    "wild_deny": (f"hosts deny = {WILD}", False),
    "star_deny": ("hosts deny = *", False),
}

# the same idea with `reverse lookup = no` in the global section
NOREV_CASES = {
    "ip_ok": ("hosts allow = 127.0.0.1", True),
    "name_ok": (f"hosts allow = {NAME}", True),
    "name_no_forward": (f"hosts allow = {NAME}\n    forward lookup = no", False),
    "wild_no": (f"hosts allow = {WILD}", False),
    "wild_rev_on": (f"hosts allow = {WILD}\n    reverse lookup = yes", True),
}


def acl_config(base: str, cases: dict, global_lines: str = "") -> str:
    mod = h.make_tree(os.path.join(base, "tree"), {"file.txt": "hello\n"})
    parts = [global_lines]
    for name, (lines, _allowed) in cases.items():
        parts.append(f"[{name}]\n    path = {mod}\n    {lines}\n")
    parts.append(f"[hidden_denied]\n    path = {mod}\n    hosts allow = 192.0.2.1\n"
                 "    list = no\n")
    return "\n".join(parts)


def select_raw(daemon: h.Daemon, module: str) -> bytes:
    """Everything the daemon sends for a module request, up to its verdict line."""
    with h.raw_connect(daemon) as c:
        c.handshake()
        c.send_line(module)
        c.read_lines_until(lambda l: l.startswith(("@RSYNCD: OK", "@ERROR")))
        return c.received


class _AclBase(unittest.TestCase):
    cases: dict = {}
    host_shown = NAME

    def check_cases(self):
        for module, (_lines, allowed) in self.cases.items():
            with self.subTest(module=module):
                marks = (self.pair.target.log_mark(), self.pair.upstream.log_mark())
                got = [select_raw(d, module) for d in (self.pair.target, self.pair.upstream)]
                self.assertEqual(got[0], got[1], f"target vs upstream for module {module}")
                last = got[0].decode().rstrip("\n").split("\n")[-1]
                if allowed:
                    self.assertEqual(last, "@RSYNCD: OK", got[0])
                    verdict = "rsync allowed access on module"
                else:
                    self.assertEqual(last, f"@ERROR: access denied to {module} from "
                                           f"{self.host_shown} (127.0.0.1)", got[0])
                    verdict = "rsync denied on module"
                for d, mark in zip((self.pair.target, self.pair.upstream), marks):
                    d.wait_for_log(rf"{verdict} {module} from {re.escape(self.host_shown)} "
                                   rf"\(127\.0\.0\.1\)", since=mark)


class HostsAllowDenyTest(_AclBase):
    cases = ACL_CASES

    @classmethod
    def setUpClass(cls):
        base = h.make_temp_dir("ocr-acl-")
        cls.pair = h.DaemonPair(acl_config(base, ACL_CASES))
        cls.addClassCleanup(cls.pair.stop)

    def test_hosts_allow_deny_verdicts(self):
        """Verifies that each hosts allow/deny form (address, CIDR, mask, list, name,
        wildcard, precedence) gives upstream's verdict, bytes and log line for 127.0.0.1."""
        self.check_cases()

    def test_denied_client_output_matches_upstream(self):
        """Verifies that the stock client's output and exit code (5) for a denied module are
        identical to upstream's."""
        cmp = self.pair.run(["{url}/ip_no/"])
        h.assert_same_as_upstream(self, cmp)
        self.assertEqual(cmp.target.returncode, 5, str(cmp.target))
        self.assertIn(f"@ERROR: access denied to ip_no from {NAME} (127.0.0.1)",
                      cmp.target.stderr)

    def test_denied_unlisted_module_says_unknown(self):
        """Verifies that a denied module with `list = no` is reported as an unknown module
        (exit 5), like upstream, while the log still says it was denied."""
        marks = (self.pair.target.log_mark(), self.pair.upstream.log_mark())
        cmp = self.pair.run(["{url}/hidden_denied/"])
        h.assert_same_as_upstream(self, cmp)
        self.assertEqual(cmp.target.returncode, 5, str(cmp.target))
        self.assertTrue(cmp.target.stderr.startswith(
            "@ERROR: Unknown module 'hidden_denied'\n"), str(cmp.target))
        for d, mark in zip((self.pair.target, self.pair.upstream), marks):
            d.wait_for_log(r"rsync denied on module hidden_denied from \S+ \(127\.0\.0\.1\)",
                           since=mark)

    def test_unknown_module(self):
        """Verifies that an unknown module gets upstream's error and exit code and the log
        line `unknown module 'nosuch' tried from HOST (127.0.0.1)`."""
        marks = (self.pair.target.log_mark(), self.pair.upstream.log_mark())
        cmp = self.pair.run(["{url}/nosuch/"])
        h.assert_same_as_upstream(self, cmp)
        self.assertEqual(cmp.target.returncode, 5, str(cmp.target))
        self.assertTrue(cmp.target.stderr.startswith("@ERROR: Unknown module 'nosuch'\n"),
                        str(cmp.target))
        for d, mark in zip((self.pair.target, self.pair.upstream), marks):
            d.wait_for_log(rf"unknown module 'nosuch' tried from {re.escape(NAME)} "
                           rf"\(127\.0\.0\.1\)", since=mark)


class ReverseLookupOffTest(_AclBase):
    cases = NOREV_CASES
    host_shown = "UNDETERMINED"

    @classmethod
    def setUpClass(cls):
        base = h.make_temp_dir("ocr-acl-norev-")
        cls.pair = h.DaemonPair(acl_config(base, NOREV_CASES, "reverse lookup = no\n"))
        cls.addClassCleanup(cls.pair.stop)

    def test_verdicts_without_reverse_lookup(self):
        """Verifies that with `reverse lookup = no` wildcards no longer match, names still
        match by forward lookup (unless `forward lookup = no`), and a module can re-enable
        the reverse lookup -- all as upstream decides."""
        for module, (_lines, allowed) in self.cases.items():
            with self.subTest(module=module):
                got = [select_raw(d, module) for d in (self.pair.target, self.pair.upstream)]
                self.assertEqual(got[0], got[1], f"target vs upstream for module {module}")
                last = got[0].decode().rstrip("\n").split("\n")[-1]
                if allowed:
                    self.assertEqual(last, "@RSYNCD: OK", got[0])
                else:
                    self.assertEqual(last, f"@ERROR: access denied to {module} from "
                                           "UNDETERMINED (127.0.0.1)", got[0])

    def test_connect_logged_as_undetermined(self):
        """Verifies that the connect log line names the host UNDETERMINED."""
        mark = self.pair.target.log_mark()
        select_raw(self.pair.target, "ip_ok")
        self.pair.target.wait_for_log(r"connect from UNDETERMINED \(127\.0\.0\.1\)", since=mark)


def range_locked(path: str, index: int) -> bool:
    """Whether another process holds slot ``index`` of lock file ``path`` (F_GETLK)."""
    with open(path, "r+b") as fh:
        query = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, index * 4, 4, 0)
        answer = fcntl.fcntl(fh.fileno(), fcntl.F_GETLK, query)
        return struct.unpack("hhqqi", answer)[0] != fcntl.F_UNLCK


class LockFileTest(h.DaemonTestCase):
    """The `lock file` of `max connections`: opened, locked, shared between daemons."""

    def module_dir(self) -> str:
        return h.make_tree(os.path.join(self.tmp, "tree"), {"file.txt": "hello\n"})

    def test_lock_file_that_cannot_be_opened(self):
        """Verifies upstream's refusal when the module's lock file cannot be opened."""
        missing = os.path.join(self.tmp, "no-such-dir", "x.lock")
        pair = self.start_pair(f"[m]\n    path = {self.module_dir()}\n    max connections = 3\n"
                               f"    lock file = {missing}\n")
        marks = [d.log_mark() for d in (pair.target, pair.upstream)]
        cmp = pair.run(["{url}/m/"])
        h.assert_same_as_upstream(self, cmp)
        self.assertEqual(cmp.upstream.returncode, 5, str(cmp.upstream))
        self.assertTrue(cmp.upstream.stderr.startswith("@ERROR: failed to open lock file\n"), str(cmp.upstream))
        line = f"rsync: [Receiver] failed to open lock file {missing}: No such file or directory (2)"
        for d, mark in zip((pair.target, pair.upstream), marks):
            d.wait_for_log(re.escape(line), since=mark)

    def test_daemons_sharing_a_lock_file_see_each_other(self):
        """Verifies that the target and upstream's daemon, sharing a lock file with `max
        connections = 1`, refuse a client while the other one serves a connection, in both
        directions, and let it in once that connection is gone."""
        lock = os.path.join(self.tmp, "shared.lock")
        text = f"[m]\n    path = {self.module_dir()}\n    max connections = 1\n    lock file = {lock}\n"
        target = self.start_daemon(text)
        upstream = self.start_daemon(text, kind=h.UPSTREAM_KIND)
        for holder, other in ((target, upstream), (upstream, target)):
            with self.subTest(holder=holder.kind):
                with h.raw_connect(holder) as c:
                    self.assertEqual(c.select_module("m")[-1:], ["@RSYNCD: OK"], c.received)
                    self.assertTrue(range_locked(lock, 0), f"{holder.kind} holds no lock on slot 0")
                    rc, _out, err = h.run_rsync([other.url("m/")])
                    self.assertEqual(rc, 5, err)
                    self.assertTrue(err.startswith("@ERROR: max connections (1) reached -- try again later\n"), err)

                def other_lets_in(other=other):
                    rc, out, err = h.run_rsync([other.url("m/")])
                    return rc == 0 and (rc, out, err)

                h.eventually(other_lets_in, timeout=10,
                             message=lambda: f"{holder.kind}'s slot not released\n" + holder.describe())

    @h.ocrsyncd_only
    def test_reload_to_another_lock_file(self):
        """Verifies that after a reload that names another lock file, a connection from
        before keeps its range of the old file locked until it ends, while new clients
        count against the new file; a reload to a lock file that cannot be opened refuses
        new clients with upstream's error."""
        tree = self.module_dir()
        old_lock = os.path.join(self.tmp, "old.lock")
        new_lock = os.path.join(self.tmp, "new.lock")
        d = self.start_daemon(f"[m]\n    path = {tree}\n    max connections = 1\n    lock file = {old_lock}\n")
        with h.raw_connect(d) as c:
            self.assertEqual(c.select_module("m")[-1:], ["@RSYNCD: OK"], c.received)
            mark = d.log_mark()
            d.reload(f"[m]\n    path = {tree}\n    max connections = 1\n    lock file = {new_lock}\n")
            d.wait_for_log(r"configuration reloaded", since=mark, timeout=10)
            rc, out, err = h.run_rsync([d.url("m/")])
            self.assertEqual(rc, 0, err)
            self.assertTrue(range_locked(old_lock, 0), "the old connection lost its lock on the old file")
        h.eventually(lambda: not range_locked(old_lock, 0), timeout=10,
                     message=lambda: "the old lock file stays locked\n" + d.describe())
        mark = d.log_mark()
        missing = os.path.join(self.tmp, "gone", "x.lock")
        d.reload(f"[m]\n    path = {tree}\n    max connections = 1\n    lock file = {missing}\n")
        d.wait_for_log(r"configuration reloaded", since=mark, timeout=10)
        rc, _out, err = h.run_rsync([d.url("m/")])
        self.assertEqual(rc, 5, err)
        self.assertTrue(err.startswith("@ERROR: failed to open lock file\n"), err)


class ModulePolicyTest(unittest.TestCase):
    """max connections, refuse options, read only, write only."""

    @classmethod
    def setUpClass(cls):
        base = h.make_temp_dir("ocr-policy-")
        mod = h.make_tree(os.path.join(base, "tree"), {"file.txt": "hello\n"})
        cls.src = h.make_tree(os.path.join(base, "src"), {"upload.txt": "new\n"})
        cls.dst = os.path.join(base, "dst")
        os.makedirs(cls.dst)
        cls.pair = h.DaemonPair(f"""
[limited]
    path = {mod}
    max connections = 1
[wide]
    path = {mod}
    max connections = 2
    lock file = {os.path.join(base, "shared.lock")}
[narrow]
    path = {mod}
    max connections = 1
    lock file = {os.path.join(base, "shared.lock")}
[own]
    path = {mod}
    max connections = 1
[nocompress]
    path = {mod}
    refuse options = compress
[nodelete]
    path = {mod}
    read only = no
    refuse options = delete
[readonly]
    path = {mod}
    read only = yes
[writeonly]
    path = {mod}
    read only = no
    write only = yes
""")
        cls.addClassCleanup(cls.pair.stop)

    def test_max_connections(self):
        """Verifies that a raw connection waiting after `@RSYNCD: OK` holds the only slot of
        `max connections = 1`: a second client gets upstream's `max connections (1) reached
        -- try again later` (exit 5), and once the holder closes a new client gets in."""
        holders = []
        try:
            for d in (self.pair.target, self.pair.upstream):
                c = h.raw_connect(d)
                holders.append(c)
                lines = c.select_module("limited")
                self.assertEqual(lines[-1:], ["@RSYNCD: OK"], c.received)
            marks = (self.pair.target.log_mark(), self.pair.upstream.log_mark())
            cmp = self.pair.run(["{url}/limited/"])
            h.assert_same_as_upstream(self, cmp)
            self.assertEqual(cmp.target.returncode, 5, str(cmp.target))
            self.assertTrue(cmp.target.stderr.startswith(
                "@ERROR: max connections (1) reached -- try again later\n"), str(cmp.target))
            for d, mark in zip((self.pair.target, self.pair.upstream), marks):
                d.wait_for_log(r"max connections \(1\) reached", since=mark)
        finally:
            for c in holders:
                c.close()
        for d in (self.pair.target, self.pair.upstream):
            mark = d.log_mark()

            def new_client_gets_in(d=d):
                rc, out, err = h.run_rsync([d.url("limited/")])
                return "max connections" not in err and (rc, out, err)

            # The slot is freed asynchronously (when the holder's session ends).
            rc, out, err = h.eventually(
                new_client_gets_in, timeout=10,
                message=lambda d=d: f"{d.kind}: slot not released after close\n" + d.describe())
            d.wait_for_log(r"rsync on limited/ from \S+ \(127\.0\.0\.1\)", since=mark)
            self.assertEqual(rc, 0, f"{d.kind}: rc={rc}\n{err}\n" + d.describe())
            self.assertIn("file.txt", out, f"{d.kind}: listing lacks file.txt\n{out}")

    def test_modules_sharing_a_lock_file_share_slots(self):
        """Verifies that a connection to `wide` (max connections = 2) fills `narrow` (max
        connections = 1, same lock file) but not `own` (the global lock file), as
        upstream's record locks do. (In the upstream campaign both daemons' holders lock
        the shared file, taking slots 0 and 1: `narrow` is full on both all the same.)"""
        holders = []
        try:
            for d in (self.pair.target, self.pair.upstream):
                c = h.raw_connect(d)
                holders.append(c)
                self.assertEqual(c.select_module("wide")[-1:], ["@RSYNCD: OK"], c.received)
            cmp = self.pair.run(["{url}/narrow/"])
            h.assert_same_as_upstream(self, cmp)
            self.assertEqual(cmp.target.returncode, 5, str(cmp.target))
            self.assertTrue(cmp.target.stderr.startswith(
                "@ERROR: max connections (1) reached -- try again later\n"), str(cmp.target))
            for d in (self.pair.target, self.pair.upstream):
                def own_lets_in(d=d):
                    rc, out, err = h.run_rsync([d.url("own/")])
                    return rc == 0 and (rc, out, err)

                # A session of another test on the global lock file may still be ending.
                rc, out, err = h.eventually(
                    own_lets_in, timeout=10,
                    message=lambda d=d: f"{d.kind}: module with another lock file stays full\n" + d.describe())
                self.assertIn("file.txt", out, f"{d.kind}: listing lacks file.txt\n{out}")
        finally:
            for c in holders:
                c.close()

    def test_refuse_compress(self):
        """Verifies that `refuse options = compress` makes `rsync -z` fail with exactly
        upstream's message and exit code."""
        cmp = self.pair.run(["-z", "{url}/nocompress/", self.dst + "/"])
        h.assert_same_as_upstream(self, cmp)
        self.assertIn("rsync: The server is configured to refuse --compress (-z)\n",
                      cmp.target.stderr, str(cmp.target))
        self.assertNotEqual(cmp.target.returncode, 0)

    def test_refuse_delete_on_push(self):
        """Verifies that `refuse options = delete` refuses a `--delete` push exactly like
        upstream (exit 4)."""
        cmp = self.pair.run(["-r", "--delete", self.src + "/", "{url}/nodelete/"])
        h.assert_same_as_upstream(self, cmp)
        self.assertEqual(cmp.target.returncode, 4, str(cmp.target))
        self.assertTrue(cmp.target.stderr.startswith(
            "rsync: The server is configured to refuse --delete\n"), str(cmp.target))

    def test_push_to_read_only_module(self):
        """Verifies that a push to a read-only module fails exactly like upstream's
        (`ERROR: module is read only`, exit 1)."""
        cmp = self.pair.run([os.path.join(self.src, "upload.txt"), "{url}/readonly/"])
        h.assert_same_as_upstream(self, cmp)
        self.assertEqual(cmp.target.returncode, 1, str(cmp.target))
        self.assertTrue(cmp.target.stderr.startswith("ERROR: module is read only\n"),
                        str(cmp.target))

    def test_pull_from_write_only_module(self):
        """Verifies that a pull from a write-only module fails exactly like upstream's
        (`ERROR: module is write only`, exit 1) and writes nothing locally."""
        cmp = self.pair.run(["-r", "{url}/writeonly/", self.dst + "/"])
        h.assert_same_as_upstream(self, cmp)
        self.assertEqual(cmp.target.returncode, 1, str(cmp.target))
        self.assertTrue(cmp.target.stderr.startswith("ERROR: module is write only\n"),
                        str(cmp.target))
        self.assertEqual(os.listdir(self.dst), [])


if __name__ == "__main__":
    h.main()
