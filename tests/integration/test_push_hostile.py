# SPDX-License-Identifier: MIT
"""Hostile pushes: a hand-made client (``hostile_client.py``) feeds the daemon's receiving
side what no stock client sends, and a real client races a directory/symlink swapper.

Setup: for each daemon (the target, and upstream's for comparison) a writable module
``push`` (``use chroot = no``, ``munge symlinks = no``: the configuration that protects
least, so only the receiver's own checks stand in the way; ``uid = root`` as root) at
``<base>/module-<who>`` and, beside it, a sentinel directory ``<base>/sentinel-<who>``
holding files named like the attack targets. After every case the sentinel must be
untouched (names, bytes, modes, owners, mtimes to the nanosecond), the module must hold
no temp file (``.name.XXXXXX``) and none of the case's forbidden names.

The hand-made client speaks protocol 31 by default (greeting, module, ``--server
-lrte.LsfxC . push/`` -- a push: no ``--sender`` --, compat flags and seed, then
multiplexed: the file list, the replies to the generator's requests, the phase NDX_DONEs
and the goodbye). Two control cases prove it works: a normal hand-made push completes its
goodbye and writes the files, and a hand-made delta (block-match tokens for every block of
the module's old copy, then literal data) rebuilds the new file.

Refused cases (each: the session does not reach a clean goodbye, the daemon closes it,
its first error line and its exit code (MSG_ERROR_EXIT) equal upstream's, which the test
also pins to the text upstream 3.5.0 sends):

- file-list names: ``../escape.txt``, ``sub/../../escape.txt`` and an absolute name
  (``ABORTING due to unsafe pathname from sender``, code 4);
- a symlink ``link`` to the sentinel (absolute and relative target) followed by
  ``link/evil.txt``, and ``link/evil.txt`` alone when the module already holds ``link``
  pointing at the sentinel (``ABORTING due to invalid path from sender``, code 2);
- an oversized name length (LONG_NAME, 100000) and symlink-target length (1 MiB)
  (``overflow: ...``, code 22);
- the sum head echoed with a negative block count, a block length of 1 GiB, a strong
  sum length over 16, a remainder over the block length (``Invalid ...``, code 2), and a
  block count of 2^31-1 with a block-match token (``got a block match with no basis
  file``, code 2);
- tokens: a block index beyond the count (``Invalid block index``, code 2); a literal
  run announced as 2 GiB, cut short by the client closing (no message; the daemon ends
  the session and leaves no file, final or temporary);
- file indexes: beyond the list (``File-list index ... not in``), negative (``Invalid
  file index``), a directory's index with ITEM_TRANSFER (``received request to transfer
  non-regular file``), all code 2;
- an unknown multiplexing tag (upstream closes without a message).

The texts and exit codes above are pinned at protocol 31. The file-list names, symlink,
sum-head, token and index cases, the swap and the control push also run at protocols 29
(newline-separated arguments, raw client stream, int32 indexes and lengths, md4 sums),
30 and 32, compared with upstream only (first error line equal; before 31 there is no
exit handshake, and upstream may keep a failed session open for a while after its final
``rsync error:`` line, so that line ends the wait).

Swaps (a per-file refusal, not the end of the session; only "refused" is compared, since
the errno text may differ): the hand-made client waits until the daemon has created
directory ``d`` and asked for ``d/f.txt``, the test then replaces ``d`` by a symlink to
the sentinel, and the client sends the data: the file must not be written through the
link (upstream: ``mkstemp "d/.f.txt.XXXXXX" ... failed: Too many levels of symbolic
links``). And the stock client pushes a directory of 150 files over and over while a
thread in the module keeps swapping that directory for a symlink to the sentinel: the
sentinel stays untouched.
"""

import os
import re
import struct
import threading
import time
import unittest
from dataclasses import dataclass
from typing import Callable, Optional

import harness as h
import hostile_client as hc
import tree

SENTINEL_FILES = {
    "keep.txt": "must never change\n",
    "evil.txt": "the attack must not overwrite this\n",
    "escape.txt": "nor this\n",
    "abs.txt": "nor this\n",
    "f.txt": "nor this\n",
    "sub/deeper.txt": "nor anything below\n",
}
SENTINEL_NS = 1_500_000_000 * 10**9 + 777
PINNED_PROTOCOL = 31        # upstream's texts and exit codes are pinned at this protocol
OTHER_PROTOCOLS = (29, 30, 32)
# Cases also run at OTHER_PROTOCOLS (file-list and reply decoding differ there), compared
# with upstream only (no MSG_ERROR_EXIT before 31, so no exit code to pin).
OTHER_PROTOCOL_CASES = ("dotdot", "absolute", "symlink_then_file", "existing_symlink",
                        "negative_block_count", "block_length_too_big",
                        "block_index_out_of_range", "file_index_too_big",
                        "file_index_negative", "dir_swapped_for_symlink")
TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9]{6}$")


@dataclass
class Side:
    """One daemon and the module/sentinel it is tested with."""
    daemon: h.Daemon
    module: str
    sentinel: str


@dataclass
class Case:
    name: str
    entries: Callable[[Side], list]            # the file list (unsorted)
    step: Optional[Callable] = None            # after the list: (session, entries, side)
    first_error: Optional[str] = None          # regex upstream's first error line matches
    exit_code: Optional[int] = None            # upstream's MSG_ERROR_EXIT code
    forbidden: tuple[str, ...] = ()            # module paths that must not exist afterwards
    prepare: Optional[Callable[[Side], None]] = None
    per_file: bool = False                     # refused per file; the session may end cleanly
    doc: str = ""


def _F(name, content=b"hostile data\n"):
    return hc.file_entry(name, content)


DOT = hc.dir_entry(".")


def _transfer_request(s: hc.HostileSession) -> hc.Request:
    """Echo non-transfer items until the first transfer request arrives."""
    req = s.read_request()
    while req.ndx != hc.NDX_DONE and not req.iflags & hc.ITEM_TRANSFER:
        s.echo_item(req)
        req = s.read_request()
    if req.ndx == hc.NDX_DONE:
        raise hc.SessionEnded("the daemon requested no file")
    return req


def _bad_head(head):
    def step(s, ents, _side):
        req = _transfer_request(s)
        s.reply_whole_file(req, ents[req.ndx].content, sum_head=head)
    return step


def _bad_tokens(tokens, close=False, head=None):
    def step(s, ents, _side):
        req = _transfer_request(s)
        hd = head or (req.count, req.blength, req.s2length, req.remainder)
        s.send_data(s.encode_ndx(req.ndx) + s.attrs_echo(req)
                    + b"".join(hc.int32(v) for v in hd) + tokens)
        if close:
            s.sock.shutdown(1)
    return step


def _bad_ndx(ndx):
    def step(s, _ents, _side):
        _transfer_request(s)
        s.send_data(s.encode_ndx(ndx) + hc.shortint(hc.ITEM_TRANSFER)
                    + b"".join(hc.int32(v) for v in (0, 0, 0, 0)) + hc.int32(0) + bytes(16))
    return step


def _bad_tag(s, _ents, _side):
    s.send_raw(struct.pack("<I", ((hc.MPLEX_BASE + 50) << 24) | 4) + b"oops")


def _swap_then_send(s, ents, side):
    req = _transfer_request(s)
    d = os.path.join(side.module, "d")
    os.rename(d, os.path.join(side.module, "d.moved"))
    os.symlink(side.sentinel, d)
    s.reply_whole_file(req, ents[req.ndx].content)


def _long_name_entry(_side):
    flags = hc.XMIT_EXTENDED_FLAGS | hc.XMIT_LONG_NAME | hc.XMIT_SAME_UID | hc.XMIT_SAME_GID
    return hc.Entry(b"", 0, raw=hc.shortint(flags) + hc.varint(100_000) + b"a" * 100)


def _long_symlink_entry(_side):
    flags = hc.XMIT_EXTENDED_FLAGS | hc.XMIT_SAME_UID | hc.XMIT_SAME_GID
    return hc.Entry(b"", 0, raw=hc.shortint(flags) + bytes([4]) + b"lnk1" + hc.varlong(5, 3)
                    + hc.varlong(1_600_000_000, 4) + hc.int32(hc.S_IFLNK | 0o777)
                    + hc.varint(1 << 20) + b"x" * 100)


def _preexisting_link(side: Side) -> None:
    os.symlink(side.sentinel, os.path.join(side.module, "link"))


def build_cases() -> list[Case]:
    unsafe = r"ABORTING due to unsafe pathname from sender: "
    invalid = r"ABORTING due to invalid path from sender: link/evil\.txt\n"
    return [
        Case("dotdot", lambda s: [DOT, _F("../escape.txt")],
             first_error=unsafe + r"\.\./escape\.txt\n", exit_code=4,
             doc="a file-list name `../escape.txt`"),
        Case("dotdot_inner", lambda s: [DOT, hc.dir_entry("sub"), _F("sub/../../escape.txt")],
             first_error=unsafe + r"sub/\.\./\.\./escape\.txt\n", exit_code=4,
             forbidden=("sub",), doc="a file-list name `sub/../../escape.txt`"),
        Case("absolute", lambda s: [DOT, _F(os.path.join(s.sentinel, "abs.txt"))],
             first_error=unsafe + r"/\S+/abs\.txt\n", exit_code=4,
             doc="an absolute file-list name pointing into the sentinel"),
        Case("symlink_then_file",
             lambda s: [DOT, hc.symlink_entry("link", s.sentinel), _F("link/evil.txt")],
             first_error=invalid, exit_code=2,
             doc="a symlink to the sentinel, then a file through it"),
        Case("relative_symlink_then_file",
             lambda s: [DOT, hc.symlink_entry("link", "../" + os.path.basename(s.sentinel)),
                        _F("link/evil.txt")],
             first_error=invalid, exit_code=2,
             doc="a relative symlink to the sentinel, then a file through it"),
        Case("existing_symlink", lambda s: [DOT, _F("link/evil.txt")],
             prepare=_preexisting_link, first_error=invalid, exit_code=2,
             doc="a file through a symlink to the sentinel already in the module"),
        Case("long_name", lambda s: [DOT, _long_name_entry(s)],
             first_error=r"overflow: xflags=0x5c l1=0 l2=100000 lastname=\. \[Receiver\]\n",
             exit_code=22, doc="a name length of 100000"),
        Case("long_symlink_target", lambda s: [DOT, _long_symlink_entry(s)],
             first_error=r"overflow: linkname_len=1048576\n", exit_code=22,
             forbidden=("lnk1",), doc="a symlink-target length of 1 MiB"),
        Case("negative_block_count", lambda s: [DOT, _F("f.txt")],
             step=_bad_head((-1, 700, 16, 0)),
             first_error=r"Invalid checksum count -1 \[receiver\]\n", exit_code=2,
             forbidden=("f.txt",), doc="a sum head with block count -1"),
        Case("block_length_too_big", lambda s: [DOT, _F("f.txt")],
             step=_bad_head((1, 1 << 30, 16, 0)),
             first_error=r"Invalid block length 1073741824 \[receiver\]\n", exit_code=2,
             forbidden=("f.txt",), doc="a sum head with block length 1 GiB (over the "
                                       "limit at every protocol)"),
        Case("sum_length_too_big", lambda s: [DOT, _F("f.txt")],
             step=_bad_head((1, 700, 100, 0)),
             first_error=r"Invalid checksum length 100 \[receiver\]\n", exit_code=2,
             forbidden=("f.txt",), doc="a sum head with strong-sum length 100"),
        Case("remainder_too_big", lambda s: [DOT, _F("f.txt")],
             step=_bad_head((1, 700, 16, 701)),
             first_error=r"Invalid remainder length 701 \[receiver\]\n", exit_code=2,
             forbidden=("f.txt",), doc="a sum head with remainder > block length"),
        Case("huge_block_count", lambda s: [DOT, _F("f.txt")],
             step=_bad_tokens(hc.int32(-(5 + 1)), head=(0x7FFFFFFF, 700, 16, 0)),
             first_error=r'got a block match with no basis file for "f\.txt" \(in push\) '
                         r"\[receiver\]\n", exit_code=2, forbidden=("f.txt",),
             doc="a block count of 2^31-1 and a block-match token without a basis"),
        Case("block_index_out_of_range", lambda s: [DOT, _F("f.txt")],
             step=_bad_tokens(hc.int32(-(1000 + 1))),
             first_error=r"Invalid block index 1000 \(count=0\) \[receiver\]\n", exit_code=2,
             forbidden=("f.txt",), doc="a block-match token for block 1000 of 0"),
        Case("literal_cut_short", lambda s: [DOT, _F("f.txt")],
             step=_bad_tokens(hc.int32(0x7FFFFFFF) + b"x" * 5000, close=True),
             forbidden=("f.txt",),
             doc="a literal run announced as 2 GiB, the client closing after 5000 bytes"),
        Case("file_index_too_big", lambda s: [DOT, _F("f.txt")], step=_bad_ndx(5000),
             first_error=r"File-list index 5000 not in -1 - 1 \(read_ndx_and_attrs\) "
                         r"\[receiver\]\n", exit_code=2, forbidden=("f.txt",),
             doc="a reply for file index 5000 of a 2-entry list"),
        Case("file_index_negative", lambda s: [DOT, _F("f.txt")], step=_bad_ndx(-50),
             first_error=r"Invalid file index: -50 \(-1 - 1\) \[receiver\]\n", exit_code=2,
             forbidden=("f.txt",), doc="a reply for file index -50"),
        Case("file_index_of_directory", lambda s: [DOT, _F("f.txt")], step=_bad_ndx(0),
             first_error=r"received request to transfer non-regular file: 0 \[receiver\]\n",
             exit_code=2, forbidden=("f.txt",),
             doc="a transfer reply for the index of a directory"),
        Case("unknown_message_tag", lambda s: [DOT, _F("f.txt")], step=_bad_tag,
             forbidden=("f.txt",), doc="a multiplexed frame with an unknown tag"),
        Case("dir_swapped_for_symlink", lambda s: [DOT, hc.dir_entry("d"), _F("d/f.txt")],
             step=_swap_then_send, per_file=True, forbidden=("d/f.txt", "d.moved/f.txt"),
             doc="the directory of a requested file swapped for a symlink to the sentinel "
                 "before its data arrives"),
    ]


CASES = build_cases()


def _fill_sentinel(path: str) -> None:
    tree.remove_tree(path)
    h.make_tree(path, SENTINEL_FILES)
    for dirpath, dirnames, filenames in os.walk(path, topdown=False):
        for n in dirnames + filenames:
            os.utime(os.path.join(dirpath, n), ns=(SENTINEL_NS, SENTINEL_NS))
    os.utime(path, ns=(SENTINEL_NS, SENTINEL_NS))


def _empty_dir(path: str) -> None:
    for name in os.listdir(path):
        p = os.path.join(path, name)
        if os.path.isdir(p) and not os.path.islink(p):
            tree.remove_tree(p)
        else:
            os.unlink(p)


def _config(module: str) -> str:
    return h.push_module_config(module, chroot=False, extra="    munge symlinks = no\n")


def _temp_files(module: str) -> list[str]:
    return sorted(os.path.join(d, n) for d, dirs, files in os.walk(module)
                  for n in dirs + files if TEMP_NAME.match(n))


def _written_in_module(module: str, rel: str) -> bool:
    """Whether ``rel`` exists inside the module as a non-symlink, reached without
    following a symlink (a parent swapped for a link leads out, into the sentinel, which
    has its own check)."""
    path = module
    parts = rel.split("/")
    for i, part in enumerate(parts):
        path = os.path.join(path, part)
        try:
            os.lstat(path)
        except FileNotFoundError:
            return False
        if os.path.islink(path):
            return False
        if i < len(parts) - 1 and not os.path.isdir(path):
            return False
    return True


def _hint(s: hc.HostileSession) -> str:
    """The harness's explanation when the target cannot receive files yet."""
    text = s.preamble + "".join(t for _tag, t in s.messages)
    return h.push_refused_hint(h.RunResult("target", 0, "", text))


def _normalise(line: str, side: Side) -> str:
    line = line.replace(side.sentinel, "<SENTINEL>").replace(side.module, "<MODULE>")
    return h.normalise_text(line, [side.daemon])


class PushHostileTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.base = h.make_temp_dir("ocr-push-hostile-")
        cls.sides = []
        for who, kind in (("target", h.TARGET), ("upstream", h.UPSTREAM_KIND)):
            module = os.path.join(cls.base, f"module-{who}")
            sentinel = os.path.join(cls.base, f"sentinel-{who}")
            os.makedirs(module)
            os.chmod(module, 0o755)
            daemon = h.Daemon(kind, _config(module))
            cls.addClassCleanup(daemon.stop)
            cls.sides.append(Side(daemon, module, sentinel))

    def setUp(self):
        for side in self.sides:
            _empty_dir(side.module)
            _fill_sentinel(side.sentinel)
        self.sentinel_before = [tree.snapshot(s.sentinel) for s in self.sides]

    # -- checks shared by every case ------------------------------------------------------

    def assert_contained(self, side: Side, before: tree.Snapshot, forbidden=(),
                         context: str = "") -> None:
        tree.assert_trees_equal(self, before, tree.snapshot(side.sentinel),
                                tree.Rules(exact_times=True),
                                f"{side.daemon.kind}: the sentinel beside the module changed "
                                f"{context}")
        # The session's processes may still be cleaning up when the socket closes.
        deadline = time.monotonic() + 10
        while _temp_files(side.module) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(_temp_files(side.module), [],
                         f"{side.daemon.kind}: temp files left behind {context}")
        for rel in forbidden:
            self.assertFalse(_written_in_module(side.module, rel),
                             f"{side.daemon.kind}: {rel} was written {context}")

    def run_session(self, case: Case, side: Side, protocol: int) -> hc.Outcome:
        if case.prepare:
            case.prepare(side)
        s = hc.HostileSession(side.daemon.port, "push", timeout=15, protocol=protocol)
        try:
            entries = hc.sorted_entries(case.entries(side))
            try:
                s.start()
                s.send_file_list(entries)
                if case.step:
                    case.step(s, entries, side)
                s.serve(entries)
                clean = True
                ended_by = ""
            except hc.SessionEnded as exc:
                clean, ended_by = False, str(exc)
            # Before protocol 31 there is no exit handshake, and upstream keeps a failed
            # session open for a while (its receiver is waiting on a dead generator): its
            # final "rsync error:" line is the end of what it has to say.
            s.drain(10, stop=s.fatal_error_seen)
            return s.outcome(clean, ended_by)
        finally:
            s.close()

    def check_case(self, case: Case, protocol: int = PINNED_PROTOCOL) -> None:
        outcomes = [self.run_session(case, side, protocol) for side in self.sides]
        (target, upstream), (side_t, side_u) = outcomes, self.sides
        hint = h.push_refused_hint(h.RunResult("target", 0, "", target.preamble + "".join(
            t for _tag, t in target.messages)))
        detail = (f"\n{hint}"
                  f"\ntarget:   {target.describe()}\nupstream: {upstream.describe()}")
        for side, before in zip(self.sides, self.sentinel_before):
            self.assert_contained(side, before, case.forbidden, detail)
        # What upstream does, pinned (this validates the expectations themselves).
        if case.per_file:
            self.assertTrue(any("f.txt" in t for t in upstream.errors()),
                            "EXPECTATION ERROR: upstream reported no error" + detail)
        else:
            self.assertFalse(upstream.clean, "EXPECTATION ERROR: upstream completed" + detail)
            if protocol >= 31:
                self.assertTrue(upstream.closed,
                                "EXPECTATION ERROR: upstream kept it open" + detail)
        if protocol == PINNED_PROTOCOL:
            self.assertEqual(upstream.exit_code, case.exit_code, "EXPECTATION ERROR" + detail)
        if case.first_error and protocol == PINNED_PROTOCOL:
            self.assertTrue(upstream.errors() and re.fullmatch(case.first_error,
                                                               upstream.errors()[0]),
                            "EXPECTATION ERROR: upstream's first error" + detail)
        # The target refuses the same way.
        if case.per_file:
            self.assertTrue(any("f.txt" in t for t in target.errors()),
                            "the target reported no error for the refused file" + detail)
        else:
            self.assertFalse(target.clean, "the target completed a hostile session" + detail)
            if protocol >= 31:
                self.assertTrue(target.closed, "the target did not end the session" + detail)
            else:
                self.assertTrue(target.closed or target.errors(),
                                "the target neither ended the session nor said why" + detail)
        self.assertEqual(target.exit_code, upstream.exit_code,
                         "exit code differs from upstream's" + detail)
        if case.first_error:
            self.assertTrue(target.errors(), "the target sent no error message" + detail)
            self.assertEqual(_normalise(target.errors()[0], side_t),
                             _normalise(upstream.errors()[0], side_u),
                             "first error line differs from upstream's" + detail)

    def check_control(self, protocol: int) -> None:
        content = bytes(range(256)) * 300
        for side in self.sides:
            _empty_dir(side.module)
            entries = hc.sorted_entries([DOT, _F("ok.txt", b"fine\n"), hc.dir_entry("sub"),
                                         _F("sub/data.bin", content)])
            s = hc.HostileSession(side.daemon.port, "push", timeout=15, protocol=protocol)
            try:
                s.start()
                s.send_file_list(entries)
                s.serve(entries)
                s.drain(10)
            except hc.SessionEnded as exc:
                self.fail(f"{side.daemon.kind}: control push failed: {exc}\n"
                          f"{s.outcome(False).describe()}" + _hint(s))
            finally:
                s.close()
            errors = [t for tag, t in s.messages if tag in (hc.MSG_ERROR, hc.MSG_ERROR_XFER)]
            self.assertEqual(errors, [], side.daemon.kind)
            with open(os.path.join(side.module, "sub", "data.bin"), "rb") as fh:
                self.assertEqual(fh.read(), content, side.daemon.kind)
            with open(os.path.join(side.module, "ok.txt"), "rb") as fh:
                self.assertEqual(fh.read(), b"fine\n", side.daemon.kind)

    def test_control_push_completes(self):
        """Verifies that the hand-made client is a working push client: a normal push of
        two files into a subdirectory completes its goodbye and writes them exactly, at
        protocols 29 (raw client stream, md4), 30, 31 and 32."""
        for protocol in OTHER_PROTOCOLS + (PINNED_PROTOCOL,):
            with self.subTest(protocol=protocol):
                self.check_control(protocol)

    def test_control_delta_push(self):
        """Verifies that the hand-made client's delta is real: over an old copy in the
        module, the daemon sends block sums, the client answers with block-match tokens for
        every old block plus the appended literal data, and the module's file becomes the
        new content (so the block-token cases above exercise a working path)."""
        old = bytes(range(256)) * 300          # 76800 bytes: 110 blocks of 700, last 500
        new = old + b"appended by the delta push\n"
        for side in self.sides:
            _empty_dir(side.module)
            with open(os.path.join(side.module, "data.bin"), "wb") as fh:
                fh.write(old)
            entries = hc.sorted_entries([DOT, _F("data.bin", new)])
            s = hc.HostileSession(side.daemon.port, "push", timeout=15)
            try:
                s.start()
                s.send_file_list(entries)
                req = _transfer_request(s)
                self.assertGreater(req.count, 0, f"{side.daemon.kind}: no block sums")
                self.assertEqual((req.count - 1) * req.blength
                                 + (req.remainder or req.blength), len(old),
                                 f"{side.daemon.kind}: the sums do not cover the old file")
                tokens = b"".join(hc.int32(-(i + 1)) for i in range(req.count))
                tokens += hc.int32(len(new) - len(old)) + new[len(old):] + hc.int32(0)
                s.reply_whole_file(req, new, tokens=tokens)
                redone = s.serve(entries)
                s.drain(10)
            except hc.SessionEnded as exc:
                self.fail(f"{side.daemon.kind}: delta push failed: {exc}\n"
                          f"{s.outcome(False).describe()}" + _hint(s))
            finally:
                s.close()
            self.assertEqual(redone, 0, f"{side.daemon.kind}: the delta failed its "
                             "verification and was requested again")
            with open(os.path.join(side.module, "data.bin"), "rb") as fh:
                self.assertEqual(fh.read(), new, side.daemon.kind)

    def test_real_client_races_directory_swapper(self):
        """Verifies that while the stock client pushes a 150-file directory again and
        again, a local process swapping that directory for a symlink to the sentinel
        never gets a byte written into the sentinel (target and upstream alike)."""
        src = os.path.join(self.base, "race-source")
        if not os.path.isdir(src):
            h.make_tree(src, {f"d/file-{i:03d}.txt": "x" * 20_000 for i in range(150)})
            h.make_tree(os.path.join(src, "d"), {"f.txt": "race\n", "evil.txt": "race\n"})
        for side, before in zip(self.sides, self.sentinel_before):
            stop = threading.Event()
            swaps = [0]

            def swapper(module=side.module, sentinel=side.sentinel):
                d, parked = os.path.join(module, "d"), os.path.join(module, "d.parked")
                while not stop.is_set():
                    try:
                        if os.path.isdir(d) and not os.path.islink(d):
                            os.rename(d, parked)
                            os.symlink(sentinel, d)
                            swaps[0] += 1
                            time.sleep(0.002)
                            os.unlink(d)
                            os.rename(parked, d)
                    except OSError:
                        pass
                    time.sleep(0.001)

            thread = threading.Thread(target=swapper, daemon=True)
            thread.start()
            try:
                deadline = time.monotonic() + 4
                runs = 0
                while time.monotonic() < deadline or runs < 3:
                    h.run_rsync(["-rt", "--delete", src + "/",
                                 f"rsync://127.0.0.1:{side.daemon.port}/push/"], timeout=60)
                    runs += 1
            finally:
                stop.set()
                thread.join(5)
            self.assertGreater(swaps[0], 0, "the swapper never swapped")
            self.assert_contained(side, before, context=f"after {runs} pushes racing "
                                  f"{swaps[0]} swaps")


def _make_test(case: Case):
    def test(self):
        self.check_case(case)
    test.__doc__ = (f"Verifies that {case.doc} is refused like upstream refuses it and "
                    f"nothing beside the module is touched.")
    return test


def _make_protocol_test(case: Case, protocol: int):
    def test(self):
        self.check_case(case, protocol)
    test.__doc__ = (f"Verifies that at protocol {protocol}, {case.doc} is refused like "
                    f"upstream refuses it (same first error line and exit code) and nothing "
                    f"beside the module is touched.")
    return test


for _case in CASES:
    setattr(PushHostileTest, f"test_{_case.name}", _make_test(_case))
    if _case.name in OTHER_PROTOCOL_CASES:
        for _proto in OTHER_PROTOCOLS:
            setattr(PushHostileTest, f"test_p{_proto}_{_case.name}",
                    _make_protocol_test(_case, _proto))


if __name__ == "__main__":
    h.main()
