package actions

import (
	"context"
	"errors"

	"github.com/awsssm/awsssm/internal/connector"
)

// TODO: placeholder until the action is written; it only fails.
type listCommandsParams struct{}

func listCommands(ctx context.Context, env *connector.Env, p listCommandsParams) (*connector.Outcome, error) {
	return nil, errors.New("list_commands is not implemented yet")
}
