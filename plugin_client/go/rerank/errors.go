package rerank

import (
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is a failed call: the gRPC status code and the server's message, which
// says what was wrong. status.Code(err) and status.FromError(err) see through it.
type Error struct {
	// Method is the full gRPC method, for example "rerank.v1.Reranker/Rerank".
	Method string
	Code   codes.Code
	// Message is the server's (or the transport's) description.
	Message string
	status  *status.Status
}

// advice says what a caller should do about each code; others get the message only.
var advice = map[codes.Code]string{
	codes.InvalidArgument:   "fix the request; retrying will not help",
	codes.NotFound:          "name a model the server serves (see ModelInfo)",
	codes.ResourceExhausted: "the server is overloaded; retry with backoff",
	codes.Unavailable:       "the server is unreachable, loading or shutting down; retry with backoff",
	codes.DeadlineExceeded:  "no answer within the deadline; raise the timeout or send fewer documents",
	codes.Unauthenticated:   "send valid credentials (WithAPIKey)",
	codes.PermissionDenied:  "the credentials do not allow this call",
	codes.Internal:          "the model failed on the server; report it with its logs",
}

func (e *Error) Error() string {
	text := e.Method + " failed: " + e.Code.String()
	if e.Message != "" {
		text += ": " + e.Message
	}
	if hint, ok := advice[e.Code]; ok {
		text += " (" + hint + ")"
	}
	return text
}

// GRPCStatus lets status.Code and status.FromError read the code of an *Error.
func (e *Error) GRPCStatus() *status.Status { return e.status }

// Retryable reports whether the same call may pass later, after a backoff
// (Unavailable, ResourceExhausted). The client already retries Unavailable twice.
func (e *Error) Retryable() bool {
	return e.Code == codes.Unavailable || e.Code == codes.ResourceExhausted
}

// IsRetryable reports whether err is an *Error that may pass on a later try.
func IsRetryable(err error) bool {
	var rerankErr *Error
	return errors.As(err, &rerankErr) && rerankErr.Retryable()
}

func callError(method string, err error) error {
	s := status.Convert(err)
	return &Error{Method: strings.TrimPrefix(method, "/"), Code: s.Code(), Message: s.Message(), status: s}
}
