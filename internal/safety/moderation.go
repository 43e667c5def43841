package safety

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/wire"
)

// What the moderator console reads from the store (open reports, reporters, bans; a page at a
// time) and does to it (ban, dismiss, dismiss a reporter's reports and restrict it, lift).

// MaxListed is how many open reports (or bans) one page holds.
const MaxListed = 50

// OpenReport is a report as the moderator console shows it.
type OpenReport struct {
	ID              string          `json:"id"`
	Created         time.Time       `json:"created"`
	Reason          string          `json:"reason"`
	Note            string          `json:"note"`
	Reporter        string          `json:"reporter"`         // the reporter's label, the same in all its reports
	ReporterReports int             `json:"reporter_reports"` // open reports from that reporter
	Reported        string          `json:"reported"`         // opaque, this report's own
	Reporters       int             `json:"reporters"`        // distinct networks whose reports against the reported address count, in the window
	Counts          bool            `json:"counts"`           // this report counts towards an automatic ban
	Why             []string        `json:"why"`              // why it does not (report.lua's codes)
	Conversation    float64         `json:"conversation_s"`   // how long the two talked, seconds
	SharedAddress   bool            `json:"shared_address"`   // the reporter is on the reported user's network
	Shared          Sharing         `json:"shared"`           // what of the reported user's address the reporter shares
	ReportedUsers   int64           `json:"reported_users"`   // distinct users the reported address had in the last hour (openings.go)
	Evidence        string          `json:"evidence"`         // kept | none | no_room | trimmed
	Frame           string          `json:"frame"`
	Chat            []wire.ChatLine `json:"chat"`
	Watched         Watch           `json:"watched"` // the reported address's standing now (watch.go)
	reportedAddr    string
}

// Sharing is what a reporter shares of the reported user's address: the very address (an IPv4
// address or IPv6 /64: one household, campus or carrier-grade NAT), only its network (the
// IPv6 /48), or nothing. The console shows it for every report, and asks a moderator to
// confirm a ban of an address its reporter shares.
type Sharing string

const (
	ShareNone    Sharing = "none"
	ShareNetwork Sharing = "network"
	ShareAddress Sharing = "address"
)

// sharing compares two address hashes (addrs.go: the network's hash, then the address's).
func sharing(reporterAddr, reportedAddr string) Sharing {
	switch {
	case reporterAddr == "" || reportedAddr == "":
		return ShareNone
	case reporterAddr == reportedAddr:
		return ShareAddress
	case NetworkOf(reporterAddr) == NetworkOf(reportedAddr):
		return ShareNetwork
	}
	return ShareNone
}

// ReportPage is one page of open reports, newest first: Total open in all (or from the
// reporter asked for), and Next, the cursor of the next page ("": this was the last).
type ReportPage struct {
	Reports []OpenReport `json:"reports"`
	Total   int64        `json:"total"`
	Next    string       `json:"next_before,omitempty"`
}

// OpenReports lists the open reports after cursor c (newest first), maxListed at a time:
// all of them, or those of one reporter (its label).
func (sf *Safety) OpenReports(ctx context.Context, c Cursor, reporter string) (ReportPage, error) {
	page := ReportPage{Reports: []OpenReport{}}
	index := sf.Keys.ReportsOpen()
	if reporter != "" {
		index = sf.Keys.ReportsBy(reporter)
	}
	err := sf.Call(ctx, "reports", func(ctx context.Context) error {
		cutoff := strconv.FormatInt(sf.now().Add(-sf.cfg.ReportTTL).UnixMilli(), 10)
		if err := sf.rdb.ZRemRangeByScore(ctx, index, "-inf", "("+cutoff).Err(); err != nil {
			return err
		}
		zs, more, err := sf.page(ctx, index, c, true, MaxListed)
		if err != nil {
			return err
		}
		if more {
			page.Next = cursorAt(zs[len(zs)-1]).String()
		}
		if page.Total, err = sf.rdb.ZCard(ctx, index).Result(); err != nil || len(zs) == 0 {
			return err
		}
		recs := make([]*redis.MapStringStringCmd, len(zs))
		if _, err := sf.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, z := range zs {
				recs[i] = p.HGetAll(ctx, sf.Keys.Report(z.Member.(string)))
			}
			return nil
		}); err != nil {
			return err
		}
		for i, rec := range recs {
			if v := rec.Val(); len(v) > 0 {
				page.Reports = append(page.Reports, sf.openReport(zs[i].Member.(string), v))
			}
		}
		return sf.addCounts(ctx, page.Reports)
	})
	return page, err
}

func (sf *Safety) openReport(id string, v map[string]string) OpenReport {
	created, _ := strconv.ParseInt(v["created"], 10, 64)
	talked, _ := strconv.ParseInt(v["conversation"], 10, 64)
	r := OpenReport{ID: id, Created: time.UnixMilli(created).UTC(), Reason: v["reason"], Note: v["note"],
		Reporter: v["label"], Reported: "U-" + sf.keyed(8, "reported", id), Counts: v["counts"] == "1",
		Why: []string{}, Conversation: float64(talked) / 1000, Evidence: v["evidence"], Frame: v["frame"],
		Chat: []wire.ChatLine{}, reportedAddr: v["reported_addr"]}
	if v["why"] != "" {
		r.Why = strings.Split(v["why"], ",")
	}
	r.Shared = sharing(v["reporter_addr"], v["reported_addr"])
	r.SharedAddress = r.Shared != ShareNone || slices.Contains(r.Why, "shared_address")
	if err := json.Unmarshal([]byte(v["chat"]), &r.Chat); err != nil || r.Chat == nil {
		r.Chat = []wire.ChatLine{}
	}
	return r
}

// addCounts fills in how many networks' reports count against each report's reported
// address, how many open reports each reporter has, and how many distinct users the reported
// address had in the last hour.
func (sf *Safety) addCounts(ctx context.Context, reports []OpenReport) error {
	counted := make([]*redis.StringSliceCmd, len(reports))
	byReporter := make([]*redis.IntCmd, len(reports))
	users := make([]*redis.IntCmd, len(reports))
	watched := make([]*redis.ZSliceCmd, len(reports))
	since := strconv.FormatInt(sf.now().Add(-sf.cfg.AutobanWindow).UnixMilli(), 10)
	_, err := sf.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range reports {
			counted[i] = p.ZRangeByScore(ctx, sf.Keys.Counted(r.reportedAddr), &redis.ZRangeBy{Min: "(" + since, Max: "+inf"})
			byReporter[i] = p.ZCard(ctx, sf.Keys.ReportsBy(r.Reporter))
			users[i] = p.PFCount(ctx, sf.usersKeys(r.reportedAddr)...)
			watched[i] = sf.readWatch(ctx, p, r.reportedAddr)
		}
		return nil
	})
	for i := range reports {
		networks := map[string]bool{}
		for _, m := range counted[i].Val() {
			networks[NetworkOf(m)] = true
		}
		reports[i].Reporters, reports[i].ReporterReports = len(networks), int(byReporter[i].Val())
		reports[i].ReportedUsers = users[i].Val()
		reports[i].Watched = watchFrom(watched[i].Val(), sf.cfg.WatchReporters)
	}
	return err
}

// ReporterLoad is one reporter and how many open reports it has.
type ReporterLoad struct {
	Reporter string `json:"reporter"`
	Reports  int    `json:"reports"`
}

// TopReporters lists the reporters with the most open reports (at most maxListed).
func (sf *Safety) TopReporters(ctx context.Context) ([]ReporterLoad, error) {
	out := []ReporterLoad{}
	err := sf.Call(ctx, "reports", func(ctx context.Context) error {
		labels, err := sf.rdb.ZRevRange(ctx, sf.Keys.ReportsLoad(), 0, MaxListed-1).Result()
		if err != nil || len(labels) == 0 {
			return err
		}
		cutoff := strconv.FormatInt(sf.now().Add(-sf.cfg.ReportTTL).UnixMilli(), 10)
		counts := make([]*redis.IntCmd, len(labels))
		if _, err := sf.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, l := range labels {
				counts[i] = p.ZCount(ctx, sf.Keys.ReportsBy(l), "("+cutoff, "+inf")
			}
			return nil
		}); err != nil {
			return err
		}
		for i, l := range labels {
			if n := int(counts[i].Val()); n > 0 {
				out = append(out, ReporterLoad{Reporter: l, Reports: n})
			}
		}
		slices.SortStableFunc(out, func(a, b ReporterLoad) int { return b.Reports - a.Reports })
		return nil
	})
	return out, err
}

// BanReported bans the address a report is about for d (at most 30 days) and deletes the
// report; its evidence is kept with the ban for the banned user's appeal (appeals.go).
func (sf *Safety) BanReported(ctx context.Context, reportID string, d time.Duration, reason string) (Ban, error) {
	now := sf.now()
	b := Ban{ID: wire.NewID(), Until: now.Add(min(d, MaxBan)), Reason: reason, Source: "moderator", Created: now}
	token, hash := newAppealToken(b.ID)
	err := sf.Call(ctx, "ban", func(ctx context.Context) error {
		reply, err := sf.ban.Run(ctx, sf.rdb, []string{sf.Keys.Report(reportID)}, sf.Keys.Prefix(), "ban", reportID,
			b.ID, b.Until.UnixMilli(), reason, now.UnixMilli(), int64(MaxBan/time.Second), sf.cfg.WatchAfterBan.Milliseconds(), hash).StringSlice()
		if err != nil {
			return err
		}
		if reply[0] != "banned" || len(reply) < 3 {
			return ErrUnknown
		}
		b.Addr, b.User, b.AppealToken = reply[1], wire.ClientID(reply[2]), token
		return nil
	})
	return b, unwrapUnknown(err)
}

// Dismiss closes a report without a ban, and deletes it with its evidence.
func (sf *Safety) Dismiss(ctx context.Context, reportID string) error {
	return sf.act(ctx, "dismiss", sf.Keys.Report(reportID), reportID, "dismissed")
}

// Lift ends a ban before its time. An automatic ban is undone: the reports that made it count
// no more, and it does not double the address's next automatic ban.
func (sf *Safety) Lift(ctx context.Context, banID string) error {
	return sf.act(ctx, "lift", sf.Keys.BanRecord(banID), banID, "lifted")
}

// act runs one of ban.lua's operations on a record that answers want when it was there.
func (sf *Safety) act(ctx context.Context, op, key, id, want string) error {
	return unwrapUnknown(sf.Call(ctx, op, func(ctx context.Context) error {
		reply, err := sf.ban.Run(ctx, sf.rdb, []string{key}, sf.Keys.Prefix(), op, id).StringSlice()
		if err == nil && reply[0] != want {
			return ErrUnknown
		}
		return err
	}))
}

// dismissBatch is how many of a reporter's reports one script run deletes.
const dismissBatch = 500

// DismissReporter deletes every open report of one reporter (its label) with its evidence,
// and, for restrict > 0 (at most 30 days), stores none of its reports until (they are
// acknowledged, and nothing more). It returns how many it deleted.
func (sf *Safety) DismissReporter(ctx context.Context, label string, restrict time.Duration) (dismissed int, until time.Time, err error) {
	now := sf.now()
	restrict = min(restrict, MaxBan)
	until = now.Add(restrict)
	for {
		var n int64
		var more bool
		err := sf.Call(ctx, "dismiss", func(ctx context.Context) error {
			reply, err := sf.ban.Run(ctx, sf.rdb, []string{sf.Keys.ReportsBy(label)}, sf.Keys.Prefix(), "reporter", label,
				dismissBatch, int64(restrict/time.Second), now.UnixMilli()).Slice()
			if err != nil {
				return err
			}
			if len(reply) != 3 {
				return fmt.Errorf("ban.lua: unexpected reply %v", reply)
			}
			n, _ = reply[1].(int64)
			more = reply[2] == "1"
			return nil
		})
		if err != nil {
			return dismissed, until, err
		}
		dismissed += int(n)
		if !more {
			return dismissed, until, nil
		}
	}
}

// unwrapUnknown keeps ErrUnknown apart from Redis trouble.
func unwrapUnknown(err error) error {
	if errors.Is(err, ErrUnknown) {
		return ErrUnknown
	}
	return err
}

// BanQuery picks bans: from After on (soonest to end first), of one source ("": any), whose
// reason holds Text or whose id is Text, case aside ("": any).
type BanQuery struct {
	After  Cursor
	Source string
	Text   string
}

// BanPage is one page of bans in force: Total in force in all, Next the cursor of the next
// page ("": this was the last).
type BanPage struct {
	Bans  []Ban
	Total int64
	Next  string
}

// maxBansScanned bounds the bans one filtered page reads; past it the page ends early, with a
// cursor to go on from.
const maxBansScanned = 2000

// Bans lists the bans in force that q picks, soonest to end first, maxListed at a time.
func (sf *Safety) Bans(ctx context.Context, q BanQuery) (BanPage, error) {
	page := BanPage{Bans: []Ban{}}
	text := strings.ToLower(q.Text)
	err := sf.Call(ctx, "bans", func(ctx context.Context) error {
		now := sf.now().UnixMilli()
		if err := sf.rdb.ZRemRangeByScore(ctx, sf.Keys.Bans(), "-inf", strconv.FormatInt(now, 10)).Err(); err != nil {
			return err
		}
		var err error
		if page.Total, err = sf.rdb.ZCard(ctx, sf.Keys.Bans()).Result(); err != nil {
			return err
		}
		c := q.After
		for scanned := 0; ; {
			zs, more, err := sf.page(ctx, sf.Keys.Bans(), c, false, MaxListed)
			if err != nil || len(zs) == 0 {
				return err
			}
			scanned += len(zs)
			bans, err := sf.bansOf(ctx, zs)
			if err != nil {
				return err
			}
			for i, b := range bans {
				if b == nil || q.Source != "" && b.Source != q.Source ||
					text != "" && !strings.Contains(strings.ToLower(b.Reason), text) && strings.ToLower(b.ID) != text {
					continue
				}
				page.Bans = append(page.Bans, *b)
				if len(page.Bans) == MaxListed {
					if i < len(zs)-1 || more {
						page.Next = cursorAt(zs[i]).String()
					}
					return nil
				}
			}
			if !more {
				return nil
			}
			if c = cursorAt(zs[len(zs)-1]); scanned >= maxBansScanned {
				page.Next = c.String() // a short page: the next one goes on from here
				return nil
			}
		}
	})
	return page, err
}

// bansOf reads the bans of a page of ban ids (nil for one that has just gone).
func (sf *Safety) bansOf(ctx context.Context, zs []redis.Z) ([]*Ban, error) {
	addrs := make([]*redis.StringCmd, len(zs))
	_, err := sf.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, z := range zs {
			addrs[i] = p.Get(ctx, sf.Keys.BanRecord(z.Member.(string)))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	recs := make([]*redis.MapStringStringCmd, len(zs))
	watched := make([]*redis.FloatCmd, len(zs))
	if _, err := sf.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, z := range zs {
			recs[i] = p.HGetAll(ctx, sf.Keys.Ban(addrs[i].Val()))
			watched[i] = p.ZScore(ctx, sf.Keys.Watch(addrs[i].Val()), watchBanPrefix+z.Member.(string))
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([]*Ban, len(zs))
	for i, rec := range recs {
		if v := rec.Val(); v["id"] == zs[i].Member.(string) {
			out[i] = banFrom(addrs[i].Val(), v)
			out[i].WatchedUntil = watchedUntil(watched[i])
		}
	}
	return out, nil
}
