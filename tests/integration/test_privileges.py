# SPDX-License-Identifier: MIT
"""Privilege separation of ocrsyncd's processes (ocrsyncd only).

Behaviours checked:
- the front-end (the daemon's main process, which reads network bytes) runs with no
  capabilities at all and, when started as root, not as root: as `nobody` by default and
  as `daemon uid` / `daemon gid` when they are set;
- it has no supplementary groups and no_new_privs set;
- the spawner keeps root only when the daemon was started as root, and reads no network
  bytes: it holds no TCP socket;
- idle workers hold no listening socket (descriptors do not leak into them).

When the tests do not run as root, the same checks assert that no process of the daemon
has any capability or another uid than ours.
"""

import os
import pwd
import grp

import harness as h


def status_fields(pid: int) -> dict[str, str]:
    fields = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


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


if __name__ == "__main__":
    h.main()
