package sandbox

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestFaultsCountDown(t *testing.T) {
	var f Faults
	f.Throttle("SendCommand", 2)
	f.ServerError("SendCommand", 1)
	f.Fail("SendCommand", "InvalidDocument", http.StatusBadRequest, 1)
	f.Latency("SendCommand", time.Second)

	want := []faultKind{faultThrottle, faultThrottle, faultServerError, faultFail, faultNone, faultNone}
	for i, kind := range want {
		got := f.arrive("SendCommand")
		if got.kind != kind {
			t.Errorf("call %d: fault %d, want %d", i+1, got.kind, kind)
		}
		if got.delay != time.Second {
			t.Errorf("call %d: delay %v, want 1s", i+1, got.delay)
		}
		if kind == faultFail && (got.err == nil || got.err.Code != "InvalidDocument" || got.err.status() != http.StatusBadRequest) {
			t.Errorf("call %d: error %+v, want InvalidDocument with status 400", i+1, got.err)
		}
	}
	if got := f.Calls("SendCommand"); got != len(want) {
		t.Errorf("Calls = %d, want %d", got, len(want))
	}
	if got := f.arrive("ListCommands"); got.kind != faultNone || got.delay != 0 {
		t.Errorf("another operation got fault %d and delay %v", got.kind, got.delay)
	}
}

func TestFaultsFailStatus(t *testing.T) {
	var f Faults
	f.Fail("AssumeRole", "AccessDenied", http.StatusForbidden, 1)
	f.Fail("GetCallerIdentity", "InternalServerError", 0, 1)
	f.Fail("ListCommands", "InvalidFilterKey", 0, 1)

	cases := map[string]struct {
		code   string
		status int
	}{
		"AssumeRole":        {"AccessDenied", http.StatusForbidden},
		"GetCallerIdentity": {"InternalServerError", http.StatusInternalServerError},
		"ListCommands":      {"InvalidFilterKey", http.StatusBadRequest},
	}
	for op, want := range cases {
		got := f.arrive(op)
		if got.kind != faultFail || got.err == nil {
			t.Errorf("%s: fault %d, want faultFail", op, got.kind)
			continue
		}
		if got.err.Code != want.code {
			t.Errorf("%s: code %q, want %q", op, got.err.Code, want.code)
		}
		if got.err.status() != want.status {
			t.Errorf("%s: status %d, want %d", op, got.err.status(), want.status)
		}
		if !strings.Contains(got.err.Message, op) {
			t.Errorf("%s: message %q does not name the operation", op, got.err.Message)
		}
	}
}

func TestFaultsSwitchOff(t *testing.T) {
	var f Faults
	f.Throttle("GetObject", 3)
	f.Throttle("GetObject", 0)
	f.ServerError("GetObject", 3)
	f.ServerError("GetObject", -1)
	f.Fail("GetObject", "AccessDenied", http.StatusForbidden, 3)
	f.Fail("GetObject", "AccessDenied", http.StatusForbidden, 0)
	f.Fail("HeadObject", "AccessDenied", http.StatusForbidden, 3)
	f.Fail("HeadObject", "", http.StatusForbidden, 3)
	f.Latency("GetObject", time.Minute)
	f.Latency("GetObject", 0)
	for _, op := range []string{"GetObject", "HeadObject"} {
		if got := f.arrive(op); got.kind != faultNone || got.delay != 0 {
			t.Errorf("%s: switched-off faults still apply: fault %d, delay %v", op, got.kind, got.delay)
		}
	}

	f.IMDSTokenNoAnswer(true)
	if !f.tokenNoAnswer() {
		t.Error("IMDSTokenNoAnswer(true) did not take")
	}
	f.IMDSTokenNoAnswer(false)
	if f.tokenNoAnswer() {
		t.Error("IMDSTokenNoAnswer(false) did not take")
	}

	f.IMDSTokenStatus(http.StatusForbidden)
	if got := f.tokenStatus(); got != http.StatusForbidden {
		t.Errorf("IMDSTokenStatus(403) gave status %d", got)
	}
	for _, off := range []int{0, http.StatusOK, 600} {
		f.IMDSTokenStatus(http.StatusForbidden)
		f.IMDSTokenStatus(off)
		if got := f.tokenStatus(); got != 0 {
			t.Errorf("IMDSTokenStatus(%d) left status %d, want it off", off, got)
		}
	}
}

func TestFaultsConcurrentUse(t *testing.T) {
	var f Faults
	f.Throttle("AssumeRole", 100)
	f.Fail("AssumeRole", "AccessDenied", http.StatusForbidden, 50)
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[faultKind]int{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				got := f.arrive("AssumeRole")
				f.Latency("Other", time.Millisecond)
				f.IMDSTokenStatus(http.StatusNotFound)
				_ = f.Calls("AssumeRole")
				mu.Lock()
				counts[got.kind]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if counts[faultThrottle] != 100 {
		t.Errorf("%d calls throttled, want exactly 100", counts[faultThrottle])
	}
	if counts[faultFail] != 50 {
		t.Errorf("%d calls failed by Fail, want exactly 50", counts[faultFail])
	}
	if got := f.Calls("AssumeRole"); got != 400 {
		t.Errorf("Calls = %d, want 400", got)
	}
}

// wantFailure checks that err is the AWS error code with the HTTP status.
func wantFailure(t *testing.T, op string, err error, code string, status int) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("%s: got %v, want the error %s", op, err, code)
		return
	}
	if apiErr.ErrorCode() != code {
		t.Errorf("%s: error code %q, want %q", op, apiErr.ErrorCode(), code)
	}
	if !strings.Contains(apiErr.ErrorMessage(), op) {
		t.Errorf("%s: error message %q does not name the operation", op, apiErr.ErrorMessage())
	}
	var respErr *smithyhttp.ResponseError
	if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != status {
		t.Errorf("%s: got %v, want HTTP status %d", op, err, status)
	}
}

func TestFailInEachServiceShape(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()
	ssmClient := ts.ssmClient(exampleKeyProvider())
	stsClient := ts.stsClient(exampleKeyProvider())
	s3Client := ts.s3Client(exampleKeyProvider(), DefaultRegion)

	// The SDK decodes each service's error shape, so a code that arrives
	// intact shows that the shape was right. None of these errors is
	// retried, so each fault takes exactly one call.
	cases := []struct {
		op     string
		code   string
		status int
		call   func() error
	}{
		{"DescribeInstanceInformation", "InvalidInstanceId", http.StatusBadRequest, func() error {
			_, err := ssmClient.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{})
			return err
		}},
		{"AssumeRole", "AccessDenied", http.StatusForbidden, func() error {
			_, err := stsClient.AssumeRole(ctx, &sts.AssumeRoleInput{
				RoleArn:         aws.String("arn:aws:iam::" + DefaultAccountID + ":role/ops"),
				RoleSessionName: aws.String("fault-test"),
			})
			return err
		}},
		{"ListBuckets", "AccessDenied", http.StatusForbidden, func() error {
			_, err := s3Client.ListBuckets(ctx, &s3.ListBucketsInput{})
			return err
		}},
	}
	for _, c := range cases {
		// A status of 0 must give 400 for the SSM code.
		status := c.status
		if c.code == "InvalidInstanceId" {
			status = 0
		}
		ts.srv.Faults().Fail(c.op, c.code, status, 1)

		wantFailure(t, c.op, c.call(), c.code, c.status)
		if err := c.call(); err != nil {
			t.Errorf("%s after the fault ran out: %v", c.op, err)
		}
		if n := ts.srv.Faults().Calls(c.op); n != 2 {
			t.Errorf("%s: %d calls, want 2", c.op, n)
		}
	}
}

func TestIMDSTokenStatusFault(t *testing.T) {
	ts := startCore(t)
	faults := ts.srv.Faults()

	for _, status := range []int{http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed} {
		faults.IMDSTokenStatus(status)
		tokens := faults.Calls("GetToken")

		req := newRequest(t, "PUT", ts.url+"/latest/api/token", "", "X-aws-ec2-metadata-token-ttl-seconds", "60")
		resp, body := ts.do(t, req)
		if resp.StatusCode != status {
			t.Errorf("token request: status %d, want %d", resp.StatusCode, status)
		}
		wantContains(t, body, "<h1>"+strconv.Itoa(status)+" - "+http.StatusText(status)+"</h1>")

		// Without fallback the SDK must give up rather than send a GET
		// without a token.
		if _, err := ts.imdsClient().GetRegion(context.Background(), &imds.GetRegionInput{}); err == nil {
			t.Errorf("status %d: GetRegion succeeded without a token", status)
		}
		if n := faults.Calls("GetToken") - tokens; n < 2 {
			t.Errorf("status %d: %d token requests counted, want at least 2", status, n)
		}
		if n := faults.Calls("GetMetadata"); n != 0 {
			t.Errorf("status %d: %d metadata requests, want none", status, n)
		}
	}

	faults.IMDSTokenStatus(0)
	if _, err := ts.imdsClient().GetRegion(context.Background(), &imds.GetRegionInput{}); err != nil {
		t.Fatalf("GetRegion after the fault is off: %v", err)
	}
}

func TestBreakResponseCutsDownload(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()
	client := ts.s3Client(exampleKeyProvider(), DefaultRegion)
	if err := ts.srv.CreateBucket("break-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	content := strings.Repeat("0123456789", 100_000)
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("break-bucket"), Key: aws.String("k"), Body: strings.NewReader(content)}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	ts.srv.Faults().BreakResponse("GetObject", 1000)
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("break-bucket"), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err == nil {
		t.Fatal("reading the broken body succeeded")
	}
	if len(got) != 1000 {
		t.Errorf("read %d bytes before the break, want 1000", len(got))
	}

	// The fault applies once.
	out, err = client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("break-bucket"), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("second GetObject: %v", err)
	}
	got, err = io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || len(got) != len(content) {
		t.Errorf("second read: %d bytes, error %v; want %d bytes", len(got), err, len(content))
	}
}
