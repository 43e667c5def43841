package wire_test

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/go-megle/go-megle/internal/wire"
)

// TestTypeScriptProtocolMatchesGo holds web/src/protocol.ts, the browser's copy of the wire
// protocol, to the Go types in internal/wire: the same events both ways, with the same field
// names in their data, the same error codes and partner_left reasons, and the same close codes
// of this application.
func TestTypeScriptProtocolMatchesGo(t *testing.T) {
	src, err := os.ReadFile("../../web/src/protocol.ts")
	if err != nil {
		t.Fatal(err)
	}
	ts := parseTS(t, string(src))
	for _, dir := range []struct {
		union string
		go_   map[string]any
	}{{"ServerMessage", wire.ServerEvents}, {"ClientMessage", wire.ClientEvents}} {
		t.Run(dir.union, func(t *testing.T) {
			got := ts.union(dir.union)
			want := map[string][]string{}
			for ev, data := range dir.go_ {
				want[ev] = jsonFields(reflect.TypeOf(data))
			}
			if !reflect.DeepEqual(sortedKeys(got), sortedKeys(want)) {
				t.Fatalf("events: protocol.ts has %v, Go has %v", sortedKeys(got), sortedKeys(want))
			}
			for ev, fields := range want {
				if !reflect.DeepEqual(got[ev], fields) {
					t.Errorf("%s data: protocol.ts has fields %v, Go has %v", ev, got[ev], fields)
				}
			}
		})
	}
	for name, goValues := range map[string][]string{"ErrorCode": wire.ErrorCodes, "PartnerLeftReason": wire.Reasons, "Language": wire.Languages} {
		got := ts.stringUnion(name)
		want := slices.Sorted(slices.Values(goValues))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: protocol.ts has %v, Go has %v", name, got, want)
		}
	}
	for name, code := range map[string]int{"CLOSE_REPLACED": wire.CloseReplaced, "CLOSE_BANNED": wire.CloseBanned, "MAX_LANGUAGES": wire.MaxLanguages,
		"MAX_APPEAL_LENGTH": wire.MaxAppealText} {
		if got := ts.constant(name); got != strconv.Itoa(code) {
			t.Errorf("%s: protocol.ts has %s, Go has %d", name, got, code)
		}
	}
}

// constant reads the value of `export const NAME = value;`.
func (s tsSource) constant(name string) string {
	s.t.Helper()
	m := regexp.MustCompile(`export\s+const\s+` + name + `\s*=\s*([^;]+);`).FindStringSubmatch(s.src)
	if m == nil {
		s.t.Fatalf("protocol.ts declares no constant %s", name)
	}
	return strings.TrimSpace(m[1])
}

func jsonFields(typ reflect.Type) []string {
	fields := []string{}
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			fields = append(fields, name)
		}
	}
	sort.Strings(fields)
	return fields
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tsSource is protocol.ts without comments, with just enough parsing for its declarations:
// `export type X = ...;`, `export interface X { ... }`, and object types `{ a: T; b?: U }`.
type tsSource struct {
	t   *testing.T
	src string
}

var tsComments = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`)

func parseTS(t *testing.T, src string) tsSource {
	return tsSource{t: t, src: tsComments.ReplaceAllString(src, "")}
}

// declaration returns the text of type or interface name: what follows "=" up to the ";" that
// ends it, or the interface's braces.
func (s tsSource) declaration(name string) string {
	s.t.Helper()
	if m := regexp.MustCompile(`export\s+interface\s+` + name + `\b[^{]*`).FindStringIndex(s.src); m != nil {
		return s.balanced(m[1])
	}
	m := regexp.MustCompile(`export\s+type\s+` + name + `\s*=`).FindStringIndex(s.src)
	if m == nil {
		s.t.Fatalf("protocol.ts declares no type %s", name)
	}
	depth := 0
	for i := m[1]; i < len(s.src); i++ {
		switch s.src[i] {
		case '{', '(', '[', '<':
			depth++
		case '}', ')', ']', '>':
			depth--
		case ';':
			if depth == 0 {
				return strings.TrimSpace(s.src[m[1]:i])
			}
		}
	}
	s.t.Fatalf("type %s does not end", name)
	return ""
}

// balanced returns the brace-delimited text starting at or after i.
func (s tsSource) balanced(i int) string {
	start := strings.IndexByte(s.src[i:], '{') + i
	depth := 0
	for j := start; j < len(s.src); j++ {
		switch s.src[j] {
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return s.src[start : j+1]
			}
		}
	}
	s.t.Fatal("unbalanced braces in protocol.ts")
	return ""
}

// splitTop splits text at sep where no bracket is open.
func splitTop(text string, sep byte) []string {
	var parts []string
	depth, last := 0, 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '{', '(', '[', '<':
			depth++
		case '}', ')', ']', '>':
			depth--
		case sep:
			if depth == 0 {
				parts = append(parts, text[last:i])
				last = i + 1
			}
		}
	}
	return append(parts, text[last:])
}

// objectFields lists the top-level property names of an object type, or of a named one.
func (s tsSource) objectFields(typ string) []string {
	typ = strings.TrimSpace(typ)
	fields := []string{}
	if typ == "Record<string, never>" {
		return fields
	}
	if !strings.HasPrefix(typ, "{") {
		return s.objectFields(s.declaration(typ))
	}
	body := typ[1 : len(typ)-1]
	for _, part := range splitTop(strings.ReplaceAll(body, ",", ";"), ';') {
		name, _, ok := strings.Cut(part, ":")
		if name = strings.TrimSuffix(strings.TrimSpace(name), "?"); ok && name != "" {
			fields = append(fields, name)
		}
	}
	sort.Strings(fields)
	return fields
}

var tsEvent = regexp.MustCompile(`^event\s*:\s*'(\w+)'$`)

// union reads a union of {event: '...'; data: ...} members into event -> data fields.
func (s tsSource) union(name string) map[string][]string {
	s.t.Helper()
	out := map[string][]string{}
	for _, member := range splitTop(s.declaration(name), '|') {
		if member = strings.TrimSpace(member); member == "" {
			continue
		}
		var event, data string
		for _, prop := range splitTop(strings.Trim(member, "{} \n"), ';') {
			prop = strings.TrimSpace(prop)
			if m := tsEvent.FindStringSubmatch(prop); m != nil {
				event = m[1]
			} else if d, ok := strings.CutPrefix(prop, "data:"); ok {
				data = d
			}
		}
		if event == "" || data == "" {
			s.t.Fatalf("%s member %q is not {event: '...'; data: ...}", name, member)
		}
		out[event] = s.objectFields(data)
	}
	return out
}

// stringUnion reads a union of string literals, sorted.
func (s tsSource) stringUnion(name string) []string {
	var out []string
	for _, lit := range splitTop(s.declaration(name), '|') {
		if lit = strings.TrimSpace(lit); lit != "" {
			out = append(out, strings.Trim(lit, "'\""))
		}
	}
	sort.Strings(out)
	return out
}
