package pluginserver

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/tollgate-ai/tollgate/internal/version"
)

// DefaultPrefix is Kong's default prefix, where go-pdk puts sockets too.
const DefaultPrefix = "/usr/local/kong"

// Program is the command-line front of a binary that hosts plugins:
// dump, plugin, serve, try, plugins and version.
type Program struct {
	// Name is the binary name used in usage text ("tollgate").
	Name string
	// Plugins are the definitions the binary hosts.
	Plugins []Definition
	// Sidecar, when set, runs beside the plugin sockets in serve mode (the
	// egress proxy) until ctx is done.
	Sidecar func(ctx context.Context, log *slog.Logger) error
	// ServeFlags, when set, adds the sidecar's own flags to serve.
	ServeFlags func(fs *flag.FlagSet)
	// Prepare, when set, runs before any plugin instance can start: with
	// sidecar true for serve and try (plugins and egress in one process),
	// false for a plugin run by Kong on its own.
	Prepare func(sidecar bool) error
	// Commands are extra commands (name → run with the arguments after it).
	Commands map[string]Command

	Stdout, Stderr io.Writer
}

// Command is an extra command of a Program.
type Command struct {
	Usage string // one line for the usage text, after the program name
	Run   func(ctx context.Context, args []string) int
}

// Main runs the program on os.Args with SIGINT/SIGTERM wired to shutdown and
// exits with its status.
func (p *Program) Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := p.Run(ctx, os.Args)
	stop()
	os.Exit(code)
}

// Run executes one command line (args[0] is the program path) and returns the
// exit status. Invoked under a plugin's name (a symlink such as
// /usr/local/bin/tollgate-pii-mask), it behaves like a go-pdk embedded server:
// -dump, -kong-prefix and -help.
func (p *Program) Run(ctx context.Context, args []string) int {
	if p.Stdout == nil {
		p.Stdout = os.Stdout
	}
	if p.Stderr == nil {
		p.Stderr = os.Stderr
	}
	if len(args) == 0 {
		args = []string{p.Name}
	}
	if d := p.lookup(filepath.Base(args[0])); d != nil {
		return p.runPlugin(ctx, d, args[1:], filepath.Base(args[0]))
	}
	if len(args) < 2 {
		p.usage()
		return 2
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "dump":
		return p.cmdDump(rest)
	case "plugin":
		return p.cmdPlugin(ctx, rest)
	case "serve":
		return p.cmdServe(ctx, rest)
	case "try":
		return p.cmdTry(ctx, rest)
	case "plugins":
		return p.cmdPlugins(rest)
	case "kong-conf":
		return p.cmdKongConf(rest)
	case "version":
		return p.cmdVersion(rest)
	case "help", "-h", "-help", "--help":
		p.usage()
		return 0
	default:
		if c, ok := p.Commands[cmd]; ok {
			return c.Run(ctx, rest)
		}
		fmt.Fprintf(p.Stderr, "%s: unknown command %q\n\n", p.Name, cmd)
		p.usage()
		return 2
	}
}

func (p *Program) usage() {
	fmt.Fprintf(p.Stderr, `%[1]s hosts Tollgate's Kong plugins and the egress sidecar.

Usage:
  %[1]s serve   [--kong-prefix DIR] [--plugins a,b]   every plugin on its own socket in DIR (sidecar mode)
  %[1]s plugin  <name> [-kong-prefix DIR] [-dump]      one plugin per process (Kong-managed mode)
  %[1]s dump    <name> [--kong-prefix DIR]             print the plugin info Kong's query_cmd expects
  %[1]s try     <name> --config FILE --request FILE    run a plugin's access phase offline, print the outcome
  %[1]s kong-conf [--mode managed|sidecar]           print the kong.conf lines that load these plugins
  %[1]s plugins                                      list the plugins this binary hosts
  %[1]s version                                      print the version

`, p.Name)
	names := make([]string, 0, len(p.Commands))
	for name := range p.Commands {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(p.Stderr, "  %s %-8s %s\n", p.Name, name, p.Commands[name].Usage)
	}
	fmt.Fprintf(p.Stderr, "\nRun '%s <command> --help' for a command's flags.\n", p.Name)
}

func (p *Program) lookup(name string) Definition {
	for _, d := range p.Plugins {
		if d.Meta().Name == name {
			return d
		}
	}
	return nil
}

func (p *Program) mustLookup(name string) (Definition, error) {
	if d := p.lookup(name); d != nil {
		return d, nil
	}
	names := make([]string, 0, len(p.Plugins))
	for _, d := range p.Plugins {
		names = append(names, d.Meta().Name)
	}
	return nil, fmt.Errorf("unknown plugin %q (have: %s)", name, strings.Join(names, ", "))
}

func (p *Program) flags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(p.Name+" "+name, flag.ContinueOnError)
	fs.SetOutput(p.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(p.Stderr, "Usage: %s %s\n\nFlags:\n", p.Name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may come before or after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, 0, false
			}
			return nil, 2, false
		}
		if fs.NArg() == 0 {
			return pos, 0, true
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func (p *Program) fail(err error) int {
	fmt.Fprintf(p.Stderr, "%s: %v\n", p.Name, err)
	return 1
}

func (p *Program) cmdDump(args []string) int {
	fs := p.flags("dump", "dump <plugin> [--kong-prefix DIR]")
	prefix := fs.String("kong-prefix", DefaultPrefix, "Kong prefix; the socket is <prefix>/<plugin>.socket")
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	d, err := p.mustLookup(pos[0])
	if err != nil {
		return p.fail(err)
	}
	return p.dump(d, *prefix)
}

func (p *Program) dump(d Definition, prefix string) int {
	out, err := DumpJSON(d, prefix)
	if err != nil {
		return p.fail(err)
	}
	fmt.Fprintln(p.Stdout, string(out))
	return 0
}

func (p *Program) cmdPlugin(ctx context.Context, args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && isHelp(args[0]) {
			fmt.Fprintf(p.Stderr, "Usage: %s plugin <name> [-kong-prefix DIR] [-dump]\n", p.Name)
			return 0
		}
		fmt.Fprintf(p.Stderr, "Usage: %s plugin <name> [-kong-prefix DIR] [-dump]\n", p.Name)
		return 2
	}
	d, err := p.mustLookup(args[0])
	if err != nil {
		return p.fail(err)
	}
	return p.runPlugin(ctx, d, args[1:], p.Name+" plugin "+args[0])
}

func isHelp(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

// runPlugin is go-pdk's embedded-server command line for one plugin.
func (p *Program) runPlugin(ctx context.Context, d Definition, args []string, usage string) int {
	fs := p.flags(usage, "[-kong-prefix DIR] [-dump]")
	prefix := fs.String("kong-prefix", DefaultPrefix, "Kong prefix path (the -p of the kong cli); the socket is <prefix>/<plugin>.socket")
	dump := fs.Bool("dump", false, "print the plugin info Kong's query_cmd expects and exit")
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fs.Usage()
		return 2
	}
	if *dump {
		return p.dump(d, *prefix)
	}
	return p.serve(ctx, *prefix, []Definition{d}, false)
}

func (p *Program) cmdServe(ctx context.Context, args []string) int {
	fs := p.flags("serve", "serve [--kong-prefix DIR] [--plugins a,b]")
	prefix := fs.String("kong-prefix", DefaultPrefix, "directory for the plugin sockets (Kong's prefix or a shared volume)")
	only := fs.String("plugins", "", "comma-separated plugins to serve (default: all)")
	if p.ServeFlags != nil {
		p.ServeFlags(fs)
	}
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fs.Usage()
		return 2
	}
	defs := p.Plugins
	if *only != "" {
		defs = nil
		for _, n := range strings.Split(*only, ",") {
			d, err := p.mustLookup(strings.TrimSpace(n))
			if err != nil {
				return p.fail(err)
			}
			defs = append(defs, d)
		}
	}
	return p.serve(ctx, *prefix, defs, true)
}

func (p *Program) serve(ctx context.Context, prefix string, defs []Definition, sidecar bool) int {
	log := slog.New(slog.NewJSONHandler(p.Stderr, nil))
	if p.Prepare != nil {
		if err := p.Prepare(sidecar); err != nil {
			return p.fail(err)
		}
	}
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		return p.fail(fmt.Errorf("create prefix: %w", err))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	running := 0
	if sidecar && p.Sidecar != nil {
		running++
		go func() { errc <- p.Sidecar(ctx, log) }()
	}
	if len(defs) > 0 {
		running++
		srv := &Server{Logger: log}
		go func() { errc <- srv.Serve(ctx, prefix, defs...) }()
	}
	if running == 0 {
		return p.fail(errors.New("nothing to serve: no plugins"))
	}
	var first error
	for range running {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	if first != nil {
		return p.fail(first)
	}
	return 0
}

func (p *Program) cmdPlugins(args []string) int {
	fs := p.flags("plugins", "plugins")
	if _, code, ok := parse(fs, args); !ok {
		return code
	}
	defs := slices.Clone(p.Plugins)
	slices.SortFunc(defs, func(a, b Definition) int { return b.Meta().Priority - a.Meta().Priority })
	for _, d := range defs {
		m := d.Meta()
		fmt.Fprintf(p.Stdout, "%-28s %-8s priority %-5d phases %s\n", m.Name, m.Version, m.Priority, strings.Join(d.Phases(), ","))
	}
	return 0
}

func (p *Program) cmdVersion(args []string) int {
	fs := p.flags("version", "version")
	if _, code, ok := parse(fs, args); !ok {
		return code
	}
	fmt.Fprintf(p.Stdout, "%s %s\n", p.Name, version.String())
	return 0
}
