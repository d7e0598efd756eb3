package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Result statuses, as SOAR platforms spell them.
const (
	StatusSuccess = "success"
	StatusFailed  = "failed"
)

// Output is the one JSON document that a run writes on standard output.
type Output struct {
	Action        string         `json:"action"`
	Identifier    string         `json:"identifier"`
	Status        string         `json:"status"`
	Message       string         `json:"message"`
	ResultSummary ResultSummary  `json:"result_summary"`
	ResultData    []ActionResult `json:"result_data"`
}

// ResultSummary counts the action results of a run.
type ResultSummary struct {
	TotalObjects           int `json:"total_objects"`
	TotalObjectsSuccessful int `json:"total_objects_successful"`
}

// ActionResult is the result of one parameter set.
type ActionResult struct {
	Status    string         `json:"status"`
	Message   string         `json:"message"`
	Parameter map[string]any `json:"parameter"`
	Summary   Summary        `json:"summary"`
	Data      []any          `json:"data"`
}

// Summary is an action result's summary: key and value pairs that keep their
// order, because the result's message lists them in that order.
type Summary []SummaryField

// SummaryField is one key and value of a Summary.
type SummaryField struct {
	Key   string
	Value any
}

// Set replaces the value of key, or appends the pair when key is new.
func (s *Summary) Set(key string, value any) {
	for i := range *s {
		if (*s)[i].Key == key {
			(*s)[i].Value = value
			return
		}
	}
	*s = append(*s, SummaryField{Key: key, Value: value})
}

// Get returns the value of key.
func (s Summary) Get(key string) (any, bool) {
	for _, f := range s {
		if f.Key == key {
			return f.Value, true
		}
	}
	return nil, false
}

// MarshalJSON writes the summary as a JSON object in insertion order.
func (s Summary) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range s {
		if i > 0 {
			buf.WriteByte(',')
		}
		key, err := json.Marshal(f.Key)
		if err != nil {
			return nil, err
		}
		value, err := marshalNoEscape(f.Value)
		if err != nil {
			return nil, fmt.Errorf("summary %q: %w", f.Key, err)
		}
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(value)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads a JSON object; keys come back sorted, since a decoded
// map has lost the order.
func (s *Summary) UnmarshalJSON(data []byte) error {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*s = nil
	for _, k := range sortedKeys(m) {
		s.Set(k, m[k])
	}
	return nil
}

// message renders the summary the way SOAR platforms show a result's
// message: "Status: Successfully executed program, Created vault id: 6f38…".
func (s Summary) message() string {
	parts := make([]string, 0, len(s))
	for _, f := range s {
		if f.Value == nil {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %v", summaryLabel(f.Key), f.Value))
	}
	return strings.Join(parts, ", ")
}

// summaryLabel turns a summary key such as "created_vault_id" into
// "Created vault id".
func summaryLabel(key string) string {
	label := strings.ReplaceAll(key, "_", " ")
	if label == "" {
		return label
	}
	return strings.ToUpper(label[:1]) + label[1:]
}

// marshalNoEscape encodes v as JSON without escaping <, > and &, which
// command output contains often and which are safe outside HTML.
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
