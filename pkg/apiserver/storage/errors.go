package storage

import (
	"errors"
	"fmt"
)

// ErrorCode classifies a StorageError; the HTTP layer maps each to a status code
// (see ToStatusError).
type ErrorCode int

// The error codes. The comment gives the HTTP status ToStatusError answers.
const (
	// ErrCodeKeyNotFound: nothing is stored at the key (404).
	ErrCodeKeyNotFound ErrorCode = iota + 1
	// ErrCodeKeyExists: Create found the key taken (409 AlreadyExists).
	ErrCodeKeyExists
	// ErrCodeConflict: a precondition (UID, resourceVersion) does not hold on the
	// stored object (409 Conflict).
	ErrCodeConflict
	// ErrCodeInvalidObj: an object cannot be stored or read back: a resourceVersion
	// on create, undecodable data, a wrong Go type (500).
	ErrCodeInvalidObj
	// ErrCodeResourceVersionExpired: the requested revision was compacted or is
	// older than a watch window (410 Expired).
	ErrCodeResourceVersionExpired
	// ErrCodeTooLargeResourceVersion: the requested revision is newer than the
	// store's (504 Timeout with cause ResourceVersionTooLarge; clients retry).
	ErrCodeTooLargeResourceVersion
	// ErrCodeInvalidContinue: the continue token cannot be decoded (400).
	ErrCodeInvalidContinue
	// ErrCodeBadRequest: invalid options, such as an unparsable resourceVersion or
	// resourceVersion together with continue (400).
	ErrCodeBadRequest
)

func (c ErrorCode) String() string {
	switch c {
	case ErrCodeKeyNotFound:
		return "key not found"
	case ErrCodeKeyExists:
		return "key exists"
	case ErrCodeConflict:
		return "conflict"
	case ErrCodeInvalidObj:
		return "invalid object"
	case ErrCodeResourceVersionExpired:
		return "resource version expired"
	case ErrCodeTooLargeResourceVersion:
		return "resource version too large"
	case ErrCodeInvalidContinue:
		return "invalid continue token"
	case ErrCodeBadRequest:
		return "bad request"
	}
	return fmt.Sprintf("ErrorCode(%d)", int(c))
}

// StorageError is the error of every storage operation that a client can act on.
type StorageError struct {
	Code ErrorCode
	// Key is the storage key (without the etcd prefix) the operation was about.
	Key string
	// ResourceVersion is the revision involved: the stored object's revision for
	// KeyExists and Conflict, the requested one for ResourceVersionExpired and
	// TooLargeResourceVersion. 0 when unknown.
	ResourceVersion int64
	// CurrentResourceVersion is the store's revision, for TooLargeResourceVersion
	// and ResourceVersionExpired (the compacted revision). 0 when unknown.
	CurrentResourceVersion int64
	// Continue is, for an expired continue token, a token that resumes the list at
	// the latest revision (inconsistently); the HTTP layer puts it in the 410
	// Status' metadata.continue as kube-apiserver does.
	Continue string
	// Message is a human-readable detail.
	Message string
	// Err is the underlying cause, if any.
	Err error
}

func (e *StorageError) Error() string {
	msg := fmt.Sprintf("storage: %s: key %q", e.Code, e.Key)
	if e.ResourceVersion != 0 {
		msg += fmt.Sprintf(", resourceVersion %d", e.ResourceVersion)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *StorageError) Unwrap() error { return e.Err }

// NewKeyNotFoundError reports that nothing is stored at key.
func NewKeyNotFoundError(key string, rv int64) *StorageError {
	return &StorageError{Code: ErrCodeKeyNotFound, Key: key, ResourceVersion: rv}
}

// NewKeyExistsError reports that Create found key taken (stored at rv).
func NewKeyExistsError(key string, rv int64) *StorageError {
	return &StorageError{Code: ErrCodeKeyExists, Key: key, ResourceVersion: rv}
}

// NewConflictError reports a failed precondition on the object stored at rv.
func NewConflictError(key string, rv int64, msg string) *StorageError {
	return &StorageError{Code: ErrCodeConflict, Key: key, ResourceVersion: rv, Message: msg}
}

// NewInvalidObjError reports an object that cannot be stored or decoded.
func NewInvalidObjError(key string, err error) *StorageError {
	return &StorageError{Code: ErrCodeInvalidObj, Key: key, Err: err}
}

// NewExpiredError reports that revision rv is no longer available (compacted at
// or after current, when known); msg is shown to the client.
func NewExpiredError(key string, rv, current int64, msg string) *StorageError {
	return &StorageError{Code: ErrCodeResourceVersionExpired, Key: key, ResourceVersion: rv,
		CurrentResourceVersion: current, Message: msg}
}

// NewListExpiredError reports a list at revision rv, which was compacted.
func NewListExpiredError(key string, rv, compacted int64) *StorageError {
	return NewExpiredError(key, rv, compacted, expiredListMessage)
}

// NewContinueExpiredError reports a continue token pinned to revision rv, which
// was compacted; next is a token that resumes the list at the latest revision.
func NewContinueExpiredError(key string, rv, compacted int64, next string) *StorageError {
	e := NewExpiredError(key, rv, compacted, expiredContinueMessage)
	e.Continue = next
	return e
}

// NewWatchExpiredError reports a watch from revision rv when the oldest revision
// still available is after oldest; the message is kube-apiserver's
// "too old resource version: rv (oldest)".
func NewWatchExpiredError(key string, rv, oldest int64) *StorageError {
	return NewExpiredError(key, rv, oldest, fmt.Sprintf("too old resource version: %d (%d)", rv, oldest))
}

// NewTooLargeResourceVersionError reports that revision rv is newer than the
// store's current revision.
func NewTooLargeResourceVersionError(key string, rv, current int64) *StorageError {
	return &StorageError{Code: ErrCodeTooLargeResourceVersion, Key: key, ResourceVersion: rv,
		CurrentResourceVersion: current,
		Message:                fmt.Sprintf("Too large resource version: %d, current: %d", rv, current)}
}

// NewInvalidContinueError reports an undecodable continue token.
func NewInvalidContinueError(key string, err error) *StorageError {
	return &StorageError{Code: ErrCodeInvalidContinue, Key: key, Err: err}
}

// NewBadRequestError reports invalid options.
func NewBadRequestError(key, msg string) *StorageError {
	return &StorageError{Code: ErrCodeBadRequest, Key: key, Message: msg}
}

func hasCode(err error, code ErrorCode) bool {
	var se *StorageError
	return errors.As(err, &se) && se.Code == code
}

// IsNotFound tells whether err is (or wraps) a KeyNotFound StorageError.
func IsNotFound(err error) bool { return hasCode(err, ErrCodeKeyNotFound) }

// IsExists tells whether err is (or wraps) a KeyExists StorageError.
func IsExists(err error) bool { return hasCode(err, ErrCodeKeyExists) }

// IsConflict tells whether err is (or wraps) a Conflict StorageError.
func IsConflict(err error) bool { return hasCode(err, ErrCodeConflict) }

// IsInvalidObj tells whether err is (or wraps) an InvalidObj StorageError.
func IsInvalidObj(err error) bool { return hasCode(err, ErrCodeInvalidObj) }

// IsExpired tells whether err is (or wraps) a ResourceVersionExpired StorageError.
func IsExpired(err error) bool { return hasCode(err, ErrCodeResourceVersionExpired) }

// IsTooLargeResourceVersion tells whether err is (or wraps) a
// TooLargeResourceVersion StorageError.
func IsTooLargeResourceVersion(err error) bool {
	return hasCode(err, ErrCodeTooLargeResourceVersion)
}

// IsInvalidContinue tells whether err is (or wraps) an InvalidContinue StorageError.
func IsInvalidContinue(err error) bool { return hasCode(err, ErrCodeInvalidContinue) }

// IsBadRequest tells whether err is (or wraps) a BadRequest StorageError.
func IsBadRequest(err error) bool { return hasCode(err, ErrCodeBadRequest) }
