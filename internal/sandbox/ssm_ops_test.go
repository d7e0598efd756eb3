package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// ssmTestServer is a sandbox whose SSM operations are served over HTTP in
// the JSON 1.1 protocol, so that tests drive them with the real SDK.
//
// NOTE: it calls the SSM handlers directly, without the server's SigV4
// check and routing, which the core of the sandbox provides.
type ssmTestServer struct {
	*Server
	URL    string
	Client *ssm.Client
}

// newSSMTestServer starts a sandbox with the instances and documents of
// testdata/sandbox. edit, when given, changes the options first.
func newSSMTestServer(t *testing.T, edit ...func(*Options)) *ssmTestServer {
	t.Helper()
	opts := Options{
		InstancesFile: "../../testdata/sandbox/instances.json",
		DocumentsFile: "../../testdata/sandbox/documents.json",
		StateDir:      t.TempDir(),
	}
	for _, e := range edit {
		e(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })

	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveSSMForTest(s, w, r)
	}))
	t.Cleanup(ts.Close)

	client := ssm.New(ssm.Options{
		Region:       DefaultRegion,
		BaseEndpoint: aws.String(ts.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(ExampleAccessKeyID, ExampleSecretAccessKey, ""),
		HTTPClient:   ts.Client(),
	})
	return &ssmTestServer{Server: s, URL: ts.URL, Client: client}
}

func serveSSMForTest(s *Server, w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	handler := s.ssmOps[op]
	if handler == nil {
		writeTestSSMError(w, &APIError{Code: "UnknownOperationException", Message: op, Status: http.StatusBadRequest})
		return
	}
	call := &ssmCall{
		Operation: op,
		Body:      body,
		Region:    DefaultRegion,
		Caller:    Caller{AccessKeyID: ExampleAccessKeyID, AccountID: DefaultAccountID, ARN: "arn:aws:iam::" + DefaultAccountID + ":user/tester"},
	}
	out, err := handler(r.Context(), call)
	if err != nil {
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			apiErr = &APIError{Code: "InternalServerError", Message: err.Error(), Status: http.StatusInternalServerError}
		}
		writeTestSSMError(w, apiErr)
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func writeTestSSMError(w http.ResponseWriter, e *APIError) {
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
}

// raw posts a request body to an SSM operation and returns the decoded JSON
// response, to check members that the SDK's types cannot tell apart from
// absent ones.
func (ts *ssmTestServer) raw(t *testing.T, operation string, body any) map[string]any {
	t.Helper()
	payload, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, ts.URL, bytes.NewReader(payload))
	req.Header.Set("X-Amz-Target", "AmazonSSM."+operation)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", operation, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: decode answer: %v", operation, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d: %v", operation, resp.StatusCode, out)
	}
	return out
}

// sendShell runs commands with AWS-RunShellScript on one instance and
// returns the command id.
func (ts *ssmTestServer) sendShell(t *testing.T, instanceID string, params map[string][]string) string {
	t.Helper()
	out, err := ts.Client.SendCommand(context.Background(), &ssm.SendCommandInput{
		DocumentName: aws.String("AWS-RunShellScript"),
		InstanceIds:  []string{instanceID},
		Parameters:   params,
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	return aws.ToString(out.Command.CommandId)
}

// waitInvocation polls GetCommandInvocation until the step reaches a final
// status, treating InvocationDoesNotExist as not yet visible.
func (ts *ssmTestServer) waitInvocation(t *testing.T, commandID, instanceID, plugin string, timeout time.Duration) *ssm.GetCommandInvocationOutput {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		in := &ssm.GetCommandInvocationInput{CommandId: aws.String(commandID), InstanceId: aws.String(instanceID)}
		if plugin != "" {
			in.PluginName = aws.String(plugin)
		}
		out, err := ts.Client.GetCommandInvocation(context.Background(), in)
		var missing *types.InvocationDoesNotExist
		switch {
		case errors.As(err, &missing):
		case err != nil:
			t.Fatalf("get command invocation %s on %s: %v", commandID, instanceID, err)
		case isTerminalStatus(string(out.Status)):
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("command %s on %s did not finish within %s", commandID, instanceID, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitStatus polls GetCommandInvocation until the invocation has the
// given status.
func (ts *ssmTestServer) waitStatus(t *testing.T, commandID, instanceID string, status types.CommandInvocationStatus, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := ts.Client.GetCommandInvocation(context.Background(), &ssm.GetCommandInvocationInput{CommandId: aws.String(commandID), InstanceId: aws.String(instanceID)})
		if err == nil && out.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("command %s on %s did not reach %s within %s (last: %v, %v)", commandID, instanceID, status, timeout, out, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// apiErrorCode returns the AWS error code and message of err.
func apiErrorCode(t *testing.T, err error) (string, string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %v, want an AWS API error", err)
	}
	return apiErr.ErrorCode(), apiErr.ErrorMessage()
}

// expectError checks that err is the AWS error code, with a message that
// contains each fragment.
func expectError(t *testing.T, err error, code string, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	gotCode, message := apiErrorCode(t, err)
	if gotCode != code {
		t.Fatalf("got error %s (%s), want %s", gotCode, message, code)
	}
	for _, f := range fragments {
		if !strings.Contains(message, f) {
			t.Errorf("error message %q does not contain %q", message, f)
		}
	}
}

func TestSSMOperationsAllRegistered(t *testing.T) {
	ts := newSSMTestServer(t)
	for _, op := range []string{
		"SendCommand", "GetCommandInvocation", "ListCommandInvocations", "ListCommands", "CancelCommand",
		"DescribeInstanceInformation", "DescribeDocument", "GetDocument", "ListDocuments", "ListDocumentVersions",
		"PutParameter", "GetParameter", "GetParameters", "GetParameterHistory", "GetParametersByPath",
		"DescribeParameters", "DeleteParameter", "DeleteParameters",
		"AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource",
	} {
		if ts.ssmOps[op] == nil {
			t.Errorf("operation %s is not served", op)
		}
	}
}

func TestStartSSMRejectsBadInstancesFile(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"bad id":        `[{"InstanceId":"i-1","PlatformType":"Linux","PingStatus":"Online","ResourceType":"EC2Instance"}]`,
		"bad platform":  `[{"InstanceId":"i-0123456789abcdef0","PlatformType":"Plan9","PingStatus":"Online","ResourceType":"EC2Instance"}]`,
		"mi as EC2":     `[{"InstanceId":"mi-0123456789abcdef0","PlatformType":"Linux","PingStatus":"Online","ResourceType":"EC2Instance"}]`,
		"unknown field": `[{"InstanceId":"i-0123456789abcdef0","PlatformType":"Linux","PingStatus":"Online","ResourceType":"EC2Instance","Colour":"red"}]`,
		"duplicate":     `[{"InstanceId":"i-0123456789abcdef0","PlatformType":"Linux","PingStatus":"Online","ResourceType":"EC2Instance"},{"InstanceId":"i-0123456789abcdef0","PlatformType":"Linux","PingStatus":"Online","ResourceType":"EC2Instance"}]`,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := dir + "/" + strings.ReplaceAll(name, " ", "-") + ".json"
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := New(Options{InstancesFile: path, StateDir: t.TempDir()})
			if err == nil {
				_ = s.Close()
				t.Fatalf("New accepted an instances file with %s", name)
			}
		})
	}
}

func TestInstanceHomeExistsPerInstance(t *testing.T) {
	ts := newSSMTestServer(t)
	home := ts.InstanceHome("i-0123456789abcdef0")
	if home == "" {
		t.Fatal("no home directory for i-0123456789abcdef0")
	}
	if !strings.HasSuffix(home, "/instances/i-0123456789abcdef0") {
		t.Errorf("home %s is not under <state dir>/instances/<id>", home)
	}
	if info, err := os.Stat(home); err != nil || !info.IsDir() {
		t.Errorf("home %s was not created: %v", home, err)
	}
	if ts.InstanceHome("i-00000000000000000") != "" {
		t.Error("an unknown instance has a home directory")
	}
}
