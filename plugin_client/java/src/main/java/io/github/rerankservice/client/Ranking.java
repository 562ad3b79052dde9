package io.github.rerankservice.client;

import java.util.List;
import java.util.Objects;

/**
 * The answer to a {@link RerankQuery}.
 *
 * @param results best first; equal scores keep request order (lower index first)
 * @param model the name of the model that scored the pairs
 * @param usage the work the call cost
 */
public record Ranking(List<ScoredDocument> results, String model, Usage usage) {
  public Ranking {
    results = List.copyOf(results);
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(usage, "usage");
  }
}
