# SPDX-License-Identifier: MIT
"""Test certificate authority for the TLS tests: CAs, server and client certificates.

Everything is made with the ``openssl`` command line tool in a temp dir. A missing tool
is an error (the tests that need it must fail, not skip); ``scripts/install-deps`` installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Optional, Sequence

from harness import make_temp_dir


def openssl() -> str:
    path = shutil.which("openssl")
    if not path:
        raise AssertionError("the openssl tool is missing (scripts/install-deps installs it)")
    return path


def _run(args: Sequence[str], cwd: str) -> None:
    cp = subprocess.run([openssl()] + list(args), cwd=cwd, stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if cp.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed:\n{cp.stderr.decode(errors='replace')}")


@dataclass
class Issued:
    cert: str  # PEM path: the certificate followed by the issuing chain, if any
    key: str   # PEM path of the private key


def _key_args(kind: str) -> list[str]:
    if kind == "ec":
        return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    return ["-newkey", "rsa:2048"]


class TestCA:
    """A CA (self-signed root) that issues leaf certificates, optionally via an intermediate."""

    _CA_CONF = """[ca]
default_ca = d
[d]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = p
unique_subject = no
copy_extensions = none
[p]
commonName = supplied
"""

    def __init__(self, name: str = "ocrsyncd test CA", key: str = "ec", directory: Optional[str] = None):
        self.dir = directory or make_temp_dir("ocr-ca-")
        self.name = name
        self.cert = os.path.join(self.dir, "ca.pem")
        self.key = os.path.join(self.dir, "ca.key")
        _run(["req", "-x509", *_key_args(key), "-nodes", "-keyout", self.key, "-out", self.cert,
              "-days", "30", "-subj", f"/CN={name}",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"], self.dir)
        with open(os.path.join(self.dir, "ca.cnf"), "w") as fh:
            fh.write(self._CA_CONF)
        open(os.path.join(self.dir, "index.txt"), "w").close()
        with open(os.path.join(self.dir, "serial"), "w") as fh:
            fh.write("1000\n")
        self._count = 0

    def issue(self, cn: str, *, key: str = "ec", san: Sequence[str] = (), server: bool = False,
              client: bool = False, ca: bool = False, start: Optional[str] = None,
              end: Optional[str] = None, days: int = 30) -> Issued:
        """Issues a certificate for ``cn``. ``san`` entries are ``DNS:x``, ``IP:x`` or
        ``email:x``; ``start``/``end`` (``YYYYMMDDHHMMSSZ``) replace ``days``."""
        self._count += 1
        base = os.path.join(self.dir, f"leaf{self._count}")
        _run(["req", *_key_args(key), "-nodes", "-keyout", base + ".key", "-out", base + ".csr",
              "-subj", f"/CN={cn}"], self.dir)
        ext = []
        if ca:
            ext += ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"]
        else:
            ext += ["basicConstraints=CA:FALSE"]
            usages = (["serverAuth"] if server else []) + (["clientAuth"] if client else [])
            if usages:
                ext.append("extendedKeyUsage=" + ",".join(usages))
        if san:
            ext.append("subjectAltName=" + ",".join(san))
        with open(base + ".ext", "w") as fh:
            fh.write("\n".join(ext) + "\n")
        dates = (["-startdate", start] if start else []) + (["-enddate", end] if end else ["-days", str(days)])
        _run(["ca", "-batch", "-config", "ca.cnf", "-notext", "-cert", self.cert, "-keyfile", self.key,
              "-in", base + ".csr", "-out", base + ".pem", "-extfile", base + ".ext", *dates], self.dir)
        return Issued(base + ".pem", base + ".key")

    def server(self, key: str = "ec", **kwargs) -> Issued:
        return self.issue("localhost", key=key, san=["DNS:localhost", "IP:127.0.0.1"], server=True, **kwargs)

    def intermediate(self, name: str) -> "TestCA":
        """A CA under this one; its leaves' cert files carry the intermediate too."""
        issued = self.issue(name, ca=True)
        sub = TestCA.__new__(TestCA)
        sub.dir = make_temp_dir("ocr-ca-")
        sub.name = name
        sub.cert = issued.cert
        sub.key = issued.key
        with open(os.path.join(sub.dir, "ca.cnf"), "w") as fh:
            fh.write(self._CA_CONF)
        open(os.path.join(sub.dir, "index.txt"), "w").close()
        with open(os.path.join(sub.dir, "serial"), "w") as fh:
            fh.write("2000\n")
        sub._count = 0
        sub._parent_chain = issued.cert
        return sub

    def chain_issue(self, cn: str, **kwargs) -> Issued:
        """issue() and append this (intermediate) CA's certificate to the leaf's file."""
        leaf = self.issue(cn, **kwargs)
        with open(leaf.cert, "a") as out, open(self.cert) as inter:
            out.write(inter.read())
        return leaf
