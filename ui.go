package main

import (
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
)

// uiFromDisk serves a built UI from a directory (the default build); nil if it is not built.
func uiFromDisk(dir string) fs.FS {
	if _, err := os.Stat(path.Join(dir, "index.html")); err != nil {
		return nil
	}
	return os.DirFS(dir)
}

const uiMissingPage = `<!doctype html><meta charset="utf-8"><title>Go-Megle: UI not built</title>
<h1>The web UI is not built</h1>
<p>The signaling server is running, but there is no UI to serve.</p>
<p>Build it with <code>npm start</code> (installs, builds and runs everything), or
<code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code> and restart the server.
The server looks for it in <code>WEB_DIR</code> (default <code>web/dist</code>), or embeds it
when built with <code>go build -tags embedui</code>.</p>`

// uiHandler serves the single-page app: existing files as they are, any other path as
// index.html, so client-side routes work.
func (s *Server) uiHandler() http.Handler {
	if s.ui == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(uiMissingPage)) // the client may be gone
		})
	}
	files := http.FileServerFS(s.ui)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		if _, err := fs.Stat(s.ui, name); err != nil {
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/"
			files.ServeHTTP(w, r2)
			return
		}
		if strings.HasPrefix(name, "assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable") // hashed names
		}
		files.ServeHTTP(w, r)
	})
}
