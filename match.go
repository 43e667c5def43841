package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"
)

// endmatch.lua is what match.lua and leave.lua share (ending a match): it is prepended to both.
//
//go:embed endmatch.lua
var endMatchSource string

//go:embed match.lua
var matchScriptSource string

//go:embed leave.lua
var leaveScriptSource string

// Outcome is what an enqueue did.
type Outcome int

const (
	OutcomeWaiting Outcome = iota // queued; someone will pop us, or the fallback runs later
	OutcomeMatched                // paired with Partner
	OutcomeStale                  // a fallback or requeue for a search that has ended; nothing done
	OutcomeMoved                  // a newer socket owns the identity (another resume token); nothing done
)

// EnqueueRequest is one run of match.lua.
type EnqueueRequest struct {
	Client    wire.ClientID
	Instance  wire.InstanceID
	Mode      wire.Mode
	Wish      wire.Wish    // interests and languages
	Match     wire.MatchID // the id to use on a hit
	Ticket    string       // this search of the client
	Fallback  bool         // interest fallback: the plain queue is used too
	Requeue   bool         // Redis lost this search: queue it again unless it was matched meanwhile
	Again     bool         // a later run of the search at its watch wait's end (the same ticket only)
	WatchOver bool         // the search has waited WATCH_WAIT: a watched caller is offered to everyone
	TokenHash string       // the caller's resume token hash: nothing is done if Redis holds another
	Addr      string       // the caller's address, as its keyed hash
}

// EnqueueResult is match.lua's answer.
type EnqueueResult struct {
	Outcome       Outcome
	Partner       wire.Peer // matched: whom with, where it lives, and its address's keyed hash
	PartnerTicket string
	Common        []string
	Language      string   // matched: the language the two share ("": none)
	PassedOver    bool     // waiting: someone the caller met recently was passed over
	Skipped       []Waiter // waiting: the users passed over (perhaps one more than once)
	// WatchHeld (waiting): the caller is watched and waits among watched users only, until
	// its search is run again with WatchOver. Never told to the user.
	WatchHeld bool
	// Ended is the match a new search ended first (a Next): Ended.Ended says there was one,
	// and its partner must be told. Set whatever the Outcome, except OutcomeMoved.
	Ended LeaveResult
}

// Waiter is a waiting user as match.lua found it in a queue: who, where it lives, and the
// ticket of its search.
type Waiter struct {
	Client   wire.ClientID
	Instance wire.InstanceID
	Ticket   string
}

// LeaveResult is leave.lua's answer. When Ended, Partner must be told; Moved: the user lives
// on another socket now (instance or token), and nothing was done.
type LeaveResult struct {
	Ended           bool
	Moved           bool
	Partner         wire.ClientID
	PartnerInstance wire.InstanceID
	Match           wire.MatchID
}

// MatchmakerConfig is what the matchmaker needs.
type MatchmakerConfig struct {
	Keys     store.Keys
	MatchTTL time.Duration
	Timeout  time.Duration // upper bound of one operation
	Now      func() time.Time
	Metrics  *metrics.Metrics
	// RematchCooldown: two users whose match ended are not paired again for this long
	RematchCooldown time.Duration
	// WatchReporters: distinct networks whose counting open reports make an address watched (0: never)
	WatchReporters int
}

// Matchmaker owns the shared matchmaking state in Redis: queues, user and match hashes, and
// (through the embedded store.Instances) instance heartbeats. It holds no local state besides
// its configuration. Every operation goes through Call, which bounds it by the operation
// timeout, times it and counts its errors.
type Matchmaker struct {
	store.Calls
	*store.Instances // heartbeats, the online count, the language queues' lengths

	rdb      redis.UniversalClient
	keys     store.Keys
	matchTTL time.Duration
	cooldown time.Duration
	watchBy  int
	now      func() time.Time
	scripts  *store.ScriptBatcher // every script run of the hub's operations shares round trips through it
	match    *redis.Script
	leave    *redis.Script
	resume   *redis.Script
	detach   *redis.Script
}

// NewMatchmaker loads the scripts into Redis, so that a broken script fails at start-up. The
// scripts run by EVALSHA, falling back to EVAL when Redis has forgotten them (a restart), so
// the matchmaker returned with a load error is still usable once Redis can be reached.
func NewMatchmaker(ctx context.Context, rdb redis.UniversalClient, cfg MatchmakerConfig) (*Matchmaker, error) {
	m := &Matchmaker{
		Calls: store.Calls{Timeout: cfg.Timeout, Metrics: cfg.Metrics},
		rdb:   rdb, keys: cfg.Keys, matchTTL: cfg.MatchTTL, cooldown: cfg.RematchCooldown, watchBy: cfg.WatchReporters, now: cfg.Now,
		scripts: store.NewScriptBatcher(rdb, cfg.Timeout),
		match:   redis.NewScript(endMatchSource + matchScriptSource),
		leave:   redis.NewScript(endMatchSource + leaveScriptSource),
		resume:  redis.NewScript(endMatchSource + resumeScriptSource),
		detach:  redis.NewScript(detachScriptSource),
	}
	m.Instances = store.NewInstances(m.Calls, rdb, cfg.Keys)
	for name, s := range map[string]*redis.Script{"match.lua": m.match, "leave.lua": m.leave, "resume.lua": m.resume, "detach.lua": m.detach} {
		if err := m.Call(ctx, "load", func(ctx context.Context) error { return s.Load(ctx, rdb).Err() }); err != nil {
			return m, fmt.Errorf("load %s: %w", name, err)
		}
	}
	return m, nil
}

// maxEnqueueAttempts bounds the runs of match.lua for one search: each drops up to 256 stale
// queue entries, so a search gets past thousands of a crashed instance's waiting users.
const maxEnqueueAttempts = 32

// Enqueue runs match.lua: pair the client with a random live waiting user, or queue it. A new
// search (neither Fallback nor Requeue) first ends the match Redis has for the client, in the
// same run (a Next), and says so in res.Ended.
func (m *Matchmaker) Enqueue(ctx context.Context, r EnqueueRequest) (res EnqueueResult, err error) {
	how := "0"
	switch {
	case r.Fallback:
		how = "1"
	case r.Requeue:
		how = "2"
	case r.Again:
		how = "3"
	}
	err = m.Call(ctx, "match", func(ctx context.Context) error {
		for attempt := 1; ; attempt++ {
			retry := "1"
			if attempt == maxEnqueueAttempts {
				retry = "0" // the last run queues the caller whatever is left
			}
			reply, err := m.scripts.Run(ctx, m.match, []string{m.keys.User(r.Client)},
				m.keys.Prefix(), string(r.Client), string(r.Instance), string(r.Mode), string(r.Match),
				m.now().UnixMilli(), int64(m.matchTTL/time.Second), how, r.Ticket, r.TokenHash,
				strings.Join(r.Wish.Interests, "\n"), retry, r.Addr, int64(m.cooldown/time.Second),
				strings.Join(r.Wish.Languages, "\n"), store.LuaFlag(r.Wish.OnlyLanguage), m.watchBy, store.LuaFlag(r.WatchOver)).StringSlice()
			if err != nil {
				return err
			}
			ended := res.Ended // a run that asked for another has ended the match for good
			var again bool
			res, again, err = parseMatchReply(reply)
			if !res.Ended.Ended {
				res.Ended = ended
			}
			if err != nil || !again {
				return err
			}
		}
	})
	return res, err
}

// parseMatchReply reads match.lua's answer; again says the script asks to be run once more.
func parseMatchReply(full []string) (res EnqueueResult, again bool, err error) {
	if len(full) < 3 {
		return res, false, fmt.Errorf("match.lua: unexpected reply %q", full)
	}
	res, again, err = parseOutcome(full[3:])
	if full[0] != "" {
		res.Ended = LeaveResult{Ended: true, Partner: wire.ClientID(full[0]), PartnerInstance: wire.InstanceID(full[1]), Match: wire.MatchID(full[2])}
	}
	return res, again, err
}

// parseOutcome reads what match.lua's search did, after the match it ended.
func parseOutcome(reply []string) (res EnqueueResult, again bool, err error) {
	switch {
	case len(reply) == 1 && reply[0] == "retry":
		return res, true, nil
	case len(reply) >= 3 && reply[0] == "waiting" && (len(reply)-3)%3 == 0:
		res = EnqueueResult{Outcome: OutcomeWaiting, PassedOver: reply[1] == "new", WatchHeld: reply[2] == "w"}
		for i := 3; i < len(reply); i += 3 {
			res.Skipped = append(res.Skipped, Waiter{Client: wire.ClientID(reply[i]), Instance: wire.InstanceID(reply[i+1]), Ticket: reply[i+2]})
		}
		return res, false, nil
	case len(reply) == 1 && reply[0] == "stale":
		return EnqueueResult{Outcome: OutcomeStale}, false, nil
	case len(reply) == 1 && reply[0] == "moved":
		return EnqueueResult{Outcome: OutcomeMoved}, false, nil
	case len(reply) >= 6 && reply[0] == "matched":
		return EnqueueResult{
			Outcome: OutcomeMatched, Partner: wire.Peer{ID: wire.ClientID(reply[1]), Instance: wire.InstanceID(reply[2]), Addr: reply[4]},
			PartnerTicket: reply[3], Language: reply[5], Common: append([]string{}, reply[6:]...),
		}, false, nil
	}
	return res, false, fmt.Errorf("match.lua: unexpected reply %q", reply)
}

// LeaveRequest is one run of leave.lua: end a user's search or match.
type LeaveRequest struct {
	Client    wire.ClientID
	Instance  wire.InstanceID // only if the user still lives here (it may have resumed elsewhere)
	Token     string          // and only if Redis holds this resume token hash for it (empty: any)
	Forget    bool            // delete the user hash as well
	HeldOnly  bool            // only if the user is held for a resume (a hold's expiry)
	NextToken string          // replace the resume token hash (empty: keep it)
}

// Leave runs leave.lua.
func (m *Matchmaker) Leave(ctx context.Context, r LeaveRequest) (res LeaveResult, err error) {
	op := "leave"
	if r.HeldOnly {
		op = "expire_hold"
	}
	err = m.Call(ctx, op, func(ctx context.Context) error {
		reply, err := m.scripts.Run(ctx, m.leave, []string{m.keys.User(r.Client)}, m.keys.Prefix(), string(r.Client),
			store.LuaFlag(r.Forget), string(r.Instance), store.LuaFlag(r.HeldOnly), r.NextToken, r.Token,
			int64(m.cooldown/time.Second), m.now().UnixMilli()).StringSlice()
		if err != nil {
			return err
		}
		res, err = parseLeaveReply(reply)
		return err
	})
	return res, err
}

// parseLeaveReply reads leave.lua's answer.
func parseLeaveReply(reply []string) (LeaveResult, error) {
	switch {
	case len(reply) == 4 && reply[0] == "matched":
		return LeaveResult{Ended: true, Partner: wire.ClientID(reply[1]), PartnerInstance: wire.InstanceID(reply[2]), Match: wire.MatchID(reply[3])}, nil
	case len(reply) == 1 && reply[0] == "moved":
		return LeaveResult{Moved: true}, nil
	case len(reply) == 1 && (reply[0] == "waiting" || reply[0] == "idle"):
		return LeaveResult{}, nil
	}
	return LeaveResult{}, fmt.Errorf("leave.lua: unexpected reply %q", reply)
}

// UserState is what Redis says of one user's search.
type UserState struct {
	State   string // waiting, matched, idle; empty when Redis has no such user
	Ticket  string
	Match   wire.MatchID
	Partner wire.ClientID
}

// UserStates reads the search state of several users in one round trip.
func (m *Matchmaker) UserStates(ctx context.Context, ids []wire.ClientID) ([]UserState, error) {
	out := make([]UserState, len(ids))
	err := m.Call(ctx, "user_states", func(ctx context.Context) error {
		cmds := make([]*redis.SliceCmd, len(ids))
		_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = p.HMGet(ctx, m.keys.User(id), "state", "ticket", "match", "partner")
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i, c := range cmds {
			v := c.Val()
			out[i] = UserState{State: store.Str(v[0]), Ticket: store.Str(v[1]), Match: wire.MatchID(store.Str(v[2])), Partner: wire.ClientID(store.Str(v[3]))}
		}
		return nil
	})
	return out, err
}

// MatchView is a match as its non-initiating side needs it.
type MatchView struct {
	Mode     wire.Mode
	Common   []string
	Language string
	Partner  wire.Peer // the other user, where it lives now, and its address's keyed hash
}

// MatchOf reads a match and where its other user lives.
func (m *Matchmaker) MatchOf(ctx context.Context, mid wire.MatchID, partner wire.ClientID) (view MatchView, err error) {
	err = m.Call(ctx, "match_of", func(ctx context.Context) error {
		var match, user *redis.SliceCmd
		_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			match = p.HMGet(ctx, m.keys.Match(mid), "mode", "common", "language")
			user = p.HMGet(ctx, m.keys.User(partner), "instance", "addr")
			return nil
		})
		if err != nil {
			return err
		}
		v, u := match.Val(), user.Val()
		view = MatchView{Mode: wire.Mode(store.Str(v[0])), Language: store.Str(v[2]),
			Partner: wire.Peer{ID: partner, Instance: wire.InstanceID(store.Str(u[0])), Addr: store.Str(u[1])}}
		if common := store.Str(v[1]); common != "" {
			view.Common = strings.Split(common, "\n")
		}
		return nil
	})
	return view, err
}

// Refresh extends the TTL of the given users', matches' and queues' keys, in one round trip.
func (m *Matchmaker) Refresh(ctx context.Context, users []wire.ClientID, matches []wire.MatchID, queues []string) error {
	if len(users)+len(matches)+len(queues) == 0 {
		return nil
	}
	return m.Call(ctx, "refresh", func(ctx context.Context) error {
		_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, u := range users {
				p.Expire(ctx, m.keys.User(u), m.matchTTL)
			}
			for _, id := range matches {
				p.Expire(ctx, m.keys.Match(id), m.matchTTL)
			}
			for _, q := range queues {
				p.Expire(ctx, q, m.matchTTL)
			}
			return nil
		})
		return err
	})
}

// MatchCheck is a match as one of its users' instance believes it.
type MatchCheck struct {
	User    wire.ClientID
	Match   wire.MatchID
	Partner wire.ClientID
}

// MatchState is what Redis says of a MatchCheck: whether the match stands, where the partner
// lives, and where and under which resume token the user itself lives.
type MatchState struct {
	Exists          bool
	PartnerInstance wire.InstanceID
	Instance        wire.InstanceID
	Token           string
}

// MatchStates reads several matches, their partners' instances and their users' own
// instances and tokens, in one round trip.
func (m *Matchmaker) MatchStates(ctx context.Context, checks []MatchCheck) ([]MatchState, error) {
	out := make([]MatchState, len(checks))
	if len(checks) == 0 {
		return out, nil
	}
	err := m.Call(ctx, "match_states", func(ctx context.Context) error {
		exists := make([]*redis.IntCmd, len(checks))
		insts := make([]*redis.StringCmd, len(checks))
		own := make([]*redis.SliceCmd, len(checks))
		_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, c := range checks {
				exists[i] = p.Exists(ctx, m.keys.Match(c.Match))
				insts[i] = p.HGet(ctx, m.keys.User(c.Partner), "instance")
				own[i] = p.HMGet(ctx, m.keys.User(c.User), "instance", "token")
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for i := range checks {
			u := own[i].Val()
			out[i] = MatchState{Exists: exists[i].Val() == 1, PartnerInstance: wire.InstanceID(insts[i].Val()),
				Instance: wire.InstanceID(store.Str(u[0])), Token: store.Str(u[1])}
		}
		return nil
	})
	return out, err
}
