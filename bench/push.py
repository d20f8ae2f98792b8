#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Push benchmark: ocrsyncd against upstream's ``rsync --daemon`` on the same machine.

Times the stock rsync client pushing, to each daemon in turn:

- one 1 GiB file of random bytes into an empty module directory,
- 10 000 small files (0..16 KiB, in 100 directories) into an empty module directory,
- a 256 MiB file over an older copy in the module that differs in 1% of its bytes (the
  daemon generates the block sums, the client matches: delta transfer),

several repetitions each (alternating which daemon goes first), and prints for each case
the median wall time on both daemons and the ratio ocrsyncd / upstream (goal: <= 1.0).
Every push is checked (exit code 0, and the module's size, file count or digest), so a
broken transfer cannot look fast.

It builds nothing: ``OCRSYNCD`` must name the binary. ``--target upstream`` measures
upstream against a second upstream daemon, and ``--daemon-only upstream`` times upstream
alone (both work before ocrsyncd can receive files). See bench/README.md.
Exit status: 0 after a complete run, 1 with ``--check`` when a ratio exceeds 1.0,
2 when a push failed or the setup is wrong.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)

import compare  # noqa: E402  (the rounds and the table both benchmarks share)
import harness as h  # noqa: E402  (the integration harness starts and stops the daemons)
import pull  # noqa: E402  (the same data, work dir and checks as the pull benchmark)
import tree  # noqa: E402


class PushCase:
    """One case: what is pushed (a directory of the generated data) and how the module's
    destination is prepared and checked (reusing the pull benchmark's cases)."""

    def __init__(self, pull_case: pull.Case):
        self.key, self.title, self.source = pull_case.key, pull_case.title, pull_case.source
        self.inner = pull_case


def make_cases(args) -> list[PushCase]:
    return [PushCase(c) for c in pull.make_cases(args)]


def time_push(daemon: h.Daemon, case: PushCase, info: dict, module_root: str,
              client_args: list[str], verify: bool) -> tuple[float | None, str]:
    rel = f"dest-{daemon.kind}-{daemon.port}-{case.key}"
    dest = os.path.join(module_root, rel)
    tree.remove_tree(dest)
    case.inner.prepare(dest, info)
    os.chmod(dest, 0o755)
    os.sync()  # write back the previous run's data now, not during this one
    src = os.path.join(info["module"], case.source)
    args = client_args + [src, f"{{url}}/bench/{rel}/"]
    t0 = time.monotonic()
    res = h.run_against(daemon, args, timeout=3600)
    elapsed = time.monotonic() - t0
    try:
        if res.returncode != 0:
            first = (res.stderr.strip().splitlines() or ["(no message)"])[0]
            return None, f"rc={res.returncode}: {first}"
        problem = case.inner.verify(dest, info) if verify else ""
        return (None, problem) if problem else (elapsed, "")
    finally:
        tree.remove_tree(dest)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    compare.add_common_args(
        ap, "push",
        work_help="where the daemons' module lives (default: a dir on /dev/shm when it "
        "has 3 GiB free, else a temp dir)",
        data_help="directory for the generated data (kept and reused, shared with "
        "bench/pull.py; default: a temp dir removed at exit)")
    ap.add_argument("--daemon-only", choices=("ocrsyncd", "upstream"),
                    help="time only this daemon (no ratio)")
    args = ap.parse_args()

    needs_ocrsyncd = (args.daemon_only == "ocrsyncd"
                      or (args.daemon_only is None and args.target == "ocrsyncd"))
    if needs_ocrsyncd and compare.ocrsyncd_missing("--target upstream or --daemon-only upstream"):
        return 2
    data_dir = args.data or h.make_temp_dir("ocr-bench-data-")
    os.makedirs(data_dir, exist_ok=True)
    info = pull.prepare_data(data_dir, args.big_mib, args.small_count, args.delta_mib)
    work = pull.make_work_dir(args.work)
    module_root = os.path.join(work, "module")
    os.makedirs(module_root, exist_ok=True)
    os.chmod(work, 0o755)
    os.chmod(module_root, 0o755)
    config = h.push_module_config(module_root, name="bench", chroot=False)
    client_args = args.client_args.split()
    cases = make_cases(args)

    if args.daemon_only:
        kinds = {"target": args.daemon_only}
        names = {"target": args.daemon_only}
    else:
        kinds = {"target": args.target, "upstream": h.UPSTREAM_KIND}
        names = {"target": "ocrsyncd" if args.target == "ocrsyncd" else "upstream(2)",
                 "upstream": "upstream"}
    daemons = {}
    try:
        for who, kind in kinds.items():
            daemons[who] = h.Daemon(kind, config)
        times, failures = compare.run_rounds(
            cases, daemons, names, args.reps,
            lambda d, case: time_push(d, case, info, module_root, client_args,
                                      not args.no_verify))
    finally:
        for d in daemons.values():
            d.stop()
        shutil.rmtree(module_root, ignore_errors=True)
    return compare.report("Push benchmark", args, cases, names, times, failures,
                          args.daemon_only or args.target)

if __name__ == "__main__":
    sys.exit(main())
