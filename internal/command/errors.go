package command

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// hints add what to do next to AWS error codes that SOAR users meet most.
var hints = map[string]string{
	"InvalidInstanceId":           "the instance is not a managed instance that is online in this Region and account; check its SSM Agent, its instance profile, and the Region",
	"InvalidDocument":             "check the document name, its version and its hash in this Region",
	"InvalidDocumentVersion":      "the document has no such version",
	"InvalidParameters":           "the parameters do not match the document's parameters",
	"InvalidOutputFolder":         "the S3 bucket or key prefix for the output is invalid",
	"UnsupportedPlatformType":     "the document does not support the instance's platform",
	"AccessDeniedException":       "the IAM identity lacks permission for this call",
	"AccessDenied":                "the IAM identity lacks permission for this call",
	"ExpiredTokenException":       "the credentials have expired; get new ones",
	"UnrecognizedClientException": "the access key is not valid in this Region or account",
	"InvalidSignatureException":   "the secret key does not match the access key",
}

// Explain rewrites an error from an AWS call in plain words. An AWS error
// becomes its code, AWS's own message and a hint where one helps. A request
// that never got a response becomes the URL, how many attempts were made
// and the network cause, with advice on what to check. Other errors pass
// through unchanged.
func Explain(err error) error {
	if err == nil {
		return nil
	}
	// A cancelled run is not a network problem. The message stays short
	// because the caller adds why the run was cancelled.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &awsError{msg: "cancelled before AWS responded", err: err}
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		msg := api.ErrorCode()
		if m := strings.TrimSpace(api.ErrorMessage()); m != "" {
			msg += ": " + m
		}
		if hint, ok := hints[api.ErrorCode()]; ok {
			msg += " (" + hint + ")"
		}
		return &awsError{msg: msg, err: err}
	}

	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		msg, cause := "request failed", send.Err
		var urlErr *url.Error
		if errors.As(send.Err, &urlErr) {
			msg, cause = fmt.Sprintf("request to %s failed", urlErr.URL), urlErr.Err
		}
		var attempts *retry.MaxAttemptsError
		if errors.As(err, &attempts) {
			msg += fmt.Sprintf(" after %d attempts", attempts.Attempt)
		}
		msg += ": " + cause.Error() + "; check endpoint_url, the Region, the network and the proxy settings"
		return &awsError{msg: msg, err: err}
	}
	return err
}

type awsError struct {
	msg string
	err error
}

func (e *awsError) Error() string { return e.msg }
func (e *awsError) Unwrap() error { return e.err }

// ErrorCode returns the AWS error code inside err, or "".
func ErrorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// isThrottle reports whether err is AWS asking the caller to slow down.
func isThrottle(err error) bool {
	switch ErrorCode(err) {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown":
		return true
	}
	return false
}

// WaitTimeoutError is returned when wait_seconds runs out before every
// invocation reached a final status.
type WaitTimeoutError struct {
	CommandID string
	Waited    string
	Pending   []string // "i-0abc (InProgress)"
}

func (e *WaitTimeoutError) Error() string {
	if e.undelivered() {
		return fmt.Sprintf("command %s was not delivered within %s (waiting: %s); SSM delivers it when the instance's SSM Agent connects, until the delivery timeout (timeout_seconds) ends, so check the instance's ping status with describe instance and follow the command with list commands (command_id %s)",
			e.CommandID, e.Waited, strings.Join(e.Pending, ", "), e.CommandID)
	}
	return fmt.Sprintf("command %s did not finish within %s (still running: %s); it keeps running on the instance, so raise wait_seconds or follow it with list commands (command_id %s)",
		e.CommandID, e.Waited, strings.Join(e.Pending, ", "), e.CommandID)
}

// undelivered reports whether no pending invocation has reached its
// instance: each is Pending, Delayed or not yet listed by SSM.
func (e *WaitTimeoutError) undelivered() bool {
	for _, p := range e.Pending {
		if !strings.HasSuffix(p, " (Pending)") && !strings.HasSuffix(p, " (Delayed)") && !strings.HasSuffix(p, " (not yet visible)") {
			return false
		}
	}
	return len(e.Pending) > 0
}
