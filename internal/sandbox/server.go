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
// with a key that the sandbox accepts. Requests are routed by the service named in
// the signature's credential scope.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
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

	// ExampleUserName is the IAM user that owns the example key pair.
	ExampleUserName = "sandbox-user"
	// DefaultInstanceID is the instance that instance metadata describes
	// when Options.InstanceID is empty.
	DefaultInstanceID = "i-0123456789abcdef0"
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
	// Region is the region that instance metadata reports, DefaultRegion when empty.
	Region string
	// InstanceID is the EC2 instance that instance metadata describes and
	// whose role credentials it hands out, DefaultInstanceID when empty.
	InstanceID string
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

	// stop is closed by Close, to release requests that a fault holds back.
	stop      chan struct{}
	closeOnce sync.Once
	closeErr  error

	mu sync.Mutex

	// ssmOps maps SSM operation names (the part after "AmazonSSM.") to handlers.
	ssmOps map[string]ssmHandler
	ssm    ssmState

	creds credentialStore
	imds  imdsState
	s3    *s3Service

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

// status returns the HTTP status of e: Status when set, else 500 for
// InternalServerError and 400 for everything else.
func (e *APIError) status() int {
	switch {
	case e.Status != 0:
		return e.Status
	case e.Code == "InternalServerError":
		return http.StatusInternalServerError
	default:
		return http.StatusBadRequest
	}
}

// Faults returns the switchboard of failures that tests turn on.
func (s *Server) Faults() *Faults { return s.faults }

// StateDir returns the state directory in use, the temporary one included.
func (s *Server) StateDir() string { return s.opts.StateDir }

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// New builds a Server from opts. It creates the state directory when needed,
// opens the S3 store in it and then starts the SSM side.
func New(opts Options) (*Server, error) {
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.InstanceID == "" {
		opts.InstanceID = DefaultInstanceID
	}
	s := &Server{opts: opts, log: opts.Logger, faults: &Faults{}, stop: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}

	if err := s.openStateDir(); err != nil {
		return nil, err
	}

	s3, err := newS3Service(s)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.s3 = s3

	s.ssmOps = s.ssmOperations()
	if err := s.startSSM(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openStateDir creates the state directory, or a temporary one that Close
// removes when Options.StateDir is empty.
func (s *Server) openStateDir() error {
	if s.opts.StateDir == "" {
		dir, err := os.MkdirTemp("", "awsssm-sandbox-")
		if err != nil {
			return fmt.Errorf("create temporary state directory: %w", err)
		}
		s.opts.StateDir = dir
		s.closers = append(s.closers, func() error { return os.RemoveAll(dir) })
		return nil
	}
	if err := os.MkdirAll(s.opts.StateDir, 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	return nil
}

// Close stops what the server started, in reverse order. It releases requests
// that a fault holds back first. Calls after the first return its result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		var errs []error
		for i := len(s.closers) - 1; i >= 0; i-- {
			errs = append(errs, s.closers[i]())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// ServeHTTP routes unsigned requests under /latest/ to instance metadata,
// and everything else to SSM, STS or S3 by the service in its SigV4
// credential scope.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isIMDSRequest(r) {
		if s.failIMDSToken(w, r) {
			return
		}
		s.serveIMDS(w, r)
		return
	}
	s.serveSigned(w, r)
}

// isIMDSRequest reports whether r is for instance metadata. A signed request
// under /latest/ is for an S3 bucket that happens to be named "latest".
func isIMDSRequest(r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, "/latest/") {
		return false
	}
	return r.Header.Get("Authorization") == "" && !r.URL.Query().Has("X-Amz-Credential")
}

// inbound is one request to SSM, STS or S3 on its way through the routing layer.
type inbound struct {
	r         *http.Request
	service   string
	operation string
	requestID string
	auth      *verifiedRequest
	// body is the whole request body for SSM and STS, read before the
	// signature check. S3 bodies are streamed by the S3 layer.
	body []byte
}

// caller returns the identity of the verified request.
func (in *inbound) caller() Caller { return in.auth.caller }

// region returns the region of the signature's credential scope.
func (in *inbound) region() string { return in.auth.sig.Region }

func (s *Server) serveSigned(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &responseRecorder{ResponseWriter: w}
	in := &inbound{r: r, service: guessService(r)}
	defer func() { s.logRequest(in, rec, time.Since(start)) }()

	sig, authErr := parseSigV4(r)
	if sig != nil && sig.Service != "" {
		in.service = sig.Service
	}
	in.requestID = newRequestID(in.service)
	if authErr != nil {
		s.writeError(rec, in, authErr.apiError(in.service))
		return
	}
	switch in.service {
	case "ssm", "sts", "s3":
	default:
		s.writeError(rec, in, &APIError{
			Code:    "UnrecognizedService",
			Message: fmt.Sprintf("The sandbox does not serve the service %q named in the credential scope.", in.service),
			Status:  http.StatusBadRequest,
		})
		return
	}

	if in.service != "s3" {
		body, apiErr := readRPCBody(r)
		if apiErr != nil {
			s.writeError(rec, in, apiErr)
			return
		}
		in.body = body
	}

	in.operation = operationName(in)

	verified, authErr := s.verifySigV4(r, sig, in.body)
	if authErr != nil {
		s.writeError(rec, in, authErr.apiError(in.service))
		return
	}
	in.auth = verified

	if !s.applyFaults(rec, in) {
		return
	}

	switch in.service {
	case "ssm":
		s.serveSSM(rec, in)
	case "sts":
		s.serveSTS(rec, in)
	case "s3":
		s.serveS3(rec, in)
	}
}

// maxRPCBodyBytes bounds an SSM or STS request body, which the sandbox reads
// into memory to verify its hash. It is a guard of the sandbox, not an AWS
// limit, and AWS's own limits on these APIs are far lower.
const maxRPCBodyBytes = 16 << 20

func readRPCBody(r *http.Request) ([]byte, *APIError) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRPCBodyBytes+1))
	if err != nil {
		return nil, &APIError{Code: "IncompleteBody", Message: "Reading the request body failed: " + err.Error(), Status: http.StatusBadRequest}
	}
	if len(body) > maxRPCBodyBytes {
		return nil, &APIError{Code: "RequestEntityTooLarge", Message: fmt.Sprintf("The request body is larger than %d bytes.", maxRPCBodyBytes), Status: http.StatusRequestEntityTooLarge}
	}
	return body, nil
}

// guessService names the service of a request whose credential scope cannot
// be read, so that its error comes back in a shape the client understands.
func guessService(r *http.Request) string {
	if r.Header.Get("X-Amz-Target") != "" {
		return "ssm"
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return "sts"
	}
	return "s3"
}

// operationName returns the AWS name of the operation that in calls.
func operationName(in *inbound) string {
	switch in.service {
	case "ssm":
		return strings.TrimPrefix(in.r.Header.Get("X-Amz-Target"), ssmTargetPrefix)
	case "sts":
		return stsAction(in)
	default:
		return s3Operation(in.r)
	}
}

// applyFaults counts the call, delays it and fails it as the test requested.
// It returns false when it has written the response, or the client gave up.
func (s *Server) applyFaults(w *responseRecorder, in *inbound) bool {
	fault := s.faults.arrive(in.operation)
	if fault.delay > 0 && !s.sleep(in.r.Context(), fault.delay) {
		return false
	}
	if fault.cut {
		w.cutAfter = &fault.cutAfter
		if fault.stall {
			w.stall = func() {
				s.faults.markStalled(in.operation)
				select {
				case <-in.r.Context().Done():
				case <-s.stop:
				}
			}
		}
	}

	var apiErr *APIError
	switch fault.kind {
	case faultThrottle:
		apiErr = throttlingError(in.service)
	case faultServerError:
		apiErr = serverError(in.service)
	case faultFail:
		apiErr = fault.err
	default:
		return true
	}

	// Read what is left of a small body so that the client sees the error
	// rather than a connection closed under its upload. A client that waits
	// for 100 Continue sends no body at all.
	if in.r.Header.Get("Expect") == "" {
		io.Copy(io.Discard, io.LimitReader(in.r.Body, 8<<20))
	}
	s.writeError(w, in, apiErr)
	return false
}

func throttlingError(service string) *APIError {
	switch service {
	case "sts":
		return &APIError{Code: "Throttling", Message: "Rate exceeded", Status: http.StatusBadRequest}
	case "s3":
		return &APIError{Code: "SlowDown", Message: "Please reduce your request rate.", Status: http.StatusServiceUnavailable}
	default:
		return &APIError{Code: "ThrottlingException", Message: "Rate exceeded", Status: http.StatusBadRequest}
	}
}

func serverError(service string) *APIError {
	switch service {
	case "sts":
		return &APIError{Code: "InternalFailure", Message: "The request processing has failed because of an unknown error, exception or failure.", Status: http.StatusInternalServerError}
	case "s3":
		return &APIError{Code: "InternalError", Message: "We encountered an internal error. Please try again.", Status: http.StatusInternalServerError}
	default:
		return &APIError{Code: "InternalServerError", Message: "An internal error occurred.", Status: http.StatusInternalServerError}
	}
}

// sleep waits for d. It returns false when the client gave up first. When
// the server closes first, it aborts the request without a response.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.stop:
		panic(http.ErrAbortHandler)
	}
}

// writeError writes apiErr in the error shape of in's service.
func (s *Server) writeError(w http.ResponseWriter, in *inbound, apiErr *APIError) {
	switch in.service {
	case "ssm":
		s.writeSSMError(w, in.requestID, apiErr)
	case "s3":
		s.writeS3Error(w, in, apiErr)
	default:
		s.writeSTSError(w, in.requestID, apiErr)
	}
}

// logRequest writes the one debug line per request. It never logs headers,
// so no signature, token or secret reaches the log.
func (s *Server) logRequest(in *inbound, rec *responseRecorder, elapsed time.Duration) {
	s.log.LogAttrs(in.r.Context(), slog.LevelDebug, "request",
		slog.String("service", in.service),
		slog.String("operation", in.operation),
		slog.Int("status", rec.status),
		slog.Duration("duration", elapsed),
		slog.String("request_id", in.requestID),
	)
}

// newRequestID returns a request ID in the form the service uses: a UUID for
// SSM and STS, 16 upper-case hex digits for S3.
func newRequestID(service string) string {
	var b [16]byte
	rand.Read(b[:])
	if service == "s3" {
		return strings.ToUpper(hex.EncodeToString(b[:8]))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// responseRecorder remembers the status of a response for the log, and lets
// a service adjust the headers just before they are sent.
type responseRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	// beforeHeader, when set, runs once with the final status before the
	// headers are written.
	beforeHeader func(status int, h http.Header)
	// cutAfter, when set, is how many body bytes go out before the
	// connection is dropped (Faults.BreakResponse).
	cutAfter *int64
	written  int64
	// stall, when set, runs at the cut and returns when the connection may
	// be dropped (Faults.StallResponse).
	stall func()
}

func (rec *responseRecorder) WriteHeader(status int) {
	if rec.wroteHeader {
		return
	}
	rec.wroteHeader = true
	rec.status = status
	if rec.beforeHeader != nil {
		rec.beforeHeader(status, rec.Header())
	}
	rec.ResponseWriter.WriteHeader(status)
}

func (rec *responseRecorder) Write(p []byte) (int, error) {
	if !rec.wroteHeader {
		rec.WriteHeader(http.StatusOK)
	}
	if rec.cutAfter != nil && rec.written+int64(len(p)) > *rec.cutAfter {
		n, _ := rec.ResponseWriter.Write(p[:*rec.cutAfter-rec.written])
		rec.written += int64(n)
		if f, ok := rec.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		if rec.stall != nil {
			rec.stall()
		}
		panic(http.ErrAbortHandler)
	}
	n, err := rec.ResponseWriter.Write(p)
	rec.written += int64(n)
	return n, err
}

// Flush sends buffered data to the client.
func (rec *responseRecorder) Flush() {
	if !rec.wroteHeader {
		rec.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(rec.ResponseWriter).Flush()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (rec *responseRecorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }
