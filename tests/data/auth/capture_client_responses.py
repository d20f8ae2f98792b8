#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Captures the stock rsync client's daemon-auth responses, for the known vectors in
tests/unit/daemon/auth_test.cpp.

A throw-away fake daemon on 127.0.0.1 sends a greeting (which decides the digest the
client uses), then "@RSYNCD: AUTHREQD <challenge>", reads the client's "<user> <response>"
line and ends the session with an @ERROR line. Nothing is written to disk.

Usage: capture_client_responses.py [PORT]   (default 20470; uses PORT..PORT+N-1)
"""
import os
import socket
import subprocess
import sys

# (greeting the fake daemon sends, extra client options, password, challenge)
CASES = [
    ("@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4", [], "correct horse",
     "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/2O76UMFxFkM/R5Kjp1vRt+1fjORS/6ilI8ihN5KXSc7Tvo"),
    ("@RSYNCD: 32.0 sha256", [], "p\u00e4ssw\u00f6rd",
     "/hBKqFYY/kv5ZJr3J1TWDtkwtDDb+xHKas1VOqg6YYZ"),
    ("@RSYNCD: 32.0 sha1", [], "x", "Yn9ZhyiA4uoRgnatmUdjAWtGSU8"),
    ("@RSYNCD: 32.0 md5", [], "rsync-backup-2024", "po+799NksnRH9ucAUsdMlH"),
    ("@RSYNCD: 32.0 md4", [], "hunter2", "Qm9vdHN0cmFwQ2hhbGxlbm"),
    ("@RSYNCD: 29", ["--protocol=29"], "hunter2", "Qm9vdHN0cmFwQ2hhbGxlbm"),
    ("@RSYNCD: 30.0", ["--protocol=30"], "hunter2", "Y7Zkuvqdt7s8Stqcbnr3yB"),
]


def capture(port, greeting, options, password, challenge):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    srv.settimeout(20)
    env = dict(os.environ, RSYNC_PASSWORD=password)
    client = subprocess.Popen(
        ["rsync", *options, f"rsync://alice@127.0.0.1:{port}/mod/"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        conn, _ = srv.accept()
        with conn:
            conn.sendall(greeting.encode() + b"\n")
            rd = conn.makefile("rb")
            rd.readline()  # the client's greeting
            rd.readline()  # the module name
            conn.sendall(f"@RSYNCD: AUTHREQD {challenge}\n".encode())
            reply = rd.readline().rstrip(b"\n").decode()
            conn.sendall(b"@ERROR: capture done\n")
    finally:
        srv.close()
        client.wait(timeout=20)
    return reply


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 20470
    for i, (greeting, options, password, challenge) in enumerate(CASES):
        reply = capture(port + i, greeting, options, password, challenge)
        print(f"{greeting!r} {options} password={password!r} challenge={challenge} -> {reply}")


if __name__ == "__main__":
    main()
