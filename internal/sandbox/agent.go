package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The agent plays the SSM Agent of every online Linux and macOS instance:
// it runs each step of a command for real, with /bin/sh on this host and as
// the sandbox's own user, in the instance's home directory tree.

const (
	// maxConcurrentSteps bounds the processes that run at once across all
	// instances; further steps wait for a slot and stay Pending meanwhile.
	maxConcurrentSteps = 8

	// Inline output limits and markers of the SSM Agent: each stream is cut
	// to its first 24,000 bytes for GetCommandInvocation, and the summary in
	// ListCommandInvocations to 2,500.
	inlineOutputLimit  = 24000
	inlineTruncated    = "--output truncated--"
	pluginOutputLimit  = 2500
	pluginErrorTitle   = "\n----------ERROR-------\n"
	pluginOutTruncated = "\n---Output truncated---"
	pluginErrTruncated = "\n---Error truncated----"

	// killedExitCode is the agent's response code for a step it stopped on
	// timeout or cancel: 128 + SIGKILL.
	killedExitCode = 137

	powerShellMissing = "PowerShell is not installed on this sandbox host: pwsh was not found on PATH, so aws:runPowerShellScript cannot run."
)

// agent runs invocations. Its fields are its own; the invocation state it
// updates is guarded by ssmState.mu.
type agent struct {
	s     *Server
	slots chan struct{}

	mu      sync.Mutex
	closed  bool
	stop    chan struct{}
	running sync.WaitGroup

	// uploads is cancelled by close so that no S3 upload outlives the server.
	uploads context.Context
	cancel  context.CancelFunc
}

func newAgent(s *Server) *agent {
	ctx, cancel := context.WithCancel(context.Background())
	return &agent{s: s, slots: make(chan struct{}, maxConcurrentSteps), stop: make(chan struct{}), uploads: ctx, cancel: cancel}
}

// deliver hands an invocation to its instance's agent. An instance that is
// not online never picks it up, so it stays Pending until it expires.
func (a *agent) deliver(inv *invocation) {
	if !inv.inst.online() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	a.running.Add(1)
	go func() {
		defer a.running.Done()
		if inv.hung {
			a.hang(inv)
			return
		}
		a.run(inv)
	}()
}

// close kills every process still running and waits for the agent's work
// to end.
func (a *agent) close() error {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.stop)
		a.cancel()
	}
	a.mu.Unlock()
	a.running.Wait()
	return nil
}

// run runs the steps of an invocation in order.
func (a *agent) run(inv *invocation) {
	st := &a.s.ssm

	// Wait for a process slot.
	select {
	case a.slots <- struct{}{}:
	case <-inv.cancel:
		return
	case <-a.stop:
		return
	}
	defer func() { <-a.slots }()

	st.mu.Lock()
	inv.refresh(a.s.now())
	if inv.Status != "Pending" {
		st.mu.Unlock()
		return
	}
	inv.Status, inv.Details = "InProgress", "InProgress"
	st.mu.Unlock()

	// A failed step does not stop the steps after it unless it sets
	// onFailure to exit or successAndExit, as in AWS's document syntax.
	var exitedAt string
	for _, p := range inv.plugins {
		if a.cancelled(inv) {
			break
		}
		if exitedAt != "" {
			a.skipStep(inv, p, fmt.Sprintf("Step execution skipped because step %s failed and its onFailure ends the document. Step name: %s", exitedAt, p.step.Name))
			continue
		}
		if reason, ok := unsatisfiedPrecondition(p.step, inv.inst); ok {
			a.skipStep(inv, p, fmt.Sprintf("Step execution skipped due to unsatisfied preconditions: '%s'. Step name: %s", reason, p.step.Name))
			continue
		}

		a.runStep(inv, p)

		st.mu.Lock()
		failed := p.Status == "Failed" || p.Status == "TimedOut"
		if failed && (p.step.OnFailure == "exit" || p.step.OnFailure == "successAndExit") {
			exitedAt = p.step.Name
			if p.step.OnFailure == "successAndExit" {
				p.Status, p.Details = "Success", "Success"
			}
		}
		st.mu.Unlock()
	}
	a.finish(inv)
}

func (a *agent) cancelled(inv *invocation) bool {
	select {
	case <-inv.cancel:
		return true
	case <-a.stop:
		return true
	default:
		return false
	}
}

// finish sets the invocation's final status from its steps.
func (a *agent) finish(inv *invocation) {
	st := &a.s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	now := a.s.now()
	if a.cancelled(inv) || inv.Status == "Cancelling" {
		inv.markCancelled(now)
		return
	}
	inv.Status, inv.Details = "Success", "Success"
	for _, p := range inv.plugins {
		switch p.Status {
		case "TimedOut":
			inv.Status, inv.Details = "TimedOut", "ExecutionTimedOut"
			return
		case "Failed":
			inv.Status, inv.Details = "Failed", "Failed"
		}
	}
}

// skipStep reports a step that did not run: Success with code 0, and the
// reason as its output, as the SSM Agent reports a step whose precondition
// is not met.
// NOTE: AWS's wording is known for preconditions only; the sandbox reports
// steps skipped after an onFailure exit the same way.
func (a *agent) skipStep(inv *invocation, p *pluginState, reason string) {
	st := &a.s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	now := a.s.now()
	p.Status, p.Details, p.Code = "Success", "Success", 0
	p.Start, p.End = now, now
	p.StdoutContent = reason
	p.Output = reason
}

// unsatisfiedPrecondition evaluates a StringEquals precondition on the
// platform type and returns the condition as the agent prints it when it
// does not hold.
func unsatisfiedPrecondition(step docStep, inst *instance) (string, bool) {
	if len(step.Precondition) != 2 {
		return "", false
	}
	left, _ := step.Precondition[0].(string)
	right, _ := step.Precondition[1].(string)
	value := right
	if left != "platformType" {
		left, right = right, left
		value = right
	}
	if left != "platformType" || strings.EqualFold(value, inst.PlatformType) {
		return "", false
	}
	return fmt.Sprintf(`"StringEquals": [%s, %s]`, step.Precondition[0], step.Precondition[1]), true
}

// stepRun is the record of one step's run.
type stepRun struct {
	Status, Details string
	Code            int
	// Failure is appended to stderr, as the agent appends "failed to run
	// commands: <error>" for a step that fails.
	Failure string
}

// runStep writes a step's script, runs it and reports its result. Output
// goes to files while the process runs, so its size does not matter.
func (a *agent) runStep(inv *invocation, p *pluginState) {
	st := &a.s.ssm
	cmd, inst := inv.cmd, inv.inst

	st.mu.Lock()
	inputs := substituteInputs(p.step.Inputs, cmd.effective, listParameters(cmd.version))
	p.Start = a.s.now()
	p.Status, p.Details = "InProgress", "InProgress"
	st.mu.Unlock()

	commandDir := filepath.Join(inst.home, "orchestration", cmd.ID)
	stepDir := filepath.Join(commandDir, p.step.Dir)
	stdoutPath := filepath.Join(stepDir, "stdout")
	stderrPath := filepath.Join(stepDir, "stderr")

	result := a.execute(inv, p, inputs, commandDir, stepDir, stdoutPath, stderrPath)
	end := a.s.now()
	if result.Failure != "" {
		appendFailure(stderrPath, result.Failure)
	}

	stdout := readPrefix(stdoutPath, inlineOutputLimit, inlineTruncated)
	stderr := readPrefix(stderrPath, inlineOutputLimit, inlineTruncated)
	stdoutURL, stderrURL := a.upload(inv, p, stdoutPath, stderrPath)

	st.mu.Lock()
	defer st.mu.Unlock()
	p.End = end
	p.Status, p.Details, p.Code = result.Status, result.Details, result.Code
	p.StdoutContent, p.StderrContent = stdout, stderr
	p.Output = pluginOutput(stdout, stderr, pluginOutputLimit)
	p.StdoutURL, p.StderrURL = stdoutURL, stderrURL
}

// execute prepares and runs the process of one step.
func (a *agent) execute(inv *invocation, p *pluginState, inputs map[string]any, commandDir, stepDir, stdoutPath, stderrPath string) stepRun {
	inst := inv.inst
	fail := func(message string) stepRun {
		return stepRun{Status: "Failed", Details: "Failed", Code: 1, Failure: message}
	}
	if err := os.MkdirAll(stepDir, 0o755); err != nil {
		return fail(fmt.Sprintf("failed to create orchestrationDir directory, %s", stepDir))
	}
	for _, path := range []string{stdoutPath, stderrPath} {
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			return fail(fmt.Sprintf("failed to create output file %s: %v", path, err))
		}
	}

	// Pick the interpreter for the plugin.
	var interpreter, scriptName string
	var args []string
	switch p.step.Action {
	case "aws:runShellScript":
		if inst.PlatformType == "Windows" {
			return fail("aws:runShellScript is not supported on Windows instances.")
		}
		interpreter, scriptName = "/bin/sh", "_script.sh"
	case "aws:runPowerShellScript":
		pwsh, err := exec.LookPath("pwsh")
		if err != nil {
			return fail(powerShellMissing)
		}
		interpreter, scriptName = pwsh, "_script.ps1"
		args = []string{"-NoProfile", "-NonInteractive", "-File"}
	default:
		return fail(fmt.Sprintf("Plugin with name %s is not supported by the sandbox; it runs aws:runShellScript and aws:runPowerShellScript.", p.step.Action))
	}

	// Write the script: the runCommand lines joined with newlines.
	script := strings.Join(runCommandLines(inputs["runCommand"]), "\n") + "\n"
	scriptPath := filepath.Join(stepDir, scriptName)
	if err := os.WriteFile(scriptPath, []byte(script), 0o700); err != nil {
		return fail(fmt.Sprintf("failed to create script file. %v", err))
	}
	a.recordScript(inst.InstanceID, script)

	workDir := workingDirectory(inputs["workingDirectory"], commandDir, inst.home)
	timeout := time.Duration(executionTimeoutSeconds(inputs["timeoutSeconds"])) * time.Second
	env := []string{
		"PATH=" + hostPath(),
		"HOME=" + inst.home,
		"AWS_SSM_INSTANCE_ID=" + inst.InstanceID,
		"AWS_SSM_REGION_NAME=" + inv.cmd.Region,
	}
	return a.runProcess(inv, interpreter, append(args, scriptPath), workDir, env, timeout, stdoutPath, stderrPath)
}

// runProcess runs one process in its own process group, with its output
// going straight to the files, and kills the whole group on timeout, on
// cancel and when the sandbox closes.
func (a *agent) runProcess(inv *invocation, name string, args []string, dir string, env []string, timeout time.Duration, stdoutPath, stderrPath string) stepRun {
	stdout, err := os.OpenFile(stdoutPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return stepRun{Status: "Failed", Details: "Failed", Code: 1, Failure: err.Error()}
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(stderrPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return stepRun{Status: "Failed", Details: "Failed", Code: 1, Failure: err.Error()}
	}
	defer stderr.Close()

	proc := exec.Command(name, args...)
	proc.Dir = dir
	proc.Env = env
	proc.Stdout = stdout
	proc.Stderr = stderr
	proc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := proc.Start(); err != nil {
		return stepRun{Status: "Failed", Details: "Failed", Code: 1, Failure: "failed to run commands: " + err.Error()}
	}

	done := make(chan error, 1)
	go func() { done <- proc.Wait() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()

	kill := func() {
		// The negative pid signals the whole process group.
		_ = syscall.Kill(-proc.Process.Pid, syscall.SIGKILL)
		<-done
	}
	select {
	case err := <-done:
		return exitResult(err)
	case <-timer.C:
		kill()
		return stepRun{Status: "TimedOut", Details: "ExecutionTimedOut", Code: killedExitCode}
	case <-inv.cancel:
		kill()
		return stepRun{Status: "Cancelled", Details: "Cancelled", Code: killedExitCode}
	case <-a.stop:
		kill()
		return stepRun{Status: "Cancelled", Details: "Cancelled", Code: killedExitCode}
	}
}

// exitResult turns a process's exit into a step result. A process killed by
// a signal that the agent did not send has exit code -1.
func exitResult(err error) stepRun {
	if err == nil {
		return stepRun{Status: "Success", Details: "Success", Code: 0}
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return stepRun{Status: "Failed", Details: "Failed", Code: exitErr.ExitCode(), Failure: "failed to run commands: " + err.Error()}
	}
	return stepRun{Status: "Failed", Details: "Failed", Code: 1, Failure: "failed to run commands: " + err.Error()}
}

// hang keeps an invocation InProgress, running nothing, until it is
// cancelled or its first step's execution timeout passes.
func (a *agent) hang(inv *invocation) {
	st := &a.s.ssm
	st.mu.Lock()
	inv.refresh(a.s.now())
	if inv.Status != "Pending" {
		st.mu.Unlock()
		return
	}
	first := inv.plugins[0]
	inputs := substituteInputs(first.step.Inputs, inv.cmd.effective, listParameters(inv.cmd.version))
	timeout := time.Duration(executionTimeoutSeconds(inputs["timeoutSeconds"])) * time.Second
	inv.Status, inv.Details = "InProgress", "InProgress"
	first.Status, first.Details, first.Start = "InProgress", "InProgress", a.s.now()
	st.mu.Unlock()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-timer.C:
		st.mu.Lock()
		defer st.mu.Unlock()
		now := a.s.now()
		first.Status, first.Details, first.Code, first.End = "TimedOut", "ExecutionTimedOut", killedExitCode, now
		inv.markCancelled(now)
		inv.Status, inv.Details = "TimedOut", "ExecutionTimedOut"
	case <-inv.cancel:
		a.finishHung(inv, first)
	case <-a.stop:
		a.finishHung(inv, first)
	}
}

func (a *agent) finishHung(inv *invocation, first *pluginState) {
	st := &a.s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	first.Code = killedExitCode
	inv.markCancelled(a.s.now())
}

func (a *agent) recordScript(instanceID, script string) {
	st := &a.s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	st.scriptsByIID[instanceID] = append(st.scriptsByIID[instanceID], script)
}

// CommandScripts returns the script text of every step that the sandbox
// ran on an instance, in the order they ran, so that a test can prove that
// nothing else ran there.
func (s *Server) CommandScripts(instanceID string) []string {
	s.ssm.mu.Lock()
	defer s.ssm.mu.Unlock()
	return append([]string(nil), s.ssm.scriptsByIID[instanceID]...)
}

// runCommandLines flattens a runCommand input, a string or a list of them.
func runCommandLines(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var lines []string
		for _, item := range v {
			lines = append(lines, runCommandLines(item)...)
		}
		return lines
	}
	return nil
}

// workingDirectory resolves a step's workingDirectory as the SSM Agent
// does. An absolute path is used as it is, and a step whose absolute path
// does not exist fails when its process starts. A relative path is looked
// up under the command's downloads directory. When it is not there, or when
// none is given, the step runs in the instance's home directory.
func workingDirectory(v any, commandDir, home string) string {
	dir, _ := v.(string)
	if dir == "" {
		return home
	}
	if filepath.IsAbs(dir) {
		return dir
	}
	candidate := filepath.Join(commandDir, "downloads", dir)
	if info, err := os.Stat(candidate); err == nil && info.IsDir() {
		return candidate
	}
	return home
}

func hostPath() string {
	if path := os.Getenv("PATH"); path != "" {
		return path
	}
	return "/usr/local/bin:/usr/bin:/bin"
}

// appendFailure adds the agent's failure message to a step's stderr, on a
// line of its own.
func appendFailure(stderrPath, message string) {
	f, err := os.OpenFile(stderrPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return
	}
	if info.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, info.Size()-1); err == nil && last[0] != '\n' {
			message = "\n" + message
		}
	}
	_, _ = f.WriteAt([]byte(message), info.Size())
}

// readPrefix reads the start of an output file as the SSM Agent does: up to
// limit bytes, and when the output reaches the limit, the first
// limit-len(suffix) bytes followed by suffix.
func readPrefix(path string, limit int, suffix string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	data, _ := io.ReadAll(io.LimitReader(f, int64(limit)))
	if len(data) < limit {
		return string(data)
	}
	return string(data[:limit-len(suffix)]) + suffix
}

// pluginOutput builds the Output of a CommandPlugin, the SSM Agent's
// summary of both streams in at most capacity bytes: stdout, then stderr
// under an error title, each cut with its own marker when they do not fit.
func pluginOutput(stdout, stderr string, capacity int) string {
	title := ""
	if stderr != "" {
		title = pluginErrorTitle
	}
	space := capacity - len(title)
	if len(stdout)+len(stderr) < space {
		return stdout + title + stderr
	}
	half := space / 2
	switch {
	case len(stdout) > half && len(stderr) > half:
		keep := (space - len(pluginOutTruncated) - len(pluginErrTruncated)) / 2
		return head(stdout, keep) + pluginOutTruncated + title + head(stderr, keep) + pluginErrTruncated
	case len(stdout) < half:
		return stdout + title + head(stderr, space-len(pluginErrTruncated)-len(stdout)) + pluginErrTruncated
	default:
		return head(stdout, space-len(pluginOutTruncated)-len(stderr)) + pluginOutTruncated + title + stderr
	}
}

// head returns the first n bytes of s, with n clamped to 0..len(s).
func head(s string, n int) string {
	return s[:min(max(n, 0), len(s))]
}

// upload copies a step's output files to the command's S3 bucket and
// returns their URLs. With no bucket, a bucket that does not exist or a
// failed upload, both URLs are empty, as when the agent cannot upload.
// stderr is uploaded only when it is not empty, but its URL is reported
// either way.
func (a *agent) upload(inv *invocation, p *pluginState, stdoutPath, stderrPath string) (stdoutURL, stderrURL string) {
	cmd := inv.cmd
	if cmd.Bucket == "" {
		return "", ""
	}
	if !a.s.bucketExists(cmd.Bucket) {
		a.s.log.Warn("ssm output bucket does not exist; output not uploaded", "command_id", cmd.ID, "instance_id", inv.inst.InstanceID, "bucket", cmd.Bucket)
		return "", ""
	}
	base := s3KeyPath(cmd.KeyPrefix, cmd.ID, inv.inst.InstanceID, p.step.pluginSegment(), p.step.Dir)
	put := func(path, key string) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return a.s.putObject(a.uploads, cmd.Bucket, key, f)
	}

	if err := put(stdoutPath, base+"/stdout"); err != nil {
		a.s.log.Error("ssm output upload failed", "command_id", cmd.ID, "instance_id", inv.inst.InstanceID, "key", base+"/stdout", "error", err)
		return "", ""
	}
	if info, err := os.Stat(stderrPath); err == nil && info.Size() > 0 {
		if err := put(stderrPath, base+"/stderr"); err != nil {
			a.s.log.Error("ssm output upload failed", "command_id", cmd.ID, "instance_id", inv.inst.InstanceID, "key", base+"/stderr", "error", err)
			return "", ""
		}
	}
	return s3URL(cmd.Region, cmd.Bucket, base+"/stdout"), s3URL(cmd.Region, cmd.Bucket, base+"/stderr")
}

// s3KeyPath joins key parts with '/', leaving out empty segments, so that
// a missing or slash-edged prefix gives no empty path segment.
func s3KeyPath(parts ...string) string {
	var segments []string
	for _, part := range parts {
		for _, seg := range strings.Split(part, "/") {
			if seg != "" {
				segments = append(segments, seg)
			}
		}
	}
	return strings.Join(segments, "/")
}

// s3URL is an object's URL in the form the SSM Agent reports.
func s3URL(region, bucket, key string) string {
	return fmt.Sprintf("https://s3.%s.amazonaws.com/%s/%s", region, bucket, key)
}
