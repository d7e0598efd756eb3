package connector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxInputBytes bounds standard input and the --config file. A SOAR run's
// input is parameters and an asset configuration, far below this.
const maxInputBytes = 16 << 20

// Input is one run's request, from either input shape.
type Input struct {
	// ActionName is the identifier or display name of the action.
	ActionName string
	// Config is the asset configuration as given, before validation.
	Config map[string]any
	// ParameterSets holds one raw parameter object for each action result.
	ParameterSets []map[string]any
	// EnvironmentVariables are the platform's environment_variables, by name.
	EnvironmentVariables map[string]string
	// ContainerID is the SOAR container id; empty when not given.
	ContainerID string
	// Warnings are problems that do not stop the run, for standard error.
	Warnings []string
}

// runDocument is the connector-run shape that a SOAR platform sends.
type runDocument struct {
	Action               string                     `json:"action"`
	Identifier           string                     `json:"identifier"`
	AssetID              any                        `json:"asset_id"`
	ContainerID          any                        `json:"container_id"`
	Config               map[string]any             `json:"config"`
	Parameters           []map[string]any           `json:"parameters"`
	EnvironmentVariables map[string]json.RawMessage `json:"environment_variables"`
}

// InputError is a problem with the run's input as a whole: exit status 2.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErrorf(format string, args ...any) error {
	return &InputError{Err: fmt.Errorf(format, args...)}
}

// utf8BOM is the byte order mark that some Windows tools, Notepad and
// PowerShell's Out-File -Encoding utf8 among them, write at the start of
// UTF-8 text. JSON forbids it (RFC 8259, section 8.1), but readers may
// ignore it.
const utf8BOM = "\xEF\xBB\xBF"

// trimBOM drops a leading UTF-8 byte order mark from data. It rejects text
// that starts with a UTF-16 byte order mark, which would otherwise fail as
// an invalid character.
func trimBOM(data []byte) ([]byte, error) {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return nil, errors.New("the input is UTF-16 text (it starts with a UTF-16 byte order mark); save or send it as UTF-8")
	}
	return bytes.TrimPrefix(data, []byte(utf8BOM)), nil
}

// decodeJSON decodes data into v, keeping numbers exact, and rejects
// trailing data after the document.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON document")
	}
	return nil
}

// describeJSONError adds the line and column to a JSON syntax error.
func describeJSONError(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		line, col := position(data, syntax.Offset)
		return fmt.Errorf("malformed JSON at line %d, column %d: %v", line, col, syntax)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "the document"
		}
		if field == "parameters" && typeErr.Type.Kind().String() == "map" {
			return fmt.Errorf("parameters must be an array of parameter objects; found a JSON %s in it", typeErr.Value)
		}
		return fmt.Errorf("%s must be %s, not a JSON %s", field, describeGoType(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.Is(err, io.EOF):
		return errors.New("the input is empty; expected a JSON document")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("malformed JSON: the document ends early")
	}
	return fmt.Errorf("malformed JSON: %v", err)
}

func describeGoType(kind string) string {
	switch kind {
	case "map", "struct":
		return "a JSON object"
	case "slice":
		return "a JSON array"
	case "string":
		return "a string"
	}
	return "a " + kind
}

func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n') - 1
	return line, col
}

// parseRunDocument reads the connector-run shape.
func parseRunDocument(data []byte) (*Input, error) {
	data, err := trimBOM(data)
	if err != nil {
		return nil, inputErrorf("standard input: %v", err)
	}
	var doc runDocument
	if err := decodeJSON(data, &doc); err != nil {
		return nil, inputErrorf("standard input: %v", err)
	}

	name := doc.Identifier
	if strings.TrimSpace(name) == "" {
		name = doc.Action
	}
	if strings.TrimSpace(name) == "" {
		return nil, inputErrorf(`standard input: no action: set "identifier" or "action", or give the action name as the first argument`)
	}

	containerID, ok := idString(doc.ContainerID)
	if !ok {
		return nil, inputErrorf("standard input: container_id must be a number or a string")
	}
	in := &Input{
		ActionName:    name,
		Config:        doc.Config,
		ParameterSets: doc.Parameters,
		ContainerID:   containerID,
	}
	if in.Config == nil {
		in.Config = map[string]any{}
	}

	if doc.Identifier != "" && doc.Action != "" && normalizeActionName(doc.Identifier) != normalizeActionName(doc.Action) {
		in.Warnings = append(in.Warnings, fmt.Sprintf("identifier %q and action %q name different actions; running %q, as identifier wins", doc.Identifier, doc.Action, doc.Identifier))
	}

	vars, err := environmentVariables(doc.EnvironmentVariables)
	if err != nil {
		return nil, err
	}
	in.EnvironmentVariables = vars
	return in, nil
}

// environmentVariables reads the platform's {"NAME": {"value": ...}} form;
// a plain string value is accepted too.
func environmentVariables(raw map[string]json.RawMessage) (map[string]string, error) {
	vars := map[string]string{}
	for name, value := range raw {
		var plain string
		if err := json.Unmarshal(value, &plain); err == nil {
			vars[name] = plain
			continue
		}
		var typed struct {
			Value any `json:"value"`
		}
		if err := json.Unmarshal(value, &typed); err != nil {
			return nil, inputErrorf("environment_variables: %q must be an object with a \"value\" member", name)
		}
		if typed.Value != nil {
			vars[name] = fmt.Sprint(typed.Value)
		}
	}
	return vars, nil
}

// idString returns a SOAR id given as a JSON number or string; ok is false
// for any other JSON value.
func idString(v any) (id string, ok bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case json.Number:
		return x.String(), true
	case string:
		return strings.TrimSpace(x), true
	}
	return "", false
}

// parseParameterSets reads the short shape's standard input: one parameter
// object or a list of them. Empty input is one empty parameter set.
func parseParameterSets(data []byte) ([]map[string]any, error) {
	data, err := trimBOM(data)
	if err != nil {
		return nil, inputErrorf("standard input: %v", err)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return []map[string]any{{}}, nil
	}
	if trimmed[0] == '[' {
		var sets []map[string]any
		if err := decodeJSON(trimmed, &sets); err != nil {
			return nil, inputErrorf("standard input: expected a parameter object or an array of them: %v", err)
		}
		return sets, nil
	}
	var set map[string]any
	if err := decodeJSON(trimmed, &set); err != nil {
		return nil, inputErrorf("standard input: expected a parameter object or an array of them: %v", err)
	}
	return []map[string]any{set}, nil
}

// readConfigFile reads an asset configuration: either the fields
// themselves, or a document with a "config" object (a saved connector-run
// input works too).
func readConfigFile(path string) (map[string]any, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, inputErrorf("--config: %v", err)
	}
	if data, err = trimBOM(data); err != nil {
		return nil, inputErrorf("--config %s: %v", path, err)
	}
	var config map[string]any
	if err := decodeJSON(data, &config); err != nil {
		return nil, inputErrorf("--config %s: %v", path, err)
	}
	if inner, ok := config["config"].(map[string]any); ok {
		return inner, nil
	}
	return config, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllLimited(f)
}

func readAllLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxInputBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxInputBytes {
		return nil, fmt.Errorf("input is larger than %d MiB", maxInputBytes>>20)
	}
	return data, nil
}
