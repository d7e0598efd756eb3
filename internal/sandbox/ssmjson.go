package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// The SSM side of the routing layer: AWS JSON 1.1 protocol. A request is
// POST / with X-Amz-Target: AmazonSSM.<Operation> and a JSON body, and the
// response is JSON with the headers that SSM sends.

const ssmTargetPrefix = "AmazonSSM."

// Caller is the identity behind a verified request.
type Caller struct {
	AccessKeyID string
	AccountID   string
	ARN         string
	UserID      string
}

// ssmCall is one SSM request after its signature has been verified.
type ssmCall struct {
	Operation string
	Body      []byte
	Caller    Caller
	// Region is the region of the signature's credential scope.
	Region    string
	RequestID string
}

// Decode unmarshals the request body into v. An empty body decodes as {}.
func (c *ssmCall) Decode(v any) error {
	if len(c.Body) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.Body, v); err != nil {
		return &APIError{Code: "SerializationException", Message: err.Error(), Status: http.StatusBadRequest}
	}
	return nil
}

// serveSSM dispatches a verified SSM request to its operation handler.
func (s *Server) serveSSM(w http.ResponseWriter, in *inbound) {
	target := in.r.Header.Get("X-Amz-Target")
	handler := s.ssmOps[in.operation]
	if in.r.Method != http.MethodPost || target != ssmTargetPrefix+in.operation || handler == nil {
		s.writeSSMError(w, in.requestID, &APIError{Code: "UnknownOperationException", Status: http.StatusBadRequest})
		return
	}

	call := &ssmCall{
		Operation: in.operation,
		Body:      in.body,
		Caller:    in.caller(),
		Region:    in.region(),
		RequestID: in.requestID,
	}
	out, err := s.callSSM(handler, in, call)
	if err != nil {
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			s.log.Error("SSM operation failed", "operation", in.operation, "request_id", in.requestID, "error", err)
			apiErr = &APIError{Code: "InternalServerError", Message: err.Error(), Status: http.StatusInternalServerError}
		}
		s.writeSSMError(w, in.requestID, apiErr)
		return
	}

	body := []byte("{}")
	if out != nil {
		body, err = json.Marshal(out)
		if err != nil {
			s.log.Error("encode SSM output", "operation", in.operation, "request_id", in.requestID, "error", err)
			s.writeSSMError(w, in.requestID, &APIError{Code: "InternalServerError", Message: "encode output: " + err.Error(), Status: http.StatusInternalServerError})
			return
		}
	}
	s.writeSSMResponse(w, in.requestID, http.StatusOK, body)
}

// callSSM runs handler and turns a panic into an InternalServerError, so
// that one broken operation does not take the connection down.
func (s *Server) callSSM(handler ssmHandler, in *inbound, call *ssmCall) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("SSM operation panicked", "operation", in.operation, "request_id", in.requestID, "panic", fmt.Sprint(p))
			out, err = nil, &APIError{Code: "InternalServerError", Message: fmt.Sprintf("operation %s panicked", in.operation), Status: http.StatusInternalServerError}
		}
	}()
	return handler(in.r.Context(), call)
}

// writeSSMError writes apiErr as SSM does: the code in X-Amzn-ErrorType and
// in the body's __type.
func (s *Server) writeSSMError(w http.ResponseWriter, requestID string, apiErr *APIError) {
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message,omitempty"`
	}{apiErr.Code, apiErr.Message})
	w.Header().Set("X-Amzn-ErrorType", apiErr.Code)
	s.writeSSMResponse(w, requestID, apiErr.status(), body)
}

// writeSSMResponse writes body with the six headers that SSM sends. The
// connector reports them as the action result's ResponseMetadata.
func (s *Server) writeSSMResponse(w http.ResponseWriter, requestID string, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	// Set without canonicalization, so the name goes out as SSM spells it.
	h["x-amzn-RequestId"] = []string{requestID}
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Server", "Server")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(status)
	w.Write(body)
}
