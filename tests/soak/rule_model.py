"""The soak's rule objects (`--mode rules`, issue 28): the slots the driver fills, creates, edits
and deletes, and what the checker derives from the objects as they stand: which copies each rule
covers and what its status must say. Written from README "Rules as objects" and SPEC.md, never
from cmsync's code.

A slot is one rule object at a fixed name whose spec changes. The slots never cover the same
copy (one kind, one target namespace) twice: two rules of one source with different `keys`
over one copy is a case the SPEC does not decide, and the soak checks what it decides.
"""

SRC = "soak-src"
FIXED_TARGETS = ["soak-t1", "soak-t2", "soak-t3"]
TARGET_LABEL = "soak-target=yes"
SELECTOR = "soak=yes"
# Namespaces a SyncRule may write into only while a SyncGrant there consents; no
# ClusterSyncRule ever targets them. Labelled, so a SyncRule can target them by selector.
GATED = ["soak-g1", "soak-g2"]
GATED_LABEL = "soak-gated=yes"
GROUP = "cmsync.io/v1alpha1"

# slot -> (object kind, rule kind, what its targets may be)
SLOTS = {
    "cm-fixed": ("ClusterSyncRule", "ConfigMap", "fixed"),
    "cm-labelled": ("ClusterSyncRule", "ConfigMap", "labelled"),
    "cm-team": ("SyncRule", "ConfigMap", "gated"),
    "sec-fixed": ("ClusterSyncRule", "Secret", "fixed"),
    "sec-team": ("SyncRule", "Secret", "gated"),
}


def resource(slot):
    return "clustersyncrule" if SLOTS[slot][0] == "ClusterSyncRule" else "syncrule"


def manifest(slot, spec):
    kind = SLOTS[slot][0]
    metadata = {"name": slot}
    if kind == "SyncRule":
        metadata["namespace"] = SRC  # a SyncRule's source is in its own namespace
    return {"apiVersion": GROUP, "kind": kind, "metadata": metadata, "spec": spec}


def grant_manifest(ns, spec):
    return {"apiVersion": GROUP, "kind": "SyncGrant", "metadata": {"name": "from-src", "namespace": ns},
            "spec": spec}


def subset(rng, items, at_least=1):
    return sorted(rng.sample(items, rng.randint(at_least, len(items))))


def random_spec(slot, rng, names, keys, prune, old=None, dyn=()):
    """A spec for `slot`: a fresh one, or `old` with one of targets, selection or keys changed.
    names: the slot kind's source names; keys: the key names sources use (a ConfigMap rule may
    manage only some); dyn: the dynamic namespaces (a labelled rule may exclude some)."""
    _, kind, targets_of = SLOTS[slot]
    spec = {"source": {}, "targets": {}, "prune": prune} if old is None else {
        "source": dict(old["source"]), "targets": dict(old["targets"]), "prune": prune}
    if old is not None and "keys" in old:
        spec["keys"] = list(old["keys"])
    change = {"targets", "selection", "keys"} if old is None else {rng.choice(["targets", "selection", "keys"])}
    if "selection" in change:
        spec["source"] = {} if SLOTS[slot][0] == "SyncRule" else {"namespace": SRC}
        if kind == "Secret":
            spec["source"]["kind"] = "Secret"
        if rng.random() < 0.5:
            spec["source"]["selector"] = SELECTOR
        else:
            spec["source"]["names"] = subset(rng, names)
    if "targets" in change:
        if targets_of == "fixed":
            spec["targets"] = {"namespaces": subset(rng, FIXED_TARGETS)}
        elif targets_of == "labelled":
            spec["targets"] = {"selector": TARGET_LABEL}
            if dyn and rng.random() < 0.4:
                spec["targets"]["exclude"] = subset(rng, sorted(dyn))
        elif kind == "Secret" and rng.random() < 0.5:
            spec["targets"] = {"selector": GATED_LABEL}
        else:
            spec["targets"] = {"namespaces": subset(rng, GATED)}
    if "keys" in change and kind == "ConfigMap":
        spec.pop("keys", None)
        if rng.random() < 0.5:
            spec["keys"] = subset(rng, keys)
    return spec


def random_grant(rng, names_by_kind):
    """A SyncGrant's spec from the source namespace: every kind, one kind, or some names."""
    entry = {"namespace": SRC}
    r = rng.random()
    if r < 0.3:
        entry["kinds"] = [rng.choice(["ConfigMap", "Secret"])]
    elif r < 0.45:
        kind = rng.choice(["ConfigMap", "Secret"])
        entry["kinds"] = [kind]
        entry["names"] = subset(rng, names_by_kind[kind])
    return {"from": [entry]}


def grant_allows(grant_spec, kind, rule_names):
    """Whether a grant's spec lets a SyncRule of `kind` from SRC with the source names
    `rule_names` (None: a selector) write into its namespace (README: `from` names the team's
    namespace, optionally only some kinds, or only sources of some names)."""
    for f in (grant_spec or {}).get("from") or []:
        if f.get("namespace") != SRC:
            continue
        if f.get("kinds") and kind not in f["kinds"]:
            continue
        if f.get("names") and (not rule_names or not set(rule_names) <= set(f["names"])):
            continue
        return True
    return False


def write_allowed(grant_spec, kind, copy_name):
    """What a write of copy `copy_name` of `kind` needs of a grant at least, whatever rule made
    it: a SyncRule allowed by names writes only sources of those names."""
    for f in (grant_spec or {}).get("from") or []:
        if f.get("namespace") != SRC or (f.get("kinds") and kind not in f["kinds"]):
            continue
        if f.get("names") and copy_name not in f["names"]:
            continue
        return True
    return False


class ClusterView:
    """What the checker reads with kubectl: rule objects, grants, namespace labels, sources."""

    def __init__(self, rules, grants, ns_labels, sources):
        self.rules = rules          # slot -> object (as read) or absent
        self.grants = grants        # namespace -> SyncGrant spec (one grant per namespace here)
        self.ns_labels = ns_labels  # namespace -> labels
        self.sources = sources      # source name -> exists

    def matches(self, ns, selector):
        k, v = selector.split("=")
        return self.ns_labels.get(ns, {}).get(k) == v

    def rule_kind(self, obj):
        return (obj["spec"]["source"].get("kind") or "ConfigMap")

    def source_names(self, obj, pool):
        """(the sources the rule runs on, its named sources that are missing)."""
        names = obj["spec"]["source"].get("names")
        if names:
            return [n for n in names if self.sources.get(n)], [n for n in names if not self.sources.get(n)]
        return [n for n in pool if self.sources.get(n)], []

    def granted(self, obj):
        """A SyncRule's namespaces whose grant consents (every grant, whatever its targets)."""
        kind, names = self.rule_kind(obj), obj["spec"]["source"].get("names")
        return sorted(ns for ns, g in self.grants.items() if grant_allows(g, kind, names))

    def target_namespaces(self, obj):
        t = obj["spec"]["targets"]
        out = set(t.get("namespaces") or [])
        if t.get("selector"):
            out |= {ns for ns in self.ns_labels if self.matches(ns, t["selector"])}
        out -= set(t.get("exclude") or [])
        out.discard(SRC)
        if obj["kind"] == "SyncRule":
            out &= set(self.granted(obj))
        return sorted(out)

    def expected_status(self, obj, pool, copy_state):
        """What a rule's status must say (README "Rules as objects"): (ready, reason, targets,
        inStep, conflicts, message or None). copy_state(ns, name) -> "conflict", "in-step" or
        None (no copy)."""
        sources, missing = self.source_names(obj, pool)
        nss = self.target_namespaces(obj)
        targets = len(sources) * len(nss)
        in_step = conflicts = 0
        for n in sources:
            for ns in nss:
                state = copy_state(ns, n)
                in_step += state == "in-step"
                conflicts += state == "conflict"
        counts = (targets, in_step, conflicts)
        if obj["kind"] == "SyncRule":
            granted = self.granted(obj)
            not_granted = [ns for ns in obj["spec"]["targets"].get("namespaces") or [] if ns not in granted]
            if not_granted:
                return (False, "NotGranted") + counts + (
                    f"no SyncGrant lets this rule write into {', '.join(not_granted)}",)
            if not granted:
                return (False, "NotGranted") + counts + ("no SyncGrant lets this rule write into any namespace",)
        if missing:
            return (False, "SourceMissing") + counts + (None,)
        if conflicts:
            return (False, "Conflicts") + counts + (None,)
        if in_step < targets:
            return (False, "Pending") + counts + (None,)
        return (True, "InStep") + counts + (None,)

    def covering(self, ns, name, kind, pool):
        """The slot whose rule covers copy ns/name of `kind` now (its source selected, the
        namespace among its targets), else None."""
        for slot, obj in sorted(self.rules.items()):
            if self.rule_kind(obj) != kind:
                continue
            names = obj["spec"]["source"].get("names")
            if (names and name not in names) or (not names and name not in pool):
                continue
            if ns in self.target_namespaces(obj):
                return slot
        return None
