package io.github.rerankservice.opensearch;

import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.common.io.stream.StreamOutput;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.search.SearchExtBuilder;

/**
 * {@code "ext": {"grpc_rerank": {...}}}: in a search, the query text for the {@code grpc_rerank}
 * search pipeline ({@code {"query_text": "..."}}); in its response, what the pipeline did
 * ({@code {"status": "reranked" | "skipped" | "failed_open", ...}}).
 */
public final class GrpcRerankSearchExt extends SearchExtBuilder {
  public static final String NAME = "grpc_rerank";
  static final String QUERY_TEXT = "query_text";
  private static final Set<String> REQUEST_KEYS = Set.of(QUERY_TEXT);

  private final Map<String, Object> content;

  GrpcRerankSearchExt(Map<String, Object> content) {
    this.content = Collections.unmodifiableMap(new LinkedHashMap<>(content)); // keeps the key order
  }

  public GrpcRerankSearchExt(StreamInput in) throws IOException {
    this(in.readMap());
  }

  /** Reads the search's ext, refusing anything but a string query_text. */
  public static GrpcRerankSearchExt fromXContent(XContentParser parser) throws IOException {
    Map<String, Object> content = parser.map();
    Set<String> unknown = new TreeSet<>(content.keySet());
    unknown.removeAll(REQUEST_KEYS);
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("[ext.grpc_rerank] unknown key(s) " + unknown + "; it takes only query_text");
    }
    if (!(content.get(QUERY_TEXT) instanceof String)) {
      throw new IllegalArgumentException("[ext.grpc_rerank] query_text must be a string, got [" + content.get(QUERY_TEXT) + "]");
    }
    return new GrpcRerankSearchExt(content);
  }

  Map<String, Object> content() {
    return content;
  }

  String queryText() {
    return (String) content.get(QUERY_TEXT);
  }

  @Override
  public String getWriteableName() {
    return NAME;
  }

  @Override
  public void writeTo(StreamOutput out) throws IOException {
    out.writeMap(content);
  }

  @Override
  public XContentBuilder toXContent(XContentBuilder builder, Params params) throws IOException {
    return builder.field(NAME, content);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof GrpcRerankSearchExt ext && content.equals(ext.content);
  }

  @Override
  public int hashCode() {
    return Objects.hash(NAME, content);
  }
}
