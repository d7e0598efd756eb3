package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// Limits on the wait for the instance metadata service (IMDS). On an EC2
// instance it responds within milliseconds, so a few seconds is a bounded
// wait that still tolerates a loaded host.
const (
	imdsWait          = 5 * time.Second // the whole credential fetch in New
	imdsHeaderTimeout = 2 * time.Second // per request
	imdsDialTimeout   = time.Second
	imdsMaxAttempts   = 2
)

// imdsEndpointVariable is the SDK's setting for the IMDS endpoint, which
// imds.New reads from the process environment.
const imdsEndpointVariable = "AWS_EC2_METADATA_SERVICE_ENDPOINT"

const imdsTokenPath = "/latest/api/token"

// imdsHTTPClient sends IMDS requests directly, never through a proxy, and
// records how the IMDSv2 token request failed, because the SDK's error
// does not keep that cause inspectable.
type imdsHTTPClient struct {
	client        *http.Client
	unreachable   atomic.Bool // the connection to IMDS failed
	tokenNoAnswer atomic.Bool // connected, but no response to PUT /latest/api/token in time
}

func newIMDSHTTPClient() *imdsHTTPClient {
	return &imdsHTTPClient{client: &http.Client{Transport: &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: imdsDialTimeout}).DialContext,
		ResponseHeaderTimeout: imdsHeaderTimeout,
	}}}
}

func (c *imdsHTTPClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.client.Do(req)
	if err == nil {
		return resp, nil
	}

	var opErr *net.OpError
	var netErr net.Error
	switch {
	case errors.As(err, &opErr) && opErr.Op == "dial":
		c.unreachable.Store(true)
	case req.Method == http.MethodPut && strings.HasSuffix(req.URL.Path, imdsTokenPath) && errors.As(err, &netErr) && netErr.Timeout():
		c.tokenNoAnswer.Store(true)
	}
	return nil, err
}

// instanceRole is the credentials provider of the EC2 instance role, through
// IMDSv2 only: without a session token, no request falls back to IMDSv1.
type instanceRole struct {
	provider *ec2rolecreds.Provider
	http     *imdsHTTPClient
}

func newInstanceRole() *instanceRole {
	httpClient := newIMDSHTTPClient()
	client := imds.New(imds.Options{
		HTTPClient:     httpClient,
		EnableFallback: aws.FalseTernary,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = imdsMaxAttempts
		}),
	})
	provider := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = client })
	return &instanceRole{provider: provider, http: httpClient}
}

// fetch retrieves the role credentials through cache, which wraps r's
// provider, within imdsWait, so that New reports a failure before any other
// call. Its error names the likely cause and the fix.
func (r *instanceRole) fetch(ctx context.Context, cache *aws.CredentialsCache) error {
	ctx, cancel := context.WithTimeout(ctx, imdsWait)
	defer cancel()
	if _, err := cache.Retrieve(ctx); err != nil {
		return r.explain(err)
	}
	return nil
}

func (r *instanceRole) explain(err error) error {
	endpoint := os.Getenv(imdsEndpointVariable)
	if endpoint == "" {
		endpoint = "http://169.254.169.254"
	}

	switch {
	case r.http.tokenNoAnswer.Load():
		return fmt.Errorf("use_role: the instance metadata service at %s did not respond to the IMDSv2 token request (PUT %s) within %v. "+
			"In a container the response is dropped when the instance's PUT response hop limit is 1: the hop limit must be 2. "+
			"Raise it with: aws ec2 modify-instance-metadata-options --instance-id <instance id> --http-put-response-hop-limit 2 --http-tokens required --http-endpoint enabled",
			endpoint, imdsTokenPath, imdsHeaderTimeout)
	case r.http.unreachable.Load():
		return fmt.Errorf("use_role: cannot connect to the instance metadata service at %s: %w; use_role works only on an EC2 instance, otherwise fill in access_key and secret_key", endpoint, err)
	default:
		return fmt.Errorf("use_role: cannot get the EC2 instance role credentials from the instance metadata service at %s: %w; check that the instance has an instance profile with a role", endpoint, err)
	}
}
