package inbound

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-megle/go-megle/internal/wire"
)

// validateReport checks a report's reason and evidence, and says what is wrong with it: an
// oversize or malformed report is refused whole, and nothing of it is stored.
func validateReport(r *wire.ReportRequest) string {
	if !slices.Contains(wire.ReportReasons, r.Reason) {
		return "report reason must be one of " + strings.Join(wire.ReportReasons, ", ")
	}
	if utf8.RuneCountInString(r.Note) > wire.MaxReportNote || strings.ContainsFunc(r.Note, isControl) {
		return "report note: at most 500 characters, no control characters"
	}
	if r.Frame != "" {
		if bad := validateFrame(r.Frame); bad != "" {
			return bad
		}
	}
	if len(r.Chat) > wire.MaxReportChatLines {
		return "report chat: at most the last 20 lines"
	}
	for _, l := range r.Chat {
		if l.From != "you" && l.From != "stranger" {
			return "report chat lines are from \"you\" or \"stranger\""
		}
		if n := utf8.RuneCountInString(l.Text); n == 0 || n > wire.MaxChatLen {
			return "report chat lines are 1-2000 characters"
		}
	}
	return ""
}

// isControl is a control character other than the line breaks a note may have.
func isControl(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }

// validateFrame checks the evidence still: a JPEG data: URL, at most 150 KB decoded and 640
// pixels wide.
func validateFrame(frame string) string {
	b64, ok := strings.CutPrefix(frame, wire.ReportFramePrefix)
	if !ok {
		return "report frame must be a data:image/jpeg;base64 URL"
	}
	if base64.StdEncoding.DecodedLen(len(b64)) > wire.MaxReportFrameBytes+3 {
		return "report frame: at most 150 KB"
	}
	img, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "report frame is not valid base64"
	}
	if len(img) > wire.MaxReportFrameBytes {
		return "report frame: at most 150 KB"
	}
	width, height, ok := jpegSize(img)
	if !ok {
		return "report frame is not a JPEG image"
	}
	if width == 0 || height == 0 || width > wire.MaxReportFrameWidth || height > 4*wire.MaxReportFrameWidth {
		return "report frame: at most 640 pixels wide"
	}
	return ""
}

// jpegSize reads a JPEG's dimensions from its start-of-frame segment, walking the segments
// from the start-of-image marker. ok is false for anything that is not a JPEG.
func jpegSize(b []byte) (width, height int, ok bool) {
	if !bytes.HasPrefix(b, []byte{0xFF, 0xD8}) {
		return 0, 0, false
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return 0, 0, false
		}
		marker := b[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xD8 || marker >= 0xD0 && marker <= 0xD7 || marker == 0x01 { // no length
			i += 2
			continue
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 || i+2+n > len(b) {
			return 0, 0, false
		}
		// SOF0-SOF15, but not DHT (C4), JPG (C8) or DAC (CC)
		if marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC {
			if n < 7 {
				return 0, 0, false
			}
			return int(b[i+7])<<8 | int(b[i+8]), int(b[i+5])<<8 | int(b[i+6]), true
		}
		if marker == 0xDA || marker == 0xD9 { // the image data, or its end, before any frame header
			return 0, 0, false
		}
		i += 2 + n
	}
	return 0, 0, false
}
