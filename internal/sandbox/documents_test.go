package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func TestDescribeRunShellScriptDocument(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	out, err := ts.Client.DescribeDocument(ctx, &ssm.DescribeDocumentInput{Name: aws.String("AWS-RunShellScript")})
	if err != nil {
		t.Fatalf("describe document: %v", err)
	}
	doc := out.Document
	content, err := ts.Client.GetDocument(ctx, &ssm.GetDocumentInput{Name: aws.String("AWS-RunShellScript")})
	if err != nil {
		t.Fatalf("get document: %v", err)
	}
	sum := sha256.Sum256([]byte(aws.ToString(content.Content)))
	if got := aws.ToString(doc.Hash); got != hex.EncodeToString(sum[:]) {
		t.Errorf("Hash %s is not the SHA-256 of the content", got)
	}
	if doc.HashType != types.DocumentHashTypeSha256 || aws.ToString(doc.Owner) != "Amazon" || doc.Status != types.DocumentStatusActive {
		t.Errorf("HashType %s Owner %q Status %s", doc.HashType, aws.ToString(doc.Owner), doc.Status)
	}
	if aws.ToString(doc.SchemaVersion) != "1.2" || doc.DocumentType != types.DocumentTypeCommand || doc.DocumentFormat != types.DocumentFormatJson {
		t.Errorf("schema %q type %s format %s", aws.ToString(doc.SchemaVersion), doc.DocumentType, doc.DocumentFormat)
	}
	if aws.ToString(doc.DocumentVersion) != "1" || aws.ToString(doc.LatestVersion) != "1" || aws.ToString(doc.DefaultVersion) != "1" {
		t.Errorf("versions %q %q %q", aws.ToString(doc.DocumentVersion), aws.ToString(doc.LatestVersion), aws.ToString(doc.DefaultVersion))
	}
	if !slices.Equal(doc.PlatformTypes, []types.PlatformType{types.PlatformTypeLinux, types.PlatformTypeMacos}) {
		t.Errorf("PlatformTypes %v", doc.PlatformTypes)
	}
	if doc.CreatedDate == nil || aws.ToString(doc.Description) == "" {
		t.Error("CreatedDate or Description is missing")
	}

	want := []struct {
		name, kind string
		def        *string
	}{
		{"commands", "StringList", nil},
		{"workingDirectory", "String", aws.String("")},
		{"executionTimeout", "String", aws.String("3600")},
	}
	if len(doc.Parameters) != len(want) {
		t.Fatalf("%d parameters, want %d", len(doc.Parameters), len(want))
	}
	for i, w := range want {
		p := doc.Parameters[i]
		if aws.ToString(p.Name) != w.name || string(p.Type) != w.kind {
			t.Errorf("parameter %d is %s %s, want %s %s", i, aws.ToString(p.Name), p.Type, w.name, w.kind)
		}
		if (p.DefaultValue == nil) != (w.def == nil) || (w.def != nil && *p.DefaultValue != *w.def) {
			t.Errorf("parameter %s default %v, want %v", w.name, p.DefaultValue, w.def)
		}
	}

	ps, err := ts.Client.DescribeDocument(ctx, &ssm.DescribeDocumentInput{Name: aws.String("AWS-RunPowerShellScript")})
	if err != nil {
		t.Fatalf("describe AWS-RunPowerShellScript: %v", err)
	}
	if !slices.Contains(ps.Document.PlatformTypes, types.PlatformTypeWindows) {
		t.Errorf("AWS-RunPowerShellScript platforms %v lack Windows", ps.Document.PlatformTypes)
	}
}

func TestDocumentVersionsDiffer(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	describe := func(version string) *types.DocumentDescription {
		in := &ssm.DescribeDocumentInput{Name: aws.String("Sandbox-VersionedGreeting")}
		if version != "" {
			in.DocumentVersion = aws.String(version)
		}
		out, err := ts.Client.DescribeDocument(ctx, in)
		if err != nil {
			t.Fatalf("describe version %q: %v", version, err)
		}
		return out.Document
	}
	def, latest, two := describe(""), describe("$LATEST"), describe("2")
	if aws.ToString(def.DocumentVersion) != "1" || aws.ToString(def.DefaultVersion) != "1" || aws.ToString(def.LatestVersion) != "2" {
		t.Errorf("default describes version %q, default %q, latest %q", aws.ToString(def.DocumentVersion), aws.ToString(def.DefaultVersion), aws.ToString(def.LatestVersion))
	}
	if aws.ToString(latest.DocumentVersion) != "2" || aws.ToString(latest.Hash) != aws.ToString(two.Hash) {
		t.Errorf("$LATEST describes version %q", aws.ToString(latest.DocumentVersion))
	}
	if aws.ToString(def.Hash) == aws.ToString(two.Hash) {
		t.Error("both versions have the same hash")
	}

	got, err := ts.Client.GetDocument(ctx, &ssm.GetDocumentInput{Name: aws.String("Sandbox-VersionedGreeting"), DocumentVersion: aws.String("2")})
	if err != nil {
		t.Fatalf("get document: %v", err)
	}
	var content map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(got.Content)), &content); err != nil {
		t.Fatalf("content is not JSON: %v", err)
	}
	if content["description"] != "Greets from version two." {
		t.Errorf("version 2 content describes %q", content["description"])
	}

	versions, err := ts.Client.ListDocumentVersions(ctx, &ssm.ListDocumentVersionsInput{Name: aws.String("Sandbox-VersionedGreeting")})
	if err != nil {
		t.Fatalf("list document versions: %v", err)
	}
	if len(versions.DocumentVersions) != 2 || !versions.DocumentVersions[0].IsDefaultVersion || versions.DocumentVersions[1].IsDefaultVersion {
		t.Errorf("versions %+v, want 2 with the first as default", versions.DocumentVersions)
	}
}

func TestDescribeDocumentErrors(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	_, err := ts.Client.DescribeDocument(ctx, &ssm.DescribeDocumentInput{Name: aws.String("No-Such-Document")})
	expectError(t, err, "InvalidDocument", "No-Such-Document")
	_, err = ts.Client.DescribeDocument(ctx, &ssm.DescribeDocumentInput{Name: aws.String("AWS-RunShellScript"), DocumentVersion: aws.String("2")})
	expectError(t, err, "InvalidDocumentVersion")
	_, err = ts.Client.GetDocument(ctx, &ssm.GetDocumentInput{Name: aws.String("AWS-RunShellScript"), DocumentVersion: aws.String("latest")})
	expectError(t, err, "ValidationException")
}

func TestDescribeDocumentByARN(t *testing.T) {
	ts := newSSMTestServer(t)
	out, err := ts.Client.DescribeDocument(context.Background(), &ssm.DescribeDocumentInput{Name: aws.String("arn:aws:ssm:us-east-1:123456789012:document/Sandbox-TwoStepReport")})
	if err != nil {
		t.Fatalf("describe by ARN: %v", err)
	}
	doc := out.Document
	if aws.ToString(doc.Name) != "Sandbox-TwoStepReport" || aws.ToString(doc.Owner) != DefaultAccountID || aws.ToString(doc.TargetType) != "/AWS::EC2::Instance" {
		t.Errorf("name %q owner %q target type %q", aws.ToString(doc.Name), aws.ToString(doc.Owner), aws.ToString(doc.TargetType))
	}
	if len(doc.Tags) != 1 || aws.ToString(doc.Tags[0].Key) != "Team" {
		t.Errorf("tags %v", doc.Tags)
	}
	if def := doc.Parameters[2].DefaultValue; aws.ToString(def) != `["true"]` {
		t.Errorf("StringList default %q, want the JSON list", aws.ToString(def))
	}
}

// listDocumentNames returns the names on every page of a ListDocuments request.
func listDocumentNames(t *testing.T, ts *ssmTestServer, in *ssm.ListDocumentsInput) []string {
	t.Helper()
	var names []string
	paginator := ssm.NewListDocumentsPaginator(ts.Client, in)
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list documents: %v", err)
		}
		for _, d := range page.DocumentIdentifiers {
			names = append(names, aws.ToString(d.Name))
		}
	}
	return names
}

func TestListDocumentsFilters(t *testing.T) {
	ts := newSSMTestServer(t)
	kv := func(key string, values ...string) *ssm.ListDocumentsInput {
		return &ssm.ListDocumentsInput{Filters: []types.DocumentKeyValuesFilter{{Key: aws.String(key), Values: values}}}
	}
	cases := []struct {
		name string
		in   *ssm.ListDocumentsInput
		want []string
	}{
		{"owner Amazon", kv("Owner", "Amazon"), []string{"AWS-RunPowerShellScript", "AWS-RunShellScript"}},
		{"owner third party", kv("Owner", "ThirdParty"), []string{"Partner-CollectLogs"}},
		{"automation", kv("DocumentType", "Automation"), []string{"Sandbox-RestartService"}},
		{"session", kv("DocumentType", "Session"), []string{"Sandbox-PortForwarding"}},
		{"policy", kv("DocumentType", "Policy"), []string{"Sandbox-InventoryPolicy"}},
		{"name prefix", kv("Name", "Sandbox-V"), []string{"Sandbox-VersionedGreeting"}},
		{"keyword in description", kv("SearchKeyword", "repeats"), []string{"Sandbox-TwoStepReport"}},
		{"tag", kv("tag:Team", "secops"), []string{"Sandbox-TwoStepReport"}},
		{"old filter list", &ssm.ListDocumentsInput{DocumentFilterList: []types.DocumentFilter{
			{Key: types.DocumentFilterKeyOwner, Value: aws.String("Amazon")},
			{Key: types.DocumentFilterKeyPlatformTypes, Value: aws.String("Windows")},
		}}, []string{"AWS-RunPowerShellScript"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := listDocumentNames(t, ts, c.in); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}

	all := listDocumentNames(t, ts, &ssm.ListDocumentsInput{})
	if len(all) != 10 || !sort.StringsAreSorted(all) {
		t.Errorf("all documents %v, want 10 sorted by name", all)
	}
	self := listDocumentNames(t, ts, kv("Owner", "Self"))
	if len(self) != 7 {
		t.Errorf("own documents %v, want 7", self)
	}
	windows := listDocumentNames(t, ts, kv("PlatformTypes", "Windows"))
	if slices.Contains(windows, "AWS-RunShellScript") || !slices.Contains(windows, "AWS-RunPowerShellScript") {
		t.Errorf("Windows documents %v", windows)
	}
}

func TestListDocumentsIdentifierFields(t *testing.T) {
	ts := newSSMTestServer(t)
	out, err := ts.Client.ListDocuments(context.Background(), &ssm.ListDocumentsInput{
		Filters: []types.DocumentKeyValuesFilter{{Key: aws.String("Name"), Values: []string{"Sandbox-VersionedGreeting"}}},
	})
	if err != nil {
		t.Fatalf("list documents: %v", err)
	}
	if len(out.DocumentIdentifiers) != 1 {
		t.Fatalf("%d documents, want 1", len(out.DocumentIdentifiers))
	}
	d := out.DocumentIdentifiers[0]
	if aws.ToString(d.DocumentVersion) != "1" || aws.ToString(d.SchemaVersion) != "2.2" || d.DocumentType != types.DocumentTypeCommand {
		t.Errorf("version %q schema %q type %s", aws.ToString(d.DocumentVersion), aws.ToString(d.SchemaVersion), d.DocumentType)
	}
	if aws.ToString(d.Owner) != DefaultAccountID || d.DocumentFormat != types.DocumentFormatJson || aws.ToString(d.TargetType) != "/AWS::EC2::Instance" || d.CreatedDate == nil {
		t.Errorf("owner %q format %s target %q created %v", aws.ToString(d.Owner), d.DocumentFormat, aws.ToString(d.TargetType), d.CreatedDate)
	}
	if !slices.Equal(d.PlatformTypes, []types.PlatformType{types.PlatformTypeLinux, types.PlatformTypeMacos}) || d.Tags == nil {
		t.Errorf("platforms %v tags %v", d.PlatformTypes, d.Tags)
	}
}

func TestListDocumentsRejectsBadFilters(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	_, err := ts.Client.ListDocuments(ctx, &ssm.ListDocumentsInput{
		DocumentFilterList: []types.DocumentFilter{{Key: types.DocumentFilterKeyName, Value: aws.String("AWS")}},
		Filters:            []types.DocumentKeyValuesFilter{{Key: aws.String("Owner"), Values: []string{"Amazon"}}},
	})
	expectError(t, err, "ValidationException")
	_, err = ts.Client.ListDocuments(ctx, &ssm.ListDocumentsInput{Filters: []types.DocumentKeyValuesFilter{{Key: aws.String("Colour"), Values: []string{"red"}}}})
	expectError(t, err, "InvalidFilterKey")
	_, err = ts.Client.ListDocuments(ctx, &ssm.ListDocumentsInput{Filters: []types.DocumentKeyValuesFilter{{Key: aws.String("Owner"), Values: []string{"Someone"}}}})
	expectError(t, err, "InvalidFilterValue")
}

func TestSubstituteInputsExpandsLists(t *testing.T) {
	inputs := map[string]any{
		"runCommand":       []any{"echo {{ greeting }}, {{name}}", "{{ commands }}", "done"},
		"workingDirectory": "{{ dir }}",
		"whole":            "{{ commands }}",
	}
	params := map[string][]string{"greeting": {"hello"}, "name": {"you"}, "commands": {"a", "b"}, "dir": {"/srv"}}
	lists := map[string]bool{"commands": true}
	got := substituteInputs(inputs, params, lists)

	wantRun := []any{"echo hello, you", "a", "b", "done"}
	if !slices.Equal(got["runCommand"].([]any), wantRun) {
		t.Errorf("runCommand %v, want %v", got["runCommand"], wantRun)
	}
	if got["workingDirectory"] != "/srv" {
		t.Errorf("workingDirectory %v", got["workingDirectory"])
	}
	if whole, ok := got["whole"].([]any); !ok || len(whole) != 2 {
		t.Errorf("a whole-string list reference became %v, want the list", got["whole"])
	}
	if lines := runCommandLines(got["whole"]); !slices.Equal(lines, []string{"a", "b"}) {
		t.Errorf("runCommandLines %v", lines)
	}
}

func TestDocumentStepNamesStayInDirectory(t *testing.T) {
	for _, content := range []string{
		`{"schemaVersion":"2.2","mainSteps":[{"action":"aws:runShellScript","name":"..","inputs":{"runCommand":["true"]}}]}`,
		`{"schemaVersion":"2.2","mainSteps":[{"action":"aws:runShellScript","name":"a/b","inputs":{"runCommand":["true"]}}]}`,
		`{"schemaVersion":"1.2","runtimeConfig":{"aws:runShellScript":{"properties":[{"id":"../../x","runCommand":["true"]}]}}}`,
	} {
		if _, err := parseDocumentVersion("1", content, "Command", builtinCreated); err == nil {
			t.Errorf("accepted a step that leaves its directory: %s", content)
		}
	}
}
