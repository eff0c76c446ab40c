#!/usr/bin/env bash
# Runs the Sluice JMH benchmarks (see benchmarks/README.md) and renders their tables.
#
#   benchmarks/run.sh quick   key rows, 1 fork, 1x1 s warmup + 2x1 s measurement: about 12 minutes, noisy
#   benchmarks/run.sh full    the whole matrix, 3 forks, 2x1 s warmup + 3x1 s measurement per fork: about
#                             85 minutes on 2 cores (the annotations' 5x1 s + 5x2 s would take over 3 hours; set
#                             SLUICE_BENCH_TIMING=annotations to use them)
#   benchmarks/run.sh load    S1b, S2, S3, S4 and S9 (the operators), 3 forks, with one busy-loop process beside
#                             the forks (a stand-in for a busy server): about 35 minutes
#   benchmarks/run.sh ab OLD.jar [NEW.jar]
#                             A/B of two benchmark jars (build OLD.jar with benchmarks/ab-jar.sh <rev>; NEW.jar
#                             defaults to the jar built from this tree): the A/B rows interleaved, one fork per
#                             call (old new | new old | old new ...), SLUICE_AB_FORKS (5) forks per jar and row,
#                             2x1 s warmup + 3x1 s measurement, JDK 17 and 25: about 70 minutes
#   benchmarks/run.sh profile [JMH args]
#                             one row under async-profiler 4.1 (fetched from Maven Central into benchmarks/target):
#                             flame graphs and a text summary per event (SLUICE_PROF_EVENTS, default
#                             "cpu alloc lock") under benchmarks/results/profile/; default row S1b cap 256 sluice
#   benchmarks/run.sh smoke   one short iteration of a few rows (S1b, S9), for CI: asserts the benchmarks run and
#                             their checksums hold, nothing about speed (101-135 s on a busy machine, without the build)
#
# Environment:
#   SLUICE_BENCH_SKIP_BUILD=1  reuse benchmarks/target/benchmarks.jar instead of building it
#   SLUICE_BENCH_TIMING="..."  JMH timing options replacing the mode's (e.g. "-f 1 -wi 0 -i 1 -r 100ms" for a dry
#                              run); results then go to results/<mode>-custom/ and the README is left alone
#   SLUICE_BENCH_LOAD=N        N busy-loop processes (`sh -c 'while :; do :; done'`) run beside the forks of any
#                              mode (the load mode sets 1); results go to results/<mode>-load/; killed at the end,
#                              also on failure or Ctrl-C
#   SLUICE_BENCH_ONLY="S1b S9" run only the jobs with these names (see the job lists below; S1b-virtual is a name
#                              of its own)
#   SLUICE_BENCH_JOBS="name|args;name|args"  replace the mode's job list, e.g. for an A/B of other rows:
#                              "S1b|S1bOneToOne -p capacity=4096 -p impl=sluice,abq -p threads=platform"
#   SLUICE_BENCH_RESUME=1      continue an interrupted run of the same mode: jobs (ab: forks) already done are kept
#   SLUICE_AB_FORKS=N          ab: forks per jar and row (default 5)
#   SLUICE_PROF_EVENTS="..."   profile: async-profiler events, each a run of its own (default "cpu alloc lock")
#   SLUICE_PROF_JDKS="17 25"   profile: the JDKs to profile on (default 17)
#   SLUICE_ASYNC_PROFILER_LIB  profile: a libasyncProfiler.so to use instead of fetching 4.1
#   SLUICE_JDK17_JAVA, SLUICE_JDK25_JAVA  the java binaries (default: `java` if it is 17, else /usr/lib/jvm/java-17-*;
#                              /usr/lib/jvm/temurin-25-jdk-amd64/bin/java)
#
# Results: JMH JSON (-rf json) under benchmarks/results/<mode>/jdk17|jdk25/ with an env.json (machine, JDKs, git,
# load average and `uptime` before and after, the exact command), rendered by benchmarks/render.py with SVG charts in
# <results>/charts/. quick and full rewrite the "results" block of benchmarks/README.md, load the "load" block, ab
# the "ab" block (ab with load: "ab-load"); smoke, custom timing and profile leave the README alone.
set -euo pipefail

usage() {
    echo "usage: $0 [quick|full|load|smoke] | ab OLD.jar [NEW.jar] | profile [JMH benchmark and -p args]" >&2
    exit 2
}

MODE="${1:-quick}"
[ $# -gt 0 ] && shift
ARGS=("$@")
OLD_JAR=
NEW_JAR=
PROFILE_ARGS=()
case "$MODE" in
    quick|full|smoke|load) [ $# -eq 0 ] || usage ;;
    ab)
        { [ $# -ge 1 ] && [ $# -le 2 ]; } || usage
        [ -f "$1" ] || { echo "FAIL: old jar $1 not found (build it with benchmarks/ab-jar.sh <rev> $1)" >&2; exit 1; }
        OLD_JAR=$(realpath "$1")
        if [ $# -eq 2 ]; then
            [ -f "$2" ] || { echo "FAIL: new jar $2 not found" >&2; exit 1; }
            NEW_JAR=$(realpath "$2")
        fi ;;
    profile) PROFILE_ARGS=("$@") ;;
    *) usage ;;
esac

# The exact command, with the environment variables that change what runs (quoted for a copy into a shell).
quote() {
    if [[ "$1" =~ ^[A-Za-z0-9_./=,:@+-]+$ ]]; then
        printf '%s' "$1"
    else
        printf "'%s'" "${1//\'/\'\\\'\'}"
    fi
}
COMMAND=
for var in SLUICE_BENCH_LOAD SLUICE_BENCH_TIMING SLUICE_BENCH_JOBS SLUICE_BENCH_ONLY SLUICE_BENCH_RESUME SLUICE_AB_FORKS \
    SLUICE_PROF_EVENTS SLUICE_PROF_JDKS; do
    if [ -n "${!var:-}" ]; then
        COMMAND+="$var=$(quote "${!var}") "
    fi
done
COMMAND+="benchmarks/run.sh $MODE"
for arg in ${ARGS[@]+"${ARGS[@]}"}; do
    COMMAND+=" $(quote "$arg")"
done

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

LOAD="${SLUICE_BENCH_LOAD:-0}"
if [ "$MODE" = load ] && [ "$LOAD" = 0 ]; then
    LOAD=1
fi
[[ "$LOAD" =~ ^[0-9]+$ ]] || { echo "FAIL: SLUICE_BENCH_LOAD must be a number of busy loops, not $LOAD" >&2; exit 2; }

OUT="benchmarks/results/$MODE"
if [ "$LOAD" != 0 ] && [ "$MODE" != load ]; then
    OUT+="-load"
fi
CUSTOM=0
if [ -n "${SLUICE_BENCH_TIMING:-}" ] && [ "$SLUICE_BENCH_TIMING" != annotations ]; then
    CUSTOM=1
    [ "$MODE" = profile ] || OUT+="-custom"
fi

log() { printf '\n=== %s ===\n' "$*"; }

# A busy machine makes any number here noise: say so before starting (the build adds its own load, so look first).
load1=$(cut -d ' ' -f 1 /proc/loadavg)
if [ "$MODE" != smoke ] && python3 -c "import sys; sys.exit(0 if float('$load1') >= 1.0 else 1)"; then
    printf '\nWARNING: the 1-minute load average is %s (>= 1.0) before starting: something else is running on this\n' \
        "$load1" >&2
    printf 'machine (uptime: %s). Numbers from a busy machine are not results; prefer a quiet one.\n\n' \
        "$(uptime)" >&2
fi

start=$(date +%s)
if [ "$MODE" = ab ] && [ -n "$NEW_JAR" ]; then
    : # both jars given: nothing to build
elif [ "${SLUICE_BENCH_SKIP_BUILD:-0}" != 1 ] || [ ! -f "$JAR" ]; then
    log "build: mvn -B -ntp -q -Pverification -pl benchmarks -am package -DskipTests"
    mvn -B -ntp -q -Pverification -pl benchmarks -am package -DskipTests
fi
if [ "$MODE" = ab ] && [ -z "$NEW_JAR" ]; then
    NEW_JAR=$(realpath "$JAR")
fi

# ---- the busy loops of the load mode: started beside the forks, killed on every way out ----
LOAD_PIDS=()
stop_load() {
    local pid
    for pid in ${LOAD_PIDS[@]+"${LOAD_PIDS[@]}"}; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    LOAD_PIDS=()
}
start_load() {
    local i
    for ((i = 0; i < LOAD; i++)); do
        sh -c 'while :; do :; done' &
        LOAD_PIDS+=($!)
    done
    [ "$LOAD" = 0 ] || log "load: $LOAD busy-loop process(es) started beside the forks: pid ${LOAD_PIDS[*]}"
}
trap stop_load EXIT
trap 'stop_load; exit 130' INT
trap 'stop_load; exit 143' TERM

# ---- JMH options per mode. -foe true: a failed checksum or timeout fails the run. -prof gc: B/op on every row ----
AB_FORKS="${SLUICE_AB_FORKS:-5}"
case "$MODE" in
    smoke)   TIMING=(-f 1 -wi 0 -i 1 -r 200ms) ;;
    quick)   TIMING=(-f 1 -wi 1 -w 1s -i 2 -r 1s) ;;
    full)    TIMING=(-f 3 -wi 2 -w 1s -i 3 -r 1s) ;;
    load)    TIMING=(-f 3 -wi 2 -w 1s -i 3 -r 1s) ;;
    ab)      TIMING=(-f 1 -wi 2 -w 1s -i 3 -r 1s) ;;
    profile) TIMING=(-f 1 -wi 3 -w 1s -i 5 -r 1s) ;;
esac
if [ "${SLUICE_BENCH_TIMING:-}" = annotations ]; then
    TIMING=()   # the annotations: 3 forks, 5x1 s warmup, 5x2 s (B shape) or 5x1 s measurement
    [ "$MODE" = ab ] && TIMING=(-f 1)
elif [ -n "${SLUICE_BENCH_TIMING:-}" ]; then
    read -r -a TIMING <<< "$SLUICE_BENCH_TIMING"
fi
if [ "$MODE" = ab ]; then
    # one fork per call, interleaved by this script: drop any -f of the timing
    timing=()
    for ((i = 0; i < ${#TIMING[@]}; i += 2)); do
        [ "${TIMING[$i]}" = -f ] || timing+=("${TIMING[$i]}" "${TIMING[$((i + 1))]}")
    done
    TIMING=(-f 1 ${timing[@]+"${timing[@]}"})
fi
COMMON=(-foe true -prof gc)

# ---- jobs: "<name>|<JMH arguments>" (benchmark regex and -p parameters); @JDK17@/@JDK25@ = on that JDK only ----
S1B_PEERS=sluice,abq,lbq,conversant,jctoolsMpscBlocking,disruptorBlocking,disruptorLiteBlocking,disruptorYielding
S4_PEERS=sluice,abq,lbq,conversant,jctoolsMpscBlocking,agronaManyToOne,disruptorBlocking,disruptorLiteBlocking
# Virtual-thread rows (JDK 25): the blocking peers; busy-spin and yielding peers are floors, not virtual-thread users.
VT_PEERS=sluice,abq,lbq,conversant,jctoolsMpscBlocking,disruptorBlocking
# Under load the runnable threads outnumber the cores: no spinning or yielding peers (they are floors, not peers).
LOADED_PEERS=sluice,abq,lbq,conversant,jctoolsMpscBlocking,disruptorBlocking,disruptorLiteBlocking
case "$MODE" in
    smoke)
        JOBS=(
            "S1b|S1bOneToOne -p capacity=256 -p impl=sluice,abq -p threads=platform"
            "@JDK25@S1b-virtual|S1bOneToOne -p capacity=256 -p impl=sluice -p threads=virtual"
            "S9|S9Operators"
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
            "S9|S9Operators"
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
            "S9|S9Operators"
            "S-remote|SRemote -wi 4 -w 1s"
        ) ;;
    load)
        JOBS=(
            "S1b|S1bOneToOne -p capacity=16,256 -p impl=$LOADED_PEERS -p threads=platform"
            "@JDK25@S1b-virtual|S1bOneToOne -p capacity=16,256 -p impl=sluice,abq,conversant -p threads=virtual"
            "S2|S2ToFlux"
            "S3|S3FromFlux"
            "S4|S4ManyToOne -p capacity=256 -p impl=${S4_PEERS%,disruptorLiteBlocking} -p threads=platform"
            "S9|S9Operators"
        ) ;;
    ab)
        # Sluice rows, one peer per scenario as a drift control (the same code in both jars: its old/new should be
        # ~1), and the S5 busy-spin floor as the placement calibration.
        JOBS=(
            "S1b|S1bOneToOne -p capacity=16,256 -p impl=sluice,abq -p threads=platform"
            "@JDK25@S1b-virtual|S1bOneToOne -p capacity=16,256 -p impl=sluice,abq -p threads=virtual"
            "S2|S2ToFlux -p impl=sluice,sluiceFlux,sinksUnicast,sluiceHop,sluiceFluxHop,sinksUnicastHop,submissionPublisher"
            "S3|S3FromFlux -p impl=sluice,toIterable"
            "S4|S4ManyToOne -p capacity=256 -p impl=sluice,abq -p threads=platform"
            "S5|S5PingPong -p capacity=1 -p impl=sluice,jctoolsSpscSpin"
            "S6|S6Mono -p impl=sluiceAsync,sluiceMono,sinksOne"
            "S9|S9Operators -p impl=throughBlocking,publishOnWorkaround,fromBlocking,channelFlux,createPublishOn"
        ) ;;
    profile)
        [ ${#PROFILE_ARGS[@]} -gt 0 ] || PROFILE_ARGS=(S1bOneToOne -p capacity=256 -p impl=sluice -p threads=platform)
        JOBS=() ;;
esac
if [ -n "${SLUICE_BENCH_JOBS:-}" ] && [ "$MODE" != profile ]; then
    IFS=';' read -r -a JOBS <<< "$SLUICE_BENCH_JOBS"
fi
if [ -n "${SLUICE_BENCH_ONLY:-}" ]; then
    kept=()
    for job in "${JOBS[@]}"; do
        name="${job%%|*}"
        name="${name#@JDK??@}"
        [[ " $SLUICE_BENCH_ONLY " == *" $name "* ]] && kept+=("$job")
    done
    [ ${#kept[@]} -gt 0 ] || { echo "FAIL: SLUICE_BENCH_ONLY=$SLUICE_BENCH_ONLY matches no $MODE job" >&2; exit 2; }
    JOBS=("${kept[@]}")
fi

# job_timing <args>: the mode's timing without the options the job sets itself (S-remote's longer warmup): JMH
# refuses repeated options.
job_timing() {
    local args="$1" i
    JOB_TIMING=()
    for ((i = 0; i < ${#TIMING[@]}; i += 2)); do
        [[ " $args " == *" ${TIMING[$i]} "* ]] && continue
        JOB_TIMING+=("${TIMING[$i]}" "${TIMING[$((i + 1))]}")
    done
}

# job_for <job> <tag>: sets JOB_NAME and JOB_ARGS, or returns 1 when the job is not for this JDK.
job_for() {
    local job="$1" tag="$2"
    JOB_NAME="${job%%|*}"
    JOB_ARGS="${job#*|}"
    if [[ "$JOB_NAME" == @JDK*@* ]]; then
        [[ "$JOB_NAME" == "@${tag^^}@"* ]] || return 1
        JOB_NAME="${JOB_NAME#@*@}"
    fi
}

# ---- profile: one row under async-profiler, no env.json, no rendering ----
if [ "$MODE" = profile ]; then
    AP_VERSION=4.1
    LIB="${SLUICE_ASYNC_PROFILER_LIB:-benchmarks/target/async-profiler-$AP_VERSION/linux-x64/libasyncProfiler.so}"
    if [ ! -f "$LIB" ]; then
        log "fetch async-profiler $AP_VERSION: tools.profiler:async-profiler:$AP_VERSION from Maven Central"
        mvn -B -ntp -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
            -Dartifact=tools.profiler:async-profiler:$AP_VERSION -DoutputDirectory=benchmarks/target
        python3 - "benchmarks/target/async-profiler-$AP_VERSION.jar" "$(dirname "$(dirname "$LIB")")" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extract("linux-x64/libasyncProfiler.so", sys.argv[2])
PY
    fi
    LIB=$(realpath "$LIB")
    EVENTS="${SLUICE_PROF_EVENTS:-cpu alloc lock}"
    label=$(printf '%s' "${PROFILE_ARGS[*]}" | tr -c 'A-Za-z0-9=,._-' '_' | sed 's/__*/_/g; s/-p_//g; s/_$//')
    job_timing "${PROFILE_ARGS[*]}"   # options given with the row (e.g. -i 10) replace the mode's
    start_load
    for jdk in ${SLUICE_PROF_JDKS:-17}; do
        case "$jdk" in 17) java="$JAVA17" ;; 25) java="$JAVA25" ;; *) echo "FAIL: SLUICE_PROF_JDKS: 17 or 25" >&2; exit 2 ;; esac
        for event in $EVENTS; do
            dir="$OUT/$label/jdk$jdk/$event"
            rm -rf "$dir"
            mkdir -p "$dir"
            log "profile jdk$jdk $event: ${PROFILE_ARGS[*]} ${JOB_TIMING[*]:-}"
            uptime | tee "$dir/uptime.txt"
            "$java" -jar "$JAR" "${PROFILE_ARGS[@]}" ${JOB_TIMING[@]+"${JOB_TIMING[@]}"} -foe true -prof gc \
                -prof "async:libPath=$LIB;event=$event;output=flamegraph,text;direction=forward;dir=$dir" \
                -rf json -rff "$dir/result.json" | tee "$dir/jmh.log"
            uptime | tee -a "$dir/uptime.txt"
            printf '%s\n' "$COMMAND" > "$dir/command.txt"
            for summary in "$dir"/*/summary-*.txt; do
                [ -f "$summary" ] || continue
                log "top frames ($event, self): $summary"
                sed -n '/  percent  samples  top/,$p' "$summary" | head -16
            done
        done
    done
    stop_load
    log "profiles (open the flame-*.html files in a browser):"
    find "$OUT/$label" -name 'flame-*.html' | sort
    log "profile done in $(( $(date +%s) - start )) s"
    exit 0
fi

# SLUICE_BENCH_RESUME=1 continues an interrupted run of the same mode: what is there is skipped, and env.json keeps
# the first start (the README then says the run was resumed).
RESUME="${SLUICE_BENCH_RESUME:-0}"
if [ "$RESUME" != 1 ] || [ ! -f "$OUT/env.json" ]; then
    RESUME=0
    rm -rf "$OUT"
fi
mkdir -p "$OUT/jdk17" "$OUT/jdk25"

# Environment block for the README.
if [ "$RESUME" = 1 ]; then
    python3 - "$OUT/env.json" <<'PY'
import json, sys, datetime
env = json.load(open(sys.argv[1]))
env.setdefault("resumed", []).append(datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
json.dump(env, open(sys.argv[1], "w"), indent=2)
PY
else
python3 - "$OUT/env.json" "$MODE" "$COMMAND" "$JAVA17" "$JAVA25" "${TIMING[*]:-} ${COMMON[*]}" "$LOAD" \
    "$AB_FORKS" "$OLD_JAR" "$NEW_JAR" "${JOBS[@]}" <<'PY'
import hashlib, json, os, subprocess, sys, datetime
out, mode, command, java17, java25, jmh_options, load, ab_forks, old_jar, new_jar = sys.argv[1:11]
jobs = sys.argv[11:]
def sh(*args):
    try:
        done = subprocess.run(args, capture_output=True, text=True)
        return done.stdout + done.stderr
    except OSError as e:
        return str(e)
def jar_info(path):
    if not path:
        return None
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()[:16]
    info = {"path": path, "sha256": digest}
    if os.path.exists(path + ".txt"):   # written by benchmarks/ab-jar.sh
        info["built"] = open(path + ".txt").read().strip().splitlines()
    return info
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
    "uptime_before": sh("uptime").strip(),
    "jdk17": sh(java17, "-version").strip().splitlines(),
    "jdk25": sh(java25, "-version").strip().splitlines(),
    "git": sha + (" (with uncommitted changes)" if dirty else ""),
    "jmh_options": jmh_options.strip(),
    "jobs": jobs,
}
if int(load):
    env["load"] = int(load)
if mode == "ab":
    env["ab_forks"] = int(ab_forks)
    env["old_jar"] = jar_info(old_jar)
    env["new_jar"] = jar_info(new_jar)
json.dump(env, open(out, "w"), indent=2)
PY
fi

# run_fork <java> <jar> <json> <args> [timing...]: one JMH call
run_fork() {
    local java="$1" jar="$2" json="$3" args="$4"
    shift 4
    # shellcheck disable=SC2086 # args is a list of JMH arguments
    "$java" -jar "$jar" $args "$@" "${COMMON[@]}" -rf json -rff "$json"
}

run_jobs() {
    local java="$1" tag="$2" job
    for job in "${JOBS[@]}"; do
        job_for "$job" "$tag" || continue
        job_timing "$JOB_ARGS"
        if [ "$RESUME" = 1 ] && [ -s "$OUT/$tag/$JOB_NAME.json" ]; then
            log "$tag $JOB_NAME: done in the interrupted run, skipped"
            continue
        fi
        log "$tag $JOB_NAME: $JOB_ARGS ${JOB_TIMING[*]:-}"
        run_fork "$java" "$JAR" "$OUT/$tag/$JOB_NAME.json" "$JOB_ARGS" ${JOB_TIMING[@]+"${JOB_TIMING[@]}"}
    done
}

# A/B: per JDK and job, AB_FORKS rounds; round k runs one fork of each jar, old first in odd rounds and new first in
# even ones (old new | new old | ...), so that a slow drift of the machine favours neither jar.
run_ab() {
    local java="$1" tag="$2" job k side order
    for job in "${JOBS[@]}"; do
        job_for "$job" "$tag" || continue
        job_timing "$JOB_ARGS"
        mkdir -p "$OUT/$tag/$JOB_NAME"
        for ((k = 1; k <= AB_FORKS; k++)); do
            order="old new"
            (( k % 2 == 0 )) && order="new old"
            for side in $order; do
                local json="$OUT/$tag/$JOB_NAME/$side-$k.json" jar="$OLD_JAR"
                [ "$side" = new ] && jar="$NEW_JAR"
                if [ "$RESUME" = 1 ] && [ -s "$json" ]; then
                    continue
                fi
                log "$tag $JOB_NAME fork $k/$AB_FORKS $side: $JOB_ARGS ${JOB_TIMING[*]:-}"
                run_fork "$java" "$jar" "$json" "$JOB_ARGS" ${JOB_TIMING[@]+"${JOB_TIMING[@]}"}
            done
        done
    done
}

log "uptime before: $(uptime)"
start_load
if [ "$MODE" = ab ]; then
    log "A/B: old $OLD_JAR, new $NEW_JAR, $AB_FORKS forks per jar and row"
    run_ab "$JAVA17" jdk17
    run_ab "$JAVA25" jdk25
else
    run_jobs "$JAVA17" jdk17
    run_jobs "$JAVA25" jdk25
fi
stop_load
log "uptime after: $(uptime)"

python3 - "$OUT/env.json" <<'PY'
import json, subprocess, sys
env = json.load(open(sys.argv[1]))
env["load_after"] = open("/proc/loadavg").read().split()[:3]
env["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
json.dump(env, open(sys.argv[1], "w"), indent=2)
PY

if [ "$MODE" = smoke ]; then
    python3 benchmarks/render.py "$OUT" --out "$OUT/table.md" --expect 23
elif [ "$CUSTOM" = 1 ]; then
    python3 benchmarks/render.py "$OUT" --out "$OUT/table.md"
else
    python3 benchmarks/render.py "$OUT" --readme benchmarks/README.md
fi
log "$MODE done in $(( $(date +%s) - start )) s"
