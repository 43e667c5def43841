// Package safety is trust and safety's side of an instance: client addresses and their keyed
// hash, the per-address connection caps, the proof of work that find_match costs, reports
// (what makes one count, the fair shares of stored reports and evidence, keeping reporter and
// reported apart), bans and automatic bans, and the moderators' queries over them, with their
// Lua scripts (conns.lua, report.lua, reports.lua, ban.lua).
//
// It may import the standard library, go-redis, internal/store (keys and the guarded call
// path), internal/session (what a conversation says of a report) and internal/wire, nothing
// above. Invariants: an address is stored only as a keyed hash (the secret never leaves the
// package); every key it writes has a TTL; every Redis call goes through store.Calls.
package safety
