package sandbox

import (
	"encoding/json"
	"net/http"
)

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
	Region    string
	RequestID string
}

// Decode unmarshals the request body into v.
func (c *ssmCall) Decode(v any) error {
	if len(c.Body) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.Body, v); err != nil {
		return &APIError{Code: "SerializationException", Message: err.Error(), Status: http.StatusBadRequest}
	}
	return nil
}
