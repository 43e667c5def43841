package main

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/pion/stun/v3"
	"github.com/pion/transport/v4"
	"github.com/pion/transport/v4/stdnet"
	"github.com/pion/turn/v4"

	"github.com/go-megle/go-megle/internal/ice"
	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/wire"
)

// The shipped TURN server must not relay into the private network (issue 10): anyone can get
// TURN credentials from the app, allocate a relay and name any peer. This runs Debian's
// coturn with the compose file's own coturn flags, adapted only where a loopback test must,
// and asks it, as a client with credentials from turnCredential, for permissions to peers.
// It only ever asks for permissions (a CreatePermission sends nothing to the peer) and never
// sends data or a Connect request anywhere but to the coturn on loopback.

// turnPeer is a peer address and what it stands for.
type turnPeer struct {
	addr string
	what string
}

// Peers coturn must refuse (403) on an IPv4 relay.
var refusedIPv4Peers = []turnPeer{
	{"172.30.0.2", "a container on the compose file's front network"},
	{"172.17.0.1", "Docker's default bridge gateway (the host)"},
	{"10.0.0.1", "RFC 1918"},
	{"192.168.1.1", "RFC 1918"},
	{"100.64.0.1", "CGNAT"},
	{"169.254.169.254", "cloud metadata service"},
	{"127.0.0.1", "loopback"},
	{"0.0.0.1", `"this network"`},
	{"192.0.0.1", "IETF protocol assignments"},
	{"192.88.99.1", "6to4 relay anycast"},
	{"198.18.0.1", "benchmarking"},
	{"224.0.0.1", "multicast"},
	{"240.0.0.1", "reserved"},
	{"255.255.255.255", "broadcast"},
}

// Peers coturn must refuse (403) on an IPv6 relay. pion encodes an IPv4-mapped net.IP as
// IPv4; an attacker's client need not, so these are sent as written (see xorPeerAddress).
var refusedIPv6Peers = []turnPeer{
	{"::1", "loopback"},
	{"fd00::1", "unique-local"},
	{"fc00::1", "unique-local"},
	{"fe80::1", "link-local"},
	{"fec0::1", "site-local"},
	{"ff02::1", "multicast"},
	{"::ffff:172.30.0.2", "IPv4-mapped private"},
	{"::ffff:127.0.0.1", "IPv4-mapped loopback"},
	{"::ffff:203.0.113.5", "IPv4-mapped (any: an IPv6 relay has no business with them)"},
	{"::ffff:0:a00:1", "IPv4-translated 10.0.0.1"},
	{"::10.0.0.1", "IPv4-compatible 10.0.0.1"},
	{"::10.0.1.0", "IPv4-compatible, last byte 0"},
	{"::0.0.0.2", "IPv4-compatible, low"},
	{"64:ff9b::a00:1", "NAT64 of 10.0.0.1"},
	{"64:ff9b:1::a00:1", "local-use NAT64"},
	{"100::1", "discard-only"},
	{"2002:a00:1::1", "6to4 of 10.0.0.1"},
}

// Peers coturn must grant: the positive controls, which prove the refusals above are the
// configuration's doing and not a test that cannot succeed.
var grantedIPv4Peers = []turnPeer{
	{"203.0.113.5", "TEST-NET-3: a public address that routes nowhere"},
	{"198.51.100.7", "TEST-NET-2"},
}

var grantedIPv6Peers = []turnPeer{
	{"2001:db8::5", "IPv6 documentation: a public address that routes nowhere"},
}

// requireTURNServer returns coturn's turnserver, or skips the test (fails it under
// REQUIRE_TURN=1 or REQUIRE_BROWSER=1, which CI sets).
func requireTURNServer(t *testing.T) string {
	t.Helper()
	return requireDaemon(t, "turnserver", "TURNSERVER_PATH", "/usr/bin/turnserver", "apt-get install coturn", "REQUIRE_TURN", "REQUIRE_BROWSER")
}

func TestTURNRelayRefusesPrivatePeers(t *testing.T) {
	bin := requireTURNServer(t)
	p := loadCompose(t)
	ipv6 := loopbackIPv6(t)
	checkTURNRefusesPrivatePeers(t, startLoopbackTURN(t, bin, p, ipv6), p.Services["coturn"].Command, ipv6)
}

// checkTURNRefusesPrivatePeers asks a running shipped coturn (the compose file's, the Helm
// chart's; coturnCmd is its command) for relays and permissions, with the credential the app
// would issue with the server's TURN secret.
func checkTURNRefusesPrivatePeers(t *testing.T, srv *loopbackTURN, coturnCmd []string, ipv6 bool) {
	t.Helper()
	user, pass := ice.TurnCredential([]byte(srv.secret), "turn-relay-test", time.Now().Add(10*time.Minute))

	// An allowed-peer-ip the command names (the compose file's: coturn's own address) is
	// granted too.
	granted4 := slices.Clone(grantedIPv4Peers)
	for _, a := range flagValues(t, coturnCmd, "--allowed-peer-ip") {
		granted4 = append(granted4, turnPeer{a, "the command's --allowed-peer-ip"})
	}

	t.Run("IPv4 relay over UDP", func(t *testing.T) {
		c := dialTURN(t, "udp", srv.addr4, user, pass)
		c.allocateUDP(t, "127.0.0.1")
		c.expectPermissions(t, refusedIPv4Peers, stun.CodeForbidden)
		c.expectPermissions(t, granted4, 0)
	})
	t.Run("IPv6 relay over UDP", func(t *testing.T) {
		if !ipv6 {
			t.Skip("skipping: no IPv6 loopback (::1) on this machine")
		}
		c := dialTURN(t, "udp", srv.addr6, user, pass)
		c.allocateIPv6(t)
		c.expectPermissions(t, refusedIPv6Peers, stun.CodeForbidden)
		c.expectPermissions(t, grantedIPv6Peers, 0)
	})
	t.Run("over TCP: a UDP relay works, a TCP relay is refused", func(t *testing.T) {
		// TURN over TCP to the server itself (what a browser behind a UDP-blocking firewall
		// uses) still relays media over UDP.
		c := dialTURN(t, "tcp", srv.addr4, user, pass)
		c.allocateUDP(t, "127.0.0.1")
		c.expectPermissions(t, grantedIPv4Peers[:1], 0)
		c.expectPermissions(t, refusedIPv4Peers[:2], stun.CodeForbidden)

		// A TCP relay (RFC 6062) would let a user open TCP connections from coturn to any
		// peer: no-tcp-relay refuses the allocation itself (442).
		tcp := dialTURN(t, "tcp", srv.addr4, user, pass)
		alloc, err := tcp.c.AllocateTCP()
		if err == nil {
			_ = alloc.Close()
			t.Fatal("coturn allocated a TCP relay: want 442 Unsupported Transport Protocol (no-tcp-relay)")
		}
		if code := turnErrorCode(err); code != stun.CodeUnsupportedTransProto {
			t.Fatalf("TCP allocation: %v, want error 442 (no-tcp-relay)", err)
		}
	})
}

// ---- the coturn under test ----------------------------------------------------------------

type loopbackTURN struct {
	addr4, addr6 string // host:port
	secret       string
}

// loopbackTURNArgs adapts the compose file's coturn command to a test on loopback and in
// nothing else: its listening port and relay port range become the test's; its config file
// (the static-auth-secret the compose file's secrets service writes) is conf, from the test's
// run of that service; it listens on the loopback addresses only; its pid file and (unused)
// user database go to dir. Each flag it replaces must be there exactly once, and none that
// would change what this test means may be there (listening or relay addresses, daemon mode,
// a secret on the command line, short options but -c): a command of a new shape fails here
// instead of quietly testing something else.
func loopbackTURNArgs(cmd []string, port, minPort, maxPort int, conf, secret, dir string, ipv6 bool) ([]string, error) {
	replace := map[string]string{
		"--listening-port": strconv.Itoa(port),
		"--min-port":       strconv.Itoa(minPort),
		"--max-port":       strconv.Itoa(maxPort),
	}
	if secret != "" { // a command that names its secret (the Helm chart's $(TURN_SECRET))
		replace["--static-auth-secret"] = secret
	}
	seen := map[string]int{}
	var out []string
	for i := 0; i < len(cmd); i++ {
		arg := cmd[i]
		name, _, _ := strings.Cut(arg, "=")
		switch {
		case arg == "-c" && i+1 < len(cmd) && conf != "": // the config file: its value is the next argument
			seen[arg]++
			out = append(out, arg, conf)
			i++
			continue
		case arg == "-n" && conf == "": // no config file: everything is on the command line
		case !strings.HasPrefix(arg, "--"):
			return nil, fmt.Errorf("coturn argument %q: the adapter knows long options (--name=value), -c <file> and -n only", arg)
		case slices.Contains([]string{"--listening-ip", "--relay-ip", "--external-ip", "--daemon", "--pidfile", "--db", "--userdb",
			"--allow-loopback-peers"}, name),
			name == "--static-auth-secret" && secret == "":
			return nil, fmt.Errorf("coturn argument %q: the loopback test cannot run it as it is; update loopbackTURNArgs", arg)
		}
		if v, ok := replace[name]; ok {
			seen[name]++
			arg = name + "=" + v
		}
		out = append(out, arg)
	}
	secretFrom := "-c" // the secret is in the config file
	if secret != "" {
		secretFrom = "--static-auth-secret"
	}
	for _, name := range []string{"--listening-port", "--min-port", "--max-port", secretFrom} {
		if seen[name] != 1 {
			return nil, fmt.Errorf("coturn command has %s %d times, want once: update loopbackTURNArgs", name, seen[name])
		}
	}
	out = append(out, "--listening-ip=127.0.0.1")
	if ipv6 {
		out = append(out, "--listening-ip=::1")
	}
	return append(out,
		"--pidfile="+filepath.Join(dir, "turnserver.pid"),
		"--db="+filepath.Join(dir, "turndb"),
	), nil
}

// startLoopbackTURN runs turnserver in the foreground with the compose file's flags and the
// config its secrets service writes (see loopbackTURNArgs), then extra, and waits until it
// answers a STUN binding request. Its secret is the one the compose file gives the app.
func startLoopbackTURN(t *testing.T, bin string, p *types.Project, ipv6 bool, extra ...string) *loopbackTURN {
	t.Helper()
	secrets := runSecretsService(t, p, nil)
	conf := secrets.path(t, "coturn", composeConfigFile(t, p.Services["coturn"], "-c"))
	secret := strings.TrimSpace(secrets.read(t, "app", env(p.Services["app"], "TURN_SECRET_FILE")))
	return startTURNCommand(t, bin, p.Services["coturn"].Command, conf, "", secret, ipv6, extra...)
}

// startTURNCommand runs a coturn command adapted to loopback (loopbackTURNArgs) and waits
// until it answers a STUN binding request. conf is the config file its -c names, or
// cmdSecret the secret its --static-auth-secret is given; secret is the TURN secret either
// way (what the app signs credentials with).
func startTURNCommand(t *testing.T, bin string, cmd []string, conf, cmdSecret, secret string, ipv6 bool, extra ...string) *loopbackTURN {
	t.Helper()
	minPort, maxPort := composeRelayPorts(t, cmd)
	port := freeTURNPort(t, ipv6)
	relayBase := freeUDPRange(t, maxPort-minPort+1, ipv6)
	dir := t.TempDir()
	args, err := loopbackTURNArgs(cmd, port, relayBase, relayBase+maxPort-minPort, conf, cmdSecret, dir, ipv6)
	if err != nil {
		t.Fatal(err)
	}
	proc := startDaemon(t, "turnserver", bin, append(args, extra...), dir)
	srv := &loopbackTURN{addr4: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), secret: secret}
	if ipv6 {
		srv.addr6 = net.JoinHostPort("::1", strconv.Itoa(port))
	}
	proc.waitUntil(t, "a STUN binding response on "+srv.addr4, 15*time.Second, func() bool { return stunBinding(srv.addr4) })
	if ipv6 {
		proc.waitUntil(t, "a STUN binding response on "+srv.addr6, 15*time.Second, func() bool { return stunBinding(srv.addr6) })
	}
	return srv
}

func composeRelayPorts(t *testing.T, cmd []string) (minPort, maxPort int) {
	t.Helper()
	get := func(name string) int {
		v := flagValues(t, cmd, name)
		if len(v) != 1 {
			t.Fatalf("coturn command has %d %s, want one", len(v), name)
		}
		n, err := strconv.Atoi(v[0])
		if err != nil {
			t.Fatalf("%s=%s: %v", name, v[0], err)
		}
		return n
	}
	minPort, maxPort = get("--min-port"), get("--max-port")
	if maxPort < minPort {
		t.Fatalf("coturn relay ports %d-%d", minPort, maxPort)
	}
	return minPort, maxPort
}

// loopbackIPv6 reports whether ::1 is usable; without it the IPv6 part is skipped, unless
// REQUIRE_TURN=1 (CI), where that is a failure.
func loopbackIPv6(t *testing.T) bool {
	t.Helper()
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err == nil {
		c.Close()
		return true
	}
	if os.Getenv("REQUIRE_TURN") == "1" {
		t.Fatalf("REQUIRE_TURN=1 but there is no IPv6 loopback (%v): the IPv6 refusals cannot be tested", err)
	}
	t.Logf("no IPv6 loopback (%v): the IPv6 part will be skipped", err)
	return false
}

func udpFree(network, host string, port int) bool {
	c, err := net.ListenPacket(network, net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func tcpFree(network, host string, port int) bool {
	l, err := net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// freeTURNPort is a port free for TCP and UDP on the loopback addresses, and so is the next
// one (coturn's alternate port, listening-port + 1).
func freeTURNPort(t *testing.T, ipv6 bool) int {
	t.Helper()
	for range 100 {
		p := redistest.FreePort(t)
		ok := p < 65535
		for q := p; ok && q <= p+1; q++ {
			ok = udpFree("udp4", "127.0.0.1", q) && tcpFree("tcp4", "127.0.0.1", q)
			if ipv6 {
				ok = ok && udpFree("udp6", "::1", q) && tcpFree("tcp6", "::1", q)
			}
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free port for coturn")
	return 0
}

// freeUDPRange finds count consecutive UDP ports free on loopback, below the kernel's
// ephemeral range (so that the tests' own sockets do not take them meanwhile).
func freeUDPRange(t *testing.T, count int, ipv6 bool) int {
	t.Helper()
	const low, high = 20000, 32000
	for range 50 {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(high-low-count)))
		if err != nil {
			t.Fatal(err)
		}
		base := low + int(n.Int64())
		free := true
		for p := base; free && p < base+count; p++ {
			free = udpFree("udp4", "127.0.0.1", p) && (!ipv6 || udpFree("udp6", "::1", p))
		}
		if free {
			return base
		}
	}
	t.Fatalf("no %d consecutive free UDP ports", count)
	return 0
}

// stunBinding reports whether a STUN binding request to addr gets its success response
// within a second.
func stunBinding(addr string) bool {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest)
	if err != nil {
		return false
	}
	if _, err := conn.Write(req.Raw); err != nil {
		return false
	}
	if err := conn.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		return false
	}
	buf := make([]byte, 1500)
	n, err := conn.Read(buf)
	if err != nil {
		return false
	}
	res := &stun.Message{Raw: buf[:n]}
	return res.Decode() == nil && res.Type == stun.BindingSuccess && res.TransactionID == req.TransactionID
}

// ---- the TURN client ------------------------------------------------------------------------

// dualStackNet is pion's standard network, except that it resolves the TURN server's
// address in either family (pion resolves it as udp4 only).
type dualStackNet struct{ transport.Net }

func (n dualStackNet) ResolveUDPAddr(_, address string) (*net.UDPAddr, error) {
	return n.Net.ResolveUDPAddr("udp", address)
}

type turnClient struct {
	c          *turn.Client
	server     net.Addr
	username   stun.Username
	password   string
	realm      stun.Realm
	nonce      stun.Nonce
	integrity  stun.MessageIntegrity
	authorised bool
}

// dialTURN connects a pion TURN client to server over "udp" or "tcp"; it is closed at cleanup.
func dialTURN(t *testing.T, network, server, user, pass string) *turnClient {
	t.Helper()
	var conn net.PacketConn
	switch network {
	case "udp":
		udp, err := net.Dial("udp", server) // only to learn the local address of the right family
		if err != nil {
			t.Fatal(err)
		}
		local := udp.LocalAddr().(*net.UDPAddr)
		udp.Close()
		pc, err := net.ListenPacket("udp", net.JoinHostPort(local.IP.String(), "0"))
		if err != nil {
			t.Fatal(err)
		}
		conn = pc
	case "tcp":
		tcp, err := net.DialTimeout("tcp", server, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn = turn.NewSTUNConn(tcp)
	default:
		t.Fatalf("dialTURN: network %q", network)
	}
	std, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{
		TURNServerAddr: server,
		Username:       user,
		Password:       pass,
		Conn:           conn,
		Net:            dualStackNet{std},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		conn.Close()
	})
	return &turnClient{c: c, server: c.TURNServerAddr(), username: stun.NewUsername(user), password: pass}
}

// allocateUDP allocates a UDP relay and checks that it is on the loopback coturn.
func (tc *turnClient) allocateUDP(t *testing.T, wantHost string) {
	t.Helper()
	relay, err := tc.c.Allocate()
	if err != nil {
		t.Fatalf("allocate a UDP relay on %s: %v", tc.server, err)
	}
	t.Cleanup(func() { _ = relay.Close() }) // a Refresh with lifetime 0, to the loopback coturn
	host, _, err := net.SplitHostPort(relay.LocalAddr().String())
	if err != nil || host != wantHost {
		t.Fatalf("relayed address %s, want one on %s", relay.LocalAddr(), wantHost)
	}
}

// expectPermissions asks for a permission for each peer, one request each, and wants the
// given error code for every one (0: granted).
func (tc *turnClient) expectPermissions(t *testing.T, peers []turnPeer, want stun.ErrorCode) {
	t.Helper()
	for _, p := range peers {
		addr, err := netip.ParseAddr(p.addr)
		if err != nil {
			t.Fatal(err)
		}
		code, err := tc.createPermission(addr)
		switch {
		case err != nil:
			t.Errorf("CreatePermission %s (%s): %v", p.addr, p.what, err)
		case code != want && want == 0:
			t.Errorf("CreatePermission %s (%s): error %d, want it granted", p.addr, p.what, int(code))
		case code != want:
			t.Errorf("CreatePermission %s (%s): %s, want error %d", p.addr, p.what, codeString(code), int(want))
		}
	}
}

func codeString(code stun.ErrorCode) string {
	if code == 0 {
		return "granted"
	}
	return "error " + strconv.Itoa(int(code))
}

func turnErrorCode(err error) stun.ErrorCode {
	var te *stun.TurnError
	if errors.As(err, &te) {
		return te.ErrorCodeAttr.Code
	}
	return -1
}

// createPermission sends one CreatePermission for peer and returns the error code of the
// answer (0: granted). It builds the request itself so that the peer address goes out in
// exactly its own family (see xorPeerAddress).
func (tc *turnClient) createPermission(peer netip.Addr) (stun.ErrorCode, error) {
	code, _, err := tc.request(stun.MethodCreatePermission, xorPeerAddress{netip.AddrPortFrom(peer, 9)})
	return code, err
}

// allocateIPv6 allocates a UDP relay of the IPv6 family (REQUESTED-ADDRESS-FAMILY, RFC 6156),
// which pion's Allocate cannot ask for, and checks that it is on ::1. The allocation is
// released at cleanup.
func (tc *turnClient) allocateIPv6(t *testing.T) {
	t.Helper()
	code, res, err := tc.request(stun.MethodAllocate,
		rawAttr{stun.AttrRequestedTransport, []byte{17, 0, 0, 0}},    // UDP
		rawAttr{stun.AttrRequestedAddressFamily, []byte{2, 0, 0, 0}}, // IPv6
	)
	if err != nil || code != 0 {
		t.Fatalf("allocate an IPv6 UDP relay on %s: %s %v", tc.server, codeString(code), err)
	}
	t.Cleanup(func() { _, _, _ = tc.request(stun.MethodRefresh, rawAttr{stun.AttrLifetime, []byte{0, 0, 0, 0}}) })
	var relayed stun.XORMappedAddress
	if err := relayed.GetFromAs(res, stun.AttrXORRelayedAddress); err != nil {
		t.Fatalf("allocation without a relayed address: %v", err)
	}
	if !relayed.IP.Equal(net.IPv6loopback) {
		t.Fatalf("relayed address %s, want one on ::1", relayed)
	}
}

// request sends one request of method with attrs through the client's transaction
// machinery, authenticated with the long-term credential (realm and nonce from the server's
// first 401, a new nonce on 438), and returns the error code of the answer (0: success).
func (tc *turnClient) request(method stun.Method, attrs ...stun.Setter) (stun.ErrorCode, *stun.Message, error) {
	for range 3 {
		setters := append([]stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}, attrs...)
		if tc.authorised {
			setters = append(setters, &tc.username, &tc.realm, &tc.nonce, &tc.integrity)
		}
		msg, err := stun.Build(append(setters, stun.Fingerprint)...)
		if err != nil {
			return 0, nil, fmt.Errorf("build %s: %w", method, err)
		}
		res, err := tc.c.PerformTransaction(msg, tc.server, false)
		if err != nil {
			return 0, nil, fmt.Errorf("%s transaction: %w", method, err)
		}
		if res.Msg.Type.Class != stun.ClassErrorResponse {
			return 0, res.Msg, nil
		}
		var code stun.ErrorCodeAttribute
		if err := code.GetFrom(res.Msg); err != nil {
			return 0, nil, fmt.Errorf("%s error response without an error code: %w", method, err)
		}
		if code.Code == stun.CodeUnauthorized && !tc.authorised || code.Code == stun.CodeStaleNonce {
			if err := tc.nonce.GetFrom(res.Msg); err != nil {
				return 0, nil, fmt.Errorf("%d without a nonce: %w", code.Code, err)
			}
			if !tc.authorised {
				if err := tc.realm.GetFrom(res.Msg); err != nil {
					return 0, nil, fmt.Errorf("401 without a realm: %w", err)
				}
				tc.integrity = stun.NewLongTermIntegrity(tc.username.String(), tc.realm.String(), tc.password)
				tc.authorised = true
			}
			continue
		}
		return code.Code, res.Msg, nil
	}
	return 0, nil, fmt.Errorf("%s: still unauthorised after three tries", method)
}

// rawAttr is an attribute given as its value bytes.
type rawAttr struct {
	t stun.AttrType
	v []byte
}

func (a rawAttr) AddTo(m *stun.Message) error {
	m.Add(a.t, a.v)
	return nil
}

// xorPeerAddress is an XOR-PEER-ADDRESS in the family the address is written in: an
// IPv4-mapped address (::ffff:a.b.c.d) stays IPv6, as a hand-made request can send it, where
// pion's own encoder would turn it into IPv4.
type xorPeerAddress struct{ addr netip.AddrPort }

func (a xorPeerAddress) AddTo(m *stun.Message) error {
	const magicCookie = 0x2112A442
	ip := a.addr.Addr().AsSlice() // 4 bytes for IPv4, 16 for IPv6 (mapped ones included)
	family := uint16(0x01)
	if len(ip) == net.IPv6len {
		family = 0x02
	}
	key := make([]byte, 16)
	binary.BigEndian.PutUint32(key[:4], magicCookie)
	copy(key[4:], m.TransactionID[:])
	v := make([]byte, 4+len(ip))
	binary.BigEndian.PutUint16(v[0:2], family)
	binary.BigEndian.PutUint16(v[2:4], a.addr.Port()^uint16(magicCookie>>16))
	for i := range ip {
		v[4+i] = ip[i] ^ key[i]
	}
	m.Add(stun.AttrXORPeerAddress, v)
	return nil
}

// composeQuota is the value of one of the compose file's coturn quota flags.
func composeQuota(t *testing.T, cmd []string, name string) int {
	t.Helper()
	v := flagValues(t, cmd, name)
	if len(v) != 1 {
		t.Fatalf("coturn command has %d %s, want one: a relay without it can be made anyone's bulk relay", len(v), name)
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n <= 0 {
		t.Fatalf("%s=%s: want a positive number", name, v[0])
	}
	return n
}

// Issue 21, item 9: anyone with a credential from a page could hold as many allocations and
// push as many bytes through the shipped coturn as it liked. Its quotas are in force: the
// compose file's coturn, run for real, refuses a credential's allocation past user-quota and
// anyone's past total-quota (486), and relays no more than max-bps of a flood to a peer,
// where the same flags without max-bps relay nearly all of it.
func TestTURNQuotas(t *testing.T) {
	bin := requireTURNServer(t)
	p := loadCompose(t)
	cmd := p.Services["coturn"].Command
	perUser, total, maxBPS := composeQuota(t, cmd, "--user-quota"), composeQuota(t, cmd, "--total-quota"), composeQuota(t, cmd, "--max-bps")
	if min, max := composeRelayPorts(t, cmd); total > max-min+1 {
		t.Fatalf("total-quota %d is more than the %d relay ports", total, max-min+1)
	}
	// each part has a coturn of its own (a released allocation leaves its quota a moment later)
	credential := func(srv *loopbackTURN, name string) (string, string) {
		return ice.TurnCredential([]byte(srv.secret), wire.ClientID(name), time.Now().Add(10*time.Minute))
	}
	allocate := func(t *testing.T, srv *loopbackTURN, user, pass string) error {
		relay, err := dialTURN(t, "udp", srv.addr4, user, pass).c.Allocate()
		if err == nil {
			t.Cleanup(func() { _ = relay.Close() })
		}
		return err
	}

	t.Run("allocations per credential", func(t *testing.T) {
		srv := startLoopbackTURN(t, bin, p, false)
		user, pass := credential(srv, "one-user")
		for i := range perUser {
			if err := allocate(t, srv, user, pass); err != nil {
				t.Fatalf("allocation %d of %d: %v", i+1, perUser, err)
			}
		}
		if err := allocate(t, srv, user, pass); turnErrorCode(err) != stun.CodeAllocQuotaReached {
			t.Fatalf("allocation %d of one credential: %v, want 486 (user-quota)", perUser+1, err)
		}
	})
	t.Run("allocations in all", func(t *testing.T) {
		srv := startLoopbackTURN(t, bin, p, false)
		for i := range total {
			user, pass := credential(srv, fmt.Sprint("user-", i/perUser))
			if err := allocate(t, srv, user, pass); err != nil {
				t.Fatalf("allocation %d of %d: %v", i+1, total, err)
			}
		}
		user, pass := credential(srv, "one-more")
		if err := allocate(t, srv, user, pass); turnErrorCode(err) != stun.CodeAllocQuotaReached {
			t.Fatalf("allocation %d in all: %v, want 486 (total-quota)", total+1, err)
		}
	})
	flood := func(t *testing.T, srv *loopbackTURN) (received int, took time.Duration) {
		peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer peer.Close()
		counted := make(chan int, 1)
		go func() {
			buf, n := make([]byte, 2048), 0
			for { // until nothing more arrives for half a second
				if err := peer.SetReadDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
					break
				}
				m, _, err := peer.ReadFrom(buf)
				if err != nil {
					break
				}
				n += m
			}
			counted <- n
		}()
		user, pass := credential(srv, "flooder")
		relay, err := dialTURN(t, "udp", srv.addr4, user, pass).c.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		defer relay.Close()
		packet := make([]byte, 1000)
		start := time.Now()
		for i := range 8000 { // 8 MB, paced only so the loopback's socket buffers keep up
			if _, err := relay.WriteTo(packet, peer.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			if i%50 == 49 {
				time.Sleep(time.Millisecond)
			}
		}
		took = time.Since(start)
		return <-counted, took
	}
	t.Run("bytes per second", func(t *testing.T) {
		// a peer on loopback that counts what reaches it: allowed here, on top of the compose
		// file's flags, for this part only
		loopbackPeer := []string{"--allow-loopback-peers", "--allowed-peer-ip=127.0.0.1"}
		received, took := flood(t, startLoopbackTURN(t, bin, p, false, loopbackPeer...))
		// what max-bps lets through in the time the flood took, with a second of burst and half again
		bound := int(float64(maxBPS) * (took.Seconds() + 1) * 1.5)
		t.Logf("8 MB sent in %v through a relay limited to %d B/s: %d KB reached the peer (bound %d KB)", took.Round(time.Millisecond), maxBPS, received/1000, bound/1000)
		if received > bound {
			t.Fatalf("%d bytes reached the peer: max-bps is not in force", received)
		}
		// the control: the compose file's flags but max-bps relay the same flood nearly whole
		unlimited := *p
		unlimited.Services = maps.Clone(p.Services)
		coturn := unlimited.Services["coturn"]
		coturn.Command = slices.DeleteFunc(slices.Clone(cmd), func(a string) bool { return strings.HasPrefix(a, "--max-bps=") })
		unlimited.Services["coturn"] = coturn
		control := startLoopbackTURN(t, bin, &unlimited, false, loopbackPeer...)
		if got, took := flood(t, control); got <= 2*bound {
			t.Fatalf("without max-bps only %d KB of 8 MB reached the peer in %v: the flood does not test the limit", got/1000, took)
		}
	})
}
