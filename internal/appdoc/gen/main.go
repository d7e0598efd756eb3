// Command gen rewrites the action reference in README.md from app.json.
// Run it from the repository root: go run ./internal/appdoc/gen README.md
package main

import (
	"fmt"
	"os"

	"github.com/awsssm/awsssm"
	"github.com/awsssm/awsssm/internal/appdoc"
	"github.com/awsssm/awsssm/internal/connector"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./internal/appdoc/gen README.md")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	m, err := connector.ParseManifest(awsssm.AppJSON)
	if err != nil {
		return err
	}
	readme, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	updated, err := appdoc.Replace(readme, appdoc.Render(m))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, updated, 0o644)
}
