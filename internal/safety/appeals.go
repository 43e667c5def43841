package safety

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/wire"
)

// Appeals of bans. A ban's appeal record (<prefix>:appeal:<ban id>) holds the hash of its
// appeal token and, for a ban a moderator made from a report, that report as the moderator saw
// it (ban.lua writes it in the same step as the ban). The token itself is told once, to the
// banned user's own socket (Ban.FrameFor); with it the banned user sees the ban, its own still
// and its own chat lines, never the reporter's lines, label or note, and opens one appeal. The
// console lists open appeals beside their reports; upholding deletes the kept report and the
// text, lifting deletes the record with the ban. The record ends with the ban at the latest.

//go:embed appeals.lua
var appealsScriptSource string

// appealScript is stateless (its source and hash): one for every store.
var appealScript = redis.NewScript(appealsScriptSource)

var (
	// ErrAppealed: this ban's appeal was opened already (one per ban).
	ErrAppealed = errors.New("this ban has been appealed already")
	// ErrAppealRate: the network asked too often this minute.
	ErrAppealRate = errors.New("too many appeal requests")
)

// AppealRate is how many requests to /api/appeal one network may make a minute, across instances.
const AppealRate = 30

// Appeal states as the banned user and the console see them.
const (
	AppealNone   = "none"   // not appealed yet
	AppealOpen   = "open"   // waiting for a moderator
	AppealUpheld = "upheld" // a moderator kept the ban
)

// maxAppealToken bounds what is hashed and parsed of a presented token.
const maxAppealToken = 128

// newAppealToken makes a ban's appeal token ("<ban id>.<secret>", 260 random bits) and the
// hash it is stored as.
func newAppealToken(banID string) (token, hash string) {
	token = banID + "." + rand.Text() + rand.Text()
	return token, appealHash(token)
}

func appealHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// appealBan is the ban a token names (ErrUnknown for anything that is not a token).
func appealBan(token string) (string, error) {
	id, _, ok := strings.Cut(token, ".")
	if !ok || len(token) > maxAppealToken || !wire.ValidIDText(id) {
		return "", ErrUnknown
	}
	return id, nil
}

// AppealKey is an identity's appeal key, told to its own page in hello (never stored: it is
// derived under BAN_SECRET). A page gone when a ban was made on its identity claims the ban's
// appeal with it (ClaimAppeal); the identity itself is no secret (partners learn it).
func (sf *Safety) AppealKey(id wire.ClientID) string { return sf.keyed(32, "appeal-key", string(id)) }

// AppealClaim is an identity and its appeal key, as the page kept them from a hello.
type AppealClaim struct {
	ID  wire.ClientID `json:"id"`
	Key string        `json:"key"`
}

// MaxAppealClaims is how many identities one claim may present (the page keeps its last ones).
const MaxAppealClaims = 20

// ClaimAppeal finds the ban in force made on one of the claimed identities (whose keys are
// right) and gives it a new appeal token, which it returns with the ban's end: the old token,
// if a page was told one, is good no more. ErrUnknown when there is none.
func (sf *Safety) ClaimAppeal(ctx context.Context, claims []AppealClaim) (token string, until time.Time, err error) {
	var ids []wire.ClientID
	for _, c := range claims[:min(len(claims), MaxAppealClaims)] {
		if wire.ValidIDText(string(c.ID)) && subtle.ConstantTimeCompare([]byte(c.Key), []byte(sf.AppealKey(c.ID))) == 1 {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 {
		return "", until, ErrUnknown
	}
	err = sf.Call(ctx, "appeal", func(ctx context.Context) error {
		bans := make([]*redis.StringCmd, len(ids))
		if _, err := sf.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				bans[i] = p.Get(ctx, sf.Keys.AppealUser(id))
			}
			return nil
		}); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for i, b := range bans {
			banID := b.Val()
			if banID == "" {
				continue
			}
			var hash string
			token, hash = newAppealToken(banID)
			reply, err := appealScript.Run(ctx, sf.rdb, []string{sf.Keys.Appeal(banID)}, sf.Keys.Prefix(), "claim", banID,
				sf.now().UnixMilli(), hash, string(ids[i])).Slice()
			if err != nil {
				return err
			}
			if len(reply) == 2 && reply[0] == "claimed" {
				ms, _ := reply[1].(string)
				n, err := strconv.ParseInt(ms, 10, 64)
				if err != nil {
					return fmt.Errorf("appeals.lua: a ban's end %q: %w", ms, err)
				}
				until = time.UnixMilli(n)
				return nil
			}
		}
		return ErrUnknown
	})
	if err != nil {
		return "", until, unwrapUnknown(err)
	}
	return token, until, nil
}

// AllowAppealRequest counts one request to /api/appeal from an address (its keyed hash):
// ErrAppealRate past AppealRate in this minute from its network.
func (sf *Safety) AllowAppealRequest(ctx context.Context, addr string) error {
	key := sf.Keys.AppealRate(NetworkOf(addr), sf.now().Unix()/60)
	var n *redis.IntCmd
	err := sf.Call(ctx, "appeal", func(ctx context.Context) error {
		_, err := sf.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			n = p.Incr(ctx, key)
			p.Expire(ctx, key, 2*time.Minute)
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	if n.Val() > AppealRate {
		return ErrAppealRate
	}
	return nil
}

// OwnAppeal is what the banned user sees of its ban and appeal.
type OwnAppeal struct {
	Until  time.Time    `json:"until"`
	Reason string       `json:"reason"` // the moderator's words (or the automatic ban's)
	State  string       `json:"state"`  // none | open | upheld
	Text   string       `json:"text,omitempty"`
	Report *OwnEvidence `json:"report,omitempty"` // the report a moderator banned on, as far as it is the user's own
}

// OwnEvidence is what a report carried about the reported user: the still of its own video
// and its own chat lines. Nothing of the reporter: not its lines, its label, or its note (the
// note is the reporter's free text, and may be about the reporter); the reason is a category.
type OwnEvidence struct {
	Reason string   `json:"reason"`
	Frame  string   `json:"frame,omitempty"`
	Lines  []string `json:"lines"`
}

// AppealOf is the ban a token is good for, with its kept evidence. ErrUnknown when the token is
// not one, is another's, or its ban is lifted, replaced or over: the caller cannot tell these
// apart, and nor can whoever presents a token. One script run checks the token before it reads
// anything else, and reads only what the user may see.
func (sf *Safety) AppealOf(ctx context.Context, token string) (OwnAppeal, error) {
	var out OwnAppeal
	id, err := appealBan(token)
	if err != nil {
		return out, err
	}
	err = sf.Call(ctx, "appeal", func(ctx context.Context) error {
		reply, err := appealScript.Run(ctx, sf.rdb, []string{sf.Keys.Appeal(id)}, sf.Keys.Prefix(), "show", id,
			sf.now().UnixMilli(), appealHash(token)).StringSlice()
		switch {
		case err != nil:
			return err
		case len(reply) != 8 || reply[0] != "shown":
			return ErrUnknown
		}
		until, err := strconv.ParseInt(reply[1], 10, 64)
		if err != nil {
			return fmt.Errorf("appeals.lua: a ban's end %q: %w", reply[1], err)
		}
		out = OwnAppeal{Until: time.UnixMilli(until).UTC(), Reason: reply[2], State: AppealNone, Text: reply[4]}
		if reply[3] != "" {
			out.State = reply[3]
		}
		if reply[5] != "" {
			out.Report = &OwnEvidence{Reason: reply[5], Frame: reply[6], Lines: ownLines(reply[7])}
		}
		return nil
	})
	return out, unwrapUnknown(err)
}

// ownLines are the reported user's lines of a report's chat: those the reporter saw as the
// stranger's (wire.ChatLine).
func ownLines(chat string) []string {
	var lines []wire.ChatLine
	out := []string{}
	if err := json.Unmarshal([]byte(chat), &lines); err != nil {
		return out
	}
	for _, l := range lines {
		if l.From == "stranger" {
			out = append(out, l.Text)
		}
	}
	return out
}

// OpenAppeal opens the appeal of the ban a token is good for, with the user's text (checked
// by the caller). ErrAppealed when it was opened already; ErrUnknown as for AppealOf (the
// script checks that the ban is in force).
func (sf *Safety) OpenAppeal(ctx context.Context, token, text string) error {
	id, err := appealBan(token)
	if err != nil {
		return err
	}
	return sf.runAppeal(ctx, "open", id, appealHash(token), text, int64(MaxBan/time.Second))
}

// Uphold keeps a ban whose appeal is open, and deletes its kept report and the appeal's text.
func (sf *Safety) Uphold(ctx context.Context, banID string) error {
	return sf.runAppeal(ctx, "uphold", banID)
}

func (sf *Safety) runAppeal(ctx context.Context, op, banID string, args ...any) error {
	err := sf.Call(ctx, "appeal", func(ctx context.Context) error {
		argv := append([]any{sf.Keys.Prefix(), op, banID, sf.now().UnixMilli()}, args...)
		reply, err := appealScript.Run(ctx, sf.rdb, []string{sf.Keys.Appeal(banID)}, argv...).StringSlice()
		switch {
		case err != nil:
			return err
		case reply[0] == "appealed":
			return ErrAppealed
		case reply[0] != "opened" && reply[0] != "upheld":
			return ErrUnknown
		}
		return nil
	})
	if errors.Is(err, ErrAppealed) {
		return ErrAppealed
	}
	return unwrapUnknown(err)
}

// Appeal is an open appeal as the console shows it: the ban, the appeal, and the report the
// ban was made from (nil for an automatic ban), as the moderator saw it.
type Appeal struct {
	Ban    Ban
	Text   string
	Opened time.Time
	Report *AppealReport
}

// AppealReport is the report a ban was made from, kept with the ban for its appeal.
type AppealReport struct {
	Reason       string          `json:"reason"`
	Note         string          `json:"note"`
	Reporter     string          `json:"reporter"`
	Created      time.Time       `json:"created"`
	Conversation float64         `json:"conversation_s"`
	Evidence     string          `json:"evidence"`
	Frame        string          `json:"frame"`
	Chat         []wire.ChatLine `json:"chat"`
}

// AppealPage is one page of open appeals, oldest first: Total open in all, Next the cursor of
// the next page ("": this was the last).
type AppealPage struct {
	Appeals []Appeal
	Total   int64
	Next    string
}

// Appeals lists the open appeals after cursor c, oldest first, MaxListed at a time. An appeal
// whose ban has ended (or was replaced) is dropped from the index as it is found.
func (sf *Safety) Appeals(ctx context.Context, c Cursor) (AppealPage, error) {
	page := AppealPage{Appeals: []Appeal{}}
	err := sf.Call(ctx, "appeals", func(ctx context.Context) error {
		zs, more, err := sf.page(ctx, sf.Keys.Appeals(), c, false, MaxListed)
		if err != nil {
			return err
		}
		if more {
			page.Next = cursorAt(zs[len(zs)-1]).String()
		}
		bans, err := sf.bansOf(ctx, zs)
		if err != nil {
			return err
		}
		recs, reporters := make([]*redis.MapStringStringCmd, len(zs)), make([]*redis.MapStringStringCmd, len(zs))
		if _, err := sf.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, z := range zs {
				recs[i] = p.HGetAll(ctx, sf.Keys.Appeal(z.Member.(string)))
				reporters[i] = p.HGetAll(ctx, sf.Keys.AppealReport(z.Member.(string)))
			}
			return nil
		}); err != nil {
			return err
		}
		now := sf.now()
		for i, rec := range recs {
			v := rec.Val()
			if bans[i] == nil || !bans[i].Until.After(now) || v["state"] != AppealOpen {
				if err := sf.rdb.ZRem(ctx, sf.Keys.Appeals(), zs[i].Member).Err(); err != nil {
					return err
				}
				continue
			}
			page.Appeals = append(page.Appeals, appealFrom(*bans[i], v, reporters[i].Val()))
		}
		page.Total, err = sf.rdb.ZCard(ctx, sf.Keys.Appeals()).Result()
		return err
	})
	return page, err
}

// appealFrom reads an appeal record (v) and the reporter's part of its report, while it lasts
// (r; empty after REPORT_TTL: then the report shows the banned user's own lines only).
func appealFrom(b Ban, v, r map[string]string) Appeal {
	opened, _ := strconv.ParseInt(v["opened"], 10, 64)
	a := Appeal{Ban: b, Text: v["text"], Opened: time.UnixMilli(opened).UTC()}
	if v["report_reason"] != "" {
		created, _ := strconv.ParseInt(v["report_created"], 10, 64)
		talked, _ := strconv.ParseInt(v["conversation"], 10, 64)
		chat := v["chat"]
		if r["chat"] != "" {
			chat = r["chat"]
		}
		a.Report = &AppealReport{Reason: v["report_reason"], Note: r["note"], Reporter: r["reporter"],
			Created: time.UnixMilli(created).UTC(), Conversation: float64(talked) / 1000, Evidence: v["evidence"],
			Frame: v["frame"], Chat: []wire.ChatLine{}}
		if err := json.Unmarshal([]byte(chat), &a.Report.Chat); err != nil || a.Report.Chat == nil {
			a.Report.Chat = []wire.ChatLine{}
		}
	}
	return a
}
