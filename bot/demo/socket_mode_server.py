"""A local Socket Mode server for tests: Slack's WebSocket end of Socket Mode, in miniature.

The Slack emulator's apps.connections.open hands out its URL (`emulator.use_socket_mode(
server.url)`). On each connection it does the WebSocket handshake (RFC 6455) and sends Slack's
`hello`; then it answers pings with pongs, delivers envelopes (`send_envelope`) and keeps the
app's acks by envelope id (`wait_for_ack`). It can fail the way networks do:

- `go_silent()`: the connection stops answering anything, pings included, while its TCP
  connection stays open (a half-open connection: a cable pulled, a NAT that forgot us);
- `close_abruptly()`: the TCP connection is closed with no WebSocket close frame.

Standard library only: a listening socket, and a thread per connection. Frames are read and
written by hand: the app's are masked (as clients' must be), ours are not.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OPCODE_CONTINUATION, OPCODE_TEXT, OPCODE_BINARY = 0x0, 0x1, 0x2
OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG = 0x8, 0x9, 0xA


@dataclass
class SocketConnection:
    """One WebSocket connection from the app, as the server saw it."""

    number: int  # 1 for the first connection, 2 for the one that replaced it, ...
    sock: socket.socket
    ticket: str | None
    pings: int = 0  # pings received (answered or not)
    silent: bool = False
    closed: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)  # text frames, decoded
    _sending: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, opcode: int, payload: bytes) -> None:
        with self._sending:  # a pong and an envelope must not interleave their bytes
            _send_frame(self.sock, opcode, payload)


class SocketModeServer:
    """Start it, point the emulator at `url`, then deliver envelopes and read the acks."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, app_id: str = "A0EMU0001"):
        self.host = host
        self.port = port
        self.app_id = app_id
        self.connections: list[SocketConnection] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self._changed = threading.Condition()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SocketModeServer:
        listener = socket.create_server((self.host, self.port))
        listener.settimeout(0.05)  # so that stop() is quick
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name="socket-mode", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
        with self._changed:
            for connection in self.connections:
                self._close(connection)

    def __enter__(self) -> SocketModeServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """What apps.connections.open should answer (before its ticket)."""
        return f"ws://{self.host}:{self.port}/link/"

    # ------------------------------------------------------------------ what a test does

    def wait_for_connection(self, number: int, timeout: float = 10.0) -> SocketConnection:
        """The `number`th connection (1-based), once it has been sent `hello`."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.connections) >= number, timeout):
                raise TimeoutError(
                    f"no Socket Mode connection #{number} within {timeout}s "
                    f"({len(self.connections)} so far)"
                )
            return self.connections[number - 1]

    def wait_until_closed(self, connection: SocketConnection, timeout: float = 10.0) -> None:
        """Until the connection has ended (the app closed it, or the server did)."""
        with self._changed:
            if not self._changed.wait_for(lambda: connection.closed, timeout):
                raise TimeoutError(f"connection #{connection.number} still open after {timeout}s")

    def current(self) -> SocketConnection:
        """The newest connection still open."""
        with self._changed:
            live = [c for c in self.connections if not c.closed]
            if not live:
                raise RuntimeError("no open Socket Mode connection")
            return live[-1]

    def send_envelope(
        self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False
    ) -> str:
        """Delivers an envelope (`slash_commands`, `interactive`, `events_api`) on the newest
        open connection, as Slack does; returns its envelope id."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope["retry_attempt"] = 0
            envelope["retry_reason"] = ""
        self.current().send(OPCODE_TEXT, json.dumps(envelope).encode())
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The app's acknowledgement of the envelope (`{"envelope_id": ..., "payload": ...}`)."""
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self.acks, timeout):
                raise TimeoutError(f"envelope {envelope_id} was not acknowledged in {timeout}s")
            return self.acks[envelope_id]

    def go_silent(self) -> SocketConnection:
        """The newest connection stops answering (pings included); its TCP stays open."""
        connection = self.current()
        connection.silent = True
        return connection

    def close_abruptly(self) -> SocketConnection:
        """The newest connection's TCP connection is closed, with no close frame first."""
        connection = self.current()
        with self._changed:
            self._close(connection)
            self._changed.notify_all()
        return connection

    # ------------------------------------------------------------------ the server

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(
                target=self._serve, args=(sock,), name="socket-mode-connection", daemon=True
            ).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(None)
        try:
            ticket = _handshake(sock)
        except (OSError, ValueError):
            sock.close()
            return
        with self._changed:
            connection = SocketConnection(len(self.connections) + 1, sock, ticket)
            hello = {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {
                    "host": "applink-emulator",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
            _send_frame(sock, OPCODE_TEXT, json.dumps(hello).encode())
            self.connections.append(connection)
            self._changed.notify_all()
        self._read(connection)

    def _read(self, connection: SocketConnection) -> None:
        sock = connection.sock
        try:
            while not connection.closed:
                opcode, data = _read_frame(sock)
                if opcode is None:  # the app closed the TCP connection
                    break
                if opcode == OPCODE_PING:
                    connection.pings += 1
                if connection.silent:
                    continue  # as if the network had eaten it
                if opcode == OPCODE_PING:
                    connection.send(OPCODE_PONG, data)
                elif opcode == OPCODE_CLOSE:
                    connection.send(OPCODE_CLOSE, data[:2])
                    break
                elif opcode == OPCODE_TEXT:
                    self._received(connection, json.loads(data))
        except (OSError, ValueError):
            pass
        with self._changed:
            self._close(connection)
            self._changed.notify_all()

    def _received(self, connection: SocketConnection, message: dict[str, Any]) -> None:
        with self._changed:
            connection.received.append(message)
            if isinstance(message, dict) and message.get("envelope_id"):
                self.acks[message["envelope_id"]] = message
            self._changed.notify_all()

    @staticmethod
    def _close(connection: SocketConnection) -> None:
        if connection.closed:
            return
        connection.closed = True
        with contextlib.suppress(OSError):
            connection.sock.shutdown(socket.SHUT_RDWR)
        connection.sock.close()


def _handshake(sock: socket.socket) -> str | None:
    """Reads the app's upgrade request and agrees to it; returns the URL's ticket."""
    request = b""
    deadline = time.monotonic() + 5
    while b"\r\n\r\n" not in request:
        if time.monotonic() > deadline or len(request) > 16_384:
            raise ValueError("no WebSocket handshake")
        chunk = sock.recv(1024)
        if not chunk:
            raise ValueError("closed during the handshake")
        request += chunk
    head = request.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, target, _ = head[0].split(" ", 2)
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    key = headers.get("sec-websocket-key")
    if method != "GET" or headers.get("upgrade", "").lower() != "websocket" or not key:
        sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        raise ValueError("not a WebSocket upgrade")
    accept = base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()
    sock.sendall(
        (
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
        ).encode()
    )
    return (parse_qs(urlsplit(target).query).get("ticket") or [None])[0]


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _read_frame(sock: socket.socket) -> tuple[int | None, bytes]:
    """One frame's opcode and (unmasked) payload; (None, b"") when the connection ended."""
    head = _read_exactly(sock, 2)
    if head is None:
        return None, b""
    opcode, length = head[0] & 0x0F, head[1] & 0x7F
    masked = bool(head[1] & 0x80)
    if length in (126, 127):
        extended = _read_exactly(sock, 2 if length == 126 else 8)
        if extended is None:
            return None, b""
        length = struct.unpack("!H" if length == 126 else "!Q", extended)[0]
    mask = _read_exactly(sock, 4) if masked else b""
    payload = _read_exactly(sock, length) if length else b""
    if mask is None or payload is None:
        return None, b""
    if masked:
        payload = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return opcode, payload


def _send_frame(sock: socket.socket, opcode: int, payload: bytes) -> None:
    """One final, unmasked frame (a server's frames are never masked)."""
    head = bytes([0x80 | opcode])
    if len(payload) < 126:
        head += bytes([len(payload)])
    elif len(payload) < 65536:
        head += bytes([126]) + struct.pack("!H", len(payload))
    else:
        head += bytes([127]) + struct.pack("!Q", len(payload))
    sock.sendall(head + payload)
