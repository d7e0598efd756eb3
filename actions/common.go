package actions

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/awsssm/awsssm/internal/awsconfig"
	"github.com/awsssm/awsssm/internal/awsdata"
	"github.com/awsssm/awsssm/internal/command"
	"github.com/awsssm/awsssm/internal/connector"
)

// maxTextBytes is the maximum of one output stream that a result carries
// as text. SOAR platforms store each action result whole, so bigger output
// is cut, marked truncated and reported in a warning. The S3 object, and
// the vault copy when one is requested, keep it whole. A result contains
// each stream twice at most (File.output and the step).
const maxTextBytes = 4 << 20

// instanceIDPattern matches EC2 instance IDs (i-) and on-premises managed
// instance IDs (mi-).
var instanceIDPattern = regexp.MustCompile(`^(i-[0-9a-f]{8}|i-[0-9a-f]{17}|mi-[0-9a-f]{17})$`)

func checkInstanceID(id string) error {
	if !instanceIDPattern.MatchString(id) {
		return fmt.Errorf("invalid parameter \"instance_id\": %q is not an instance ID; expected i- followed by 8 or 17 hex digits (EC2) or mi- followed by 17 (on-premises)", id)
	}
	return nil
}

// checkRange rejects a numeric parameter outside [low, high].
func checkRange(name string, value, low, high int64, unit string) error {
	if value < low || value > high {
		return fmt.Errorf("invalid parameter %q: %d is out of range; expected %d to %d %s", name, value, low, high, unit)
	}
	return nil
}

func newEngine(env *connector.Env) *command.Engine {
	return &command.Engine{
		SSM:      env.AWS.SSM,
		S3:       env.AWS.S3,
		STS:      env.AWS.STS,
		Region:   env.AWS.Region,
		Progress: env.Progress,
		Now:      env.Now,
	}
}

// resolvePlatform returns the platform parameter when given, else the
// instance's own platform from SSM. Either way it checks that SSM manages
// the instance, so a wrong ID fails with advice before a command is sent.
func resolvePlatform(ctx context.Context, env *connector.Env, instanceID, given string) (types.PlatformType, error) {
	info, err := lookupInstance(ctx, env, instanceID)
	if err != nil {
		return "", err
	}
	if err := checkReachable(env, instanceID, info); err != nil {
		return "", err
	}
	if given != "" {
		return types.PlatformType(given), nil
	}
	env.Progress("Instance %s runs %s (%s)", instanceID, info.PlatformType, aws.ToString(info.PlatformName))
	return info.PlatformType, nil
}

// lookupInstance returns SSM's information about a managed instance, or an
// error that explains how an instance becomes managed.
func lookupInstance(ctx context.Context, env *connector.Env, instanceID string) (*types.InstanceInformation, error) {
	info, _, err := describeManagedInstance(ctx, env, instanceID)
	switch {
	case command.ErrorCode(err) == "InvalidInstanceId":
		return nil, notManagedError(env, instanceID)
	case err != nil:
		return nil, fmt.Errorf("describe instance information for %s in %s: %w", instanceID, env.AWS.Region, command.Explain(err))
	case info == nil:
		return nil, notManagedError(env, instanceID)
	}
	return info, nil
}

func notManagedError(env *connector.Env, instanceID string) error {
	return fmt.Errorf("instance %s is not a managed instance in %s. %s", instanceID, env.AWS.Region, managedInstanceAdvice)
}

// outputBucket chooses the bucket for command output and makes sure it
// exists: the action's parameter, else the asset's default.
func outputBucket(ctx context.Context, env *connector.Env, engine *command.Engine, param string) (string, error) {
	bucket := strings.TrimSpace(param)
	if bucket == "" {
		bucket = env.DefaultS3Bucket
	}
	if bucket == "" {
		return "", nil
	}
	if err := awsconfig.CheckBucketName(bucket); err != nil {
		return "", fmt.Errorf("invalid parameter \"output_s3_bucket_name\": %v", err)
	}
	if err := engine.EnsureBucket(ctx, bucket); err != nil {
		return "", err
	}
	return bucket, nil
}

// commandComment builds the command's comment and warns when SSM's
// 100-character limit cut it.
func commandComment(env *connector.Env, user string) string {
	comment, cut := command.Comment(user, env.ContainerID)
	switch {
	case cut && env.ContainerID != "":
		env.Warn("the comment with its prefix \"SOAR container %s: \" is longer than SSM's %d characters, so it was cut to: %s", env.ContainerID, command.MaxCommentLength, comment)
	case cut:
		env.Warn("the comment is longer than SSM's %d characters, so it was cut to: %s", command.MaxCommentLength, comment)
	}
	return comment
}

// checkAbsolutePath rejects a path that is not absolute on the instance's
// platform: /… on Linux and macOS; C:\… or \\server\share on Windows.
// SSM would resolve a relative path against the agent's own directory.
func checkAbsolutePath(parameter, path string, platform types.PlatformType) error {
	if platform == types.PlatformTypeWindows {
		if windowsAbsolutePath.MatchString(path) {
			return nil
		}
		return fmt.Errorf("invalid parameter %q: %s is not an absolute Windows path; expected one such as C:\\Users\\x\\file.txt", parameter, displayText(path))
	}
	if strings.HasPrefix(path, "/") {
		return nil
	}
	return fmt.Errorf("invalid parameter %q: %s is not an absolute path; expected one that starts with /", parameter, displayText(path))
}

// windowsAbsolutePath matches a drive path (C:\ or C:/) or a UNC path.
var windowsAbsolutePath = regexp.MustCompile(`^([A-Za-z]:[\\/]|\\\\[^\\]+\\)`)

// displayText shortens a value for a message, keeping its start and end,
// so that a huge parameter does not fill the result and the logs.
func displayText(s string) string {
	const head, tail = 120, 60
	if len(s) <= head+tail+20 {
		return strconv.Quote(s)
	}
	return strconv.Quote(strings.ToValidUTF8(s[:head], "")) + "…" + strconv.Quote(strings.ToValidUTF8(s[len(s)-tail:], "")) +
		fmt.Sprintf(" (%d bytes)", len(s))
}

// warnNoBucket warns that without an output bucket SSM cuts the output.
func warnNoBucket(env *connector.Env) {
	env.Warn("no S3 bucket is set, so output over %d characters is cut by SSM; set default_s3_bucket or output_s3_bucket_name for full output", command.InlineOutputMax)
}

// waitDuration converts wait_seconds into a duration.
func waitDuration(seconds int64) time.Duration {
	return time.Duration(seconds) * time.Second
}

// invocationData renders an invocation and its steps' output for the
// result's Invocations list.
func invocationData(inv command.Invocation, outputs []stepOutput) map[string]any {
	m := map[string]any{
		"InstanceId":    inv.InstanceID,
		"Status":        inv.Status,
		"StatusDetails": inv.StatusDetails,
		"ResponseCode":  inv.ResponseCode(),
	}
	if !inv.Start.IsZero() {
		m["ExecutionStartDateTime"] = awsdata.FormatTime(inv.Start)
	}
	if !inv.End.IsZero() {
		m["ExecutionEndDateTime"] = awsdata.FormatTime(inv.End)
	}
	steps := make([]any, 0, len(outputs))
	for _, o := range outputs {
		steps = append(steps, map[string]any{
			"Name":                    o.step.Name,
			"Status":                  o.step.Status,
			"StatusDetails":           o.step.StatusDetails,
			"ResponseCode":            o.step.ResponseCode,
			"StandardOutputContent":   o.stdout.Text,
			"StandardErrorContent":    o.stderr.Text,
			"StandardOutputSize":      o.stdout.Size,
			"StandardErrorSize":       o.stderr.Size,
			"StandardOutputS3Key":     o.stdout.S3Key,
			"StandardErrorS3Key":      o.stderr.S3Key,
			"StandardOutputTruncated": o.stdout.Truncated,
			"StandardErrorTruncated":  o.stderr.Truncated,
		})
	}
	m["Steps"] = steps
	return m
}

// stepOutput is one step with both its streams read.
type stepOutput struct {
	step           command.Step
	stdout, stderr command.StreamText
}

// failureMessage describes which instance failed, how, and how its stderr
// ends.
func failureMessage(commandID string, inv command.Invocation, outputs []stepOutput) string {
	msg := fmt.Sprintf("command %s on %s ended with status %s", commandID, inv.InstanceID, inv.Status)
	if inv.StatusDetails != "" && inv.StatusDetails != inv.Status {
		msg += " (" + inv.StatusDetails + ")"
	}
	if code := inv.ResponseCode(); code != 0 {
		msg += fmt.Sprintf(", exit code %d", code)
	}
	for _, o := range outputs {
		if tail := lastLines(o.stderr.Text, 5, 500); tail != "" {
			msg += "; stderr ends with: " + tail
			// SSM Agent's words for a working directory that does not exist
			// read as if the shell were missing.
			if strings.Contains(tail, "fork/exec") && strings.Contains(tail, "no such file or directory") {
				msg += " (SSM Agent reports this when working_directory does not exist on the instance)"
			}
			break
		}
	}
	return msg
}

// lastLines returns the last n lines of s, at most max bytes, joined by " | ".
func lastLines(s string, n, max int) string {
	lines := strings.Split(strings.TrimRight(s, "\r\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	tail := strings.TrimSpace(strings.Join(lines, " | "))
	if len(tail) > max {
		tail = "…" + strings.ToValidUTF8(tail[len(tail)-max:], "")
	}
	return tail
}

// isWaitTimeout reports whether err is the engine's wait running out.
func isWaitTimeout(err error) bool {
	var timeout *command.WaitTimeoutError
	return errors.As(err, &timeout)
}

// sentSummary is the summary of a command that was sent but whose wait
// stopped early, so that a playbook can follow it with list commands.
func sentSummary(commandID string) connector.Summary {
	summary := connector.Summary{}
	summary.Set("status", "Command sent, no result yet")
	summary.Set("command_id", commandID)
	return summary
}

// checkReachable fails for an Inactive instance, to which SendCommand
// sends nothing, and warns for one whose agent lost its connection, where
// the command waits until the agent is back or the delivery timeout ends.
func checkReachable(env *connector.Env, instanceID string, info *types.InstanceInformation) error {
	switch info.PingStatus {
	case types.PingStatusOnline:
	case types.PingStatusInactive:
		return fmt.Errorf("instance %s has SSM ping status Inactive, so SSM sends it no commands; check that the instance is running and that its SSM Agent is registered", instanceID)
	default:
		env.Warn("instance %s has SSM ping status %s; the command waits for it until the delivery timeout", instanceID, info.PingStatus)
	}
	return nil
}
