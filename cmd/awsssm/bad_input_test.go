package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm/internal/connector"
)

// badInput is one file of testdata/bad: an input and the exit status and
// message it must give.
type badInput struct {
	Args    []string `json:"args"`
	Stdin   string   `json:"stdin"`
	Exit    int      `json:"exit"`
	Message string   `json:"message"`
}

func TestBadInputsGiveClearErrors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "bad", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)

	// Any request that got through by mistake would go to a closed port on
	// loopback, never to AWS.
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:9")

	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			var c badInput
			require.NoError(t, json.Unmarshal(data, &c))

			run := runBinary(t, nil, []byte(c.Stdin), c.Args...)
			assert.Equal(t, c.Exit, run.code, "exit status; stdout: %s", run.stdout)
			assert.Equal(t, connector.StatusFailed, run.out.Status)
			message := run.out.Message
			if len(run.out.ResultData) == 1 {
				message = run.out.ResultData[0].Message
			}
			assert.Contains(t, message, c.Message)
			assert.NotContains(t, run.stderr, "panic")
			assert.NotContains(t, run.stderr, "goroutine")
		})
	}
}
