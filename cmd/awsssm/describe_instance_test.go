package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

// instanceInformation returns the only item of a describe instance result.
func instanceInformation(t *testing.T, run *runResult) map[string]any {
	t.Helper()
	list, ok := run.data(t)["InstanceInformationList"].([]any)
	require.True(t, ok && len(list) == 1, "one instance expected: %s", run.stdout)
	return list[0].(map[string]any)
}

func TestDescribeInstanceShowsFields(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "describe_instance", testAsset(sb), map[string]any{"instance_id": linuxInstance})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)

	info := instanceInformation(t, run)
	assert.Equal(t, linuxInstance, info["InstanceId"])
	assert.Equal(t, "Online", info["PingStatus"])
	assert.Equal(t, "Linux", info["PlatformType"])
	assert.Equal(t, "Amazon Linux", info["PlatformName"])
	assert.Equal(t, "2023", info["PlatformVersion"])
	assert.Equal(t, "3.3.1142.0", info["AgentVersion"])
	assert.Equal(t, false, info["IsLatestVersion"])
	assert.Equal(t, "10.0.1.10", info["IPAddress"])
	assert.Equal(t, "ip-10-0-1-10.ec2.internal", info["ComputerName"])
	assert.Equal(t, "EC2Instance", info["ResourceType"])
	assert.Equal(t, "AWS::EC2::Instance", info["SourceType"])
	assert.Regexp(t, `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`, info["LastPingDateTime"])
	assert.Equal(t, "2026-11-30 08:00:00", info["LastAssociationExecutionDate"])
	assert.Equal(t, "Success", lookupString(info, "AssociationOverview.DetailedStatus"))
	assert.EqualValues(t, 1, lookupValue(info, "AssociationOverview.InstanceAssociationStatusAggregatedCount.Success"))
	assert.EqualValues(t, 200, lookupValue(run.data(t), "ResponseMetadata.HTTPStatusCode"))

	summary := run.result(t).Summary
	ping, _ := summary.Get("ping_status")
	platform, _ := summary.Get("platform_type")
	assert.Equal(t, "Online", ping)
	assert.Equal(t, "Linux", platform)
}

func TestDescribeInstanceOnPremises(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "describe_instance", testAsset(sb), map[string]any{"instance_id": "mi-0123456789abcdef0"})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	info := instanceInformation(t, run)
	assert.Equal(t, "ManagedInstance", info["ResourceType"])
	assert.Equal(t, "onprem-db-1", info["Name"])
	assert.Equal(t, "2026-06-01 12:00:00", info["RegistrationDate"])
}

func TestDescribeInstanceUnknownGivesAdvice(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "describe_instance", testAsset(sb), map[string]any{"instance_id": "i-0123456789abcdef1"})
	assert.Equal(t, 1, run.code)
	res := run.result(t)
	assert.Equal(t, connector.StatusFailed, res.Status)
	for _, advice := range []string{
		"i-0123456789abcdef1 is not a managed instance in us-east-1",
		"SSM Agent runs on it",
		"SSM endpoints",
		"AmazonSSMManagedInstanceCore",
		"hybrid activation",
		"the Region and the account",
	} {
		assert.Contains(t, res.Message, advice)
	}
}

func TestDescribeInstanceLostConnectionWarns(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "describe_instance", testAsset(sb), map[string]any{"instance_id": "i-0a1b2c3d4e5f60718"})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	assert.Equal(t, "2026-11-28 17:42:10", instanceInformation(t, run)["LastPingDateTime"])
	assert.Contains(t, run.stderr, "warning: instance i-0a1b2c3d4e5f60718 has ping status ConnectionLost")
}

func TestDescribeInstanceSkipsEmptyPages(t *testing.T) {
	sb := sandboxtest.Start(t)
	sb.Server.SetPagePlan("DescribeInstanceInformation", []int{0, 0})

	run := runAction(t, sb, "describe_instance", testAsset(sb), map[string]any{"instance_id": linuxInstance})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	assert.Equal(t, linuxInstance, instanceInformation(t, run)["InstanceId"])
	assert.Equal(t, 3, sb.Server.Faults().Calls("DescribeInstanceInformation"))
}

func TestDescribeInstanceRepeatedTokenStops(t *testing.T) {
	sb := sandboxtest.Start(t)
	sb.Server.SetPagePlan("DescribeInstanceInformation", []int{0, 0, 0})
	sb.Server.RepeatNextToken("DescribeInstanceInformation", 1)

	run := runAction(t, sb, "describe_instance", testAsset(sb), map[string]any{"instance_id": linuxInstance})
	assert.Equal(t, 1, run.code)
	assert.Contains(t, run.result(t).Message, "same NextToken twice")
	assert.Equal(t, 2, sb.Server.Faults().Calls("DescribeInstanceInformation"))
}

func TestDescribeInstanceRejectsMalformedID(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "describe_instance", testAsset(sb), map[string]any{"instance_id": "web-1"})
	assert.Equal(t, 1, run.code)
	assert.Contains(t, run.result(t).Message, `invalid parameter "instance_id"`)
	assert.Equal(t, 0, sb.Server.Faults().Calls("DescribeInstanceInformation"))
}
