package io.github.rerankservice.client;

import java.util.Objects;

/**
 * One candidate passage to rerank.
 *
 * @param id opaque to the server and echoed back in {@link ScoredDocument#id()}, for example
 *     an OpenSearch {@code _id}
 * @param text the passage to score; may be empty
 */
public record Document(String id, String text) {
  public Document {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(text, "text");
  }
}
