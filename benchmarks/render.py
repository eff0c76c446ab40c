#!/usr/bin/env python3
"""Turns the JMH JSON files written by benchmarks/run.sh into the Markdown tables of benchmarks/README.md.

usage: render.py RESULTS_DIR [--readme README.md | --out FILE] [--expect N]

RESULTS_DIR holds env.json and jdk17/*.json, jdk25/*.json. With --readme the block between the
"<!-- results:begin -->" and "<!-- results:end -->" markers is replaced; with --out the tables go to FILE.
--expect N fails unless at least N benchmark results were found (used by the smoke run).

Units: ns per item (lower is better). The H shape (S1a) reports pollsMade in ops/us: ns/item = 1000 / pollsMade.
ratio = peer ns / Sluice ns, so > 1 means Sluice is faster. "~" marks ratios whose 99.9% confidence intervals
overlap (not distinguishable); without a CI (fewer than 3 iterations) the iteration range is shown. B/op comes from -prof gc (gc.alloc.rate.norm); for S1a it is bytes per item moved.
"""
import argparse
import copy
import glob
import html
import json
import math
import os
import statistics
import sys

SCENARIOS = {
    "S1aHot": ("S1a", "1P1C hot, never blocking (trySend/tryReceive vs offer/poll)"),
    "S1bOneToOne": ("S1b", "1P1C, both sides blocking"),
    "S2ToFlux": ("S2", "blocking producer -> Flux subscriber (request 256, replenish 75%)"),
    "S3FromFlux": ("S3", "Flux -> blocking iterator (batch 256)"),
    "S4ManyToOne": ("S4", "4 blocking producers -> 1 consumer (5 threads on 2 cores: oversubscribed)"),
    "S5PingPong": ("S5", "ping-pong round trip (SampleTime)"),
    "S6Mono": ("S6", "single-value async hand-off on one thread"),
    "S9Operators": ("S9", "the bridge's operators vs the Reactor workaround (identity stage; blocking producer)"),
    "SRemote": ("S-remote", "8-byte items over RSocket on loopback, server and client in one JVM (capacity 256)"),
}

# Which implementation is "ours" in each group, and notes for peers.
SLUICE_NAMES = ("sluice", "sluiceHop", "sluiceAsync", "sluiceFlux", "sluiceFluxHop", "sluiceMono", "sluiceRemote",
                "throughBlocking", "throughBlockingExecutor", "throughBlockingHop",
                "fromBlocking", "fromBlockingExecutor", "fromBlockingHop", "channelFlux")
# S9 rows that belong to the "stage" group (throughBlocking); the others are "source" rows (fromBlocking).
S9_STAGE = ("throughBlocking", "throughBlockingExecutor", "throughBlockingHop", "publishOnWorkaround")
NOTES = {
    "fluxCreate": "unbounded buffer",
    "fluxCreateHop": "unbounded buffer",
    "jctoolsSpscSpin": "busy-spin floor",
    "disruptorYielding": "yield-spin waiter",
    "submissionPublisher": "own executor: a hop",
    "monoJust": "baseline, no hand-off",
    "sluiceRemote": "blocking producer -> server channel -> remote receiver (acks, ledger)",
    "rsocketStream": "plain requestStream + limitRate(256), no blocking ends",
    "throughBlockingExecutor": "Sluice: stage on a persistent platform thread",
    "throughBlockingHop": "Sluice: + publishOn(single, 256), delivers where the peer does",
    "publishOnWorkaround": "publishOn(boundedElastic).map.publishOn(single)",
    "fromBlockingExecutor": "Sluice: producer on the peer's platform thread",
    "fromBlockingHop": "Sluice: + publishOn(single, 256), delivers where the peer does",
    "channelFlux": "Sluice: producer thread -> Channel -> ReactorChannels.flux",
    "createPublishOn": "Flux.create (unbounded buffer) + publishOn(single, 256)",
}
# Scenarios whose detail rows also show throughput (items/s = 1e9 / ns) in the note column.
THROUGHPUT_NOTE = {"SRemote"}
# Not competitors: unbounded, a baseline, or a busy-spin floor (shown in the floor column instead).
NOT_PEERS = {"fluxCreate", "fluxCreateHop", "monoJust", "jctoolsSpscSpin"}
FLOOR = "jctoolsSpscSpin"


def fnum(x, digits=3):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "?"
    if x >= 1000:
        return f"{x:,.0f}"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.{digits - 1}f}" if x >= 1 else f"{x:.{digits}f}"


def num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return f


class Row:
    """One benchmark result in ns/item (or ns/op)."""

    def __init__(self, entry, jdk_tag):
        self.cls, self.method = entry["benchmark"].split(".")[-2:]
        self.jdk = entry.get("jdkVersion", "?")
        self.jdk_major = self.jdk.split(".")[0]
        self.forks = entry.get("forks", 1)
        self.params = dict(entry.get("params", {}))
        self.impl = self.params.pop("impl", "?")
        pm = entry["primaryMetric"]
        sec = entry.get("secondaryMetrics", {})
        self.percentiles = None
        alloc_norm = sec.get("gc.alloc.rate.norm", sec.get("\u00b7gc.alloc.rate.norm"))
        self.bytes = num(alloc_norm["score"]) if alloc_norm else float("nan")
        if self.cls == "S1aHot":
            polls = sec.get("pollsMade")
            rate = num(polls["score"]) if polls else float("nan")
            err = num(polls.get("scoreError")) if polls else float("nan")
            self.ns = 1000.0 / rate if rate > 0 else float("nan")
            self.err = self.ns * (err / rate) if rate > 0 and not math.isnan(err) else float("nan")
            alloc = sec.get("gc.alloc.rate")
            # MB/sec (JMH: 2^20 bytes) over items/sec
            self.bytes = (num(alloc["score"]) * 1048576.0) / (rate * 1e6) if alloc and rate > 0 else float("nan")
        else:
            self.ns = fork_median(pm)
            self.err = num(pm.get("scoreError"))
            if pm.get("scorePercentiles") and entry.get("mode") == "sample":
                p = pm["scorePercentiles"]
                self.percentiles = (num(p.get("50.0")), num(p.get("99.0")), num(p.get("99.9")))
        self.group = group_of(self)
        # Spread of the measurement iterations (all forks), shown when JMH gives no CI (fewer than 3 iterations).
        raw = (sec.get("pollsMade") or {}).get("rawData") if self.cls == "S1aHot" else pm.get("rawData")
        values = [v for fork in (raw or []) for v in fork]
        if self.cls == "S1aHot":
            values = [1000.0 / v for v in values if v > 0]
        self.spread = (min(values), max(values)) if len(values) >= 2 else None

    def score(self):
        """The ns value with its 99.9% CI, or the range of iterations when JMH gives no CI."""
        if not math.isnan(self.err):
            return f"{fnum(self.ns)} ±{fnum(self.err)}"
        if self.spread:
            return f"{fnum(self.ns)} ({fnum(self.spread[0])}-{fnum(self.spread[1])})"
        return f"{fnum(self.ns)} ±?"

    def label(self):
        parts = [SCENARIOS.get(self.cls, (self.cls,))[0]]
        for key in ("capacity", "threads"):
            if key in self.params:
                parts.append(f"cap {self.params[key]}" if key == "capacity" else self.params[key])
        if self.group:
            parts.append(self.group)
        parts.append(f"JDK {self.jdk_major}")
        return ", ".join(parts)


def fork_median(pm):
    """Median over forks of each fork's mean (notes 5.3); with one fork, JMH's score."""
    raw = pm.get("rawData") or []
    means = [statistics.fmean(it) for it in raw if it]
    if len(means) >= 2:
        return statistics.median(means)
    return num(pm["score"])


def group_of(row):
    if row.cls == "S2ToFlux":
        return "hop" if row.impl.endswith("Hop") or row.impl == "submissionPublisher" else "direct"
    if row.cls == "S9Operators":
        return "stage" if row.impl in S9_STAGE else "source"
    return ""


def reference(rows):
    for name in SLUICE_NAMES:
        for r in rows:
            if r.impl == name:
                return r
    return None


def ratio(peer, ours):
    if ours is None or not (ours.ns > 0) or math.isnan(peer.ns):
        return "?", float("nan")
    value = peer.ns / ours.ns
    overlap = (not math.isnan(peer.err) and not math.isnan(ours.err)
               and abs(peer.ns - ours.ns) <= peer.err + ours.err)
    return ("~" if overlap else "") + f"{value:.2f}", value


def load(results_dir):
    rows = []
    for path in sorted(glob.glob(os.path.join(results_dir, "jdk*", "*.json"))):
        tag = os.path.basename(os.path.dirname(path))
        with open(path) as f:
            text = f.read().strip()
        if not text:
            continue
        for entry in json.loads(text):
            rows.append(Row(entry, tag))
    return rows


def grouped(rows):
    groups = {}
    for r in rows:
        groups.setdefault((r.cls, r.label()), []).append(r)
    order = list(SCENARIOS)

    def key(item):
        (cls, label), rs = item
        r = rs[0]
        cap = int(r.params.get("capacity", 0))
        return (order.index(cls) if cls in order else 99, r.jdk_major, r.params.get("threads", ""), cap, r.group)
    return sorted(groups.items(), key=key)


def summary_table(groups):
    out = ["| Scenario (params, JDK) | Sluice ns/item ±CI (or range) | ABQ | ABQ/Sluice | best peer (name: ns) | best/Sluice "
           "| floor (busy spin) | Sluice/floor | Sluice B/op |",
           "|---|---|---|---|---|---|---|---|---|"]
    for (cls, label), rs in groups:
        ours = reference(rs)
        if ours is None:
            continue
        abq = next((r for r in rs if r.impl == "abq"), None)
        peers = [r for r in rs if r is not ours and r.impl not in SLUICE_NAMES and r.impl not in NOT_PEERS
                 and not math.isnan(r.ns)]
        floor = next((r for r in rs if r.impl == FLOOR), None)
        floor_txt = floor_ratio = "-"
        if floor is not None:
            f_ns = floor.percentiles[0] if floor.percentiles else floor.ns
            o_ns = ours.percentiles[0] if ours.percentiles else ours.ns
            floor_txt = ("p50 " if floor.percentiles else "") + fnum(f_ns)
            floor_ratio = f"{o_ns / f_ns:.1f}" if f_ns else "?"
        best = min(peers, key=lambda r: r.ns) if peers else None
        metric = ours.percentiles[0] if ours.percentiles else ours.ns
        ours_txt = f"p50 {fnum(metric)}" if ours.percentiles else ours.score()
        abq_txt = abq_ratio = "-"
        if abq is not None:
            if ours.percentiles:
                abq_txt = f"p50 {fnum(abq.percentiles[0])}"
                abq_ratio = f"{abq.percentiles[0] / metric:.2f}" if metric else "?"
            else:
                abq_txt = fnum(abq.ns)
                abq_ratio = ratio(abq, ours)[0]
        best_txt = best_ratio = "-"
        if best is not None:
            if ours.percentiles:
                best = min(peers, key=lambda r: r.percentiles[0])
                best_txt = f"{best.impl}: p50 {fnum(best.percentiles[0])}"
                best_ratio = f"{best.percentiles[0] / metric:.2f}" if metric else "?"
            else:
                best_txt = f"{best.impl}: {fnum(best.ns)}"
                best_ratio = ratio(best, ours)[0]
        out.append(f"| {label} | {ours_txt} | {abq_txt} | {abq_ratio} | {best_txt} | {best_ratio} "
                   f"| {floor_txt} | {floor_ratio} | {fnum(ours.bytes)} |")
    return "\n".join(out)


def detail_tables(groups):
    out = []
    current = None
    for (cls, label), rs in groups:
        if cls != current:
            current = cls
            name, title = SCENARIOS.get(cls, (cls, ""))
            out.append(f"\n#### {name}: {title}\n")
        ours = reference(rs)
        sample = any(r.percentiles for r in rs)
        out.append(f"**{label}**\n")
        if sample:
            out.append("| impl | mean ns ±CI | p50 | p99 | p99.9 | p50 ratio peer/Sluice | B/op | note |")
            out.append("|---|---|---|---|---|---|---|---|")
        else:
            unit = "ns/op" if cls == "S6Mono" else "ns/item"
            out.append(f"| impl | {unit} ±CI (or range) | ratio peer/Sluice | B/op | note |")
            out.append("|---|---|---|---|---|")
        ordered = ([ours] if ours else []) + sorted((r for r in rs if r is not ours), key=lambda r: r.ns)
        for r in ordered:
            name = f"**{r.impl}**" if r is ours else r.impl
            note = NOTES.get(r.impl, "")
            if cls in THROUGHPUT_NOTE and r.ns > 0:
                note = (note + "; " if note else "") + f"{1e9 / r.ns / 1e6:.2f} M items/s"
            if sample:
                p50, p99, p999 = r.percentiles or (float("nan"),) * 3
                rat = "-" if r is ours or not ours or not ours.percentiles else f"{p50 / ours.percentiles[0]:.2f}"
                out.append(f"| {name} | {r.score()} | {fnum(p50)} | {fnum(p99)} | {fnum(p999)} "
                           f"| {rat} | {fnum(r.bytes)} | {note} |")
            else:
                rat = "-" if r is ours else ratio(r, ours)[0]
                out.append(f"| {name} | {r.score()} | {rat} | {fnum(r.bytes)} | {note} |")
        out.append("")
    return "\n".join(out)


def target_checks(rows):
    """Issue 12 targets (issue 6's S6 target kept), checked on whatever rows exist: (description, value, met)."""
    lines = []

    def find(cls, impl, **params):
        for r in rows:
            if r.cls == cls and r.impl == impl and all(r.params.get(k) == v for k, v in params.items()):
                yield r

    def same_jdk(cls, impl, ours, **params):
        return [r for r in find(cls, impl, **params) if r.jdk_major == ours.jdk_major]

    def check(text, value, ok):
        lines.append((text, value, ok))

    for ours in find("S1bOneToOne", "sluice"):
        cap = int(ours.params["capacity"])
        need = 3 if cap >= 256 else 7 if cap == 16 else None
        for abq in same_jdk("S1bOneToOne", "abq", ours, capacity=ours.params["capacity"],
                            threads=ours.params["threads"]):
            if need:
                r = abq.ns / ours.ns
                check(f"S1b cap {cap} {ours.params['threads']} JDK {ours.jdk_major}: ABQ/Sluice >= {need}",
                      f"{r:.2f}", r >= need)
    for direct in [r for name in ("sluice", "sluiceFlux") for r in find("S2ToFlux", name)]:
        for p in same_jdk("S2ToFlux", "sinksUnicast", direct):
            r = direct.ns / p.ns
            check(f"S2 direct JDK {direct.jdk_major}: {direct.impl}/sinksUnicast <= 1.2", f"{r:.2f}", r <= 1.2)
        check(f"S2 direct JDK {direct.jdk_major}: {direct.impl} allocates 0 B/item", f"{fnum(direct.bytes)} B",
              direct.bytes < 0.5)
    for hop in [r for name in ("sluiceHop", "sluiceFluxHop") for r in find("S2ToFlux", name)]:
        for name in ("sinksUnicastHop", "submissionPublisher"):
            for p in same_jdk("S2ToFlux", name, hop):
                r = p.ns / hop.ns
                check(f"S2 hop JDK {hop.jdk_major}: {hop.impl} faster than {p.impl} ({p.impl}/{hop.impl} > 1)",
                      f"{r:.2f}", r > 1)
    for ours in find("S3FromFlux", "sluice"):
        for p in same_jdk("S3FromFlux", "toIterable", ours):
            r = p.ns / ours.ns
            check(f"S3 JDK {ours.jdk_major}: toIterable/Sluice >= 2", f"{r:.2f}", r >= 2)
    for ours in find("S4ManyToOne", "sluice"):
        for p in same_jdk("S4ManyToOne", "abq", ours, capacity=ours.params["capacity"],
                          threads=ours.params["threads"]):
            r = p.ns / ours.ns
            check(f"S4 cap {ours.params['capacity']} {ours.params['threads']} JDK {ours.jdk_major}: "
                  f"never slower than ABQ (ABQ/Sluice >= 1)", f"{r:.2f}", r >= 1)
    for ours_name, peer_name in (("throughBlocking", "publishOnWorkaround"), ("fromBlocking", "createPublishOn")):
        for ours in find("S9Operators", ours_name):
            for p in same_jdk("S9Operators", peer_name, ours):
                r = p.ns / ours.ns
                check(f"S9 JDK {ours.jdk_major}: {ours_name} faster than {peer_name} ({peer_name}/{ours_name} > 1)",
                      f"{r:.2f}", r > 1)
    for ours in [r for name in ("sluiceAsync", "sluiceMono") for r in find("S6Mono", name)]:
        for p in same_jdk("S6Mono", "sinksOne", ours):
            r = ours.ns / p.ns
            check(f"S6 JDK {ours.jdk_major}: {ours.impl} <= 2x Sinks.one() ({ours.impl}/sinksOne <= 2)",
                  f"{r:.2f}", r <= 2)
    return lines


def met(ok):
    return "met" if ok else "**missed**"


def targets(rows):
    lines = [f"| {text} (is {value}) | {met(ok)} |" for text, value, ok in target_checks(rows)]
    if not lines:
        return ""
    return "\n".join(["| Target (issue 12; S6: issue 6) | this run |", "|---|---|"] + lines)


def environment(results_dir):
    path = os.path.join(results_dir, "env.json")
    if not os.path.exists(path):
        return ""
    env = json.load(open(path))
    jdk17 = " / ".join(env.get("jdk17", [])[:2])
    jdk25 = " / ".join(env.get("jdk25", [])[:2])
    lines = [
        "```",
        f"mode:      {env.get('mode')}",
        f"command:   {env.get('command')}",
        f"date:      {env.get('date')}"
        + (f" (interrupted, resumed with SLUICE_BENCH_RESUME=1 at {', '.join(env['resumed'])}:"
           " jobs already done were kept)" if env.get("resumed") else ""),
        f"cpu:       {env.get('cpu')}, {env.get('cpus')} CPUs",
        f"load avg:  before {' '.join(env.get('load_before', []))}, after {' '.join(env.get('load_after', []))}"
        " (1/5/15 min; the machine is shared)",
    ]
    if env.get("uptime_before"):
        lines += [f"uptime:    before: {env['uptime_before']}", f"           after:  {env.get('uptime_after', '?')}"]
    if env.get("load"):
        lines.append(f"LOAD:      {env['load']} busy-loop process(es) `sh -c 'while :; do :; done'` ran beside every "
                     "fork (SLUICE_BENCH_LOAD)")
    lines += [
        f"JDK 17:    {jdk17}",
        f"JDK 25:    {jdk25}",
        f"git:       {env.get('git')}",
    ]
    for side in ("old", "new"):
        jar = env.get(f"{side}_jar")
        if jar:
            built = "; ".join(jar.get("built", [])) or "no ab-jar.sh record"
            lines.append(f"{side} jar:   {jar['path']} (sha256 {jar['sha256']}): {built}")
    if env.get("mode") == "ab":
        lines.append(f"forks:     {env.get('ab_forks')} per jar and row, interleaved (old new | new old | ...)")
    lines += [
        f"JMH:       java -jar <jar> <job> {env.get('jmh_options', '')} -rf json",
        "jobs (@JDK17@/@JDK25@ = on that JDK only):",
    ] + [f"  {job.replace('|', ': ', 1)}" for job in env.get("jobs", [])] + ["```"]
    return "\n".join(lines)


def read_env(results_dir):
    path = os.path.join(results_dir, "env.json")
    return json.load(open(path)) if os.path.exists(path) else {}


def metric(r):
    """The number a row is compared by: p50 for SampleTime rows, else ns/item (ns/op)."""
    return r.percentiles[0] if r.percentiles else r.ns


def render(results_dir, chart_links=None):
    rows = load(results_dir)
    groups = grouped(rows)
    env = read_env(results_dir)
    mode = env.get("mode", "?")
    forks = sorted({r.forks for r in rows})
    title = f"### Results: `{mode}` run ({', '.join(map(str, forks))} fork(s) per row)"
    if env.get("load"):
        title += f", UNDER LOAD ({env['load']} busy loop(s) beside the forks)"
    head = [title + "\n"]
    if env.get("load"):
        head.append(f"**Load was on: {env['load']} busy-loop process(es) (`sh -c 'while :; do :; done'`) competed "
                    "with every fork for the 2 cores, a stand-in for a busy server. Compare these rows with each "
                    "other, not with a quiet run.**\n")
    if forks and min(forks) < 3:
        head.append(f"**This is a {mode} run: {min(forks)} fork(s) and short iterations, on a shared 2-core machine. "
                    "The numbers are noisy (expect +-30-50%); use them for orders of magnitude, not for small "
                    "differences.**\n")
    head.append("Lower ns is better. ratio = peer / Sluice: > 1 means Sluice is faster; `~` means the 99.9% "
                "confidence intervals overlap. With fewer than 3 measurement iterations JMH gives no CI: the "
                "range of the iterations (low-high) is shown instead.\n")
    parts = head + [environment(results_dir), ""]
    if chart_links:
        parts += ["#### Charts", "", chart_links, ""]
    parts += ["#### Summary", "", summary_table(groups), ""]
    t = targets(rows)
    if t:
        parts += ["#### Targets", "", t, ""]
    parts += ["#### Details", detail_tables(groups)]
    return "\n".join(parts), len(rows)


# ---- A/B: two jars, one fork per JSON file: <results>/jdkNN/<job>/old-<k>.json, new-<k>.json ----

def merge(forks):
    """One row from single-fork rows of the same benchmark: medians over forks, the fork range as spread."""
    merged = copy.copy(forks[0])
    values = [r.ns for r in forks if not math.isnan(r.ns)]
    merged.fork_values = [metric(r) for r in forks]
    merged.ns = statistics.median(values) if values else float("nan")
    merged.err = float("nan")
    merged.forks = len(forks)
    merged.spread = (min(values), max(values)) if len(values) >= 2 else None
    if forks[0].percentiles:
        merged.percentiles = tuple(statistics.median(r.percentiles[i] for r in forks) for i in range(3))
    b = [r.bytes for r in forks if not math.isnan(r.bytes)]
    merged.bytes = statistics.median(b) if b else float("nan")
    return merged


def load_ab(results_dir):
    """{side: [merged rows]} for side in old, new."""
    per = {}
    for path in sorted(glob.glob(os.path.join(results_dir, "jdk*", "*", "*-*.json"))):
        side = os.path.basename(path).split("-", 1)[0]
        if side not in ("old", "new"):
            continue
        text = open(path).read().strip()
        if not text:
            continue
        tag = os.path.basename(os.path.dirname(os.path.dirname(path)))
        for entry in json.loads(text):
            r = Row(entry, tag)
            per.setdefault((side, r.cls, r.label(), r.impl), []).append(r)
    out = {"old": [], "new": []}
    for (side, _, _, _), forks in per.items():
        out[side].append(merge(forks))
    return out


def fork_range(r):
    values = getattr(r, "fork_values", None) or [metric(r)]
    return min(values), max(values)


def ab_table(old_rows, new_rows):
    """Before/after per row: medians over forks, the fork range, old/new (> 1: the new jar is faster)."""
    old = {(r.cls, r.label(), r.impl): r for r in old_rows}
    new = {(r.cls, r.label(), r.impl): r for r in new_rows}
    out = ["| Scenario (params, JDK) | impl | old: median (fork range) | new: median (fork range) | old/new "
           "| old B/op | new B/op |",
           "|---|---|---|---|---|---|---|"]
    for (cls, label), rs in grouped(list(new.values()) + [r for k, r in old.items() if k not in new]):
        ours = reference(rs)
        ordered = ([ours] if ours else []) + sorted((r for r in rs if r is not ours), key=lambda r: r.impl)
        for r in ordered:
            key = (cls, label, r.impl)
            o, n = old.get(key), new.get(key)
            cells = []
            for x in (o, n):
                if x is None:
                    cells.append("-")
                    continue
                lo, hi = fork_range(x)
                prefix = "p50 " if x.percentiles else ""
                cells.append(f"{prefix}{fnum(metric(x))} ({fnum(lo)}-{fnum(hi)}), {x.forks} forks")
            rat = "-"
            if o is not None and n is not None and metric(n) > 0:
                value = metric(o) / metric(n)
                (olo, ohi), (nlo, nhi) = fork_range(o), fork_range(n)
                overlap = olo <= nhi and nlo <= ohi
                rat = ("~" if overlap else "") + f"{value:.2f}"
                if r.impl in SLUICE_NAMES and not overlap:
                    rat = f"**{rat}**"
            name = f"**{r.impl}**" if r.impl in SLUICE_NAMES else f"{r.impl} (control)"
            if r.impl == FLOOR:
                name = f"{r.impl} (floor)"
            out.append(f"| {label} | {name} | {cells[0]} | {cells[1]} | {rat} "
                       f"| {fnum(o.bytes) if o else '-'} | {fnum(n.bytes) if n else '-'} |")
    return "\n".join(out)


def calibration(old_rows, new_rows):
    lines = []
    for jdk in sorted({r.jdk_major for r in old_rows + new_rows}):
        cells = []
        for side, rows in (("old", old_rows), ("new", new_rows)):
            floors = [r for r in rows if r.impl == FLOOR and r.jdk_major == jdk and r.percentiles]
            for f in floors:
                lo, hi = fork_range(f)
                forks = ", ".join(fnum(v) for v in f.fork_values)
                cells.append(f"{side} jar p50 {fnum(f.percentiles[0])} ns (forks: {forks})")
        if cells:
            lines.append(f"- JDK {jdk}: " + "; ".join(cells))
    if not lines:
        return ("No S5 `jctoolsSpscSpin` rows in this run: the placement calibration is missing "
                "(the S5 job was not run).")
    return "\n".join(["S5 busy-spin floor (`jctoolsSpscSpin` ping-pong p50 RTT, capacity 1): the placement "
                      "calibration. Both jars hold the same floor code, so a fork whose floor is far off had its two "
                      "threads placed differently (far or near vCPUs): compare rows only when the floors agree.",
                      ""] + lines)


def ab_targets(old_rows, new_rows):
    old = {text: (value, ok) for text, value, ok in target_checks(old_rows)}
    lines = ["| Target (issue 12; S6: issue 6) | old jar | new jar |", "|---|---|---|"]
    for text, value, ok in target_checks(new_rows):
        o = old.get(text)
        lines.append(f"| {text} | {f'{o[0]} {met(o[1])}' if o else '-'} | {value} {met(ok)} |")
    return "\n".join(lines) if len(lines) > 2 else ""


def render_ab(results_dir, chart_links=None):
    env = read_env(results_dir)
    sides = load_ab(results_dir)
    old_rows, new_rows = sides["old"], sides["new"]
    title = "### A/B: old jar vs new jar"
    if env.get("load"):
        title += f", UNDER LOAD ({env['load']} busy loop(s) beside the forks)"
    parts = [title, ""]
    if env.get("load"):
        parts += [f"**Load was on: {env['load']} busy-loop process(es) beside every fork.**", ""]
    parts += ["Each row: the median over forks of each fork's mean (SampleTime rows: p50), the range over forks in "
              "brackets. old/new > 1 means the new jar is faster; `~` means the fork ranges overlap (not "
              "distinguishable); bold: a Sluice row whose ranges do not overlap. Peer rows are the same code in "
              "both jars: their old/new is a drift control and should be ~1.", ""]
    parts += [environment(results_dir), "", calibration(old_rows, new_rows), ""]
    if chart_links:
        parts += ["#### Charts", "", chart_links, ""]
    parts += ["#### Before / after", "", ab_table(old_rows, new_rows), ""]
    t = ab_targets(old_rows, new_rows)
    if t:
        parts += ["#### Targets", "", t, ""]
    return "\n".join(parts), len(old_rows) + len(new_rows)


# ---- SVG charts, written by hand (no plotting library) ----

SVG_FONT = "font-family=\"DejaVu Sans, Verdana, sans-serif\" font-size=\"12\""
COLOR_SLUICE = "#e8590c"
COLOR_SLUICE_VARIANT = "#ffa94d"
COLOR_PEER = "#868e96"
COLOR_REFERENCE = "#dee2e6"


def log_axis(values, lo_cap=1 / 1000.0, hi_cap=1000.0):
    """The log10 range of a diverging bar chart around 1, padded, clamped to [lo_cap, hi_cap]."""
    finite = [v for v in values if v > 0 and not math.isinf(v)]
    lo = min([1.0] + finite)
    hi = max([1.0] + finite)
    lo = max(lo / 1.5, lo_cap)
    hi = min(hi * 1.5, hi_cap)
    return math.log10(lo), math.log10(hi)


def ticks(lo, hi):
    """1, 3, 10, 30, ... and 1/3, 1/10, ... inside the axis; only decades when the axis is wide."""
    steps = (1, 3) if hi - lo <= 3.2 else (1,)
    ups = [m * 10 ** k for k in range(0, 4) for m in steps]
    return sorted(v for v in set(ups + [1.0 / u for u in ups]) if lo <= math.log10(v) <= hi)


def tick_label(v):
    return f"{v:g}x" if v >= 1 else f"1/{1 / v:g}x"


def bar_chart(title, subtitle, panels, width=1020, label_width=270, note_width=340):
    """
    panels: [(panel title or None, [(label, value, color, note)])]; value = time relative to the reference
    (1 = as fast; < 1 = faster), drawn on a log scale as a bar from 1.
    """
    row_h, gap, top = 18, 10, 58
    plot_x0 = label_width
    plot_w = width - label_width - note_width
    label_chars = max((len(label) for _, bars in panels for label, _, _, _ in bars), default=0)
    note_chars = max((len(note) for _, bars in panels for _, _, _, note in bars), default=0)
    if 7 * note_chars + 16 > note_width:
        width += 7 * note_chars + 16 - note_width
        note_width = 7 * note_chars + 16
    if 7 * label_chars + 16 > label_width:   # long labels (A/B rows): widen the label column
        plot_x0 = label_width = 7 * label_chars + 16
        width = label_width + plot_w + note_width
    values = [v for _, bars in panels for _, v, _, _ in bars if v is not None and not math.isnan(v)]
    lo, hi = log_axis(values)

    def x(v):
        lv = min(max(math.log10(v), lo), hi)
        return plot_x0 + (lv - lo) / (hi - lo) * plot_w

    height = top + sum(len(b) * row_h + (row_h if t else 0) + gap for t, b in panels) + 30
    width = max(width, 9 * len(title) + 20, 7 * len(subtitle) + 20)
    e = html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" {SVG_FONT}>',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="20" font-size="15" font-weight="bold">{e(title)}</text>',
           f'<text x="10" y="38" fill="#495057">{e(subtitle)}</text>']
    y = top
    grid_top = y
    for panel_title, bars in panels:
        if panel_title:
            out.append(f'<text x="10" y="{y + 13}" font-weight="bold">{e(panel_title)}</text>')
            y += row_h
        for label, value, color, note in bars:
            out.append(f'<text x="{plot_x0 - 6}" y="{y + 13}" text-anchor="end">{e(label)}</text>')
            if value is not None and not math.isnan(value) and value > 0:
                x1, x0 = x(value), x(1.0)
                left, w = min(x0, x1), max(abs(x1 - x0), 1.5)
                out.append(f'<rect x="{left:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{color}"'
                           + (' stroke="#adb5bd"' if color == COLOR_REFERENCE else '') + '/>')
                clipped = math.log10(value) > hi or math.log10(value) < lo
                if clipped:
                    out.append(f'<text x="{x1 + (4 if x1 > x0 else -4):.1f}" y="{y + 13}" '
                               f'text-anchor="{"start" if x1 > x0 else "end"}">&#187;</text>')
            out.append(f'<text x="{plot_x0 + plot_w + 8}" y="{y + 13}" fill="#343a40">{e(note)}</text>')
            y += row_h
        y += gap
    # grid and axis over the bars' area
    for t in ticks(lo, hi):
        tx = x(t)
        strong = abs(t - 1.0) < 1e-9
        out.append(f'<line x1="{tx:.1f}" y1="{grid_top}" x2="{tx:.1f}" y2="{y}" '
                   f'stroke="{"#212529" if strong else "#e9ecef"}" stroke-width="{1.5 if strong else 1}"/>')
        out.append(f'<text x="{tx:.1f}" y="{y + 14}" text-anchor="middle" fill="#495057">{tick_label(t)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def bar_color(r, ours):
    if r is ours:
        return COLOR_SLUICE
    if r.impl in SLUICE_NAMES:
        return COLOR_SLUICE_VARIANT
    if r.impl in NOT_PEERS:
        return COLOR_REFERENCE
    return COLOR_PEER


def best_peer(rs, ours):
    peers = [r for r in rs if r is not ours and r.impl not in SLUICE_NAMES and r.impl not in NOT_PEERS
             and not math.isnan(metric(r))]
    return min(peers, key=metric) if peers else None


def unit(r):
    return "ns p50" if r.percentiles else "ns"


def write_charts(results_dir, rows, what):
    """Per JDK: summary-jdkNN.svg (Sluice vs the best peer per scenario) and <scenario>-jdkNN.svg (every impl
    relative to the best peer). Returns the written paths."""
    charts = os.path.join(results_dir, "charts")
    os.makedirs(charts, exist_ok=True)
    for old in glob.glob(os.path.join(charts, "*.svg")):
        os.remove(old)
    written = []
    groups = grouped(rows)
    subtitle = ("time relative to the best peer (log scale), left of 1x = faster; orange = Sluice; "
                "light = floor/unbounded/baseline, not a peer")
    for jdk in sorted({r.jdk_major for r in rows}):
        summary = []
        per_cls = {}
        for (cls, label), rs in groups:
            if rs[0].jdk_major != jdk:
                continue
            ours = reference(rs)
            best = best_peer(rs, ours)
            if ours is None or best is None:
                continue
            short = label.replace(f", JDK {jdk}", "")
            rel = metric(ours) / metric(best)
            verdict = f"{1 / rel:.2f}x faster" if rel < 1 else f"{rel:.2f}x slower"
            summary.append((short, rel, COLOR_SLUICE,
                            f"{fnum(metric(ours))} vs {best.impl} {fnum(metric(best))} {unit(ours)}: {verdict}"))
            bars = []
            ordered = [ours] + sorted((r for r in rs if r is not ours), key=metric)
            for r in ordered:
                v = metric(r) / metric(best)
                mark = " (best peer)" if r is best else ""
                bars.append((r.impl + mark, v, bar_color(r, ours), f"{fnum(metric(r))} {unit(r)} ({v:.2f}x)"))
            per_cls.setdefault(cls, []).append((short, bars))
        if summary:
            path = os.path.join(charts, f"summary-jdk{jdk}.svg")
            with open(path, "w") as f:
                f.write(bar_chart(f"Sluice vs the best peer, JDK {jdk} ({what})",
                                  "Sluice's time relative to the fastest bounded peer of each scenario (log scale): "
                                  "left of 1x = Sluice faster", [(None, summary)]))
            written.append(path)
        for cls, panels in per_cls.items():
            name = SCENARIOS.get(cls, (cls, ""))
            path = os.path.join(charts, f"{name[0]}-jdk{jdk}.svg")
            with open(path, "w") as f:
                f.write(bar_chart(f"{name[0]}, JDK {jdk}: {name[1]}", f"{what}; {subtitle}", panels))
            written.append(path)
    return written


def write_ab_charts(results_dir, old_rows, new_rows, what):
    charts = os.path.join(results_dir, "charts")
    os.makedirs(charts, exist_ok=True)
    for old in glob.glob(os.path.join(charts, "*.svg")):
        os.remove(old)
    old = {(r.cls, r.label(), r.impl): r for r in old_rows}
    written = []
    for jdk in sorted({r.jdk_major for r in new_rows}):
        bars = []
        for (cls, label), rs in grouped([r for r in new_rows if r.jdk_major == jdk]):
            for r in sorted(rs, key=lambda r: (r.impl not in SLUICE_NAMES, r.impl)):
                o = old.get((cls, label, r.impl))
                if o is None or not metric(o) > 0:
                    continue
                v = metric(r) / metric(o)
                color = COLOR_SLUICE if r.impl in SLUICE_NAMES else COLOR_REFERENCE
                verdict = f"{1 / v:.2f}x faster" if v < 1 else f"{v:.2f}x slower"
                bars.append((f"{label.replace(f', JDK {jdk}', '')}: {r.impl}", v, color,
                             f"{fnum(metric(o))} -> {fnum(metric(r))} {unit(r)}: {verdict}"))
        if bars:
            path = os.path.join(charts, f"ab-jdk{jdk}.svg")
            with open(path, "w") as f:
                f.write(bar_chart(f"A/B: new jar vs old jar, JDK {jdk} ({what})",
                                  "new time relative to old (log scale): left of 1x = the new jar is faster; "
                                  "light = peers (same code in both jars: drift control)", [(None, bars)],
                                  label_width=380, note_width=260))
            written.append(path)
    return written


def chart_markdown(paths, base_dir):
    """Markdown for the charts: summary charts inline, the others as links."""
    inline, links = [], []
    for p in paths:
        rel = os.path.relpath(p, base_dir).replace(os.sep, "/")
        name = os.path.basename(p)[:-4]
        if name.startswith("summary-") or name.startswith("ab-"):
            inline.append(f"![{name}]({rel})")
        else:
            links.append(f"[{name}]({rel})")
    parts = ["\n\n".join(inline)]
    if links:
        parts.append("Per scenario (every impl relative to the best peer): " + " · ".join(links))
    return "\n\n".join(parts)


def block_name(results_dir, env):
    """The README block a results directory renders into: "results" for quick/full, else the directory's name."""
    name = os.path.basename(os.path.normpath(results_dir))
    return "results" if name in ("quick", "full") else name


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--readme")
    ap.add_argument("--block", help="README block name (default: results for quick/full, else the directory name)")
    ap.add_argument("--out")
    ap.add_argument("--expect", type=int, default=0)
    ap.add_argument("--no-charts", action="store_true", help="do not write SVG charts")
    args = ap.parse_args()
    env = read_env(args.results)
    is_ab = env.get("mode") == "ab"
    base = os.path.dirname(os.path.abspath(args.readme or args.out or os.path.join(args.results, "x")))
    what = f"{env.get('mode', '?')} run {env.get('date', '')}".strip() + (", under load" if env.get("load") else "")
    links = None
    if is_ab:
        sides = load_ab(args.results)
        if not args.no_charts:
            links = chart_markdown(write_ab_charts(args.results, sides["old"], sides["new"], what), base)
        text, count = render_ab(args.results, links)
    else:
        if not args.no_charts:
            links = chart_markdown(write_charts(args.results, load(args.results), what), base)
        text, count = render(args.results, links)
    if count < args.expect:
        sys.exit(f"FAIL: found {count} benchmark results in {args.results}, expected at least {args.expect}")
    if args.readme:
        block = args.block or block_name(args.results, env)
        begin, end = f"<!-- {block}:begin -->", f"<!-- {block}:end -->"
        with open(args.readme) as f:
            readme = f.read()
        if begin in readme and end in readme:
            before, rest = readme.split(begin, 1)
            _, after = rest.split(end, 1)
        else:
            before, after = readme.rstrip("\n") + "\n\n", "\n"
        with open(args.readme, "w") as f:
            f.write(before + begin + "\n" + text + "\n" + end + after)
        print(f"rendered {count} results into {args.readme} (block {block})")
    elif args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
        print(f"rendered {count} results into {args.out}")
    else:
        print(text)


if __name__ == "__main__":
    main()
