package connector

import (
	"fmt"
	"strings"
)

// args are the command-line arguments of one run.
type args struct {
	action    string   // the first positional argument; empty for the connector-run shape
	config    string   // --config FILE
	params    []string // --param NAME=VALUE, in order
	vaultDir  string   // --vault-dir DIR
	logFormat string   // --log-format text|json
	verbose   bool     // --verbose
	pretty    bool     // --pretty
	help      bool     // --help
	version   bool     // --version
}

// parseArgs reads flags anywhere on the command line, in --flag VALUE or
// --flag=VALUE form, so that "awsssm execute_program --config a.json" and
// "awsssm --config a.json execute_program" both work.
func parseArgs(argv []string) (*args, error) {
	a := &args{logFormat: LogFormatText}
	var positional []string

	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		if arg == "--" {
			positional = append(positional, argv[i+1:]...)
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			positional = append(positional, arg)
			continue
		}

		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		takeValue := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(argv) {
				return "", fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			return argv[i], nil
		}

		var err error
		switch name {
		case "config", "c":
			a.config, err = takeValue()
		case "param", "p":
			var p string
			p, err = takeValue()
			a.params = append(a.params, p)
		case "vault-dir":
			a.vaultDir, err = takeValue()
			if err == nil && strings.TrimSpace(a.vaultDir) == "" {
				err = fmt.Errorf("flag --vault-dir needs a directory, not an empty value")
			}
		case "log-format":
			a.logFormat, err = takeValue()
			if err == nil && a.logFormat != LogFormatText && a.logFormat != LogFormatJSON {
				err = fmt.Errorf("flag --log-format: expected text or json, got %q", a.logFormat)
			}
		case "verbose", "v":
			a.verbose = true
		case "pretty":
			a.pretty = true
		case "help", "h":
			a.help = true
		case "version":
			a.version = true
		default:
			err = fmt.Errorf("unknown flag %s; run awsssm --help for the list", arg)
		}
		if err != nil {
			return nil, err
		}
	}

	switch len(positional) {
	case 0:
	case 1:
		a.action = positional[0]
	default:
		return nil, fmt.Errorf("expected one action name, got %d arguments: %s (quote a display name such as \"execute program\")",
			len(positional), strings.Join(positional, " "))
	}
	return a, nil
}

// applyParamFlags sets each --param NAME=VALUE on every parameter set. Values
// stay strings here; validation converts them to the type app.json declares.
// It returns a warning for each name given twice, since the last one wins.
func applyParamFlags(sets []map[string]any, flags []string) (warnings []string, err error) {
	seen := map[string]bool{}
	for _, flag := range flags {
		name, value, ok := strings.Cut(flag, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return warnings, fmt.Errorf("--param %q: expected NAME=VALUE", flag)
		}
		if seen[name] {
			warnings = append(warnings, fmt.Sprintf("--param %s is given more than once; the last value is used", name))
		}
		seen[name] = true
		for _, set := range sets {
			set[name] = value
		}
	}
	return warnings, nil
}

func usage(m *Manifest) string {
	var b strings.Builder
	b.WriteString(`awsssm runs one action of the AWS Systems Manager SOAR connector and writes
its result as one JSON document on standard output.

Usage:
  awsssm < run.json                       the connector-run shape a SOAR platform sends
  awsssm ACTION --config asset.json [--param NAME=VALUE]... [< params.json]

Flags:
  --config FILE        asset configuration (JSON object of asset fields)
  --param NAME=VALUE   set one action parameter; repeatable
  --vault-dir DIR      where files go; $AWSSSM_VAULT_DIR, else ./vault
  --log-format FORMAT  text (default) or json, for standard error
  --verbose            add debug lines to standard error
  --pretty             indent the JSON result for reading
  --version            print the version and exit

Exit status: 0 every parameter set succeeded, 1 at least one failed,
2 the run could not start (bad input, unknown action, unusable asset).

Actions:
`)
	for _, a := range m.Actions {
		fmt.Fprintf(&b, "  %-20s %s\n", a.Identifier, a.Description)
	}
	return b.String()
}
