// Package policy embeds the Rego policies of this directory, so that the binary carries the
// policy it was tested with. POLICY_DIR makes the server read a directory instead (internal/authz).
package policy

import "embed"

// Files holds every .rego file of this directory, tests included: a policy is accepted only
// when its own tests pass.
//
//go:embed *.rego
var Files embed.FS
