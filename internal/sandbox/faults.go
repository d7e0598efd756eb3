package sandbox

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Faults is the switchboard of failures that tests turn on. Operations are
// named as AWS names them: the SSM operation ("GetCommandInvocation"), the
// STS action ("AssumeRole"), the S3 operation of the SDK ("GetObject",
// "PutObject", "HeadBucket", ...) and, for instance metadata, "GetToken",
// "GetMetadata" and "GetDynamicData".
//
// Throttling, server errors, the errors of Fail and latency apply to SSM,
// STS and S3 after the request's signature has been verified. All methods
// are safe for concurrent use.
type Faults struct {
	mu                sync.Mutex
	throttle          map[string]int
	serverError       map[string]int
	failures          map[string]failure
	latency           map[string]time.Duration
	breakAfter        map[string]int64
	stallAfter        map[string]int64
	stalled           map[string]int
	calls             map[string]int
	imdsTokenNoAnswer bool
	imdsTokenStatus   int
}

// failure is the pending error of Fail for one operation.
type failure struct {
	code   string
	status int
	left   int
}

// faultKind is the failure that an arriving call must get.
type faultKind int

const (
	faultNone faultKind = iota
	faultThrottle
	faultServerError
	faultFail
)

// arrival is the treatment of an arriving call: a delay, then its fault.
type arrival struct {
	kind  faultKind
	delay time.Duration
	// err is the error to return for faultFail.
	err *APIError
	// cut, when set, drops the connection after cutAfter bytes of the
	// response body.
	cut      bool
	cutAfter int64
	// stall, when set, holds the response after cutAfter bytes until the
	// client gives up, instead of dropping the connection.
	stall bool
}

// Throttle makes the next n calls of op fail with the service's throttling
// error: SSM ThrottlingException, STS Throttling or S3 SlowDown. A later call
// replaces the count, and n <= 0 switches it off.
func (f *Faults) Throttle(op string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttle = setCount(f.throttle, op, n)
}

// ServerError makes the next n calls of op fail with HTTP 500 in the
// service's error shape. A later call replaces the count, and n <= 0
// switches it off.
func (f *Faults) ServerError(op string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.serverError = setCount(f.serverError, op, n)
}

// Fail makes the next n calls of op fail with the AWS error code and HTTP
// status, in the service's error shape: JSON with "__type" for SSM, an XML
// ErrorResponse for STS and an XML Error for S3. A status of 0 means 500
// for InternalServerError and 400 for any other code. It is for errors
// that the sandbox does not produce by itself, such as InvalidInstanceId
// from DescribeInstanceInformation with Filters, or AccessDenied from
// AssumeRole for a role in the sandbox's own account. A later call
// replaces the fault, and n <= 0 or an empty code switches it off.
func (f *Faults) Fail(op, code string, status, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n <= 0 || code == "" {
		delete(f.failures, op)
		return
	}
	if f.failures == nil {
		f.failures = map[string]failure{}
	}
	f.failures[op] = failure{code: code, status: status, left: n}
}

// Latency delays every later call of op by d before it is served, or until
// the client gives up. d <= 0 switches it off.
func (f *Faults) Latency(op string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d <= 0 {
		delete(f.latency, op)
		return
	}
	if f.latency == nil {
		f.latency = map[string]time.Duration{}
	}
	f.latency[op] = d
}

// BreakResponse makes the next call of op send only the first after bytes
// of its response body, then drop the connection, as a network failure in
// the middle of a download does. It applies once.
func (f *Faults) BreakResponse(op string, after int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.breakAfter == nil {
		f.breakAfter = map[string]int64{}
	}
	f.breakAfter[op] = max(after, 0)
}

// StallResponse makes the next call of op send only the first after bytes
// of its response body, then send nothing more until the client gives up,
// as a download that hangs does. It applies once. Stalled reports when
// the response has reached that point.
func (f *Faults) StallResponse(op string, after int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stallAfter == nil {
		f.stallAfter = map[string]int64{}
	}
	f.stallAfter[op] = max(after, 0)
}

// Stalled returns how many responses of op have stopped at the point that
// StallResponse set.
func (f *Faults) Stalled(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stalled[op]
}

func (f *Faults) markStalled(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stalled == nil {
		f.stalled = map[string]int{}
	}
	f.stalled[op]++
}

// IMDSTokenNoAnswer makes the IMDSv2 token request (PUT /latest/api/token)
// hang until the client gives up, as it does in EC2 when the metadata hop
// limit drops the response before it reaches a container.
func (f *Faults) IMDSTokenNoAnswer(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imdsTokenNoAnswer = on
}

// IMDSTokenStatus makes every later IMDSv2 token request (PUT
// /latest/api/token) fail with the HTTP status and EC2's HTML error page,
// for a metadata service without IMDSv2. On 403, 404 and 405 the SDK's
// IMDS client falls back to IMDSv1 unless its EnableFallback is false
// (feature/ec2/imds v1.20.9). The status takes precedence over
// IMDSTokenNoAnswer. A status outside 400 to 599 switches it off.
func (f *Faults) IMDSTokenStatus(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if status < 400 || status > 599 {
		status = 0
	}
	f.imdsTokenStatus = status
}

// Calls returns how many calls of op have arrived so far, faulted or not.
// For SSM, STS and S3 only calls with a valid signature count.
func (f *Faults) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// arrive counts a call of op and returns the fault it must get and how long
// to delay it first. Throttling takes precedence over server errors, and
// both over the errors of Fail. A fault that does not apply keeps its count.
func (f *Faults) arrive(op string) arrival {
	f.mu.Lock()
	defer f.mu.Unlock()

	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++

	a := arrival{delay: f.latency[op]}
	if after, ok := f.breakAfter[op]; ok {
		delete(f.breakAfter, op)
		a.cut, a.cutAfter = true, after
	}
	if after, ok := f.stallAfter[op]; ok {
		delete(f.stallAfter, op)
		a.cut, a.cutAfter, a.stall = true, after, true
	}
	switch {
	case f.throttle[op] > 0:
		f.throttle[op]--
		a.kind = faultThrottle
	case f.serverError[op] > 0:
		f.serverError[op]--
		a.kind = faultServerError
	case f.failures[op].left > 0:
		fail := f.failures[op]
		fail.left--
		f.failures[op] = fail
		a.kind = faultFail
		a.err = &APIError{
			Code:    fail.code,
			Message: fmt.Sprintf("The sandbox returns %s for this %s call because a test requested it.", fail.code, op),
			Status:  fail.status,
		}
	}
	return a
}

// countCall counts a call of op that no fault applies to.
func (f *Faults) countCall(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++
}

func (f *Faults) tokenNoAnswer() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.imdsTokenNoAnswer
}

func (f *Faults) tokenStatus() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.imdsTokenStatus
}

// failIMDSToken responds to an IMDSv2 token request with the status of
// IMDSTokenStatus, and counts and logs it as serveIMDS does. It returns
// false, having written nothing, when r is no token request or the fault
// is off.
func (s *Server) failIMDSToken(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPut || r.URL.Path != imdsTokenPath {
		return false
	}
	status := s.faults.tokenStatus()
	if status == 0 {
		return false
	}

	s.faults.countCall("GetToken")
	imdsError(w, status)
	s.log.LogAttrs(r.Context(), slog.LevelDebug, "request",
		slog.String("service", "imds"),
		slog.String("operation", "GetToken"),
		slog.Int("status", status),
		slog.String("fault", "IMDSTokenStatus"))
	return true
}

func setCount(counts map[string]int, op string, n int) map[string]int {
	if n <= 0 {
		delete(counts, op)
		return counts
	}
	if counts == nil {
		counts = map[string]int{}
	}
	counts[op] = n
	return counts
}
