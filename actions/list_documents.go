package actions

import (
	"context"
	"errors"

	"github.com/awsssm/awsssm/internal/connector"
)

// TODO: placeholder until the action is written; it only fails.
type listDocumentsParams struct{}

func listDocuments(ctx context.Context, env *connector.Env, p listDocumentsParams) (*connector.Outcome, error) {
	return nil, errors.New("list_documents is not implemented yet")
}
