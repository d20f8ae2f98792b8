# SPDX-License-Identifier: MIT
"""ocrsyncd's command line (ocrsyncd only).

Behaviours checked:
- `--help` exits 0 and prints usage text naming the daemon options;
- `--version` exits 0 and prints the project version (from the top-level CMakeLists.txt);
- `--module demo=DIR` with no config file serves a listing containing `demo`;
- `--dparam motdfile=F` shows the motd before the listing;
- `--module demo=DIR` is read-only (a push is refused like a `read only` module) and
  `--module demo=DIR:rw` is not;
- an unknown option exits 1 with an error message naming it;
- `--port=0` means no port given: the daemon listens on the config's `port` (class
  PortZeroTest, also run against upstream, whose clientserver.c:daemon_main does this).
"""

import os
import re
import subprocess

import harness as h

TOP_CMAKE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                          "..", "..", "CMakeLists.txt"))


def run_ocrsyncd(args, timeout=20) -> tuple[int, str, str]:
    cp = subprocess.run([h.ocrsyncd_path()] + list(args), stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return cp.returncode, cp.stdout.decode(errors="replace"), cp.stderr.decode(errors="replace")


def project_version() -> str:
    with open(TOP_CMAKE) as fh:
        m = re.search(r"project\(\s*ocrsyncd\s+VERSION\s+([0-9.]+)", fh.read())
    if not m:
        raise AssertionError(f"no project(ocrsyncd VERSION x.y.z) in {TOP_CMAKE}")
    return m.group(1)


@h.ocrsyncd_only
class CliTest(h.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.dir = h.make_tree(os.path.join(self.tmp, "demo"), {"hello.txt": "hi\n"})
        self.src = h.make_tree(os.path.join(self.tmp, "src"), {"upload.txt": "up\n"})

    def start_module_daemon(self, module_arg: str, *extra: str) -> h.Daemon:
        # No config file: the harness adds --log-file; no pid file is written.
        return self.start_daemon(None, extra_args=["--module", module_arg, *extra])

    def test_help(self):
        """Verifies that `--help` exits 0 and prints usage text mentioning --config and
        --port."""
        rc, out, err = run_ocrsyncd(["--help"])
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"(?i)usage", out + err)
        for opt in ("--config", "--port", "--daemon", "--module", "--check-config"):
            self.assertIn(opt, out)

    def test_version(self):
        """Verifies that `--version` exits 0 and prints the project's version number."""
        rc, out, err = run_ocrsyncd(["--version"])
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, rf"(?<![0-9.]){re.escape(project_version())}(?![0-9])", out)

    def test_unknown_option(self):
        """Verifies that an unknown option exits 1 with an error naming the option."""
        rc, out, err = run_ocrsyncd(["--daemon", "--no-such-option-xyz"])
        self.assertEqual(rc, 1, out + err)
        self.assertIn("no-such-option-xyz", err)

    def test_module_without_config(self):
        """Verifies that `--module demo=DIR` with no config file serves a listing of
        exactly the one module."""
        d = self.start_module_daemon(f"demo={self.dir}")
        rc, out, err = h.run_rsync([d.url()])
        self.assertEqual(rc, 0, err + d.describe())
        self.assertEqual(out, "demo           \t\n")

    def test_dparam_motd(self):
        """Verifies that `--dparam motdfile=F` shows F's text (plus a blank line) before the
        listing."""
        motd = h.write_file(os.path.join(self.tmp, "motd"), "Message of the day\n")
        d = self.start_module_daemon(f"demo={self.dir}", "--dparam", f"motdfile={motd}")
        rc, out, err = h.run_rsync([d.url()])
        self.assertEqual(rc, 0, err + d.describe())
        self.assertEqual(out, "Message of the day\n\ndemo           \t\n")

    def test_module_is_read_only_by_default(self):
        """Verifies that a push to a `--module demo=DIR` module is refused as read-only."""
        d = self.start_module_daemon(f"demo={self.dir}")
        rc, out, err = h.run_rsync([os.path.join(self.src, "upload.txt"), d.url("demo/")])
        self.assertEqual(rc, 1, err + d.describe())
        self.assertTrue(err.startswith("ERROR: module is read only\n"), err)

    def test_module_rw(self):
        """Verifies that `--module demo=DIR:rw` accepts a push: the file arrives, the
        session is logged, and nothing is refused."""
        os.chmod(self.dir, 0o777)  # the module user (nobody, when root) must be able to write
        d = self.start_module_daemon(f"demo={self.dir}:rw")
        log_mark = d.log_mark()
        rc, out, err = h.run_rsync([os.path.join(self.src, "upload.txt"), d.url("demo/")])
        self.assertNotIn("module is read only", err, d.describe())
        self.assertFalse([l for l in err.splitlines() if l.startswith("@ERROR")], err)
        d.wait_for_log(r"rsync to demo/ from \S+ \(127\.0\.0\.1\)", since=log_mark)
        self.assertEqual(rc, 0, err + d.describe())
        with open(os.path.join(self.dir, "upload.txt")) as fh:
            self.assertEqual(fh.read(), "up\n")


class PortZeroTest(h.DaemonTestCase):

    def test_port_zero_uses_the_config_port(self):
        """Verifies that --port=0 leaves the port to the config's `port` parameter."""
        port = h.free_port()
        module = h.make_tree(os.path.join(self.tmp, "tree"), {"f": "x\n"})
        conf = h.write_file(os.path.join(self.tmp, "rsyncd.conf"),
                            f"use chroot = no\nport = {port}\nlog file = {self.tmp}/log\n"
                            f"pid file = {self.tmp}/pid\n[m]\n    path = {module}\n")
        proc = subprocess.Popen(h.daemon_binary(h.TARGET) + ["--no-detach", f"--config={conf}", "--port=0",
                                                             "--address=127.0.0.1"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            def listing():
                rc, out, err = h.run_rsync([f"rsync://127.0.0.1:{port}/"])
                return rc == 0 and out

            out = h.eventually(listing, timeout=10,
                               message=lambda: f"nothing serves port {port} (daemon exit status {proc.poll()})")
            self.assertIn("m", out.split())
        finally:
            proc.terminate()
            proc.communicate(timeout=10)


if __name__ == "__main__":
    h.main()
