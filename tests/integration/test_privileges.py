# SPDX-License-Identifier: MIT
"""Privilege separation of ocrsyncd's processes (ocrsyncd only).

Behaviours checked:
- the front-end (the daemon's main process, which reads network bytes) runs with no
  capabilities at all and, when started as root, not as root: as `nobody` by default and
  as `daemon uid` / `daemon gid` when they are set;
- it has no supplementary groups and no_new_privs set;
- the spawner keeps root only when the daemon was started as root, and reads no network
  bytes: it holds no TCP socket;
- idle workers hold no listening socket (descriptors do not leak into them);
- a worker in the middle of a pull or a push (every thread of it) has its seccomp filter
  loaded, no_new_privs set, no capabilities, the module's uid when started as root, and
  the module directory as its root (architecture.md "must hold" 3).

When the tests do not run as root, the same checks assert that no process of the daemon
has any capability or another uid than ours.
"""

import os
import pwd
import grp
import subprocess
import time

import harness as h
import tree


def status_fields(pid: int) -> dict[str, str]:
    return status_fields_path(f"/proc/{pid}/status")


def tcp_socket_inodes() -> set[int]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                next(fh)
                for line in fh:
                    inodes.add(int(line.split()[9]))
        except OSError:
            pass
    return inodes


def socket_inodes_of(pid: int) -> set[int]:
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(int(target[8:-1]))
    return found


@h.ocrsyncd_only
class PrivilegeTest(h.DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.module = h.make_temp_dir("ocr-priv-mod-")

    def start(self, extra=""):
        d = self.start_daemon(f"spare workers = 1\ntransfer workers = 2\n{extra}\n[mod]\n path = {self.module}\n")
        # Wait for the spare worker so that the process tree is complete.
        h.eventually(lambda: len(d.processes()) >= 3, timeout=10,
                     message=f"expected front-end, spawner and a worker\n{d.describe()}")
        return d

    def roles(self, d):
        """The front-end, the spawner (its child with children) and the workers."""
        frontend = d.pid
        children = h.process_children_map()
        spawners = [p for p in children.get(frontend, [])]
        self.assertEqual(len(spawners), 1, f"one spawner expected below the front-end: {children}")
        workers = children.get(spawners[0], [])
        return frontend, spawners[0], workers

    def test_frontend_has_no_privileges(self):
        """Verifies that the front-end runs with no capabilities, no supplementary groups and
        no_new_privs, and not as root when started as root."""
        d = self.start()
        frontend, _, _ = self.roles(d)
        st = status_fields(frontend)
        self.assertEqual(int(st["CapEff"], 16), 0, st["CapEff"])
        self.assertEqual(int(st["CapPrm"], 16), 0, st["CapPrm"])
        self.assertEqual(st["NoNewPrivs"], "1")
        uids = [int(x) for x in st["Uid"].split()]
        if h.running_as_root():
            self.assertEqual(set(uids), {pwd.getpwnam("nobody").pw_uid}, st["Uid"])
            self.assertEqual(st["Groups"], "", st["Groups"])
        else:
            self.assertEqual(set(uids), {os.getuid()}, st["Uid"])

    def test_daemon_uid_is_used_for_the_frontend(self):
        """Verifies that `daemon uid` / `daemon gid` choose the front-end's identity (as root),
        or are refused when they cannot be taken (not root: the daemon cannot start)."""
        user = "daemon"
        group = grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
        if not h.running_as_root():
            # Without root a different uid cannot be taken: start-up must fail, not go on.
            d = h.Daemon(h.TARGET, f"daemon uid = {user}\ndaemon gid = {group}\n[mod]\n path = {self.module}\n",
                         start=False)
            self.addCleanup(d.stop)
            with self.assertRaises(h.DaemonError):
                d.start()
            return
        d = self.start(f"daemon uid = {user}\ndaemon gid = {group}")
        st = status_fields(d.pid)
        self.assertEqual({int(x) for x in st["Uid"].split()}, {pwd.getpwnam(user).pw_uid}, st["Uid"])
        self.assertEqual({int(x) for x in st["Gid"].split()}, {grp.getgrnam(group).gr_gid}, st["Gid"])

    def test_spawner_and_workers_hold_no_network_socket(self):
        """Verifies that neither the privileged spawner nor an idle worker holds a TCP socket
        (listening or not), and that the spawner keeps root only if we started as root."""
        d = self.start()
        _, spawner, workers = self.roles(d)
        self.assertTrue(workers, "no idle worker found")
        tcp = tcp_socket_inodes()
        for pid in [spawner] + workers:
            self.assertFalse(socket_inodes_of(pid) & tcp, f"process {pid} holds a TCP socket")
        uids = {int(x) for x in status_fields(spawner)["Uid"].split()}
        self.assertEqual(uids, {os.getuid()})


@h.ocrsyncd_only
class WorkerConfinementTest(h.DaemonTestCase):
    """A worker that has started its transfer, seen from outside while it runs."""

    def setUp(self):
        super().setUp()
        self.module = os.path.realpath(h.make_temp_dir("ocr-confined-mod-"))
        self.src = h.make_temp_dir("ocr-confined-src-")
        self.dst = h.make_temp_dir("ocr-confined-dst-")
        os.chmod(self.module, 0o777)
        tree.write_random_file(os.path.join(self.module, "big.bin"), 4 * tree.MIB, seed=11)
        tree.write_random_file(os.path.join(self.src, "up.bin"), 4 * tree.MIB, seed=12)
        self.incoming = os.path.join(self.module, "in")
        os.mkdir(self.incoming)
        os.chmod(self.incoming, 0o777)
        ids = "    uid = nobody\n    gid = nogroup\n    use chroot = yes\n" if h.running_as_root() else ""
        self.daemon = self.start_daemon(f"[mod]\n    path = {self.module}\n    read only = no\n{ids}")

    def serving_worker(self, client: subprocess.Popen) -> int:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pids = h.daemon_pids_serving(self.daemon, client.pid)
            if pids:
                return pids[0]
            if client.poll() is not None:
                self.fail(f"the transfer ended (rc={client.returncode}) before its worker was seen: "
                          f"{client.stderr.read().decode(errors='replace')}")
            time.sleep(0.01)
        self.fail("no worker was seen serving the transfer")

    def check_confined(self, args: list[str], want_threads: int, receiving_dir: str) -> None:
        # --bwlimit keeps the transfer going for a few seconds while we look.
        client = subprocess.Popen([h.rsync_client_path(), "-a", "--bwlimit=1m"] + args,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=h.client_env())
        self.addCleanup(client.wait)
        self.addCleanup(client.kill)
        pid = self.serving_worker(client)
        # Started its transfer: the receiving side has begun writing the file.
        h.eventually(lambda: os.listdir(receiving_dir), timeout=20,
                     message="the transfer never began writing")
        # The push's receiver thread is started once the file list is in.
        h.eventually(lambda: len(os.listdir(f"/proc/{pid}/task")) >= want_threads, timeout=10,
                     message=f"worker {pid} never had {want_threads} threads")
        for task in os.listdir(f"/proc/{pid}/task"):
            st = status_fields_path(f"/proc/{pid}/task/{task}/status")
            self.assertEqual(st["Seccomp"], "2", f"thread {task} of worker {pid}: {st['Seccomp']}")
            self.assertEqual(st["NoNewPrivs"], "1")
            self.assertEqual(int(st["CapEff"], 16), 0, st["CapEff"])
            self.assertEqual(int(st["CapPrm"], 16), 0, st["CapPrm"])
            if h.running_as_root():
                self.assertEqual({int(x) for x in st["Uid"].split()}, {pwd.getpwnam("nobody").pw_uid})
        if h.running_as_root():
            # "use chroot = yes": the module directory is the worker's root.
            self.assertEqual(os.readlink(f"/proc/{pid}/root"), self.module)
        client.kill()

    def test_pulling_worker_is_confined(self):
        """Verifies the confinement of a worker sending a file (one thread)."""
        self.check_confined([self.daemon.url("mod/big.bin"), self.dst + "/"], 1, self.dst)

    def test_pushing_worker_is_confined(self):
        """Verifies the confinement of both threads of a worker receiving a push."""
        self.check_confined([self.src + "/", self.daemon.url("mod/in/")], 2, self.incoming)


def status_fields_path(path: str) -> dict[str, str]:
    fields = {}
    with open(path) as fh:
        for line in fh:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


if __name__ == "__main__":
    h.main()
