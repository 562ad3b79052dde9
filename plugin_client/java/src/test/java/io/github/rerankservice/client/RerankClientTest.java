package io.github.rerankservice.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.rerankservice.rerank.v1.RerankRequest;
import io.github.rerankservice.rerank.v1.RerankResponse;
import io.github.rerankservice.rerank.v1.RerankerGrpc;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The client against a fake server in this process: what goes on the wire and what comes back. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RerankClientTest {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final AtomicReference<RerankRequest> received = new AtomicReference<>();
  private final AtomicReference<String> authorization = new AtomicReference<>();
  private final CountDownLatch cancelled = new CountDownLatch(1);
  private volatile Status failWith;
  private volatile boolean hang;
  private String name;
  private Server server;

  /** Answers every document with score 1/(index+1), or fails with failWith, or never answers. */
  private final class FakeReranker extends RerankerGrpc.RerankerImplBase {
    @Override
    public void rerank(RerankRequest request, StreamObserver<RerankResponse> observer) {
      received.set(request);
      if (hang) {
        Context.current().addListener(context -> cancelled.countDown(), Runnable::run);
        return;
      }
      if (failWith != null) {
        observer.onError(failWith.asRuntimeException());
        return;
      }
      RerankResponse.Builder response = RerankResponse.newBuilder().setModel("fake");
      for (int i = 0; i < request.getDocumentsCount(); i++) {
        response.addResultsBuilder()
            .setIndex(i)
            .setId(request.getDocuments(i).getId())
            .setScore(1.0 / (i + 1))
            .setText(request.getReturnText() ? request.getDocuments(i).getText() : "");
      }
      response.getUsageBuilder().setPairs(request.getDocumentsCount()).setTokens(42);
      observer.onNext(response.build());
      observer.onCompleted();
    }
  }

  private final ServerInterceptor recordAuthorization =
      new ServerInterceptor() {
        @Override
        public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
            ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
          authorization.set(headers.get(AUTHORIZATION));
          return next.startCall(call, headers);
        }
      };

  @BeforeEach
  void startServer() throws IOException {
    name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(ServerInterceptors.intercept(new FakeReranker(), recordAuthorization))
            .build()
            .start();
  }

  @AfterEach
  void stopServer() {
    server.shutdownNow();
  }

  private RerankClient client(RerankClientBuilder builder) {
    return builder.build(InProcessChannelBuilder.forName(name).directExecutor());
  }

  @Test
  void sendsEveryQueryFieldAndMapsTheAnswer() {
    RerankQuery query =
        RerankQuery.builder("q")
            .document("a", "first")
            .document("second")
            .topN(1)
            .rawScores(true)
            .returnText(true)
            .maxLength(256)
            .prompt("p")
            .model("m")
            .build();
    try (RerankClient client = client(RerankClient.builder("unused"))) {
      Ranking ranking = client.rerank(query);

      assertEquals(ProtoMapping.toProto(query), received.get());
      assertEquals("1", received.get().getDocuments(1).getId());
      assertEquals(
          new ScoredDocument(1, "1", 0.5, java.util.Optional.of("second")), ranking.results().get(1));
      assertEquals(new Usage(2, 42, 0), ranking.usage());
      assertEquals("fake", ranking.model());
    }
  }

  @Test
  void apiKeyIsSentAsBearerToken() {
    try (RerankClient client = client(RerankClient.builder("unused").apiKey("s3cret"))) {
      client.rerank(RerankQuery.of("q", java.util.List.of("d")));
    }
    assertEquals("Bearer s3cret", authorization.get());
  }

  @Test
  void serverStatusBecomesRerankExceptionWithAdvice() {
    failWith = Status.RESOURCE_EXHAUSTED.withDescription("queue is full (64 pairs)");
    try (RerankClient client = client(RerankClient.builder("unused"))) {
      RerankException error =
          assertThrows(RerankException.class, () -> client.rerank(RerankQuery.of("q", java.util.List.of("d"))));

      assertEquals(Status.Code.RESOURCE_EXHAUSTED, error.code());
      assertTrue(error.isRetryable());
      assertEquals("queue is full (64 pairs)", error.description());
      assertEquals(
          "rerank.v1.Reranker/Rerank failed: RESOURCE_EXHAUSTED: queue is full (64 pairs)"
              + " (the server is overloaded; retry with backoff)",
          error.getMessage());
    }
  }

  @Test
  void cancellingTheFutureCancelsTheCall() throws InterruptedException {
    hang = true;
    try (RerankClient client = client(RerankClient.builder("unused"))) {
      CompletableFuture<Ranking> future = client.rerankAsync(RerankQuery.of("q", java.util.List.of("d")));
      future.cancel(true);

      assertTrue(cancelled.await(10, TimeUnit.SECONDS), "the server never saw the cancellation");
      assertInstanceOf(CancellationException.class, assertThrows(CancellationException.class, future::join));
    }
  }
}
