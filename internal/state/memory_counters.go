package state

import (
	"context"
	"fmt"
	"sync"
	"time"
)

type counterShard struct {
	mu    sync.Mutex
	m     map[string]*counterSet
	sweep sweeper
	_     [40]byte // keep shards on separate cache lines
}

// counterSet holds one subject's windows.
type counterSet struct {
	slots   []counterSlot
	expires int64 // when every slot's span has ended
}

// counterSlot counts one window of a subject during the span starting at
// start; a slot whose span has passed counts zero for the current span.
type counterSlot struct {
	name  string
	size  int64 // ms
	start int64
	used  int64
}

// find returns the index of the window's slot, or -1.
func (c *counterSet) find(name string, size int64) int {
	for i := range c.slots {
		if c.slots[i].name == name && c.slots[i].size == size {
			return i
		}
	}
	return -1
}

// current returns the index of the window's slot moved to span sp, created
// if needed. Slots of ended spans are dropped first, so a subject whose
// windows change keeps only the live ones.
func (c *counterSet) current(name string, size int64, sp span, now int64) int {
	i := c.find(name, size)
	if i < 0 {
		c.slots = dropEnded(c.slots, now)
		c.slots = append(c.slots, counterSlot{name: name, size: size, start: sp.start})
		i = len(c.slots) - 1
	} else if c.slots[i].start != sp.start {
		c.slots[i].start, c.slots[i].used = sp.start, 0
	}
	c.expires = max(c.expires, sp.end)
	return i
}

func dropEnded(slots []counterSlot, now int64) []counterSlot {
	kept := slots[:0]
	for _, s := range slots {
		if s.start+s.size > now {
			kept = append(kept, s)
		}
	}
	return kept
}

// Reserve implements Counters.
func (m *Memory) Reserve(_ context.Context, subject string, windows []Window, cost int64) (Decision, error) {
	if err := checkReserve(subject, windows, cost); err != nil {
		return Decision{}, fmt.Errorf("memory reserve: %w", err)
	}
	if m.closed.Load() {
		return Decision{}, fmt.Errorf("memory reserve: %w", errClosed)
	}
	now := m.nowMS()
	sh := &m.counters[m.shard(subject)]
	var (
		slot    [MaxWindows]int
		used    [MaxWindows]int64
		allowed = true
	)
	sh.mu.Lock()
	if sh.sweep.due(now) {
		sh.dropExpired(now)
	}
	set := sh.m[subject]
	if set == nil {
		set = &counterSet{slots: make([]counterSlot, 0, len(windows))}
		sh.m[subject] = set
	}
	for i, w := range windows {
		slot[i] = set.current(w.Name, w.Size.Milliseconds(), currentSpan(now, w.Size), now)
		used[i] = set.slots[slot[i]].used
		if used[i]+cost > w.Limit {
			allowed = false
		}
	}
	if allowed && cost > 0 {
		for i := range windows {
			s := &set.slots[slot[i]]
			s.used += cost
			used[i] = s.used
		}
	}
	sh.mu.Unlock()
	var d Decision
	d.fill(windows, now, cost, allowed, &used)
	return d, nil
}

// Adjust implements Counters.
func (m *Memory) Adjust(_ context.Context, subject string, windows []Window, delta int64, at time.Time) error {
	if err := checkAdjust(subject, windows, delta); err != nil {
		return fmt.Errorf("memory adjust: %w", err)
	}
	if m.closed.Load() {
		return fmt.Errorf("memory adjust: %w", errClosed)
	}
	if delta == 0 {
		return nil
	}
	now := m.nowMS()
	atMS := min(at.UnixMilli(), now) // a reservation cannot be in the future
	sh := &m.counters[m.shard(subject)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	set := sh.m[subject]
	if set == nil && delta < 0 {
		return nil
	}
	if set == nil {
		set = &counterSet{}
		sh.m[subject] = set
	}
	for _, w := range windows {
		sp := currentSpan(atMS, w.Size)
		if sp.end <= now {
			continue // that window has ended
		}
		size := w.Size.Milliseconds()
		i := set.find(w.Name, size)
		if delta < 0 && (i < 0 || set.slots[i].start != sp.start) {
			continue // nothing counted in that span: nothing to refund
		}
		i = set.current(w.Name, size, sp, now)
		set.slots[i].used = max(0, set.slots[i].used+delta)
	}
	return nil
}

func (sh *counterShard) dropExpired(now int64) {
	for k, set := range sh.m {
		if set.expires <= now {
			delete(sh.m, k)
		}
	}
}
