# SPDX-License-Identifier: MIT
"""The pull matrix: every client protocol (27..32) times every option set of issue 3.

One generated tree (``tree.generate_tree``: nested and empty dirs, files of many sizes, a
sparse file, hard links, all kinds of symlinks, FIFOs, a socket, odd names, nanosecond and
out-of-range mtimes, odd modes; as root also device nodes and several owners) is served by
the target daemon and by upstream's ``rsync --daemon`` (one pair for the whole class). For
each (protocol, option set) the stock client pulls it from both, and the test checks:

- the exit code is the one upstream gives (0, except for ``-c --checksum-choice=none``,
  which upstream's sender refuses: code 4 at protocol >= 31, and at older protocols the
  client only sees the connection close: code 12);
- the client's stdout and stderr (``-i --stats`` output: itemized changes in order, file
  counts, file-list size, literal/matched data) equal upstream's, after blanking only
  speeds, elapsed times, the received-byte count and the destination path;
- the received tree equals the source under upstream's semantics (``tree.Rules``): names,
  types, bytes, modes incl. setuid/setgid/sticky, owners, symlink targets (munged ones
  stripped of ``/rsyncd-munged/`` by a ``use chroot = no`` module), device numbers,
  hard-link groups with ``-H`` (and none without), mtimes with nanoseconds at protocol >= 31,
  whole seconds at 30, and 32-bit unsigned seconds before 30 (so a pre-1970 mtime comes out
  in 2096 there, exactly as from upstream);
- the received tree equals the tree received from upstream, to the nanosecond.

Option sets: ``-a``, ``-aH``, ``-az`` (negotiated compressor) and ``-az --compress-choice``
for zstd, lz4, zlibx, zlib and none, ``-ac``, ``-a --checksum-choice`` and ``-ac
--checksum-choice`` for each checksum (xxh128, xxh3, xxh64, md5, md4, sha1, none),
``-a --list-only`` (output only), ``-ani`` (nothing may be created), two filter sets (rules
from the command line with ``-F`` per-directory ``.rsync-filter`` files read by the sender;
``-FF -m`` with include/exclude of a file type), ``-aR`` with an ``/./`` anchor, and (as
root) ``-a`` from a ``use chroot = yes`` module, which sends symlink targets verbatim.

When not run as root, the tree has no device nodes, no foreign owners and none of the
modes only root can serve (mode 000 files, read-only dirs), and the chroot-module set is
not generated (chroot needs root); everything else above is still checked.
"""

import os
import sys
import unittest
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Optional

import harness as h
import tree

PROTOCOLS = (27, 28, 29, 30, 31, 32)
COMPRESSORS = ("zstd", "lz4", "zlibx", "zlib", "none")
CHECKSUMS = ("xxh128", "xxh3", "xxh64", "md5", "md4", "sha1", "none")
KEEP = bool(os.environ.get("OCR_TEST_KEEP"))


_NAMES_DIRS = {"names/dir with space", "names/日本語ディレクトリ"}


def _filter_include(path: str, per_dir_rules: bool = True) -> bool:
    """The rules of the filter cases, as upstream applies them (first match wins)."""
    name = path.rsplit("/", 1)[-1]
    if per_dir_rules and name.endswith(".skip") and path.startswith("filtered/"):
        return False                       # filtered/.rsync-filter: "- *.skip" (inherited)
    if name == "keep.tmp":
        return True
    if name.endswith(".tmp"):
        return False
    if path in ("empty-dir", "large"):
        return False
    if path in _NAMES_DIRS:
        return False
    if path.startswith("times/") and path != "times/epoch":
        return False
    return True

FILTER_ARGS = ["-a", "-F", "--include=keep.tmp", "--exclude=*.tmp", "--exclude=/empty-dir/",
               "--exclude=large/", "--filter=- /names/*/", "--include=/times/",
               "--include=/times/epoch", "--exclude=/times/*"]

TXT_ONLY_ARGS = ["-a", "-FF", "-m", "--include=*/", "--include=*.txt", "--exclude=*"]

CLASSIC_FILTER_ARGS = ["-a", "--include=keep.tmp", "--exclude=*.tmp", "--exclude=/empty-dir/",
                       "--exclude=large/", "--exclude=/names/*/", "--include=/times/",
                       "--include=/times/epoch", "--exclude=/times/*"]

RELATIVE_SOURCES = ("dir/nested/./deeper/deepest", "names/dir with space")


@dataclass
class Case:
    """One option set of the matrix."""
    name: str
    args: list[str]
    kind: str = "copy"              # copy: pull into a new dir, list: --list-only, dry: -n
    hard_links: bool = False        # -H: the copy must have the source's hard-link groups
    module: str = "tree"
    munge: bool = True              # the module's effective `munge symlinks`
    root_only: bool = False
    expected_rc: Callable[[int], int] = lambda _proto: 0
    sources: tuple[str, ...] = ("",)  # module paths pulled ("" = the module root, "x/")
    relative: bool = False
    expected_tree: Optional[str] = None  # "filters", "filters-classic", "txt-only", None
    doc: str = ""


def _modern_filters_rc(proto: int) -> int:
    # Upstream: exclude.c:send_rules refuses merge rules before protocol 29 on the
    # client ("filter rules are too modern for remote rsync.", RERR_PROTOCOL).
    return 0 if proto >= 29 else 2


def build_cases() -> list[Case]:
    cases = [
        Case("a", ["-a"], doc="-a copies the whole tree"),
        Case("aH", ["-aH"], hard_links=True, doc="-aH also keeps the hard-link groups"),
        Case("az", ["-az"], doc="-az (negotiated compressor) copies the whole tree"),
    ]
    for z in COMPRESSORS:
        cases.append(Case(f"az_{z}", ["-az", f"--compress-choice={z}"],
                          doc=f"-az --compress-choice={z} copies the whole tree"))
    cases.append(Case("ac", ["-ac"], doc="-ac (file checksums in the list) copies the tree"))
    for c in CHECKSUMS:
        cases.append(Case(f"a_cc_{c}", ["-a", f"--checksum-choice={c}"],
                          doc=f"-a --checksum-choice={c} copies the whole tree"))
    for c in CHECKSUMS:
        if c == "none":
            # Upstream: checksum.c:file_checksum has no "none" file checksum; the sender
            # exits with RERR_UNSUPPORTED. Before protocol 31 the client only sees the
            # connection close (RERR_STREAMIO).
            cases.append(Case("ac_cc_none_refused", ["-ac", "--checksum-choice=none"],
                              expected_rc=lambda p: 4 if p >= 31 else 12,
                              doc="-ac --checksum-choice=none is refused like upstream "
                                  "refuses it (same message and exit code)"))
        else:
            cases.append(Case(f"ac_cc_{c}", ["-ac", f"--checksum-choice={c}"],
                              doc=f"-ac --checksum-choice={c} copies the whole tree"))
    cases += [
        Case("list_only", ["-a", "--list-only"], kind="list",
             doc="-a --list-only prints the same recursive listing as upstream"),
        Case("dry_run", ["-ani"], kind="dry",
             doc="-ani prints the same itemized list as upstream and creates nothing"),
        Case("filters_classic", CLASSIC_FILTER_ARGS, expected_tree="filters-classic",
             doc="--include/--exclude rules (anchored, unanchored, directory-only, "
                 "wildcards) are applied by the sender as upstream applies them"),
        Case("filters", FILTER_ARGS, expected_tree="filters", expected_rc=_modern_filters_rc,
             doc="filter rules and -F per-directory .rsync-filter files (read by the "
                 "sender) are applied as upstream applies them (before protocol 29 the "
                 "client refuses them: code 2)"),
        Case("filters_txt_only", TXT_ONLY_ARGS, expected_tree="txt-only",
             expected_rc=_modern_filters_rc,
             doc="-FF -m with include */ *.txt, exclude * sends only .txt files and the "
                 "directories leading to them (before protocol 29: code 2)"),
        Case("relative", ["-aR"], relative=True, sources=RELATIVE_SOURCES,
             doc="-aR with a /./ anchor and a path with a space delivers the paths with "
                 "their implied parent directories"),
        Case("chroot_module", ["-a"], module="tree_chroot", munge=False, root_only=True,
             doc="-a from a `use chroot = yes` module sends symlink targets verbatim "
                 "(no munging)"),
    ]
    return cases


CASES = build_cases()


def _txt_only(src: tree.Snapshot) -> tree.Snapshot:
    keep_files = {p for p, e in src.entries.items() if e.kind != "dir" and p.endswith(".txt")}
    keep = set(keep_files) | {"."}
    for p in keep_files:
        parts = p.split("/")
        for i in range(1, len(parts)):
            keep.add("/".join(parts[:i]))
    return tree.Snapshot(src.root, {p: e for p, e in src.entries.items() if p in keep})


class PullMatrixTest(unittest.TestCase):
    """One generated tree, one target/upstream daemon pair for all matrix cases."""

    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-pull-matrix-")
        cls.gen = tree.generate_tree(os.path.join(cls.base, "module"))
        cls.src = tree.snapshot(cls.gen.root)
        chroot = ("tree_chroot",) if h.running_as_root() else ()
        cls.pair = h.DaemonPair(h.tree_module_config(cls.gen.root, chroot_modules=chroot))
        cls.addClassCleanup(cls.pair.stop)
        cls.counter = 0

    # -- one case ----------------------------------------------------------------------

    def _dest(self, case: Case, proto: int, who: str) -> str:
        type(self).counter += 1
        return os.path.join(self.base, f"dest-{type(self).counter}-{case.name}-p{proto}-{who}")

    def _client_args(self, case: Case, proto: int, dest: Optional[str]) -> list[str]:
        args = [f"--protocol={proto}"] + case.args
        if case.kind == "copy":
            args += ["-i", "--stats"]
        for s in case.sources:
            args.append(f"{{url}}/{case.module}/{s}" if s else f"{{url}}/{case.module}/")
        if dest is not None:
            args.append(dest + "/")
        return args

    def _expected(self, case: Case) -> tree.Snapshot:
        if case.relative:
            return tree.expected_relative(self.src, case.sources, munge_symlinks=case.munge)
        if case.expected_tree == "txt-only":
            return tree.expected_from_source(_txt_only(self.src), munge_symlinks=case.munge)
        include = None
        if case.expected_tree == "filters":
            include = _filter_include
        elif case.expected_tree == "filters-classic":
            include = lambda p: _filter_include(p, per_dir_rules=False)  # noqa: E731
        return tree.expected_from_source(self.src, munge_symlinks=case.munge, include=include)

    def run_case(self, case: Case, proto: int) -> None:
        pair = self.pair
        with_dest = case.kind != "list"
        dest_t = self._dest(case, proto, "target") if with_dest else None
        dest_u = self._dest(case, proto, "upstream") if with_dest else None
        # The two pulls are independent: run them at the same time to halve the wait.
        with ThreadPoolExecutor(max_workers=2) as pool:
            fut_t = pool.submit(h.run_against, pair.target,
                                self._client_args(case, proto, dest_t), None, 120)
            fut_u = pool.submit(h.run_against, pair.upstream,
                                self._client_args(case, proto, dest_u), None, 120)
            res_t, res_u = fut_t.result(), fut_u.result()
        problems: list[str] = []
        want_rc = case.expected_rc(proto)
        if res_u.returncode != want_rc:
            problems.append(f"EXPECTATION ERROR: upstream exited {res_u.returncode}, the "
                            f"test expects {want_rc}")
        if res_t.returncode != want_rc:
            problems.append(f"target exited {res_t.returncode}, expected {want_rc}")
        daemons = (pair.target, pair.upstream)
        labels = [(d, "<DEST>") for d in (dest_t, dest_u) if d]
        out_t = h.normalise_transfer_text(res_t.stdout, daemons, labels)
        out_u = h.normalise_transfer_text(res_u.stdout, daemons, labels)
        err_t = h.normalise_transfer_text(res_t.stderr, daemons, labels)
        err_u = h.normalise_transfer_text(res_u.stderr, daemons, labels)
        if case.hard_links and proto < 30:
            # Before protocol 30 the client's generator prints the "hf ... => ..." lines
            # while its receiver prints the ">f" lines: their interleaving is a race
            # inside the client (seen with upstream against itself), so only the set of
            # lines is compared there.
            out_t = "\n".join(sorted(out_t.splitlines()))
            out_u = "\n".join(sorted(out_u.splitlines()))
        if out_t != out_u:
            problems.append("stdout differs from upstream's:\n" + _unified(out_u, out_t))
        if err_t != err_u:
            problems.append("stderr differs from upstream's:\n" + _unified(err_u, err_t))

        if want_rc != 0 or case.kind == "dry":
            for d in (dest_t, dest_u):
                if d and os.path.lexists(d) and os.listdir(d):
                    problems.append(f"the run left files in {d}: {sorted(os.listdir(d))[:5]}")
        elif case.kind == "copy" and res_t.returncode == 0:
            problems += self._check_copy(case, proto, dest_t, dest_u)
        elif case.kind == "list" and res_t.returncode == 0:
            n_lines = len(res_t.stdout.splitlines())
            if n_lines != len(self.src.entries):
                problems.append(f"listing has {n_lines} lines, the module has "
                                f"{len(self.src.entries)} entries")
        if problems:
            self.fail(f"protocol {proto}, case {case.name} ({' '.join(case.args)}):"
                      + h.transfer_refused_hint(res_t) + "\n- " + "\n- ".join(problems)
                      + f"\n{h.brief_result(res_t)}\n{h.brief_result(res_u)}")
        if not KEEP:
            for d in (dest_t, dest_u):
                if d:
                    tree.remove_tree(d)

    def _check_copy(self, case: Case, proto: int, dest_t: str, dest_u: str) -> list[str]:
        problems = []
        expected = self._expected(case)
        rules = tree.Rules(protocol=proto, hard_links=case.hard_links,
                           root_entry=not case.relative)
        got_t = tree.snapshot(dest_t)
        diff = tree.diff_trees(expected, got_t, rules)
        if diff:
            problems.append("received tree differs from the source:\n    "
                            + "\n    ".join(diff[:60]))
        if os.path.isdir(dest_u):
            got_u = tree.snapshot(dest_u)
            udiff = tree.diff_trees(expected, got_u, rules)
            if udiff:
                problems.append("EXPECTATION ERROR: upstream's copy differs from the expected "
                                "tree too:\n    " + "\n    ".join(udiff[:60]))
            same = tree.diff_trees(got_u, got_t, tree.Rules(
                protocol=proto, exact_times=True, root_entry=not case.relative))
            if same:
                problems.append("received tree differs from upstream's copy:\n    "
                                + "\n    ".join(same[:60]))
        return problems


def _unified(expected: str, got: str) -> str:
    import difflib
    lines = difflib.unified_diff(expected.splitlines(), got.splitlines(), "upstream",
                                 "target", lineterm="", n=1)
    return "\n".join(list(lines)[:80])


def _make_test(case: Case, proto: int):
    def test(self):
        self.run_case(case, proto)
    test.__doc__ = f"Verifies that at protocol {proto}, {case.doc}, exactly as from upstream."
    return test


for _case in CASES:
    if _case.root_only and not h.running_as_root():
        continue
    for _proto in PROTOCOLS:
        setattr(PullMatrixTest, f"test_p{_proto}_{_case.name}", _make_test(_case, _proto))


if __name__ == "__main__":
    if not h.running_as_root():
        print("[pull-matrix] not root: no device nodes, foreign owners, mode-000 files or "
              "chroot module in this run (see the module docstring)", file=sys.stderr)
    h.main()
