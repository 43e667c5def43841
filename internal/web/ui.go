package web

import (
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// uiFromDisk serves a built UI from a directory (the default build); nil if it is not built.
func UIFromDisk(dir string) fs.FS {
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
func (s *Server) UIHandler() http.Handler {
	if s.UI == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(uiMissingPage)) // the client may be gone
		})
	}
	return uiFiles{s.UI}
}

// uiCodings are the content codings `npm run build` writes copies in (web/build/precompress.ts
// writes <file>.br and <file>.gz, where they are smaller), best first: of two the client
// wants equally, the first is sent.
var uiCodings = []struct{ name, suffix string }{{"br", ".br"}, {"gzip", ".gz"}}

const (
	// A hashed file's content never changes under its name: a new build has new names.
	CacheImmutable = "public, max-age=31536000, immutable"
	// Anything else (index.html, which names the hashed files, and public/'s files) is
	// revalidated on every use, so a deploy is seen at the next load.
	CacheRevalidate = "no-cache"
)

// hashedName is how Vite names what it writes under assets/: <name>-<8 characters of a
// content hash>.<ext> (a source map adds .map). A file someone puts in public/assets/ keeps
// its own name and is not cached for good.
var hashedName = regexp.MustCompile(`-[A-Za-z0-9_-]{8}\.[a-z0-9]+(\.map)?$`)

func isHashed(name string) bool {
	return strings.HasPrefix(name, "assets/") && hashedName.MatchString(path.Base(name))
}

// uiFiles serves a built UI from fsys (a directory or the embedded build): each file in the
// coding the client prefers among the copies the build wrote, with Content-Encoding, Vary and
// the length of what is sent; hashed files cached for good, everything else revalidated.
type uiFiles struct{ fsys fs.FS }

func (u uiFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", CacheRevalidate)
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	original, err := fs.Stat(u.fsys, name)
	if err != nil || !original.Mode().IsRegular() {
		if name == "assets" || strings.HasPrefix(name, "assets/") {
			// A chunk this build does not have (a page of another build asking): a 404 the
			// page can see, not index.html as JavaScript; never a listing of the directory.
			http.NotFound(w, r)
			return
		}
		name = "index.html" // a client-side route
		if original, err = fs.Stat(u.fsys, name); err != nil {
			http.Error(w, "cannot read "+name, http.StatusInternalServerError)
			return
		}
	}
	if isHashed(name) {
		h.Set("Cache-Control", CacheImmutable)
	}
	h.Add("Vary", "Accept-Encoding") // on every answer, whichever coding it has

	coding, suffix := u.coding(r, name)
	f, err := u.fsys.Open(name + suffix)
	if err != nil {
		http.Error(w, "cannot read "+name, http.StatusInternalServerError)
		return
	}
	defer f.Close()
	content, ok := f.(io.ReadSeeker)
	info, err := f.Stat()
	if !ok || err != nil {
		http.Error(w, "cannot read "+name, http.StatusInternalServerError)
		return
	}
	if coding != "" {
		// http.ServeContent leaves Content-Length out when a coding is set (it cannot tell a
		// copy from a writer that compresses), and would sniff the type from compressed bytes.
		h.Set("Content-Encoding", coding)
		h.Set("Content-Length", strconv.FormatInt(info.Size(), 10))
		h.Set("Content-Type", u.contentType(name))
	}
	// The original's time for every coding: they are one representation's variants.
	http.ServeContent(w, r, name, original.ModTime(), content)
}

func (u uiFiles) isFile(name string) bool {
	info, err := fs.Stat(u.fsys, name)
	return err == nil && info.Mode().IsRegular()
}

// coding picks the coding to send name in: the client's most preferred (RFC 9110, 12.5.3)
// of those with a copy, or "" for the file itself. A Range request gets the file itself, so
// that byte offsets always count the file as it is stored, whatever was sent before.
func (u uiFiles) coding(r *http.Request, name string) (coding, suffix string) {
	if r.Header.Get("Range") != "" {
		return "", ""
	}
	accept := parseAcceptEncoding(r.Header.Values("Accept-Encoding"))
	best := 0.0
	for _, c := range uiCodings {
		if q := accept.quality(c.name); q > best && u.isFile(name+c.suffix) {
			coding, suffix, best = c.name, c.suffix, q
		}
	}
	if accept.identity > best { // "identity;q=1, br;q=0.5": the client would rather have it plain
		return "", ""
	}
	return coding, suffix
}

// contentType is the type of the file itself, whatever coding it is sent in: by its
// extension, else sniffed from the file (never from a compressed copy).
func (u uiFiles) contentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	f, err := u.fsys.Open(name)
	if err != nil {
		return "application/octet-stream"
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head) // a short file is read whole; an error leaves what was read
	return http.DetectContentType(head[:n])
}

// acceptEncoding is a request's Accept-Encoding (RFC 9110, 12.5.3): the quality value (0 to 1)
// of each coding this server has copies in, of "identity" and of "*" (any coding not named),
// -1 where the header does not name it.
type acceptEncoding struct {
	br, gzip, identity, any float64
}

// parseAcceptEncoding reads every Accept-Encoding line of a request. An entry that is not
// a coding with an optional valid weight counts for nothing, and so does a coding this server
// has no copies in; no header, or an empty one, accepts no coding.
func parseAcceptEncoding(lines []string) acceptEncoding {
	a := acceptEncoding{br: -1, gzip: -1, identity: -1, any: -1}
	for _, line := range lines {
		for entry := range strings.SplitSeq(line, ",") {
			coding, params, _ := strings.Cut(entry, ";")
			q, ok := qualityValue(params)
			if !ok {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "br":
				a.br = max(a.br, q)
			case "gzip", "x-gzip": // x-gzip: the same coding (RFC 9110, 8.4.1.3)
				a.gzip = max(a.gzip, q)
			case "identity":
				a.identity = max(a.identity, q)
			case "*":
				a.any = max(a.any, q)
			}
		}
	}
	return a
}

// qualityValue is the weight among an entry's parameters ("q=0.5"), 1 without one; false if
// it is not a number from 0 to 1. Other parameters are ignored.
func qualityValue(params string) (float64, bool) {
	q := 1.0
	for param := range strings.SplitSeq(params, ";") {
		key, value, _ := strings.Cut(strings.TrimSpace(param), "=")
		if !strings.EqualFold(strings.TrimSpace(key), "q") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || !(v >= 0 && v <= 1) { // NaN too
			return 0, false
		}
		q = v
	}
	return q, true
}

// quality is how much the client wants coding: its own weight, else that of "*", else 0.
func (a acceptEncoding) quality(coding string) float64 {
	q := a.any
	switch coding {
	case "br":
		if a.br >= 0 {
			q = a.br
		}
	case "gzip":
		if a.gzip >= 0 {
			q = a.gzip
		}
	}
	return max(q, 0)
}
