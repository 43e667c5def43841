package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/wire"
)

// Appeals is the banned user's side of an appeal, under the app's own origin: GET /api/appeal
// shows the ban, the appeal's state and what the report carried about the user itself; POST
// /api/appeal opens the appeal (once per ban). Every request carries the ban's appeal token
// (Authorization: Bearer <token>, told only to the banned user's own socket); whoever lacks it
// (a household behind the same address, anybody) learns nothing, not even whether a ban exists.
// A page that was gone when the ban was made claims the appeal (POST /api/appeal/claim) with the
// identities and appeal keys it kept from its hellos, and gets a token. Each network may make
// safety.AppealRate requests a minute, across instances.
type Appeals struct {
	safety  *safety.Safety
	metrics *metrics.Metrics
	log     *slog.Logger
	addrOf  func(*http.Request) string // the client's address key
}

// AppealsParts are what the appeal API reads and acts on.
type AppealsParts struct {
	Safety  *safety.Safety
	Metrics *metrics.Metrics
	Log     *slog.Logger
	AddrOf  func(*http.Request) string
}

// appealBodyLimit bounds a POST's body: wire.MaxAppealText characters of up to 4 bytes, escaped.
const appealBodyLimit = 8 << 10

// NewAppeals creates the API.
func NewAppeals(p AppealsParts) *Appeals {
	return &Appeals{safety: p.Safety, metrics: p.Metrics, log: p.Log, addrOf: p.AddrOf}
}

// Register adds the API's routes to mux.
func (a *Appeals) Register(mux *http.ServeMux) {
	mux.Handle("GET /api/appeal", a.limited(a.withToken(a.show)))
	mux.Handle("POST /api/appeal", a.limited(a.withToken(a.open)))
	mux.Handle("POST /api/appeal/claim", a.limited(http.HandlerFunc(a.claim)))
}

// limited counts the request against its network's rate.
func (a *Appeals) limited(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch err := a.safety.AllowAppealRequest(r.Context(), a.safety.AddrHash(a.addrOf(r))); {
		case errors.Is(err, safety.ErrAppealRate):
			w.Header().Set("Retry-After", "60")
			apiError(w, http.StatusTooManyRequests, "too many appeal requests from your address; wait a minute")
		case err != nil:
			a.storeError(w, err)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// withToken hands the request's appeal token on.
func (a *Appeals) withToken(h func(http.ResponseWriter, *http.Request, string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			apiError(w, http.StatusUnauthorized, "an appeal token is needed: Authorization: Bearer <token from the banned event>")
			return
		}
		h(w, r, token)
	})
}

func (a *Appeals) storeError(w http.ResponseWriter, err error) {
	answerStoreError(w, a.log, "appeals", "no ban in force for this appeal token (it may have ended or been lifted)", err)
}

func (a *Appeals) show(w http.ResponseWriter, r *http.Request, token string) {
	own, err := a.safety.AppealOf(r.Context(), token)
	if err != nil {
		a.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, own)
}

// readJSON decodes a JSON body of at most appealBodyLimit bytes into v, or answers 415, 413
// or 400 (shape: what the body must be) and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, v any, shape string) bool {
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
		apiError(w, http.StatusUnsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
		return false
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, appealBodyLimit)).Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			apiError(w, http.StatusRequestEntityTooLarge, "the body is at most 8 KiB (an appeal at most 1000 characters)")
			return false
		}
		apiError(w, http.StatusBadRequest, "body must be "+shape)
		return false
	}
	return true
}

// claim gives a page gone when its ban was made the ban's appeal token, for an identity and
// appeal key it kept.
func (a *Appeals) claim(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Keys []safety.AppealClaim `json:"keys"`
	}
	if !readJSON(w, r, &body, `{"keys": [{"id": "...", "key": "..."}]}`) {
		return
	}
	if len(body.Keys) == 0 || len(body.Keys) > safety.MaxAppealClaims {
		apiError(w, http.StatusBadRequest, "keys: 1-20 of the identities and appeal keys the page was told in hello")
		return
	}
	token, until, err := a.safety.ClaimAppeal(r.Context(), body.Keys)
	if err != nil {
		answerStoreError(w, a.log, "appeals", "no ban in force was made on these identities", err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Appeal string `json:"appeal"`
		Until  string `json:"until"`
	}{token, until.UTC().Format(time.RFC3339)})
}

func (a *Appeals) open(w http.ResponseWriter, r *http.Request, token string) {
	var body struct {
		Text string `json:"text"`
	}
	if !readJSON(w, r, &body, `{"text": "..."}`) {
		return
	}
	text := strings.TrimSpace(body.Text)
	if n := utf8.RuneCountInString(text); n == 0 || n > wire.MaxAppealText || !utf8.ValidString(text) {
		apiError(w, http.StatusBadRequest, "text: 1-1000 characters")
		return
	}
	switch err := a.safety.OpenAppeal(r.Context(), token, text); {
	case errors.Is(err, safety.ErrAppealed):
		apiError(w, http.StatusConflict, "this ban has been appealed already; a moderator decides once")
		return
	case err != nil:
		a.storeError(w, err)
		return
	}
	a.metrics.Appeals.WithLabelValues("opened").Inc()
	w.WriteHeader(http.StatusNoContent)
}
