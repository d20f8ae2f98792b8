# SPDX-License-Identifier: MIT
"""Module policy on a push: read only, write only, module excludes, refuse options.

One target daemon and one upstream ``rsync --daemon``, each with its own copy of every
module directory (``harness.PushPair``); every case runs the same client command against
both and compares exit code, stdout and stderr after the usual normalisation, then
compares the module trees (to the nanosecond) with the state they must be in.

- ``read only`` (left out, upstream's default, and ``= yes``): a push fails with
  ``ERROR: module is read only`` (exit 1) and the module is untouched, bytes and times.
- ``write only = yes``: a push works (the module equals the source), while a pull and a
  listing of that module fail with ``ERROR: module is write only`` (exit 1).
- ``exclude = *.secret private`` and ``filter = - *.secret``: a pushed ``*.secret`` file
  (top level and in a subdirectory, and one whose name already exists in the module) is
  refused with ``ERROR: daemon refused to receive file "..."``, a pushed ``private``
  directory with ``... directory "private"``, exit 23; nothing excluded is written (the
  existing ``b.secret`` keeps its bytes), everything else arrives; with ``--delete`` and
  ``--delete-excluded`` the module's excluded files are not deleted although the client
  does not have them, while a plain stale file is; pushing straight to an excluded
  destination name is refused with ``ERROR: daemon has excluded destination "..."``
  (exit 3).
- ``refuse options = delete``: every delete form (``--delete``, ``--del``,
  ``--delete-before/-during/-delay/-after``, ``--delete-excluded``) is refused with
  ``rsync: The server is configured to refuse --delete`` (exit 4), module untouched;
  ``refuse options = inplace backup partial`` refuses ``--inplace``, ``-b`` (as
  ``--backup (-b)``), ``--partial`` and ``-P`` the same way, while a plain push works.

Allowed either way: in an incremental push upstream's generator creates an excluded
*directory* early and empty (mode 0700, generator.c:recv_generator's mkdir for a child dir
while the parent is processed, done before the daemon filter is consulted); the tests
accept that empty directory or its absence, but never anything inside it.
"""

import os
import unittest

import harness as h
import tree

SOURCE_FILES = {
    "a.txt": "alpha\n",
    "b.secret": "the client's secret\n",
    "sub/c.secret": "a deeper secret\n",
    "sub/d.txt": "delta\n",
    "private/p.txt": "private data\n",
}
MODULE_FILES = {
    "b.secret": "the module's own secret, must survive\n",
    "old.secret": "an excluded file the client does not have\n",
    "stale.txt": "a plain file the client does not have\n",
}
FIXED_NS = 1_600_000_000 * 10**9 + 5

MODULES = {
    "ro_default": "",
    "ro_explicit": "    read only = yes\n",
    "wo": "    read only = no\n    write only = yes\n",
    "ex": "    read only = no\n    exclude = *.secret private\n",
    "exfilter": "    read only = no\n    filter = - *.secret\n",
    "nodelete": "    read only = no\n    refuse options = delete\n",
    "nomisc": "    read only = no\n    refuse options = inplace backup partial\n",
}


def _config(root: str) -> str:
    ids = "    uid = root\n    gid = root\n" if h.running_as_root() else ""
    return "\n".join(f"[{name}]\n    path = {os.path.join(root, name)}\n{ids}{extra}"
                     for name, extra in MODULES.items())


def _fill(root: str, files: dict[str, str]) -> None:
    tree.remove_tree(root)
    h.make_tree(root, files)
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for n in dirnames + filenames:
            os.utime(os.path.join(dirpath, n), ns=(FIXED_NS, FIXED_NS))
    os.utime(root, ns=(FIXED_NS, FIXED_NS))


class PushPolicyTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-push-policy-")
        cls.src = os.path.join(cls.base, "source")
        _fill(cls.src, SOURCE_FILES)
        cls.pair = h.PushPair(cls.base, _config)
        cls.addClassCleanup(cls.pair.stop)

    def reset(self, module: str, files: dict[str, str]) -> tuple[str, str]:
        dirs = tuple(os.path.join(r, module) for r in self.pair.roots())
        for d in dirs:
            _fill(d, files)
        return dirs

    def run_same(self, args: list[str], want_rc: int) -> tuple[h.RunResult, h.RunResult]:
        res_t, res_u = h.run_both(self.pair, args)
        cmp = h.Comparison(res_t, res_u, self.pair.target, self.pair.upstream)
        detail = f"{h.push_refused_hint(res_t)}\n{res_t}\n{res_u}"
        self.assertEqual(res_u.returncode, want_rc, "EXPECTATION ERROR (upstream)" + detail)
        h.assert_same_as_upstream(self, cmp)
        return res_t, res_u

    def assert_module(self, dirs: tuple[str, str], expected: tree.Snapshot,
                      rules: tree.Rules = tree.Rules(exact_times=True)) -> None:
        got_t, got_u = tree.snapshot(dirs[0]), tree.snapshot(dirs[1])
        tree.assert_trees_equal(self, expected, got_u, rules, "EXPECTATION ERROR (upstream)")
        tree.assert_trees_equal(self, expected, got_t, rules, "target module")

    # -- read only / write only -------------------------------------------------------

    def check_read_only(self, module: str) -> None:
        dirs = self.reset(module, MODULE_FILES)
        before = tree.snapshot(dirs[0])
        res_t, _ = self.run_same(["-a", self.src + "/", f"{{url}}/{module}/"], 1)
        self.assertTrue(res_t.stderr.startswith("ERROR: module is read only\n"), str(res_t))
        self.assert_module(dirs, before)

    def test_read_only_by_default(self):
        """Verifies that a module without `read only` refuses a push with upstream's
        `ERROR: module is read only` (exit 1) and stays untouched."""
        self.check_read_only("ro_default")

    def test_read_only_explicit(self):
        """Verifies the same for `read only = yes`."""
        self.check_read_only("ro_explicit")

    def test_write_only_accepts_push_refuses_pull(self):
        """Verifies that a `write only` module takes a push (the module then equals the
        source) but refuses a pull and a listing with `ERROR: module is write only`."""
        dirs = self.reset("wo", {})
        self.run_same(["-a", self.src + "/", "{url}/wo/"], 0)
        self.assert_module(dirs, tree.snapshot(self.src),
                           tree.Rules(exact_times=True, owners=h.running_as_root()))
        dest = os.path.join(self.base, "pulled")
        os.makedirs(dest, exist_ok=True)
        res_t, _ = self.run_same(["-a", "{url}/wo/", dest + "/"], 1)
        self.assertTrue(res_t.stderr.startswith("ERROR: module is write only\n"), str(res_t))
        self.assertEqual(os.listdir(dest), [])
        res_t, _ = self.run_same(["{url}/wo/"], 1)
        self.assertTrue(res_t.stderr.startswith("ERROR: module is write only\n"), str(res_t))

    # -- module excludes ----------------------------------------------------------------

    def _excluded_result(self, module: str, deleted_stale: bool) -> tree.Snapshot:
        """What the module holds after pushing the source (module excludes applied)."""
        src = tree.snapshot(self.src)
        keep = {p: e for p, e in src.entries.items()
                if not p.endswith(".secret") and p != "." and not (
                    module == "ex" and (p == "private" or p.startswith("private/")))}
        scratch = os.path.join(self.base, f"expected-{module}")
        _fill(scratch, MODULE_FILES)
        old = tree.snapshot(scratch)
        entries = dict(keep)
        for p, e in old.entries.items():
            if p == "." or (deleted_stale and p == "stale.txt"):
                continue
            entries[p] = e
        entries["."] = src.entries["."]
        return tree.Snapshot(self.src, entries)

    def check_excluded(self, module: str, extra_args: list[str], deleted_stale: bool) -> None:
        dirs = self.reset(module, MODULE_FILES)
        res_t, _ = self.run_same(["-a"] + extra_args + [self.src + "/", f"{{url}}/{module}/"],
                                 23)
        for name in ("b.secret", "sub/c.secret"):
            self.assertIn(f'ERROR: daemon refused to receive file "{name}"\n', res_t.stderr)
        if module == "ex":
            self.assertIn('ERROR: daemon refused to receive directory "private"\n',
                          res_t.stderr)
        for d in dirs:
            self.assertFalse(os.path.lexists(os.path.join(d, "sub/c.secret")))
            if module == "ex":
                self.assert_no_private_content(d)
            with open(os.path.join(d, "b.secret")) as fh:
                self.assertEqual(fh.read(), MODULE_FILES["b.secret"], d)
        self.assert_module(dirs, self._excluded_result(module, deleted_stale),
                           tree.Rules(exact_times=True, owners=h.running_as_root(),
                                      ignore=lambda p: module == "ex" and p == "private"))

    def assert_no_private_content(self, d: str) -> None:
        # Upstream's incremental generator makes a child directory early (mode 0700, to
        # set the parent's time right away) without consulting the daemon filter, so an
        # excluded directory may appear, empty; nothing may ever be written inside it.
        private = os.path.join(d, "private")
        if os.path.lexists(private):
            self.assertTrue(os.path.isdir(private) and not os.path.islink(private), private)
            self.assertEqual(os.listdir(private), [], f"{private} must stay empty")

    def test_module_exclude_refuses_names(self):
        """Verifies that `exclude = *.secret private` refuses the excluded files and the
        excluded directory like upstream (exit 23), writes none of them, and delivers the
        rest."""
        self.check_excluded("ex", [], deleted_stale=False)

    def test_module_filter_refuses_names(self):
        """Verifies the same for `filter = - *.secret`."""
        self.check_excluded("exfilter", [], deleted_stale=False)

    def test_module_exclude_survives_delete(self):
        """Verifies that with --delete the module's excluded files are not deleted (the
        stale plain file is), exit 23 as upstream."""
        self.check_excluded("ex", ["--delete"], deleted_stale=True)

    def test_module_exclude_survives_delete_excluded(self):
        """Verifies the same with --delete-excluded --exclude=*.txt: the client's own
        exclusion deletes the module's *.txt files but never its daemon-excluded ones."""
        dirs = self.reset("ex", {**MODULE_FILES, "sub/old.txt": "old\n"})
        res_t, _ = self.run_same(["-a", "--delete", "--delete-excluded", "--exclude=*.txt",
                                  self.src + "/", "{url}/ex/"], 23)
        for d in dirs:
            self.assert_no_private_content(d)
            names = sorted(n for n in os.listdir(d) if n != "private")
            self.assertEqual(names, ["b.secret", "old.secret", "sub"], f"{d}\n{res_t}")
            self.assertEqual(os.listdir(os.path.join(d, "sub")), [], f"{d}\n{res_t}")
            with open(os.path.join(d, "b.secret")) as fh:
                self.assertEqual(fh.read(), MODULE_FILES["b.secret"])

    def test_excluded_destination_refused(self):
        """Verifies that a push whose destination itself is excluded is refused with
        `ERROR: daemon has excluded destination "..."` (exit 3), nothing written."""
        dirs = self.reset("ex", MODULE_FILES)
        before = tree.snapshot(dirs[0])
        for dest in ("x.secret", "private/"):
            res_t, _ = self.run_same([os.path.join(self.src, "a.txt"), f"{{url}}/ex/{dest}"], 3)
            self.assertTrue(res_t.stderr.startswith(
                f'ERROR: daemon has excluded destination "{dest}"\n'), str(res_t))
        self.assert_module(dirs, before)

    # -- refuse options -----------------------------------------------------------------

    def test_refuse_delete_every_form(self):
        """Verifies that `refuse options = delete` refuses every delete form with upstream's
        `The server is configured to refuse --delete` (exit 4), module untouched."""
        dirs = self.reset("nodelete", MODULE_FILES)
        before = tree.snapshot(dirs[0])
        for opt in ("--delete", "--del", "--delete-before", "--delete-during",
                    "--delete-delay", "--delete-after", "--delete-excluded"):
            with self.subTest(opt=opt):
                res_t, _ = self.run_same(["-a", opt, self.src + "/", "{url}/nodelete/"], 4)
                self.assertTrue(res_t.stderr.startswith(
                    "rsync: The server is configured to refuse --delete\n"), str(res_t))
        self.assert_module(dirs, before)

    def test_refuse_other_options(self):
        """Verifies that `refuse options = inplace backup partial` refuses --inplace, -b,
        --partial and -P with upstream's messages (exit 4), and a plain push still works."""
        dirs = self.reset("nomisc", MODULE_FILES)
        before = tree.snapshot(dirs[0])
        for opt, name in (("--inplace", "--inplace"), ("-b", "--backup (-b)"),
                          ("--partial", "--partial"), ("-P", "--partial")):
            with self.subTest(opt=opt):
                res_t, _ = self.run_same(["-a", opt, self.src + "/", "{url}/nomisc/"], 4)
                self.assertTrue(res_t.stderr.startswith(
                    f"rsync: The server is configured to refuse {name}\n"), str(res_t))
        self.assert_module(dirs, before)
        self.run_same(["-a", self.src + "/", "{url}/nomisc/"], 0)
        for d in dirs:
            with open(os.path.join(d, "sub", "d.txt")) as fh:
                self.assertEqual(fh.read(), SOURCE_FILES["sub/d.txt"])


if __name__ == "__main__":
    h.main()
