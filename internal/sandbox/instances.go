package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// instanceIDPattern is the pattern of a managed node id in the SSM API model.
var instanceIDPattern = regexp.MustCompile(`(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)`)

// pingInterval is how often an online SSM Agent reports to the service, so
// an online instance's LastPingDateTime is never older than this.
const pingInterval = 5 * time.Minute

// instance is one managed instance. The JSON form is the instances file's:
// one object per instance, with AWS's member names and RFC 3339 times.
type instance struct {
	InstanceID      string    `json:"InstanceId"`
	PlatformType    string    `json:"PlatformType"`
	PlatformName    string    `json:"PlatformName"`
	PlatformVersion string    `json:"PlatformVersion"`
	PingStatus      string    `json:"PingStatus"`
	AgentVersion    string    `json:"AgentVersion"`
	IsLatestVersion bool      `json:"IsLatestVersion"`
	ComputerName    string    `json:"ComputerName"`
	IPAddress       string    `json:"IPAddress"`
	ResourceType    string    `json:"ResourceType"`
	Tags            []wireTag `json:"Tags"`

	// Set for a ManagedInstance (an mi- id registered through an activation).
	Name             string    `json:"Name"`
	IamRole          string    `json:"IamRole"`
	ActivationID     string    `json:"ActivationId"`
	RegistrationDate time.Time `json:"RegistrationDate"`

	// LastPingDateTime is used for an instance that is not online; an online
	// instance pinged within the last pingInterval.
	LastPingDateTime time.Time `json:"LastPingDateTime"`

	AssociationStatus                      string               `json:"AssociationStatus"`
	LastAssociationExecutionDate           time.Time            `json:"LastAssociationExecutionDate"`
	LastSuccessfulAssociationExecutionDate time.Time            `json:"LastSuccessfulAssociationExecutionDate"`
	AssociationOverview                    *associationOverview `json:"AssociationOverview"`

	home string
}

type associationOverview struct {
	DetailedStatus                           string           `json:"DetailedStatus"`
	InstanceAssociationStatusAggregatedCount map[string]int32 `json:"InstanceAssociationStatusAggregatedCount"`
}

func (inst *instance) online() bool { return inst.PingStatus == "Online" }

func (inst *instance) tag(key string) (string, bool) {
	for _, t := range inst.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// loadInstances reads Options.InstancesFile and creates each instance's
// home directory. No file means no managed instances.
func (s *Server) loadInstances() error {
	st := &s.ssm
	if s.opts.InstancesFile == "" {
		return nil
	}
	data, err := os.ReadFile(s.opts.InstancesFile)
	if err != nil {
		return fmt.Errorf("read instances file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var list []*instance
	if err := dec.Decode(&list); err != nil {
		return fmt.Errorf("parse instances file %s: %w", s.opts.InstancesFile, err)
	}

	for _, inst := range list {
		if err := checkInstanceDefinition(inst); err != nil {
			return fmt.Errorf("instances file %s: %w", s.opts.InstancesFile, err)
		}
		if st.instanceByID[inst.InstanceID] != nil {
			return fmt.Errorf("instances file %s: instance %s is defined twice", s.opts.InstancesFile, inst.InstanceID)
		}
		inst.home = instanceHomeDir(s.opts.StateDir, inst.InstanceID)
		if err := os.MkdirAll(inst.home, 0o755); err != nil {
			return fmt.Errorf("create home directory of instance %s: %w", inst.InstanceID, err)
		}
		st.instances = append(st.instances, inst)
		st.instanceByID[inst.InstanceID] = inst
	}
	return nil
}

func checkInstanceDefinition(inst *instance) error {
	if !instanceIDPattern.MatchString(inst.InstanceID) {
		return fmt.Errorf("instance id %q does not match %s", inst.InstanceID, instanceIDPattern)
	}
	if !slices.Contains([]string{"Linux", "Windows", "MacOS"}, inst.PlatformType) {
		return fmt.Errorf("instance %s: PlatformType %q is not Linux, Windows or MacOS", inst.InstanceID, inst.PlatformType)
	}
	if !slices.Contains([]string{"Online", "ConnectionLost", "Inactive"}, inst.PingStatus) {
		return fmt.Errorf("instance %s: PingStatus %q is not Online, ConnectionLost or Inactive", inst.InstanceID, inst.PingStatus)
	}
	managed := strings.HasPrefix(inst.InstanceID, "mi-")
	switch {
	case inst.ResourceType == "EC2Instance" && managed:
		return fmt.Errorf("instance %s: an mi- id is a ManagedInstance, not an EC2Instance", inst.InstanceID)
	case inst.ResourceType == "ManagedInstance" && !managed:
		return fmt.Errorf("instance %s: a ManagedInstance has an mi- id", inst.InstanceID)
	case inst.ResourceType != "EC2Instance" && inst.ResourceType != "ManagedInstance":
		return fmt.Errorf("instance %s: ResourceType %q is not EC2Instance or ManagedInstance", inst.InstanceID, inst.ResourceType)
	}
	return nil
}

// invalidInstanceIDError returns the error AWS sends for instance ids that
// are not managed instances of the account.
func invalidInstanceIDError(ids []string, account string) error {
	return ssmError("InvalidInstanceId", "Instances [[%s]] not in a valid state for account %s", strings.Join(ids, ", "), account)
}

// wireInstanceInformation is one InstanceInformation item of
// DescribeInstanceInformation.
type wireInstanceInformation struct {
	InstanceID                             string               `json:"InstanceId"`
	PingStatus                             string               `json:"PingStatus"`
	LastPingDateTime                       *epochTime           `json:"LastPingDateTime,omitempty"`
	AgentVersion                           string               `json:"AgentVersion"`
	IsLatestVersion                        bool                 `json:"IsLatestVersion"`
	PlatformType                           string               `json:"PlatformType"`
	PlatformName                           string               `json:"PlatformName"`
	PlatformVersion                        string               `json:"PlatformVersion"`
	ActivationID                           string               `json:"ActivationId,omitempty"`
	IamRole                                string               `json:"IamRole,omitempty"`
	RegistrationDate                       *epochTime           `json:"RegistrationDate,omitempty"`
	ResourceType                           string               `json:"ResourceType"`
	Name                                   string               `json:"Name,omitempty"`
	IPAddress                              string               `json:"IPAddress"`
	ComputerName                           string               `json:"ComputerName"`
	AssociationStatus                      string               `json:"AssociationStatus,omitempty"`
	LastAssociationExecutionDate           *epochTime           `json:"LastAssociationExecutionDate,omitempty"`
	LastSuccessfulAssociationExecutionDate *epochTime           `json:"LastSuccessfulAssociationExecutionDate,omitempty"`
	AssociationOverview                    *associationOverview `json:"AssociationOverview,omitempty"`
	SourceID                               string               `json:"SourceId"`
	SourceType                             string               `json:"SourceType"`
}

func (st *ssmState) instanceInformation(inst *instance, now time.Time) wireInstanceInformation {
	lastPing := inst.LastPingDateTime
	if inst.online() {
		// The last ping of an online agent is the latest ping tick since
		// the sandbox started.
		ticks := now.Sub(st.started) / pingInterval
		lastPing = st.started.Add(ticks * pingInterval)
	}
	info := wireInstanceInformation{
		InstanceID:                             inst.InstanceID,
		PingStatus:                             inst.PingStatus,
		LastPingDateTime:                       epochPtr(lastPing),
		AgentVersion:                           inst.AgentVersion,
		IsLatestVersion:                        inst.IsLatestVersion,
		PlatformType:                           inst.PlatformType,
		PlatformName:                           inst.PlatformName,
		PlatformVersion:                        inst.PlatformVersion,
		ActivationID:                           inst.ActivationID,
		IamRole:                                inst.IamRole,
		RegistrationDate:                       epochPtr(inst.RegistrationDate),
		ResourceType:                           inst.ResourceType,
		Name:                                   inst.Name,
		IPAddress:                              inst.IPAddress,
		ComputerName:                           inst.ComputerName,
		AssociationStatus:                      inst.AssociationStatus,
		LastAssociationExecutionDate:           epochPtr(inst.LastAssociationExecutionDate),
		LastSuccessfulAssociationExecutionDate: epochPtr(inst.LastSuccessfulAssociationExecutionDate),
		AssociationOverview:                    inst.AssociationOverview,
		SourceID:                               inst.InstanceID,
		SourceType:                             "AWS::EC2::Instance",
	}
	if inst.ResourceType == "ManagedInstance" {
		info.SourceType = "AWS::SSM::ManagedInstance"
	}
	return info
}

type describeInstanceInformationInput struct {
	InstanceInformationFilterList []struct {
		Key      string   `json:"key"`
		ValueSet []string `json:"valueSet"`
	} `json:"InstanceInformationFilterList"`
	Filters []struct {
		Key    string   `json:"Key"`
		Values []string `json:"Values"`
	} `json:"Filters"`
	MaxResults *int32  `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

type describeInstanceInformationOutput struct {
	InstanceInformationList []wireInstanceInformation `json:"InstanceInformationList"`
	NextToken               *string                   `json:"NextToken,omitempty"`
}

// instanceFilter keeps the instances that match one filter.
type instanceFilter func(*instance) bool

// describeInstanceInformation serves DescribeInstanceInformation.
//
// An unknown instance id in InstanceInformationFilterList is an
// InvalidInstanceId error, while in Filters it only matches nothing.
// NOTE: that split follows the SDK's documented errors for the older filter
// list; it has not been checked against AWS for every key.
func (s *Server) describeInstanceInformation(ctx context.Context, call *ssmCall) (any, error) {
	var in describeInstanceInformationInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	limit, err := checkMaxResults(in.MaxResults, 5, 50, 50)
	if err != nil {
		return nil, err
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()

	var filters []instanceFilter
	for _, f := range in.InstanceInformationFilterList {
		filter, err := st.instanceListFilter(f.Key, f.ValueSet, call.Caller.AccountID)
		if err != nil {
			return nil, err
		}
		filters = append(filters, filter)
	}
	for _, f := range in.Filters {
		filter, err := instanceStringFilter(f.Key, f.Values)
		if err != nil {
			return nil, err
		}
		filters = append(filters, filter)
	}

	var matched []*instance
	for _, inst := range st.instances {
		if matchesAll(inst, filters) {
			matched = append(matched, inst)
		}
	}

	keys := make([]string, len(matched))
	for i := range matched {
		keys[i] = indexKey(i)
	}
	page, err := st.paginate("DescribeInstanceInformation", keys, limit, in.NextToken)
	if err != nil {
		return nil, err
	}

	now := s.now()
	out := describeInstanceInformationOutput{InstanceInformationList: []wireInstanceInformation{}, NextToken: page.NextToken}
	for _, inst := range matched[page.Lo:page.Hi] {
		out.InstanceInformationList = append(out.InstanceInformationList, st.instanceInformation(inst, now))
	}
	return out, nil
}

func matchesAll(inst *instance, filters []instanceFilter) bool {
	for _, f := range filters {
		if !f(inst) {
			return false
		}
	}
	return true
}

// instanceListFilter builds a filter of the older InstanceInformationFilterList.
func (st *ssmState) instanceListFilter(key string, values []string, account string) (instanceFilter, error) {
	if len(values) == 0 {
		return nil, ssmValidationError("instanceInformationFilterList.member.valueSet", "[]", "Member must have length greater than or equal to 1")
	}
	if key == "InstanceIds" {
		var unknown []string
		for _, id := range values {
			if st.instanceByID[id] == nil {
				unknown = append(unknown, id)
			}
		}
		if len(unknown) > 0 {
			return nil, invalidInstanceIDError(unknown, account)
		}
	}
	filter, known, err := instanceFilterByKey(key, values)
	if err != nil {
		return nil, err
	}
	if !known {
		return nil, ssmValidationError("instanceInformationFilterList.member.key", key,
			"Member must satisfy enum value set: [InstanceIds, AgentVersion, PingStatus, PlatformTypes, ActivationIds, IamRole, ResourceType, AssociationStatus]")
	}
	return filter, nil
}

// instanceStringFilter builds a filter of Filters, which also takes
// "tag:<key>" and "tag-key".
func instanceStringFilter(key string, values []string) (instanceFilter, error) {
	if len(values) == 0 {
		return nil, ssmValidationError("filters.member.values", "[]", "Member must have length greater than or equal to 1")
	}
	if tagKey, ok := strings.CutPrefix(key, "tag:"); ok {
		return func(inst *instance) bool {
			v, has := inst.tag(tagKey)
			return has && slices.Contains(values, v)
		}, nil
	}
	if key == "tag-key" {
		return func(inst *instance) bool {
			return slices.ContainsFunc(values, func(k string) bool { _, has := inst.tag(k); return has })
		}, nil
	}
	filter, known, err := instanceFilterByKey(key, values)
	if err != nil {
		return nil, err
	}
	if !known {
		return nil, ssmError("InvalidFilterKey", "The filter key %s is not valid. Valid keys are AgentVersion, InstanceIds, PingStatus, PlatformTypes, ActivationIds, IamRole, ResourceType, AssociationStatus, tag-key and tag:<key>.", key)
	}
	return filter, nil
}

// instanceFilterByKey builds the filters that both filter forms share. known
// is false for a key it does not know.
func instanceFilterByKey(key string, values []string) (filter instanceFilter, known bool, err error) {
	checkValues := func(allowed ...string) error {
		for _, v := range values {
			if !slices.Contains(allowed, v) {
				return ssmError("InvalidInstanceInformationFilterValue", "The filter value %s is not valid for key %s. Valid values are %s.", v, key, strings.Join(allowed, ", "))
			}
		}
		return nil
	}
	field := func(get func(*instance) string) instanceFilter {
		return func(inst *instance) bool { return slices.Contains(values, get(inst)) }
	}

	switch key {
	case "InstanceIds":
		return field(func(i *instance) string { return i.InstanceID }), true, nil
	case "AgentVersion":
		return field(func(i *instance) string { return i.AgentVersion }), true, nil
	case "PingStatus":
		return field(func(i *instance) string { return i.PingStatus }), true, checkValues("Online", "ConnectionLost", "Inactive")
	case "PlatformTypes":
		return field(func(i *instance) string { return i.PlatformType }), true, checkValues("Windows", "Linux", "MacOS")
	case "ResourceType":
		return field(func(i *instance) string { return i.ResourceType }), true, checkValues("EC2Instance", "ManagedInstance")
	case "ActivationIds":
		return field(func(i *instance) string { return i.ActivationID }), true, nil
	case "IamRole":
		return field(func(i *instance) string { return i.IamRole }), true, nil
	case "AssociationStatus":
		return field(func(i *instance) string { return i.AssociationStatus }), true, nil
	}
	return nil, false, nil
}

// resolveTargets returns the managed instances that match every target of a
// SendCommand. Keys: "InstanceIds", "tag:<key>" and "tag-key". Instance ids
// in an InstanceIds target that are not managed instances match nothing,
// and Inactive instances are never targets.
func (st *ssmState) resolveTargets(targets []wireTarget) ([]*instance, error) {
	var filters []instanceFilter
	for i, t := range targets {
		if len(t.Values) == 0 {
			return nil, ssmValidationError(fmt.Sprintf("targets.%d.member.values", i+1), "[]", "Member must have length greater than or equal to 1")
		}
		if len(t.Values) > 50 {
			return nil, ssmValidationError(fmt.Sprintf("targets.%d.member.values", i+1), strings.Join(t.Values, ", "), "Member must have length less than or equal to 50")
		}
		switch {
		case strings.EqualFold(t.Key, "InstanceIds"):
			values := t.Values
			filters = append(filters, func(inst *instance) bool { return slices.Contains(values, inst.InstanceID) })
		case strings.HasPrefix(t.Key, "tag:") || t.Key == "tag-key":
			filter, err := instanceStringFilter(t.Key, t.Values)
			if err != nil {
				return nil, err
			}
			filters = append(filters, filter)
		default:
			return nil, ssmError("InvalidTarget", "Target key %s is not supported by the sandbox: use InstanceIds, tag:<key> or tag-key.", t.Key)
		}
	}

	var matched []*instance
	for _, inst := range st.instances {
		if inst.PingStatus != "Inactive" && matchesAll(inst, filters) {
			matched = append(matched, inst)
		}
	}
	return matched, nil
}
