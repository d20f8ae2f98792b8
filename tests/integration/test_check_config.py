# SPDX-License-Identifier: MIT
"""`ocrsyncd --check-config` on the shared sample configs (ocrsyncd only).

Behaviours checked:
- every `tests/data/config/broken/*.conf` (each carries a header line
  `# expect: LINE: substring`) makes `ocrsyncd --check-config --config=F` exit 1 and print
  a line `F:LINE: ...substring...`;
- every `tests/data/config/good/*.conf`, and a good config generated here (existing paths,
  a 0600 secrets file, a motd), makes it exit 0.
"""

import glob
import os
import re
import subprocess
import unittest

import harness as h

DATA = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "..", "data", "config"))
EXPECT_RE = re.compile(r"^#\s*expect:\s*(\d+):\s*(.*?)\s*$", re.MULTILINE)


def check_config(path: str) -> tuple[int, str]:
    cmd = [h.ocrsyncd_path(), "--check-config", f"--config={path}"]
    cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, timeout=30)
    return cp.returncode, cp.stdout.decode(errors="replace")


@h.ocrsyncd_only
class CheckConfigTest(unittest.TestCase):

    def test_broken_configs_are_reported(self):
        """Verifies that each broken sample config exits 1 with a `FILE:LINE:` line that
        contains the substring its `# expect:` header names."""
        files = sorted(glob.glob(os.path.join(DATA, "broken", "*.conf")))
        self.assertTrue(files, f"no broken sample configs under {DATA}/broken")
        for path in files:
            with self.subTest(config=os.path.basename(path)):
                with open(path, errors="replace") as fh:
                    m = EXPECT_RE.search(fh.read())
                self.assertIsNotNone(m, f"{path} has no '# expect: LINE: substring' header")
                line, substring = m.group(1), m.group(2)
                rc, out = check_config(path)
                self.assertEqual(rc, 1, f"--check-config {path} exited {rc}; output:\n{out}")
                wanted = re.compile(rf"^{re.escape(path)}:{line}: .*{re.escape(substring)}",
                                    re.MULTILINE)
                self.assertRegex(out, wanted, f"expected '{path}:{line}: ...{substring}...'")

    def test_good_sample_configs_pass(self):
        """Verifies that each good sample config under tests/data/config/good exits 0."""
        for path in sorted(glob.glob(os.path.join(DATA, "good", "*.conf"))):
            with self.subTest(config=os.path.basename(path)):
                rc, out = check_config(path)
                self.assertEqual(rc, 0, f"--check-config {path} exited {rc}; output:\n{out}")

    def test_generated_good_config_passes(self):
        """Verifies that a realistic config whose paths and files all exist exits 0 and
        prints no `FILE:LINE:` problem line."""
        tmp = h.make_temp_dir("ocr-checkconfig-")
        mod = h.make_tree(os.path.join(tmp, "pub"), {"f": "x\n"})
        secrets = h.write_file(os.path.join(tmp, "secrets"), "alice:pw\n", 0o600)
        motd = h.write_file(os.path.join(tmp, "motd"), "hello\n")
        conf = h.write_file(os.path.join(tmp, "rsyncd.conf"), f"""# a good config
motd file = {motd}
pid file = {tmp}/rsyncd.pid
log file = {tmp}/rsyncd.log
use chroot = no
handshake timeout = 20
transfer workers = 4
spare workers = 1

[pub]
    path = {mod}
    comment = public
    read only = yes
    hosts allow = 127.0.0.1, 10.0.0.0/8
    refuse options = delete
[private]
    path = {mod}
    auth users = alice
    secrets file = {secrets}
    timeout = 600
""")
        rc, out = check_config(conf)
        self.assertEqual(rc, 0, f"--check-config exited {rc}; output:\n{out}")
        self.assertNotRegex(out, rf"^{re.escape(conf)}:\d+:", out)


if __name__ == "__main__":
    h.main()
