# SPDX-License-Identifier: MIT
"""A thousand silent connections must not delay a well-behaved client (ocrsyncd only).

Behaviours checked:
- the median time of a real client's module listing (5 runs) grows by at most 100 ms while
  1000 TCP connections that completed the TCP handshake but never speak are held open;
- the daemon's memory (VmRSS summed over its processes) before and after, and the cost per
  silent connection, are printed on a line starting `MEASURED:` so that it can be quoted;
- the daemon still serves normally after the connections are closed.

Not run against upstream: upstream forks one process per connection (1000 processes).
OCR_SILENT_CONNECTIONS overrides the number of connections (default 1000).
"""

import os
import resource
import selectors
import socket
import statistics
import sys
import time

import harness as h

SILENT = int(os.environ.get("OCR_SILENT_CONNECTIONS", "1000"))
RUNS = 5
ALLOWED_GROWTH = 0.100  # seconds
GREETING_PREFIX = b"@RSYNCD: "


def raise_nofile_limit(needed: int) -> None:
    """Make room for ``needed`` more descriptors in this process (and in the daemon, which
    inherits the limit because it is started afterwards)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed + 256
    if soft >= want:
        return
    if hard != resource.RLIM_INFINITY and hard < want:
        raise AssertionError(f"RLIMIT_NOFILE hard limit {hard} < {want} needed for the test")
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def median_listing_time(daemon: h.Daemon) -> float:
    times = []
    for _ in range(RUNS):
        elapsed, (rc, out, err) = h.timed_rsync([daemon.url()])
        if rc != 0 or "silent" not in out:
            raise AssertionError(f"listing failed: rc={rc}\n{out}\n{err}\n{daemon.describe()}")
        times.append(elapsed)
    return statistics.median(times)


def open_silent_connections(port: int, count: int) -> list[socket.socket]:
    """``count`` connections that never send a byte; returns once each has been accepted
    (its greeting arrived), so they are really held by the daemon, not by the backlog."""
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setblocking(False)
        socks.append(s)
    pending = {s: b"" for s in socks}
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                raise AssertionError(f"a silent connection was closed while being set up "
                                     f"({count - len(pending)} accepted so far)")
            pending[s] = pending.get(s, b"") + data
            if pending[s].startswith(GREETING_PREFIX) and b"\n" in pending[s]:
                sel.unregister(s)
                del pending[s]
    sel.close()
    if pending:
        raise AssertionError(f"{len(pending)} of {count} connections got no greeting in 30s")
    return socks


def still_open(socks: list[socket.socket]) -> int:
    """How many of the sockets the daemon has not closed."""
    n = 0
    for s in socks:
        try:
            data = s.recv(4096)
            if data:
                n += 1  # unexpected bytes, but still open
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n


@h.ocrsyncd_only
class SilentConnectionsTest(h.DaemonTestCase):

    def test_thousand_silent_connections_do_not_delay_listing(self):
        """Verifies that holding 1000 silent connections raises the median listing time by
        at most 100 ms, reports the memory cost on a MEASURED: line, and that the daemon
        serves normally after they close."""
        raise_nofile_limit(SILENT + 64)
        mod = h.make_tree(os.path.join(self.tmp, "tree"), {"f": "x\n"})
        # The silent connections must outlive the measurement: a generous deadline.
        d = self.start_daemon(f"handshake timeout = 60\n[silent]\n    path = {mod}\n")
        median_listing_time(d)  # warm-up (page cache, first worker spawn)
        before = median_listing_time(d)
        rss_before = h.rss_kib(d.processes())
        t0 = time.monotonic()
        socks = open_silent_connections(d.port, SILENT)
        opened_in = time.monotonic() - t0
        try:
            during = median_listing_time(d)
            rss_during = h.rss_kib(d.processes())
            held = still_open(socks)
            procs = len(d.processes())
        finally:
            for s in socks:
                s.close()
        per_conn = (rss_during - rss_before) / max(SILENT, 1)
        print(f"MEASURED: silent_connections={SILENT} held_at_end={held} "
              f"opened_in={opened_in:.2f}s listing_median_before={before * 1000:.1f}ms "
              f"listing_median_during={during * 1000:.1f}ms "
              f"growth={(during - before) * 1000:.1f}ms daemon_processes={procs} "
              f"rss_before={rss_before}KiB rss_during={rss_during}KiB "
              f"per_connection={per_conn:.2f}KiB", flush=True)
        sys.stdout.flush()
        self.assertEqual(held, SILENT, "the daemon closed silent connections during the "
                                       "measurement (handshake timeout = 60 s)")
        self.assertLessEqual(during - before, ALLOWED_GROWTH,
                             f"listing median grew from {before * 1000:.1f} ms to "
                             f"{during * 1000:.1f} ms with {SILENT} silent connections")
        h.eventually(lambda: h.run_rsync([d.url()])[0] == 0, timeout=10,
                     message=lambda: "no listing after closing the connections\n"
                                     + d.describe())
        self.assertTrue(d.running(), d.describe())


if __name__ == "__main__":
    h.main()
