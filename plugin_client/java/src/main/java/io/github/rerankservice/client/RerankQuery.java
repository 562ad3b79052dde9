package io.github.rerankservice.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A request to order documents by relevance to a query. Build one with {@link #builder(String)};
 * the server checks the values (an empty query or too many documents is INVALID_ARGUMENT).
 *
 * @param query the search query
 * @param documents the candidates, at least one
 * @param topN keep only the n best documents; 0 keeps all
 * @param rawScores answer the raw relevance logit instead of its sigmoid in [0, 1]
 * @param returnText echo each document's text in the results
 * @param maxLength token budget of one (query, document) pair; 0 uses the model's default
 * @param prompt replaces the model's instruction; empty uses the default
 * @param model the model to use; empty uses the server's default model
 */
public record RerankQuery(
    String query,
    List<Document> documents,
    int topN,
    boolean rawScores,
    boolean returnText,
    int maxLength,
    String prompt,
    String model) {

  public RerankQuery {
    Objects.requireNonNull(query, "query");
    documents = List.copyOf(documents);
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(model, "model");
    if (topN < 0) {
      throw new IllegalArgumentException("topN must be >= 0 (0 keeps all documents), got " + topN);
    }
    if (maxLength < 0) {
      throw new IllegalArgumentException(
          "maxLength must be >= 0 (0 uses the model's default), got " + maxLength);
    }
  }

  /** Starts a query; add documents with {@link Builder#document}. */
  public static Builder builder(String query) {
    return new Builder(query);
  }

  /** A query over bare texts, each given its position as id. */
  public static RerankQuery of(String query, List<String> texts) {
    return builder(query).documents(texts).build();
  }

  /** Builds a {@link RerankQuery}; not thread-safe. */
  public static final class Builder {
    private final String query;
    private final List<Document> documents = new ArrayList<>();
    private int topN;
    private boolean rawScores;
    private boolean returnText;
    private int maxLength;
    private String prompt = "";
    private String model = "";

    private Builder(String query) {
      this.query = Objects.requireNonNull(query, "query");
    }

    /** Adds a document with its own id. */
    public Builder document(String id, String text) {
      documents.add(new Document(id, text));
      return this;
    }

    /** Adds a document whose id is its position in the query, as the other clients do. */
    public Builder document(String text) {
      return document(Integer.toString(documents.size()), text);
    }

    /** Adds bare texts, each with its position as id. */
    public Builder documents(List<String> texts) {
      texts.forEach(this::document);
      return this;
    }

    public Builder topN(int topN) {
      this.topN = topN;
      return this;
    }

    public Builder rawScores(boolean rawScores) {
      this.rawScores = rawScores;
      return this;
    }

    public Builder returnText(boolean returnText) {
      this.returnText = returnText;
      return this;
    }

    public Builder maxLength(int maxLength) {
      this.maxLength = maxLength;
      return this;
    }

    public Builder prompt(String prompt) {
      this.prompt = Objects.requireNonNull(prompt, "prompt");
      return this;
    }

    public Builder model(String model) {
      this.model = Objects.requireNonNull(model, "model");
      return this;
    }

    public RerankQuery build() {
      return new RerankQuery(
          query, documents, topN, rawScores, returnText, maxLength, prompt, model);
    }
  }
}
