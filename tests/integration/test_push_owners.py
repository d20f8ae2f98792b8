# SPDX-License-Identifier: MIT
"""Owners on a push: --usermap, --groupmap, --chown, --numeric-ids and ``numeric ids``.

The daemon is the receiver, so it is the one that maps the sender's uids and gids
(upstream uidlist.c: the map is parsed when the file list starts to arrive, a missing
colon, an empty target or a malformed number ends the session with exit 1, an unknown
target name is reported and its item dropped). One target daemon and one upstream
``rsync --daemon`` (``harness.PushPair``) each serve four writable modules, all with
``uid = root`` and ``gid = root``:

- ``plain``: ``use chroot = no``: names are sent and matched against this machine's
  users and groups;
- ``plainnum``: the same with ``numeric ids = yes``: names are ignored (upstream sets
  its numeric_ids to -1, so the client still sends them);
- ``jail``: ``use chroot = yes``, whose default is numeric ids, and whose names (map
  targets included) are looked up inside the chroot, which has no user database;
- ``jailnames``: ``use chroot = yes`` with ``numeric ids = no`` and its own
  ``etc/passwd`` and ``etc/group`` that give known names other ids than the source
  machine's, so that name matching itself shows.

The source tree holds files, a directory and a symlink owned by existing users and
groups (root, daemon, bin, www-data, nobody/nogroup) and by ids that have no name
(4000, 4500, 5000). Each case pushes it with ``-a -i`` (plus its options) into a fresh
directory of a module on both daemons at the same time, at protocols 32, 31 and 30 and
for some cases also 29 and 27, and checks:

- the exit code, stdout and stderr equal upstream's (after blanking ports, speeds and
  the ``at FILE(LINE)`` suffix);
- the owners (uid and gid numbers) of every entry in both module trees are the same;
- where the case states them, the owners are the expected ones (so that a case that
  maps nothing cannot pass by accident).

Cases: ``--chown=USER:GROUP``, ``--chown=:GROUP``, ``--chown=USER``, a range map, a
wildcard map, a name map, ``--numeric-ids`` with a map, both ``numeric ids`` settings,
an unknown target name (with and without a malformed item further left), malformed maps,
and a second push over an existing tree whose ``-i`` lines show the owner changes.

Needs root (only root can give files other owners): run as another user the class fails
with a message saying so.
"""

import os
import re
import unittest
from dataclasses import dataclass
from typing import Callable, Optional

import harness as h
import tree

ROOT = h.running_as_root()

NOBODY = 65534
# The source: (path, kind, uid, gid). Ids 4000, 4500 and 5000 have no name here.
SOURCE = [
    ("f_root", "file", 0, 0),
    ("f_daemon", "file", 1, 2),
    ("f_bin", "file", 2, 2),
    ("f_www", "file", 33, 33),
    ("f_nobody", "file", NOBODY, NOBODY),
    ("f_4000", "file", 4000, 4000),
    ("f_4500", "file", 4500, 33),
    ("f_5000", "file", 5000, 4500),
    ("d", "dir", 4500, 33),
    ("d/in", "file", 2, 4000),
    ("sl", "symlink", 5000, 5000),
]
SOURCE_OWNERS = {p: (u, g) for p, _k, u, g in SOURCE}

# jailnames' own user database: the same names, other ids.
JAIL_PASSWD = ("root:x:0:0::/:/bin/sh\nnobody:x:4242:4243::/:/bin/sh\n"
               "daemon:x:77:77::/:/bin/sh\nwww-data:x:5000:5000::/:/bin/sh\n")
JAIL_GROUP = "root:x:0:\nnogroup:x:4243:\nbin:x:88:\nwww-data:x:6000:\n"
JAIL_UIDS = {1: 77, 33: 5000, NOBODY: 4242}
JAIL_GIDS = {2: 88, 33: 6000, NOBODY: 4243}

MODULES = ("plain", "plainnum", "jail", "jailnames")
MAIN_PROTOCOLS = (32, 31, 30)
ALL_PROTOCOLS = (32, 31, 30, 29, 27)

Owners = dict[str, tuple[int, int]]


def _map_each(fn: Callable[[str, int, int], tuple[int, int]]) -> Callable[[], Owners]:
    return lambda: {p: fn(p, u, g) for p, (u, g) in SOURCE_OWNERS.items()}


@dataclass
class Case:
    """One push (or, with ``first``, a push over the result of a first one)."""
    name: str
    module: str
    args: list[str]
    doc: str
    protocols: tuple[int, ...] = MAIN_PROTOCOLS
    expected: Optional[Callable[[], Owners]] = None  # owners by path, "." left out
    expected_rc: Optional[int] = 0  # None: whatever upstream does
    first: Optional[list[str]] = None  # a first push, with these options, before the case


def build_cases() -> list[Case]:
    return [
        Case("chown_both", "plain", ["--chown=nobody:nogroup"],
             "--chown=nobody:nogroup gives every entry nobody:nogroup",
             protocols=ALL_PROTOCOLS, expected=_map_each(lambda p, u, g: (NOBODY, NOBODY))),
        Case("chown_group", "plain", ["--chown=:nogroup"],
             "--chown=:nogroup changes only the groups",
             expected=_map_each(lambda p, u, g: (u, NOBODY))),
        Case("chown_user", "plain", ["--chown=daemon"],
             "--chown=daemon changes only the owners",
             expected=_map_each(lambda p, u, g: (1, g))),
        Case("range", "plain", ["--usermap=4000-4999:bin,0:3", "--groupmap=30-40:4000"],
             "a range maps every id inside it, a number maps one id",
             protocols=ALL_PROTOCOLS,
             expected=_map_each(lambda p, u, g: (2 if 4000 <= u <= 4999 else 3 if u == 0 else u,
                                                 4000 if 30 <= g <= 40 else g))),
        Case("wildcard", "plain", ["--usermap=w*:daemon,n?body:7,*:4321"],
             "wildcards match the sender's names; '*' also matches ids without a name",
             expected=_map_each(lambda p, u, g: ({33: 1, NOBODY: 7}.get(u, 4321), g))),
        Case("names", "plain", ["--usermap=root:5,bin:6", "--groupmap=www-data:nogroup"],
             "a name item matches the sender's name for an id (root included)",
             protocols=ALL_PROTOCOLS,
             expected=_map_each(lambda p, u, g: ({0: 5, 2: 6}.get(u, u), NOBODY if g == 33 else g))),
        Case("numeric_ids_map", "plain", ["--numeric-ids", "--usermap=root:7,4000:5,bin:9"],
             "with --numeric-ids no names travel: only the number item applies",
             expected=_map_each(lambda p, u, g: (5 if u == 4000 else u, g))),
        Case("module_numeric", "plainnum", ["--usermap=root:7,nobody:8,4500:9"],
             "numeric ids = yes ignores the names the client sends; numbers still map",
             expected=_map_each(lambda p, u, g: (9 if u == 4500 else u, g))),
        Case("module_numeric_plain", "plainnum", [],
             "numeric ids = yes keeps the sender's ids",
             expected=lambda: dict(SOURCE_OWNERS)),
        Case("jail_default_numeric", "jail", ["--usermap=root:7,*:1234", "--groupmap=4000-5000:77"],
             "a chroot module is numeric by default: '*' and ranges map, names do not",
             expected=_map_each(lambda p, u, g: (1234, 77 if 4000 <= g <= 5000 else g))),
        Case("jail_unknown_names", "jail", ["--chown=nobody:nogroup"],
             "inside a chroot without a user database the --chown names are unknown: "
             "reported, and owners kept", protocols=ALL_PROTOCOLS, expected_rc=None,
             expected=lambda: dict(SOURCE_OWNERS)),
        Case("jailnames_match", "jailnames", [],
             "numeric ids = no in a chroot matches names against the module's own database",
             protocols=ALL_PROTOCOLS,
             expected=_map_each(lambda p, u, g: (JAIL_UIDS.get(u, u), JAIL_GIDS.get(g, g)))),
        Case("jailnames_chown", "jailnames", ["--chown=nobody:nogroup"],
             "--chown names are looked up in the module's own database",
             expected=_map_each(lambda p, u, g: (4242, 4243))),
        Case("unknown_target", "plain", ["--usermap=4000:nosuch-user-xyz,*:bin"],
             "an unknown target name is reported and only its item is dropped",
             protocols=ALL_PROTOCOLS, expected_rc=None,
             expected=_map_each(lambda p, u, g: (2, g))),
        Case("no_colon", "plain", ["--usermap=4000"],
             "a map item without a colon ends the session (exit 1)", expected_rc=1),
        Case("bad_number", "plain", ["--groupmap=1-2-3:bin"],
             "a malformed number ends the session (exit 1)", protocols=ALL_PROTOCOLS,
             expected_rc=1),
        Case("unknown_then_bad", "plain", ["--groupmap=bad,1:nosuch-group-xyz"],
             "items are checked right to left: the unknown name is reported before the "
             "bad item ends the session", expected_rc=1),
        Case("rechown", "plain", ["--chown=nobody:nogroup"],
             "a second push with --chown over an existing tree itemizes the owner and "
             "group changes", protocols=ALL_PROTOCOLS, first=[],
             expected=_map_each(lambda p, u, g: (NOBODY, NOBODY))),
    ]


CASES = build_cases()


def build_source(root: str) -> None:
    os.makedirs(root)
    for rel, kind, uid, gid in SOURCE:
        p = os.path.join(root, rel)
        if kind == "dir":
            os.makedirs(p)
        elif kind == "symlink":
            os.symlink("f_root", p)
        else:
            with open(p, "w") as fh:
                fh.write(f"{rel}\n")
        os.lchown(p, uid, gid)
    for rel, *_ in SOURCE:
        os.utime(os.path.join(root, rel), (1_600_000_000, 1_600_000_000), follow_symlinks=False)
    os.utime(root, (1_600_000_000, 1_600_000_000))


# Below protocol 31 a daemon that fails while the file list arrives (before upstream's
# do_recv forks its receiver) closes without waiting for the client, whose unread list
# then normally turns the close into a reset ("read error: Connection reset by peer",
# exit 10); now and then the client sees a plain close first ("connection unexpectedly
# closed", exit 12). Upstream against itself shows both, so either counts as the end.
_CONNECTION_END = re.compile(
    r"^rsync: (?:\[sender\] read error: Connection reset by peer \(104\)"
    r"|connection unexpectedly closed \(\d+ bytes received so far\) \[sender\])\n"
    r"rsync error: error in (?:socket IO \(code 10\)|rsync protocol data stream \(code 12\))"
    r" at .*\n", re.MULTILINE)


def _connection_end_text(text: str) -> str:
    return _CONNECTION_END.sub("<CONNECTION END>\n", text)


def _connection_end_rc(rc: int) -> int:
    return 1 if rc in (10, 12) else rc


def owners_of(root: str) -> Owners:
    out: Owners = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_uid, st.st_gid)
    return out


def _config(root: str) -> str:
    extra = {"plainnum": "    numeric ids = yes\n", "jailnames": "    numeric ids = no\n"}
    return "\n".join(
        h.push_module_config(os.path.join(root, m), name=m, chroot=m.startswith("jail"),
                             extra=extra.get(m, ""))
        for m in MODULES)


def _prepare_modules(base: str) -> None:
    for side in ("module-target", "module-upstream"):
        for m in MODULES:
            d = os.path.join(base, side, m)
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        etc = os.path.join(base, side, "jailnames", "etc")
        os.makedirs(etc, exist_ok=True)
        for name, text in (("passwd", JAIL_PASSWD), ("group", JAIL_GROUP)):
            with open(os.path.join(etc, name), "w") as fh:
                fh.write(text)
            os.chmod(os.path.join(etc, name), 0o644)


class PushOwnersTest(unittest.TestCase):
    """One source tree, one target/upstream daemon pair for every case."""

    @classmethod
    def setUpClass(cls):
        if not ROOT:
            raise AssertionError("test_push_owners needs root: only root can push files of "
                                 "other owners and let a daemon map them (run the suite as root)")
        cls.base = h.make_temp_dir("ocr-push-owners-")
        cls.src = os.path.join(cls.base, "source")
        build_source(cls.src)
        _prepare_modules(cls.base)
        cls.pair = h.PushPair(cls.base, _config)
        cls.addClassCleanup(cls.pair.stop)

    def run_case(self, case: Case, proto: int) -> None:
        pair = self.pair
        rel = f"{case.name}-p{proto}"
        dests = [os.path.join(root, case.module, rel) for root in pair.roots()]
        base_args = [f"--protocol={proto}", "-a", "-i"]
        target = f"{{url}}/{case.module}/{rel}/"
        problems: list[str] = []
        if case.first is not None:
            first_t, first_u = h.run_both(pair, base_args + case.first + [self.src + "/", target])
            if first_t.returncode != 0 or first_u.returncode != 0:
                self.fail(f"the first push failed:\n{h.brief_result(first_t)}\n"
                          f"{h.brief_result(first_u)}")
        res_t, res_u = h.run_both(pair, base_args + case.args + [self.src + "/", target])
        rc_t, rc_u = res_t.returncode, res_u.returncode
        if case.expected_rc == 1 and proto < 31:
            rc_t, rc_u = _connection_end_rc(rc_t), _connection_end_rc(rc_u)
        if case.expected_rc is not None and rc_u != case.expected_rc:
            problems.append(f"EXPECTATION ERROR: upstream exited {res_u.returncode}, the test "
                            f"expects {case.expected_rc}")
        if rc_t != rc_u:
            problems.append(f"target exited {res_t.returncode}, upstream {res_u.returncode}")
        labels = [(self.src, "<SRC>")]
        daemons = pair.daemons()
        out_t, out_u, err_t, err_u = (h.normalise_transfer_text(t, daemons, labels) for t in
                                      (res_t.stdout, res_u.stdout, res_t.stderr, res_u.stderr))
        if case.expected_rc == 1 and proto < 31:
            err_t, err_u = _connection_end_text(err_t), _connection_end_text(err_u)
        if out_t != out_u:
            problems.append(f"stdout differs:\n--- upstream\n{out_u}--- target\n{out_t}")
        if err_t != err_u:
            problems.append(f"stderr differs:\n--- upstream\n{err_u}--- target\n{err_t}")
        got_t, got_u = (owners_of(d) if os.path.isdir(d) else {} for d in dests)
        if got_t != got_u:
            diff = sorted(p for p in set(got_t) | set(got_u) if got_t.get(p) != got_u.get(p))
            problems.append("owners differ from upstream's (path: target / upstream): "
                            + ", ".join(f"{p}: {got_t.get(p)} / {got_u.get(p)}" for p in diff))
        if case.expected is not None:
            want = case.expected()
            for label, got in (("target", got_t), ("EXPECTATION ERROR: upstream", got_u)):
                wrong = sorted(p for p in want if got.get(p) != want[p])
                if wrong:
                    problems.append(f"{label}: owners not the expected ones (path: got / "
                                    "expected): " + ", ".join(
                                        f"{p}: {got.get(p)} / {want[p]}" for p in wrong))
        if problems:
            self.fail(f"protocol {proto}, case {case.name} ({' '.join(case.args)}) on module "
                      f"{case.module}:\n- " + "\n- ".join(problems)
                      + f"\n{h.brief_result(res_t)}\n{h.brief_result(res_u)}")
        for d in dests:
            if os.path.isdir(d):
                tree.remove_tree(d)


h.add_protocol_cases(PushOwnersTest, CASES, lambda c: c.protocols)


if __name__ == "__main__":
    h.main()
