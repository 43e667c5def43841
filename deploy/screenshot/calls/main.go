// Command calls plays pairs of video-chat users for the dashboard screenshot
// (deploy/screenshot/run.sh): what the load generator does not do. Each pair finds each
// other through an interest of its own (one user per instance, so every pair crosses them),
// reports its call with rtc_stats as the web app does (a made-up but plausible mix of
// outcomes, candidate types and setup times: there are no browsers and no media here), now
// and then loses a socket and resumes, and leaves. It stops after -duration.
//
//	go run ./deploy/screenshot/calls -urls ws://127.0.0.1:18401/ws,ws://127.0.0.1:18402/ws
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/go-megle/go-megle/internal/wire"
)

func main() {
	urls := flag.String("urls", "ws://127.0.0.1:8080/ws", "comma-separated instance WebSocket URLs")
	pairs := flag.Int("pairs", 20, "pairs of users at once")
	duration := flag.Duration("duration", time.Minute, "how long to play")
	failShare := flag.Float64("fail", 0.08, "share of calls that fail")
	resumeShare := flag.Float64("resume", 0.15, "share of matches in which one side loses its socket and resumes")
	flag.Parse()
	list := strings.Split(*urls, ",")
	deadline := time.Now().Add(*duration)
	var calls, resumes, failures atomic.Int64
	var wg sync.WaitGroup
	for i := range *pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := pair{tag: fmt.Sprintf("calls-%d-%d", os.Getpid(), i), urlA: list[i%len(list)], urlB: list[(i+1)%len(list)],
				fail: *failShare, resume: *resumeShare}
			for time.Now().Before(deadline) {
				resumed, err := p.play(deadline)
				if err != nil {
					failures.Add(1)
					log.Printf("pair %d: %v", i, err)
					p.close()
					time.Sleep(time.Second)
					continue
				}
				calls.Add(2)
				if resumed {
					resumes.Add(1)
				}
			}
			p.close()
		}()
	}
	wg.Wait()
	log.Printf("calls: %d rtc_stats sent, %d resumes, %d pair errors", calls.Load(), resumes.Load(), failures.Load())
}

// user is one socket of a simulated user.
type user struct {
	url    string
	conn   *websocket.Conn
	token  string
	events chan wire.Inbound
}

func dial(rawURL, token string) (*user, error) {
	target := rawURL
	if token != "" {
		target += "?resume=" + url.QueryEscape(token)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial(target, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", rawURL, err)
	}
	u := &user{url: rawURL, conn: conn, events: make(chan wire.Inbound, 64)}
	go func() {
		defer close(u.events)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var ev wire.Inbound
			if json.Unmarshal(data, &ev) == nil {
				u.events <- ev
			}
		}
	}()
	var hello wire.HelloData
	if err := u.expect(wire.EvHello, &hello); err != nil {
		conn.Close()
		return nil, err
	}
	u.token = hello.ResumeToken
	return u, nil
}

func (u *user) send(event string, data any) error {
	b, err := json.Marshal(wire.Outbound[any]{Event: event, Data: data})
	if err != nil {
		return err
	}
	return u.conn.WriteMessage(websocket.TextMessage, b)
}

// expect waits for event, passing over what a user may get meanwhile.
func (u *user) expect(event string, out any) error {
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-u.events:
			if !ok {
				return fmt.Errorf("connection closed waiting for %s", event)
			}
			switch ev.Event {
			case event:
				if out != nil {
					return json.Unmarshal(ev.Data, out)
				}
				return nil
			case wire.EvToken:
				var t wire.TokenData
				if json.Unmarshal(ev.Data, &t) == nil {
					u.token = t.ResumeToken
				}
			case wire.EvOnline, wire.EvWaiting, wire.EvSignal:
			default:
				return fmt.Errorf("got %s %s waiting for %s", ev.Event, ev.Data, event)
			}
		case <-timeout:
			return fmt.Errorf("no %s in 10 s", event)
		}
	}
}

type pair struct {
	tag          string
	urlA, urlB   string
	fail, resume float64
	a, b         *user
}

func (p *pair) close() {
	for _, u := range []*user{p.a, p.b} {
		if u != nil {
			u.conn.Close()
		}
	}
	p.a, p.b = nil, nil
}

// play runs one match: find each other, report the call, perhaps resume, leave.
func (p *pair) play(deadline time.Time) (resumed bool, err error) {
	if p.a == nil {
		if p.a, err = dial(p.urlA, ""); err != nil {
			return false, err
		}
		if p.b, err = dial(p.urlB, ""); err != nil {
			return false, err
		}
	}
	find := wire.FindMatchRequest{Interests: []string{p.tag}, Mode: wire.ModeVideo}
	if err := p.a.send(wire.EvFindMatch, find); err != nil {
		return false, err
	}
	if err := p.a.expect(wire.EvWaiting, nil); err != nil {
		return false, err
	}
	if err := p.b.send(wire.EvFindMatch, find); err != nil {
		return false, err
	}
	for _, u := range []*user{p.a, p.b} {
		if err := u.expect(wire.EvMatchFound, nil); err != nil {
			return false, err
		}
	}
	failed := rand.Float64() < p.fail
	for _, u := range []*user{p.a, p.b} {
		if err := u.send(wire.EvRTCStats, callStats(failed)); err != nil {
			return false, err
		}
	}
	if rand.Float64() < p.resume {
		// the network drops under b (no close frame), and it comes back within the grace period
		_ = p.b.conn.NetConn().Close()
		time.Sleep(time.Duration(200+rand.IntN(800)) * time.Millisecond)
		nb, err := dial(p.urlB, p.b.token)
		if err != nil {
			return false, err
		}
		p.b = nb
		resumed = true
	}
	time.Sleep(min(time.Until(deadline), time.Duration(500+rand.IntN(2500))*time.Millisecond)) // the conversation
	if err := p.a.send(wire.EvLeave, wire.LeaveRequest{}); err != nil {
		return resumed, err
	}
	var left wire.PartnerLeftData
	if err := p.b.expect(wire.EvPartnerLeft, &left); err != nil {
		return resumed, err
	}
	if left.Reason != wire.ReasonLeft {
		return resumed, errors.New("partner_left reason " + left.Reason)
	}
	return resumed, nil
}

// callStats is one page's rtc_stats: most calls connect directly or through STUN, some need
// the TURN relay, some fail; setup takes longer the more the pair had to try.
func callStats(failed bool) wire.RTCStatsRequest {
	if failed {
		return wire.RTCStatsRequest{Outcome: "failed", SetupMS: 15_000}
	}
	r := rand.Float64()
	switch {
	case r < 0.55:
		return wire.RTCStatsRequest{Outcome: "connected", Candidate: "host", SetupMS: int64(250 + rand.IntN(900))}
	case r < 0.82:
		return wire.RTCStatsRequest{Outcome: "connected", Candidate: "srflx", SetupMS: int64(600 + rand.IntN(2000))}
	case r < 0.97:
		return wire.RTCStatsRequest{Outcome: "connected", Candidate: "relay", SetupMS: int64(1500 + rand.IntN(4500))}
	default:
		return wire.RTCStatsRequest{Outcome: "connected", Candidate: "prflx", SetupMS: int64(800 + rand.IntN(2500))}
	}
}
