package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed match.lua
var matchScriptSource string

//go:embed leave.lua
var leaveScriptSource string

// Keys builds every Redis key and channel name from one prefix. The prefix holds a hash tag
// ({mm}) so that all matchmaking keys live in one cluster slot and match.lua can touch them
// atomically; each instance's channel carries its own tag so channels spread over shards.
type Keys struct{ prefix string }

func (k Keys) User(id ClientID) string       { return k.prefix + ":user:" + string(id) }
func (k Keys) Match(id MatchID) string       { return k.prefix + ":match:" + string(id) }
func (k Keys) Instance(id InstanceID) string { return k.prefix + ":instance:" + string(id) }
func (k Keys) Instances() string             { return k.prefix + ":instances" }
func (k Keys) Queue(m Mode) string           { return k.prefix + ":queue:" + string(m) }
func (k Keys) InterestQueue(m Mode, interest string) string {
	return k.prefix + ":queue:" + string(m) + ":" + interest
}
func (k Keys) Channel(id InstanceID) string { return "signals:{" + string(id) + "}" }

// Outcome is what an enqueue did.
type Outcome int

const (
	OutcomeWaiting Outcome = iota // queued; someone will pop us, or the fallback runs later
	OutcomeMatched                // paired with Partner
	OutcomeStale                  // a fallback run for a search that has ended; nothing done
)

// EnqueueRequest is one run of match.lua.
type EnqueueRequest struct {
	Client    ClientID
	Instance  InstanceID
	Mode      Mode
	Interests []string
	Match     MatchID // the id to use on a hit
	Ticket    string  // this search of the client
	Fallback  bool    // interest fallback: the plain queue is used too
	Requeue   bool    // Redis lost this search: queue it again unless it was matched meanwhile
	TokenHash string
}

// EnqueueResult is match.lua's answer.
type EnqueueResult struct {
	Outcome         Outcome
	Partner         ClientID
	PartnerInstance InstanceID
	PartnerTicket   string
	Common          []string
}

// LeaveResult is leave.lua's answer. When Ended, Partner must be told.
type LeaveResult struct {
	Ended           bool
	WasWaiting      bool
	Partner         ClientID
	PartnerInstance InstanceID
	Match           MatchID
}

// ErrRedis wraps every failure to reach Redis, so callers can answer "unavailable".
var ErrRedis = errors.New("redis unavailable")

// Matchmaker owns the shared matchmaking state in Redis: queues, user and match hashes,
// instance heartbeats. It holds no local state besides its configuration.
type Matchmaker struct {
	rdb      redis.UniversalClient
	keys     Keys
	matchTTL time.Duration
	now      func() time.Time
	match    *redis.Script
	leave    *redis.Script
	resume   *redis.Script
	detach   *redis.Script
}

func newMatchmakerUnloaded(rdb redis.UniversalClient, keys Keys, matchTTL time.Duration, now func() time.Time) *Matchmaker {
	return &Matchmaker{
		rdb: rdb, keys: keys, matchTTL: matchTTL, now: now,
		match:  redis.NewScript(matchScriptSource),
		leave:  redis.NewScript(leaveScriptSource),
		resume: redis.NewScript(resumeScriptSource),
		detach: redis.NewScript(detachScriptSource),
	}
}

// NewMatchmaker loads the scripts into Redis, so that a broken script fails at start-up. The
// scripts run by EVALSHA, falling back to EVAL when Redis has forgotten them (a restart), so
// the matchmaker returned with a load error is still usable once Redis can be reached.
func NewMatchmaker(ctx context.Context, rdb redis.UniversalClient, keys Keys, matchTTL time.Duration, now func() time.Time) (*Matchmaker, error) {
	m := newMatchmakerUnloaded(rdb, keys, matchTTL, now)
	for name, s := range map[string]*redis.Script{"match.lua": m.match, "leave.lua": m.leave, "resume.lua": m.resume, "detach.lua": m.detach} {
		if err := s.Load(ctx, rdb).Err(); err != nil {
			return m, fmt.Errorf("load %s: %w", name, err)
		}
	}
	return m, nil
}

// maxEnqueueAttempts bounds the runs of match.lua for one search: each drops up to 256 stale
// queue entries, so a search gets past thousands of a crashed instance's waiting users.
const maxEnqueueAttempts = 32

// Enqueue runs match.lua: pair the client with a random live waiting user, or queue it.
func (m *Matchmaker) Enqueue(ctx context.Context, r EnqueueRequest) (EnqueueResult, error) {
	fallback := "0"
	switch {
	case r.Fallback:
		fallback = "1"
	case r.Requeue:
		fallback = "2"
	}
	var reply []string
	for attempt := 1; ; attempt++ {
		retry := "1"
		if attempt == maxEnqueueAttempts {
			retry = "0" // the last run queues the caller whatever is left
		}
		args := []any{
			m.keys.prefix, string(r.Client), string(r.Instance), string(r.Mode), string(r.Match),
			m.now().UnixMilli(), int64(m.matchTTL / time.Second), fallback, r.Ticket, r.TokenHash,
			strings.Join(r.Interests, "\n"), retry,
		}
		var err error
		reply, err = m.match.Run(ctx, m.rdb, []string{m.keys.User(r.Client)}, args...).StringSlice()
		if err != nil {
			return EnqueueResult{}, fmt.Errorf("%w: match.lua: %w", ErrRedis, err)
		}
		if len(reply) != 1 || reply[0] != "retry" {
			break
		}
	}
	switch {
	case len(reply) == 1 && reply[0] == "waiting":
		return EnqueueResult{Outcome: OutcomeWaiting}, nil
	case len(reply) == 1 && reply[0] == "stale":
		return EnqueueResult{Outcome: OutcomeStale}, nil
	case len(reply) >= 4 && reply[0] == "matched":
		return EnqueueResult{
			Outcome: OutcomeMatched, Partner: ClientID(reply[1]), PartnerInstance: InstanceID(reply[2]),
			PartnerTicket: reply[3], Common: append([]string{}, reply[4:]...),
		}, nil
	}
	return EnqueueResult{}, fmt.Errorf("match.lua: unexpected reply %q", reply)
}

// LeaveIfOn runs leave.lua: end the client's match or search, provided the client still
// lives on inst (it may have resumed elsewhere); forget also deletes its user hash.
func (m *Matchmaker) LeaveIfOn(ctx context.Context, id ClientID, inst InstanceID, forget bool) (LeaveResult, error) {
	return m.leaveScript(ctx, id, inst, forget, false)
}

// ExpireHold ends a held user's match and forgets it, unless it resumed meanwhile.
func (m *Matchmaker) ExpireHold(ctx context.Context, id ClientID, inst InstanceID) (LeaveResult, error) {
	return m.leaveScript(ctx, id, inst, true, true)
}

func (m *Matchmaker) leaveScript(ctx context.Context, id ClientID, inst InstanceID, forget, heldOnly bool) (LeaveResult, error) {
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	reply, err := m.leave.Run(ctx, m.rdb, []string{m.keys.User(id)}, m.keys.prefix, string(id), flag(forget), string(inst), flag(heldOnly)).StringSlice()
	if err != nil {
		return LeaveResult{}, fmt.Errorf("%w: leave.lua: %w", ErrRedis, err)
	}
	switch {
	case len(reply) == 4 && reply[0] == "matched":
		return LeaveResult{Ended: true, Partner: ClientID(reply[1]), PartnerInstance: InstanceID(reply[2]), Match: MatchID(reply[3])}, nil
	case len(reply) == 1 && reply[0] == "waiting":
		return LeaveResult{WasWaiting: true}, nil
	case len(reply) == 1 && (reply[0] == "idle" || reply[0] == "moved"):
		return LeaveResult{}, nil
	}
	return LeaveResult{}, fmt.Errorf("leave.lua: unexpected reply %q", reply)
}

// Heartbeat marks the instance alive for ttl and records its local client count, which the
// online count adds up.
func (m *Matchmaker) Heartbeat(ctx context.Context, id InstanceID, clients int, ttl time.Duration) error {
	_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, m.keys.Instance(id), clients, ttl)
		p.SAdd(ctx, m.keys.Instances(), string(id))
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: heartbeat: %w", ErrRedis, err)
	}
	return nil
}

// Deregister removes the instance's heartbeat at a clean shutdown.
func (m *Matchmaker) Deregister(ctx context.Context, id InstanceID) error {
	_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, m.keys.Instance(id))
		p.SRem(ctx, m.keys.Instances(), string(id))
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: deregister: %w", ErrRedis, err)
	}
	return nil
}

// Alive reports which of the instances have a live heartbeat.
func (m *Matchmaker) Alive(ctx context.Context, ids []InstanceID) (map[InstanceID]bool, error) {
	out := make(map[InstanceID]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = m.keys.Instance(id)
	}
	vals, err := m.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: alive: %w", ErrRedis, err)
	}
	for i, v := range vals {
		out[ids[i]] = v != nil
	}
	return out, nil
}

// Online adds up the client counts of every live instance, counts the live instances, and
// forgets dead ones.
func (m *Matchmaker) Online(ctx context.Context) (clients int64, instances int, err error) {
	members, err := m.rdb.SMembers(ctx, m.keys.Instances()).Result()
	if err != nil {
		return 0, 0, fmt.Errorf("%w: online: %w", ErrRedis, err)
	}
	ids := make([]InstanceID, len(members))
	keys := make([]string, len(members))
	for i, s := range members {
		ids[i], keys[i] = InstanceID(s), m.keys.Instance(InstanceID(s))
	}
	if len(keys) == 0 {
		return 0, 0, nil
	}
	vals, err := m.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return 0, 0, fmt.Errorf("%w: online: %w", ErrRedis, err)
	}
	var dead []any
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			dead = append(dead, string(ids[i]))
			continue
		}
		instances++
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			clients += n
		}
	}
	if len(dead) > 0 {
		if err := m.rdb.SRem(ctx, m.keys.Instances(), dead...).Err(); err != nil {
			return clients, instances, fmt.Errorf("%w: online: %w", ErrRedis, err)
		}
	}
	return clients, instances, nil
}

// UserState is what Redis says of one user's search.
type UserState struct {
	State   string // waiting, matched, idle; empty when Redis has no such user
	Ticket  string
	Match   MatchID
	Partner ClientID
}

// UserStates reads the search state of several users in one round trip.
func (m *Matchmaker) UserStates(ctx context.Context, ids []ClientID) ([]UserState, error) {
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, m.keys.User(id), "state", "ticket", "match", "partner")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: user states: %w", ErrRedis, err)
	}
	out := make([]UserState, len(ids))
	for i, c := range cmds {
		v := c.Val()
		out[i] = UserState{State: str(v[0]), Ticket: str(v[1]), Match: MatchID(str(v[2])), Partner: ClientID(str(v[3]))}
	}
	return out, nil
}

// MatchView is a match as its non-initiating side needs it.
type MatchView struct {
	Mode            Mode
	Common          []string
	PartnerInstance InstanceID
}

// MatchOf reads a match and where its other user lives.
func (m *Matchmaker) MatchOf(ctx context.Context, mid MatchID, partner ClientID) (MatchView, error) {
	var match *redis.SliceCmd
	var inst *redis.StringCmd
	_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		match = p.HMGet(ctx, m.keys.Match(mid), "mode", "common")
		inst = p.HGet(ctx, m.keys.User(partner), "instance")
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return MatchView{}, fmt.Errorf("%w: match of: %w", ErrRedis, err)
	}
	v := match.Val()
	view := MatchView{Mode: Mode(str(v[0])), PartnerInstance: InstanceID(inst.Val())}
	if common := str(v[1]); common != "" {
		view.Common = strings.Split(common, "\n")
	}
	return view, nil
}

// str reads an optional string out of an HMGET reply.
func str(v any) string {
	s, _ := v.(string)
	return s
}

// Refresh extends the TTL of the given users' and matches' keys, in one round trip.
func (m *Matchmaker) Refresh(ctx context.Context, users []ClientID, matches []MatchID) error {
	if len(users)+len(matches) == 0 {
		return nil
	}
	_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, u := range users {
			p.Expire(ctx, m.keys.User(u), m.matchTTL)
		}
		for _, id := range matches {
			p.Expire(ctx, m.keys.Match(id), m.matchTTL)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: refresh: %w", ErrRedis, err)
	}
	return nil
}
