package io.github.rerankservice.client;

import io.github.rerankservice.rerank.v1.GetModelInfoRequest;
import io.github.rerankservice.rerank.v1.RerankerGrpc;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Client of the rerank.v1 reranking service.
 *
 * <pre>{@code
 * try (RerankClient client = RerankClient.builder("127.0.0.1:50051").build()) {
 *   Ranking ranking = client.rerank(
 *       RerankQuery.builder("what is a panda?")
 *           .document("a", "The giant panda is a bear native to China.")
 *           .document("b", "Paris is the capital of France.")
 *           .topN(1)
 *           .build());
 *   System.out.println(ranking.results().get(0).id());
 * }
 * }</pre>
 *
 * <p>Every call has a deadline: the builder's default timeout unless the call passes its own.
 * Failures throw (or complete the future with) a {@link RerankException} carrying the status.
 * The client is thread-safe; share one per process and {@link #close()} it at the end.
 */
public final class RerankClient implements AutoCloseable {
  /** The deadline of a call that names none, unless the builder sets another. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

  private final ManagedChannel channel;
  private final Duration defaultTimeout;

  RerankClient(ManagedChannel channel, Duration defaultTimeout) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.defaultTimeout = Objects.requireNonNull(defaultTimeout, "defaultTimeout");
  }

  /**
   * Starts a client of {@code target}, a gRPC target such as {@code host:port} or {@code
   * dns:///host:port}. Plaintext unless the builder is told to use TLS.
   */
  public static RerankClientBuilder builder(String target) {
    return new RerankClientBuilder(target);
  }

  /** Orders the query's documents by relevance, best first, within the default timeout. */
  public Ranking rerank(RerankQuery query) {
    return rerank(query, defaultTimeout);
  }

  /** Orders the query's documents by relevance, best first, within {@code timeout}. */
  public Ranking rerank(RerankQuery query, Duration timeout) {
    return call(RerankerGrpc.getRerankMethod(), ProtoMapping.toProto(query), timeout,
        response -> ProtoMapping.fromProto(response, query.returnText()));
  }

  /** Like {@link #rerank(RerankQuery)}, without blocking. */
  public CompletableFuture<Ranking> rerankAsync(RerankQuery query) {
    return rerankAsync(query, defaultTimeout);
  }

  /**
   * Like {@link #rerank(RerankQuery, Duration)}, without blocking. The future fails with a
   * {@link RerankException}; cancelling it cancels the call.
   */
  public CompletableFuture<Ranking> rerankAsync(RerankQuery query, Duration timeout) {
    return callAsync(RerankerGrpc.getRerankMethod(), ProtoMapping.toProto(query), timeout,
        response -> ProtoMapping.fromProto(response, query.returnText()));
  }

  /** Describes all served models and the server's limits. */
  public ServerInfo getModelInfo() {
    return getModelInfo("", defaultTimeout);
  }

  /** Describes one model ({@code ""} for all) and the server's limits; NOT_FOUND if unknown. */
  public ServerInfo getModelInfo(String model, Duration timeout) {
    return call(RerankerGrpc.getGetModelInfoMethod(), modelInfoRequest(model), timeout,
        ProtoMapping::fromProto);
  }

  /** Like {@link #getModelInfo(String, Duration)}, without blocking. */
  public CompletableFuture<ServerInfo> getModelInfoAsync(String model, Duration timeout) {
    return callAsync(RerankerGrpc.getGetModelInfoMethod(), modelInfoRequest(model), timeout,
        ProtoMapping::fromProto);
  }

  /**
   * Starts an orderly stop without waiting: calls in flight finish, new calls fail. For a caller
   * that swaps clients and must not block; {@link #close()} waits.
   */
  public void shutdown() {
    channel.shutdown();
  }

  /**
   * Stops the channel: calls in flight get a few seconds to finish, then are cancelled.
   * Idempotent.
   */
  @Override
  public void close() {
    channel.shutdown();
    try {
      if (!channel.awaitTermination(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private static GetModelInfoRequest modelInfoRequest(String model) {
    return GetModelInfoRequest.newBuilder().setModel(Objects.requireNonNull(model, "model")).build();
  }

  private <ReqT, RespT, T> T call(
      MethodDescriptor<ReqT, RespT> method, ReqT request, Duration timeout,
      Function<RespT, T> mapper) {
    try {
      return mapper.apply(
          ClientCalls.blockingUnaryCall(channel, method, callOptions(timeout), request));
    } catch (StatusRuntimeException e) {
      throw new RerankException(method.getFullMethodName(), e);
    }
  }

  private <ReqT, RespT, T> CompletableFuture<T> callAsync(
      MethodDescriptor<ReqT, RespT> method, ReqT request, Duration timeout,
      Function<RespT, T> mapper) {
    UnaryFuture<ReqT, RespT, T> observer = new UnaryFuture<>(method.getFullMethodName(), mapper);
    ClientCalls.asyncUnaryCall(
        channel.newCall(method, callOptions(timeout)), request, observer);
    return observer.future();
  }

  private static CallOptions callOptions(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
    return CallOptions.DEFAULT.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }
}
