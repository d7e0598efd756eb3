package sandbox

import (
	"sync"
	"time"
)

// Faults is the switchboard of failures that tests turn on. Operations are
// named as AWS names them: the SSM operation ("GetCommandInvocation"), the
// STS action ("AssumeRole"), the S3 operation of the SDK ("GetObject",
// "PutObject", "HeadBucket", ...) and, for instance metadata, "GetToken",
// "GetMetadata" and "GetDynamicData".
//
// Throttling, server errors and latency apply to SSM, STS and S3 after the
// request's signature has been verified. All methods are safe for
// concurrent use.
type Faults struct {
	mu                sync.Mutex
	throttle          map[string]int
	serverError       map[string]int
	latency           map[string]time.Duration
	calls             map[string]int
	imdsTokenNoAnswer bool
}

// faultKind is the failure that an arriving call must get.
type faultKind int

const (
	faultNone faultKind = iota
	faultThrottle
	faultServerError
)

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

// IMDSTokenNoAnswer makes the IMDSv2 token request (PUT /latest/api/token)
// hang until the client gives up, as it does in EC2 when the metadata hop
// limit drops the response before it reaches a container.
func (f *Faults) IMDSTokenNoAnswer(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imdsTokenNoAnswer = on
}

// Calls returns how many calls of op have arrived so far, faulted or not.
// For SSM, STS and S3 only calls with a valid signature count.
func (f *Faults) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// arrive counts a call of op and returns the fault it must get and how long
// to delay it first. Throttling takes precedence over server errors.
func (f *Faults) arrive(op string) (faultKind, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()

	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++

	delay := f.latency[op]
	if f.throttle[op] > 0 {
		f.throttle[op]--
		return faultThrottle, delay
	}
	if f.serverError[op] > 0 {
		f.serverError[op]--
		return faultServerError, delay
	}
	return faultNone, delay
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
