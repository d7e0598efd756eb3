package sandbox

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// arnPrefix is the start of every parameter ARN of the test server.
const arnPrefix = "arn:aws:ssm:us-east-1:123456789012:parameter/"

func TestGetParameterByARN(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/app/db/host"), Value: aws.String("db-1"), Type: types.ParameterTypeString})
	putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/app/db/host"), Value: aws.String("db-2"), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)})
	putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("flat-name"), Value: aws.String("flat"), Type: types.ParameterTypeString})
	putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/top"), Value: aws.String("top"), Type: types.ParameterTypeString})

	cases := []struct {
		name, value, selector string
		version               int64
		wantName              string
	}{
		{arnPrefix + "app/db/host", "db-2", "", 2, "/app/db/host"},
		{arnPrefix + "app/db/host:1", "db-1", ":1", 1, "/app/db/host"},
		{arnPrefix + "flat-name", "flat", "", 1, "flat-name"},
		{arnPrefix + "top", "top", "", 1, "/top"},
		{arnPrefix + "top:1", "top", ":1", 1, "/top"},
	}
	for _, c := range cases {
		out, err := ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(c.name)})
		if err != nil {
			t.Errorf("get parameter %s: %v", c.name, err)
			continue
		}
		p := out.Parameter
		if aws.ToString(p.Name) != c.wantName || aws.ToString(p.Value) != c.value || p.Version != c.version || aws.ToString(p.Selector) != c.selector {
			t.Errorf("%s read as name %q value %q version %d selector %q", c.name, aws.ToString(p.Name), aws.ToString(p.Value), p.Version, aws.ToString(p.Selector))
		}
		if want := arnPrefix + strings.TrimPrefix(c.wantName, "/"); aws.ToString(p.ARN) != want {
			t.Errorf("%s has ARN %q, want %q", c.name, aws.ToString(p.ARN), want)
		}
	}

	_, err := ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(arnPrefix + "app/db/host:9")})
	expectError(t, err, "ParameterVersionNotFound", "version 9 of /app/db/host")
	_, err = ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(arnPrefix + "app/missing")})
	expectError(t, err, "ParameterNotFound", "Parameter "+arnPrefix+"app/missing not found.")
	_, err = ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("arn:aws:ssm:us-east-1:210987654321:parameter/app/db/host")})
	expectError(t, err, "ParameterNotFound", "account 123456789012")
	_, err = ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("arn:aws:ssm:eu-west-1:123456789012:parameter/app/db/host")})
	expectError(t, err, "ParameterNotFound", "region us-east-1")
	for _, bad := range []string{"arn:aws:ssm:us-east-1:123456789012", "arn:aws:ssm:us-east-1:123456789012:document/app", "arn:aws:ssm:us-east-1:123456789012:parameter/"} {
		_, err = ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(bad)})
		expectError(t, err, "ValidationException", "arn:aws:ssm:REGION:ACCOUNT:parameter/NAME")
	}
}

func TestGetParameterARNMatchesReturnedARN(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	for _, name := range []string{"/app/db/port", "plain"} {
		putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v-" + name), Type: types.ParameterTypeString})
		byName, err := ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		if err != nil {
			t.Fatalf("get parameter %s: %v", name, err)
		}
		arn := aws.ToString(byName.Parameter.ARN)
		byARN, err := ts.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(arn)})
		if err != nil {
			t.Fatalf("get parameter by its own ARN %s: %v", arn, err)
		}
		if aws.ToString(byARN.Parameter.Name) != name || aws.ToString(byARN.Parameter.Value) != "v-"+name || aws.ToString(byARN.Parameter.ARN) != arn {
			t.Errorf("%s read as name %q value %q ARN %q", arn, aws.ToString(byARN.Parameter.Name), aws.ToString(byARN.Parameter.Value), aws.ToString(byARN.Parameter.ARN))
		}
	}
}

func TestGetParametersAndHistoryByARN(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/app/mode"), Value: aws.String("blue"), Type: types.ParameterTypeString})
	putParameter(t, ts, &ssm.PutParameterInput{Name: aws.String("/app/mode"), Value: aws.String("green"), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)})

	missing := arnPrefix + "app/none"
	out, err := ts.Client.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{arnPrefix + "app/mode", arnPrefix + "app/mode:1", missing}})
	if err != nil {
		t.Fatalf("get parameters: %v", err)
	}
	var got []string
	for _, p := range out.Parameters {
		got = append(got, aws.ToString(p.Name)+"="+aws.ToString(p.Value))
	}
	if !slices.Equal(got, []string{"/app/mode=green", "/app/mode=blue"}) {
		t.Errorf("parameters %v, want /app/mode green then blue", got)
	}
	if !slices.Equal(out.InvalidParameters, []string{missing}) {
		t.Errorf("invalid parameters %v, want the requested ARN", out.InvalidParameters)
	}

	history, err := ts.Client.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String(arnPrefix + "app/mode")})
	if err != nil {
		t.Fatalf("get parameter history by ARN: %v", err)
	}
	if len(history.Parameters) != 2 || aws.ToString(history.Parameters[0].Name) != "/app/mode" {
		t.Errorf("history %+v, want 2 versions of /app/mode", history.Parameters)
	}
	_, err = ts.Client.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String(missing)})
	expectError(t, err, "ParameterNotFound", missing)
}
