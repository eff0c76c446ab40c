#!/usr/bin/env bash
# Runs the jcstress races of stress/ from the shaded jar.
#
#   stress/run.sh [sanity|quick|default|tough] [extra jcstress options, e.g. -t SendVsClose]
#
# Builds stress/target/jcstress.jar if it is missing (or if SLUICE_STRESS_REBUILD=1), then runs
#   java -jar jcstress.jar -m <mode> -r jcstress-results
# inside stress/target (jcstress drops its result blob into the working directory). jcstress exits 1 when any test
# shows a FORBIDDEN outcome (or errors), and so does this script. JAVA_HOME selects the JDK (default: java on the PATH). See stress/README.md for modes and times.
set -euo pipefail

mode="${1:-sanity}"
shift || true
case "$mode" in
    sanity|quick|default|tough) ;;
    *) echo "usage: stress/run.sh [sanity|quick|default|tough] [jcstress options]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

java="java"
if [[ -n "${JAVA_HOME:-}" ]]; then
    java="$JAVA_HOME/bin/java"
fi

jar="stress/target/jcstress.jar"
if [[ ! -f "$jar" || "${SLUICE_STRESS_REBUILD:-0}" == "1" ]]; then
    mvn -q -Pverification -pl stress -am package -DskipTests
fi

# JDK 22+ warns about JNA's native access (jcstress pins threads through JNA): allow it for the host JVM (the forks
# get the flag from jcstress itself).
host_flags=()
feature="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
if [[ "${feature%%.*}" -ge 22 ]]; then
    host_flags+=(--enable-native-access=ALL-UNNAMED)
fi

# The sanity preset runs each configuration for "0 ms": the two-actor races get a hundred samples or so, and the
# Mode.Termination tests (lost wake-ups) get none at all. 200 ms per iteration gives them real samples for a few
# seconds more per test. Later options win, so "-time N" on the command line overrides this.
mode_flags=()
if [[ "$mode" == "sanity" ]]; then
    mode_flags+=(-iters 1 -time 200)
fi

# jcstress writes its result blob (jcstress-results-*.bin.gz) into the working directory: run inside target/.
cd stress/target
rm -rf jcstress-results jcstress-results-*.bin.gz
start=$(date +%s)
set +e
"$java" "${host_flags[@]}" -jar jcstress.jar -m "$mode" "${mode_flags[@]}" -r jcstress-results "$@"
status=$?
set -e
echo "jcstress -m $mode finished in $(( $(date +%s) - start )) s with exit code $status" \
     "(report: stress/target/jcstress-results/index.html)"
exit "$status"
