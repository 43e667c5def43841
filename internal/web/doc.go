// Package web is the instance's HTTP doors: the /ws upgrade (within the per-address cap, with
// the origin check, onto a read buffer of its own so that idle connections can be parked),
// /healthz, /readyz, /metrics, /api/config, the moderator console's API and the web app.
//
// It may import the standard library, gorilla/websocket, Prometheus's HTTP handler and the
// packages below it (internal/safety, internal/ice, internal/metrics, internal/poll,
// internal/wire); the hub it hands connections to is the small Doors interface, never the
// root's *Hub (and the console's ban broadcast is an interface too). Invariants: every
// response carries the security headers; the console's API answers only the moderator token,
// compared in constant time and rate-limited per address; no door writes to Redis but through
// internal/safety.
package web
