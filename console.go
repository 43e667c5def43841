package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

// Console is the moderator API under /mod/api: open reports with their evidence, bans made
// from them, and bans lifted. Every request carries `Authorization: Bearer <MOD_TOKEN>`; a
// wrong or missing token gets 401, and an address that keeps trying gets 429. Any replica
// serves it (everything is in Redis); the shipped balancer does not proxy /mod.
type Console struct {
	safety  *Safety
	bans    banBroadcaster
	metrics *Metrics
	log     *slog.Logger
	token   [sha256.Size]byte
	addrOf  func(*http.Request) string

	mu       sync.Mutex
	failures map[string]*rate.Limiter // per address: wrong tokens allowed
}

// banBroadcaster closes a banned address's sockets on every instance (the hub).
type banBroadcaster interface{ broadcastBan(Ban) }

// Limits of the console API.
const (
	consoleBodyLimit   = 4 << 10
	consoleFailRate    = rate.Limit(1.0 / 10) // a wrong token every 10 s, sustained
	consoleFailBurst   = 5
	consoleMaxTracked  = 10_000 // addresses with recent failures kept; beyond, the oldest go
	maxBanReasonLength = 200
)

// NewConsole creates the API for token (which must not be empty).
func NewConsole(token string, safety *Safety, bans banBroadcaster, m *Metrics, log *slog.Logger, addrOf func(*http.Request) string) *Console {
	return &Console{safety: safety, bans: bans, metrics: m, log: log, token: sha256.Sum256([]byte(token)),
		addrOf: addrOf, failures: map[string]*rate.Limiter{}}
}

// Register adds the API's routes to mux.
func (c *Console) Register(mux *http.ServeMux) {
	mux.Handle("GET /mod/api/reports", c.authorized(c.listReports))
	mux.Handle("POST /mod/api/reports/{id}/ban", c.authorized(c.banReport))
	mux.Handle("POST /mod/api/reports/{id}/dismiss", c.authorized(c.dismiss))
	mux.Handle("GET /mod/api/bans", c.authorized(c.listBans))
	mux.Handle("DELETE /mod/api/bans/{id}", c.authorized(c.lift))
	mux.Handle("/mod/api/", c.authorized(func(w http.ResponseWriter, _ *http.Request) {
		apiError(w, http.StatusNotFound, "no such endpoint")
	}))
}

// authorized checks the bearer token in constant time, and holds back an address that keeps
// getting it wrong.
func (c *Console) authorized(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := c.addrOf(r)
		c.mu.Lock()
		lim := c.failures[addr]
		c.mu.Unlock()
		if lim != nil && lim.Tokens() < 1 {
			apiError(w, http.StatusTooManyRequests, "too many wrong tokens from your address; wait a minute")
			return
		}
		given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(given))
		if !ok || subtle.ConstantTimeCompare(sum[:], c.token[:]) != 1 {
			c.failed(addr)
			apiError(w, http.StatusUnauthorized, "a moderator token is needed: Authorization: Bearer <MOD_TOKEN>")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, consoleBodyLimit)
		h(w, r)
	})
}

func (c *Console) failed(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lim := c.failures[addr]
	if lim == nil {
		if len(c.failures) >= consoleMaxTracked {
			c.failures = map[string]*rate.Limiter{} // a flood of addresses: start over
		}
		lim = rate.NewLimiter(consoleFailRate, consoleFailBurst)
		c.failures[addr] = lim
	}
	lim.Allow()
}

func apiError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}

// storeError answers for a Redis-side failure.
func (c *Console) storeError(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrUnknown) {
		apiError(w, http.StatusNotFound, "no such report or ban (acted on already, or expired)")
		return
	}
	c.log.Warn("moderator console: Redis", "err", err)
	apiError(w, http.StatusServiceUnavailable, "the store is unavailable right now; try again")
}

func (c *Console) listReports(w http.ResponseWriter, r *http.Request) {
	if st := r.URL.Query().Get("status"); st != "" && st != "open" {
		apiError(w, http.StatusBadRequest, "status must be open (acted-on reports are deleted with their evidence)")
		return
	}
	var before int64
	if b := r.URL.Query().Get("before"); b != "" {
		var err error
		if before, err = strconv.ParseInt(b, 10, 64); err != nil || before <= 0 {
			apiError(w, http.StatusBadRequest, "before must be a unix time in milliseconds (a page's next_before)")
			return
		}
	}
	page, err := c.safety.OpenReports(r.Context(), before)
	if err != nil {
		c.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// banView is a ban as the console shows it (no address, not even hashed).
type banView struct {
	ID      string    `json:"id"`
	Until   time.Time `json:"until"`
	Reason  string    `json:"reason"`
	Source  string    `json:"source"`
	Created time.Time `json:"created"`
}

func viewOf(b Ban) banView {
	return banView{ID: b.ID, Until: b.Until.UTC(), Reason: b.Reason, Source: b.Source, Created: b.Created.UTC()}
}

func (c *Console) banReport(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Duration string `json:"duration"`
		Reason   string `json:"reason"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "body must be {\"duration\": \"24h\", \"reason\": \"...\"}")
		return
	}
	d, err := time.ParseDuration(body.Duration)
	if err != nil || d < time.Minute || d > maxBan {
		apiError(w, http.StatusBadRequest, "duration must be a Go duration from 1m to 720h, e.g. \"24h\"")
		return
	}
	reason := strings.TrimSpace(body.Reason)
	if n := utf8.RuneCountInString(reason); n == 0 || n > maxBanReasonLength {
		apiError(w, http.StatusBadRequest, "reason: 1-200 characters; the banned user is shown it")
		return
	}
	ban, err := c.safety.BanReported(r.Context(), r.PathValue("id"), d, reason)
	if err != nil {
		c.storeError(w, err)
		return
	}
	c.metrics.Bans.WithLabelValues("moderator").Inc()
	c.bans.broadcastBan(ban)
	writeJSON(w, http.StatusOK, struct {
		Ban banView `json:"ban"`
	}{viewOf(ban)})
}

func (c *Console) dismiss(w http.ResponseWriter, r *http.Request) {
	if err := c.safety.Dismiss(r.Context(), r.PathValue("id")); err != nil {
		c.storeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *Console) listBans(w http.ResponseWriter, r *http.Request) {
	bans, err := c.safety.Bans(r.Context())
	if err != nil {
		c.storeError(w, err)
		return
	}
	views := make([]banView, len(bans))
	for i, b := range bans {
		views[i] = viewOf(b)
	}
	writeJSON(w, http.StatusOK, struct {
		Bans []banView `json:"bans"`
	}{views})
}

func (c *Console) lift(w http.ResponseWriter, r *http.Request) {
	if err := c.safety.Lift(r.Context(), r.PathValue("id")); err != nil {
		c.storeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
