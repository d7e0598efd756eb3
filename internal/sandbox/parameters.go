package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Limits of Parameter Store.
const (
	maxParameterVersions   = 100
	maxParameterDepth      = 15
	maxParameterNameLength = 1011
	standardValueLimit     = 4096
	advancedValueLimit     = 8192
	maxTagsPerResource     = 50
	defaultSecureStringKey = "alias/aws/ssm"
)

// parameterNameChars are the characters a parameter name may contain.
var parameterNameChars = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)

// parameterNameRule is AWS's message for a parameter name that breaks the
// naming rules.
const parameterNameRule = `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive). ` +
	`If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be ` +
	`formed as a mix of letters, numbers and the following 3 symbols .-_`

// parameter is one Parameter Store parameter and its versions, oldest
// first. Versions beyond the last 100 are dropped, as AWS drops them.
type parameter struct {
	Name     string
	versions []*parameterVersion
	Tags     []wireTag
}

type parameterVersion struct {
	Version        int64
	Type           string
	Value          string
	Description    string
	KeyID          string
	AllowedPattern string
	Tier           string
	DataType       string
	Policies       string
	Modified       time.Time
	User           string
}

func (p *parameter) latest() *parameterVersion { return p.versions[len(p.versions)-1] }

func (p *parameter) version(n int64) *parameterVersion {
	for _, v := range p.versions {
		if v.Version == n {
			return v
		}
	}
	return nil
}

// parameterText is the value of a String or StringList parameter, for
// {{ssm:name}} references in command parameters.
func (st *ssmState) parameterText(name string) (string, bool) {
	p := st.parameters[name]
	if p == nil || p.latest().Type == "SecureString" {
		return "", false
	}
	return p.latest().Value, true
}

// checkParameterName applies Parameter Store's naming rules.
func checkParameterName(name string) error {
	if name == "" {
		return ssmValidationError("name", name, "Member must have length greater than or equal to 1")
	}
	if len(name) > maxParameterNameLength {
		return ssmValidationError("name", name, fmt.Sprintf("Member must have length less than or equal to %d", maxParameterNameLength))
	}
	trimmed := strings.ToLower(strings.TrimPrefix(name, "/"))
	if !parameterNameChars.MatchString(name) || strings.HasPrefix(trimmed, "aws") || strings.HasPrefix(trimmed, "ssm") {
		return ssmError("ValidationException", "%s", parameterNameRule)
	}
	if strings.Contains(name, "/") {
		if !strings.HasPrefix(name, "/") || strings.Contains(name, "//") || strings.HasSuffix(name, "/") {
			return ssmError("ValidationException", "%s", parameterNameRule)
		}
		if strings.Count(name, "/") > maxParameterDepth {
			return ssmError("HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of %d levels; parameter %s has %d.", maxParameterDepth, name, strings.Count(name, "/"))
		}
	}
	return nil
}

// parameterARN is a parameter's ARN: a hierarchical name keeps its leading
// slash after "parameter", a plain name gets one.
func parameterARN(region, account, name string) string {
	if region == "" {
		region = DefaultRegion
	}
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", region, account, name)
}

// cipherText returns the text sent in place of a SecureString value read
// without decryption: opaque base64 in the shape of a KMS ciphertext blob,
// derived from a secret of the server so that it never reveals the value.
func (st *ssmState) cipherText(name string, v *parameterVersion) string {
	mac := hmac.New(sha256.New, st.cipherKey)
	fmt.Fprintf(mac, "%s\x00%d\x00%s\x00%s", name, v.Version, v.KeyID, v.Value)
	sum := mac.Sum(nil)
	blob := append([]byte{0x01, 0x02, 0x02, 0x00, 0x78}, sum...)
	blob = append(blob, sum[:16]...)
	return base64.StdEncoding.EncodeToString(blob)
}

func callerUser(call *ssmCall, account string) string {
	if call.Caller.ARN != "" {
		return call.Caller.ARN
	}
	return fmt.Sprintf("arn:aws:iam::%s:user/sandbox", account)
}

type putParameterInput struct {
	Name           string    `json:"Name"`
	Value          *string   `json:"Value"`
	Type           string    `json:"Type"`
	Description    *string   `json:"Description"`
	KeyID          *string   `json:"KeyId"`
	Overwrite      *bool     `json:"Overwrite"`
	AllowedPattern *string   `json:"AllowedPattern"`
	Tags           []wireTag `json:"Tags"`
	Tier           string    `json:"Tier"`
	Policies       *string   `json:"Policies"`
	DataType       *string   `json:"DataType"`
}

// putParameter serves PutParameter.
func (s *Server) putParameter(ctx context.Context, call *ssmCall) (any, error) {
	var in putParameterInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	if err := checkParameterName(in.Name); err != nil {
		return nil, err
	}
	if in.Value == nil || *in.Value == "" {
		return nil, ssmValidationError("value", "", "Member must have length greater than or equal to 1")
	}
	overwrite := in.Overwrite != nil && *in.Overwrite
	if overwrite && len(in.Tags) > 0 {
		return nil, ssmError("ValidationException", "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	if in.Type != "" && !slices.Contains([]string{"String", "StringList", "SecureString"}, in.Type) {
		return nil, ssmValidationError("type", in.Type, "Member must satisfy enum value set: [SecureString, StringList, String]")
	}
	if in.Tier != "" && !slices.Contains([]string{"Standard", "Advanced", "Intelligent-Tiering"}, in.Tier) {
		return nil, ssmValidationError("tier", in.Tier, "Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]")
	}
	if err := checkTags(in.Tags, nil); err != nil {
		return nil, err
	}
	dataType := "text"
	if in.DataType != nil && *in.DataType != "" {
		dataType = *in.DataType
		if !slices.Contains([]string{"text", "aws:ec2:image", "aws:ssm:integration"}, dataType) {
			return nil, ssmError("ValidationException", "The following data type is not supported: %s (Data type names are all lowercase.)", dataType)
		}
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	existing := st.parameters[in.Name]
	if existing != nil && !overwrite {
		return nil, ssmError("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	}

	// Build the new version; an overwrite keeps what the request leaves out.
	v := &parameterVersion{Type: in.Type, Value: *in.Value, DataType: dataType, Modified: s.now(), User: callerUser(call, s.accountID())}
	if existing != nil {
		prev := existing.latest()
		v.Version = prev.Version + 1
		if v.Type == "" {
			v.Type = prev.Type
		}
		v.Description = prev.Description
		if v.Type == "SecureString" && prev.Type == "SecureString" {
			v.KeyID = prev.KeyID
		}
	} else {
		v.Version = 1
		if v.Type == "" {
			return nil, ssmError("ValidationException", "A parameter type is required when you create a parameter.")
		}
	}
	if in.Description != nil {
		v.Description = *in.Description
	}
	if in.KeyID != nil && *in.KeyID != "" {
		if v.Type != "SecureString" {
			return nil, ssmError("ValidationException", "KeyId is required for SecureString type parameter only.")
		}
		v.KeyID = *in.KeyID
	}
	if v.Type == "SecureString" && v.KeyID == "" {
		v.KeyID = defaultSecureStringKey
	}
	if dataType != "text" && v.Type != "String" {
		return nil, ssmError("ValidationException", "The data type %s can only be used with parameters of type String.", dataType)
	}
	if in.Policies != nil {
		v.Policies = *in.Policies
	}

	tier, err := parameterTier(in.Tier, existing, v.Value)
	if err != nil {
		return nil, err
	}
	v.Tier = tier

	if in.AllowedPattern != nil && *in.AllowedPattern != "" {
		re, err := regexp.Compile(`^(?:` + *in.AllowedPattern + `)$`)
		if err != nil {
			return nil, ssmError("InvalidAllowedPatternException", "The allowed pattern %s is not a valid regular expression: %v", *in.AllowedPattern, err)
		}
		if !re.MatchString(v.Value) {
			return nil, ssmError("ParameterPatternMismatchException", "Parameter value, cannot be validated against allowedPattern: %s", *in.AllowedPattern)
		}
		v.AllowedPattern = *in.AllowedPattern
	}

	if existing == nil {
		existing = &parameter{Name: in.Name, Tags: append([]wireTag(nil), in.Tags...)}
		st.parameters[in.Name] = existing
	}
	existing.versions = append(existing.versions, v)
	if len(existing.versions) > maxParameterVersions {
		existing.versions = existing.versions[len(existing.versions)-maxParameterVersions:]
	}
	return struct {
		Version int64  `json:"Version"`
		Tier    string `json:"Tier"`
	}{v.Version, v.Tier}, nil
}

// parameterTier picks the tier of a new version. Intelligent-Tiering is
// Standard unless the value needs Advanced; a parameter never goes back
// from Advanced to Standard.
func parameterTier(requested string, existing *parameter, value string) (string, error) {
	tier := requested
	if tier == "" || tier == "Intelligent-Tiering" {
		tier = "Standard"
		if len(value) > standardValueLimit || (existing != nil && existing.latest().Tier == "Advanced") {
			tier = "Advanced"
		}
	}
	if tier == "Standard" && existing != nil && existing.latest().Tier == "Advanced" {
		return "", ssmError("ValidationException", "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.")
	}
	if tier == "Standard" && len(value) > standardValueLimit {
		return "", ssmError("ValidationException", "Standard tier parameters support a maximum parameter value of %d characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.", standardValueLimit)
	}
	if len(value) > advancedValueLimit {
		return "", ssmValidationError("value", value[:32]+"...", fmt.Sprintf("Member must have length less than or equal to %d", advancedValueLimit))
	}
	return tier, nil
}

type wireParameter struct {
	Name             string    `json:"Name"`
	Type             string    `json:"Type"`
	Value            string    `json:"Value"`
	Version          int64     `json:"Version"`
	Selector         string    `json:"Selector,omitempty"`
	LastModifiedDate epochTime `json:"LastModifiedDate"`
	ARN              string    `json:"ARN"`
	DataType         string    `json:"DataType"`
}

func (st *ssmState) wireParameter(p *parameter, v *parameterVersion, selector, region, account string, decrypt bool) wireParameter {
	value := v.Value
	if v.Type == "SecureString" && !decrypt {
		value = st.cipherText(p.Name, v)
	}
	return wireParameter{
		Name:             p.Name,
		Type:             v.Type,
		Value:            value,
		Version:          v.Version,
		Selector:         selector,
		LastModifiedDate: epochTime(v.Modified),
		ARN:              parameterARN(region, account, p.Name),
		DataType:         v.DataType,
	}
}

// lookupParameter finds a parameter by name or ARN, ":<version>" after
// either selecting a version. An ARN must name a parameter of this account
// in the request's region.
func (st *ssmState) lookupParameter(nameWithSelector, region, account string) (*parameter, *parameterVersion, string, error) {
	name, selector := nameWithSelector, ""
	var p *parameter
	if strings.HasPrefix(nameWithSelector, "arn:") {
		var err error
		if p, name, selector, err = st.lookupParameterARN(nameWithSelector, region, account); err != nil {
			return nil, nil, "", err
		}
	} else {
		if i := strings.LastIndex(nameWithSelector, ":"); i >= 0 {
			name, selector = nameWithSelector[:i], nameWithSelector[i:]
		}
		p = st.parameters[name]
	}
	if p == nil {
		return nil, nil, "", ssmError("ParameterNotFound", "Parameter %s not found.", name)
	}
	if selector == "" {
		return p, p.latest(), "", nil
	}
	n, err := strconv.ParseInt(selector[1:], 10, 64)
	if err != nil {
		// NOTE: the sandbox has no LabelParameterVersion, so no label exists.
		return nil, nil, "", ssmError("ParameterVersionNotFound", "Systems Manager could not find label %s of %s: the sandbox does not keep parameter labels.", selector[1:], name)
	}
	v := p.version(n)
	if v == nil {
		return nil, nil, "", ssmError("ParameterVersionNotFound", "Systems Manager could not find version %d of %s. Verify the version and try again.", n, name)
	}
	return p, v, selector, nil
}

// lookupParameterARN resolves arn:aws:ssm:REGION:ACCOUNT:parameter/NAME,
// with a version selector allowed after NAME, to a stored parameter. It
// returns nil when none matches, the name for messages (the stored name, or
// the ARN without its selector) and the selector.
func (st *ssmState) lookupParameterARN(arnWithSelector, region, account string) (*parameter, string, string, error) {
	parts := strings.SplitN(arnWithSelector, ":", 6)
	if len(parts) < 6 || parts[1] != "aws" || parts[2] != "ssm" || !strings.HasPrefix(parts[5], "parameter/") || parts[5] == "parameter/" {
		return nil, "", "", ssmError("ValidationException", "%s is not a valid parameter ARN. Use arn:aws:ssm:REGION:ACCOUNT:parameter/NAME, or the parameter's name.", arnWithSelector)
	}

	arn, selector := arnWithSelector, ""
	rest := strings.TrimPrefix(parts[5], "parameter/")
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		rest, selector = rest[:i], rest[i:]
		arn = arn[:len(arn)-len(selector)]
	}

	if region == "" {
		region = DefaultRegion
	}
	if parts[4] != account {
		return nil, arn, selector, ssmError("ParameterNotFound", "Parameter %s not found. The sandbox contains only the parameters of account %s, and no shared ones.", arn, account)
	}
	if parts[3] != region {
		return nil, arn, selector, ssmError("ParameterNotFound", "Parameter %s not found in region %s.", arn, region)
	}

	// The ARN drops a path's leading slash, so a NAME with a slash is the
	// path "/NAME". A NAME without one fits "NAME" and "/NAME": the plain
	// name wins when the sandbox has both.
	candidates := []string{"/" + rest}
	if !strings.Contains(rest, "/") {
		candidates = []string{rest, "/" + rest}
	}
	for _, name := range candidates {
		if p := st.parameters[name]; p != nil {
			return p, p.Name, selector, nil
		}
	}
	return nil, arn, selector, nil
}

type getParameterInput struct {
	Name           string `json:"Name"`
	WithDecryption *bool  `json:"WithDecryption"`
}

// getParameter serves GetParameter. A SecureString read without decryption
// returns opaque cipher text, never the value.
func (s *Server) getParameter(ctx context.Context, call *ssmCall) (any, error) {
	var in getParameterInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	p, v, selector, err := st.lookupParameter(in.Name, call.Region, s.accountID())
	if err != nil {
		return nil, err
	}

	decrypt := in.WithDecryption != nil && *in.WithDecryption
	return struct {
		Parameter wireParameter `json:"Parameter"`
	}{st.wireParameter(p, v, selector, call.Region, s.accountID(), decrypt)}, nil
}

type getParametersInput struct {
	Names          []string `json:"Names"`
	WithDecryption *bool    `json:"WithDecryption"`
}

// getParameters serves GetParameters: the parameters found, in the order
// asked, and the names not found in InvalidParameters.
func (s *Server) getParameters(ctx context.Context, call *ssmCall) (any, error) {
	var in getParametersInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	if len(in.Names) == 0 || len(in.Names) > 10 {
		return nil, ssmValidationError("names", strings.Join(in.Names, ", "), "Member must have length between 1 and 10")
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()

	decrypt := in.WithDecryption != nil && *in.WithDecryption
	out := struct {
		Parameters        []wireParameter `json:"Parameters"`
		InvalidParameters []string        `json:"InvalidParameters"`
	}{Parameters: []wireParameter{}, InvalidParameters: []string{}}
	for _, name := range in.Names {
		p, v, selector, err := st.lookupParameter(name, call.Region, s.accountID())
		if err != nil {
			out.InvalidParameters = append(out.InvalidParameters, name)
			continue
		}
		out.Parameters = append(out.Parameters, st.wireParameter(p, v, selector, call.Region, s.accountID(), decrypt))
	}
	return out, nil
}

type wireParameterHistory struct {
	Name             string    `json:"Name"`
	Type             string    `json:"Type"`
	KeyID            string    `json:"KeyId,omitempty"`
	LastModifiedDate epochTime `json:"LastModifiedDate"`
	LastModifiedUser string    `json:"LastModifiedUser"`
	Description      string    `json:"Description,omitempty"`
	Value            string    `json:"Value"`
	AllowedPattern   string    `json:"AllowedPattern,omitempty"`
	Version          int64     `json:"Version"`
	Labels           []string  `json:"Labels"`
	Tier             string    `json:"Tier"`
	Policies         []any     `json:"Policies"`
	DataType         string    `json:"DataType"`
}

type getParameterHistoryInput struct {
	Name           string  `json:"Name"`
	WithDecryption *bool   `json:"WithDecryption"`
	MaxResults     *int32  `json:"MaxResults"`
	NextToken      *string `json:"NextToken"`
}

// getParameterHistory serves GetParameterHistory, oldest version first.
// Name is a name or an ARN, without a version selector.
func (s *Server) getParameterHistory(ctx context.Context, call *ssmCall) (any, error) {
	var in getParameterHistoryInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	limit, err := checkMaxResults(in.MaxResults, 1, 50, 50)
	if err != nil {
		return nil, err
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	p, name := st.parameters[in.Name], in.Name
	if strings.HasPrefix(in.Name, "arn:") {
		var selector string
		if p, name, selector, err = st.lookupParameterARN(in.Name, call.Region, s.accountID()); err != nil {
			return nil, err
		}
		if selector != "" {
			p, name = nil, in.Name
		}
	}
	if p == nil {
		return nil, ssmError("ParameterNotFound", "Parameter %s not found.", name)
	}

	keys := make([]string, len(p.versions))
	for i, v := range p.versions {
		keys[i] = indexKey(int(v.Version))
	}
	page, err := st.paginate("GetParameterHistory", keys, limit, in.NextToken)
	if err != nil {
		return nil, err
	}

	decrypt := in.WithDecryption != nil && *in.WithDecryption
	out := struct {
		Parameters []wireParameterHistory `json:"Parameters"`
		NextToken  *string                `json:"NextToken,omitempty"`
	}{Parameters: []wireParameterHistory{}, NextToken: page.NextToken}
	for _, v := range p.versions[page.Lo:page.Hi] {
		value := v.Value
		if v.Type == "SecureString" && !decrypt {
			value = st.cipherText(p.Name, v)
		}
		out.Parameters = append(out.Parameters, wireParameterHistory{
			Name:             p.Name,
			Type:             v.Type,
			KeyID:            v.KeyID,
			LastModifiedDate: epochTime(v.Modified),
			LastModifiedUser: v.User,
			Description:      v.Description,
			Value:            value,
			AllowedPattern:   v.AllowedPattern,
			Version:          v.Version,
			Labels:           []string{},
			Tier:             v.Tier,
			Policies:         []any{},
			DataType:         v.DataType,
		})
	}
	return out, nil
}

// parameterStringFilter is one ParameterStringFilter.
type parameterStringFilter struct {
	Key    string   `json:"Key"`
	Option string   `json:"Option"`
	Values []string `json:"Values"`
}

type parameterFilter func(p *parameter) bool

// buildParameterFilter turns a ParameterStringFilter into a filter. byPath
// restricts the keys to those GetParametersByPath takes.
func buildParameterFilter(f parameterStringFilter, byPath bool) (parameterFilter, error) {
	option := f.Option
	if byPath && f.Key != "Type" && f.Key != "KeyId" && f.Key != "Label" {
		return nil, ssmError("InvalidFilterKey", "The following filter key is not valid: %s. Valid filter keys include: [Type, KeyId, Label].", f.Key)
	}
	equals := func(get func(v *parameterVersion) string) (parameterFilter, error) {
		if option != "" && option != "Equals" {
			return nil, ssmError("InvalidFilterOption", "The filter option %s is not valid for key %s. Valid options are: [Equals].", option, f.Key)
		}
		return func(p *parameter) bool { return slices.Contains(f.Values, get(p.latest())) }, nil
	}

	if tagKey, ok := strings.CutPrefix(f.Key, "tag:"); ok {
		return func(p *parameter) bool {
			return slices.ContainsFunc(p.Tags, func(t wireTag) bool {
				return t.Key == tagKey && (len(f.Values) == 0 || slices.Contains(f.Values, t.Value))
			})
		}, nil
	}
	switch f.Key {
	case "Type":
		return equals(func(v *parameterVersion) string { return v.Type })
	case "KeyId":
		return equals(func(v *parameterVersion) string { return v.KeyID })
	case "Tier":
		return equals(func(v *parameterVersion) string { return v.Tier })
	case "DataType":
		return equals(func(v *parameterVersion) string { return v.DataType })
	case "Label":
		// The sandbox keeps no labels, so no parameter has one.
		return func(p *parameter) bool { return false }, nil
	case "Name":
		return nameFilter(option, f.Values)
	case "Path":
		if option != "" && option != "OneLevel" && option != "Recursive" {
			return nil, ssmError("InvalidFilterOption", "The filter option %s is not valid for key Path. Valid options are: [OneLevel, Recursive].", option)
		}
		recursive := option == "Recursive"
		return func(p *parameter) bool {
			return slices.ContainsFunc(f.Values, func(path string) bool { return underPath(p.Name, path, recursive) })
		}, nil
	}
	return nil, ssmError("InvalidFilterKey", "The following filter key is not valid: %s. Valid filter keys include: [Name, Type, KeyId, Path, Tier, DataType, Label, tag:<key>].", f.Key)
}

func nameFilter(option string, values []string) (parameterFilter, error) {
	var match func(name, value string) bool
	switch option {
	case "", "Equals":
		match = func(name, value string) bool { return name == value }
	case "BeginsWith":
		match = strings.HasPrefix
	case "Contains":
		match = strings.Contains
	default:
		return nil, ssmError("InvalidFilterOption", "The filter option %s is not valid for key Name. Valid options are: [Equals, BeginsWith, Contains].", option)
	}
	return func(p *parameter) bool {
		return slices.ContainsFunc(values, func(v string) bool { return match(p.Name, v) })
	}, nil
}

// underPath reports whether a parameter is in a path: directly, or at any
// depth when recursive.
func underPath(name, path string, recursive bool) bool {
	prefix := strings.TrimSuffix(path, "/") + "/"
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || rest == "" {
		return false
	}
	return recursive || !strings.Contains(rest, "/")
}

// parameterPage returns the page of the parameters that pass every filter,
// by name, and the token of the next page. The caller holds st.mu.
func (st *ssmState) parameterPage(operation string, filters []parameterFilter, limit int, token *string) ([]*parameter, *string, error) {
	matched := st.sortedParameters(filters)
	names := make([]string, len(matched))
	for i, p := range matched {
		names[i] = p.Name
	}
	page, err := st.paginate(operation, names, limit, token)
	if err != nil {
		return nil, nil, err
	}
	return matched[page.Lo:page.Hi], page.NextToken, nil
}

// sortedParameters returns the parameters that pass every filter, by name.
func (st *ssmState) sortedParameters(filters []parameterFilter) []*parameter {
	var matched []*parameter
	for _, p := range st.parameters {
		keep := true
		for _, f := range filters {
			keep = keep && f(p)
		}
		if keep {
			matched = append(matched, p)
		}
	}
	sort.Slice(matched, func(i, j int) bool { return matched[i].Name < matched[j].Name })
	return matched
}

type getParametersByPathInput struct {
	Path             string                  `json:"Path"`
	Recursive        *bool                   `json:"Recursive"`
	ParameterFilters []parameterStringFilter `json:"ParameterFilters"`
	WithDecryption   *bool                   `json:"WithDecryption"`
	MaxResults       *int32                  `json:"MaxResults"`
	NextToken        *string                 `json:"NextToken"`
}

// getParametersByPath serves GetParametersByPath, sorted by name.
func (s *Server) getParametersByPath(ctx context.Context, call *ssmCall) (any, error) {
	var in getParametersByPathInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	limit, err := checkMaxResults(in.MaxResults, 1, 10, 10)
	if err != nil {
		return nil, err
	}
	if in.Path != "/" {
		if err := checkParameterName(in.Path); err != nil || !strings.HasPrefix(in.Path, "/") {
			return nil, ssmError("ValidationException", "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.")
		}
	}
	recursive := in.Recursive != nil && *in.Recursive
	filters := []parameterFilter{func(p *parameter) bool { return underPath(p.Name, in.Path, recursive) }}
	for _, f := range in.ParameterFilters {
		filter, err := buildParameterFilter(f, true)
		if err != nil {
			return nil, err
		}
		filters = append(filters, filter)
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()

	matched, next, err := st.parameterPage("GetParametersByPath", filters, limit, in.NextToken)
	if err != nil {
		return nil, err
	}

	decrypt := in.WithDecryption != nil && *in.WithDecryption
	out := struct {
		Parameters []wireParameter `json:"Parameters"`
		NextToken  *string         `json:"NextToken,omitempty"`
	}{Parameters: []wireParameter{}, NextToken: next}
	for _, p := range matched {
		out.Parameters = append(out.Parameters, st.wireParameter(p, p.latest(), "", call.Region, s.accountID(), decrypt))
	}
	return out, nil
}

type wireParameterMetadata struct {
	Name             string    `json:"Name"`
	ARN              string    `json:"ARN"`
	Type             string    `json:"Type"`
	KeyID            string    `json:"KeyId,omitempty"`
	LastModifiedDate epochTime `json:"LastModifiedDate"`
	LastModifiedUser string    `json:"LastModifiedUser"`
	Description      string    `json:"Description,omitempty"`
	AllowedPattern   string    `json:"AllowedPattern,omitempty"`
	Version          int64     `json:"Version"`
	Tier             string    `json:"Tier"`
	Policies         []any     `json:"Policies"`
	DataType         string    `json:"DataType"`
}

type describeParametersInput struct {
	Filters []struct {
		Key    string   `json:"Key"`
		Values []string `json:"Values"`
	} `json:"Filters"`
	ParameterFilters []parameterStringFilter `json:"ParameterFilters"`
	MaxResults       *int32                  `json:"MaxResults"`
	NextToken        *string                 `json:"NextToken"`
}

// describeParameters serves DescribeParameters, sorted by name. Values are
// never returned.
func (s *Server) describeParameters(ctx context.Context, call *ssmCall) (any, error) {
	var in describeParametersInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	limit, err := checkMaxResults(in.MaxResults, 1, 50, 50)
	if err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 && len(in.ParameterFilters) > 0 {
		return nil, ssmError("ValidationException", "You can use either Filters or ParameterFilters in a single request, not both.")
	}
	var filters []parameterFilter
	for _, f := range in.Filters {
		var filter parameterFilter
		var err error
		switch f.Key {
		case "Name":
			filter, err = nameFilter("BeginsWith", f.Values)
		case "Type", "KeyId":
			filter, err = buildParameterFilter(parameterStringFilter{Key: f.Key, Values: f.Values}, false)
		default:
			err = ssmValidationError("filters.member.key", f.Key, "Member must satisfy enum value set: [Name, Type, KeyId]")
		}
		if err != nil {
			return nil, err
		}
		filters = append(filters, filter)
	}
	for _, f := range in.ParameterFilters {
		filter, err := buildParameterFilter(f, false)
		if err != nil {
			return nil, err
		}
		filters = append(filters, filter)
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()

	matched, next, err := st.parameterPage("DescribeParameters", filters, limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		Parameters []wireParameterMetadata `json:"Parameters"`
		NextToken  *string                 `json:"NextToken,omitempty"`
	}{Parameters: []wireParameterMetadata{}, NextToken: next}
	for _, p := range matched {
		v := p.latest()
		out.Parameters = append(out.Parameters, wireParameterMetadata{
			Name:             p.Name,
			ARN:              parameterARN(call.Region, s.accountID(), p.Name),
			Type:             v.Type,
			KeyID:            v.KeyID,
			LastModifiedDate: epochTime(v.Modified),
			LastModifiedUser: v.User,
			Description:      v.Description,
			AllowedPattern:   v.AllowedPattern,
			Version:          v.Version,
			Tier:             v.Tier,
			Policies:         []any{},
			DataType:         v.DataType,
		})
	}
	return out, nil
}

// deleteParameter serves DeleteParameter.
func (s *Server) deleteParameter(ctx context.Context, call *ssmCall) (any, error) {
	var in struct {
		Name string `json:"Name"`
	}
	if err := call.Decode(&in); err != nil {
		return nil, err
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.parameters[in.Name] == nil {
		return nil, ssmError("ParameterNotFound", "Parameter %s not found.", in.Name)
	}
	delete(st.parameters, in.Name)
	return struct{}{}, nil
}

// deleteParameters serves DeleteParameters.
func (s *Server) deleteParameters(ctx context.Context, call *ssmCall) (any, error) {
	var in struct {
		Names []string `json:"Names"`
	}
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	if len(in.Names) == 0 || len(in.Names) > 10 {
		return nil, ssmValidationError("names", strings.Join(in.Names, ", "), "Member must have length between 1 and 10")
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	out := struct {
		DeletedParameters []string `json:"DeletedParameters"`
		InvalidParameters []string `json:"InvalidParameters"`
	}{DeletedParameters: []string{}, InvalidParameters: []string{}}
	for _, name := range in.Names {
		if st.parameters[name] == nil {
			out.InvalidParameters = append(out.InvalidParameters, name)
			continue
		}
		delete(st.parameters, name)
		out.DeletedParameters = append(out.DeletedParameters, name)
	}
	return out, nil
}

// checkTags applies the tag rules of AWS: keys of 1 to 128 characters that
// do not start with "aws:", values of at most 256, at most 50 per resource.
func checkTags(add []wireTag, existing []wireTag) error {
	keys := map[string]bool{}
	for _, t := range existing {
		keys[t.Key] = true
	}
	for _, t := range add {
		if t.Key == "" || len(t.Key) > 128 {
			return ssmValidationError("tags.member.key", t.Key, "Member must have length between 1 and 128")
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return ssmError("InvalidTag", "Tag key %s can't start with aws:, which AWS reserves.", t.Key)
		}
		if len(t.Value) > 256 {
			return ssmValidationError("tags.member.value", t.Value, "Member must have length less than or equal to 256")
		}
		keys[t.Key] = true
	}
	if len(keys) > maxTagsPerResource {
		return ssmError("TooManyTagsError", "A resource can have at most %d tags; this request would give it %d.", maxTagsPerResource, len(keys))
	}
	return nil
}

type tagResourceInput struct {
	ResourceType string    `json:"ResourceType"`
	ResourceID   string    `json:"ResourceId"`
	Tags         []wireTag `json:"Tags"`
	TagKeys      []string  `json:"TagKeys"`
}

// resourceTags returns where a resource's tags are kept: parameters, the
// account's own documents and managed instances (mi- ids) take tags.
func (st *ssmState) resourceTags(resourceType, resourceID string) (*[]wireTag, error) {
	invalidID := ssmError("InvalidResourceId", "The resource ID isn't valid. Verify that you entered the correct ID and try again.")
	switch resourceType {
	case "Parameter":
		if p := st.parameters[resourceID]; p != nil {
			return &p.Tags, nil
		}
		return nil, invalidID
	case "Document":
		if d := st.documents[resourceID]; d != nil && d.Owner == "Self" {
			return &d.Tags, nil
		}
		return nil, invalidID
	case "ManagedInstance":
		if inst := st.instanceByID[resourceID]; inst != nil && inst.ResourceType == "ManagedInstance" {
			return &inst.Tags, nil
		}
		return nil, invalidID
	}
	return nil, ssmError("InvalidResourceType", "The resource type %s isn't valid for the sandbox: use Parameter, Document or ManagedInstance.", resourceType)
}

// addTagsToResource serves AddTagsToResource; a tag whose key exists gets
// the new value.
func (s *Server) addTagsToResource(ctx context.Context, call *ssmCall) (any, error) {
	var in tagResourceInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	tags, err := st.resourceTags(in.ResourceType, in.ResourceID)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags, *tags); err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		i := slices.IndexFunc(*tags, func(old wireTag) bool { return old.Key == t.Key })
		if i >= 0 {
			(*tags)[i].Value = t.Value
		} else {
			*tags = append(*tags, t)
		}
	}
	return struct{}{}, nil
}

// removeTagsFromResource serves RemoveTagsFromResource.
func (s *Server) removeTagsFromResource(ctx context.Context, call *ssmCall) (any, error) {
	var in tagResourceInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	tags, err := st.resourceTags(in.ResourceType, in.ResourceID)
	if err != nil {
		return nil, err
	}
	*tags = slices.DeleteFunc(*tags, func(t wireTag) bool { return slices.Contains(in.TagKeys, t.Key) })
	return struct{}{}, nil
}

// listTagsForResource serves ListTagsForResource.
func (s *Server) listTagsForResource(ctx context.Context, call *ssmCall) (any, error) {
	var in tagResourceInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}

	st := &s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	tags, err := st.resourceTags(in.ResourceType, in.ResourceID)
	if err != nil {
		return nil, err
	}
	return struct {
		TagList []wireTag `json:"TagList"`
	}{wireTags(*tags)}, nil
}
