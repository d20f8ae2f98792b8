#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Development tool: a TCP relay that prints both directions of a connection.

Put it between an rsync client and a daemon (ours or upstream's) to see the exact
bytes each side sends and when:  wiretap.py LISTEN_PORT TARGET_HOST TARGET_PORT
Each chunk is printed as "+t.ttt C>S len: repr" (client to server) or "S>C".
It serves connections one after another and never changes the bytes it relays.
"""
import selectors
import socket
import sys
import time


def relay(client: socket.socket, target: tuple[str, int]) -> None:
    server = socket.create_connection(target)
    sel = selectors.DefaultSelector()
    sel.register(client, selectors.EVENT_READ, ("C>S", server))
    sel.register(server, selectors.EVENT_READ, ("S>C", client))
    start = time.monotonic()
    open_ends = 2
    while open_ends:
        for key, _ in sel.select():
            tag, other = key.data
            try:
                data = key.fileobj.recv(65536)
            except ConnectionResetError:
                print(f"+{time.monotonic() - start:.3f} {tag} RESET", flush=True)
                data = b""
            stamp = f"+{time.monotonic() - start:.3f}"
            if not data:
                print(f"{stamp} {tag} EOF", flush=True)
                sel.unregister(key.fileobj)
                try:
                    other.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                open_ends -= 1
                continue
            print(f"{stamp} {tag} {len(data)}: {data!r}", flush=True)
            try:
                other.sendall(data)
            except OSError as exc:
                print(f"{stamp} {tag} send failed: {exc}", flush=True)
    client.close()
    server.close()


def main() -> None:
    listen_port, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    with socket.create_server(("127.0.0.1", listen_port)) as lsock:
        while True:
            conn, _ = lsock.accept()
            print("--- connection", flush=True)
            relay(conn, (host, port))


if __name__ == "__main__":
    main()
