package io.github.rerankservice.plugin;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How the reranker's scores become the hits' scores. */
public enum RerankMode {
  /** The reranker's score (sigmoid, in [0, 1]) replaces the search score. */
  REPLACE,
  /** {@link ScoreMode} of {@code query_weight * search score} and {@code rerank_weight * rerank score}. */
  COMBINE,
  /** Reciprocal rank fusion of the search order and the reranker's order. */
  RRF;

  /** The mode named {@code name} (lower case, as in a request). */
  public static RerankMode parse(String name) {
    for (RerankMode mode : values()) {
      if (mode.label().equals(name)) {
        return mode;
      }
    }
    throw new IllegalArgumentException(
        "mode must be one of " + Arrays.stream(values()).map(RerankMode::label).collect(Collectors.joining(", "))
            + ", got [" + name + "]");
  }

  /** The name a request uses. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
