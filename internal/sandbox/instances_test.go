package sandbox

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// describeIDs returns the instance ids of every page of a
// DescribeInstanceInformation request.
func describeIDs(t *testing.T, ts *ssmTestServer, in *ssm.DescribeInstanceInformationInput) []string {
	t.Helper()
	var ids []string
	paginator := ssm.NewDescribeInstanceInformationPaginator(ts.Client, in)
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(context.Background())
		if err != nil {
			t.Fatalf("describe instance information: %v", err)
		}
		for _, info := range page.InstanceInformationList {
			ids = append(ids, aws.ToString(info.InstanceId))
		}
	}
	return ids
}

func TestDescribeInstanceInformationPages(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	first, err := ts.Client.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(5)})
	if err != nil {
		t.Fatalf("describe instance information: %v", err)
	}
	if len(first.InstanceInformationList) != 5 || first.NextToken == nil {
		t.Fatalf("first page has %d instances and token %v, want 5 and a token", len(first.InstanceInformationList), first.NextToken)
	}
	second, err := ts.Client.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(5), NextToken: first.NextToken})
	if err != nil {
		t.Fatalf("describe instance information, second page: %v", err)
	}
	if len(second.InstanceInformationList) != 2 || second.NextToken != nil {
		t.Errorf("second page has %d instances and token %v, want 2 and none", len(second.InstanceInformationList), second.NextToken)
	}
	if ids := describeIDs(t, ts, &ssm.DescribeInstanceInformationInput{}); len(ids) != 7 {
		t.Errorf("all pages list %d instances, want 7", len(ids))
	}

	for _, n := range []int32{4, 51} {
		_, err := ts.Client.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(n)})
		expectError(t, err, "ValidationException", "maxResults")
	}
}

func TestDescribeInstanceInformationFields(t *testing.T) {
	ts := newSSMTestServer(t)
	out, err := ts.Client.DescribeInstanceInformation(context.Background(), &ssm.DescribeInstanceInformationInput{
		Filters: []types.InstanceInformationStringFilter{{Key: aws.String("InstanceIds"), Values: []string{linuxInstance, hybridInstance, lostInstance}}},
	})
	if err != nil {
		t.Fatalf("describe instance information: %v", err)
	}
	byID := map[string]types.InstanceInformation{}
	for _, info := range out.InstanceInformationList {
		byID[aws.ToString(info.InstanceId)] = info
	}

	linux := byID[linuxInstance]
	if linux.PingStatus != types.PingStatusOnline || linux.PlatformType != types.PlatformTypeLinux || linux.ResourceType != types.ResourceTypeEc2Instance {
		t.Errorf("%s: %s %s %s", linuxInstance, linux.PingStatus, linux.PlatformType, linux.ResourceType)
	}
	if aws.ToString(linux.PlatformName) != "Amazon Linux" || aws.ToString(linux.AgentVersion) == "" || aws.ToString(linux.IPAddress) != "10.0.1.10" || aws.ToString(linux.ComputerName) == "" {
		t.Errorf("%s: platform %q agent %q ip %q computer %q", linuxInstance, aws.ToString(linux.PlatformName), aws.ToString(linux.AgentVersion), aws.ToString(linux.IPAddress), aws.ToString(linux.ComputerName))
	}
	if linux.IsLatestVersion == nil {
		t.Error("IsLatestVersion is missing")
	}
	if ping := aws.ToTime(linux.LastPingDateTime); time.Since(ping) > pingInterval+time.Minute || ping.After(time.Now()) {
		t.Errorf("online instance last pinged at %s", ping)
	}
	if aws.ToString(linux.AssociationStatus) != "Success" || linux.AssociationOverview == nil || linux.AssociationOverview.InstanceAssociationStatusAggregatedCount["Success"] != 1 {
		t.Errorf("association fields %q %+v", aws.ToString(linux.AssociationStatus), linux.AssociationOverview)
	}
	if linux.LastAssociationExecutionDate == nil || linux.LastSuccessfulAssociationExecutionDate == nil {
		t.Error("association dates are missing")
	}
	if linux.SourceType != types.SourceTypeAwsEc2Instance || aws.ToString(linux.SourceId) != linuxInstance {
		t.Errorf("source %s %q", linux.SourceType, aws.ToString(linux.SourceId))
	}

	hybrid := byID[hybridInstance]
	if hybrid.ResourceType != types.ResourceTypeManagedInstance || hybrid.SourceType != types.SourceTypeAwsSsmManagedinstance {
		t.Errorf("%s: %s %s", hybridInstance, hybrid.ResourceType, hybrid.SourceType)
	}
	if aws.ToString(hybrid.IamRole) != "SSMServiceRole" || aws.ToString(hybrid.Name) != "onprem-db-1" || aws.ToString(hybrid.ActivationId) == "" || hybrid.RegistrationDate == nil {
		t.Errorf("%s: role %q name %q activation %q registered %v", hybridInstance, aws.ToString(hybrid.IamRole), aws.ToString(hybrid.Name), aws.ToString(hybrid.ActivationId), hybrid.RegistrationDate)
	}

	lost := byID[lostInstance]
	if lost.PingStatus != types.PingStatusConnectionLost || !aws.ToTime(lost.LastPingDateTime).Equal(time.Date(2026, 11, 28, 17, 42, 10, 0, time.UTC)) {
		t.Errorf("%s: %s last ping %s", lostInstance, lost.PingStatus, aws.ToTime(lost.LastPingDateTime))
	}
}

func TestDescribeInstanceInformationFilters(t *testing.T) {
	ts := newSSMTestServer(t)
	cases := []struct {
		name string
		in   *ssm.DescribeInstanceInformationInput
		want []string
	}{
		{"windows", &ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{{Key: aws.String("PlatformTypes"), Values: []string{"Windows"}}}}, []string{windowsInstance}},
		{"connection lost", &ssm.DescribeInstanceInformationInput{InstanceInformationFilterList: []types.InstanceInformationFilter{{Key: types.InstanceInformationFilterKeyPingStatus, ValueSet: []string{"ConnectionLost"}}}}, []string{lostInstance}},
		{"managed instances", &ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{{Key: aws.String("ResourceType"), Values: []string{"ManagedInstance"}}}}, []string{hybridInstance}},
		{"tag Role web", &ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{{Key: aws.String("tag:Role"), Values: []string{"web"}}}}, []string{linuxInstance, secondLinuxInstance}},
		{"tag key Role", &ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{{Key: aws.String("tag-key"), Values: []string{"Role"}}}}, []string{linuxInstance, secondLinuxInstance, windowsInstance, hybridInstance}},
		{"online prod linux", &ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{
			{Key: aws.String("PingStatus"), Values: []string{"Online"}},
			{Key: aws.String("PlatformTypes"), Values: []string{"Linux"}},
			{Key: aws.String("tag:Env"), Values: []string{"prod"}},
		}}, []string{linuxInstance, secondLinuxInstance, hybridInstance}},
		{"unknown id in Filters", &ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{{Key: aws.String("InstanceIds"), Values: []string{"i-0000000000000000a"}}}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := describeIDs(t, ts, c.in); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestDescribeInstanceInformationRejectsBadFilters(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	_, err := ts.Client.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{
		InstanceInformationFilterList: []types.InstanceInformationFilter{{Key: types.InstanceInformationFilterKeyInstanceIds, ValueSet: []string{"i-0000000000000000a"}}},
	})
	expectError(t, err, "InvalidInstanceId", "i-0000000000000000a")

	_, err = ts.Client.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{
		Filters: []types.InstanceInformationStringFilter{{Key: aws.String("Colour"), Values: []string{"red"}}},
	})
	expectError(t, err, "InvalidFilterKey")

	_, err = ts.Client.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{
		Filters: []types.InstanceInformationStringFilter{{Key: aws.String("PingStatus"), Values: []string{"Asleep"}}},
	})
	expectError(t, err, "InvalidInstanceInformationFilterValue")
}
