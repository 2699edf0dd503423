"""A small HTTP/1.1 load generator for when wrk is not installed.

    python -m bench.loadgen HOST PORT PATH --requests N [--connections C]

Each connection sends its requests one after another, keeping the socket open while the server
allows it (gunicorn's sync worker closes after every response: then it reconnects). Prints one
JSON line: {"requests": …, "errors": …, "seconds": …, "rps": …}. It runs as its own process so
the load generator does not share an interpreter with anything it measures.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time


def _read_response(sock: socket.socket, buffer: bytes) -> tuple[int, bool, bytes]:
    """(status, keep_alive, leftover) of one response; raises ConnectionError on a short read."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the headers")
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(b":")
        headers[key.strip().lower()] = value.strip().lower()
    length = int(headers.get(b"content-length", b"0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the body")
        rest += chunk
    keep_alive = headers.get(b"connection") != b"close"
    return status, keep_alive, rest[length:]


def worker(host: str, port: int, request: bytes, count: int, errors: list[int]) -> None:
    sock = None
    leftover = b""
    for _ in range(count):
        try:
            if sock is None:
                sock = socket.create_connection((host, port))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                leftover = b""
            sock.sendall(request)
            status, keep_alive, leftover = _read_response(sock, leftover)
            if status != 200:
                errors.append(status)
            if not keep_alive:
                sock.close()
                sock = None
        except OSError:
            errors.append(0)
            if sock is not None:
                sock.close()
            sock = None
    if sock is not None:
        sock.close()


def run(host: str, port: int, path: str, requests: int, connections: int) -> dict:
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\n\r\n".encode()
    errors: list[int] = []
    share = [requests // connections + (1 if i < requests % connections else 0) for i in range(connections)]
    threads = [threading.Thread(target=worker, args=(host, port, request, n, errors)) for n in share]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    return {"requests": requests, "errors": len(errors), "seconds": seconds, "rps": requests / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("path")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(run(args.host, args.port, args.path, args.requests, args.connections)))


if __name__ == "__main__":
    main()
