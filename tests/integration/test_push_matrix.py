# SPDX-License-Identifier: MIT
"""The push matrix: every client protocol (27..32) times every push option set of issue 4.

The source is the pull matrix's generated tree (``tree.generate_tree``: nested and empty
dirs, files of many sizes, a sparse file, hard links, all kinds of symlinks, FIFOs, a
socket, odd names, nanosecond and out-of-range mtimes, odd modes; as root also device
nodes and several owners), with a 1 MiB ``large/random.bin`` to keep the matrix cheap.
One target daemon and one upstream ``rsync --daemon`` serve a writable module each (one
pair for the whole class): ``push``, ``use chroot = yes`` with ``uid = root`` and ``gid =
root`` as root (so that upstream can set owners and make device nodes, and stores symlink
targets verbatim), and ``pushmunge``, the same path without chroot, whose default ``munge
symlinks`` prefixes every received target with ``/rsyncd-munged/``.

Design (affordability): every option set runs at every protocol 27..32 (144 pushes to each
daemon, about 2 minutes on 2 cores): a push of this tree takes about 0.2 s, the two daemons
are pushed to at the same time, and each case pushes into its own fresh directory of the
module (``push/<case>-p<proto>/``), so no case depends on another.

For each (protocol, option set) the stock client pushes the same source to both daemons,
and the test checks:

- the exit code is the one the test expects, and upstream's (0 throughout);
- the client's stdout and stderr (``-i --stats``: itemized changes in order, deletions,
  file counts, literal/matched data) equal upstream's, after blanking only speeds, elapsed
  times and the byte counts multiplexing makes vary;
- the module's tree equals the expected one under upstream's semantics (``tree.Rules``):
  names, types, bytes, modes incl. setuid/setgid/sticky, owners, symlink targets, device
  numbers, hard-link groups with ``-H`` (and none without), mtimes with nanoseconds at
  protocol >= 31, whole seconds at 30, 32-bit unsigned seconds before 30;
- the module's tree equals upstream's module tree, to the nanosecond.

Fresh pushes (into a directory that does not exist yet): ``-a``, ``-aH``, ``-az``
(negotiated compressor), ``-az --compress-choice`` for zstd, lz4, zlibx and zlib, ``-ac``,
and ``-a`` into the munging module. The tree must equal the source.

Pushes over a stale copy (``STALE``, the source copied without hard links, then: one file
rewritten older, one changed in place with the same size, one changed and newer than the
source, one file and one directory removed, three extra entries added, one named *.tmp):

- ``--inplace``, ``--partial``: the source plus the extra entries;
- ``--delete``, ``--delete-before``, ``--delete-during``, ``--delete-delay``,
  ``--delete-after``: exactly the source;
- ``--delete --delete-excluded --exclude=*.tmp``: the source without any *.tmp;
- ``--delete --max-delete=1``: the source plus all but one extra entry, exit 0 (as
  upstream: the limit is the receiving daemon's, its io_error never reaches the client);
- ``-b --backup-dir=backups``: the source plus the extras, and the three replaced files'
  old versions (bytes, mode, mtime) under ``backups/``;
- ``-ani``: nothing changes (the stale tree, to the nanosecond);
- ``--existing``: existing entries updated, missing ones not created, extras kept;
- ``--ignore-existing``: existing files untouched, missing ones created, dirs updated;
- ``-u``: like ``-a``, except files newer in the module stay (the changed one, and below
  protocol 30 also times/post-2106, whose 32-bit mtime on the wire lies in 2063).

The suite runs as root (the issue asks for owners). Run as non-root, the tree has no
device nodes, foreign owners or root-only modes, the module is not chrooted (so every case
uses the munging module) and owners are not compared; that mode is not validated.
"""

import os
import sys
import unittest
from dataclasses import dataclass, replace
from typing import Callable, Optional

import harness as h
import tree

PROTOCOLS = (27, 28, 29, 30, 31, 32)
COMPRESSORS = ("zstd", "lz4", "zlibx", "zlib")
KEEP = bool(os.environ.get("OCR_TEST_KEEP"))
ROOT = h.running_as_root()

# Changes the stale copy carries (see the module docstring).
REWRITTEN_OLDER = "dir/a.txt"
CHANGED_SAME_SIZE = "large/random.bin"
NEWER_IN_MODULE = "files/mid-300k"
REMOVED_FILE = "files/page-4096"
REMOVED_DIR = "names/dir with space"
EXTRAS = ("extra-file", "extra-dir", "dir/nested/extra.tmp")
REPLACED = (REWRITTEN_OLDER, CHANGED_SAME_SIZE, NEWER_IN_MODULE)
BACKUP_DIR = "backups"
EXTRA_MTIME_NS = 1_650_000_000 * 10**9 + 424_242_424


def make_stale(src_root: str, dest: str) -> None:
    """The stale module directory a case pushes over (same for both daemons)."""
    tree.copy_tree(src_root, dest)

    def p(rel: str) -> str:
        return os.path.join(dest, rel)

    def set_mtime(rel: str, delta_s: int) -> None:
        ns = os.lstat(os.path.join(src_root, rel)).st_mtime_ns + delta_s * 10**9
        os.utime(p(rel), ns=(ns, ns), follow_symlinks=False)

    with open(p(REWRITTEN_OLDER), "wb") as fh:
        fh.write(b"an older alpha, of another length\n")
    set_mtime(REWRITTEN_OLDER, -100_000)
    with open(p(CHANGED_SAME_SIZE), "r+b") as fh:
        fh.seek(os.path.getsize(p(CHANGED_SAME_SIZE)) // 2)
        fh.write(b"\xAA" * 5000)
    set_mtime(CHANGED_SAME_SIZE, -100_000)
    with open(p(NEWER_IN_MODULE), "r+b") as fh:
        fh.write(b"changed in the module after the source was written\n")
    set_mtime(NEWER_IN_MODULE, +1_000_000)
    os.unlink(p(REMOVED_FILE))
    tree.remove_tree(p(REMOVED_DIR))
    with open(p("extra-file"), "wb") as fh:
        fh.write(b"only in the module\n")
    os.makedirs(p("extra-dir/sub"))
    with open(p("extra-dir/sub/file"), "wb") as fh:
        fh.write(b"only in the module, deeper\n")
    with open(p("dir/nested/extra.tmp"), "wb") as fh:
        fh.write(b"only in the module, excluded by *.tmp\n")
    # Fixed times for what was added, and source times again for the directories the
    # edits touched: both daemons' stale copies must be identical to the nanosecond.
    for rel in ("extra-file", "extra-dir/sub/file", "extra-dir/sub", "extra-dir",
                "dir/nested/extra.tmp"):
        os.utime(p(rel), ns=(EXTRA_MTIME_NS, EXTRA_MTIME_NS))
    for rel in ("dir/nested", "dir", "files", "large", "names", "."):
        ns = os.lstat(os.path.join(src_root, rel)).st_mtime_ns
        os.utime(p(rel), ns=(ns, ns))


def _is_tmp(path: str) -> bool:
    return path.rsplit("/", 1)[-1].endswith(".tmp")


def _extras(stale: tree.Snapshot) -> dict[str, tree.Entry]:
    return {p: e for p, e in stale.entries.items()
            if any(p == x or p.startswith(x + "/") for x in EXTRAS)}


# Expected module trees for the stale cases: (source, stale) -> expected.
def _exp_update(src: tree.Snapshot, stale: tree.Snapshot) -> tree.Snapshot:
    return tree.merged(src, _extras(stale))


def _exp_delete(src: tree.Snapshot, _stale: tree.Snapshot) -> tree.Snapshot:
    return src


def _exp_delete_excluded(src: tree.Snapshot, _stale: tree.Snapshot) -> tree.Snapshot:
    return tree.Snapshot(src.root, {p: e for p, e in src.entries.items() if not _is_tmp(p)})


def _exp_dry(_src: tree.Snapshot, stale: tree.Snapshot) -> tree.Snapshot:
    return stale


def _exp_existing(src: tree.Snapshot, stale: tree.Snapshot) -> tree.Snapshot:
    return tree.Snapshot(src.root, {p: src.entries.get(p, e) for p, e in stale.entries.items()})


def _exp_ignore_existing(src: tree.Snapshot, stale: tree.Snapshot) -> tree.Snapshot:
    out = dict(src.entries)
    for p, e in stale.entries.items():
        if p not in src.entries or e.kind != "dir":
            out[p] = e
    return tree.Snapshot(src.root, out)


def _exp_newer_kept(src: tree.Snapshot, stale: tree.Snapshot, proto: int) -> tree.Snapshot:
    # -u skips every non-directory whose module mtime is newer than the one the source
    # sends: the file changed in the module, and below protocol 30 also times/post-2106,
    # whose mtime the 32-bit field carries as a time in 2063.
    rules = tree.Rules(protocol=proto)
    kept = {p: e for p, e in stale.entries.items() if e.kind != "dir" and p in src.entries
            and e.mtime_ns // 10**9 > rules.expected_mtime(src.entries[p].mtime_ns) // 10**9}
    assert NEWER_IN_MODULE in kept
    return tree.merged(src, {**_extras(stale), **kept})


def _exp_backup(src: tree.Snapshot, stale: tree.Snapshot) -> tree.Snapshot:
    return _exp_update(src, stale)


@dataclass
class Case:
    """One option set of the matrix."""
    name: str
    args: list[str]
    doc: str
    hard_links: bool = False
    module: str = "push"
    stale: bool = False
    expected: Optional[Callable[..., tree.Snapshot]] = None   # (src, stale[, proto])
    with_protocol: bool = False   # ``expected`` takes the protocol as a third argument
    expected_rc: int = 0
    munged: bool = False          # expected symlink targets carry the munge prefix


def build_cases() -> list[Case]:
    cases = [
        Case("a", ["-a"], "-a uploads the whole tree"),
        Case("aH", ["-aH"], "-aH also keeps the hard-link groups", hard_links=True),
        Case("az", ["-az"], "-az (negotiated compressor) uploads the whole tree"),
    ]
    for z in COMPRESSORS:
        cases.append(Case(f"az_{z}", ["-az", f"--compress-choice={z}"],
                          f"-az --compress-choice={z} uploads the whole tree"))
    cases += [
        Case("ac", ["-ac"], "-ac (file checksums in the list) uploads the whole tree"),
        Case("munge", ["-a"], "-a into a `use chroot = no` module stores every symlink "
             "target with the /rsyncd-munged/ prefix", module="pushmunge", munged=True),
        Case("inplace", ["-a", "--inplace"], "--inplace over a stale copy updates changed "
             "files in place and leaves extra entries", stale=True, expected=_exp_update),
        Case("partial", ["-a", "--partial"], "--partial over a stale copy updates it",
             stale=True, expected=_exp_update),
    ]
    for form in ("delete", "delete-before", "delete-during", "delete-delay", "delete-after"):
        cases.append(Case(form.replace("-", "_"), ["-a", f"--{form}"],
                          f"--{form} over a stale copy leaves exactly the source",
                          stale=True, expected=_exp_delete))
    cases += [
        Case("delete_excluded", ["-a", "--delete", "--delete-excluded", "--exclude=*.tmp"],
             "--delete-excluded --exclude=*.tmp deletes the module's *.tmp and sends none",
             stale=True, expected=_exp_delete_excluded),
        Case("max_delete", ["-a", "--delete", "--max-delete=1"],
             "--max-delete=1 deletes one extra entry only (the client still exits 0: the "
             "receiving daemon's io_error does not reach a sending client)",
             stale=True, expected=None),
        Case("backup", ["-a", "-b", f"--backup-dir={BACKUP_DIR}"],
             "-b --backup-dir keeps the replaced files' old versions in the backup dir",
             stale=True, expected=_exp_backup),
        Case("dry_run", ["-an"], "-n itemizes the same changes and changes nothing",
             stale=True, expected=_exp_dry),
        Case("existing", ["-a", "--existing"], "--existing updates only existing entries",
             stale=True, expected=_exp_existing),
        Case("ignore_existing", ["-a", "--ignore-existing"],
             "--ignore-existing creates only missing entries", stale=True,
             expected=_exp_ignore_existing),
        Case("update", ["-au"], "-u keeps the files that are newer in the module",
             stale=True, expected=_exp_newer_kept, with_protocol=True),
    ]
    return cases


CASES = build_cases()


def _push_config(root: str) -> str:
    return (h.push_module_config(root, name="push", chroot=True) + "\n"
            + h.push_module_config(root, name="pushmunge", chroot=False))


def _unified(expected: str, got: str) -> str:
    import difflib
    lines = difflib.unified_diff(expected.splitlines(), got.splitlines(), "upstream",
                                 "target", lineterm="", n=1)
    return "\n".join(list(lines)[:80])


class PushMatrixTest(unittest.TestCase):
    """One generated source tree, one target/upstream daemon pair for all cases."""

    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-push-matrix-")
        cls.gen = tree.generate_tree(os.path.join(cls.base, "source"), large_size=tree.MIB)
        cls.src = tree.snapshot(cls.gen.root)
        cls.pair = h.PushPair(cls.base, _push_config)
        cls.addClassCleanup(cls.pair.stop)

    def _module_of(self, case: Case) -> str:
        return case.module if ROOT or case.module != "push" else "pushmunge"

    def run_case(self, case: Case, proto: int) -> None:
        pair = self.pair
        rel = f"{case.name}-p{proto}"
        dest_t = os.path.join(pair.target_root, rel)
        dest_u = os.path.join(pair.upstream_root, rel)
        stale = None
        if case.stale:
            for d in (dest_t, dest_u):
                make_stale(self.gen.root, d)
            stale = tree.snapshot(dest_t)
        module = self._module_of(case)
        args = ([f"--protocol={proto}"] + case.args + ["-i", "--stats", self.gen.root + "/",
                                                        f"{{url}}/{module}/{rel}/"])
        res_t, res_u = h.run_both(pair, args)
        problems: list[str] = []
        if res_u.returncode != case.expected_rc:
            problems.append(f"EXPECTATION ERROR: upstream exited {res_u.returncode}, the "
                            f"test expects {case.expected_rc}")
        if res_t.returncode != case.expected_rc:
            problems.append(f"target exited {res_t.returncode}, expected {case.expected_rc}")
        daemons = pair.daemons()
        labels = [(self.gen.root, "<SRC>")]
        out_t, out_u, err_t, err_u = (h.normalise_transfer_text(t, daemons, labels) for t in
                                      (res_t.stdout, res_u.stdout, res_t.stderr, res_u.stderr))
        if case.hard_links and proto < 30:
            # Below protocol 30 the "hf" lines and the transfer lines come from different
            # processes; their interleaving races (upstream against itself too).
            out_t = "\n".join(sorted(out_t.splitlines()))
            out_u = "\n".join(sorted(out_u.splitlines()))
        if out_t != out_u:
            problems.append("stdout differs from upstream's:\n" + _unified(out_u, out_t))
        if err_t != err_u:
            problems.append("stderr differs from upstream's:\n" + _unified(err_u, err_t))
        if not problems or all(not p.startswith("target exited") for p in problems):
            problems += self._check_trees(case, proto, dest_t, dest_u, stale)
        if problems:
            self.fail(f"protocol {proto}, case {case.name} ({' '.join(case.args)}):"
                      + h.push_refused_hint(res_t) + "\n- " + "\n- ".join(problems)
                      + f"\n{h.brief_result(res_t)}\n{h.brief_result(res_u)}")
        if not KEEP:
            for d in (dest_t, dest_u):
                tree.remove_tree(d)

    def _check_trees(self, case: Case, proto: int, dest_t: str, dest_u: str,
                     stale: Optional[tree.Snapshot]) -> list[str]:
        problems = []
        if not os.path.isdir(dest_t):
            return [f"the push created no {dest_t}"]
        got_t, got_u = tree.snapshot(dest_t), tree.snapshot(dest_u)
        ignore_backup = lambda p: p == BACKUP_DIR or p.startswith(BACKUP_DIR + "/")  # noqa: E731
        rules = tree.Rules(protocol=proto, hard_links=case.hard_links, owners=ROOT)
        if case.name == "backup":
            # Upstream makes the backup dir inside the destination after it has set the
            # destination's time: the root keeps the time of that mkdir.
            rules = replace(rules, ignore=ignore_backup, time_exempt=lambda p: p == ".")
        if not case.stale:
            expected = self.src
            if case.munged or not ROOT:
                expected = tree.Snapshot(expected.root, {
                    p: (replace(e, target=tree.MUNGE_PREFIX + e.target)
                        if e.kind == "symlink" else e) for p, e in expected.entries.items()})
            diff = tree.diff_trees(expected, got_t, rules)
            udiff = tree.diff_trees(expected, got_u, rules)
        elif case.expected is not None:
            expected = (case.expected(self.src, stale, proto) if case.with_protocol
                        else case.expected(self.src, stale))
            if not ROOT:
                expected = tree.Snapshot(expected.root, {
                    p: (replace(e, target=tree.MUNGE_PREFIX + e.target)
                        if e.kind == "symlink" and p not in stale.entries else e)
                    for p, e in expected.entries.items()})
            diff, udiff = (self._diff_stale(expected, stale, got, proto, rules)
                           for got in (got_t, got_u))
        else:  # --max-delete: every source entry, and all but one of the extra entries
            diff, udiff = (self._diff_max_delete(stale, got, proto, rules)
                           for got in (got_t, got_u))
        if diff:
            problems.append("module tree differs from the expected one:\n    "
                            + "\n    ".join(diff[:60]))
        if udiff:
            problems.append("EXPECTATION ERROR: upstream's module tree differs from the "
                            "expected one too:\n    " + "\n    ".join(udiff[:60]))
        same = tree.diff_trees(got_u, got_t, tree.Rules(
            protocol=proto, exact_times=True, owners=ROOT,
            time_exempt=lambda p: (case.name == "backup" and p == ".") or p == BACKUP_DIR
            or p.startswith(BACKUP_DIR + "/")
            # --max-delete: the directory an entry was deleted from keeps that moment's time
            or (case.name == "max_delete" and p.startswith("extra-dir"))))
        if same:
            problems.append("module tree differs from upstream's module tree:\n    "
                            + "\n    ".join(same[:60]))
        if case.name == "backup":
            problems += self._check_backups(stale, got_t)
        return problems

    def _diff_stale(self, expected: tree.Snapshot, stale: tree.Snapshot, got: tree.Snapshot,
                    proto: int, rules: tree.Rules) -> list[str]:
        # An entry the push leaves alone keeps its nanoseconds even below protocol 31, and
        # whether a directory's time is rewritten depends on what happened inside it: so
        # below 31 times are compared in whole seconds (upstream's own granularity there).
        if expected is stale:
            exp = stale
        else:
            exp = tree.with_expected_times(expected, proto)
            # Entries that keep their stale state keep its exact time.
            exp = tree.Snapshot(exp.root, {
                p: (stale.entries[p] if expected.entries[p] is stale.entries.get(p) else e)
                for p, e in exp.entries.items()})
        cmp_rules = replace(rules, exact_times=True)
        if proto < 31:
            return tree.diff_trees(tree.seconds_only(exp), tree.seconds_only(got), cmp_rules)
        return tree.diff_trees(exp, got, cmp_rules)

    def _diff_max_delete(self, stale: tree.Snapshot, got: tree.Snapshot, proto: int,
                         rules: tree.Rules) -> list[str]:
        extras = _extras(stale)
        kept = {p: e for p, e in extras.items() if p in got.entries}
        problems = []
        if len(kept) != len(extras) - 1:
            problems.append(f"expected exactly one extra entry deleted, left: {sorted(kept)}")
        problems += self._diff_stale(tree.merged(self.src, kept), stale, got, proto,
                                     replace(rules, dir_times=False))
        return problems

    def _check_backups(self, stale: tree.Snapshot, got: tree.Snapshot) -> list[str]:
        problems = []
        for rel in REPLACED:
            want = stale.entries[rel]
            have = got.entries.get(f"{BACKUP_DIR}/{rel}")
            if have is None:
                problems.append(f"no backup of {rel} in {BACKUP_DIR}/")
            elif (have.kind, have.size, have.digest, have.mode, have.mtime_ns) != (
                    want.kind, want.size, want.digest, want.mode, want.mtime_ns):
                problems.append(f"backup of {rel} is not its old version: "
                                f"{have.describe()} != {want.describe()}")
        return problems


h.add_protocol_cases(PushMatrixTest, CASES, lambda _c: PROTOCOLS)


if __name__ == "__main__":
    if not ROOT:
        print("[push-matrix] not root: no device nodes, foreign owners or chroot module in "
              "this run (see the module docstring)", file=sys.stderr)
    h.main()
