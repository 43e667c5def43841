// Package store is the instance's way to Redis: opening it (a single node, a Cluster, a
// Sentinel set, or an embedded in-process Redis), the builders of every key and channel name,
// the one guarded path every Redis call takes (Calls: bounded by the operation timeout, timed
// and counted per operation, failures wrapped in ErrRedis), the batcher that sends the
// scripts of many callers in one pipeline, and the instances' own keys (Instances: heartbeats,
// who is alive, the online count, the language queues' lengths).
//
// It may import the standard library, go-redis, miniredis, internal/metrics and internal/wire,
// nothing else of the server: it knows keys and calls, not what they mean. Invariants: Keys is
// the only builder of key names (all matchmaking keys share one hash tag); go-redis's own
// retries are off (a script or publish that timed out may have run); no call waits longer than
// the operation timeout.
package store
