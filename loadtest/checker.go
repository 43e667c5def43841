package main

import (
	"fmt"
	"time"
)

// maxSamples bounds the example problems a report keeps, so a broken server cannot make the
// report itself huge.
const maxSamples = 10

// samples keeps the first few descriptions of problems of one kind.
type samples struct {
	list []string
}

func (s *samples) add(format string, args ...any) {
	if len(s.list) < maxSamples {
		s.list = append(s.list, fmt.Sprintf(format, args...))
	}
}

// matchObs is one match_found a client received.
type matchObs struct {
	PartnerID string
	MatchID   string
	Initiator bool
	Mode      string
	Common    []string
}

// clientObs is everything the pair checker needs to know about one client after a burst.
type clientObs struct {
	ID       string
	Instance int
	WantMode string // the mode it asked for; empty: not checked
	Matches  []matchObs
}

// pairReport is the pair checker's verdict on a burst.
type pairReport struct {
	Matched      int      // clients with at least one match_found
	Lost         int      // clients with none
	DoubleBooked int      // clients whose match is inconsistent (see checkPairs)
	Pairs        int      // consistent pairs
	CrossPairs   int      // consistent pairs whose two sides sit on different instances
	Problems     []string // examples
}

// checkPairs verifies the matches of a burst. A client is double-booked when it received more
// than one match_found, was matched with itself or with someone outside the load, or when its
// partner's single match_found does not point back at it with the same match id and the
// opposite initiator flag, or when the match is of another mode than the client asked for.
func checkPairs(obs []clientObs) pairReport {
	var r pairReport
	var probs samples
	byID := make(map[string]int, len(obs))
	for i, o := range obs {
		byID[o.ID] = i
	}
	for i, o := range obs {
		switch len(o.Matches) {
		case 0:
			r.Lost++
			probs.add("lost: %s got no match_found", o.ID)
			continue
		case 1:
		default:
			r.Matched++
			r.DoubleBooked++
			probs.add("double-booked: %s got %d match_found", o.ID, len(o.Matches))
			continue
		}
		r.Matched++
		m := o.Matches[0]
		j, known := byID[m.PartnerID]
		switch {
		case o.WantMode != "" && m.Mode != o.WantMode:
			r.DoubleBooked++
			probs.add("mode: %s asked for %q, matched in %q with %s", o.ID, o.WantMode, m.Mode, m.PartnerID)
		case m.PartnerID == o.ID:
			r.DoubleBooked++
			probs.add("self-match: %s", o.ID)
		case !known:
			r.DoubleBooked++
			probs.add("foreign partner: %s matched with %q, not a client of this load", o.ID, m.PartnerID)
		case len(obs[j].Matches) != 1:
			r.DoubleBooked++
			probs.add("asymmetric: %s's partner %s got %d match_found", o.ID, m.PartnerID, len(obs[j].Matches))
		default:
			pm := obs[j].Matches[0]
			switch {
			case pm.PartnerID != o.ID:
				r.DoubleBooked++
				probs.add("asymmetric: %s -> %s but %s -> %s", o.ID, m.PartnerID, m.PartnerID, pm.PartnerID)
			case pm.MatchID != m.MatchID:
				r.DoubleBooked++
				probs.add("match id: %s has %q, partner %s has %q", o.ID, m.MatchID, m.PartnerID, pm.MatchID)
			case pm.Initiator == m.Initiator:
				r.DoubleBooked++
				probs.add("initiator: %s and %s both have initiator=%v", o.ID, m.PartnerID, m.Initiator)
			case i < j:
				r.Pairs++
				if o.Instance != obs[j].Instance {
					r.CrossPairs++
				}
			}
		}
	}
	r.Problems = probs.list
	return r
}

// verdict is the relay checker's classification of one received signal.
type verdict int

const (
	verdictOK verdict = iota
	verdictMisrouted
	verdictDuplicate
)

func (v verdict) String() string {
	switch v {
	case verdictOK:
		return "ok"
	case verdictMisrouted:
		return "misrouted"
	case verdictDuplicate:
		return "duplicate"
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// signalChecker is one client's view of its pair during a relay load. It is not safe for
// concurrent use; relayPeer guards it.
type signalChecker struct {
	selfID    string
	partnerID string
	matchID   string

	nextSeq     uint64               // initiator: the next offer's seq; every seq below it was sent
	outstanding map[uint64]time.Time // initiator: offers sent and not answered yet, by seq
	seenOffers  map[uint64]struct{}  // responder: offer seqs received from the partner
}

func newSignalChecker(selfID, partnerID, matchID string) *signalChecker {
	return &signalChecker{
		selfID: selfID, partnerID: partnerID, matchID: matchID,
		nextSeq:     1,
		outstanding: make(map[uint64]time.Time),
		seenOffers:  make(map[uint64]struct{}),
	}
}

// sentOffer registers an offer about to be sent and returns its seq.
func (c *signalChecker) sentOffer(at time.Time) uint64 {
	seq := c.nextSeq
	c.nextSeq++
	c.outstanding[seq] = at
	return seq
}

// gotOffer checks an offer: it must come from the current partner, name that partner and
// this pair's match, and carry a seq not seen before.
func (c *signalChecker) gotOffer(senderID string, p relayPayload) (verdict, string) {
	switch {
	case senderID != c.partnerID:
		return verdictMisrouted, fmt.Sprintf("offer to %s from %s, partner is %s", c.selfID, senderID, c.partnerID)
	case p.From != senderID:
		return verdictMisrouted, fmt.Sprintf("offer to %s with sender_id %s but payload from %s", c.selfID, senderID, p.From)
	case p.Match != c.matchID:
		return verdictMisrouted, fmt.Sprintf("offer to %s of match %s, pair is %s", c.selfID, p.Match, c.matchID)
	}
	if _, dup := c.seenOffers[p.Seq]; dup {
		return verdictDuplicate, fmt.Sprintf("offer seq %d from %s to %s twice", p.Seq, senderID, c.selfID)
	}
	c.seenOffers[p.Seq] = struct{}{}
	return verdictOK, ""
}

// gotAnswer checks an answer: it must come from the current partner, belong to this pair's
// match and answer an offer that was sent and not answered yet. On success it returns the
// round-trip time.
func (c *signalChecker) gotAnswer(senderID string, p relayPayload, at time.Time) (verdict, time.Duration, string) {
	switch {
	case senderID != c.partnerID:
		return verdictMisrouted, 0, fmt.Sprintf("answer to %s from %s, partner is %s", c.selfID, senderID, c.partnerID)
	case p.Match != c.matchID:
		return verdictMisrouted, 0, fmt.Sprintf("answer to %s of match %s, pair is %s", c.selfID, p.Match, c.matchID)
	}
	sent, ok := c.outstanding[p.Seq]
	if !ok {
		if p.Seq > 0 && p.Seq < c.nextSeq {
			return verdictDuplicate, 0, fmt.Sprintf("answer seq %d from %s to %s twice", p.Seq, senderID, c.selfID)
		}
		return verdictMisrouted, 0, fmt.Sprintf("answer seq %d to %s which never sent it", p.Seq, c.selfID)
	}
	delete(c.outstanding, p.Seq)
	return verdictOK, at.Sub(sent), ""
}
