package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/go-megle/go-megle/internal/safety"
	"golang.org/x/time/rate"
)

// Console is the moderator API under /mod/api: open reports with their evidence (all, or one
// reporter's), bans made from them, a reporter's reports dismissed and the reporter
// restricted, and bans (every one, a page at a time) lifted. Every request carries
// `Authorization: Bearer <MOD_TOKEN>`; a wrong or missing token gets 401, and an address that
// keeps sending wrong ones gets 429 for them, never for the right one. Any replica serves it
// (everything is in Redis); the shipped balancer does not proxy /mod.
type Console struct {
	safety  *safety.Safety
	bans    banBroadcaster
	metrics *metrics.Metrics
	log     *slog.Logger
	token   [sha256.Size]byte
	addrOf  func(*http.Request) string

	mu       sync.Mutex
	failures map[string]*rate.Limiter // per address: wrong tokens allowed
}

// banBroadcaster closes a banned address's sockets on every instance (the hub).
type banBroadcaster interface{ BroadcastBan(safety.Ban) }

// Limits of the console API.
const (
	consoleBodyLimit   = 4 << 10
	consoleFailRate    = rate.Limit(1.0 / 10) // a wrong token every 10 s, sustained
	ConsoleFailBurst   = 5
	consoleMaxTracked  = 10_000 // addresses with recent failures kept; beyond, the oldest go
	maxBanReasonLength = 200
)

// ConsoleConfig is the console's setting.
type ConsoleConfig struct {
	Token string // MOD_TOKEN; must not be empty
}

// ConsoleParts are what the console reads, acts on and reports to.
type ConsoleParts struct {
	Safety  *safety.Safety
	Bans    banBroadcaster
	Metrics *metrics.Metrics
	Log     *slog.Logger
	AddrOf  func(*http.Request) string // the client address of a request, behind trusted proxies
}

// NewConsole creates the API.
func NewConsole(cfg ConsoleConfig, p ConsoleParts) *Console {
	return &Console{safety: p.Safety, bans: p.Bans, metrics: p.Metrics, log: p.Log, token: sha256.Sum256([]byte(cfg.Token)),
		addrOf: p.AddrOf, failures: map[string]*rate.Limiter{}}
}

// Register adds the API's routes to mux.
func (c *Console) Register(mux *http.ServeMux) {
	mux.Handle("GET /mod/api/reports", c.authorized(c.listReports))
	mux.Handle("POST /mod/api/reports/{id}/ban", c.authorized(c.banReport))
	mux.Handle("POST /mod/api/reports/{id}/dismiss", c.authorized(c.dismiss))
	mux.Handle("GET /mod/api/reporters", c.authorized(c.listReporters))
	mux.Handle("POST /mod/api/reporters/{label}/dismiss", c.authorized(c.dismissReporter))
	mux.Handle("GET /mod/api/bans", c.authorized(c.listBans))
	mux.Handle("DELETE /mod/api/bans/{id}", c.authorized(c.lift))
	c.registerAppeals(mux)
	mux.Handle("/mod/api/", c.authorized(func(w http.ResponseWriter, _ *http.Request) {
		apiError(w, http.StatusNotFound, "no such endpoint")
	}))
}

// authorized checks the bearer token in constant time. The right token always passes: wrong
// ones are held back per address (429 once an address has sent consoleFailBurst of them), so
// that a guesser sharing a moderator's address (a NAT, an office) cannot lock the moderator
// out. What keeps guessing hopeless is the token's length (MOD_TOKEN: at least 16 random
// characters), not this: a held-back guesser still learns nothing but "wrong".
func (c *Console) authorized(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(given))
		if ok && subtle.ConstantTimeCompare(sum[:], c.token[:]) == 1 {
			r.Body = http.MaxBytesReader(w, r.Body, consoleBodyLimit)
			h(w, r)
			return
		}
		if !c.allowFailure(c.addrOf(r)) {
			apiError(w, http.StatusTooManyRequests, "too many wrong tokens from your address; wait a minute")
			return
		}
		apiError(w, http.StatusUnauthorized, "a moderator token is needed: Authorization: Bearer <MOD_TOKEN>")
	})
}

// allowFailure counts a wrong token from addr; false once the address is over its allowance.
func (c *Console) allowFailure(addr string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	lim := c.failures[addr]
	if lim == nil {
		if len(c.failures) >= consoleMaxTracked {
			c.failures = map[string]*rate.Limiter{} // a flood of addresses: start over
		}
		lim = rate.NewLimiter(consoleFailRate, ConsoleFailBurst)
		c.failures[addr] = lim
	}
	return lim.Allow()
}

func apiError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}

// storeError answers for a Redis-side failure.
func (c *Console) storeError(w http.ResponseWriter, err error) {
	answerStoreError(w, c.log, "moderator console", "no such report or ban (acted on already, or expired)", err)
}

// answerStoreError answers 404 (unknown) for safety.ErrUnknown, else logs the Redis trouble
// as part's and answers 503.
func answerStoreError(w http.ResponseWriter, log *slog.Logger, part, unknown string, err error) {
	if errors.Is(err, safety.ErrUnknown) {
		apiError(w, http.StatusNotFound, unknown)
		return
	}
	log.Warn(part+": Redis", "err", err)
	apiError(w, http.StatusServiceUnavailable, "the store is unavailable right now; try again")
}

func (c *Console) listReports(w http.ResponseWriter, r *http.Request) {
	if st := r.URL.Query().Get("status"); st != "" && st != "open" {
		apiError(w, http.StatusBadRequest, "status must be open (acted-on reports are deleted with their evidence)")
		return
	}
	before, err := safety.ParseCursor(r.URL.Query().Get("before"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "before must be a page's next_before")
		return
	}
	reporter := r.URL.Query().Get("reporter")
	if reporter != "" && !safety.ValidLabel(reporter) {
		apiError(w, http.StatusBadRequest, "reporter must be a reporter's label, R-…")
		return
	}
	page, err := c.safety.OpenReports(r.Context(), before, reporter)
	if err != nil {
		c.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// banView is a ban as the console shows it (no address, not even hashed), with what made it
// when it was automatic.
type BanView struct {
	ID      string      `json:"id"`
	Until   time.Time   `json:"until"`
	Reason  string      `json:"reason"`
	Source  string      `json:"source"`
	Created time.Time   `json:"created"`
	Why     *banWhyView `json:"why,omitempty"`
	// WatchedUntil: after the ban ends its address stays watched until then (issue 25; absent: not)
	WatchedUntil time.Time `json:"watched_until,omitzero"`
}

type banWhyView struct {
	Reporters int                `json:"reporters"`
	Reports   []banWhyReportView `json:"reports"`
}

type banWhyReportView struct {
	ID           string    `json:"id"`
	Reporter     string    `json:"reporter"`
	Reason       string    `json:"reason"`
	Created      time.Time `json:"created"`
	Conversation float64   `json:"conversation_s"`
	Evidence     string    `json:"evidence"`
}

func viewOf(b safety.Ban) BanView {
	v := BanView{ID: b.ID, Until: b.Until.UTC(), Reason: b.Reason, Source: b.Source, Created: b.Created.UTC()}
	if b.WatchedUntil.After(b.Until) {
		v.WatchedUntil = b.WatchedUntil.UTC()
	}
	if b.Why != nil {
		v.Why = &banWhyView{Reporters: b.Why.Reporters, Reports: make([]banWhyReportView, len(b.Why.Reports))}
		for i, r := range b.Why.Reports {
			v.Why.Reports[i] = banWhyReportView{ID: r.ID, Reporter: r.Reporter, Reason: r.Reason,
				Created: time.UnixMilli(r.Created).UTC(), Conversation: float64(r.ConversationMS) / 1000, Evidence: r.Evidence}
		}
	}
	return v
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
	if err != nil || d < time.Minute || d > safety.MaxBan {
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
	c.bans.BroadcastBan(ban)
	writeJSON(w, http.StatusOK, struct {
		Ban BanView `json:"ban"`
	}{viewOf(ban)})
}

func (c *Console) dismiss(w http.ResponseWriter, r *http.Request) {
	if err := c.safety.Dismiss(r.Context(), r.PathValue("id")); err != nil {
		c.storeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *Console) listReporters(w http.ResponseWriter, r *http.Request) {
	top, err := c.safety.TopReporters(r.Context())
	if err != nil {
		c.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Reporters []safety.ReporterLoad `json:"reporters"`
	}{top})
}

func (c *Console) dismissReporter(w http.ResponseWriter, r *http.Request) {
	label := r.PathValue("label")
	if !safety.ValidLabel(label) {
		apiError(w, http.StatusNotFound, "no such reporter")
		return
	}
	var body struct {
		Restrict string `json:"restrict"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		apiError(w, http.StatusBadRequest, "body must be {\"restrict\": \"168h\"} or empty")
		return
	}
	var restrict time.Duration
	if body.Restrict != "" {
		var err error
		if restrict, err = time.ParseDuration(body.Restrict); err != nil || restrict < 0 || restrict > safety.MaxBan {
			apiError(w, http.StatusBadRequest, "restrict must be a Go duration from 0s to 720h, e.g. \"168h\"")
			return
		}
	}
	n, until, err := c.safety.DismissReporter(r.Context(), label, restrict)
	if err != nil {
		c.storeError(w, err)
		return
	}
	out := struct {
		Dismissed  int        `json:"dismissed"`
		Restricted *time.Time `json:"restricted_until,omitempty"`
	}{Dismissed: n}
	if restrict > 0 {
		until = until.UTC()
		out.Restricted = &until
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *Console) listBans(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, err := safety.ParseCursor(q.Get("after"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "after must be a page's next")
		return
	}
	source := q.Get("source")
	if source != "" && source != "auto" && source != "moderator" {
		apiError(w, http.StatusBadRequest, "source must be auto or moderator")
		return
	}
	text := strings.TrimSpace(q.Get("q"))
	if utf8.RuneCountInString(text) > maxBanReasonLength {
		apiError(w, http.StatusBadRequest, "q: at most 200 characters")
		return
	}
	page, err := c.safety.Bans(r.Context(), safety.BanQuery{After: after, Source: source, Text: text})
	if err != nil {
		c.storeError(w, err)
		return
	}
	views := make([]BanView, len(page.Bans))
	for i, b := range page.Bans {
		views[i] = viewOf(b)
	}
	writeJSON(w, http.StatusOK, struct {
		Bans  []BanView `json:"bans"`
		Total int64     `json:"total"`
		Next  string    `json:"next,omitempty"`
	}{views, page.Total, page.Next})
}

func (c *Console) lift(w http.ResponseWriter, r *http.Request) {
	if err := c.safety.Lift(r.Context(), r.PathValue("id")); err != nil {
		c.storeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
