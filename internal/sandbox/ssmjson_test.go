package sandbox

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// withInvocationOp replaces GetCommandInvocation with a test operation
// that finds only command "cmd-found", so that these tests do not depend on
// the SSM side.
func withInvocationOp(s *Server) {
	s.ssmOps["GetCommandInvocation"] = func(ctx context.Context, call *ssmCall) (any, error) {
		var input struct {
			CommandId  string
			InstanceId string
		}
		if err := call.Decode(&input); err != nil {
			return nil, err
		}
		if input.CommandId != "cmd-found" {
			return nil, &APIError{Code: "InvocationDoesNotExist"}
		}
		return map[string]any{
			"CommandId":             input.CommandId,
			"InstanceId":            input.InstanceId,
			"Status":                "Success",
			"StandardOutputContent": call.Caller.ARN + " " + call.Region,
		}, nil
	}
	s.ssmOps["ListCommands"] = func(ctx context.Context, call *ssmCall) (any, error) {
		return nil, errors.New("list commands: backend unavailable")
	}
	s.ssmOps["ListDocuments"] = func(ctx context.Context, call *ssmCall) (any, error) {
		panic("test operation panics")
	}
}

func getInvocation(ts *coreSandbox, commandID string, optFns ...func(*ssm.Options)) (*ssm.GetCommandInvocationOutput, error) {
	return ts.ssmClient(exampleKeyProvider(), optFns...).GetCommandInvocation(context.Background(), &ssm.GetCommandInvocationInput{
		CommandId:  aws.String(commandID),
		InstanceId: aws.String("i-0123456789abcdef0"),
	})
}

func TestSSMResponseHeaders(t *testing.T) {
	ts := startCore(t, withInvocationOp)
	out, err := getInvocation(ts, "cmd-found")
	if err != nil {
		t.Fatalf("GetCommandInvocation: %v", err)
	}
	if got, want := aws.ToString(out.StandardOutputContent), "arn:aws:iam::123456789012:user/sandbox-user us-east-1"; got != want {
		t.Errorf("caller and region seen by the operation = %q, want %q", got, want)
	}

	raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response)
	if !ok {
		t.Fatalf("raw response is %T, want *smithyhttp.Response", awsmiddleware.GetRawResponse(out.ResultMetadata))
	}
	for _, name := range []string{"Content-Type", "X-Amzn-Requestid", "Date", "Content-Length", "Server", "Connection"} {
		if raw.Header.Get(name) == "" {
			t.Errorf("response lacks header %s; headers: %v", name, raw.Header)
		}
	}
	if got := raw.Header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := raw.Header.Get("Connection"); got != "keep-alive" {
		t.Errorf("Connection = %q, want keep-alive", got)
	}
	if got := raw.Header.Get("Server"); got != "Server" {
		t.Errorf("Server = %q, want Server", got)
	}
	requestID, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if len(requestID) != 36 || strings.Count(requestID, "-") != 4 {
		t.Errorf("request ID %q is not a UUID", requestID)
	}
}

func TestSSMTypedError(t *testing.T) {
	ts := startCore(t, withInvocationOp)
	_, err := getInvocation(ts, "cmd-missing")
	var notFound *types.InvocationDoesNotExist
	if !errors.As(err, &notFound) {
		t.Fatalf("got %T (%v), want *types.InvocationDoesNotExist", err, err)
	}
	var respErr *smithyhttp.ResponseError
	if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusBadRequest {
		t.Errorf("HTTP status of %v is not 400", err)
	}
}

func TestSSMUnknownOperation(t *testing.T) {
	ts := startCore(t, func(s *Server) { delete(s.ssmOps, "DescribeMaintenanceWindowSchedule") })
	_, err := ts.ssmClient(exampleKeyProvider()).DescribeMaintenanceWindowSchedule(context.Background(), &ssm.DescribeMaintenanceWindowScheduleInput{})
	wantAWSError(t, err, "UnknownOperationException")
}

func TestSSMSerializationException(t *testing.T) {
	ts := startCore(t, withInvocationOp)
	req := ts.signedRequest(t, "POST", "/", []byte(`{"CommandId": 42`), http.Header{
		"X-Amz-Target": {"AmazonSSM.GetCommandInvocation"},
		"Content-Type": {"application/x-amz-json-1.1"},
	}, exampleKey(), "ssm", DefaultRegion)
	resp, body := ts.do(t, req)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", resp.StatusCode)
	}
	if got := resp.Header.Get("X-Amzn-ErrorType"); got != "SerializationException" {
		t.Errorf("X-Amzn-ErrorType = %q", got)
	}
	wantContains(t, body, `"__type":"SerializationException"`)
}

func TestSSMHandlerFailures(t *testing.T) {
	ts := startCore(t, withInvocationOp)
	client := ts.ssmClient(exampleKeyProvider(), func(o *ssm.Options) { o.RetryMaxAttempts = 1 })

	_, err := client.ListCommands(context.Background(), &ssm.ListCommandsInput{})
	wantAWSError(t, err, "InternalServerError")

	_, err = client.ListDocuments(context.Background(), &ssm.ListDocumentsInput{})
	wantAWSError(t, err, "InternalServerError")

	// The server survives the panic.
	if _, err := getInvocation(ts, "cmd-found"); err != nil {
		t.Fatalf("GetCommandInvocation after a panic: %v", err)
	}
}

func TestSSMThrottlingRetried(t *testing.T) {
	ts := startCore(t, withInvocationOp)
	ts.srv.Faults().Throttle("GetCommandInvocation", 2)

	if _, err := getInvocation(ts, "cmd-found"); err != nil {
		t.Fatalf("GetCommandInvocation with 2 throttled attempts: %v", err)
	}
	if got := ts.srv.Faults().Calls("GetCommandInvocation"); got != 3 {
		t.Errorf("Calls = %d, want 3", got)
	}
}

func TestSSMThrottlingExhaustsRetries(t *testing.T) {
	ts := startCore(t, withInvocationOp)
	ts.srv.Faults().Throttle("GetCommandInvocation", 10)

	_, err := getInvocation(ts, "cmd-found", func(o *ssm.Options) { o.RetryMaxAttempts = 2 })
	wantAWSError(t, err, "ThrottlingException")
	wantContains(t, err.Error(), "Rate exceeded")
	if got := ts.srv.Faults().Calls("GetCommandInvocation"); got != 2 {
		t.Errorf("Calls = %d, want 2", got)
	}
}

func TestSSMServerErrorRetried(t *testing.T) {
	ts := startCore(t, withInvocationOp)
	ts.srv.Faults().ServerError("GetCommandInvocation", 1)

	if _, err := getInvocation(ts, "cmd-found"); err != nil {
		t.Fatalf("GetCommandInvocation after a 500: %v", err)
	}
	if got := ts.srv.Faults().Calls("GetCommandInvocation"); got != 2 {
		t.Errorf("Calls = %d, want 2", got)
	}

	ts.srv.Faults().ServerError("GetCommandInvocation", 5)
	_, err := getInvocation(ts, "cmd-found", func(o *ssm.Options) { o.RetryMaxAttempts = 1 })
	var respErr *smithyhttp.ResponseError
	if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusInternalServerError {
		t.Fatalf("got %v, want HTTP 500", err)
	}
	wantAWSError(t, err, "InternalServerError")
}

func TestSSMLatency(t *testing.T) {
	ts := startCore(t, withInvocationOp)
	ts.srv.Faults().Latency("GetCommandInvocation", 300*time.Millisecond)

	start := time.Now()
	if _, err := getInvocation(ts, "cmd-found"); err != nil {
		t.Fatalf("GetCommandInvocation: %v", err)
	}
	if elapsed := time.Since(start); elapsed < 300*time.Millisecond {
		t.Errorf("call took %v, want at least 300ms", elapsed)
	}

	// A client that gives up first gets its own timeout.
	ts.srv.Faults().Latency("GetCommandInvocation", time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := ts.ssmClient(exampleKeyProvider()).GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{
		CommandId: aws.String("cmd-found"), InstanceId: aws.String("i-0123456789abcdef0"),
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context deadline", err)
	}
}
