package io.github.rerankservice.opensearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.opensearch.common.io.stream.BytesStreamOutput;
import org.opensearch.common.xcontent.json.JsonXContent;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.xcontent.DeprecationHandler;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.core.xcontent.ToXContent;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.core.xcontent.XContentParser;

class GrpcRerankSearchExtTest {
  private static GrpcRerankSearchExt parse(String json) throws IOException {
    try (XContentParser parser = JsonXContent.jsonXContent.createParser(NamedXContentRegistry.EMPTY,
        DeprecationHandler.THROW_UNSUPPORTED_OPERATION, json)) {
      parser.nextToken();
      return GrpcRerankSearchExt.fromXContent(parser);
    }
  }

  @Test
  void readsTheQueryText() throws IOException {
    assertEquals("판다는 곰이다", parse("{\"query_text\": \"판다는 곰이다\"}").queryText());
  }

  @Test
  void refusesUnknownKeys() {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> parse("{\"query_text\": \"q\", \"window_size\": 5, \"mode\": \"rrf\"}"));

    assertEquals("[ext.grpc_rerank] unknown key(s) [mode, window_size]; it takes only query_text", error.getMessage());
  }

  @Test
  void refusesANonStringQueryText() {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> parse("{\"query_text\": 42}"));

    assertEquals("[ext.grpc_rerank] query_text must be a string, got [42]", error.getMessage());
  }

  @Test
  void refusesAMissingQueryText() {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> parse("{}"));

    assertEquals("[ext.grpc_rerank] query_text must be a string, got [null]", error.getMessage());
  }

  @Test
  void streamRoundTripKeepsTheContent() throws IOException {
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("status", "reranked");
    status.put("window_size", 50);
    GrpcRerankSearchExt ext = new GrpcRerankSearchExt(status);
    BytesStreamOutput out = new BytesStreamOutput();

    ext.writeTo(out);
    try (StreamInput in = out.bytes().streamInput()) {
      GrpcRerankSearchExt read = new GrpcRerankSearchExt(in);

      assertEquals(ext, read);
      assertEquals(ext.hashCode(), read.hashCode());
    }
  }

  @Test
  void toXContentWritesTheContentUnderItsName() throws IOException {
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("status", "skipped");
    status.put("reason", "no hits");
    XContentBuilder json = JsonXContent.contentBuilder().startObject();

    new GrpcRerankSearchExt(status).toXContent(json, ToXContent.EMPTY_PARAMS);

    assertEquals("{\"grpc_rerank\":{\"status\":\"skipped\",\"reason\":\"no hits\"}}", json.endObject().toString());
  }

  @Test
  void extsDifferByContent() {
    assertNotEquals(new GrpcRerankSearchExt(Map.of("query_text", "a")), new GrpcRerankSearchExt(Map.of("query_text", "b")));
    assertEquals("grpc_rerank", new GrpcRerankSearchExt(Map.of()).getWriteableName());
  }
}
