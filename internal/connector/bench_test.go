package connector

import (
	"strings"
	"testing"
)

// BenchmarkRedactJSON masks secrets in a result that carries 8 MiB of
// command output, the size of a large execute program result.
func BenchmarkRedactJSON(b *testing.B) {
	r := &Redactor{}
	r.Add("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEBYaDH+example/session+token==")
	output := strings.Repeat("line of command output with a path /var/log/messages\n", (8<<20)/54)
	doc, err := marshalNoEscape(map[string]any{
		"status": "success",
		"result_data": []any{map[string]any{
			"data": []any{map[string]any{"File": map[string]any{"output": output}}},
		}},
	})
	if err != nil {
		b.Fatal(err)
	}

	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.JSON(doc); err != nil {
			b.Fatal(err)
		}
	}
}
