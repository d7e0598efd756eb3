package connector

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ValidationError lists every problem found in one parameter set or in the
// asset configuration. Each problem names the field and what was expected.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	return strings.Join(e.Problems, "; ")
}

// validateOptions changes how validateFields treats a set of values.
type validateOptions struct {
	// subject is the name of one value in messages: "parameter" or
	// "asset configuration field".
	subject string
	// ignoreUnknown accepts names that the manifest does not list, and drops them.
	ignoreUnknown bool
	// freeValues names fields whose value_list only suggests values; another
	// part of the connector checks them (the Region accepts codes too).
	freeValues map[string]bool
}

// validateFields checks raw values against their manifest fields and returns
// them converted to their data types (string, int64, bool), with defaults
// filled in. Absent, null and empty-string values count as not given, because
// SOAR platforms send optional fields that way.
func validateFields(fields map[string]Field, raw map[string]any, opts validateOptions) (map[string]any, error) {
	values := map[string]any{}
	var problems []string

	for _, name := range sortedKeys(raw) {
		if _, known := fields[name]; !known && !opts.ignoreUnknown {
			if len(fields) == 0 {
				problems = append(problems, fmt.Sprintf("unknown %s %q; this action takes no parameters", opts.subject, name))
				continue
			}
			problems = append(problems, fmt.Sprintf("unknown %s %q; expected one of: %s",
				opts.subject, name, strings.Join(FieldNames(fields), ", ")))
		}
	}

	for _, name := range FieldNames(fields) {
		field := fields[name]
		value, given := raw[name]
		if given && isEmptyValue(value) {
			given = false
		}
		if !given {
			switch {
			case field.Default != nil:
				converted, err := convertValue(field, field.Default, true)
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s %q: default in app.json: %v", opts.subject, name, err))
					continue
				}
				values[name] = converted
			case field.Required:
				expected := field
				if opts.freeValues[name] {
					// The list only suggests values, so the description explains them.
					expected.ValueList = nil
				}
				problems = append(problems, fmt.Sprintf("missing required %s %q: expected %s", opts.subject, name, describeExpected(expected)))
			}
			continue
		}

		converted, err := convertValue(field, value, opts.freeValues[name])
		if err != nil {
			problems = append(problems, fmt.Sprintf("invalid %s %q: %v", opts.subject, name, err))
			continue
		}
		values[name] = converted
	}

	if len(problems) > 0 {
		return values, &ValidationError{Problems: problems}
	}
	return values, nil
}

func isEmptyValue(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) == ""
}

// convertValue converts one given value to the field's data type. It never
// puts the value itself in an error, because password fields are secrets.
func convertValue(field Field, value any, freeValue bool) (any, error) {
	switch field.DataType {
	case TypeString, TypePassword:
		s, ok := value.(string)
		if !ok {
			return nil, fmt.Errorf("expected %s, got %s", describeExpected(field), jsonKind(value))
		}
		if len(field.ValueList) > 0 && !freeValue {
			for _, allowed := range field.ValueList {
				if strings.EqualFold(strings.TrimSpace(s), allowed) {
					return allowed, nil
				}
			}
			return nil, fmt.Errorf("expected one of %s, got %q", quoteList(field.ValueList), s)
		}
		return s, nil

	case TypeNumeric:
		n, err := toWholeNumber(value)
		if err != nil {
			return nil, err
		}
		return n, nil

	case TypeBoolean:
		switch v := value.(type) {
		case bool:
			return v, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
			return nil, fmt.Errorf("expected true or false, got %q", v)
		}
		return nil, fmt.Errorf("expected true or false, got %s", jsonKind(value))
	}
	return nil, fmt.Errorf("unknown data type %q", field.DataType)
}

// toWholeNumber accepts a JSON number or a numeric string ("30"), as
// platforms send both. Every numeric parameter of this app counts something
// (seconds, bytes, results), so fractions are rejected.
func toWholeNumber(value any) (int64, error) {
	var text string
	switch v := value.(type) {
	case json.Number:
		text = v.String()
	case float64:
		text = strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	case string:
		text = strings.TrimSpace(v)
	default:
		return 0, fmt.Errorf("expected a whole number, got %s", jsonKind(value))
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("expected a whole number, got %q", text)
	}
	if math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%s is too large; expected a whole number up to %d", shorten(text, 40), int64(1)<<53)
	}
	if f != math.Trunc(f) {
		return 0, fmt.Errorf("expected a whole number, got %s", text)
	}
	return int64(f), nil
}

func describeExpected(field Field) string {
	switch field.DataType {
	case TypeNumeric:
		return "a whole number"
	case TypeBoolean:
		return "true or false"
	}
	if len(field.ValueList) > 0 {
		return "one of " + quoteList(field.ValueList)
	}
	if field.Description != "" {
		return "a string (" + field.Description + ")"
	}
	return "a string"
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64, int, int64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func quoteList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = strconv.Quote(s)
	}
	return strings.Join(quoted, ", ")
}

// shorten cuts s to at most n bytes for a message, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
