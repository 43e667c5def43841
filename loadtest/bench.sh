#!/usr/bin/env bash
# bench.sh regenerates the results section of BENCHMARKS.md: it builds the server and the load
# generator, and runs every load RUNS times, each time on fresh processes (one redis-server,
# one or two instances), then writes each metric's median, min and max between the markers
# in BENCHMARKS.md (or to stdout with OUT=-).
#
#   loadtest/bench.sh                  # from the repository root; RUNS=5 by default
#   RUNS=3 BIG=1 loadtest/bench.sh     # BIG=1 adds the 100 000-connection idle run
#   ONLY=relay loadtest/bench.sh       # only the loads whose label contains "relay"
#   SERVER=/tmp/old OUT=- loadtest/bench.sh  # another server binary (a "before"), same loads
#
# Needs redis-server, curl and root (or a hard open-file limit of at least 110 000) for BIG.
set -euo pipefail

RUNS=${RUNS:-5}
BIG=${BIG:-0}
ONLY=${ONLY:-}
OUT=${OUT:-BENCHMARKS.md}
BASE_PORT=${BASE_PORT:-18300}

cd "$(dirname "$0")/.."
work=$(mktemp -d)
started=()
stop_started() {
	local p
	for p in "${started[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${started[@]}"; do wait "$p" 2>/dev/null || true; done
	started=()
}
trap 'stop_started; rm -rf "$work"' EXIT

ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [[ -n ${SERVER:-} ]]; then # another build of the server, for a before/after comparison
	cp "$SERVER" "$work/go-megle"
else
	go build -o "$work/go-megle" .
fi
go build -o "$work/loadtest" ./loadtest
go build -o "$work/ceiling" ./loadtest/ceiling

redis_port=$BASE_PORT
inst_ports=($((BASE_PORT + 1)) $((BASE_PORT + 2)))
ceiling_port=$((BASE_PORT + 3))

# start_stack N: a fresh redis-server and N instances; sets urls, pids and redis_pid.
# N = ceiling: the in-memory pairing server (loadtest/ceiling) alone, no Redis.
start_stack() {
	local n=$1 i port
	if [[ $n == ceiling ]]; then
		"$work/ceiling" -addr "127.0.0.1:$ceiling_port" >"$work/ceiling.log" 2>&1 &
		started+=($!)
		pids=$! redis_pid=0 urls="ws://127.0.0.1:$ceiling_port/ws"
		for _ in $(seq 200); do curl -fs "http://127.0.0.1:$ceiling_port/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
		curl -fs "http://127.0.0.1:$ceiling_port/readyz" >/dev/null
		return
	fi
	redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
		--protected-mode no --daemonize no --dir "$work" >"$work/redis.log" 2>&1 &
	started+=($!)
	redis_pid=$!
	for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
	urls="" pids=""
	for ((i = 0; i < n; i++)); do
		port=${inst_ports[$i]}
		env ADDR=127.0.0.1:$port REDIS_URL=redis://127.0.0.1:$redis_port/0 INSTANCE_ID=bench-$i \
			LOG_LEVEL=warn MAX_CONNS_PER_IP=0 MAX_HTTP_CONNS_PER_IP=0 RATE_LIMIT=0 FIND_MATCH_RATE=0 POW_MAX_NUMBER=0 "${extra_env[@]}" \
			"$work/go-megle" >"$work/instance-$i.log" 2>&1 &
		started+=($!)
		pids+="${pids:+,}$!"
		urls+="${urls:+,}ws://127.0.0.1:$port/ws"
		for _ in $(seq 200); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
		curl -fs "http://127.0.0.1:$port/readyz" >/dev/null
	done
}

extra_env=() # settings for the instances of the next loads only

table="$work/table.md"
: >"$table"

# wait_quiet: other work on the machine skews every figure; wait (at most QUIET_WAIT seconds)
# until less than QUIET_BUSY percent of the CPUs are busy over two seconds. Each run also
# records the figure (-busy-sample) just before its load starts.
QUIET_BUSY=${QUIET_BUSY:-15}
QUIET_WAIT=${QUIET_WAIT:-300}
MAX_BUSY=${MAX_BUSY:-25} # a run whose 1 s sample just before the load is busier is discarded and repeated (5 tries)
busy_pct() {
	local c u n s i w q sq st rest t0 i0 t1 i1
	read -r c u n s i w q sq st rest </proc/stat
	t0=$((u + n + s + i + w + q + sq + st)) i0=$((i + w))
	sleep 2
	read -r c u n s i w q sq st rest </proc/stat
	t1=$((u + n + s + i + w + q + sq + st)) i1=$((i + w))
	echo $((100 - 100 * (i1 - i0) / (t1 - t0 + 1)))
}
wait_quiet() {
	local start=$SECONDS busy
	while busy=$(busy_pct) && ((busy >= QUIET_BUSY)); do
		if ((SECONDS - start >= QUIET_WAIT)); then
			echo "   (machine still ${busy}% busy after ${QUIET_WAIT}s; running anyway)" >&2
			return
		fi
	done
}

# run_once JSONL LABEL RUN INSTANCES ARGS...: one run of the load generator on fresh processes
# (INSTANCES: 1, 2 or ceiling), its result appended to JSONL; a run that starts on a busy
# machine is discarded and repeated.
run_once() {
	local jsonl=$1 label=$2 r=$3 n=$4 attempt rc
	shift 4
	for ((attempt = 1; ; attempt++)); do
		wait_quiet
		start_stack "$n"
		local args=("$@")
		args=("${args[@]//@PIDS@/$pids}")
		args=("${args[@]//@REDIS@/$redis_pid}")
		echo ">> $label, run $r/$RUNS: loadtest -urls $urls ${args[*]}" >&2
		rc=0
		"$work/loadtest" -json -busy-sample 1s -max-busy "$MAX_BUSY" -urls "$urls" "${args[@]}" >>"$jsonl" 2>"$work/last.log" || rc=$?
		stop_started
		if ((rc == 3 && attempt < 5)); then
			echo "   (machine busy: $(tail -n 1 "$work/last.log"); again)" >&2
			continue
		fi
		if ((rc != 0)); then
			echo "   (exit $rc; see below)" >&2
			tail -n 20 "$work/last.log" >&2
		fi
		break
	done
}

jsonl_of() { echo "$work/$(echo "$1" | tr -c 'a-zA-Z0-9' _).jsonl"; }

# load LABEL INSTANCES ARGS...: RUNS runs of the load generator, aggregated into the table.
load() {
	local label=$1 n=$2
	shift 2
	if [[ -n $ONLY && $label != *"$ONLY"* ]]; then return; fi
	local jsonl r
	jsonl=$(jsonl_of "$label")
	: >"$jsonl"
	for ((r = 1; r <= RUNS; r++)); do
		run_once "$jsonl" "$label" "$r" "$n" "$@"
	done
	"$work/loadtest" -aggregate "$jsonl" -label "$label" >>"$table" || true
}

# versus LABEL CEILING_LABEL INSTANCES ARGS...: like load, but each run is a pair: the same load
# against the in-memory ceiling (loadtest/ceiling) and then against the real instances, back to
# back, so both see the same machine; the real rows carry the ratio of each pair.
versus() {
	local label=$1 clabel=$2 n=$3
	shift 3
	if [[ -n $ONLY && $label != *"$ONLY"* && $clabel != *"$ONLY"* ]]; then return; fi
	local jsonl cjsonl r
	jsonl=$(jsonl_of "$label") cjsonl=$(jsonl_of "$clabel")
	: >"$jsonl"
	: >"$cjsonl"
	for ((r = 1; r <= RUNS; r++)); do
		run_once "$cjsonl" "$clabel" "$r" ceiling "$@"
		run_once "$jsonl" "$label" "$r" "$n" "$@"
	done
	"$work/loadtest" -aggregate "$cjsonl" -label "$clabel" >>"$table" || true
	"$work/loadtest" -aggregate "$jsonl" -label "$label" -versus "$cjsonl" -versus-name "the ceiling" >>"$table" || true
}

load "idle 10 000, 1 instance" 1 -mode idle -n 10000 -src-ips 4 -settle 3s -duration 4s -pids @PIDS@
if [[ $BIG == 1 ]]; then
	load "idle 100 000, 1 instance" 1 -mode idle -n 100000 -src-ips 8 -connect-concurrency 512 -settle 5s -duration 6s -pids @PIDS@ -timeout 10m
fi
load "burst 2000, 2 instances" 2 -mode burst -n 2000
# The churn's 200 clients meet everyone within a second or two: with the rematch cooldown on,
# they would soon wait for ever. BenchmarkRedisMatchThroughput measures the cooldown's cost.
# The headline is Next (find_match while matched), what users press all day; leave +
# find_match is the second row.
extra_env=(REMATCH_COOLDOWN=0)
versus "churn next 200, 2 instances" "churn next 200, in-memory ceiling (loadtest/ceiling, no Redis)" 2 -mode churn -next -n 200 -duration 10s -pids @PIDS@ -redis-pid @REDIS@
versus "churn leave + find 200, 2 instances" "churn leave + find 200, in-memory ceiling (loadtest/ceiling, no Redis)" 2 -mode churn -n 200 -duration 10s -pids @PIDS@ -redis-pid @REDIS@
extra_env=()
# People pressing Next at their own pace, with the cooldown on (the default): each initiator
# stays 2-5 s in a match, uniformly at random, then presses Next.
load "churn next paced, 1000 clients, Next after 2-5 s, 2 instances" 2 -mode churn -next -n 1000 -hold-min 2s -hold-max 5s -duration 20s -pids @PIDS@ -redis-pid @REDIS@
load "relay paced 2000/s, 1000 clients, 2 instances, every pair across" 2 -mode relay -cross -n 1000 -rate 2000 -duration 10s
load "relay saturated, 200 clients, 1 instance" 1 -mode relay -n 200 -duration 10s
load "relay saturated, 200 clients, 2 instances, every pair across" 2 -mode relay -cross -n 200 -duration 10s

{
	echo "Generated by \`loadtest/bench.sh\` (RUNS=$RUNS) on $(date -u +%Y-%m-%d) at commit $(git describe --always --dirty) (the server built from the working tree)."
	echo
	echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(free -g | awk '/Mem:/{print $2}') GiB RAM, Linux $(uname -r), $(go version | cut -d' ' -f3), Redis $(redis-server --version | cut -d' ' -f3 | sed 's/^v=//'); load generator, instances and Redis on the same machine, over loopback."
	echo
	echo "Before each run the bench waits (up to ${QUIET_WAIT} s) until less than ${QUIET_BUSY} % of the CPUs are busy; a run is discarded and repeated (at most 5 times) when more than ${MAX_BUSY} % were busy in the second before its load started (instances up and idle); each load's last row is that figure for the runs kept."
	echo
	echo "| load | metric | median | min – max | runs |"
	echo "|---|---|---|---|---|"
	cat "$table"
} >"$work/section.md"

if [[ $OUT == - ]]; then
	cat "$work/section.md"
else
	awk -v f="$work/section.md" '
		/<!-- results:begin -->/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
		/<!-- results:end -->/ { skip = 0 }
		!skip { print }' "$OUT" >"$work/out.md"
	cp "$work/out.md" "$OUT"
	echo "wrote $OUT" >&2
fi
