// Package serviceaccount holds the registry rules of core/v1
// ServiceAccounts: DNS-subdomain names and secret references reduced to
// their names.
package serviceaccount
