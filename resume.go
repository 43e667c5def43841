package main

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

//go:embed resume.lua
var resumeScriptSource string

//go:embed detach.lua
var detachScriptSource string

// A resume token is "<client id>.<secret>": the id says whose user hash to look in; only a
// SHA-256 of the whole token is stored there, and it is sent to nobody but its owner.
func newResumeToken(id ClientID) string { return string(id) + "." + newID() + newID() }

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ResumeResult is an identity given back to a reconnecting client.
type ResumeResult struct {
	ID              ClientID
	Match           *MatchInfo // nil: the match ended meanwhile
	PartnerInstance InstanceID
}

// Resume gives a reconnecting client its identity and match back if the token is good. The
// partner's instance is told where the client lives now; the partner itself is told nothing.
func (h *Hub) Resume(token string) (ResumeResult, bool) {
	id, _, ok := strings.Cut(token, ".")
	if !ok || !validIDText(id) || len(token) > 256 {
		h.metrics.Resumes.WithLabelValues("invalid").Inc()
		return ResumeResult{}, false
	}
	ctx, cancel := h.opContext()
	defer cancel()
	start := time.Now()
	res, found, err := h.mm.Resume(ctx, ClientID(id), hashToken(token), h.cfg.Self)
	h.metrics.observeRedis("resume", start, err)
	if err != nil {
		h.log.Warn("resume failed; giving a fresh identity", "err", err)
		h.metrics.Resumes.WithLabelValues("error").Inc()
		return ResumeResult{}, false
	}
	if !found {
		h.metrics.Resumes.WithLabelValues("expired").Inc()
		return ResumeResult{}, false
	}
	h.metrics.Resumes.WithLabelValues("resumed").Inc()
	if res.Match != nil {
		h.route(res.PartnerInstance, &Envelope{Kind: KindMoved, To: res.Match.PartnerID, From: res.ID, Match: res.Match.MatchID, Instance: h.cfg.Self})
	}
	return res, true
}

// restore sets a resumed client's local state before it is registered.
func (c *Client) restore(r *ResumeResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.everQueued = true
	if r.Match == nil {
		return
	}
	c.state, c.partner, c.partnerInst, c.match = stateMatched, r.Match.PartnerID, r.PartnerInstance, r.Match.MatchID
	c.initiator, c.mode, c.common = r.Match.Initiator, r.Match.Mode, r.Match.CommonInterests
}

// holdForResume keeps a dropped matched client's identity and match for the grace period:
// its user hash is marked detached until a deadline, and a timer here ends the match if
// nobody resumed by then. If this instance dies first, the partner's instance sees the
// deadline and does it (partnerMayResume). Called with c.opMu held.
func (h *Hub) holdForResume(c *Client) bool {
	deadline := h.now().Add(h.cfg.ResumeGrace)
	ctx, cancel := h.opContext()
	defer cancel()
	held, err := h.mm.Detach(ctx, c.id, h.cfg.Self, deadline, h.cfg.ResumeGrace)
	if err != nil {
		h.log.Warn("could not hold the match for a resume; ending it", "client", c.id, "err", err)
		return false
	}
	if !held {
		return true // it already resumed on another instance: nothing here to hold or end
	}
	c.mu.Lock()
	partner, pinst := c.partner, c.partnerInst
	c.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx.Err() != nil {
		return true // stopping: the partner's instance ends it at the deadline
	}
	if old, ok := h.detached[c.id]; ok {
		old.timer.Stop() // an earlier hold of the same user: this one replaces it
	}
	hold := &heldUser{}
	hold.timer = time.AfterFunc(h.cfg.ResumeGrace, func() { h.expireHeld(c.id, partner, pinst, hold) })
	h.detached[c.id] = hold
	return true
}

// heldUser is one hold of a dropped user; its identity tells a stale timer from the current one.
type heldUser struct{ timer *time.Timer } // timer is written under h.mu, before anyone reads it there

// expireHeld ends a held match nobody resumed, unless the client resumed (here or elsewhere).
func (h *Hub) expireHeld(id, partner ClientID, pinst InstanceID, hold *heldUser) {
	h.mu.Lock()
	current := h.detached[id] == hold
	if current {
		delete(h.detached, id)
	}
	h.mu.Unlock()
	if !current {
		return // replaced by a later hold, or the user came back here
	}
	if h.lookup(id) != nil {
		return // resumed here
	}
	ctx, cancel := h.opContext()
	defer cancel()
	res, err := h.mm.ExpireHold(ctx, id, h.cfg.Self)
	if err != nil {
		h.log.Warn("ending an expired held match failed", "client", id, "err", err)
		return
	}
	if res.Ended {
		if res.PartnerInstance == "" {
			res.PartnerInstance = pinst
		}
		h.route(res.PartnerInstance, &Envelope{Kind: KindLeft, To: res.Partner, From: id, Match: res.Match, Reason: ReasonDisconnected})
	}
}

// partnerMayResume is asked when the partner's instance is dead: it says whether to keep the
// match for now, because the partner resumed on a live instance (routing is updated) or is
// still within its grace period. Called with c.opMu held.
func (h *Hub) partnerMayResume(c *Client, partner ClientID, mid MatchID) bool {
	ctx, cancel := h.opContext()
	defer cancel()
	p, err := h.mm.UserRoute(ctx, partner)
	if err != nil {
		return true // Redis is away: decide at the next sweep
	}
	if p.Match != mid {
		return false
	}
	if p.Instance != "" {
		if alive, err := h.mm.Alive(ctx, []InstanceID{p.Instance}); err == nil && alive[p.Instance] {
			c.mu.Lock()
			if c.state == stateMatched && c.match == mid {
				c.partnerInst = p.Instance
			}
			c.mu.Unlock()
			return true
		}
	}
	return h.now().Before(p.DetachedUntil)
}

// --- the Redis side of resume ---

// UserRoute is where a user lives and whether it is held for a resume.
type UserRoute struct {
	Instance      InstanceID
	Match         MatchID
	DetachedUntil time.Time
}

// UserRoute reads a user's instance, match and resume deadline.
func (m *Matchmaker) UserRoute(ctx context.Context, id ClientID) (UserRoute, error) {
	vals, err := m.rdb.HMGet(ctx, m.keys.User(id), "instance", "match", "detached").Result()
	if err != nil {
		return UserRoute{}, fmt.Errorf("%w: user route: %w", ErrRedis, err)
	}
	r := UserRoute{Instance: InstanceID(str(vals[0])), Match: MatchID(str(vals[1]))}
	if ms, err := strconv.ParseInt(str(vals[2]), 10, 64); err == nil {
		r.DetachedUntil = time.UnixMilli(ms)
	}
	return r, nil
}

// Detach marks a user held for a resume until deadline, if it still lives on inst; held
// reports false when it lives elsewhere now.
func (m *Matchmaker) Detach(ctx context.Context, id ClientID, inst InstanceID, deadline time.Time, grace time.Duration) (held bool, err error) {
	n, err := m.detach.Run(ctx, m.rdb, []string{m.keys.User(id)}, string(inst), deadline.UnixMilli(),
		int64((grace+m.matchTTL)/time.Second)).Int()
	if err != nil {
		return false, fmt.Errorf("%w: detach.lua: %w", ErrRedis, err)
	}
	return n == 1, nil
}

// Resume runs resume.lua: on a good token, the user now lives on inst.
func (m *Matchmaker) Resume(ctx context.Context, id ClientID, tokenHash string, inst InstanceID) (ResumeResult, bool, error) {
	reply, err := m.resume.Run(ctx, m.rdb, []string{m.keys.User(id)}, m.keys.prefix, string(id), tokenHash,
		string(inst), int64(m.matchTTL/time.Second), m.now().UnixMilli()).StringSlice()
	if err != nil {
		return ResumeResult{}, false, fmt.Errorf("%w: resume.lua: %w", ErrRedis, err)
	}
	switch {
	case len(reply) == 1 && reply[0] == "invalid":
		return ResumeResult{}, false, nil
	case len(reply) == 1 && reply[0] == "idle":
		return ResumeResult{ID: id}, true, nil
	case len(reply) >= 6 && reply[0] == "matched":
		return ResumeResult{ID: id, PartnerInstance: InstanceID(reply[3]), Match: &MatchInfo{
			MatchID: MatchID(reply[1]), PartnerID: ClientID(reply[2]), Initiator: reply[4] == "1",
			Mode: Mode(reply[5]), CommonInterests: append([]string{}, reply[6:]...),
		}}, true, nil
	}
	return ResumeResult{}, false, fmt.Errorf("resume.lua: unexpected reply %q", reply)
}
