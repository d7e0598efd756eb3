package sandbox

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func putParameter(t *testing.T, ts *ssmTestServer, in *ssm.PutParameterInput) *ssm.PutParameterOutput {
	t.Helper()
	out, err := ts.Client.PutParameter(context.Background(), in)
	if err != nil {
		t.Fatalf("put parameter %s: %v", aws.ToString(in.Name), err)
	}
	return out
}

func TestPutAndGetParameter(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	out := putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/app/db/host"), Value: aws.String("db.internal"), Type: types.ParameterTypeString, Description: aws.String("database host")})
	if out.Version != 1 || out.Tier != types.ParameterTierStandard {
		t.Errorf("PutParameter version %d tier %s, want 1 Standard", out.Version, out.Tier)
	}

	got, err := ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/host")})
	if err != nil {
		t.Fatalf("get parameter: %v", err)
	}
	p := got.Parameter
	if aws.ToString(p.Value) != "db.internal" || p.Type != types.ParameterTypeString || p.Version != 1 || aws.ToString(p.DataType) != "text" {
		t.Errorf("parameter %q %s v%d %q", aws.ToString(p.Value), p.Type, p.Version, aws.ToString(p.DataType))
	}
	if aws.ToString(p.ARN) != "arn:aws:ssm:us-east-1:123456789012:parameter/app/db/host" {
		t.Errorf("ARN %q", aws.ToString(p.ARN))
	}
	if p.LastModifiedDate == nil || p.Selector != nil {
		t.Errorf("LastModifiedDate %v Selector %v", p.LastModifiedDate, p.Selector)
	}

	plain := putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("flat-name"), Value: aws.String("a,b"), Type: types.ParameterTypeStringList})
	if plain.Version != 1 {
		t.Errorf("flat-name version %d", plain.Version)
	}
	flat, err := ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("flat-name")})
	if err != nil {
		t.Fatalf("get flat-name: %v", err)
	}
	if aws.ToString(flat.Parameter.ARN) != "arn:aws:ssm:us-east-1:123456789012:parameter/flat-name" || aws.ToString(flat.Parameter.Value) != "a,b" {
		t.Errorf("flat-name ARN %q value %q", aws.ToString(flat.Parameter.ARN), aws.ToString(flat.Parameter.Value))
	}
}

func TestPutParameterOverwriteRules(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/app/mode"), Value: aws.String("blue"), Type: types.ParameterTypeString, Description: aws.String("deploy colour")})

	_, err := ts.Client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/mode"), Value: aws.String("green"), Type: types.ParameterTypeString})
	expectError(t, err, "ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")

	_, err = ts.Client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/mode"), Value: aws.String("green"), Overwrite: aws.Bool(true), Tags: []types.Tag{{Key: aws.String("Team"), Value: aws.String("x")}}})
	expectError(t, err, "ValidationException", "tags and overwrite can't be used together")

	second := putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/app/mode"), Value: aws.String("green"), Overwrite: aws.Bool(true)})
	if second.Version != 2 {
		t.Errorf("overwrite made version %d, want 2", second.Version)
	}
	history, err := ts.Client.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/app/mode")})
	if err != nil {
		t.Fatalf("get parameter history: %v", err)
	}
	if len(history.Parameters) != 2 || aws.ToString(history.Parameters[0].Value) != "blue" || aws.ToString(history.Parameters[1].Value) != "green" {
		t.Fatalf("history %+v, want blue then green", history.Parameters)
	}
	v2 := history.Parameters[1]
	if v2.Type != types.ParameterTypeString || aws.ToString(v2.Description) != "deploy colour" || aws.ToString(v2.LastModifiedUser) == "" || v2.Tier != types.ParameterTierStandard {
		t.Errorf("version 2 kept type %s description %q user %q tier %s", v2.Type, aws.ToString(v2.Description), aws.ToString(v2.LastModifiedUser), v2.Tier)
	}

	old, err := ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/mode:1")})
	if err != nil {
		t.Fatalf("get version 1: %v", err)
	}
	if aws.ToString(old.Parameter.Value) != "blue" || aws.ToString(old.Parameter.Selector) != ":1" || aws.ToString(old.Parameter.Name) != "/app/mode" {
		t.Errorf("version 1 read as %q selector %q name %q", aws.ToString(old.Parameter.Value), aws.ToString(old.Parameter.Selector), aws.ToString(old.Parameter.Name))
	}
	_, err = ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/mode:9")})
	expectError(t, err, "ParameterVersionNotFound")
}

func TestPutParameterValidation(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	deep := strings.Repeat("/level", 16)
	cases := []struct {
		name      string
		in        *ssm.PutParameterInput
		code      string
		fragments []string
	}{
		{"aws prefix", &ssm.PutParameterInput{Name: aws.String("aws-key"), Value: aws.String("v"), Type: types.ParameterTypeString}, "ValidationException", []string{`can't be prefixed with "aws" or "ssm"`}},
		{"ssm path prefix", &ssm.PutParameterInput{Name: aws.String("/SSM/key"), Value: aws.String("v"), Type: types.ParameterTypeString}, "ValidationException", nil},
		{"space in name", &ssm.PutParameterInput{Name: aws.String("/app/my key"), Value: aws.String("v"), Type: types.ParameterTypeString}, "ValidationException", nil},
		{"path without leading slash", &ssm.PutParameterInput{Name: aws.String("app/key"), Value: aws.String("v"), Type: types.ParameterTypeString}, "ValidationException", nil},
		{"16 levels", &ssm.PutParameterInput{Name: aws.String(deep), Value: aws.String("v"), Type: types.ParameterTypeString}, "HierarchyLevelLimitExceededException", nil},
		{"no type", &ssm.PutParameterInput{Name: aws.String("/app/untyped"), Value: aws.String("v")}, "ValidationException", []string{"type"}},
		{"key id on String", &ssm.PutParameterInput{Name: aws.String("/app/k"), Value: aws.String("v"), Type: types.ParameterTypeString, KeyId: aws.String("alias/mine")}, "ValidationException", []string{"KeyId"}},
		{"pattern mismatch", &ssm.PutParameterInput{Name: aws.String("/app/port"), Value: aws.String("eighty"), Type: types.ParameterTypeString, AllowedPattern: aws.String(`^\d+$`)}, "ParameterPatternMismatchException", nil},
		{"bad pattern", &ssm.PutParameterInput{Name: aws.String("/app/port"), Value: aws.String("80"), Type: types.ParameterTypeString, AllowedPattern: aws.String(`(`)}, "InvalidAllowedPatternException", nil},
		{"standard value too long", &ssm.PutParameterInput{Name: aws.String("/app/big"), Value: aws.String(strings.Repeat("x", 4097)), Type: types.ParameterTypeString, Tier: types.ParameterTierStandard}, "ValidationException", []string{"4096"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ts.Client.PutParameter(ctx, c.in)
			expectError(t, err, c.code, c.fragments...)
		})
	}

	ok := putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/app/port"), Value: aws.String("8080"), Type: types.ParameterTypeString, AllowedPattern: aws.String(`^\d+$`)})
	if ok.Version != 1 {
		t.Errorf("matching value made version %d", ok.Version)
	}
	big := putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/app/big"), Value: aws.String(strings.Repeat("x", 5000)), Type: types.ParameterTypeString, Tier: types.ParameterTierIntelligentTiering})
	if big.Tier != types.ParameterTierAdvanced {
		t.Errorf("a 5,000-character value under Intelligent-Tiering got tier %s, want Advanced", big.Tier)
	}
}

func TestSecureStringNeverLeaksValue(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	const secret = "s3cr3t-passw0rd"
	putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/app/db/password"), Value: aws.String(secret), Type: types.ParameterTypeSecureString})

	masked, err := ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/password")})
	if err != nil {
		t.Fatalf("get parameter: %v", err)
	}
	value := aws.ToString(masked.Parameter.Value)
	if value == secret || strings.Contains(value, secret) || value == "" {
		t.Errorf("value without decryption is %q, want opaque cipher text", value)
	}
	if masked.Parameter.Type != types.ParameterTypeSecureString {
		t.Errorf("type %s", masked.Parameter.Type)
	}

	clear, err := ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/password"), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatalf("get parameter with decryption: %v", err)
	}
	if aws.ToString(clear.Parameter.Value) != secret {
		t.Errorf("value with decryption is %q", aws.ToString(clear.Parameter.Value))
	}

	history, err := ts.Client.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/app/db/password")})
	if err != nil {
		t.Fatalf("get parameter history: %v", err)
	}
	if strings.Contains(aws.ToString(history.Parameters[0].Value), secret) || aws.ToString(history.Parameters[0].KeyId) != "alias/aws/ssm" {
		t.Errorf("history shows value %q key %q", aws.ToString(history.Parameters[0].Value), aws.ToString(history.Parameters[0].KeyId))
	}
	byPath, err := ts.Client.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app/db")})
	if err != nil {
		t.Fatalf("get parameters by path: %v", err)
	}
	if len(byPath.Parameters) != 1 || strings.Contains(aws.ToString(byPath.Parameters[0].Value), secret) {
		t.Errorf("by path %+v", byPath.Parameters)
	}

	_, err = ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/missing")})
	expectError(t, err, "ParameterNotFound")
}

func TestGetParametersByPathDepth(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	for _, name := range []string{"/svc/a", "/svc/b", "/svc/deep/c", "/svc/deep/er/d", "/other/e", "/svcx/f"} {
		putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v"), Type: types.ParameterTypeString})
	}
	names := func(in *ssm.GetParametersByPathInput) []string {
		var got []string
		paginator := ssm.NewGetParametersByPathPaginator(ts.Client, in)
		for paginator.HasMorePages() {
			page, err := paginator.NextPage(ctx)
			if err != nil {
				t.Fatalf("get parameters by path: %v", err)
			}
			for _, p := range page.Parameters {
				got = append(got, aws.ToString(p.Name))
			}
		}
		return got
	}
	if got := names(&ssm.GetParametersByPathInput{Path: aws.String("/svc")}); !slices.Equal(got, []string{"/svc/a", "/svc/b"}) {
		t.Errorf("one level: %v", got)
	}
	if got := names(&ssm.GetParametersByPathInput{Path: aws.String("/svc"), Recursive: aws.Bool(true)}); !slices.Equal(got, []string{"/svc/a", "/svc/b", "/svc/deep/c", "/svc/deep/er/d"}) {
		t.Errorf("recursive: %v", got)
	}
	if got := names(&ssm.GetParametersByPathInput{Path: aws.String("/"), Recursive: aws.Bool(true), MaxResults: aws.Int32(2)}); len(got) != 6 {
		t.Errorf("everything in pages of 2: %v", got)
	}
	_, err := ts.Client.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("svc")})
	expectError(t, err, "ValidationException")
	_, err = ts.Client.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/svc"), MaxResults: aws.Int32(11)})
	expectError(t, err, "ValidationException")
}

func TestDescribeParametersFilters(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/team/a"), Value: aws.String("v"), Type: types.ParameterTypeString, Tags: []types.Tag{{Key: aws.String("Owner"), Value: aws.String("ops")}}})
	putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/team/b"), Value: aws.String("v"), Type: types.ParameterTypeSecureString})
	putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/team/sub/c"), Value: aws.String("v"), Type: types.ParameterTypeString})

	describe := func(filters ...types.ParameterStringFilter) []string {
		out, err := ts.Client.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: filters})
		if err != nil {
			t.Fatalf("describe parameters: %v", err)
		}
		var got []string
		for _, p := range out.Parameters {
			got = append(got, aws.ToString(p.Name))
		}
		return got
	}
	if got := describe(types.ParameterStringFilter{Key: aws.String("Type"), Values: []string{"SecureString"}}); !slices.Equal(got, []string{"/team/b"}) {
		t.Errorf("SecureString: %v", got)
	}
	if got := describe(types.ParameterStringFilter{Key: aws.String("Path"), Option: aws.String("Recursive"), Values: []string{"/team"}}); len(got) != 3 {
		t.Errorf("recursive path: %v", got)
	}
	if got := describe(types.ParameterStringFilter{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{"/team/s"}}); !slices.Equal(got, []string{"/team/sub/c"}) {
		t.Errorf("name begins with: %v", got)
	}
	if got := describe(types.ParameterStringFilter{Key: aws.String("tag:Owner"), Values: []string{"ops"}}); !slices.Equal(got, []string{"/team/a"}) {
		t.Errorf("tag: %v", got)
	}

	out, err := ts.Client.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	if err != nil {
		t.Fatalf("describe parameters: %v", err)
	}
	for _, p := range out.Parameters {
		if p.Version != 1 || p.Tier != types.ParameterTierStandard || aws.ToString(p.ARN) == "" || aws.ToString(p.DataType) != "text" {
			t.Errorf("%s: version %d tier %s ARN %q data type %q", aws.ToString(p.Name), p.Version, p.Tier, aws.ToString(p.ARN), aws.ToString(p.DataType))
		}
	}
	_, err = ts.Client.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Colour"), Values: []string{"red"}}}})
	expectError(t, err, "InvalidFilterKey")
}

func TestDeleteParameters(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/tmp/one"), Value: aws.String("1"), Type: types.ParameterTypeString})
	putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/tmp/two"), Value: aws.String("2"), Type: types.ParameterTypeString})

	if _, err := ts.Client.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/tmp/one")}); err != nil {
		t.Fatalf("delete parameter: %v", err)
	}
	_, err := ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/tmp/one")})
	expectError(t, err, "ParameterNotFound")
	_, err = ts.Client.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/tmp/one")})
	expectError(t, err, "ParameterNotFound")

	out, err := ts.Client.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: []string{"/tmp/two", "/tmp/three"}})
	if err != nil {
		t.Fatalf("delete parameters: %v", err)
	}
	if !slices.Equal(out.DeletedParameters, []string{"/tmp/two"}) || !slices.Equal(out.InvalidParameters, []string{"/tmp/three"}) {
		t.Errorf("deleted %v invalid %v", out.DeletedParameters, out.InvalidParameters)
	}

	got, err := ts.Client.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/tmp/two"}})
	if err != nil {
		t.Fatalf("get parameters: %v", err)
	}
	if len(got.Parameters) != 0 || !slices.Equal(got.InvalidParameters, []string{"/tmp/two"}) {
		t.Errorf("after delete: parameters %v invalid %v", got.Parameters, got.InvalidParameters)
	}
}

func TestParameterTags(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/tagged"), Value: aws.String("v"), Type: types.ParameterTypeString, Tags: []types.Tag{{Key: aws.String("Env"), Value: aws.String("dev")}}})

	if _, err := ts.Client.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
		ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/tagged"),
		Tags: []types.Tag{{Key: aws.String("Env"), Value: aws.String("prod")}, {Key: aws.String("Team"), Value: aws.String("secops")}},
	}); err != nil {
		t.Fatalf("add tags: %v", err)
	}
	tags := func() map[string]string {
		out, err := ts.Client.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/tagged")})
		if err != nil {
			t.Fatalf("list tags: %v", err)
		}
		got := map[string]string{}
		for _, tag := range out.TagList {
			got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		return got
	}
	if got := tags(); len(got) != 2 || got["Env"] != "prod" || got["Team"] != "secops" {
		t.Errorf("tags after add: %v", got)
	}
	if _, err := ts.Client.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/tagged"), TagKeys: []string{"Env"}}); err != nil {
		t.Fatalf("remove tags: %v", err)
	}
	if got := tags(); len(got) != 1 || got["Team"] != "secops" {
		t.Errorf("tags after remove: %v", got)
	}

	_, err := ts.Client.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/missing")})
	expectError(t, err, "InvalidResourceId")
	_, err = ts.Client.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/tagged"), Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("x")}}})
	expectError(t, err, "InvalidTag")

	many := make([]types.Tag, 50)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(strings.Repeat("k", i+1)), Value: aws.String("v")}
	}
	_, err = ts.Client.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/tagged"), Tags: many})
	expectError(t, err, "TooManyTagsError")
}

func TestManagedInstanceTagsTargetCommands(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	if _, err := ts.Client.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
		ResourceType: types.ResourceTypeForTaggingManagedInstance, ResourceId: aws.String(hybridInstance),
		Tags: []types.Tag{{Key: aws.String("Patch"), Value: aws.String("tonight")}},
	}); err != nil {
		t.Fatalf("add tags to %s: %v", hybridInstance, err)
	}
	out, err := ts.Client.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName: aws.String("AWS-RunShellScript"),
		Targets:      []types.Target{{Key: aws.String("tag:Patch"), Values: []string{"tonight"}}},
		Parameters:   map[string][]string{"commands": {"echo patched"}},
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	inv := ts.waitInvocation(t, aws.ToString(out.Command.CommandId), hybridInstance, "", 30*time.Second)
	if aws.ToString(inv.StandardOutputContent) != "patched\n" {
		t.Errorf("printed %q", aws.ToString(inv.StandardOutputContent))
	}

	_, err = ts.Client.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
		ResourceType: types.ResourceTypeForTaggingManagedInstance, ResourceId: aws.String(linuxInstance),
		Tags: []types.Tag{{Key: aws.String("Patch"), Value: aws.String("tonight")}},
	})
	expectError(t, err, "InvalidResourceId")
}
