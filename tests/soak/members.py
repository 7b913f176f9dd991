#!/usr/bin/env python3
"""Soak, --mode members (issue 30): a hub and two member control planes, each with its own etcd,
apiserver and CA (tests/cluster/up), and one leader-elected `kubectl-cmsync watch -f RULES` whose
rules copy the hub's sources into the hub and both members. soak.py's driver, faults and checks
run as in --mode replicas, a copy's namespace spelled CLUSTER/NS (RoutedKubectl sends it to that
cluster's apiserver); on top come member faults (apiserver kill -9, link cut, link stall,
compaction while cut) and the issue's point: while one member is down, a source change still
reaches the other member's copies within BOUND seconds, and the member back writes each copy
that missed changes at least once and at most once per change (its audit log; writes beyond
one are counted: README says why they happen).

Usage: tests/soak/run --mode members (it starts the members and passes --member-dirs A,B).
"""
import json
import os
import signal
import statistics
import subprocess
import time

import soak
from soak import FIXED_TARGETS, SELECTOR, SRC, WATCHER_USER, now

CLUSTERS = ["hub", "member-a", "member-b"]
MEMBERS = CLUSTERS[1:]
PROBE = "probe"  # a source only the watcher's copies of which are ever written: what is timed
BOUND = 5.0  # s: a source change reaches a member while the other one is down or cut off
CATCH_UP_LIMIT = 90  # s: a member back has every copy in step by then
MEMBER_FAULTS = ["member-kill", "member-cut", "member-stall", "member-compact"]


class RoutedKubectl(soak.Kubectl):
    """The hub's kubectl, except that a namespace spelled CLUSTER/NS (`-n member-a/soak-t1`)
    is NS in that cluster: soak.py's operations and checks then reach every copy unchanged."""

    def __init__(self, clusters):
        self.clusters = clusters
        hub = clusters["hub"]
        super().__init__(hub.kubeconfig, hub.env["PATH"])

    def run(self, args, stdin=None, timeout=30):
        if "-n" in args:
            i = args.index("-n") + 1
            cluster, _, ns = args[i].rpartition("/")
            if cluster:
                return self.clusters[cluster].run(args[:i] + [ns] + args[i + 1:], stdin, timeout)
        return self.clusters["hub"].run(args, stdin, timeout)


class Member:
    """A member control plane: its dir, an admin kubectl straight to it, and the proxy through
    which the watcher reaches it (cut or stalled by a fault)."""

    def __init__(self, name, cluster_dir, path):
        self.name = name
        self.dir = cluster_dir
        self.kc = soak.Kubectl(os.path.join(cluster_dir, "admin.kubeconfig"), path)
        self.mode_file = None
        self.proxy = None
        self.port = None
        self.down = False  # its apiserver killed: the driver leaves its copies alone meanwhile


def rules_yaml(prune):
    """Both kinds from the hub into the fixed namespaces of every cluster."""
    p = "true" if prune else "false"
    clusters = ", ".join(f"{{name: {c}, context: {c}}}" for c in CLUSTERS)
    targets = f"{{clusters: [{', '.join(CLUSTERS)}], namespaces: [{', '.join(FIXED_TARGETS)}]}}"
    return f"""apiVersion: cmsync.io/v1alpha1
kind: SyncConfig
clusters: [{clusters}]
rules:
  - name: configmaps
    source: {{cluster: hub, namespace: {SRC}, selector: "{SELECTOR}"}}
    targets: {targets}
    prune: {p}
  - name: secrets
    source: {{cluster: hub, kind: Secret, namespace: {SRC}, selector: "{SELECTOR}"}}
    targets: {targets}
    prune: {p}
"""


def figures(xs):
    """n, median and max of some seconds, for the summary."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return {"n": 0}
    return {"n": len(xs), "median": round(statistics.median(xs), 2), "max": round(max(xs), 2)}


class Members(soak.Soak):
    def __init__(self, a):
        super().__init__(a)
        self.replicas = True  # one leader-elected `watch -f`: Lease, exits, /readyz as replicas
        self.slots = [soak.Slot(1, self.out)]
        self.members = {n: Member(n, d, self.path) for n, d in zip(MEMBERS, a.member_dirs.split(","))}
        self.kc = RoutedKubectl(dict(hub=self.kc, **{n: m.kc for n, m in self.members.items()}))
        self.probe_value = None
        self.baseline = []   # s for a probe change to reach every cluster, no member fault
        self.delays = []     # (fault, member at fault, other member, s for the other's copies)
        self.catch_ups = []  # (fault, member, s after it was back, its writes per namespace)
        self.current = None  # the member fault in course: {fault, member, other, mark, countable, changes, mid}
        self.catch_up = None  # the member fault that ended, its copies not yet checked
        self.member_faults = []  # the next member faults' kinds, popped
        self.member_violations = []
        self.extra_writes = 0  # catch-up writes beyond one per copy (after stalls: held in the link)

    def targets(self):
        """Every fixed namespace of every cluster, as CLUSTER/NS; not those of a member whose
        apiserver is down (the driver would wait on it)."""
        return [f"{c}/{ns}" for c in CLUSTERS for ns in FIXED_TARGETS
                if c == "hub" or not self.members[c].down]

    # ---------------------------------------------------------------- setup
    def setup(self):
        for c, kc in self.kc.clusters.items():
            for ns in ([SRC] if c == "hub" else []) + FIXED_TARGETS:
                self.kubectl_ok(["create", "namespace", ns], kc=kc)
            # The watcher reaches the members as their restricted user, given every right, so
            # their audit logs tell its writes from the driver's (the admin).
            self.kubectl_ok(["create", "clusterrolebinding", "soak-watcher", "--clusterrole=cluster-admin",
                             f"--user={WATCHER_USER}"], kc=kc)
        self.kubectl_ok(["-n", SRC, "create", "configmap", soak.UNSELECTED, "--from-literal=x=never-copied"])
        self.kubectl_ok(["-n", SRC, "create", "secret", "generic", soak.SEC_UNSELECTED,
                          "--from-literal=x=never-copied"])
        self.kubectl_ok(["create", "-f", "-"], stdin=json.dumps(soak.APF_LEVEL))
        for n in soak.NAMES[:2] + soak.SEC_NAMES[:1]:
            self.op_source_create(n)
        self.probe_value = self.unique("probe")
        self.kubectl_ok(["-n", SRC, "create", "configmap", PROBE, f"--from-literal=tick={self.probe_value}"])
        self.kubectl_ok(["-n", SRC, "label", "configmap", PROBE, SELECTOR])
        self.setup_replicas()  # soak-system, the ServiceAccount, its hub kubeconfig
        slot = self.slots[0]
        self.start_proxy(slot)
        for m in self.members.values():
            m.mode_file = os.path.join(self.out, f"proxy-{m.name}.mode")
            m.proxy, m.port = soak.spawn_proxy(self.a.proxy, self.out, m.name, m.dir, m.mode_file)
        self.member_contexts(slot.kubeconfig)
        with open(self.rules_file, "w") as f:
            f.write(rules_yaml(self.prune))
        os.makedirs(os.path.join(self.out, "state"), mode=0o700, exist_ok=True)
        self.start_watcher(slot)
        self.record("setup", prune=self.prune, seed=self.a.seed, minutes=self.a.minutes, mode="members")

    def member_contexts(self, kubeconfig):
        """The watcher's kubeconfig: context hub (its ServiceAccount, through its proxy) and a
        context per member (its restricted user and CA, through the member's proxy)."""
        kc = ["kubectl", "config", "--kubeconfig", kubeconfig]
        env = dict(os.environ, PATH=self.path)
        cmds = [["rename-context", "soak", "hub"]]
        for m in self.members.values():
            pki = os.path.join(m.dir, "pki")
            cmds += [["set-cluster", m.name, f"--server=https://127.0.0.1:{m.port}",
                      f"--certificate-authority={pki}/ca.crt"],
                     ["set-credentials", m.name, f"--client-certificate={pki}/restricted.crt",
                      f"--client-key={pki}/restricted.key"],
                     ["set-context", m.name, f"--cluster={m.name}", f"--user={m.name}"]]
        cmds.append(["use-context", "hub"])
        for c in cmds:
            subprocess.run(kc + c, check=True, capture_output=True, env=env)

    # ---------------------------------------------------------------- driver
    def step(self):
        """soak.py's operations on copies in every cluster; no namespaces are made and no
        racing sync runs (the rules name fixed namespaces; the probe's writes are counted)."""
        self.poll_catch_up()
        if self.current and self.current["mid"] and now() >= self.current["mid"]:
            self.current["mid"] = None
            self.probe_other()
        r = self.rng.random()
        name = self.rng.choice(soak.ALL_NAMES)
        if r < 0.32:
            self.op_source(name)
        elif r < 0.50:
            self.count(self.op_counts, "hand-edit")
            self.op_hand_edit()
        elif r < 0.80:
            self.count(self.op_counts, "local-write")
            self.op_local()
        elif r < 0.90:
            self.count(self.op_counts, "copy-delete")
            self.op_copy_delete()
        else:
            self.op_burst(name)

    # ---------------------------------------------------------------- the probe
    def probe_copies(self, cluster):
        """{ns: the `tick` of the probe's copy} in a cluster (kubectl, straight to it)."""
        kc = self.kc.clusters[cluster]
        got = kc.get_json(["configmaps", "-A", "--field-selector", f"metadata.name={PROBE}"], retries=3)
        return {o["metadata"]["namespace"]: (o.get("data") or {}).get("tick") for o in got["items"]}

    def probe_in(self, cluster):
        try:
            copies = self.probe_copies(cluster)
        except RuntimeError:  # its apiserver is restarting
            return False
        return all(copies.get(ns) == self.probe_value for ns in FIXED_TARGETS)

    def probe(self, clusters, limit):
        """Changes the probe source; the seconds until its copies in every one of `clusters`
        hold the change (kubectl polls), or None past `limit`."""
        self.probe_value = self.unique("probe")
        t0 = now()
        self.kubectl_ok(["-n", SRC, "patch", "configmap", PROBE, "--type", "merge",
                          "-p", json.dumps({"data": {"tick": self.probe_value}})])
        waiting = list(clusters)
        while waiting and now() - t0 < limit:
            waiting = [c for c in waiting if not self.probe_in(c)]
        return None if waiting else round(now() - t0, 2)

    # ---------------------------------------------------------------- member faults
    def fault(self):
        """Two times in three a member fault, alone: no other fault in its course (a hub fault
        holds back every member alike) and none until the member it hit has caught up; else one
        of soak.py's (the hub's apiserver, the watcher's link to it, the watcher itself)."""
        if self.catch_up or self.current:
            return
        if self.frng.random() < 0.35:
            return super().fault()
        if self.pending:
            return
        if not self.member_faults:  # each kind once in every four, so a short run has them all
            self.member_faults = self.frng.sample(MEMBER_FAULTS, len(MEMBER_FAULTS))
        f = self.member_faults.pop()
        m = self.members[self.frng.choice(MEMBERS)]
        other = next(x for x in MEMBERS if x != m.name)
        # Every cluster in step first: the streams are live and the member's copies current.
        took = self.probe(CLUSTERS, 3 * BOUND)
        self.baseline.append(took)
        mark = now()
        d = self.frng.uniform(6, 18) if f == "member-kill" else self.frng.uniform(4, 12)
        self.count(self.fault_counts, f)
        if f == "member-kill":
            self.kill_apiserver(m)
        else:
            open(m.mode_file, "w").write("stall" if f == "member-stall" else "cut")
        self.record("fault", fault=f, member=m.name, seconds=round(d, 1), in_step_before=took)
        # Probed at once and half-way (its streams in backoff, its writes failing or stuck by then).
        self.current = {"fault": f, "member": m, "other": other, "mark": mark, "countable": took is not None,
                        "changes": 0, "mid": now() + d / 2}
        self.probe_other()
        if f == "member-compact":  # the watcher missed events and their revisions are gone: 410
            rev = subprocess.run([os.path.join(self.a.root, "tests/cluster/compact"), m.dir],
                                 capture_output=True, text=True).stdout.strip()
            self.record("fault", fault="compact", member=m.name, revision=rev, during=f)
        self.pending.append((now() + d, f"{f}:{m.name}", self.end_member_fault))

    def probe_other(self):
        """While a member is at fault: a source change must reach the other one within BOUND."""
        c = self.current
        c["changes"] += 1
        delay = self.probe([c["other"]], 6 * BOUND)
        self.delays.append((c["fault"], c["member"].name, c["other"], delay))
        self.record("other-member", fault=c["fault"], member=c["member"].name, other=c["other"], seconds=delay)
        if delay is None or delay > BOUND:
            self.member_violations.append((f"{c['fault']} of {c['member'].name}: a source change took {delay} s "
                                           f"(over {BOUND} s) to reach {c['other']}'s copies", None))

    def kill_apiserver(self, m):
        pid = int(open(os.path.join(m.dir, "apiserver.pid")).read())
        m.down = True
        os.kill(pid, signal.SIGKILL)
        while os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split()[2] != "Z":
            time.sleep(0.05)

    def end_member_fault(self):
        c, self.current = self.current, None
        m = c["member"]
        if c["fault"] == "member-kill":
            subprocess.run([os.path.join(self.a.root, "tests/cluster/start-apiserver"), m.dir], check=True)
            m.down = False
        else:
            open(m.mode_file, "w").write("pass")
        # Its copies missed the probe's changes: one write each when they catch up (counted only
        # if they were in step before the fault).
        self.catch_up = dict(c, back=now())

    def poll_catch_up(self):
        """The member back: once its probe copies hold the change, and 2 s later (a second
        write, had there been one, is done by then), its audit log must show one write each."""
        c = self.catch_up
        if c is None:
            return
        m = c["member"]
        if "caught" not in c:
            if self.probe_in(m.name):
                c["caught"] = round(now() - c["back"], 2)
            elif now() - c["back"] > CATCH_UP_LIMIT:
                self.member_violations.append((f"{m.name} back after {c['fault']}: its probe copies not in step "
                                               f"{CATCH_UP_LIMIT} s later", None))
                self.catch_up = None
            return
        if now() - c["back"] < c["caught"] + 2:
            return
        writes = self.probe_writes(m, c["mark"])
        self.catch_ups.append((c["fault"], m.name, c["caught"], writes))
        self.record("member-caught-up", fault=c["fault"], member=m.name, seconds=c["caught"], writes=writes)
        # One write each (the changes coalesce; a pass whose read of the member was slow writes
        # the source as it is by then). After a stall, up to one per change made meanwhile: a
        # write sent before the stall's second change is held in the link and reaches the
        # server when it flows again (README); those are counted and printed.
        most = c["changes"] if c["fault"] == "member-stall" else 1
        if c["countable"] and not (set(writes) == set(FIXED_TARGETS) and all(1 <= x <= most for x in writes.values())):
            self.member_violations.append((f"{m.name} back after {c['fault']}: the watcher's writes of the probe's "
                                           f"copies there were {writes}, {'1 to %d' % most if most > 1 else 'one'} "
                                           f"each expected", None))
        self.extra_writes += sum(x - 1 for x in writes.values() if x > 1)
        self.catch_up = None

    def probe_writes(self, m, since):
        """The watcher's successful writes of the probe's copies in a member since `since`, by
        namespace (its audit log)."""
        out = {}
        for e in soak.audit_log(m.dir):
            ref = e.get("objectRef") or {}
            if ref.get("resource") != "configmaps" or ref.get("name") != PROBE or \
                    (e.get("user") or {}).get("username") != WATCHER_USER or \
                    e.get("verb") not in ("create", "update", "patch", "delete") or \
                    (e.get("responseStatus") or {}).get("code", 0) >= 300 or \
                    soak.iso_to_epoch(e["stageTimestamp"]) < since:
                continue
            out[ref.get("namespace")] = out.get(ref.get("namespace"), 0) + 1
        return out

    # ---------------------------------------------------------------- checker
    def audit_entries(self):
        """Every cluster's audit log: a quiet point is quiet in the members too."""
        yield from super().audit_entries()
        for m in self.members.values():
            yield from soak.audit_log(m.dir)

    def list_objects(self, kind, extra):
        """Every cluster's objects, a copy's namespace spelled CLUSTER/NS (the hub's source
        namespace as itself: the driver's name for it)."""
        objs = {}
        for c, kc in self.kc.clusters.items():
            for o in kc.get_json([kind, "-A"] + extra)["items"]:
                ns = o["metadata"]["namespace"]
                objs[(ns if (c, ns) == ("hub", SRC) else f"{c}/{ns}", o["metadata"]["name"])] = o
        return objs

    def check_copy(self, ns, n, obj, covered=True, keys=None):
        """soak.py's copy check, and the ownership's source cluster: `sync-from-cluster: hub`
        on a member's copy, none on the hub's own (absent = the copy's own cluster)."""
        v = super().check_copy(ns, n, obj, covered, keys)
        ann = (obj or {}).get("metadata", {}).get("annotations") or {}
        if obj is None or ann.get("cmsync.io/sync-from") != f"{SRC}/{n}":
            return v
        want = None if ns.startswith("hub/") else "hub"
        if ann.get("cmsync.io/sync-from-cluster") != want:
            v.append((f"{ns}/{n}: sync-from-cluster is {ann.get('cmsync.io/sync-from-cluster')!r}, expected {want!r}",
                      ("copy", ns, n)))
        return v

    def check_state(self):
        v = super().check_state()
        for c in CLUSTERS:
            copies = self.probe_copies(c)
            for ns in FIXED_TARGETS:
                if copies.get(ns) != self.probe_value:
                    v.append((f"{c}/{ns}/{PROBE}: tick {copies.get(ns)!r}, the source's is {self.probe_value!r}", None))
        return v

    def converge_and_check(self):
        while self.catch_up:  # the last member fault's count first
            self.poll_catch_up()
            time.sleep(0.5)
        v = super().converge_and_check()
        return self.member_violations + v

    def summary(self, violations):
        s = super().summary(violations)
        s["other_member_delay_s"] = figures([x[3] for x in self.delays])
        s["baseline_delay_s"] = figures(self.baseline)
        s["catch_up_s"] = figures([x[2] for x in self.catch_ups])
        s["member_faults"] = [{"fault": f, "member": m, "other": o, "other_s": d} for f, m, o, d in self.delays]
        s["catch_ups"] = [{"fault": f, "member": m, "s": t, "writes": w} for f, m, t, w in self.catch_ups]
        s["relists_by_cluster"] = self.relists()
        s["catch_up_extra_writes"] = self.extra_writes
        print(f"soak: members: a source change reached the member not at fault in {s['other_member_delay_s']} s "
              f"(bound {BOUND} s; every cluster, no member fault: {s['baseline_delay_s']} s); a member back "
              f"caught up in {s['catch_up_s']} s, {self.extra_writes} write(s) beyond one per copy", flush=True)
        return s

    def relists(self):
        """The watcher's cmsync_relists_total by cluster (a compaction while cut means a 410)."""
        text = soak.http_text(f"http://127.0.0.1:{self.slots[0].metrics_port}/metrics")
        out = {}
        for line in text.splitlines():
            if line.startswith("cmsync_relists_total{"):
                c = line.split('cluster="', 1)[1].split('"', 1)[0] if 'cluster="' in line else ""
                out[c] = out.get(c, 0) + float(line.rsplit(" ", 1)[1])
        return out

    def shutdown(self):
        super().shutdown()
        for m in self.members.values():
            if m.proxy:
                m.proxy.kill()
                m.proxy.wait()


if __name__ == "__main__":
    soak.main(Members)
