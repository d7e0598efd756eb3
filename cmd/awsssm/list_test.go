package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm"
	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

// The sample run of list commands needs commands to list. The sample
// filters by the Linux instance, so the invocations must be visible at once.
// sendTrueCommands sends n commands that run `true` on the Linux instance
// and returns their IDs, oldest first.
func sendTrueCommands(t *testing.T, sb *sandboxtest.Sandbox, n int) []string {
	t.Helper()
	client := ssm.NewFromConfig(sb.Config())
	ids := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out, err := client.SendCommand(context.Background(), &ssm.SendCommandInput{
			DocumentName: aws.String("AWS-RunShellScript"),
			InstanceIds:  []string{linuxInstance},
			Parameters:   map[string][]string{"commands": {"true"}},
			Comment:      aws.String(fmt.Sprintf("list test %d", i)),
		})
		require.NoError(t, err)
		ids = append(ids, aws.ToString(out.Command.CommandId))
	}
	return ids
}

// sendVariedCommands sends commands that together fill every member that
// the list commands data paths name: 11 with parameters and a working
// directory, and then one sent with Targets instead of instance IDs.
func sendVariedCommands(t *testing.T, sb *sandboxtest.Sandbox) {
	t.Helper()
	client := ssm.NewFromConfig(sb.Config())
	for i := 0; i < 11; i++ {
		_, err := client.SendCommand(context.Background(), &ssm.SendCommandInput{
			DocumentName: aws.String("AWS-RunShellScript"),
			InstanceIds:  []string{linuxInstance},
			Parameters: map[string][]string{
				"commands":         {"echo listed"},
				"workingDirectory": {"/"},
				"executionTimeout": {"600"},
			},
			Comment: aws.String(fmt.Sprintf("varied %d", i)),
		})
		require.NoError(t, err)
	}
	_, err := client.SendCommand(context.Background(), &ssm.SendCommandInput{
		DocumentName:           aws.String("AWS-RunShellScript"),
		Targets:                []ssmtypes.Target{{Key: aws.String("InstanceIds"), Values: []string{linuxInstance}}},
		Parameters:             map[string][]string{"commands": {"echo targeted"}},
		CloudWatchOutputConfig: &ssmtypes.CloudWatchOutputConfig{CloudWatchOutputEnabled: true, CloudWatchLogGroupName: aws.String("/aws/ssm/list-test")},
	})
	require.NoError(t, err)
}

// listedCommandIDs returns the command IDs of a list commands result, in
// order, and checks that no data item is an empty page.
func listedCommandIDs(t *testing.T, res connector.ActionResult) []string {
	t.Helper()
	var ids []string
	for i, item := range res.Data {
		page, ok := item.(map[string]any)
		require.True(t, ok, "data item %d is not an object: %#v", i, item)
		commands, ok := page["Commands"].([]any)
		require.True(t, ok, "data item %d has no Commands list: %#v", i, page)
		require.NotEmpty(t, commands, "data item %d is an empty page", i)
		require.Contains(t, page, "ResponseMetadata", "data item %d", i)
		for _, c := range commands {
			ids = append(ids, lookupString(c.(map[string]any), "CommandId"))
		}
	}
	return ids
}

// newestFirst returns ids, sent oldest first, in the order ListCommands
// returns them.
func newestFirst(ids []string) []string {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

func TestListCommandsPaging(t *testing.T) {
	sb := sandboxtest.Start(t)
	sent := newestFirst(sendTrueCommands(t, sb, 61))
	calls := func() int { return sb.Server.Faults().Calls("ListCommands") }

	t.Run("empty page skipped", func(t *testing.T) {
		sb.Server.SetPagePlan("ListCommands", []int{1, 0, 59})
		t.Cleanup(func() { sb.Server.SetPagePlan("ListCommands", nil) })
		before := calls()

		run := runAction(t, sb, "list_commands", testAsset(sb), map[string]any{"max_results": 60})
		require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
		res := run.result(t)

		ids := listedCommandIDs(t, res)
		assert.Equal(t, sent[:60], ids, "the 60 newest commands, newest first")
		assert.Len(t, res.Data, 2, "pages of 1 and 59 commands; the empty page is not a data item")
		assert.Equal(t, 3, calls()-before, "three pages requested")
		num, _ := res.Summary.Get("num_commands")
		assert.EqualValues(t, 60, num)
		assert.NotContains(t, res.Message, "Warning")
	})

	t.Run("last page cut", func(t *testing.T) {
		sb.Server.SetPagePlan("ListCommands", []int{1, 0, 59})
		t.Cleanup(func() { sb.Server.SetPagePlan("ListCommands", nil) })

		run := runAction(t, sb, "list_commands", testAsset(sb), map[string]any{"max_results": 30})
		require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
		res := run.result(t)

		ids := listedCommandIDs(t, res)
		assert.Equal(t, sent[:30], ids)
		require.Len(t, res.Data, 2)
		last := res.Data[1].(map[string]any)
		assert.Len(t, last["Commands"], 29, "the 59-command page is cut to the 29 still wanted")
		assert.NotEmpty(t, last["NextToken"], "SSM returned a NextToken with that page")
	})

	t.Run("all without max_results", func(t *testing.T) {
		before := calls()

		run := runAction(t, sb, "list_commands", testAsset(sb), map[string]any{})
		require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
		res := run.result(t)

		assert.Equal(t, sent, listedCommandIDs(t, res))
		assert.Equal(t, 2, calls()-before, "pages of 50 and 11")
		require.Len(t, res.Data, 2)
		first := res.Data[0].(map[string]any)
		assert.NotEmpty(t, first["NextToken"], "the first page carries AWS's NextToken")
		assert.NotContains(t, res.Data[1].(map[string]any), "NextToken", "the last page has none")
		assert.Equal(t, "Num commands: 61, Status: Successfully listed commands", res.Message)
	})

	t.Run("filtered by command ID", func(t *testing.T) {
		run := runAction(t, sb, "list_commands", testAsset(sb), map[string]any{"command_id": sent[7]})
		require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
		assert.Equal(t, []string{sent[7]}, listedCommandIDs(t, run.result(t)))
	})
}

func TestListCommandsStopsOnRepeatedToken(t *testing.T) {
	sb := sandboxtest.Start(t)
	sent := newestFirst(sendTrueCommands(t, sb, 5))
	sb.Server.SetPagePlan("ListCommands", []int{2, 2, 2})
	sb.Server.RepeatNextToken("ListCommands", 1)

	run := runAction(t, sb, "list_commands", testAsset(sb), map[string]any{})
	require.Equal(t, 0, run.code, "the action succeeds with what it had; stdout: %s\nstderr: %s", run.stdout, run.stderr)
	res := run.result(t)
	assert.Equal(t, connector.StatusSuccess, res.Status)

	assert.Equal(t, sent[:4], listedCommandIDs(t, res), "the pages before the repeat are kept")
	assert.Equal(t, 2, sb.Server.Faults().Calls("ListCommands"), "the repeated token is not followed")
	assert.Contains(t, res.Message, "Num commands: 4")
	assert.Contains(t, res.Message, "Warning:")
	assert.Contains(t, res.Message, "NextToken")
	assert.Contains(t, run.stderr, "NextToken", "a progress warning goes to stderr")
	status, _ := res.Summary.Get("status")
	assert.Equal(t, "Listing incomplete", status)
}

func TestListCommandsRejectsMaxResultsBelowOne(t *testing.T) {
	sb := sandboxtest.Start(t)

	for _, action := range []string{"list_commands", "list_documents"} {
		for _, value := range []int{0, -1} {
			run := runAction(t, sb, action, testAsset(sb), map[string]any{"max_results": value})
			assert.Equal(t, 1, run.code, "%s with max_results %d", action, value)
			res := run.result(t)
			assert.Equal(t, connector.StatusFailed, res.Status)
			assert.Contains(t, res.Message, `"max_results"`, "%s with max_results %d", action, value)
			assert.Contains(t, res.Message, fmt.Sprint(value))
		}
	}
	assert.Zero(t, sb.Server.Faults().Calls("ListCommands"), "no call before the check")
	assert.Zero(t, sb.Server.Faults().Calls("ListDocuments"), "no call before the check")
}

func TestListCommandsUnknownCommandID(t *testing.T) {
	sb := sandboxtest.Start(t)
	unknown := "9d2c4b1e-7a3f-4e6b-8c0d-1f2e3a4b5c6d"

	run := runAction(t, sb, "list_commands", testAsset(sb), map[string]any{"command_id": unknown})
	assert.Equal(t, 1, run.code)
	res := run.result(t)
	assert.Equal(t, connector.StatusFailed, res.Status)
	assert.Contains(t, res.Message, unknown)
	assert.Contains(t, res.Message, "does not exist in us-east-1 or has expired")
	assert.Contains(t, res.Message, "30 days")
}

func TestListCommandsRejectsMalformedIDs(t *testing.T) {
	sb := sandboxtest.Start(t)

	cases := []struct {
		params map[string]any
		name   string
	}{
		{map[string]any{"command_id": "not-a-command"}, "command_id"},
		{map[string]any{"instance_id": "web-1"}, "instance_id"},
	}
	for _, c := range cases {
		run := runAction(t, sb, "list_commands", testAsset(sb), c.params)
		assert.Equal(t, 1, run.code, "%v", c.params)
		assert.Contains(t, run.result(t).Message, `invalid parameter "`+c.name+`"`)
	}
	assert.Zero(t, sb.Server.Faults().Calls("ListCommands"))
}

// listedDocumentNames returns the Name of every data item of a list
// documents result, in order.
func listedDocumentNames(t *testing.T, res connector.ActionResult) []string {
	t.Helper()
	var names []string
	for i, item := range res.Data {
		doc, ok := item.(map[string]any)
		require.True(t, ok, "data item %d is not an object: %#v", i, item)
		names = append(names, lookupString(doc, "Name"))
	}
	return names
}

// sandboxDocumentNames lists, with the SDK and without paging knobs, the
// names of the documents that match filters.
func sandboxDocumentNames(t *testing.T, sb *sandboxtest.Sandbox, filters map[string]string) []string {
	t.Helper()
	client := ssm.NewFromConfig(sb.Config())
	input := &ssm.ListDocumentsInput{MaxResults: aws.Int32(50)}
	for key, value := range filters {
		input.Filters = append(input.Filters, ssmtypes.DocumentKeyValuesFilter{Key: aws.String(key), Values: []string{value}})
	}
	out, err := client.ListDocuments(context.Background(), input)
	require.NoError(t, err)
	require.Nil(t, out.NextToken, "the sandbox holds fewer than 50 such documents")
	var names []string
	for _, d := range out.DocumentIdentifiers {
		names = append(names, aws.ToString(d.Name))
	}
	return names
}

func TestListDocumentsFilters(t *testing.T) {
	sb := sandboxtest.Start(t)

	cases := []struct {
		name    string
		params  map[string]any
		filters map[string]string
		want    []string // some of the names expected
	}{
		{"owner Amazon", map[string]any{"owner": "Amazon"}, map[string]string{"Owner": "Amazon"}, []string{"AWS-RunShellScript", "AWS-RunPowerShellScript"}},
		{"document type Command", map[string]any{"document_type": "Command"}, map[string]string{"DocumentType": "Command"}, []string{"AWS-RunShellScript", "Sandbox-TwoStepReport", "Partner-CollectLogs"}},
		{"name prefix", map[string]any{"name": "Sandbox-"}, map[string]string{"Name": "Sandbox-"}, []string{"Sandbox-TwoStepReport", "Sandbox-RestartService"}},
		{"platform in any case", map[string]any{"platform_type": "linux", "owner": "Self"}, map[string]string{"PlatformTypes": "Linux", "Owner": "Self"}, []string{"Sandbox-TwoStepReport"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := sandboxDocumentNames(t, sb, c.filters)
			require.GreaterOrEqual(t, len(want), 2, "the case needs two pages of at least one document")
			for _, name := range c.want {
				require.Contains(t, want, name)
			}

			// One document on the first page, none on the second, then
			// pages of MaxResults again.
			sb.Server.SetPagePlan("ListDocuments", []int{1, 0})
			t.Cleanup(func() { sb.Server.SetPagePlan("ListDocuments", nil) })
			before := sb.Server.Faults().Calls("ListDocuments")

			run := runAction(t, sb, "list_documents", testAsset(sb), c.params)
			require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
			res := run.result(t)
			assert.Equal(t, want, listedDocumentNames(t, res))
			assert.Equal(t, 3, sb.Server.Faults().Calls("ListDocuments")-before, "pages of 1, 0 and the rest")
			num, _ := res.Summary.Get("num_documents")
			assert.EqualValues(t, len(want), num)
		})
	}
}

func TestListDocumentsMaxResultsCuts(t *testing.T) {
	sb := sandboxtest.Start(t)
	want := sandboxDocumentNames(t, sb, map[string]string{"Name": "Sandbox-"})
	require.Greater(t, len(want), 3)
	sb.Server.SetPagePlan("ListDocuments", []int{2, 0, 2})
	before := sb.Server.Faults().Calls("ListDocuments")

	run := runAction(t, sb, "list_documents", testAsset(sb), map[string]any{"name": "Sandbox-", "max_results": 3})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	res := run.result(t)
	assert.Equal(t, want[:3], listedDocumentNames(t, res), "the third page's two documents are cut to one")
	assert.Equal(t, 3, sb.Server.Faults().Calls("ListDocuments")-before)
	assert.Equal(t, "Num documents: 3", res.Message)
}

func TestListDocumentsRejectsBadFilters(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "list_documents", testAsset(sb), map[string]any{"platform_type": "Solaris"})
	assert.Equal(t, 1, run.code)
	assert.Contains(t, run.result(t).Message, `invalid parameter "platform_type"`)
	assert.Zero(t, sb.Server.Faults().Calls("ListDocuments"), "platform_type is checked before any call")

	run = runAction(t, sb, "list_documents", testAsset(sb), map[string]any{"owner": "Nobody"})
	assert.Equal(t, 1, run.code)
	message := run.result(t).Message
	assert.Contains(t, message, "SSM rejected a filter")
	assert.Contains(t, message, "Nobody is not valid for key Owner", "AWS's own message is kept")
	assert.NotContains(t, message, "operation error", "the SDK's request details are left out")
}

func TestListDocumentsStopsOnRepeatedToken(t *testing.T) {
	sb := sandboxtest.Start(t)
	sb.Server.SetPagePlan("ListDocuments", []int{1, 1, 1})
	sb.Server.RepeatNextToken("ListDocuments", 1)

	run := runAction(t, sb, "list_documents", testAsset(sb), map[string]any{})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	res := run.result(t)
	assert.Len(t, res.Data, 2)
	assert.Contains(t, res.Message, "Num documents: 2, Warning:")
	assert.Equal(t, 2, sb.Server.Faults().Calls("ListDocuments"))
}

// listDataPathFound reports whether a data path of app.json, relative to
// the action result ("data.*.Commands.*.CommandId"), leads to a value in
// result, where "*" is any element of a list.
func listDataPathFound(value any, segments []string) bool {
	if len(segments) == 0 {
		return true
	}
	if segments[0] == "*" {
		list, ok := value.([]any)
		if !ok {
			return false
		}
		return slices.ContainsFunc(list, func(v any) bool { return listDataPathFound(v, segments[1:]) })
	}
	obj, ok := value.(map[string]any)
	if !ok {
		return false
	}
	next, ok := obj[segments[0]]
	return ok && listDataPathFound(next, segments[1:])
}

// TestListSampleDataPaths runs each list action's sample input after its
// sample set-up and checks that every data and summary path that app.json
// declares appears in the results, except where the sandbox, like AWS,
// has nothing to put there.
func TestListSampleDataPaths(t *testing.T) {
	manifest, err := connector.ParseManifest(awsssm.AppJSON)
	require.NoError(t, err)

	absent := map[string]string{
		// Parameters contains the document's own parameters, and Operation
		// is one of AWS-RunPatchBaseline, which the sandbox does not have.
		"action_result.data.*.Commands.*.Parameters.Operation": "no sandbox document has an Operation parameter",
		// AWS leaves these members out of a document that has none.
		"action_result.data.*.DisplayName": "the sandbox's documents have no display name",
		"action_result.data.*.VersionName": "the sandbox's documents have no version names",
	}

	for _, identifier := range []string{"list_commands", "list_documents"} {
		t.Run(identifier, func(t *testing.T) {
			spec, ok := manifest.Action(identifier)
			require.True(t, ok)
			sb := sandboxtest.Start(t)
			if setup, ok := sampleSetup[identifier]; ok {
				setup(t, sb)
			}
			run := runAction(t, sb, identifier, testAsset(sb), sampleInput(t, identifier)...)
			require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)

			var results []any
			raw, err := json.Marshal(run.out.ResultData)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &results))

			for _, out := range spec.Output {
				rest, ok := strings.CutPrefix(out.DataPath, "action_result.")
				if !ok || !(strings.HasPrefix(rest, "data.") || strings.HasPrefix(rest, "summary.")) {
					continue
				}
				found := listDataPathFound(results, append([]string{"*"}, strings.Split(rest, ".")...))
				if reason, ok := absent[out.DataPath]; ok {
					assert.False(t, found, "%s is listed as absent (%s) but appears", out.DataPath, reason)
					continue
				}
				assert.True(t, found, "%s is declared in app.json but no result of the sample run has it", out.DataPath)
			}
		})
	}
}
