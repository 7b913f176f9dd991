"""One curl process sending many requests (`--parallel`, one HTTP/2 connection): the floors of
bench/scale.py and the bulk writes of bench/peers.py."""
import os
import subprocess
import time


def send(requests, concurrency, server, ca, cert, key, work):
    """Sends [(method, path, body bytes or None, content type)] as the client cert/key; returns
    (wall seconds of curl, [HTTP codes]). Its config and bodies (each once) are written to
    `work` before curl starts."""
    cfg = os.path.join(work, "curl.cfg")
    bodies = {}
    with open(cfg, "w") as f:
        for i, (method, path, body, ctype) in enumerate(requests):
            if i:
                f.write("next\n")
            f.write(f'url = "{server}{path}"\nrequest = "{method}"\noutput = "/dev/null"\n')
            f.write(f'cacert = "{ca}"\ncert = "{cert}"\nkey = "{key}"\nsilent\nhttp2\n')
            f.write('write-out = "%{http_code}\\n"\n')
            if body is not None:
                if body not in bodies:
                    bodies[body] = os.path.join(work, f"body-{len(bodies)}")
                    with open(bodies[body], "wb") as b:
                        b.write(body)
                f.write(f'data-binary = "@{bodies[body]}"\nheader = "Content-Type: {ctype}"\n')
    t0 = time.monotonic()
    p = subprocess.run(["curl", "--parallel", "--parallel-max", str(concurrency), "--config", cfg],
                       capture_output=True, text=True)
    wall = time.monotonic() - t0
    return wall, [int(c) for c in p.stdout.split() if c.isdigit()]
