# SPDX-License-Identifier: MIT
"""Pulls with ``--remove-source-files``, compared with upstream's daemon: exit code, client
output, the daemon's log lines for the session and what is left in the module.

Checked:

- a pull of a module holding regular files, a hard link, relative and absolute symlinks, a
  FIFO and (as root) a device node, with ``-aD -i`` and with ``-aHD -i``, at protocols 29
  and 32: the sender removes every non-directory the client reports as done, symlinks,
  FIFOs and devices included, and never a directory;
- a file whose mtime changes while it is being sent (``--bwlimit`` slows the transfer; the
  test touches the source once the client's temp file appears): the sender keeps it, says
  ``ERROR: Skipping sender remove for changed file: NAME`` to the client and in its log,
  and the run exits 23.
"""

import os
import random
import re
import stat
import subprocess
import time
import unittest

import harness as h

FIXED = 1_500_000_000
BIG = random.Random(7).randbytes(300_000)


def _config(root: str, extra: str = "") -> str:
    ids = "    uid = root\n    gid = root\n" if h.running_as_root() else ""
    return f"[m]\n    path = {root}\n    read only = no\n{ids}{extra}"


def _populate(root: str) -> None:
    """Every kind of entry the sender can be asked to remove."""
    files = {"a.txt": "aaa\n", "d/b.txt": "bbb " * 300, "d/e/c.txt": "ccc\n", "big.bin": BIG}
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
    os.link(os.path.join(root, "a.txt"), os.path.join(root, "hl"))
    os.symlink("a.txt", os.path.join(root, "lnk"))
    os.symlink("/etc/passwd", os.path.join(root, "abs"))
    os.symlink("../a.txt", os.path.join(root, "d/up"))
    os.mkfifo(os.path.join(root, "fifo"))
    if h.running_as_root():
        os.mknod(os.path.join(root, "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.makedirs(os.path.join(root, "emptydir"))
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames + dirnames:
            os.utime(os.path.join(dirpath, name), (FIXED, FIXED), follow_symlinks=False)
    os.utime(root, (FIXED, FIXED))


def _remaining(root: str) -> list[str]:
    """What is left of the module: relative names with a type letter."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            mode = os.lstat(path).st_mode
            kind = ("d" if stat.S_ISDIR(mode) else "l" if stat.S_ISLNK(mode) else
                    "p" if stat.S_ISFIFO(mode) else "c" if stat.S_ISCHR(mode) else "f")
            out.append(f"{kind} {os.path.relpath(path, root)}")
    return sorted(out)


class RemoveSourceTestCase(h.DaemonTestCase):
    """Shared: a target and an upstream daemon, each serving its own copy of the module."""

    extra_config = ""

    def setUp(self):
        super().setUp()
        self.pair = h.PushPair(self.tmp, lambda root: _config(root, self.extra_config))
        self.addCleanup(self.pair.stop)

    def fill(self):
        for root in self.pair.roots():
            for entry in os.listdir(root):
                path = os.path.join(root, entry)
                if os.path.isdir(path) and not os.path.islink(path):
                    subprocess.run(["rm", "-rf", path], check=True)
                else:
                    os.unlink(path)
            _populate(root)

    def run_both_ways(self, args, tag: str, last_log: str = r"^.*sent \d+ bytes  received",
                      during=None, blank_counts: bool = True):
        """Run ``args`` + a fresh destination against each daemon in turn. ``during``, if
        given, is called with the destination while the client runs. Returns the
        normalised (rc, out, err), session log and remaining module of each."""
        daemons = self.pair.daemons()
        results = []
        for which, d, root in zip(("target", "upstream"), daemons, self.pair.roots()):
            # Made beforehand: the client's "created directory" line would name it.
            dest = os.path.join(self.tmp, f"{tag}-{which}")
            os.makedirs(dest)
            mark = d.log_mark()
            cmd = [h.rsync_client_path()] + [a.replace("{url}", f"rsync://127.0.0.1:{d.port}")
                                             for a in args] + [dest + "/"]
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=h.client_env())
            if during:
                during(dest, root)
            try:
                out, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise AssertionError(f"client timed out: {cmd}")
            d.wait_for_log(last_log, since=mark, timeout=10)
            res = h.RunResult(d.kind, proc.returncode, out.decode(errors="replace"),
                              err.decode(errors="replace"))
            log = h.session_log_lines(d, mark, daemons)
            if blank_counts:
                # How the multiplexed stream is cut into frames depends on timing.
                log = [re.sub(r"^sent \d+ bytes  received \d+ bytes", "sent N bytes  received N bytes", x)
                       for x in log]
            results.append((h.normalise_result(res, daemons), log, _remaining(root), res))
        return results

    def assert_same(self, results, expect_rc: int):
        (res_t, log_t, left_t, raw_t), (res_u, log_u, left_u, raw_u) = results
        detail = f"\n{raw_t}\n{raw_u}\nlog target: {log_t}\nlog upstream: {log_u}"
        self.assertEqual(res_u[0], expect_rc, "EXPECTATION ERROR (upstream)" + detail)
        self.assertEqual(res_t[0], res_u[0], "exit code differs" + detail)
        self.assertEqual(res_t[1], res_u[1], "stdout differs" + detail)
        self.assertEqual(res_t[2], res_u[2], "stderr differs" + detail)
        self.assertEqual(log_t, log_u, "daemon log differs" + detail)
        self.assertEqual(left_t, left_u, "remaining module differs" + detail)
        return log_u, left_u


class RemoveEveryTypeTest(RemoveSourceTestCase):
    """Every non-directory the client got is removed from the module."""

    def check(self, opts):
        for proto in (29, 32):
            with self.subTest(protocol=proto, opts=opts):
                self.fill()
                _, left = self.assert_same(self.run_both_ways(
                    [f"--protocol={proto}"] + opts + ["--remove-source-files", "{url}/m/"],
                    f"{'-'.join(opts)}-{proto}"), 0)
                self.assertEqual(left, ["d d", "d d/e", "d emptydir"])

    def test_links_specials_and_devices_are_removed(self):
        """Verifies that -aD removes symlinks, the FIFO and the device as well as the
        regular files, and leaves the directories, as upstream."""
        self.check(["-aD", "-i"])

    def test_hard_links_are_removed(self):
        """Verifies the same with -H: both names of the hard-linked file go."""
        self.check(["-aHD", "-i"])


class RemoveChangedFileTest(RemoveSourceTestCase):
    """A source file that changes while it is sent is kept, with an error."""

    def test_changed_file_is_kept_with_an_error(self):
        """Verifies exit 23, the client's and the log's "ERROR: Skipping sender remove
        for changed file: big.bin" and that big.bin stays while a.txt goes."""
        def touch_when_receiving(dest: str, root: str):
            def temp_file():
                try:
                    return [n for n in os.listdir(dest) if n.startswith(".big.bin.")]
                except FileNotFoundError:
                    return []
            h.eventually(temp_file, timeout=20, interval=0.01,
                         message="the client's temp file for big.bin never appeared")
            os.utime(os.path.join(root, "big.bin"), (FIXED + 100, FIXED + 100))
        self.fill()
        log, left = self.assert_same(self.run_both_ways(
            ["-a", "--bwlimit=150", "--remove-source-files", "{url}/m/"], "changed",
            during=touch_when_receiving), 23)
        self.assertIn("ERROR: Skipping sender remove for changed file: big.bin", log)
        self.assertIn("f big.bin", left)
        self.assertNotIn("f a.txt", left)


if __name__ == "__main__":
    h.main()
