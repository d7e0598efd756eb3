package actions

import (
	"context"
	"errors"

	"github.com/awsssm/awsssm/internal/connector"
)

// TODO: placeholder until the action is written; it only fails.
type runDocumentParams struct{}

func runDocument(ctx context.Context, env *connector.Env, p runDocumentParams) (*connector.Outcome, error) {
	return nil, errors.New("run_document is not implemented yet")
}
