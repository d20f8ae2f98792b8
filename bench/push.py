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
import json
import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)

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
    ap.add_argument("--reps", type=int, default=5, help="repetitions per case (default 5)")
    ap.add_argument("--cases", default="big,small,delta",
                    help="comma-separated subset of big,small,delta")
    ap.add_argument("--big-mib", type=int, default=1024, help="size of the big file")
    ap.add_argument("--small-count", type=int, default=10000, help="number of small files")
    ap.add_argument("--delta-mib", type=int, default=256, help="size of the delta file")
    ap.add_argument("--data", help="directory for the generated data (kept and reused, "
                    "shared with bench/pull.py; default: a temp dir removed at exit)")
    ap.add_argument("--work", help="where the daemons' module lives (default: a dir on "
                    "/dev/shm when it has 3 GiB free, else a temp dir)")
    ap.add_argument("--client-args", default="-a",
                    help="client options for every push (default: -a), e.g. '-a -z'")
    ap.add_argument("--target", choices=("ocrsyncd", "upstream"), default="ocrsyncd",
                    help="what to measure against upstream; 'upstream' measures upstream "
                    "against itself (checks the bench: ratios near 1.0)")
    ap.add_argument("--daemon-only", choices=("ocrsyncd", "upstream"),
                    help="time only this daemon (no ratio)")
    ap.add_argument("--no-verify", action="store_true",
                    help="skip checking each module tree (not recommended)")
    ap.add_argument("--check", action="store_true", help="exit 1 if any ratio exceeds 1.0")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()

    needs_ocrsyncd = (args.daemon_only == "ocrsyncd"
                      or (args.daemon_only is None and args.target == "ocrsyncd"))
    if needs_ocrsyncd:
        try:
            h.ocrsyncd_path()
        except h.DaemonError as exc:
            print(f"[bench] {exc}\n[bench] (for the benchmark: set OCRSYNCD, or use "
                  "--target upstream or --daemon-only upstream)", file=sys.stderr)
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
        whos = ["target"]
        kinds = {"target": args.daemon_only}
        names = {"target": args.daemon_only}
    else:
        whos = ["target", "upstream"]
        kinds = {"target": args.target, "upstream": h.UPSTREAM_KIND}
        names = {"target": "ocrsyncd" if args.target == "ocrsyncd" else "upstream(2)",
                 "upstream": "upstream"}
    daemons = {}
    times: dict[str, dict[str, list[float]]] = {c.key: {w: [] for w in whos} for c in cases}
    failures: dict[str, dict[str, str]] = {c.key: {} for c in cases}
    try:
        for who in whos:
            daemons[who] = h.Daemon(kinds[who], config)
        for case in cases:
            for rep in range(args.reps):
                order = whos if rep % 2 == 0 else list(reversed(whos))
                for who in order:
                    if who in failures[case.key]:
                        continue
                    elapsed, problem = time_push(daemons[who], case, info, module_root,
                                                 client_args, not args.no_verify)
                    if elapsed is None:
                        failures[case.key][who] = problem
                        print(f"[bench] {case.title}: {names[who]} FAILED: {problem}",
                              file=sys.stderr)
                    else:
                        times[case.key][who].append(elapsed)
                        print(f"[bench] {case.title}: {names[who]} run {rep + 1}: "
                              f"{elapsed:.3f} s", file=sys.stderr)
    finally:
        for d in daemons.values():
            d.stop()
        shutil.rmtree(module_root, ignore_errors=True)

    print(f"\nPush benchmark: client '{h.rsync_client_path()} {args.client_args}', "
          f"{args.reps} repetitions, median wall time in seconds")
    if args.daemon_only:
        header = f"{'case':<26} {names['target'] + ' median':>16}"
    else:
        header = (f"{'case':<26} {names['target'] + ' median':>16} {'upstream median':>16} "
                  f"{'ratio':>7}  goal <= 1.0")
    print(header)
    print("-" * len(header))
    results = []
    worst_ratio = 0.0
    failed = False
    for case in cases:
        row = {"case": case.title}
        med = {}
        for who in whos:
            if who in failures[case.key]:
                med[who] = None
                failed = True
            else:
                med[who] = statistics.median(times[case.key][who])
            row[who] = {"median": med[who], "runs": times[case.key][who],
                        "failure": failures[case.key].get(who)}
        cells = [f"{med[w]:16.3f}" if med[w] is not None else f"{'FAILED':>16}" for w in whos]
        if args.daemon_only:
            results.append(row)
            print(f"{case.title:<26} {cells[0]}")
            continue
        if med["target"] is not None and med["upstream"]:
            ratio = med["target"] / med["upstream"]
            worst_ratio = max(worst_ratio, ratio)
            verdict = "met" if ratio <= 1.0 else "MISSED"
            ratio_s = f"{ratio:7.2f}"
        else:
            ratio, verdict, ratio_s = None, "n/a", f"{'n/a':>7}"
        row["ratio"] = ratio
        results.append(row)
        print(f"{case.title:<26} {cells[0]} {cells[1]} {ratio_s}  {verdict}")
    for case in cases:
        for who, problem in failures[case.key].items():
            print(f"  {case.title}: {names[who]} failed: {problem}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"target": args.daemon_only or args.target,
                       "client_args": args.client_args, "reps": args.reps,
                       "results": results}, fh, indent=2)
    if failed:
        return 2
    if args.check and worst_ratio > 1.0:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
