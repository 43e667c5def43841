package metrics

import (
	"sync/atomic"

	"github.com/go-megle/go-megle/internal/wire"
)

// ModeCounts count something by mode (users searching, on the instance or cluster-wide), for
// the online count and the waiting gauge alike.
type ModeCounts struct{ video, text atomic.Int64 }

func (c *ModeCounts) Of(m wire.Mode) *atomic.Int64 {
	if m == wire.ModeText {
		return &c.text
	}
	return &c.video
}

func (c *ModeCounts) Load() wire.Searching {
	return wire.Searching{Video: c.video.Load(), Text: c.text.Load()}
}

func (c *ModeCounts) Store(s wire.Searching) {
	c.video.Store(s.Video)
	c.text.Store(s.Text)
}

// Swap stores s and says whether it differs from what was there.
func (c *ModeCounts) Swap(s wire.Searching) (changed bool) {
	video, text := c.video.Swap(s.Video), c.text.Swap(s.Text)
	return video != s.Video || text != s.Text
}
