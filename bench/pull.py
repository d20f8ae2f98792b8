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
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)

import compare  # noqa: E402  (the rounds and the table both benchmarks share)
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
    compare.add_common_args(
        ap, "pull",
        work_help="where the client writes (default: a dir on /dev/shm when it has 3 GiB "
        "free, else a temp dir)",
        data_help="directory for the generated data (kept and reused; default: a temp "
        "dir removed at exit)")
    args = ap.parse_args()

    if args.target == "ocrsyncd" and compare.ocrsyncd_missing(
            "--target upstream to measure upstream against itself"):
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
    daemons = {"target": h.Daemon(args.target, config),
               "upstream": h.Daemon(h.UPSTREAM_KIND, config)}
    try:
        times, failures = compare.run_rounds(
            cases, daemons, names, args.reps,
            lambda d, case: time_pull(d, case, info, work, client_args, not args.no_verify))
    finally:
        for d in daemons.values():
            d.stop()
    return compare.report("Pull benchmark", args, cases, names, times, failures, args.target)

if __name__ == "__main__":
    sys.exit(main())
