package rerank_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	"github.com/rerank-service/rerank/plugin_client/go/rerank"
	rerankv1 "github.com/rerank-service/rerank/plugin_client/go/rerankpb/rerank/v1"
)

// fakeReranker scores document i as 1/(i+1) and records what it was sent, or
// fails with failWith.
type fakeReranker struct {
	rerankv1.UnimplementedRerankerServer
	failWith *status.Status
	request  *rerankv1.RerankRequest
	metadata metadata.MD
	deadline time.Duration
}

func (f *fakeReranker) Rerank(ctx context.Context, request *rerankv1.RerankRequest) (*rerankv1.RerankResponse, error) {
	f.request = request
	f.metadata, _ = metadata.FromIncomingContext(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		f.deadline = time.Until(deadline)
	}
	if f.failWith != nil {
		return nil, f.failWith.Err()
	}
	response := &rerankv1.RerankResponse{Model: "fake", Usage: &rerankv1.Usage{Pairs: uint32(len(request.Documents)), Tokens: 42}}
	for i, d := range request.Documents {
		result := &rerankv1.RerankResult{Index: uint32(i), Id: d.Id, Score: 1 / float64(i+1)}
		if request.ReturnText {
			result.Text = d.Text
		}
		response.Results = append(response.Results, result)
	}
	return response, nil
}

// serve starts fake on an in-memory listener and returns a client of it.
func serve(t *testing.T, fake *fakeReranker, serverOptions []grpc.ServerOption, options ...rerank.Option) *rerank.Client {
	t.Helper()
	listener := bufconn.Listen(1 << 20)
	server := grpc.NewServer(serverOptions...)
	rerankv1.RegisterRerankerServer(server, fake)
	go server.Serve(listener)
	t.Cleanup(server.Stop)
	dial := grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return listener.DialContext(ctx) })
	client, err := rerank.NewClient("passthrough:///localhost", append(options, rerank.WithDialOptions(dial))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func TestSendsEveryQueryFieldAndMapsTheAnswer(t *testing.T) {
	fake := &fakeReranker{}
	client := serve(t, fake, nil)
	q := rerank.Query{
		Query: "q", Documents: []rerank.Document{{ID: "a", Text: "first"}, {ID: "b", Text: "second"}},
		TopN: 1, RawScores: true, ReturnText: true, MaxLength: 256, Prompt: "p", Model: "m",
	}
	ranking, err := client.Rerank(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}

	want := &rerankv1.RerankRequest{
		Query: "q", Documents: []*rerankv1.Document{{Id: "a", Text: "first"}, {Id: "b", Text: "second"}},
		TopN: 1, RawScores: true, ReturnText: true, MaxLength: 256, Prompt: "p", Model: "m",
	}
	if !proto.Equal(fake.request, want) {
		t.Errorf("server got %v, want %v", fake.request, want)
	}
	if got := ranking.Results[1]; got != (rerank.ScoredDocument{Index: 1, ID: "b", Score: 0.5, Text: "second"}) {
		t.Errorf("result 1 is %+v", got)
	}
	if ranking.Model != "fake" || ranking.Usage != (rerank.Usage{Pairs: 2, Tokens: 42}) {
		t.Errorf("model %q, usage %+v", ranking.Model, ranking.Usage)
	}
}

func TestTextsGetTheirPositionAsID(t *testing.T) {
	got := rerank.Texts("a", "b")
	if len(got) != 2 || got[0] != (rerank.Document{ID: "0", Text: "a"}) || got[1] != (rerank.Document{ID: "1", Text: "b"}) {
		t.Errorf("Texts gave %+v", got)
	}
}

func TestAPIKeyAndMetadataAreSentWithEveryCall(t *testing.T) {
	fake := &fakeReranker{}
	client := serve(t, fake, nil, rerank.WithAPIKey("s3cret"), rerank.WithMetadata("x-tenant", "blue"))
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-request-id", "42")
	if _, err := client.Rerank(ctx, rerank.Query{Query: "q", Documents: rerank.Texts("d")}); err != nil {
		t.Fatal(err)
	}

	for key, want := range map[string]string{"authorization": "Bearer s3cret", "x-tenant": "blue", "x-request-id": "42"} {
		if got := fake.metadata.Get(key); len(got) != 1 || got[0] != want {
			t.Errorf("%s: got %q, want %q", key, got, want)
		}
	}
}

func TestDefaultTimeoutAppliesOnlyWithoutAContextDeadline(t *testing.T) {
	fake := &fakeReranker{}
	client := serve(t, fake, nil, rerank.WithTimeout(5*time.Second))
	q := rerank.Query{Query: "q", Documents: rerank.Texts("d")}

	if _, err := client.Rerank(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	if fake.deadline <= 4*time.Second || fake.deadline > 5*time.Second {
		t.Errorf("server saw a deadline %s away, want about the 5s default", fake.deadline)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := client.Rerank(ctx, q); err != nil {
		t.Fatal(err)
	}
	if fake.deadline <= 5*time.Second {
		t.Errorf("server saw a deadline %s away, want the context's minute", fake.deadline)
	}
}

func TestServerStatusBecomesErrorWithAdvice(t *testing.T) {
	client := serve(t, &fakeReranker{failWith: status.New(codes.ResourceExhausted, "queue is full (64 pairs)")}, nil)
	_, err := client.Rerank(context.Background(), rerank.Query{Query: "q", Documents: rerank.Texts("d")})

	var rerankErr *rerank.Error
	if !errors.As(err, &rerankErr) {
		t.Fatalf("got %T %v, want *rerank.Error", err, err)
	}
	if rerankErr.Code != codes.ResourceExhausted || rerankErr.Message != "queue is full (64 pairs)" || !rerank.IsRetryable(err) {
		t.Errorf("got %+v", rerankErr)
	}
	const want = "rerank.v1.Reranker/Rerank failed: ResourceExhausted: queue is full (64 pairs) (the server is overloaded; retry with backoff)"
	if err.Error() != want {
		t.Errorf("message\n%q\nwant\n%q", err.Error(), want)
	}
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("status.Code does not see through *rerank.Error: %v", status.Code(err))
	}
}

func TestNegativeTopNFailsBeforeTheCall(t *testing.T) {
	fake := &fakeReranker{}
	client := serve(t, fake, nil)
	_, err := client.Rerank(context.Background(), rerank.Query{Query: "q", Documents: rerank.Texts("d"), TopN: -1})

	if err == nil || !strings.Contains(err.Error(), "TopN must be in [0,") || fake.request != nil {
		t.Errorf("got %v (server called: %v)", err, fake.request != nil)
	}
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	certificate := selfSignedCertificate(t, dir)
	pool := x509.NewCertPool()
	pool.AddCert(certificate.Leaf)
	serverTLS := credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{certificate}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert,
	})
	query := rerank.Query{Query: "q", Documents: rerank.Texts("d")}
	ca, cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")

	withCertificate := serve(t, &fakeReranker{}, []grpc.ServerOption{grpc.Creds(serverTLS)}, rerank.WithTLSFiles(ca, cert, key))
	if _, err := withCertificate.Rerank(context.Background(), query); err != nil {
		t.Fatalf("mutual TLS call failed: %v", err)
	}
	withoutCertificate := serve(t, &fakeReranker{}, []grpc.ServerOption{grpc.Creds(serverTLS)}, rerank.WithTLSFiles(ca, "", ""))
	if _, err := withoutCertificate.Rerank(context.Background(), query); status.Code(err) != codes.Unavailable {
		t.Fatalf("a call without a client certificate gave %v, want Unavailable", err)
	}
}

func TestUnreadableCertificateFailsNewClient(t *testing.T) {
	_, err := rerank.NewClient("localhost:1", rerank.WithTLSFiles(filepath.Join(t.TempDir(), "missing.pem"), "", ""))
	if err == nil || !strings.Contains(err.Error(), "cannot read the CA certificates") {
		t.Errorf("got %v", err)
	}
}

// selfSignedCertificate writes cert.pem and key.pem for "localhost" into dir,
// valid for both server and client authentication.
func selfSignedCertificate(t *testing.T, dir string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	for name, content := range map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	certificate, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return certificate
}
