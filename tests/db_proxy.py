"""A TCP proxy in front of PostgreSQL that a test can cut or stall, as a school's network and
database server sometimes do.

- pass: bytes flow both ways (the default);
- cut: every open connection is closed and new ones are closed as soon as they arrive, as when
  the server is restarted or a firewall drops the connections;
- stall: connections are accepted and kept, but nothing is forwarded either way, as when the
  server hangs or the network silently drops packets. Nothing is lost: what was sent meanwhile
  flows on once the proxy passes again.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading

from sqlalchemy.engine import make_url

PASS, CUT, STALL = "pass", "cut", "stall"


class DbProxy:
    def __init__(self, upstream: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.upstream = upstream
        self.mode = PASS
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="db-proxy", daemon=True).start()

    def url(self, database_url: str) -> str:
        """`database_url` (a PostgreSQL URL for `upstream`) reached through this proxy."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    def passes(self) -> None:
        self.mode = PASS

    def cut(self) -> None:
        with self._lock:
            self.mode = CUT
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            _close(*pair)

    def stall(self) -> None:
        self.mode = STALL

    def close(self) -> None:
        self._closed.set()
        self.cut()
        self._listener.close()

    def __enter__(self) -> DbProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == CUT:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(
                target=self._pump, args=(client, server), name="db-proxy-pump", daemon=True
            ).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        other = {client: server, server: client}
        try:
            while self.mode != CUT and not self._closed.is_set():
                if self.mode == STALL:
                    # Nothing read, so nothing forwarded: the kernel still accepts what the
                    # client sends, as a hung server's would.
                    self._closed.wait(0.02)
                    continue
                readable, _, _ = select.select([client, server], [], [], 0.05)
                for sock in readable:
                    if self.mode != PASS:
                        break
                    data = sock.recv(65536)
                    if not data:
                        return
                    other[sock].sendall(data)
        except (OSError, ValueError):  # cut() closed the sockets under select()
            return
        finally:
            _close(client, server)
            with self._lock:
                if (client, server) in self._pairs:
                    self._pairs.remove((client, server))


def _close(*socks: socket.socket) -> None:
    for sock in socks:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
