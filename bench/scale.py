#!/usr/bin/env python3
"""Scale benchmarks (issues 18, 27 and 28), run by `bench/run --scale [--smoke]` on a control plane
of its own.

Four scenarios for ConfigMaps, each against a floor measured in the same run with curl (HTTP/2,
one connection, `--parallel`) or kubectl:
  fanout  `sync` of one ConfigMap into N namespaces; floor: the same N POSTs by curl at the best
          of 8/16/32/64 at once; also `kubectl apply -f` of N documents, a `--concurrency` sweep
          and a run throttled by API Priority and Fairness (429 + Retry-After).
  watch   `watch` of S sources x T targets; one update of every source at once, until every copy
          holds it (audit log); floor: curl PUTs of as many ConfigMaps. Peak RSS, idle CPU.
  busy    U unrelated ConfigMaps, a writer changing R of them a second, `watch` serving one
          selector rule in cluster scope: its TCP bytes and CPU over the churn, against curl
          running the same watches with the same server-side filters.
  resync  `resync -A` over C copies and over 10x C: peak RSS and wall; floor: curl paging the
          same label-selected list (limit=500).
And three for Secrets (issue 27), each beside the same for a ConfigMap in the same run:
  secret-fanout  `sync --kind secret` of one Secret into 1,000 namespaces; floor: curl sending
          the GETs by name that cmsync sends (it never lists Secrets in a target), then the POSTs.
  secret-watch   `watch --kind secret`: a source change to 100 copies, by the audit log; floors:
          curl PUTs, and curl GETs then PUTs (the watcher holds Secret values sealed).
  secret-rss     peak RSS of `watch` with 1,000 Secret copies against 1,000 ConfigMap copies.
And one for rule objects (issue 28):
  rule-objects   1,000 SyncRules x 10 targets (each rule its own source namespace, each target a
          SyncGrant) run by one `watch --rules-from-cluster`: from its start until every copy
          and every status is ready; floor: curl POSTing the copies and patching the statuses.
          Peak RSS, threads and CPU; a second point at 250 rules for the cost per rule.
Prints one markdown row per figure on stdout; writes nothing else. Needs the environment of
tests/cluster/up and PATH with kubectl-cmsync and kubectl.
"""
import argparse
import base64
import calendar
import hashlib
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import curl_bulk

FULL = dict(fanout=10000, watch_sources=100, watch_targets=100, busy_objects=50000, churn_rate=100,
            churn_seconds=60, resync_sources=100, resync_targets=100, idle_seconds=30, watch_concurrency=0,
            secret_fanout=1000, secret_repeats=5, secret_watch_targets=100, secret_watch_updates=50,
            secret_watch_concurrency=0, secret_rss_copies=1000, rule_objects=1000, rule_targets=10,
            rule_objects_second=250, rule_quiet_seconds=5)
SMOKE = dict(fanout=40, watch_sources=3, watch_targets=4, busy_objects=200, churn_rate=20,
             churn_seconds=3, resync_sources=3, resync_targets=4, idle_seconds=3, watch_concurrency=0,
             secret_fanout=20, secret_repeats=1, secret_watch_targets=4, secret_watch_updates=3,
             secret_watch_concurrency=0, secret_rss_copies=20, rule_objects=8, rule_targets=3,
             rule_objects_second=2, rule_quiet_seconds=2)
VALUE = "a" * 1400  # 3 keys: 4.2 KiB, as bench/run
SWEEP = (8, 16, 32, 64)
CMSYNC_CONCURRENCY = 16  # kubectl-cmsync's default --concurrency
# A command put before the watcher under test, to profile it: SCALE_WRAP="perf record -g -o F --".
# Peak RSS and CPU are then those of the wrapper's process, not the watcher's.
WRAP = os.environ.get("SCALE_WRAP", "").split()
CMSYNC_USER = "cmsync-restricted"  # the cmsync runs' identity (audit log, APF); bound to cluster-admin
# Floors send as that identity too: the server's priority level and authorizer treat an admin
# (system:masters, exempt from APF) more cheaply, about 4% here.
FLOOR_TLS = "restricted"


def log(msg):
    print(f"scale: {msg}", file=sys.stderr, flush=True)


class Cluster:
    def __init__(self):
        d = os.environ["CMSYNC_CLUSTER_DIR"]
        self.dir = d
        self.server = open(os.path.join(d, "server")).read().strip()
        pki = os.path.join(d, "pki")
        self.tls = {"admin": (f"{pki}/admin.crt", f"{pki}/admin.key"),
                    "restricted": (f"{pki}/restricted.crt", f"{pki}/restricted.key")}
        self.ca = f"{pki}/ca.crt"
        self.audit = os.path.join(d, "audit.log")
        self.restricted_kubeconfig = os.environ["CMSYNC_RESTRICTED_KUBECONFIG"]
        self.work = tempfile.mkdtemp(prefix="cmsync-scale.")

    def kubectl(self, *args, stdin=None, check=True):
        p = subprocess.run(["kubectl"] + list(args), input=stdin, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {p.stderr.strip()}")
        return p.stdout

    def curl(self, requests, concurrency, user="admin"):
        """Sends requests [(method, path, body bytes or None, content type)] with one curl process
        (HTTP/2, `--parallel`, one connection); returns (wall seconds, [HTTP codes])."""
        cert, key = self.tls[user]
        return curl_bulk.send(requests, concurrency, self.server, self.ca, cert, key, self.work)

    def audit_mark(self):
        return os.path.getsize(self.audit)

    def audit_events(self, mark):
        """ResponseComplete ConfigMap writes logged after byte offset `mark`."""
        out = []
        with open(self.audit) as f:
            f.seek(mark)
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if e.get("stage") == "ResponseComplete" and (e.get("objectRef") or {}).get("resource") == "configmaps":
                    out.append(e)
        return out


def epoch(ts):
    """RFC 3339 with micros (audit stageTimestamp) to epoch seconds."""
    m = re.match(r"(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)(?:\.(\d+))?Z", ts)
    y, mo, d, h, mi, s, frac = m.groups()
    return calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s))) + float("0." + (frac or "0"))


def cm_body(name, data, labels=None):
    md = {"name": name}
    if labels:
        md["labels"] = labels
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": data}).encode()


def floor_body(name, data, source, labels=None):
    """What a floor sends: a ConfigMap the size of cmsync's copy of `source` holding `data` (its
    label and three annotations, under another prefix so that no cmsync run takes it for one)."""
    digests = {k: hashlib.sha256(v.encode()).hexdigest() for k, v in sorted(data.items())}
    md = {"name": name, "labels": dict(labels or {}, **{"floor.cmsync.io/managed": "true"}),
          "annotations": {"floor.cmsync.io/sync-from": source,
                          "floor.cmsync.io/last-synced": json.dumps(digests, separators=(",", ":")),
                          "floor.cmsync.io/source-resource-version": "1234567"}}
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": data}).encode()


def ns_body(name, labels):
    return json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}).encode()


def create_namespaces(c, names, labels):
    wall, codes = c.curl([("POST", "/api/v1/namespaces", ns_body(n, labels), "application/json") for n in names], 64)
    bad = [x for x in codes if x not in (201, 409)]
    if bad or len(codes) != len(names):
        raise RuntimeError(f"creating {len(names)} namespaces: {len(bad)} failed ({bad[:5]})")
    log(f"{len(names)} namespaces in {wall:.1f} s")


def delete_copies(c, namespaces, name, resource="configmaps"):
    _, codes = c.curl([("DELETE", f"/api/v1/namespaces/{ns}/{resource}/{name}", None, None) for ns in namespaces], 64)
    bad = [x for x in codes if x not in (200, 404)]
    if bad:
        raise RuntimeError(f"deleting {name}: {len(bad)} failed ({bad[:5]})")


def count_copies(c, name, label=None, namespace=None):
    args = ["get", "configmaps", "-n", namespace] if namespace else ["get", "configmaps", "-A"]
    args += ["--field-selector", f"metadata.name={name}", "-o", "name", "--chunk-size=500"]
    if label:
        args += ["-l", label]
    return len(c.kubectl(*args).split())


def timed(cmd, env=None):
    """(wall s, peak RSS KiB, exit code) of cmd, by GNU time."""
    tf = tempfile.NamedTemporaryFile(delete=False)
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tf.name] + cmd, capture_output=True, text=True, env=env)
    wall = time.monotonic() - t0
    rss = int(open(tf.name).read().split()[-1])
    os.unlink(tf.name)
    if p.returncode != 0:
        log(f"{' '.join(cmd[:3])}... exit {p.returncode}: {(p.stdout + p.stderr).strip()[-800:]}")
    return wall, rss, p.returncode


def ratio(a, b):
    return f"{a / b:.2f}" if b else "n/a"


def row(*cells):
    print("| " + " | ".join(str(x) for x in cells) + " |", flush=True)


def fanout(c, n):
    """Scenario 1."""
    src = "scale-src"
    data = {"config.yaml": VALUE, "feature.yaml": VALUE, "limits.yaml": VALUE}
    c.kubectl("create", "namespace", src)
    c.curl([("POST", f"/api/v1/namespaces/{src}/configmaps", cm_body("app-config", data), "application/json")], 1)
    targets = [f"scale-f-{i:05d}" for i in range(1, n + 1)]
    create_namespaces(c, targets, {"scale-fan": "yes"})
    body = floor_body("app-config", data, f"{src}/app-config")
    floors = {}
    for conc in SWEEP:
        delete_copies(c, targets, "app-config")
        wall, codes = c.curl([("POST", f"/api/v1/namespaces/{ns}/configmaps", body, "application/json")
                              for ns in targets], conc, user=FLOOR_TLS)
        if codes.count(201) != n:
            raise RuntimeError(f"curl floor at {conc}: {codes.count(201)} of {n} created")
        floors[conc] = wall
        log(f"curl {n} POSTs at {conc}: {wall:.2f} s")
    best = min(floors, key=floors.get)
    floor = floors[best]
    sync = ["kubectl-cmsync", "sync", src, "--target-selector", "scale-fan=yes", "--name", "app-config",
            "--kubeconfig", c.restricted_kubeconfig]
    runs = {}
    for conc in SWEEP + (None,):  # the default last: no run gets a colder server than it
        delete_copies(c, targets, "app-config")
        wall, rss, rc = timed(sync + ([] if conc is None else ["--concurrency", str(conc)]))
        got = count_copies(c, "app-config") - 1
        if rc != 0 or got != n:
            raise RuntimeError(f"sync --concurrency {conc}: exit {rc}, {got} of {n} copies")
        runs[conc] = (wall, rss)
        log(f"sync --concurrency {conc or 'default'}: {wall:.2f} s, {rss} KiB")
    delete_copies(c, targets, "app-config")
    docs = "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app-config, namespace: {ns}}}\n"
                   f"data: {json.dumps(data)}\n" for ns in targets)
    path = os.path.join(c.work, "apply.yaml")
    open(path, "w").write(docs)
    wall_apply, _, rc = timed(["kubectl", "apply", "-f", path])
    if rc != 0:
        raise RuntimeError("kubectl apply failed")
    default = runs[None][0]
    row(f"fan-out to {n} namespaces (wall s) | cmsync {default:.2f} (default --concurrency) | "
        f"curl {n} POSTs, best of {'/'.join(map(str, SWEEP))} at once: {floor:.2f} (at {best}) | "
        f"kubectl apply -f {wall_apply:.2f} ({ratio(wall_apply, default)}x cmsync) | "
        f"{ratio(default, floor)}x floor (goal <= 1.25); apply/cmsync goal >= 10")
    row(f"fan-out to {n}: --concurrency sweep (wall s; peak RSS KiB) | "
        + ", ".join(f"{k}: {v[0]:.2f}; {v[1]}" for k, v in runs.items() if k) + " | curl "
        + ", ".join(f"{k}: {v:.2f}" for k, v in floors.items()) + " | | default: "
        + f"{ratio(default, min(v[0] for k, v in runs.items() if k))}x the best setting")
    throttled(c, src, targets, sync)


def throttled(c, src, targets, sync):
    """Scenario 1, throttled: a FlowSchema puts the cmsync user in a priority level of one share
    that rejects (429 with Retry-After) what it cannot seat; the run must finish, every copy made."""
    n = len(targets)
    plc = {"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "PriorityLevelConfiguration",
           "metadata": {"name": "scale-tiny"},
           "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 1, "lendablePercent": 0,
                                                   "borrowingLimitPercent": 0, "limitResponse": {"type": "Reject"}}}}
    fs = {"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema", "metadata": {"name": "scale-cmsync"},
          "spec": {"priorityLevelConfiguration": {"name": "scale-tiny"}, "matchingPrecedence": 100,
                   "distinguisherMethod": {"type": "ByUser"},
                   "rules": [{"subjects": [{"kind": "User", "user": {"name": CMSYNC_USER}}],
                              "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"],
                                                 "namespaces": ["*"], "clusterScope": True}],
                              "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}]}}
    c.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": [plc, fs]}))
    time.sleep(2)  # the apiserver's APF config controller picks it up
    delete_copies(c, targets, "app-config")
    mark = c.audit_mark()
    wall, _, rc = timed(sync + ["--concurrency", "64"])
    events = [e for e in c.audit_events(mark) if e["user"]["username"] == CMSYNC_USER]
    rejected = sum(1 for e in events if e["responseStatus"].get("code") == 429)
    got = count_copies(c, "app-config") - 1
    c.kubectl("delete", "flowschema", "scale-cmsync")
    c.kubectl("delete", "prioritylevelconfiguration", "scale-tiny")
    if rc != 0 or got != n:
        raise RuntimeError(f"throttled sync: exit {rc}, {got} of {n} copies")
    row(f"fan-out to {n}, throttled by APF (one share, Reject), --concurrency 64 | cmsync {wall:.2f} s, "
        f"exit {rc}, {got} of {n} copies | {rejected} writes answered 429 (audit log) | | zero failed targets")


def stop_watcher(w):
    """Stops a watcher: with SCALE_WRAP, its whole session (started with start_new_session), or a
    wrapper that is a script (heaptrack's) ends and leaves the watcher running."""
    if WRAP:
        os.killpg(w.pid, signal.SIGTERM)
    else:
        w.terminate()


def idle_cpu(pid, seconds):
    hz = os.sysconf("SC_CLK_TCK")

    def ticks():
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    t0 = ticks()
    time.sleep(seconds)
    return (ticks() - t0) / hz / seconds * 100


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(c):
    """CPU seconds of the control plane (kube-apiserver and etcd) so far."""
    return sum(cpu_seconds(int(open(os.path.join(c.dir, f"{n}.pid")).read())) for n in ("apiserver", "etcd"))


def children_cpu():
    """CPU seconds of this script's finished children (the curl floors) so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def vm_hwm(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def wait_writes(c, mark, user, verb, count, timeout):
    """Waits until `count` successful `verb` writes by `user` are in the audit log after mark;
    returns the epoch of the last one."""
    deadline = time.monotonic() + timeout
    while True:
        ok = [e for e in c.audit_events(mark) if e["user"]["username"] == user and e["verb"] == verb
              and e["responseStatus"].get("code", 0) < 300]
        if len(ok) >= count:
            return max(epoch(e["stageTimestamp"]) for e in ok)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(ok)} of {count} {verb}s by {user} after {timeout} s")
        time.sleep(0.5)


def make_sources(c, src, count, labels):
    """A namespace with `count` labelled sources of 3 keys (4.2 KiB): (namespace, data, names)."""
    c.kubectl("create", "namespace", src)
    data = {"config.yaml": VALUE, "feature.yaml": VALUE, "limits.yaml": VALUE}
    names = [f"cfg-{i:03d}" for i in range(count)]
    c.curl([("POST", f"/api/v1/namespaces/{src}/configmaps", cm_body(n, data, labels), "application/json")
            for n in names], 32)
    return src, data, names


def watch(c, s, t, idle_seconds, concurrency):
    """Scenario 2 (`concurrency` 0: the watcher's default)."""
    src, data, names = make_sources(c, "scale-wsrc", s, {"scale-w": "yes"})
    targets = [f"scale-w-{i:03d}" for i in range(t)]
    create_namespaces(c, targets, {"scale-w": "yes"})
    mark = c.audit_mark()
    out = open(os.path.join(c.work, "watch.out"), "w")
    w = subprocess.Popen(WRAP + ["kubectl-cmsync", "watch", src, "--target-selector", "scale-w=yes", "-l", "scale-w=yes",
                          "--log-format", "json", "--kubeconfig", c.restricted_kubeconfig]
                         + (["--concurrency", str(concurrency)] if concurrency else []),
                         stdout=out, stderr=open(os.path.join(c.work, "watch.err"), "w"), start_new_session=bool(WRAP))
    try:
        wait_writes(c, mark, CMSYNC_USER, "create", s * t, 600)
        time.sleep(2)
        cpu = idle_cpu(w.pid, idle_seconds)
        # The floor first: PUTs of as many other ConfigMaps (name "floor" in the same namespaces),
        # each with a new value (an unchanged PUT is a no-op for the server).
        floor_names = [(ns, f"floor-{i:03d}") for ns in targets for i in range(s)]
        c.curl([("POST", f"/api/v1/namespaces/{ns}/configmaps", floor_body(n, data, f"{src}/{n}", {"scale-floor": "yes"}),
                 "application/json") for ns, n in floor_names], 64)
        new = {"config.yaml": VALUE + "2", "feature.yaml": VALUE, "limits.yaml": VALUE}
        floors = {}
        for conc in SWEEP:
            new["limits.yaml"] = VALUE + str(conc)
            reqs = [("PUT", f"/api/v1/namespaces/{ns}/configmaps/{n}", floor_body(n, new, f"{src}/{n}", {"scale-floor": "yes"}),
                     "application/json")
                    for ns, n in floor_names]
            wall, codes = c.curl(reqs, conc, user=FLOOR_TLS)
            if codes.count(200) != len(reqs):
                raise RuntimeError(f"floor PUTs: {codes.count(200)} of {len(reqs)}")
            floors[conc] = wall
        floor = min(floors.values())
        best = min(floors, key=floors.get)
        # The same PUTs while a watch of them is open, as the watcher's own watch is open during
        # its writes: the server then also encodes and sends each change once more. At the best
        # concurrency, and at the watcher's; with the CPU seconds of the server and of curl.
        mine = concurrency or CMSYNC_CONCURRENCY
        watched_at = {}
        for conc in sorted({best, mine}):
            new["limits.yaml"] = VALUE + f"watched{conc}"
            reqs = [("PUT", f"/api/v1/namespaces/{ns}/configmaps/{n}", floor_body(n, new, f"{src}/{n}", {"scale-floor": "yes"}),
                     "application/json") for ns, n in floor_names]
            watched = watch_with_curl(c, ["/api/v1/configmaps?labelSelector=scale-floor%3Dyes"])
            try:
                server0, client0 = server_cpu(c), children_cpu()
                wall, codes = c.curl(reqs, conc, user=FLOOR_TLS)
                watched_at[conc] = (wall, server_cpu(c) - server0, children_cpu() - client0)
            finally:
                watched.terminate()
                watched.wait()
            if codes.count(200) != len(reqs):
                raise RuntimeError(f"floor PUTs with a watch: {codes.count(200)} of {len(reqs)}")
        floor_watched = watched_at[best][0]
        mark = c.audit_mark()
        patch = json.dumps({"data": {"config.yaml": VALUE + "-v2"}}).encode()
        server0, client0 = server_cpu(c), cpu_seconds(w.pid)
        t0 = time.time()
        c.curl([("PATCH", f"/api/v1/namespaces/{src}/configmaps/{n}", patch, "application/merge-patch+json")
                for n in names], len(names))
        last = wait_writes(c, mark, CMSYNC_USER, "update", s * t, 600)
        took = last - t0
        # Up to half a second after the last write (wait_writes polls): a little generous to cmsync's
        # figures, never to the floor's.
        server_used, client_used = server_cpu(c) - server0, cpu_seconds(w.pid) - client0
        rss = vm_hwm(w.pid)
    finally:
        stop_watcher(w)
        w.wait()
    row(f"watch at {s * t} copies ({s} sources x {t} targets): every source updated at once, until every copy "
        f"holds it (s) | cmsync {took:.2f}; peak RSS {rss} KiB; idle CPU {cpu:.2f}% of a core | "
        f"curl {s * t} PUTs, best of {'/'.join(map(str, SWEEP))}: {floor:.2f}; the same with a watch of "
        f"them open: {floor_watched:.2f} | | {ratio(took, floor)}x floor (goal <= 1.3), "
        f"{ratio(took, floor_watched)}x the watched floor; RSS goal <= 65536 KiB; idle goal <= 1%")
    f_wall, f_server, f_client = watched_at[mine]
    row(f"watch at {s * t} copies: where the time goes, at --concurrency {mine} (wall s; CPU s of apiserver+etcd; "
        f"CPU s of the client) | cmsync {took:.2f}; {server_used:.2f}; {client_used:.2f} | curl with a watch open "
        f"{f_wall:.2f}; {f_server:.2f}; {f_client:.2f} | | {ratio(took, f_wall)}x the watched floor at the same "
        f"concurrency; CPU (server + client) {ratio(server_used + client_used, f_server + f_client)}x")


def watch_with_curl(c, paths):
    """One curl process running a watch of each path (with its query) from now; a Popen."""
    rv = json.loads(c.kubectl("get", "--raw", "/api/v1/configmaps?limit=1"))["metadata"]["resourceVersion"]
    cert, key = c.tls["admin"]
    return subprocess.Popen(["curl", "-sS", "-N", "--http2", "--parallel", "--parallel-max", str(len(paths)),
                             "--cacert", c.ca, "--cert", cert, "--key", key]
                            + [x for p in paths for x in ("-o", "/dev/null",
                               f"{c.server}{p}&watch=1&allowWatchBookmarks=true&resourceVersion={rv}")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def received_bytes(port, pid):
    p = subprocess.run(["ss", "-Htnpi", "state", "established", f"( dport = :{port} )"], capture_output=True, text=True)
    total, mine = 0, False
    for line in p.stdout.splitlines():
        if "users:" in line:
            mine = f"pid={pid}," in line
        if mine:
            for f in line.split():
                if f.startswith("bytes_received:"):
                    total += int(f.split(":")[1])
    return total


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_until(check, seconds, what):
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not there after {seconds} s")
        time.sleep(0.5)


def cpu_ms(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) * 1000 // os.sysconf("SC_CLK_TCK")


def busy(c, objects, rate, seconds):
    """Scenario 3."""
    src, dst = "scale-bsrc", "scale-bdst"
    per_ns = 1000 if objects >= 1000 else objects
    noise_ns = [f"scale-noise-{i:03d}" for i in range(max(1, objects // per_ns))]
    create_namespaces(c, [src, dst] + noise_ns, {})
    c.kubectl("label", "namespace", dst, "scale-b=yes")
    c.curl([("POST", f"/api/v1/namespaces/{src}/configmaps", cm_body(n, {"k": "v"}, {"scale-b": "yes"}),
             "application/json") for n in ("app-config", "other")], 2)
    noise = [(ns, f"noise-{i:04d}") for ns in noise_ns for i in range(per_ns)]
    wall, codes = c.curl([("POST", f"/api/v1/namespaces/{ns}/configmaps", cm_body(n, {"v": "0"}), "application/json")
                          for ns, n in noise], 64)
    log(f"{codes.count(201)} unrelated ConfigMaps in {wall:.1f} s")
    port = c.server.rsplit(":", 1)[1]
    probe_port = free_port()
    w = subprocess.Popen(["kubectl-cmsync", "watch", src, "--target-selector", "scale-b=yes", "-l", "scale-b=yes",
                          "--metrics-bind-address", f"127.0.0.1:{probe_port}",
                          "--kubeconfig", c.restricted_kubeconfig], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The floor: the same streams, filtered by the server the same way, by curl.
    floor = watch_with_curl(c, [f"/api/v1/namespaces/{src}/configmaps?labelSelector=scale-b%3Dyes",
                                "/api/v1/configmaps?labelSelector=cmsync.io%2Fmanaged%3Dtrue",
                                "/api/v1/namespaces?labelSelector=scale-b%3Dyes"])
    try:
        # Measured from the watcher's readiness (its first lists done) and its first copy: its
        # start-up list of every managed copy in the cluster is not part of the churn's cost.
        wait_until(lambda: ready(probe_port), 300, "the watcher's /readyz")
        wait_until(lambda: count_copies(c, "other", "cmsync.io/managed=true", dst) >= 1, 60, "the first copy")
        time.sleep(2)
        churn = [("PATCH", f"/api/v1/namespaces/{ns}/configmaps/{n}",
                  json.dumps({"data": {"v": str(i)}}).encode(), "application/merge-patch+json")
                 for i, (ns, n) in enumerate(random.Random(18).choices(noise, k=rate * seconds))]
        b0, c0 = received_bytes(port, w.pid), cpu_ms(w.pid)
        f0, fc0 = received_bytes(port, floor.pid), cpu_ms(floor.pid)
        _write_rate_config(c, churn)
        t0 = time.monotonic()
        # --rate spreads the writes over `seconds` (curl 7.84+): one process, as in bench/run.
        subprocess.run(["curl", "--rate", f"{rate}/s", "--config", os.path.join(c.work, "churn.cfg")],
                       capture_output=True)
        span = time.monotonic() - t0
        time.sleep(1)
        b1, c1 = received_bytes(port, w.pid), cpu_ms(w.pid)
        f1, fc1 = received_bytes(port, floor.pid), cpu_ms(floor.pid)
    finally:
        for p in (w, floor):
            p.terminate()
            p.wait()
    per_min = 60 / span
    wb, wc = (b1 - b0) * per_min, (c1 - c0) * per_min
    fb, fc = (f1 - f0) * per_min, (fc1 - fc0) * per_min
    row(f"busy cluster: {len(noise)} unrelated ConfigMaps, {rate} changes/s for {span:.0f} s (per minute: "
        f"bytes received; CPU ms) | cmsync cluster scope, selector rule {wb:.0f}; {wc:.0f} | "
        f"curl, the same three watches filtered by the server {fb:.0f}; {fc:.0f} | | "
        f"bytes {ratio(wb, fb)}x floor (goal <= 1.1)")


def _write_rate_config(c, requests):
    cert, key = c.tls["admin"]
    with open(os.path.join(c.work, "churn.cfg"), "w") as f:
        for i, (method, path, body, ctype) in enumerate(requests):
            if i:
                f.write("next\n")
            data = body.decode().replace("\\", "\\\\").replace('"', '\\"')
            f.write(f'url = "{c.server}{path}"\nrequest = "{method}"\noutput = "/dev/null"\nsilent\n'
                    f'data = "{data}"\nheader = "Content-Type: {ctype}"\n'
                    f'cacert = "{c.ca}"\ncert = "{cert}"\nkey = "{key}"\n')


def resync(c, sources, targets):
    """Scenario 4: resync over C copies, then over 10x C (ten times the targets)."""
    src, _, _ = make_sources(c, "scale-rsrc", sources, {"scale-r": "yes"})
    figures = []
    made = 0
    for total_targets in (targets, targets * 10):
        ns = [f"scale-r-{i:04d}" for i in range(made, total_targets)]
        create_namespaces(c, ns, {"scale-r": "yes"})
        made = total_targets
        wall, _, rc = timed(["kubectl-cmsync", "sync", src, "--target-selector", "scale-r=yes", "-l", "scale-r=yes",
                             "--kubeconfig", c.restricted_kubeconfig])
        if rc != 0:
            raise RuntimeError("making the copies failed")
        copies = sources * total_targets
        log(f"{copies} copies made in {wall:.1f} s")
        wall, rss, rc = timed(["kubectl-cmsync", "resync", "-A", "--kubeconfig", c.restricted_kubeconfig])
        if rc != 0:
            raise RuntimeError(f"resync -A exit {rc}")
        floor = curl_pages(c)
        figures.append((copies, wall, rss, floor))
    (c1, w1, r1, f1), (c2, w2, r2, f2) = figures
    row(f"resync -A at {c1} and {c2} copies (wall s; peak RSS KiB) | cmsync {w1:.2f}; {r1} and {w2:.2f}; {r2} | "
        f"curl paging the managed copies (limit=500) {f1:.2f} and {f2:.2f} | | at {c2}: {ratio(w2, f2)}x floor "
        f"(goal <= 1.3); RSS {ratio(r2, r1)}x the {c1}-copy run (goal <= 1)")


def curl_pages(c):
    """Wall time of paging every managed copy (limit=500) with curl, one request after another."""
    cert, key = c.tls["admin"]
    t0 = time.monotonic()
    cont = ""
    while True:
        url = f"{c.server}/api/v1/configmaps?labelSelector=cmsync.io%2Fmanaged%3Dtrue&limit=500"
        if cont:
            url += "&continue=" + cont
        p = subprocess.run(["curl", "-sS", "--http2", "--cacert", c.ca, "--cert", cert, "--key", key, url],
                           capture_output=True)
        meta = json.loads(p.stdout).get("metadata", {})
        cont = meta.get("continue", "")
        if not cont:
            return time.monotonic() - t0


# --- Secrets (issue 27): the same scenarios for `--kind secret`, each beside ConfigMaps -------

def b64(value):
    return base64.b64encode(value.encode()).decode()


def secret_body(name, data, labels=None):
    md = {"name": name}
    if labels:
        md["labels"] = labels
    return json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": md, "type": "Opaque",
                       "data": {k: b64(v) for k, v in data.items()}}).encode()


def floor_secret_body(name, data, source):
    """What a Secret floor sends: a Secret the size of cmsync's copy of `source` holding `data`
    (its label and three annotations: a Secret copy records its key names, not digests)."""
    md = {"name": name, "labels": {"floor.cmsync.io/managed": "true"},
          "annotations": {"floor.cmsync.io/sync-from": source,
                          "floor.cmsync.io/managed-keys": json.dumps(sorted(data), separators=(",", ":")),
                          "floor.cmsync.io/source-resource-version": "1234567"}}
    return json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": md, "type": "Opaque",
                       "data": {k: b64(v) for k, v in data.items()}}).encode()


def three_keys(first=VALUE):
    """The 3 keys of 1400 bytes each (4.2 KiB) of every scenario; `first` the first one's value."""
    return {"config.yaml": first, "feature.yaml": VALUE, "limits.yaml": VALUE}


def nth_value(i):
    """A new value of the same size as VALUE, the i-th."""
    return f"{i:06d}" + VALUE[6:]


class AuditTail:
    """The audit log's ResponseComplete events of one resource from now on, read as it grows
    (each line parsed once: the polls stay cheap while a round is timed)."""

    def __init__(self, c, resource):
        self.path, self.resource = c.audit, resource
        self.offset = c.audit_mark()
        self.partial = b""
        self.events = []

    def poll(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            chunk = f.read()
        self.offset += len(chunk)
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("stage") == "ResponseComplete" and (e.get("objectRef") or {}).get("resource") == self.resource:
                self.events.append(e)
        return self.events

    def wait(self, start, match, count, timeout, what):
        """The events after index `start` once `count` of them match; polled every 50 ms."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.poll()[start:]
            if sum(1 for e in events if match(e)) >= count:
                return events
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: {sum(1 for e in events if match(e))} of {count} after {timeout} s")
            time.sleep(0.05)


def by_cmsync(verb, name=None):
    """A match of cmsync's successful `verb` requests (of the object `name`)."""
    return lambda e: (e["user"]["username"] == CMSYNC_USER and e["verb"] == verb
                      and e["responseStatus"].get("code", 0) < 300
                      and (name is None or (e.get("objectRef") or {}).get("name") == name))


def pct(values, p):
    """Nearest-rank percentile, as bench/run's."""
    s = sorted(values)
    return s[int((len(s) - 1) * p / 100)]


def two_kind_sources(c, src, configmap, data):
    """Namespace `src` with ConfigMap `configmap` and Secret app-secret, both holding `data`."""
    create_namespaces(c, [src], {})
    c.curl([("POST", f"/api/v1/namespaces/{src}/configmaps", cm_body(configmap, data), "application/json"),
            ("POST", f"/api/v1/namespaces/{src}/secrets", secret_body("app-secret", data), "application/json")], 2)


def secret_fanout(c, n, repeats):
    """`sync --kind secret` of one Secret into N fresh namespaces, beside the same for a
    ConfigMap, each against its curl floor. cmsync reads each Secret target by GET by name (it
    never lists Secrets in a target: Roles by resourceNames suffice), then POSTs; so the floor
    is curl sending the same N GETs, then the same N POSTs (the creates need the reads' answers),
    at the best of 8/16/32/64 at once. A ConfigMap run reads every copy with one cluster-wide
    list, so its floor is the N POSTs alone (as in `fanout`). Best of `repeats`, interleaved."""
    src = "scale-ssrc"
    data = three_keys()
    two_kind_sources(c, src, "fan-config", data)
    targets = [f"scale-s-{i:04d}" for i in range(n)]
    create_namespaces(c, targets, {"scale-sfan": "yes"})
    s_body = floor_secret_body("app-secret", data, f"{src}/app-secret")
    c_body = floor_body("fan-config", data, f"{src}/fan-config")
    gets = [("GET", f"/api/v1/namespaces/{ns}/secrets/app-secret", None, None) for ns in targets]
    s_posts = [("POST", f"/api/v1/namespaces/{ns}/secrets", s_body, "application/json") for ns in targets]
    c_posts = [("POST", f"/api/v1/namespaces/{ns}/configmaps", c_body, "application/json") for ns in targets]
    s_floor = {conc: [] for conc in SWEEP}  # (GETs wall, POSTs wall) per repeat
    s_cpu = {conc: [] for conc in SWEEP}  # (CPU s of apiserver+etcd, of curl) per repeat
    c_floor = {conc: [] for conc in SWEEP}
    runs = {"secrets": [], "configmaps": [], "secrets64": []}  # (wall, peak RSS KiB) per repeat
    run_cpu = {k: [] for k in runs}  # (CPU s of apiserver+etcd, of cmsync) per repeat
    requests = None
    sync = ["kubectl-cmsync", "sync", src, "--target-selector", "scale-sfan=yes", "--kubeconfig", c.restricted_kubeconfig]
    kinds = (("secrets", "app-secret", ["--kind", "secret", "--name", "app-secret"]),
             ("configmaps", "fan-config", ["--name", "fan-config"]),
             ("secrets64", "app-secret", ["--kind", "secret", "--name", "app-secret", "--concurrency", "64"]))
    for r in range(repeats):
        for conc in SWEEP:
            delete_copies(c, targets, "app-secret", "secrets")
            server0, client0 = server_cpu(c), children_cpu()
            g_wall, codes = c.curl(gets, conc, user=FLOOR_TLS)
            if codes.count(404) != n:
                raise RuntimeError(f"Secret floor GETs at {conc}: {codes.count(404)} of {n} answered 404")
            p_wall, codes = c.curl(s_posts, conc, user=FLOOR_TLS)
            if codes.count(201) != n:
                raise RuntimeError(f"Secret floor POSTs at {conc}: {codes.count(201)} of {n} created")
            s_cpu[conc].append((server_cpu(c) - server0, children_cpu() - client0))
            s_floor[conc].append((g_wall, p_wall))
            delete_copies(c, targets, "fan-config")
            wall, codes = c.curl(c_posts, conc, user=FLOOR_TLS)
            if codes.count(201) != n:
                raise RuntimeError(f"ConfigMap floor POSTs at {conc}: {codes.count(201)} of {n} created")
            c_floor[conc].append(wall)
            log(f"round {r + 1}, curl at {conc}: Secrets {g_wall:.2f} + {p_wall:.2f} s, ConfigMaps {wall:.2f} s")
        for run_name, name, args in kinds:
            resource = "configmaps" if run_name == "configmaps" else "secrets"
            delete_copies(c, targets, name, resource)
            tail = AuditTail(c, resource)
            server0, client0 = server_cpu(c), children_cpu()
            wall, rss, rc = timed(sync + args)
            run_cpu[run_name].append((server_cpu(c) - server0, children_cpu() - client0))
            got = copies_in(c, resource, name, targets)
            if rc != 0 or got != n:
                raise RuntimeError(f"sync of {resource}: exit {rc}, {got} of {n} copies")
            runs[run_name].append((wall, rss))
            if run_name == "secrets":
                events = tail.wait(0, by_cmsync("create"), n, 60, "the Secret creates in the audit log")
                mine = [e for e in events if e["user"]["username"] == CMSYNC_USER]
                requests = (sum(1 for e in mine if e["verb"] == "get"), sum(1 for e in mine if e["verb"] == "create"),
                            len(mine))
            log(f"round {r + 1}, sync of {run_name}: {wall:.2f} s, {rss} KiB")
    delete_copies(c, targets, "app-secret", "secrets")
    delete_copies(c, targets, "fan-config")
    s_sum = {conc: min(g + p for g, p in v) for conc, v in s_floor.items()}
    best = min(s_sum, key=s_sum.get)
    g_best, p_best = min(s_floor[best], key=sum)
    posts_alone = min(p for v in s_floor.values() for _, p in v)
    c_best = min(min(v) for v in c_floor.values())
    s_wall = min(w for w, _ in runs["secrets"])
    s64_wall = min(w for w, _ in runs["secrets64"])
    c_wall = min(w for w, _ in runs["configmaps"])
    walls = lambda resource: "/".join(f"{w:.2f}" for w, _ in runs[resource])
    # Each round's own ratio (its run against its floor, minutes apart at most): the spread.
    per_round = "/".join(ratio(runs["secrets"][r][0], min(sum(v[r]) for v in s_floor.values())) for r in range(repeats))
    gets_n, creates_n, all_n = requests
    row(f"Secret fan-out to {n} namespaces (wall s, best of {repeats}; peak RSS KiB) | cmsync --kind secret "
        f"{s_wall:.2f} (runs {walls('secrets')}; default --concurrency); {max(r for _, r in runs['secrets'])}; "
        f"Secret requests (audit log): {gets_n} GETs, {creates_n} POSTs, {all_n - gets_n - creates_n} other | "
        f"curl {n} GETs then {n} POSTs, best of {'/'.join(map(str, SWEEP))} at once: {s_sum[best]:.2f} "
        f"(at {best}: {g_best:.2f} + {p_best:.2f}); the POSTs alone {posts_alone:.2f} | "
        f"ConfigMaps into the same namespaces: cmsync {c_wall:.2f} (runs {walls('configmaps')}); "
        f"{max(r for _, r in runs['configmaps'])}, curl {n} POSTs {c_best:.2f} ({ratio(c_wall, c_best)}x) | "
        f"{ratio(s_wall, s_sum[best])}x floor (goal <= 1.25), each round's {per_round}; {ratio(s_wall, c_wall)}x the ConfigMap run; "
        f"at --concurrency 64 {s64_wall:.2f} (runs {walls('secrets64')}), {ratio(s64_wall, s_sum[best])}x floor")
    med = lambda pairs, i: sorted(x[i] for x in pairs)[len(pairs) // 2]
    cpu = lambda pairs: f"{med(pairs, 0):.2f}; {med(pairs, 1):.2f}"
    row(f"Secret fan-out to {n}: where the time goes (CPU s of apiserver+etcd; CPU s of the client; median of "
        f"{repeats} rounds) | cmsync --kind secret {cpu(run_cpu['secrets'])}; at --concurrency 64 "
        f"{cpu(run_cpu['secrets64'])}; ConfigMaps {cpu(run_cpu['configmaps'])} | curl GETs then POSTs at 16: "
        f"{cpu(s_cpu[16])}; at {best}: {cpu(s_cpu[best])} | | server CPU "
        f"{ratio(med(run_cpu['secrets'], 0), med(s_cpu[16], 0))}x the floor's at the same concurrency (16)")


def copies_in(c, resource, name, namespaces):
    """How many of `namespaces` hold an object `name` of `resource`."""
    listed = c.kubectl("get", resource, "-A", "--field-selector", f"metadata.name={name}", "--chunk-size=500",
                       "-o", "jsonpath={range .items[*]}{.metadata.namespace}{'\\n'}{end}").split()
    return len(set(listed) & set(namespaces))


def propagate(c, tail, resource, src, name, patch, copies):
    """PATCHes the source, waits for cmsync's `copies` updates (audit log); (ms from the
    source's write to the last copy's, by the apiserver's clock; cmsync's GETs meanwhile)."""
    start = len(tail.poll())
    _, codes = c.curl([("PATCH", f"/api/v1/namespaces/{src}/{resource}/{name}", json.dumps(patch).encode(),
                        "application/merge-patch+json")], 1)
    if codes != [200]:
        raise RuntimeError(f"patching {resource} {src}/{name}: {codes}")
    events = tail.wait(start, by_cmsync("update", name), copies, 120, f"{resource} updates")
    patched = [e for e in events if e["verb"] == "patch" and e["objectRef"].get("namespace") == src]
    t0 = epoch(patched[0]["stageTimestamp"])
    t1 = max(epoch(e["stageTimestamp"]) for e in events if by_cmsync("update", name)(e))
    return (t1 - t0) * 1000, sum(1 for e in events if by_cmsync("get")(e))


def floor_span(c, tail, reqs, verb, concurrency):
    """Sends reqs with one curl (as the cmsync user); ms from the first request the apiserver
    received to the last it answered (audit log), the same clock as `propagate`."""
    start = len(tail.poll())
    _, codes = c.curl(reqs, concurrency, user=FLOOR_TLS)
    if sum(1 for x in codes if x < 300) != len(reqs):
        raise RuntimeError(f"floor {verb}s: {codes}")
    names = {path.rsplit("/", 1)[1] for _, path, _, _ in reqs}
    mine = lambda e: by_cmsync(verb)(e) and e["objectRef"].get("name") in names
    events = [e for e in tail.wait(start, mine, len(reqs), 30, f"floor {verb}s") if mine(e)]
    return (max(epoch(e["stageTimestamp"]) for e in events)
            - min(epoch(e["requestReceivedTimestamp"]) for e in events)) * 1000


def secret_watch(c, t, updates, concurrency):
    """`watch --kind secret` of one Secret into T namespaces beside `watch` of a ConfigMap of
    the same keys and sizes into the same namespaces (both watchers run; rounds alternate): per
    round a PATCH of the source, until every copy holds it, from the audit log (the source's
    write to the last copy's, apiserver clock). The watcher holds a Secret's values sealed, so a
    change costs a GET of the source and of each copy, then the PUTs. Floors, same clock: T
    concurrent PUTs of Secrets and of ConfigMaps (curl, one connection, as bench/run), and for
    Secrets also 1 + T concurrent GETs, then T PUTs (what a watcher that holds no value must send)."""
    src = "scale-swsrc"
    data = three_keys()
    two_kind_sources(c, src, "watch-config", data)
    targets = [f"scale-sw-{i:03d}" for i in range(t)]
    create_namespaces(c, targets, {"scale-sw": "yes"})
    tails = {r: AuditTail(c, r) for r in ("configmaps", "secrets")}
    watchers = []
    try:
        for resource, args in (("configmaps", ["--name", "watch-config"]),
                               ("secrets", ["--kind", "secret", "--name", "app-secret"])):
            watchers.append(subprocess.Popen(
                WRAP + ["kubectl-cmsync", "watch", src, "--target-selector", "scale-sw=yes", "--kubeconfig",
                        c.restricted_kubeconfig] + args + (["--concurrency", str(concurrency)] if concurrency else []),
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(c.work, f"swatch-{resource}.err"), "w")))
        for resource, tail in tails.items():
            tail.wait(0, by_cmsync("create"), t, 300, f"the watcher's {resource} creates")
        c.curl([("POST", f"/api/v1/namespaces/{ns}/configmaps", floor_body("floor-cm", data, f"{src}/watch-config"),
                 "application/json") for ns in targets]
               + [("POST", f"/api/v1/namespaces/{ns}/secrets", floor_secret_body("floor-secret", data, f"{src}/app-secret"),
                   "application/json") for ns in targets], 32)
        time.sleep(2)
        ms = {k: [] for k in ("configmap", "secret", "cm_floor", "secret_floor", "secret_get_put")}
        reads = []
        for i in range(1, updates + 1):
            value = nth_value(i)
            took, _ = propagate(c, tails["configmaps"], "configmaps", src, "watch-config",
                                {"data": {"config.yaml": value}}, t)
            ms["configmap"].append(took)
            took, gets = propagate(c, tails["secrets"], "secrets", src, "app-secret",
                                   {"data": {"config.yaml": b64(value)}}, t)
            ms["secret"].append(took)
            reads.append(gets)
            new = three_keys(nth_value(100000 + i))
            ms["cm_floor"].append(floor_span(
                c, tails["configmaps"], [("PUT", f"/api/v1/namespaces/{ns}/configmaps/floor-cm",
                                          floor_body("floor-cm", new, f"{src}/watch-config"), "application/json")
                                         for ns in targets], "update", t))
            puts = lambda v: [("PUT", f"/api/v1/namespaces/{ns}/secrets/floor-secret",
                               floor_secret_body("floor-secret", three_keys(v), f"{src}/app-secret"), "application/json")
                              for ns in targets]
            ms["secret_floor"].append(floor_span(c, tails["secrets"], puts(nth_value(200000 + i)), "update", t))
            gets_ms = floor_span(c, tails["secrets"], [("GET", f"/api/v1/namespaces/{src}/secrets/app-secret", None, None)]
                                 + [("GET", f"/api/v1/namespaces/{ns}/secrets/floor-secret", None, None)
                                    for ns in targets], "get", t + 1)
            ms["secret_get_put"].append(gets_ms + floor_span(c, tails["secrets"], puts(nth_value(300000 + i)), "update", t))
            if i == 1 or i % 10 == 0:
                log(f"round {i}: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in ms.items()) + f" ms; {gets} GETs")
    finally:
        for w in watchers:
            w.terminate()
            w.wait()
    delete_copies(c, targets, "watch-config")
    delete_copies(c, targets, "app-secret", "secrets")
    delete_copies(c, targets, "floor-cm")
    delete_copies(c, targets, "floor-secret", "secrets")
    p = {k: (pct(v, 50), pct(v, 99)) for k, v in ms.items()}
    fmt_ = lambda k: f"p50 {p[k][0]:.0f} p99 {p[k][1]:.0f}"
    at = f", both watchers at --concurrency {concurrency}" if concurrency else ""
    row(f"watch propagation to {t} copies, {updates} updates, Secret beside ConfigMap{at} (ms from the source's write "
        f"to the last copy's, audit log) | Secret {fmt_('secret')} ({min(reads)}-{max(reads)} GETs per change); "
        f"ConfigMap {fmt_('configmap')} | {t} concurrent PUTs (curl): Secrets {fmt_('secret_floor')}; "
        f"ConfigMaps {fmt_('cm_floor')} | Secrets, {t + 1} concurrent GETs then {t} PUTs: {fmt_('secret_get_put')} | "
        f"Secret p99 {ratio(p['secret'][1], p['secret_floor'][1])}x its PUT floor, "
        f"{ratio(p['secret'][1], p['secret_get_put'][1])}x its GET+PUT floor (goal <= 1.5); "
        f"ConfigMap p99 {ratio(p['configmap'][1], p['cm_floor'][1])}x its floor; "
        f"Secret/ConfigMap p99 {ratio(p['secret'][1], p['configmap'][1])}x")


def proc_status(pid, field):
    """A number field of /proc/PID/status (VmRSS, Threads, ...)."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def secret_rss(c, n):
    """Peak RSS (VmHWM) of `watch` of one Secret into N namespaces against the same for a
    ConfigMap of the same keys and sizes: after the initial sync (N creates), and after one
    change propagated to every copy; each watcher alone. Also the time of each (audit log).
    Then both again with the other --watch-scope: a Secret rule watches a stream per target
    namespace unless cluster scope is asked for (least privilege), a ConfigMap rule of many
    targets one cluster-wide stream; the swap tells the kind's cost from the scope's."""
    src = "scale-msrc"
    data = three_keys()
    create_namespaces(c, [src], {})
    c.curl([("POST", f"/api/v1/namespaces/{src}/configmaps", cm_body("rss-config", data), "application/json"),
            ("POST", f"/api/v1/namespaces/{src}/secrets", secret_body("rss-secret", data), "application/json")], 2)
    targets = [f"scale-s-{i:04d}" for i in range(n)]
    create_namespaces(c, targets, {"scale-sfan": "yes"})
    got = {}
    variants = (("configmap", "configmaps", "rss-config", ["--name", "rss-config"]),
                ("secret", "secrets", "rss-secret", ["--kind", "secret", "--name", "rss-secret"]),
                ("configmap-namespaces", "configmaps", "rss-config",
                 ["--name", "rss-config", "--watch-scope", "namespaces"]),
                ("secret-cluster", "secrets", "rss-secret",
                 ["--kind", "secret", "--name", "rss-secret", "--watch-scope", "cluster"]))
    for i, (label, resource, name, args) in enumerate(variants):
        value = nth_value(i + 1)
        patch = {"data": {"config.yaml": b64(value) if resource == "secrets" else value}}
        tail = AuditTail(c, resource)
        t0 = time.time()
        w = subprocess.Popen(WRAP + ["kubectl-cmsync", "watch", src, "--target-selector", "scale-sfan=yes",
                                     "--kubeconfig", c.restricted_kubeconfig] + args,
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(c.work, f"rss-{label}.err"), "w"),
                             start_new_session=bool(WRAP))
        try:
            events = tail.wait(0, by_cmsync("create", name), n, 600, f"the watcher's {resource} creates")
            synced = max(epoch(e["stageTimestamp"]) for e in events if by_cmsync("create", name)(e)) - t0
            time.sleep(2)
            hwm_synced = vm_hwm(w.pid)
            took, gets = propagate(c, tail, resource, src, name, patch, n)
            time.sleep(2)
            got[label] = dict(synced=synced, hwm_synced=hwm_synced, took=took / 1000, gets=gets, hwm=vm_hwm(w.pid),
                              rss=proc_status(w.pid, "VmRSS"), threads=proc_status(w.pid, "Threads"))
        finally:
            stop_watcher(w)
            w.wait()
        delete_copies(c, targets, name, resource)
        log(f"watch {label} into {n}: {got[label]}")
    fig = lambda k: (f"{got[k]['hwm_synced']}; {got[k]['hwm']} ({got[k]['threads']} threads); initial sync "
                     f"{got[k]['synced']:.2f} s, the change {got[k]['took']:.2f} s")
    s, m = got["secret"], got["configmap"]
    row(f"watch of one source into {n} namespaces, Secret against ConfigMap (peak RSS KiB after the initial sync; "
        f"after one change to every copy; s) | Secret {fig('secret')} ({s['gets']} GETs) | ConfigMap {fig('configmap')} "
        f"| | peak RSS Secret/ConfigMap {ratio(s['hwm'], m['hwm'])}x")
    row(f"the same, scopes swapped: Secret --watch-scope cluster, ConfigMap --watch-scope namespaces | "
        f"Secret, cluster scope {fig('secret-cluster')} | ConfigMap, a stream per namespace {fig('configmap-namespaces')} "
        f"| | peak RSS Secret/ConfigMap {ratio(got['secret-cluster']['hwm'], got['configmap-namespaces']['hwm'])}x; "
        f"a stream per namespace against one: Secret {ratio(s['hwm'], got['secret-cluster']['hwm'])}x, "
        f"ConfigMap {ratio(got['configmap-namespaces']['hwm'], m['hwm'])}x")


# --- Rules as objects (issue 28): SyncRules run by one `watch --rules-from-cluster` ----------

CMSYNC_API = "/apis/cmsync.io/v1alpha1"


def apply_crds(c):
    """deploy/crds/ applied and established."""
    crds = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "deploy", "crds") + "/"
    c.kubectl("apply", "-f", crds)
    c.kubectl("wait", "--for", "condition=established", "--timeout=60s", "crd/syncrules.cmsync.io",
              "crd/syncgrants.cmsync.io", "crd/clustersyncrules.cmsync.io")


def post_all(c, what, requests, ok=(201,)):
    wall, codes = c.curl(requests, 64)
    bad = [x for x in codes if x not in ok]
    if bad or len(codes) != len(requests):
        raise RuntimeError(f"creating {len(requests)} {what}: {len(bad)} failed ({bad[:5]})")
    log(f"{len(requests)} {what} in {wall:.1f} s")


def rule_statuses(c):
    """{NS/NAME: (Ready status, reason, observedGeneration == generation, status)} of every SyncRule."""
    items = json.loads(c.kubectl("get", "--raw", f"{CMSYNC_API}/syncrules"))["items"]
    out = {}
    for o in items:
        st = o.get("status") or {}
        ready = next((x for x in st.get("conditions", []) if x.get("type") == "Ready"), {})
        out[f"{o['metadata']['namespace']}/{o['metadata']['name']}"] = (
            ready.get("status"), ready.get("reason"),
            st.get("observedGeneration") == o["metadata"]["generation"], st)
    return out


def managed_copies(c, name):
    """{namespace: data} of the managed copies named `name` (paged, as cmsync's user would)."""
    out, cont = {}, ""
    while True:
        q = f"/api/v1/configmaps?labelSelector=cmsync.io%2Fmanaged%3Dtrue&fieldSelector=metadata.name%3D{name}&limit=500"
        page = json.loads(c.kubectl("get", "--raw", q + (f"&continue={cont}" if cont else "")))
        for o in page["items"]:
            out[o["metadata"]["namespace"]] = o.get("data", {})
        cont = page["metadata"].get("continue", "")
        if not cont:
            return out


def rule_objects_layout(c, tag, n, t):
    """N source namespaces, each with ConfigMap app-config (3 keys, 4.2 KiB) and SyncRule
    `share` copying it into T target namespaces of its own, each holding SyncGrant `from-src`
    that consents to that source namespace (kinds and names as narrow as they go). Created with
    curl, 64 at once. Returns {source namespace: [target namespaces]}."""
    layout = {f"scale-ro{tag}-{i:04d}": [f"scale-ro{tag}-{i:04d}-t{j}" for j in range(t)] for i in range(n)}
    create_namespaces(c, list(layout) + [ns for ts in layout.values() for ns in ts], {})
    post_all(c, "sources", [("POST", f"/api/v1/namespaces/{src}/configmaps", cm_body("app-config", three_keys()),
                             "application/json") for src in layout])
    grant = lambda src: json.dumps({"apiVersion": "cmsync.io/v1alpha1", "kind": "SyncGrant",
                                    "metadata": {"name": "from-src"},
                                    "spec": {"from": [{"namespace": src, "kinds": ["ConfigMap"],
                                                       "names": ["app-config"]}]}}).encode()
    post_all(c, "SyncGrants", [("POST", f"{CMSYNC_API}/namespaces/{ns}/syncgrants", grant(src), "application/json")
                               for src, ts in layout.items() for ns in ts])
    rule = lambda ts: json.dumps({"apiVersion": "cmsync.io/v1alpha1", "kind": "SyncRule",
                                  "metadata": {"name": "share"},
                                  "spec": {"source": {"names": ["app-config"]},
                                           "targets": {"namespaces": ts}}}).encode()
    post_all(c, "SyncRules", [("POST", f"{CMSYNC_API}/namespaces/{src}/syncrules", rule(ts), "application/json")
                              for src, ts in layout.items()])
    return layout


def rule_objects_once(c, tag, n, t, quiet_seconds):
    """One point of `rule_objects`: the layout of N rules x T targets made first, then one
    watcher started; (figures dict). The rules are deleted at the end (their copies stay), so a
    later point's watcher runs only its own."""
    layout = rule_objects_layout(c, tag, n, t)
    copies = n * t
    data = three_keys()
    cm_tail, rule_tail = AuditTail(c, "configmaps"), AuditTail(c, "syncrules")
    out = open(os.environ.get("SCALE_RULES_LOG", os.path.join(c.work, f"rules{tag}.err")), "w")
    t0 = time.time()
    w = subprocess.Popen(WRAP + ["kubectl-cmsync", "watch", "--rules-from-cluster",
                                 "--kubeconfig", c.restricted_kubeconfig], stdout=subprocess.DEVNULL, stderr=out,
                         start_new_session=bool(WRAP))
    status_patch = lambda e: by_cmsync("patch")(e) and e["objectRef"].get("subresource") == "status"
    threads_peak = 0
    try:
        deadline = time.monotonic() + 900
        while True:
            threads_peak = max(threads_peak, proc_status(w.pid, "Threads"))
            made = sum(1 for e in cm_tail.poll() if by_cmsync("create", "app-config")(e))
            if made >= copies:
                states = rule_statuses(c)
                done = [k for k, (r, why, current, _) in states.items() if r == "True" and why == "InStep" and current]
                if len(done) == n:
                    break
            if w.poll() is not None:
                raise RuntimeError(f"the watcher exited {w.returncode}: {open(out.name).read()[-800:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"rule objects: {made} of {copies} copies after 900 s")
            time.sleep(0.5)
        creates = [e for e in cm_tail.poll() if by_cmsync("create", "app-config")(e)]
        patches = [e for e in rule_tail.poll() if status_patch(e)]
        t_copies = max(epoch(e["stageTimestamp"]) for e in creates)
        t_status = max(epoch(e["stageTimestamp"]) for e in patches)
        t_status_first = min(epoch(e["stageTimestamp"]) for e in patches)
        took = max(t_copies, t_status) - t0
        cpu = cpu_seconds(w.pid)
        hwm, threads = vm_hwm(w.pid), proc_status(w.pid, "Threads")
        n_patches = len(patches)
        before = len(cm_tail.events) + len(rule_tail.events)
        time.sleep(quiet_seconds)
        quiet_writes = len(cm_tail.poll()) + len(rule_tail.poll()) - before
        hwm_quiet, rss_quiet = vm_hwm(w.pid), proc_status(w.pid, "VmRSS")
        threads_peak = max(threads_peak, proc_status(w.pid, "Threads"))
    finally:
        stop_watcher(w)
        w.wait()
    got = managed_copies(c, "app-config")
    wrong = [ns for src, ts in layout.items() for ns in ts if got.get(ns) != data]
    if wrong:
        raise RuntimeError(f"{len(wrong)} of {copies} copies missing or wrong ({wrong[:3]})")
    # The floor: the same writes as cmsync's identity, with curl (one connection, HTTP/2): T x N
    # POSTs of ConfigMaps the size of cmsync's copies (another name, in the same namespaces) and N
    # merge patches of the rules' status subresource, each the size of cmsync's last patch of that
    # rule (its own status now, another lastSyncTime per round: an unchanged patch is no write).
    states = rule_statuses(c)
    body = floor_body("floor-config", data, "scale-ro/app-config")
    floors = {}
    for k, conc in enumerate(SWEEP):
        delete_copies(c, [ns for ts in layout.values() for ns in ts], "floor-config")
        reqs = [("POST", f"/api/v1/namespaces/{ns}/configmaps", body, "application/json")
                for ts in layout.values() for ns in ts]
        for src in layout:
            st = dict(states[f"{src}/share"][3], lastSyncTime=f"2026-01-01T00:00:{k:02d}Z")
            reqs.append(("PATCH", f"{CMSYNC_API}/namespaces/{src}/syncrules/share/status",
                         json.dumps({"status": st}, separators=(",", ":")).encode(), "application/merge-patch+json"))
        wall, codes = c.curl(reqs, conc, user=FLOOR_TLS)
        if codes.count(201) != copies or codes.count(200) != n:
            raise RuntimeError(f"rule objects floor at {conc}: {codes.count(201)} creates, {codes.count(200)} patches")
        floors[conc] = wall
        log(f"curl {copies} POSTs + {n} status PATCHes at {conc}: {wall:.2f} s")
    delete_copies(c, [ns for ts in layout.values() for ns in ts], "floor-config")
    post_all(c, "SyncRules deleted", [("DELETE", f"{CMSYNC_API}/namespaces/{src}/syncrules/share", None, None)
                                      for src in layout], ok=(200,))
    best = min(floors, key=floors.get)
    fig = dict(n=n, t=t, took=took, t_copies=t_copies - t0, t_status=t_status - t0,
               t_status_first=t_status_first - t0, cpu=cpu, hwm=hwm,
               hwm_quiet=hwm_quiet, rss_quiet=rss_quiet, threads=threads, threads_peak=threads_peak,
               patches=n_patches, quiet_writes=quiet_writes, quiet_seconds=quiet_seconds, floors=floors,
               best=best, floor=floors[best], status_bytes=len(json.dumps({"status": states[f"{next(iter(layout))}/share"][3]},
                                                                       separators=(",", ":"))))
    log(f"rule objects {n} x {t}: {fig}")
    return fig


def rule_objects(c, n, t, second, quiet_seconds):
    """Issue 28: N SyncRule objects x T targets each, run by one `watch --rules-from-cluster`
    (as the cmsync user). Each rule is in its own source namespace with its own source
    ConfigMap; each of its T target namespaces holds a SyncGrant consenting to it. Everything is
    created first (curl), then the watcher starts: the figure is a controller starting on a
    cluster of N rules, from its start to the last of the N x T creates and of the rules'
    status patches (audit log, apiserver clock), once every copy exists and every rule says
    Ready=True InStep at its generation (read from the API). Floor: the same writes by curl
    (N x T POSTs of same-size ConfigMaps and N status merge patches the size of cmsync's),
    best of 8/16/32/64 at once. The watcher's peak RSS (VmHWM), threads and CPU seconds; a
    second point at `second` rules (run first) gives the memory per rule."""
    apply_crds(c)
    points = [rule_objects_once(c, "a", second, t, quiet_seconds)] if second else []
    points.append(rule_objects_once(c, "b", n, t, quiet_seconds))
    f = points[-1]
    sweep = ", ".join(f"{k}: {v:.2f}" for k, v in f["floors"].items())
    row(f"rule objects: {n} SyncRules x {t} targets ({n * t} copies), one `watch --rules-from-cluster` from its "
        f"start until every copy and every status is ready (s; peak RSS KiB; threads; CPU s) | cmsync {f['took']:.2f} "
        f"(last copy {f['t_copies']:.2f}; status patches {f['t_status_first']:.2f} to {f['t_status']:.2f}, {f['patches']} "
        f"of them); {f['hwm']}; "
        f"{f['threads']} (peak {f['threads_peak']}); {f['cpu']:.2f}; {f['quiet_writes']} writes in the next "
        f"{f['quiet_seconds']} s | curl {n * t} POSTs + {n} status PATCHes ({f['status_bytes']} B), best of "
        f"{'/'.join(map(str, SWEEP))}: {f['floor']:.2f} (at {f['best']}; {sweep}) | | {ratio(f['took'], f['floor'])}x "
        f"floor (goal <= 1.3); peak RSS {f['hwm'] / 1024:.1f} MiB (goal <= 128)")
    if second:
        s = points[0]
        per_rule = (f["hwm"] - s["hwm"]) / (n - second)
        row(f"rule objects: the same at {second} rules ({second * t} copies) (s; peak RSS KiB; threads; CPU s) | "
            f"cmsync {s['took']:.2f}; {s['hwm']}; {s['threads']} (peak {s['threads_peak']}); {s['cpu']:.2f} | curl, "
            f"best of {'/'.join(map(str, SWEEP))}: {s['floor']:.2f} (at {s['best']}) | | {ratio(s['took'], s['floor'])}x "
            f"floor; {second} -> {n} rules: peak RSS +{per_rule:.1f} KiB and "
            f"+{(f['threads'] - s['threads']) / (n - second):.2f} threads per rule")


def run(c, a):
    size = SMOKE if a.smoke else FULL
    c.kubectl("create", "clusterrolebinding", "scale-cmsync", "--clusterrole=cluster-admin", f"--user={CMSYNC_USER}")
    only = a.only.split(",")
    # Secrets first, each beside ConfigMaps: they delete their copies when done (and name their
    # sources apart from `fanout`'s app-config), and the ConfigMap watchers among them then see
    # no other scenario's copies (the resync's 110,000).
    if "secret-fanout" in only:
        secret_fanout(c, size["secret_fanout"], size["secret_repeats"])
    if "secret-watch" in only:
        secret_watch(c, size["secret_watch_targets"], size["secret_watch_updates"], size["secret_watch_concurrency"])
    if "secret-rss" in only:
        secret_rss(c, size["secret_rss_copies"])
    # resync next: `resync -A` then sees its own copies only.
    if "resync" in only:
        resync(c, size["resync_sources"], size["resync_targets"])
    if "fanout" in only:
        fanout(c, size["fanout"])
    if "watch" in only:
        watch(c, size["watch_sources"], size["watch_targets"], size["idle_seconds"], size["watch_concurrency"])
    if "busy" in only:
        busy(c, size["busy_objects"], size["churn_rate"], size["churn_seconds"])
    # Last: its watcher starts on a cluster holding the other scenarios' copies too (it lists
    # only its rules' namespaces), and its rules are deleted when it is done.
    if "rule-objects" in only:
        rule_objects(c, size["rule_objects"], size["rule_targets"], size["rule_objects_second"], size["rule_quiet_seconds"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--only", default="secret-fanout,secret-watch,secret-rss,fanout,watch,busy,resync,rule-objects")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=N",
                    help="override one size (e.g. watch_sources=30), to profile at another size")
    a = ap.parse_args()
    for kv in a.set:
        key, _, value = kv.partition("=")
        if key not in FULL:
            ap.error(f"--set: unknown size {key!r} (one of {', '.join(FULL)})")
        FULL[key] = SMOKE[key] = int(value)
    c = Cluster()
    try:
        run(c, a)
    finally:
        shutil.rmtree(c.work, ignore_errors=True)

if __name__ == "__main__":
    main()
