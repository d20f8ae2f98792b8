# SPDX-License-Identifier: MIT
"""-H on a push for every file type: hard-linked symlinks, devices, FIFOs and sockets.

Upstream's receiving side links every non-directory member of a hard-link group to its
leader, whatever its type (generator.c:recv_generator asks hlink.c:hard_link_check before
it looks at the type, and finish_hard_link runs after a symlink, device or special file
is made or found up to date). The source tree holds groups of three names of one
regular file, of one symlink (``ln -P``), of one character device, and groups of two of a
dangling symlink, a block device, a FIFO and a socket; some members sit in a
subdirectory, so that with incremental recursion a group spans two file lists.

One target daemon and one upstream ``rsync --daemon`` (``harness.PushPair``) serve the
module ``push`` (``use chroot = yes``, ``uid``/``gid = root``) and ``pushmunge`` (the
same without chroot, which munges symlink targets). Each case pushes the tree into a
fresh directory of both at the same time, at protocols 27 to 32, and checks:

- the exit code, stdout (``-i``, below protocol 30 in sorted order, since upstream's
  "hf" lines and transfer lines come from two processes there) and stderr equal
  upstream's;
- both module trees have the same names, types, link counts, symlink targets and device
  numbers, and the same groups of names that share an inode;
- with ``-H`` those groups are the source's (and every entry is its own without it);
  below protocol 28 only the regular file's group, since upstream's sender sends
  hard-link data for regular files only there (flist.c:send_file_entry).

Cases: a fresh ``-aH`` push; ``-aH`` over a copy made without ``-H`` (every member is
relinked and itemized ``h... NAME => LEADER``); ``-aH`` over an identical tree (members
already linked: itemized without a leader name only if anything else changed); ``-aHn``
over that copy (reports, changes nothing); ``-rlDH`` (no times); ``-aH`` into the
munging module; ``-a`` without ``-H`` (no groups).

Needs root (device nodes); run as another user the class fails with a message saying so.
"""

import os
import socket
import stat
import unittest
from dataclasses import dataclass
from typing import Optional

import harness as h
import tree

ROOT = h.running_as_root()
PROTOCOLS = (32, 31, 30, 29, 28, 27)
MTIME = 1_600_000_000


def build_source(root: str) -> None:
    os.makedirs(os.path.join(root, "sub"))

    def p(rel: str) -> str:
        return os.path.join(root, rel)

    with open(p("f1"), "w") as fh:
        fh.write("data\n")
    os.link(p("f1"), p("f2"))
    os.link(p("f1"), p("sub/f3"))
    os.symlink("f1", p("sl1"))
    os.link(p("sl1"), p("sl2"), follow_symlinks=False)
    os.link(p("sl1"), p("sub/sl3"), follow_symlinks=False)
    os.symlink("dangling", p("dl1"))
    os.link(p("dl1"), p("dl2"), follow_symlinks=False)
    os.mkfifo(p("fifo1"))
    os.link(p("fifo1"), p("fifo2"))
    os.mknod(p("dev1"), 0o644 | stat.S_IFCHR, os.makedev(1, 3))
    os.link(p("dev1"), p("dev2"))
    os.link(p("dev1"), p("sub/dev3"))
    os.mknod(p("blk1"), 0o640 | stat.S_IFBLK, os.makedev(7, 200))
    os.link(p("blk1"), p("blk2"))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(p("sock1"))
    finally:
        sock.close()
    os.link(p("sock1"), p("sock2"))
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames + dirnames:
            os.utime(os.path.join(dirpath, name), (MTIME, MTIME), follow_symlinks=False)
    os.utime(root, (MTIME, MTIME))


def structure(root: str) -> tuple[dict[str, tuple], set[frozenset[str]]]:
    """Each entry's (type, link count, symlink target, device numbers), and the groups of
    two or more names that share an inode."""
    entries: dict[str, tuple] = {}
    by_inode: dict[tuple[int, int], set[str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            kind = stat.S_IFMT(st.st_mode)
            target = os.readlink(p) if stat.S_ISLNK(st.st_mode) else None
            rdev = ((os.major(st.st_rdev), os.minor(st.st_rdev))
                    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else None)
            nlink = None if stat.S_ISDIR(st.st_mode) else st.st_nlink
            entries[rel] = (kind, nlink, target, rdev)
            if not stat.S_ISDIR(st.st_mode):
                by_inode.setdefault((st.st_dev, st.st_ino), set()).add(rel)
    groups = {frozenset(names) for names in by_inode.values() if len(names) > 1}
    return entries, groups


@dataclass
class Case:
    name: str
    args: list[str]
    doc: str
    module: str = "push"
    first: Optional[list[str]] = None  # a first push (into the same directory) before the case
    hard_links: bool = True           # the result keeps the source's groups


CASES = [
    Case("fresh", ["-aH"], "a fresh -aH push links every group's members, whatever their type"),
    Case("relink", ["-aH"], "-aH over a copy made without -H relinks every member to its "
         "leader and itemizes it", first=["-a"]),
    Case("uptodate", ["-aH"], "-aH over an identical tree changes and reports nothing",
         first=["-aH"]),
    Case("dry_run", ["-aHn"], "-aHn over a copy made without -H reports the links it would "
         "make and makes none", first=["-a"], hard_links=False),
    Case("no_times", ["-rlDH"], "-rlDH (no times, owners or perms) links the groups too",
         first=["-a"]),
    Case("munge", ["-aH"], "-aH into a munging module links the munged symlinks",
         module="pushmunge"),
    Case("no_H", ["-a"], "-a without -H makes every name its own inode", hard_links=False),
]


def _config(root: str) -> str:
    return (h.push_module_config(root, name="push", chroot=True) + "\n"
            + h.push_module_config(root, name="pushmunge", chroot=False))


class PushHardLinksTest(unittest.TestCase):
    """One source tree, one target/upstream daemon pair for every case."""

    @classmethod
    def setUpClass(cls):
        if not ROOT:
            raise AssertionError("test_push_hlinks needs root: the source tree has device "
                                 "nodes and the modules make them (run the suite as root)")
        cls.base = h.make_temp_dir("ocr-push-hlinks-")
        cls.src = os.path.join(cls.base, "source")
        build_source(cls.src)
        cls.src_entries, cls.src_groups = structure(cls.src)
        assert len(cls.src_groups) == 7, cls.src_groups
        cls.pair = h.PushPair(cls.base, _config)
        cls.addClassCleanup(cls.pair.stop)

    def run_case(self, case: Case, proto: int) -> None:
        pair = self.pair
        rel = f"{case.name}-p{proto}"
        dests = [os.path.join(root, rel) for root in pair.roots()]
        target = f"{{url}}/{case.module}/{rel}/"
        base_args = [f"--protocol={proto}"]
        if case.first is not None:
            first_t, first_u = h.run_both(pair, base_args + case.first + [self.src + "/", target])
            if first_t.returncode != 0 or first_u.returncode != 0:
                self.fail(f"the first push failed:\n{h.brief_result(first_t)}\n"
                          f"{h.brief_result(first_u)}")
        res_t, res_u = h.run_both(pair, base_args + case.args + ["-i", self.src + "/", target])
        problems: list[str] = []
        if res_u.returncode != 0:
            problems.append(f"EXPECTATION ERROR: upstream exited {res_u.returncode}")
        if res_t.returncode != res_u.returncode:
            problems.append(f"target exited {res_t.returncode}, upstream {res_u.returncode}")
        labels = [(self.src, "<SRC>")]
        out_t, out_u, err_t, err_u = (h.normalise_transfer_text(t, pair.daemons(), labels) for t in
                                      (res_t.stdout, res_u.stdout, res_t.stderr, res_u.stderr))
        if proto < 30:
            out_t = "\n".join(sorted(out_t.splitlines()))
            out_u = "\n".join(sorted(out_u.splitlines()))
        if out_t != out_u:
            problems.append(f"stdout differs:\n--- upstream\n{out_u}\n--- target\n{out_t}")
        if err_t != err_u:
            problems.append(f"stderr differs:\n--- upstream\n{err_u}--- target\n{err_t}")
        (ent_t, groups_t), (ent_u, groups_u) = (structure(d) for d in dests)
        if ent_t != ent_u:
            diff = sorted(p for p in set(ent_t) | set(ent_u) if ent_t.get(p) != ent_u.get(p))
            problems.append("entries differ from upstream's (path: target / upstream): "
                            + "; ".join(f"{p}: {ent_t.get(p)} / {ent_u.get(p)}" for p in diff))
        if groups_t != groups_u:
            problems.append(f"inode groups differ from upstream's: target {sorted(map(sorted, groups_t))}"
                            f", upstream {sorted(map(sorted, groups_u))}")
        want = set()
        if case.hard_links:
            # Below protocol 28 only regular files carry hard-link data (flist.c).
            want = {g for g in self.src_groups
                    if proto >= 28 or self.src_entries[min(g)][0] == stat.S_IFREG}
        for label, got in (("target", groups_t), ("EXPECTATION ERROR: upstream", groups_u)):
            if got != want:
                problems.append(f"{label}: inode groups {sorted(map(sorted, got))}, expected "
                                f"{sorted(map(sorted, want))}")
        if problems:
            self.fail(f"protocol {proto}, case {case.name} ({' '.join(case.args)}):\n- "
                      + "\n- ".join(problems)
                      + f"\n{h.brief_result(res_t)}\n{h.brief_result(res_u)}")
        for d in dests:
            tree.remove_tree(d)


h.add_protocol_cases(PushHardLinksTest, CASES, lambda _c: PROTOCOLS)


if __name__ == "__main__":
    h.main()
