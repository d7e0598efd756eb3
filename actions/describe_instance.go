package actions

import (
	"context"
	"errors"

	"github.com/awsssm/awsssm/internal/connector"
)

// TODO: placeholder until the action is written; it only fails.
type describeInstanceParams struct{}

func describeInstance(ctx context.Context, env *connector.Env, p describeInstanceParams) (*connector.Outcome, error) {
	return nil, errors.New("describe_instance is not implemented yet")
}
