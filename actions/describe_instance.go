package actions

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/awsssm/awsssm/internal/awsdata"
	"github.com/awsssm/awsssm/internal/command"
	"github.com/awsssm/awsssm/internal/connector"
)

type describeInstanceParams struct {
	InstanceID string `json:"instance_id"`
}

// managedInstanceAdvice explains how an instance becomes a managed
// instance, for the failure of an instance that SSM does not list.
const managedInstanceAdvice = "SSM lists an instance only while SSM Agent runs on it, " +
	"it can reach the SSM endpoints (ssm, ssmmessages and ec2messages over HTTPS, directly or through VPC endpoints), " +
	"and it has either an instance profile with the AmazonSSMManagedInstanceCore policy (EC2) " +
	"or a registration through a hybrid activation (on premises, mi- IDs). " +
	"Check the instance ID, and that the Region and the account of these credentials are those of the instance"

// maxInstancePages bounds how many pages describeManagedInstance follows.
// One instance ID matches at most one item, so more pages than this means
// the paging is broken.
const maxInstancePages = 20

// describeInstance returns SSM's information about one managed instance.
func describeInstance(ctx context.Context, env *connector.Env, p describeInstanceParams) (*connector.Outcome, error) {
	id := strings.TrimSpace(p.InstanceID)
	if err := checkInstanceID(id); err != nil {
		return nil, err
	}

	env.Progress("Describing instance %s in %s", id, env.AWS.Region)
	info, out, err := describeManagedInstance(ctx, env, id)
	if command.ErrorCode(err) == "InvalidInstanceId" {
		return nil, fmt.Errorf("%w: %w", notManagedError(env, id), command.Explain(err))
	}
	if err != nil {
		return nil, fmt.Errorf("describe instance information for %s in %s: %w", id, env.AWS.Region, command.Explain(err))
	}

	list := []any{}
	if info != nil {
		list = append(list, awsdata.Map(info))
	}
	data := map[string]any{
		"InstanceInformationList": list,
		"ResponseMetadata":        awsdata.ResponseMetadata(out.ResultMetadata),
	}
	outcome := &connector.Outcome{Data: []any{data}}
	if info == nil {
		return outcome, notManagedError(env, id)
	}

	env.Progress("Instance %s: ping status %s, %s (%s %s), SSM Agent %s", id, info.PingStatus, info.PlatformType,
		aws.ToString(info.PlatformName), aws.ToString(info.PlatformVersion), aws.ToString(info.AgentVersion))
	if info.PingStatus != types.PingStatusOnline {
		lastPing := "an unknown time"
		if info.LastPingDateTime != nil {
			lastPing = awsdata.FormatTime(*info.LastPingDateTime) + " UTC"
		}
		consequence := "commands sent to it wait until it is back or their delivery timeout ends"
		if info.PingStatus == types.PingStatusInactive {
			consequence = "SSM sends it no commands"
		}
		env.Warn("instance %s has ping status %s; SSM last heard from its agent at %s, and %s", id, info.PingStatus, lastPing, consequence)
	}

	summary := connector.Summary{}
	summary.Set("status", "Successfully retrieved instance information")
	summary.Set("ping_status", string(info.PingStatus))
	summary.Set("platform_type", string(info.PlatformType))
	outcome.Summary = summary
	return outcome, nil
}

// describeManagedInstance calls DescribeInstanceInformation for one
// instance ID. It returns the instance's information, nil when SSM does not
// list it, and the output of the last call. A filtered request may return
// empty pages that still carry a NextToken, so it follows tokens until
// the instance appears. A token that comes back repeated, or more than
// maxInstancePages pages, is an error rather than "not managed", because
// SSM never finished the list.
//
// It returns the output for the result's ResponseMetadata and leaves the
// wording of "not managed" to the caller (see lookupInstance).
func describeManagedInstance(ctx context.Context, env *connector.Env, id string) (*types.InstanceInformation, *ssm.DescribeInstanceInformationOutput, error) {
	input := &ssm.DescribeInstanceInformationInput{
		Filters: []types.InstanceInformationStringFilter{{Key: aws.String("InstanceIds"), Values: []string{id}}},
	}
	seen := map[string]bool{}
	for page := 1; ; page++ {
		out, err := env.AWS.SSM.DescribeInstanceInformation(ctx, input)
		if err != nil {
			return nil, nil, err
		}
		for i := range out.InstanceInformationList {
			if aws.ToString(out.InstanceInformationList[i].InstanceId) == id {
				return &out.InstanceInformationList[i], out, nil
			}
		}

		token := aws.ToString(out.NextToken)
		switch {
		case token == "":
			return nil, out, nil
		case seen[token]:
			return nil, nil, fmt.Errorf("SSM returned the same NextToken twice (page %d) without listing the instance; its paging is broken, so try again later", page)
		case page >= maxInstancePages:
			return nil, nil, fmt.Errorf("SSM still returned a NextToken after %d pages without listing the instance; try again later", page)
		}
		seen[token] = true
		input.NextToken = aws.String(token)
	}
}
