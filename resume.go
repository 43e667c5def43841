package main

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"time"

	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"
)

// The Redis side of resuming: tokens, holding a dropped user for the grace period, and giving
// its identity and match back.

//go:embed resume.lua
var resumeScriptSource string

//go:embed detach.lua
var detachScriptSource string

// ResumeResult is an identity given back to a reconnecting client.
type ResumeResult struct {
	ID      wire.ClientID
	Match   *wire.MatchInfo // nil: the match ended meanwhile
	Partner wire.Peer       // with Match: the partner (Match.PartnerID), where it lives, its address's keyed hash
	// Previous is where the identity lived before; unless it was Held there, an old socket of
	// it may still be open there.
	Previous wire.InstanceID
	Held     bool
}

// UserRoute is where a user lives and whether it is held for a resume.
type UserRoute struct {
	Instance      wire.InstanceID
	Match         wire.MatchID
	DetachedUntil time.Time
}

// UserRoute reads a user's instance, match and resume deadline.
func (m *Matchmaker) UserRoute(ctx context.Context, id wire.ClientID) (r UserRoute, err error) {
	err = m.Call(ctx, "user_route", func(ctx context.Context) error {
		vals, err := m.rdb.HMGet(ctx, m.keys.User(id), "instance", "match", "detached").Result()
		if err != nil {
			return err
		}
		r = UserRoute{Instance: wire.InstanceID(store.Str(vals[0])), Match: wire.MatchID(store.Str(vals[1]))}
		if ms, err := strconv.ParseInt(store.Str(vals[2]), 10, 64); err == nil {
			r.DetachedUntil = time.UnixMilli(ms)
		}
		return nil
	})
	return r, err
}

// Detach marks a user held for a resume until deadline, if it still lives on inst under
// token (the hash of its resume token); held reports false when it lives on elsewhere now.
func (m *Matchmaker) Detach(ctx context.Context, id wire.ClientID, inst wire.InstanceID, token string, deadline time.Time, grace time.Duration) (held bool, err error) {
	err = m.Call(ctx, "detach", func(ctx context.Context) error {
		n, err := m.scripts.Run(ctx, m.detach, []string{m.keys.User(id)}, string(inst), deadline.UnixMilli(),
			int64((grace+m.matchTTL)/time.Second), token).Int()
		held = n == 1
		return err
	})
	return held, err
}

// Resume runs resume.lua: on a good token, the user now lives on inst, comes from addr (a
// keyed hash), and only the token whose hash is next resumes it again.
func (m *Matchmaker) Resume(ctx context.Context, id wire.ClientID, tokenHash, next string, inst wire.InstanceID, addr string) (res ResumeResult, found bool, err error) {
	err = m.Call(ctx, "resume", func(ctx context.Context) error {
		reply, err := m.scripts.Run(ctx, m.resume, []string{m.keys.User(id)}, m.keys.Prefix(), string(id), tokenHash,
			string(inst), int64(m.matchTTL/time.Second), m.now().UnixMilli(), next, addr).StringSlice()
		if err != nil {
			return err
		}
		res, found, err = parseResumeReply(id, reply)
		return err
	})
	return res, found, err
}

// parseResumeReply reads resume.lua's answer for user id.
func parseResumeReply(id wire.ClientID, reply []string) (ResumeResult, bool, error) {
	switch {
	case len(reply) == 1 && reply[0] == "invalid":
		return ResumeResult{}, false, nil
	case len(reply) == 3 && reply[0] == "idle":
		return ResumeResult{ID: id, Previous: wire.InstanceID(reply[1]), Held: reply[2] == "1"}, true, nil
	case len(reply) >= 10 && reply[0] == "matched":
		return ResumeResult{ID: id, Previous: wire.InstanceID(reply[1]), Held: reply[2] == "1",
			Partner: wire.Peer{ID: wire.ClientID(reply[4]), Instance: wire.InstanceID(reply[5]), Addr: reply[8]},
			Match: &wire.MatchInfo{
				MatchID: wire.MatchID(reply[3]), PartnerID: wire.ClientID(reply[4]), Initiator: reply[6] == "1",
				Mode: wire.Mode(reply[7]), Language: reply[9], CommonInterests: append([]string{}, reply[10:]...),
			}}, true, nil
	}
	return ResumeResult{}, false, fmt.Errorf("resume.lua: unexpected reply %q", reply)
}
