# SPDX-License-Identifier: MIT
"""The daemon's transfer log ("transfer logging = yes" with a "log format"), compared line
for line with upstream's daemon serving the same client command.

Checked:

- a pull with ``log format = %i %n%L``: besides the files sent, the entries the client
  only itemizes (new symlinks ``cL+++++++++ lnk -> a.txt``, directories ``cd+++++++++
  sub/``) are logged, as upstream's sender does through log.c:maybe_log_item when the
  format has %i (an old client, given with ``OCR_RSYNC_CLIENT``, is checked the same way);
- ``%C`` on a pull: the sum sent after each file's data in upstream's canonical hex
  (xxh128 and xxh64 from the last byte, md5 and md4 in order), the file-list sum with
  ``-c``, and blanks where there is none (directories, symlinks, MD4 before protocol 30);
- a push served as ``nobody`` with ``log format = %o %i %n %U %G %C``: ``%G`` is
  ``DEFAULT`` for the groups nobody may not give (upstream's FLAG_SKIP_GROUP), and ``%C``
  the sum the client sent after each file's data, or with ``-c`` the file-list sum;
- ``%b`` and ``%c`` (bytes written and read for the file, counted as data enters and
  leaves the I/O buffers, without multiplexing headers): a pull of a small file that has
  a basis on the client, of a new 300000-byte file, and a push of a new 3-byte file.
"""

import os
import random
import subprocess
import unittest

import harness as h

FIXED = 1_500_000_000
BIG = random.Random(7).randbytes(300_000)


def _write(path: str, data, mtime: int = FIXED) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
    os.utime(path, (mtime, mtime))


def _populate(root: str) -> None:
    _write(os.path.join(root, "a.txt"), "aaa\n")
    _write(os.path.join(root, "sub/b.txt"), "bbb " * 300)
    _write(os.path.join(root, "big.bin"), BIG)
    os.symlink("a.txt", os.path.join(root, "lnk"))
    os.symlink("/etc/passwd", os.path.join(root, "abs"))
    os.makedirs(os.path.join(root, "emptydir"))
    for rel in ("lnk", "abs", "emptydir", "sub", ""):
        os.utime(os.path.join(root, rel), (FIXED, FIXED), follow_symlinks=False)


def _config(root: str, log_format: str, name: str = "m") -> str:
    ids = "    uid = root\n    gid = root\n" if h.running_as_root() else ""
    return (f"[{name}]\n    path = {root}\n    read only = no\n{ids}"
            f"    transfer logging = yes\n    log format = {log_format}\n")


class TransferLogTestCase(h.DaemonTestCase):

    def run_logged(self, daemons, roots, args, tag: str, client: str = "", prepare=None,
                   expect_rc: int = 0) -> list[list[str]]:
        """Run ``args`` (``{url}`` and ``{dest}`` substituted) against each daemon in
        turn, each with its own destination; compare exit codes and output, return each
        session's log."""
        logs, results = [], []
        for which, d, root in zip(("target", "upstream"), daemons, roots):
            dest = os.path.join(self.tmp, f"{tag}-{which}")
            os.makedirs(dest)
            if prepare:
                prepare(dest, root)
            mark = d.log_mark()
            cmd = [client or h.rsync_client_path()] + [
                a.replace("{url}", f"rsync://127.0.0.1:{d.port}").replace("{dest}", dest) for a in args]
            cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=h.client_env(), timeout=60)
            res = h.RunResult(d.kind, cp.returncode, cp.stdout.decode(errors="replace"),
                              cp.stderr.decode(errors="replace"))
            d.wait_for_log(r"^.*sent \d+ bytes  received", since=mark, timeout=10)
            results.append(res)
            logs.append(h.session_log_lines(d, mark, daemons, blank_counts=True))
        detail = f"\nargs: {args}\n{results[0]}\n{results[1]}\nlog target: {logs[0]}\nlog upstream: {logs[1]}"
        self.assertEqual(results[1].returncode, expect_rc, "EXPECTATION ERROR (upstream)" + detail)
        (rc_t, _, err_t), (rc_u, _, err_u) = (h.normalise_result(r, daemons) for r in results)
        self.assertEqual(rc_t, rc_u, "exit code differs" + detail)
        self.assertEqual(err_t, err_u, "stderr differs" + detail)
        self.assertEqual(logs[0], logs[1], "daemon log differs" + detail)
        return logs


class PullItemizedLogTest(TransferLogTestCase):
    """%i in the log format: entries that are only itemized are logged too."""

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "module")
        os.makedirs(self.root)
        _populate(self.root)
        self.pair = self.start_pair(_config(self.root, "%i %n%L"))

    def test_first_pull(self):
        """Verifies the log of a first pull: symlinks and directories appear, with
        upstream's flags, in upstream's order."""
        logs = self.run_logged((self.pair.target, self.pair.upstream), (self.root, self.root),
                               ["-a", "{url}/m/", "{dest}/"], "pull")
        for line in ("cL+++++++++ abs -> /etc/passwd", "cL+++++++++ lnk -> a.txt",
                     "cd+++++++++ emptydir/", "cd+++++++++ sub/", "<f+++++++++ sub/b.txt"):
            self.assertIn(line, logs[1])


class FileSumTest(TransferLogTestCase):
    """%C on a pull, for each checksum choice."""

    def test_pull_sums(self):
        """Verifies %C lines against upstream's for the default choice, md5, md4, xxh64,
        -c, and protocol 29 (old MD4: blanks)."""
        root = os.path.join(self.tmp, "module")
        os.makedirs(root)
        _populate(root)
        pair = self.start_pair(_config(root, "%i %n %C"))
        for i, extra in enumerate(([], ["--checksum-choice=md5"], ["--checksum-choice=md4"],
                                   ["--checksum-choice=xxh64"], ["-c"], ["--protocol=29"])):
            with self.subTest(args=extra):
                logs = self.run_logged((pair.target, pair.upstream), (root, root),
                                       ["-a", *extra, "{url}/m/", "{dest}/"], f"sums-{i}")
                line = next(x for x in logs[1] if " a.txt " in x + " ")
                if extra == ["--protocol=29"]:
                    self.assertEqual(line.split(" a.txt ")[1].strip(), "", line)
                else:
                    self.assertRegex(line, r" a\.txt [0-9a-f]{16,40}$")


class PushLogFieldsTest(TransferLogTestCase):
    """%G and %C on a push into a module served as nobody."""

    def test_push_as_nobody(self):
        """Verifies the whole session log against upstream's, with and without -c."""
        self.assertTrue(h.running_as_root(), "this case needs root (a module served as nobody)")
        config = ("[push]\n    path = {root}\n    read only = no\n    uid = nobody\n    gid = nogroup\n"
                  "    transfer logging = yes\n    log format = %o %i %n %U %G %C\n")
        src = os.path.join(self.tmp, "source")
        _populate(src)
        for extra in ([], ["-c"]):
            with self.subTest(args=extra):
                # Fresh modules each time, so that every file is transferred.
                base = os.path.join(self.tmp, "pair" + "".join(extra))
                pair = h.PushPair(base, lambda r: config.format(root=r))
                self.addCleanup(pair.stop)
                for root in pair.roots():
                    os.chown(root, 65534, 65534)
                logs = self.run_logged(pair.daemons(), pair.roots(), ["-a", *extra, src + "/", "{url}/push/"],
                                       "push" + "".join(extra))
                line = next((x for x in logs[1] if x.startswith("recv >f") and " a.txt " in x), str(logs[1]))
                self.assertRegex(line, r" a\.txt \d+ DEFAULT [0-9a-f]{32}$")


class ByteCountsTest(TransferLogTestCase):
    """%b and %c per file, pulled and pushed."""

    FORMAT = "%o %f %l %b %c"

    def test_pull(self):
        """Verifies "send a.txt 4 47 22" (a.txt has a 3-byte basis on the client, so
        the client sends one block sum) and "send big.bin 300000 300079 16" (new)."""
        root = os.path.join(self.tmp, "module")
        os.makedirs(root)
        _populate(root)
        pair = self.start_pair(_config(root, self.FORMAT))

        def basis(dest, _root):
            _write(os.path.join(dest, "a.txt"), "old", FIXED - 1000)
        logs = self.run_logged((pair.target, pair.upstream), (root, root),
                               ["-a", "{url}/m/", "{dest}/"], "pull", prepare=basis)
        self.assertIn("send a.txt 4 47 22", logs[1])
        self.assertIn("send big.bin 300000 300079 16", logs[1])

    def test_push(self):
        """Verifies "recv new/a.txt 3 43 0" for a new 3-byte file pushed into new/."""
        pair = h.PushPair(self.tmp, lambda r: _config(r, self.FORMAT, name="push"))
        self.addCleanup(pair.stop)
        src = os.path.join(self.tmp, "source")
        _write(os.path.join(src, "new/a.txt"), "abc")
        logs = self.run_logged(pair.daemons(), pair.roots(), ["-a", src + "/", "{url}/push/"], "push")
        self.assertIn("recv new/a.txt 3 43 0", logs[1])


if __name__ == "__main__":
    h.main()
