package io.github.rerankservice.elasticsearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.rerankservice.plugin.RerankMode;
import io.github.rerankservice.plugin.RerankOptions;
import io.github.rerankservice.plugin.Reranker;
import io.github.rerankservice.plugin.ScoreMode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.elasticsearch.TransportVersion;
import org.elasticsearch.common.bytes.BytesReference;
import org.elasticsearch.common.io.stream.BytesStreamOutput;
import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.search.rescore.RescoreContext;
import org.elasticsearch.search.rescore.RescorerBuilder;
import org.elasticsearch.xcontent.NamedXContentRegistry;
import org.elasticsearch.xcontent.ParseField;
import org.elasticsearch.xcontent.ToXContent;
import org.elasticsearch.xcontent.XContentBuilder;
import org.elasticsearch.xcontent.XContentParser;
import org.elasticsearch.xcontent.XContentParserConfiguration;
import org.elasticsearch.xcontent.json.JsonXContent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GrpcRerankRescorerBuilderTest {
  private static final String CLAUSE = """
      {"query_text": "what is a panda?", "document_fields": ["title", "body.text"], "mode": "combine",
       "query_weight": 0.5, "rerank_weight": 2, "score_mode": "max", "model": "bge", "timeout": "750ms",
       "fail_open": false, "max_passage_chars": 500}""";

  private final Reranker reranker = TestRerankers.unconfigured(100);
  private final Supplier<Reranker> rerankers = () -> reranker;

  @AfterEach
  void close() {
    reranker.close();
  }

  private static XContentParser parser(XContentParserConfiguration config, String json) throws IOException {
    return JsonXContent.jsonXContent.createParser(config, json);
  }

  private GrpcRerankRescorerBuilder parse(String json) throws IOException {
    try (XContentParser parser = parser(XContentParserConfiguration.EMPTY, json)) {
      return GrpcRerankRescorerBuilder.fromXContent(parser, rerankers);
    }
  }

  @Test
  void parsesTheClauseFromJson() throws IOException {
    RerankOptions options = parse(CLAUSE).options();

    assertEquals(new RerankOptions("what is a panda?", null, List.of("title", "body.text"), null, RerankMode.COMBINE, 0.5,
        2.0, ScoreMode.MAX, false, 60, 500, "bge", Duration.ofMillis(750), false), options);
  }

  @Test
  void parseRefusesWhatTheOptionsRefuse() {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> parse("{\"query_text\": \"q\", \"document_fields\": [\"title\"], \"mode\": \"rrf\"}"));

    assertTrue(error.getMessage().startsWith("[grpc_rerank] mode rrf is not available in the rescorer"), error.getMessage());
  }

  @Test
  void parseRefusesAClauseWithoutQueryText() {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> parse("{\"document_fields\": [\"title\"]}"));

    assertTrue(error.getMessage().contains("query_text is required"), error.getMessage());
  }

  @Test
  void rescoreSectionIsParsedThroughTheRegisteredName() throws IOException {
    NamedXContentRegistry registry = new NamedXContentRegistry(List.of(new NamedXContentRegistry.Entry(RescorerBuilder.class,
        new ParseField(GrpcRerankRescorerBuilder.NAME), parser -> GrpcRerankRescorerBuilder.fromXContent(parser, rerankers))));
    String rescore = "{\"window_size\": 50, \"grpc_rerank\": " + CLAUSE + "}";
    List<String> used = new ArrayList<>();

    try (XContentParser parser = parser(XContentParserConfiguration.EMPTY.withRegistry(registry), rescore)) {
      parser.nextToken();
      RescorerBuilder<?> parsed = RescorerBuilder.parseFromXContent(parser, used::add);

      GrpcRerankRescorerBuilder builder = assertInstanceOf(GrpcRerankRescorerBuilder.class, parsed);
      assertEquals(50, builder.windowSize());
      assertEquals(parse(CLAUSE).options(), builder.options());
      assertEquals(List.of("grpc_rerank"), used); // Elasticsearch counts rescorer usage by name
    }
  }

  @Test
  void toXContentIsReadBackByFromXContent() throws IOException {
    GrpcRerankRescorerBuilder builder = parse(CLAUSE).windowSize(30);
    XContentBuilder json = JsonXContent.contentBuilder();
    builder.toXContent(json, ToXContent.EMPTY_PARAMS);

    Map<String, Object> rescore;
    try (XContentParser parser = parser(XContentParserConfiguration.EMPTY, BytesReference.bytes(json).utf8ToString())) {
      rescore = parser.map();
    }

    assertEquals(30, rescore.get("window_size"));
    @SuppressWarnings("unchecked")
    Map<String, Object> clause = (Map<String, Object>) rescore.get(GrpcRerankRescorerBuilder.NAME);
    assertEquals(builder.options(), RerankOptions.parse(clause, RerankOptions.Usage.RESCORER));
  }

  @Test
  void streamRoundTripKeepsTheOptionsAndTheWindow() throws IOException {
    GrpcRerankRescorerBuilder builder = parse(CLAUSE).windowSize(40);
    BytesStreamOutput out = new BytesStreamOutput();

    builder.writeTo(out);
    GrpcRerankRescorerBuilder read;
    try (StreamInput in = out.bytes().streamInput()) {
      read = new GrpcRerankRescorerBuilder(in, rerankers);
    }

    assertEquals(40, read.windowSize());
    assertEquals(builder.options(), read.options());
    assertEquals(builder, read);
    assertEquals(builder.hashCode(), read.hashCode());
  }

  @Test
  void streamRoundTripKeepsDefaultsAndAnUnsetWindow() throws IOException {
    GrpcRerankRescorerBuilder builder = parse("{\"query_text\": \"자이언트 판다\", \"document_fields\": [\"title\"]}");
    BytesStreamOutput out = new BytesStreamOutput();

    builder.writeTo(out);
    try (StreamInput in = out.bytes().streamInput()) {
      GrpcRerankRescorerBuilder read = new GrpcRerankRescorerBuilder(in, rerankers);
      assertEquals(builder, read);
      assertEquals(null, read.windowSize());
      assertEquals(null, read.options().timeout());
      assertEquals(null, read.options().failOpen());
    }
  }

  @Test
  void equalBuildersHaveEqualHashCodes() throws IOException {
    GrpcRerankRescorerBuilder first = parse(CLAUSE).windowSize(10);
    GrpcRerankRescorerBuilder second = parse(CLAUSE).windowSize(10);

    assertEquals(first, second);
    assertEquals(first.hashCode(), second.hashCode());
  }

  @Test
  void buildersDifferByWindowOrOptions() throws IOException {
    GrpcRerankRescorerBuilder builder = parse(CLAUSE).windowSize(10);

    assertNotEquals(builder, parse(CLAUSE).windowSize(11));
    assertNotEquals(builder, parse(CLAUSE.replace("\"bge\"", "\"other\"")).windowSize(10));
    assertNotEquals(builder, null);
    assertNotEquals(builder, "grpc_rerank");
  }

  @Test
  void writeableNameIsGrpcRerank() throws IOException {
    assertEquals("grpc_rerank", parse(CLAUSE).getWriteableName());
  }

  @Test
  void everyCompatibleNodeCanReadTheClause() throws IOException {
    TransportVersion minimal = parse(CLAUSE).getMinimalSupportedVersion();

    assertEquals(0, minimal.id());
    assertTrue(minimal.onOrBefore(TransportVersion.current()), minimal.toString());
  }

  @Test
  void rewriteKeepsTheBuilder() throws IOException {
    GrpcRerankRescorerBuilder builder = parse(CLAUSE);

    assertEquals(builder, builder.rewrite(null));
  }

  @Test
  void contextCarriesTheWindowAndOptions() throws IOException {
    GrpcRerankRescorerBuilder builder = parse(CLAUSE);

    RescoreContext context = builder.innerBuildContext(100, null);

    assertEquals(100, context.getWindowSize());
    assertEquals(builder.options(), ((GrpcRerankRescorer.Context) context).options);
  }

  @Test
  void windowLargerThanTheNodeAllowsIsRefused() throws IOException {
    GrpcRerankRescorerBuilder builder = parse(CLAUSE);

    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> builder.innerBuildContext(101, null));

    assertEquals("[grpc_rerank] window_size is 101 but this node allows at most 100 (rerank.max_window_size)",
        error.getMessage());
  }
}
