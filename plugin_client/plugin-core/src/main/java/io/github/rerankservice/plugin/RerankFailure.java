package io.github.rerankservice.plugin;

/**
 * The reranker could not score a window: unreachable, late, refusing or failing. The message
 * names the reranker and the cause, as a search that fails closed shows it.
 */
public final class RerankFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why, in one word a response marker and a counter can carry. */
  public enum Kind {
    NOT_CONFIGURED,
    UNAVAILABLE,
    TIMEOUT,
    REFUSED,
    FAILED
  }

  private final Kind kind;

  public RerankFailure(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  /**
   * The HTTP status of a search that fails closed on this: 504 late, 400 refused (the request
   * was the problem), 503 unreachable or not configured, 502 failed.
   */
  public int httpStatus() {
    return switch (kind) {
      case TIMEOUT -> 504;
      case REFUSED -> 400;
      case NOT_CONFIGURED, UNAVAILABLE -> 503;
      case FAILED -> 502;
    };
  }
}
