#!/usr/bin/env bash
# Runs the Sluice JMH benchmarks (see benchmarks/README.md) and renders the README's result table.
#
#   benchmarks/run.sh quick   key rows, 1 fork, 1x1 s warmup + 2x1 s measurement: about 10 minutes, noisy
#   benchmarks/run.sh full    the whole matrix, 3 forks, 2x1 s warmup + 3x1 s measurement per fork: about
#                             75 minutes on 2 cores (the annotations' 5x1 s + 5x2 s would take over 3 hours; set
#                             SLUICE_BENCH_TIMING=annotations to use them)
#   benchmarks/run.sh smoke   one scenario, one short iteration, for CI: asserts the benchmarks run and their
#                             checksums hold, nothing about speed (about 1 minute including the build)
#
# Every mode builds benchmarks/target/benchmarks.jar first (set SLUICE_BENCH_SKIP_BUILD=1 to reuse it), runs on
# JDK 17 ($SLUICE_JDK17_JAVA, else `java` if it is 17, else /usr/lib/jvm/java-17-*) and on JDK 25
# ($SLUICE_JDK25_JAVA, else /usr/lib/jvm/temurin-25-jdk-amd64), writes JMH JSON
# under benchmarks/results/<mode>/ with an env.json, and renders the tables with benchmarks/render.py.
# quick and full rewrite the results block of benchmarks/README.md; smoke writes results/smoke/table.md only.
# SLUICE_BENCH_TIMING="<JMH options>" replaces the mode's timing (for a dry run of a matrix: "-f 1 -wi 0 -i 1 -r 100ms");
# results then go to benchmarks/results/<mode>-custom/ and the README is left alone.
set -euo pipefail

MODE="${1:-quick}"
case "$MODE" in
    quick|full|smoke) ;;
    *) echo "usage: $0 [quick|full|smoke]" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
# find_java <major> <candidates...>: the first candidate whose `java -version` is that major version.
find_java() {
    local major="$1" candidate
    shift
    for candidate in "$@"; do
        if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -version 2>&1 | grep -q "version \"$major"; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}
JAVA17=$(find_java 17 "${SLUICE_JDK17_JAVA:-}" java /usr/lib/jvm/java-17-openjdk-amd64/bin/java \
    /usr/lib/jvm/*17*/bin/java) || { echo "FAIL: no JDK 17 found (set SLUICE_JDK17_JAVA)" >&2; exit 1; }
JAVA25=$(find_java 25 "${SLUICE_JDK25_JAVA:-}" /usr/lib/jvm/temurin-25-jdk-amd64/bin/java \
    /usr/lib/jvm/*25*/bin/java) || { echo "FAIL: no JDK 25 found (set SLUICE_JDK25_JAVA)" >&2; exit 1; }
JAR=benchmarks/target/benchmarks.jar
OUT="benchmarks/results/$MODE"
if [ -n "${SLUICE_BENCH_TIMING:-}" ] && [ "$SLUICE_BENCH_TIMING" != annotations ]; then
    OUT="benchmarks/results/$MODE-custom"
fi
COMMAND="benchmarks/run.sh $MODE"

log() { printf '\n=== %s ===\n' "$*"; }

start=$(date +%s)
if [ "${SLUICE_BENCH_SKIP_BUILD:-0}" != 1 ] || [ ! -f "$JAR" ]; then
    log "build: mvn -q -Pverification -pl benchmarks -am package -DskipTests"
    mvn -q -Pverification -pl benchmarks -am package -DskipTests
fi


# SLUICE_BENCH_RESUME=1 continues an interrupted run of the same mode: jobs whose JSON is there are skipped, and
# env.json keeps the first start (the README then says the run was resumed).
RESUME="${SLUICE_BENCH_RESUME:-0}"
if [ "$RESUME" != 1 ] || [ ! -f "$OUT/env.json" ]; then
    RESUME=0
    rm -rf "$OUT"
fi
mkdir -p "$OUT/jdk17" "$OUT/jdk25"

# JMH options per mode. -foe true: a failed checksum or timeout fails the run. -prof gc: B/op on every row.
case "$MODE" in
    smoke) TIMING=(-f 1 -wi 0 -i 1 -r 200ms) ;;
    quick) TIMING=(-f 1 -wi 1 -w 1s -i 2 -r 1s) ;;
    full)  TIMING=(-f 3 -wi 2 -w 1s -i 3 -r 1s) ;;
esac
if [ "${SLUICE_BENCH_TIMING:-}" = annotations ]; then
    TIMING=()   # the annotations: 3 forks, 5x1 s warmup, 5x2 s (B shape) or 5x1 s measurement
elif [ -n "${SLUICE_BENCH_TIMING:-}" ]; then
    read -r -a TIMING <<< "$SLUICE_BENCH_TIMING"
fi
COMMON=(-foe true -prof gc)

# Jobs: "<file name>|<JMH arguments>" (benchmark regex and -p parameters). Lines starting @JDK17@ or @JDK25@ run
# on that JDK only.
S1B_PEERS=sluice,abq,lbq,conversant,jctoolsMpscBlocking,disruptorBlocking,disruptorLiteBlocking,disruptorYielding
S4_PEERS=sluice,abq,lbq,conversant,jctoolsMpscBlocking,agronaManyToOne,disruptorBlocking,disruptorLiteBlocking
# Virtual-thread rows (JDK 25): the blocking peers; busy-spin and yielding peers are floors, not virtual-thread users.
VT_PEERS=sluice,abq,lbq,conversant,jctoolsMpscBlocking,disruptorBlocking
case "$MODE" in
    smoke)
        JOBS=(
            "S1b|S1bOneToOne -p capacity=256 -p impl=sluice,abq -p threads=platform"
            "@JDK25@S1b-virtual|S1bOneToOne -p capacity=256 -p impl=sluice -p threads=virtual"
        ) ;;
    quick)
        JOBS=(
            "@JDK17@S1b|S1bOneToOne -p capacity=16,256 -p impl=$S1B_PEERS -p threads=platform"
            "@JDK25@S1b|S1bOneToOne -p capacity=16,256 -p impl=sluice,abq,lbq,disruptorBlocking -p threads=platform"
            "@JDK25@S1b-virtual|S1bOneToOne -p capacity=16,256 -p impl=sluice,abq -p threads=virtual"
            "S2|S2ToFlux"
            "S3|S3FromFlux"
            "S4|S4ManyToOne -p capacity=256 -p impl=${S4_PEERS%,disruptorLiteBlocking} -p threads=platform"
            "S5|S5PingPong -p capacity=1 -p impl=sluice,abq,synchronousQueue,ltqTransfer,exchanger,jctoolsSpscSpin"
            "S6|S6Mono"
            "S-remote|SRemote -wi 4 -w 1s"
        ) ;;
    full)
        JOBS=(
            "S1a|S1aHot"
            "S1b|S1bOneToOne -p capacity=16,256,4096 -p impl=$S1B_PEERS -p threads=platform"
            "S1b-cap1|S1bOneToOne -p capacity=1 -p impl=$S1B_PEERS,synchronousQueue,ltqTransfer -p threads=platform"
            "@JDK25@S1b-virtual|S1bOneToOne -p capacity=16,256,4096 -p impl=$VT_PEERS -p threads=virtual"
            "@JDK25@S1b-cap1-virtual|S1bOneToOne -p capacity=1 -p impl=$VT_PEERS,synchronousQueue,ltqTransfer -p threads=virtual"
            "S2|S2ToFlux"
            "S3|S3FromFlux"
            "S4|S4ManyToOne -p threads=platform"
            "@JDK25@S4-virtual|S4ManyToOne -p capacity=256 -p impl=$VT_PEERS -p threads=virtual"
            "S5|S5PingPong -p capacity=1"
            "S5-cap16|S5PingPong -p capacity=16 -p impl=sluice,abq,conversant,jctoolsSpscSpin"
            "S6|S6Mono"
            "S-remote|SRemote -wi 4 -w 1s"
        ) ;;
esac

# Environment block for the README.
if [ "$RESUME" = 1 ]; then
    python3 - "$OUT/env.json" <<'PY'
import json, sys, datetime
env = json.load(open(sys.argv[1]))
env.setdefault("resumed", []).append(datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
json.dump(env, open(sys.argv[1], "w"), indent=2)
PY
else
python3 - "$OUT/env.json" "$MODE" "$COMMAND" "$JAVA17" "$JAVA25" "${TIMING[*]:-} ${COMMON[*]}" "${JOBS[@]}" <<'PY'
import json, os, subprocess, sys, datetime
out, mode, command, java17, java25, jmh_options = sys.argv[1:7]
jobs = sys.argv[7:]
def sh(*args):
    try:
        done = subprocess.run(args, capture_output=True, text=True)
        return done.stdout + done.stderr
    except OSError as e:
        return str(e)
lscpu = sh("lscpu")
model = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith("Model name")), "?")
sha = sh("git", "rev-parse", "HEAD").strip()
dirty = sh("git", "status", "--porcelain", "--untracked-files=no").strip()
env = {
    "mode": mode,
    "command": command,
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "cpu": model,
    "cpus": os.cpu_count(),
    "load_before": open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else [],
    "jdk17": sh(java17, "-version").strip().splitlines(),
    "jdk25": sh(java25, "-version").strip().splitlines(),
    "git": sha + (" (with uncommitted changes)" if dirty else ""),
    "jmh_options": jmh_options.strip(),
    "jobs": jobs,
}
json.dump(env, open(out, "w"), indent=2)
PY
fi

run_jobs() {
    local java="$1" tag="$2" job name args
    for job in "${JOBS[@]}"; do
        name="${job%%|*}"
        args="${job#*|}"
        if [[ "$name" == @JDK*@* ]]; then
            [[ "$name" == "@${tag^^}@"* ]] || continue
            name="${name#@*@}"
        fi
        # a job's own timing options (S-remote's longer warmup) replace the mode's: JMH refuses repeated options
        local timing=() i=0
        while [ $i -lt ${#TIMING[@]} ]; do
            if [[ " $args " == *" ${TIMING[$i]} "* ]]; then
                i=$((i + 2))
                continue
            fi
            timing+=("${TIMING[$i]}" "${TIMING[$((i + 1))]}")
            i=$((i + 2))
        done
        if [ "$RESUME" = 1 ] && [ -s "$OUT/$tag/$name.json" ]; then
            log "$tag $name: done in the interrupted run, skipped"
            continue
        fi
        log "$tag $name: $args ${timing[*]:-}"
        # shellcheck disable=SC2086 # args is a list of JMH arguments
        "$java" -jar "$JAR" $args ${timing[@]+"${timing[@]}"} "${COMMON[@]}" -rf json -rff "$OUT/$tag/$name.json"
    done
}

run_jobs "$JAVA17" jdk17
run_jobs "$JAVA25" jdk25

python3 - "$OUT/env.json" <<'PY'
import json, sys
env = json.load(open(sys.argv[1]))
env["load_after"] = open("/proc/loadavg").read().split()[:3]
json.dump(env, open(sys.argv[1], "w"), indent=2)
PY

if [ "$MODE" = smoke ] || [[ "$OUT" == *-custom ]]; then
    python3 benchmarks/render.py "$OUT" --out "$OUT/table.md" --expect 5
else
    python3 benchmarks/render.py "$OUT" --readme benchmarks/README.md
fi
log "$MODE done in $(( $(date +%s) - start )) s"
