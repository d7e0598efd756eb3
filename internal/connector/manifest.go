package connector

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Data types of parameters and configuration fields, as SOAR app manifests
// name them.
const (
	TypeString   = "string"
	TypeNumeric  = "numeric"
	TypeBoolean  = "boolean"
	TypePassword = "password"
)

// Manifest is the part of app.json that the connector acts on.
type Manifest struct {
	Name          string           `json:"name"`
	AppVersion    string           `json:"app_version"`
	Configuration map[string]Field `json:"configuration"`
	Actions       []ActionSpec     `json:"actions"`
}

// ActionSpec is one action of the manifest.
type ActionSpec struct {
	Name        string           `json:"action"`
	Identifier  string           `json:"identifier"`
	Description string           `json:"description"`
	Type        string           `json:"type"`
	ReadOnly    bool             `json:"read_only"`
	Parameters  map[string]Field `json:"parameters"`
	Output      []OutputPath     `json:"output"`
}

// Field is a parameter of an action or a field of the asset configuration.
type Field struct {
	Description string   `json:"description"`
	DataType    string   `json:"data_type"`
	Required    bool     `json:"required"`
	Primary     bool     `json:"primary,omitempty"`
	Default     any      `json:"default,omitempty"`
	ValueList   []string `json:"value_list,omitempty"`
	Contains    []string `json:"contains,omitempty"`
	Order       int      `json:"order"`
}

// OutputPath is one data path that an action's results contain.
type OutputPath struct {
	DataPath string   `json:"data_path"`
	DataType string   `json:"data_type"`
	Contains []string `json:"contains,omitempty"`
}

// ParseManifest decodes app.json and checks that it is usable: every action
// has an identifier and a name, and every field a known data type.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parse app.json: %w", err)
	}
	seen := map[string]bool{}
	for _, a := range m.Actions {
		if a.Identifier == "" || a.Name == "" {
			return nil, fmt.Errorf("app.json: an action lacks its identifier or name (%q, %q)", a.Identifier, a.Name)
		}
		if seen[a.Identifier] {
			return nil, fmt.Errorf("app.json: action %q appears twice", a.Identifier)
		}
		seen[a.Identifier] = true
		if err := checkFields(a.Parameters); err != nil {
			return nil, fmt.Errorf("app.json: action %q: %w", a.Identifier, err)
		}
	}
	if err := checkFields(m.Configuration); err != nil {
		return nil, fmt.Errorf("app.json: configuration: %w", err)
	}
	return &m, nil
}

func checkFields(fields map[string]Field) error {
	for name, f := range fields {
		switch f.DataType {
		case TypeString, TypeNumeric, TypeBoolean, TypePassword:
		default:
			return fmt.Errorf("field %q has unknown data type %q", name, f.DataType)
		}
	}
	return nil
}

// Action finds an action by identifier or display name, case-insensitively,
// with spaces and underscores treated alike ("execute program",
// "Execute_Program").
func (m *Manifest) Action(name string) (*ActionSpec, bool) {
	key := normalizeActionName(name)
	for i := range m.Actions {
		a := &m.Actions[i]
		if normalizeActionName(a.Identifier) == key || normalizeActionName(a.Name) == key {
			return a, true
		}
	}
	return nil, false
}

func normalizeActionName(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	return strings.Join(strings.FieldsFunc(name, func(r rune) bool { return r == ' ' || r == '_' || r == '-' }), "_")
}

// ActionIdentifiers returns every action identifier, sorted.
func (m *Manifest) ActionIdentifiers() []string {
	ids := make([]string, 0, len(m.Actions))
	for _, a := range m.Actions {
		ids = append(ids, a.Identifier)
	}
	sort.Strings(ids)
	return ids
}

// FieldNames returns the names of fields in manifest order: by their
// order member, then by name.
func FieldNames(fields map[string]Field) []string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		if fields[names[i]].Order != fields[names[j]].Order {
			return fields[names[i]].Order < fields[names[j]].Order
		}
		return names[i] < names[j]
	})
	return names
}
