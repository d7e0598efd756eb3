package sandbox

// ssmOperations returns the SSM operations the sandbox serves, by name.
func (s *Server) ssmOperations() map[string]ssmHandler {
	return map[string]ssmHandler{}
}
