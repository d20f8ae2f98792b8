# SPDX-License-Identifier: MIT
"""Clients for the TLS tests: the stock ``rsync-ssl`` script and a Python TLS probe."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
from typing import Optional, Sequence

from harness import client_env


def rsync_ssl_path() -> str:
    path = shutil.which("rsync-ssl")
    if not path:
        raise AssertionError("rsync-ssl is missing (the rsync package installs it)")
    return path


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise AssertionError(f"{name} is missing (scripts/install-deps installs it)")
    return path


def run_rsync_ssl(args: Sequence[str], *, ssl_type: str, port: int, ca: Optional[str],
                  cert: Optional[str] = None, key: Optional[str] = None, password: Optional[str] = None,
                  timeout: float = 120) -> tuple[int, str, str]:
    """Runs ``rsync-ssl`` (RSYNC_SSL_TYPE=ssl_type) against 127.0.0.1:port; returns
    (returncode, stdout, stderr)."""
    if ssl_type == "stunnel":
        require_tool("stunnel4")
    env = {"RSYNC_SSL_TYPE": ssl_type, "RSYNC_SSL_PORT": str(port)}
    if ca is not None:
        env["RSYNC_SSL_CA_CERT"] = ca
    if cert:
        env["RSYNC_SSL_CERT"] = cert
    if key:
        env["RSYNC_SSL_KEY"] = key
    if password is not None:
        env["RSYNC_PASSWORD"] = password
    cmd = [rsync_ssl_path()] + list(args)
    try:
        cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=client_env(env), timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"rsync-ssl timed out: {cmd}\n{exc.stderr!r}") from None
    return cp.returncode, cp.stdout.decode(errors="replace"), cp.stderr.decode(errors="replace")


def tls_connect(port: int, ca: str, *, cert: Optional[str] = None, key: Optional[str] = None,
                timeout: float = 10.0, server_hostname: str = "localhost",
                minimum: Optional[ssl.TLSVersion] = None,
                maximum: Optional[ssl.TLSVersion] = None) -> ssl.SSLSocket:
    """A verified TLS connection to the daemon's TLS port (handshake done)."""
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return ctx.wrap_socket(raw, server_hostname=server_hostname)
    except BaseException:
        raw.close()
        raise


def read_line(sock: socket.socket, limit: int = 4096) -> str:
    out = b""
    while not out.endswith(b"\n") and len(out) < limit:
        b = sock.recv(1)
        if not b:
            break
        out += b
    return out.decode(errors="replace")


def files_equal_trees(a: str, b: str) -> list[str]:
    """Differences between two trees of regular files and directories (names and bytes)."""
    diffs = []
    for root, dirs, files in os.walk(a):
        rel = os.path.relpath(root, a)
        other = os.path.join(b, rel)
        if not os.path.isdir(other):
            diffs.append(f"missing dir {rel}")
            continue
        for f in files:
            pa, pb = os.path.join(root, f), os.path.join(other, f)
            if not os.path.isfile(pb):
                diffs.append(f"missing {os.path.join(rel, f)}")
                continue
            with open(pa, "rb") as fa, open(pb, "rb") as fb:
                if fa.read() != fb.read():
                    diffs.append(f"differs {os.path.join(rel, f)}")
        extra = set(os.listdir(other)) - set(files) - set(dirs)
        diffs += [f"extra {os.path.join(rel, e)}" for e in sorted(extra)]
    return diffs
