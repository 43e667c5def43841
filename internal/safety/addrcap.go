package safety

import (
	"context"
	_ "embed"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"
)

//go:embed conns.lua
var connsScriptSource string

// connsTTL is how long an address's cluster-wide count outlives its last change; every
// instance also writes its own counts again every connsSync, which heals a count a failed
// release left too high.
const (
	connsTTL  = time.Hour
	connsSync = time.Minute
)

// AddressCap caps the WebSocket connections of one client address (an IPv4 address or an
// IPv6 /64) across the whole cluster: each instance counts its own in Redis
// (conns.lua, under the address's keyed hash), and an acquire adds up the live instances'
// counts. When Redis cannot be reached, each instance still enforces the cap on its own.
type AddressCap struct {
	store.Calls
	rdb    redis.UniversalClient
	keys   store.Keys
	self   wire.InstanceID
	max    int // 0: no cap
	secret []byte
	log    *slog.Logger
	script *redis.Script

	mu    sync.Mutex
	Local map[string]int      // address key -> connections here
	stale map[string]struct{} // addresses whose release Redis did not take: the next sync rewrites them
}

// AddressCapConfig is the cap's part of the configuration.
type AddressCapConfig struct {
	Self   wire.InstanceID
	Max    int    // MAX_CONNS_PER_IP across the cluster; 0: no cap
	Secret []byte // BAN_SECRET: addresses are stored as its keyed hash
}

// AddressCapParts are what the cap counts in.
type AddressCapParts struct {
	Redis redis.UniversalClient
	Keys  store.Keys
	Calls store.Calls
	Log   *slog.Logger
}

// NewAddressCap creates the cap (Max 0: none).
func NewAddressCap(cfg AddressCapConfig, p AddressCapParts) *AddressCap {
	return &AddressCap{Calls: p.Calls, rdb: p.Redis, keys: p.Keys, self: cfg.Self, max: cfg.Max, secret: cfg.Secret, log: p.Log,
		script: redis.NewScript(connsScriptSource), Local: map[string]int{}, stale: map[string]struct{}{}}
}

// Acquire counts a new connection of addr, unless that puts addr over the cap; the release
// func undoes it when the connection ends.
func (c *AddressCap) Acquire(ctx context.Context, addr string) (release func(), ok bool) {
	if c.max == 0 {
		return func() {}, true
	}
	c.mu.Lock()
	if c.Local[addr] >= c.max {
		c.mu.Unlock()
		return nil, false
	}
	c.Local[addr]++
	c.mu.Unlock()
	counted, err := c.run(ctx, addr, "acquire", c.max)
	if err == nil && !counted {
		c.forget(addr)
		return nil, false
	}
	if err != nil {
		c.log.Debug("cluster-wide address cap unavailable; this instance's cap holds", "err", err)
	}
	return func() {
		c.forget(addr)
		if err == nil { // only what Redis counted is released there
			if _, err := c.run(context.WithoutCancel(ctx), addr, "release", 0); err != nil {
				c.log.Debug("address count release failed; the next sync heals it", "err", err)
				c.mu.Lock()
				c.stale[addr] = struct{}{}
				c.mu.Unlock()
			}
		}
	}, true
}

func (c *AddressCap) forget(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Local[addr]--; c.Local[addr] <= 0 {
		delete(c.Local, addr)
	}
}

func (c *AddressCap) run(ctx context.Context, addr, op string, n int) (bool, error) {
	var done bool
	err := c.Call(ctx, "conns", func(ctx context.Context) error {
		r, err := c.script.Run(ctx, c.rdb, []string{c.keys.Conns(AddressHash(c.secret, addr))}, c.keys.Prefix(), string(c.self),
			op, strconv.Itoa(n), int64(connsTTL/time.Second)).Int()
		done = r == 1
		return err
	})
	return done, err
}

// Run writes this instance's counts to Redis every connsSync until ctx ends.
func (c *AddressCap) Run(ctx context.Context) {
	if c.max == 0 {
		return
	}
	t := time.NewTicker(connsSync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.Sync(ctx)
		}
	}
}

// sync writes this instance's count of every address it has connections of, and of every
// address whose release Redis did not take (0 then).
func (c *AddressCap) Sync(ctx context.Context) {
	c.mu.Lock()
	counts := make(map[string]int, len(c.Local)+len(c.stale))
	for a := range c.stale {
		counts[a] = 0
	}
	for a, n := range c.Local {
		counts[a] = n
	}
	c.stale = map[string]struct{}{}
	c.mu.Unlock()
	for a, n := range counts {
		if _, err := c.run(ctx, a, "set", n); err != nil {
			c.mu.Lock()
			for a := range counts { // Redis is away: all of them next time
				if c.Local[a] == 0 {
					c.stale[a] = struct{}{}
				}
			}
			c.mu.Unlock()
			return
		}
	}
}

// httpConnCap bounds the TCP connections one peer address holds open on this instance before
// they are upgraded (MAX_HTTP_CONNS_PER_IP): requests whose headers are still arriving (a
// slowloris: each is a goroutine and about 10 KiB until HTTP_TIMEOUT) and idle keep-alive
// connections. It sees a connection before any byte is read, so it knows only the peer, not
// a forwarded client: trusted proxies are exempt (they do this for their clients), and behind
// one only MAX_CONNS_PER_IP applies. A connection over the bound is closed at once. Upgraded
// connections leave it for MAX_CONNS_PER_IP.
type HTTPConnCap struct {
	max     int // 0: no bound
	trusted []netip.Prefix
	refused func()

	mu   sync.Mutex
	open map[string]int      // peer address key -> connections counted
	keys map[net.Conn]string // the counted connections
}

func NewHTTPConnCap(max int, trusted []netip.Prefix, refused func()) *HTTPConnCap {
	return &HTTPConnCap{max: max, trusted: trusted, refused: refused, open: map[string]int{}, keys: map[net.Conn]string{}}
}

// ConnState is the http.Server's hook.
func (c *HTTPConnCap) ConnState(conn net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		if c.max == 0 {
			return
		}
		ap, err := netip.ParseAddrPort(conn.RemoteAddr().String())
		if err != nil || slices.ContainsFunc(c.trusted, func(p netip.Prefix) bool { return p.Contains(ap.Addr().Unmap()) }) {
			return
		}
		key := AddressKey(ap.Addr())
		c.mu.Lock()
		full := c.open[key] >= c.max
		if !full {
			c.open[key]++
			c.keys[conn] = key
		}
		c.mu.Unlock()
		if full {
			c.refused()
			_ = conn.Close() // the server's read finds it closed: nothing to log
		}
	case http.StateHijacked, http.StateClosed:
		c.mu.Lock()
		defer c.mu.Unlock()
		key, ok := c.keys[conn]
		if !ok {
			return
		}
		delete(c.keys, conn)
		if c.open[key]--; c.open[key] <= 0 {
			delete(c.open, key)
		}
	}
}
