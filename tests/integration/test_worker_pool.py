# SPDX-License-Identifier: MIT
"""ocrsyncd's worker pool: `transfer workers = N`, `spare workers = S` (ocrsyncd only).

Behaviours checked, with N = 2 and S = 1:
- a transfer request gets past the front door to a worker (the client sees no `@ERROR`
  line, the log shows `rsync on mod/ from ...`);
- when idle, the number of worker processes stays at S (workers are found as the leaf
  processes below the daemon, so a spawner process in between does not matter);
- SIGKILL of the worker holding one session ends that session only: another session, the
  listener and the pool go on;
- more simultaneous sessions than N + 2N (busy workers + queue) do not crash the daemon, at
  most N run at once, queued ones get a worker when one frees up, and the daemon serves
  normally once they are gone.

A "held" session is a raw client that sends a full pull request (greeting, module,
arguments) and then goes silent, so the worker blocks waiting for it.
"""

import os
import signal
import time

import harness as h

N_WORKERS = 2
SPARES = 1
PULL_REQUEST = (h.CLIENT_GREETING_32 + "\nmod\n").encode()
PULL_ARGS = b"--server\0--sender\0-lre.iLsfxCIvu\0.\0mod/\0\0"


def process_table(daemon: h.Daemon) -> str:
    """pid, ppid and command line of the daemon's process tree, for failure messages."""
    rows = []
    for pid in daemon.processes():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
            with open(f"/proc/{pid}/stat") as fh:
                ppid = fh.read().rsplit(")", 1)[1].split()[1]
        except OSError:
            continue
        rows.append(f"  pid={pid} ppid={ppid} {cmd}")
    return "process tree:\n" + "\n".join(rows)


def leaf_workers(daemon: h.Daemon) -> list[int]:
    """Descendants of the daemon that have no children themselves: the workers.

    Loose on purpose: workers may be children or grandchildren (behind a spawner).
    """
    tree = h.process_children_map()
    return [p for p in h.descendants(daemon.pid) if not tree.get(p)]


def hold_session(daemon: h.Daemon) -> h.RawClient:
    """A pull session whose client goes silent after its arguments (blind send: a daemon
    that is not accepting right now still gets the bytes once it does)."""
    c = h.raw_connect(daemon, timeout=15)
    c.send(PULL_REQUEST + PULL_ARGS)
    return c


def worker_of(daemon: h.Daemon, client: h.RawClient) -> list[int]:
    """The daemon processes other than the front-end that hold this client's connection."""
    return [p for p in h.pids_holding_connection(daemon, client) if p != daemon.pid]


@h.ocrsyncd_only
class WorkerPoolTest(h.DaemonTestCase):

    def setUp(self):
        super().setUp()
        mod = h.make_tree(os.path.join(self.tmp, "tree"), {"file.txt": "hello\n",
                                                            "sub/b.txt": "b\n"})
        self.module = mod
        self.dst = os.path.join(self.tmp, "dst")
        self.daemon = self.start_daemon(f"""transfer workers = {N_WORKERS}
spare workers = {SPARES}
[mod]
    path = {mod}
    read only = yes
""")

    def detail(self) -> str:
        return f"{process_table(self.daemon)}\n{self.daemon.describe()}"

    def test_transfer_request_reaches_worker(self):
        """Verifies that a pull gets past the front door: no `@ERROR` line for the client and
        the log shows `rsync on mod/ from HOST (127.0.0.1)`."""
        mark = self.daemon.log_mark()
        rc, out, err = h.run_rsync(["-r", self.daemon.url("mod/"), self.dst + "/"])
        front_door_errors = [l for l in err.splitlines() if l.startswith("@ERROR")]
        self.assertEqual(front_door_errors, [], f"rc={rc}\n{err}\n{self.detail()}")
        self.daemon.wait_for_log(r"rsync on mod/ from \S+ \(127\.0\.0\.1\)", since=mark)
        self.assertEqual(rc, 0, f"rc={rc}\n{err}\n{self.detail()}")
        src_names = sorted(os.listdir(self.module))
        self.assertEqual(sorted(os.listdir(self.dst)), src_names, self.detail())

    def test_idle_worker_count_is_spares(self):
        """Verifies that an idle daemon keeps exactly S spare workers, and returns to S after
        a few sessions have come and gone."""
        h.eventually(lambda: len(leaf_workers(self.daemon)) == SPARES, timeout=5,
                     message=lambda: f"idle worker count never reached {SPARES}\n"
                                     + self.detail())
        for _ in range(5):
            self.assertEqual(len(leaf_workers(self.daemon)), SPARES, self.detail())
            time.sleep(0.2)
        for _ in range(3):
            h.run_rsync(["-r", self.daemon.url("mod/"), self.dst + "/"])
        h.eventually(lambda: len(leaf_workers(self.daemon)) == SPARES, timeout=5,
                     message=lambda: f"worker count did not return to {SPARES} after "
                                     f"sessions\n{self.detail()}")

    def test_killing_worker_ends_only_its_session(self):
        """Verifies that SIGKILL of the worker holding session A closes A only: session B
        stays open and keeps its worker, and the daemon still serves listings."""
        a = hold_session(self.daemon)
        b = hold_session(self.daemon)
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        workers = {}
        for name, c in (("A", a), ("B", b)):
            workers[name] = h.eventually(lambda c=c: worker_of(self.daemon, c), timeout=5,
                                         message=lambda name=name: (
                                             f"no worker holds session {name}"
                                             "\n"
                                             + self.detail()))
        self.assertFalse(set(workers["A"]) & set(workers["B"]),
                         f"A and B share a worker: {workers}\n{self.detail()}")
        for pid in workers["A"]:
            os.kill(pid, signal.SIGKILL)
        closed, waited = a.wait_closed(5)
        self.assertTrue(closed, f"session A still open {waited:.1f}s after its worker was "
                                f"killed\n{self.detail()}")
        closed, _ = b.wait_closed(1.0)
        self.assertFalse(closed, f"session B was closed too\n{self.detail()}")
        self.assertEqual(worker_of(self.daemon, b), workers["B"], self.detail())
        self.assertTrue(self.daemon.running(), self.detail())
        rc, out, err = h.run_rsync([self.daemon.url()])
        self.assertEqual((rc, out), (0, "mod            \t\n"), err + self.detail())

    def test_sessions_beyond_capacity_queue(self):
        """Verifies that N + 2N + 4 simultaneous held sessions neither crash the daemon nor
        run more than N at once; a queued session gets a worker when a busy one ends; and
        after all are closed the daemon serves a listing and returns to S idle workers."""
        count = N_WORKERS + 2 * N_WORKERS + 4
        clients = [hold_session(self.daemon) for _ in range(count)]
        for c in clients:
            self.addCleanup(c.close)
        busy = h.eventually(
            lambda: [c for c in clients if worker_of(self.daemon, c)], timeout=5,
            message=lambda: "no session reached a worker\n" + self.detail())
        for _ in range(5):
            self.assertTrue(self.daemon.running(), self.detail())
            running = [c for c in clients if worker_of(self.daemon, c)]
            self.assertLessEqual(len(running), N_WORKERS,
                                 f"{len(running)} sessions run at once\n{self.detail()}")
            time.sleep(0.2)
        first = busy[0]
        first.close()
        clients.remove(first)
        h.eventually(lambda: any(worker_of(self.daemon, c) for c in clients
                                 if c not in busy), timeout=10,
                     message=lambda: "no queued session got a worker after one ended\n"
                                     + self.detail())
        for c in clients:
            c.close()
        self.assertTrue(self.daemon.running(), self.detail())
        h.eventually(lambda: h.run_rsync([self.daemon.url()])[0] == 0, timeout=15,
                     message=lambda: "daemon does not serve a listing after the burst\n"
                                     + self.detail())
        h.eventually(lambda: len(leaf_workers(self.daemon)) == SPARES, timeout=10,
                     message=lambda: f"worker count did not return to {SPARES}\n"
                                     + self.detail())


if __name__ == "__main__":
    h.main()
