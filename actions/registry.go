// Package actions holds one handler per connector action. Each file
// contains the whole flow of one action; this one maps action identifiers,
// as app.json names them, to their handlers.
package actions

import "github.com/awsssm/awsssm/internal/connector"

// Handlers returns the handler of every action, by identifier.
func Handlers() map[string]connector.Handler {
	return map[string]connector.Handler{
		"test_connectivity": connector.HandlerFunc[testConnectivityParams](testConnectivity),
		"execute_program":   connector.HandlerFunc[executeProgramParams](executeProgram),
		"get_file":          connector.HandlerFunc[getFileParams](getFile),
		"run_document":      connector.HandlerFunc[runDocumentParams](runDocument),
		"list_commands":     connector.HandlerFunc[listCommandsParams](listCommands),
		"list_documents":    connector.HandlerFunc[listDocumentsParams](listDocuments),
		"get_parameter":     connector.HandlerFunc[getParameterParams](getParameter),
		"add_parameter":     connector.WithSecrets(connector.HandlerFunc[addParameterParams](addParameter), addParameterSecrets),
		"describe_instance": connector.HandlerFunc[describeInstanceParams](describeInstance),
	}
}
