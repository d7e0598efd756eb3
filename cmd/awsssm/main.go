// Command awsssm runs one action of the AWS Systems Manager SOAR connector.
// It reads the action and its parameters on standard input, writes one
// action-result JSON document on standard output, and writes progress and
// logs on standard error. Run awsssm --help for usage.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/awsssm/awsssm"
	"github.com/awsssm/awsssm/actions"
	"github.com/awsssm/awsssm/internal/connector"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	manifest, err := connector.ParseManifest(awsssm.AppJSON)
	if err != nil {
		// Only a broken build gets here: app.json is embedded.
		fmt.Fprintf(os.Stdout, `{"status":"failed","message":%q,"result_summary":{"total_objects":0,"total_objects_successful":0},"result_data":[]}`+"\n", err.Error())
		os.Exit(connector.ExitUsage)
	}

	// SIGHUP arrives when the terminal of a run by hand closes; like SIGINT
	// and SIGTERM it ends the run with a result rather than mid-write.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	code := connector.Main(ctx, connector.Options{
		Manifest:        manifest,
		Handlers:        actions.Handlers(),
		Version:         version,
		Args:            os.Args[1:],
		Stdin:           os.Stdin,
		StdinIsTerminal: isTerminal(os.Stdin),
		Stdout:          os.Stdout,
		Stderr:          os.Stderr,
		Getenv:          os.Getenv,
	})
	stop()
	os.Exit(code)
}

func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
