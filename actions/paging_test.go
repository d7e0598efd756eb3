package actions

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeList serves pages from a table keyed by the request's token ("" is
// the first page) and records every request.
type fakeList struct {
	pages    map[string]resultPage[int]
	tokens   []string
	sizes    []int32
	failWith map[string]error
}

func (f *fakeList) fetch(_ context.Context, token string, size int32) (resultPage[int], error) {
	f.tokens = append(f.tokens, token)
	f.sizes = append(f.sizes, size)
	if err := f.failWith[token]; err != nil {
		return resultPage[int]{}, err
	}
	page, ok := f.pages[token]
	if !ok {
		return resultPage[int]{}, fmt.Errorf("fake: no page for token %q", token)
	}
	return page, nil
}

// pageNumbers returns the integers from first to last.
func pageNumbers(first, last int) []int {
	var out []int
	for i := first; i <= last; i++ {
		out = append(out, i)
	}
	return out
}

// collectPages runs listPages over f and returns the pages that keep received.
func collectPages(t *testing.T, f *fakeList, maxResults int64) ([]resultPage[int], listingStats, error) {
	t.Helper()
	var kept []resultPage[int]
	stats, err := listPages(context.Background(), "ListThings", maxResults, f.fetch, func(p resultPage[int]) {
		kept = append(kept, p)
	})
	return kept, stats, err
}

// keptItems flattens the items of pages.
func keptItems(pages []resultPage[int]) []int {
	var out []int
	for _, p := range pages {
		out = append(out, p.Items...)
	}
	return out
}

func TestListPagesFollowsTokensToEnd(t *testing.T) {
	f := &fakeList{pages: map[string]resultPage[int]{
		"":  {Items: pageNumbers(1, 50), NextToken: "a"},
		"a": {Items: pageNumbers(51, 100), NextToken: "b"},
		"b": {Items: pageNumbers(101, 120)},
	}}

	kept, stats, err := collectPages(t, f, 0)
	require.NoError(t, err)
	assert.Equal(t, pageNumbers(1, 120), keptItems(kept))
	assert.Equal(t, []string{"", "a", "b"}, f.tokens)
	assert.Equal(t, []int32{50, 50, 50}, f.sizes, "without max_results every page asks for the maximum")
	assert.Equal(t, 3, stats.Pages)
	assert.Equal(t, 120, stats.Items)
	assert.False(t, stats.Truncated)
	assert.Empty(t, stats.Warning)
}

func TestListPagesAsksForRemainingItems(t *testing.T) {
	f := &fakeList{pages: map[string]resultPage[int]{
		"":  {Items: pageNumbers(1, 50), NextToken: "a"},
		"a": {Items: pageNumbers(51, 60), NextToken: "b"},
	}}

	kept, stats, err := collectPages(t, f, 60)
	require.NoError(t, err)
	assert.Equal(t, pageNumbers(1, 60), keptItems(kept))
	assert.Equal(t, []int32{50, 10}, f.sizes)
	assert.True(t, stats.Truncated, "the service still had items after the 60th")
	assert.Empty(t, stats.Warning)
}

func TestListPagesSmallLimitAsksSmallPage(t *testing.T) {
	f := &fakeList{pages: map[string]resultPage[int]{
		"": {Items: pageNumbers(1, 3), NextToken: "a"},
	}}

	kept, stats, err := collectPages(t, f, 3)
	require.NoError(t, err)
	assert.Equal(t, pageNumbers(1, 3), keptItems(kept))
	assert.Equal(t, []int32{3}, f.sizes)
	assert.Equal(t, 1, stats.Pages, "no request after max_results is reached")
}

func TestListPagesSkipsEmptyPages(t *testing.T) {
	f := &fakeList{pages: map[string]resultPage[int]{
		"":  {Items: []int{1}, NextToken: "a"},
		"a": {Items: []int{}, NextToken: "b"},
		"b": {Items: pageNumbers(2, 60), NextToken: "c"},
	}}

	kept, stats, err := collectPages(t, f, 60)
	require.NoError(t, err)
	require.Len(t, kept, 2, "the empty page is not passed on")
	assert.Equal(t, []int{1}, kept[0].Items)
	assert.Len(t, kept[1].Items, 59)
	assert.Equal(t, pageNumbers(1, 60), keptItems(kept))
	assert.Equal(t, []int32{50, 50, 50}, f.sizes)
	assert.Equal(t, 3, stats.Pages)
}

func TestListPagesCutsOversizedPage(t *testing.T) {
	f := &fakeList{pages: map[string]resultPage[int]{
		"":  {Items: []int{1}, NextToken: "a"},
		"a": {Items: pageNumbers(2, 60), NextToken: "b", ResponseMetadata: map[string]any{"RequestId": "r2"}},
	}}

	kept, stats, err := collectPages(t, f, 30)
	require.NoError(t, err)
	require.Len(t, kept, 2)
	assert.Equal(t, pageNumbers(2, 30), kept[1].Items, "the last page is cut to the items still wanted")
	assert.Equal(t, "b", kept[1].NextToken, "the cut page keeps the token the service returned")
	assert.Equal(t, "r2", kept[1].ResponseMetadata["RequestId"])
	assert.Equal(t, 30, stats.Items)
	assert.True(t, stats.Truncated)
	assert.Equal(t, []int32{30, 29}, f.sizes)
}

func TestListPagesExactLimitOnLastPage(t *testing.T) {
	f := &fakeList{pages: map[string]resultPage[int]{
		"":  {Items: pageNumbers(1, 50), NextToken: "a"},
		"a": {Items: pageNumbers(51, 70)},
	}}

	kept, stats, err := collectPages(t, f, 70)
	require.NoError(t, err)
	assert.Equal(t, pageNumbers(1, 70), keptItems(kept))
	assert.False(t, stats.Truncated, "nothing was left out")
}

func TestListPagesStopsOnRepeatedToken(t *testing.T) {
	f := &fakeList{pages: map[string]resultPage[int]{
		"":  {Items: []int{1, 2}, NextToken: "a"},
		"a": {Items: []int{3, 4}, NextToken: "a"},
	}}

	kept, stats, err := collectPages(t, f, 0)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 3, 4}, keptItems(kept), "the items before the repeat are kept")
	assert.Equal(t, []string{"", "a"}, f.tokens, "the repeated token is not sent again")
	assert.Contains(t, stats.Warning, "ListThings")
	assert.Contains(t, stats.Warning, "NextToken")
	assert.Contains(t, stats.Warning, "page 2")
}

func TestListPagesStopsOnEarlierToken(t *testing.T) {
	f := &fakeList{pages: map[string]resultPage[int]{
		"":  {Items: []int{1}, NextToken: "a"},
		"a": {Items: []int{2}, NextToken: "b"},
		"b": {Items: []int{3}, NextToken: "a"},
	}}

	kept, stats, err := collectPages(t, f, 0)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 3}, keptItems(kept))
	assert.Equal(t, 3, stats.Pages)
	assert.Contains(t, stats.Warning, "page 3")
}

func TestListPagesRepeatedTokenOnEmptyPage(t *testing.T) {
	f := &fakeList{pages: map[string]resultPage[int]{
		"":  {Items: []int{1}, NextToken: "a"},
		"a": {Items: []int{}, NextToken: "a"},
	}}

	kept, stats, err := collectPages(t, f, 10)
	require.NoError(t, err)
	assert.Equal(t, []int{1}, keptItems(kept))
	assert.Equal(t, 2, stats.Pages)
	assert.NotEmpty(t, stats.Warning)
}

func TestListPagesStopsAfterMaxPages(t *testing.T) {
	// Every page is empty and carries a new token.
	requests := 0
	fetch := func(_ context.Context, token string, size int32) (resultPage[int], error) {
		requests++
		return resultPage[int]{NextToken: fmt.Sprintf("t%d", requests)}, nil
	}

	stats, err := listPages(context.Background(), "ListThings", 0, fetch, func(resultPage[int]) {
		t.Error("keep must not receive empty pages")
	})
	require.NoError(t, err)
	assert.Equal(t, maxPages, requests)
	assert.Equal(t, maxPages, stats.Pages)
	assert.Contains(t, stats.Warning, fmt.Sprintf("after %d pages", maxPages))
}

func TestListPagesReturnsFetchError(t *testing.T) {
	failure := errors.New("throttled")
	f := &fakeList{
		pages: map[string]resultPage[int]{
			"": {Items: []int{1, 2}, NextToken: "a"},
		},
		failWith: map[string]error{"a": failure},
	}

	kept, stats, err := collectPages(t, f, 0)
	require.ErrorIs(t, err, failure)
	assert.Equal(t, []int{1, 2}, keptItems(kept), "pages before the error were passed on")
	assert.Equal(t, 2, stats.Pages)
	assert.Equal(t, 2, stats.Items)
}

func TestListPagesStopsWithoutToken(t *testing.T) {
	f := &fakeList{pages: map[string]resultPage[int]{
		"": {Items: []int{}},
	}}

	kept, stats, err := collectPages(t, f, 5)
	require.NoError(t, err)
	assert.Empty(t, kept)
	assert.Equal(t, 1, stats.Pages)
	assert.Empty(t, stats.Warning)
}

func TestCheckMaxResults(t *testing.T) {
	value := func(n int64) *int64 { return &n }

	assert.NoError(t, checkMaxResults(nil), "absent means no limit")
	assert.NoError(t, checkMaxResults(value(1)))
	assert.NoError(t, checkMaxResults(value(100000)))
	for _, n := range []int64{0, -1} {
		err := checkMaxResults(value(n))
		require.Error(t, err, "max_results %d", n)
		assert.Contains(t, err.Error(), "max_results")
		assert.Contains(t, err.Error(), fmt.Sprint(n))
	}
}
