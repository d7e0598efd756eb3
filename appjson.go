// Package awsssm holds the connector's SOAR app manifest. The code lives in
// cmd/, actions/ and internal/; this root package exists because go:embed
// cannot reach files above a package's directory.
package awsssm

import _ "embed"

// AppJSON is app.json: the asset configuration, the actions, their
// parameters and their output data paths.
//
//go:embed app.json
var AppJSON []byte
