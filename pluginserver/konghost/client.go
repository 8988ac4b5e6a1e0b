package konghost

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	pb "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
)

// Phase is a plugin phase, as Kong names it in cmd_handle_event.
type Phase string

// The phases a Go plugin can serve (protocol spec §4).
const (
	PhaseCertificate Phase = "certificate"
	PhaseRewrite     Phase = "rewrite"
	PhaseAccess      Phase = "access"
	PhaseResponse    Phase = "response"
	PhasePreread     Phase = "preread"
	PhaseLog         Phase = "log"
)

// Outcome is how an event ended.
type Outcome int

const (
	// Continued: the handler returned; Kong goes on with the request.
	Continued Outcome = iota
	// Exited: the handler called kong.response.exit; Request.Exit holds the answer.
	Exited
)

func (o Outcome) String() string {
	if o == Exited {
		return "exited"
	}
	return "continued"
}

// Kong's cosocket limits (protocol spec §2.1).
const (
	DefaultTimeout = 60 * time.Second
	poolSize       = 256
	poolIdle       = 60 * time.Second
	maxFrame       = 64 << 20
)

// ErrClosed is what Kong's cosocket reports when the plugin server closed
// the connection. Kong resets the plugin's instances and retries the event
// on it (protocol spec §2.6).
var ErrClosed = errors.New("closed")

// IsClosed reports whether err is one Kong answers by resetting the plugin's
// instances and retrying: its text contains "closed" or "no plugin instance".
func IsClosed(err error) bool {
	if err == nil {
		return false
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "closed") || strings.Contains(s, "no plugin instance")
}

// InstanceStatus is the reply to cmd_start_instance and cmd_close_instance.
type InstanceStatus struct {
	Name      string
	ID        int32
	StartedAt int64
}

// Client is one Kong worker's connection pool to one plugin server socket.
// It is safe for concurrent use: parallel calls use separate connections, as
// Kong's do.
type Client struct {
	path string
	// Plugin names the plugin served on the socket; it labels log lines.
	Plugin string
	// Timeout bounds every connect, send and read (Kong: 60 s).
	Timeout time.Duration

	seq atomic.Int64

	mu     sync.Mutex
	idle   []idleConn
	closed bool
}

type idleConn struct {
	net.Conn
	since time.Time
}

// NewClient returns a client for the plugin server listening on socket.
func NewClient(socket string) *Client {
	c := &Client{path: socket, Timeout: DefaultTimeout}
	c.seq.Store(1) // Kong sends counter+1, so the first call carries 2.
	return c
}

// Socket is the path the client dials.
func (c *Client) Socket() string { return c.path }

// Close drops the idle connections.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, ic := range c.idle {
		ic.Close()
	}
	c.idle = nil
}

func (c *Client) get(ctx context.Context) (net.Conn, error) {
	c.mu.Lock()
	for len(c.idle) > 0 {
		ic := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if time.Since(ic.since) < poolIdle {
			c.mu.Unlock()
			return ic.Conn, nil
		}
		ic.Close()
	}
	c.mu.Unlock()
	d := net.Dialer{Timeout: c.timeout()}
	conn, err := d.DialContext(ctx, "unix", c.path)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", c.path, err)
	}
	return &bufConn{Conn: conn, br: bufio.NewReaderSize(conn, 16<<10)}, nil
}

// bufConn reads through a buffer, as nginx's cosocket receive does, so a
// frame's length and payload cost one read.
type bufConn struct {
	net.Conn
	br *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.br.Read(p) }

// put returns a connection after a successful call, as Kong's setkeepalive.
func (c *Client) put(conn net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.idle) >= poolSize {
		conn.Close()
		return
	}
	c.idle = append(c.idle, idleConn{Conn: conn, since: time.Now()})
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) next() int64 { return c.seq.Add(1) }

// call sends one RpcCall and reads its RpcReturn on a fresh or pooled
// connection; it is used for start and close, which have no callbacks.
func (c *Client) call(ctx context.Context, rpc *pb.RpcCall) (*pb.RpcReturn, error) {
	conn, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	conn.SetDeadline(time.Now().Add(c.timeout()))
	ret, err := roundTrip(conn, rpc)
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	c.put(conn)
	return ret, nil
}

func roundTrip(conn net.Conn, rpc *pb.RpcCall) (*pb.RpcReturn, error) {
	out, err := proto.Marshal(rpc)
	if err != nil {
		return nil, fmt.Errorf("encode rpc call: %w", err)
	}
	if err := writeFrame(conn, out); err != nil {
		return nil, err
	}
	data, err := readFrame(conn)
	if err != nil {
		return nil, err
	}
	return decodeReturn(data, rpc.Sequence)
}

func decodeReturn(data []byte, seq int64) (*pb.RpcReturn, error) {
	var ret pb.RpcReturn
	if err := proto.Unmarshal(data, &ret); err != nil {
		return nil, fmt.Errorf("decode rpc return: %w", err)
	}
	if ret.Sequence != seq {
		return nil, fmt.Errorf("rpc return has sequence %d, want %d", ret.Sequence, seq)
	}
	return &ret, nil
}

// StartInstance sends cmd_start_instance with a plugin's config as JSON.
func (c *Client) StartInstance(ctx context.Context, name string, config []byte) (InstanceStatus, error) {
	seq := c.next()
	ret, err := c.call(ctx, &pb.RpcCall{Sequence: seq, Call: &pb.RpcCall_CmdStartInstance{
		CmdStartInstance: &pb.CmdStartInstance{Name: name, Config: config},
	}})
	if err != nil {
		return InstanceStatus{}, fmt.Errorf("start instance of %s: %w", name, err)
	}
	st := ret.GetInstanceStatus()
	if st == nil {
		return InstanceStatus{}, fmt.Errorf("start instance of %s: reply without instance_status", name)
	}
	return InstanceStatus{Name: st.Name, ID: st.InstanceId, StartedAt: st.StartedAt}, nil
}

// CloseInstance sends cmd_close_instance. Kong ignores the result; the
// error is returned for tests.
func (c *Client) CloseInstance(ctx context.Context, id int32) error {
	seq := c.next()
	_, err := c.call(ctx, &pb.RpcCall{Sequence: seq, Call: &pb.RpcCall_CmdCloseInstance{
		CmdCloseInstance: &pb.CmdCloseInstance{InstanceId: id},
	}})
	if err != nil {
		return fmt.Errorf("close instance %d: %w", id, err)
	}
	return nil
}

// HandleEvent runs one phase of an instance, answering the plugin's PDK
// calls from r, and reports whether the handler returned or exited.
//
// After an exit Kong never answers the exit callback and keeps the
// connection until the request ends; HandleEvent leaves it open until
// r.Finish. Any error means the connection was dropped; IsClosed tells
// whether Kong would reset the instances and retry.
func (c *Client) HandleEvent(ctx context.Context, id int32, phase Phase, r *Request) (Outcome, error) {
	conn, err := c.get(ctx)
	if err != nil {
		return Continued, err
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	seq := c.next()
	out, err := c.event(conn, seq, id, phase, r)
	if err != nil {
		conn.Close()
		return Continued, fmt.Errorf("%s event: %w", phase, err)
	}
	if out == Exited {
		r.holdUntilFinish(conn)
		return Exited, nil
	}
	conn.SetDeadline(time.Time{})
	c.put(conn)
	return Continued, nil
}

func (c *Client) event(conn net.Conn, seq int64, id int32, phase Phase, r *Request) (Outcome, error) {
	touch := func() { conn.SetDeadline(time.Now().Add(c.timeout())) }
	touch()
	call, err := proto.Marshal(&pb.RpcCall{Sequence: seq, Call: &pb.RpcCall_CmdHandleEvent{
		CmdHandleEvent: &pb.CmdHandleEvent{InstanceId: id, EventName: string(phase)},
	}})
	if err != nil {
		return Continued, fmt.Errorf("encode rpc call: %w", err)
	}
	if err := writeFrame(conn, call); err != nil {
		return Continued, err
	}
	for {
		touch()
		method, err := readFrame(conn)
		if err != nil {
			return Continued, err
		}
		if len(method) == 0 {
			break // the handler returned
		}
		args, err := readFrame(conn)
		if err != nil {
			return Continued, err
		}
		reply, err := r.serve(c.Plugin, phase, string(method), args)
		if errors.Is(err, errExit) {
			return Exited, nil
		}
		if err != nil {
			// Kong raises a Lua error: no reply, the connection is abandoned.
			return Continued, err
		}
		touch()
		if err := writeFrame(conn, reply); err != nil {
			return Continued, err
		}
	}
	data, err := readFrame(conn)
	if err != nil {
		return Continued, err
	}
	if _, err := decodeReturn(data, seq); err != nil {
		return Continued, err
	}
	return Continued, nil
}

func readFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, netErr(err)
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n > maxFrame {
		return nil, fmt.Errorf("frame of %d bytes exceeds %d", n, maxFrame)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, netErr(err)
	}
	return buf, nil
}

func writeFrame(w io.Writer, data []byte) error {
	buf := make([]byte, 4+len(data))
	binary.LittleEndian.PutUint32(buf, uint32(len(data)))
	copy(buf[4:], data)
	if _, err := w.Write(buf); err != nil {
		return netErr(err)
	}
	return nil
}

// netErr maps socket errors to the words nginx's cosocket uses, which is
// what Kong's error handling matches on.
func netErr(err error) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return ErrClosed
	case errors.Is(err, syscall.ECONNRESET):
		return errors.New("connection reset by peer")
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return errors.New("timeout")
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
