package store

import (
	"strconv"

	"github.com/go-megle/go-megle/internal/wire"
)

// Keys builds every Redis key and channel name from one prefix. The prefix holds a hash tag
// ({mm}) so that all matchmaking keys live in one cluster slot and match.lua can touch them
// atomically; each instance's channel carries its own tag so channels spread over shards.
type Keys struct{ prefix string }

// NewKeys builds keys under prefix (KEY_PREFIX).
func NewKeys(prefix string) Keys { return Keys{prefix: prefix} }

// Prefix is the prefix every key starts with; the Lua scripts build their own keys from it.
func (k Keys) Prefix() string { return k.prefix }

func (k Keys) User(id wire.ClientID) string       { return k.prefix + ":user:" + string(id) }
func (k Keys) Match(id wire.MatchID) string       { return k.prefix + ":match:" + string(id) }
func (k Keys) Instance(id wire.InstanceID) string { return k.prefix + ":instance:" + string(id) }
func (k Keys) Instances() string                  { return k.prefix + ":instances" }

// Searching holds an instance's count of searching users per mode, "<video> <text>", beside
// its heartbeat and with the same TTL.
func (k Keys) Searching(id wire.InstanceID) string { return k.prefix + ":searching:" + string(id) }
func (k Keys) Queue(m wire.Mode) string            { return k.prefix + ":queue:" + string(m) }
func (k Keys) InterestQueue(m wire.Mode, interest string) string {
	return k.prefix + ":queue:" + string(m) + ":" + interest
}

// LanguageQueue is where a search with language lang waits; LanguageInterestQueue where one
// with lang and an interest does (match.lua's queueKeys builds the same names).
func (k Keys) LanguageQueue(m wire.Mode, lang string) string {
	return k.prefix + ":lqueue:" + string(m) + ":" + lang
}
func (k Keys) LanguageInterestQueue(m wire.Mode, lang, interest string) string {
	return k.LanguageQueue(m, lang) + ":" + interest
}

// Queues are all the queues a search of mode m for wish may wait in, the plain one included
// (it waits there after the fallback) and the watched one, as match.lua's queueKeys names them.
func (k Keys) Queues(m wire.Mode, wish wire.Wish) []string {
	var qs []string
	for _, l := range wish.Languages {
		for _, i := range wish.Interests {
			qs = append(qs, k.LanguageInterestQueue(m, l, i))
		}
		qs = append(qs, k.LanguageQueue(m, l))
	}
	if len(wish.Languages) == 0 {
		for _, i := range wish.Interests {
			qs = append(qs, k.InterestQueue(m, i))
		}
	}
	return append(qs, k.Queue(m), k.WatchedQueue(m))
}

// WatchedQueue is where watched users of mode m wait (match.lua: watchedQueue); Watch is the
// sorted set that makes an address (its keyed hash) watched: its counting open reports and its
// recent bans, each scored by when it stops counting (internal/safety's watch.go).
func (k Keys) WatchedQueue(m wire.Mode) string { return k.prefix + ":watched:" + string(m) }
func (k Keys) Watch(addrHash string) string    { return k.prefix + ":watch:" + addrHash }

func (k Keys) Channel(id wire.InstanceID) string { return "signals:{" + string(id) + "}" }

// Conns counts one address's connections, per instance (the address's keyed hash).
func (k Keys) Conns(addrHash string) string { return k.prefix + ":conns:" + addrHash }

// Opened counts one address's connection openings in one minute (the minute since the epoch),
// cluster-wide: the adaptive proof of work's rate. Users is a HyperLogLog of the client ids one
// address opened connections as in one quarter hour: the console's distinct users per address.
func (k Keys) Opened(addrHash string, minute int64) string {
	return k.prefix + ":opened:" + addrHash + ":" + strconv.FormatInt(minute, 10)
}
func (k Keys) Users(addrHash string, quarter int64) string {
	return k.prefix + ":users:" + addrHash + ":" + strconv.FormatInt(quarter, 10)
}

// Trust and safety (report.lua, ban.lua and reports.lua build the rest from the prefix).
func (k Keys) Report(id string) string        { return k.prefix + ":report:" + id }
func (k Keys) ReportsOpen() string            { return k.prefix + ":reports:open" }
func (k Keys) ReportsBy(label string) string  { return k.prefix + ":reports:by:" + label }
func (k Keys) ReportsLoad() string            { return k.prefix + ":reports:load" }
func (k Keys) Counted(addrHash string) string { return k.prefix + ":counted:" + addrHash }
func (k Keys) Seen(network string) string     { return k.prefix + ":seen:" + network }
func (k Keys) Restricted(label string) string { return k.prefix + ":restricted:" + label }
func (k Keys) Ban(addrHash string) string     { return k.prefix + ":ban:" + addrHash }
func (k Keys) BanRecord(id string) string     { return k.prefix + ":banrec:" + id }
func (k Keys) Bans() string                   { return k.prefix + ":bans" }

// Appeal is a ban's appeal record (its token's hash, the kept evidence, the appeal itself);
// Appeals indexes the open appeals (ban id -> opened, unix ms) for the console's queue.
func (k Keys) Appeal(banID string) string { return k.prefix + ":appeal:" + banID }
func (k Keys) Appeals() string            { return k.prefix + ":appeals" }

// AppealReport is the reporter's part of the report a ban was made from (its note, label and
// the whole chat), kept for the console no longer than the report would have lived.
func (k Keys) AppealReport(banID string) string { return k.prefix + ":appealreport:" + banID }
func (k Keys) Met(id wire.ClientID) string      { return k.prefix + ":met:" + string(id) }

// AppealRate counts a network's requests to /api/appeal in one minute (since the epoch).
func (k Keys) AppealRate(network string, minute int64) string {
	return k.prefix + ":appealrate:" + network + ":" + strconv.FormatInt(minute, 10)
}

// AppealUser names the ban (its id) made on a user, for the user's page to claim the appeal
// with its appeal key.
func (k Keys) AppealUser(id wire.ClientID) string { return k.prefix + ":appealuser:" + string(id) }
