package pluginserver

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Kong/go-pdk"
	pb "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"

	"github.com/tollgate-ai/tollgate/internal/apierror"
)

// maxFrame bounds one protocol frame; Kong's messages are small (configs, event names).
const maxFrame = 16 << 20

// Server hosts plugin definitions on Unix sockets.
type Server struct {
	// Logger receives the server's own log lines; nil means slog.Default().
	Logger *slog.Logger
	// DrainTimeout bounds how long shutdown waits for in-flight events.
	DrainTimeout time.Duration

	Stats Stats

	mu   sync.Mutex
	defs []Definition
}

// Definitions are the plugins the server was asked to serve.
func (s *Server) Definitions() []Definition {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Definition(nil), s.defs...)
}

// Stats counts what the server did; safe for concurrent reads.
type Stats struct {
	Events    atomic.Int64 // handle_event calls served
	Errors    atomic.Int64 // handlers that returned an error
	Panics    atomic.Int64 // handlers that panicked
	Instances atomic.Int64 // instances currently live
}

// SocketPath is where a plugin listens under a Kong prefix, as go-pdk derives it.
func SocketPath(prefix, name string) string { return filepath.Join(prefix, name+".socket") }

// Serve listens on one socket per definition in prefix and serves Kong until
// ctx is cancelled. Then it stops accepting, lets in-flight events finish
// (up to DrainTimeout), closes the instances and removes the sockets.
func (s *Server) Serve(ctx context.Context, prefix string, defs ...Definition) error {
	if len(defs) == 0 {
		return errors.New("no plugins to serve")
	}
	log := s.logger()
	s.mu.Lock()
	s.defs = append([]Definition(nil), defs...)
	s.mu.Unlock()
	var hosts []*host
	for _, d := range defs {
		h, err := s.listen(prefix, d)
		if err != nil {
			for _, h := range hosts {
				h.stop()
			}
			return err
		}
		hosts = append(hosts, h)
		log.Info("plugin server listening", "plugin", d.Meta().Name, "socket", h.path)
	}
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func() { defer wg.Done(); h.acceptLoop() }()
	}
	<-ctx.Done()
	log.Info("plugin server shutting down")
	for _, h := range hosts {
		h.stop()
	}
	drained := make(chan struct{})
	go func() {
		for _, h := range hosts {
			h.conns.Wait()
		}
		close(drained)
	}()
	timeout := s.DrainTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	select {
	case <-drained:
	case <-time.After(timeout):
		log.Warn("in-flight events did not finish in time", "timeout", timeout)
		for _, h := range hosts {
			h.closeAll()
		}
	}
	wg.Wait()
	for _, h := range hosts {
		h.closeInstances()
	}
	return nil
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) listen(prefix string, d Definition) (*host, error) {
	name := d.Meta().Name
	path := SocketPath(prefix, name)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	return &host{
		srv:       s,
		def:       d,
		path:      path,
		ln:        ln,
		log:       s.logger().With("plugin", name),
		instances: map[int32]*hosted{},
		open:      map[*conn]struct{}{},
	}, nil
}

// host serves one plugin's socket.
type host struct {
	srv  *Server
	def  Definition
	path string
	ln   net.Listener
	log  *slog.Logger

	mu        sync.Mutex
	instances map[int32]*hosted
	open      map[*conn]struct{}
	stopping  bool
	conns     sync.WaitGroup
}

// hosted is one instance id. Kong starts the same plugin entity once per
// worker with the same __seq__, so an id is reference counted and closed when
// the last worker lets go of it.
type hosted struct {
	inst      *Instance
	config    []byte
	refs      int
	startedAt int64
}

// conn is one Kong connection. Reads are buffered and writes are held
// until the next read (or flush): go-pdk writes a PDK call's method and
// argument frames as four small writes and then reads the result, so this
// turns every PDK round trip into one write and one read system call on
// this side.
type conn struct {
	net.Conn
	br   *bufio.Reader
	wbuf []byte

	mu   sync.Mutex
	busy bool
}

func newConn(c net.Conn) *conn { return &conn{Conn: c, br: bufio.NewReaderSize(c, 16<<10)} }

func (c *conn) Read(p []byte) (int, error) {
	if err := c.flush(); err != nil {
		return 0, err
	}
	return c.br.Read(p)
}

func (c *conn) Write(p []byte) (int, error) {
	c.wbuf = append(c.wbuf, p...)
	return len(p), nil
}

func (c *conn) flush() error {
	if len(c.wbuf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.wbuf)
	if cap(c.wbuf) > 64<<10 {
		c.wbuf = nil // do not keep a large body's buffer per idle connection
	} else {
		c.wbuf = c.wbuf[:0]
	}
	return err
}

func (h *host) acceptLoop() {
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		cc := newConn(c)
		h.mu.Lock()
		if h.stopping {
			h.mu.Unlock()
			c.Close()
			return
		}
		h.open[cc] = struct{}{}
		h.conns.Add(1)
		h.mu.Unlock()
		go h.serveConn(cc)
	}
}

// stop closes the listener, removes the socket and closes idle connections;
// busy ones close after their current call.
func (h *host) stop() {
	h.mu.Lock()
	h.stopping = true
	for c := range h.open {
		c.mu.Lock()
		if !c.busy {
			c.Close()
		}
		c.mu.Unlock()
	}
	h.mu.Unlock()
	h.ln.Close()
	if err := os.Remove(h.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		h.log.Warn("remove socket", "socket", h.path, "error", err)
	}
}

func (h *host) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.open {
		c.Close()
	}
}

func (h *host) closeInstances() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, hi := range h.instances {
		if err := hi.inst.Close(); err != nil {
			h.log.Warn("close instance", "instance_id", id, "error", err)
		}
		delete(h.instances, id)
		h.srv.Stats.Instances.Add(-1)
	}
}

func (h *host) serveConn(c *conn) {
	defer func() {
		c.Close()
		h.mu.Lock()
		delete(h.open, c)
		h.mu.Unlock()
		h.conns.Done()
	}()
	for {
		data, err := readFrame(c, true)
		if err != nil {
			return
		}
		c.mu.Lock()
		c.busy = true
		c.mu.Unlock()

		var call pb.RpcCall
		if err := proto.Unmarshal(data, &call); err != nil {
			h.log.Error("undecodable RPC call", "error", err)
			return
		}
		ret, keep := h.dispatch(c, &call)
		if !keep {
			return
		}
		if ret != nil {
			out, err := proto.Marshal(ret)
			if err != nil || writeFrame(c, out) != nil || c.flush() != nil {
				return
			}
		}

		c.mu.Lock()
		c.busy = false
		c.mu.Unlock()
		h.mu.Lock()
		stopping := h.stopping
		h.mu.Unlock()
		if stopping {
			return
		}
	}
}

// dispatch serves one RpcCall. keep=false closes the connection without a
// reply, which Kong reads as "closed" (go-pdk does the same on these errors).
func (h *host) dispatch(c *conn, call *pb.RpcCall) (ret *pb.RpcReturn, keep bool) {
	switch m := call.Call.(type) {
	case *pb.RpcCall_CmdStartInstance:
		st, err := h.start(m.CmdStartInstance.GetConfig())
		if err != nil {
			// Kong turns a failed start into an error for the request; the
			// reason is only visible here, in the plugin server's log.
			h.log.Error("start instance", "error", err)
			return nil, false
		}
		return &pb.RpcReturn{Sequence: call.Sequence, Return: &pb.RpcReturn_InstanceStatus{InstanceStatus: st}}, true
	case *pb.RpcCall_CmdCloseInstance:
		st, ok := h.closeInstance(m.CmdCloseInstance.GetInstanceId())
		if !ok {
			return nil, false
		}
		return &pb.RpcReturn{Sequence: call.Sequence, Return: &pb.RpcReturn_InstanceStatus{InstanceStatus: st}}, true
	case *pb.RpcCall_CmdHandleEvent:
		if !h.handleEvent(c, m.CmdHandleEvent) {
			return nil, false
		}
		return &pb.RpcReturn{Sequence: call.Sequence}, true
	default:
		h.log.Error("unsupported RPC call", "type", fmt.Sprintf("%T", call.Call))
		return nil, false
	}
}

func (h *host) start(raw []byte) (*pb.InstanceStatus, error) {
	id, err := instanceID(raw)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	if hi, ok := h.instances[id]; ok && string(hi.config) == string(raw) {
		hi.refs++
		h.mu.Unlock()
		return &pb.InstanceStatus{Name: h.def.Meta().Name, InstanceId: id, StartedAt: hi.startedAt}, nil
	}
	h.mu.Unlock()

	inst, err := h.def.Start(raw)
	if err != nil {
		return nil, err
	}
	hi := &hosted{inst: inst, config: append([]byte(nil), raw...), refs: 1, startedAt: time.Now().Unix()}
	h.mu.Lock()
	old := h.instances[id]
	h.instances[id] = hi
	h.mu.Unlock()
	if old != nil {
		_ = old.inst.Close()
	} else {
		h.srv.Stats.Instances.Add(1)
	}
	h.log.Info("instance started", "instance_id", id)
	return &pb.InstanceStatus{Name: h.def.Meta().Name, InstanceId: id, StartedAt: hi.startedAt}, nil
}

// instanceID is Kong's __seq__, or a random int31 when it is absent or 0,
// as go-pdk does.
func instanceID(raw []byte) (int32, error) {
	var keys struct {
		Seq json.Number `json:"__seq__"`
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &keys); err != nil {
			return 0, fmt.Errorf("config is not a JSON object: %w", err)
		}
	}
	if keys.Seq != "" {
		n, err := keys.Seq.Int64()
		if err != nil || n < 0 || n > 1<<31-1 {
			return 0, fmt.Errorf("__seq__ %q is not a valid instance id", keys.Seq)
		}
		if n != 0 {
			return int32(n), nil
		}
	}
	return rand.Int32N(1<<31-1) + 1, nil
}

func (h *host) closeInstance(id int32) (*pb.InstanceStatus, bool) {
	h.mu.Lock()
	hi, ok := h.instances[id]
	if !ok {
		h.mu.Unlock()
		h.log.Warn("close of unknown instance", "instance_id", id)
		return nil, false
	}
	hi.refs--
	last := hi.refs <= 0
	if last {
		delete(h.instances, id)
	}
	h.mu.Unlock()
	if last {
		h.srv.Stats.Instances.Add(-1)
		if err := hi.inst.Close(); err != nil {
			h.log.Warn("close instance", "instance_id", id, "error", err)
		}
		h.log.Info("instance closed", "instance_id", id)
	}
	return &pb.InstanceStatus{Name: h.def.Meta().Name, InstanceId: id, StartedAt: hi.startedAt}, true
}

// handleEvent runs one phase handler with the PDK bound to c, then sends the
// end-of-handler frame. It reports whether the connection is still usable.
func (h *host) handleEvent(c *conn, ev *pb.CmdHandleEvent) bool {
	h.mu.Lock()
	hi, ok := h.instances[ev.GetInstanceId()]
	h.mu.Unlock()
	if !ok {
		// Kong reads the closed connection as "closed" and restarts the instance.
		h.log.Warn("no plugin instance", "instance_id", ev.GetInstanceId())
		return false
	}
	phase := ev.GetEventName()
	fn := hi.inst.Handler(phase)
	if fn == nil {
		h.log.Error("event for a phase the plugin does not serve", "phase", phase)
		return false
	}
	h.srv.Stats.Events.Add(1)
	kong := pdk.Init(c)
	h.run(kong, phase, fn)
	return writeFrame(c, nil) == nil
}

// run calls a handler, turning a returned error or a panic into an answer to
// the client where the phase allows one.
func (h *host) run(kong *pdk.PDK, phase string, fn HandlerFunc) {
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				h.srv.Stats.Panics.Add(1)
				h.log.Error("handler panicked", "phase", phase, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = errPanic
			}
		}()
		return fn(kong)
	}()
	if err == nil {
		return
	}
	apiErr := apierror.As(err)
	if !errors.Is(err, errPanic) {
		if apiErr.Status >= 500 {
			h.srv.Stats.Errors.Add(1)
			h.log.Error("handler error", "phase", phase, "error", err)
		} else {
			h.log.Debug("request rejected", "phase", phase, "status", apiErr.Status, "code", apiErr.Code)
		}
	}
	switch phase {
	case "rewrite", "access", "response":
		headers := map[string][]string{"Content-Type": {"application/json"}}
		for k, v := range apiErr.Headers {
			headers[k] = v
		}
		kong.Response.Exit(apiErr.Status, apiErr.Body(), headers)
	}
}

var errPanic = errors.New("handler panicked")

func readFrame(r io.Reader, allowEmpty bool) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n > maxFrame {
		return nil, fmt.Errorf("frame of %d bytes exceeds the %d limit", n, maxFrame)
	}
	if n == 0 && !allowEmpty {
		return nil, errors.New("unexpected empty frame")
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

func writeFrame(w io.Writer, data []byte) error {
	buf := make([]byte, 4+len(data))
	binary.LittleEndian.PutUint32(buf, uint32(len(data)))
	copy(buf[4:], data)
	_, err := w.Write(buf)
	return err
}
