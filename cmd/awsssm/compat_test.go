package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm"
	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

// The compatibility tests hold awsssm to the interface of the existing SOAR
// "AWS Systems Manager" app (version 2.3.2), whose playbooks must run
// unchanged: its action identifiers, parameter names, data types and value
// lists, and its output data paths. testdata/compat/reference-interface.tsv
// lists those facts, one per line.

// referenceRow is one line of the reference interface.
type referenceRow struct {
	kind, action, name, dataType, flags string
}

func readReference(t *testing.T) []referenceRow {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "compat", "reference-interface.tsv"))
	require.NoError(t, err)
	defer f.Close()

	var rows []referenceRow
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	scanner.Scan() // the header line
	for scanner.Scan() {
		cols := strings.Split(scanner.Text(), "\t")
		require.Len(t, cols, 5, "malformed reference line %q", scanner.Text())
		rows = append(rows, referenceRow{kind: cols[0], action: cols[1], name: cols[2], dataType: cols[3], flags: cols[4]})
	}
	require.NoError(t, scanner.Err())
	require.NotEmpty(t, rows)
	return rows
}

// flagValue returns a JSON list flag such as values=[...] from a flags column.
func flagValue(t *testing.T, flags, name string) []string {
	t.Helper()
	start := strings.Index(flags, name+"=[")
	if start < 0 {
		return nil
	}
	rest := flags[start+len(name)+1:]
	end := strings.Index(rest, "]")
	require.GreaterOrEqual(t, end, 0, "unterminated %s list in %q", name, flags)
	var list []string
	require.NoError(t, json.Unmarshal([]byte(rest[:end+1]), &list))
	return list
}

func loadManifest(t *testing.T) *connector.Manifest {
	t.Helper()
	m, err := connector.ParseManifest(awsssm.AppJSON)
	require.NoError(t, err)
	return m
}

func TestManifestKeepsReferenceInterface(t *testing.T) {
	m := loadManifest(t)
	for _, row := range readReference(t) {
		switch row.kind {
		case "config":
			field, ok := m.Configuration[row.name]
			if !assert.True(t, ok, "asset field %s is missing", row.name) {
				continue
			}
			assert.Equal(t, row.dataType, field.DataType, "asset field %s: data type", row.name)
			assert.Equal(t, flagValue(t, row.flags, "values"), nilIfEmpty(field.ValueList), "asset field %s: value list", row.name)

		case "action":
			action, ok := m.Action(row.action)
			if !assert.True(t, ok, "action %s is missing", row.action) {
				continue
			}
			assert.Equal(t, row.action, action.Identifier)
			assert.Equal(t, row.name, action.Name, "action %s: display name", row.action)
			assert.Equal(t, row.dataType, action.Type, "action %s: type", row.action)
			assert.Equal(t, strings.Contains(row.flags, "read_only=True"), action.ReadOnly, "action %s: read_only", row.action)

		case "param":
			action, ok := m.Action(row.action)
			if !ok {
				continue // reported by the action row
			}
			param, ok := action.Parameters[row.name]
			if !assert.True(t, ok, "action %s: parameter %s is missing", row.action, row.name) {
				continue
			}
			assert.Equal(t, row.dataType, param.DataType, "action %s: parameter %s: data type", row.action, row.name)
			assert.Equal(t, flagValue(t, row.flags, "values"), nilIfEmpty(param.ValueList), "action %s: parameter %s: value list", row.action, row.name)
			assert.Subset(t, param.Contains, flagValue(t, row.flags, "contains"), "action %s: parameter %s: contains", row.action, row.name)

		case "output":
			action, ok := m.Action(row.action)
			if !ok {
				continue
			}
			found := false
			for _, out := range action.Output {
				if out.DataPath == row.name {
					found = true
					assert.Equal(t, row.dataType, out.DataType, "action %s: data path %s: data type", row.action, row.name)
				}
			}
			assert.True(t, found, "action %s: data path %s is missing from app.json", row.action, row.name)

		default:
			t.Errorf("unknown reference row kind %q", row.kind)
		}
	}
}

func nilIfEmpty(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	return list
}

// absentPaths are the data paths that app.json lists, because the existing
// app listed them, but that a real run may lack because AWS itself leaves
// the field out. Each entry gives the reason.
var absentPaths = map[string]map[string]string{
	"execute_program": {
		// AWS-RunShellScript's parameter is "commands"; no document that
		// execute program runs has a parameter named "command".
		"action_result.data.*.Command.Parameters.command": "AWS names the parameter commands",
	},
	"list_commands": {
		// SSM returns NextToken only when more commands remain.
		"action_result.data.*.NextToken": "only present when more commands remain than max_results",
		// Parameters holds only the parameters that a command was sent
		// with; Operation belongs to documents such as AWS-RunPatchBaseline.
		"action_result.data.*.Commands.*.Parameters.Operation": "only commands of patching documents have it",
		// Targets is empty for commands sent to instance IDs.
		"action_result.data.*.Commands.*.Targets.*.Key":    "only commands sent with targets have it",
		"action_result.data.*.Commands.*.Targets.*.Values": "only commands sent with targets have it",
	},
	"describe_instance": {
		// Association fields exist only for instances with State Manager
		// associations; the sandbox's instance has one, so none are
		// exempt today. Kept here as the list to extend if that changes.
	},
}

// compatParameters returns, for each action, a parameter set that gives
// every parameter a value, so that every action_result.parameter path
// appears, and that makes AWS return every field it can.
func compatParameters(t *testing.T, fixture compatFixture, credentials string) map[string][]map[string]any {
	t.Helper()
	evidence := filepath.Join(t.TempDir(), "compat evidence.txt")
	require.NoError(t, os.WriteFile(evidence, []byte("compat\n"), 0o644))
	workDir := t.TempDir()

	return map[string][]map[string]any{
		"test_connectivity": {},
		"execute_program": {{
			"instance_id": linuxInstance, "platform_type": "Linux", "command": "echo compat; echo warn >&2",
			"working_directory": workDir, "timeout_seconds": 60, "comment": "compat run",
			"output_s3_bucket_name": testBucket, "save_output_to_vault": true, "execution_timeout": 60,
			"wait_seconds": 120, "credentials": credentials, "region": "us-east-1",
		}},
		"get_file": {{
			"instance_id": linuxInstance, "platform_type": "Linux", "file_path": evidence,
			"output_s3_bucket_name": testBucket, "max_bytes": 1024, "wait_seconds": 120,
			"credentials": credentials, "region": "us-east-1",
		}},
		"run_document": {{
			"instance_id": linuxInstance, "document_name": "AWS-RunShellScript",
			"document_hash": fixture.documentHash, "document_version": "1",
			"parameters": `{"commands": ["echo compat"]}`, "working_directory": workDir,
			"timeout_seconds": 60, "comment": "compat run", "output_s3_bucket_name": testBucket,
			"wait_seconds": 120, "credentials": credentials, "region": "us-east-1",
		}},
		"list_commands": {{
			"command_id": fixture.commandID, "instance_id": linuxInstance, "max_results": 5,
			"credentials": credentials, "region": "us-east-1",
		}},
		"list_documents": {{
			// This document has tags and a target type, so those paths appear.
			"name": "Sandbox-TwoStep", "owner": "Self", "platform_type": "Linux", "document_type": "Command",
			"max_results": 5, "credentials": credentials, "region": "us-east-1",
		}},
		"get_parameter": {{
			"name": "/soar/compat/setting", "with_decryption": true, "credentials": credentials, "region": "us-east-1",
		}},
		"add_parameter": {{
			"name": "/soar/compat/new", "description": "compat run", "value": "value-1", "type": "SecureString",
			"key_id": "alias/soar", "overwrite": false, "allowed_pattern": "^value-[0-9]+$", "tags": `{"Team": "soc"}`,
			"credentials": credentials, "region": "us-east-1",
		}},
		// SSM gives Name only for on-premises (mi-) instances.
		"describe_instance": {
			{"instance_id": linuxInstance, "credentials": credentials, "region": "us-east-1"},
			{"instance_id": "mi-0123456789abcdef0", "credentials": credentials, "region": "us-east-1"},
		},
	}
}

// compatFixture is what compatSetup made for the compatibility runs.
type compatFixture struct {
	commandID    string // a command for list commands to find
	documentHash string // the SHA-256 of AWS-RunShellScript version 1
}

// compatSetup prepares what the actions' compatibility runs read.
func compatSetup(t *testing.T, sb *sandboxtest.Sandbox) compatFixture {
	t.Helper()
	client := ssm.NewFromConfig(sb.Config())
	ctx := context.Background()
	_, err := client.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String("/soar/compat/setting"), Value: aws.String("compat-value"), Type: ssmtypes.ParameterTypeString,
	})
	require.NoError(t, err)
	// A command for list commands to find.
	sent, err := client.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName: aws.String("AWS-RunShellScript"),
		InstanceIds:  []string{linuxInstance},
		Parameters:   map[string][]string{"commands": {"true"}, "workingDirectory": {t.TempDir()}, "executionTimeout": {"60"}},
		Comment:      aws.String("compat"),
	})
	require.NoError(t, err)

	doc, err := client.DescribeDocument(ctx, &ssm.DescribeDocumentInput{
		Name: aws.String("AWS-RunShellScript"), DocumentVersion: aws.String("1"),
	})
	require.NoError(t, err)
	return compatFixture{commandID: aws.ToString(sent.Command.CommandId), documentHash: aws.ToString(doc.Document.Hash)}
}

func TestEveryDataPathAppearsInRealRun(t *testing.T) {
	m := loadManifest(t)
	sb := sandboxtest.Start(t)
	fixture := compatSetup(t, sb)
	keyID, secret, token, _ := sb.Server.IssueCredentials(time.Hour)
	credentials := fmt.Sprintf(`{"AccessKeyId": %q, "SecretAccessKey": %q, "SessionToken": %q}`, keyID, secret, token)
	params := compatParameters(t, fixture, credentials)

	for _, action := range m.Actions {
		t.Run(action.Identifier, func(t *testing.T) {
			sets, ok := params[action.Identifier]
			require.True(t, ok, "no compatibility parameters for %s", action.Identifier)
			for name := range action.Parameters {
				for _, set := range sets {
					assert.Contains(t, set, name, "give parameter %s a value so its parameter path appears", name)
				}
			}

			run := runAction(t, sb, action.Identifier, testAsset(sb), sets...)
			require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)

			present := resultPaths(t, run.stdout)
			var missing []string
			for _, out := range action.Output {
				if present[out.DataPath] {
					continue
				}
				if _, exempt := absentPaths[action.Identifier][out.DataPath]; exempt {
					continue
				}
				missing = append(missing, out.DataPath)
			}
			sort.Strings(missing)
			assert.Empty(t, missing, "data paths that app.json lists but the result lacks")

			assert.Empty(t, undeclaredPaths(t, action, run.stdout), "data and summary paths that the result has but app.json does not list")
		})
	}
}

// resultPaths returns every data path in a run's output: the overall
// summary as summary.*, and each action result as action_result.*, with
// list items as "*". Every inner node counts, so a list of strings gives
// both "X" and "X.*".
func resultPaths(t *testing.T, stdout string) map[string]bool {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	paths := map[string]bool{}

	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		paths[prefix] = true
		switch x := v.(type) {
		case map[string]any:
			for k, child := range x {
				walk(prefix+"."+k, child)
			}
		case []any:
			for _, child := range x {
				walk(prefix+".*", child)
			}
		}
	}
	walk("summary", doc["result_summary"])
	results, _ := doc["result_data"].([]any)
	for _, r := range results {
		walk("action_result", r)
	}
	return paths
}

// openDataPaths are the objects in a result whose keys the caller or AWS
// chooses, so app.json cannot list every key under them. A path that goes
// through one of them counts as declared.
var openDataPaths = map[string]string{
	".Parameters.":                   "a command's Parameters has one key for each parameter of its document",
	".ResponseMetadata.HTTPHeaders.": "HTTPHeaders has every header of the response, and AWS and proxies add their own",
}

// undeclaredPaths returns the data and summary paths of a run's output
// that app.json does not declare for the action, sorted. Playbook authors
// find a path only through app.json. A list of scalars is declared
// without the trailing ".*", as the existing app declared InstanceIds.
// Empty lists and objects give no path, since they hold nothing to read.
func undeclaredPaths(t *testing.T, action connector.ActionSpec, stdout string) []string {
	t.Helper()
	declared := map[string]bool{}
	for _, out := range action.Output {
		declared[out.DataPath] = true
	}

	var doc struct {
		ResultData []map[string]any `json:"result_data"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))

	undeclared := map[string]bool{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for key, child := range x {
				walk(path+"."+key, child)
			}
		case []any:
			for _, child := range x {
				walk(path+".*", child)
			}
		default:
			path = strings.TrimSuffix(path, ".*")
			if declared[path] {
				return
			}
			for open := range openDataPaths {
				if strings.Contains(path, open) {
					return
				}
			}
			undeclared[path] = true
		}
	}
	for _, result := range doc.ResultData {
		walk("action_result.data", result["data"])
		walk("action_result.summary", result["summary"])
	}

	list := make([]string, 0, len(undeclared))
	for path := range undeclared {
		list = append(list, path)
	}
	sort.Strings(list)
	return list
}

// TestSamplePathsDeclared runs each action's sample input and checks that
// app.json declares every data and summary path of its results.
func TestSamplePathsDeclared(t *testing.T) {
	m := loadManifest(t)
	for _, action := range m.Actions {
		t.Run(action.Identifier, func(t *testing.T) {
			sb := sandboxtest.Start(t)
			if setup, ok := sampleSetup[action.Identifier]; ok {
				setup(t, sb)
			}
			run := runAction(t, sb, action.Identifier, testAsset(sb), sampleInput(t, action.Identifier)...)
			require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
			assert.Empty(t, undeclaredPaths(t, action, run.stdout), "data and summary paths that the result has but app.json does not list")
		})
	}
}

// TestManifestDescribesOutputLimits checks that app.json states two facts
// that the end-to-end tests show. A missing output bucket is created
// (TestOutputBucketCreatedInRegion), so a misspelled name makes a new
// bucket. A result contains at most 4 MiB of each output stream
// (TestHugeOutputCutWithWarning).
func TestManifestDescribesOutputLimits(t *testing.T) {
	m := loadManifest(t)
	assert.Contains(t, m.Configuration["default_s3_bucket"].Description, "missing bucket is created")
	for _, action := range m.Actions {
		if param, ok := action.Parameters["output_s3_bucket_name"]; ok {
			assert.Contains(t, param.Description, "missing bucket is created", "%s: output_s3_bucket_name", action.Identifier)
		}
		for _, out := range action.Output {
			if strings.HasSuffix(out.DataPath, ".StandardOutputContent") {
				assert.Contains(t, action.Description, "4 MiB", "%s returns command output", action.Identifier)
				break
			}
		}
	}
}
