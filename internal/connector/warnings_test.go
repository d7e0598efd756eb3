package connector

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWithWarnings(t *testing.T) {
	assert.Equal(t, "Status: ok", withWarnings("Status: ok", nil))
	assert.Equal(t, "Status: ok. Warning: a; b", withWarnings("Status: ok", []string{"a; b"}))
	assert.Equal(t, "Status: ok. Warning: a; b. Warning: c", withWarnings("Status: ok", []string{"a; b", "c", "a; b"}), "each warning once, each with its label")
	assert.Equal(t, "failed: c", withWarnings("failed: c", []string{"c"}), "a warning the message contains is not repeated")
	assert.Equal(t, "Warning: a", withWarnings("", []string{"a"}))
}
