# SPDX-License-Identifier: MIT
# Fake rsync daemon: records the argument bytes a real client sends.
import socket, sys, os, time
port = int(sys.argv[1]); out = sys.argv[2]
greet = (sys.argv[3] if len(sys.argv) > 3 else "@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4").encode() + b"\n"
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(1)
s.settimeout(20)
c, _ = s.accept()
c.sendall(greet)
buf = b""
c.settimeout(5)
def readline():
    global buf
    while b"\n" not in buf:
        d = c.recv(4096)
        if not d: raise SystemExit("eof")
        buf += d
    line, buf = buf.split(b"\n", 1)
    return line
cg = readline()
mod = readline()
while mod.startswith(b"#early_input="):
    n = int(mod.split(b"=")[1]); 
    while len(buf) < n: buf += c.recv(4096)
    buf = buf[n:]; mod = readline()
c.sendall(b"@RSYNCD: OK\n")
c.settimeout(1.0)
try:
    while True:
        d = c.recv(65536)
        if not d: break
        buf += d
except socket.timeout:
    pass
with open(out, "wb") as f: f.write(buf)
with open(out + ".hdr", "wb") as f: f.write(cg + b"\n" + mod + b"\n")
c.close()
