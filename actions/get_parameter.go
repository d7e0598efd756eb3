package actions

import (
	"context"
	"errors"

	"github.com/awsssm/awsssm/internal/connector"
)

// TODO: placeholder until the action is written; it only fails.
type getParameterParams struct{}

func getParameter(ctx context.Context, env *connector.Env, p getParameterParams) (*connector.Outcome, error) {
	return nil, errors.New("get_parameter is not implemented yet")
}
