package io.github.rerankservice.plugin;

import io.github.rerankservice.client.RerankClient;
import io.github.rerankservice.client.RerankClientBuilder;
import io.github.rerankservice.client.RerankException;
import io.github.rerankservice.client.RerankQuery;
import io.github.rerankservice.client.Ranking;
import io.github.rerankservice.client.ScoredDocument;
import io.grpc.Status;
import java.security.AccessController;
import java.security.PrivilegedAction;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A node's one connection to the reranker: made when the node starts, remade when its settings
 * change, closed when the node stops; never one per search. Scores windows of passages within a
 * deadline and turns every way of failing into a {@link RerankFailure} that names the reranker.
 * Thread-safe.
 */
public final class Reranker implements AutoCloseable {
  private static final Logger LOG = LogManager.getLogger(Reranker.class);
  /** How much longer than the call's deadline a blocked caller waits before giving up itself. */
  private static final Duration BLOCKING_SLACK = Duration.ofMillis(200);
  /** At most one fail-open log line per this interval: an outage must not flood the node's log. */
  private static final long FAIL_OPEN_LOG_INTERVAL_NANOS = Duration.ofSeconds(10).toNanos();

  private final RerankStats stats = new RerankStats();
  private final AtomicLong lastFailOpenLog = new AtomicLong(System.nanoTime() - FAIL_OPEN_LOG_INTERVAL_NANOS);
  private final AtomicLong failOpenSinceLog = new AtomicLong();
  private volatile ChannelSettings settings;
  private volatile RerankClient client;

  public Reranker(ChannelSettings settings) {
    configure(settings);
  }

  /** Applies new settings; a new connection only when the connection changed. */
  public synchronized void configure(ChannelSettings next) {
    ChannelSettings previous = settings;
    settings = next;
    if (next.sameConnection(previous)) {
      return;
    }
    RerankClient old = client;
    try {
      client = next.target().isEmpty() ? null : privileged(() -> connect(next));
      LOG.info("grpc_rerank: reranker {}", next.target().isEmpty() ? "not configured (rerank.grpc.target is empty)" : next.describe());
      warm(next);
    } catch (RuntimeException | LinkageError e) {
      // Settings are applied on the engine's own threads, where an error would stop the node.
      client = null;
      LOG.error("grpc_rerank: cannot connect to the reranker " + next.describe() + "; searches fail "
          + (next.failOpen() ? "open" : "closed") + " until the settings are fixed", e);
    }
    if (old != null) {
      old.shutdown(); // calls in flight finish on the old channel
    }
  }

  public ChannelSettings settings() {
    return settings;
  }

  public RerankStats stats() {
    return stats;
  }

  /** What a node's stats endpoint answers: the target, the fail-open default and the counters. */
  public Map<String, Object> describe() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("target", settings.target());
    out.put("fail_open", settings.failOpen());
    out.put("stats", stats.snapshot());
    return out;
  }

  /**
   * The reranker's scores of {@code passages} for {@code query}, in the passages' order
   * (sigmoid, in [0, 1]). Never blocks; the future fails with a {@link RerankFailure}.
   *
   * @param model the model to use; null for the node's default, then the server's
   * @param timeout the call's deadline; null for the node's
   */
  public CompletableFuture<double[]> score(String query, List<String> passages, String model, Duration timeout) {
    ChannelSettings current = settings;
    RerankClient currentClient = client;
    long start = System.nanoTime();
    if (currentClient == null) {
      RerankFailure failure = new RerankFailure(RerankFailure.Kind.NOT_CONFIGURED,
          "grpc_rerank: no reranker configured; set rerank.grpc.target", null);
      stats.failed(failure.kind(), 0);
      return CompletableFuture.failedFuture(failure);
    }
    Duration deadline = timeout != null ? timeout : current.timeout();
    CompletableFuture<Ranking> call;
    try {
      RerankQuery rerankQuery = RerankQuery.builder(query)
          .documents(passages)
          .model(chooseModel(model, current))
          .build();
      call = privileged(() -> currentClient.rerankAsync(rerankQuery, deadline));
    } catch (RuntimeException | LinkageError e) {
      // Never thrown into a search thread: the failure takes the fail-open path like any other.
      call = CompletableFuture.failedFuture(e);
    }
    return call.handle((ranking, error) -> {
      long nanos = System.nanoTime() - start;
      if (error != null) {
        RerankFailure failure = failure(unwrap(error), current, deadline);
        stats.failed(failure.kind(), nanos);
        throw failure;
      }
      stats.called(passages.size(), nanos);
      return byIndex(ranking, passages.size());
    });
  }

  /**
   * Like {@link #score}, for a caller that must block (a shard's rescorer): waits at most the
   * deadline plus a little, then gives up and cancels the call.
   */
  public double[] scoreBlocking(String query, List<String> passages, String model, Duration timeout) {
    Duration deadline = timeout != null ? timeout : settings.timeout();
    CompletableFuture<double[]> future = score(query, passages, model, deadline);
    try {
      return future.get(deadline.plus(BLOCKING_SLACK).toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      Throwable cause = unwrap(e);
      throw cause instanceof RerankFailure failure ? failure : failure(cause, settings, deadline);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new RerankFailure(RerankFailure.Kind.TIMEOUT,
          "grpc_rerank: the reranker at [" + settings.target() + "] did not answer within " + Durations.format(deadline), e);
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw new RerankFailure(RerankFailure.Kind.FAILED, "grpc_rerank: interrupted while waiting for the reranker", e);
    }
  }

  /**
   * Whether a search that met {@code failure} goes on with its own order: the search's own
   * choice when it made one, else the node's.
   */
  public boolean failsOpen(Boolean searchChoice) {
    return searchChoice != null ? searchChoice : settings.failOpen();
  }

  /**
   * Records that a search went on with its own order after {@code failure}: a counter, and a
   * WARN line (at most one per 10 s, saying how many it stands for).
   */
  public void recordFailOpen(RerankFailure failure, String consequence) {
    stats.failedOpen();
    long count = failOpenSinceLog.incrementAndGet();
    long now = System.nanoTime();
    long last = lastFailOpenLog.get();
    if (now - last >= FAIL_OPEN_LOG_INTERVAL_NANOS && lastFailOpenLog.compareAndSet(last, now)) {
      failOpenSinceLog.addAndGet(-count);
      LOG.warn("{}; {} (fail_open; {} fail-open(s) since the last such line)", failure.getMessage(), consequence, count);
    }
  }

  /** Closes the connection; calls in flight get a few seconds. Idempotent. */
  @Override
  public synchronized void close() {
    RerankClient old = client;
    client = null;
    if (old != null) {
      privileged(() -> {
        old.close();
        return null;
      });
    }
  }

  private static RerankClient connect(ChannelSettings settings) {
    RerankClientBuilder builder = RerankClient.builder(settings.target()).defaultTimeout(settings.timeout());
    if (settings.tls()) {
      builder.useTls();
    }
    if (settings.caCertificate() != null) {
      builder.trustCertificates(settings.caCertificate());
    }
    if (settings.clientCertificate() != null) {
      builder.clientCertificate(settings.clientCertificate(), settings.clientKey());
    }
    if (settings.authority() != null && !settings.authority().isEmpty()) {
      builder.authority(settings.authority());
    }
    if (settings.apiKey() != null && !settings.apiKey().isEmpty()) {
      builder.apiKey(settings.apiKey());
    }
    return builder.build();
  }

  /** Connects now, so the first search does not pay for it; a failure here is only logged. */
  private void warm(ChannelSettings warmed) {
    RerankClient warming = client;
    if (warming == null) {
      return;
    }
    Duration timeout = warmed.timeout().compareTo(Duration.ofSeconds(10)) > 0 ? warmed.timeout() : Duration.ofSeconds(10);
    privileged(() -> warming.getModelInfoAsync("", timeout)).whenComplete((info, error) -> {
      if (error == null) {
        LOG.info("grpc_rerank: connected to the reranker at [{}], default model [{}]", warmed.target(), info.defaultModel());
      } else {
        LOG.warn("grpc_rerank: the reranker at [{}] is not reachable yet ({}); searches fail {} until it is",
            warmed.target(), unwrap(error).getMessage(), warmed.failOpen() ? "open" : "closed");
      }
    });
  }

  private static String chooseModel(String model, ChannelSettings settings) {
    if (model != null && !model.isEmpty()) {
      return model;
    }
    return settings.defaultModel() == null ? "" : settings.defaultModel();
  }

  private static double[] byIndex(Ranking ranking, int count) {
    double[] scores = new double[count];
    boolean[] seen = new boolean[count];
    for (ScoredDocument document : ranking.results()) {
      scores[document.index()] = document.score();
      seen[document.index()] = true;
    }
    for (int i = 0; i < count; i++) {
      if (!seen[i]) {
        throw new IllegalStateException("the reranker returned no score for passage " + i + " of " + count);
      }
    }
    return scores;
  }

  private static Throwable unwrap(Throwable error) {
    while ((error instanceof CompletionException || error instanceof ExecutionException) && error.getCause() != null) {
      error = error.getCause();
    }
    return error;
  }

  private static RerankFailure failure(Throwable error, ChannelSettings settings, Duration deadline) {
    String where = "grpc_rerank: the reranker at [" + settings.target() + "] ";
    if (error instanceof RerankException rerank) {
      Status.Code code = rerank.code();
      RerankFailure.Kind kind = switch (code) {
        case UNAVAILABLE -> RerankFailure.Kind.UNAVAILABLE;
        case DEADLINE_EXCEEDED, CANCELLED -> RerankFailure.Kind.TIMEOUT;
        case INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, UNAUTHENTICATED, PERMISSION_DENIED,
            FAILED_PRECONDITION, OUT_OF_RANGE -> RerankFailure.Kind.REFUSED;
        default -> RerankFailure.Kind.FAILED;
      };
      String detail = kind == RerankFailure.Kind.TIMEOUT
          ? "did not answer within " + Durations.format(deadline) + " (" + code + ")"
          : "answered " + code + ": " + rerank.description();
      return new RerankFailure(kind, where + detail, error);
    }
    if (error instanceof CancellationException) {
      return new RerankFailure(RerankFailure.Kind.TIMEOUT, where + "call was cancelled", error);
    }
    return new RerankFailure(RerankFailure.Kind.FAILED, where + "failed: " + error, error);
  }

  /** Runs {@code action} with the plugin's own permissions (the security manager's rule). */
  @SuppressWarnings("removal")
  private static <T> T privileged(PrivilegedAction<T> action) {
    return AccessController.doPrivileged(action);
  }
}
