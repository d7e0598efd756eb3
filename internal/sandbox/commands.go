package sandbox

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of SendCommand in the SSM API model.
const (
	minTimeoutSeconds     = 30
	maxTimeoutSeconds     = 2592000
	defaultTimeoutSeconds = 3600
	maxCommentLength      = 100
	maxInstanceIDs        = 50
	maxTargets            = 5
)

var (
	maxConcurrencyPattern = regexp.MustCompile(`^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$`)
	maxErrorsPattern      = regexp.MustCompile(`^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$`)
	documentARNPattern    = regexp.MustCompile(`^[a-zA-Z0-9_\-.:/]{3,128}$`)
)

// command is one SendCommand and its invocations, one per targeted instance.
type command struct {
	ID              string
	seq             int64
	DocumentName    string
	DocumentVersion string // as the Command reports it
	doc             *document
	version         *documentVersion
	Comment         string
	Parameters      map[string][]string // as sent, for the Command output
	effective       map[string][]string // with defaults, for the agent
	InstanceIDs     []string            // as sent
	Targets         []wireTarget        // as sent
	Requested       time.Time
	ExpiresAfter    time.Time
	visibleAt       time.Time
	TimeoutSeconds  int
	Region          string
	Bucket          string
	KeyPrefix       string
	MaxConcurrency  string
	MaxErrors       string
	ServiceRole     string
	Notification    wireNotificationConfig
	CloudWatch      wireCloudWatchOutputConfig
	Alarms          *wireAlarmConfiguration
	cancelRequested bool
	invocations     []*invocation
}

// invocation is a command on one instance.
type invocation struct {
	cmd     *command
	inst    *instance
	Status  string
	Details string
	plugins []*pluginState
	hung    bool

	// cancel is closed by CancelCommand to stop the agent's work.
	cancel     chan struct{}
	cancelDone bool
}

// pluginState is one step of an invocation.
type pluginState struct {
	step    docStep
	Status  string
	Details string
	Code    int
	Start   time.Time
	End     time.Time

	StdoutContent string // the first 24,000 bytes, as GetCommandInvocation reports them
	StderrContent string
	Output        string // the 2,500-byte summary of ListCommandInvocations
	StdoutURL     string
	StderrURL     string
}

func (inv *invocation) terminal() bool { return isTerminalStatus(inv.Status) }

func isTerminalStatus(status string) bool {
	switch status {
	case "Success", "Failed", "TimedOut", "Cancelled":
		return true
	}
	return false
}

// requestCancel closes the cancel channel once.
func (inv *invocation) requestCancel() {
	if !inv.cancelDone {
		inv.cancelDone = true
		close(inv.cancel)
	}
}

// refresh applies the delivery timeout: an invocation that no agent picked
// up before the command expired becomes DeliveryTimedOut.
func (inv *invocation) refresh(now time.Time) {
	if inv.Status != "Pending" || now.Before(inv.cmd.ExpiresAfter) {
		return
	}
	inv.Status, inv.Details = "TimedOut", "DeliveryTimedOut"
	for _, p := range inv.plugins {
		if p.Status == "Pending" {
			p.Status, p.Details = "TimedOut", "DeliveryTimedOut"
		}
	}
	inv.requestCancel()
}

func (c *command) refresh(now time.Time) {
	for _, inv := range c.invocations {
		inv.refresh(now)
	}
}

func (c *command) visible(now time.Time) bool { return !now.Before(c.visibleAt) }

func (c *command) invocationFor(instanceID string) *invocation {
	for _, inv := range c.invocations {
		if inv.inst.InstanceID == instanceID {
			return inv
		}
	}
	return nil
}

// Wire shapes shared by the command operations.

type wireTarget struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

type wireNotificationConfig struct {
	NotificationArn    string   `json:"NotificationArn"`
	NotificationEvents []string `json:"NotificationEvents"`
	NotificationType   string   `json:"NotificationType"`
}

type wireCloudWatchOutputConfig struct {
	CloudWatchLogGroupName  string `json:"CloudWatchLogGroupName"`
	CloudWatchOutputEnabled bool   `json:"CloudWatchOutputEnabled"`
}

type wireAlarmConfiguration struct {
	IgnorePollAlarmFailure bool `json:"IgnorePollAlarmFailure"`
	Alarms                 []struct {
		Name string `json:"Name"`
	} `json:"Alarms"`
}

type wireCommand struct {
	CommandID              string                     `json:"CommandId"`
	DocumentName           string                     `json:"DocumentName"`
	DocumentVersion        string                     `json:"DocumentVersion"`
	Comment                string                     `json:"Comment"`
	ExpiresAfter           epochTime                  `json:"ExpiresAfter"`
	Parameters             map[string][]string        `json:"Parameters"`
	InstanceIDs            []string                   `json:"InstanceIds"`
	Targets                []wireTarget               `json:"Targets"`
	RequestedDateTime      epochTime                  `json:"RequestedDateTime"`
	Status                 string                     `json:"Status"`
	StatusDetails          string                     `json:"StatusDetails"`
	OutputS3Region         string                     `json:"OutputS3Region"`
	OutputS3BucketName     string                     `json:"OutputS3BucketName"`
	OutputS3KeyPrefix      string                     `json:"OutputS3KeyPrefix"`
	MaxConcurrency         string                     `json:"MaxConcurrency"`
	MaxErrors              string                     `json:"MaxErrors"`
	TargetCount            int                        `json:"TargetCount"`
	CompletedCount         int                        `json:"CompletedCount"`
	ErrorCount             int                        `json:"ErrorCount"`
	DeliveryTimedOutCount  int                        `json:"DeliveryTimedOutCount"`
	ServiceRole            string                     `json:"ServiceRole"`
	NotificationConfig     wireNotificationConfig     `json:"NotificationConfig"`
	CloudWatchOutputConfig wireCloudWatchOutputConfig `json:"CloudWatchOutputConfig"`
	TimeoutSeconds         int                        `json:"TimeoutSeconds"`
	AlarmConfiguration     *wireAlarmConfiguration    `json:"AlarmConfiguration,omitempty"`
}

// wire builds the Command output. Before its invocations are visible, a
// command reports what SendCommand returned: Pending, with no counts and,
// for a command sent with Targets, TargetCount 0.
func (c *command) wire(now time.Time) wireCommand {
	w := wireCommand{
		CommandID:              c.ID,
		DocumentName:           c.DocumentName,
		DocumentVersion:        c.DocumentVersion,
		Comment:                c.Comment,
		ExpiresAfter:           epochTime(c.ExpiresAfter),
		Parameters:             c.Parameters,
		InstanceIDs:            c.InstanceIDs,
		Targets:                c.Targets,
		RequestedDateTime:      epochTime(c.Requested),
		Status:                 "Pending",
		StatusDetails:          "Pending",
		OutputS3Region:         c.Region,
		OutputS3BucketName:     c.Bucket,
		OutputS3KeyPrefix:      c.KeyPrefix,
		MaxConcurrency:         c.MaxConcurrency,
		MaxErrors:              c.MaxErrors,
		ServiceRole:            c.ServiceRole,
		NotificationConfig:     c.Notification,
		CloudWatchOutputConfig: c.CloudWatch,
		TimeoutSeconds:         c.TimeoutSeconds,
		AlarmConfiguration:     c.Alarms,
	}
	if len(c.InstanceIDs) > 0 {
		w.TargetCount = len(c.invocations)
	}
	if !c.visible(now) {
		return w
	}

	w.TargetCount = len(c.invocations)
	for _, inv := range c.invocations {
		if inv.terminal() {
			w.CompletedCount++
		}
		switch {
		case inv.Status == "Failed", inv.Details == "ExecutionTimedOut":
			w.ErrorCount++
		case inv.Details == "DeliveryTimedOut":
			w.DeliveryTimedOutCount++
		}
	}
	w.Status, w.StatusDetails = c.aggregateStatus(w)
	return w
}

// aggregateStatus derives the command's Status and StatusDetails from its
// invocations and MaxErrors, as AWS documents the command statuses.
// NOTE: AWS does not document the Status that goes with StatusDetails
// Incomplete and NoInstancesInTag; the sandbox reports Failed for both.
func (c *command) aggregateStatus(w wireCommand) (string, string) {
	if len(c.invocations) == 0 {
		return "Failed", "NoInstancesInTag"
	}
	pending, cancelled, succeeded := 0, 0, 0
	for _, inv := range c.invocations {
		switch inv.Status {
		case "Pending":
			pending++
		case "Cancelled":
			cancelled++
		case "Success":
			succeeded++
		}
	}
	if w.CompletedCount < len(c.invocations) {
		switch {
		case c.cancelRequested:
			return "Cancelling", "Cancelling"
		case pending == len(c.invocations):
			return "Pending", "Pending"
		}
		return "InProgress", "InProgress"
	}

	maxErrors := c.maxErrorCount()
	executionTimedOut := 0
	for _, inv := range c.invocations {
		if inv.Details == "ExecutionTimedOut" {
			executionTimedOut++
		}
	}
	switch {
	case succeeded == len(c.invocations):
		return "Success", "Success"
	case c.cancelRequested || cancelled > 0:
		return "Cancelled", "Cancelled"
	case w.ErrorCount > maxErrors && executionTimedOut == w.ErrorCount:
		return "TimedOut", "ExecutionTimedOut"
	case w.ErrorCount > maxErrors:
		return "Failed", "Failed"
	case w.DeliveryTimedOutCount > maxErrors:
		return "TimedOut", "DeliveryTimedOut"
	}
	return "Failed", "Incomplete"
}

// maxErrorCount turns MaxErrors, a count or a percentage of the targets,
// into a count.
func (c *command) maxErrorCount() int {
	if percent, ok := strings.CutSuffix(c.MaxErrors, "%"); ok {
		p, _ := strconv.Atoi(percent)
		return len(c.invocations) * p / 100
	}
	n, _ := strconv.Atoi(c.MaxErrors)
	return n
}

type sendCommandInput struct {
	DocumentName           string                      `json:"DocumentName"`
	DocumentVersion        string                      `json:"DocumentVersion"`
	DocumentHash           string                      `json:"DocumentHash"`
	DocumentHashType       string                      `json:"DocumentHashType"`
	InstanceIDs            []string                    `json:"InstanceIds"`
	Targets                []wireTarget                `json:"Targets"`
	Parameters             map[string][]string         `json:"Parameters"`
	TimeoutSeconds         *int                        `json:"TimeoutSeconds"`
	Comment                string                      `json:"Comment"`
	OutputS3BucketName     string                      `json:"OutputS3BucketName"`
	OutputS3KeyPrefix      string                      `json:"OutputS3KeyPrefix"`
	OutputS3Region         string                      `json:"OutputS3Region"`
	MaxConcurrency         string                      `json:"MaxConcurrency"`
	MaxErrors              string                      `json:"MaxErrors"`
	ServiceRoleArn         string                      `json:"ServiceRoleArn"`
	NotificationConfig     *wireNotificationConfig     `json:"NotificationConfig"`
	CloudWatchOutputConfig *wireCloudWatchOutputConfig `json:"CloudWatchOutputConfig"`
	AlarmConfiguration     *wireAlarmConfiguration     `json:"AlarmConfiguration"`
}

// checkSendCommandInput applies the constraints of the API model that do
// not need the sandbox's state.
func checkSendCommandInput(in *sendCommandInput) error {
	if !documentARNPattern.MatchString(in.DocumentName) {
		return ssmValidationError("documentName", in.DocumentName, `Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\-.:/]{3,128}$`)
	}

	if len(in.InstanceIDs) > maxInstanceIDs {
		return ssmValidationError("instanceIds", strings.Join(in.InstanceIDs, ", "), fmt.Sprintf("Member must have length less than or equal to %d", maxInstanceIDs))
	}
	for _, id := range in.InstanceIDs {
		if !instanceIDPattern.MatchString(id) {
			return ssmValidationError("instanceIds", id, `Member must satisfy regular expression pattern: (^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)`)
		}
	}

	if len(in.Targets) > maxTargets {
		return ssmValidationError("targets", fmt.Sprint(in.Targets), fmt.Sprintf("Member must have length less than or equal to %d", maxTargets))
	}

	if len(in.InstanceIDs) == 0 && len(in.Targets) == 0 {
		return ssmError("ValidationException", "Either InstanceIds or Targets must be specified.")
	}

	if len(in.InstanceIDs) > 0 && len(in.Targets) > 0 {
		return ssmError("ValidationException", "InstanceIds and Targets can't be used together; specify one of them.")
	}

	if in.TimeoutSeconds != nil {
		t := *in.TimeoutSeconds
		if t < minTimeoutSeconds {
			return ssmValidationError("timeoutSeconds", strconv.Itoa(t), fmt.Sprintf("Member must have value greater than or equal to %d", minTimeoutSeconds))
		}
		if t > maxTimeoutSeconds {
			return ssmValidationError("timeoutSeconds", strconv.Itoa(t), fmt.Sprintf("Member must have value less than or equal to %d", maxTimeoutSeconds))
		}
	}

	// AWS's length constraints count characters, not bytes.
	if utf8.RuneCountInString(in.Comment) > maxCommentLength {
		return ssmValidationError("comment", in.Comment, fmt.Sprintf("Member must have length less than or equal to %d", maxCommentLength))
	}

	if in.MaxConcurrency != "" && !maxConcurrencyPattern.MatchString(in.MaxConcurrency) {
		return ssmValidationError("maxConcurrency", in.MaxConcurrency, "Member must satisfy regular expression pattern: "+maxConcurrencyPattern.String())
	}

	if in.MaxErrors != "" && !maxErrorsPattern.MatchString(in.MaxErrors) {
		return ssmValidationError("maxErrors", in.MaxErrors, "Member must satisfy regular expression pattern: "+maxErrorsPattern.String())
	}

	if in.OutputS3BucketName != "" && (len(in.OutputS3BucketName) < 3 || len(in.OutputS3BucketName) > 63) {
		return ssmValidationError("outputS3BucketName", in.OutputS3BucketName, "Member must have length between 3 and 63")
	}

	if len(in.OutputS3KeyPrefix) > 500 {
		return ssmValidationError("outputS3KeyPrefix", in.OutputS3KeyPrefix, "Member must have length less than or equal to 500")
	}

	if in.DocumentHashType != "" && in.DocumentHashType != "Sha256" && in.DocumentHashType != "Sha1" {
		return ssmValidationError("documentHashType", in.DocumentHashType, "Member must satisfy enum value set: [Sha256, Sha1]")
	}
	return nil
}

// sendCommand serves SendCommand. The command's invocations start at once
// on online Linux and macOS instances, and they become visible to the read
// operations after the invocation delay.
// NOTE: MaxConcurrency and MaxErrors are checked and reported but not
// enforced: every invocation is delivered at once, bounded only by the
// agent's process slots, and none ends as Terminated.
func (s *Server) sendCommand(ctx context.Context, call *ssmCall) (any, error) {
	var in sendCommandInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	if err := checkSendCommandInput(&in); err != nil {
		return nil, err
	}

	st := &s.ssm
	st.mu.Lock()

	// The document, its version and hash.
	doc, err := st.lookupDocument(in.DocumentName)
	if err != nil {
		st.mu.Unlock()
		return nil, err
	}
	if doc.DocumentType != "Command" {
		st.mu.Unlock()
		return nil, ssmError("InvalidDocument", "Document %s is of type %s; SendCommand runs Command documents only.", doc.Name, doc.DocumentType)
	}
	version, err := lookupVersion(doc, in.DocumentVersion)
	if err != nil {
		st.mu.Unlock()
		return nil, err
	}
	if err := checkDocumentHash(doc, version, in.DocumentHash, in.DocumentHashType); err != nil {
		st.mu.Unlock()
		return nil, err
	}
	effective, err := resolveParameters(doc, version, in.Parameters, st.parameterText)
	if err != nil {
		st.mu.Unlock()
		return nil, err
	}

	// The instances: every listed id must be a managed instance, not
	// Inactive, whose platform the document supports.
	account := s.accountID()
	var targets []*instance
	if len(in.InstanceIDs) > 0 {
		var unknown []string
		for _, id := range in.InstanceIDs {
			inst := st.instanceByID[id]
			switch {
			case inst == nil || inst.PingStatus == "Inactive":
				unknown = append(unknown, id)
			case !slices.Contains(targets, inst):
				targets = append(targets, inst)
			}
		}
		if len(unknown) > 0 {
			st.mu.Unlock()
			return nil, invalidInstanceIDError(unknown, account)
		}
		for _, inst := range targets {
			if !slices.Contains(doc.PlatformTypes, inst.PlatformType) {
				st.mu.Unlock()
				return nil, ssmError("UnsupportedPlatformType", "Document %s does not support the platform type %s of instance %s.", doc.Name, inst.PlatformType, inst.InstanceID)
			}
		}
	} else {
		targets, err = st.resolveTargets(in.Targets)
		if err != nil {
			st.mu.Unlock()
			return nil, err
		}
	}

	cmd := st.newCommand(&in, doc, version, effective, call.Region, s.now())
	for _, inst := range targets {
		cmd.invocations = append(cmd.invocations, newInvocation(cmd, inst, st.knobs.hangCommands))
	}
	st.commands[cmd.ID] = cmd
	st.commandList = append(st.commandList, cmd)
	out := cmd.wire(cmd.Requested)
	invocations := append([]*invocation(nil), cmd.invocations...)
	st.mu.Unlock()

	for _, inv := range invocations {
		st.agent.deliver(inv)
	}
	s.log.Info("ssm command sent", "command_id", cmd.ID, "document", cmd.DocumentName, "targets", len(invocations))
	return struct {
		Command wireCommand `json:"Command"`
	}{out}, nil
}

// newCommand builds a command from a checked SendCommand request.
func (st *ssmState) newCommand(in *sendCommandInput, doc *document, version *documentVersion, effective map[string][]string, region string, now time.Time) *command {
	st.commandSeq++
	if region == "" {
		region = DefaultRegion
	}
	cmd := &command{
		ID:              newUUID(),
		seq:             st.commandSeq,
		DocumentName:    doc.Name,
		DocumentVersion: in.DocumentVersion,
		doc:             doc,
		version:         version,
		Comment:         in.Comment,
		Parameters:      in.Parameters,
		effective:       effective,
		InstanceIDs:     in.InstanceIDs,
		Targets:         in.Targets,
		Requested:       now,
		visibleAt:       now.Add(st.knobs.invocationDelay),
		TimeoutSeconds:  defaultTimeoutSeconds,
		Region:          region,
		Bucket:          in.OutputS3BucketName,
		KeyPrefix:       in.OutputS3KeyPrefix,
		MaxConcurrency:  in.MaxConcurrency,
		MaxErrors:       in.MaxErrors,
		ServiceRole:     in.ServiceRoleArn,
		Notification:    wireNotificationConfig{NotificationEvents: []string{}},
		Alarms:          in.AlarmConfiguration,
	}
	// A command sent without a version reports the version it ran.
	if cmd.DocumentVersion == "" {
		cmd.DocumentVersion = version.Version
	}
	if cmd.Parameters == nil {
		cmd.Parameters = map[string][]string{}
	}
	if cmd.InstanceIDs == nil {
		cmd.InstanceIDs = []string{}
	}
	if cmd.Targets == nil {
		cmd.Targets = []wireTarget{}
	}
	if in.TimeoutSeconds != nil {
		cmd.TimeoutSeconds = *in.TimeoutSeconds
	}
	if cmd.MaxConcurrency == "" {
		cmd.MaxConcurrency = "50"
	}
	if cmd.MaxErrors == "" {
		cmd.MaxErrors = "0"
	}
	if n := in.NotificationConfig; n != nil {
		cmd.Notification = *n
		if cmd.Notification.NotificationEvents == nil {
			cmd.Notification.NotificationEvents = []string{}
		}
	}
	if cw := in.CloudWatchOutputConfig; cw != nil {
		cmd.CloudWatch = *cw
	}

	// The command expires when the delivery timeout and the execution
	// timeouts of its steps have passed; an invocation still Pending then
	// is DeliveryTimedOut.
	execution := 0
	for _, step := range version.Steps {
		inputs := substituteInputs(step.Inputs, effective, listParameters(version))
		execution += executionTimeoutSeconds(inputs["timeoutSeconds"])
	}
	cmd.ExpiresAfter = now.Add(time.Duration(cmd.TimeoutSeconds+execution) * time.Second)
	return cmd
}

func listParameters(v *documentVersion) map[string]bool {
	lists := map[string]bool{}
	for _, p := range v.Parameters {
		lists[p.Name] = p.isList()
	}
	return lists
}

func newInvocation(cmd *command, inst *instance, hung bool) *invocation {
	inv := &invocation{cmd: cmd, inst: inst, Status: "Pending", Details: "Pending", hung: hung, cancel: make(chan struct{})}
	for _, step := range cmd.version.Steps {
		inv.plugins = append(inv.plugins, &pluginState{step: step, Status: "Pending", Details: "Pending", Code: -1})
	}
	return inv
}

// executionTimeoutSeconds reads a step's timeoutSeconds input as the SSM
// Agent does: a number or numeric string from 5 to 172800, and 3600 for
// anything else, including a missing value.
func executionTimeoutSeconds(v any) int {
	const (
		minimum  = 5
		maximum  = 172800
		fallback = 3600
	)
	n := fallback
	switch v := v.(type) {
	case float64:
		n = int(v)
	case string:
		if i, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			n = i
		} else if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			n = int(f)
		}
	}
	if n < minimum || n > maximum {
		return fallback
	}
	return n
}

// commandIDLength is the fixed length of a command id, a UUID.
const commandIDLength = 36

func checkCommandID(member, id string) error {
	switch {
	case len(id) < commandIDLength:
		return ssmValidationError(member, id, fmt.Sprintf("Member must have length greater than or equal to %d", commandIDLength))
	case len(id) > commandIDLength:
		return ssmValidationError(member, id, fmt.Sprintf("Member must have length less than or equal to %d", commandIDLength))
	}
	return nil
}

func checkInstanceID(member, id string) error {
	if !instanceIDPattern.MatchString(id) {
		return ssmValidationError(member, id, `Member must satisfy regular expression pattern: (^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)`)
	}
	return nil
}

type getCommandInvocationInput struct {
	CommandID  string `json:"CommandId"`
	InstanceID string `json:"InstanceId"`
	PluginName string `json:"PluginName"`
}

type getCommandInvocationOutput struct {
	CommandID              string                     `json:"CommandId"`
	InstanceID             string                     `json:"InstanceId"`
	Comment                string                     `json:"Comment"`
	DocumentName           string                     `json:"DocumentName"`
	DocumentVersion        string                     `json:"DocumentVersion"`
	PluginName             string                     `json:"PluginName"`
	ResponseCode           int                        `json:"ResponseCode"`
	ExecutionStartDateTime string                     `json:"ExecutionStartDateTime"`
	ExecutionElapsedTime   string                     `json:"ExecutionElapsedTime"`
	ExecutionEndDateTime   string                     `json:"ExecutionEndDateTime"`
	Status                 string                     `json:"Status"`
	StatusDetails          string                     `json:"StatusDetails"`
	StandardOutputContent  string                     `json:"StandardOutputContent"`
	StandardOutputURL      string                     `json:"StandardOutputUrl"`
	StandardErrorContent   string                     `json:"StandardErrorContent"`
	StandardErrorURL       string                     `json:"StandardErrorUrl"`
	CloudWatchOutputConfig wireCloudWatchOutputConfig `json:"CloudWatchOutputConfig"`
}

// getCommandInvocation serves GetCommandInvocation: the result of one step
// of an invocation. A document with more than one step needs PluginName.
func (s *Server) getCommandInvocation(ctx context.Context, call *ssmCall) (any, error) {
	var in getCommandInvocationInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	if err := checkCommandID("commandId", in.CommandID); err != nil {
		return nil, err
	}
	if err := checkInstanceID("instanceId", in.InstanceID); err != nil {
		return nil, err
	}
	if in.PluginName != "" && len(in.PluginName) < 4 {
		return nil, ssmValidationError("pluginName", in.PluginName, "Member must have length greater than or equal to 4")
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	now := s.now()
	cmd := st.commands[in.CommandID]
	var inv *invocation
	if cmd != nil && cmd.visible(now) {
		inv = cmd.invocationFor(in.InstanceID)
	}
	if inv == nil {
		return nil, ssmError("InvocationDoesNotExist", "Command %s has no invocation on instance %s.", in.CommandID, in.InstanceID)
	}
	inv.refresh(now)

	var plugin *pluginState
	switch {
	case in.PluginName != "":
		for _, p := range inv.plugins {
			if p.step.Name == in.PluginName {
				plugin = p
			}
		}
		if plugin == nil {
			return nil, ssmError("InvalidPluginName", "Document %s has no step named %s.", cmd.DocumentName, in.PluginName)
		}
	case len(inv.plugins) == 1:
		plugin = inv.plugins[0]
	default:
		return nil, ssmError("InvalidPluginName", "Document %s has %d steps; set PluginName to the name of one of them.", cmd.DocumentName, len(inv.plugins))
	}

	start, elapsed, end := executionTimes(plugin, now)
	return getCommandInvocationOutput{
		CommandID:              cmd.ID,
		InstanceID:             inv.inst.InstanceID,
		Comment:                cmd.Comment,
		DocumentName:           cmd.DocumentName,
		DocumentVersion:        cmd.DocumentVersion,
		PluginName:             plugin.step.Name,
		ResponseCode:           plugin.Code,
		ExecutionStartDateTime: start,
		ExecutionElapsedTime:   elapsed,
		ExecutionEndDateTime:   end,
		Status:                 plugin.Status,
		StatusDetails:          plugin.Details,
		StandardOutputContent:  plugin.StdoutContent,
		StandardOutputURL:      plugin.StdoutURL,
		StandardErrorContent:   plugin.StderrContent,
		StandardErrorURL:       plugin.StderrURL,
		CloudWatchOutputConfig: cmd.CloudWatch,
	}, nil
}

// executionTimes formats a step's times as GetCommandInvocation does: ISO
// 8601 with milliseconds, and the elapsed time as an ISO 8601 duration.
// They are empty before the step starts; the elapsed time counts up while
// it runs. AWS reports the end as the start plus the whole seconds of the
// elapsed time (in its samples, a 2.44 s run ends exactly 2 s after its
// start), and the sandbox does the same.
func executionTimes(p *pluginState, now time.Time) (start, elapsed, end string) {
	if p.Start.IsZero() {
		return "", "", ""
	}
	const layout = "2006-01-02T15:04:05.000Z"
	start = p.Start.UTC().Format(layout)
	if p.End.IsZero() {
		return start, isoDuration(now.Sub(p.Start)), ""
	}
	d := p.End.Sub(p.Start)
	return start, isoDuration(d), p.Start.Add(d.Truncate(time.Second)).UTC().Format(layout)
}

// isoDuration formats a duration as an ISO 8601 duration with millisecond
// precision, the way java.time.Duration prints it: "PT0.056S", "PT2.44S",
// "PT1H0.271S", "PT0S".
func isoDuration(d time.Duration) string {
	d = max(d.Round(time.Millisecond), 0)
	hours := int64(d / time.Hour)
	minutes := int64(d % time.Hour / time.Minute)
	millis := int64(d % time.Minute / time.Millisecond)

	var b strings.Builder
	b.WriteString("PT")
	if hours > 0 {
		fmt.Fprintf(&b, "%dH", hours)
	}
	if minutes > 0 {
		fmt.Fprintf(&b, "%dM", minutes)
	}
	if millis == 0 && (hours > 0 || minutes > 0) {
		return b.String()
	}
	seconds := strconv.FormatInt(millis/1000, 10)
	if frac := millis % 1000; frac > 0 {
		seconds += "." + strings.TrimRight(fmt.Sprintf("%03d", frac), "0")
	}
	b.WriteString(seconds + "S")
	return b.String()
}

// commandFilter is one CommandFilter of ListCommands or
// ListCommandInvocations.
type commandFilter struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// statusMatches applies a Status filter value to a status pair. TimedOut
// covers both delivery and execution timeouts; the other values match the
// Status or the StatusDetails.
func statusMatches(value, status, details string) bool {
	return value == status || value == details
}

// checkCommandFilters validates filters. executionStage allows the
// ExecutionStage key, which only ListCommands takes.
func checkCommandFilters(filters []commandFilter, executionStage bool) error {
	if len(filters) > 5 {
		return ssmValidationError("filters", fmt.Sprint(filters), "Member must have length less than or equal to 5")
	}
	for _, f := range filters {
		switch f.Key {
		case "InvokedAfter", "InvokedBefore":
			if _, err := time.Parse(time.RFC3339, f.Value); err != nil {
				return ssmError("InvalidFilterValue", "The %s filter value %s is not a date and time such as 2024-07-07T00:00:00Z.", f.Key, f.Value)
			}
		case "Status", "DocumentName":
		case "ExecutionStage":
			if !executionStage {
				return ssmError("InvalidFilterKey", "The ExecutionStage filter can be used with ListCommands only.")
			}
			if f.Value != "Executing" && f.Value != "Complete" {
				return ssmError("InvalidFilterValue", "The ExecutionStage filter value %s is not valid. Valid values are Executing and Complete.", f.Value)
			}
		default:
			return ssmError("InvalidFilterKey", "The filter key %s is not valid. Valid keys are InvokedAfter, InvokedBefore, Status, DocumentName and ExecutionStage.", f.Key)
		}
	}
	return nil
}

// filterMatches applies one checked filter to a command's request time,
// document and status.
func filterMatches(f commandFilter, requested time.Time, documentName, status, details string) bool {
	switch f.Key {
	case "InvokedAfter":
		t, _ := time.Parse(time.RFC3339, f.Value)
		return !requested.Before(t)
	case "InvokedBefore":
		t, _ := time.Parse(time.RFC3339, f.Value)
		return requested.Before(t)
	case "Status":
		return statusMatches(f.Value, status, details)
	case "DocumentName":
		return documentName == f.Value
	case "ExecutionStage":
		return (f.Value == "Complete") == isTerminalStatus(status)
	}
	return false
}

type listCommandsInput struct {
	CommandID  string          `json:"CommandId"`
	InstanceID string          `json:"InstanceId"`
	Filters    []commandFilter `json:"Filters"`
	MaxResults *int32          `json:"MaxResults"`
	NextToken  *string         `json:"NextToken"`
}

// listCommands serves ListCommands, newest command first.
func (s *Server) listCommands(ctx context.Context, call *ssmCall) (any, error) {
	var in listCommandsInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	limit, err := checkMaxResults(in.MaxResults, 1, 50, 50)
	if err != nil {
		return nil, err
	}
	if in.CommandID != "" {
		if err := checkCommandID("commandId", in.CommandID); err != nil {
			return nil, err
		}
	}
	if in.InstanceID != "" {
		if err := checkInstanceID("instanceId", in.InstanceID); err != nil {
			return nil, err
		}
	}
	if err := checkCommandFilters(in.Filters, true); err != nil {
		return nil, err
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	now := s.now()
	if in.CommandID != "" && st.commands[in.CommandID] == nil {
		return nil, ssmError("InvalidCommandId", "Command %s does not exist.", in.CommandID)
	}

	var matched []*command
	var wired []wireCommand
	for i := len(st.commandList) - 1; i >= 0; i-- {
		cmd := st.commandList[i]
		if in.CommandID != "" && cmd.ID != in.CommandID {
			continue
		}
		if in.InstanceID != "" && (!cmd.visible(now) || cmd.invocationFor(in.InstanceID) == nil) {
			continue
		}
		cmd.refresh(now)
		w := cmd.wire(now)
		keep := true
		for _, f := range in.Filters {
			keep = keep && filterMatches(f, cmd.Requested, cmd.DocumentName, w.Status, w.StatusDetails)
		}
		if keep {
			matched = append(matched, cmd)
			wired = append(wired, w)
		}
	}

	keys := make([]string, len(matched))
	for i, cmd := range matched {
		keys[i] = commandSortKey(cmd)
	}
	page, err := st.paginate("ListCommands", keys, limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	return struct {
		Commands  []wireCommand `json:"Commands"`
		NextToken *string       `json:"NextToken,omitempty"`
	}{Commands: append([]wireCommand{}, wired[page.Lo:page.Hi]...), NextToken: page.NextToken}, nil
}

// commandSortKey orders commands newest first.
func commandSortKey(cmd *command) string {
	return fmt.Sprintf("%016x", math.MaxInt64-cmd.seq)
}

type listCommandInvocationsInput struct {
	CommandID  string          `json:"CommandId"`
	InstanceID string          `json:"InstanceId"`
	Details    bool            `json:"Details"`
	Filters    []commandFilter `json:"Filters"`
	MaxResults *int32          `json:"MaxResults"`
	NextToken  *string         `json:"NextToken"`
}

type wireCommandPlugin struct {
	Name                   string     `json:"Name"`
	Status                 string     `json:"Status"`
	StatusDetails          string     `json:"StatusDetails"`
	ResponseCode           int        `json:"ResponseCode"`
	ResponseStartDateTime  *epochTime `json:"ResponseStartDateTime,omitempty"`
	ResponseFinishDateTime *epochTime `json:"ResponseFinishDateTime,omitempty"`
	Output                 string     `json:"Output"`
	StandardOutputURL      string     `json:"StandardOutputUrl"`
	StandardErrorURL       string     `json:"StandardErrorUrl"`
	OutputS3Region         string     `json:"OutputS3Region"`
	OutputS3BucketName     string     `json:"OutputS3BucketName"`
	OutputS3KeyPrefix      string     `json:"OutputS3KeyPrefix"`
}

type wireCommandInvocation struct {
	CommandID              string                     `json:"CommandId"`
	InstanceID             string                     `json:"InstanceId"`
	InstanceName           string                     `json:"InstanceName"`
	Comment                string                     `json:"Comment"`
	DocumentName           string                     `json:"DocumentName"`
	DocumentVersion        string                     `json:"DocumentVersion"`
	RequestedDateTime      epochTime                  `json:"RequestedDateTime"`
	Status                 string                     `json:"Status"`
	StatusDetails          string                     `json:"StatusDetails"`
	StandardOutputURL      string                     `json:"StandardOutputUrl"`
	StandardErrorURL       string                     `json:"StandardErrorUrl"`
	CommandPlugins         []wireCommandPlugin        `json:"CommandPlugins"`
	ServiceRole            string                     `json:"ServiceRole"`
	NotificationConfig     wireNotificationConfig     `json:"NotificationConfig"`
	CloudWatchOutputConfig wireCloudWatchOutputConfig `json:"CloudWatchOutputConfig"`
}

func (inv *invocation) wire(details bool) wireCommandInvocation {
	cmd := inv.cmd
	w := wireCommandInvocation{
		CommandID:              cmd.ID,
		InstanceID:             inv.inst.InstanceID,
		InstanceName:           inv.inst.ComputerName,
		Comment:                cmd.Comment,
		DocumentName:           cmd.DocumentName,
		DocumentVersion:        cmd.DocumentVersion,
		RequestedDateTime:      epochTime(cmd.Requested),
		Status:                 inv.Status,
		StatusDetails:          inv.Details,
		CommandPlugins:         []wireCommandPlugin{},
		ServiceRole:            cmd.ServiceRole,
		NotificationConfig:     cmd.Notification,
		CloudWatchOutputConfig: cmd.CloudWatch,
	}
	// The invocation carries the output URLs when the document has one step.
	if len(inv.plugins) == 1 {
		w.StandardOutputURL = inv.plugins[0].StdoutURL
		w.StandardErrorURL = inv.plugins[0].StderrURL
	}
	if !details {
		return w
	}
	for _, p := range inv.plugins {
		plugin := wireCommandPlugin{
			Name:                   p.step.Name,
			Status:                 p.Status,
			StatusDetails:          p.Details,
			ResponseCode:           p.Code,
			ResponseStartDateTime:  epochPtr(p.Start),
			ResponseFinishDateTime: epochPtr(p.End),
			Output:                 p.Output,
			StandardOutputURL:      p.StdoutURL,
			StandardErrorURL:       p.StderrURL,
			OutputS3Region:         cmd.Region,
			OutputS3BucketName:     cmd.Bucket,
		}
		if cmd.Bucket != "" {
			plugin.OutputS3KeyPrefix = s3KeyPath(cmd.KeyPrefix, cmd.ID, inv.inst.InstanceID, p.step.pluginSegment())
		}
		w.CommandPlugins = append(w.CommandPlugins, plugin)
	}
	return w
}

// listCommandInvocations serves ListCommandInvocations: newest command
// first, and a command's invocations in the order of its targets. An
// invocation is left out until the invocation delay after SendCommand has
// passed. An unknown CommandId gives an empty list.
func (s *Server) listCommandInvocations(ctx context.Context, call *ssmCall) (any, error) {
	var in listCommandInvocationsInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	limit, err := checkMaxResults(in.MaxResults, 1, 50, 50)
	if err != nil {
		return nil, err
	}
	if in.CommandID != "" {
		if err := checkCommandID("commandId", in.CommandID); err != nil {
			return nil, err
		}
	}
	if in.InstanceID != "" {
		if err := checkInstanceID("instanceId", in.InstanceID); err != nil {
			return nil, err
		}
	}
	if err := checkCommandFilters(in.Filters, false); err != nil {
		return nil, err
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	now := s.now()

	var matched []*invocation
	var keys []string
	for i := len(st.commandList) - 1; i >= 0; i-- {
		cmd := st.commandList[i]
		if (in.CommandID != "" && cmd.ID != in.CommandID) || !cmd.visible(now) {
			continue
		}
		for j, inv := range cmd.invocations {
			if in.InstanceID != "" && inv.inst.InstanceID != in.InstanceID {
				continue
			}
			inv.refresh(now)
			keep := true
			for _, f := range in.Filters {
				keep = keep && filterMatches(f, cmd.Requested, cmd.DocumentName, inv.Status, inv.Details)
			}
			if keep {
				matched = append(matched, inv)
				keys = append(keys, commandSortKey(cmd)+"-"+indexKey(j))
			}
		}
	}

	page, err := st.paginate("ListCommandInvocations", keys, limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		CommandInvocations []wireCommandInvocation `json:"CommandInvocations"`
		NextToken          *string                 `json:"NextToken,omitempty"`
	}{CommandInvocations: []wireCommandInvocation{}, NextToken: page.NextToken}
	for _, inv := range matched[page.Lo:page.Hi] {
		out.CommandInvocations = append(out.CommandInvocations, inv.wire(in.Details))
	}
	return out, nil
}

type cancelCommandInput struct {
	CommandID   string   `json:"CommandId"`
	InstanceIDs []string `json:"InstanceIds"`
}

// cancelCommand serves CancelCommand. Invocations that have not started are
// Cancelled at once; running ones are Cancelling until the agent has killed
// their processes.
func (s *Server) cancelCommand(ctx context.Context, call *ssmCall) (any, error) {
	var in cancelCommandInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	if err := checkCommandID("commandId", in.CommandID); err != nil {
		return nil, err
	}
	for _, id := range in.InstanceIDs {
		if err := checkInstanceID("instanceIds", id); err != nil {
			return nil, err
		}
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	cmd := st.commands[in.CommandID]
	if cmd == nil {
		return nil, ssmError("InvalidCommandId", "Command %s does not exist.", in.CommandID)
	}
	now := s.now()
	cmd.refresh(now)
	if len(in.InstanceIDs) == 0 {
		cmd.cancelRequested = true
	}
	for _, inv := range cmd.invocations {
		if len(in.InstanceIDs) > 0 && !slices.Contains(in.InstanceIDs, inv.inst.InstanceID) {
			continue
		}
		if inv.terminal() {
			continue
		}
		if inv.Status == "Pending" {
			inv.markCancelled(now)
		} else {
			inv.Status, inv.Details = "Cancelling", "Cancelling"
		}
		inv.requestCancel()
	}
	s.log.Info("ssm command cancelled", "command_id", cmd.ID, "instances", in.InstanceIDs)
	return struct{}{}, nil
}

// markCancelled ends an invocation and every step that has not finished.
func (inv *invocation) markCancelled(now time.Time) {
	inv.Status, inv.Details = "Cancelled", "Cancelled"
	for _, p := range inv.plugins {
		if !isTerminalStatus(p.Status) {
			p.Status, p.Details = "Cancelled", "Cancelled"
			if !p.Start.IsZero() && p.End.IsZero() {
				p.End = now
			}
		}
	}
}
