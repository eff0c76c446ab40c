#!/usr/bin/env bash
# S-remote (sluice-sync): an unchanged re-run of a tree of FILES files, local (sluice-sync SRC DST) against remote
# (sluice-sync SRC --remote, a --serve-writer on loopback in another JVM): wall-clock time of each run (JVM start
# included, as a user sees it), and the payload bytes the remote run sent and received (the sender's own count of
# encoded messages: offers, file chunks, replies; without RSocket framing and TCP headers).
#
#   benchmarks/sremote-sync.sh                                   3,000 files, about 200 MiB, 5 runs of each
#   FILES=300 SIZE_MB=10 RUNS=1 benchmarks/sremote-sync.sh       a smoke run (checks it works, nothing about speed)
#
# The tree lives on tmpfs (/dev/shm, else $TMPDIR) and a `sync` runs before each timed run, so disk write-back stays
# out of the figures. Local and remote runs alternate, so a drift in machine load hits both. The table goes to stdout
# and to benchmarks/results/sremote-sync/<date>.md. Prefer a quiet machine: this measures, it does not assert.
# JAVA_HOME picks the JDK (17 or later); the ./sluice-sync launcher builds the examples module if needed.
set -euo pipefail

FILES="${FILES:-3000}"
SIZE_MB="${SIZE_MB:-200}"
RUNS="${RUNS:-5}"
SEED="${SEED:-42}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sync_cmd="$root/sluice-sync"
base_dir="/dev/shm"
[[ -d "$base_dir" && -w "$base_dir" ]] || base_dir="${TMPDIR:-/tmp}"
work="$(mktemp -d "$base_dir/sremote-sync-XXXXXX")"
writer_pid=""
cleanup() {
    if [[ -n "$writer_pid" ]] && kill -0 "$writer_pid" 2>/dev/null; then
        kill "$writer_pid" 2>/dev/null || true
        wait "$writer_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

src="$work/src"
local_dst="$work/dst-local"
remote_dst="$work/dst-remote"
token="$work/token"

echo "sremote-sync: $FILES files, about $SIZE_MB MiB, $RUNS runs each, tree in $work" >&2
python3 - "$src" "$FILES" "$SIZE_MB" "$SEED" <<'PY'
import os, random, sys
root, files, size_mb, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(seed)
# sizes: mostly small, a few large (like a source tree with some assets), scaled to the total
weights = [rnd.paretovariate(1.2) for _ in range(files)]
scale = size_mb * 1024 * 1024 / sum(weights)
for i, w in enumerate(weights):
    d = os.path.join(root, "d%02d" % (i % 40), "s%d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d.bin" % i), "wb") as f:
        f.write(rnd.randbytes(int(w * scale)))
PY
"$sync_cmd" --version >/dev/null # builds once, outside the timings

now_ms() { date +%s%3N; }

# Starts a writer into $remote_dst; sets writer_pid and port (the writer serves one complete run, then exits).
start_writer() {
    local log="$work/writer.log"
    "$sync_cmd" --serve-writer "$remote_dst" --token-file "$token" >"$log" 2>&1 &
    writer_pid=$!
    port=""
    for _ in $(seq 1 600); do
        port="$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$log" | head -1 | cut -d: -f2 || true)"
        [[ -n "$port" ]] && grep -q 'waiting for a run' "$log" && return 0
        kill -0 "$writer_pid" 2>/dev/null || { cat "$log" >&2; echo "sremote-sync: the writer died" >&2; exit 1; }
        sleep 0.1
    done
    echo "sremote-sync: the writer did not start" >&2
    exit 1
}

# One local run; prints its milliseconds.
run_local() {
    sync
    local t0 t1
    t0=$(now_ms)
    "$sync_cmd" "$src" "$local_dst" --progress none >"$work/local.log" 2>&1
    t1=$(now_ms)
    echo $((t1 - t0))
}

# One remote run (the writer already waiting); prints "milliseconds offerBytes chunkBytes replyBytes fileData".
run_remote() {
    start_writer
    sync
    local t0 t1
    t0=$(now_ms)
    "$sync_cmd" "$src" --remote "127.0.0.1:$port" --token-file "$token" --progress none >"$work/remote.log" 2>&1
    t1=$(now_ms)
    wait "$writer_pid"
    writer_pid=""
    python3 - "$work/remote.log" $((t1 - t0)) <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"remote\s+\d+ entries offered \(([^)]+)\), \d+ files sent \(([^ ]+ [^ ]+) of file data, ([^ ]+ [^ ]+) "
              r"in chunks\), ([^ ]+ [^ ]+) of replies", text)
if not m:
    sys.exit("sremote-sync: no 'remote' line in the client's output:\n" + text)
units = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}
def size(s):
    value, unit = s.split()
    return int(float(value) * units[unit])
print(sys.argv[2], size(m.group(1)), size(m.group(3)), size(m.group(4)), size(m.group(2)))
PY
}

echo "sremote-sync: initial copies (not timed)" >&2
run_local >/dev/null
initial="$(run_remote)"
read -r initial_ms initial_offers initial_chunks initial_replies initial_data <<<"$initial"
diff -r "$src" "$remote_dst" >/dev/null || { echo "sremote-sync: the remote copy differs from SRC" >&2; exit 1; }

local_times=()
remote_times=()
offers=0; chunks=0; replies=0; data=0
for i in $(seq 1 "$RUNS"); do
    local_times+=("$(run_local)")
    read -r ms offers chunks replies data <<<"$(run_remote)"
    remote_times+=("$ms")
    echo "sremote-sync: run $i: local ${local_times[-1]} ms, remote $ms ms" >&2
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
local_median="$(median "${local_times[@]}")"
remote_median="$(median "${remote_times[@]}")"
ratio="$(awk -v r="$remote_median" -v l="$local_median" 'BEGIN {printf "%.2f", r / l}')"
java_version="$("${JAVA_HOME:+$JAVA_HOME/bin/}java" -version 2>&1 | head -1)"
out_dir="$root/benchmarks/results/sremote-sync"
mkdir -p "$out_dir"
report="$out_dir/$(date +%Y-%m-%d-%H%M%S).md"
{
    echo "S-remote (sluice-sync), $(date -u +%Y-%m-%dT%H:%MZ), $java_version, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "tree: $FILES files, $(du -sh "$src" | cut -f1) in $src (tmpfs: $base_dir); $RUNS runs each, alternating"
    echo
    echo "| run | local | remote (loopback) | remote / local | remote: sent (offers + file chunks) | remote: received (replies) |"
    echo "|---|---|---|---|---|---|"
    echo "| initial copy | - | $initial_ms ms | - | $initial_offers + $initial_chunks B ($initial_data B of file data) | $initial_replies B |"
    echo "| unchanged re-run (median) | $local_median ms | $remote_median ms | ${ratio}x | $offers + $chunks B ($data B of file data) | $replies B |"
    echo
    echo "local runs (ms): ${local_times[*]}; remote runs (ms): ${remote_times[*]}"
    echo "command: FILES=$FILES SIZE_MB=$SIZE_MB RUNS=$RUNS benchmarks/sremote-sync.sh"
} | tee "$report"
