package rerank

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	rerankv1 "github.com/rerank-service/rerank/plugin_client/go/rerankpb/rerank/v1"
)

// serviceConfig retries calls that failed with UNAVAILABLE (they never reached
// a ready server) with backoff, as the other clients do; every other status is
// the caller's to handle.
const serviceConfig = `{"methodConfig": [{
  "name": [{"service": "rerank.v1.Reranker"}],
  "retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.1s", "maxBackoff": "1s",
                  "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]}`

// Client calls a reranking server. It is safe for concurrent use; share one
// per process and Close it at the end.
type Client struct {
	conn     *grpc.ClientConn
	stub     rerankv1.RerankerClient
	timeout  time.Duration
	metadata []string // key, value, key, value...
}

// NewClient makes a client of target, a gRPC target such as "host:port" or
// "dns:///host:port"; plaintext unless WithTLS or WithTLSFiles is given. It
// connects lazily: an unreachable server shows up as codes.Unavailable on the
// first call.
func NewClient(target string, options ...Option) (*Client, error) {
	s := settings{timeout: DefaultTimeout}
	for _, option := range options {
		if err := option(&s); err != nil {
			return nil, err
		}
	}
	dialOptions := append([]grpc.DialOption{
		grpc.WithTransportCredentials(s.transportCredentials()),
		grpc.WithDefaultServiceConfig(serviceConfig),
	}, s.dialOptions...)
	conn, err := grpc.NewClient(target, dialOptions...)
	if err != nil {
		return nil, fmt.Errorf("rerank: bad target %q: %w", target, err)
	}
	return &Client{conn: conn, stub: rerankv1.NewRerankerClient(conn), timeout: s.timeout, metadata: s.metadata}, nil
}

// Rerank orders the query's documents by relevance, best first.
func (c *Client) Rerank(ctx context.Context, q Query) (*Ranking, error) {
	request, err := toProto(q)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	response, err := c.stub.Rerank(ctx, request)
	if err != nil {
		return nil, callError(rerankv1.Reranker_Rerank_FullMethodName, err)
	}
	return rankingFromProto(response), nil
}

// ModelInfo describes one model ("" for all) and the server's limits; an
// unknown model is codes.NotFound.
func (c *Client) ModelInfo(ctx context.Context, model string) (*ServerInfo, error) {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	response, err := c.stub.GetModelInfo(ctx, &rerankv1.GetModelInfoRequest{Model: model})
	if err != nil {
		return nil, callError(rerankv1.Reranker_GetModelInfo_FullMethodName, err)
	}
	return serverInfoFromProto(response), nil
}

// Close releases the connection; calls in flight fail with codes.Canceled.
func (c *Client) Close() error {
	return c.conn.Close()
}

// callContext adds the client's metadata, and its default timeout when ctx
// has no deadline of its own.
func (c *Client) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if len(c.metadata) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, c.metadata...)
	}
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.timeout)
}
