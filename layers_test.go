package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/go-megle/go-megle/"

// readmeLayers is the README's architecture table, top to bottom: the internal packages in the
// order of their rows (the root is above them all).
func readmeLayers(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(b)
	start := strings.Index(section, "| package / file | owns | may import (of ours) |")
	if start < 0 {
		t.Fatal("the README's architecture table is gone")
	}
	section = section[start:]
	section = section[:strings.Index(section, "\n\n")]
	row := regexp.MustCompile("(?m)^\\| `(internal/[a-z]+)`")
	var out []string
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	return out
}

// imports is what the production (non-test) files of dir import of this module.
func imports(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out = append(out, p)
		}
	}
	return out
}

// Issue 22: the import graph is the README's table read top to bottom. Every internal package
// has its row, and imports only packages of rows below its own; nothing but tests imports the
// test-support package; internal/session does no I/O (it imports nothing that could).
func TestPackagesImportOnlyDownTheREADMETable(t *testing.T) {
	layers := readmeLayers(t)
	dirs, err := filepath.Glob("internal/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if !slices.Contains(layers, filepath.ToSlash(dir)) {
			t.Errorf("%s has no row in the README's architecture table", dir)
		}
	}
	for i, pkg := range layers {
		for _, imp := range imports(t, pkg) {
			ours, ok := strings.CutPrefix(imp, modulePath)
			if !ok {
				continue
			}
			j := slices.Index(layers, ours)
			if j <= i {
				t.Errorf("%s imports %s, which is not below it in the README's table", pkg, ours)
			}
			if ours == "internal/redistest" {
				t.Errorf("%s imports the test-support package", pkg)
			}
		}
	}
	for _, imp := range imports(t, ".") {
		if imp == modulePath+"internal/redistest" {
			t.Error("the root's production code imports the test-support package")
		}
	}

	// no I/O in the session: no socket, file, process, log or clock beyond time's types
	io := regexp.MustCompile(`^(net|os|io|log|syscall|unsafe|runtime|plugin|database|embed|crypto/rand|math/rand)(/|$)`)
	for _, imp := range imports(t, "internal/session") {
		ours := strings.HasPrefix(imp, modulePath)
		if ours && imp != modulePath+"internal/wire" || !ours && (strings.Contains(imp, ".") || io.MatchString(imp)) {
			t.Errorf("internal/session imports %s: it may import only the standard library's pure parts and internal/wire", imp)
		}
	}
}
