// Command awsssm-sandbox serves a local AWS endpoint (SSM, S3, STS and EC2
// instance metadata) on one loopback port, for demos and tests. Its first
// line on standard output is endpoint=http://127.0.0.1:PORT, and it then
// serves until SIGINT or SIGTERM. Logs go to standard error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/awsssm/awsssm/internal/sandbox"
)

const (
	defaultInstances = "testdata/sandbox/instances.json"
	defaultDocuments = "testdata/sandbox/documents.json"
	// shutdownTimeout bounds how long requests in flight may take to finish
	// after a signal.
	shutdownTimeout = 10 * time.Second
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, signals))
}

// run starts the sandbox, prints its endpoint and serves until a value
// arrives on stop. It returns the exit status: 2 for invalid arguments, 1
// when the sandbox fails, 0 after a clean shutdown.
func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	flags := flag.NewFlagSet("awsssm-sandbox", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:0", "loopback `address` to listen on, host:port (port 0 picks a free port)")
	instances := flags.String("instances", defaultInstances, "JSON `file` of managed instance definitions")
	documents := flags.String("documents", "", "JSON `file` of custom SSM documents (default "+defaultDocuments+" if present)")
	stateDir := flags.String("state-dir", "", "`directory` for instance files and S3 objects (default a temporary directory removed at exit)")
	verbose := flags.Bool("verbose", false, "log every request")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "awsssm-sandbox: unexpected argument %q (all settings are flags, see -h)\n", flags.Arg(0))
		return 2
	}
	listenAddr, err := loopbackAddress(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "awsssm-sandbox: invalid --addr %q: %v\n", *addr, err)
		return 2
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// The default files are optional: without them the sandbox has no
	// instances and only AWS's own documents. Files named on the command
	// line must exist.
	if !isFlagSet(flags, "instances") {
		*instances = findDefault(defaultInstances)
		if *instances == "" {
			logger.Warn("instances file not found in the working directory or beside the binary, so the sandbox serves no managed instances; pass --instances", "file", defaultInstances)
		}
	}
	if !isFlagSet(flags, "documents") {
		*documents = findDefault(defaultDocuments)
	}

	srv, err := sandbox.New(sandbox.Options{
		InstancesFile: *instances,
		DocumentsFile: *documents,
		StateDir:      *stateDir,
		Logger:        logger,
	})
	if err != nil {
		fmt.Fprintf(stderr, "awsssm-sandbox: start: %v\n", err)
		return 1
	}
	defer func() {
		if err := srv.Close(); err != nil {
			logger.Error("stop sandbox", "error", err)
		}
	}()

	listener, err := net.Listen("tcp", listenAddr)
	if err != nil {
		fmt.Fprintf(stderr, "awsssm-sandbox: listen on %s: %v\n", listenAddr, err)
		return 1
	}
	endpoint := "http://" + listener.Addr().String()
	if _, err := fmt.Fprintf(stdout, "endpoint=%s\n", endpoint); err != nil {
		fmt.Fprintf(stderr, "awsssm-sandbox: write endpoint: %v\n", err)
		listener.Close()
		return 1
	}
	logger.Info("sandbox started", "endpoint", endpoint, "state_dir", srv.StateDir())

	return serve(srv, listener, logger, stop)
}

// serve serves until stop receives a signal or the server fails, then shuts
// down, letting requests in flight finish for up to shutdownTimeout.
func serve(srv *sandbox.Server, listener net.Listener, logger *slog.Logger, stop <-chan os.Signal) int {
	httpServer := &http.Server{Handler: srv, ReadHeaderTimeout: 30 * time.Second}
	failed := make(chan error, 1)
	go func() { failed <- httpServer.Serve(listener) }()

	select {
	case sig := <-stop:
		logger.Info("stopping on signal", "signal", sig.String())
	case err := <-failed:
		logger.Error("serve failed", "error", err)
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := httpServer.Shutdown(ctx); err != nil {
		logger.Warn("requests still running at shutdown, closing their connections", "error", err)
		httpServer.Close()
	}
	if err := <-failed; !errors.Is(err, http.ErrServerClosed) {
		logger.Error("serve failed", "error", err)
		return 1
	}
	logger.Info("sandbox stopped")
	return 0
}

// loopbackAddress accepts host:port only when host is a loopback IP address
// or "localhost", which it turns into 127.0.0.1, so that the sandbox is
// never reachable from the network.
func loopbackAddress(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%v (use host:port, for example 127.0.0.1:0)", err)
	}
	if host == "localhost" {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", errors.New("the sandbox listens only on a loopback address such as 127.0.0.1 or [::1]")
	}
	return addr, nil
}

func isFlagSet(flags *flag.FlagSet, name string) bool {
	set := false
	flags.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// findDefault looks for a default file relative to the working directory,
// then relative to the repository that holds the binary (bin/..), so that
// bin/awsssm-sandbox works from any directory. It returns "" when neither
// exists.
func findDefault(rel string) string {
	if fileExists(rel) {
		return rel
	}
	if exe, err := os.Executable(); err == nil {
		candidate := filepath.Join(filepath.Dir(exe), "..", rel)
		if fileExists(candidate) {
			return candidate
		}
	}
	return ""
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
