// Package sandbox is a local AWS endpoint for demos and tests. One loopback
// HTTP server speaks the real wire protocols of the parts of AWS that the
// connector uses, so that the unmodified AWS SDK talks to it:
//
//   - SSM, JSON 1.1 protocol (X-Amz-Target: AmazonSSM.<Operation>)
//   - S3, REST with path-style addressing, backed by gofakes3
//   - STS, query protocol (AssumeRole, GetCallerIdentity)
//   - EC2 instance metadata, IMDSv2, under /latest/
//
// Every request to SSM, S3 and STS must carry a valid SigV4 signature made
// with a key the sandbox knows. Requests are routed by the service named in
// the signature's credential scope.
package sandbox

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The access key pair that the sandbox accepts without STS. It is AWS's own
// documented example pair, so it can never be a real credential.
const (
	ExampleAccessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	ExampleSecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	DefaultAccountID       = "123456789012"
	DefaultRegion          = "us-east-1"
)

// Options configures a Server.
type Options struct {
	// InstancesFile is the JSON file of managed instance definitions.
	InstancesFile string
	// DocumentsFile is an optional JSON file of custom SSM documents to seed.
	DocumentsFile string
	// StateDir holds instance directory trees and S3 objects. A temporary
	// directory is used, and removed by Close, when it is empty.
	StateDir string
	// AccountID is the account that owns every resource; DefaultAccountID when empty.
	AccountID string
	// Logger receives one line per request and every error the sandbox handles.
	Logger *slog.Logger
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Server is the sandbox. It is an http.Handler; serve it on loopback only.
type Server struct {
	opts   Options
	log    *slog.Logger
	faults *Faults

	mu sync.Mutex

	// ssmOps maps SSM operation names (the part after "AmazonSSM.") to handlers.
	ssmOps map[string]ssmHandler
	ssm    ssmState

	closers []func() error
}

// ssmHandler serves one SSM operation. It decodes its input from call and
// returns the output value to encode as JSON, or an *APIError.
type ssmHandler func(ctx context.Context, call *ssmCall) (any, error)

// APIError is an error in the shape AWS returns it: a code such as
// "InvocationDoesNotExist", a message and an HTTP status.
type APIError struct {
	Code    string
	Message string
	Status  int
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Faults returns the switchboard of failures that tests turn on.
func (s *Server) Faults() *Faults { return s.faults }

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// ServeHTTP routes a request to IMDS by path, or to SSM, STS or S3 by the
// service in its SigV4 credential scope.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/latest/") {
		s.serveIMDS(w, r)
		return
	}
	s.serveSigned(w, r)
}

// New builds a Server from opts.
func New(opts Options) (*Server, error) {
	s := &Server{opts: opts, log: opts.Logger, faults: &Faults{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ssmOps = s.ssmOperations()
	if err := s.startSSM(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops what the server started, in reverse order.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	return errors.Join(errs...)
}

func (s *Server) serveIMDS(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not implemented", http.StatusNotImplemented)
}

func (s *Server) serveSigned(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not implemented", http.StatusNotImplemented)
}
