package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strings"
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
// Each network may make safety.AppealRate requests a minute, across instances.
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
	mux.Handle("GET /api/appeal", a.limited(a.show))
	mux.Handle("POST /api/appeal", a.limited(a.open))
}

// limited counts the request against its network's rate, then hands it the token.
func (a *Appeals) limited(h func(http.ResponseWriter, *http.Request, string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch err := a.safety.AllowAppealRequest(r.Context(), a.safety.AddrHash(a.addrOf(r))); {
		case errors.Is(err, safety.ErrAppealRate):
			w.Header().Set("Retry-After", "60")
			apiError(w, http.StatusTooManyRequests, "too many appeal requests from your address; wait a minute")
			return
		case err != nil:
			a.storeError(w, err)
			return
		}
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

func (a *Appeals) open(w http.ResponseWriter, r *http.Request, token string) {
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
		apiError(w, http.StatusUnsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
		return
	}
	var body struct {
		Text string `json:"text"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, appealBodyLimit))
	if err := dec.Decode(&body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			apiError(w, http.StatusRequestEntityTooLarge, "an appeal is at most 1000 characters")
			return
		}
		apiError(w, http.StatusBadRequest, "body must be {\"text\": \"...\"}")
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
