package safety

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// Who a request comes from. The peer's address counts, unless the peer is a trusted proxy:
// then the forwarding header (X-Forwarded-For, or the standard Forwarded, whichever the
// operator's proxies set: FORWARDED_HEADER) is walked from the right past trusted proxies,
// and the first address that is not one is the client. Every line of the header counts (a
// client's own line cannot hide the one its proxy appended), hops may carry a port, and a hop
// that is not an address at all counts as the client (nothing to its left can be believed).
//
// Limits and bans count an address key: an IPv4 address, or the /64 of an IPv6 address; its
// network is the address itself, or the IPv6 /48 (addressHash says which checks use which).

// Forwarding headers FORWARDED_HEADER can name.
const (
	HeaderXForwardedFor = "x-forwarded-for"
	HeaderForwarded     = "forwarded"
)

// maxHopLen bounds an unparsable hop used as a client key.
const maxHopLen = 64

// clientAddress is the address key of the client of a request with this peer address and
// headers.
func ClientAddress(remoteAddr string, h http.Header, trusted []netip.Prefix, header string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return truncate(host)
	}
	peer = peer.Unmap()
	isTrusted := func(a netip.Addr) bool {
		return slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	if !isTrusted(peer) {
		return AddressKey(peer)
	}
	hops := forwardedHops(h, header)
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			return truncate(strings.TrimSpace(hops[i]))
		}
		if !isTrusted(a) {
			return AddressKey(a)
		}
		peer = a
	}
	return AddressKey(peer) // only proxies: the leftmost is as close to the client as we get
}

// forwardedHops lists the hops of every line of the forwarding header, left to right.
func forwardedHops(h http.Header, header string) []string {
	var hops []string
	if header == HeaderForwarded {
		for _, line := range h.Values("Forwarded") {
			for _, element := range strings.Split(line, ",") {
				for _, pair := range strings.Split(element, ";") {
					k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
					if ok && strings.EqualFold(k, "for") {
						hops = append(hops, v)
					}
				}
			}
		}
		return hops
	}
	for _, line := range h.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(line, ",")...)
	}
	return hops
}

// parseHop reads one hop: addr, addr:port, [v6] or [v6]:port, optionally quoted.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// addressKey is an IPv4 address, or an IPv6 address's /64.
func AddressKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// networkKey is the network an address key belongs to: an IPv4 address is its own network, an
// IPv6 /64 belongs to its /48 (what one subscriber is commonly given, so that one home line
// with many /64s is one network).
func networkKey(key string) string {
	p, err := netip.ParsePrefix(key)
	if err != nil || !p.Addr().Is6() {
		return key
	}
	wide, err := p.Addr().Prefix(48)
	if err != nil {
		return key
	}
	return wide.String()
}

func truncate(s string) string {
	if len(s) > maxHopLen {
		return s[:maxHopLen]
	}
	return s
}

// addressHash is the keyed hash of an address key under which Redis knows an address
// (connection counts, reports, bans): HMAC-SHA-256 with BAN_SECRET, so that whoever reads
// Redis cannot tell the addresses by hashing every IPv4 address.
//
// The one rule of granularity: the hash is the network's hash (netHashLen characters) followed
// by the address's own, so every record about an address also says which network it is in,
// and every check reads both from the same string: what counts per address (the connection
// cap, bans, whom a report is about) uses the whole hash, what counts per network (reporters,
// keeping two people apart, the report rate, a ban's mark on its network) its first part
// (report.lua, match.lua: net).
func AddressHash(secret []byte, key string) string {
	return keyedHex(secret, "net\x00"+networkKey(key), netHashLen) + keyedHex(secret, key, 32-netHashLen)
}

// legacyAddressHash is the hash Redis knew an address by before the network part: bans issued
// then are stored under it. Safety.Arrive still honours them until they end (at most 30 days
// after the upgrade; then this can go).
func legacyAddressHash(secret []byte, key string) string { return keyedHex(secret, key, 32) }

// netHashLen is the length of the network part of an address hash.
const netHashLen = 12

// networkOf is the network part of an address hash.
func NetworkOf(addrHash string) string { return addrHash[:min(netHashLen, len(addrHash))] }

func keyedHex(secret []byte, s string, n int) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(s)) // hash.Hash.Write never fails
	return hex.EncodeToString(mac.Sum(nil))[:n]
}

// No log line carries a client's address (README, "What is stored"): connection errors name
// both ends ("write tcp 10.0.0.1:8080->203.0.113.5:51234: broken pipe"), and so do the HTTP
// server's own lines ("http: panic serving 203.0.113.5:51234: ..."); both are logged without
// them. Log lines that must say whose they are name the client id or the address's keyed hash.

// ipWithPort is an IPv4 address or a bracketed IPv6 one, with its port if any: how net and
// net/http write the ends of a connection.
var ipWithPort = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b|\[[0-9A-Fa-f:.]+(?:%[\w.-]+)?\](?::\d+)?`)

// scrubAddrs replaces every IP address (and port) in s with "-".
func ScrubAddrs(s string) string { return ipWithPort.ReplaceAllString(s, "-") }

// peerErr is a connection's error as a log line carries it: without the addresses of its ends.
func PeerErr(err error) string {
	if err == nil {
		return ""
	}
	return ScrubAddrs(err.Error())
}

// httpErrorLog is the HTTP server's own log (a panic in a handler, say) as warnings of log,
// without addresses.
func HTTPErrorLog(l *slog.Logger) *log.Logger {
	return log.New(logWriter(func(line string) { l.Warn("http server", "err", ScrubAddrs(line)) }), "", 0)
}

type logWriter func(line string)

func (w logWriter) Write(p []byte) (int, error) {
	w(strings.TrimSpace(string(p)))
	return len(p), nil
}

// ParsePrefix reads a trusted proxy (TRUSTED_PROXIES): a CIDR or a single address. a CIDR or a single address.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
