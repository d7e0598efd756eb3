// Package appdoc writes the README's action reference from app.json, so the
// reference cannot drift from what the binary validates.
package appdoc

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/awsssm/awsssm/internal/connector"
)

// The markers around the generated part of the README.
const (
	BeginMarker = "<!-- BEGIN ACTION REFERENCE: generated from app.json by `make docs`; do not edit -->"
	EndMarker   = "<!-- END ACTION REFERENCE -->"
)

// Render returns the action reference in Markdown: for each action its
// description, its parameters and its output data paths.
func Render(m *connector.Manifest) string {
	var b strings.Builder
	for i, a := range m.Actions {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "### %s\n\n", a.Name)
		fmt.Fprintf(&b, "`%s`, %s", a.Identifier, actionKind(a))
		fmt.Fprintf(&b, ". %s.\n\n", strings.TrimSuffix(a.Description, "."))

		if len(a.Parameters) == 0 {
			b.WriteString("No parameters.\n\n")
		} else {
			b.WriteString("| parameter | type | required | default | description |\n")
			b.WriteString("| --- | --- | --- | --- | --- |\n")
			for _, name := range connector.FieldNames(a.Parameters) {
				f := a.Parameters[name]
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n",
					name, f.DataType, yesNo(f.Required), defaultText(f.Default), cell(describe(f)))
			}
			b.WriteString("\n")
		}

		fmt.Fprintf(&b, "<details><summary>%d output data paths</summary>\n\n", len(a.Output))
		for _, out := range a.Output {
			fmt.Fprintf(&b, "- `%s` (%s)\n", out.DataPath, out.DataType)
		}
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

func actionKind(a connector.ActionSpec) string {
	access := "changes things"
	if a.ReadOnly {
		access = "read only"
	}
	return a.Type + " action, " + access
}

// describe adds the value list, when there is one, to a field's description.
func describe(f connector.Field) string {
	text := strings.TrimSuffix(f.Description, ".")
	if len(f.ValueList) > 0 {
		text += ". One of: " + strings.Join(f.ValueList, ", ")
	}
	return text
}

// defaultText writes a default value in code style. app.json's numbers are
// decoded as float64, so whole ones are written without an exponent.
func defaultText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return fmt.Sprintf("`%d`", int64(x))
		}
	}
	return fmt.Sprintf("`%v`", v)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// cell escapes the characters that would break a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// Replace returns readme with the text between the markers replaced by
// reference. The markers must each appear once, begin before end.
func Replace(readme []byte, reference string) ([]byte, error) {
	begin := bytes.Index(readme, []byte(BeginMarker))
	end := bytes.Index(readme, []byte(EndMarker))
	if begin < 0 || end < 0 || end < begin {
		return nil, errors.New("README.md lacks the action reference markers " + BeginMarker + " and " + EndMarker)
	}
	if bytes.Count(readme, []byte(BeginMarker)) != 1 || bytes.Count(readme, []byte(EndMarker)) != 1 {
		return nil, errors.New("README.md has the action reference markers more than once")
	}
	var out bytes.Buffer
	out.Write(readme[:begin+len(BeginMarker)])
	out.WriteString("\n\n")
	out.WriteString(reference)
	out.WriteString("\n")
	out.Write(readme[end:])
	return out.Bytes(), nil
}
