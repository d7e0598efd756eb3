// Package awsconfig turns an asset configuration and the credentials and
// region parameters of one parameter set into AWS SDK clients.
//
// Credentials come, in order of precedence, from the credentials parameter,
// the EC2 instance role (use_role) or the asset's access key pair. When
// role_arn is set, that role is then assumed through STS. The
// aws.Config is built here rather than by config.LoadDefaultConfig, so the
// AWS_* environment variables, profiles and shared files of the machine
// cannot change the identity or the endpoint. The exceptions are the SDK's
// IMDS settings (AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_DISABLED)
// for use_role, and the proxy variables when the platform passes none.
package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
)

// Asset is the asset configuration, as decoded from the platform's "config".
type Asset struct {
	Region          string `json:"region"`
	AccessKey       string `json:"access_key"`
	SecretKey       string `json:"secret_key"`
	DefaultS3Bucket string `json:"default_s3_bucket"`
	UseRole         bool   `json:"use_role"`
	EndpointURL     string `json:"endpoint_url"`
	RoleARN         string `json:"role_arn"`
	ExternalID      string `json:"external_id"`
	RoleSessionName string `json:"role_session_name"`
	SessionDuration int    `json:"session_duration"` // seconds; 0 means 3600
}

// Request is the input of New: the asset and the parameters of one
// parameter set.
type Request struct {
	Asset       Asset
	Credentials string // the action's credentials parameter, raw text; may be empty
	Region      string // the action's region parameter; empty means the asset's
	// HasCredentialsParameter is true when the action takes a credentials
	// parameter, so that the error for an asset without credentials can
	// suggest it. Test connectivity takes none.
	HasCredentialsParameter bool
	Env                     map[string]string // environment_variables from the platform (proxy settings)
	Now                     func() time.Time  // nil means time.Now
	Logger                  *slog.Logger      // debug lines; never secrets
}

// Clients are the AWS clients of one parameter set.
type Clients struct {
	Config aws.Config
	Region string // the resolved region code
	// Source names the credentials in words: "the credentials parameter",
	// "the EC2 instance role" or "the asset's access key", followed by
	// " then role <arn>" when role_arn is assumed.
	Source string
	SSM    *ssm.Client
	S3     *s3.Client
	STS    *sts.Client
}

// Defaults of the retryer and of AssumeRole.
const (
	// MaxAttempts bounds the attempts of one AWS call, the first included.
	// The SDK's standard retryer retries throttling (ThrottlingException,
	// Throttling, SlowDown and others), 5xx errors and connection errors
	// with exponential backoff and jitter. Its client-side retry quota is
	// turned off. The quota protects long-lived processes from retry storms.
	// In a process that runs one action it would only turn throttling into
	// failures after about 100 retries (500 tokens, 5 per throttling retry,
	// in aws-sdk-go-v2 v1.48.0).
	MaxAttempts = 5
	maxBackoff  = 20 * time.Second

	DefaultRoleSessionName = "awsssm"
	defaultSessionDuration = time.Hour
)

// Source names of the credentials.
const (
	SourceParameter    = "the credentials parameter"
	SourceInstanceRole = "the EC2 instance role"
	SourceAccessKey    = "the asset's access key"
)

// New builds the clients for r. Nothing is sent to SSM or S3. With use_role
// it fetches the instance role credentials, and with role_arn it calls STS
// AssumeRole, so that a credential failure shows here.
//
// An asset configuration that ValidateAsset rejects, or that has no
// credential source, gives an *AssetError. An invalid region or credentials
// parameter, expired credentials included, gives a *ParameterError. A failure
// of the instance metadata service or of AssumeRole gives another error.
func New(ctx context.Context, r Request) (*Clients, error) {
	if err := ValidateAsset(r.Asset); err != nil {
		return nil, err
	}
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := r.Now
	if now == nil {
		now = time.Now
	}

	region, err := resolveRequestRegion(r)
	if err != nil {
		return nil, err
	}

	httpCfg, err := newHTTPConfig(r.Env)
	if err != nil {
		return nil, err
	}

	cfg := aws.Config{
		Region:     region,
		HTTPClient: httpCfg.client(),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = MaxAttempts
				o.MaxBackoff = maxBackoff
				o.RateLimiter = ratelimit.None
			})
		},
		AppID:  "awsssm",
		Logger: sdkLogger{log},
		// The SDK's defaults, which config.LoadDefaultConfig sets and a
		// zero aws.Config leaves off: checksums on S3 uploads and downloads.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	endpoint := strings.TrimSpace(r.Asset.EndpointURL)
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}

	// The base credentials, in order of precedence.
	provider, source, err := baseCredentials(ctx, r, now())
	if err != nil {
		return nil, err
	}
	cfg.Credentials = provider

	// A role assumed on top of the base credentials.
	if arn := strings.TrimSpace(r.Asset.RoleARN); arn != "" {
		cfg.Credentials, err = assumeRole(ctx, cfg, r.Asset, source)
		if err != nil {
			return nil, err
		}
		source += " then role " + arn
	}

	endpointForLog := endpoint
	if endpointForLog == "" {
		endpointForLog = "the AWS default for the region"
	}
	log.Debug("aws clients ready", "credentials", source, "region", region, "endpoint", endpointForLog, "proxy", httpCfg.describe())

	return &Clients{
		Config: cfg,
		Region: region,
		Source: source,
		SSM:    ssm.NewFromConfig(cfg),
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			// Virtual-hosted addressing needs a DNS name per bucket, which a
			// custom endpoint rarely has.
			o.UsePathStyle = endpoint != ""
			// Objects uploaded without a checksum, or in parts, often have
			// none that the SDK can check, which is normal and not worth a
			// warning.
			o.DisableLogOutputChecksumValidationSkipped = true
		}),
		STS: sts.NewFromConfig(cfg),
	}, nil
}

// sdkLogger passes the SDK's own log messages, warnings about retries and
// credential refreshes for example, to the Request's logger.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Logf(classification logging.Classification, format string, v ...any) {
	level := slog.LevelDebug
	if classification == logging.Warn {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, "aws sdk: "+fmt.Sprintf(format, v...))
}

// resolveRequestRegion returns the region code of the region parameter, or
// of the asset's region when the parameter is empty.
func resolveRequestRegion(r Request) (string, error) {
	if strings.TrimSpace(r.Region) != "" {
		region, err := ResolveRegion(r.Region)
		if err != nil {
			return "", &ParameterError{Parameter: "region", Err: err}
		}
		return region, nil
	}
	region, err := ResolveRegion(r.Asset.Region)
	if err != nil {
		return "", &AssetError{Field: "region", Err: err}
	}
	return region, nil
}

// baseCredentials returns the credentials provider chosen by precedence and
// its source name.
func baseCredentials(ctx context.Context, r Request, now time.Time) (aws.CredentialsProvider, string, error) {
	switch {
	case strings.TrimSpace(r.Credentials) != "":
		c, err := ParseCredentials(r.Credentials)
		if err != nil {
			return nil, "", err
		}
		if err := c.CheckFresh(now); err != nil {
			return nil, "", err
		}
		static := credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
		return static, SourceParameter, nil

	case r.Asset.UseRole:
		role := newInstanceRole()
		cache := aws.NewCredentialsCache(role.provider)
		if err := role.fetch(ctx, cache); err != nil {
			return nil, "", err
		}
		return cache, SourceInstanceRole, nil

	case strings.TrimSpace(r.Asset.AccessKey) != "":
		static := credentials.NewStaticCredentialsProvider(strings.TrimSpace(r.Asset.AccessKey), strings.TrimSpace(r.Asset.SecretKey), "")
		return static, SourceAccessKey, nil

	default:
		msg := "no credentials: fill in access_key and secret_key, or turn on use_role on an EC2 instance"
		if r.HasCredentialsParameter {
			msg += ", or pass the credentials parameter"
		}
		return nil, "", &AssetError{Err: errors.New(msg)}
	}
}

// assumeRole assumes the asset's role_arn with the credentials of base, and
// fetches the role's credentials once so that a failure shows in New.
func assumeRole(ctx context.Context, base aws.Config, a Asset, source string) (aws.CredentialsProvider, error) {
	arn := strings.TrimSpace(a.RoleARN)
	sessionName := a.RoleSessionName
	if sessionName == "" {
		sessionName = DefaultRoleSessionName
	}
	duration := defaultSessionDuration
	if a.SessionDuration != 0 {
		duration = time.Duration(a.SessionDuration) * time.Second
	}

	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), arn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = sessionName
		o.Duration = duration
		if a.ExternalID != "" {
			o.ExternalID = aws.String(a.ExternalID)
		}
	})
	cache := aws.NewCredentialsCache(provider)
	if _, err := cache.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("assume role %s with %s: %w; check role_arn and external_id, and that the role's trust policy allows this principal", arn, source, err)
	}
	return cache, nil
}

// Secrets returns every secret string of r that must never be printed: the
// asset's secret key, the SecretAccessKey and SessionToken of the credentials
// parameter, and the passwords of proxy URLs. When the credentials parameter
// cannot be parsed, its whole text is returned instead, because the secrets
// in it cannot be separated from the rest. Empty strings are left out.
func Secrets(r Request) []string {
	var secrets []string
	add := func(s string) {
		if s != "" {
			secrets = append(secrets, s)
		}
	}

	add(r.Asset.SecretKey)
	if trimmed := strings.TrimSpace(r.Asset.SecretKey); trimmed != r.Asset.SecretKey {
		add(trimmed)
	}

	if strings.TrimSpace(r.Credentials) != "" {
		if c, err := ParseCredentials(r.Credentials); err == nil {
			add(c.SecretAccessKey)
			add(c.SessionToken)
		} else {
			add(strings.TrimSpace(r.Credentials))
		}
	}

	if httpCfg, err := newHTTPConfig(r.Env); err == nil {
		for _, p := range httpCfg.passwords() {
			add(p)
		}
	} else {
		// A proxy URL is invalid, so its password cannot be found: mask the
		// whole values.
		settings := proxySettings(r.Env)
		add(settings["HTTP_PROXY"].value)
		add(settings["HTTPS_PROXY"].value)
	}
	return secrets
}
