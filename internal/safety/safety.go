package safety

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/session"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"
)

// The Redis side of trust and safety: reports with their evidence, bans keyed by an address's
// keyed hash, and the counts that ban automatically. Nothing of it is written to disk, and
// every record expires (README: "What is stored, and for how long"). What the moderator console
// reads and does is in moderation.go.

//go:embed reports.lua
var reportsLibSource string

//go:embed report.lua
var reportScriptSource string

//go:embed ban.lua
var banScriptSource string

//go:embed watch.lua
var watchLibSource string

// Config is what reports and bans need of the instance's configuration.
type Config struct {
	ReportTTL        time.Duration // a report, its evidence, and the reported pair kept apart
	ReportRate       int           // reports per hour one network may make
	ReportsMax       int           // open reports stored, shared fairly among reporters
	EvidenceMax      int           // open reports that keep their evidence, shared fairly too
	AutobanReporters int           // distinct networks whose reports count, in AutobanWindow, that ban
	AutobanWindow    time.Duration
	AutobanDuration  time.Duration // the first automatic ban; each further one in 30 days doubles it
	MinConversation  time.Duration // a report counts only of a conversation at least this long
	ReporterAge      time.Duration // and only from a network first seen at least this long ago
	WatchReporters   int           // distinct networks whose counting open reports make an address watched (0: never)
	WatchAfterBan    time.Duration // an address stays watched this long after a ban of it ends
	Secret           []byte        // BAN_SECRET: the key of every address hash and label
}

// maxBan is the longest ban, automatic or not, and the longest restriction of a reporter.
const MaxBan = 30 * 24 * time.Hour

var (
	// ErrReportLimit: too many reports from this network, this match was reported already, or
	// the reporter holds as many open reports as anyone while the store is full.
	ErrReportLimit = errors.New("report limit reached")
	// ErrUnknown: no such report or ban (acted on, or expired).
	ErrUnknown = errors.New("no such report or ban")
)

// Safety stores reports and bans.
type Safety struct {
	store.Calls
	rdb    redis.UniversalClient
	Keys   store.Keys
	cfg    Config
	now    func() time.Time
	report *redis.Script
	ban    *redis.Script
}

// Parts are what the store keeps its records in, and its clock.
type Parts struct {
	Redis redis.UniversalClient
	Keys  store.Keys
	Calls store.Calls
	Now   func() time.Time
}

// New creates the store.
func New(cfg Config, p Parts) *Safety {
	return &Safety{Calls: p.Calls, rdb: p.Redis, Keys: p.Keys, cfg: cfg, now: p.Now,
		report: redis.NewScript(reportsLibSource + watchLibSource + reportScriptSource),
		ban:    redis.NewScript(reportsLibSource + watchLibSource + banScriptSource)}
}

// AddrHash is the keyed hash Redis knows an address key by (addrs.go: AddressHash).
func (sf *Safety) AddrHash(addr string) string { return AddressHash(sf.cfg.Secret, addr) }

// LegacyAddrHash is the hash an address key had before it had a network part: the key of bans
// issued before the upgrade (Arrive).
func (sf *Safety) LegacyAddrHash(addr string) string { return legacyAddressHash(sf.cfg.Secret, addr) }

// keyed is an opaque name derived from parts under BAN_SECRET: nobody without the secret can
// tell what it names, and the same parts always give the same name.
func (sf *Safety) keyed(n int, parts ...string) string {
	mac := hmac.New(sha256.New, sf.cfg.Secret)
	for _, p := range parts {
		mac.Write([]byte(p)) // hash.Hash.Write never fails
		mac.Write([]byte{0})
	}
	return hex.EncodeToString(mac.Sum(nil))[:n]
}

// ReporterLabel is the opaque name the console shows for a reporting network: the same for all
// its reports (so a moderator sees who reports whom how often, and can act on one reporter),
// and not the address hash Redis knows it by.
func (sf *Safety) ReporterLabel(addrHash string) string {
	return "R-" + sf.keyed(12, "reporter", NetworkOf(addrHash))
}

// validLabel: what ReporterLabel makes, "R-" and 12 hex digits.
func ValidLabel(s string) bool {
	hexPart, ok := strings.CutPrefix(s, "R-")
	return ok && len(hexPart) == 12 && strings.Trim(hexPart, "0123456789abcdef") == ""
}

// reportID names one reporter's report of one match: a second report of it is the same record.
func (sf *Safety) reportID(match wire.MatchID, reporter wire.ClientID) string {
	return sf.keyed(26, "report", string(match), string(reporter))
}

// Report is one report as it is filed.
type Report struct {
	Reporter, Reported         wire.ClientID
	ReporterAddr, ReportedAddr string // keyed hashes
	Match                      wire.MatchID
	Conversation               session.Conversation
	wire.ReportRequest
}

// hasEvidence: a still, or a line of the reported user's.
func hasEvidence(r wire.ReportRequest) bool {
	if r.Frame != "" {
		return true
	}
	for _, l := range r.Chat {
		if l.From == "stranger" {
			return true
		}
	}
	return false
}

// Ban is one ban.
type Ban struct {
	ID      string
	Addr    string // keyed hash; never shown
	Until   time.Time
	Reason  string
	Source  string // auto | moderator
	Created time.Time
	Why     *BanWhy // an automatic ban's reports, as they were
	// WatchedUntil: the address stays watched after the ban until then (zero: not; watch.go)
	WatchedUntil time.Time
	// User is the banned user (the reported one) and AppealToken the secret its socket alone
	// is told, as the ban is made (appeals.go); never stored, only its hash is.
	User        wire.ClientID
	AppealToken string
}

// Frame is the banned event that tells the banned user (its end and reason, nothing else).
func (b *Ban) Frame() []byte {
	return wire.MustEncode(wire.EvBanned, wire.BannedData{Until: b.Until.UTC().Format(time.RFC3339), Reason: b.Reason})
}

// OwnFrame is the banned event for the banned user's own socket: with the appeal token (the
// others behind the same address, a household, get Frame and learn nothing of the appeal).
func (b *Ban) OwnFrame() []byte {
	return wire.MustEncode(wire.EvBanned, wire.BannedData{Until: b.Until.UTC().Format(time.RFC3339), Reason: b.Reason,
		Appeal: b.AppealToken})
}

// BanWhy is what made an automatic ban: how many networks' reports counted, and those
// reports as they were when it happened (at most 20).
type BanWhy struct {
	Reporters int            `json:"reporters"`
	Reports   []BanWhyReport `json:"reports"`
}

// BanWhyReport is one report that counted towards an automatic ban.
type BanWhyReport struct {
	ID             string `json:"id"`
	Reporter       string `json:"reporter"`
	Reason         string `json:"reason"`
	Created        int64  `json:"created"`         // unix ms
	ConversationMS int64  `json:"conversation_ms"` // how long the two talked
	Evidence       string `json:"evidence"`
}

// Filed is what filing a report did: how many distinct networks' reports against the same
// address count in the window, whether this one counts, what became of its evidence, and
// the automatic ban that followed, if any.
type Filed struct {
	ID        string
	Reporters int
	Counts    bool
	Evidence  string // kept | none | no_room
	Ban       *Ban
}

// File stores a report (report.lua). ErrReportLimit when the reporter's network is over
// REPORT_RATE, reported this match already, or may store no more now.
func (sf *Safety) File(ctx context.Context, r Report) (Filed, error) {
	var chatJSON bytes.Buffer // stored as written: no character grows into an escape
	enc := json.NewEncoder(&chatJSON)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(nonNilLines(r.Chat)); err != nil {
		return Filed{}, fmt.Errorf("report chat: %w", err)
	}
	chat := bytes.TrimSpace(chatJSON.Bytes())
	f := Filed{ID: sf.reportID(r.Match, r.Reporter)}
	now := sf.now()
	banID := wire.NewID()
	token, tokenHash := newAppealToken(banID) // the automatic ban's, should there be one
	autoban := sf.cfg.AutobanReporters
	if autoban == 0 {
		autoban = math.MaxInt32 // never
	}
	err := sf.Call(ctx, "report", func(ctx context.Context) error {
		reply, err := sf.report.Run(ctx, sf.rdb, []string{sf.Keys.Report(f.ID)}, sf.Keys.Prefix(), f.ID, now.UnixMilli(),
			int64(sf.cfg.ReportTTL/time.Second), sf.cfg.ReportRate, r.ReporterAddr, r.ReportedAddr,
			string(r.Reporter), string(r.Reported), string(r.Match), r.Reason, r.Note, r.Frame, string(chat),
			sf.cfg.AutobanWindow.Milliseconds(), autoban, int64(sf.cfg.AutobanDuration/time.Second),
			int64(MaxBan/time.Second), banID, sf.cfg.EvidenceMax, sf.ReporterLabel(r.ReporterAddr), sf.cfg.ReportsMax,
			r.Conversation.Length.Milliseconds(), Bit(r.Conversation.Exchange), Bit(hasEvidence(r.ReportRequest)),
			sf.cfg.MinConversation.Milliseconds(), sf.cfg.ReporterAge.Milliseconds(), sf.cfg.WatchAfterBan.Milliseconds(), tokenHash).Slice()
		if err != nil {
			return err
		}
		return parseReportReply(reply, r.ReportedAddr, now, &f)
	})
	if f.Ban != nil {
		f.Ban.User, f.Ban.AppealToken = r.Reported, token
	}
	if errors.Is(err, ErrReportLimit) {
		return Filed{}, ErrReportLimit // a refusal, not Redis trouble
	}
	return f, err
}

func Bit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func nonNilLines(l []wire.ChatLine) []wire.ChatLine {
	if l == nil {
		return []wire.ChatLine{}
	}
	return l
}

// parseReportReply reads report.lua's answer into f.
func parseReportReply(reply []any, addr string, now time.Time, f *Filed) error {
	kind, _ := reply[0].(string)
	switch {
	case kind == "rate_limited" || kind == "duplicate" || kind == "full":
		return ErrReportLimit
	case kind == "stored" && (len(reply) == 4 || len(reply) == 7):
		n, _ := reply[1].(int64)
		counts, _ := reply[2].(string)
		f.Reporters, f.Counts = int(n), counts == "1"
		f.Evidence, _ = reply[3].(string)
		if len(reply) == 7 {
			id, _ := reply[4].(string)
			until, _ := reply[5].(int64)
			reason, _ := reply[6].(string)
			f.Ban = &Ban{ID: id, Addr: addr, Until: time.UnixMilli(until), Reason: reason, Source: "auto", Created: now}
		}
		return nil
	}
	return fmt.Errorf("report.lua: unexpected reply %v", reply)
}

// Arrive is what a new connection from an address (its keyed hash) asks of the store, in one
// round trip: the address's ban, if any, and that its network was seen now (the first time
// it was seen, within REPORT_TTL of its last connection, is what makes a reporter not new).
// legacy is the address's hash before it had a network part (legacyAddressHash; "": none):
// a ban issued before the upgrade is stored under it, and holds until it ends.
func (sf *Safety) Arrive(ctx context.Context, addr, legacy string) (*Ban, error) {
	var b *Ban
	err := sf.Call(ctx, "ban_of", func(ctx context.Context) error {
		var ban, old *redis.MapStringStringCmd
		seen := sf.Keys.Seen(NetworkOf(addr))
		_, err := sf.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			ban = p.HGetAll(ctx, sf.Keys.Ban(addr))
			if legacy != "" {
				old = p.HGetAll(ctx, sf.Keys.Ban(legacy))
			}
			p.SetNX(ctx, seen, sf.now().UnixMilli(), 0)
			p.Expire(ctx, seen, sf.cfg.ReportTTL)
			return nil
		})
		if err != nil {
			return err
		}
		if v := ban.Val(); len(v) > 0 {
			b = banFrom(addr, v)
		} else if old != nil && len(old.Val()) > 0 {
			b = banFrom(legacy, old.Val())
		}
		return nil
	})
	if b != nil && !b.Until.After(sf.now()) {
		b = nil // expired, the key not yet
	}
	return b, err
}

func banFrom(addr string, v map[string]string) *Ban {
	until, _ := strconv.ParseInt(v["until"], 10, 64)
	created, _ := strconv.ParseInt(v["created"], 10, 64)
	b := &Ban{ID: v["id"], Addr: addr, Until: time.UnixMilli(until), Reason: v["reason"], Source: v["source"], Created: time.UnixMilli(created)}
	if v["why"] != "" {
		var why BanWhy
		if err := json.Unmarshal([]byte(v["why"]), &why); err == nil {
			b.Why = &why
		}
	}
	return b
}
