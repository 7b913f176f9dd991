#!/usr/bin/env python3
"""Across clusters (issue 30): one ConfigMap to three control planes, each its own etcd,
apiserver and CA (started by bench/clusters), against curl's floor to the same three servers at
once, and propagation with one member down.

1. Fan-out: `kubectl cmsync sync -f rules.yaml` copies app-config (3 keys, 4.2 KiB) from the
   hub (c1) into N namespaces of each of c1, c2 and c3 (3 x N copies), from its start to its
   exit; every copy is then read back with kubectl (not cmsync) on each cluster. The floor: three
   curl processes at once, one per server, each POSTing N ConfigMaps the size of cmsync's
   copies (HTTP/2, --parallel), best of a sweep of concurrencies; the copies are deleted
   between runs. Each sync run is followed by a floor run (`rounds` times the sweep): both
   get as many tries, in the same state of the planes. Best of those for both.
2. Propagation: `kubectl cmsync watch -f rules.yaml` over the same layout; the source is
   changed `changes` times, each once the last is in every copy it waits for; one watch per
   cluster (curl as admin, apart from cmsync) says when each copy holds each version. Latency:
   from the change (its PUT sent) to the last copy of a cluster holding it. First with all
   three up, then with c3's apiserver killed: the p99 of c1 and c2 should not move; then c3 is
   started again and the time until its copies hold the last version is measured.
Prints table rows (| scenario | cmsync | floor | baseline | ratio / goal |)."""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402  (Api: requests and bulk writes as one control plane's admin)

NAME = "app-config"
SRC = "platform"
FULL = dict(namespaces=300, rounds=3, changes=20, timeout=300)
SMOKE = dict(namespaces=5, rounds=1, changes=3, timeout=120)
SWEEP = (16, 32, 64)


def log(msg):
    print(f"clusters: {msg}", file=sys.stderr, flush=True)


def three_keys():
    return {"app.yaml": "a" * 2000, "db.yaml": "b" * 2000, "version": "0" * 200}


class Observer:
    """One watch of every ConfigMap named NAME on one cluster (curl as its admin): per namespace,
    the `version` its copy holds and since when (arrival here)."""

    def __init__(self, api):
        self.api = api
        self.held = {}
        self.cond = threading.Condition()
        self._list()
        self.stopping = False
        self.proc = None
        threading.Thread(target=self._read, daemon=True).start()

    def _list(self):
        """What the copies hold now (one list), then every change from there on: at the start,
        and when the watch's resourceVersion is gone (410: an apiserver started again has no
        history before its start)."""
        _, page = self.api.send("GET", f"/api/v1/configmaps?fieldSelector=metadata.name%3D{NAME}")
        now = time.monotonic()
        with self.cond:
            for o in page["items"]:
                ns, value = o["metadata"]["namespace"], (o.get("data") or {}).get("version")
                if self.held.get(ns, (None,))[0] != value:
                    self.held[ns] = (value, now)
            self.rv = page["metadata"]["resourceVersion"]
            self.cond.notify_all()

    def _read(self):
        while not self.stopping:
            if self.rv is None:
                try:
                    self._list()
                except Exception:  # its apiserver is still down
                    time.sleep(0.5)
                    continue
            url = (f"{self.api.server}/api/v1/configmaps?watch=1&fieldSelector=metadata.name%3D{NAME}"
                   f"&resourceVersion={self.rv}&allowWatchBookmarks=true&timeoutSeconds=3000")
            self.proc = subprocess.Popen(["curl", "-sS", "-N", "--cacert", self.api.ca, "--cert", self.api.cert,
                                          "--key", self.api.key, url], stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL)
            for line in self.proc.stdout:
                event = json.loads(line)
                obj = event["object"]
                if event["type"] == "ERROR":
                    self.rv = None  # 410: listed again
                    break
                if event["type"] not in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK"):
                    continue
                self.rv = obj["metadata"]["resourceVersion"]
                if event["type"] == "BOOKMARK":
                    continue
                ns = obj["metadata"]["namespace"]
                value = None if event["type"] == "DELETED" else (obj.get("data") or {}).get("version")
                with self.cond:
                    if self.held.get(ns, (None,))[0] != value:
                        self.held[ns] = (value, time.monotonic())
                    self.cond.notify_all()
            self.proc.terminate()
            self.proc.wait()
            if not self.stopping:
                time.sleep(0.2)  # its apiserver is down: again from the last resourceVersion

    def wait(self, namespaces, value, timeout):
        """Arrival time of the last of `namespaces`' copies to hold `value`; None past timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                held = [self.held.get(ns) for ns in namespaces]
                if all(h is not None and h[0] == value for h in held):
                    return max(h[1] for h in held)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def stop(self):
        self.stopping = True
        if self.proc:
            self.proc.terminate()


def cm(name, data, labels=None):
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def namespaces_of(n):
    return [f"fan-{i:03d}" for i in range(n)]


def rules_file(work, targets):
    path = os.path.join(work, "rules.yaml")
    with open(path, "w") as f:
        f.write("apiVersion: cmsync.io/v1alpha1\nkind: SyncConfig\nclusters:\n")
        for c in ("c1", "c2", "c3"):
            f.write(f"  - {{name: {c}, context: {c}}}\n")
        f.write(f"rules:\n  - name: fan\n    source: {{cluster: c1, namespace: {SRC}, names: [{NAME}]}}\n"
                f"    targets:\n      clusters: [c1, c2, c3]\n      namespaces: [{', '.join(targets)}]\n")
    return path


def copies_in_step(api, targets, data):
    """How many of `targets` hold a copy whose managed keys are `data` (read with kubectl)."""
    out = api.kubectl("--kubeconfig", os.path.join(api.dir, "admin.kubeconfig"), "get", "configmaps", "-A",
                      f"--field-selector=metadata.name={NAME}", "-o", "json")
    got = {o["metadata"]["namespace"]: o.get("data", {}) for o in json.loads(out)["items"]}
    return sum(1 for ns in targets if all(got.get(ns, {}).get(k) == v for k, v in data.items()))


def delete_all(apis, targets, name):
    threads = [threading.Thread(target=api.bulk, args=([("DELETE", f"/api/v1/namespaces/{ns}/configmaps/{name}", None)
                                                        for ns in targets],), kwargs=dict(ok=(200, 404)))
               for api in apis]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def floor_once(apis, targets, body, conc):
    """Three curls at once, one per server: seconds until the last ends."""
    walls = [None] * len(apis)

    def one(i):
        walls[i] = apis[i].bulk([("POST", f"/api/v1/namespaces/{ns}/configmaps", body) for ns in targets], conc)

    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(apis))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if any(w is None for w in walls):
        raise RuntimeError("a floor curl failed")
    return time.monotonic() - t0


def fan_out(apis, kubeconfig, rules, targets, data, rounds):
    """(best sync wall, {concurrency: best floor wall}). Each sync run is followed by a floor run
    (the sweep's concurrencies in turn), so both see the planes in the same state and get as
    many tries: sync first for every round, then the floor, favoured the floor (the planes warm
    up, and its best of 9 runs met cmsync's best of 3)."""
    # The floor: same-size ConfigMaps of another name, carrying what cmsync's carry.
    body = cm("floor-config", data, {"cmsync.io/managed": "true"})
    body["metadata"]["annotations"] = {"cmsync.io/sync-from": f"c1/{SRC}/{NAME}",
                                       "cmsync.io/managed-keys": ",".join(sorted(data)),
                                       "cmsync.io/source-resource-version": "12345"}
    runs = []
    floors = {}
    for r in range(rounds):
        for conc in SWEEP:
            delete_all(apis, targets, NAME)
            time.sleep(2)
            t0 = time.monotonic()
            p = subprocess.run(["kubectl-cmsync", "sync", "-f", rules, "--kubeconfig", kubeconfig],
                               capture_output=True, text=True)
            wall = time.monotonic() - t0
            if p.returncode != 0:
                raise RuntimeError(f"sync exited {p.returncode}: {p.stderr[-600:]}")
            in_step = [copies_in_step(api, targets, data) for api in apis]
            if in_step != [len(targets)] * len(apis):
                raise RuntimeError(f"after sync, copies in step per cluster: {in_step} of {len(targets)}")
            runs.append(wall)
            delete_all(apis, targets, "floor-config")
            time.sleep(2)
            floor = floor_once(apis, targets, body, conc)
            floors[conc] = min(floors.get(conc, floor), floor)
            log(f"round {r + 1}: sync to 3 x {len(targets)} {wall:.2f} s; curl at {conc} per server {floor:.2f} s")
    delete_all(apis, targets, "floor-config")
    return min(runs), floors


def propagation(apis, kubeconfig, rules, targets, changes, timeout, work):
    """(all-up latencies per cluster, one-down latencies of c1 and c2, seconds c3 took after it
    came back)."""
    obs = [Observer(api) for api in apis]
    errlog = open(os.path.join(work, "watch.err"), "w")
    w = subprocess.Popen(["kubectl-cmsync", "watch", "-f", rules, "--kubeconfig", kubeconfig],
                         stdout=subprocess.DEVNULL, stderr=errlog)
    hub = apis[0]
    version = [0]

    def change():
        version[0] += 1
        value = f"{version[0]:0200d}"
        t0, _ = hub.send("PATCH", f"/api/v1/namespaces/{SRC}/configmaps/{NAME}",
                         json.dumps({"data": {"version": value}}).encode(), "application/merge-patch+json")
        return value, t0

    try:
        if obs[0].wait(targets, "0" * 200, timeout) is None:
            raise RuntimeError("the watcher's first pass did not make every copy")
        def rounds(clusters, when):
            """Latencies per cluster of `clusters` over `changes` changes; the last value."""
            lat = {c: [] for c in clusters}
            for _ in range(changes):
                value, t0 = change()
                for c in clusters:
                    t = obs[c].wait(targets, value, timeout)
                    if t is None:
                        raise RuntimeError(f"c{c + 1}: a change not in every copy after {timeout} s ({when})")
                    lat[c].append(t - t0)
            return lat, value

        up, _ = rounds(range(3), "all up")
        # c3 down: its apiserver killed.
        pid = int(open(os.path.join(apis[2].dir, "apiserver.pid")).read())
        os.kill(pid, signal.SIGKILL)
        time.sleep(1)
        down, value = rounds(range(2), "c3 down")
        t_back = time.monotonic()
        subprocess.run([os.path.join(os.environ["CMSYNC_SOURCE_DIR"], "tests/cluster/start-apiserver"), apis[2].dir],
                       check=True, capture_output=True)
        t = obs[2].wait(targets, value, timeout)
        if t is None:
            raise RuntimeError(f"c3: not in step {timeout} s after it came back")
        back = t - t_back
        if w.poll() is not None:
            raise RuntimeError(f"the watcher exited {w.returncode}")
        return up, down, back
    finally:
        w.send_signal(signal.SIGTERM)
        w.wait()
        for o in obs:
            o.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=N")
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--dirs", required=True, help="the three cluster dirs, comma-separated; the first is the hub")
    a = ap.parse_args()
    size = dict(SMOKE if a.smoke else FULL)
    for kv in a.set:
        k, v = kv.split("=", 1)
        size[k] = int(v)
    work = os.path.dirname(a.kubeconfig)
    apis = []
    for i, d in enumerate(a.dirs.split(",")):
        own = os.path.join(work, f"c{i + 1}")  # each its own curl config: they run at once
        os.makedirs(own, exist_ok=True)
        apis.append(peers.Api(d, own))
    targets = namespaces_of(size["namespaces"])
    for api in apis:
        api.bulk([("POST", "/api/v1/namespaces", {"metadata": {"name": ns}}) for ns in targets + [SRC]])
    data = three_keys()
    apis[0].send("POST", f"/api/v1/namespaces/{SRC}/configmaps", cm(NAME, data))
    rules = rules_file(work, targets)
    n = len(targets)
    took, floors = fan_out(apis, a.kubeconfig, rules, targets, data, size["rounds"])
    best = min(floors, key=floors.get)
    sweep = ", ".join(f"{k}: {v:.2f}" for k, v in floors.items())
    print(f"| fan-out: one ConfigMap (4.2 KiB) to 3 clusters x {n} namespaces ({3 * n} copies), `sync -f` "
          f"from start to exit (s), best of {size['rounds'] * len(SWEEP)}, each run followed by a floor run "
          f"| cmsync {took:.2f} | curl, 3 servers at once, "
          f"{n} POSTs each, best of {'/'.join(map(str, SWEEP))} per server: {floors[best]:.2f} (at {best}; {sweep}) "
          f"| | {took / floors[best]:.2f}x floor (goal <= 1.3) |", flush=True)
    up, down, back = propagation(apis, a.kubeconfig, rules, targets, size["changes"], size["timeout"], work)
    fmt = lambda xs: f"p50 {peers.pct(xs, 50) * 1000:.0f} ms, p99 {peers.pct(xs, 99) * 1000:.0f} ms"
    for c in range(2):
        print(f"| propagation: {size['changes']} source changes to the {n} copies of c{c + 1}, each after the "
              f"last converged (change to last copy; a separate watch) | all up: {fmt(up[c])} | c3 down: "
              f"{fmt(down[c])} | | c3 down / all up, p99: {peers.pct(down[c], 99) / peers.pct(up[c], 99):.2f}x (goal: "
              f"unchanged within noise) |", flush=True)
    print(f"| propagation: c3 ({n} copies) while up; then its apiserver killed for {size['changes']} changes "
          f"and started again | all up: {fmt(up[2])} | back: every copy of c3 holds the last version "
          f"{back:.2f} s after its apiserver was started | | |", flush=True)


if __name__ == "__main__":
    main()
