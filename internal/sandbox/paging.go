package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
)

// A NextToken is opaque to the client: base64 of a small JSON cursor
// followed by an HMAC of it. A token that the sandbox did not issue, or
// issued for another operation, is rejected with InvalidNextToken, as AWS
// rejects it.
//
// The cursor holds the sort key of the last item returned, not an offset,
// so that items added or removed between two calls do not shift the pages:
// the next page starts after that key.

// pageCursor is the content of a NextToken.
type pageCursor struct {
	Operation string `json:"o"`
	Page      int    `json:"p"`
	After     string `json:"a"`
}

// pageResult is the part of a sorted list that one call returns.
type pageResult struct {
	Lo, Hi    int
	NextToken *string
}

// paginate picks the page of a list to return. keys are the items' sort
// keys in the order the operation returns them, strictly ascending; limit
// is the request's MaxResults after its default. The page plan and the
// repeated-token knob of the operation apply here.
func (st *ssmState) paginate(operation string, keys []string, limit int, token *string) (pageResult, error) {
	cursor := pageCursor{Operation: operation}
	if token != nil {
		decoded, ok := st.decodePageToken(*token)
		if !ok || decoded.Operation != operation {
			return pageResult{}, ssmError("InvalidNextToken", "The specified token isn't valid.")
		}
		cursor = decoded
	}

	lo := 0
	if token != nil {
		lo = sort.SearchStrings(keys, cursor.After)
		if lo < len(keys) && keys[lo] == cursor.After {
			lo++
		}
	}

	size := limit
	planned, hasPlan := st.knobs.plannedPageSize(operation, cursor.Page)
	if hasPlan {
		size = planned
	}
	hi := min(lo+size, len(keys))

	var result pageResult
	result.Lo, result.Hi = lo, hi
	if hi < len(keys) {
		next := pageCursor{Operation: operation, Page: cursor.Page + 1, After: cursor.After}
		if hi > lo {
			next.After = keys[hi-1]
		}
		encoded := st.encodePageToken(next)
		result.NextToken = &encoded
	}

	// A service with this bug hands back the token it was given.
	if token != nil && st.knobs.repeatsToken(operation, cursor.Page) {
		repeated := *token
		result.NextToken = &repeated
	}
	return result, nil
}

func (st *ssmState) encodePageToken(c pageCursor) string {
	body, _ := json.Marshal(c)
	mac := hmac.New(sha256.New, st.tokenKey)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(append(body, mac.Sum(nil)...))
}

func (st *ssmState) decodePageToken(token string) (pageCursor, bool) {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil || len(raw) <= sha256.Size {
		return pageCursor{}, false
	}
	body, sum := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	mac := hmac.New(sha256.New, st.tokenKey)
	mac.Write(body)
	if !hmac.Equal(sum, mac.Sum(nil)) {
		return pageCursor{}, false
	}
	var c pageCursor
	if err := json.Unmarshal(body, &c); err != nil {
		return pageCursor{}, false
	}
	return c, true
}

// indexKey is the sort key of the i-th item of a list kept in a fixed order.
func indexKey(i int) string { return fmt.Sprintf("%010d", i) }
