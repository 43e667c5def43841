package safety

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Paging through the console's listings (reports, bans): a cursor of time and id, and one page
// of a sorted set read after it.

// Cursor is a place in a listing ordered by time: the time (unix ms) and the id of the last
// entry seen. The id breaks ties, so that entries of one millisecond at a page's end are
// neither skipped nor listed twice. Its text is "<ms>.<id>"; a bare "<ms>" is before every id
// of that millisecond (the console's older form).
type Cursor struct {
	At int64
	ID string
}

func (c Cursor) String() string {
	if c.At == 0 {
		return ""
	}
	return strconv.FormatInt(c.At, 10) + "." + c.ID
}

// ParseCursor reads a cursor's text; the empty text is the start.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	at, id, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(at, 10, 64)
	if err != nil || n <= 0 {
		return Cursor{}, errors.New("a cursor is a page's next value, \"<ms>.<id>\"")
	}
	return Cursor{At: n, ID: id}, nil
}

// page reads up to n members of the sorted set key (scored by unix ms) that come after c:
// newest first when newest, else oldest first; more is true when there are further ones.
func (sf *Safety) page(ctx context.Context, key string, c Cursor, newest bool, n int) (out []redis.Z, more bool, err error) {
	by := &redis.ZRangeBy{Min: "-inf", Max: "+inf", Count: int64(n + 1)}
	past := func(z redis.Z) bool { return true }
	if c.At != 0 {
		at := strconv.FormatInt(c.At, 10)
		id := c.ID
		if newest {
			by.Max = at
			past = func(z redis.Z) bool { return int64(z.Score) < c.At || id != "" && z.Member.(string) < id }
		} else {
			by.Min = at
			past = func(z redis.Z) bool { return int64(z.Score) > c.At || z.Member.(string) > id }
		}
	}
	for {
		var batch []redis.Z
		if newest {
			batch, err = sf.rdb.ZRevRangeByScoreWithScores(ctx, key, by).Result()
		} else {
			batch, err = sf.rdb.ZRangeByScoreWithScores(ctx, key, by).Result()
		}
		if err != nil {
			return nil, false, err
		}
		for _, z := range batch {
			if past(z) {
				out = append(out, z)
			}
		}
		if len(out) > n {
			return out[:n], true, nil
		}
		if len(batch) < n+1 {
			return out, false, nil
		}
		by.Offset += int64(len(batch)) // the cursor's own millisecond held more than a page
	}
}

func cursorAt(z redis.Z) Cursor { return Cursor{At: int64(z.Score), ID: z.Member.(string)} }
