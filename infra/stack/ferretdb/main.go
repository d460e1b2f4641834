// Command ferretdb runs embedded FerretDB on its SQLite backend for the local dev stack.
//
// We build our own main because `go install .../cmd/ferretdb@v1.24.2` panics on a
// missing build/version/version.txt; the embeddable package skips that check.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	sqlite := flag.String("sqlite-url", "data/", "SQLite directory, as a plain path or a file: URI")
	level := flag.String("log-level", "info", "log level: debug, info, warn, error")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "bad -log-level: %s\n", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	url, err := sqliteURL(*sqlite)
	if err != nil {
		logger.Error("bad -sqlite-url", "error", err)
		os.Exit(2)
	}

	// Telemetry: ferretdb.New never starts the reporter and marks telemetry disabled+locked
	// in its in-memory state, so nothing tries to reach the internet.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: url,
	})
	if err != nil {
		logger.Error("start failed", "error", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	logger.Info("listening", "addr", *listen, "sqlite", url)
	if err := f.Run(ctx); err != nil {
		logger.Error("run failed", "error", err)
		os.Exit(1)
	}
	logger.Info("stopped")
}

// sqliteURL turns a plain directory into the "file:/abs/dir/" form FerretDB requires
// (the trailing slash is mandatory); file: URIs pass through untouched.
func sqliteURL(s string) (string, error) {
	if strings.HasPrefix(s, "file:") {
		return s, nil
	}
	abs, err := filepath.Abs(s)
	if err != nil {
		return "", err
	}
	return "file:" + abs + "/", nil
}
