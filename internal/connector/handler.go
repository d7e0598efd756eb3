package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/awsssm/awsssm/internal/awsconfig"
	"github.com/awsssm/awsssm/internal/vault"
)

// Handler runs one action for one validated parameter set.
type Handler interface {
	Run(ctx context.Context, env *Env, params map[string]any) (*Outcome, error)
}

// HandlerFunc adapts a function with a typed parameter struct to Handler.
// The struct's json tags name the parameters; values arrive already checked
// against app.json and converted (strings, int64 numbers, bools).
type HandlerFunc[P any] func(ctx context.Context, env *Env, params P) (*Outcome, error)

// Run decodes params into P and calls the function.
func (f HandlerFunc[P]) Run(ctx context.Context, env *Env, params map[string]any) (*Outcome, error) {
	var typed P
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encode parameters: %w", err)
	}
	if err := json.Unmarshal(raw, &typed); err != nil {
		return nil, fmt.Errorf("decode parameters into %T: %w", typed, err)
	}
	return f(ctx, env, typed)
}

// SecretParameters names, for one raw parameter set, the parameters whose
// values are secrets beyond the password-typed ones, for example a
// SecureString value in add parameter. The connector calls it before
// validating the set, so the values are masked even when validation fails.
type SecretParameters func(raw map[string]any) []string

// WithSecrets attaches a SecretParameters function to a handler.
func WithSecrets(h Handler, secrets SecretParameters) Handler {
	return &secretHandler{Handler: h, secrets: secrets}
}

type secretHandler struct {
	Handler
	secrets SecretParameters
}

// Outcome is a handler's product: the result's data and summary, and
// optionally its message (the summary's pairs when empty). A handler that
// fails returns an error and may still return an Outcome, whose data then
// explains the failure (an exit code and stderr, say).
type Outcome struct {
	Data    []any
	Summary Summary
	Message string
}

// Env holds what the connector built for a handler: AWS clients, the vault,
// and the streams for progress and logs. Handlers never build clients, read
// the asset configuration or print.
type Env struct {
	// AWS holds the SSM, S3 and STS clients, the Region and the credential
	// source chosen for this parameter set.
	AWS *awsconfig.Clients
	// DefaultS3Bucket is the asset's default_s3_bucket; empty when not set.
	DefaultS3Bucket string
	// Vault stores files that the action produces.
	Vault *vault.Vault
	// ContainerID is the SOAR container the run belongs to; empty when run by hand.
	ContainerID string
	// Log receives debug lines; secrets are masked on the way out.
	Log *slog.Logger
	// Now returns the current time.
	Now func() time.Time

	redactor *Redactor
	warnings []string
}

// Progress writes a line for the person or platform watching the action,
// about what it is doing. It goes to standard error, never to the result.
func (e *Env) Progress(format string, args ...any) {
	e.Log.Info(fmt.Sprintf(format, args...))
}

// Warn writes a warning line to standard error and adds the warning to the
// result's message, which the platform shows to playbooks and analysts.
func (e *Env) Warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	e.Log.Warn(msg)
	e.warnings = append(e.warnings, msg)
}

// AddSecret masks value in the result and the logs from now on, such as a
// decrypted SecureString that the caller did not ask to see in clear.
func (e *Env) AddSecret(value string) {
	if e.redactor != nil {
		e.redactor.Add(value)
	}
}
