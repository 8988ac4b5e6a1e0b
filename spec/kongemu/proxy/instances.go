package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tollgate-ai/tollgate/pluginserver/konghost"
	"github.com/tollgate-ai/tollgate/spec/kongemu/pluginservers"
)

// entity is one external plugin entity after schema validation: the config
// JSON Kong sends to cmd_start_instance, without __seq__.
type entity struct {
	id     string
	name   string
	plugin *pluginservers.Plugin
	config map[string]any // normalised config plus Kong's scoping keys
}

// worker is one Kong worker: its own connection pool and sequence counter
// per plugin server, and its own instance cache by plugin entity (spec §3).
type worker struct {
	n       int
	gw      *Gateway
	clients map[string]*konghost.Client

	mu        sync.Mutex
	instances map[string]*instance // by entity id
	gen       int64                // the config generation seqs belong to
	seqs      map[string]int64     // __seq__ per entity in this worker's iterator
}

// seqFor is the __seq__ of e in this worker's current plugins iterator: a
// fresh number from the shared counter for each entity on each rebuild.
func (w *worker) seqFor(gen *generation, e *entity, counter *seqCounter) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seqs == nil || w.gen != gen.n {
		w.gen, w.seqs = gen.n, map[string]int64{}
	}
	s, ok := w.seqs[e.id]
	if !ok {
		s = counter.next()
		w.seqs[e.id] = s
	}
	return s
}

type instance struct {
	mu     sync.Mutex // held while starting: others wait, as Kong's 0.1 s polls do
	plugin string
	id     int32
	seq    int64 // the __seq__ this instance was started with
	ok     bool
}

func newWorker(gw *Gateway, n int) *worker {
	w := &worker{n: n, gw: gw, clients: map[string]*konghost.Client{}, instances: map[string]*instance{}}
	for name, p := range gw.servers.Plugins {
		c := konghost.NewClient(p.Server.Socket)
		c.Plugin = name
		w.clients[name] = c
	}
	return w
}

func (w *worker) close() {
	for _, c := range w.clients {
		c.Close()
	}
}

// instanceFor returns a started instance of e for this worker, starting it
// lazily with a __seq__ of the current iterator build.
func (w *worker) instanceFor(ctx context.Context, e *entity, seq int64) (int32, error) {
	w.mu.Lock()
	inst := w.instances[e.id]
	if inst == nil {
		inst = &instance{plugin: e.name}
		w.instances[e.id] = inst
	}
	w.mu.Unlock()

	inst.mu.Lock()
	defer inst.mu.Unlock()
	if inst.ok && inst.seq == seq {
		return inst.id, nil
	}
	cfg := make(map[string]any, len(e.config)+1)
	for k, v := range e.config {
		cfg[k] = v
	}
	cfg["__seq__"] = seq
	raw, err := json.Marshal(cfg)
	if err != nil {
		return 0, fmt.Errorf("encode config of %s: %w", e.name, err)
	}
	c := w.clients[e.name]
	st, err := c.StartInstance(ctx, e.name, raw)
	if err != nil {
		return 0, err // a Lua error in Kong: no retry
	}
	old, hadOld := inst.id, inst.ok
	inst.id, inst.seq, inst.ok = st.ID, seq, true
	if hadOld && old != st.ID {
		// Kong closes the replaced instance and ignores the result.
		_ = c.CloseInstance(ctx, old)
	}
	return st.ID, nil
}

// reset drops every cached instance of a plugin in this worker, which is
// what Kong does in all workers when an event fails with "closed".
func (w *worker) reset(plugin string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, inst := range w.instances {
		if inst.plugin == plugin {
			delete(w.instances, id)
		}
	}
}

// seqCounter is Kong's shared-memory counter behind __seq__.
type seqCounter struct{ n atomic.Int64 }

func (s *seqCounter) next() int64 { return s.n.Add(1) }
