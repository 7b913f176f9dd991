#!/usr/bin/env python3
"""Soak test for `kubectl cmsync watch` (issue 17): a seeded random mix of operations and faults
against a real control plane, then a checker that knows nothing of cmsync's code.

Every read and write of the driver and the checker goes through kubectl (as the cluster admin);
the checker uses the driver's history (JSON lines), kubectl reads, the apiserver's audit log and
the watcher's own log. See tests/soak/README.md for the model of what is expected.

Usage (tests/soak/run sets this up): soak.py --minutes N --seed S --binary PATH --out DIR
with the environment of tests/cluster/up (CMSYNC_CLUSTER_DIR, CMSYNC_ADMIN_KUBECONFIG, ...).
"""
import argparse
import base64
import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime

import rule_model as rm

SRC = "soak-src"
FIXED_TARGETS = ["soak-t1", "soak-t2", "soak-t3"]
TARGET_LABEL = "soak-target=yes"
SELECTOR = "soak=yes"
NAMES = ["cfg-a", "cfg-b", "cfg-c"]
UNSELECTED = "cfg-unselected"
KEYS = ["config.yaml", "k1", "k2", "k3", "bin.dat", "app.properties"]
LOCAL_KEYS = ["local-1", "local-2", "local-3"]  # the other writer's keys; never in a source
# Secrets (issue 27): the same model for a Secret rule. Their values are compared by sha256
# digest and never written to the history, the summary or a message (only a digest prefix).
SEC_NAMES = ["sec-a", "sec-b"]
SEC_UNSELECTED = "sec-unselected"
SEC_KEYS = ["password", "token", "tls.crt", "ca.crt", "config.json"]
ALL_NAMES = NAMES + SEC_NAMES
FIELD_MANAGER = "kubectl-cmsync"
# Every Secret value the driver writes holds one of these tokens (the leak check looks for them).
SECRET_TOKEN = re.compile(rb"sec(?:-hand|-own)?-[0-9]+-[0-9a-f]+")
WATCHER_USER = "cmsync-restricted"
MAX_DYN = 6
GRANT_GRACE = 3  # s after a grant went (or a fault ended) in which a write it allowed may still land
# --mode replicas: two leader-elected `watch -f RULES` processes, each its own ServiceAccount.
LEASE_NS = "soak-system"
LEASE_NAME = "kubectl-cmsync"
REPLICAS = 2
# The throttle fault's priority level: one seat of the server's 60, so concurrent requests get 429.
APF_LEVEL = {
    "apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "PriorityLevelConfiguration",
    "metadata": {"name": "soak-tiny"},
    "spec": {"type": "Limited", "limited": {
        "nominalConcurrencyShares": 1, "lendablePercent": 0, "borrowingLimitPercent": 0,
        "limitResponse": {"type": "Reject"}}}}


def replica_user(i):
    return f"system:serviceaccount:{LEASE_NS}:soak-replica-{i}"


def is_secret(name):
    return name in SEC_NAMES or name == SEC_UNSELECTED


def resource(name):
    """The kubectl resource of a source or copy name."""
    return "secret" if is_secret(name) else "configmap"


def rules_yaml(prune):
    """The rules file of --mode replicas: the CLI mode's selection, as two rules of one file per
    kind (the CLI mode runs one watcher per kind)."""
    p = "true" if prune else "false"
    return f"""apiVersion: cmsync.io/v1alpha1
kind: SyncConfig
rules:
  - name: named
    source: {{namespace: {SRC}, selector: "{SELECTOR}"}}
    targets: {{namespaces: [{", ".join(FIXED_TARGETS)}]}}
    prune: {p}
  - name: labelled
    source: {{namespace: {SRC}, selector: "{SELECTOR}"}}
    targets: {{selector: "{TARGET_LABEL}"}}
    prune: {p}
  - name: named-secrets
    source: {{kind: Secret, namespace: {SRC}, selector: "{SELECTOR}"}}
    targets: {{namespaces: [{", ".join(FIXED_TARGETS)}]}}
    prune: {p}
  - name: labelled-secrets
    source: {{kind: Secret, namespace: {SRC}, selector: "{SELECTOR}"}}
    targets: {{selector: "{TARGET_LABEL}"}}
    prune: {p}
"""


class Slot:
    """One watcher process slot: its proxy, kubeconfig, state file, logs and current process.
    kind: what a CLI mode watcher syncs ("configmap" or "secret"); None for a replica (its
    rules file has both)."""

    def __init__(self, i, out, kind=None):
        self.i = i
        self.kind = kind
        name = "watch" if i == 0 else "watch-secret" if kind == "secret" else f"watch-{i}"
        self.out = os.path.join(out, name + ".out")
        self.err = os.path.join(out, name + ".err")
        self.state_file = os.path.join(out, "state", f"watch-{i}.json")
        self.mode_file = os.path.join(out, f"proxy-{i}.mode")
        self.proc = None
        self.proxy = None
        self.proxy_port = None
        self.kubeconfig = None
        self.user = WATCHER_USER
        self.metrics_port = None
        self.started_at = None
        self.down = False  # killed by a fault or exited, its restart pending
        self.baseline = None  # (kB, pid) after the first minute


def now():
    return time.time()


def spawn_proxy(proxy, out, tag, cluster_dir, mode_file):
    """tests/e2e/tools/tcp_proxy.py in front of a cluster's apiserver, in pass mode (writing
    `cut` or `stall` into mode_file partitions what goes through it): (process, its port)."""
    api_port = open(os.path.join(cluster_dir, "server")).read().strip().rsplit(":", 1)[1]
    open(mode_file, "w").write("pass")
    port_file = os.path.join(out, f"proxy-{tag}.port")
    p = subprocess.Popen([sys.executable, proxy, port_file, "127.0.0.1", api_port, mode_file],
                         stdout=open(os.path.join(out, f"proxy-{tag}.log"), "a"), stderr=subprocess.STDOUT)
    for _ in range(100):
        if os.path.exists(port_file):
            break
        time.sleep(0.1)
    return p, open(port_file).read().strip()


def iso_to_epoch(s):
    # 2026-11-27T16:53:12.349Z or RFC3339 with micros
    s = s.rstrip("Z")
    if "." in s:
        head, frac = s.split(".", 1)
        frac = (frac + "000000")[:6]
        s = head + "." + frac
        fmt = "%Y-%m-%dT%H:%M:%S.%f"
    else:
        fmt = "%Y-%m-%dT%H:%M:%S"
    return (datetime.strptime(s, fmt) - datetime(1970, 1, 1)).total_seconds()


def sha256(b):
    return hashlib.sha256(b).hexdigest()


class Kubectl:
    def __init__(self, kubeconfig, env_path):
        self.kubeconfig = kubeconfig
        self.env = dict(os.environ, PATH=env_path)

    def run(self, args, stdin=None, timeout=30):
        try:
            p = subprocess.run(["kubectl", "--kubeconfig", self.kubeconfig, "--request-timeout=20s"] + args,
                               input=stdin, capture_output=True, text=True, timeout=timeout, env=self.env)
            return p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            return 124, "", "timeout"

    def get_json(self, args, retries=20):
        """A read that must succeed (retried while the apiserver restarts)."""
        for _ in range(retries):
            rc, out, err = self.run(["get"] + args + ["-o", "json"])
            if rc == 0:
                return json.loads(out)
            if "NotFound" in err or "not found" in err:
                return None
            time.sleep(1)
        raise RuntimeError(f"kubectl get {' '.join(args)} kept failing: {err.strip()}")

    def obj(self, ns, name):
        """The ConfigMap or Secret `name` (a Secret with its managedFields: who set each key)."""
        extra = ["--show-managed-fields"] if is_secret(name) else []
        return self.get_json(["-n", ns, resource(name), name] + extra)


def cm_keys(obj):
    """ConfigMap content as {key: (space, value)}; binaryData values decoded to bytes."""
    out = {}
    for k, v in (obj.get("data") or {}).items():
        out[k] = ("d", v)
    for k, v in (obj.get("binaryData") or {}).items():
        out[k] = ("b", base64.b64decode(v))
    return out


def obj_keys(obj, name):
    """Content of a ConfigMap (cm_keys) or of a Secret: {key: ("s", value bytes)}, its one key space."""
    if is_secret(name):
        return {k: ("s", base64.b64decode(v)) for k, v in (obj.get("data") or {}).items()}
    return cm_keys(obj)


def text_value(name, v):
    """A text value as the model holds it in a ConfigMap's data or in a Secret."""
    return ("s", v.encode()) if is_secret(name) else ("d", v)


def digest(v):
    """What the history and messages say of a Secret value: a prefix of its sha256."""
    return "sha256:" + sha256(v)[:16]


def show(x):
    """A model value (space, value) for a message or the history: a Secret's by digest only."""
    if x is not None and x[0] == "s":
        return ("s", digest(x[1]))
    return x


def content_json(content):
    """A model content as JSON-able {key: [space, value]} (binary as base64, a Secret's as a digest)."""
    out = {}
    for k, (sp, v) in sorted(content.items()):
        out[k] = [sp, v if sp == "d" else digest(v) if sp == "s" else base64.b64encode(v).decode()]
    return out


def value_bytes(sp, v):
    return v.encode() if sp == "d" else v


class Soak:
    def __init__(self, a):
        self.a = a
        self.out = a.out
        self.cluster = os.environ["CMSYNC_CLUSTER_DIR"]
        self.bin_dir = os.environ["CMSYNC_CLUSTER_BIN"]
        self.path = self.bin_dir + ":" + os.environ.get("PATH", "")
        self.kc = Kubectl(os.environ["CMSYNC_ADMIN_KUBECONFIG"], self.path)
        self.rng = random.Random("ops:" + a.seed)
        self.frng = random.Random("faults:" + a.seed)
        self.prune = a.prune
        self.hist = open(os.path.join(self.out, "history.jsonl"), "w")
        self.seq = 0
        self.counter = 0
        self.start = now()
        # --- the model: what the driver did ---
        self.sources = {n: None for n in ALL_NAMES}      # name -> content or None
        self.source_objs = {n: None for n in ALL_NAMES}  # last object read/written (for RV)
        self.versions = {n: [] for n in ALL_NAMES}       # every content a source ever had
        self.src_deleted_at = {n: [] for n in ALL_NAMES}
        self.src_created_at = {n: [] for n in ALL_NAMES}
        self.secret_values = set()  # every Secret value the driver wrote (the leak check)
        self.hand = {}    # (ns, name) -> {key: (value, time)} since the driver last deleted the copy
        self.local = {}   # (ns, name) -> {key: value}
        self.copy_deleted_at = {}  # (ns, name) -> [times]
        self.orphan_obs = {}  # name -> {ns: exists} seen right before the last delete of the source
        self.dyn = {}     # ns -> labelled?
        self.op_counts = {}
        self.fault_counts = {}
        self.pending = []  # (time, description, callable) fault ends
        self.bg = None     # background cmsync sync/resync: (Popen, op seq, kind)
        # --mode rules: the replicas run `watch --rules-from-cluster`; the driver keeps rule
        # objects and grants in the slots of rule_model.py.
        self.rules_mode = a.mode == "rules"
        self.replicas = a.mode in ("replicas", "rules")
        self.rule_specs = {slot: None for slot in rm.SLOTS}  # slot -> spec as last applied
        self.grant_specs = {ns: None for ns in rm.GATED}
        self.grant_log = []  # (t, ns, spec or None): each grant change, when the driver began it
        self.status_checks = 0
        self.last_statuses = {}  # slot -> the status the checker last expected
        if self.replicas:
            self.slots = [Slot(i + 1, self.out) for i in range(REPLICAS)]
        else:  # one watcher per kind
            self.slots = [Slot(0, self.out, "configmap"), Slot(1, self.out, "secret")]
        self.watcher_starts = 0
        self.replica_exits = 0
        self.throttled = False
        self.stopped = False
        self.rss = []  # (t, pid, kB)

    # ---------------------------------------------------------------- history
    def record(self, op, **kw):
        self.seq += 1
        entry = {"seq": self.seq, "t": round(now(), 3), "el": round(now() - self.start, 2), "op": op}
        entry.update(kw)
        self.hist.write(json.dumps(entry, sort_keys=True) + "\n")
        self.hist.flush()
        return entry

    def count(self, table, key):
        table[key] = table.get(key, 0) + 1

    def unique(self, prefix):
        self.counter += 1
        return f"{prefix}-{self.counter}-{self.rng.randrange(1 << 30):x}"

    # ---------------------------------------------------------------- setup
    def kubectl_ok(self, args, stdin=None, kc=None):
        """A kubectl command that must succeed (retried while the apiserver restarts); kc: the
        cluster's kubectl (--mode members), else the hub's."""
        for _ in range(30):
            rc, out, err = (kc or self.kc).run(args, stdin=stdin)
            if rc == 0:
                return out
            if "AlreadyExists" in err:
                return out
            time.sleep(1)
        raise RuntimeError(f"kubectl {' '.join(args)}: {err.strip()}")

    def setup(self):
        for ns in [SRC] + FIXED_TARGETS:
            self.kubectl_ok(["create", "namespace", ns])
        # A ConfigMap the selection does not pick: never copied.
        self.kubectl_ok(["-n", SRC, "create", "configmap", UNSELECTED, "--from-literal=x=never-copied"])
        self.kubectl_ok(["-n", SRC, "create", "secret", "generic", SEC_UNSELECTED, "--from-literal=x=never-copied"])
        # The watcher runs as the restricted user (so APF can single it out), with full rights.
        self.kubectl_ok(["create", "clusterrolebinding", "soak-watcher", "--clusterrole=cluster-admin",
                         f"--user={WATCHER_USER}"])
        self.kubectl_ok(["create", "-f", "-"], stdin=json.dumps(APF_LEVEL))
        # Initial sources.
        for n in NAMES[:2] + SEC_NAMES[:1]:
            self.op_source_create(n)
        if self.replicas:
            self.setup_replicas()
        if self.rules_mode:
            self.setup_rules()
        for slot in self.slots:
            self.start_proxy(slot)
            if not self.replicas:
                self.restricted_kubeconfig(slot)
        os.makedirs(os.path.join(self.out, "state"), mode=0o700, exist_ok=True)
        for slot in self.slots:
            self.start_watcher(slot)
        self.record("setup", prune=self.prune, seed=self.a.seed, minutes=self.a.minutes)

    def setup_replicas(self):
        """Two ServiceAccounts (one identity per replica in the audit log) and the rules file."""
        self.kubectl_ok(["create", "namespace", LEASE_NS])
        self.rules_file = os.path.join(self.out, "rules.yaml")
        if not self.rules_mode:
            with open(self.rules_file, "w") as f:
                f.write(rules_yaml(self.prune))
        template = open(os.environ["CMSYNC_RESTRICTED_KUBECONFIG"]).read()
        ca = re.search(r"certificate-authority: (\S+)", template).group(1)
        for slot in self.slots:
            sa = f"soak-replica-{slot.i}"
            self.kubectl_ok(["-n", LEASE_NS, "create", "serviceaccount", sa])
            self.kubectl_ok(["create", "clusterrolebinding", f"soak-{sa}", "--clusterrole=cluster-admin",
                             f"--serviceaccount={LEASE_NS}:{sa}"])
            token = self.kubectl_ok(["-n", LEASE_NS, "create", "token", sa, "--duration=12h"]).strip()
            slot.user = replica_user(slot.i)
            slot.kubeconfig = os.path.join(self.out, f"watcher-{slot.i}.kubeconfig")
            with open(slot.kubeconfig, "w") as f:
                f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: soak
  cluster: {{server: "https://127.0.0.1:0", certificate-authority: {ca}}}
contexts:
- name: soak
  context: {{cluster: soak, user: {sa}}}
current-context: soak
users:
- name: {sa}
  user: {{token: {token}}}
""")
            os.chmod(slot.kubeconfig, 0o600)
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                slot.metrics_port = sock.getsockname()[1]

    def setup_rules(self):
        """--mode rules: the CRDs, the gated namespaces, every rule slot filled and one grant."""
        for ns in rm.GATED:
            self.kubectl_ok(["create", "namespace", ns])
            self.kubectl_ok(["label", "namespace", ns, rm.GATED_LABEL])
        self.kubectl_ok(["apply", "-f", os.path.join(self.a.root, "deploy", "crds")])
        self.kubectl_ok(["wait", "--for", "condition=established", "--timeout=60s", "crd/clustersyncrules.cmsync.io",
                         "crd/syncrules.cmsync.io", "crd/syncgrants.cmsync.io"])
        for slot in rm.SLOTS:
            self.op_rule_apply(slot)
        self.op_grant_apply(rm.GATED[0], {"from": [{"namespace": SRC}]})

    def rule_names(self, slot):
        return SEC_NAMES if rm.SLOTS[slot][1] == "Secret" else NAMES

    def op_rule(self):
        """A rule slot created, edited (targets, selection or keys) or deleted; or a grant."""
        slots = sorted(rm.SLOTS) + [f"grant:{ns}" for ns in rm.GATED]
        slot = self.rng.choice(slots)
        if slot.startswith("grant:"):
            ns = slot.split(":", 1)[1]
            if self.grant_specs[ns] is not None and self.rng.random() < 0.35:
                return self.op_grant_delete(ns)
            return self.op_grant_apply(ns)
        if self.rule_specs[slot] is not None and self.rng.random() < 0.15:
            return self.op_rule_delete(slot)
        return self.op_rule_apply(slot)

    def op_rule_apply(self, slot):
        spec = rm.random_spec(slot, self.rng, self.rule_names(slot), KEYS, self.prune, self.rule_specs[slot],
                              dyn=self.dyn)
        t0 = now()
        rc, out, err = self.kc.run(["apply", "-f", "-"], stdin=json.dumps(rm.manifest(slot, spec)))
        ok = rc == 0
        if not ok:  # whatever happened, the model follows the truth (the checker reads it anyway)
            got = self.kc.get_json(self.rule_ref(slot))
            spec = got["spec"] if got else None
        self.rule_specs[slot] = spec
        self.count(self.op_counts, "rule-apply")
        self.record("rule-apply", slot=slot, spec=spec, ok=ok, t0=t0, err=err.strip()[:200] or None)

    def rule_ref(self, slot):
        ref = [rm.resource(slot), slot]
        return ref + ["-n", SRC] if rm.SLOTS[slot][0] == "SyncRule" else ref

    def op_rule_delete(self, slot):
        t0 = now()
        rc, out, err = self.kc.run(["delete"] + self.rule_ref(slot))
        got = self.kc.get_json(self.rule_ref(slot))
        self.rule_specs[slot] = got["spec"] if got else None
        self.count(self.op_counts, "rule-delete")
        self.record("rule-delete", slot=slot, ok=got is None, t0=t0, err=err.strip()[:200] or None)

    def op_grant_apply(self, ns, spec=None):
        spec = spec or rm.random_grant(self.rng, {"ConfigMap": NAMES, "Secret": SEC_NAMES})
        t0 = now()
        rc, out, err = self.kc.run(["apply", "-f", "-"], stdin=json.dumps(rm.grant_manifest(ns, spec)))
        got = self.kc.get_json(["-n", ns, "syncgrant", "from-src"])
        self.note_grant(ns, got["spec"] if got else None, t0)
        self.count(self.op_counts, "grant-apply")
        self.record("grant-apply", ns=ns, spec=spec, ok=rc == 0, t0=t0, err=err.strip()[:200] or None)

    def op_grant_delete(self, ns):
        t0 = now()
        rc, out, err = self.kc.run(["-n", ns, "delete", "syncgrant", "from-src"])
        got = self.kc.get_json(["-n", ns, "syncgrant", "from-src"])
        self.note_grant(ns, got["spec"] if got else None, t0)
        self.count(self.op_counts, "grant-delete")
        self.record("grant-delete", ns=ns, ok=got is None, t0=t0, err=err.strip()[:200] or None)

    def note_grant(self, ns, spec, t0):
        """A grant as it now is, from when the driver began the change (the server stores it
        during the call: a write the grant allows cannot come before that)."""
        if spec != self.grant_specs[ns]:
            self.grant_log.append((t0, ns, spec))
        self.grant_specs[ns] = spec

    def start_proxy(self, slot):
        """A proxy of its own between each watcher process and the apiserver (cut/stall one)."""
        slot.proxy, slot.proxy_port = spawn_proxy(self.a.proxy, self.out, slot.i, self.cluster, slot.mode_file)
        if slot.kubeconfig:
            self.point_kubeconfig(slot)

    def restricted_kubeconfig(self, slot):
        """A CLI mode watcher: the restricted user's kubeconfig, through the slot's proxy."""
        slot.kubeconfig = os.path.join(self.out, f"watcher-{slot.i}.kubeconfig" if slot.i else "watcher.kubeconfig")
        with open(slot.kubeconfig, "w") as f:
            f.write(open(os.environ["CMSYNC_RESTRICTED_KUBECONFIG"]).read())
        os.chmod(slot.kubeconfig, 0o600)
        self.point_kubeconfig(slot)

    def point_kubeconfig(self, slot):
        text = open(slot.kubeconfig).read()
        text = re.sub(r"server: \"?https://127\.0\.0\.1:[0-9]+\"?", f"server: https://127.0.0.1:{slot.proxy_port}", text)
        with open(slot.kubeconfig, "w") as f:
            f.write(text)

    def watcher_cmd(self, slot):
        if self.rules_mode:
            # No --state-file: README "Rules as objects" says the counts of a resumed rule fill in
            # only as copies are next planned, and the status counts are an invariant here.
            return [self.a.binary, "watch", "--rules-from-cluster", "--leader-elect",
                    "--leader-elect-namespace", LEASE_NS, "--leader-elect-name", LEASE_NAME,
                    "--record-events", "--metrics-bind-address", f"127.0.0.1:{slot.metrics_port}",
                    "--log-format", "json", "--kubeconfig", slot.kubeconfig]
        if self.replicas:
            return [self.a.binary, "watch", "-f", self.rules_file, "--leader-elect",
                    "--leader-elect-namespace", LEASE_NS, "--leader-elect-name", LEASE_NAME,
                    "--state-file", slot.state_file, "--record-events",
                    "--metrics-bind-address", f"127.0.0.1:{slot.metrics_port}",
                    "--log-format", "json", "--kubeconfig", slot.kubeconfig]
        cmd = [self.a.binary, "watch", SRC] + FIXED_TARGETS + [
            "--target-selector", TARGET_LABEL, "-l", SELECTOR, "--state-file", slot.state_file,
            "--log-format", "json", "--kubeconfig", slot.kubeconfig]
        if slot.kind == "secret":
            cmd += ["--kind", "secret"]
        if self.prune:
            cmd.append("--prune")
        return cmd

    def start_watcher(self, slot):
        env = dict(os.environ, PATH=self.path)
        if self.replicas:
            env["POD_NAME"] = f"soak-replica-{slot.i}"
        slot.proc = subprocess.Popen(self.watcher_cmd(slot), stdout=open(slot.out, "a"), stderr=open(slot.err, "a"),
                                     env=env)
        self.watcher_starts += 1
        slot.down = False
        slot.started_at = now()
        self.record("watcher-start", slot=slot.i, pid=slot.proc.pid)

    def leader_slot(self):
        """The slot whose identity holds the Lease now (kubectl), else None."""
        try:
            lease = self.kc.get_json(["-n", LEASE_NS, "lease", LEASE_NAME], retries=3) if self.replicas else None
        except RuntimeError:  # the apiserver is restarting
            lease = None
        holder = ((lease or {}).get("spec") or {}).get("holderIdentity") or ""
        for slot in self.slots:
            if holder.startswith(f"soak-replica-{slot.i}_"):
                return slot
        return None

    # ---------------------------------------------------------------- source operations
    def write_source(self, name, content, create=False):
        obj = {"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": SRC, "labels": {"soak": "yes"}}}
        data = {k: v for k, (sp, v) in content.items() if sp == "d"}
        binary = {k: base64.b64encode(v).decode() for k, (sp, v) in content.items() if sp == "b"}
        if is_secret(name):
            obj["kind"], obj["type"] = "Secret", "Opaque"
            data = {k: base64.b64encode(v).decode() for k, (sp, v) in content.items()}
        if data:
            obj["data"] = data
        if binary:
            obj["binaryData"] = binary
        if not create:
            obj["metadata"]["resourceVersion"] = self.source_objs[name]["metadata"]["resourceVersion"]
        t0 = now()
        rc, out, err = self.kc.run(["create" if create else "replace", "-o", "json", "-f", "-"], stdin=json.dumps(obj))
        if rc == 0:
            got = json.loads(out)
        else:
            got = self.kc.obj(SRC, name)  # whatever happened, the model follows the truth
        self.source_objs[name] = got
        self.sources[name] = obj_keys(got, name) if got else None
        if got:
            self.versions[name].append(self.sources[name])
        return rc == 0, t0, err.strip()[:200]

    def secret_value(self, prefix, binary=True):
        """A Secret value: a unique token (the leak check looks for it), at times binary bytes after it."""
        v = self.unique(prefix).encode()
        if binary and self.rng.random() < 0.3:
            v += bytes([0, 255, 128, self.rng.randrange(256)])
        self.secret_values.add(v)
        return v

    def op_source_create(self, name):
        content = {}
        for k in self.rng.sample(SEC_KEYS if is_secret(name) else KEYS, self.rng.randint(1, 4)):
            content[k] = self.new_value(k, name)
        ok, t0, err = self.write_source(name, content, create=True)
        if ok:
            self.src_created_at[name].append(t0)
        self.record("source-create", name=name, ok=ok, t0=t0, content=content_json(content), err=err or None)

    def new_value(self, key, name):
        if is_secret(name):
            return ("s", self.secret_value("sec"))
        if key.endswith(".dat") or self.rng.random() < 0.15:
            raw = self.unique("bin").encode() + bytes([0, 255, 128, self.rng.randrange(256)])
            return ("b", raw)
        return ("d", self.unique("v") + ("\nline2: x" if self.rng.random() < 0.3 else ""))

    def op_source_edit(self, name):
        content = dict(self.sources[name])
        # A Secret has one key space: nothing to move.
        kind = self.rng.choice(["add", "modify", "modify", "remove"] + ([] if is_secret(name) else ["move"]))
        absent = [k for k in (SEC_KEYS if is_secret(name) else KEYS) if k not in content]
        present = sorted(content)
        if kind == "add" and absent:
            k = self.rng.choice(absent)
            content[k] = self.new_value(k, name)
        elif kind == "modify" and present:
            k = self.rng.choice(present)
            sp, _ = content[k]
            if sp == "s":
                content[k] = ("s", self.secret_value("sec"))
            else:
                content[k] = ("d", self.unique("v")) if sp == "d" else ("b", self.unique("bin").encode() + b"\x00\xff")
        elif kind == "remove" and present:
            k = self.rng.choice(present)
            del content[k]
        elif kind == "move" and present:
            k = self.rng.choice(present)
            sp, v = content[k]
            content[k] = ("b", v.encode()) if sp == "d" else ("d", self.unique("moved"))
            # a binary value that is not UTF-8 cannot move to data as is: it gets a new text value
        else:
            kind, k = "noop", None
            return
        ok, t0, err = self.write_source(name, content)
        self.record("source-" + kind, name=name, key=k, ok=ok, t0=t0,
                    content=content_json(self.sources[name] or {}), err=err or None)

    def op_source_delete(self, name):
        # What copies exist right now (the checker expects each of them to stay as an orphan).
        obs = {}
        for ns in self.targets():
            obj = self.kc.obj(ns, name)
            obs[ns] = obj is not None
        t0 = now()
        rc, out, err = self.kc.run(["-n", SRC, "delete", resource(name), name])
        got = self.kc.obj(SRC, name)
        ok = got is None
        if ok:
            self.sources[name] = None
            self.source_objs[name] = None
            self.src_deleted_at[name].append(t0)
            self.orphan_obs[name] = {"t": t0, "copies": obs}
        self.record("source-delete", name=name, ok=ok, t0=t0, copies_seen=obs, err=err.strip()[:200] or None)

    # ---------------------------------------------------------------- copy operations
    def targets(self):
        """Where copies may be: with rules, the gated namespaces too (while a grant consents)."""
        gated = rm.GATED if self.rules_mode else []
        return FIXED_TARGETS + sorted(ns for ns, lab in self.dyn.items() if lab) + gated

    def managed_record(self, obj, name):
        """The keys a copy's record names: a ConfigMap's last-synced (key -> hash), a Secret's
        managed-keys (a JSON array); None when unreadable."""
        ann = obj["metadata"].get("annotations") or {}
        try:
            if is_secret(name):
                keys = json.loads(ann.get("cmsync.io/managed-keys", "[]"))
                return keys if isinstance(keys, list) and all(isinstance(k, str) for k in keys) else None
            recorded = json.loads(ann.get("cmsync.io/last-synced", "{}"))
            return recorded if isinstance(recorded, dict) else None
        except ValueError:
            return None

    def op_hand_edit(self):
        ns, name = self.rng.choice(self.targets()), self.rng.choice(ALL_NAMES)
        obj = self.kc.obj(ns, name)
        if obj is None:
            return self.record("hand-edit", ns=ns, name=name, ok=False, why="no copy")
        managed = sorted(self.managed_record(obj, name) or [])
        present = obj_keys(obj, name)
        candidates = [k for k in managed if k in present]
        if not candidates:
            return self.record("hand-edit", ns=ns, name=name, ok=False, why="no managed key present")
        k = self.rng.choice(candidates)
        if is_secret(name):
            # A Secret has no hash in its record: the key moves to kubectl's field manager
            # (managedFields), which makes it a conflict for cmsync as a changed hash would.
            v = self.secret_value("sec-hand", binary=False).decode()
            obj["data"][k] = base64.b64encode(v.encode()).decode()
            obj["metadata"].pop("managedFields", None)  # left as they are by the server
        else:
            v = self.unique("hand")
            obj.setdefault("data", {})[k] = v
            if k in (obj.get("binaryData") or {}):
                del obj["binaryData"][k]
        t0 = now()
        # A replace carries the resourceVersion read: it succeeds only if the copy is unchanged,
        # so at the moment of the write the key was managed (in the record) with the value read.
        rc, out, err = self.kc.run(["-n", ns, "replace", "-f", "-"], stdin=json.dumps(obj))
        ok = rc == 0
        if ok:
            self.hand.setdefault((ns, name), {})[k] = (v, t0)
        self.record("hand-edit", ns=ns, name=name, key=k, value=show(text_value(name, v))[1], ok=ok, t0=t0,
                    rv_read=obj["metadata"]["resourceVersion"], err=err.strip()[:200] or None)

    def op_local(self):
        ns, name = self.rng.choice(self.targets()), self.rng.choice(ALL_NAMES)
        k = self.rng.choice(LOCAL_KEYS)
        cur = self.local.get((ns, name), {})
        delete = k in cur and self.rng.random() < 0.25
        if delete:
            v = None
        elif is_secret(name):
            v = self.secret_value("sec-own", binary=False).decode()
        else:
            v = self.unique("own")
        sent = base64.b64encode(v.encode()).decode() if v is not None and is_secret(name) else v
        t0 = now()
        rc, out, err = self.kc.run(["-n", ns, "patch", resource(name), name, "--type", "merge",
                                    "-p", json.dumps({"data": {k: sent}})])
        ok = rc == 0
        if not ok and "NotFound" not in err:
            # Unknown outcome: look.
            obj = self.kc.obj(ns, name)
            ok = obj is not None and (obj.get("data") or {}).get(k) == sent
        if ok:
            d = self.local.setdefault((ns, name), {})
            if v is None:
                d.pop(k, None)
            else:
                d[k] = v
        self.record("local-delete" if delete else "local-set", ns=ns, name=name, key=k,
                    value=None if v is None else show(text_value(name, v))[1], ok=ok, t0=t0,
                    err=err.strip()[:200] or None)

    def op_copy_delete(self):
        ns, name = self.rng.choice(self.targets()), self.rng.choice(ALL_NAMES)
        t0 = now()
        rc, out, err = self.kc.run(["-n", ns, "delete", resource(name), name])
        ok = rc == 0
        if ok or "NotFound" in err:
            self.hand.pop((ns, name), None)
            self.local.pop((ns, name), None)
            self.copy_deleted_at.setdefault((ns, name), []).append(t0)
        self.record("copy-delete", ns=ns, name=name, ok=ok, t0=t0, err=err.strip()[:200] or None)

    def op_namespace(self):
        unlabelled = sorted(ns for ns, lab in self.dyn.items() if not lab)
        if unlabelled and (len(self.dyn) >= MAX_DYN or self.rng.random() < 0.5):
            ns = self.rng.choice(unlabelled)
            self.kubectl_ok(["label", "namespace", ns, TARGET_LABEL])
            self.dyn[ns] = True
            return self.record("ns-label", ns=ns, ok=True)
        if len(self.dyn) >= MAX_DYN:
            return
        ns = f"soak-dyn-{len(self.dyn) + 1}"
        labelled = self.rng.random() < 0.5
        self.kubectl_ok(["create", "namespace", ns])
        if labelled:
            self.kubectl_ok(["label", "namespace", ns, TARGET_LABEL])
        self.dyn[ns] = labelled
        self.record("ns-create", ns=ns, labelled=labelled, ok=True)

    def op_cmsync_run(self):
        if self.bg is not None and self.bg[0].poll() is None:
            return
        self.reap_bg()
        kind = self.rng.choice(["sync", "resync"])
        # The rules file has both kinds; a command line names one (the CLI mode's watchers').
        what = self.rng.choice(["configmap", "secret"])
        if kind == "sync" and self.replicas and not self.rules_mode:
            cmd = [self.a.binary, "sync", "-f", self.rules_file]
        elif kind == "sync":  # with rule objects, into the fixed targets (a ClusterSyncRule's)
            cmd = [self.a.binary, "sync", SRC] + FIXED_TARGETS + ["--target-selector", TARGET_LABEL, "-l", SELECTOR,
                                                                  "--kind", what]
        else:
            cmd = [self.a.binary, "resync"] + self.targets() + ["--kind", what]
            if self.prune:
                cmd.append("--prune")
        cmd += ["--kubeconfig", os.environ["CMSYNC_ADMIN_KUBECONFIG"]]
        log = open(os.path.join(self.out, "cmsync-runs.log"), "a")
        log.write(f"--- seq {self.seq + 1}: {' '.join(cmd[1:])}\n")
        log.flush()
        p = subprocess.Popen(cmd, stdout=log, stderr=log, env=dict(os.environ, PATH=self.path))
        e = self.record("cmsync-" + kind, args=cmd[1:-2], pid=p.pid)
        self.bg = (p, e["seq"], kind)

    def reap_bg(self, wait=False):
        if self.bg is None:
            return
        p, seq, kind = self.bg
        if wait:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p.poll() is not None:
            self.record("cmsync-" + kind + "-done", of=seq, rc=p.returncode)
            self.bg = None

    # ---------------------------------------------------------------- faults
    def fault(self):
        choices = ["proxy-cut", "proxy-stall", "compact", "watcher-stop", "watcher-kill", "apiserver-kill",
                   "throttle", "stop-compact"]
        f = self.frng.choice(choices)
        el = now() - self.start
        if f in ("watcher-kill",) and (el < 70 or el > 0.75 * self.a.minutes * 60):
            # The RSS baseline is taken from the first watcher after one minute, and the last
            # quarter keeps one process running, so the end RSS is of a watcher that has worked.
            f = "compact"
        if any(d == f or d.split(":")[0] == f for _, d, _ in self.pending):
            return
        busy = {d.split(":")[0] for _, d, _ in self.pending}
        if f in ("watcher-stop", "stop-compact", "watcher-kill") and busy & {"watcher-stop", "stop-compact", "watcher-kill"}:
            return
        if f in ("proxy-cut", "proxy-stall") and busy & {"proxy-cut", "proxy-stall"}:
            return
        self.count(self.fault_counts, f)
        slot = self.fault_slot()
        if f == "proxy-cut" or f == "proxy-stall":
            # A stall of more than 10 s (the renew deadline) makes a leader exit: a partition.
            d = self.frng.uniform(1, 8 if f == "proxy-cut" else 15)
            open(slot.mode_file, "w").write(f.split("-")[1])
            self.record("fault", fault=f, seconds=round(d, 1), slot=slot.i)
            self.pending.append((now() + d, f, lambda: open(slot.mode_file, "w").write("pass")))
        elif f == "compact":
            rev = subprocess.run([os.path.join(self.a.root, "tests/cluster/compact"), self.cluster],
                                 capture_output=True, text=True).stdout.strip()
            self.record("fault", fault=f, revision=rev)
        elif f == "watcher-stop" or f == "stop-compact":
            d = self.frng.uniform(1, 10)
            proc = slot.proc
            proc.send_signal(signal.SIGSTOP)
            self.record("fault", fault=f, seconds=round(d, 1), pid=proc.pid, slot=slot.i)

            def cont(compact=(f == "stop-compact")):
                if compact:
                    rev = subprocess.run([os.path.join(self.a.root, "tests/cluster/compact"), self.cluster],
                                         capture_output=True, text=True).stdout.strip()
                    self.record("fault", fault="compact", revision=rev, during="stop-compact")
                proc.send_signal(signal.SIGCONT)
            self.pending.append((now() + d, f, cont))
        elif f == "watcher-kill":
            self.sample_rss(slot)
            slot.proc.kill()
            slot.proc.wait()
            slot.down = True
            d = self.frng.uniform(0, 5)
            self.record("fault", fault=f, seconds=round(d, 1), pid=slot.proc.pid, slot=slot.i)
            self.pending.append((now() + d, f, lambda: self.start_watcher(slot)))
        elif f == "apiserver-kill":
            pid = int(open(os.path.join(self.cluster, "apiserver.pid")).read())
            os.kill(pid, signal.SIGKILL)
            while os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split()[2] != "Z":
                time.sleep(0.05)
            d = self.frng.uniform(0, 3)
            time.sleep(d)
            t0 = now()
            subprocess.run([os.path.join(self.a.root, "tests/cluster/start-apiserver"), self.cluster], check=True)
            self.record("fault", fault=f, down_seconds=round(now() - t0 + d, 1))
        elif f == "throttle":
            d = self.frng.uniform(10, 30)
            self.set_throttle(True)
            self.record("fault", fault=f, seconds=round(d, 1))
            self.pending.append((now() + d, f, lambda: self.set_throttle(False)))

    def fault_slot(self):
        """The watcher process a fault hits: in CLI mode either watcher; with two replicas,
        mostly the leader."""
        if not self.replicas:
            return self.frng.choice(self.slots)
        leader = self.leader_slot()
        other = [x for x in self.slots if x is not leader]
        if leader is not None and self.frng.random() < 0.7:
            return leader
        return self.frng.choice(other or self.slots)  # --mode members: one replica

    def set_throttle(self, on):
        if on:
            fs = {"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema",
                  "metadata": {"name": "soak-watcher"},
                  "spec": {"priorityLevelConfiguration": {"name": "soak-tiny"}, "matchingPrecedence": 100,
                           "distinguisherMethod": {"type": "ByUser"},
                           "rules": [{"subjects": [{"kind": "User", "user": {"name": u}}
                                                   for u in sorted({x.user for x in self.slots})],
                                      "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"],
                                                         "namespaces": ["*"], "clusterScope": True}],
                                      "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}]}}
            self.kubectl_ok(["create", "-f", "-"], stdin=json.dumps(fs))
        else:
            self.kubectl_ok(["delete", "flowschema", "soak-watcher", "--ignore-not-found"])
        self.throttled = on

    def end_faults(self, everything=False):
        t = now()
        keep = []
        for due, d, fn in self.pending:
            if everything or due <= t:
                fn()
                self.record("fault-end", fault=d)
            else:
                keep.append((due, d, fn))
        self.pending = keep

    def sample_rss(self, slot):
        try:
            for line in open(f"/proc/{slot.proc.pid}/status"):
                if line.startswith("VmRSS:"):
                    kb = int(line.split()[1])
                    self.rss.append((round(now() - self.start, 1), slot.i, slot.proc.pid, kb))
                    return kb
        except OSError:
            pass
        return None

    # ---------------------------------------------------------------- driver
    def step(self):
        if self.rules_mode and self.rng.random() < 0.12:
            return self.op_rule()
        r = self.rng.random()
        name = self.rng.choice(ALL_NAMES)
        if r < 0.30:
            self.op_source(name)
        elif r < 0.45:
            self.count(self.op_counts, "hand-edit")
            self.op_hand_edit()
        elif r < 0.70:
            self.count(self.op_counts, "local-write")
            self.op_local()
        elif r < 0.78:
            self.count(self.op_counts, "copy-delete")
            self.op_copy_delete()
        elif r < 0.84:
            self.count(self.op_counts, "namespace")
            self.op_namespace()
        elif r < 0.90:
            self.count(self.op_counts, "cmsync-run")
            self.op_cmsync_run()
        else:
            self.op_burst(name)

    def op_source(self, name):
        """A source created (when missing), deleted (now and then) or edited."""
        if self.sources[name] is None:
            self.count(self.op_counts, "source-create")
            self.op_source_create(name)
        elif self.rng.random() < 0.08:
            self.count(self.op_counts, "source-delete")
            self.op_source_delete(name)
        else:
            self.count(self.op_counts, "source-edit")
            self.op_source_edit(name)

    def op_burst(self, name):
        """Several quick edits of one source (coalescing)."""
        if self.sources[name] is not None:
            self.count(self.op_counts, "source-burst")
            for _ in range(self.rng.randint(2, 5)):
                self.op_source_edit(name)

    def drive(self):
        deadline = self.start + self.a.minutes * 60
        next_fault = self.start + self.frng.uniform(8, 15)
        next_rss = self.start + 60
        while now() < deadline:
            self.end_faults()
            self.reap_bg()
            if now() >= next_fault:
                self.fault()
                next_fault = now() + self.frng.uniform(4, 15)
            if now() >= next_rss:
                for slot in self.slots:
                    kb = self.sample_rss(slot)
                    if slot.baseline is None and kb is not None:
                        slot.baseline = (kb, slot.proc.pid)
                        self.record("rss-baseline", kb=kb, pid=slot.proc.pid, slot=slot.i)
                next_rss = now() + 30
            self.check_exits()
            self.step()
            time.sleep(self.rng.uniform(0, 0.3))
        self.end_faults(everything=True)
        self.reap_bg(wait=True)
        self.record("driver-end", ops=self.op_counts, faults=self.fault_counts)

    def check_exits(self):
        """A watcher that exits by itself is a failure, except a leader that lost its Lease
        (renew deadline passed in a partition, stall or apiserver restart): it must exit
        non-zero saying so, and is restarted (as the kubelet restarts a pod)."""
        for slot in self.slots:
            if slot.down or slot.proc.poll() is None:
                continue
            rc = slot.proc.returncode
            with open(slot.err, errors="replace") as f:
                # Streams keep logging their retries while the process winds down (up to its
                # 3 s stop grace), so the line saying why it exits can be well before the end.
                tail = f.read()[-65536:]
            self.record("watcher-exit", slot=slot.i, pid=slot.proc.pid, rc=rc)
            if self.replicas and rc != 0 and "lost the leader Lease" in tail:
                self.replica_exits += 1
                slot.down = True
                self.pending.append((now() + 1, f"restart:{slot.i}", lambda s=slot: self.start_watcher(s)))
                continue
            raise Violation(f"watcher {slot.i} exited by itself with code {rc}", self.seq)

    # ---------------------------------------------------------------- checker
    def audit_entries(self):
        """The audit log's ResponseComplete entries."""
        return audit_log(self.cluster)

    def watched_write(self, ref):
        """A ConfigMap or Secret, or (--mode rules) a rule's status: what a quiet cluster never writes."""
        if ref.get("resource") in ("configmaps", "secrets"):
            return True
        return self.rules_mode and ref.get("resource") in ("clustersyncrules", "syncrules") and \
            ref.get("subresource") == "status"

    def audit_writes(self, since):
        """ConfigMap and Secret writes (2xx) in the audit log at or after epoch `since`; with
        rule objects, their status writes too."""
        out = []
        for e in self.audit_entries():
            if not self.watched_write(e.get("objectRef") or {}):
                continue
            if e.get("verb") not in ("create", "update", "patch", "delete"):
                continue
            ts = iso_to_epoch(e["stageTimestamp"])
            if ts >= since and (e.get("responseStatus") or {}).get("code", 0) < 300:
                out.append(e)
        return out

    def audit_counts(self):
        c = {}
        for e in self.audit_entries():
            user = (e.get("user") or {}).get("username")
            code = (e.get("responseStatus") or {}).get("code", 0)
            k = f"{user} {e.get('verb')} {code}"
            c[k] = c.get(k, 0) + 1
        return c

    def watch_lines(self):
        """Every watcher process's action lines (with two replicas, whichever led reported)."""
        out = []
        for slot in self.slots:
            try:
                with open(slot.out) as f:
                    for line in f:
                        try:
                            e = json.loads(line)
                        except ValueError:
                            continue
                        if "time" in e and "target" in e:
                            e["epoch"] = iso_to_epoch(e["time"])
                            out.append(e)
            except OSError:
                pass
        return sorted(out, key=lambda e: e["epoch"])

    def list_objects(self, kind, extra):
        """Every object of a kind in the cluster, by (namespace, name)."""
        items = self.kc.get_json([kind, "-A"] + extra)["items"]
        return {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in items}

    def check_state(self):
        """Violations of invariants 1-3 (state part) against the cluster now; [] when all hold."""
        v = []
        by = {}
        # A Secret with its managedFields: which keys cmsync's field manager set.
        for kind, names, unselected, extra in (("configmaps", NAMES, UNSELECTED, []),
                                               ("secrets", SEC_NAMES, SEC_UNSELECTED, ["--show-managed-fields"])):
            objs = self.list_objects(kind, extra)
            targets = set(self.targets())
            # Nothing outside the targets, nothing of the unselected source.
            for (ns, name), o in objs.items():
                if name in names + [unselected] and ns != SRC and ns not in targets:
                    v.append((f"{ns}/{name}: a copy in a namespace that is not a target", None))
                if name == unselected and ns != SRC:
                    v.append((f"{ns}/{name}: copy of a {kind[:-1]} the selector does not pick", None))
            by.update((key, o) for key, o in objs.items() if key[1] in names)
        actual_src = {n: (obj_keys(by[(SRC, n)], n) if (SRC, n) in by else None) for n in ALL_NAMES}
        for n in ALL_NAMES:
            if actual_src[n] != self.sources[n]:
                v.append((f"{SRC}/{n}: the source is not what the driver wrote (driver model broken)", None))
        if self.rules_mode:
            return v + self.check_rules_state(by, actual_src, targets)
        for ns in sorted(targets):
            for n in ALL_NAMES:
                v += self.check_copy(ns, n, by.get((ns, n)))
        return v

    def cluster_view(self, actual_src):
        """--mode rules: the rule objects, grants and namespace labels as they stand (kubectl)."""
        rules = {}
        for o in self.kc.get_json(["clustersyncrules"])["items"] + \
                self.kc.get_json(["-n", SRC, "syncrules"])["items"]:
            if o["metadata"]["name"] in rm.SLOTS:
                rules[o["metadata"]["name"]] = o
        grants = {o["metadata"]["namespace"]: o["spec"] for o in self.kc.get_json(["syncgrants", "-A"])["items"]}
        labels = {o["metadata"]["name"]: o["metadata"].get("labels") or {}
                  for o in self.kc.get_json(["namespaces"])["items"]}
        return rm.ClusterView(rules, grants, labels, {n: actual_src[n] is not None for n in ALL_NAMES})

    def check_rules_state(self, by, actual_src, targets):
        """--mode rules: each copy checked by the rule that covers it now (a copy no rule covers
        only keeps what nobody may take: the other writer's and hand-edited keys), then each
        rule's status against the copies: observedGeneration, Ready, targets, inStep, conflicts."""
        view = self.cluster_view(actual_src)
        v = []
        for ns in sorted(targets):
            for n in ALL_NAMES:
                kind = "Secret" if is_secret(n) else "ConfigMap"
                slot = view.covering(ns, n, kind, SEC_NAMES if is_secret(n) else NAMES)
                keys = view.rules[slot]["spec"].get("keys") if slot else None
                v += self.check_copy(ns, n, by.get((ns, n)), covered=slot is not None, keys=keys)

        def copy_state(ns, n):
            if by.get((ns, n)) is None:
                return None
            return "conflict" if self.hand.get((ns, n)) else "in-step"
        for slot, obj in sorted(view.rules.items()):
            pool = SEC_NAMES if view.rule_kind(obj) == "Secret" else NAMES
            want = view.expected_status(obj, pool, copy_state)
            self.last_statuses[slot] = want[:5]
            st = obj.get("status") or {}
            ready = next((c for c in st.get("conditions") or [] if c.get("type") == "Ready"), {})
            have = (ready.get("status") == "True", ready.get("reason"), st.get("targets"), st.get("inStep"),
                    st.get("conflicts"))
            tag = f"{obj['kind']} {slot}"
            gen = obj["metadata"].get("generation")
            if st.get("observedGeneration") != gen:
                v.append((f"{tag}: status.observedGeneration {st.get('observedGeneration')} but generation {gen}",
                          ("rule", slot)))
            if have != want[:5]:
                v.append((f"{tag}: status says (ready, reason, targets, inStep, conflicts) = {have}, the copies "
                          f"say {want[:5]}", ("rule", slot)))
            elif want[5] is not None and ready.get("message") != want[5]:
                v.append((f"{tag}: Ready message {ready.get('message')!r}, expected {want[5]!r}", ("rule", slot)))
        self.status_checks += 1
        return v

    def check_copy(self, ns, n, obj, covered=True, keys=None):
        """A copy's violations. keys: the rule's `keys` (None: every key of the source). A copy no
        rule covers (--mode rules) is only checked for what nobody may take from it."""
        v = []
        tag = f"{ns}/{n}"
        hand = {k: hv for k, (hv, _) in self.hand.get((ns, n), {}).items()}
        local = self.local.get((ns, n), {})
        src = self.sources[n]
        if obj is None:
            if src is not None and not [k for k in src if keys is None or k in keys]:
                # Spec reading: a copy is written with the managed keys; a source with no key
                # (no key the rule manages) has none, so no (empty) copy need be created for it.
                return []
            if src is not None and covered:
                return [(f"{tag}: copy missing (source exists)", ("copy", ns, n))]
            # Source gone. Hand-edited or locally written content must still be there, and a
            # copy seen before the delete (and not deleted by the driver since) is kept.
            if local:
                return [(f"{tag}: copy gone, with the other writer's keys {sorted(local)} (nothing may be lost)", ("local", ns, n))]
            if hand:
                return [(f"{tag}: copy gone, with hand-edited keys {sorted(hand)}", ("hand", ns, n))]
            if not self.prune and not self.rules_mode:
                obs = self.orphan_obs.get(n, {})
                deleted_after = [t for t in self.copy_deleted_at.get((ns, n), []) if t >= obs.get("t", 0)]
                if obs.get("copies", {}).get(ns) and not deleted_after:
                    return [(f"{tag}: orphan copy vanished (it existed when the source was deleted)", ("copy", ns, n))]
            return []
        have = obj_keys(obj, n)
        md = obj["metadata"]
        ann = md.get("annotations") or {}
        # 2. the other writer's keys: exactly the last values written
        for k in LOCAL_KEYS:
            want = None if k not in local else text_value(n, local[k])
            got = have.get(k)
            if want is None and got is not None:
                v.append((f"{tag}: key {k} = {show(got)!r} but the other writer deleted it / never wrote it",
                          ("local", ns, n, k)))
            elif want is not None and got != want:
                v.append((f"{tag}: other writer's key {k} lost: want {show(want)!r}, have {show(got)!r}",
                          ("local", ns, n, k)))
        # hand-edited keys: unchanged
        for k, hv in hand.items():
            if have.get(k) != text_value(n, hv):
                v.append((f"{tag}: hand-edited key {k} overwritten: want {show(text_value(n, hv))!r}, "
                          f"have {show(have.get(k))!r}", ("hand", ns, n, k)))
        managed_have = {k: x for k, x in have.items() if k not in LOCAL_KEYS and k not in hand}
        if not covered:
            return v  # frozen as the last rule left it (or a racing run): nothing more is decided
        recorded = self.managed_record(obj, n)
        if src is not None:
            if not [k for k in src if keys is None or k in keys] and ann.get("cmsync.io/sync-from") != f"{SRC}/{n}":
                # As for a missing copy above: a source with no key to copy claims nothing, so an
                # object that is no copy (one --prune left plain) stays so until it has a key.
                return v
            # 1. managed keys equal the source's
            if md.get("labels", {}).get("cmsync.io/managed") != "true":
                v.append((f"{tag}: label cmsync.io/managed missing", ("copy", ns, n)))
            if ann.get("cmsync.io/sync-from") != f"{SRC}/{n}":
                v.append((f"{tag}: sync-from is {ann.get('cmsync.io/sync-from')!r}", ("copy", ns, n)))
            # The managed keys: the rule's keys (all by default) and those the copy records (a
            # recorded key stays managed while the source has it: SPEC, K ∪ keys(last-synced)).
            want = {k: x for k, x in src.items() if k not in hand and (keys is None or k in keys or k in (recorded or []))}
            if managed_have != want:
                diff = sorted({k: show(x) for k, x in managed_have.items()}.items() ^
                              {k: show(x) for k, x in want.items()}.items(), key=str)[:4]
                v.append((f"{tag}: managed keys differ from the source: copy-vs-source symmetric difference {diff}",
                          ("src", n, ns)))
            must = {k for k in src if keys is None or k in keys} | set(hand)
            if recorded is None or not must <= set(recorded) <= set(src) | set(hand):
                record = "managed-keys" if is_secret(n) else "last-synced"
                v.append((f"{tag}: {record} records {sorted(recorded or [])}, expected at least {sorted(must)} "
                          f"and no key the source lacks", ("src", n, ns)))
            elif is_secret(n):
                v += self.check_secret_record(tag, obj, have, want, hand, ("src", n, ns))
            else:
                for k, (sp, val) in want.items():
                    if sp == "d" and recorded[k] != sha256(val.encode()):
                        v.append((f"{tag}: last-synced hash of {k} is not sha256 of its value", ("src", n, ns)))
        else:
            if self.rules_mode:
                # A rule that restarts (edited) or a leader that changes as the source goes need
                # not see the delete: pruned or not, each managed key left holds a value the
                # source once had for it.
                for k, x in sorted(managed_have.items()):
                    if not any(ver.get(k) == x for ver in self.versions[n]):
                        v.append((f"{tag}: orphan's key {k} = {show(x)!r} is no value the source ever had",
                                  ("src", n, ns)))
            elif self.prune:
                if managed_have:
                    v.append((f"{tag}: --prune left managed keys {sorted(managed_have)} of a deleted source", ("src", n, ns)))
                if not have:
                    v.append((f"{tag}: --prune left an empty copy", ("src", n, ns)))
            else:
                # An orphan keeps what was last synced: some version the source had.
                ok = False
                for ver in self.versions[n]:
                    want = {k: x for k, x in ver.items() if k not in hand}
                    if managed_have == want:
                        ok = True
                        break
                if not ok:
                    v.append((f"{tag}: orphan's managed keys {sorted(managed_have)} match no version the source ever had",
                              ("src", n, ns)))
        return v

    def check_secret_record(self, tag, obj, have, want, hand, where):
        """A Secret copy's record instead of last-synced hashes (README "Secrets"): no
        last-synced and nothing derived from a value in its metadata; its type is the source's;
        managedFields say kubectl-cmsync set each managed key it holds (its value is what cmsync
        wrote) and not a hand-edited one (another manager set it: a conflict, kept)."""
        v = []
        md = obj["metadata"]
        ann = md.get("annotations") or {}
        if "cmsync.io/last-synced" in ann:
            v.append((f"{tag}: a Secret copy has a last-synced annotation", where))
        if obj.get("type") != "Opaque":
            v.append((f"{tag}: type {obj.get('type')!r}, the source's is 'Opaque'", where))
        owned = set()
        for entry in md.get("managedFields") or []:
            if entry.get("manager") == FIELD_MANAGER:
                data = (entry.get("fieldsV1") or {}).get("f:data") or {}
                owned |= {f[2:] for f in data if f.startswith("f:")}
        for k in sorted(want):
            if have.get(k) == want[k] and k not in owned:
                v.append((f"{tag}: managed key {k} holds the source's value but managedFields do not say "
                          f"{FIELD_MANAGER} set it", where))
        for k in sorted(hand):
            if k in owned:
                v.append((f"{tag}: hand-edited key {k} is set by {FIELD_MANAGER} in managedFields", where))
        meta = json.dumps({k: x for k, x in md.items() if k != "managedFields"})
        for k, (_, val) in want.items():
            if sha256(val) in meta:
                v.append((f"{tag}: the metadata holds the sha256 of the value of {k}", where))
        return v

    def check_logs(self, lines):
        v = []
        # Drift: every hand edit that is still in place is reported after it happened.
        for (ns, n), keys in sorted(self.hand.items()):
            for k, (hv, te) in keys.items():
                if self.sources_absent_at(n, te):
                    # Spec reading: a hand edit of an orphan (its source already deleted) need
                    # not be reported by itself (the orphan was); once the source is back, the
                    # conflict must be reported as drift after the re-create.
                    back = [c for c in self.src_created_at[n] if c >= te]
                    if not back:
                        continue
                    te = back[0]
                src_gone_after = any(t >= te for t in self.src_deleted_at[n]) or self.sources_absent_at(n, te)
                found = False
                for e in lines:
                    if e["target"] != f"{ns}/{n}" or e["epoch"] < te - 0.002:
                        continue
                    if e["action"] in ("drift", "orphaned") and f"conflict {k}" in e.get("keys", []):
                        found = True
                    elif e["action"] == "orphaned" and src_gone_after:
                        found = True
                    if found:
                        break
                if not found:
                    v.append((f"{ns}/{n}: hand edit of {k} ({show(text_value(n, hv))[1]}) at {te:.3f} never reported "
                              "as drift", ("hand", ns, n, k)))
        # Orphans: reported for copies of deleted sources, and only for names whose source was deleted.
        for e in lines:
            if e["action"] != "orphaned":
                continue
            n = e["target"].rsplit("/", 1)[1]
            if not any(t <= e["epoch"] + 0.002 for t in self.src_deleted_at.get(n, [])):
                v.append((f"{e['target']}: reported orphaned at {e['time']} but its source was never deleted before",
                          ("copy",) + tuple(e["target"].rsplit("/", 1))))
        if not self.prune:
            for n in ALL_NAMES:
                if self.sources[n] is not None or not self.src_deleted_at[n]:  # never created: no orphan
                    continue
                td = self.src_deleted_at[n][-1]
                for ns in self.targets():
                    obj = self.kc.obj(ns, n)
                    if obj is None or (obj["metadata"].get("annotations") or {}).get("cmsync.io/sync-from") != f"{SRC}/{n}":
                        continue
                    if not any(e["target"] == f"{ns}/{n}" and e["action"] == "orphaned" and e["epoch"] >= td - 0.002
                               for e in lines):
                        v.append((f"{ns}/{n}: orphan (source deleted at {td:.3f}) never reported", ("src", n, ns)))
        return v

    def sources_absent_at(self, n, t):
        creates = [c for c in self.src_created_at[n] if c <= t]
        deletes = [d for d in self.src_deleted_at[n] if d <= t]
        return not creates or (deletes and max(deletes) > max(creates))

    def converge_and_check(self):
        self.record("check-start")
        start = now()
        limit = self.a.converge_seconds
        while True:
            v = self.check_state()
            if not v:
                break
            if now() - start > limit:
                self.record("converge-timeout", seconds=limit, violations=[x[0] for x in v[:20]])
                return v
            time.sleep(3)
        if self.a.sabotage:
            self.sabotage()
        # Quiet: no ConfigMap or Secret write for 5 s.
        while self.audit_writes(now() - 5):
            time.sleep(1)
        quiet = now()
        self.record("quiet", converged_after=round(quiet - start, 1))
        time.sleep(self.a.quiet_seconds)
        writes = self.audit_writes(quiet)
        v = []
        if writes:
            w = writes[0]
            v.append((f"{len(writes)} ConfigMap/Secret{'/status' if self.rules_mode else ''} write(s) in the {self.a.quiet_seconds} s after quiet; first: "
                      f"{w['verb']} {w['objectRef'].get('resource')}{'/' + w['objectRef']['subresource'] if w['objectRef'].get('subresource') else ''} "
                      f"{w['objectRef'].get('namespace')}/{w['objectRef'].get('name')} by "
                      f"{w['user']['username']} at {w['stageTimestamp']}", None))
        v += self.check_state()
        if self.rules_mode:
            # What a copy's rule says of it is its status (checked by check_state): a hand edit
            # is a conflict there. Drift and orphan lines depend on which rule covered the copy
            # when, through edits and restarts, and are not checked here.
            self.record("rule-statuses", statuses=self.last_statuses)
        else:
            v += self.check_logs(self.watch_lines())
        # 5. alive and bounded memory
        for slot in self.slots:
            if slot.proc.poll() is not None:
                v.append((f"watcher {slot.i} is not alive (exit {slot.proc.returncode})", None))
                continue
            kb = self.sample_rss(slot)
            self.record("rss-end", kb=kb, pid=slot.proc.pid, baseline=slot.baseline, slot=slot.i,
                        watcher_age=round(now() - slot.started_at, 1))
            if slot.baseline and kb and kb > 1.5 * slot.baseline[0]:
                v.append((f"watcher {slot.i} RSS {kb} kB at the end is over 1.5x the {slot.baseline[0]} kB "
                          "after the first minute", None))
        if self.replicas:
            v += self.check_replicas()
        v += self.check_leaks(v)
        return v

    def check_leaks(self, violations):
        """7. no Secret value leaves cmsync, nor the soak: none the driver wrote (its token, its
        base64 form or its sha256) is in the watchers' logs, the racing runs' log, the state
        files, the proxies' logs, Events, /metrics, the history or a violation message."""
        tokens = {}  # "sec-hand-12" -> "sec-hand-12-3fa9" (the token of each value)
        for x in self.secret_values:
            t = SECRET_TOKEN.match(x).group(0).decode()
            tokens[t.rsplit("-", 1)[0]] = t
        b64 = {base64.b64encode(x).decode() for x in self.secret_values}
        digests = {sha256(x) for x in self.secret_values}

        def leaks(text):
            for m in SECRET_TOKEN.finditer(text.encode()):
                t = m.group(0).decode()
                if t.startswith(tokens.get(t.rsplit("-", 1)[0], "\0")):
                    return "a value"
            for m in re.finditer(r"[A-Za-z0-9+/]{8,}={0,2}", text):
                if m.group(0) in b64:
                    return "a value in base64"
            for m in re.finditer(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", text):
                if m.group(0) in digests:
                    return "the sha256 of a value"
            return None

        sources = []
        for root, _, files in os.walk(self.out):
            for f in sorted(files):
                if f == "history.jsonl" or re.search(r"\.(out|err|log)$", f) or root.endswith("state"):
                    sources.append((os.path.relpath(os.path.join(root, f), self.out),
                                    lambda p=os.path.join(root, f): open(p, errors="replace").read()))
        sources.append(("Events", lambda: self.kc.run(["get", "events.events.k8s.io", "-A", "-o", "json"])[1]))
        for slot in self.slots:
            if slot.metrics_port:
                sources.append((f"watcher {slot.i} /metrics", lambda s=slot: http_text(
                    f"http://127.0.0.1:{s.metrics_port}/metrics")))
        sources.append(("a violation message", lambda: "\n".join(x[0] for x in violations)))
        v = []
        for what, read in sources:
            found = leaks(read())
            if found:
                v.append((f"{what} holds {found} of a Secret (values never leave the process)", None))
        self.record("leak-check", secret_values=len(self.secret_values), places=len(sources))
        return v

    def check_replicas(self):
        """6. one writer at a time: every ConfigMap or Secret write by a replica's identity comes after a
        Lease write (acquire or renew, audit log) by that identity and before any Lease write by
        the other; the Lease is held by a live replica; /healthz and /readyz answer 200."""
        v = []
        users = {x.user: x.i for x in self.slots}
        events = []
        for e in self.audit_entries():
            ref = e.get("objectRef") or {}
            user = (e.get("user") or {}).get("username")
            if user not in users or (e.get("responseStatus") or {}).get("code", 0) >= 300:
                continue
            if e.get("verb") not in ("create", "update", "patch", "delete"):
                continue
            lease = ref.get("resource") == "leases" and ref.get("namespace") == LEASE_NS and \
                ref.get("name") == LEASE_NAME
            if lease or self.watched_write(ref):
                events.append((iso_to_epoch(e["requestReceivedTimestamp"]), lease, users[user], e))
        events.sort(key=lambda x: x[0])
        holder, writes, secret_writes, status_writes, terms = None, 0, 0, 0, 0
        for t, lease, who, e in events:
            if lease:
                terms += holder != who
                holder = who
            else:
                writes += 1
                secret_writes += e["objectRef"].get("resource") == "secrets"
                status_writes += e["objectRef"].get("subresource") == "status"
                if holder != who:
                    ref = e["objectRef"]
                    v.append((f"replica {who} wrote {ref.get('resource')} {ref.get('namespace')}/{ref.get('name')} "
                              f"({e['verb']}) at "
                              f"{e['requestReceivedTimestamp']} while the last Lease write was by "
                              f"{'nobody' if holder is None else f'replica {holder}'}", None))
        self.record("single-writer", lease_terms=terms, configmap_writes=writes - secret_writes - status_writes,
                    secret_writes=secret_writes, status_writes=status_writes)
        if self.rules_mode:
            v += self.check_grants(events)
        leader = self.leader_slot()
        if leader is None or leader.proc.poll() is not None:
            v.append(("no live replica holds the Lease at the end", None))
        for slot in self.slots:
            for path in ("/healthz", "/readyz"):
                code = http_status(f"http://127.0.0.1:{slot.metrics_port}{path}")
                if code != 200:
                    v.append((f"watcher {slot.i} {path} answers {code}", None))
        return v

    def check_grants(self, events):
        """--mode rules: nothing is written into a gated namespace without a grant. Every
        ConfigMap or Secret write by a replica there is one a grant in place allowed (its kind,
        and its name when the grant names some), or came within GRANT_GRACE s after such a grant
        went; a fault (a stopped or cut off replica, an apiserver down) stretches that while it
        lasts, as the replica learns of the delete only when it can read again."""
        v = []
        windows = self.fault_windows()
        checked = 0
        for t, lease, who, e in events:
            ref = e["objectRef"]
            if lease or ref.get("namespace") not in rm.GATED or ref.get("resource") not in ("configmaps", "secrets"):
                continue
            checked += 1
            kind = "Secret" if ref["resource"] == "secrets" else "ConfigMap"
            if not self.consented(ref["namespace"], kind, ref.get("name"), t, windows):
                v.append((f"replica {who} wrote {ref['resource']} {ref['namespace']}/{ref.get('name')} ({e['verb']}) at "
                          f"{e['requestReceivedTimestamp']} with no SyncGrant there allowing it",
                          ("grant", ref["namespace"])))
        self.record("grant-check", gated_writes=checked, grant_changes=len(self.grant_log))
        return v

    def consented(self, ns, kind, name, t, windows):
        changes = [(t0, spec) for t0, gns, spec in self.grant_log if gns == ns] + [(float("inf"), None)]
        for (start, spec), (end, _) in zip(changes, changes[1:]):
            if not rm.write_allowed(spec, kind, name) or t < start:
                continue
            deadline = end + GRANT_GRACE
            grown = True
            while grown:  # a fault in the grace stretches it to its own end
                grown = False
                for a, b in windows:
                    if a <= deadline and b + GRANT_GRACE > deadline and b >= end:
                        deadline, grown = b + GRANT_GRACE, True
            if t <= deadline:
                return True
        return False

    def fault_windows(self):
        """(start, end) of each fault from the history: while it lasts a replica may lag."""
        out, open_ = [], {}
        with open(os.path.join(self.out, "history.jsonl")) as f:
            for line in f:
                e = json.loads(line)
                if e["op"] == "fault":
                    d = e.get("seconds") or e.get("down_seconds") or 0
                    out.append((e["t"] - (e.get("down_seconds") or 0), e["t"] + d))
                elif e["op"] == "watcher-exit":
                    open_[e.get("slot")] = e["t"]
                elif e["op"] == "watcher-start" and e.get("slot") in open_:
                    out.append((open_.pop(e["slot"]), e["t"]))
        return out

    def sabotage(self):
        """Checks the checker: one write the history does not know of, which must be caught."""
        if self.a.sabotage == "grant":
            # The grant of a gated namespace deleted (in the history), then, past the grace, a
            # ConfigMap written there with the leader's identity.
            ns = rm.GATED[1]
            if self.grant_specs[ns] is not None:
                self.op_grant_delete(ns)
            time.sleep(GRANT_GRACE + 2)
            leader = self.leader_slot() or self.slots[0]
            self.kubectl_ok(["--kubeconfig", leader.kubeconfig, "-n", ns, "create", "configmap", "sabotage",
                             "--from-literal=k=v"])
            print(f"soak: sabotage: replica {leader.i} wrote {ns}/sabotage with no grant there", file=sys.stderr)
            return
        if self.a.sabotage == "status":
            # Both replicas stopped (a live leader would put it right within a second), then
            # one rule's status counts changed by hand.
            for slot in self.slots:
                slot.proc.send_signal(signal.SIGSTOP)
            for slot in sorted(rm.SLOTS):
                obj = self.kc.get_json(self.rule_ref(slot))
                if obj and obj.get("status"):
                    bump = {"status": {"inStep": (obj["status"].get("inStep") or 0) + 1}}
                    self.kubectl_ok(["patch"] + self.rule_ref(slot) + ["--subresource=status", "--type=merge",
                                                                       "-p", json.dumps(bump)])
                    print(f"soak: sabotage: replicas stopped, {slot}'s status.inStep raised by hand", file=sys.stderr)
                    return
            raise RuntimeError("--sabotage status: no rule with a status")
        if self.a.sabotage == "standby":
            leader = self.leader_slot()
            standby = next(x for x in self.slots if x is not leader)
            self.kubectl_ok(["--kubeconfig", standby.kubeconfig, "-n", SRC, "annotate", "configmap", UNSELECTED,
                             "--overwrite", "soak/sabotage=written-by-the-standby"])
            print(f"soak: sabotage: replica {standby.i} (standby) wrote {SRC}/{UNSELECTED}", file=sys.stderr)
            return
        # local / managed: a ConfigMap copy; secret-local / secret-managed: a Secret copy;
        # secret-owner: a Secret copy's managedFields stripped (its values stay the source's).
        what = self.a.sabotage.split("-")[-1]
        names = SEC_NAMES if self.a.sabotage.startswith("secret-") else NAMES

        def sabotaged(n):
            return base64.b64encode(b"sabotaged").decode() if is_secret(n) else "sabotaged"
        for (ns, n), d in sorted(self.local.items()):
            if what == "local" and n in names and d:
                k = sorted(d)[0]
                self.kubectl_ok(["-n", ns, "patch", resource(n), n, "--type", "merge",
                                 "-p", json.dumps({"data": {k: sabotaged(n)}})])
                print(f"soak: sabotage: {ns}/{n} {k} overwritten behind the history's back", file=sys.stderr)
                return
        view = self.cluster_view({n: self.sources[n] for n in ALL_NAMES}) if self.rules_mode else None
        for ns in self.targets():
            for n in names:
                if view and not view.covering(ns, n, "Secret" if is_secret(n) else "ConfigMap",
                                              SEC_NAMES if is_secret(n) else NAMES):
                    continue  # a copy no rule covers now is frozen: a change to it decides nothing
                src = self.sources[n]
                obj = self.kc.obj(ns, n)
                keys = [k for k in (obj or {}).get("data") or {} if src and k in src and k not in self.hand.get((ns, n), {})]
                if what == "managed" and keys:
                    self.kubectl_ok(["-n", ns, "patch", resource(n), n, "--type", "merge",
                                     "-p", json.dumps({"data": {keys[0]: sabotaged(n)}})])
                    print(f"soak: sabotage: {ns}/{n} managed {keys[0]} edited behind the history's back", file=sys.stderr)
                    return
                if what == "owner" and keys:
                    self.kubectl_ok(["-n", ns, "patch", "secret", n, "--type", "merge",
                                     "-p", json.dumps({"metadata": {"managedFields": [{}]}})])
                    print(f"soak: sabotage: {ns}/{n} managedFields stripped behind the history's back", file=sys.stderr)
                    return
        # Nothing to change: the run would pass and say nothing of the checker.
        raise RuntimeError(f"--sabotage {self.a.sabotage}: no copy to sabotage")

    def summary(self, violations):
        lines = self.watch_lines()
        acts = {}
        for e in lines:
            acts[e["action"]] = acts.get(e["action"], 0) + 1
        audit = self.audit_counts()
        w429 = sum(c for k, c in audit.items() if k.split(" ")[0] in {x.user for x in self.slots} and k.endswith(" 429"))
        s = {"seed": self.a.seed, "minutes": self.a.minutes, "prune": self.prune,
             "ops": self.op_counts, "ops_total": sum(self.op_counts.values()), "history_entries": self.seq,
             "faults": self.fault_counts, "faults_total": sum(self.fault_counts.values()),
             "mode": self.a.mode, "watcher_starts": self.watcher_starts, "watcher_actions": acts,
             "replica_exits_lost_lease": self.replica_exits,
             "watcher_429_in_audit": w429, "rss_samples_kb": self.rss[-6:],
             "apf_rejected": self.apf_rejected(), "violations": len(violations)}
        if self.rules_mode:
            s["rule_status_checks"] = self.status_checks
            s["rule_statuses"] = {k: " ".join(map(str, x)) for k, x in sorted(self.last_statuses.items())}
        return s

    def apf_rejected(self):
        rc, out, err = self.kc.run(["get", "--raw", "/metrics"])
        total = 0
        for line in out.splitlines():
            if line.startswith("apiserver_flowcontrol_rejected_requests_total") and 'priority_level="soak-tiny"' in line:
                total += float(line.rsplit(" ", 1)[1])
        return total

    def explain(self, violation):
        """The history entries that concern a violation."""
        msg, where = violation
        out = []
        if where is None:
            return out
        with open(os.path.join(self.out, "history.jsonl")) as f:
            entries = [json.loads(x) for x in f]
        kind = where[0]
        for e in entries:
            ns, name = e.get("ns"), e.get("name")
            if kind in ("local", "hand", "copy") and ns == where[1] and name == where[2]:
                out.append(e)
            elif kind == "src" and (name == where[1] and (ns is None or ns == where[2])):
                out.append(e)
            elif kind == "rule" and (e.get("slot") == where[1] or e["op"].startswith("grant-")):
                out.append(e)
            elif kind == "grant" and e["op"].startswith("grant-") and ns == where[1]:
                out.append(e)
            elif e["op"] in ("fault", "watcher-start", "fault-end", "cmsync-sync", "cmsync-resync"):
                out.append(e)
        return out[-40:]

    def shutdown(self):
        for slot in self.slots:
            if slot.proc and slot.proc.poll() is None:
                try:
                    slot.proc.send_signal(signal.SIGCONT)
                    slot.proc.send_signal(signal.SIGTERM)
                    slot.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    slot.proc.kill()
            if slot.proxy:
                slot.proxy.kill()
                slot.proxy.wait()
        if self.bg and self.bg[0].poll() is None:
            self.bg[0].kill()


def audit_log(cluster_dir):
    """A cluster's audit log's ResponseComplete entries."""
    with open(os.path.join(cluster_dir, "audit.log")) as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("stage") == "ResponseComplete":
                yield e


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError as e:
        return str(e)


def http_text(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode(errors="replace")
    except OSError as e:
        return str(e)


class Violation(Exception):
    def __init__(self, msg, seq):
        super().__init__(msg)
        self.seq = seq


def main(make=None):
    """make: the Soak class to run (tests/soak/members.py passes its own for --mode members)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--prune", choices=["yes", "no", "seed"], default="seed")
    ap.add_argument("--mode", choices=["cli", "replicas", "rules", "members"], default="cli",
                    help="cli: one `watch NS...`; replicas: two leader-elected `watch -f RULES`; rules: two "
                         "leader-elected `watch --rules-from-cluster` while the driver edits rule objects; "
                         "members: one leader-elected `watch -f RULES` from a hub into it and two member "
                         "clusters (tests/soak/members.py)")
    ap.add_argument("--member-dirs", default="", help="--mode members: the two members' cluster dirs, A,B")
    ap.add_argument("--converge-seconds", type=int, default=120)
    ap.add_argument("--quiet-seconds", type=int, default=60)
    ap.add_argument("--sabotage", choices=["local", "managed", "secret-local", "secret-managed", "secret-owner",
                                           "standby", "status", "grant"],
                    help="check the checker: must fail")
    a = ap.parse_args()
    if a.prune == "seed":
        a.prune = random.Random("prune:" + a.seed).random() < 0.5
    else:
        a.prune = a.prune == "yes"
    # SIGTERM (tests/soak/run forwards it) ends the run through the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    s = (make or Soak)(a)
    violations = []
    try:
        s.setup()
        s.drive()
        violations = s.converge_and_check()
    except Violation as e:
        violations = [(str(e), None)]
    except Exception as e:  # noqa: BLE001 - a broken driver is not a product failure: exit 2
        import traceback
        traceback.print_exc()
        print(f"soak: driver error (not a verdict on cmsync): {e}", file=sys.stderr)
        s.shutdown()
        sys.exit(2)
    finally:
        summ = None
        try:
            summ = s.summary(violations)
        except Exception as e:  # noqa: BLE001 - the summary must not hide the result
            print(f"soak: summary failed: {e}", file=sys.stderr)
        s.shutdown()
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump({"summary": summ, "violations": [x[0] for x in violations]}, f, indent=1)
    print("soak: " + json.dumps(summ, sort_keys=True))
    if violations:
        print(f"soak: FAILED, seed {a.seed!r} (prune={a.prune}); {len(violations)} violation(s); first:", file=sys.stderr)
        print("  " + violations[0][0], file=sys.stderr)
        for x in violations[1:10]:
            print("  also: " + x[0], file=sys.stderr)
        print("soak: history around it:", file=sys.stderr)
        for e in s.explain(violations[0]):
            print("  " + json.dumps(e, sort_keys=True)[:400], file=sys.stderr)
        print(f"soak: logs in {a.out} (history.jsonl, watch.out, watch.err, summary.json)", file=sys.stderr)
        sys.exit(1)
    print(f"soak: ok, every invariant held (seed {a.seed!r}, prune={a.prune})")


if __name__ == "__main__":
    main()
