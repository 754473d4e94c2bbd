"""A fast loopback webhook receiver for the benchmarks, in a process of its own.

    python bench/receiver.py PORT [HOSTS]

It listens on 127.0.0.1, and on 127.0.0.2 … 127.0.0.(1 + HOSTS) too (loopback addresses, each a
"host" of its own to the sender: its own connections and pools), all on PORT.

- `POST /hang…` is accepted and never answered (a hanging endpoint);
- `POST /delay/MS/…` is answered `204` after MS milliseconds (a receiver across a network), its
  arrival recorded as it comes;
- any other POST is answered `204` at once, and its arrival time recorded under the body's
  `data.identifier` (or its `webhook-id`);
- `GET /arrivals` returns the arrivals recorded so far as JSON, `GET /count` how many there are
  (cheap enough to poll while a benchmark runs), `GET /reset` forgets them.

asyncio with a hand-written HTTP/1.1 parser: several times faster than http.server, so that the
receiver is never what a benchmark measures.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

arrivals: dict[str, float] = {}
NO_CONTENT = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"


def _key(headers: dict[str, str], body: bytes) -> str:
    try:
        return str(json.loads(body)["data"]["identifier"])
    except (ValueError, KeyError, TypeError):
        return headers.get("webhook-id", "")


class Http(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""
        self.hanging = False

    def _answer(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(NO_CONTENT)

    def data_received(self, data: bytes) -> None:
        if self.hanging:
            return
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ")[:2]
            headers = {
                name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])
            }
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            if path.startswith("/hang"):
                self.hanging = True
                return
            if method == "POST":
                arrivals.setdefault(_key(headers, body), time.time())
                if path.startswith("/delay/"):
                    delay_ms = int(path.split("/")[2])
                    asyncio.get_running_loop().call_later(delay_ms / 1000, self._answer)
                else:
                    self.transport.write(NO_CONTENT)
            elif path == "/arrivals":
                answer = json.dumps(arrivals).encode()
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(answer)
                    + answer
                )
            elif path == "/count":
                answer = str(len(arrivals)).encode()
                self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(answer) + answer)
            elif path == "/reset":
                arrivals.clear()
                self.transport.write(NO_CONTENT)


async def serve(port: int, hosts: int) -> None:
    addresses = ["127.0.0.1", *(f"127.0.0.{2 + number}" for number in range(hosts))]
    server = await asyncio.get_running_loop().create_server(Http, addresses, port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0))
