package sandbox

// Temporary declarations until the SSM side defines them in ssm_ops.go.

type ssmState struct{}

func (s *Server) startSSM() error { return nil }
