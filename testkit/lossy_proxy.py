"""A TCP proxy in front of Redis that can lose one reply: the command reaches Redis and runs,
then the connection breaks before its reply gets back, as when Redis is killed between the two
(under load the kill can land there: Redis writes its replies one socket after another)."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit


class LossyProxy:
    def __init__(self, redis_url: str) -> None:
        parts = urlsplit(redis_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.path = parts.path
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.armed: bytes | None = None  # the command whose reply the proxy loses next
        self.lost = 0
        self.pairs: list[_Pair] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="lossy-proxy").start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}{self.path}"

    def lose_next_reply(self, command: bytes) -> None:
        """The next request holding ``command`` runs in Redis; its reply never arrives."""
        with self.lock:
            self.armed = command

    def close(self) -> None:
        self.listener.close()
        for pair in self.pairs:
            pair.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            pair = _Pair(client, socket.create_connection(self.target))
            self.pairs.append(pair)
            threading.Thread(target=self._requests, args=(pair,), daemon=True).start()
            threading.Thread(target=self._replies, args=(pair,), daemon=True).start()

    def _requests(self, pair: _Pair) -> None:
        """Client to Redis; a request holding the armed command marks its reply to be lost."""
        try:
            while data := pair.client.recv(65536):
                with self.lock:
                    if self.armed is not None and self.armed in data:
                        self.armed = None
                        pair.losing = True
                pair.server.sendall(data)
        except OSError:
            pass
        finally:
            pair.close()

    def _replies(self, pair: _Pair) -> None:
        """Redis to client; a reply marked lost is dropped, and the connection with it."""
        try:
            while data := pair.server.recv(65536):
                if pair.losing:
                    with self.lock:
                        self.lost += 1
                    break
                pair.client.sendall(data)
        except OSError:
            pass
        finally:
            pair.close()


class _Pair:
    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.losing = False

    def close(self) -> None:
        for end in (self.client, self.server):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()
