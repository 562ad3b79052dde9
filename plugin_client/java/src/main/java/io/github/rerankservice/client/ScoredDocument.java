package io.github.rerankservice.client;

import java.util.Objects;
import java.util.Optional;

/**
 * One reranked document.
 *
 * @param index the document's position in {@link RerankQuery#documents()}
 * @param id the document's id as sent
 * @param score the sigmoid of the relevance logit in [0, 1], or the raw logit when {@link
 *     RerankQuery#rawScores()} was set
 * @param text the document's text, present only when {@link RerankQuery#returnText()} was set
 */
public record ScoredDocument(int index, String id, double score, Optional<String> text) {
  public ScoredDocument {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(text, "text");
  }
}
