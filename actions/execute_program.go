package actions

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/awsssm/awsssm/internal/command"
	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/quote"
	"github.com/awsssm/awsssm/internal/vault"
)

type executeProgramParams struct {
	InstanceID         string `json:"instance_id"`
	PlatformType       string `json:"platform_type"`
	Command            string `json:"command"`
	WorkingDirectory   string `json:"working_directory"`
	TimeoutSeconds     int64  `json:"timeout_seconds"`
	Comment            string `json:"comment"`
	OutputS3BucketName string `json:"output_s3_bucket_name"`
	SaveOutputToVault  bool   `json:"save_output_to_vault"`
	ExecutionTimeout   int64  `json:"execution_timeout"`
	WaitSeconds        int64  `json:"wait_seconds"`
}

// Limits of the parameters, in seconds. executionTimeout's maximum is the
// one AWS-RunShellScript declares (172800, two days); SSM Agent replaces a
// value under 5 with its default of 3600, so smaller values are rejected.
const (
	minExecutionTimeout = 5
	maxExecutionTimeout = 172800
	maxWaitSeconds      = 86400
)

func (p *executeProgramParams) check() error {
	if err := checkInstanceID(p.InstanceID); err != nil {
		return err
	}
	if p.WorkingDirectory != "" {
		if err := quote.CheckPath(p.WorkingDirectory); err != nil {
			return fmt.Errorf("invalid parameter \"working_directory\": %v", err)
		}
	}
	if p.TimeoutSeconds != 0 {
		if err := checkRange("timeout_seconds", p.TimeoutSeconds, command.MinDeliveryTime, command.MaxDeliveryTime, "seconds"); err != nil {
			return err
		}
	}
	if err := checkRange("execution_timeout", p.ExecutionTimeout, minExecutionTimeout, maxExecutionTimeout, "seconds"); err != nil {
		return err
	}
	return checkRange("wait_seconds", p.WaitSeconds, 1, maxWaitSeconds, "seconds")
}

// executeProgram runs one command on one instance and waits for it.
func executeProgram(ctx context.Context, env *connector.Env, p executeProgramParams) (*connector.Outcome, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if p.SaveOutputToVault {
		if err := env.Vault.Check(); err != nil {
			return nil, err
		}
	}
	engine := newEngine(env)

	platform, err := resolvePlatform(ctx, env, p.InstanceID, p.PlatformType)
	if err != nil {
		return nil, err
	}
	if p.WorkingDirectory != "" {
		if err := checkAbsolutePath("working_directory", p.WorkingDirectory, platform); err != nil {
			return nil, err
		}
	}
	bucket, err := outputBucket(ctx, env, engine, p.OutputS3BucketName)
	if err != nil {
		return nil, err
	}
	if bucket == "" {
		warnNoBucket(env)
	}

	// The command goes to the shell as written: running it is the point
	// of this action. Only the working directory is checked above.
	parameters := map[string][]string{
		"commands":         {p.Command},
		"executionTimeout": {strconv.FormatInt(p.ExecutionTimeout, 10)},
	}
	if p.WorkingDirectory != "" {
		parameters["workingDirectory"] = []string{p.WorkingDirectory}
	}
	sent, err := engine.Send(ctx, command.Request{
		InstanceIDs:     []string{p.InstanceID},
		DocumentName:    command.DocumentFor(platform),
		Parameters:      parameters,
		Comment:         commandComment(env, p.Comment),
		Bucket:          bucket,
		DeliveryTimeout: int32(p.TimeoutSeconds),
	})
	if err != nil {
		return nil, err
	}

	invocations, waitErr := engine.Wait(ctx, sent, []string{p.InstanceID}, waitDuration(p.WaitSeconds))
	data := map[string]any{
		"Command":          sent.Command,
		"ResponseMetadata": sent.ResponseMetadata,
	}
	summary := connector.Summary{}
	outcome := &connector.Outcome{Data: []any{data}}
	if waitErr != nil && !isWaitTimeout(waitErr) {
		// The command was sent and may still run: a playbook needs its ID
		// to follow it.
		outcome.Summary = sentSummary(sent.CommandID)
		return outcome, waitErr
	}

	if final, err := engine.Describe(ctx, sent.CommandID); err == nil {
		data["Command"] = final
	} else {
		env.Warn("%v; the result shows the command as SendCommand returned it", err)
	}

	if len(invocations) == 0 {
		summary.Set("status", "Command sent, no result yet")
		summary.Set("command_id", sent.CommandID)
		outcome.Summary = summary
		if waitErr != nil {
			return outcome, waitErr
		}
		return outcome, fmt.Errorf("command %s: SSM lists no invocation on %s", sent.CommandID, p.InstanceID)
	}
	inv := invocations[0]

	// Read every step's output; keep the first step's for the File paths
	// that playbooks of the earlier app read.
	file := map[string]any{}
	var outputs []stepOutput
	option := vaultOff
	if p.SaveOutputToVault {
		option = vaultOn
	}
	for i, step := range inv.Steps {
		out, records, err := readStep(ctx, env, engine, sent.CommandID, inv, step, option)
		if err != nil {
			// The command ran, so report that with what is known of its result.
			summary.Set("status", "Command ran, output not read")
			summary.Set("command_id", sent.CommandID)
			summary.Set("exit_code", inv.ResponseCode())
			outcome.Summary = reorder(summary)
			return outcome, fmt.Errorf("command %s ran on %s with status %s and exit code %d, but its output could not be read: %w",
				sent.CommandID, p.InstanceID, inv.Status, inv.ResponseCode(), err)
		}
		outputs = append(outputs, out)
		if i == 0 {
			file["output"] = out.stdout.Text
			if out.stdout.S3Key != "" {
				file["s3_object_key"] = out.stdout.S3Key
			}
			if r, ok := records[command.Stdout]; ok {
				file["filename"], file["vault_id"] = r.FileName, r.VaultID
				summary.Set("created_vault_id", r.VaultID)
			}
			if r, ok := records[command.Stderr]; ok {
				file["stderr_filename"], file["stderr_vault_id"] = r.FileName, r.VaultID
			}
		}
	}
	data["File"] = file
	data["Invocations"] = []any{invocationData(inv, outputs)}

	summary.Set("command_id", sent.CommandID)
	summary.Set("exit_code", inv.ResponseCode())
	if waitErr != nil {
		summary.Set("status", "Command still running")
		outcome.Summary = reorder(summary)
		return outcome, waitErr
	}
	if !inv.Succeeded() {
		summary.Set("status", "Command failed")
		outcome.Summary = reorder(summary)
		return outcome, fmt.Errorf("%s", failureMessage(sent.CommandID, inv, outputs))
	}
	summary.Set("status", "Successfully executed program")
	outcome.Summary = reorder(summary)
	return outcome, nil
}

// reorder puts "status" first, as the result's message starts with it.
func reorder(s connector.Summary) connector.Summary {
	out := connector.Summary{}
	if v, ok := s.Get("status"); ok {
		out.Set("status", v)
	}
	for _, f := range s {
		if f.Key != "status" {
			out.Set(f.Key, f.Value)
		}
	}
	return out
}

// vaultOption is what an action offers for storing command output in the
// vault, which decides the advice of a truncation warning.
type vaultOption int

const (
	noVaultOption vaultOption = iota // the action has no save_output_to_vault
	vaultOff                         // save_output_to_vault is false
	vaultOn                          // save_output_to_vault is true
)

// warnTruncated warns where the whole stream is when the result contains
// only part of it.
func warnTruncated(env *connector.Env, instanceID string, step command.Step, stream string, text command.StreamText, option vaultOption) {
	var also string
	switch option {
	case vaultOff:
		also = " (save_output_to_vault would store it whole too)"
	case vaultOn:
		also = ", and so does the vault copy"
	}
	switch {
	case !text.Truncated:
	case text.S3Key != "":
		env.Warn("the %s of %s on %s is %d bytes; the result holds the first %d, and s3://%s/%s holds it whole%s",
			stream, step.Name, instanceID, text.Size, maxTextBytes, step.Bucket, text.S3Key, also)
	case option == vaultOn:
		env.Warn("SSM cut the %s of %s on %s at 24,000 characters, so the vault has no copy of it; set an S3 bucket for the whole output", stream, step.Name, instanceID)
	default:
		env.Warn("SSM cut the %s of %s on %s at 24,000 characters; set an S3 bucket for the whole output", stream, step.Name, instanceID)
	}
}

// readStep reads both streams of a step, storing each in the vault when
// the option is on. Empty streams are not stored.
func readStep(ctx context.Context, env *connector.Env, engine *command.Engine, commandID string, inv command.Invocation, step command.Step, option vaultOption) (stepOutput, map[string]vault.Record, error) {
	save := option == vaultOn
	out := stepOutput{step: step}
	records := map[string]vault.Record{}

	for _, stream := range []string{command.Stdout, command.Stderr} {
		var w *vault.Writer
		if save {
			name := fmt.Sprintf("%s-%s-%s.txt", commandID, inv.InstanceID, stream)
			if len(inv.Steps) > 1 {
				name = fmt.Sprintf("%s-%s-%s-%s.txt", commandID, inv.InstanceID, strings.ReplaceAll(step.Name, ":", ""), stream)
			}
			var err error
			if w, err = env.Vault.Create(name); err != nil {
				return out, records, err
			}
		}

		// A nil *vault.Writer must not become a non-nil io.Writer.
		var sink io.Writer
		if w != nil {
			sink = w
		}
		text, err := engine.ReadStream(ctx, commandID, inv, step, stream, maxTextBytes, sink)
		if err != nil {
			if w != nil {
				w.Abort()
			}
			return out, records, err
		}
		if stream == command.Stdout {
			out.stdout = text
		} else {
			out.stderr = text
		}
		warnTruncated(env, inv.InstanceID, step, stream, text, option)

		if w == nil {
			continue
		}
		// The vault contains whole files only, so an empty stream is not
		// stored, and neither is a stream that SSM cut.
		if w.Size() == 0 || (text.Truncated && text.S3Key == "") {
			w.Abort()
			continue
		}
		rec, err := w.Commit()
		if err != nil {
			return out, records, err
		}
		env.Progress("Stored %s of %s in the vault: %s (%d bytes)", stream, inv.InstanceID, rec.VaultID, rec.Size)
		records[stream] = rec
	}
	return out, records, nil
}
