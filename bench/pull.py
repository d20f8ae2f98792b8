#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Pull benchmark: ocrsyncd against upstream's ``rsync --daemon`` on the same machine.

Times the stock rsync client pulling, from each daemon in turn:

- one 1 GiB file of random bytes into an empty directory,
- 10 000 small files (0..16 KiB, in 100 directories) into an empty directory,
- a 256 MiB file over an older copy that differs in 1% of its bytes (delta transfer),

several repetitions each (alternating which daemon goes first), and prints for each case
the median wall time on both daemons and the ratio ocrsyncd / upstream (goal: <= 1.0).
Every pull is checked (exit code 0, and the received size, file count or digest), so a
broken transfer cannot look fast.

It builds nothing: ``OCRSYNCD`` must name the binary. See bench/README.md.
Exit status: 0 after a complete run, 1 with ``--check`` when a ratio exceeds 1.0,
2 when a pull failed or the setup is wrong.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import harness as h  # noqa: E402  (the integration harness starts and stops the daemons)
import tree  # noqa: E402

DELTA_OLD_MTIME_NS = 1_600_000_000 * 10**9
DATA_VERSION = "1"  # bump when the generated data changes shape


# ----------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------

def make_work_dir(requested: str | None) -> str:
    """Where the client writes. A tmpfs by default: creating 10 000 files on a disk
    filesystem right after deleting the previous run's costs the client more than the
    whole transfer does, and varies from run to run, which hid the daemons' difference."""
    if requested:
        os.makedirs(requested, exist_ok=True)
        return tempfile.mkdtemp(prefix="ocr-bench-work-", dir=requested)
    shm = "/dev/shm"
    if os.path.isdir(shm) and shutil.disk_usage(shm).free > 3 * 1024**3:
        path = tempfile.mkdtemp(prefix="ocr-bench-work-", dir=shm)
        atexit.register(shutil.rmtree, path, True)
        return path
    return h.make_temp_dir("ocr-bench-work-")


def prepare_data(data_dir: str, big_mib: int, small_count: int, delta_mib: int) -> dict:
    """Create (or reuse, when the stamp matches) the module tree and the delta basis."""
    stamp_path = os.path.join(data_dir, "STAMP")
    want = f"{DATA_VERSION} big={big_mib} small={small_count} delta={delta_mib}\n"
    module = os.path.join(data_dir, "module")
    old = os.path.join(data_dir, "delta-old.bin")
    if os.path.exists(stamp_path) and open(stamp_path).read() == want:
        print(f"[bench] reusing data in {data_dir}", file=sys.stderr)
    else:
        print(f"[bench] generating data in {data_dir} ...", file=sys.stderr)
        tree.remove_tree(module)
        for sub in ("big", "small", "delta"):
            os.makedirs(os.path.join(module, sub), exist_ok=True)
        os.chmod(data_dir, 0o755)
        for d in (module, *(os.path.join(module, s) for s in ("big", "small", "delta"))):
            os.chmod(d, 0o755)
        tree.write_random_file(os.path.join(module, "big", "file.bin"), big_mib * tree.MIB, 11)
        rng = random.Random(12)
        for i in range(small_count):
            d = os.path.join(module, "small", f"d{i % 100:02d}")
            if i < 100:
                os.makedirs(d, exist_ok=True)
                os.chmod(d, 0o755)
            size = min(int(rng.expovariate(1 / 3000)), 16384)
            with open(os.path.join(d, f"f{i:05d}"), "wb") as fh:
                fh.write(rng.randbytes(size))
        tree.make_delta_versions(old, os.path.join(module, "delta", "file.bin"),
                                 delta_mib * tree.MIB)
        with open(stamp_path, "w") as fh:
            fh.write(want)
    big = os.path.join(module, "big", "file.bin")
    delta = os.path.join(module, "delta", "file.bin")
    return {
        "module": module,
        "old": old,
        "big_size": os.path.getsize(big),
        "small_count": sum(len(f) for _, _, f in os.walk(os.path.join(module, "small"))),
        "delta_size": os.path.getsize(delta),
        "delta_digest": tree.content_digest(delta, os.path.getsize(delta)),
    }


# ----------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------

class Case:
    def __init__(self, key: str, title: str, source: str):
        self.key, self.title, self.source = key, title, source

    def prepare(self, dest: str, info: dict) -> None:
        os.makedirs(dest)

    def verify(self, dest: str, info: dict) -> str:
        """'' when the pull delivered what it should, else what is wrong."""
        return ""


class BigFile(Case):
    def verify(self, dest, info):
        p = os.path.join(dest, "file.bin")
        size = os.path.getsize(p) if os.path.exists(p) else -1
        return "" if size == info["big_size"] else f"file.bin has {size} bytes"


class SmallFiles(Case):
    def verify(self, dest, info):
        n = sum(len(f) for _, _, f in os.walk(dest))
        return "" if n == info["small_count"] else f"{n} of {info['small_count']} files"


class Delta(Case):
    def prepare(self, dest, info):
        os.makedirs(dest)
        basis = os.path.join(dest, "file.bin")
        shutil.copyfile(info["old"], basis)
        os.utime(basis, ns=(DELTA_OLD_MTIME_NS, DELTA_OLD_MTIME_NS))

    def verify(self, dest, info):
        p = os.path.join(dest, "file.bin")
        if os.path.getsize(p) != info["delta_size"]:
            return "wrong size after the delta"
        if tree.content_digest(p, info["delta_size"]) != info["delta_digest"]:
            return "wrong content after the delta"
        return ""


def make_cases(args) -> list[Case]:
    all_cases = {
        "big": BigFile("big", f"{args.big_mib} MiB file", "big/"),
        "small": SmallFiles("small", f"{args.small_count} small files", "small/"),
        "delta": Delta("delta", f"1% delta of {args.delta_mib} MiB", "delta/"),
    }
    return [all_cases[k] for k in args.cases.split(",")]


# ----------------------------------------------------------------------------------------
# Run
# ----------------------------------------------------------------------------------------

def time_pull(daemon: h.Daemon, case: Case, info: dict, work: str, client_args: list[str],
              verify: bool) -> tuple[float | None, str]:
    dest = os.path.join(work, f"dest-{daemon.kind}-{daemon.port}-{case.key}")
    tree.remove_tree(dest)
    case.prepare(dest, info)
    os.sync()  # write back the previous run's data now, not during this one
    args = client_args + [f"{{url}}/bench/{case.source}", dest + "/"]
    t0 = time.monotonic()
    res = h.run_against(daemon, args, timeout=3600)
    elapsed = time.monotonic() - t0
    try:
        if res.returncode != 0:
            first = (res.stderr.strip().splitlines() or ["(no message)"])[0]
            return None, f"rc={res.returncode}: {first}"
        problem = case.verify(dest, info) if verify else ""
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
    ap.add_argument("--data", help="directory for the generated data (kept and reused; "
                    "default: a temp dir removed at exit)")
    ap.add_argument("--work", help="where the client writes (default: a dir on /dev/shm "
                    "when it has 3 GiB free, else a temp dir)")
    ap.add_argument("--client-args", default="-a",
                    help="client options for every pull (default: -a), e.g. '-a -z'")
    ap.add_argument("--target", choices=("ocrsyncd", "upstream"), default="ocrsyncd",
                    help="what to measure against upstream; 'upstream' measures upstream "
                    "against itself (checks the bench: ratios near 1.0)")
    ap.add_argument("--no-verify", action="store_true",
                    help="skip checking each received tree (not recommended)")
    ap.add_argument("--check", action="store_true", help="exit 1 if any ratio exceeds 1.0")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()

    if args.target == "ocrsyncd":
        try:
            h.ocrsyncd_path()
        except h.DaemonError as exc:
            print(f"[bench] {exc}\n[bench] (for the benchmark: set OCRSYNCD, or use "
                  "--target upstream to measure upstream against itself)", file=sys.stderr)
            return 2
    data_dir = args.data or h.make_temp_dir("ocr-bench-data-")
    os.makedirs(data_dir, exist_ok=True)
    info = prepare_data(data_dir, args.big_mib, args.small_count, args.delta_mib)
    work = make_work_dir(args.work)
    config = h.tree_module_config(info["module"], modules=("bench",))
    client_args = args.client_args.split()
    cases = make_cases(args)

    names = {"target": "ocrsyncd" if args.target == "ocrsyncd" else "upstream(2)",
             "upstream": "upstream"}
    target = h.Daemon(args.target, config)
    upstream = h.Daemon(h.UPSTREAM_KIND, config)
    daemons = {"target": target, "upstream": upstream}
    times: dict[str, dict[str, list[float]]] = {c.key: {"target": [], "upstream": []}
                                                 for c in cases}
    failures: dict[str, dict[str, str]] = {c.key: {} for c in cases}
    try:
        for case in cases:
            for rep in range(args.reps):
                order = ["target", "upstream"] if rep % 2 == 0 else ["upstream", "target"]
                for who in order:
                    if who in failures[case.key]:
                        continue
                    elapsed, problem = time_pull(daemons[who], case, info, work,
                                                 client_args, not args.no_verify)
                    if elapsed is None:
                        failures[case.key][who] = problem
                        print(f"[bench] {case.title}: {names[who]} FAILED: {problem}",
                              file=sys.stderr)
                    else:
                        times[case.key][who].append(elapsed)
                        print(f"[bench] {case.title}: {names[who]} run {rep + 1}: "
                              f"{elapsed:.3f} s",
                              file=sys.stderr)
    finally:
        target.stop()
        upstream.stop()

    label = names["target"]
    print(f"\nPull benchmark: client '{h.rsync_client_path()} {args.client_args}', "
          f"{args.reps} repetitions, median wall time in seconds")
    header = (f"{'case':<26} {label + ' median':>16} {'upstream median':>16} "
              f"{'ratio':>7}  goal <= 1.0")
    print(header)
    print("-" * len(header))
    results = []
    worst_ratio = 0.0
    failed = False
    for case in cases:
        row = {"case": case.title}
        med = {}
        for who in ("target", "upstream"):
            if who in failures[case.key]:
                med[who] = None
                failed = True
            else:
                med[who] = statistics.median(times[case.key][who])
            row[who] = {"median": med[who], "runs": times[case.key][who],
                        "failure": failures[case.key].get(who)}
        cells = [f"{m:16.3f}" if m is not None else f"{'FAILED':>16}"
                 for m in (med["target"], med["upstream"])]
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
            json.dump({"target": args.target, "client_args": args.client_args,
                       "reps": args.reps, "results": results}, fh, indent=2)
    if failed:
        return 2
    if args.check and worst_ratio > 1.0:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
