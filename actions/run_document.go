package actions

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/awsssm/awsssm/internal/command"
	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/pyliteral"
	"github.com/awsssm/awsssm/internal/quote"
)

type runDocumentParams struct {
	InstanceID         string `json:"instance_id"`
	DocumentName       string `json:"document_name"`
	DocumentHash       string `json:"document_hash"`
	DocumentVersion    string `json:"document_version"`
	Parameters         string `json:"parameters"`
	WorkingDirectory   string `json:"working_directory"`
	TimeoutSeconds     *int64 `json:"timeout_seconds"`
	Comment            string `json:"comment"`
	OutputS3BucketName string `json:"output_s3_bucket_name"`
	// WaitSeconds is nil when the action returns right after sending, as
	// the earlier app always did.
	WaitSeconds *int64 `json:"wait_seconds"`
}

// Patterns of SendCommand's DocumentName and DocumentVersion in the SSM API
// model.
var (
	documentNamePattern    = regexp.MustCompile(`^[a-zA-Z0-9_\-.:/]{3,128}$`)
	documentVersionPattern = regexp.MustCompile(`^([$]LATEST|[$]DEFAULT|[1-9][0-9]*)$`)
)

// parametersExample shows the expected form of the parameters parameter.
const parametersExample = `{"commands": ["echo hi"]}`

func (p *runDocumentParams) check() error {
	if err := checkInstanceID(p.InstanceID); err != nil {
		return err
	}
	if !documentNamePattern.MatchString(p.DocumentName) {
		return fmt.Errorf("invalid parameter \"document_name\": %q is not a document name or ARN; expected 3 to 128 letters, digits or _ - . : /", p.DocumentName)
	}
	if p.DocumentVersion != "" && !documentVersionPattern.MatchString(p.DocumentVersion) {
		return fmt.Errorf("invalid parameter \"document_version\": %q is not a document version; expected a version number, $DEFAULT or $LATEST", p.DocumentVersion)
	}
	if p.DocumentHash != "" {
		if _, err := hashTypeOf(p.DocumentHash); err != nil {
			return err
		}
	}
	if p.WorkingDirectory != "" {
		if err := quote.CheckPath(p.WorkingDirectory); err != nil {
			return fmt.Errorf("invalid parameter \"working_directory\": %v", err)
		}
	}
	if p.TimeoutSeconds != nil {
		if err := checkRange("timeout_seconds", *p.TimeoutSeconds, command.MinDeliveryTime, command.MaxDeliveryTime, "seconds"); err != nil {
			return err
		}
	}
	if p.WaitSeconds != nil {
		if err := checkRange("wait_seconds", *p.WaitSeconds, 1, maxWaitSeconds, "seconds"); err != nil {
			return err
		}
	}
	return nil
}

// hashTypeOf returns the type of a document hash from its length: 64 hex
// digits for SHA-256, 40 for SHA-1.
func hashTypeOf(hash string) (types.DocumentHashType, error) {
	if _, err := hex.DecodeString(hash); err != nil || (len(hash) != 64 && len(hash) != 40) {
		return "", fmt.Errorf("invalid parameter \"document_hash\": %q is not a document hash; expected a SHA-256 hash (64 hex digits) or a SHA-1 hash (40), or leave it empty to run the document's current version", hash)
	}
	if len(hash) == 40 {
		return types.DocumentHashTypeSha1, nil
	}
	return types.DocumentHashTypeSha256, nil
}

// runDocument runs a Command document on one instance:
//
//  1. The parameters, given as JSON or as Python dict text, become SSM's
//     lists of strings, and every other parameter is checked, before any
//     AWS call.
//  2. The instance must be a managed instance.
//  3. The hash pins the document's content: the given one, else the one
//     that DescribeDocument reports for the version that will run.
//  4. SendCommand, then, only when wait_seconds is set, a wait for the
//     command and every step's stdout and stderr (awaitDocument).
func runDocument(ctx context.Context, env *connector.Env, p runDocumentParams) (*connector.Outcome, error) {
	p.DocumentName = strings.TrimSpace(p.DocumentName)
	p.DocumentHash = strings.ToLower(strings.TrimSpace(p.DocumentHash))
	p.DocumentVersion = strings.TrimSpace(p.DocumentVersion)
	if err := p.check(); err != nil {
		return nil, err
	}
	parameters, err := documentParameters(p.Parameters)
	if err != nil {
		return nil, err
	}
	if err := setWorkingDirectory(parameters, p.WorkingDirectory); err != nil {
		return nil, err
	}
	engine := newEngine(env)

	info, err := lookupInstance(ctx, env, p.InstanceID)
	if err != nil {
		return nil, err
	}
	if err := checkReachable(env, p.InstanceID, info); err != nil {
		return nil, err
	}
	if p.WorkingDirectory != "" {
		if err := checkAbsolutePath("working_directory", p.WorkingDirectory, info.PlatformType); err != nil {
			return nil, err
		}
	}

	hash := p.DocumentHash
	hashType, _ := hashTypeOf(hash)
	if hash == "" {
		doc, err := describeDocument(ctx, env, p.DocumentName, p.DocumentVersion)
		if err != nil {
			return nil, err
		}
		if err := checkDeclared(doc, parameters, p.WorkingDirectory != ""); err != nil {
			return nil, err
		}
		hash, hashType = aws.ToString(doc.Hash), doc.HashType
		if hashType == "" {
			hashType = types.DocumentHashTypeSha256
		}
		env.Progress("Document %s version %s has the %s hash %s", p.DocumentName, aws.ToString(doc.DocumentVersion), hashName(hashType), hash)
	}

	bucket, err := outputBucket(ctx, env, engine, p.OutputS3BucketName)
	if err != nil {
		return nil, err
	}
	if bucket == "" {
		warnNoBucket(env)
	}

	req := command.Request{
		InstanceIDs:      []string{p.InstanceID},
		DocumentName:     p.DocumentName,
		DocumentVersion:  p.DocumentVersion,
		DocumentHash:     hash,
		DocumentHashType: hashType,
		Parameters:       parameters,
		Comment:          commandComment(env, p.Comment),
		Bucket:           bucket,
	}
	if p.TimeoutSeconds != nil {
		req.DeliveryTimeout = int32(*p.TimeoutSeconds)
	}
	sent, err := engine.Send(ctx, req)
	if command.ErrorCode(err) == "InvalidDocument" {
		return nil, explainInvalidDocument(ctx, env, p, hash, hashType, err)
	}
	if err != nil {
		return nil, err
	}

	data := map[string]any{
		"Command":          sent.Command,
		"ResponseMetadata": sent.ResponseMetadata,
	}
	status := "Command sent"
	if p.WaitSeconds != nil {
		status, err = awaitDocument(ctx, env, engine, sent, p.InstanceID, time.Duration(*p.WaitSeconds)*time.Second, data)
	}
	summary := connector.Summary{}
	summary.Set("status", status)
	summary.Set("command_id", sent.CommandID)
	summary.Set("document_hash", hash)
	return &connector.Outcome{Data: []any{data}, Summary: summary}, err
}

// awaitDocument waits for the command on the instance, adds the final
// Command and every step's output to data, and returns the summary's
// status. The error explains why the run failed: the wait ran out, a step
// failed, or SSM could not be read.
func awaitDocument(ctx context.Context, env *connector.Env, engine *command.Engine, sent *command.Sent, instanceID string, wait time.Duration, data map[string]any) (string, error) {
	invocations, waitErr := engine.Wait(ctx, sent, []string{instanceID}, wait)
	if waitErr != nil && !isWaitTimeout(waitErr) {
		return "Command sent, no result yet", waitErr
	}
	if final, err := engine.Describe(ctx, sent.CommandID); err == nil {
		data["Command"] = final
	} else {
		env.Warn("%v; the result shows the command as SendCommand returned it", err)
	}
	if len(invocations) == 0 {
		if waitErr != nil {
			return "Command sent, no result yet", waitErr
		}
		return "Command sent, no result yet", fmt.Errorf("command %s: SSM lists no invocation on %s", sent.CommandID, instanceID)
	}
	inv := invocations[0]

	// Each step of a multi-step document has its own output objects.
	outputs := make([]stepOutput, 0, len(inv.Steps))
	for _, step := range inv.Steps {
		out, _, err := readStep(ctx, env, engine, sent.CommandID, inv, step, noVaultOption)
		if err != nil {
			return "Command output not read", err
		}
		outputs = append(outputs, out)
		env.Progress("Step %s on %s: %s, exit code %d", step.Name, inv.InstanceID, step.Status, step.ResponseCode)
	}
	data["Invocations"] = []any{invocationData(inv, outputs)}

	switch {
	case waitErr != nil:
		return "Command still running", waitErr
	case !inv.Succeeded():
		return "Command failed", fmt.Errorf("%s", stepFailureMessage(sent.CommandID, inv, outputs))
	}
	return "Successfully ran document", nil
}

// documentParameters turns the parameters parameter, a JSON object or
// Python dict text, into SendCommand's Parameters. A list becomes its items
// as strings and a scalar a one-item list; None leaves the parameter out so
// that the document's default applies. Nested objects and lists are
// rejected, because SSM takes a list of strings per parameter. Empty text
// means no parameters.
func documentParameters(text string) (map[string][]string, error) {
	parameters := map[string][]string{}
	if strings.TrimSpace(text) == "" {
		return parameters, nil
	}
	parsed, err := pyliteral.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("invalid parameter \"parameters\": expected a JSON object or Python dict such as %s: %v", parametersExample, err)
	}
	object, ok := parsed.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("invalid parameter \"parameters\": expected a JSON object or Python dict such as %s, got %s", parametersExample, kindOf(parsed))
	}

	// Sorted names make the first error reported the same on every run.
	names := make([]string, 0, len(object))
	for name := range object {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		value := object[name]
		if value == nil {
			continue
		}
		list, isList := value.([]any)
		if !isList {
			list = []any{value}
		}
		values := make([]string, 0, len(list))
		for _, item := range list {
			text, err := parameterText(item)
			if err != nil {
				where := "the value"
				if isList {
					where = "an item of the list"
				}
				return nil, fmt.Errorf("invalid parameter \"parameters\": %s of document parameter %q is %s; %v", where, name, kindOf(item), err)
			}
			values = append(values, text)
		}
		parameters[name] = values
	}
	return parameters, nil
}

// parameterText writes one scalar value as SSM expects it: numbers in their
// decimal text, booleans as true and false.
func parameterText(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	case map[string]any, []any:
		return "", fmt.Errorf("SSM takes a string or a list of strings for each document parameter; pass a nested value as a JSON string")
	case nil:
		return "", fmt.Errorf("a list item cannot be None or null")
	default:
		return "", fmt.Errorf("only strings, numbers and booleans are accepted; pass it as a string")
	}
}

// kindOf names the type of a parsed value without showing it, because
// parameters may contain secrets.
func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "None"
	case time.Time:
		return "a datetime"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

// setWorkingDirectory puts working_directory into the document's
// workingDirectory parameter. The same parameter may also come through
// parameters, and then the two must agree.
func setWorkingDirectory(parameters map[string][]string, dir string) error {
	if dir == "" {
		return nil
	}
	if given, ok := parameters["workingDirectory"]; ok && !(len(given) == 1 && given[0] == dir) {
		return fmt.Errorf("invalid parameter \"working_directory\": parameters sets workingDirectory to another value; set the directory in one of the two")
	}
	parameters["workingDirectory"] = []string{dir}
	return nil
}

// describeDocument reads the document version that SendCommand will run:
// the given version, else the default one.
func describeDocument(ctx context.Context, env *connector.Env, name, version string) (*types.DocumentDescription, error) {
	out, err := env.AWS.SSM.DescribeDocument(ctx, describeDocumentInput(name, version))
	switch command.ErrorCode(err) {
	case "InvalidDocument":
		return nil, noDocumentError(env, name)
	case "InvalidDocumentVersion":
		return nil, fmt.Errorf("document %s has no version %s; check document_version, or leave it empty to run the default version", name, version)
	}
	if err != nil {
		return nil, fmt.Errorf("describe document %s: %w", name, command.Explain(err))
	}
	if out.Document == nil || aws.ToString(out.Document.Hash) == "" {
		return nil, fmt.Errorf("describe document %s: SSM returned no hash; set document_hash", name)
	}
	if err := checkCommandDocument(out.Document); err != nil {
		return nil, err
	}
	return out.Document, nil
}

// checkCommandDocument rejects documents that SendCommand cannot run, such
// as Automation runbooks.
func checkCommandDocument(doc *types.DocumentDescription) error {
	if doc.DocumentType == "" || doc.DocumentType == types.DocumentTypeCommand {
		return nil
	}
	return fmt.Errorf("invalid parameter \"document_name\": document %s is of type %s, and run document runs Command documents only", aws.ToString(doc.Name), doc.DocumentType)
}

func describeDocumentInput(name, version string) *ssm.DescribeDocumentInput {
	in := &ssm.DescribeDocumentInput{Name: aws.String(name)}
	if version != "" {
		in.DocumentVersion = aws.String(version)
	}
	return in
}

func noDocumentError(env *connector.Env, name string) error {
	return fmt.Errorf("document %s does not exist in %s, or it is not shared with this account; check document_name and the Region", name, env.AWS.Region)
}

// checkDeclared rejects parameters that the document does not declare,
// naming the ones it does, before SendCommand would reject them with less
// detail. fromWorkingDirectory is true when working_directory set
// workingDirectory.
func checkDeclared(doc *types.DocumentDescription, parameters map[string][]string, fromWorkingDirectory bool) error {
	declared := map[string]bool{}
	names := make([]string, 0, len(doc.Parameters))
	for _, dp := range doc.Parameters {
		declared[aws.ToString(dp.Name)] = true
		names = append(names, aws.ToString(dp.Name))
	}
	list := "it declares none"
	if len(names) > 0 {
		list = "it declares " + strings.Join(names, ", ")
	}

	var unknown []string
	for name := range parameters {
		if !declared[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		if name == "workingDirectory" && fromWorkingDirectory {
			return fmt.Errorf("invalid parameter \"working_directory\": document %s version %s has no workingDirectory parameter (%s); leave working_directory empty", aws.ToString(doc.Name), aws.ToString(doc.DocumentVersion), list)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("invalid parameter \"parameters\": document %s version %s has no parameter %s (%s)", aws.ToString(doc.Name), aws.ToString(doc.DocumentVersion), strings.Join(unknown, ", "), list)
	}
	return nil
}

// explainInvalidDocument turns SendCommand's InvalidDocument into plain
// words. SSM returns it both for a document that does not exist and for a
// hash that does not match, so DescribeDocument distinguishes the two and
// supplies the current hash.
func explainInvalidDocument(ctx context.Context, env *connector.Env, p runDocumentParams, hash string, hashType types.DocumentHashType, sendErr error) error {
	out, err := env.AWS.SSM.DescribeDocument(ctx, describeDocumentInput(p.DocumentName, p.DocumentVersion))
	if command.ErrorCode(err) == "InvalidDocument" {
		return noDocumentError(env, p.DocumentName)
	}
	if err != nil || out.Document == nil {
		// When DescribeDocument fails too, with access denied for example,
		// SendCommand's own error is the most precise.
		return sendErr
	}
	doc := out.Document
	if err := checkCommandDocument(doc); err != nil {
		return err
	}
	current := aws.ToString(doc.Hash)
	currentType := doc.HashType
	if currentType == "" {
		currentType = types.DocumentHashTypeSha256
	}
	if hashType == currentType && strings.EqualFold(hash, current) {
		return sendErr
	}
	// NOTE: DescribeDocument reports the SHA-256 hash only, so a SHA-1 hash
	// is taken to be the cause without being compared.

	name, version := aws.ToString(doc.Name), aws.ToString(doc.DocumentVersion)
	// NOTE: no test reaches this branch, because the sandbox cannot change
	// a document's default version.
	if p.DocumentHash == "" {
		return fmt.Errorf("document %s changed between reading its hash and sending the command, and version %s now has the %s hash %s; run the action again", name, version, hashName(currentType), current)
	}
	return fmt.Errorf("invalid parameter \"document_hash\": the given %s hash %s does not match the current hash of document %s (version %s), which is %s (%s), so nothing was sent. Review the document, then update the playbook with the current hash, or leave document_hash empty to run the current version",
		hashName(hashType), hash, name, version, current, hashName(currentType))
}

// hashName spells a hash type as people write it.
func hashName(t types.DocumentHashType) string {
	if t == types.DocumentHashTypeSha1 {
		return "SHA-1"
	}
	return "SHA-256"
}

// stepFailureMessage names the first step that did not succeed, its status,
// exit code and how its stderr ends. An invocation with no such step, such
// as one that never reached the instance, gets failureMessage's wording.
func stepFailureMessage(commandID string, inv command.Invocation, outputs []stepOutput) string {
	for _, o := range outputs {
		if o.step.Status == string(types.CommandPluginStatusSuccess) && o.step.ResponseCode == 0 {
			continue
		}
		msg := fmt.Sprintf("command %s on %s ended with status %s: step %s has status %s", commandID, inv.InstanceID, inv.Status, o.step.Name, o.step.Status)
		if o.step.StatusDetails != "" && o.step.StatusDetails != o.step.Status {
			msg += " (" + o.step.StatusDetails + ")"
		}
		msg += fmt.Sprintf(" and exit code %d", o.step.ResponseCode)
		if tail := lastLines(o.stderr.Text, 5, 500); tail != "" {
			msg += "; stderr ends with: " + tail
		}
		return msg
	}
	return failureMessage(commandID, inv, outputs)
}
