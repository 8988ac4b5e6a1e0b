// Package redistest starts a real redis-server for tests: on a random free
// port of 127.0.0.1, without persistence, in a temporary directory, stopped
// when the test ends. It never skips: a missing redis-server fails the test
// with the command that installs it, so CI cannot pass by testing nothing.
//
// Only tests may import it (the layering test in spec/ enforces that).
package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startTimeout bounds how long a server may take to answer PING.
const startTimeout = 10 * time.Second

// Option configures a Server.
type Option func(*config)

type config struct {
	password string
	args     []string
}

// WithPassword starts the server with requirepass; Client authenticates
// with it.
func WithPassword(password string) Option {
	return func(c *config) { c.password = password }
}

// WithArgs passes extra redis-server arguments, such as "--maxmemory", "1mb".
func WithArgs(args ...string) Option {
	return func(c *config) { c.args = append(c.args, args...) }
}

// Server is a running redis-server owned by one test.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cfg  config

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	output *lockedBuffer
	client *redis.Client
}

// Start launches redis-server and waits until it answers PING. The server is
// stopped, and its client closed, by t.Cleanup.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redistest: redis-server not found in PATH (%v); install it with `apt-get install -y redis-server`", err)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	for _, o := range opts {
		o(&s.cfg)
	}
	t.Cleanup(s.cleanup)

	// Another process may take the port between choosing and binding it, so
	// a failed start is retried on a fresh port.
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: choose a port: %v", err)
		}
		s.port = port
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	t.Fatalf("redistest: %v", lastErr)
	return nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Port is the server's TCP port; it survives Restart.
func (s *Server) Port() int { return s.port }

// Password is the requirepass of the server, empty when there is none.
func (s *Server) Password() string { return s.cfg.password }

// Client returns a client of the server, shared by the callers of one
// Server and closed by t.Cleanup. It reconnects by itself after Restart.
func (s *Server) Client() *redis.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		s.client = redis.NewClient(&redis.Options{
			Addr:            s.Addr(),
			Password:        s.cfg.password,
			DisableIdentity: true,
		})
	}
	return s.client
}

// Stop stops the server; clients then see connection errors. Stopping a
// stopped server does nothing.
func (s *Server) Stop() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stopLocked(); err != nil {
		s.t.Errorf("redistest: stop: %v", err)
	}
}

// Restart stops the server if it runs and starts it again on the same port,
// empty (there is no persistence), to test outages and recovery.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	var err error
	// The old socket may linger for a moment; retry briefly on the same port.
	for range 20 {
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("redistest: restart on port %d: %v", s.port, err)
}

func (s *Server) start() error {
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", "",
	}
	if s.cfg.password != "" {
		args = append(args, "--requirepass", s.cfg.password)
	}
	args = append(args, s.cfg.args...)

	out := &lockedBuffer{}
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()

	s.mu.Lock()
	s.cmd, s.exited, s.output = cmd, exited, out
	s.mu.Unlock()

	if err := s.waitReady(exited); err != nil {
		s.mu.Lock()
		_ = s.stopLocked()
		s.mu.Unlock()
		return fmt.Errorf("redis-server on port %d: %w\n%s", s.port, err, out.String())
	}
	return nil
}

// waitReady polls PING on a private connection, so that the shared client's
// pool never holds a connection from a failed attempt.
func (s *Server) waitReady(exited <-chan struct{}) error {
	c := redis.NewClient(&redis.Options{
		Addr:            s.Addr(),
		Password:        s.cfg.password,
		DisableIdentity: true,
		MaxRetries:      -1,
		DialTimeout:     time.Second,
	})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			return errors.New("exited before answering PING")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PING answer within %s: %w", startTimeout, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *Server) stopLocked() error {
	if s.cmd == nil {
		return nil
	}
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(5 * time.Second):
	}
	_ = cmd.Process.Kill()
	<-exited
	return fmt.Errorf("redis-server pid %d ignored SIGTERM for 5s and was killed", cmd.Process.Pid)
}

func (s *Server) cleanup() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		_ = s.client.Close()
		s.client = nil
	}
	if err := s.stopLocked(); err != nil {
		s.t.Errorf("redistest: %v", err)
	}
	if s.t.Failed() && s.output != nil {
		s.t.Logf("redistest: redis-server output:\n%s", s.output.String())
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer collects the server's output; exec writes to it from its own
// goroutine while a failing test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
