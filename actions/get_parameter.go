package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/awsssm/awsssm/internal/awsdata"
	"github.com/awsssm/awsssm/internal/command"
	"github.com/awsssm/awsssm/internal/connector"
)

type getParameterParams struct {
	Name           string `json:"name"`
	WithDecryption bool   `json:"with_decryption"`
}

// getParameter reads one Parameter Store parameter. Without
// with_decryption, SSM returns a SecureString's cipher text in place of its
// value. The result shows connector.Mask there instead, so that the cipher
// text is never mistaken for the value.
func getParameter(ctx context.Context, env *connector.Env, p getParameterParams) (*connector.Outcome, error) {
	name := strings.TrimSpace(p.Name)
	if name == "" {
		return nil, errors.New("invalid parameter \"name\": it is empty; expected a parameter name such as /soar/api-url")
	}

	env.Progress("Reading parameter %s in %s", name, env.AWS.Region)
	out, err := env.AWS.SSM.GetParameter(ctx, &ssm.GetParameterInput{
		Name:           aws.String(name),
		WithDecryption: aws.Bool(p.WithDecryption),
	})
	if err != nil {
		return nil, getParameterError(name, env.AWS.Region, err)
	}
	if out.Parameter == nil {
		return nil, fmt.Errorf("get parameter %s in %s: SSM returned no parameter", name, env.AWS.Region)
	}

	parameter := awsdata.Object(out.Parameter)
	status := "Successfully retrieved parameter"
	if out.Parameter.Type == types.ParameterTypeSecureString && !p.WithDecryption {
		parameter["Value"] = connector.Mask
		status += " (SecureString value encrypted and masked; set with_decryption to true to read it)"
		env.Progress("Parameter %s is a SecureString: its value is encrypted and shown as %s; set with_decryption to true to read it", name, connector.Mask)
	}
	env.Progress("Parameter %s: type %s, version %d", name, out.Parameter.Type, out.Parameter.Version)

	data := map[string]any{
		"Parameter":        parameter,
		"ResponseMetadata": awsdata.ResponseMetadata(out.ResultMetadata),
	}
	summary := connector.Summary{}
	summary.Set("status", status)
	summary.Set("type", string(out.Parameter.Type))
	summary.Set("version", out.Parameter.Version)
	return &connector.Outcome{Data: []any{data}, Summary: summary}, nil
}

// getParameterError rewrites the most common errors as messages that name
// what to check.
func getParameterError(name, region string, err error) error {
	switch command.ErrorCode(err) {
	case "ParameterNotFound":
		return fmt.Errorf("parameter %s not found in %s: check the name (names are case-sensitive, and a hierarchical name starts with /), the Region and the account: %w", name, region, command.Explain(err))
	case "ParameterVersionNotFound":
		return fmt.Errorf("parameter %s in %s has no such version or label; the part after the last colon selects one: %w", name, region, command.Explain(err))
	}
	return fmt.Errorf("get parameter %s in %s: %w", name, region, command.Explain(err))
}
