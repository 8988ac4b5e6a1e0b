package pluginserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/tollgate-ai/tollgate/pluginserver/konghost"
)

// Local runs definitions on real Unix sockets in a private directory and
// drives them the way one Kong worker does, through konghost. `tollgate try`
// and the plugintest package use it; nothing in it is mocked.
type Local struct {
	dir     string
	cancel  context.CancelFunc
	done    chan error
	clients map[string]*konghost.Client
	// Server is the runtime under test; its Stats count events and panics.
	Server *Server
}

// StartLocal serves defs in a fresh temporary directory. Logs go to logw
// (io.Discard when nil).
func StartLocal(logw io.Writer, defs ...Definition) (*Local, error) {
	if logw == nil {
		logw = io.Discard
	}
	dir, err := os.MkdirTemp("", "tollgate-local-")
	if err != nil {
		return nil, fmt.Errorf("create socket dir: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Local{
		dir:     dir,
		cancel:  cancel,
		done:    make(chan error, 1),
		clients: map[string]*konghost.Client{},
		Server:  &Server{Logger: slog.New(slog.NewTextHandler(logw, nil)), DrainTimeout: 5 * time.Second},
	}
	for _, d := range defs {
		c := konghost.NewClient(SocketPath(dir, d.Meta().Name))
		c.Plugin = d.Meta().Name
		l.clients[d.Meta().Name] = c
	}
	go func() { l.done <- l.Server.Serve(ctx, dir, defs...) }()
	// Wait until every socket accepts: the file appears at bind(), a moment
	// before listen(), so its existence alone is not enough.
	deadline := time.Now().Add(5 * time.Second)
	for _, d := range defs {
		for {
			if c, err := net.Dial("unix", SocketPath(dir, d.Meta().Name)); err == nil {
				c.Close()
				break
			}
			select {
			case err := <-l.done:
				cancel()
				os.RemoveAll(dir)
				return nil, fmt.Errorf("plugin server stopped: %w", err)
			case <-time.After(2 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				l.Close()
				return nil, errors.New("plugin sockets did not appear")
			}
		}
	}
	return l, nil
}

// Dir is the socket directory.
func (l *Local) Dir() string { return l.dir }

// Client is the Kong-side client of one plugin.
func (l *Local) Client(plugin string) (*konghost.Client, error) {
	c, ok := l.clients[plugin]
	if !ok {
		return nil, fmt.Errorf("plugin %q is not served here", plugin)
	}
	return c, nil
}

// StartInstance starts an instance of plugin with a raw JSON config, as Kong's
// cmd_start_instance does.
func (l *Local) StartInstance(ctx context.Context, plugin string, config []byte) (int32, error) {
	c, err := l.Client(plugin)
	if err != nil {
		return 0, err
	}
	st, err := c.StartInstance(ctx, plugin, config)
	if err != nil {
		return 0, fmt.Errorf("start instance of %s: %w", plugin, err)
	}
	return st.ID, nil
}

// Event runs one phase of an instance on r.
func (l *Local) Event(ctx context.Context, plugin string, id int32, phase konghost.Phase, r *konghost.Request) (konghost.Outcome, error) {
	c, err := l.Client(plugin)
	if err != nil {
		return 0, err
	}
	return c.HandleEvent(ctx, id, phase, r)
}

// Close stops the server, closes the clients and removes the directory.
func (l *Local) Close() error {
	for _, c := range l.clients {
		c.Close()
	}
	l.cancel()
	err := <-l.done
	os.RemoveAll(l.dir)
	return err
}
