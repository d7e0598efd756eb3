package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// ssmState is the SSM side of the sandbox: managed instances, documents,
// commands with their invocations, and Parameter Store. Every field below mu
// is guarded by mu; the agent has its own lock for the processes it runs.
type ssmState struct {
	mu sync.Mutex

	instances    []*instance
	instanceByID map[string]*instance
	started      time.Time

	documents map[string]*document

	commands     map[string]*command
	commandList  []*command
	commandSeq   int64
	scriptsByIID map[string][]string

	parameters map[string]*parameter

	// tokenKey signs NextToken values so that a token from anywhere else
	// is rejected with InvalidNextToken.
	tokenKey []byte
	// cipherKey derives the opaque text returned in place of a SecureString
	// value read without decryption.
	cipherKey []byte

	knobs ssmKnobs
	agent *agent
}

// startSSM loads the managed instances and documents, creates each
// instance's home directory and starts the agent that runs commands.
func (s *Server) startSSM() error {
	st := &s.ssm
	st.started = s.now()
	st.instanceByID = map[string]*instance{}
	st.documents = map[string]*document{}
	st.commands = map[string]*command{}
	st.scriptsByIID = map[string][]string{}
	st.parameters = map[string]*parameter{}
	st.tokenKey = randomBytes(32)
	st.cipherKey = randomBytes(32)
	st.knobs = newSSMKnobs()

	if s.opts.StateDir == "" {
		dir, err := os.MkdirTemp("", "awsssm-sandbox-")
		if err != nil {
			return fmt.Errorf("create sandbox state directory: %w", err)
		}
		s.opts.StateDir = dir
		s.closers = append(s.closers, func() error { return os.RemoveAll(dir) })
	}

	if err := s.loadInstances(); err != nil {
		return err
	}
	if err := s.loadDocuments(); err != nil {
		return err
	}

	st.agent = newAgent(s)
	s.closers = append(s.closers, st.agent.close)
	return nil
}

// ssmOperations returns the SSM operations the sandbox serves, by name.
func (s *Server) ssmOperations() map[string]ssmHandler {
	return map[string]ssmHandler{
		// Run Command.
		"SendCommand":            s.sendCommand,
		"GetCommandInvocation":   s.getCommandInvocation,
		"ListCommandInvocations": s.listCommandInvocations,
		"ListCommands":           s.listCommands,
		"CancelCommand":          s.cancelCommand,

		// Managed instances.
		"DescribeInstanceInformation": s.describeInstanceInformation,

		// Documents.
		"DescribeDocument":     s.describeDocument,
		"GetDocument":          s.getDocument,
		"ListDocuments":        s.listDocuments,
		"ListDocumentVersions": s.listDocumentVersions,

		// Parameter Store.
		"PutParameter":        s.putParameter,
		"GetParameter":        s.getParameter,
		"GetParameters":       s.getParameters,
		"GetParameterHistory": s.getParameterHistory,
		"GetParametersByPath": s.getParametersByPath,
		"DescribeParameters":  s.describeParameters,
		"DeleteParameter":     s.deleteParameter,
		"DeleteParameters":    s.deleteParameters,

		// Tags on parameters, documents and managed instances.
		"AddTagsToResource":      s.addTagsToResource,
		"RemoveTagsFromResource": s.removeTagsFromResource,
		"ListTagsForResource":    s.listTagsForResource,
	}
}

// epochTime is a timestamp as the JSON 1.1 protocol sends it: seconds since
// the Unix epoch as a JSON number, with milliseconds as the fraction.
type epochTime time.Time

func (t epochTime) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// epochPtr returns nil for the zero time, so that an unset timestamp is
// left out of the output.
func epochPtr(t time.Time) *epochTime {
	if t.IsZero() {
		return nil
	}
	e := epochTime(t)
	return &e
}

// wireTag is a tag in the output of every SSM operation.
type wireTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func wireTags(tags []wireTag) []wireTag {
	if tags == nil {
		return []wireTag{}
	}
	return append([]wireTag(nil), tags...)
}

// ssmValidationError returns the ValidationException that AWS sends when a
// request member breaks a constraint of the API model, in AWS's wording.
func ssmValidationError(member, value, constraint string) error {
	return &APIError{
		Code:    "ValidationException",
		Message: fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint),
		Status:  http.StatusBadRequest,
	}
}

// ssmError returns an AWS error with HTTP status 400.
func ssmError(code, format string, args ...any) error {
	return &APIError{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

// checkMaxResults applies a MaxResults member: nil gives def, a value
// outside lo..hi is a ValidationException.
func checkMaxResults(maxResults *int32, lo, hi, def int) (int, error) {
	if maxResults == nil {
		return def, nil
	}
	n := int(*maxResults)
	if n < lo {
		return 0, ssmValidationError("maxResults", strconv.Itoa(n), fmt.Sprintf("Member must have value greater than or equal to %d", lo))
	}
	if n > hi {
		return 0, ssmValidationError("maxResults", strconv.Itoa(n), fmt.Sprintf("Member must have value less than or equal to %d", hi))
	}
	return n, nil
}

// newUUID returns a random version 4 UUID, the form of AWS command ids.
func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("sandbox: read random bytes: %v", err))
	}
	return b
}

// InstanceHome returns the directory tree of a managed instance: the working
// directory of its commands unless they set one, and where the agent keeps
// their scripts and output. It is empty for an unknown instance id.
func (s *Server) InstanceHome(id string) string {
	s.ssm.mu.Lock()
	defer s.ssm.mu.Unlock()
	inst := s.ssm.instanceByID[id]
	if inst == nil {
		return ""
	}
	return inst.home
}

func instanceHomeDir(stateDir, id string) string {
	return filepath.Join(stateDir, "instances", id)
}
