package actions

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsssm/awsssm/internal/command"
	"github.com/awsssm/awsssm/internal/connector"
)

type testConnectivityParams struct{}

// testConnectivity checks, in order, who the credentials belong to, that
// they may call SSM, and whether the default bucket exists and belongs to
// the account.
func testConnectivity(ctx context.Context, env *connector.Env, _ testConnectivityParams) (*connector.Outcome, error) {
	env.Progress("Checking credentials (%s) in %s", env.AWS.Source, env.AWS.Region)
	identity, err := env.AWS.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("test connectivity failed: STS GetCallerIdentity with %s: %w", env.AWS.Source, command.Explain(err))
	}
	account := aws.ToString(identity.Account)
	env.Progress("Connected as %s (account %s)", aws.ToString(identity.Arn), account)

	data := map[string]any{
		"Account":          account,
		"Arn":              aws.ToString(identity.Arn),
		"UserId":           aws.ToString(identity.UserId),
		"Region":           env.AWS.Region,
		"CredentialSource": env.AWS.Source,
	}
	outcome := &connector.Outcome{Data: []any{data}}

	// One small call shows whether the identity may use SSM here.
	if _, err := env.AWS.SSM.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(5)}); err != nil {
		return outcome, fmt.Errorf("test connectivity failed: SSM DescribeInstanceInformation in %s: %w", env.AWS.Region, command.Explain(err))
	}
	env.Progress("SSM DescribeInstanceInformation succeeded in %s", env.AWS.Region)

	if bucket := env.DefaultS3Bucket; bucket != "" {
		data["DefaultS3Bucket"] = bucket
		engine := newEngine(env)
		engine.AccountID = account // known already; saves a second GetCallerIdentity
		exists, err := engine.CheckBucket(ctx, bucket)
		if err != nil {
			return outcome, fmt.Errorf("test connectivity failed: %w", err)
		}
		data["DefaultS3BucketExists"] = exists
		if exists {
			env.Progress("Default S3 bucket %s exists and belongs to account %s", bucket, account)
		} else {
			env.Progress("Default S3 bucket %s does not exist yet; the first command creates it in %s", bucket, env.AWS.Region)
		}
	}
	if env.DefaultS3Bucket == "" {
		env.Warn("no default_s3_bucket is set: SSM cuts command output at %d characters, and get file needs a bucket; set default_s3_bucket", command.InlineOutputMax)
	}

	summary := connector.Summary{}
	summary.Set("status", "Test connectivity passed")
	summary.Set("account", account)
	summary.Set("region", env.AWS.Region)
	outcome.Summary = summary
	return outcome, nil
}
