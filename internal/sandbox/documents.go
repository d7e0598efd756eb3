package sandbox

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// document is an SSM document with its versions. Version n is versions[n-1].
type document struct {
	Name           string
	Owner          string // "Amazon", "Self" for the sandbox's account, or a third party
	DocumentType   string // Command, Automation, Session, Policy, ...
	DocumentFormat string // JSON
	TargetType     string
	PlatformTypes  []string
	Tags           []wireTag
	DefaultVersion string
	versions       []*documentVersion
}

// documentVersion is one version of a document's content.
type documentVersion struct {
	Version       string
	Content       string
	Hash          string // hex SHA-256 of Content
	Sha1          string // hex SHA-1 of Content
	SchemaVersion string
	Description   string
	Parameters    []docParameter
	Steps         []docStep
	CreatedDate   time.Time
}

// docParameter is one parameter declared by a document.
type docParameter struct {
	Name           string
	Type           string // String, StringList, Integer, Boolean, MapList, StringMap
	Description    string
	HasDefault     bool
	Default        []string
	AllowedValues  []string
	AllowedPattern *regexp.Regexp
	PatternText    string
	MinItems       *int
	MaxItems       *int
}

func (p docParameter) isList() bool { return p.Type == "StringList" || p.Type == "MapList" }

// docStep is one step that the agent runs: a plugin of a schema 1.2
// document, or one of the mainSteps of a schema 2.x document.
type docStep struct {
	// Name is the PluginName of GetCommandInvocation: the step name, or the
	// plugin name ("aws:runShellScript") for schema 1.2.
	Name string
	// Action is the plugin that runs the step.
	Action string
	// Dir is the step's segment of the S3 output key and of the
	// orchestration directory: the runtimeConfig id without ':'
	// ("0.awsrunShellScript") for schema 1.2, the step name for 2.x.
	Dir string
	// Inputs are the step's plugin inputs before parameter substitution.
	Inputs       map[string]any
	Precondition []any
	OnFailure    string
}

// pluginSegment is the plugin's segment of the S3 output key: the plugin
// name without ':', as the agent writes it ("awsrunShellScript").
func (st docStep) pluginSegment() string { return strings.ReplaceAll(st.Action, ":", "") }

// documentNamePattern is the name pattern of CreateDocument in the API model.
var documentNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_\-.]{3,128}$`)

// stepNamePattern restricts step names, and the runtimeConfig ids of schema
// 1.2, to what is safe as one path segment, except "." and "..".
var stepNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_\-.]{1,128}$`)

// checkStepDir rejects a step's path segment that could leave its directory.
func checkStepDir(dir string) error {
	if !stepNamePattern.MatchString(dir) || dir == "." || dir == ".." {
		return fmt.Errorf("step %q is not a valid path segment: use letters, digits, '_', '-' and '.'", dir)
	}
	return nil
}

// placeholderPattern finds {{ name }} and {{ssm:name}} references.
var placeholderPattern = regexp.MustCompile(`\{\{\s*(ssm:[A-Za-z0-9_./\-]+|[A-Za-z0-9_]+)\s*\}\}`)

// builtinCreated is the CreatedDate of the sandbox's own Amazon documents.
var builtinCreated = time.Date(2016, time.January, 4, 9, 30, 0, 0, time.UTC)

// The two documents of Run Command that the connector uses. Their content is
// the sandbox's own wording; it declares the same parameters, defaults and
// plugins as the AWS documents of the same name.
const runShellScriptContent = `{
  "schemaVersion": "1.2",
  "description": "Run shell commands, or a script given as commands, on Linux and macOS managed nodes.",
  "parameters": {
    "commands": {
      "type": "StringList",
      "description": "(Required) The shell commands to run, one per line.",
      "minItems": 1,
      "displayType": "textarea"
    },
    "workingDirectory": {
      "type": "String",
      "default": "",
      "description": "(Optional) Absolute path of the directory on the node in which the commands run.",
      "maxChars": 4096
    },
    "executionTimeout": {
      "type": "String",
      "default": "3600",
      "description": "(Optional) Seconds the commands may run before they are stopped and the command counts as timed out. Default 3600 (1 hour), maximum 172800 (48 hours).",
      "allowedPattern": "([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)"
    }
  },
  "runtimeConfig": {
    "aws:runShellScript": {
      "properties": [
        {
          "id": "0.aws:runShellScript",
          "runCommand": "{{ commands }}",
          "workingDirectory": "{{ workingDirectory }}",
          "timeoutSeconds": "{{ executionTimeout }}"
        }
      ]
    }
  }
}
`

const runPowerShellScriptContent = `{
  "schemaVersion": "1.2",
  "description": "Run PowerShell commands, or a script given as commands, on Windows, Linux and macOS managed nodes.",
  "parameters": {
    "commands": {
      "type": "StringList",
      "description": "(Required) The PowerShell commands to run, one per line.",
      "minItems": 1,
      "displayType": "textarea"
    },
    "workingDirectory": {
      "type": "String",
      "default": "",
      "description": "(Optional) Absolute path of the directory on the node in which the commands run.",
      "maxChars": 4096
    },
    "executionTimeout": {
      "type": "String",
      "default": "3600",
      "description": "(Optional) Seconds the commands may run before they are stopped and the command counts as timed out. Default 3600 (1 hour), maximum 172800 (48 hours).",
      "allowedPattern": "([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)"
    }
  },
  "runtimeConfig": {
    "aws:runPowerShellScript": {
      "properties": [
        {
          "id": "0.aws:runPowerShellScript",
          "runCommand": "{{ commands }}",
          "workingDirectory": "{{ workingDirectory }}",
          "timeoutSeconds": "{{ executionTimeout }}"
        }
      ]
    }
  }
}
`

// documentDefinition is one document of Options.DocumentsFile.
type documentDefinition struct {
	Name           string    `json:"Name"`
	Owner          string    `json:"Owner"`
	DocumentType   string    `json:"DocumentType"`
	TargetType     string    `json:"TargetType"`
	PlatformTypes  []string  `json:"PlatformTypes"`
	Tags           []wireTag `json:"Tags"`
	DefaultVersion string    `json:"DefaultVersion"`
	Versions       []struct {
		// Content is the document as a JSON object, or as a string that
		// holds the JSON text.
		Content     json.RawMessage `json:"Content"`
		CreatedDate time.Time       `json:"CreatedDate"`
	} `json:"Versions"`
}

// loadDocuments adds the built-in documents and those of
// Options.DocumentsFile.
func (s *Server) loadDocuments() error {
	st := &s.ssm
	for _, def := range []struct{ name, content string }{
		{"AWS-RunShellScript", runShellScriptContent},
		{"AWS-RunPowerShellScript", runPowerShellScriptContent},
	} {
		version, err := parseDocumentVersion("1", def.content, "Command", builtinCreated)
		if err != nil {
			return fmt.Errorf("built-in document %s: %w", def.name, err)
		}
		doc := &document{Name: def.name, Owner: "Amazon", DocumentType: "Command", DocumentFormat: "JSON", DefaultVersion: "1", versions: []*documentVersion{version}}
		doc.PlatformTypes = commandPlatformTypes(version.Steps)
		st.documents[doc.Name] = doc
	}

	if s.opts.DocumentsFile == "" {
		return nil
	}
	data, err := os.ReadFile(s.opts.DocumentsFile)
	if err != nil {
		return fmt.Errorf("read documents file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var defs []documentDefinition
	if err := dec.Decode(&defs); err != nil {
		return fmt.Errorf("parse documents file %s: %w", s.opts.DocumentsFile, err)
	}
	for _, def := range defs {
		doc, err := buildDocument(def)
		if err != nil {
			return fmt.Errorf("documents file %s: %w", s.opts.DocumentsFile, err)
		}
		if st.documents[doc.Name] != nil {
			return fmt.Errorf("documents file %s: document %s is defined twice", s.opts.DocumentsFile, doc.Name)
		}
		st.documents[doc.Name] = doc
	}
	return nil
}

func buildDocument(def documentDefinition) (*document, error) {
	if !documentNamePattern.MatchString(def.Name) {
		return nil, fmt.Errorf("document name %q does not match %s", def.Name, documentNamePattern)
	}
	if len(def.Versions) == 0 {
		return nil, fmt.Errorf("document %s has no versions", def.Name)
	}
	doc := &document{
		Name:           def.Name,
		Owner:          def.Owner,
		DocumentType:   def.DocumentType,
		DocumentFormat: "JSON",
		TargetType:     def.TargetType,
		PlatformTypes:  def.PlatformTypes,
		Tags:           def.Tags,
		DefaultVersion: def.DefaultVersion,
	}
	if doc.Owner == "" {
		doc.Owner = "Self"
	}
	if doc.DocumentType == "" {
		doc.DocumentType = "Command"
	}
	if doc.DefaultVersion == "" {
		doc.DefaultVersion = "1"
	}

	for i, v := range def.Versions {
		content, err := documentContentText(v.Content)
		if err != nil {
			return nil, fmt.Errorf("document %s version %d: %w", def.Name, i+1, err)
		}
		created := v.CreatedDate
		if created.IsZero() {
			created = builtinCreated
		}
		version, err := parseDocumentVersion(strconv.Itoa(i+1), content, doc.DocumentType, created)
		if err != nil {
			return nil, fmt.Errorf("document %s version %d: %w", def.Name, i+1, err)
		}
		doc.versions = append(doc.versions, version)
	}
	if doc.version(doc.DefaultVersion) == nil {
		return nil, fmt.Errorf("document %s: DefaultVersion %s does not exist", def.Name, doc.DefaultVersion)
	}
	if doc.PlatformTypes == nil {
		if doc.DocumentType == "Command" {
			doc.PlatformTypes = commandPlatformTypes(doc.versions[len(doc.versions)-1].Steps)
		} else {
			doc.PlatformTypes = []string{"Windows", "Linux", "MacOS"}
		}
	}
	return doc, nil
}

// documentContentText turns the Content of a definition into the document
// text whose hash is reported: a JSON object is indented with two spaces.
func documentContentText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", fmt.Errorf("Content is missing")
	}
	if raw[0] == '"' {
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", fmt.Errorf("parse Content: %w", err)
		}
		return text, nil
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, raw, "", "  "); err != nil {
		return "", fmt.Errorf("indent Content: %w", err)
	}
	indented.WriteByte('\n')
	return indented.String(), nil
}

// commandPlatformTypes derives a Command document's platforms from its
// plugins, as SSM does when a document is created.
func commandPlatformTypes(steps []docStep) []string {
	shell, powershell := false, false
	for _, step := range steps {
		switch step.Action {
		case "aws:runShellScript":
			shell = true
		case "aws:runPowerShellScript":
			powershell = true
		default:
			return []string{"Windows", "Linux", "MacOS"}
		}
	}
	if powershell {
		return []string{"Windows", "Linux", "MacOS"}
	}
	if shell {
		return []string{"Linux", "MacOS"}
	}
	return []string{"Windows", "Linux", "MacOS"}
}

// documentContent is the part of a document's JSON that the sandbox reads.
type documentContent struct {
	SchemaVersion string                     `json:"schemaVersion"`
	Description   string                     `json:"description"`
	Parameters    map[string]json.RawMessage `json:"parameters"`
	RuntimeConfig map[string]struct {
		Properties json.RawMessage `json:"properties"`
	} `json:"runtimeConfig"`
	MainSteps []struct {
		Action       string         `json:"action"`
		Name         string         `json:"name"`
		Inputs       map[string]any `json:"inputs"`
		Precondition map[string]any `json:"precondition"`
		OnFailure    string         `json:"onFailure"`
	} `json:"mainSteps"`
}

type parameterSpec struct {
	Type           string          `json:"type"`
	Description    string          `json:"description"`
	Default        json.RawMessage `json:"default"`
	AllowedValues  []string        `json:"allowedValues"`
	AllowedPattern string          `json:"allowedPattern"`
	MinItems       *int            `json:"minItems"`
	MaxItems       *int            `json:"maxItems"`
}

// parseDocumentVersion reads a document's parameters and, for a Command
// document, the steps the agent runs.
func parseDocumentVersion(version, content, documentType string, created time.Time) (*documentVersion, error) {
	var parsed documentContent
	if err := json.Unmarshal([]byte(content), &parsed); err != nil {
		return nil, fmt.Errorf("document content is not valid JSON: %w", err)
	}
	if parsed.SchemaVersion == "" {
		return nil, fmt.Errorf("document content has no schemaVersion")
	}
	sha := sha256.Sum256([]byte(content))
	sha1sum := sha1.Sum([]byte(content))
	v := &documentVersion{
		Version:       version,
		Content:       content,
		Hash:          hex.EncodeToString(sha[:]),
		Sha1:          hex.EncodeToString(sha1sum[:]),
		SchemaVersion: parsed.SchemaVersion,
		Description:   parsed.Description,
		CreatedDate:   created,
	}

	// Parameters keep the order in which the content declares them.
	names, err := objectKeys([]byte(content), "parameters")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		param, err := parseParameterSpec(name, parsed.Parameters[name])
		if err != nil {
			return nil, err
		}
		v.Parameters = append(v.Parameters, param)
	}

	if documentType != "Command" {
		return v, nil
	}
	switch {
	case parsed.SchemaVersion == "1.2":
		v.Steps, err = runtimeConfigSteps([]byte(content), parsed)
	case strings.HasPrefix(parsed.SchemaVersion, "2."):
		v.Steps, err = mainSteps(parsed)
	default:
		err = fmt.Errorf("schemaVersion %s is not supported for Command documents", parsed.SchemaVersion)
	}
	if err != nil {
		return nil, err
	}
	if len(v.Steps) == 0 {
		return nil, fmt.Errorf("Command document has no steps")
	}
	return v, nil
}

func parseParameterSpec(name string, raw json.RawMessage) (docParameter, error) {
	var spec parameterSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return docParameter{}, fmt.Errorf("parameter %s: %w", name, err)
	}
	param := docParameter{
		Name:          name,
		Type:          spec.Type,
		Description:   spec.Description,
		AllowedValues: spec.AllowedValues,
		PatternText:   spec.AllowedPattern,
		MinItems:      spec.MinItems,
		MaxItems:      spec.MaxItems,
	}
	if !slices.Contains([]string{"String", "StringList", "Integer", "Boolean", "MapList", "StringMap"}, param.Type) {
		return docParameter{}, fmt.Errorf("parameter %s: type %q is not supported", name, param.Type)
	}
	if spec.AllowedPattern != "" {
		// The whole value must match, as in Java's String.matches.
		re, err := regexp.Compile(`^(?:` + spec.AllowedPattern + `)$`)
		if err != nil {
			return docParameter{}, fmt.Errorf("parameter %s: allowedPattern: %w", name, err)
		}
		param.AllowedPattern = re
	}
	if len(spec.Default) > 0 {
		values, err := defaultValues(spec.Default)
		if err != nil {
			return docParameter{}, fmt.Errorf("parameter %s: default: %w", name, err)
		}
		param.HasDefault = true
		param.Default = values
	}
	return param, nil
}

// defaultValues turns a default of any JSON type into parameter values.
func defaultValues(raw json.RawMessage) ([]string, error) {
	var value any
	if err := json.Unmarshal(raw, &value); err != nil {
		return nil, err
	}
	if list, ok := value.([]any); ok {
		values := make([]string, 0, len(list))
		for _, item := range list {
			values = append(values, scalarText(item))
		}
		return values, nil
	}
	return []string{scalarText(value)}, nil
}

func scalarText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		text, _ := json.Marshal(v)
		return string(text)
	}
}

// defaultValueText is a parameter's DefaultValue in DescribeDocument.
func (p docParameter) defaultValueText() *string {
	if !p.HasDefault {
		return nil
	}
	text := ""
	if p.isList() {
		encoded, _ := json.Marshal(p.Default)
		text = string(encoded)
	} else if len(p.Default) > 0 {
		text = p.Default[0]
	}
	return &text
}

func runtimeConfigSteps(content []byte, parsed documentContent) ([]docStep, error) {
	plugins, err := objectKeys(content, "runtimeConfig")
	if err != nil {
		return nil, err
	}
	var steps []docStep
	for _, plugin := range plugins {
		var properties []map[string]any
		raw := parsed.RuntimeConfig[plugin].Properties
		if len(raw) > 0 && raw[0] == '{' {
			var single map[string]any
			if err := json.Unmarshal(raw, &single); err != nil {
				return nil, fmt.Errorf("runtimeConfig %s: %w", plugin, err)
			}
			properties = append(properties, single)
		} else if err := json.Unmarshal(raw, &properties); err != nil {
			return nil, fmt.Errorf("runtimeConfig %s: %w", plugin, err)
		}
		if len(properties) == 0 {
			return nil, fmt.Errorf("runtimeConfig %s has no properties", plugin)
		}
		// The agent runs the first property set of a plugin.
		props := properties[0]
		id, _ := props["id"].(string)
		if id == "" {
			id = "0." + plugin
		}
		dir := strings.ReplaceAll(id, ":", "")
		if err := checkStepDir(dir); err != nil {
			return nil, fmt.Errorf("runtimeConfig %s: %w", plugin, err)
		}
		steps = append(steps, docStep{
			Name:   plugin,
			Action: plugin,
			Dir:    dir,
			Inputs: props,
		})
	}
	return steps, nil
}

func mainSteps(parsed documentContent) ([]docStep, error) {
	var steps []docStep
	seen := map[string]bool{}
	for _, step := range parsed.MainSteps {
		if err := checkStepDir(step.Name); err != nil {
			return nil, err
		}
		if seen[step.Name] {
			return nil, fmt.Errorf("step name %s is used twice", step.Name)
		}
		seen[step.Name] = true
		onFailure := step.OnFailure
		if v, ok := step.Inputs["onFailure"].(string); ok && onFailure == "" {
			onFailure = v
		}
		var precondition []any
		if cond, ok := step.Precondition["StringEquals"].([]any); ok {
			precondition = cond
		} else if len(step.Precondition) > 0 {
			return nil, fmt.Errorf("step %s: only a StringEquals precondition is supported", step.Name)
		}
		steps = append(steps, docStep{
			Name:         step.Name,
			Action:       step.Action,
			Dir:          step.Name,
			Inputs:       step.Inputs,
			Precondition: precondition,
			OnFailure:    onFailure,
		})
	}
	return steps, nil
}

// objectKeys returns the keys of the object at member of a JSON object, in
// the order they appear. encoding/json maps lose that order.
func objectKeys(content []byte, member string) ([]string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(content, &top); err != nil {
		return nil, err
	}
	raw, ok := top[member]
	if !ok {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%s is not a JSON object", member)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", member, err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, fmt.Errorf("read %s.%s: %w", member, tok, err)
		}
	}
	return keys, nil
}

// version returns a version by number, "$DEFAULT", "$LATEST" or "" (the
// default), or nil.
func (d *document) version(v string) *documentVersion {
	switch v {
	case "", "$DEFAULT":
		v = d.DefaultVersion
	case "$LATEST":
		return d.versions[len(d.versions)-1]
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > len(d.versions) || strconv.Itoa(n) != v {
		return nil
	}
	return d.versions[n-1]
}

func (d *document) latestVersion() string { return strconv.Itoa(len(d.versions)) }

// ownerText is the Owner that the API reports: the account id for the
// account's own documents.
func (d *document) ownerText(account string) string {
	if d.Owner == "Self" {
		return account
	}
	return d.Owner
}

// lookupDocument finds a document by name or by its ARN.
func (st *ssmState) lookupDocument(nameOrARN string) (*document, error) {
	name := nameOrARN
	if strings.HasPrefix(name, "arn:") {
		if _, after, ok := strings.Cut(name, ":document/"); ok {
			name = after
		}
	}
	doc := st.documents[name]
	if doc == nil {
		return nil, ssmError("InvalidDocument", "Document with name %s does not exist.", nameOrARN)
	}
	return doc, nil
}

// lookupVersion finds a document version; an unknown one is
// InvalidDocumentVersion.
func lookupVersion(doc *document, requested string) (*documentVersion, error) {
	if requested != "" && requested != "$DEFAULT" && requested != "$LATEST" {
		if n, err := strconv.Atoi(requested); err != nil || n < 1 || strconv.Itoa(n) != requested {
			return nil, ssmValidationError("documentVersion", requested, "Member must satisfy regular expression pattern: ([$]LATEST|[$]DEFAULT|^[1-9][0-9]*$)")
		}
	}
	v := doc.version(requested)
	if v == nil {
		return nil, ssmError("InvalidDocumentVersion", "Document %s has no version %s.", doc.Name, requested)
	}
	return v, nil
}

// accountID is the sandbox's account.
func (s *Server) accountID() string {
	if s.opts.AccountID != "" {
		return s.opts.AccountID
	}
	return DefaultAccountID
}

type wireDocumentParameter struct {
	Name         string  `json:"Name"`
	Type         string  `json:"Type"`
	Description  string  `json:"Description"`
	DefaultValue *string `json:"DefaultValue,omitempty"`
}

type wireDocumentDescription struct {
	Hash            string                  `json:"Hash"`
	HashType        string                  `json:"HashType"`
	Name            string                  `json:"Name"`
	Owner           string                  `json:"Owner"`
	CreatedDate     epochTime               `json:"CreatedDate"`
	Status          string                  `json:"Status"`
	DocumentVersion string                  `json:"DocumentVersion"`
	Description     string                  `json:"Description,omitempty"`
	Parameters      []wireDocumentParameter `json:"Parameters,omitempty"`
	PlatformTypes   []string                `json:"PlatformTypes"`
	DocumentType    string                  `json:"DocumentType"`
	SchemaVersion   string                  `json:"SchemaVersion"`
	LatestVersion   string                  `json:"LatestVersion"`
	DefaultVersion  string                  `json:"DefaultVersion"`
	DocumentFormat  string                  `json:"DocumentFormat"`
	TargetType      string                  `json:"TargetType,omitempty"`
	Tags            []wireTag               `json:"Tags"`
	Category        []string                `json:"Category"`
	CategoryEnum    []string                `json:"CategoryEnum"`
}

type describeDocumentInput struct {
	Name            string `json:"Name"`
	DocumentVersion string `json:"DocumentVersion"`
	VersionName     string `json:"VersionName"`
}

// describeDocument serves DescribeDocument.
func (s *Server) describeDocument(ctx context.Context, call *ssmCall) (any, error) {
	var in describeDocumentInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	if in.VersionName != "" {
		return nil, ssmError("InvalidDocumentVersion", "Document %s has no version named %s: the sandbox's documents have no version names.", in.Name, in.VersionName)
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	doc, err := st.lookupDocument(in.Name)
	if err != nil {
		return nil, err
	}
	v, err := lookupVersion(doc, in.DocumentVersion)
	if err != nil {
		return nil, err
	}

	desc := wireDocumentDescription{
		Hash:            v.Hash,
		HashType:        "Sha256",
		Name:            doc.Name,
		Owner:           doc.ownerText(s.accountID()),
		CreatedDate:     epochTime(v.CreatedDate),
		Status:          "Active",
		DocumentVersion: v.Version,
		Description:     v.Description,
		PlatformTypes:   doc.PlatformTypes,
		DocumentType:    doc.DocumentType,
		SchemaVersion:   v.SchemaVersion,
		LatestVersion:   doc.latestVersion(),
		DefaultVersion:  doc.DefaultVersion,
		DocumentFormat:  doc.DocumentFormat,
		TargetType:      doc.TargetType,
		Tags:            wireTags(doc.Tags),
		Category:        []string{},
		CategoryEnum:    []string{},
	}
	for _, p := range v.Parameters {
		desc.Parameters = append(desc.Parameters, wireDocumentParameter{Name: p.Name, Type: p.Type, Description: p.Description, DefaultValue: p.defaultValueText()})
	}
	return struct {
		Document wireDocumentDescription `json:"Document"`
	}{desc}, nil
}

type getDocumentInput struct {
	Name            string `json:"Name"`
	DocumentVersion string `json:"DocumentVersion"`
	DocumentFormat  string `json:"DocumentFormat"`
	VersionName     string `json:"VersionName"`
}

type getDocumentOutput struct {
	Name            string    `json:"Name"`
	CreatedDate     epochTime `json:"CreatedDate"`
	DocumentVersion string    `json:"DocumentVersion"`
	Status          string    `json:"Status"`
	Content         string    `json:"Content"`
	DocumentType    string    `json:"DocumentType"`
	DocumentFormat  string    `json:"DocumentFormat"`
}

// getDocument serves GetDocument.
func (s *Server) getDocument(ctx context.Context, call *ssmCall) (any, error) {
	var in getDocumentInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	switch in.DocumentFormat {
	case "", "JSON", "TEXT":
	case "YAML":
		// NOTE: the sandbox keeps JSON documents only and has no YAML
		// writer, so it cannot convert as AWS does.
		return nil, ssmError("ValidationException", "The sandbox cannot convert documents to YAML; ask for DocumentFormat JSON.")
	default:
		return nil, ssmValidationError("documentFormat", in.DocumentFormat, "Member must satisfy enum value set: [YAML, JSON, TEXT]")
	}
	if in.VersionName != "" {
		return nil, ssmError("InvalidDocumentVersion", "Document %s has no version named %s: the sandbox's documents have no version names.", in.Name, in.VersionName)
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	doc, err := st.lookupDocument(in.Name)
	if err != nil {
		return nil, err
	}
	v, err := lookupVersion(doc, in.DocumentVersion)
	if err != nil {
		return nil, err
	}
	return getDocumentOutput{
		Name:            doc.Name,
		CreatedDate:     epochTime(v.CreatedDate),
		DocumentVersion: v.Version,
		Status:          "Active",
		Content:         v.Content,
		DocumentType:    doc.DocumentType,
		DocumentFormat:  doc.DocumentFormat,
	}, nil
}

type listDocumentsInput struct {
	DocumentFilterList []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"DocumentFilterList"`
	Filters []struct {
		Key    string   `json:"Key"`
		Values []string `json:"Values"`
	} `json:"Filters"`
	MaxResults *int32  `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

type wireDocumentIdentifier struct {
	Name            string    `json:"Name"`
	CreatedDate     epochTime `json:"CreatedDate"`
	Owner           string    `json:"Owner"`
	PlatformTypes   []string  `json:"PlatformTypes"`
	DocumentVersion string    `json:"DocumentVersion"`
	DocumentType    string    `json:"DocumentType"`
	SchemaVersion   string    `json:"SchemaVersion"`
	DocumentFormat  string    `json:"DocumentFormat"`
	TargetType      string    `json:"TargetType,omitempty"`
	Tags            []wireTag `json:"Tags"`
}

type documentFilter func(d *document, account string) bool

// listDocuments serves ListDocuments, with either filter form. Documents
// come sorted by name.
func (s *Server) listDocuments(ctx context.Context, call *ssmCall) (any, error) {
	var in listDocumentsInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	limit, err := checkMaxResults(in.MaxResults, 1, 50, 50)
	if err != nil {
		return nil, err
	}
	if len(in.DocumentFilterList) > 0 && len(in.Filters) > 0 {
		return nil, ssmError("ValidationException", "DocumentFilterList and Filters can't be used together; use Filters.")
	}

	var filters []documentFilter
	for _, f := range in.DocumentFilterList {
		filter, err := documentListFilter(f.Key, f.Value)
		if err != nil {
			return nil, err
		}
		filters = append(filters, filter)
	}
	for _, f := range in.Filters {
		filter, err := documentKeyValuesFilter(f.Key, f.Values)
		if err != nil {
			return nil, err
		}
		filters = append(filters, filter)
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	account := s.accountID()
	var matched []*document
	for _, doc := range st.documents {
		keep := true
		for _, f := range filters {
			keep = keep && f(doc, account)
		}
		if keep {
			matched = append(matched, doc)
		}
	}
	sort.Slice(matched, func(i, j int) bool { return matched[i].Name < matched[j].Name })

	keys := make([]string, len(matched))
	for i, doc := range matched {
		keys[i] = doc.Name
	}
	page, err := st.paginate("ListDocuments", keys, limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		DocumentIdentifiers []wireDocumentIdentifier `json:"DocumentIdentifiers"`
		NextToken           *string                  `json:"NextToken,omitempty"`
	}{DocumentIdentifiers: []wireDocumentIdentifier{}, NextToken: page.NextToken}
	for _, doc := range matched[page.Lo:page.Hi] {
		v := doc.version("")
		out.DocumentIdentifiers = append(out.DocumentIdentifiers, wireDocumentIdentifier{
			Name:            doc.Name,
			CreatedDate:     epochTime(doc.versions[0].CreatedDate),
			Owner:           doc.ownerText(account),
			PlatformTypes:   doc.PlatformTypes,
			DocumentVersion: v.Version,
			DocumentType:    doc.DocumentType,
			SchemaVersion:   v.SchemaVersion,
			DocumentFormat:  doc.DocumentFormat,
			TargetType:      doc.TargetType,
			Tags:            wireTags(doc.Tags),
		})
	}
	return out, nil
}

// documentListFilter builds a filter of the older DocumentFilterList, whose
// keys are Name (a prefix), Owner, PlatformTypes and DocumentType.
func documentListFilter(key, value string) (documentFilter, error) {
	switch key {
	case "Name":
		return func(d *document, _ string) bool { return strings.HasPrefix(d.Name, value) }, nil
	case "Owner":
		return ownerFilter([]string{value})
	case "PlatformTypes":
		return func(d *document, _ string) bool { return slices.Contains(d.PlatformTypes, value) }, nil
	case "DocumentType":
		return func(d *document, _ string) bool { return d.DocumentType == value }, nil
	}
	return nil, ssmValidationError("documentFilterList.member.key", key, "Member must satisfy enum value set: [Name, Owner, PlatformTypes, DocumentType]")
}

// documentKeyValuesFilter builds a filter of Filters. Name matches a prefix,
// SearchKeyword a part of the name or description, "tag:<key>" a tag value.
func documentKeyValuesFilter(key string, values []string) (documentFilter, error) {
	anyValue := func(match func(d *document, v string) bool) documentFilter {
		return func(d *document, _ string) bool {
			return slices.ContainsFunc(values, func(v string) bool { return match(d, v) })
		}
	}
	if tagKey, ok := strings.CutPrefix(key, "tag:"); ok {
		return anyValue(func(d *document, v string) bool {
			return slices.Contains(d.Tags, wireTag{Key: tagKey, Value: v})
		}), nil
	}
	switch key {
	case "Name":
		return anyValue(func(d *document, v string) bool { return strings.HasPrefix(d.Name, v) }), nil
	case "Owner":
		return ownerFilter(values)
	case "PlatformTypes":
		return anyValue(func(d *document, v string) bool { return slices.Contains(d.PlatformTypes, v) }), nil
	case "DocumentType":
		return anyValue(func(d *document, v string) bool { return d.DocumentType == v }), nil
	case "TargetType":
		return anyValue(func(d *document, v string) bool { return d.TargetType == v }), nil
	case "SearchKeyword":
		return anyValue(func(d *document, v string) bool {
			latest := d.versions[len(d.versions)-1]
			lower := strings.ToLower(v)
			return strings.Contains(strings.ToLower(d.Name), lower) || strings.Contains(strings.ToLower(latest.Description), lower)
		}), nil
	case "tag-key":
		return anyValue(func(d *document, v string) bool {
			return slices.ContainsFunc(d.Tags, func(t wireTag) bool { return t.Key == v })
		}), nil
	}
	return nil, ssmError("InvalidFilterKey", "The filter key %s is not valid. Valid keys are Name, Owner, PlatformTypes, DocumentType, TargetType, SearchKeyword, tag-key and tag:<key>.", key)
}

// ownerFilter matches documents by owner: Self and Private are the
// account's own documents, Amazon is Amazon's, ThirdParty anyone else's,
// Public Amazon's and third parties', All every document.
func ownerFilter(values []string) (documentFilter, error) {
	for _, v := range values {
		if !slices.Contains([]string{"Self", "Amazon", "Public", "Private", "All", "ThirdParty"}, v) {
			return nil, ssmError("InvalidFilterValue", "The filter value %s is not valid for key Owner. Valid values are Self, Amazon, Public, Private, All and ThirdParty.", v)
		}
	}
	return func(d *document, _ string) bool {
		for _, v := range values {
			switch {
			case v == "All",
				(v == "Self" || v == "Private") && d.Owner == "Self",
				v == "Amazon" && d.Owner == "Amazon",
				v == "ThirdParty" && d.Owner != "Amazon" && d.Owner != "Self",
				v == "Public" && d.Owner != "Self":
				return true
			}
		}
		return false
	}, nil
}

type listDocumentVersionsInput struct {
	Name       string  `json:"Name"`
	MaxResults *int32  `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

type wireDocumentVersionInfo struct {
	Name             string    `json:"Name"`
	DocumentVersion  string    `json:"DocumentVersion"`
	CreatedDate      epochTime `json:"CreatedDate"`
	IsDefaultVersion bool      `json:"IsDefaultVersion"`
	DocumentFormat   string    `json:"DocumentFormat"`
	Status           string    `json:"Status"`
}

// listDocumentVersions serves ListDocumentVersions, oldest version first.
func (s *Server) listDocumentVersions(ctx context.Context, call *ssmCall) (any, error) {
	var in listDocumentVersionsInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	limit, err := checkMaxResults(in.MaxResults, 1, 50, 50)
	if err != nil {
		return nil, err
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	doc, err := st.lookupDocument(in.Name)
	if err != nil {
		return nil, err
	}

	keys := make([]string, len(doc.versions))
	for i := range doc.versions {
		keys[i] = indexKey(i)
	}
	page, err := st.paginate("ListDocumentVersions", keys, limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		DocumentVersions []wireDocumentVersionInfo `json:"DocumentVersions"`
		NextToken        *string                   `json:"NextToken,omitempty"`
	}{DocumentVersions: []wireDocumentVersionInfo{}, NextToken: page.NextToken}
	for _, v := range doc.versions[page.Lo:page.Hi] {
		out.DocumentVersions = append(out.DocumentVersions, wireDocumentVersionInfo{
			Name:             doc.Name,
			DocumentVersion:  v.Version,
			CreatedDate:      epochTime(v.CreatedDate),
			IsDefaultVersion: v.Version == doc.DefaultVersion,
			DocumentFormat:   doc.DocumentFormat,
			Status:           "Active",
		})
	}
	return out, nil
}

// checkDocumentHash compares a SendCommand's DocumentHash with the version's.
func checkDocumentHash(doc *document, v *documentVersion, hash, hashType string) error {
	if hash == "" {
		return nil
	}
	want := v.Hash
	switch hashType {
	case "", "Sha256":
	case "Sha1":
		want = v.Sha1
	default:
		return ssmValidationError("documentHashType", hashType, "Member must satisfy enum value set: [Sha256, Sha1]")
	}
	if !strings.EqualFold(hash, want) {
		return ssmError("InvalidDocument", "The document hash %s does not match the hash of version %s of document %s.", hash, v.Version, doc.Name)
	}
	return nil
}

// resolveParameters checks a SendCommand's parameters against the document
// version and returns every parameter's values, defaults filled in.
// lookupParameter resolves {{ssm:name}} references in the values.
func resolveParameters(doc *document, v *documentVersion, given map[string][]string, lookupParameter func(string) (string, bool)) (map[string][]string, error) {
	declared := map[string]docParameter{}
	for _, p := range v.Parameters {
		declared[p.Name] = p
	}
	var unknown []string
	for name := range given {
		if _, ok := declared[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, ssmError("InvalidParameters", "Document %s does not declare the parameters %s.", doc.Name, strings.Join(unknown, ", "))
	}

	values := map[string][]string{}
	for _, p := range v.Parameters {
		vals, ok := given[p.Name]
		if !ok {
			if !p.HasDefault {
				return nil, ssmError("InvalidParameters", "Parameter %s of document %s is required and has no value.", p.Name, doc.Name)
			}
			vals = p.Default
		}
		resolved, err := resolveParameterReferences(vals, lookupParameter)
		if err != nil {
			return nil, err
		}
		if ok {
			if err := checkParameterValues(doc, p, resolved); err != nil {
				return nil, err
			}
		}
		values[p.Name] = resolved
	}
	return values, nil
}

func resolveParameterReferences(values []string, lookupParameter func(string) (string, bool)) ([]string, error) {
	out := make([]string, len(values))
	for i, value := range values {
		var missing string
		out[i] = placeholderPattern.ReplaceAllStringFunc(value, func(ref string) string {
			name := placeholderPattern.FindStringSubmatch(ref)[1]
			paramName, isSSM := strings.CutPrefix(name, "ssm:")
			if !isSSM {
				return ref
			}
			text, ok := lookupParameter(paramName)
			if !ok {
				missing = paramName
				return ref
			}
			return text
		})
		if missing != "" {
			return nil, ssmError("InvalidParameters", "Parameter Store parameter %s, referenced as {{ssm:%s}}, does not exist or is a SecureString.", missing, missing)
		}
	}
	return out, nil
}

func checkParameterValues(doc *document, p docParameter, values []string) error {
	invalid := func(format string, args ...any) error {
		return ssmError("InvalidParameters", "Parameter %s of document %s: %s", p.Name, doc.Name, fmt.Sprintf(format, args...))
	}
	if !p.isList() && len(values) != 1 {
		return invalid("a %s takes exactly one value, got %d.", p.Type, len(values))
	}
	if p.MinItems != nil && len(values) < *p.MinItems {
		return invalid("at least %d values are required, got %d.", *p.MinItems, len(values))
	}
	if p.MaxItems != nil && len(values) > *p.MaxItems {
		return invalid("at most %d values are allowed, got %d.", *p.MaxItems, len(values))
	}
	for _, value := range values {
		switch p.Type {
		case "Integer":
			if _, err := strconv.Atoi(value); err != nil {
				return invalid("%q is not an integer.", value)
			}
		case "Boolean":
			if value != "true" && value != "false" {
				return invalid("%q is not true or false.", value)
			}
		}
		if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, value) {
			return invalid("%q is not one of the allowed values %s.", value, strings.Join(p.AllowedValues, ", "))
		}
		if p.AllowedPattern != nil && !p.AllowedPattern.MatchString(value) {
			return invalid("%q does not match the allowed pattern %s.", value, p.PatternText)
		}
	}
	return nil
}

// substituteInputs replaces {{ name }} references in a step's inputs with
// the parameter values. A string that is exactly one reference to a
// StringList parameter becomes the list of its values. A reference inside a
// longer string is replaced by the values joined with commas.
func substituteInputs(inputs map[string]any, params map[string][]string, listParams map[string]bool) map[string]any {
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case string:
			if m := placeholderPattern.FindStringSubmatch(strings.TrimSpace(v)); m != nil && m[0] == strings.TrimSpace(v) {
				if values, ok := params[m[1]]; ok {
					if listParams[m[1]] {
						list := make([]any, len(values))
						for i, value := range values {
							list[i] = value
						}
						return list
					}
					return strings.Join(values, ",")
				}
			}
			return placeholderPattern.ReplaceAllStringFunc(v, func(ref string) string {
				name := placeholderPattern.FindStringSubmatch(ref)[1]
				if values, ok := params[name]; ok {
					return strings.Join(values, ",")
				}
				return ref
			})
		case []any:
			out := make([]any, 0, len(v))
			for _, item := range v {
				replaced := walk(item)
				if list, ok := replaced.([]any); ok {
					out = append(out, list...)
				} else {
					out = append(out, replaced)
				}
			}
			return out
		case map[string]any:
			out := make(map[string]any, len(v))
			for key, item := range v {
				out[key] = walk(item)
			}
			return out
		default:
			return v
		}
	}
	return walk(inputs).(map[string]any)
}
