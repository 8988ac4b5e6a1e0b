package state

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Counters are windowed token counters for rate limiting. A counter is
// identified by its subject (who is limited: a consumer, a key, an IP) and
// by the window's name and size, so changing a window's limit keeps what
// was already counted.
//
// Windows are fixed and aligned to the Unix epoch: a one-minute window
// runs from hh:mm:00 to hh:mm+1:00 on every node. See the package
// documentation for why.
type Counters interface {
	// Reserve adds cost to every window atomically, if cost fits in all of
	// them; otherwise it adds nothing and denies. A zero cost reads the
	// windows without changing them.
	Reserve(ctx context.Context, subject string, windows []Window, cost int64) (Decision, error)
	// Adjust adds delta (a refund when negative) to the windows that were
	// current at at, the time of the reservation, never going below zero.
	// Windows that have ended since are left alone: their count is gone.
	Adjust(ctx context.Context, subject string, windows []Window, delta int64, at time.Time) error
}

// MaxWindows is the most windows one Reserve or Adjust may name: Kong's
// rate-limiting has six (second to year), so eight leaves room.
const MaxWindows = 8

// maxCount is the largest count or limit: the Redis scripts do arithmetic in
// Lua numbers, which are exact integers up to 2^53.
const maxCount = 1 << 53

// Window is one rate-limit window.
type Window struct {
	Name  string        // identifies the window, e.g. "minute"; unique per call
	Size  time.Duration // a whole number of milliseconds
	Limit int64         // tokens allowed per window, 0 to 2^53
}

// Decision is the outcome of Reserve.
type Decision struct {
	// Allowed reports whether cost was added to every window.
	Allowed bool
	// RetryAfter, when denied, is how long until every window that refused
	// has reset and so has room again. A cost above a window's Limit never
	// fits; callers should refuse such requests before reserving.
	RetryAfter time.Duration
	// Blocking is the index of the window that set RetryAfter, -1 when
	// allowed.
	Blocking int

	n       int
	windows [MaxWindows]WindowState // a fixed array: Reserve does not allocate
}

// Windows returns the state of each window, in the order they were given.
func (d *Decision) Windows() []WindowState { return d.windows[:d.n] }

// WindowState is the state of one window after Reserve.
type WindowState struct {
	Name      string
	Limit     int64
	Used      int64     // may exceed Limit after a positive Adjust
	Remaining int64     // Limit - Used, never negative
	Reset     time.Time // end of the current window
}

// span is a window's current fixed interval, in Unix milliseconds.
type span struct{ start, end int64 }

func currentSpan(nowMS int64, size time.Duration) span {
	ms := size.Milliseconds()
	start := nowMS - nowMS%ms
	if nowMS%ms < 0 { // before 1970: round down, not toward zero
		start -= ms
	}
	return span{start, start + ms}
}

func checkSubject(subject string) error {
	if subject == "" {
		return errors.New("subject must not be empty")
	}
	return nil
}

func checkWindows(windows []Window) error {
	if len(windows) == 0 {
		return errors.New("no windows")
	}
	if len(windows) > MaxWindows {
		return fmt.Errorf("%d windows, at most %d", len(windows), MaxWindows)
	}
	for i, w := range windows {
		switch {
		case w.Name == "":
			return fmt.Errorf("windows[%d]: name must not be empty", i)
		case w.Size < time.Millisecond || w.Size%time.Millisecond != 0:
			return fmt.Errorf("windows[%d]: size %s is not a positive whole number of milliseconds", i, w.Size)
		case w.Limit < 0 || w.Limit > maxCount:
			return fmt.Errorf("windows[%d]: limit %d is outside 0..2^53", i, w.Limit)
		}
		for j := range i {
			if windows[j].Name == w.Name {
				return fmt.Errorf("windows[%d]: name %q repeats windows[%d]", i, w.Name, j)
			}
		}
	}
	return nil
}

func checkAmount(what string, v int64) error {
	if v < -maxCount || v > maxCount {
		return fmt.Errorf("%s %d is outside -2^53..2^53", what, v)
	}
	return nil
}

func checkReserve(subject string, windows []Window, cost int64) error {
	if err := checkSubject(subject); err != nil {
		return err
	}
	if cost < 0 {
		return fmt.Errorf("cost %d is negative; refunds go through Adjust", cost)
	}
	if err := checkAmount("cost", cost); err != nil {
		return err
	}
	return checkWindows(windows)
}

func checkAdjust(subject string, windows []Window, delta int64) error {
	if err := checkSubject(subject); err != nil {
		return err
	}
	if err := checkAmount("delta", delta); err != nil {
		return err
	}
	return checkWindows(windows)
}

// fill sets the Decision of both backends from the windows' counts: after
// the reservation when allowed, unchanged when denied. It fills the
// caller's Decision in place, which saves copying it in the hot path.
func (d *Decision) fill(windows []Window, nowMS int64, cost int64, allowed bool, used *[MaxWindows]int64) {
	d.Allowed, d.Blocking, d.n = allowed, -1, len(windows)
	var retryAt int64
	for i, w := range windows {
		sp := currentSpan(nowMS, w.Size)
		d.windows[i] = WindowState{
			Name:      w.Name,
			Limit:     w.Limit,
			Used:      used[i],
			Remaining: max(0, w.Limit-used[i]),
			Reset:     time.UnixMilli(sp.end),
		}
		if !allowed && used[i]+cost > w.Limit && sp.end > retryAt {
			retryAt, d.Blocking = sp.end, i
		}
	}
	if !allowed {
		d.RetryAfter = time.Duration(retryAt-nowMS) * time.Millisecond
	}
}
