package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// EnsureBucket makes sure the output bucket exists and belongs to the
// caller's account, creating it in the engine's Region when it is missing.
// A bucket in another Region is read through a client for that Region.
func (e *Engine) EnsureBucket(ctx context.Context, bucket string) error {
	exists, err := e.CheckBucket(ctx, bucket)
	if err != nil || exists {
		return err
	}
	return e.createBucket(ctx, bucket)
}

// CheckBucket reports whether the bucket exists and belongs to the
// caller's account. It fails when the bucket belongs to another account or
// cannot be checked. A bucket in another Region is followed there, and
// later reads use a client for that Region.
func (e *Engine) CheckBucket(ctx context.Context, bucket string) (exists bool, err error) {
	if err := e.loadAccount(ctx); err != nil {
		return false, err
	}

	head := &s3.HeadBucketInput{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(e.AccountID)}
	out, err := e.S3.HeadBucket(ctx, head)

	// A bucket in another Region responds with an error that names its
	// Region in a header, so ask again there, as S3 clients do.
	if region := bucketRegionHeader(err); err != nil && region != "" && region != e.Region {
		e.addRegionClient(bucket, region)
		out, err = e.s3Regions[bucket].HeadBucket(ctx, head)
		if err == nil {
			e.progress("S3 bucket %s is in %s; command output is read from there", bucket, region)
		}
	}

	switch code := ErrorCode(err); {
	case err == nil:
		if region := aws.ToString(out.BucketRegion); region != "" && region != e.Region && e.s3Regions[bucket] == nil {
			e.addRegionClient(bucket, region)
		}
		return true, nil
	case code == "NotFound" || code == "NoSuchBucket" || isNotFound(err):
		return false, nil
	case code == "Forbidden" || code == "AccessDenied" || code == "403":
		return false, fmt.Errorf("S3 bucket %s exists but is not owned by account %s, or access to it is denied; name another bucket in output_s3_bucket_name or default_s3_bucket", bucket, e.AccountID)
	case code == "PermanentRedirect" || code == "301":
		return false, fmt.Errorf("S3 bucket %s is in another Region than %s and S3 did not say which; set the action's region to the bucket's Region", bucket, e.Region)
	default:
		return false, fmt.Errorf("check S3 bucket %s: %w", bucket, Explain(err))
	}
}

// bucketRegionHeader returns the x-amz-bucket-region header of a failed S3
// response, or "".
func bucketRegionHeader(err error) string {
	var re *awshttp.ResponseError
	if err == nil || !errors.As(err, &re) || re.Response == nil {
		return ""
	}
	return re.Response.Header.Get("X-Amz-Bucket-Region")
}

func isNotFound(err error) bool {
	var nf *s3types.NotFound
	var nb *s3types.NoSuchBucket
	return asError(err, &nf) || asError(err, &nb)
}

// createBucket creates the bucket in the engine's Region. S3 takes no
// location constraint in us-east-1 and requires one everywhere else.
func (e *Engine) createBucket(ctx context.Context, bucket string) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if e.Region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{
			LocationConstraint: s3types.BucketLocationConstraint(e.Region),
		}
	}
	_, err := e.S3.CreateBucket(ctx, in)
	var owned *s3types.BucketAlreadyOwnedByYou
	switch {
	case err == nil:
		e.progress("Created S3 bucket %s in %s for command output", bucket, e.Region)
		return nil
	case asError(err, &owned):
		return nil
	}
	var taken *s3types.BucketAlreadyExists
	if asError(err, &taken) {
		return fmt.Errorf("create S3 bucket %s: the name belongs to another account; choose another bucket name", bucket)
	}
	return fmt.Errorf("create S3 bucket %s in %s: %w", bucket, e.Region, Explain(err))
}

// loadAccount reads the caller's account ID once, to check bucket owners.
func (e *Engine) loadAccount(ctx context.Context) error {
	if e.AccountID != "" {
		return nil
	}
	out, err := e.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("get caller identity: %w", Explain(err))
	}
	e.AccountID = aws.ToString(out.Account)
	return nil
}

func (e *Engine) addRegionClient(bucket, region string) {
	if e.s3Regions == nil {
		e.s3Regions = map[string]*s3.Client{}
	}
	e.s3Regions[bucket] = s3.New(e.S3.Options(), func(o *s3.Options) { o.Region = region })
}

// s3Client returns the client for the bucket's Region.
func (e *Engine) s3Client(_ context.Context, bucket string) (*s3.Client, error) {
	if c, ok := e.s3Regions[bucket]; ok {
		return c, nil
	}
	return e.S3, nil
}
