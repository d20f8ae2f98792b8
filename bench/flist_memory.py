#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""File-list memory benchmark: a pull of a tree of many files, ocrsyncd against upstream.

Incremental recursion (protocol 30+) lets a sender start at once and hold only the
directories still in flight, never the whole list. This pulls a tree of N empty files
(default one million, in directories of 1000) with ``rsync -an`` (a dry run: the client
still receives every list and asks nothing, so the sender's list handling is what is
measured), from ocrsyncd and from upstream's ``rsync --daemon`` in turn, and reports for
each daemon:

- the time until the client printed its first file name (the sender started at once),
- the whole run's wall time,
- the largest resident set of any of the daemon's processes during the run (sampled
  every 50 ms from /proc), which for both daemons is the process serving the session.

It is not part of the test suite; see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import harness as h  # noqa: E402

DATA_VERSION = "1"


def prepare_tree(data_dir: str, files: int, per_dir: int) -> str:
    """Create (or reuse) a module holding `files` empty files, `per_dir` per directory."""
    module = os.path.join(data_dir, "module")
    stamp = os.path.join(data_dir, "STAMP")
    want = f"{DATA_VERSION} files={files} per_dir={per_dir}\n"
    if os.path.exists(stamp) and open(stamp).read() == want:
        print(f"[bench] reusing the tree in {module}", file=sys.stderr)
        return module
    print(f"[bench] creating {files} files in {module} ...", file=sys.stderr)
    subprocess.run(["rm", "-rf", module], check=True)
    os.makedirs(module)
    for d in range((files + per_dir - 1) // per_dir):
        sub = os.path.join(module, f"d{d // 100:03d}", f"e{d % 100:02d}")
        os.makedirs(sub, exist_ok=True)
        for i in range(min(per_dir, files - d * per_dir)):
            open(os.path.join(sub, f"f{i:04d}"), "wb").close()
    subprocess.run(["chmod", "-R", "a+rX", data_dir], check=True)
    with open(stamp, "w") as fh:
        fh.write(want)
    return module


class PeakRss:
    """Samples the resident set of a process tree until stopped; keeps the largest."""

    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in [self.root_pid, *h.descendants(self.root_pid)]:
                self.peak_kib = max(self.peak_kib, h.rss_kib([pid]))
            time.sleep(0.05)


def measure(daemon: h.Daemon, expect_files: int, dest: str) -> dict:
    # A destination that does not exist: without one the client would only list (ls-style
    # lines); with it, the dry run itemizes every name with --out-format while creating nothing.
    args = [h.rsync_client_path(), "-an", "--out-format=%n", h.rsync_url(daemon, "bench/"), dest]
    start = time.monotonic()
    first_line = None
    names = 0
    with PeakRss(daemon.pid) as rss:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=h.client_env())
        assert proc.stdout is not None
        for line in proc.stdout:
            if first_line is None:
                first_line = time.monotonic() - start
            if not line.endswith(b"/\n"):
                names += 1
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        code = proc.wait()
    total = time.monotonic() - start
    if code != 0 or names != expect_files:
        raise SystemExit(f"[bench] {daemon.kind}: exit {code}, {names} files listed "
                         f"(expected {expect_files}): {err.strip()[:300]}")
    return {"first": first_line or total, "total": total, "peak_kib": rss.peak_kib}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1_000_000, help="files in the tree")
    ap.add_argument("--per-dir", type=int, default=1000, help="files per directory")
    ap.add_argument("--data", help="where to keep the tree (reused by later runs)")
    args = ap.parse_args()

    h.ocrsyncd_path()
    data_dir = args.data or h.make_temp_dir("ocr-bench-flist-")
    os.makedirs(data_dir, exist_ok=True)
    module = prepare_tree(data_dir, args.files, args.per_dir)
    config = h.tree_module_config(module, modules=("bench",))
    results = {}
    for kind in (h.OCRSYNCD_KIND, h.UPSTREAM_KIND):
        daemon = h.Daemon(kind, config)
        try:
            results[kind] = measure(daemon, args.files, os.path.join(h.make_temp_dir("ocr-bench-flist-dest-"), "none"))
        finally:
            daemon.stop()
        r = results[kind]
        print(f"[bench] {kind}: first name after {r['first']:.3f} s, done in "
              f"{r['total']:.1f} s, peak RSS {r['peak_kib'] / 1024:.1f} MiB", file=sys.stderr)

    print(f"\nFile-list benchmark: rsync -an of {args.files} files "
          f"({args.per_dir} per directory), incremental recursion")
    print(f"{'daemon':<10} {'first name (s)':>15} {'total (s)':>10} {'peak RSS (MiB)':>15}")
    for kind, r in results.items():
        print(f"{kind:<10} {r['first']:>15.3f} {r['total']:>10.1f} {r['peak_kib'] / 1024:>15.1f}")
    o, u = results[h.OCRSYNCD_KIND], results[h.UPSTREAM_KIND]
    print(f"ratios ocrsyncd/upstream: total {o['total'] / u['total']:.2f}, "
          f"peak RSS {o['peak_kib'] / max(1, u['peak_kib']):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
