package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/awsssm/awsssm/internal/awsdata"
	"github.com/awsssm/awsssm/internal/command"
	"github.com/awsssm/awsssm/internal/connector"
)

type listDocumentsParams struct {
	Name         string `json:"name"`
	Owner        string `json:"owner"`
	PlatformType string `json:"platform_type"`
	DocumentType string `json:"document_type"`
	MaxResults   *int64 `json:"max_results"`
}

// check validates the parameters and writes platform_type in the case
// that SSM expects, so that "linux" finds Linux documents.
func (p *listDocumentsParams) check() error {
	if p.PlatformType != "" {
		platform, ok := platformTypeOf(p.PlatformType)
		if !ok {
			return fmt.Errorf("invalid parameter \"platform_type\": %q is not a platform type; expected Linux, Windows or MacOS", p.PlatformType)
		}
		p.PlatformType = string(platform)
	}
	p.Owner = canonicalOwner(p.Owner)
	return checkMaxResults(p.MaxResults)
}

// documentOwners are the Owner filter's keywords, in the case that SSM
// expects. Any other value, such as an account ID, is passed as given.
var documentOwners = []string{"Self", "Amazon", "Private", "Public", "ThirdParty", "All"}

// canonicalOwner writes an owner keyword in SSM's case, so that "self"
// finds the account's own documents.
func canonicalOwner(owner string) string {
	owner = strings.TrimSpace(owner)
	for _, keyword := range documentOwners {
		if strings.EqualFold(owner, keyword) {
			return keyword
		}
	}
	return owner
}

// platformTypeOf matches name to one of SSM's platform types, ignoring case.
func platformTypeOf(name string) (types.PlatformType, bool) {
	for _, platform := range types.PlatformType("").Values() {
		if strings.EqualFold(name, string(platform)) {
			return platform, true
		}
	}
	return "", false
}

// filters turns the parameters into ListDocuments filters. Name matches a
// prefix of the document name.
func (p *listDocumentsParams) filters() []types.DocumentKeyValuesFilter {
	var filters []types.DocumentKeyValuesFilter
	add := func(key, value string) {
		if value != "" {
			filters = append(filters, types.DocumentKeyValuesFilter{Key: aws.String(key), Values: []string{value}})
		}
	}
	add("Name", p.Name)
	add("Owner", p.Owner)
	add("PlatformTypes", p.PlatformType)
	add("DocumentType", p.DocumentType)
	return filters
}

// listDocuments lists SSM documents in the order SSM returns them. Each
// data item is one document identifier, with the pages flattened.
func listDocuments(ctx context.Context, env *connector.Env, p listDocumentsParams) (*connector.Outcome, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	filters := p.filters()
	env.Progress("Listing documents%s in %s", documentFilterText(filters), env.AWS.Region)

	fetch := func(ctx context.Context, token string, size int32) (resultPage[types.DocumentIdentifier], error) {
		out, err := env.AWS.SSM.ListDocuments(ctx, &ssm.ListDocumentsInput{
			Filters:    filters,
			MaxResults: aws.Int32(size),
			NextToken:  stringOrNil(token),
		})
		if err != nil {
			return resultPage[types.DocumentIdentifier]{}, err
		}
		return resultPage[types.DocumentIdentifier]{
			Items:     out.DocumentIdentifiers,
			NextToken: aws.ToString(out.NextToken),
		}, nil
	}

	data := []any{}
	keep := func(page resultPage[types.DocumentIdentifier]) {
		for _, doc := range page.Items {
			data = append(data, awsdata.Object(doc))
		}
	}

	var maxResults int64
	if p.MaxResults != nil {
		maxResults = *p.MaxResults
	}
	stats, err := listPages(ctx, "ListDocuments", maxResults, fetch, keep)

	summary := connector.Summary{}
	summary.Set("num_documents", stats.Items)
	outcome := &connector.Outcome{Data: data, Summary: summary}

	if err != nil {
		// AWS's message names the filter and its valid values, so the
		// SDK's request details are left out.
		var api smithy.APIError
		if errors.As(err, &api) && (api.ErrorCode() == "InvalidFilterKey" || api.ErrorCode() == "InvalidFilterValue") {
			return outcome, fmt.Errorf("list documents%s: SSM rejected a filter: %s", documentFilterText(filters), api.ErrorMessage())
		}
		return outcome, fmt.Errorf("list documents%s, page %d: %w", documentFilterText(filters), stats.Pages, command.Explain(err))
	}

	if stats.Truncated {
		env.Progress("Stopped at max_results (%d); SSM has more documents", maxResults)
	}
	env.Progress("Listed %s in %s", countText(stats.Items, "document", "documents"), countText(stats.Pages, "page", "pages"))
	if stats.Warning != "" {
		env.Warn("%s", stats.Warning)
		outcome.Message = fmt.Sprintf("Num documents: %d, Warning: %s", stats.Items, stats.Warning)
	}
	return outcome, nil
}

// documentFilterText describes filters for progress lines and errors, such
// as " with Owner Amazon, DocumentType Command".
func documentFilterText(filters []types.DocumentKeyValuesFilter) string {
	if len(filters) == 0 {
		return ""
	}
	parts := make([]string, 0, len(filters))
	for _, f := range filters {
		parts = append(parts, aws.ToString(f.Key)+" "+strings.Join(f.Values, ", "))
	}
	return " with " + strings.Join(parts, ", ")
}
