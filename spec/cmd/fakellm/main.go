// Command fakellm serves the fake LLM providers of internal/fakellm (OpenAI,
// Azure OpenAI, Anthropic, OpenAI-compatible) on a real port, for make demo
// and manual tries.
//
//	fakellm -listen 127.0.0.1:8099 -key sk-demo
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tollgate-ai/tollgate/internal/fakellm"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fakellm:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("fakellm", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8099", "address to listen on")
	key := fs.String("key", "", "API key every provider expects (empty: accept any)")
	models := fs.String("models", "", "comma-separated known models (empty: any)")
	noUsage := fs.Bool("no-usage", false, "answer like an OpenAI-compatible server without usage")
	dims := fs.Int("dimensions", 0, "default embedding dimensions (0: 1536)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts := fakellm.Options{
		Addr: *listen, APIKey: *key, OmitUsage: *noUsage, EmbeddingDimensions: *dims, Logger: logger,
	}
	if *models != "" {
		opts.Models = strings.Split(*models, ",")
	}
	srv, err := fakellm.Listen(opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Println(srv.URL())
	logger.Info("fakellm listening", "url", srv.URL(), "openai_base_url", srv.OpenAIBaseURL())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	logger.Info("fakellm stopping")
	return nil
}
