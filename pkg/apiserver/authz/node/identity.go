package node

import (
	"strings"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
)

// GroupNodes is the group every kubelet's credentials carry.
const GroupNodes = "system:nodes"

// userPrefix starts the user name of a kubelet: system:node:<node name>.
const userPrefix = "system:node:"

// Identity tells whether u is a node, as upstream's default node
// identifier: a user named system:node:<name> in group system:nodes. name
// is <name>, and may be "" for a user named just "system:node:" (a node
// that cannot be identified, which the authorizer and NodeRestriction
// refuse).
func Identity(u *authn.User) (name string, isNode bool) {
	if u == nil || !strings.HasPrefix(u.Name, userPrefix) {
		return "", false
	}
	for _, g := range u.Groups {
		if g == GroupNodes {
			return strings.TrimPrefix(u.Name, userPrefix), true
		}
	}
	return "", false
}
