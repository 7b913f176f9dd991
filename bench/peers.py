#!/usr/bin/env python3
"""Side by side with a peer (issue 29), run by `bench/run --peers [--smoke]` on a control plane of
its own: kubectl-cmsync `watch` against cert-manager's trust-manager (v0.25.0, as published, and
the same source built with no client-side rate limit; tests/tools/trust-manager/build).

Each tool in turn, never two at once, on namespaces of its own made before any tool starts (so
every tool starts on a cluster holding as many namespaces), writes key `ca.crt` (a PEM bundle of
certificates made with openssl) of ConfigMap `peers-ca` into the namespaces labelled for it:
  small   a process started on N labelled namespaces: until every copy holds the bundle; then C
          changes of the source, each after the last converged; then one namespace labelled
          later; then Q quiet seconds (its writes counted); then its behaviour: a hand edit of the
          managed key in one copy, a key of the copy's own, the source deleted (read with
          kubectl).
  large   a new process started on M labelled namespaces: until every copy holds the bundle; R
          rounds, the tools taking turns (the machine is shared: its load drifts), each round on
          namespaces of its own; the median round is reported. trust-manager at its defaults
          runs one round: its pace is set by its rate limit, (M - 10) / 5 s.
Times come from one independent watch of every ConfigMap named `peers-ca` (curl, as the cluster's
admin): a copy holds the bundle from the moment its event with the same set of certificates
arrives (trust-manager writes the certificates in an order of its own). Writes and requests come
from the audit log: both tools run as deploy/'s ServiceAccount, whose every request is audited.
CPU and peak RSS of the tool from /proc; CPU of kube-apiserver and etcd likewise.

Prints the markdown table and the versions and flags on stdout, and draws the propagation
latency of every update to --svg. Needs the environment of tests/cluster/up and PATH with
kubectl-cmsync and kubectl.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import curl_bulk
import peers_svg

NAME = "peers-ca"
KEY = "ca.crt"
LABEL = "peers.cmsync.io/run"
SA_NAMESPACE, SA_NAME = "cmsync-system", "kubectl-cmsync"  # audited in full (tests/cluster/up)
SA_USER = f"system:serviceaccount:{SA_NAMESPACE}:{SA_NAME}"
BUNDLES = "/apis/trust.cert-manager.io/v1alpha1/bundles"
FULL = dict(small=100, large=1000, rounds=3, changes=20, certs=20, quiet=60, settle=10, timeout=900)
SMOKE = dict(small=5, large=10, rounds=2, changes=2, certs=3, quiet=5, settle=3, timeout=120)
WRITE_VERBS = ("create", "update", "patch", "delete")
NOT_STORED = ("selfsubjectaccessreviews", "subjectaccessreviews", "tokenreviews")  # created, never stored
HAND_EDIT = "edited by hand\n"
# A write's ResponseComplete audit line is logged after its answer is sent: the observer can see
# the change before the line is in the file.
AUDIT_LAG = 1.0
# Before a process starts: what the server still does for the last step (the namespaces just
# made, the copies just deleted) is not counted as the tool's.
SETTLE = 3.0
CMSYNC_CONCURRENCY = 16  # kubectl-cmsync's default --concurrency


def log(msg):
    print(f"peers: {msg}", file=sys.stderr, flush=True)


# --- the control plane ---------------------------------------------------------------------------

class Api:
    """Requests as the control plane's admin (system:masters: exempt from API Priority and
    Fairness, so the bench's own requests never queue behind the tool under test)."""

    def __init__(self, cluster_dir, work):
        self.dir = cluster_dir
        self.work = work
        self.server = open(os.path.join(cluster_dir, "server")).read().strip()
        url = urllib.parse.urlsplit(self.server)
        self.host, self.port = url.hostname, url.port
        pki = os.path.join(cluster_dir, "pki")
        self.ca, self.cert, self.key = f"{pki}/ca.crt", f"{pki}/admin.crt", f"{pki}/admin.key"
        self.ctx = ssl.create_default_context(cafile=self.ca)
        self.ctx.load_cert_chain(self.cert, self.key)
        self.audit = os.path.join(cluster_dir, "audit.log")

    def send(self, method, path, body=None, ctype="application/json", ok=(200, 201)):
        """(monotonic time the request left, decoded answer); the connection is made first, so
        the time does not hold a TLS handshake."""
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=60)
        conn.connect()
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        headers = {"Content-Type": ctype} if data is not None else {}
        t0 = time.monotonic()
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        text = resp.read()
        conn.close()
        if resp.status not in ok:
            raise RuntimeError(f"{method} {path}: {resp.status} {text[:300]!r}")
        return t0, json.loads(text) if text else {}

    def bulk(self, requests, concurrency=64, ok=(200, 201)):
        """Sends [(method, path, body dict or None)] with one curl (HTTP/2, --parallel); returns
        the seconds curl ran (its config and bodies are written before)."""
        if not requests:
            return 0.0
        wall, codes = curl_bulk.send(
            [(method, path, None if body is None else json.dumps(body).encode(), "application/json")
             for method, path, body in requests],
            concurrency, self.server, self.ca, self.cert, self.key, self.work)
        bad = [c for c in codes if c not in ok]
        if bad or len(codes) != len(requests):
            raise RuntimeError(f"{len(requests)} requests: {len(bad)} failed ({bad[:5]})")
        return wall

    def kubectl(self, *args):
        p = subprocess.run(["kubectl", *args], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {p.stderr.strip()}")
        return p.stdout

    def audit_mark(self):
        return os.path.getsize(self.audit)

    def audit_events(self, mark, end=None):
        """The ServiceAccount's requests (ResponseComplete) logged between two byte offsets."""
        out = []
        with open(self.audit) as f:
            f.seek(mark)
            text = f.read() if end is None else f.read(end - mark)
        for line in text.splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("stage") == "ResponseComplete" and e["user"]["username"] == SA_USER:
                out.append(e)
        return out

    def pid(self, name):
        return int(open(os.path.join(self.dir, f"{name}.pid")).read())


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def rss_split_kib(pid):
    """(anonymous, file-backed) resident KiB now: heap and stacks, against the pages of the
    binary and its shared libraries (a dynamic binary's libraries count here in full)."""
    fields = {}
    for line in open(f"/proc/{pid}/smaps_rollup"):
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            fields[parts[0].rstrip(":")] = int(parts[1])
    return fields.get("Anonymous", 0), fields.get("Rss", 0) - fields.get("Anonymous", 0)


def server_cpu(api):
    return sum(cpu_seconds(api.pid(n)) for n in ("apiserver", "etcd"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_account_kubeconfig(api):
    """A kubeconfig with a token of deploy/'s ServiceAccount, bound to cluster-admin: both tools
    run as it, so APF treats them alike and the audit log has every request of theirs."""
    api.bulk([("POST", "/api/v1/namespaces", {"metadata": {"name": SA_NAMESPACE}})], ok=(201, 409))
    api.bulk([("POST", f"/api/v1/namespaces/{SA_NAMESPACE}/serviceaccounts", {"metadata": {"name": SA_NAME}})],
             ok=(201, 409))
    api.kubectl("create", "clusterrolebinding", "peers-tools", "--clusterrole=cluster-admin",
                f"--serviceaccount={SA_NAMESPACE}:{SA_NAME}")
    token = api.kubectl("-n", SA_NAMESPACE, "create", "token", SA_NAME, "--duration=12h").strip()
    path = os.path.join(api.work, "tools.kubeconfig")
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "peers",
                   "clusters": [{"name": "peers", "cluster": {"server": api.server, "certificate-authority": api.ca}}],
                   "users": [{"name": "tools", "user": {"token": token}}],
                   "contexts": [{"name": "peers", "context": {"cluster": "peers", "user": "tools"}}]}, f)
    os.chmod(path, 0o600)
    return path


# --- the bundle ----------------------------------------------------------------------------------

PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)


def cert_set(text):
    """The certificates of a PEM bundle, whatever their order and line breaks; None for none."""
    found = frozenset("".join(b.split()) for b in PEM_RE.findall(text or ""))
    return found or None


def make_certificates(count, work):
    """count self-signed CA certificates (RSA 2048, as most of a real trust bundle)."""
    out = []
    for i in range(count):
        path = os.path.join(work, f"ca-{i}.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "/dev/null",
                        "-out", path, "-days", "30", "-subj", f"/O=cmsync bench/CN=peers CA {i}"],
                       check=True, capture_output=True)
        out.append(open(path).read().strip())
    return out


class Bundles:
    """Version v of the source: certificates v .. v+K-1 of the pool (each change rotates one)."""

    def __init__(self, certs, size):
        self.certs, self.size = certs, size

    def text(self, v):
        return "\n".join(self.certs[v:v + self.size]) + "\n"

    def key(self, v):
        return cert_set(self.text(v))


# --- the independent observer --------------------------------------------------------------------

class Observer:
    """One watch of every ConfigMap named NAME (curl as admin), apart from both tools: per
    namespace, which certificates its copy holds and since when (arrival here)."""

    def __init__(self, api):
        self.api = api
        _, page = api.send("GET", f"/api/v1/configmaps?fieldSelector=metadata.name%3D{NAME}&limit=1")
        self.rv = page["metadata"]["resourceVersion"]
        self.reconnects = 0
        self.stopping = False
        self.proc = None
        self.held = {}  # namespace -> (certificate set or None, monotonic time since)
        self.events = {}  # namespace -> [(certificate set or None, monotonic arrival time)]
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _watch(self):
        url = (f"{self.api.server}/api/v1/configmaps?watch=1&fieldSelector=metadata.name%3D{NAME}"
               f"&resourceVersion={self.rv}&allowWatchBookmarks=true&timeoutSeconds=3000")
        return subprocess.Popen(["curl", "-sS", "-N", "--cacert", self.api.ca, "--cert", self.api.cert,
                                 "--key", self.api.key, url], stdout=subprocess.PIPE)

    def _read(self):
        # A watch the server ends (a slow reader on a busy machine, a timeout) is opened again
        # from the last resourceVersion: nothing is missed, but what it replays arrives late, so
        # each reconnect is logged.
        while not self.stopping:
            self.proc = self._watch()
            for line in self.proc.stdout:
                self._handle(time.monotonic(), json.loads(line))
            code = self.proc.wait()
            if not self.stopping:
                self.reconnects += 1
                log(f"observer: the watch ended (curl exit {code}); opened again from {self.rv}")

    def _handle(self, now, event):
        if event["type"] == "BOOKMARK":
            self.rv = event["object"]["metadata"]["resourceVersion"]
            return
        if event["type"] not in ("ADDED", "MODIFIED", "DELETED"):
            log(f"observer: {event['type']} {str(event['object'])[:200]}")
            return
        obj = event["object"]
        self.rv = obj["metadata"]["resourceVersion"]
        ns = obj["metadata"]["namespace"]
        certs = None if event["type"] == "DELETED" else cert_set((obj.get("data") or {}).get(KEY))
        with self.cond:
            self.events.setdefault(ns, []).append((certs, now))
            if ns not in self.held or self.held[ns][0] != certs:
                self.held[ns] = (certs, now)
            self.cond.notify_all()

    def event_after(self, ns, certs, after, timeout):
        """Arrival time of the first event of `ns` since `after` whose copy holds `certs` (None:
        no ca.crt with a certificate, or no copy); None past the timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for held, t in self.events.get(ns, []):
                    if t >= after and held == certs:
                        return t
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def wait(self, namespaces, certs, timeout):
        """(first, last) arrival time of the copies in `namespaces` holding `certs`, once all do;
        None past the timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                held = [self.held.get(ns) for ns in namespaces]
                if all(h is not None and h[0] == certs for h in held):
                    times = [h[1] for h in held]
                    return min(times), max(times)
                left = deadline - time.monotonic()
                if left <= 0:
                    missing = sum(1 for h in held if h is None or h[0] != certs)
                    log(f"observer: {missing} of {len(namespaces)} copies not in step after {timeout} s")
                    return None
                self.cond.wait(left)

    def stop(self):
        self.stopping = True
        self.proc.terminate()
        self.thread.join(10)


# --- the tools -----------------------------------------------------------------------------------

class Cmsync:
    key, title = "cm", "kubectl-cmsync watch"
    max_rounds = 99
    floor = True  # its copies, once it has stopped, get the curl floor's PUTs

    def __init__(self, kubeconfig):
        self.kubeconfig = kubeconfig

    def prepare(self, api, src, selector):
        pass

    def argv(self, src, selector):
        return ["kubectl-cmsync", "watch", "-n", src, "--target-selector", f"{LABEL}={selector}", "--name", NAME,
                "--keys", KEY, "--log-format", "json", "--kubeconfig", self.kubeconfig]

    def clean_up(self, api):
        pass


class TrustManager:
    """trust-manager as a process: its Bundle names the source and the namespace selector; its
    webhook is served (a throwaway certificate) but never registered with the apiserver."""
    floor = False

    def __init__(self, key, title, binary, kubeconfig, work, max_rounds):
        self.key, self.title, self.binary, self.kubeconfig = key, title, binary, kubeconfig
        self.max_rounds = max_rounds
        self.certs = os.path.join(work, f"webhook-{key}")
        os.makedirs(self.certs, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-keyout", f"{self.certs}/tls.key", "-out", f"{self.certs}/tls.crt", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)

    def prepare(self, api, src, selector):
        api.send("POST", BUNDLES, {
            "apiVersion": "trust.cert-manager.io/v1alpha1", "kind": "Bundle", "metadata": {"name": NAME},
            "spec": {"sources": [{"configMap": {"name": NAME, "key": KEY}}],
                     "target": {"configMap": {"key": KEY},
                                "namespaceSelector": {"matchLabels": {LABEL: selector}}}}})

    def argv(self, src, selector):
        return [self.binary, "--kubeconfig", self.kubeconfig, "--trust-namespace", src, "--leader-elect=false",
                "--metrics-port", str(free_port()), "--readiness-probe-port", str(free_port()),
                "--webhook-host", "127.0.0.1", "--webhook-port", str(free_port()),
                "--webhook-certificate-dir", self.certs]

    def clean_up(self, api):
        api.send("DELETE", f"{BUNDLES}/{NAME}")


def shown_argv(argv, work):
    """The flags as a reader would type them: the work dir's paths shortened."""
    return " ".join(os.path.basename(a) if i == 0 else a.replace(work + "/", "") for i, a in enumerate(argv))


class Running:
    """The tool's process, started now; its output to a file nobody measures from."""

    def __init__(self, argv, logfile):
        self.out = open(logfile, "w")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=subprocess.STDOUT)

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def rss(self):
        return peak_rss_kib(self.proc.pid)

    def rss_split(self):
        return rss_split_kib(self.proc.pid)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


# --- the scenarios -------------------------------------------------------------------------------

def large_rounds(tool, size):
    return min(size["rounds"], tool.max_rounds)


def layout(tool, size):
    """A tool's own namespaces: the small phase's source, targets and one to label later; per
    round of the large phase, a source and targets."""
    k = tool.key
    rounds = range(1, large_rounds(tool, size) + 1)
    return dict(src_small=f"pr-{k}-src-small", late=f"pr-{k}-late", sel_small=f"{k}-small",
                small=[f"pr-{k}-small-{i}" for i in range(1, size["small"] + 1)],
                src_large=[f"pr-{k}-src-large{r}" for r in rounds], sel_large=[f"{k}-large{r}" for r in rounds],
                large=[[f"pr-{k}-large{r}-{i}" for i in range(1, size["large"] + 1)] for r in rounds])


def create_namespaces(api, tools, size):
    requests = []
    for tool in tools:
        ns = layout(tool, size)
        for name in (ns["src_small"], ns["late"], *ns["src_large"]):
            requests.append(("POST", "/api/v1/namespaces", {"metadata": {"name": name}}))
        for selector, names in ((ns["sel_small"], ns["small"]), *zip(ns["sel_large"], ns["large"])):
            labels = {LABEL: selector}
            requests += [("POST", "/api/v1/namespaces", {"metadata": {"name": n, "labels": labels}}) for n in names]
    api.bulk(requests)
    log(f"{len(requests)} namespaces made")


def set_source(api, src, text, create=False):
    """Time the source's write left (monotonic)."""
    if create:
        t0, _ = api.send("POST", f"/api/v1/namespaces/{src}/configmaps", {"metadata": {"name": NAME}, "data": {KEY: text}})
    else:
        t0, _ = api.send("PATCH", f"/api/v1/namespaces/{src}/configmaps/{NAME}", {"data": {KEY: text}},
                         ctype="application/merge-patch+json")
    return t0


def delete_copies(api, namespaces):
    api.bulk([("DELETE", f"/api/v1/namespaces/{n}/configmaps/{NAME}", None) for n in namespaces], ok=(200, 404))


def writes(events, resource=None):
    return [e for e in events if e["verb"] in WRITE_VERBS and e["objectRef"].get("resource") not in NOT_STORED
            and (resource is None or e["objectRef"].get("resource") == resource)]


def write_summary(events):
    """"N" or "N (resource: n, ...)" for the writes among the audit events."""
    ws = writes(events)
    by = {}
    for e in ws:
        ref = e["objectRef"]
        r = ref.get("resource", "?") + ("/" + ref["subresource"] if ref.get("subresource") else "")
        by[r] = by.get(r, 0) + 1
    detail = ", ".join(f"{r} {n}" for r, n in sorted(by.items()))
    return f"{len(ws)}" + (f" ({detail})" if detail else "")


def fan_out(api, tool, src, selector, targets, bundles, timeout, logfile):
    """Starts the tool on `targets` already labelled; returns (the running tool, the observer,
    figures) once every copy holds the bundle."""
    set_source(api, src, bundles.text(0), create=True)
    tool.prepare(api, src, selector)
    obs = Observer(api)
    time.sleep(SETTLE)
    argv = tool.argv(src, selector)
    mark, s0 = api.audit_mark(), server_cpu(api)
    run = Running(argv, logfile)
    got = obs.wait(targets, bundles.key(0), timeout)
    cpu, rss, s1 = run.cpu(), run.rss(), server_cpu(api)
    if got is None:
        run.stop()
        obs.stop()
        raise RuntimeError(f"{tool.title}: fan-out to {len(targets)} not done in {timeout} s (log: {logfile})")
    time.sleep(AUDIT_LAG)
    events = api.audit_events(mark)
    cm_writes = len(writes(events, "configmaps"))
    figures = dict(first=got[0] - run.t0, last=got[1] - run.t0, cpu=cpu, rss=rss, server=s1 - s0,
                   cm_writes=cm_writes, writes=write_summary(events), requests=len(events), argv=argv)
    log(f"{tool.title}: fan-out to {len(targets)} in {figures['last']:.2f} s")
    return run, obs, figures


def propagation(api, run, obs, src, targets, bundles, changes, timeout):
    """`changes` source updates, each sent once the last is in every copy: latency of each (ms)
    until every copy holds it, and the tool's and the server's CPU over them."""
    time.sleep(2)  # what follows a fan-out (trust-manager's status patch and Event) is not counted
    mark, c0, s0 = api.audit_mark(), run.cpu(), server_cpu(api)
    latencies = []
    for v in range(1, changes + 1):
        t0 = set_source(api, src, bundles.text(v))
        got = obs.wait(targets, bundles.key(v), timeout)
        if got is None:
            raise RuntimeError(f"change {v} not in every copy in {timeout} s")
        latencies.append((got[1] - t0) * 1000)
    log(f"latencies (ms): {' '.join(f'{x:.0f}' for x in latencies)}")
    c1, s1 = run.cpu(), server_cpu(api)
    time.sleep(AUDIT_LAG)
    events = api.audit_events(mark)
    return dict(latencies=latencies, cpu=c1 - c0, rss=run.rss(), split=run.rss_split(), server=s1 - s0,
                cm_writes=len(writes(events, "configmaps")), writes=write_summary(events))


def put_floor(api, targets, bundles, changes, concurrency):
    """Per change, the same copies PUT by one curl (HTTP/2, `concurrency` at once), each round a
    new bundle (a PUT of an unchanged object writes nothing): the server's time to write them
    with no controller in between (ms)."""
    _, copy = api.send("GET", f"/api/v1/namespaces/{targets[0]}/configmaps/{NAME}")
    md = {k: copy["metadata"][k] for k in ("name", "labels", "annotations") if k in copy["metadata"]}
    times = []
    for v in range(1, changes + 1):
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": {KEY: bundles.text(v)}}
        times.append(1000 * api.bulk([("PUT", f"/api/v1/namespaces/{ns}/configmaps/{NAME}", body) for ns in targets],
                                     concurrency, ok=(200,)))
    return times


def labelled_later(api, obs, late, selector, certs, timeout):
    t0, _ = api.send("PATCH", f"/api/v1/namespaces/{late}", {"metadata": {"labels": {LABEL: selector}}},
                     ctype="application/merge-patch+json")
    got = obs.wait([late], certs, timeout)
    return None if got is None else (got[1] - t0) * 1000


def quiet_writes(api, seconds):
    time.sleep(3)
    mark = api.audit_mark()
    time.sleep(seconds)
    return write_summary(api.audit_events(mark))


def read_copy(api, ns):
    """The copy's data as kubectl reads it; None when there is no copy."""
    p = subprocess.run(["kubectl", "-n", ns, "get", "configmap", NAME, "-o", "json"], capture_output=True, text=True)
    if p.returncode != 0:
        if "NotFound" in p.stderr:
            return None
        raise RuntimeError(p.stderr.strip())
    return json.loads(p.stdout).get("data") or {}


def behaviour(api, obs, src, targets, bundles, v, settle, timeout):
    """What the tool does with a hand edit, a key of the copy's own and a deleted source, read
    with kubectl (never from the tool): three sentences."""
    edited, own, rest = targets[0], targets[1], targets[1:]
    # Sent as kubectl would (a merge patch, field manager kubectl-patch), so the time is exact.
    t_edit, _ = api.send("PATCH", f"/api/v1/namespaces/{edited}/configmaps/{NAME}?fieldManager=kubectl-patch",
                         {"data": {KEY: HAND_EDIT}}, ctype="application/merge-patch+json")
    seen = obs.event_after(edited, None, t_edit, timeout)
    back = seen and obs.event_after(edited, bundles.key(v), seen, settle)
    data = read_copy(api, edited) or {}
    if back is not None and cert_set(data.get(KEY)) == bundles.key(v):
        hand = f"restored the source's bundle ({(back - t_edit) * 1000:.0f} ms after the edit)"
    elif data.get(KEY) == HAND_EDIT:
        hand = f"kept the hand edit ({settle} s later)"
    else:
        hand = f"copy holds {data.get(KEY, 'no key')!r:.40}"

    api.kubectl("-n", own, "patch", "configmap", NAME, "--type", "merge", "-p", json.dumps({"data": {"local.conf": "mine"}}))
    time.sleep(1)
    set_source(api, src, bundles.text(v + 1))
    if obs.wait(rest, bundles.key(v + 1), timeout) is None:
        raise RuntimeError("the change after the hand edit did not reach every other copy")
    data = read_copy(api, own) or {}
    own_key = "kept" if data.get("local.conf") == "mine" else "removed"
    after = read_copy(api, edited) or {}
    if cert_set(after.get(KEY)) == bundles.key(v + 1):
        hand += "; the next source change was written to that copy"
    elif after.get(KEY) == HAND_EDIT:
        hand += "; the next source change left that copy as edited (conflict)"
    own_key = f"{own_key} after the next source change"

    api.kubectl("-n", src, "delete", "configmap", NAME)
    time.sleep(settle)
    copies = [read_copy(api, ns) for ns in rest]
    kept = sum(1 for d in copies if d is not None and cert_set(d.get(KEY)) == bundles.key(v + 1))
    gone = sum(1 for d in copies if d is None)
    emptied = len(copies) - kept - gone
    deleted = f"{settle} s later: {kept} of {len(copies)} copies kept the last bundle"
    deleted += f", {gone} deleted" if gone else ""
    deleted += f", {emptied} changed" if emptied else ""
    return dict(hand=hand, own=own_key, deleted=deleted)


def run_small(api, tool, size, bundles, work):
    """The small phase of one tool; everything it made is removed after it."""
    ns = layout(tool, size)
    out = {"load": os.getloadavg()[0]}
    run, obs, out["small"] = fan_out(api, tool, ns["src_small"], ns["sel_small"], ns["small"], bundles,
                                     size["timeout"], os.path.join(work, f"{tool.key}-small.log"))
    try:
        out["prop"] = propagation(api, run, obs, ns["src_small"], ns["small"], bundles, size["changes"], size["timeout"])
        log(f"{tool.title}: propagation p99 {pct(out['prop']['latencies'], 99):.0f} ms")
        out["late"] = labelled_later(api, obs, ns["late"], ns["sel_small"], bundles.key(size["changes"]), size["timeout"])
        out["quiet"] = quiet_writes(api, size["quiet"])
        out["behaviour"] = behaviour(api, obs, ns["src_small"], ns["small"], bundles, size["changes"],
                                     size["settle"], size["timeout"])
    finally:
        run.stop()
        obs.stop()
    out["reconnects"] = obs.reconnects
    if tool.floor:
        out["floor"] = put_floor(api, ns["small"], bundles, size["changes"], CMSYNC_CONCURRENCY)
    tool.clean_up(api)
    delete_copies(api, ns["small"] + [ns["late"]])
    return out


def run_large(api, tool, size, bundles, work, r):
    """Round r of the large phase of one tool (a new process); its copies are removed after."""
    ns = layout(tool, size)
    run, obs, figures = fan_out(api, tool, ns["src_large"][r], ns["sel_large"][r], ns["large"][r], bundles,
                                size["timeout"], os.path.join(work, f"{tool.key}-large{r + 1}.log"))
    figures["load"] = os.getloadavg()[0]
    run.stop()
    obs.stop()
    figures["reconnects"] = obs.reconnects
    tool.clean_up(api)
    delete_copies(api, ns["large"][r])
    return figures


def run_all(api, tools, size, bundles, work):
    """Each tool's small phase in turn; then the large phase's rounds, the tools taking turns.
    Per tool: its figures, "large" being the median round (by the time to every copy)."""
    res = {t.key: run_small(api, t, size, bundles, work) for t in tools}
    rounds = {t.key: [] for t in tools}
    for r in range(size["rounds"]):
        for t in tools:
            if r < large_rounds(t, size):
                rounds[t.key].append(run_large(api, t, size, bundles, work, r))
    for t in tools:
        by_time = sorted(rounds[t.key], key=lambda f: f["last"])
        res[t.key]["large"] = by_time[(len(by_time) - 1) // 2]
        res[t.key]["rounds"] = [f["last"] for f in rounds[t.key]]
        res[t.key]["round_loads"] = [f["load"] for f in rounds[t.key]]
        res[t.key]["reconnects"] += sum(f["reconnects"] for f in rounds[t.key])
    return res


# --- the table -----------------------------------------------------------------------------------

def pct(values, p):
    """Nearest rank: p99 of 20 values is the largest."""
    s = sorted(values)
    return s[max(0, -(-len(s) * p // 100) - 1)]


def ratio(a, b):
    return f"{a / b:.2f}" if b else "n/a"


def table(tools, res, size):
    cm, _, tml = (res[t.key] for t in tools)
    head = ["scenario", *(t.title for t in tools), "ratio / goal"]
    rows = []

    def row(name, fn, note):
        rows.append([name, *(fn(res[t.key]) for t in tools), note])

    for phase, n in (("small", size["small"]), ("large", size["large"])):
        row(f"fan-out to {n} namespaces, from the process's start: first copy / every copy (s)",
            lambda r, p=phase: f"{r[p]['first']:.2f} / {r[p]['last']:.2f}" + (
                f" (median of {len(r['rounds'])}: {', '.join(f'{x:.2f}' for x in r['rounds'])})"
                if p == "large" and len(r["rounds"]) > 1 else ""),
            f"no limit / cmsync {ratio(tml[phase]['last'], cm[phase]['last'])}x"
            + (" (goal >= 3)" if phase == "large" else ""))
    row(f"fan-out: peak RSS MiB; CPU s of the tool (at {size['small']}, at {size['large']})",
        lambda r: f"{r['small']['rss'] / 1024:.1f}, {r['large']['rss'] / 1024:.1f}; "
                  f"{r['small']['cpu']:.2f}, {r['large']['cpu']:.2f}",
        f"cmsync / no limit at {size['large']}: RSS {ratio(cm['large']['rss'], tml['large']['rss'])}x, "
        f"CPU {ratio(cm['large']['cpu'], tml['large']['cpu'])}x (goal <= 0.4)")
    row(f"fan-out to {size['large']}: CPU s of kube-apiserver + etcd (ms per copy); API requests; writes",
        lambda r: f"{r['large']['server']:.2f} ({r['large']['server'] * 1000 / size['large']:.1f}); "
                  f"{r['large']['requests']}; {r['large']['writes']}",
        f"server CPU per copy: cmsync / no limit {ratio(cm['large']['server'], tml['large']['server'])}x")
    row(f"propagation of a source change to {size['small']} copies, {size['changes']} changes: p50 / p99 (ms)",
        lambda r: f"{pct(r['prop']['latencies'], 50):.0f} / {pct(r['prop']['latencies'], 99):.0f}",
        f"p99 no limit / cmsync {ratio(pct(tml['prop']['latencies'], 99), pct(cm['prop']['latencies'], 99))}x (goal >= 3)")
    floor = cm["floor"]
    rows.append([f"propagation floor: the same {size['small']} copies PUT by one curl, {CMSYNC_CONCURRENCY} at once, "
                 f"{size['changes']} rounds: p50 / p99 (ms)",
                 f"{pct(floor, 50):.0f} / {pct(floor, 99):.0f}", "", "",
                 f"cmsync p99 / floor p99 {ratio(pct(cm['prop']['latencies'], 99), pct(floor, 99))}x"])
    row(f"propagation: CPU s of the tool over the {size['changes']} changes; peak RSS MiB "
        "(at the end: anonymous + file-backed)",
        lambda r: f"{r['prop']['cpu']:.2f}; {r['prop']['rss'] / 1024:.1f} "
                  f"({r['prop']['split'][0] / 1024:.1f} + {r['prop']['split'][1] / 1024:.1f})",
        f"cmsync / no limit: CPU {ratio(cm['prop']['cpu'], tml['prop']['cpu'])}x, "
        f"RSS {ratio(cm['prop']['rss'], tml['prop']['rss'])}x (goal <= 0.4), "
        f"anonymous {ratio(cm['prop']['split'][0], tml['prop']['split'][0])}x")
    row("propagation: CPU s of kube-apiserver + etcd (ms per copy written); writes",
        lambda r: f"{r['prop']['server']:.2f} ({r['prop']['server'] * 1000 / max(1, r['prop']['cm_writes']):.1f}); "
                  f"{r['prop']['writes']}",
        f"cmsync / no limit {ratio(cm['prop']['server'], tml['prop']['server'])}x")
    row("a namespace labelled later: until its copy holds the bundle (ms)",
        lambda r: "never" if r["late"] is None else f"{r['late']:.0f}",
        f"no limit / cmsync {ratio(tml['late'] or 0, cm['late'] or 0)}x")
    row(f"writes in {size['quiet']} quiet seconds (audit log, every resource)", lambda r: r["quiet"], "goal: 0")
    row("a hand edit of ca.crt in one copy (kubectl patch)", lambda r: r["behaviour"]["hand"], "")
    row("a key of the copy's own (local.conf)", lambda r: r["behaviour"]["own"], "")
    row("the source ConfigMap deleted", lambda r: r["behaviour"]["deleted"], "")
    row(f"the machine: 1-minute load average as the small phase started; after each large round ({os.cpu_count()} cores)",
        lambda r: f"{r['load']:.1f}; {', '.join(f'{x:.1f}' for x in r['round_loads'])}",
        "the same machine ran other work: read the ratios")
    row("the observer's watch opened again (its replayed events arrive late)", lambda r: f"{r['reconnects']}",
        "goal: 0")
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def versions(tools, res, work, pin):
    k8s = json.loads(subprocess.run(["kubectl", "version", "-o", "json"], capture_output=True, text=True).stdout)
    cmsync = subprocess.run(["kubectl-cmsync", "version"], capture_output=True, text=True).stdout.strip()
    go = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.split()[2]
    lines = [f"- kube-apiserver {k8s['serverVersion']['gitVersion']}; {cmsync}; trust-manager {pin} "
             f"(its Go module, built with {go}; tests/tools/trust-manager/build)."]
    for t in tools:
        lines.append(f"- {t.title}: `{shown_argv(res[t.key]['small']['argv'], work)}`")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--trust-manager", required=True, help="the directory tests/tools/trust-manager/build printed")
    ap.add_argument("--version", required=True, help="trust-manager's pinned version")
    ap.add_argument("--svg", required=True, help="where to draw the propagation latency of every update")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=N",
                    help=f"another size, to look closer ({', '.join(FULL)})")
    a = ap.parse_args()
    size = dict(SMOKE if a.smoke else FULL)
    for kv in a.set:
        key, _, value = kv.partition("=")
        if key not in FULL:
            ap.error(f"--set: unknown size {key!r}")
        size[key] = int(value)
    work = tempfile.mkdtemp(prefix="cmsync-peers.")
    try:
        measure(a, size, work)
    except BaseException:
        log(f"failed; the tools' logs are kept in {work}")
        raise
    shutil.rmtree(work, ignore_errors=True)


def measure(a, size, work):
    api = Api(os.environ["CMSYNC_CLUSTER_DIR"], work)
    api.kubectl("apply", "-f", os.path.join(a.trust_manager, "bundles.crd.yaml"))
    api.kubectl("wait", "--for=condition=Established", "crd/bundles.trust.cert-manager.io", "--timeout=60s")
    kubeconfig = service_account_kubeconfig(api)
    certs = make_certificates(size["certs"] + size["changes"] + 2, work)
    bundles = Bundles(certs, size["certs"])
    log(f"bundle of {size['certs']} certificates, {len(bundles.text(0))} bytes")
    tools = [Cmsync(kubeconfig),
             TrustManager("tm", "trust-manager (defaults)", os.path.join(a.trust_manager, "trust-manager"),
                          kubeconfig, work, 1),
             TrustManager("tml", "trust-manager (no client limit)",
                          os.path.join(a.trust_manager, "trust-manager-no-client-limit"), kubeconfig, work, 99)]
    create_namespaces(api, tools, size)
    time.sleep(SETTLE)
    res = run_all(api, tools, size, bundles, work)
    print("\n".join(table(tools, res, size)))
    print()
    print("\n".join(versions(tools, res, work, a.version)))
    peers_svg.write(a.svg, f"A source change reaching {size['small']} copies (ms, log scale)", "update",
                    [(t.title, res[t.key]["prop"]["latencies"]) for t in tools])
    log(f"drew {a.svg}")


if __name__ == "__main__":
    main()
