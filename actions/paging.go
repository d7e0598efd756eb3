package actions

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// maxPageSize is the largest MaxResults that ListCommands and ListDocuments
// accept: the SSM API Reference gives both a range of 1 to 50.
const maxPageSize = 50

// maxPages bounds the requests of one listing, so that a service that keeps
// returning a NextToken cannot keep the action running forever.
const maxPages = 1000

// resultPage is one response of a paged SSM List call.
type resultPage[T any] struct {
	Items []T
	// NextToken is empty on the last page. listPages passes it on as the
	// service returned it, also on a page whose items it cut.
	NextToken string
	// ResponseMetadata is the call's boto3-shaped ResponseMetadata object,
	// which listPages passes on untouched.
	ResponseMetadata map[string]any
}

// pageFunc requests the page that token starts, the first page when token
// is empty, asking for at most size items.
type pageFunc[T any] func(ctx context.Context, token string, size int32) (resultPage[T], error)

// listingStats describes how a listing went.
type listingStats struct {
	// Pages is the number of requests sent, the failed one included.
	Pages int
	// Items is the number of items passed on.
	Items int
	// Truncated is true when the listing stopped at maxResults while the
	// service still had items.
	Truncated bool
	// Warning is the reason the listing stopped before the last page
	// because the service misbehaved, and empty when it did not.
	Warning string
}

// listPages follows NextToken from the first page and passes each page
// that has items to keep. With maxResults above 0, it requests at most the
// items still wanted from each page, cuts the last page so that exactly
// maxResults items are passed on in all, and stops there. With maxResults
// 0, it lists everything.
//
// Pages without items that still carry a NextToken are skipped. The
// listing stops with a warning when a NextToken repeats one seen before,
// or after maxPages requests, and operation names the call in the warning.
// An error of fetch ends the listing, after keep has received the pages
// before it.
func listPages[T any](ctx context.Context, operation string, maxResults int64, fetch pageFunc[T], keep func(resultPage[T])) (listingStats, error) {
	var stats listingStats
	seen := map[string]bool{}
	token := ""

	for {
		if stats.Pages == maxPages {
			stats.Warning = fmt.Sprintf("%s still returned a NextToken after %d pages, so the listing stopped there and may be incomplete; set max_results or narrow the filters", operation, maxPages)
			return stats, nil
		}

		size := int64(maxPageSize)
		if maxResults > 0 {
			size = min(size, maxResults-int64(stats.Items))
		}
		stats.Pages++
		page, err := fetch(ctx, token, int32(size))
		if err != nil {
			return stats, err
		}

		// A service may return more items than requested, as the sandbox's
		// page plan does, so only the items still wanted are kept.
		if maxResults > 0 && int64(len(page.Items)) > maxResults-int64(stats.Items) {
			page.Items = page.Items[:maxResults-int64(stats.Items)]
			stats.Truncated = true
		}
		if len(page.Items) > 0 {
			stats.Items += len(page.Items)
			keep(page)
		}

		if page.NextToken == "" {
			return stats, nil
		}
		if maxResults > 0 && int64(stats.Items) == maxResults {
			stats.Truncated = true
			return stats, nil
		}
		if seen[page.NextToken] {
			stats.Warning = fmt.Sprintf("%s returned on page %d a NextToken that it had already returned, so the listing stopped there and may be incomplete", operation, stats.Pages)
			return stats, nil
		}
		seen[page.NextToken] = true
		token = page.NextToken
	}
}

// checkMaxResults rejects a max_results of 0 or below. Absent (nil) means
// no limit.
func checkMaxResults(maxResults *int64) error {
	if maxResults != nil && *maxResults < 1 {
		return fmt.Errorf("invalid parameter \"max_results\": %d is not a positive number; give 1 or more, or leave it empty to list everything", *maxResults)
	}
	return nil
}

// countText writes a count with its noun, singular or plural: "1 page",
// "3 pages".
func countText(n int, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	return fmt.Sprintf("%d %s", n, plural)
}

// stringOrNil returns nil for an empty string, so that an optional request
// member that is not set stays out of the request.
func stringOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
