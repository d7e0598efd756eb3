package command

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Invocation is a command on one instance, once it has finished or the wait
// ran out.
type Invocation struct {
	InstanceID    string
	Status        string // the invocation's Status: Success, Failed, TimedOut, Cancelled, InProgress, ...
	StatusDetails string // finer: DeliveryTimedOut, ExecutionTimedOut, Undeliverable, ...
	Steps         []Step
	Start, End    time.Time
	// DocumentName is the document the command ran, used to name output
	// locations when SSM leaves them out.
	DocumentName string
}

// Step is one plugin (step) of a document on one instance.
type Step struct {
	Name          string
	Status        string
	StatusDetails string
	ResponseCode  int32
	// OutputPrefix is the S3 key prefix under which the step's stdout and
	// stderr objects sit: <prefix>/<command id>/<instance id>/<plugin>/<step>.
	OutputPrefix string
	Bucket       string
}

// stillWaitingEvery spaces the progress lines of a long wait.
const stillWaitingEvery = 30 * time.Second

// Final reports whether status is one an invocation never leaves.
func Final(status string) bool {
	switch types.CommandInvocationStatus(status) {
	case types.CommandInvocationStatusSuccess, types.CommandInvocationStatusFailed,
		types.CommandInvocationStatusTimedOut, types.CommandInvocationStatusCancelled:
		return true
	}
	return false
}

// Succeeded reports whether the invocation ran every step with exit code 0.
func (inv *Invocation) Succeeded() bool {
	if inv.Status != string(types.CommandInvocationStatusSuccess) {
		return false
	}
	for _, s := range inv.Steps {
		if s.ResponseCode != 0 {
			return false
		}
	}
	return true
}

// ResponseCode is the invocation's exit code: that of the first step that
// did not succeed, else 0. It is -1 when no step reported one.
func (inv *Invocation) ResponseCode() int32 {
	if len(inv.Steps) == 0 {
		return -1
	}
	for _, s := range inv.Steps {
		if s.ResponseCode != 0 {
			return s.ResponseCode
		}
	}
	return 0
}

// Wait polls until every invocation of the command on instanceIDs reaches a
// final status, or until wait runs out. It returns the invocations with
// their steps either way; when the wait runs out the error is a
// *WaitTimeoutError.
//
// Right after SendCommand, SSM returns InvocationDoesNotExist or leaves the
// invocation out of its lists for a few seconds, which counts as pending.
// Throttling counts as pending too, because the SDK has already retried it
// and the wait still has time left.
func (e *Engine) Wait(ctx context.Context, sent *Sent, instanceIDs []string, wait time.Duration) ([]Invocation, error) {
	start := e.now()
	deadline := start.Add(wait)
	delay := e.newBackoff()
	statuses := map[string]string{}
	useList := len(instanceIDs) != 1
	lastReport := start
	outage := outage{limit: e.OutageLimit, progress: e.progress, commandID: sent.CommandID}

	for {
		var pending []string
		if !useList {
			status, err := e.pollOne(ctx, sent.CommandID, instanceIDs[0])
			switch {
			case ErrorCode(err) == "InvalidPluginName":
				// A document with several steps has no single invocation
				// output, so follow it through ListCommandInvocations.
				useList = true
				continue
			case err != nil && (ctx.Err() != nil || !isTransient(err)):
				return nil, err
			}
			if err := outage.note(e.now(), err); err != nil {
				return nil, err
			}
			e.reportStatus(statuses, instanceIDs[0], status)
			if !Final(status) {
				pending = append(pending, fmt.Sprintf("%s (%s)", instanceIDs[0], pendingLabel(status, statuses[instanceIDs[0]], err)))
			}
		} else {
			seen, err := e.pollList(ctx, sent.CommandID)
			if err != nil && (ctx.Err() != nil || !isTransient(err)) {
				return nil, err
			}
			if err := outage.note(e.now(), err); err != nil {
				return nil, err
			}
			for _, id := range instanceIDs {
				status := seen[id]
				e.reportStatus(statuses, id, status)
				if !Final(status) {
					pending = append(pending, fmt.Sprintf("%s (%s)", id, pendingLabel(status, statuses[id], err)))
				}
			}
		}

		if len(pending) == 0 {
			return e.details(ctx, sent, instanceIDs)
		}
		if !e.now().Before(deadline) {
			invocations, _ := e.details(ctx, sent, instanceIDs)
			return invocations, &WaitTimeoutError{CommandID: sent.CommandID, Waited: wait.String(), Pending: pending}
		}
		// Tell the person watching that the wait goes on, now and then.
		if now := e.now(); now.Sub(lastReport) >= stillWaitingEvery {
			lastReport = now
			e.progress("Still waiting for command %s after %s: %s", sent.CommandID,
				now.Sub(start).Round(time.Second), strings.Join(pending, ", "))
		}
		if err := delay.sleep(ctx, deadline.Sub(e.now())); err != nil {
			return nil, stoppedWaiting(ctx, sent.CommandID)
		}
	}
}

// outage tracks failed polls. A poll that fails with a network error or an
// HTTP 5xx after the SDK's own retries counts as pending, until failures
// have lasted longer than limit without a successful poll.
type outage struct {
	limit     time.Duration
	progress  func(format string, args ...any)
	commandID string
	since     time.Time // time of the outage's first failure, zero when there is none
}

// note records the result of a poll at now, and returns err once the outage
// has lasted too long.
func (o *outage) note(now time.Time, err error) error {
	if err == nil {
		if !o.since.IsZero() {
			o.progress("SSM responds again after %s of failed polls", now.Sub(o.since).Round(time.Second))
			o.since = time.Time{}
		}
		return nil
	}
	limit := o.limit
	if limit <= 0 {
		limit = 2 * time.Minute
	}
	if o.since.IsZero() {
		o.since = now
		o.progress("Polling command %s failed (%v); trying again for up to %s", o.commandID, err, limit)
		return nil
	}
	if now.Sub(o.since) > limit {
		return fmt.Errorf("%w; polling SSM failed for %s, so the wait stopped; the command keeps running on the instance, so follow it with list commands (command_id %s)",
			err, now.Sub(o.since).Round(time.Second), o.commandID)
	}
	return nil
}

// isTransient reports whether err may pass with time: throttling, no
// response at all, or a server-side error, after the SDK's retries.
func isTransient(err error) bool {
	if isThrottle(err) {
		return true
	}
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		return true
	}
	var resp *smithyhttp.ResponseError
	return errors.As(err, &resp) && resp.HTTPStatusCode() >= 500
}

// stoppedWaiting explains that the run ended before the command did, which
// SSM does not notice: the command goes on running on the instance. The
// cause stays reachable with errors.Is but is not repeated in Go's words.
func stoppedWaiting(ctx context.Context, commandID string) error {
	cause := ctx.Err()
	reason := "the run was cancelled"
	if errors.Is(cause, context.DeadlineExceeded) {
		reason = "the run's time ran out"
	}
	// A signal is the usual cause, and its text ("terminated signal
	// received") names it for the analyst.
	if cancelCause := context.Cause(ctx); cancelCause != nil && cancelCause != cause {
		reason += " (" + cancelCause.Error() + ")"
	}
	return &stoppedError{
		msg: fmt.Sprintf("stopped waiting for command %s because %s; the command keeps running on the instance, so follow it with list commands (command_id %s)",
			commandID, reason, commandID),
		cause: cause,
	}
}

type stoppedError struct {
	msg   string
	cause error
}

func (e *stoppedError) Error() string { return e.msg }
func (e *stoppedError) Unwrap() error { return e.cause }

// pendingLabel names the state of an invocation that is not final: its
// status, "poll failed" when the last poll got no usable response, the last
// status seen when SSM no longer lists it, or "not yet visible".
func pendingLabel(status, lastSeen string, pollErr error) string {
	switch {
	case pollErr != nil:
		return "poll failed"
	case status != "":
		return status
	case lastSeen != "":
		return lastSeen + ", no longer listed"
	}
	return "not yet visible"
}

func (e *Engine) reportStatus(seen map[string]string, instanceID, status string) {
	if status == "" || seen[instanceID] == status {
		return
	}
	seen[instanceID] = status
	e.progress("Invocation on %s: %s", instanceID, status)
}

// pollOne returns the invocation's status, or "" while SSM does not know it
// yet or throttles.
func (e *Engine) pollOne(ctx context.Context, commandID, instanceID string) (string, error) {
	out, err := e.SSM.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{
		CommandId:  aws.String(commandID),
		InstanceId: aws.String(instanceID),
	})
	var notYet *types.InvocationDoesNotExist
	switch {
	case err == nil:
		return string(out.Status), nil
	case asError(err, &notYet), isThrottle(err):
		return "", nil
	case ErrorCode(err) == "InvalidPluginName":
		return "", err
	case ctx.Err() != nil:
		return "", stoppedWaiting(ctx, commandID)
	}
	return "", fmt.Errorf("get command invocation %s on %s: %w", commandID, instanceID, Explain(err))
}

// pollList returns the status of every invocation that SSM lists.
func (e *Engine) pollList(ctx context.Context, commandID string) (map[string]string, error) {
	statuses := map[string]string{}
	p := ssm.NewListCommandInvocationsPaginator(e.SSM, &ssm.ListCommandInvocationsInput{
		CommandId: aws.String(commandID),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isThrottle(err) {
			return statuses, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list command invocations %s: %w", commandID, Explain(err))
		}
		for _, inv := range page.CommandInvocations {
			statuses[aws.ToString(inv.InstanceId)] = string(inv.Status)
		}
	}
	return statuses, nil
}

// details reads each invocation's steps with ListCommandInvocations, which
// names each step and where its output went.
func (e *Engine) details(ctx context.Context, sent *Sent, instanceIDs []string) ([]Invocation, error) {
	wanted := map[string]bool{}
	for _, id := range instanceIDs {
		wanted[id] = true
	}
	var invocations []Invocation
	p := ssm.NewListCommandInvocationsPaginator(e.SSM, &ssm.ListCommandInvocationsInput{
		CommandId: aws.String(sent.CommandID),
		Details:   true,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return invocations, fmt.Errorf("list command invocations %s: %w", sent.CommandID, Explain(err))
		}
		for _, ci := range page.CommandInvocations {
			if !wanted[aws.ToString(ci.InstanceId)] {
				continue
			}
			invocations = append(invocations, e.invocationFrom(sent, ci))
		}
	}
	return invocations, nil
}

func (e *Engine) invocationFrom(sent *Sent, ci types.CommandInvocation) Invocation {
	inv := Invocation{
		InstanceID:    aws.ToString(ci.InstanceId),
		Status:        string(ci.Status),
		StatusDetails: aws.ToString(ci.StatusDetails),
		DocumentName:  aws.ToString(ci.DocumentName),
	}
	for _, cp := range ci.CommandPlugins {
		step := Step{
			Name:          aws.ToString(cp.Name),
			Status:        string(cp.Status),
			StatusDetails: aws.ToString(cp.StatusDetails),
			ResponseCode:  cp.ResponseCode,
			Bucket:        aws.ToString(cp.OutputS3BucketName),
		}
		if step.Bucket == "" {
			step.Bucket = sent.Bucket
		}
		step.OutputPrefix = stepOutputPrefix(sent, inv.InstanceID, cp)
		if cp.ResponseStartDateTime != nil && (inv.Start.IsZero() || cp.ResponseStartDateTime.Before(inv.Start)) {
			inv.Start = *cp.ResponseStartDateTime
		}
		if cp.ResponseFinishDateTime != nil && cp.ResponseFinishDateTime.After(inv.End) {
			inv.End = *cp.ResponseFinishDateTime
		}
		inv.Steps = append(inv.Steps, step)
	}
	return inv
}

// backoff spaces polls: it starts near PollStart, grows by half each time,
// and stays under PollMax, with jitter so that many runs do not poll in step.
type backoff struct {
	next, max time.Duration
}

func (e *Engine) newBackoff() *backoff {
	b := &backoff{next: e.PollStart, max: e.PollMax}
	if b.next <= 0 {
		b.next = 100 * time.Millisecond
	}
	if b.max <= 0 {
		b.max = 3 * time.Second
	}
	return b
}

// sleep waits for the next delay, never longer than left.
func (b *backoff) sleep(ctx context.Context, left time.Duration) error {
	d := b.next/2 + rand.N(b.next/2+1)
	if d > left {
		d = left
	}
	b.next = min(b.next*3/2, b.max)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
