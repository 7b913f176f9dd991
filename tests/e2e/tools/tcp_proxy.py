#!/usr/bin/env python3
"""A TCP proxy whose behaviour a test switches by writing a word into MODE_FILE:
pass (forward), cut (close every connection and refuse new ones: a network partition),
stall (accept and hold, forward nothing: a hung server).
Usage: tcp_proxy.py LISTEN_PORT_FILE TARGET_HOST TARGET_PORT MODE_FILE
Writes the port it listens on (127.0.0.1, chosen freely) into LISTEN_PORT_FILE."""
import asyncio
import sys

port_file, target_host, target_port, mode_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
connections = set()


def mode():
    try:
        with open(mode_file) as f:
            return f.read().strip() or "pass"
    except OSError:
        return "pass"


async def pump(reader, writer):
    try:
        while True:
            while mode() == "stall":
                await asyncio.sleep(0.05)
            data = await reader.read(65536)
            if not data:
                break
            while mode() == "stall":
                await asyncio.sleep(0.05)
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer):
    if mode() == "cut":
        client_writer.close()
        return
    try:
        server_reader, server_writer = await asyncio.open_connection(target_host, target_port)
    except OSError:
        client_writer.close()
        return
    pair = (client_writer, server_writer)
    connections.add(pair)
    try:
        await asyncio.gather(pump(client_reader, server_writer), pump(server_reader, client_writer))
    finally:
        connections.discard(pair)


async def watch_mode():
    while True:
        if mode() == "cut":
            for pair in list(connections):
                for w in pair:
                    w.transport.abort()
        await asyncio.sleep(0.05)


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    import os
    os.rename(port_file + ".tmp", port_file)
    asyncio.get_running_loop().create_task(watch_mode())
    async with server:
        await server.serve_forever()


asyncio.run(main())
