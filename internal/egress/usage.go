package egress

import (
	"sync"
	"time"
)

// Usage is what one answered request cost, published after the answer
// ended. Token counts come from the provider when it reports them; when it
// does not, egress counts them itself and sets Estimated.
type Usage struct {
	RequestID        string
	Consumer         string
	Route            string
	Service          string
	Provider         string
	Target           string
	Model            string
	PromptTokens     int
	CompletionTokens int
	Estimated        bool
	Stream           bool
	// Status is the status the client got; Completed is false when the
	// answer broke off (client gone, upstream dropped).
	Status    int
	Completed bool
	At        time.Time
}

// Bus delivers usage events to subscribers (the token rate limiter
// reconciles its reservations from them). Subscribers run synchronously on
// the egress goroutine after the response is finished, so they must be
// quick; a slow consumer should hand events to its own goroutine.
type Bus struct {
	mu   sync.RWMutex
	next int
	subs map[int]func(Usage)
}

// Subscribe registers fn and returns a function that removes it.
func (b *Bus) Subscribe(fn func(Usage)) (cancel func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[int]func(Usage){}
	}
	id := b.next
	b.next++
	b.subs[id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}

// Publish sends u to every subscriber.
func (b *Bus) Publish(u Usage) {
	if b == nil {
		return
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, fn := range b.subs {
		fn(u)
	}
}
