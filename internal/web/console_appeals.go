package web

import (
	"net/http"
	"time"

	"github.com/go-megle/go-megle/internal/safety"
)

// The console's appeals queue: open appeals, oldest first, each with its ban and the report the
// ban was made from as the moderator saw it; uphold keeps the ban, lift ends it (as DELETE
// /mod/api/bans/{id} does), and both delete the kept report and the appeal.

// AppealView is an open appeal as the console shows it.
type AppealView struct {
	Ban    BanView              `json:"ban"`
	Text   string               `json:"text"`
	Opened time.Time            `json:"opened"`
	Report *safety.AppealReport `json:"report,omitempty"` // none for an automatic ban
}

func (c *Console) registerAppeals(mux *http.ServeMux) {
	mux.Handle("GET /mod/api/appeals", c.authorized(c.listAppeals))
	mux.Handle("POST /mod/api/appeals/{id}/uphold", c.authorized(c.uphold))
	mux.Handle("POST /mod/api/appeals/{id}/lift", c.authorized(c.liftAppealed))
}

func (c *Console) listAppeals(w http.ResponseWriter, r *http.Request) {
	after, err := safety.ParseCursor(r.URL.Query().Get("after"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "after must be a page's next")
		return
	}
	page, err := c.safety.Appeals(r.Context(), after)
	if err != nil {
		c.storeError(w, err)
		return
	}
	views := make([]AppealView, len(page.Appeals))
	for i, a := range page.Appeals {
		views[i] = AppealView{Ban: viewOf(a.Ban), Text: a.Text, Opened: a.Opened, Report: a.Report}
	}
	writeJSON(w, http.StatusOK, struct {
		Appeals []AppealView `json:"appeals"`
		Total   int64        `json:"total"`
		Next    string       `json:"next,omitempty"`
	}{views, page.Total, page.Next})
}

func (c *Console) uphold(w http.ResponseWriter, r *http.Request) {
	if err := c.safety.Uphold(r.Context(), r.PathValue("id")); err != nil {
		c.storeError(w, err)
		return
	}
	c.metrics.Appeals.WithLabelValues("upheld").Inc()
	w.WriteHeader(http.StatusNoContent)
}

func (c *Console) liftAppealed(w http.ResponseWriter, r *http.Request) {
	if err := c.safety.Lift(r.Context(), r.PathValue("id")); err != nil {
		c.storeError(w, err)
		return
	}
	c.metrics.Appeals.WithLabelValues("lifted").Inc()
	w.WriteHeader(http.StatusNoContent)
}
