package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/web"
)

// A build as `npm run build` writes it, small: hashed files under assets/ with their brotli
// and gzip copies (the map has only a brotli one), files of public/ at the top.
var (
	testIndex  = strings.Repeat("<!doctype html><title>Go-Megle</title><script type=module src=/assets/index-AbCd12_-.js></script>\n", 8)
	testScript = strings.Repeat("export const greeting = 'hello, stranger';\n", 64)
	testMap    = strings.Repeat(`{"version":3,"sources":["a.ts"],"mappings":"AAAA"}`, 16)
	testWasm   = "\x00asm\x01\x00\x00\x00" + strings.Repeat("\x01\x02\x03\x04", 256)
	testNotes  = strings.Repeat("plain notes of unknown type\n", 32)
)

func brotliBytes(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := brotli.NewWriterLevel(&b, brotli.BestCompression)
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipBytes(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// testBuild is the small build's files by name.
func testBuild(t testing.TB) map[string][]byte {
	files := map[string][]byte{
		"favicon.svg":                     []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`),
		"assets/logo.png":                 []byte("\x89PNG\r\n\x1a\nnot hashed: a file of public/assets"),
		"assets/index-AbCd12_-.js":        []byte(testScript),
		"assets/index-AbCd12_-.js.map":    []byte(testMap),
		"assets/index-AbCd12_-.js.map.br": brotliBytes(t, testMap),
		"assets/backend-Wasm9_-x.wasm":    []byte(testWasm),
		"assets/notes-Zz99yy88.weird":     []byte(testNotes),
		"assets/notes-Zz99yy88.weird.br":  brotliBytes(t, testNotes),
		"index.html":                      []byte(testIndex),
	}
	for name, text := range map[string]string{"index.html": testIndex, "assets/index-AbCd12_-.js": testScript, "assets/backend-Wasm9_-x.wasm": testWasm} {
		files[name+".br"] = brotliBytes(t, text)
		files[name+".gz"] = gzipBytes(t, text)
	}
	return files
}

// The embedded build's shape: an fs.FS whose files have no modification time.
func embeddedLikeFS(t testing.TB) fs.FS {
	m := fstest.MapFS{}
	for name, data := range testBuild(t) {
		m[name] = &fstest.MapFile{Data: data, Mode: 0o444}
	}
	return m
}

// The on-disk build's shape: a directory.
func diskFS(t testing.TB) fs.FS {
	dir := t.TempDir()
	for name, data := range testBuild(t) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return web.UIFromDisk(dir)
}

// rawClient neither asks for nor decodes a coding by itself: every header is the test's.
var rawClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true, DisableKeepAlives: true}}

type uiResponse struct {
	status int
	header http.Header
	body   []byte // as sent
}

func fetchUI(t *testing.T, base, method, target string, header map[string][]string) uiResponse {
	t.Helper()
	req, err := http.NewRequest(method, base+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := rawClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body) // fails if Content-Length and the body disagree
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, target, err)
	}
	return uiResponse{res.StatusCode, res.Header, body}
}

// decoded is the body with its Content-Encoding undone.
func (r uiResponse) decoded(t *testing.T) string {
	t.Helper()
	var rd io.Reader
	switch r.header.Get("Content-Encoding") {
	case "":
		return string(r.body)
	case "br":
		rd = brotli.NewReader(bytes.NewReader(r.body))
	case "gzip":
		gz, err := gzip.NewReader(bytes.NewReader(r.body))
		if err != nil {
			t.Fatalf("not gzip: %v", err)
		}
		rd = gz
	default:
		t.Fatalf("Content-Encoding %q", r.header.Get("Content-Encoding"))
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatalf("cannot decode the %s body: %v", r.header.Get("Content-Encoding"), err)
	}
	return string(b)
}

// checkServed: the coding wanted, the original's type, a Content-Length that is what was sent,
// Vary on the coding, and a body that decodes to the file.
func (r uiResponse) checkServed(t *testing.T, coding, contentType, content string) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200", r.status)
	}
	if got := r.header.Get("Content-Encoding"); got != coding {
		t.Errorf("Content-Encoding %q, want %q", got, coding)
	}
	if got := r.header.Get("Content-Type"); got != contentType {
		t.Errorf("Content-Type %q, want %q", got, contentType)
	}
	if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(r.body)) {
		t.Errorf("Content-Length %q, %d bytes sent", got, len(r.body))
	}
	if !strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Accept-Encoding") {
		t.Errorf("Vary %q, want Accept-Encoding", r.header.Values("Vary"))
	}
	if got := r.decoded(t); got != content {
		t.Errorf("decoded body is not the file (%d bytes, want %d)", len(got), len(content))
	}
	if coding != "" && len(r.body) >= len(content) {
		t.Errorf("%s body of %d bytes for a %d-byte file", coding, len(r.body), len(content))
	}
}

func uiServer(t *testing.T, fsys fs.FS) string {
	t.Helper()
	srv := httptest.NewServer((&web.Server{UI: fsys}).UIHandler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// forEachBuild runs test against the UI handler over each shape of build.
func forEachBuild(t *testing.T, test func(t *testing.T, base string)) {
	for _, build := range []struct {
		name string
		fsys func(testing.TB) fs.FS
	}{{"embedded", embeddedLikeFS}, {"disk", diskFS}} {
		t.Run(build.name, func(t *testing.T) { test(t, uiServer(t, build.fsys(t))) })
	}
}

func TestUIChoosesCodingByAcceptEncoding(t *testing.T) {
	const js = "text/javascript; charset=utf-8"
	cases := []struct {
		name   string
		accept []string // nil: no header
		want   string
	}{
		{"no header: the file itself", nil, ""},
		{"an empty header: no coding", []string{""}, ""},
		{"br", []string{"br"}, "br"},
		{"gzip", []string{"gzip"}, "gzip"},
		{"Chromium's header: br over gzip", []string{"gzip, deflate, br, zstd"}, "br"},
		{"identity", []string{"identity"}, ""},
		{"only codings without copies", []string{"deflate, zstd"}, ""},
		{"a lower weight for br", []string{"br;q=0.5, gzip"}, "gzip"},
		{"br refused", []string{"br;q=0, gzip;q=0.1"}, "gzip"},
		{"weights with spaces and capitals", []string{"gzip ; Q=0.9 , BR ; q=0.8"}, "gzip"},
		{"x-gzip is gzip", []string{"x-gzip"}, "gzip"},
		{"any coding", []string{"*"}, "br"},
		{"any coding but br", []string{"*;q=0.5, br;q=0"}, "gzip"},
		{"nothing at all", []string{"*;q=0"}, ""},
		{"identity preferred", []string{"identity;q=1, br;q=0.5"}, ""},
		{"a tie with identity goes to the coding", []string{"br, identity"}, "br"},
		{"an invalid weight counts for nothing", []string{"br;q=2"}, ""},
		{"a weight that is not a number", []string{"br;q=NaN, gzip;q=0.3"}, "gzip"},
		{"other parameters are ignored", []string{"br;level=1"}, "br"},
		{"two header lines", []string{"gzip;q=0.2", "br;q=0.1"}, "gzip"},
	}
	forEachBuild(t, func(t *testing.T, base string) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				header := map[string][]string{}
				if tc.accept != nil {
					header["Accept-Encoding"] = tc.accept
				}
				res := fetchUI(t, base, "GET", "/assets/index-AbCd12_-.js", header)
				res.checkServed(t, tc.want, js, testScript)
				if got := res.header.Get("Cache-Control"); got != web.CacheImmutable {
					t.Errorf("Cache-Control %q, want %q for a hashed name", got, web.CacheImmutable)
				}
			})
		}
	})
}

func TestUIFilesTypesAndCaching(t *testing.T) {
	base := uiServer(t, embeddedLikeFS(t))
	br := map[string][]string{"Accept-Encoding": {"gzip, deflate, br"}}
	gz := map[string][]string{"Accept-Encoding": {"gzip"}}
	const html = "text/html; charset=utf-8"
	for _, tc := range []struct {
		target string
		header map[string][]string
		coding string
		ctype  string
		body   string
		cache  string
	}{
		{"/", br, "br", html, testIndex, web.CacheRevalidate},
		{"/index.html", gz, "gzip", html, testIndex, web.CacheRevalidate},
		{"/chat/with/a/route", br, "br", html, testIndex, web.CacheRevalidate}, // a client-side route: index.html
		{"/assets/backend-Wasm9_-x.wasm", br, "br", "application/wasm", testWasm, web.CacheImmutable},
		// only a brotli copy: gzip gets the file itself
		{"/assets/index-AbCd12_-.js.map", br, "br", "text/plain; charset=utf-8", testMap, web.CacheImmutable},
		{"/assets/index-AbCd12_-.js.map", gz, "", "text/plain; charset=utf-8", testMap, web.CacheImmutable},
		// a type Go does not know: sniffed from the file, not from its compressed copy
		{"/assets/notes-Zz99yy88.weird", br, "br", "text/plain; charset=utf-8", testNotes, web.CacheImmutable},
		{"/assets/notes-Zz99yy88.weird", nil, "", "text/plain; charset=utf-8", testNotes, web.CacheImmutable},
		// not hashed: revalidated
		{"/favicon.svg", br, "", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"/>`, web.CacheRevalidate},
		{"/assets/logo.png", br, "", "image/png", "\x89PNG\r\n\x1a\nnot hashed: a file of public/assets", web.CacheRevalidate},
	} {
		t.Run(fmt.Sprintf("%s %v", tc.target, tc.header["Accept-Encoding"]), func(t *testing.T) {
			res := fetchUI(t, base, "GET", tc.target, tc.header)
			res.checkServed(t, tc.coding, tc.ctype, tc.body)
			if got := res.header.Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
		})
	}
}

func TestUIMissingAssetsAre404(t *testing.T) {
	base := uiServer(t, embeddedLikeFS(t))
	for _, target := range []string{"/assets/index-Gone1234.js", "/assets/", "/assets", "/assets/index-AbCd12_-.js/x"} {
		res := fetchUI(t, base, "GET", target, map[string][]string{"Accept-Encoding": {"br"}})
		if res.status != http.StatusNotFound || strings.Contains(string(res.body), "Go-Megle") || strings.Contains(string(res.body), "index-AbCd12_-") {
			t.Errorf("GET %s: %d %q, want a 404 that is neither index.html nor a listing", target, res.status, res.body)
		}
		if res.header.Get("Cache-Control") != web.CacheRevalidate || res.header.Get("Content-Encoding") != "" {
			t.Errorf("GET %s: Cache-Control %q, Content-Encoding %q", target, res.header.Get("Cache-Control"), res.header.Get("Content-Encoding"))
		}
	}
}

func TestUIHeadAndRange(t *testing.T) {
	forEachBuild(t, func(t *testing.T, base string) {
		const target = "/assets/index-AbCd12_-.js"
		br := map[string][]string{"Accept-Encoding": {"br"}}

		get := fetchUI(t, base, "GET", target, br)
		head := fetchUI(t, base, "HEAD", target, br)
		if head.status != http.StatusOK || len(head.body) != 0 {
			t.Fatalf("HEAD: %d with %d bytes of body", head.status, len(head.body))
		}
		for _, k := range []string{"Content-Encoding", "Content-Length", "Content-Type", "Cache-Control", "Vary", "Last-Modified"} {
			if head.header.Get(k) != get.header.Get(k) {
				t.Errorf("HEAD's %s %q, GET's %q", k, head.header.Get(k), get.header.Get(k))
			}
		}
		if head.header.Get("Content-Length") != strconv.Itoa(len(get.body)) {
			t.Errorf("HEAD's Content-Length %q, GET sent %d bytes", head.header.Get("Content-Length"), len(get.body))
		}

		// A Range counts the file as stored: it gets the file itself, never a piece of a copy.
		part := fetchUI(t, base, "GET", target, map[string][]string{"Accept-Encoding": {"br, gzip"}, "Range": {"bytes=10-29"}})
		if part.status != http.StatusPartialContent || string(part.body) != testScript[10:30] {
			t.Fatalf("Range: %d %q, want 206 with bytes 10-29 of the file", part.status, part.body)
		}
		if part.header.Get("Content-Encoding") != "" || part.header.Get("Content-Length") != "20" ||
			part.header.Get("Content-Range") != fmt.Sprintf("bytes 10-29/%d", len(testScript)) ||
			part.header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Range: headers %v", part.header)
		}
		beyond := fetchUI(t, base, "GET", target, map[string][]string{"Accept-Encoding": {"br"}, "Range": {"bytes=999999-"}})
		if beyond.status != http.StatusRequestedRangeNotSatisfiable || beyond.header.Get("Content-Encoding") != "" {
			t.Errorf("Range past the end: %d, Content-Encoding %q", beyond.status, beyond.header.Get("Content-Encoding"))
		}
	})
}

// On disk the files have times: a revalidation answers 304 without the headers of a body.
func TestUINotModified(t *testing.T) {
	base := uiServer(t, diskFS(t))
	first := fetchUI(t, base, "GET", "/", map[string][]string{"Accept-Encoding": {"br"}})
	since := first.header.Get("Last-Modified")
	if since == "" {
		t.Fatal("no Last-Modified from a file on disk")
	}
	again := fetchUI(t, base, "GET", "/", map[string][]string{"Accept-Encoding": {"br"}, "If-Modified-Since": {since}})
	if again.status != http.StatusNotModified || len(again.body) != 0 {
		t.Fatalf("revalidation: %d with %d bytes, want 304", again.status, len(again.body))
	}
	for _, k := range []string{"Content-Encoding", "Content-Length", "Content-Type"} {
		if again.header.Get(k) != "" {
			t.Errorf("304 with %s %q", k, again.header.Get(k))
		}
	}
	if again.header.Get("Vary") != "Accept-Encoding" || again.header.Get("Cache-Control") != web.CacheRevalidate {
		t.Errorf("304: Vary %q, Cache-Control %q", again.header.Get("Vary"), again.header.Get("Cache-Control"))
	}
}

// The real embedded build: the server binary built with -tags embedui around a small web/dist
// (laid over the repository with -overlay, so that this runs where the UI was never built),
// run, and asked for brotli, gzip and neither.
func TestUIEmbeddedBuildServesCopies(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds the server (-short)")
	}
	dir := t.TempDir()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	overlay := map[string]string{}
	for name, data := range testBuild(t) {
		// names of their own, so that a web/dist already built beside them changes nothing
		name = strings.Replace(name, "index-AbCd12_-", "embedtest-Qq77Rr66", 1)
		src := filepath.Join(dir, strings.ReplaceAll(name, "/", "_"))
		if err := os.WriteFile(src, data, 0o600); err != nil {
			t.Fatal(err)
		}
		overlay[filepath.Join(wd, "web", "dist", filepath.FromSlash(name))] = src
	}
	overlayFile := filepath.Join(dir, "overlay.json")
	spec, err := json.Marshal(struct{ Replace map[string]string }{overlay})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(overlayFile, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "go-megle-embedui")
	if out, err := exec.Command("go", "build", "-tags", "embedui", "-overlay", overlayFile, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags embedui: %v\n%s", err, out)
	}

	addr := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	cmd := exec.Command(bin)
	cmd.Env = []string{"ADDR=" + addr, "LOG_LEVEL=warn", "WEB_DIR=/nonexistent", "POW_MAX_NUMBER=0"}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	redistest.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	})
	base := "http://" + addr
	waitFor(t, 20*time.Second, "the embedded build's /healthz", func() bool {
		res, err := rawClient.Get(base + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})

	const target = "/assets/embedtest-Qq77Rr66.js"
	const js = "text/javascript; charset=utf-8"
	for accept, coding := range map[string]string{"br": "br", "gzip, deflate, br, zstd": "br", "gzip": "gzip", "identity": ""} {
		res := fetchUI(t, base, "GET", target, map[string][]string{"Accept-Encoding": {accept}})
		res.checkServed(t, coding, js, testScript)
		if res.header.Get("Cache-Control") != web.CacheImmutable {
			t.Errorf("Accept-Encoding %q: Cache-Control %q", accept, res.header.Get("Cache-Control"))
		}
	}
	fetchUI(t, base, "GET", target, nil).checkServed(t, "", js, testScript)
	// the server's own headers are still there (securityHeaders wraps the UI)
	if res := fetchUI(t, base, "GET", target, map[string][]string{"Accept-Encoding": {"br"}}); res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", res.header.Get("X-Content-Type-Options"))
	}
}

// What one request for a hashed chunk costs the server, on disk (the default) and embedded:
// the negotiation, the stats of the file and its copies, and sending the copy.
func BenchmarkUIServe(b *testing.B) {
	for _, build := range []struct {
		name string
		fsys func(testing.TB) fs.FS
	}{{"embedded", embeddedLikeFS}, {"disk", diskFS}} {
		for _, accept := range []string{"gzip, deflate, br, zstd", ""} {
			b.Run(fmt.Sprintf("%s/accept=%q", build.name, accept), func(b *testing.B) {
				h := (&web.Server{UI: build.fsys(b)}).UIHandler()
				req := httptest.NewRequest("GET", "/assets/index-AbCd12_-.js", nil)
				if accept != "" {
					req.Header.Set("Accept-Encoding", accept)
				}
				b.ReportAllocs()
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
				}
			})
		}
	}
}
