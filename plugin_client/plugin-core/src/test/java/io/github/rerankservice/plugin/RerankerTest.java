package io.github.rerankservice.plugin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.rerankservice.rerank.v1.Document;
import io.github.rerankservice.rerank.v1.RerankRequest;
import io.grpc.Status;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The node's connection to the reranker, against a real gRPC server on a loopback port. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RerankerTest {
  private static final List<String> PASSAGES = List.of("first", "second", "third");

  private FakeRerankServer server;
  private Reranker reranker;

  private static ChannelSettings settings(String target, Duration timeout, String defaultModel) {
    return new ChannelSettings(target, false, null, null, null, null, null, timeout, true, defaultModel, 500);
  }

  private static ChannelSettings settings(String target) {
    return settings(target, Duration.ofSeconds(10), null);
  }

  @BeforeEach
  void start() throws IOException {
    server = new FakeRerankServer();
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (reranker != null) {
      reranker.close();
    }
    server.close();
  }

  private static RerankFailure failureOf(CompletableFuture<double[]> future) {
    ExecutionException error = assertThrows(ExecutionException.class, () -> future.get(30, TimeUnit.SECONDS));
    return assertInstanceOf(RerankFailure.class, error.getCause());
  }

  @Test
  void scoresComeBackInPassageOrderWhateverTheServersOrder() {
    reranker = new Reranker(settings(server.target()));

    double[] scores = reranker.scoreBlocking("q", PASSAGES, null, null);

    assertArrayEquals(new double[] {0.1, 0.2, 0.3}, scores, 1e-12);
  }

  @Test
  void asyncScoresComeBackInPassageOrder() throws Exception {
    reranker = new Reranker(settings(server.target()));

    assertArrayEquals(new double[] {0.1, 0.2, 0.3}, reranker.score("q", PASSAGES, null, null).get(30, TimeUnit.SECONDS), 1e-12);
  }

  @Test
  void sendsTheQueryAndPassagesInOrder() {
    reranker = new Reranker(settings(server.target()));

    reranker.scoreBlocking("what is a panda?", PASSAGES, null, null);

    RerankRequest request = server.received.get(0);
    assertEquals("what is a panda?", request.getQuery());
    assertEquals(PASSAGES, request.getDocumentsList().stream().map(Document::getText).toList());
  }

  @Test
  void sendsTheNodesDefaultModelUnlessTheCallNamesOne() {
    reranker = new Reranker(settings(server.target(), Duration.ofSeconds(10), "node-model"));

    reranker.scoreBlocking("q", PASSAGES, null, null);
    reranker.scoreBlocking("q", PASSAGES, "", null);
    reranker.scoreBlocking("q", PASSAGES, "call-model", null);

    assertEquals(List.of("node-model", "node-model", "call-model"),
        server.received.stream().map(RerankRequest::getModel).toList());
  }

  @Test
  void sendsNoModelWhenNeitherTheNodeNorTheCallNamesOne() {
    reranker = new Reranker(settings(server.target()));

    reranker.scoreBlocking("q", PASSAGES, null, null);

    assertEquals("", server.received.get(0).getModel());
  }

  @Test
  void emptyTargetFailsAsNotConfigured() {
    reranker = new Reranker(settings(""));

    RerankFailure failure = assertThrows(RerankFailure.class, () -> reranker.scoreBlocking("q", PASSAGES, null, null));

    assertEquals(RerankFailure.Kind.NOT_CONFIGURED, failure.kind());
    assertEquals("grpc_rerank: no reranker configured; set rerank.grpc.target", failure.getMessage());
  }

  @Test
  void emptyTargetFailsTheFutureAsNotConfigured() {
    reranker = new Reranker(settings(""));

    assertEquals(RerankFailure.Kind.NOT_CONFIGURED, failureOf(reranker.score("q", PASSAGES, null, null)).kind());
  }

  @Test
  void unreachablePortFailsAsUnavailableNamingTheTarget() throws IOException {
    String target;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      target = "127.0.0.1:" + socket.getLocalPort();
    }
    reranker = new Reranker(settings(target));

    RerankFailure failure = assertThrows(RerankFailure.class, () -> reranker.scoreBlocking("q", PASSAGES, null, null));

    assertEquals(RerankFailure.Kind.UNAVAILABLE, failure.kind());
    assertTrue(failure.getMessage().startsWith("grpc_rerank: the reranker at [" + target + "] answered UNAVAILABLE"),
        failure.getMessage());
  }

  @Test
  void slowServerFailsAsTimeoutWithinTheDeadline() throws InterruptedException {
    server.hang = true;
    reranker = new Reranker(settings(server.target()));
    Duration timeout = Duration.ofMillis(300);

    long start = System.nanoTime();
    RerankFailure failure = assertThrows(RerankFailure.class, () -> reranker.scoreBlocking("q", PASSAGES, null, timeout));
    long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

    assertEquals(RerankFailure.Kind.TIMEOUT, failure.kind());
    assertTrue(elapsedMillis < timeout.toMillis() + 1000, "waited " + elapsedMillis + " ms");
    assertEquals("grpc_rerank: the reranker at [" + server.target() + "] did not answer within 300ms (DEADLINE_EXCEEDED)",
        failure.getMessage());
    assertTrue(server.cancelled.await(10, TimeUnit.SECONDS), "the server's call was never cancelled");
  }

  @Test
  void slowServerFailsTheFutureAsTimeout() {
    server.hang = true;
    reranker = new Reranker(settings(server.target(), Duration.ofMillis(200), null));

    assertEquals(RerankFailure.Kind.TIMEOUT, failureOf(reranker.score("q", PASSAGES, null, null)).kind());
  }

  @Test
  void invalidArgumentIsRefusedWithTheServersDescription() {
    server.failWith = Status.INVALID_ARGUMENT.withDescription("document 2 is longer than 8000 characters");
    reranker = new Reranker(settings(server.target()));

    RerankFailure failure = assertThrows(RerankFailure.class, () -> reranker.scoreBlocking("q", PASSAGES, null, null));

    assertEquals(RerankFailure.Kind.REFUSED, failure.kind());
    assertEquals("grpc_rerank: the reranker at [" + server.target() + "] answered INVALID_ARGUMENT: "
        + "document 2 is longer than 8000 characters", failure.getMessage());
  }

  @Test
  void internalErrorFailsAsFailed() {
    server.failWith = Status.INTERNAL.withDescription("CUDA out of memory");
    reranker = new Reranker(settings(server.target()));

    RerankFailure failure = assertThrows(RerankFailure.class, () -> reranker.scoreBlocking("q", PASSAGES, null, null));

    assertEquals(RerankFailure.Kind.FAILED, failure.kind());
    assertTrue(failure.getMessage().contains("[" + server.target() + "]") && failure.getMessage().contains("CUDA out of memory"),
        failure.getMessage());
  }

  @Test
  @SuppressWarnings("unchecked")
  void statsCountCallsDocumentsAndFailuresByKind() {
    reranker = new Reranker(settings(server.target()));

    reranker.scoreBlocking("q", PASSAGES, null, null);
    server.failWith = Status.INVALID_ARGUMENT.withDescription("no");
    assertThrows(RerankFailure.class, () -> reranker.scoreBlocking("q", PASSAGES, null, null));
    reranker.stats().failedOpen();
    reranker.stats().skipped();

    Map<String, Object> stats = reranker.stats().snapshot();
    assertEquals(2L, stats.get("calls"));
    assertEquals(1L, stats.get("reranked"));
    assertEquals(3L, stats.get("documents"));
    assertEquals(1L, stats.get("failures"));
    assertEquals(1L, ((Map<String, Long>) stats.get("failures_by_kind")).get("refused"));
    assertEquals(0L, ((Map<String, Long>) stats.get("failures_by_kind")).get("timeout"));
    assertEquals(1L, stats.get("failed_open"));
    assertEquals(1L, stats.get("skipped"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void statsCountANotConfiguredCall() {
    reranker = new Reranker(settings(""));

    assertThrows(RerankFailure.class, () -> reranker.scoreBlocking("q", PASSAGES, null, null));

    assertEquals(1L, ((Map<String, Long>) reranker.stats().snapshot().get("failures_by_kind")).get("not_configured"));
  }

  @Test
  void configureWithTheSameConnectionKeepsTheChannel() {
    reranker = new Reranker(settings(server.target()));
    reranker.scoreBlocking("q", PASSAGES, null, null);

    reranker.configure(settings(server.target(), Duration.ofSeconds(5), "other-model"));
    reranker.scoreBlocking("q", PASSAGES, null, null);

    assertEquals(1, server.connections.get());
    assertEquals(Duration.ofSeconds(5), reranker.settings().timeout());
    assertEquals("other-model", server.received.get(1).getModel());
  }

  @Test
  void configureWithANewTargetSwitchesToIt() throws Exception {
    reranker = new Reranker(settings(server.target()));
    reranker.scoreBlocking("q", PASSAGES, null, null);
    try (FakeRerankServer other = new FakeRerankServer()) {
      reranker.configure(settings(other.target()));

      reranker.scoreBlocking("q", PASSAGES, null, null);

      assertEquals(1, server.received.size());
      assertEquals(1, other.received.size());
      reranker.close();
    }
  }

  @Test
  void configureWithAnEmptyTargetStopsCalling() {
    reranker = new Reranker(settings(server.target()));

    reranker.configure(settings(""));

    assertEquals(RerankFailure.Kind.NOT_CONFIGURED,
        assertThrows(RerankFailure.class, () -> reranker.scoreBlocking("q", PASSAGES, null, null)).kind());
    assertTrue(server.received.isEmpty());
  }

  @Test
  void closeIsIdempotent() {
    reranker = new Reranker(settings(server.target()));
    reranker.scoreBlocking("q", PASSAGES, null, null);

    reranker.close();

    assertDoesNotThrow(reranker::close);
  }

  @Test
  void callsAfterCloseFailWithoutReachingTheServer() {
    reranker = new Reranker(settings(server.target()));
    reranker.close();

    assertThrows(RerankFailure.class, () -> reranker.scoreBlocking("q", PASSAGES, null, null));
    assertTrue(server.received.isEmpty());
  }

  @Test
  void failsOpenFollowsTheSearchsChoiceThenTheNodes() {
    reranker = new Reranker(new ChannelSettings("", false, null, null, null, null, null, Duration.ofSeconds(1), false, null, 10));

    assertEquals(false, reranker.failsOpen(null));
    assertEquals(true, reranker.failsOpen(true));
    assertEquals(false, reranker.failsOpen(false));
  }

  @Test
  void recordFailOpenCountsEveryOne() {
    reranker = new Reranker(settings(""));
    RerankFailure failure = new RerankFailure(RerankFailure.Kind.UNAVAILABLE, "down", null);

    reranker.recordFailOpen(failure, "the search keeps its own order");
    reranker.recordFailOpen(failure, "the search keeps its own order");

    assertEquals(2L, reranker.stats().snapshot().get("failed_open"));
  }

  @Test
  void describeLeavesTheApiKeyOut() {
    ChannelSettings secret = new ChannelSettings("h:1", true, null, null, null, null, "s3cret", Duration.ofSeconds(1),
        true, null, 10);

    assertEquals("target [h:1], TLS, API key", secret.describe());
    assertNull(secret.authority());
  }
}
