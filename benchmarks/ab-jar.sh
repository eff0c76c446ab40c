#!/usr/bin/env bash
# Builds the benchmark jar of another commit, for `benchmarks/run.sh ab OLD.jar [NEW.jar]`:
#
#   benchmarks/ab-jar.sh <rev> [OUT.jar]     default OUT: benchmarks/target/ab/<short sha>.jar
#
# The jar holds <rev>'s core and bridges with THIS tree's harness: benchmarks/pom.xml and benchmarks/src of the working
# tree are copied over the rev's, so both sides of an A/B run the same benchmark code (the public API is the same;
# rows added since, like S9, exist on both sides). SLUICE_AB_HARNESS=rev keeps the rev's own benchmarks/ instead.
# <rev> needs the modules benchmarks/pom.xml depends on (core, reactor-bridge, rsocket-bridge).
#
# How: a temporary `git worktree add --detach` of <rev>, then `mvn -B -ntp -q -Pverification -pl benchmarks -am package -DskipTests` (a rev without that profile only warns)
# there. -am builds the sibling modules in the same reactor and the benchmarks resolve them from it: nothing is
# installed and no SNAPSHOT in ~/.m2 is read or written (~/.m2 only gains third-party artifacts it lacked; set
# SLUICE_AB_MVN_OPTS=-o to build offline once they are there). The script then checks that every class of the rev's
# core/target/classes is byte-identical in the jar, writes OUT.txt (rev, harness, date; run.sh ab puts it in the
# environment block) and removes the worktree.
set -euo pipefail

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 <rev> [OUT.jar]" >&2; exit 2; }
REV="$1"
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHA=$(git rev-parse --verify "$REV^{commit}") || { echo "FAIL: $REV is not a commit" >&2; exit 1; }
SHORT=$(git rev-parse --short "$SHA")
OUT="${2:-benchmarks/target/ab/$SHORT.jar}"
mkdir -p "$(dirname "$OUT")"
OUT=$(realpath "$OUT")
HARNESS="${SLUICE_AB_HARNESS:-tree}"
case "$HARNESS" in tree|rev) ;; *) echo "FAIL: SLUICE_AB_HARNESS must be tree or rev, not $HARNESS" >&2; exit 2 ;; esac

WT=$(mktemp -d /tmp/sluice-ab-XXXXXX)
cleanup() {
    git -C "$ROOT" worktree remove --force "$WT" 2>/dev/null || rm -rf "$WT"
    git -C "$ROOT" worktree prune
}
trap cleanup EXIT
git worktree add --quiet --detach "$WT" "$SHA"

harness="benchmarks/ of $SHORT (the rev's own)"
if [ "$HARNESS" = tree ]; then
    rm -rf "$WT/benchmarks/src" "$WT/benchmarks/pom.xml"
    mkdir -p "$WT/benchmarks"
    cp -r benchmarks/src benchmarks/pom.xml "$WT/benchmarks/"
    dirty=$(git status --porcelain -- benchmarks/src benchmarks/pom.xml | head -1)
    harness="benchmarks/src + pom.xml of $(git rev-parse --short HEAD)${dirty:+ with uncommitted changes} (this tree)"
fi

echo "=== build $SHORT ($(git log -1 --format=%s "$SHA" | cut -c1-80)) with $harness ==="
# shellcheck disable=SC2086 # SLUICE_AB_MVN_OPTS is a list of options
(cd "$WT" && mvn -B -ntp -q ${SLUICE_AB_MVN_OPTS:-} -Pverification -pl benchmarks -am package -DskipTests)

python3 - "$WT/benchmarks/target/benchmarks.jar" "$WT/core/target/classes" <<'PY'
import os, sys, zipfile
jar, classes = sys.argv[1:3]
z = zipfile.ZipFile(jar)
checked = 0
for base, _, files in os.walk(classes):
    for name in files:
        if not name.endswith(".class") or name == "module-info.class":
            continue
        path = os.path.join(base, name)
        entry = os.path.relpath(path, classes).replace(os.sep, "/")
        if z.read(entry) != open(path, "rb").read():
            sys.exit(f"FAIL: {entry} in the jar differs from the rev's core build: the jar did not take this core")
        checked += 1
if checked == 0:
    sys.exit("FAIL: no core classes found to check")
print(f"checked: the jar's {checked} core classes are the rev's")
PY

cp "$WT/benchmarks/target/benchmarks.jar" "$OUT"
{
    echo "rev $SHA ($(git log -1 --format='%cs %s' "$SHA" | cut -c1-100))"
    echo "harness: $harness"
    echo "built $(date -u '+%Y-%m-%d %H:%M UTC') by benchmarks/ab-jar.sh with mvn ${SLUICE_AB_MVN_OPTS:+$SLUICE_AB_MVN_OPTS }-pl benchmarks -am package"
} > "$OUT.txt"
echo "=== wrote $OUT ($(cat "$OUT.txt" | head -1)) ==="
