package actions

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/awsssm/awsssm/internal/awsdata"
	"github.com/awsssm/awsssm/internal/command"
	"github.com/awsssm/awsssm/internal/connector"
)

type listCommandsParams struct {
	CommandID  string `json:"command_id"`
	InstanceID string `json:"instance_id"`
	MaxResults *int64 `json:"max_results"`
}

// commandIDPattern matches the IDs that SendCommand returns: a UUID, 36
// characters, the length that the SSM API Reference requires of CommandId.
var commandIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (p *listCommandsParams) check() error {
	if p.CommandID != "" && !commandIDPattern.MatchString(p.CommandID) {
		return fmt.Errorf("invalid parameter \"command_id\": %q is not a command ID; expected the 36-character ID that SendCommand returns, such as 0b6b5a11-8f3e-4c8d-9a51-2f4e7c1d9b60", p.CommandID)
	}
	if p.InstanceID != "" {
		if err := checkInstanceID(p.InstanceID); err != nil {
			return err
		}
	}
	return checkMaxResults(p.MaxResults)
}

// listCommands lists Run Command commands, newest first. Each data item is
// one ListCommands response page, as the earlier app returned them: its
// Commands, its NextToken when there is one, and its ResponseMetadata.
func listCommands(ctx context.Context, env *connector.Env, p listCommandsParams) (*connector.Outcome, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	env.Progress("Listing commands%s in %s", commandFilterText(p), env.AWS.Region)

	fetch := func(ctx context.Context, token string, size int32) (resultPage[types.Command], error) {
		out, err := env.AWS.SSM.ListCommands(ctx, &ssm.ListCommandsInput{
			CommandId:  stringOrNil(p.CommandID),
			InstanceId: stringOrNil(p.InstanceID),
			MaxResults: aws.Int32(size),
			NextToken:  stringOrNil(token),
		})
		if err != nil {
			return resultPage[types.Command]{}, err
		}
		return resultPage[types.Command]{
			Items:            out.Commands,
			NextToken:        aws.ToString(out.NextToken),
			ResponseMetadata: awsdata.ResponseMetadata(out.ResultMetadata),
		}, nil
	}

	data := []any{}
	keep := func(page resultPage[types.Command]) {
		item := map[string]any{
			"Commands":         awsdata.Map(page.Items),
			"ResponseMetadata": page.ResponseMetadata,
		}
		if page.NextToken != "" {
			item["NextToken"] = page.NextToken
		}
		data = append(data, item)
	}

	var maxResults int64
	if p.MaxResults != nil {
		maxResults = *p.MaxResults
	}
	stats, err := listPages(ctx, "ListCommands", maxResults, fetch, keep)

	status := "Successfully listed commands"
	switch {
	case err != nil:
		status = "Listing failed"
	case stats.Warning != "":
		status = "Listing incomplete"
	}
	summary := connector.Summary{}
	summary.Set("num_commands", stats.Items)
	summary.Set("status", status)
	outcome := &connector.Outcome{Data: data, Summary: summary}

	if err != nil {
		if command.ErrorCode(err) == "InvalidCommandId" {
			return outcome, fmt.Errorf("command %s does not exist in %s or has expired: SSM keeps commands for 30 days; check the command ID and the Region", p.CommandID, env.AWS.Region)
		}
		return outcome, fmt.Errorf("list commands%s, page %d: %w", commandFilterText(p), stats.Pages, command.Explain(err))
	}

	if stats.Truncated {
		env.Progress("Stopped at max_results (%d); SSM has more commands", maxResults)
	}
	env.Progress("Listed %s in %s", countText(stats.Items, "command", "commands"), countText(stats.Pages, "page", "pages"))
	if stats.Warning != "" {
		env.Warn("%s", stats.Warning)
		outcome.Message = fmt.Sprintf("Num commands: %d, Status: %s, Warning: %s", stats.Items, status, stats.Warning)
	}
	return outcome, nil
}

// commandFilterText describes the filters of a listing for progress lines
// and errors, such as " for command 0b6b… sent to i-0abc…".
func commandFilterText(p listCommandsParams) string {
	var b strings.Builder
	if p.CommandID != "" {
		b.WriteString(" for command " + p.CommandID)
	}
	if p.InstanceID != "" {
		b.WriteString(" sent to " + p.InstanceID)
	}
	return b.String()
}
