package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// ssmTestServer is a sandbox served on loopback, with SDK clients for its
// SSM and S3 that sign with AWS's example key pair.
type ssmTestServer struct {
	*Server
	URL    string
	Client *ssm.Client
	S3     *s3.Client
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
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		if err := s.Close(); err != nil {
			t.Errorf("stop sandbox: %v", err)
		}
	})

	cfg := aws.Config{
		Region:                     DefaultRegion,
		Credentials:                credentials.NewStaticCredentialsProvider(ExampleAccessKeyID, ExampleSecretAccessKey, ""),
		BaseEndpoint:               aws.String(hs.URL),
		HTTPClient:                 hs.Client(),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	return &ssmTestServer{
		Server: s,
		URL:    hs.URL,
		Client: ssm.NewFromConfig(cfg),
		S3:     s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
	}
}

// raw calls an SSM operation's handler with a request body and returns its
// output as the JSON that the server encodes, to check members that the
// SDK's types cannot tell apart from absent ones.
func (ts *ssmTestServer) raw(t *testing.T, operation string, body any) map[string]any {
	t.Helper()
	payload, _ := json.Marshal(body)
	call := &ssmCall{
		Operation: operation,
		Body:      payload,
		Region:    DefaultRegion,
		Caller:    Caller{AccessKeyID: ExampleAccessKeyID, AccountID: DefaultAccountID},
	}
	out, err := ts.ssmOps[operation](context.Background(), call)
	if err != nil {
		t.Fatalf("%s: %v", operation, err)
	}
	encoded, err := json.Marshal(out)
	if err != nil {
		t.Fatalf("%s: encode output: %v", operation, err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(encoded, &decoded); err != nil {
		t.Fatalf("%s: decode output: %v", operation, err)
	}
	return decoded
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

// waitVisible polls GetCommandInvocation until the invocation exists, which
// is the sandbox's invocation delay after SendCommand, and returns it.
func (ts *ssmTestServer) waitVisible(t *testing.T, commandID, instanceID string, timeout time.Duration) *ssm.GetCommandInvocationOutput {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := ts.Client.GetCommandInvocation(context.Background(), &ssm.GetCommandInvocationInput{CommandId: aws.String(commandID), InstanceId: aws.String(instanceID)})
		var missing *types.InvocationDoesNotExist
		switch {
		case err == nil:
			return out
		case !errors.As(err, &missing):
			t.Fatalf("get command invocation %s on %s: %v", commandID, instanceID, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("command %s on %s did not become visible within %s", commandID, instanceID, timeout)
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
