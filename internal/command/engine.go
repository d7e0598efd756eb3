// Package command is the engine that every command action shares: it sends
// a command with SendCommand, waits for its invocations with backoff, and
// reads each step's stdout and stderr in full from S3.
package command

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsssm/awsssm/internal/awsdata"
)

// Documents that run a script on an instance, by platform.
const (
	DocumentShell      = "AWS-RunShellScript"
	DocumentPowerShell = "AWS-RunPowerShellScript"
)

// Limits of the SSM API that the engine respects.
const (
	MaxCommentLength = 100     // SendCommand's Comment
	MinDeliveryTime  = 30      // SendCommand's TimeoutSeconds, in seconds
	MaxDeliveryTime  = 2592000 // SendCommand's TimeoutSeconds, in seconds
	InlineOutputMax  = 24000   // characters of output GetCommandInvocation returns
)

// Engine sends commands and collects their results. Its clients come from
// the connector; the zero values of the other fields are usable defaults.
type Engine struct {
	SSM    *ssm.Client
	S3     *s3.Client
	STS    *sts.Client
	Region string

	// Progress receives a line whenever something worth showing happens.
	Progress func(format string, args ...any)
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// PollStart and PollMax bound the wait between two polls: 100 ms and 3 s
	// when zero.
	PollStart, PollMax time.Duration
	// OutageLimit is how long a wait goes on polling while polls fail with
	// network errors or HTTP 5xx, before it gives up: 2 minutes when zero.
	// The command was sent, so a short outage should not end the run.
	OutageLimit time.Duration
	// AccountID is the caller's account, the expected owner of output
	// buckets. When empty, it is read with GetCallerIdentity on first need.
	AccountID string

	s3Regions map[string]*s3.Client // clients for buckets outside Region
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) progress(format string, args ...any) {
	if e.Progress != nil {
		e.Progress(format, args...)
	}
}

// Request is one command to send.
type Request struct {
	InstanceIDs      []string
	DocumentName     string
	DocumentVersion  string
	DocumentHash     string
	DocumentHashType types.DocumentHashType
	Parameters       map[string][]string
	Comment          string
	Bucket           string // output bucket; empty means inline output only
	KeyPrefix        string
	// DeliveryTimeout is SendCommand's TimeoutSeconds: how long SSM tries to
	// reach the instance. Zero leaves it to SSM (3600 seconds).
	DeliveryTimeout int32
}

// Sent is a command that SSM accepted.
type Sent struct {
	CommandID string
	Bucket    string
	KeyPrefix string
	// Command is SendCommand's Command as plain JSON values.
	Command map[string]any
	// ResponseMetadata describes SendCommand's HTTP response.
	ResponseMetadata map[string]any
}

// Send sends the command.
func (e *Engine) Send(ctx context.Context, req Request) (*Sent, error) {
	in := &ssm.SendCommandInput{
		DocumentName: aws.String(req.DocumentName),
		InstanceIds:  req.InstanceIDs,
		Parameters:   req.Parameters,
	}
	if req.DocumentVersion != "" {
		in.DocumentVersion = aws.String(req.DocumentVersion)
	}
	if req.DocumentHash != "" {
		in.DocumentHash = aws.String(req.DocumentHash)
		in.DocumentHashType = req.DocumentHashType
	}
	if req.Comment != "" {
		in.Comment = aws.String(req.Comment)
	}
	if req.Bucket != "" {
		in.OutputS3BucketName = aws.String(req.Bucket)
		if req.KeyPrefix != "" {
			in.OutputS3KeyPrefix = aws.String(req.KeyPrefix)
		}
	}
	if req.DeliveryTimeout > 0 {
		in.TimeoutSeconds = aws.Int32(req.DeliveryTimeout)
	}

	out, err := e.SSM.SendCommand(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("send command (%s) to %s: %w", req.DocumentName, strings.Join(req.InstanceIDs, ", "), Explain(err))
	}
	if out.Command == nil || out.Command.CommandId == nil {
		return nil, fmt.Errorf("send command (%s): SSM returned no command ID", req.DocumentName)
	}
	sent := &Sent{
		CommandID:        *out.Command.CommandId,
		Bucket:           req.Bucket,
		KeyPrefix:        req.KeyPrefix,
		Command:          awsdata.Object(out.Command),
		ResponseMetadata: awsdata.ResponseMetadata(out.ResultMetadata),
	}
	e.progress("Sent command %s (%s) to %s", sent.CommandID, req.DocumentName, strings.Join(req.InstanceIDs, ", "))
	return sent, nil
}

// Describe returns the command as ListCommands reports it now, so that the
// result shows its final status and counts rather than SendCommand's
// Pending.
func (e *Engine) Describe(ctx context.Context, commandID string) (map[string]any, error) {
	out, err := e.SSM.ListCommands(ctx, &ssm.ListCommandsInput{CommandId: aws.String(commandID)})
	if err != nil {
		return nil, fmt.Errorf("list commands %s: %w", commandID, Explain(err))
	}
	if len(out.Commands) == 0 {
		return nil, fmt.Errorf("list commands %s: SSM no longer lists the command", commandID)
	}
	return awsdata.Object(out.Commands[0]), nil
}

// Comment builds a command's comment: the SOAR container, when there is
// one, then the user's comment, cut to SSM's 100 characters. It reports
// whether it had to cut.
func Comment(user, containerID string) (comment string, cut bool) {
	comment = strings.TrimSpace(user)
	if containerID != "" {
		prefix := "SOAR container " + containerID
		if comment == "" {
			comment = prefix
		} else {
			comment = prefix + ": " + comment
		}
	}
	runes := []rune(comment)
	if len(runes) > MaxCommentLength {
		return string(runes[:MaxCommentLength]), true
	}
	return comment, false
}

// DocumentFor returns the document that runs a script on platform.
func DocumentFor(platform types.PlatformType) string {
	if platform == types.PlatformTypeWindows {
		return DocumentPowerShell
	}
	return DocumentShell
}
