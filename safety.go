package main

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
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/wire"
)

// The Redis side of trust and safety: reports with their evidence, bans keyed by an address's
// keyed hash, and the counts that ban automatically. Nothing of it is written to disk, and
// every record expires (README: "What is stored, and for how long").

//go:embed report.lua
var reportScriptSource string

//go:embed ban.lua
var banScriptSource string

// SafetyConfig is what reports and bans need from Config.
type SafetyConfig struct {
	ReportTTL        time.Duration // a report, its evidence, and the reported pair kept apart
	ReportRate       int           // reports per hour one address may make
	AutobanReporters int           // distinct reporting addresses in AutobanWindow that ban
	AutobanWindow    time.Duration
	AutobanDuration  time.Duration // the first automatic ban; each further one in 30 days doubles it
	EvidenceMax      int           // open reports that keep their evidence
	Secret           []byte        // BAN_SECRET: the key of every address hash
}

// maxBan is the longest ban, automatic or not.
const maxBan = 30 * 24 * time.Hour

var (
	// ErrReportLimit: too many reports from this address, or this match was reported already.
	ErrReportLimit = errors.New("report limit reached")
	// ErrUnknown: no such report or ban (acted on, or expired).
	ErrUnknown = errors.New("no such report or ban")
)

// Safety stores reports and bans.
type Safety struct {
	redisCalls
	rdb    redis.UniversalClient
	keys   Keys
	cfg    SafetyConfig
	now    func() time.Time
	report *redis.Script
	ban    *redis.Script
}

// NewSafety creates the store.
func NewSafety(rdb redis.UniversalClient, keys Keys, cfg SafetyConfig, calls redisCalls, now func() time.Time) *Safety {
	return &Safety{redisCalls: calls, rdb: rdb, keys: keys, cfg: cfg, now: now,
		report: redis.NewScript(reportScriptSource), ban: redis.NewScript(banScriptSource)}
}

// AddrHash is the keyed hash Redis knows an address by.
func (sf *Safety) AddrHash(addr string) string { return addressHash(sf.cfg.Secret, addr) }

// Report is one report as it is filed.
type Report struct {
	Reporter, Reported         wire.ClientID
	ReporterAddr, ReportedAddr string // keyed hashes
	Match                      wire.MatchID
	wire.ReportRequest
}

// Ban is one ban.
type Ban struct {
	ID      string
	Addr    string // keyed hash; never shown
	Until   time.Time
	Reason  string
	Source  string // auto | moderator
	Created time.Time
}

// Filed is what filing a report did: how many distinct addresses have reported the same one
// in the window, and the automatic ban that followed, if any.
type Filed struct {
	ID        string
	Reporters int
	Ban       *Ban
}

// File stores a report (report.lua). ErrReportLimit when the reporter's address is over
// REPORT_RATE or reported this match already.
func (sf *Safety) File(ctx context.Context, r Report) (Filed, error) {
	var chatJSON bytes.Buffer // stored as written: no character grows into an escape
	enc := json.NewEncoder(&chatJSON)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(nonNilLines(r.Chat)); err != nil {
		return Filed{}, fmt.Errorf("report chat: %w", err)
	}
	chat := bytes.TrimSpace(chatJSON.Bytes())
	f := Filed{ID: newID()}
	now := sf.now()
	banID := newID()
	autoban := sf.cfg.AutobanReporters
	if autoban == 0 {
		autoban = math.MaxInt32 // never
	}
	err := sf.call(ctx, "report", func(ctx context.Context) error {
		reply, err := sf.report.Run(ctx, sf.rdb, []string{sf.keys.Report(f.ID)}, sf.keys.prefix, f.ID, now.UnixMilli(),
			int64(sf.cfg.ReportTTL/time.Second), sf.cfg.ReportRate, r.ReporterAddr, r.ReportedAddr,
			string(r.Reporter), string(r.Reported), string(r.Match), r.Reason, r.Note, r.Frame, string(chat),
			sf.cfg.AutobanWindow.Milliseconds(), autoban, int64(sf.cfg.AutobanDuration/time.Second),
			int64(maxBan/time.Second), banID, sf.cfg.EvidenceMax).Slice()
		if err != nil {
			return err
		}
		return parseReportReply(reply, r.ReportedAddr, now, &f)
	})
	if errors.Is(err, ErrReportLimit) {
		return Filed{}, ErrReportLimit // a refusal, not Redis trouble
	}
	return f, err
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
	case kind == "rate_limited" || kind == "duplicate":
		return ErrReportLimit
	case kind == "stored" && (len(reply) == 2 || len(reply) == 5):
		n, _ := reply[1].(int64)
		f.Reporters = int(n)
		if len(reply) == 5 {
			id, _ := reply[2].(string)
			until, _ := reply[3].(int64)
			reason, _ := reply[4].(string)
			f.Ban = &Ban{ID: id, Addr: addr, Until: time.UnixMilli(until), Reason: reason, Source: "auto", Created: now}
		}
		return nil
	}
	return fmt.Errorf("report.lua: unexpected reply %v", reply)
}

// BanOf is the ban of an address (its keyed hash), or nil.
func (sf *Safety) BanOf(ctx context.Context, addr string) (*Ban, error) {
	var b *Ban
	err := sf.call(ctx, "ban_of", func(ctx context.Context) error {
		v, err := sf.rdb.HGetAll(ctx, sf.keys.Ban(addr)).Result()
		if err != nil || len(v) == 0 {
			return err
		}
		b = banFrom(addr, v)
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
	return &Ban{ID: v["id"], Addr: addr, Until: time.UnixMilli(until), Reason: v["reason"], Source: v["source"], Created: time.UnixMilli(created)}
}

// OpenReport is a report as the moderator console shows it.
type OpenReport struct {
	ID           string          `json:"id"`
	Created      time.Time       `json:"created"`
	Reason       string          `json:"reason"`
	Note         string          `json:"note"`
	Reporter     string          `json:"reporter"` // opaque, this report's own labels
	Reported     string          `json:"reported"`
	Reporters    int             `json:"reporters"` // distinct addresses that reported the reported one in the window
	Frame        string          `json:"frame"`
	Chat         []wire.ChatLine `json:"chat"`
	reportedAddr string
}

// maxListed is how many open reports (or bans) one listing returns.
const maxListed = 50

// ReportPage is one page of open reports, newest first: Total open in all, and Next, the
// `before` of the next page (0: this was the last).
type ReportPage struct {
	Reports []OpenReport `json:"reports"`
	Total   int64        `json:"total"`
	Next    int64        `json:"next_before,omitempty"`
}

// OpenReports lists the open reports made before the unix millisecond before (0: now),
// newest first, maxListed at a time.
func (sf *Safety) OpenReports(ctx context.Context, before int64) (ReportPage, error) {
	page := ReportPage{Reports: []OpenReport{}}
	out := &page.Reports
	err := sf.call(ctx, "reports", func(ctx context.Context) error {
		max := "+inf"
		if before > 0 {
			max = "(" + strconv.FormatInt(before, 10)
		}
		byTime, err := sf.rdb.ZRevRangeByScoreWithScores(ctx, sf.keys.ReportsOpen(), &redis.ZRangeBy{Min: "-inf", Max: max, Count: maxListed}).Result()
		if err != nil || len(byTime) == 0 {
			return err
		}
		ids := make([]string, len(byTime))
		for i, z := range byTime {
			ids[i], _ = z.Member.(string)
		}
		if len(byTime) == maxListed {
			page.Next = int64(byTime[len(byTime)-1].Score)
		}
		if page.Total, err = sf.rdb.ZCard(ctx, sf.keys.ReportsOpen()).Result(); err != nil {
			return err
		}
		recs := make([]*redis.MapStringStringCmd, len(ids))
		_, err = sf.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				recs[i] = p.HGetAll(ctx, sf.keys.Report(id))
			}
			return nil
		})
		if err != nil {
			return err
		}
		var gone []any
		for i, c := range recs {
			v := c.Val()
			if len(v) == 0 {
				gone = append(gone, ids[i]) // expired: the index forgets it too
				continue
			}
			created, _ := strconv.ParseInt(v["created"], 10, 64)
			r := OpenReport{ID: ids[i], Created: time.UnixMilli(created).UTC(), Reason: v["reason"], Note: v["note"],
				Reporter: sf.label(ids[i], "reporter"), Reported: sf.label(ids[i], "reported"), Frame: v["frame"],
				Chat: []wire.ChatLine{}, reportedAddr: v["reported_addr"]}
			if err := json.Unmarshal([]byte(v["chat"]), &r.Chat); err != nil || r.Chat == nil {
				r.Chat = []wire.ChatLine{}
			}
			*out = append(*out, r)
		}
		if len(gone) > 0 {
			if err := sf.rdb.ZRem(ctx, sf.keys.ReportsOpen(), gone...).Err(); err != nil {
				return err
			}
		}
		counts := make([]*redis.IntCmd, len(*out))
		since := strconv.FormatInt(sf.now().Add(-sf.cfg.AutobanWindow).UnixMilli(), 10)
		_, err = sf.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, r := range *out {
				counts[i] = p.ZCount(ctx, sf.keys.Reporters(r.reportedAddr), since, "+inf")
			}
			return nil
		})
		for i, c := range counts {
			(*out)[i].Reporters = int(c.Val())
		}
		return err
	})
	return page, err
}

// label is an opaque name of one side of one report: the same person has another in every
// report, so the console never shows who anyone is.
func (sf *Safety) label(reportID, side string) string {
	mac := hmac.New(sha256.New, sf.cfg.Secret)
	mac.Write([]byte(reportID + "\x00" + side)) // hash.Hash.Write never fails
	prefix := "R-"
	if side == "reported" {
		prefix = "U-"
	}
	return prefix + hex.EncodeToString(mac.Sum(nil)[:4])
}

// BanReported bans the address a report is about for d (at most 30 days) and deletes the
// report with its evidence.
func (sf *Safety) BanReported(ctx context.Context, reportID string, d time.Duration, reason string) (Ban, error) {
	now := sf.now()
	b := Ban{ID: newID(), Until: now.Add(min(d, maxBan)), Reason: reason, Source: "moderator", Created: now}
	err := sf.call(ctx, "ban", func(ctx context.Context) error {
		reply, err := sf.ban.Run(ctx, sf.rdb, []string{sf.keys.Report(reportID)}, sf.keys.prefix, "ban", reportID,
			b.ID, b.Until.UnixMilli(), reason, now.UnixMilli(), int64(maxBan/time.Second)).StringSlice()
		if err != nil {
			return err
		}
		if reply[0] != "banned" {
			return ErrUnknown
		}
		b.Addr = reply[1]
		return nil
	})
	return b, unwrapUnknown(err)
}

// Dismiss closes a report without a ban, and deletes it with its evidence.
func (sf *Safety) Dismiss(ctx context.Context, reportID string) error {
	return unwrapUnknown(sf.call(ctx, "dismiss", func(ctx context.Context) error {
		reply, err := sf.ban.Run(ctx, sf.rdb, []string{sf.keys.Report(reportID)}, sf.keys.prefix, "dismiss", reportID).StringSlice()
		if err == nil && reply[0] != "dismissed" {
			return ErrUnknown
		}
		return err
	}))
}

// Lift ends a ban before its time.
func (sf *Safety) Lift(ctx context.Context, banID string) error {
	return unwrapUnknown(sf.call(ctx, "lift", func(ctx context.Context) error {
		reply, err := sf.ban.Run(ctx, sf.rdb, []string{sf.keys.BanRecord(banID)}, sf.keys.prefix, "lift", banID).StringSlice()
		if err == nil && reply[0] != "lifted" {
			return ErrUnknown
		}
		return err
	}))
}

// unwrapUnknown keeps ErrUnknown apart from Redis trouble.
func unwrapUnknown(err error) error {
	if errors.Is(err, ErrUnknown) {
		return ErrUnknown
	}
	return err
}

// Bans lists the bans in force, soonest to end first.
func (sf *Safety) Bans(ctx context.Context) ([]Ban, error) {
	out := []Ban{}
	err := sf.call(ctx, "bans", func(ctx context.Context) error {
		now := strconv.FormatInt(sf.now().UnixMilli(), 10)
		ids, err := sf.rdb.ZRangeByScore(ctx, sf.keys.Bans(), &redis.ZRangeBy{Min: "(" + now, Max: "+inf", Count: maxListed}).Result()
		if err != nil || len(ids) == 0 {
			return err
		}
		addrs := make([]*redis.StringCmd, len(ids))
		_, err = sf.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				addrs[i] = p.Get(ctx, sf.keys.BanRecord(id))
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		recs := make([]*redis.MapStringStringCmd, len(ids))
		_, err = sf.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range ids {
				recs[i] = p.HGetAll(ctx, sf.keys.Ban(addrs[i].Val()))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i, c := range recs {
			if v := c.Val(); v["id"] == ids[i] {
				out = append(out, *banFrom(addrs[i].Val(), v))
			}
		}
		return nil
	})
	return out, err
}
