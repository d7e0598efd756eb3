package sandbox

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestGetCallerIdentityExampleKey(t *testing.T) {
	ts := startCore(t)
	out, err := ts.stsClient(exampleKeyProvider()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got, want := aws.ToString(out.Account), DefaultAccountID; got != want {
		t.Errorf("Account = %q, want %q", got, want)
	}
	if got, want := aws.ToString(out.Arn), "arn:aws:iam::123456789012:user/sandbox-user"; got != want {
		t.Errorf("Arn = %q, want %q", got, want)
	}
	if aws.ToString(out.UserId) == "" {
		t.Error("UserId is empty")
	}
}

func TestAssumeRoleCredentials(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()
	roleARN := "arn:aws:iam::123456789012:role/ops/soar-ssm"

	out, err := ts.stsClient(exampleKeyProvider()).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(roleARN),
		RoleSessionName: aws.String("playbook-42"),
		ExternalId:      aws.String("soar-external-id"),
		DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}

	creds := out.Credentials
	if !strings.HasPrefix(aws.ToString(creds.AccessKeyId), "ASIA") || len(aws.ToString(creds.AccessKeyId)) != 20 {
		t.Errorf("AccessKeyId = %q, want ASIA and 16 more characters", aws.ToString(creds.AccessKeyId))
	}
	token := aws.ToString(creds.SessionToken)
	for _, want := range []string{"/", "+"} {
		if !strings.Contains(token, want) {
			t.Errorf("SessionToken %q lacks %q", token, want)
		}
	}
	if !strings.HasSuffix(token, "==") {
		t.Errorf("SessionToken %q does not end with ==", token)
	}
	if left := time.Until(aws.ToTime(creds.Expiration)); left < 14*time.Minute || left > 16*time.Minute {
		t.Errorf("Expiration is %v away, want 15m", left)
	}
	if got, want := aws.ToString(out.AssumedRoleUser.Arn), "arn:aws:sts::123456789012:assumed-role/soar-ssm/playbook-42"; got != want {
		t.Errorf("AssumedRoleUser.Arn = %q, want %q", got, want)
	}
	if !strings.HasPrefix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), "AROA") || !strings.HasSuffix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), ":playbook-42") {
		t.Errorf("AssumedRoleId = %q, want AROA...:playbook-42", aws.ToString(out.AssumedRoleUser.AssumedRoleId))
	}

	// The issued credentials sign the next call, which runs as the role session.
	roleCreds := credentials.NewStaticCredentialsProvider(aws.ToString(creds.AccessKeyId), aws.ToString(creds.SecretAccessKey), token)
	identity, err := ts.stsClient(roleCreds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with assumed-role credentials: %v", err)
	}
	if got, want := aws.ToString(identity.Arn), aws.ToString(out.AssumedRoleUser.Arn); got != want {
		t.Errorf("caller Arn = %q, want %q", got, want)
	}
	if got, want := aws.ToString(identity.UserId), aws.ToString(out.AssumedRoleUser.AssumedRoleId); got != want {
		t.Errorf("caller UserId = %q, want %q", got, want)
	}
}

func TestAssumeRoleProviderOfSDK(t *testing.T) {
	ts := startCore(t)
	provider := stscreds.NewAssumeRoleProvider(ts.stsClient(exampleKeyProvider()), "arn:aws:iam::123456789012:role/soar", func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "soar-session"
	})
	identity, err := ts.stsClient(aws.NewCredentialsCache(provider)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity through stscreds: %v", err)
	}
	if got, want := aws.ToString(identity.Arn), "arn:aws:sts::123456789012:assumed-role/soar/soar-session"; got != want {
		t.Errorf("Arn = %q, want %q", got, want)
	}
}

func TestAssumeRoleValidation(t *testing.T) {
	ts := startCore(t)
	client := ts.stsClient(exampleKeyProvider())
	good := "arn:aws:iam::123456789012:role/soar"

	tests := []struct {
		name     string
		input    sts.AssumeRoleInput
		wantCode string
	}{
		{"not a role ARN", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:user/soar-user"), RoleSessionName: aws.String("s1")}, "ValidationError"},
		{"malformed ARN", sts.AssumeRoleInput{RoleArn: aws.String("soar-role-without-arn"), RoleSessionName: aws.String("s1")}, "ValidationError"},
		{"other account", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::210987654321:role/soar"), RoleSessionName: aws.String("s1")}, "AccessDenied"},
		{"session name too short", sts.AssumeRoleInput{RoleArn: aws.String(good), RoleSessionName: aws.String("s")}, "ValidationError"},
		{"session name with space", sts.AssumeRoleInput{RoleArn: aws.String(good), RoleSessionName: aws.String("my session")}, "ValidationError"},
		{"session name too long", sts.AssumeRoleInput{RoleArn: aws.String(good), RoleSessionName: aws.String(strings.Repeat("s", 65))}, "ValidationError"},
		{"duration too short", sts.AssumeRoleInput{RoleArn: aws.String(good), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(899)}, "ValidationError"},
		{"duration too long", sts.AssumeRoleInput{RoleArn: aws.String(good), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(43201)}, "ValidationError"},
		{"external ID too short", sts.AssumeRoleInput{RoleArn: aws.String(good), RoleSessionName: aws.String("s1"), ExternalId: aws.String("x")}, "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.AssumeRole(context.Background(), &tt.input)
			wantAWSError(t, err, tt.wantCode)
		})
	}

	t.Run("longest duration", func(t *testing.T) {
		out, err := client.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(good), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(43200)})
		if err != nil {
			t.Fatalf("AssumeRole for 43200 s: %v", err)
		}
		if left := time.Until(aws.ToTime(out.Credentials.Expiration)); left < 11*time.Hour {
			t.Errorf("Expiration is %v away, want 12h", left)
		}
	})
}

func TestAssumeRoleChainingLimit(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()
	first, err := ts.stsClient(exampleKeyProvider()).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::123456789012:role/first"), RoleSessionName: aws.String("first"),
	})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	chained := ts.stsClient(credentials.NewStaticCredentialsProvider(
		aws.ToString(first.Credentials.AccessKeyId), aws.ToString(first.Credentials.SecretAccessKey), aws.ToString(first.Credentials.SessionToken)))

	_, err = chained.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::123456789012:role/second"), RoleSessionName: aws.String("second"), DurationSeconds: aws.Int32(7200),
	})
	wantAWSError(t, err, "ValidationError")

	if _, err := chained.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::123456789012:role/second"), RoleSessionName: aws.String("second"),
	}); err != nil {
		t.Fatalf("chained AssumeRole for the default hour: %v", err)
	}
}

func TestIssueCredentials(t *testing.T) {
	ts := startCore(t)
	keyID, secret, token, expiration := ts.srv.IssueCredentials(20 * time.Minute)
	if time.Until(expiration) < 19*time.Minute {
		t.Errorf("expiration is %v away, want 20m", time.Until(expiration))
	}

	creds := credentials.NewStaticCredentialsProvider(keyID, secret, token)
	identity, err := ts.stsClient(creds).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got, want := aws.ToString(identity.Arn), "arn:aws:sts::123456789012:assumed-role/awsssm-sandbox-role/i-0123456789abcdef0"; got != want {
		t.Errorf("Arn = %q, want %q", got, want)
	}
}

func TestSTSUnknownAction(t *testing.T) {
	ts := startCore(t)
	req := ts.signedRequest(t, "POST", "/", []byte("Action=GetSessionToken&Version=2011-06-15"),
		map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}}, exampleKey(), "sts", DefaultRegion)
	resp, body := ts.do(t, req)
	if resp.StatusCode != 400 {
		t.Errorf("status = %d, want 400", resp.StatusCode)
	}
	wantContains(t, body, "<Code>InvalidAction</Code>")
	wantContains(t, body, "<RequestId>")
}
