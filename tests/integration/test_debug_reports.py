# SPDX-License-Identifier: MIT
"""The server's -vv reports that a module's "max verbosity" lets through, against upstream's.

With ``max verbosity = 2`` or more, a client's ``-vv`` turns on upstream's DEBUG_DELTASUM and
DEBUG_FLIST on the server. Checked, line for line against upstream's daemon, on the client's
output and in the daemon log:

- a pull: the sender's match report at the end of its files (match.c:match_report),
  ``total: matches=M  hash_hits=H  false_alarms=F data=D``, for a delta over a basis with
  changed, inserted and deleted ranges and a run of repeated bytes (weak-sum collisions),
  once with upstream's smallest hash table (65536 buckets) and once with more than 52 000
  blocks (-B 700), where upstream sizes its table by the block count;
- a push: the generator's ``delta-transmission enabled`` (generator.c:generate_files), and
  ``delta-transmission disabled for local transfer or --whole-file`` with -W;
- a re-push with ``-vv``: the generator's ``NAME is uptodate`` for each file and symlink that
  needs nothing, and ``NAME`` alone for one whose attributes it changed
  (rsync.c:set_file_attrs with ATTRS_REPORT), also with ``-i`` below protocol 29, where
  upstream's daemon reports whatever the client itemizes; the client's whole output (its
  byte counts aside) equals upstream's;
- with the default ``max verbosity = 1`` neither appears.
"""

from __future__ import annotations

import os
import random
import shutil

import harness as h

MATCH_REPORT = "total: matches="
DELTA_LINE = "delta-transmission "


def report_lines(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


class DebugReportTest(h.DaemonTestCase):

    def make_pair(self, max_verbosity: int, writable: bool = False) -> h.DaemonPair:
        self.module = os.path.join(self.tmp, "module")
        os.makedirs(self.module, exist_ok=True)
        lines = f"[m]\n    path = {self.module}\n    max verbosity = {max_verbosity}\n"
        if writable:
            lines += "    read only = no\n"
            if h.running_as_root():
                lines += "    uid = root\n    gid = root\n"
        return self.start_pair(lines)

    def make_pull_files(self, size: int) -> tuple[bytes, bytes]:
        rnd = random.Random(size)
        data = bytearray(rnd.randbytes(size))
        data[1000:21000] = b"ab" * 10000  # many offsets share weak sums
        basis = bytearray(data)
        for i in range(0, size, size // 37):
            basis[i:i + 100] = rnd.randbytes(100)
        del basis[size // 2:size // 2 + 333]
        basis[size // 3:size // 3] = rnd.randbytes(777)
        with open(os.path.join(self.module, "f"), "wb") as fh:
            fh.write(data)
        return bytes(data), bytes(basis)

    def compare_pull(self, size: int, extra: list[str], expect_report: bool, max_verbosity: int = 2) -> None:
        pair = self.make_pair(max_verbosity)
        data, basis = self.make_pull_files(size)
        got = []
        daemons = (pair.target, pair.upstream)
        for which, d in zip(("target", "upstream"), daemons):
            dest = os.path.join(self.tmp, f"dest-{which}")
            os.makedirs(dest, exist_ok=True)
            with open(os.path.join(dest, "f"), "wb") as fh:
                fh.write(basis)
            mark = d.log_mark()
            res = h.run_against(d, ["-vv", "--no-whole-file", *extra, "{url}/m/f", os.path.join(dest, "f")])
            d.wait_for_log(r"^.*sent \d+ bytes  received", since=mark, timeout=10)
            self.assertEqual(res.returncode, 0, str(res))
            with open(os.path.join(dest, "f"), "rb") as fh:
                self.assertEqual(fh.read(), data, f"{which}: the pulled file differs")
            # The client's own generator names delta transmission on a pull: only the
            # server's match report is compared.
            got.append((report_lines(res.stdout, MATCH_REPORT),
                        report_lines("\n".join(h.session_log_lines(d, mark, daemons)), MATCH_REPORT)))
        self.assertEqual(got[0], got[1])
        client_lines, log_lines = got[1]
        if expect_report:
            self.assertEqual(len(client_lines), 1, f"EXPECTATION ERROR (upstream): {got[1]}")
            self.assertEqual(client_lines, log_lines)
            self.assertNotIn("hash_hits=0 ", client_lines[0], "EXPECTATION ERROR: no search happened")
        else:
            self.assertEqual(client_lines + log_lines, [], f"EXPECTATION ERROR (upstream): {got[1]}")

    def test_pull_match_report(self):
        self.compare_pull(3_000_000, [], True)

    def test_pull_match_report_with_a_big_table(self):
        self.compare_pull(40_000_000, ["-B", "700"], True)

    def test_no_report_below_max_verbosity_2(self):
        self.compare_pull(300_000, [], False, max_verbosity=1)

    def compare_push(self, extra: list[str], expected: str) -> None:
        pair = self.make_pair(3, writable=True)
        src = os.path.join(self.tmp, "src")
        os.makedirs(src, exist_ok=True)
        with open(os.path.join(src, "g"), "wb") as fh:
            fh.write(os.urandom(5000))
        got = []
        daemons = (pair.target, pair.upstream)
        for d in daemons:
            for name in os.listdir(self.module):
                os.remove(os.path.join(self.module, name))
            mark = d.log_mark()
            res = h.run_against(d, ["-vv", "-r", *extra, src + "/", "{url}/m/"])
            d.wait_for_log(r"^.*sent \d+ bytes  received", since=mark, timeout=10)
            self.assertEqual(res.returncode, 0, str(res))
            got.append((report_lines(res.stdout, DELTA_LINE),
                        report_lines("\n".join(h.session_log_lines(d, mark, daemons)), DELTA_LINE)))
        self.assertEqual(got[0], got[1])
        self.assertIn(expected, got[1][1], f"EXPECTATION ERROR (upstream log): {got[1]}")

    def test_push_names_delta_transmission(self):
        self.compare_push([], "delta-transmission enabled")

    def test_push_whole_file(self):
        self.compare_push(["-W"], "delta-transmission disabled for local transfer or --whole-file")

    def compare_repush(self, extra: list[str]) -> list[str]:
        pair = self.make_pair(3, writable=True)
        src = os.path.join(self.tmp, "src")
        os.makedirs(os.path.join(src, "d"), exist_ok=True)
        for name, text in (("a", "a\n"), ("d/b", "b\n")):
            with open(os.path.join(src, name), "w") as fh:
                fh.write(text)
            os.chmod(os.path.join(src, name), 0o644)
        os.symlink("a", os.path.join(src, "l"))
        outputs = []
        daemons = (pair.target, pair.upstream)
        for d in daemons:
            for entry in os.listdir(self.module):
                path = os.path.join(self.module, entry)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.remove(path)
            first = h.run_against(d, ["-a", src + "/", "{url}/m/"])
            self.assertEqual(first.returncode, 0, str(first))
            res = h.run_against(d, ["-vv", *extra, src + "/", "{url}/m/"])
            self.assertEqual(res.returncode, 0, str(res))
            text = h.normalise_text(res.stdout, daemons)
            outputs.append([line for line in text.splitlines() if not line.startswith("sent ")])
        self.assertEqual(outputs[0], outputs[1])
        return outputs[1]

    def test_repush_reports_uptodate_files(self):
        out = self.compare_repush(["-a"])
        for name in ("a", "l", "d/b"):
            self.assertIn(f"{name} is uptodate", out, f"EXPECTATION ERROR (upstream): {out}")

    def test_repush_reports_changed_attributes(self):
        out = self.compare_repush(["-rlpt", "--chmod=o-r"])
        self.assertIn("a", out, f"EXPECTATION ERROR (upstream): {out}")
        self.assertIn("l is uptodate", out, f"EXPECTATION ERROR (upstream): {out}")

    def test_repush_below_protocol_29_with_itemizing(self):
        out = self.compare_repush(["-ai", "--protocol=28"])
        self.assertIn("a is uptodate", out, f"EXPECTATION ERROR (upstream): {out}")


if __name__ == "__main__":
    h.main()
