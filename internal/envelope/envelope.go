package envelope

import (
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/go-megle/go-megle/internal/wire"
)

// Kind says what a cross-instance envelope asks of the receiving instance.
type Kind byte

const (
	// KindRelay: deliver Frame to To if To is still local and matched with From in Match, and
	// From lives on Instance (where it was sent from) as far as To knows.
	KindRelay Kind = iota + 1
	// KindMatched: To (waiting with Ticket) was paired with From, who lives on Instance.
	KindMatched
	// KindLeft: From ended Match; tell To (Reason) if it is still in that match.
	KindLeft
	// KindMoved: From resumed and now lives on Instance; To should route there.
	KindMoved
	// KindEcho: an instance's probe of its own channel (see Bus.receive).
	KindEcho
	// KindReplaced: To resumed on another socket (on Instance) with the token whose hash is
	// TokenHash: the socket that token belonged to is closed here.
	KindReplaced
	// KindBan: the address whose keyed hash is Addr is banned until Until for Reason: every
	// local socket of it is told and closed. Sent to every instance. To, when set, is the
	// banned user, whose socket is sent Frame instead (its banned event with the appeal token;
	// a release before appeals ignores both).
	KindBan
	// KindCall: From's page said its video call in Match connected; To's session notes it (a
	// report by To then knows that From took part).
	KindCall
	// KindPassedOver: To, waiting with Ticket, was passed over by a search because the two met
	// recently: it is told it waits for someone new.
	KindPassedOver
)

// Envelope is the typed message between instances, published once on the addressee
// instance's channel. The client frame inside a relay is carried as ready-to-send bytes so the
// receiving instance does not re-encode it.
type Envelope struct {
	Kind      Kind
	To        wire.ClientID
	From      wire.ClientID
	Match     wire.MatchID
	Instance  wire.InstanceID
	Ticket    string    // a search: To's (KindMatched, KindPassedOver)
	TokenHash string    // the hash of the resume token just used elsewhere (KindReplaced)
	Until     time.Time // the end of a ban (KindBan), to the second
	Reason    string
	Mode      wire.Mode
	Common    []string
	// Language is the language the two share (KindMatched; "": none). It travels in the Reason
	// slot, which a match does not use, so every version reads it and no version changes.
	Language string
	Frame    []byte
	Addr     string // an address's keyed hash: From's (KindMatched, KindMoved), the banned one (KindBan)
}

// Sender is the peer an envelope describes by From, Instance and Addr: the sender as the
// addressee's partner (KindMatched, KindMoved). The envelope keeps the three as loose fields so
// that its bytes stay as every version reads them.
func (e *Envelope) Sender() wire.Peer {
	return wire.Peer{ID: e.From, Instance: e.Instance, Addr: e.Addr}
}

// Version is an envelope format. An instance reads every version in Versions and writes the one
// BUS_ENVELOPE_VERSION names, so that during a rolling deploy the new instances write what the
// old ones read until every instance reads the new one:
//
//   - V1, a version byte, the kind, a flags byte, then length-prefixed fields (To, From,
//     Match, Instance, Ticket, Reason, Mode, Common, Frame, and Addr when flag 1 is set). The
//     Ticket field carries a ban's end (RFC 3339) in KindBan and the token hash in
//     KindReplaced. The binaries before envelope versions read this and nothing else.
//   - V2, a version byte, the kind, then length-prefixed fields, each in its own slot: To, From,
//     Match, Instance, Ticket, TokenHash, Until (RFC 3339, or empty), Reason, Mode, Common,
//     Frame, Addr. A later version adds fields after these, so a V2 reader of today can be
//     taught to skip what it does not know.
//
// In both, KindMatched's Reason slot carries Language (a reader before languages ignores it).
type Version byte

const (
	V1 Version = 1
	V2 Version = 2
	// Current is the newest version this binary writes when told to.
	Current = V2
)

// Versions are the versions this binary reads: its own and the previous one.
var Versions = []Version{V1, V2}

// ErrBad is any envelope that cannot be read: an unknown version or kind, or a broken field.
var ErrBad = errors.New("malformed envelope")

const flagAddr = 1 // V1: an Addr field follows the frame

// AppendBinary appends the envelope encoded in the current version to b.
func (e *Envelope) AppendBinary(b []byte) []byte { return e.Append(b, Current) }

// Append appends the envelope encoded in version v to b (V1 for any version it does not know).
func (e *Envelope) Append(b []byte, v Version) []byte {
	if v != V2 {
		return e.appendV1(b)
	}
	b = append(b, byte(V2), byte(e.Kind))
	until := ""
	if !e.Until.IsZero() {
		until = e.Until.UTC().Format(time.RFC3339)
	}
	for _, s := range [...]string{string(e.To), string(e.From), string(e.Match), string(e.Instance), e.Ticket, e.TokenHash,
		until, e.reasonSlot(), string(e.Mode), strings.Join(e.Common, "\n")} {
		b = appendField(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Frame)))
	b = append(b, e.Frame...)
	return appendField(b, e.Addr)
}

func (e *Envelope) appendV1(b []byte) []byte {
	var flags byte
	if e.Addr != "" {
		flags |= flagAddr
	}
	ticket := e.Ticket // V1 had one slot for the ticket, a ban's end and a token hash
	switch e.Kind {
	case KindBan:
		ticket = e.Until.UTC().Format(time.RFC3339)
	case KindReplaced:
		ticket = e.TokenHash
	}
	b = append(b, byte(V1), byte(e.Kind), flags)
	for _, s := range [...]string{string(e.To), string(e.From), string(e.Match), string(e.Instance), ticket, e.reasonSlot(), string(e.Mode), strings.Join(e.Common, "\n")} {
		b = appendField(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Frame)))
	b = append(b, e.Frame...)
	if e.Addr != "" {
		b = appendField(b, e.Addr)
	}
	return b
}

// reasonSlot is what the Reason field carries: a match's Language, else the Reason.
func (e *Envelope) reasonSlot() string {
	if e.Kind == KindMatched {
		return e.Language
	}
	return e.Reason
}

// setReasonSlot reads the Reason field back (reasonSlot's inverse).
func (e *Envelope) setReasonSlot(f []byte) {
	if e.Kind == KindMatched {
		e.Language = string(f)
	} else {
		e.Reason = string(f)
	}
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Decode parses an envelope of any version in Versions; Frame aliases b.
func Decode(b []byte) (Envelope, error) {
	var e Envelope
	if len(b) < 2 {
		return e, ErrBad
	}
	e.Kind = Kind(b[1])
	if e.Kind < KindRelay || e.Kind > KindPassedOver {
		return e, ErrBad
	}
	var err error
	switch Version(b[0]) {
	case V1:
		err = decodeV1(&e, b)
	case V2:
		err = decodeV2(&e, b[2:])
	default:
		err = ErrBad
	}
	return e, err
}

func decodeV1(e *Envelope, b []byte) error {
	if len(b) < 3 || b[2]&^flagAddr != 0 {
		return ErrBad
	}
	n := 9
	if b[2]&flagAddr != 0 {
		n = 10
	}
	var fields [10][]byte
	if err := readFields(b[3:], fields[:n]); err != nil {
		return err
	}
	e.To, e.From, e.Match = wire.ClientID(fields[0]), wire.ClientID(fields[1]), wire.MatchID(fields[2])
	e.Instance, e.Mode = wire.InstanceID(fields[3]), wire.Mode(fields[6])
	e.setReasonSlot(fields[5])
	switch ticket := string(fields[4]); e.Kind {
	case KindBan:
		until, err := time.Parse(time.RFC3339, ticket)
		if err != nil {
			return ErrBad
		}
		e.Until = until.Truncate(time.Second)
	case KindReplaced:
		e.TokenHash = ticket
	default:
		e.Ticket = ticket
	}
	e.Common = splitCommon(fields[7])
	e.Frame, e.Addr = fields[8], string(fields[9])
	return nil
}

func decodeV2(e *Envelope, b []byte) error {
	var fields [12][]byte
	if err := readFields(b, fields[:]); err != nil {
		return err
	}
	e.To, e.From, e.Match = wire.ClientID(fields[0]), wire.ClientID(fields[1]), wire.MatchID(fields[2])
	e.Instance, e.Ticket, e.TokenHash = wire.InstanceID(fields[3]), string(fields[4]), string(fields[5])
	if len(fields[6]) > 0 {
		until, err := time.Parse(time.RFC3339, string(fields[6]))
		if err != nil {
			return ErrBad
		}
		e.Until = until.Truncate(time.Second)
	}
	e.Mode, e.Common = wire.Mode(fields[8]), splitCommon(fields[9])
	e.setReasonSlot(fields[7])
	e.Frame, e.Addr = fields[10], string(fields[11])
	return nil
}

// readFields reads exactly len(fields) length-prefixed fields, and nothing after them.
func readFields(b []byte, fields [][]byte) error {
	for i := range fields {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return ErrBad
		}
		fields[i] = b[w : w+int(n)]
		b = b[w+int(n):]
	}
	if len(b) != 0 {
		return ErrBad
	}
	return nil
}

func splitCommon(f []byte) []string {
	if len(f) == 0 {
		return nil
	}
	return strings.Split(string(f), "\n")
}
