// Package serviceaccount holds the registry rules of core/v1
// ServiceAccounts: DNS-subdomain names and secret references reduced to
// their names; and serviceaccounts/token, which issues service-account
// tokens (TokenRequest) through registry.Auth.TokenIssuer.
package serviceaccount
