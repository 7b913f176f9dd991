#!/usr/bin/env python3
"""Hostile clients of an HTTP server on 127.0.0.1, with probes through them (issue 26): HOLD
connections that send half a request head and stall, and one client sending a header of BIG_MIB
MiB that never reads the answer (again on a new connection whenever the server closes it),
while GET /healthz is sent PROBES times, each on a new connection, one every 50 ms.
Prints one JSON line: probe latencies in ms (median, max), failed probes, how many of the held
connections the server closed, MiB of header sent.
Usage: hostile_clients.py PORT [HOLD [BIG_MIB [PROBES]]]"""
import json
import socket
import statistics
import sys
import threading
import time

port = int(sys.argv[1])
hold = int(sys.argv[2]) if len(sys.argv) > 2 else 200
big_mib = int(sys.argv[3]) if len(sys.argv) > 3 else 64
probes = int(sys.argv[4]) if len(sys.argv) > 4 else 50


def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


held = []
for _ in range(hold):
    s = connect()
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    held.append(s)

done = threading.Event()
sent = 0


def big_sender():
    global sent
    chunk = b"a" * 65536
    while not done.is_set() and sent < big_mib << 20:
        try:
            s = connect()
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
            while not done.is_set() and sent < big_mib << 20:
                s.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass


sender = threading.Thread(target=big_sender)
sender.start()
latencies, failed = [], 0
for _ in range(probes):
    start = time.monotonic()
    try:
        s = connect()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := s.recv(4096):
            reply += chunk
        s.close()
        ok = reply.startswith(b"HTTP/1.1 200 ")
    except OSError:
        ok = False
    latencies.append((time.monotonic() - start) * 1000)
    failed += 0 if ok else 1
    time.sleep(0.05)
done.set()
sender.join()

closed = 0
for s in held:
    s.setblocking(False)
    try:
        closed += 1 if s.recv(4096) == b"" else 0
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print(json.dumps({"median_ms": round(statistics.median(latencies), 1),
                  "max_ms": round(max(latencies), 1), "failed": failed, "held": hold,
                  "held_closed": closed, "big_mib_sent": round(sent / (1 << 20), 1)}))
