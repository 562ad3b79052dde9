package io.github.rerankservice.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

/**
 * A call to the reranking service failed. {@link #code()} is the gRPC status code and {@link
 * #description()} the server's message, which says what was wrong; {@link #isRetryable()} tells
 * whether the same call may succeed later.
 */
public final class RerankException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What a caller should do about each status; codes not listed get the server's word only. */
  private static final Map<Status.Code, String> ADVICE = new EnumMap<>(Status.Code.class);

  static {
    ADVICE.put(Status.Code.INVALID_ARGUMENT, "fix the request; retrying will not help");
    ADVICE.put(Status.Code.NOT_FOUND, "name a model the server serves (see getModelInfo())");
    ADVICE.put(Status.Code.RESOURCE_EXHAUSTED, "the server is overloaded; retry with backoff");
    ADVICE.put(
        Status.Code.UNAVAILABLE,
        "the server is unreachable, loading or shutting down; retry with backoff");
    ADVICE.put(
        Status.Code.DEADLINE_EXCEEDED,
        "no answer within the deadline; raise the timeout or send fewer documents");
    ADVICE.put(Status.Code.UNAUTHENTICATED, "send valid credentials (apiKey)");
    ADVICE.put(Status.Code.PERMISSION_DENIED, "the credentials do not allow this call");
    ADVICE.put(Status.Code.INTERNAL, "the model failed on the server; report it with its logs");
  }

  private static final Set<Status.Code> RETRYABLE =
      Set.of(Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED);

  private final String method;
  private final transient Status status;

  RerankException(String method, StatusRuntimeException cause) {
    this(method, cause.getStatus(), cause);
  }

  RerankException(String method, Status status, Throwable cause) {
    super(message(method, status), cause);
    this.method = method;
    this.status = status;
  }

  private static String message(String method, Status status) {
    StringBuilder message = new StringBuilder(method).append(" failed: ").append(status.getCode());
    if (status.getDescription() != null) {
      message.append(": ").append(status.getDescription());
    }
    String advice = ADVICE.get(status.getCode());
    if (advice != null) {
      message.append(" (").append(advice).append(')');
    }
    return message.toString();
  }

  /** The full gRPC method name, for example {@code rerank.v1.Reranker/Rerank}. */
  public String method() {
    return method;
  }

  /** The gRPC status code of the failure. */
  public Status.Code code() {
    return status.getCode();
  }

  /** The server's (or the transport's) message; empty when there was none. */
  public String description() {
    return status.getDescription() == null ? "" : status.getDescription();
  }

  /** The whole gRPC status, with its cause. */
  public Status status() {
    return status;
  }

  /**
   * True for failures that may pass on a later try of the same call (UNAVAILABLE,
   * RESOURCE_EXHAUSTED), after a backoff. The client already retries UNAVAILABLE twice itself.
   */
  public boolean isRetryable() {
    return RETRYABLE.contains(status.getCode());
  }
}
