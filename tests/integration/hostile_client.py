# SPDX-License-Identifier: MIT
"""A hand-made rsync push client for hostile-peer tests (standard library only).

It speaks the daemon protocol itself, as a stock client would for
``rsync -lrt SRC rsync://host/mod/``, at protocol 31 (or 29, 30, 32): the ``@RSYNCD:``
greeting, the module line, the server arguments of a push (``--server`` without
``--sender``; no ``i`` capability, so no incremental recursion; no ``v``, so md5 sums and
no name negotiation; before protocol 30 newline-separated, no capabilities, md4 sums),
the compat flags (protocol >= 30) and checksum seed, and then the sender side
(multiplexed from protocol 30 on, raw before): a file list built entry by entry, the
replies to the daemon's requests (``ndx``, ``iflags``, sum head, tokens, whole-file
checksum), the phase NDX_DONEs and the final goodbye. Every piece can be replaced by
something a well-behaved client never sends, which is what ``test_push_hostile.py`` does.

Wire layouts follow upstream (see /work/shared/reference/rsync-protocol-notes.md):
io.c:write_varint/write_varlong/write_ndx, flist.c:send_file_entry (byte/short flags),
sender.c:send_files, main.c:read_final_goodbye, io.c:read_a_msg (multiplexing).
"""

from __future__ import annotations

import hashlib
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

# Multiplexing tags (rsync.h enum msgcode).
MSG_DATA = 0
MSG_ERROR_XFER = 1
MSG_INFO = 2
MSG_ERROR = 3
MSG_WARNING = 4
MSG_IO_ERROR = 22
MSG_IO_TIMEOUT = 33
MSG_NOOP = 42
MSG_ERROR_EXIT = 86
MSG_SUCCESS = 100
MSG_DELETED = 101
MSG_NO_SEND = 102
TEXT_TAGS = (MSG_ERROR_XFER, MSG_INFO, MSG_ERROR, MSG_WARNING)
MPLEX_BASE = 7

NDX_DONE = -1
NDX_DEL_STATS = -3

# File-list flags (rsync.h XMIT_*).
XMIT_TOP_DIR = 0x0001
XMIT_SAME_MODE = 0x0002
XMIT_EXTENDED_FLAGS = 0x0004
XMIT_SAME_UID = 0x0008
XMIT_SAME_GID = 0x0010
XMIT_SAME_NAME = 0x0020
XMIT_LONG_NAME = 0x0040
XMIT_SAME_TIME = 0x0080
XMIT_HLINKED = 0x0200

# Item flags (rsync.h ITEM_*).
ITEM_BASIS_TYPE_FOLLOWS = 0x0800
ITEM_XNAME_FOLLOWS = 0x1000
ITEM_TRANSFER = 0x8000

S_IFDIR = 0o040000
S_IFREG = 0o100000
S_IFLNK = 0o120000

CLIENT_VERSION_LINE = {29: "@RSYNCD: 29.0", 30: "@RSYNCD: 30.0", 31: "@RSYNCD: 31.0",
                       32: "@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4"}


class SessionEnded(Exception):
    """The daemon closed the connection (or timed out) before the step finished."""


# ----------------------------------------------------------------------------------------
# Encoders (protocol >= 30)
# ----------------------------------------------------------------------------------------

def int32(v: int) -> bytes:
    return struct.pack("<i", v)


def shortint(v: int) -> bytes:
    return struct.pack("<H", v & 0xFFFF)


def varint(v: int) -> bytes:
    """io.c:write_varint for a 32-bit value."""
    return _varlong(v & 0xFFFFFFFF, 1, 4)


def varlong(v: int, min_bytes: int) -> bytes:
    """io.c:write_varlong."""
    return _varlong(v & 0xFFFFFFFFFFFFFFFF, min_bytes, 8)


def _varlong(v: int, min_bytes: int, width: int) -> bytes:
    b = v.to_bytes(width, "little") + b"\0"
    cnt = width
    while cnt > min_bytes and b[cnt - 1] == 0:
        cnt -= 1
    bit = 1 << (7 - cnt + min_bytes)
    if b[cnt - 1] >= bit:
        cnt += 1
        lead = (~(bit - 1)) & 0xFF
    elif cnt > min_bytes:
        lead = b[cnt - 1] | ((~(bit * 2 - 1)) & 0xFF)
    else:
        lead = b[cnt - 1]
    return bytes([lead]) + b[:cnt - 1]


class NdxWriter:
    """io.c:write_ndx (protocol >= 30): per-direction state."""

    def __init__(self):
        self.prev_pos, self.prev_neg = -1, 1

    def encode(self, ndx: int) -> bytes:
        out = b""
        if ndx == NDX_DONE:
            return b"\0"
        if ndx >= 0:
            diff = ndx - self.prev_pos
            self.prev_pos = ndx
        else:
            out += b"\xff"
            ndx = -ndx
            diff = ndx - self.prev_neg
            self.prev_neg = ndx
        if 0 < diff < 0xFE:
            return out + bytes([diff])
        if diff < 0 or diff > 0x7FFF:
            return out + bytes([0xFE, ((ndx >> 24) | 0x80) & 0xFF, ndx & 0xFF,
                                (ndx >> 8) & 0xFF, (ndx >> 16) & 0xFF])
        return out + bytes([0xFE, (diff >> 8) & 0xFF, diff & 0xFF])


@dataclass
class Entry:
    """One file-list entry as the hostile sender describes it."""
    name: bytes
    mode: int
    size: int = 0
    mtime: int = 1_600_000_000
    target: bytes = b""            # symlinks
    content: bytes = b""           # regular files: what a transfer sends
    raw: Optional[bytes] = None    # a hand-made encoding sent instead of the fields


def longint(v: int) -> bytes:
    """io.c:write_longint (protocol < 30)."""
    if 0 <= v <= 0x7FFFFFFF:
        return int32(v)
    return int32(-1) + struct.pack("<q", v)


def varint30(v: int, protocol: int) -> bytes:
    return varint(v) if protocol >= 30 else int32(v)


def encode_entry(e: Entry, protocol: int = 31) -> bytes:
    """flist.c:send_file_entry for a ``-lrt`` push without -o/-g/-D, always with the
    extended (two-byte) flags (protocol >= 28); no SAME_* compression except
    SAME_UID/GID (which mean nothing here)."""
    if e.raw is not None:
        return e.raw
    flags = XMIT_EXTENDED_FLAGS | XMIT_SAME_UID | XMIT_SAME_GID
    if e.name == b".":
        flags |= XMIT_TOP_DIR
    if len(e.name) > 255:
        flags |= XMIT_LONG_NAME
    out = shortint(flags)
    if flags & XMIT_LONG_NAME:
        out += varint30(len(e.name), protocol)
    else:
        out += bytes([len(e.name)])
    out += e.name
    if protocol >= 30:
        out += varlong(e.size, 3) + varlong(e.mtime, 4)
    else:
        out += longint(e.size) + int32(e.mtime)
    out += int32(e.mode)
    if e.mode & 0o170000 == S_IFLNK:
        out += varint30(len(e.target), protocol) + e.target
    return out


def file_entry(name: str | bytes, content: bytes, mode: int = 0o644) -> Entry:
    n = name.encode() if isinstance(name, str) else name
    return Entry(n, S_IFREG | mode, size=len(content), content=content)


def dir_entry(name: str | bytes, mode: int = 0o755) -> Entry:
    n = name.encode() if isinstance(name, str) else name
    return Entry(n, S_IFDIR | mode, size=4096)


def symlink_entry(name: str | bytes, target: str | bytes) -> Entry:
    n = name.encode() if isinstance(name, str) else name
    t = target.encode() if isinstance(target, str) else target
    return Entry(n, S_IFLNK | 0o777, size=len(t), target=t)


def sort_key(name: bytes, is_dir: bool) -> tuple:
    """flist.c:f_name_cmp (protocol >= 29): per directory level, files before subdirs."""
    if name == b".":
        return ((0, b""),)
    parts = name.split(b"/")
    key = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        key.append((1 if (not last or is_dir) else 0, part))
    return tuple(key)


# ----------------------------------------------------------------------------------------
# Session
# ----------------------------------------------------------------------------------------

@dataclass
class Request:
    """One generator request read from the daemon."""
    ndx: int
    iflags: int = 0
    fnamecmp_type: Optional[int] = None
    xname: Optional[bytes] = None
    count: int = 0
    blength: int = 0
    s2length: int = 0
    remainder: int = 0
    sums: bytes = b""


@dataclass
class Outcome:
    """What a session ended with."""
    clean: bool                        # the full goodbye completed
    messages: list[tuple[int, str]] = field(default_factory=list)
    exit_code: Optional[int] = None    # from MSG_ERROR_EXIT
    closed: bool = False               # the daemon closed the connection
    ended_by: str = ""                 # what the client was doing when it ended
    preamble: str = ""                 # text before the binary part (@ERROR lines)

    def errors(self) -> list[str]:
        return [t for tag, t in self.messages if tag in (MSG_ERROR, MSG_ERROR_XFER)]

    def describe(self) -> str:
        msgs = "".join(f"\n    [{tag}] {t!r}" for tag, t in self.messages)
        return (f"clean={self.clean} closed={self.closed} exit_code={self.exit_code} "
                f"ended_by={self.ended_by!r} preamble={self.preamble!r} messages:{msgs}")


class HostileSession:
    """One push session driven by hand. Steps raise ``SessionEnded`` when the daemon
    closes the connection; ``outcome()`` then says what it sent before."""

    def __init__(self, port: int, module: str, *, protocol: int = 31,
                 flags: str = "-lrt", dest: str = "", timeout: float = 20.0,
                 host: str = "127.0.0.1"):
        self.protocol = protocol
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.inbuf = b""        # raw bytes not yet parsed
        self.data = b""         # demultiplexed MSG_DATA bytes not yet consumed
        self.messages: list[tuple[int, str]] = []
        self.exit_code: Optional[int] = None
        self.closed = False
        self.preamble = ""
        self.ndx_out = NdxWriter()
        self.prev_pos_in, self.prev_neg_in = -1, 1
        self.seed = 0
        self.compat_flags = 0
        self.module = module
        self.dest = dest
        self.flags = flags
        self.sent_error_exit = False

    # -- raw socket ----------------------------------------------------------------------

    def _recv(self, deadline: float) -> bool:
        left = deadline - time.monotonic()
        if left <= 0 or self.closed:
            return False
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return False
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.inbuf += chunk
        return True

    def send_raw(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.closed = True
            raise SessionEnded(f"send failed: {exc}") from None

    def _line(self) -> str:
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self.inbuf:
            if not self._recv(deadline):
                raise SessionEnded("no complete line")
        line, _, self.inbuf = self.inbuf.partition(b"\n")
        return line.decode(errors="replace")

    # -- text phase ----------------------------------------------------------------------

    def start(self, args: Optional[list[str]] = None) -> None:
        """Greeting, module, arguments, protocol setup; then multiplexing is on."""
        greeting = self._line()
        if not greeting.startswith("@RSYNCD: "):
            raise SessionEnded(f"bad greeting {greeting!r}")
        self.send_raw((CLIENT_VERSION_LINE[self.protocol] + "\n").encode())
        self.send_raw((self.module + "\n").encode())
        while True:
            line = self._line()
            if line == "@RSYNCD: OK":
                break
            self.preamble += line + "\n"
            if line.startswith("@ERROR") or line.startswith("@RSYNCD: EXIT"):
                raise SessionEnded(line)
        modern = self.protocol >= 30
        if args is None:
            bundle = f"{self.flags}e.LsfxC" if modern else self.flags
            args = ["--server", bundle, ".", f"{self.module}/{self.dest}"]
        # Protocol >= 30 ends each argument with a NUL, older ones with a newline.
        end = b"\0" if modern else b"\n"
        self.send_raw(b"".join(a.encode() + end for a in args) + end)
        # compat flags (varint, protocol >= 30) and the checksum seed, both raw.
        if modern:
            self.compat_flags = self._raw_varint()
        self.seed = struct.unpack("<i", self._raw_bytes(4))[0]

    def _raw_bytes(self, n: int) -> bytes:
        deadline = time.monotonic() + self.timeout
        while len(self.inbuf) < n:
            if not self._recv(deadline):
                # A refusal arrives multiplexed or as plain text: keep it for the report.
                self.preamble += self.inbuf.decode(errors="replace")
                self.inbuf = b""
                raise SessionEnded("connection ended during protocol setup")
        out, self.inbuf = self.inbuf[:n], self.inbuf[n:]
        return out

    def _raw_varint(self) -> int:
        first = self._raw_bytes(1)[0]
        extra = 0
        while extra < 5 and first & (0x80 >> extra):
            extra += 1
        body = self._raw_bytes(extra) if extra else b""
        value = int.from_bytes(body, "little")
        value |= (first & ((0x80 >> extra) - 1)) << (8 * extra) if extra < 5 else 0
        return value

    # -- multiplexed input ---------------------------------------------------------------

    def _pump(self, deadline: float) -> bool:
        """Parse one frame (reading more if needed); False at EOF/timeout."""
        while len(self.inbuf) < 4:
            if not self._recv(deadline):
                return False
        hdr = struct.unpack("<I", self.inbuf[:4])[0]
        tag, length = (hdr >> 24) - MPLEX_BASE, hdr & 0xFFFFFF
        while len(self.inbuf) < 4 + length:
            if not self._recv(deadline):
                return False
        payload, self.inbuf = self.inbuf[4:4 + length], self.inbuf[4 + length:]
        if tag == MSG_DATA:
            self.data += payload
        elif tag in TEXT_TAGS:
            self.messages.append((tag, payload.decode(errors="replace")))
        elif tag == MSG_ERROR_EXIT:
            if len(payload) == 4:
                self.exit_code = struct.unpack("<i", payload)[0]
            # Answer like a stock sender (io.c:read_a_msg): an empty MSG_ERROR_EXIT.
            if not self.sent_error_exit:
                self.sent_error_exit = True
                try:
                    self.send_msg(MSG_ERROR_EXIT, b"")
                except SessionEnded:
                    pass
        else:
            self.messages.append((tag, payload.hex()))
        return True

    def fatal_error_seen(self) -> bool:
        """Whether the daemon sent its final ``rsync error:`` line. Before protocol 31
        nothing else marks the end of a failed session (upstream may keep the socket
        open for a while after it), so waiting for more data is pointless then."""
        return self.protocol < 31 and any("rsync error:" in t for _tag, t in self.messages)

    def read_data(self, n: int) -> bytes:
        deadline = time.monotonic() + self.timeout
        while len(self.data) < n:
            if self.fatal_error_seen():
                raise SessionEnded(f"the daemon gave up (wanted {n} data bytes)")
            if not self._pump(deadline):
                raise SessionEnded(f"wanted {n} data bytes, have {len(self.data)}")
        out, self.data = self.data[:n], self.data[n:]
        return out

    def read_int(self) -> int:
        return struct.unpack("<i", self.read_data(4))[0]

    def read_shortint(self) -> int:
        return struct.unpack("<H", self.read_data(2))[0]

    def read_varint(self) -> int:
        first = self.read_data(1)[0]
        extra = 0
        while extra < 5 and first & (0x80 >> extra):
            extra += 1
        value = int.from_bytes(self.read_data(extra), "little") if extra else 0
        if extra < 4:
            value |= (first & ((0x80 >> extra) - 1)) << (8 * extra)
        return value

    def read_ndx(self) -> int:
        """io.c:read_ndx."""
        if self.protocol < 30:
            return self.read_int()
        b = self.read_data(1)[0]
        if b == 0:
            return NDX_DONE
        negative = b == 0xFF
        if negative:
            b = self.read_data(1)[0]
        prev = self.prev_neg_in if negative else self.prev_pos_in
        if b == 0xFE:
            b0, b1 = self.read_data(2)
            if b0 & 0x80:
                b2, b3 = self.read_data(2)
                num = ((b0 & 0x7F) << 24) | b1 | (b2 << 8) | (b3 << 16)
            else:
                num = (b0 << 8) + b1 + prev
        else:
            num = b + prev
        if negative:
            self.prev_neg_in = num
            return -num
        self.prev_pos_in = num
        return num

    # -- multiplexed output --------------------------------------------------------------

    def send_msg(self, tag: int, payload: bytes) -> None:
        self.send_raw(struct.pack("<I", ((MPLEX_BASE + tag) << 24) | len(payload)) + payload)

    def send_data(self, data: bytes) -> None:
        """Stream data: multiplexed from protocol 30 on, raw before."""
        if self.protocol < 30:
            self.send_raw(data)
            return
        for off in range(0, len(data), 32768):
            self.send_msg(MSG_DATA, data[off:off + 32768])

    def encode_ndx(self, ndx: int) -> bytes:
        return self.ndx_out.encode(ndx) if self.protocol >= 30 else int32(ndx)

    def send_ndx(self, ndx: int) -> None:
        self.send_data(self.encode_ndx(ndx))

    # -- the push ------------------------------------------------------------------------

    def send_file_list(self, entries: list[Entry], trailer: Optional[bytes] = None) -> None:
        """Entries in the given order (``sorted_entries`` gives upstream's), then the end
        marker (a single zero flags byte: no I/O error; before protocol 30 followed by
        the int32 io_error, as no id lists are sent without -o/-g)."""
        if trailer is None:
            trailer = b"\0" if self.protocol >= 30 else b"\0" + int32(0)
        out = b"".join(encode_entry(e, self.protocol) for e in entries)
        self.send_data(out + trailer)

    def read_request(self) -> Request:
        """One generator request: ndx, iflags, [type], [xname], [sum head + sums]."""
        ndx = self.read_ndx()
        while ndx == NDX_DEL_STATS and self.protocol >= 31:
            for _ in range(5):
                self.read_varint()
            ndx = self.read_ndx()
        req = Request(ndx)
        if ndx == NDX_DONE:
            return req
        req.iflags = self.read_shortint()
        if req.iflags & ITEM_BASIS_TYPE_FOLLOWS:
            req.fnamecmp_type = self.read_data(1)[0]
        if req.iflags & ITEM_XNAME_FOLLOWS:
            n = self.read_data(1)[0]
            if n & 0x80:
                n = ((n & 0x7F) << 8) | self.read_data(1)[0]
            req.xname = self.read_data(n)
        if req.iflags & ITEM_TRANSFER:
            req.count, req.blength, req.s2length, req.remainder = (
                self.read_int() for _ in range(4))
            if not (0 <= req.count <= 1 << 20 and 0 <= req.s2length <= 64):
                raise SessionEnded(f"implausible sum head from the daemon: {req}")
            req.sums = self.read_data(req.count * (4 + req.s2length))
        return req

    def attrs_echo(self, req: Request) -> bytes:
        out = shortint(req.iflags)
        if req.iflags & ITEM_BASIS_TYPE_FOLLOWS:
            out += bytes([req.fnamecmp_type or 0])
        if req.iflags & ITEM_XNAME_FOLLOWS:
            x = req.xname or b""
            out += (bytes([len(x)]) if len(x) < 0x80
                    else bytes([0x80 | (len(x) >> 8), len(x) & 0xFF])) + x
        return out

    def reply_whole_file(self, req: Request, content: bytes, *,
                         sum_head: Optional[tuple[int, int, int, int]] = None,
                         tokens: Optional[bytes] = None,
                         checksum: Optional[bytes] = None) -> None:
        """sender.c:send_files for one file sent as literal data (ignoring the basis):
        ndx and attributes echoed, the sum head echoed (or ``sum_head``), the tokens
        (or ``tokens``), the whole-file md5 (or ``checksum``)."""
        out = self.encode_ndx(req.ndx) + self.attrs_echo(req)
        head = sum_head or (req.count, req.blength, req.s2length, req.remainder)
        out += b"".join(int32(v) for v in head)
        if tokens is None:
            tokens = b""
            for off in range(0, len(content), 32768):
                chunk = content[off:off + 32768]
                tokens += int32(len(chunk)) + chunk
            tokens += int32(0)
        out += tokens
        out += checksum if checksum is not None else self.file_sum(content)
        self.send_data(out)

    def file_sum(self, content: bytes) -> bytes:
        """The whole-file checksum: md5 (protocol >= 30, no name negotiation), else
        md4 over the seed and the data (checksum.c:sum_init, CSUM_MD4_OLD)."""
        if self.protocol >= 30:
            return hashlib.md5(content).digest()
        from harness import md4
        return md4(struct.pack("<i", self.seed) + content)

    def echo_item(self, req: Request) -> None:
        """A non-transfer item goes back unchanged (sender.c:write_ndx_and_attrs)."""
        self.send_data(self.encode_ndx(req.ndx) + self.attrs_echo(req))

    def serve(self, entries: list[Entry], *, max_requests: int = 10_000) -> int:
        """Answer every request like a well-behaved sender, through the phases and the
        final goodbye (sender.c:send_files, main.c:read_final_goodbye). Returns how many
        files it sent (a redo after a failed verification counts again)."""
        phase = 0
        sent = 0
        for _ in range(max_requests):
            req = self.read_request()
            if req.ndx == NDX_DONE:
                phase += 1
                if phase > 2:
                    break
                self.send_ndx(NDX_DONE)
                continue
            if not req.iflags & ITEM_TRANSFER:
                self.echo_item(req)
                continue
            if not 0 <= req.ndx < len(entries):
                raise SessionEnded(f"daemon asked for index {req.ndx}")
            self.reply_whole_file(req, entries[req.ndx].content)
            sent += 1
        self.goodbye()
        return sent

    def goodbye(self) -> None:
        self.send_ndx(NDX_DONE)
        if self.read_request().ndx != NDX_DONE:
            raise SessionEnded("no NDX_DONE at the end of the run")
        if self.protocol >= 31:
            self.send_ndx(NDX_DONE)
            if self.read_request().ndx != NDX_DONE:
                raise SessionEnded("no final NDX_DONE")

    # -- ending --------------------------------------------------------------------------

    def drain(self, timeout: float = 10.0, stop: Optional[Callable[[], bool]] = None) -> None:
        """Collect whatever the daemon still sends until it closes, ``stop()`` is true, or
        ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            if stop is not None and stop():
                break
            if not self._pump(deadline):
                break

    def outcome(self, clean: bool, ended_by: str = "") -> Outcome:
        return Outcome(clean=clean, messages=list(self.messages), exit_code=self.exit_code,
                       closed=self.closed, ended_by=ended_by, preamble=self.preamble)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def sorted_entries(entries: list[Entry]) -> list[Entry]:
    """Entries in upstream's file-list order (both ends index the sorted list)."""
    return sorted(entries, key=lambda e: sort_key(e.name, e.mode & 0o170000 == S_IFDIR))
