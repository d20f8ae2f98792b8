# SPDX-License-Identifier: MIT
"""What the pull and push benchmarks share: their command line, the alternating rounds
against two daemons and the table of medians and ratios (goal: at most 1.0)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Callable

import harness as h


def add_common_args(ap: argparse.ArgumentParser, verb: str, work_help: str,
                    data_help: str) -> None:
    """The options both benchmarks take; ``verb`` is "pull" or "push"."""
    ap.add_argument("--reps", type=int, default=5, help="repetitions per case (default 5)")
    ap.add_argument("--cases", default="big,small,delta",
                    help="comma-separated subset of big,small,delta")
    ap.add_argument("--big-mib", type=int, default=1024, help="size of the big file")
    ap.add_argument("--small-count", type=int, default=10000, help="number of small files")
    ap.add_argument("--delta-mib", type=int, default=256, help="size of the delta file")
    ap.add_argument("--data", help=data_help)
    ap.add_argument("--work", help=work_help)
    ap.add_argument("--client-args", default="-a",
                    help=f"client options for every {verb} (default: -a), e.g. '-a -z'")
    ap.add_argument("--target", choices=("ocrsyncd", "upstream"), default="ocrsyncd",
                    help="what to measure against upstream; 'upstream' measures upstream "
                    "against itself (checks the bench: ratios near 1.0)")
    ap.add_argument("--no-verify", action="store_true",
                    help="skip checking each result (not recommended)")
    ap.add_argument("--check", action="store_true", help="exit 1 if any ratio exceeds 1.0")
    ap.add_argument("--json", help="also write the results to this file")


def ocrsyncd_missing(hint: str) -> bool:
    """True (after saying why) when OCRSYNCD does not name a usable binary."""
    try:
        h.ocrsyncd_path()
        return False
    except h.DaemonError as exc:
        print(f"[bench] {exc}\n[bench] (for the benchmark: set OCRSYNCD, or use {hint})",
              file=sys.stderr)
        return True


def run_rounds(cases, daemons: dict, names: dict, reps: int,
               time_one: Callable) -> tuple[dict, dict]:
    """Times every case ``reps`` times on each daemon, alternating which goes first.
    ``time_one(daemon, case)`` returns (seconds, "") or (None, what went wrong); a daemon
    that failed a case is not timed on it again. Returns (times, failures) by case key."""
    whos = list(daemons)
    times = {c.key: {w: [] for w in whos} for c in cases}
    failures: dict[str, dict[str, str]] = {c.key: {} for c in cases}
    for case in cases:
        for rep in range(reps):
            order = whos if rep % 2 == 0 else list(reversed(whos))
            for who in order:
                if who in failures[case.key]:
                    continue
                elapsed, problem = time_one(daemons[who], case)
                if elapsed is None:
                    failures[case.key][who] = problem
                    print(f"[bench] {case.title}: {names[who]} FAILED: {problem}",
                          file=sys.stderr)
                else:
                    times[case.key][who].append(elapsed)
                    print(f"[bench] {case.title}: {names[who]} run {rep + 1}: "
                          f"{elapsed:.3f} s", file=sys.stderr)
    return times, failures


def report(title: str, args, cases, names: dict, times: dict, failures: dict,
           json_target: str) -> int:
    """Prints the table and writes --json; returns the exit status (2 when a run failed,
    1 with --check when a ratio is above 1.0, else 0). With one daemon only (``names``
    has no "upstream") there are no ratios."""
    whos = list(names)
    pair = "upstream" in names
    print(f"\n{title}: client '{h.rsync_client_path()} {args.client_args}', "
          f"{args.reps} repetitions, median wall time in seconds")
    header = f"{'case':<26} {names['target'] + ' median':>16}"
    if pair:
        header += f" {'upstream median':>16} {'ratio':>7}  goal <= 1.0"
    print(header)
    print("-" * len(header))
    results = []
    worst_ratio = 0.0
    failed = False
    for case in cases:
        row = {"case": case.title}
        med = {}
        for who in whos:
            runs = times[case.key][who]
            med[who] = None if who in failures[case.key] else statistics.median(runs)
            failed = failed or med[who] is None
            row[who] = {"median": med[who], "runs": runs,
                        "failure": failures[case.key].get(who)}
        cells = " ".join(f"{med[w]:16.3f}" if med[w] is not None else f"{'FAILED':>16}"
                         for w in whos)
        if not pair:
            results.append(row)
            print(f"{case.title:<26} {cells}")
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
        print(f"{case.title:<26} {cells} {ratio_s}  {verdict}")
    for case in cases:
        for who, problem in failures[case.key].items():
            print(f"  {case.title}: {names[who]} failed: {problem}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"target": json_target, "client_args": args.client_args,
                       "reps": args.reps, "results": results}, fh, indent=2)
    if failed:
        return 2
    if args.check and worst_ratio > 1.0:
        return 1
    return 0
