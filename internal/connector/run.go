// Package connector implements the run contract: it reads one run's input,
// validates it against app.json, builds AWS clients, calls the action's
// handler once per parameter set, and writes one JSON result, masking every
// known secret on the way out.
package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/awsssm/awsssm/internal/awsconfig"
	"github.com/awsssm/awsssm/internal/vault"
)

// credentialsParameter is the action parameter that carries temporary
// credentials, as the existing app named it.
const credentialsParameter = "credentials"

// Exit statuses of a run.
const (
	ExitSuccess = 0 // every parameter set succeeded
	ExitFailed  = 1 // at least one parameter set failed
	ExitUsage   = 2 // the run could not start
)

// Options are the edges of one run: the manifest, the handlers and the
// process's streams and environment.
type Options struct {
	Manifest *Manifest
	Handlers map[string]Handler // by action identifier
	Version  string

	Args            []string
	Stdin           io.Reader
	StdinIsTerminal bool
	Stdout          io.Writer
	Stderr          io.Writer
	Getenv          func(string) string
	Now             func() time.Time
}

// run is the state of one run.
type run struct {
	opts     Options
	redactor *Redactor
	log      *slog.Logger
	out      Output
	pretty   bool
}

// Main runs one action and returns the exit status. It writes exactly one
// JSON document on standard output; when that write fails, it returns 2.
func Main(ctx context.Context, opts Options) int {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	r := &run{opts: opts, redactor: &Redactor{}}
	r.out.Status = StatusFailed
	r.out.ResultData = []ActionResult{}
	r.log = newLogger(r.redactor.Writer(opts.Stderr), LogFormatText, false)

	code := r.execute(ctx)
	if err := r.writeOutput(); err != nil {
		// The platform gets no result, which is as bad as a run that
		// could not start.
		return ExitUsage
	}
	return code
}

// execute does the run and fills r.out. Errors that stop the whole run
// become the output's message and exit status 2.
func (r *run) execute(ctx context.Context) int {
	a, err := parseArgs(r.opts.Args)
	if err != nil {
		return r.fail(err)
	}
	r.log = newLogger(r.redactor.Writer(r.opts.Stderr), a.logFormat, a.verbose)
	r.pretty = a.pretty
	if a.help {
		fmt.Fprint(r.opts.Stderr, usage(r.opts.Manifest))
		r.out.Status = StatusSuccess
		r.out.Message = "help written to standard error"
		return ExitSuccess
	}
	if a.version {
		fmt.Fprintf(r.opts.Stderr, "awsssm %s\n", r.opts.Version)
		r.out.Status = StatusSuccess
		r.out.Message = "awsssm " + r.opts.Version
		return ExitSuccess
	}

	in, err := r.readInput(a)
	if err != nil {
		return r.fail(err)
	}
	// Proxy URLs from the platform may carry passwords.
	r.redactor.Add(awsconfig.Secrets(awsconfig.Request{Env: in.EnvironmentVariables})...)

	sets := in.ParameterSets
	if len(sets) == 0 {
		sets = []map[string]any{{}}
	}
	warnings, err := applyParamFlags(sets, a.params)
	if err != nil {
		return r.fail(&InputError{Err: err})
	}
	for _, w := range append(in.Warnings, warnings...) {
		r.log.Warn(w)
	}

	spec, ok := r.opts.Manifest.Action(in.ActionName)
	if !ok {
		return r.fail(fmt.Errorf("unknown action %q; expected one of: %s", in.ActionName,
			strings.Join(r.opts.Manifest.ActionIdentifiers(), ", ")))
	}
	r.out.Action, r.out.Identifier = spec.Name, spec.Identifier
	handler, ok := r.opts.Handlers[spec.Identifier]
	if !ok {
		return r.fail(fmt.Errorf("action %q is in app.json but this build has no handler for it", spec.Identifier))
	}

	asset, err := r.readAsset(in.Config)
	if err != nil {
		return r.fail(err)
	}

	vaultDir := a.vaultDir
	if vaultDir == "" {
		vaultDir = r.opts.Getenv("AWSSSM_VAULT_DIR")
	}
	if vaultDir == "" {
		vaultDir = "vault"
	}
	// Results name vault files by path, and an absolute path stays valid
	// whatever the reader's working directory.
	if abs, err := filepath.Abs(vaultDir); err == nil {
		vaultDir = abs
	}

	clients := newClientCache(asset, in.EnvironmentVariables, r.opts.Now, r.log)
	for i, raw := range sets {
		if ctx.Err() != nil {
			r.out.ResultData = append(r.out.ResultData, ActionResult{
				Status: StatusFailed, Message: "not run: the run was cancelled",
				Parameter: raw, Summary: Summary{}, Data: []any{},
			})
			continue
		}
		if len(sets) > 1 {
			r.log.Info(fmt.Sprintf("parameter set %d of %d", i+1, len(sets)))
		}
		env := &Env{
			DefaultS3Bucket: asset.DefaultS3Bucket,
			Vault:           vault.New(vaultDir),
			ContainerID:     in.ContainerID,
			Log:             r.log,
			Now:             r.opts.Now,
			redactor:        r.redactor,
		}
		r.out.ResultData = append(r.out.ResultData, r.runOne(ctx, spec, handler, env, clients, raw))
	}

	return r.summarize()
}

// readInput reads the connector-run shape, or the short shape when an
// action name is given on the command line.
func (r *run) readInput(a *args) (*Input, error) {
	if a.action == "" {
		if a.config != "" || len(a.params) > 0 {
			return nil, inputErrorf("--config and --param go with an action name (awsssm ACTION --config FILE); a connector-run document on standard input carries its own config and parameters")
		}
		if r.opts.StdinIsTerminal {
			return nil, inputErrorf("no input: pipe a connector-run JSON document to standard input, or give an action name (awsssm --help)")
		}
		data, err := readAllLimited(r.opts.Stdin)
		if err != nil {
			return nil, inputErrorf("read standard input: %v", err)
		}
		return parseRunDocument(data)
	}

	in := &Input{ActionName: a.action, Config: map[string]any{}}
	if a.config != "" {
		config, err := readConfigFile(a.config)
		if err != nil {
			return nil, err
		}
		in.Config = config
	}
	in.ParameterSets = []map[string]any{{}}
	if !r.opts.StdinIsTerminal && r.opts.Stdin != nil {
		data, err := readAllLimited(r.opts.Stdin)
		if err != nil {
			return nil, inputErrorf("read standard input: %v", err)
		}
		sets, err := parseParameterSets(data)
		if err != nil {
			return nil, err
		}
		in.ParameterSets = sets
	}
	return in, nil
}

// readAsset validates the asset configuration against app.json and against
// the rules of awsconfig. Secrets in it are registered for masking first, so
// that no message about it can leak them.
func (r *run) readAsset(config map[string]any) (awsconfig.Asset, error) {
	for name, field := range r.opts.Manifest.Configuration {
		if s, ok := config[name].(string); ok && field.DataType == TypePassword {
			r.redactor.Add(s)
		}
	}
	values, err := validateFields(r.opts.Manifest.Configuration, config, validateOptions{
		subject:       "asset configuration field",
		ignoreUnknown: true,
		freeValues:    map[string]bool{"region": true},
	})
	if err != nil {
		return awsconfig.Asset{}, &InputError{Err: err}
	}
	var asset awsconfig.Asset
	raw, _ := json.Marshal(values)
	if err := json.Unmarshal(raw, &asset); err != nil {
		return awsconfig.Asset{}, inputErrorf("asset configuration: %v", err)
	}
	if err := awsconfig.ValidateAsset(asset); err != nil {
		// The error names the asset field already.
		return awsconfig.Asset{}, &InputError{Err: err}
	}
	return asset, nil
}

// runOne validates one parameter set, builds its clients and calls the
// handler. A panic in a handler becomes a failed result, never a crash.
func (r *run) runOne(ctx context.Context, spec *ActionSpec, handler Handler, env *Env, clients *clientCache, raw map[string]any) (result ActionResult) {
	result = ActionResult{Status: StatusFailed, Parameter: map[string]any{}, Summary: Summary{}, Data: []any{}}

	// Secrets are registered before validation, so that no message and no
	// parameter echo can show them, even for an invalid parameter set.
	secretNames := secretParameterNames(spec, handler, raw)
	for _, name := range secretNames {
		if s, ok := raw[name].(string); ok {
			r.redactor.Add(s)
		}
	}
	if s, ok := raw[credentialsParameter].(string); ok {
		r.redactor.Add(awsconfig.Secrets(awsconfig.Request{Credentials: s, Env: clients.env})...)
	}
	// A parameter that app.json does not know may be a misspelled secret
	// ("Credentials"), so its value is masked in the echo too.
	echoMasked := secretNames
	for name := range raw {
		if _, known := spec.Parameters[name]; !known {
			echoMasked = append(echoMasked, name)
		}
	}
	result.Parameter = maskParameters(raw, echoMasked)

	params, err := validateFields(spec.Parameters, raw, validateOptions{subject: "parameter"})
	if err != nil {
		result.Message = err.Error()
		r.log.Error(result.Message)
		return result
	}
	result.Parameter = maskParameters(params, secretNames)

	defer func() {
		if p := recover(); p != nil {
			r.log.Debug("handler panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			result.Status = StatusFailed
			result.Message = fmt.Sprintf("internal error in action %s: %v; run again with --verbose and report it", spec.Identifier, p)
		}
	}()

	credentials, _ := params[credentialsParameter].(string)
	region, _ := params["region"].(string)
	_, hasCredentials := spec.Parameters[credentialsParameter]
	env.AWS, err = clients.get(ctx, credentials, region, hasCredentials)
	if err != nil {
		result.Message = err.Error()
		r.log.Error(result.Message)
		return result
	}
	if warning := awsconfig.PlainHTTPWarning(clients.asset.EndpointURL); warning != "" {
		env.Warn("%s", warning)
	}

	outcome, err := handler.Run(ctx, env, params)
	if outcome != nil {
		if outcome.Data != nil {
			result.Data = outcome.Data
		}
		if outcome.Summary != nil {
			result.Summary = outcome.Summary
		}
		result.Message = outcome.Message
	}
	if err != nil {
		if result.Message == "" {
			result.Message = err.Error()
		}
		if ctx.Err() != nil && !strings.Contains(result.Message, "the run was cancelled") {
			result.Message += "; the run was cancelled (" + context.Cause(ctx).Error() + ")"
		}
		r.log.Error(result.Message)
		result.Message = withWarnings(result.Message, env.warnings)
		return result
	}
	result.Status = StatusSuccess
	if result.Message == "" {
		result.Message = result.Summary.message()
	}
	result.Message = withWarnings(result.Message, env.warnings)
	return result
}

// withWarnings appends the warnings that message does not already contain.
func withWarnings(message string, warnings []string) string {
	var add []string
	for _, w := range warnings {
		if !strings.Contains(message, w) && !slices.Contains(add, w) {
			add = append(add, w)
		}
	}
	// Each warning gets its own label, because warnings contain semicolons.
	for _, w := range add {
		if message != "" {
			message += ". "
		}
		message += "Warning: " + w
	}
	return message
}

// secretParameterNames returns the parameters of raw whose values are
// secrets: the password-typed ones, credentials, and those the handler
// names. The credentials parameter is masked as a whole in the echo,
// because its text may spell the secret key and token differently from
// their decoded values (JSON's \/ or \u002B, Python's \x2f), which
// substring masking cannot find.
func secretParameterNames(spec *ActionSpec, handler Handler, raw map[string]any) []string {
	var names []string
	for name, field := range spec.Parameters {
		if field.DataType == TypePassword || name == credentialsParameter {
			names = append(names, name)
		}
	}
	if h, ok := handler.(*secretHandler); ok {
		names = append(names, h.secrets(raw)...)
	}
	return names
}

// maskParameters returns a copy of params for the result's parameter echo,
// with each secret parameter's value replaced by Mask as a whole. Whole
// replacement also hides values too short for substring masking.
func maskParameters(params map[string]any, secretNames []string) map[string]any {
	echo := make(map[string]any, len(params))
	for k, v := range params {
		echo[k] = v
	}
	for _, name := range secretNames {
		if v, ok := echo[name]; ok && !isEmptyValue(v) {
			echo[name] = Mask
		}
	}
	return echo
}

// summarize sets the overall status and message from the results.
func (r *run) summarize() int {
	total := len(r.out.ResultData)
	ok := 0
	for _, res := range r.out.ResultData {
		if res.Status == StatusSuccess {
			ok++
		}
	}
	r.out.ResultSummary = ResultSummary{TotalObjects: total, TotalObjectsSuccessful: ok}
	word := "sets"
	if total == 1 {
		word = "set"
	}
	r.out.Message = fmt.Sprintf("%d of %d parameter %s succeeded", ok, total, word)
	if ok == total {
		r.out.Status = StatusSuccess
		return ExitSuccess
	}
	if total == 1 {
		r.out.Message = r.out.ResultData[0].Message
	}
	r.out.Status = StatusFailed
	return ExitFailed
}

// fail records an error that stops the run.
func (r *run) fail(err error) int {
	r.out.Status = StatusFailed
	r.out.Message = err.Error()
	r.log.Error(r.out.Message)
	return ExitUsage
}

// writeOutput encodes the output, masks secrets and writes it.
func (r *run) writeOutput() error {
	doc, err := marshalNoEscape(r.out)
	if err == nil {
		doc, err = r.redactor.JSON(doc)
	}
	if err != nil {
		// Only a value that JSON cannot encode gets here. Report it in a
		// document that can always be encoded.
		r.log.Error("encode result", "error", err.Error())
		doc, _ = marshalNoEscape(Output{
			Action: r.out.Action, Identifier: r.out.Identifier, Status: StatusFailed,
			Message:    r.redactor.String("encode result: " + err.Error()),
			ResultData: []ActionResult{},
		})
	}
	if r.pretty {
		var indented bytes.Buffer
		if json.Indent(&indented, doc, "", "  ") == nil {
			doc = indented.Bytes()
		}
	}
	doc = append(doc, '\n')
	if _, err := r.opts.Stdout.Write(doc); err != nil {
		r.log.Error("write result to standard output", "error", err.Error())
		return err
	}
	return nil
}

// clientCache builds AWS clients once per distinct credentials and Region
// within a run, so several parameter sets share their connections.
type clientCache struct {
	asset   awsconfig.Asset
	env     map[string]string
	now     func() time.Time
	log     *slog.Logger
	clients map[[2]string]*awsconfig.Clients
}

func newClientCache(asset awsconfig.Asset, env map[string]string, now func() time.Time, log *slog.Logger) *clientCache {
	return &clientCache{asset: asset, env: env, now: now, log: log, clients: map[[2]string]*awsconfig.Clients{}}
}

func (c *clientCache) get(ctx context.Context, credentials, region string, hasCredentialsParameter bool) (*awsconfig.Clients, error) {
	key := [2]string{credentials, region}
	if cl, ok := c.clients[key]; ok {
		return cl, nil
	}
	cl, err := awsconfig.New(ctx, awsconfig.Request{
		Asset:       c.asset,
		Credentials: credentials,
		Region:      region,
		Env:         c.env,
		Now:         c.now,
		Logger:      c.log,

		HasCredentialsParameter: hasCredentialsParameter,
	})
	if err != nil {
		return nil, err
	}
	c.clients[key] = cl
	return cl, nil
}

// IsInputError reports whether err stops a whole run (exit status 2).
func IsInputError(err error) bool {
	var in *InputError
	return errors.As(err, &in)
}
