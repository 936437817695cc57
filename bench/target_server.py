"""A minimal HTTP target for benchmarks: answers 200 "ok" and closes every connection.

Run as its own process (``python -m bench.target_server PORT``) so it does not share the prober's loop.
"""

from __future__ import annotations

import asyncio
import sys

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
DOWN = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndown"
# ``POST /__down`` makes every other request fail with 500 until ``POST /__up``: an outage on demand.
state = {"down": False}


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        if head.startswith(b"POST /__down "):
            state["down"] = True
        elif head.startswith(b"POST /__up "):
            state["down"] = False
        writer.write(DOWN if state["down"] and not head.startswith(b"POST /__") else RESPONSE)
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def serve(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(serve(int(sys.argv[1])))
    except ImportError:
        asyncio.run(serve(int(sys.argv[1])))
