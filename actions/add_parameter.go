package actions

import (
	"context"
	"errors"

	"github.com/awsssm/awsssm/internal/connector"
)

// TODO: placeholder until the action is written; it only fails.
type addParameterParams struct{}

func addParameter(ctx context.Context, env *connector.Env, p addParameterParams) (*connector.Outcome, error) {
	return nil, errors.New("add_parameter is not implemented yet")
}
