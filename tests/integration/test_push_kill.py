# SPDX-License-Identifier: MIT
"""Interrupted pushes: SIGKILL of the client or of the daemon's worker, and a full disk.

The source holds three 24 MiB files of random bytes; the module starts with older, 4 MiB
versions of the first two (the third is new). The stock client pushes them with
``--bwlimit`` (so that a push lasts a few seconds and the kill points can be hit) and is
interrupted at one of three points:

- before data: as soon as a daemon process serves the connection;
- mid-file: once the temp file of the first file (``.big-1.bin.XXXXXX``) holds 4 MiB;
- between files: once the first file is complete under its final name.

Either the client is SIGKILLed, or every daemon process serving the session (found
through the connection's sockets in /proc, as test_worker_pool.py finds workers) is.
Then, once the session's daemon processes are gone, every final name holds either its
old content or the complete new one (never a truncated file), and:

- client killed: no temp file is left behind (the daemon notices the end of the
  connection and removes it);
- worker killed: a dead process cannot clean up, so upstream leaves its temp file; only
  the final names are checked (ocrsyncd may do better), and the next push must not add
  a temp file of its own;
- client killed mid-file with ``--partial``: the partial data is kept under the final
  name, as upstream does -- the file then holds a prefix of the new content -- and no
  temp file remains.

After each case, a normal push to the same daemon succeeds and the module then equals the
source (the daemon goes on serving). Every case runs against the target and against
upstream's daemon, one after the other.

Full disk: each daemon's module is a size-limited tmpfs (``mount -t tmpfs -o size=8m``,
needs root, which the suite runs as), holding an old version of ``big.bin``; the client
pushes a 1 MiB and a 12 MiB file. Upstream's ``rsync: [receiver] write failed on
"big.bin" (in small): No space left on device (28)`` must appear, the exit code must be
upstream's (11 at protocol 32; with ``OCR_TEST_HUGE=1`` also protocol 29, exit 12,
where the client sees the connection close first and upstream needs about 30 s to end
the session), ``big.bin`` keeps its old content, the 1 MiB file arrives, no temp file
remains; with ``--partial`` the truncated data is kept under the final name, as upstream.
"""

import os
import signal
import subprocess
import time
import unittest
from typing import Callable

import harness as h
import tree

FILE_SIZE = 24 * tree.MIB
OLD_SIZE = 4 * tree.MIB
NAMES = ("big-1.bin", "big-2.bin", "big-3.bin")
WITH_OLD = ("big-1.bin", "big-2.bin")
BWLIMIT = "16m"   # the client's --bwlimit: about 1.5 s per file
SRC_MTIME_NS = 1_700_000_000 * 10**9


def _digest(path: str) -> str:
    return tree.content_digest(path, os.path.getsize(path))


def _temp_files(root: str) -> list[str]:
    out = []
    for dirpath, _dirs, files in os.walk(root):
        out += [os.path.join(dirpath, f) for f in files if f.startswith(".")]
    return out


class PushKillTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-push-kill-")
        cls.src = os.path.join(cls.base, "source")
        os.makedirs(cls.src)
        os.chmod(cls.src, 0o755)
        cls.old_dir = os.path.join(cls.base, "old")
        os.makedirs(cls.old_dir)
        cls.new_digest, cls.old_digest = {}, {}
        for i, name in enumerate(NAMES):
            path = os.path.join(cls.src, name)
            tree.write_random_file(path, FILE_SIZE, seed=100 + i)
            os.utime(path, ns=(SRC_MTIME_NS, SRC_MTIME_NS))
            cls.new_digest[name] = _digest(path)
        for i, name in enumerate(WITH_OLD):
            path = os.path.join(cls.old_dir, name)
            tree.write_random_file(path, OLD_SIZE, seed=200 + i)
            cls.old_digest[name] = _digest(path)
        with open(os.path.join(cls.src, NAMES[0]), "rb") as fh:
            cls.new_prefix_source = fh.read()
        cls.pair = h.PushPair(cls.base, lambda root: h.push_module_config(root, chroot=False))
        cls.addClassCleanup(cls.pair.stop)

    # -- helpers ---------------------------------------------------------------------------

    def reset_module(self, root: str) -> None:
        for name in os.listdir(root):
            p = os.path.join(root, name)
            if os.path.isdir(p) and not os.path.islink(p):
                tree.remove_tree(p)
            else:
                os.unlink(p)
        for name in WITH_OLD:
            tree.write_random_file(os.path.join(root, name), OLD_SIZE,
                                   seed=200 + NAMES.index(name))

    def start_push(self, daemon: h.Daemon, extra: list[str]) -> subprocess.Popen:
        cmd = ([h.rsync_client_path(), "-a", f"--bwlimit={BWLIMIT}"] + extra
               + [self.src + "/", f"rsync://127.0.0.1:{daemon.port}/push/"])
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=h.client_env())

    def wait_for(self, what: str, fn: Callable[[], object], client: subprocess.Popen,
                 timeout: float = 30) -> object:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = fn()
            if got:
                return got
            if client.poll() is not None:
                self.fail(f"the push ended (rc={client.returncode}) before '{what}': "
                          f"{client.stderr.read().decode(errors='replace')}")
            time.sleep(0.005)
        self.fail(f"'{what}' did not happen within {timeout}s")

    def check_final_names(self, root: str, kind: str, partial: bool = False) -> None:
        for name in NAMES:
            path = os.path.join(root, name)
            if not os.path.exists(path):
                self.assertNotIn(name, WITH_OLD, f"{kind}: {name} (which had an old "
                                 "version) disappeared")
                continue
            d = _digest(path)
            if d == self.new_digest[name] or d == self.old_digest.get(name):
                continue
            if partial and name == NAMES[0]:
                size = os.path.getsize(path)
                with open(path, "rb") as fh:
                    data = fh.read()
                self.assertEqual(data, self.new_prefix_source[:size],
                                 f"{kind}: the kept partial {name} is not a prefix of the "
                                 f"new content ({size} bytes)")
                continue
            self.fail(f"{kind}: {name} under its final name is neither its old nor its "
                      f"complete new content ({os.path.getsize(path)} bytes): truncated")

    def follow_up_push(self, daemon: h.Daemon, root: str, leftovers: list[str]) -> None:
        rc, out, err = h.run_rsync(["-a", self.src + "/", f"{{url}}/push/".replace(
            "{url}", f"rsync://127.0.0.1:{daemon.port}")], timeout=120)
        self.assertEqual(rc, 0, f"{daemon.kind}: the push after the kill failed: {err}"
                         + h.push_refused_hint(h.RunResult(daemon.kind, rc, out, err)))
        for name in NAMES:
            self.assertEqual(_digest(os.path.join(root, name)), self.new_digest[name])
        new_temps = sorted(set(_temp_files(root)) - set(leftovers))
        self.assertEqual(new_temps, [], f"{daemon.kind}: temp files after a complete push")

    def run_kill(self, who: str, point: str, extra: tuple[str, ...] = ()) -> None:
        for daemon, root in zip(self.pair.daemons(), self.pair.roots()):
            with self.subTest(daemon=daemon.kind):
                self.reset_module(root)
                self._kill_once(daemon, root, who, point, list(extra))

    def _kill_once(self, daemon: h.Daemon, root: str, who: str, point: str,
                   extra: list[str]) -> None:
        client = self.start_push(daemon, extra)
        try:
            serving = self.wait_for("a daemon process serves the session",
                                    lambda: h.daemon_pids_serving(daemon, client.pid), client)
            if point == "mid-file":
                self.wait_for("4 MiB in the first temp file", lambda: [
                    t for t in _temp_files(root) if os.path.basename(t).startswith(
                        "." + NAMES[0] + ".") and os.path.getsize(t) >= 4 * tree.MIB],
                    client)
            elif point == "between-files":
                def first_done():
                    p = os.path.join(root, NAMES[0])
                    return (os.path.getsize(p) == FILE_SIZE
                            and os.stat(p).st_mtime_ns == SRC_MTIME_NS)
                self.wait_for("the first file complete", first_done, client)
            serving = h.daemon_pids_serving(daemon, client.pid) or serving
            if who == "client":
                client.send_signal(signal.SIGKILL)
            else:
                # Upstream's session process forks its receiver right at the start: a child
                # born after the scan above would survive and hold the client, and on a
                # loaded machine the fork can come well after the scan. Kill whatever serves
                # the session until several scans in a row find nothing.
                targets = list(serving)
                quiet_scans = 0
                for _ in range(100):
                    for pid in targets:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    time.sleep(0.05)
                    targets = h.daemon_pids_serving(daemon, client.pid)
                    serving = serving + sorted(set(targets) - set(serving))
                    quiet_scans = 0 if targets else quiet_scans + 1
                    if quiet_scans >= 4:
                        break
                # A child forked later still (seen under ASan on a busy machine) keeps the
                # client waiting: go on killing what serves the session until it ends.
                deadline = time.monotonic() + 30
                while client.poll() is None and time.monotonic() < deadline:
                    for pid in h.daemon_pids_serving(daemon, client.pid):
                        serving = serving + ([pid] if pid not in serving else [])
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    time.sleep(0.2)
            client.wait(30)
            h.eventually(lambda: not any(p in daemon.processes() for p in serving),
                         timeout=20, message=f"{daemon.kind}: session processes {serving} "
                         "still alive after the kill")
        finally:
            if client.poll() is None:
                client.kill()
                client.wait(10)
            client.stdout.close()
            client.stderr.close()
        context = f"{daemon.kind}, {who} killed {point}"
        partial = "--partial" in extra
        self.check_final_names(root, context, partial=partial)
        leftovers = _temp_files(root)
        if who == "client":
            self.assertEqual(leftovers, [], f"{context}: temp files left behind")
        self.follow_up_push(daemon, root, leftovers)

    # -- cases -----------------------------------------------------------------------------

    def test_client_killed_before_data(self):
        """Verifies that SIGKILL of the client before any data leaves the old files and no
        temp file, and the daemon serves the next push."""
        self.run_kill("client", "before-data")

    def test_client_killed_mid_file(self):
        """Verifies that SIGKILL of the client in the middle of a file leaves no truncated
        file under a final name and no temp file."""
        self.run_kill("client", "mid-file")

    def test_client_killed_between_files(self):
        """Verifies that SIGKILL of the client after the first file leaves that file
        complete, the others old or complete, and no temp file."""
        self.run_kill("client", "between-files")

    def test_client_killed_mid_file_with_partial(self):
        """Verifies that with --partial a client killed mid-file leaves the partial data
        under the final name (a prefix of the new content, as upstream) and no temp file."""
        self.run_kill("client", "mid-file", ("--partial",))

    def test_worker_killed_before_data(self):
        """Verifies that SIGKILL of the session's daemon processes before any data leaves
        the old files, and the daemon serves the next push."""
        self.run_kill("worker", "before-data")

    def test_worker_killed_mid_file(self):
        """Verifies that SIGKILL of the session's daemon processes mid-file leaves no
        truncated file under a final name."""
        self.run_kill("worker", "mid-file")

    def test_worker_killed_between_files(self):
        """Verifies the same when the daemon processes die right after the first file."""
        self.run_kill("worker", "between-files")


class PushDiskFullTest(unittest.TestCase):
    """The module on an 8 MiB tmpfs, filled up by the upload."""

    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-push-full-")
        cls.src = os.path.join(cls.base, "source")
        os.makedirs(cls.src)
        os.chmod(cls.src, 0o755)
        tree.write_random_file(os.path.join(cls.src, "a-small.bin"), tree.MIB, seed=5)
        tree.write_random_file(os.path.join(cls.src, "big.bin"), 12 * tree.MIB, seed=6)
        cls.mounts = []
        cls.roots = {}
        for who in ("target", "upstream"):
            root = os.path.join(cls.base, f"small-{who}")
            os.makedirs(root)
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0755", "tmpfs", root],
                           check=True)
            cls.mounts.append(root)
            cls.roots[who] = root
        cls.addClassCleanup(cls._unmount)
        cls.daemons = {}
        for who, kind in (("target", h.TARGET), ("upstream", h.UPSTREAM_KIND)):
            cfg = h.push_module_config(cls.roots[who], name="small", chroot=False)
            d = h.Daemon(kind, cfg)
            cls.addClassCleanup(d.stop)
            cls.daemons[who] = d

    @classmethod
    def _unmount(cls):
        for root in cls.mounts:
            subprocess.run(["umount", "-l", root], check=False)

    def reset(self) -> None:
        for root in self.roots.values():
            for name in os.listdir(root):
                os.unlink(os.path.join(root, name))
            with open(os.path.join(root, "big.bin"), "wb") as fh:
                fh.write(b"the old big.bin\n")

    def push_both(self, extra: list[str]) -> dict[str, h.RunResult]:
        self.reset()
        out = {}
        for who, d in self.daemons.items():
            out[who] = h.run_against(d, ["-a"] + extra + [self.src + "/", "{url}/small/"],
                                     timeout=120)
        return out

    def check(self, proto: int, want_rc: int, partial: bool = False) -> None:
        extra = [f"--protocol={proto}"] + (["--partial"] if partial else [])
        res = self.push_both(extra)
        detail = "".join(f"\n{r}" for r in res.values()) + h.push_refused_hint(res["target"])
        line = ('rsync: [receiver] write failed on "big.bin" (in small): No space left on '
                'device (28)\n')
        self.assertEqual(res["upstream"].returncode, want_rc, "EXPECTATION ERROR" + detail)
        self.assertIn(line, res["upstream"].stderr, "EXPECTATION ERROR" + detail)
        self.assertEqual(res["target"].returncode, want_rc, detail)
        self.assertIn(line, res["target"].stderr, detail)
        for who, root in self.roots.items():
            # The daemon may still be removing its temp file when the client has exited.
            deadline = time.monotonic() + 10
            while _temp_files(root) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(_temp_files(root), [], f"{who}: temp files left" + detail)
            with open(os.path.join(root, "a-small.bin"), "rb") as fh:
                self.assertEqual(len(fh.read()), tree.MIB, who)
            with open(os.path.join(root, "big.bin"), "rb") as fh:
                data = fh.read()
            if partial:
                with open(os.path.join(self.src, "big.bin"), "rb") as fh:
                    want = fh.read(len(data))
                self.assertEqual(data, want, f"{who}: the kept partial big.bin is not a "
                                 "prefix of the new content")
                self.assertLess(len(data), 12 * tree.MIB, who)
            else:
                self.assertEqual(data, b"the old big.bin\n",
                                 f"{who}: big.bin lost its old content ({len(data)} bytes)")

    def test_disk_full_protocol_32(self):
        """Verifies that a full module file system gives upstream's `write failed ... No
        space left on device (28)` and exit 11, keeps the old big.bin and no temp file."""
        self.check(32, 11)

    def test_disk_full_with_partial(self):
        """Verifies that with --partial the truncated data is kept under the final name as
        upstream keeps it (a prefix of the new content), with no temp file."""
        self.check(32, 11, partial=True)


if os.environ.get("OCR_TEST_HUGE") == "1":
    # Upstream's daemon takes about 30 s to let go of a failed protocol-29 session (its
    # receiver blocks writing to the dead generator until a timeout), so this variant is
    # part of the long campaign only.
    def test_disk_full_protocol_29(self):
        """Verifies the same at protocol 29, where upstream's client exits 12."""
        self.check(29, 12)
    PushDiskFullTest.test_disk_full_protocol_29 = test_disk_full_protocol_29


if __name__ == "__main__":
    h.main()
