# SPDX-License-Identifier: MIT
"""``--fuzzy`` (``-y``, ``-yy``) on a push: the daemon's generator picks a similar file as
the basis of a file missing in the module, and its receiver builds the file from it.

Each case prepares, for the target daemon and for upstream's alike, a source tree and a
module tree, pushes with ``-i --stats`` (the "Literal data" / "Matched data" lines show
whether a basis was used) and compares exit code, stdout, stderr, both trees and the
daemon log with upstream's run (the comparison of test_push_side_effects.py).

Cases (upstream generator.c:recv_generator and find_fuzzy, util1.c:fuzzy_distance and
find_filename_suffix, receiver.c:recv_files):

- a new file next to one with a similar name: the nearest name is the basis, also at
  protocols 29 and 31 and with ``--delete-after`` removing the basis afterwards;
- a file of the same size and mtime under another name wins over a closer name;
- no candidate (only a directory, an empty file and a name too far away): all literal,
  while a similar name in another directory serves only the files of that directory;
- a file being updated is no basis for a later one of its directory (FLAG_FILE_SENT);
- ``-yy`` with ``--compare-dest``: the alt-dest dir joined with the file's dirname is
  searched too (basis type FNAMECMP_FUZZY+1); plain ``-y`` does not look there.
"""

import os
import random
import unittest

import harness as h
import test_push_side_effects as side

NEW_S = side.NEW_S
OLD_S = side.OLD_S


def _data(seed: int, n: int) -> bytes:
    return random.Random(seed).randbytes(n)


def _write_bytes(root: str, rel: str, data: bytes, mtime: int) -> None:
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
    os.utime(path, (mtime, mtime))


BASE = _data(1, 9000)
# The same content with one byte inserted near the middle.
SIMILAR = BASE[:4500] + b"X" + BASE[4500:]


class PushFuzzyTest(unittest.TestCase):
    push = side.PushSideEffectsTest.push

    @staticmethod
    def _similar_tree(src: str, mod: str) -> None:
        _write_bytes(mod, "d/similar-1.txt", BASE, OLD_S)
        _write_bytes(mod, "d/unrelated.bin", _data(2, 9000), OLD_S)
        _write_bytes(src, "d/similar-2.txt", SIMILAR, NEW_S)
        side._fix_dir_times(mod, OLD_S)
        side._fix_dir_times(src, NEW_S)

    def test_similar_name(self):
        # Verifies "Matched data: 8,300 bytes" from d/similar-1.txt, which --delete-after
        # then removes, at the default protocol and at 29 and 31.
        for extra in ([], ["--protocol=29"], ["--protocol=31"]):
            with self.subTest(extra=extra):
                _t, _u, res_t, _ru = self.push(["-a", "-y", "--delete-after", "-i", "--stats"] + extra,
                                               self._similar_tree)
                self.assertIn("Matched data: 8,300 bytes", res_t.stdout)

    def test_similar_name_verbose_no_delete(self):
        # Verifies the same with -v and without deletion (the basis stays).
        self.push(["-a", "-y", "-v", "--stats"], self._similar_tree)

    def test_similar_name_dry_run_whole_file_and_log(self):
        # Verifies -n and -W (the basis is still chosen and itemized, no sums are sent),
        # and the daemon's transfer log of a file built from a fuzzy basis.
        for extra in (["-n"], ["-W"], ["--inplace"]):
            with self.subTest(extra=extra):
                self.push(["-a", "-y", "-i", "--stats"] + extra, self._similar_tree)
        self.push(["-a", "-y", "-i", "--stats"], self._similar_tree,
                  extra="    transfer logging = yes\n    log format = %i %o %n%L %l %b\n")

    def test_daemon_excluded_is_no_basis(self):
        # Verifies that a file the daemon's "exclude" hides is no candidate (upstream lists
        # the directory with the server's filters, flist.c:send_directory).
        _t, _u, res_t, _ru = self.push(["-a", "-y", "-i", "--stats"], self._similar_tree,
                                       extra="    exclude = similar-1.txt\n")
        self.assertIn("Matched data: 0 bytes", res_t.stdout)
        _t, _u, res_t, _ru = self.push(["-a", "-yy", "--compare-dest=cmp", "-i", "--stats"],
                                       self._compare_dest_tree, extra="    exclude = similar-1.txt\n")
        self.assertIn("Matched data: 0 bytes", res_t.stdout)

    @staticmethod
    def _size_time_tree(src: str, mod: str) -> None:
        _write_bytes(mod, "d/zzz-other-name.dat", BASE, NEW_S)
        _write_bytes(mod, "d/file-1.txt", _data(3, 5000), OLD_S)
        _write_bytes(src, "d/file-2.txt", BASE[:-1] + b"!", NEW_S)
        side._fix_dir_times(mod, OLD_S)
        side._fix_dir_times(src, NEW_S)

    def test_exact_size_and_time_match(self):
        # Verifies that the file of the same size and mtime is the basis, not the one of
        # the nearest name: nearly all of it matches.
        _t, _u, res_t, _ru = self.push(["-a", "-y", "-i", "--stats"], self._size_time_tree)
        self.assertIn("Matched data: 8,400 bytes", res_t.stdout)

    @staticmethod
    def _no_candidate_tree(src: str, mod: str) -> None:
        os.makedirs(os.path.join(mod, "d/similar-1.txt"))
        _write_bytes(mod, "d/similar-3.txt", b"", OLD_S)
        _write_bytes(mod, "d/a-name-that-is-really-very-far-from-the-other-one.bin", BASE, OLD_S)
        _write_bytes(src, "d/similar-2.txt", SIMILAR, NEW_S)
        _write_bytes(mod, "e/similar-1.txt", BASE, OLD_S)
        _write_bytes(src, "e/similar-2.txt", SIMILAR, NEW_S)
        side._fix_dir_times(mod, OLD_S)
        side._fix_dir_times(src, NEW_S)

    def test_no_candidate(self):
        # Verifies that a directory, an empty file and a too distant name are no basis
        # for d/similar-2.txt, and that e/similar-1.txt, in another directory, is a basis
        # for e/similar-2.txt only (the candidates are listed per parent directory).
        for extra in ([], ["--no-inc-recursive"]):
            with self.subTest(extra=extra):
                _t, _u, res_t, _ru = self.push(["-a", "-y", "-i", "--stats"] + extra,
                                               self._no_candidate_tree)
                self.assertIn("Matched data: 8,300 bytes", res_t.stdout)

    @staticmethod
    def _sent_tree(src: str, mod: str) -> None:
        _write_bytes(mod, "d/a-2.txt", BASE, OLD_S)
        _write_bytes(src, "d/a-1.txt", SIMILAR, NEW_S)
        _write_bytes(src, "d/a-2.txt", BASE[:100] + b"changed" + BASE[100:], NEW_S)
        _write_bytes(src, "d/a-3.txt", SIMILAR, NEW_S)
        side._fix_dir_times(mod, OLD_S)
        side._fix_dir_times(src, NEW_S)

    def test_file_being_updated_is_no_later_basis(self):
        # Verifies that a-1.txt is built from a-2.txt, but a-3.txt, after a-2.txt is
        # updated, is not.
        self.push(["-a", "-y", "-i", "--stats"], self._sent_tree)

    @staticmethod
    def _compare_dest_tree(src: str, mod: str) -> None:
        _write_bytes(mod, "cmp/d/similar-1.txt", BASE, OLD_S)
        _write_bytes(src, "d/similar-2.txt", SIMILAR, NEW_S)
        side._fix_dir_times(mod, OLD_S)
        side._fix_dir_times(src, NEW_S)

    def test_fuzzy_twice_compare_dest(self):
        # Verifies that -yy finds the basis in the --compare-dest dir and -y does not,
        # at the default protocol and at 29.
        for fuzzy, matched in (("-yy", "8,300"), ("-y", "0")):
            for extra in ([], ["--protocol=29"]):
                with self.subTest(fuzzy=fuzzy, extra=extra):
                    _t, _u, res_t, _ru = self.push(["-a", fuzzy, "--compare-dest=cmp", "-i", "--stats"]
                                                   + extra, self._compare_dest_tree)
                    self.assertIn(f"Matched data: {matched} bytes", res_t.stdout)


if __name__ == "__main__":
    unittest.main()
