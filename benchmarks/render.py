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
import glob
import json
import math
import os
import statistics
import sys

BEGIN = "<!-- results:begin -->"
END = "<!-- results:end -->"

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


def targets(rows):
    """Issue 12 targets (issue 6's S6 target kept), checked on whatever rows exist."""
    lines = []

    def find(cls, impl, **params):
        for r in rows:
            if r.cls == cls and r.impl == impl and all(r.params.get(k) == v for k, v in params.items()):
                yield r

    def same_jdk(cls, impl, ours, **params):
        return [r for r in find(cls, impl, **params) if r.jdk_major == ours.jdk_major]

    def check(text, ok):
        lines.append(f"| {text} | {'met' if ok else '**missed**'} |")

    for ours in find("S1bOneToOne", "sluice"):
        cap = int(ours.params["capacity"])
        need = 3 if cap >= 256 else 7 if cap == 16 else None
        for abq in same_jdk("S1bOneToOne", "abq", ours, capacity=ours.params["capacity"],
                            threads=ours.params["threads"]):
            if need:
                r = abq.ns / ours.ns
                check(f"S1b cap {cap} {ours.params['threads']} JDK {ours.jdk_major}: ABQ/Sluice >= {need} "
                      f"(is {r:.2f})", r >= need)
    for direct in [r for name in ("sluice", "sluiceFlux") for r in find("S2ToFlux", name)]:
        for p in same_jdk("S2ToFlux", "sinksUnicast", direct):
            r = direct.ns / p.ns
            check(f"S2 direct JDK {direct.jdk_major}: {direct.impl} within 1.2x of sinksUnicast "
                  f"({direct.impl}/sinksUnicast {r:.2f})", r <= 1.2)
        check(f"S2 direct JDK {direct.jdk_major}: {direct.impl} allocates 0 B/item (is {fnum(direct.bytes)})",
              direct.bytes < 0.5)
    for hop in [r for name in ("sluiceHop", "sluiceFluxHop") for r in find("S2ToFlux", name)]:
        for name in ("sinksUnicastHop", "submissionPublisher"):
            for p in same_jdk("S2ToFlux", name, hop):
                r = p.ns / hop.ns
                check(f"S2 hop JDK {hop.jdk_major}: {hop.impl} faster than {p.impl} ({p.impl}/{hop.impl} {r:.2f})",
                      r > 1)
    for ours in find("S3FromFlux", "sluice"):
        for p in same_jdk("S3FromFlux", "toIterable", ours):
            r = p.ns / ours.ns
            check(f"S3 JDK {ours.jdk_major}: toIterable/Sluice >= 2 (is {r:.2f})", r >= 2)
    for ours in find("S4ManyToOne", "sluice"):
        for p in same_jdk("S4ManyToOne", "abq", ours, capacity=ours.params["capacity"],
                          threads=ours.params["threads"]):
            r = p.ns / ours.ns
            check(f"S4 cap {ours.params['capacity']} {ours.params['threads']} JDK {ours.jdk_major}: "
                  f"never slower than ABQ (ABQ/Sluice {r:.2f})", r >= 1)
    for ours_name, peer_name in (("throughBlocking", "publishOnWorkaround"), ("fromBlocking", "createPublishOn")):
        for ours in find("S9Operators", ours_name):
            for p in same_jdk("S9Operators", peer_name, ours):
                r = p.ns / ours.ns
                check(f"S9 JDK {ours.jdk_major}: {ours_name} faster than {peer_name} ({peer_name}/{ours_name} "
                      f"{r:.2f})", r > 1)
    for ours in [r for name in ("sluiceAsync", "sluiceMono") for r in find("S6Mono", name)]:
        for p in same_jdk("S6Mono", "sinksOne", ours):
            r = ours.ns / p.ns
            check(f"S6 JDK {ours.jdk_major}: {ours.impl} <= 2x Sinks.one() ({ours.impl}/sinksOne {r:.2f})",
                  r <= 2)
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
    return "\n".join([
        "```",
        f"mode:      {env.get('mode')}",
        f"command:   {env.get('command')}",
        f"date:      {env.get('date')}"
        + (f" (interrupted, resumed with SLUICE_BENCH_RESUME=1 at {', '.join(env['resumed'])}:"
           " jobs already done were kept)" if env.get("resumed") else ""),
        f"cpu:       {env.get('cpu')}, {env.get('cpus')} CPUs",
        f"load avg:  before {' '.join(env.get('load_before', []))}, after {' '.join(env.get('load_after', []))}"
        " (1/5/15 min; the machine is shared)",
        f"JDK 17:    {jdk17}",
        f"JDK 25:    {jdk25}",
        f"git:       {env.get('git')}",
        f"JMH:       java -jar benchmarks/target/benchmarks.jar <job> {env.get('jmh_options', '')} -rf json",
        "jobs (@JDK17@/@JDK25@ = on that JDK only):",
    ] + [f"  {job.replace('|', ': ', 1)}" for job in env.get("jobs", [])] + ["```"])


def render(results_dir):
    rows = load(results_dir)
    groups = grouped(rows)
    env = {}
    if os.path.exists(os.path.join(results_dir, "env.json")):
        env = json.load(open(os.path.join(results_dir, "env.json")))
    mode = env.get("mode", "?")
    forks = sorted({r.forks for r in rows})
    head = [f"### Results: `{mode}` run ({', '.join(map(str, forks))} fork(s) per row)\n"]
    if mode != "full":
        head.append(f"**This is a {mode} run: 1 fork and short iterations, on a shared 2-core machine. The numbers are "
                    "noisy (expect +-30-50%); use them for orders of magnitude, not for small differences.**\n")
    head.append("Lower ns is better. ratio = peer / Sluice: > 1 means Sluice is faster; `~` means the 99.9% "
                "confidence intervals overlap. With fewer than 3 measurement iterations JMH gives no CI: the "
                "range of the iterations (low-high) is shown instead.\n")
    parts = head + [environment(results_dir), "", "#### Summary", "", summary_table(groups), ""]
    t = targets(rows)
    if t:
        parts += ["#### Targets", "", t, ""]
    parts += ["#### Details", detail_tables(groups)]
    return "\n".join(parts), len(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--readme")
    ap.add_argument("--out")
    ap.add_argument("--expect", type=int, default=0)
    args = ap.parse_args()
    text, count = render(args.results)
    if count < args.expect:
        sys.exit(f"FAIL: found {count} benchmark results in {args.results}, expected at least {args.expect}")
    if args.readme:
        with open(args.readme) as f:
            readme = f.read()
        if BEGIN not in readme or END not in readme:
            sys.exit(f"FAIL: {args.readme} lacks the {BEGIN} / {END} markers")
        before, rest = readme.split(BEGIN, 1)
        _, after = rest.split(END, 1)
        with open(args.readme, "w") as f:
            f.write(before + BEGIN + "\n" + text + "\n" + END + after)
        print(f"rendered {count} results into {args.readme}")
    elif args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
        print(f"rendered {count} results into {args.out}")
    else:
        print(text)


if __name__ == "__main__":
    main()
