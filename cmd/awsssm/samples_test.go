package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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

// sampleSetup prepares the sandbox for the sample input of an action that
// reads something that must exist first.
var sampleSetup = map[string]func(t *testing.T, sb *sandboxtest.Sandbox){
	"list_commands": func(t *testing.T, sb *sandboxtest.Sandbox) {
		sb.Server.SetInvocationDelay(0)
		sendVariedCommands(t, sb)
	},
	"get_parameter": func(t *testing.T, sb *sandboxtest.Sandbox) {
		client := ssm.NewFromConfig(sb.Config())
		_, err := client.PutParameter(context.Background(), &ssm.PutParameterInput{
			Name:  aws.String("/soar/sample/api-url"),
			Value: aws.String("https://soar.example/api"),
			Type:  ssmtypes.ParameterTypeString,
		})
		require.NoError(t, err)
	},
}

// sampleInput reads testdata/actions/<identifier>.json: the parameter sets
// that the action's sample run uses.
func sampleInput(t *testing.T, identifier string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "actions", identifier+".json"))
	require.NoError(t, err, "every action needs a sample input in testdata/actions")
	var sample struct {
		Parameters []map[string]any `json:"parameters"`
	}
	require.NoError(t, json.Unmarshal(data, &sample))
	return sample.Parameters
}

func TestSampleInputsSucceed(t *testing.T) {
	manifest, err := connector.ParseManifest(awsssm.AppJSON)
	require.NoError(t, err)

	for _, action := range manifest.Actions {
		t.Run(action.Identifier, func(t *testing.T) {
			sb := sandboxtest.Start(t)
			if setup, ok := sampleSetup[action.Identifier]; ok {
				setup(t, sb)
			}
			run := runAction(t, sb, action.Identifier, testAsset(sb), sampleInput(t, action.Identifier)...)
			assert.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
			assert.Equal(t, connector.StatusSuccess, run.out.Status, run.out.Message)
		})
	}
}
