package sandboxtest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsssm/awsssm/internal/sandbox"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

// childEnv marks the test binary, run again as a child process, that
// checks the environment that Env gives a child.
const childEnv = "SANDBOXTEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild fetches instance role credentials through the metadata endpoint
// in the environment, then prints the caller identity they sign for.
func runChild() int {
	ctx := context.Background()
	endpoint := os.Getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT")
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"} {
		if value, ok := os.LookupEnv(name); ok {
			fmt.Printf("leaked %s=%s\n", name, value)
			return 1
		}
	}
	provider := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = imds.New(imds.Options{}) })
	client := sts.New(sts.Options{Region: sandbox.DefaultRegion, Credentials: aws.NewCredentialsCache(provider), BaseEndpoint: aws.String(endpoint)})
	identity, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Println("GetCallerIdentity:", err)
		return 1
	}
	fmt.Println(aws.ToString(identity.Arn))
	return 0
}

func TestStartServesExampleKey(t *testing.T) {
	sb := sandboxtest.Start(t)
	if !strings.HasPrefix(sb.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q, want http://127.0.0.1:PORT", sb.URL)
	}
	identity, err := sts.NewFromConfig(sb.Config()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got := aws.ToString(identity.Account); got != sandbox.DefaultAccountID {
		t.Errorf("Account = %q, want %q", got, sandbox.DefaultAccountID)
	}
}

func TestStartLoadsRepositoryInstances(t *testing.T) {
	sb := sandboxtest.Start(t)
	out, err := ssm.NewFromConfig(sb.Config()).DescribeInstanceInformation(context.Background(), &ssm.DescribeInstanceInformationInput{})
	if err != nil {
		t.Fatalf("DescribeInstanceInformation: %v", err)
	}
	for _, info := range out.InstanceInformationList {
		if aws.ToString(info.InstanceId) == sandbox.DefaultInstanceID {
			return
		}
	}
	t.Errorf("instance %s from testdata/sandbox/instances.json is not listed", sandbox.DefaultInstanceID)
}

func TestStartAppliesOptions(t *testing.T) {
	sb := sandboxtest.Start(t, func(o *sandbox.Options) { o.AccountID = "210987654321" })
	identity, err := sts.NewFromConfig(sb.Config()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got := aws.ToString(identity.Account); got != "210987654321" {
		t.Errorf("Account = %q, want the option's 210987654321", got)
	}
}

func TestConfigWorksForS3(t *testing.T) {
	sb := sandboxtest.Start(t)
	ctx := context.Background()
	client := s3.NewFromConfig(sb.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sandboxtest-bucket")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sandboxtest-bucket"), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if keys := sb.Server.ObjectKeys("sandboxtest-bucket"); len(keys) != 1 || keys[0] != "k" {
		t.Errorf("ObjectKeys = %v", keys)
	}
}

func TestEnvScrubsAWSVariables(t *testing.T) {
	sb := sandboxtest.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAI44QH8DHBEXAMPLE")
	t.Setenv("AWS_PROFILE", "production")
	t.Setenv("AWS_ENDPOINT_URL", "https://ssm.us-east-1.amazonaws.com")

	env := sb.Env()
	var awsVars []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "AWS_") {
			awsVars = append(awsVars, kv)
		}
	}
	want := map[string]bool{"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + sb.URL: true}
	for _, kv := range awsVars {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case want[kv]:
			delete(want, kv)
		case name == "AWS_CONFIG_FILE" || name == "AWS_SHARED_CREDENTIALS_FILE":
			if _, err := os.Stat(strings.TrimPrefix(kv, name+"=")); err == nil {
				t.Errorf("%s points at a file that exists", name)
			}
		default:
			t.Errorf("Env keeps %s", kv)
		}
	}
	if len(want) != 0 {
		t.Errorf("Env lacks %v", want)
	}
}

func TestEnvGivesChildRoleCredentials(t *testing.T) {
	sb := sandboxtest.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAI44QH8DHBEXAMPLE")

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(sb.Env(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	want := "arn:aws:sts::123456789012:assumed-role/" + sandbox.InstanceRoleName + "/" + sandbox.DefaultInstanceID
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("child caller = %q, want %q", got, want)
	}
}
