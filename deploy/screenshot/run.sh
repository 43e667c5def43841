#!/usr/bin/env bash
# run.sh makes docs/monitoring-dashboard.png: the shipped dashboard over real data from a load
# run. Everything runs on this machine, on loopback: a redis-server, two real server
# instances, Debian's Prometheus scraping them with a config derived from
# deploy/prometheus/prometheus.yml (the same job and rules; static targets instead of DNS
# discovery, a 5 s scrape interval for a short run), and the load:
#
#   whole run   loadtest idle (IDLE clients held open) and deploy/screenshot/calls (pairs that
#               match across the instances, report rtc_stats, sometimes resume, leave)
#   then        loadtest churn (leave + find again), relay (offer/answer across the
#               instances), burst (2000 at once), churn with Next
#
# Then render.mjs runs every panel's queries against that Prometheus and screenshots the page
# in Debian's Chromium (not Grafana, which cannot run here; the caption says so).
#
#   deploy/screenshot/run.sh                       # from the repository root, about 5 minutes
#   OUT=/tmp/x.png LOAD_SECONDS=120 deploy/screenshot/run.sh
#
# Needs: redis-server, prometheus and promtool (apt-get install --no-install-recommends
# prometheus), curl, Chromium (/usr/bin/chromium or CHROMIUM_PATH), and `npm ci --prefix web`
# (Playwright).
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=${OUT:-docs/monitoring-dashboard.png}
LOAD_SECONDS=${LOAD_SECONDS:-240}
IDLE=${IDLE:-400}
PAIRS=${PAIRS:-16}
SCRAPE=${SCRAPE:-5s}
BASE_PORT=${BASE_PORT:-18400}
redis_port=$BASE_PORT
inst_ports=($((BASE_PORT + 1)) $((BASE_PORT + 2)))
prom_port=$((BASE_PORT + 90))

work=$(mktemp -d)
started=()
stop_started() {
	local p
	for p in "${started[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${started[@]}"; do wait "$p" 2>/dev/null || true; done
	started=()
}
trap 'stop_started; rm -rf "$work"' EXIT
ulimit -n 65536 2>/dev/null || true

echo ">> building the server, the load generator and the call player" >&2
go build -o "$work/go-megle" .
go build -o "$work/loadtest" ./loadtest
go build -o "$work/calls" ./deploy/screenshot/calls

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
	--protected-mode no --daemonize no --dir "$work" >"$work/redis.log" 2>&1 &
started+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done

urls="" targets=""
for i in 0 1; do
	port=${inst_ports[$i]}
	ADDR=127.0.0.1:$port REDIS_URL=redis://127.0.0.1:$redis_port/0 INSTANCE_ID=shot-$i \
		LOG_LEVEL=warn MAX_CONNS_PER_IP=0 MAX_HTTP_CONNS_PER_IP=0 RATE_LIMIT=0 WEB_DIR=/nonexistent "$work/go-megle" >"$work/instance-$i.log" 2>&1 &
	started+=($!)
	urls+="${urls:+,}ws://127.0.0.1:$port/ws"
	targets+="${targets:+, }127.0.0.1:$port"
	for _ in $(seq 200); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
	curl -fs "http://127.0.0.1:$port/readyz" >/dev/null
done

# The shipped config with the DNS discovery of "app" replaced by the two instances, and
# Prometheus's own address; anything else in it stays as shipped.
awk -v targets="$targets" -v scrape="$SCRAPE" -v self="127.0.0.1:$prom_port" '
	/^  (scrape_interval|scrape_timeout|evaluation_interval):/ { sub(/[0-9]+s/, scrape) }
	/^    dns_sd_configs:/ { print "    static_configs:"; print "      - targets: [" targets "]"; skip = 1; next }
	skip && /^      / { next }
	{ skip = 0 }
	/targets: \[localhost:9090\]/ { sub(/localhost:9090/, self) }
	{ print }' deploy/prometheus/prometheus.yml >"$work/prometheus.yml"
cp deploy/prometheus/alerts.yml "$work/"
grep -q "targets: \[$targets\]" "$work/prometheus.yml" || { echo "run.sh: the derived config has no static targets; update the awk above" >&2; exit 1; }
promtool check config "$work/prometheus.yml" >/dev/null

prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
	--web.listen-address=127.0.0.1:$prom_port >"$work/prometheus.log" 2>&1 &
started+=($!)
prom=http://127.0.0.1:$prom_port
up_count() { curl -fs "$prom/api/v1/query" --data-urlencode 'query=sum(up{job="gomegle"})' | sed -n 's/.*"value":\[[^,]*,"\([0-9.]*\)"\].*/\1/p'; }
for _ in $(seq 300); do [[ $(up_count 2>/dev/null) == 2 ]] && break; sleep 0.1; done
[[ $(up_count) == 2 ]] || { echo "run.sh: Prometheus does not see both instances up" >&2; tail "$work/prometheus.log" >&2; exit 1; }

t0=$(date +%s)
echo ">> load for ${LOAD_SECONDS}s over $urls (Prometheus on $prom)" >&2
# A load whose checker found something is reported (with the end of its summary) and the run
# goes on: the picture is of what the server did, whatever it was.
lt() {
	local log=$work/loadtest-$1.log rc=0
	shift
	"$work/loadtest" -urls "$urls" "$@" >"$log" 2>&1 || rc=$?
	echo "   loadtest $*: exit $rc; $(grep -m1 -E 'lost [0-9]+' "$log" | sed 's/^ *//')" >&2
	((rc == 0)) || tail -n 12 "$log" | sed 's/^/     /' >&2
}
# idle outlasts the render, so the stat panels (last values) show the clients still connected
lt idle -mode idle -n "$IDLE" -settle 1s -duration "$((LOAD_SECONDS + 75))s" -connect-rate 100 &
idle=$!
"$work/calls" -urls "$urls" -pairs "$PAIRS" -duration "${LOAD_SECONDS}s" >"$work/calls.log" 2>&1 &
calls=$!
phase=$(((LOAD_SECONDS - 40) / 4))
sleep 15
lt churn -mode churn -n 200 -duration "${phase}s"
lt relay -mode relay -cross -n 400 -rate 1500 -duration "${phase}s"
lt burst -mode burst -n 2000
sleep 5
lt churn-next -mode churn -next -n 200 -duration "${phase}s"
wait "$calls" || true
sleep 12 # two more scrapes after the load
t1=$(date +%s)

tail -n 1 "$work/calls.log" >&2
clients=$((IDLE + 2 * PAIRS + 2000)) # the most connected at once (during the burst)
CAPTION="Real data: a ${LOAD_SECONDS} s load run on one machine ($(nproc) CPUs), two instances and one redis-server, scraped every ${SCRAPE} by Prometheus $(prometheus --version 2>&1 | head -1 | cut -d' ' -f3); load by loadtest (idle ${IDLE}, churn 200, relay 400, burst 2000, churn -next 200: at most ${clients} clients at once) and deploy/screenshot/calls (${PAIRS} pairs sending rtc_stats with a made-up mix of outcomes: no browsers). Replicas ready has no data: main.go does not call Metrics.SetReadiness yet." \
	PROM_URL=$prom START=$((t0 - 20)) END=$t1 STEP=5 RATE_INTERVAL=20s OUT="$OUT" node deploy/screenshot/render.mjs
ls -l "$OUT" >&2
wait "$idle" || true
