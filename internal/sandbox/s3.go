package sandbox

import (
	"context"
	"errors"
	"io"
)

// putObject writes an object straight into the S3 backend.
func (s *Server) putObject(ctx context.Context, bucket, key string, body io.Reader) error {
	return errors.New("sandbox: S3 is not implemented yet")
}

// bucketExists reports whether the bucket exists in the S3 backend.
func (s *Server) bucketExists(bucket string) bool { return false }
