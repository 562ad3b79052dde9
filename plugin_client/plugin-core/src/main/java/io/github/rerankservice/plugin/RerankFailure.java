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
}
