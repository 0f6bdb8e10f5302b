// Package kubeconfig builds kubeconfig files with embedded credentials and
// edits a user's kubeconfig safely: Merge adds or replaces one cluster's
// entries and Remove deletes them, both keeping every other entry and
// holding a "<path>.lock" file (created with O_EXCL, as client-go and kind
// do) so that concurrent kinc runs do not clobber each other's changes.
// Files are replaced atomically (write to a temporary file, then rename).
//
// Path resolution (ResolvePath) follows $KUBECONFIG then ~/.kube/config,
// with the environment and home directory injected by the caller.
package kubeconfig
