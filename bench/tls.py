#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""TLS pull benchmark: ocrsyncd's TLS port against stunnel in front of upstream's daemon.

Times the stock ``rsync-ssl`` client (stunnel type, verifying against a test CA) pulling one
file of random bytes (1 GiB by default) into an empty directory, from:

- ocrsyncd, which terminates TLS itself on its ``tls port``, and
- upstream's ``rsync --daemon`` behind an stunnel server (the usual set-up today),

started side by side in the same run with the same certificate. Prints the median times and
the ratio ocrsyncd / stunnel (goal: <= 0.8). Every pull is checked (exit code and size).
See bench/README.md ("TLS pull benchmark"). Exit status: 0 after a complete run, 1 with
``--check`` when the ratio is above the goal, 2 when a pull failed or the set-up is wrong.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import harness as h  # noqa: E402
from tls_ca import TestCA  # noqa: E402

GOAL = 0.8


def need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        sys.exit(f"tls.py: {tool} is missing (scripts/install-deps installs it)")
    return path


def make_data(directory: str, mib: int) -> str:
    """A file of random bytes, kept between runs of the same size."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"random-{mib}MiB.bin")
    # The module is this directory: a file of another size left by an earlier run would
    # be pulled too.
    for name in os.listdir(directory):
        if name != os.path.basename(path):
            os.remove(os.path.join(directory, name))
    if os.path.exists(path) and os.path.getsize(path) == mib * 1024 * 1024:
        return path
    with open(path + ".tmp", "wb") as out:
        for _ in range(mib):
            out.write(os.urandom(1024 * 1024))
    os.replace(path + ".tmp", path)
    return path


def wait_listening(port: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"tls.py: {what} exited with status {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"tls.py: {what} did not listen on {port}")


def start_stunnel(workdir: str, accept: int, connect: int, cert: str, key: str) -> subprocess.Popen:
    conf = os.path.join(workdir, "stunnel-server.conf")
    with open(conf, "w") as fh:
        fh.write(f"foreground = yes\npid =\nsyslog = no\ndebug = 3\n"
                 f"output = {os.path.join(workdir, 'stunnel-server.log')}\n"
                 f"[rsyncd]\naccept = 127.0.0.1:{accept}\nconnect = 127.0.0.1:{connect}\n"
                 f"cert = {cert}\nkey = {key}\n")
    proc = subprocess.Popen([need("stunnel4"), conf], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    wait_listening(accept, proc, "stunnel")
    return proc


def make_small_files(directory: str, count: int) -> int:
    """``count`` files of 1 to 6 KiB of random bytes in directories of 100; returns their total size.

    Kept between runs of the same count: a marker file names the count it was made for."""
    marker = os.path.join(os.path.dirname(directory), f"small-files-{count}.done")
    if not os.path.exists(marker):
        shutil.rmtree(directory, ignore_errors=True)
        for i in range(count):
            sub = os.path.join(directory, f"d{i // 100:03d}")
            os.makedirs(sub, exist_ok=True)
            with open(os.path.join(sub, f"f{i % 100:02d}"), "wb") as out:
                out.write(os.urandom(1024 + (i * 397) % 5120))
        for name in os.listdir(os.path.dirname(directory)):
            if name.startswith("small-files-"):
                os.remove(os.path.join(os.path.dirname(directory), name))
        open(marker, "w").close()
    return tree_size(directory)


def tree_size(directory: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(directory) for f in files)


def pull(port: int, ca: str, dest: str, size: int, client_args: list[str]) -> float:
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    env = h.client_env({"RSYNC_SSL_TYPE": "stunnel", "RSYNC_SSL_PORT": str(port), "RSYNC_SSL_CA_CERT": ca})
    t0 = time.monotonic()
    cp = subprocess.run([need("rsync-ssl"), *client_args, "rsync://localhost/data/", dest + "/"],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    elapsed = time.monotonic() - t0
    if cp.returncode != 0:
        sys.exit(f"tls.py: pull from port {port} failed ({cp.returncode}):\n{cp.stderr.decode(errors='replace')}")
    got = tree_size(dest)
    if got != size:
        sys.exit(f"tls.py: pull from port {port} received {got} bytes, expected {size}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--mib", type=int, default=1024, help="size of the pulled file (default 1024)")
    ap.add_argument("--small-files", type=int, metavar="N",
                    help="pull N small files (1-6 KiB) instead of one large file: the cost of "
                         "the protocol's round trips over TLS rather than of bulk encryption")
    ap.add_argument("--data", help="where to keep the generated data (default: a temp dir)")
    ap.add_argument("--work", help="where the client writes (default: /dev/shm when it has room)")
    ap.add_argument("--client-args", default="-a")
    ap.add_argument("--check", action="store_true", help=f"exit 1 when the ratio is above {GOAL}")
    args = ap.parse_args()
    for tool in ("rsync-ssl", "stunnel4", "openssl"):
        need(tool)
    if not os.environ.get("OCRSYNCD"):
        sys.exit("tls.py: set OCRSYNCD to the ocrsyncd binary (a release build)")

    if args.small_files:
        data_dir = os.path.join(args.data or h.make_temp_dir("ocr-tls-bench-data-"), "small")
        size = make_small_files(data_dir, args.small_files)
        what = f"{args.small_files} small files ({size / 1048576:.1f} MiB)"
    else:
        data_dir = os.path.join(args.data or h.make_temp_dir("ocr-tls-bench-data-"), "tree")
        size = os.path.getsize(make_data(data_dir, args.mib))
        what = f"{args.mib} MiB"
    shm_ok = os.path.isdir("/dev/shm") and shutil.disk_usage("/dev/shm").free > 2 * size + (256 << 20)
    work = tempfile.mkdtemp(prefix="ocr-tls-bench-work-", dir=args.work or ("/dev/shm" if shm_ok else None))
    try:
        ca = TestCA()
        server = ca.server()
        module = f"[data]\n    path = {data_dir}\n    read only = yes\n"
        if h.running_as_root():
            module += "    uid = root\n    gid = root\n"
        tls_port = h.free_port()
        ours = h.Daemon(h.OCRSYNCD_KIND, f"tls port = {tls_port}\ntls cert file = {server.cert}\n"
                        f"tls key file = {server.key}\n{module}")
        upstream = h.Daemon(h.UPSTREAM_KIND, module)
        stunnel_port = h.free_port()
        stunnel = start_stunnel(upstream.dir, stunnel_port, upstream.port, server.cert, server.key)
        try:
            client_args = args.client_args.split()
            times: dict[str, list[float]] = {"ocrsyncd TLS port": [], "stunnel + upstream": []}
            ports = {"ocrsyncd TLS port": tls_port, "stunnel + upstream": stunnel_port}
            names = list(times)
            for rep in range(args.reps):
                order = names if rep % 2 == 0 else names[::-1]
                for name in order:
                    t = pull(ports[name], ca.cert, os.path.join(work, "dst"), size, client_args)
                    times[name].append(t)
                    print(f"  rep {rep + 1}: {name}: {t:.2f}s", flush=True)
        finally:
            stunnel.terminate()
            stunnel.wait()
            ours.stop()
            upstream.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["ocrsyncd TLS port"] / med["stunnel + upstream"]
    print(f"\n{what} pull over rsync-ssl (stunnel type), median of {args.reps}:")
    for k, v in med.items():
        print(f"  {k:20s} {v:8.3f}s")
    print(f"  ratio ocrsyncd / stunnel: {ratio:.2f} (goal <= {GOAL})")
    return 1 if args.check and ratio > GOAL else 0


if __name__ == "__main__":
    sys.exit(main())
