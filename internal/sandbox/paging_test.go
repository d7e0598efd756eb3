package sandbox

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// sendPending sends n commands to the instance whose connection is lost, so
// they stay Pending and run nothing, and returns their ids newest first.
func sendPending(t *testing.T, ts *ssmTestServer, n int) []string {
	t.Helper()
	ts.SetInvocationDelay(0)
	var ids []string
	for range n {
		ids = append([]string{ts.sendShell(t, lostInstance, map[string][]string{"commands": {"true"}})}, ids...)
	}
	return ids
}

// commandPage lists one page of commands and returns their ids and token.
func commandPage(t *testing.T, ts *ssmTestServer, maxResults int32, token *string) ([]string, *string) {
	t.Helper()
	in := &ssm.ListCommandsInput{NextToken: token}
	if maxResults > 0 {
		in.MaxResults = aws.Int32(maxResults)
	}
	out, err := ts.Client.ListCommands(context.Background(), in)
	if err != nil {
		t.Fatalf("list commands: %v", err)
	}
	var ids []string
	for _, c := range out.Commands {
		ids = append(ids, aws.ToString(c.CommandId))
	}
	return ids, out.NextToken
}

func TestListCommandsPagesByMaxResults(t *testing.T) {
	ts := newSSMTestServer(t)
	want := sendPending(t, ts, 7)

	var got []string
	var sizes []int
	var token *string
	for {
		ids, next := commandPage(t, ts, 3, token)
		got = append(got, ids...)
		sizes = append(sizes, len(ids))
		if next == nil {
			break
		}
		token = next
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("page sizes %v, want [3 3 1]", sizes)
	}
	if !slices.Equal(got, want) {
		t.Errorf("commands %v, want newest first %v", got, want)
	}

	all, token := commandPage(t, ts, 0, nil)
	if len(all) != 7 || token != nil {
		t.Errorf("default page has %d commands and token %v, want 7 and none", len(all), token)
	}
}

func TestListCommandsPageSurvivesNewCommands(t *testing.T) {
	ts := newSSMTestServer(t)
	want := sendPending(t, ts, 4)
	first, token := commandPage(t, ts, 2, nil)
	sendPending(t, ts, 2)
	second, _ := commandPage(t, ts, 2, token)
	if !slices.Equal(append(first, second...), want) {
		t.Errorf("pages %v then %v, want %v across the new commands", first, second, want)
	}
}

func TestPagePlanSizesFirstPages(t *testing.T) {
	ts := newSSMTestServer(t)
	want := sendPending(t, ts, 6)
	ts.SetPagePlan("ListCommands", []int{0, 2, 0})

	var got []string
	var sizes []int
	var token *string
	for range 10 {
		ids, next := commandPage(t, ts, 3, token)
		got = append(got, ids...)
		sizes = append(sizes, len(ids))
		if next == nil {
			break
		}
		token = next
	}
	if !slices.Equal(sizes, []int{0, 2, 0, 3, 1}) {
		t.Errorf("page sizes %v, want [0 2 0 3 1]", sizes)
	}
	if !slices.Equal(got, want) {
		t.Errorf("commands %v, want %v", got, want)
	}

	ts.SetPagePlan("ListCommands", nil)
	if ids, _ := commandPage(t, ts, 3, nil); len(ids) != 3 {
		t.Errorf("after removing the plan the first page has %d commands", len(ids))
	}
}

func TestRepeatNextTokenEchoesToken(t *testing.T) {
	ts := newSSMTestServer(t)
	sendPending(t, ts, 5)
	ts.RepeatNextToken("ListCommands", 1)

	_, first := commandPage(t, ts, 2, nil)
	if first == nil {
		t.Fatal("first page has no token")
	}
	ids, second := commandPage(t, ts, 2, first)
	if len(ids) != 2 {
		t.Errorf("repeating page has %d commands, want 2", len(ids))
	}
	if second == nil || *second != *first {
		t.Errorf("page 1 returned token %v, want the token it was sent", second)
	}
}

func TestInvalidNextTokenRejected(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	sendPending(t, ts, 3)

	_, err := ts.Client.ListCommands(ctx, &ssm.ListCommandsInput{NextToken: aws.String("not-a-token")})
	expectError(t, err, "InvalidNextToken")

	docs, err := ts.Client.ListDocuments(ctx, &ssm.ListDocumentsInput{MaxResults: aws.Int32(2)})
	if err != nil {
		t.Fatalf("list documents: %v", err)
	}
	_, err = ts.Client.ListCommands(ctx, &ssm.ListCommandsInput{NextToken: docs.NextToken})
	expectError(t, err, "InvalidNextToken")

	_, token := commandPage(t, ts, 1, nil)
	tampered := []byte(*token)
	tampered[len(tampered)/2] ^= 1
	_, err = ts.Client.ListCommands(ctx, &ssm.ListCommandsInput{NextToken: aws.String(string(tampered))})
	expectError(t, err, "InvalidNextToken")

	_, err = ts.Client.ListCommands(ctx, &ssm.ListCommandsInput{MaxResults: aws.Int32(51)})
	expectError(t, err, "ValidationException", "maxResults")
}

func TestListDocumentsPagePlan(t *testing.T) {
	ts := newSSMTestServer(t)
	ts.SetPagePlan("ListDocuments", []int{0, 4})
	var sizes []int
	var names []string
	var token *string
	for range 10 {
		out, err := ts.Client.ListDocuments(context.Background(), &ssm.ListDocumentsInput{MaxResults: aws.Int32(5), NextToken: token})
		if err != nil {
			t.Fatalf("list documents: %v", err)
		}
		sizes = append(sizes, len(out.DocumentIdentifiers))
		for _, d := range out.DocumentIdentifiers {
			names = append(names, aws.ToString(d.Name))
		}
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	if !slices.Equal(sizes, []int{0, 4, 5, 1}) {
		t.Errorf("page sizes %v, want [0 4 5 1]", sizes)
	}
	if len(names) != 10 {
		t.Errorf("%d documents over all pages, want 10", len(names))
	}
}

func TestListCommandInvocationsPages(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	ts.SetInvocationDelay(0)
	out, err := ts.Client.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName: aws.String("AWS-RunShellScript"),
		InstanceIds:  []string{lostInstance, linuxInstance, secondLinuxInstance},
		Parameters:   map[string][]string{"commands": {"true"}},
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	id := aws.ToString(out.Command.CommandId)
	ts.SetPagePlan("ListCommandInvocations", []int{0})

	var got []string
	var token *string
	for range 10 {
		page, err := ts.Client.ListCommandInvocations(ctx, &ssm.ListCommandInvocationsInput{CommandId: aws.String(id), MaxResults: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatalf("list command invocations: %v", err)
		}
		for _, inv := range page.CommandInvocations {
			got = append(got, aws.ToString(inv.InstanceId))
		}
		if page.NextToken == nil {
			break
		}
		token = page.NextToken
	}
	if want := []string{lostInstance, linuxInstance, secondLinuxInstance}; !slices.Equal(got, want) {
		t.Errorf("invocations %v, want %v in target order", got, want)
	}

	ts.waitInvocation(t, id, linuxInstance, "", 30*time.Second)
	unknown, err := ts.Client.ListCommandInvocations(ctx, &ssm.ListCommandInvocationsInput{CommandId: aws.String("00000000-0000-4000-8000-000000000000")})
	if err != nil {
		t.Fatalf("list invocations of an unknown command: %v", err)
	}
	if len(unknown.CommandInvocations) != 0 {
		t.Errorf("an unknown command has %d invocations", len(unknown.CommandInvocations))
	}
}
