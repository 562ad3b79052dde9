package io.github.rerankservice.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.rerankservice.plugin.RerankOptions.Usage;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class RerankOptionsTest {
  /** A config map: key, value, key, value, ... (values may be null, unlike Map.of). */
  private static Map<String, Object> config(Object... keyValues) {
    Map<String, Object> config = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      config.put((String) keyValues[i], keyValues[i + 1]);
    }
    return config;
  }

  private static Map<String, Object> rescorer(Object... more) {
    Map<String, Object> config = config("query_text", "pandas", "document_fields", List.of("title"));
    config.putAll(config(more));
    return config;
  }

  private static Map<String, Object> processor(Object... more) {
    Map<String, Object> config = config("document_fields", List.of("title"));
    config.putAll(config(more));
    return config;
  }

  /** The message of the one IllegalArgumentException parse throws. */
  private static String problem(Map<String, Object> config, Usage usage) {
    return assertThrows(IllegalArgumentException.class, () -> RerankOptions.parse(config, usage)).getMessage();
  }

  @Test
  void responseProcessorDefaults() {
    RerankOptions options = RerankOptions.parse(processor(), Usage.RESPONSE_PROCESSOR);

    assertEquals(new RerankOptions(null, null, List.of("title"), null, RerankMode.REPLACE, 1.0, 1.0, ScoreMode.TOTAL,
        false, 60, 2000, null, null, null), options);
  }

  @Test
  void rescorerDefaults() {
    RerankOptions options = RerankOptions.parse(rescorer(), Usage.RESCORER);

    assertEquals(new RerankOptions("pandas", null, List.of("title"), null, RerankMode.REPLACE, 1.0, 1.0, ScoreMode.TOTAL,
        false, RerankOptions.DEFAULT_RANK_CONSTANT, RerankOptions.DEFAULT_MAX_PASSAGE_CHARS, null, null, null), options);
  }

  @Test
  void everyOptionIsRead() {
    RerankOptions options = RerankOptions.parse(processor("document_fields", List.of("title", "body.text"),
        "window_size", 30, "mode", "combine", "query_weight", 0.5, "rerank_weight", 3, "score_mode", "max",
        "normalize", true, "rank_constant", 10, "model", "m", "timeout", "750ms", "fail_open", false,
        "query_text_path", "match.title.query", "max_passage_chars", 100), Usage.RESPONSE_PROCESSOR);

    assertEquals(new RerankOptions(null, "match.title.query", List.of("title", "body.text"), 30, RerankMode.COMBINE, 0.5,
        3.0, ScoreMode.MAX, true, 10, 100, "m", Duration.ofMillis(750), false), options);
  }

  @Test
  void unknownKeysAreNamedWithTheKnownOnes() {
    String message = problem(processor("windowsize", 5, "bogus", 1), Usage.RESPONSE_PROCESSOR);

    assertTrue(message.startsWith("[grpc_rerank] unknown option(s) [bogus, windowsize]; known: [document_fields, "),
        message);
  }

  @ParameterizedTest
  @ValueSource(strings = {"window_size", "normalize", "rank_constant", "query_text_path"})
  void rescorerRefusesThePipelineOnlyKeys(String key) {
    Object value = switch (key) {
      case "window_size", "rank_constant" -> 5;
      case "normalize" -> true;
      default -> "match.title.query";
    };

    assertTrue(problem(rescorer(key, value), Usage.RESCORER).contains("unknown option(s) [" + key + "]"));
  }

  @Test
  void responseProcessorRefusesQueryText() {
    assertTrue(problem(processor("query_text", "q"), Usage.RESPONSE_PROCESSOR).contains("unknown option(s) [query_text]"));
  }

  @Test
  void rescorerRequiresQueryText() {
    Map<String, Object> config = rescorer();
    config.remove("query_text");

    assertEquals("[grpc_rerank] query_text is required: the text the reranker compares the hits with",
        problem(config, Usage.RESCORER));
  }

  @Test
  void rescorerRefusesBlankQueryText() {
    assertEquals("[grpc_rerank] query_text is required: the text the reranker compares the hits with",
        problem(rescorer("query_text", "  "), Usage.RESCORER));
  }

  @Test
  void rescorerRefusesRrf() {
    assertEquals("[grpc_rerank] mode rrf is not available in the rescorer, whose ranks are per shard; use the "
        + "grpc_rerank search pipeline, which reranks after the shards are merged", problem(rescorer("mode", "rrf"), Usage.RESCORER));
  }

  @Test
  void responseProcessorAcceptsRrf() {
    assertEquals(RerankMode.RRF, RerankOptions.parse(processor("mode", "rrf"), Usage.RESPONSE_PROCESSOR).mode());
  }

  @ParameterizedTest
  @ValueSource(strings = {"query_weight", "rerank_weight"})
  void rescorerRefusesNegativeWeights(String key) {
    assertEquals("[grpc_rerank] query_weight and rerank_weight must be >= 0 in the rescorer, so that reranked hits "
        + "stay above the rest on every shard", problem(rescorer("mode", "combine", key, -0.5), Usage.RESCORER));
  }

  @Test
  void rescorerAcceptsZeroWeights() {
    RerankOptions options = RerankOptions.parse(rescorer("query_weight", 0, "rerank_weight", 0.0), Usage.RESCORER);

    assertEquals(0.0, options.queryWeight());
    assertEquals(0.0, options.rerankWeight());
  }

  @Test
  void responseProcessorAcceptsNegativeWeights() {
    assertEquals(-1.0, RerankOptions.parse(processor("query_weight", -1), Usage.RESPONSE_PROCESSOR).queryWeight());
  }

  @Test
  void unknownModeIsNamed() {
    assertEquals("[grpc_rerank] mode must be one of replace, combine, rrf, got [sort]",
        problem(processor("mode", "sort"), Usage.RESPONSE_PROCESSOR));
  }

  @Test
  void unknownScoreModeIsNamed() {
    assertEquals("[grpc_rerank] score_mode must be one of total, multiply, avg, max, min, got [sum]",
        problem(processor("score_mode", "sum"), Usage.RESPONSE_PROCESSOR));
  }

  @Test
  void modeNamesAreLowerCase() {
    assertEquals("[grpc_rerank] mode must be one of replace, combine, rrf, got [REPLACE]",
        problem(processor("mode", "REPLACE"), Usage.RESPONSE_PROCESSOR));
  }

  @Test
  void nonStringTextOptionsAreRefused() {
    assertTrue(problem(rescorer("query_text", 5), Usage.RESCORER).startsWith("[grpc_rerank] query_text must be a string, got [5]"));
    assertEquals("[grpc_rerank] model must be a string, got [[m]]",
        problem(processor("model", List.of("m")), Usage.RESPONSE_PROCESSOR));
    assertEquals("[grpc_rerank] mode must be a string, got [1]", problem(processor("mode", 1), Usage.RESPONSE_PROCESSOR));
    assertEquals("[grpc_rerank] query_text_path must be a string, got [true]",
        problem(processor("query_text_path", true), Usage.RESPONSE_PROCESSOR));
  }

  @Test
  void documentFieldsMustBeANonEmptyListOfNames() {
    for (Object fields : new Object[] {"title", List.of(), Arrays.asList("title", null), List.of("title", " "), List.of(1)}) {
      assertEquals("[grpc_rerank] document_fields must be a non-empty list of _source field names (dotted names reach "
          + "into objects), got [" + fields + "]", problem(processor("document_fields", fields), Usage.RESPONSE_PROCESSOR));
    }
  }

  @Test
  void documentFieldsAreRequired() {
    assertEquals("[grpc_rerank] document_fields must be a non-empty list of _source field names (dotted names reach "
        + "into objects), got [null]", problem(config(), Usage.RESPONSE_PROCESSOR));
  }

  @ParameterizedTest
  @ValueSource(strings = {"window_size", "rank_constant", "max_passage_chars"})
  void positiveIntegerOptionsRefuseEverythingElse(String key) {
    for (Object value : new Object[] {0, -3, 1.5, "10", true, (long) Integer.MAX_VALUE + 1}) {
      assertEquals("[grpc_rerank] " + key + " must be a positive integer, got [" + value + "]",
          problem(processor(key, value), Usage.RESPONSE_PROCESSOR));
    }
  }

  @Test
  void positiveIntegerOptionsAcceptLongs() {
    assertEquals(7, RerankOptions.parse(processor("window_size", 7L), Usage.RESPONSE_PROCESSOR).windowSize());
  }

  @ParameterizedTest
  @ValueSource(strings = {"query_weight", "rerank_weight"})
  void weightsMustBeFiniteNumbers(String key) {
    for (Object value : new Object[] {"1", true, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertEquals("[grpc_rerank] " + key + " must be a finite number, got [" + value + "]",
          problem(processor(key, value), Usage.RESPONSE_PROCESSOR));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"normalize", "fail_open"})
  void booleanOptionsMustBeBooleans(String key) {
    assertEquals("[grpc_rerank] " + key + " must be true or false, got [true]",
        problem(processor(key, "true"), Usage.RESPONSE_PROCESSOR));
  }

  @Test
  void timeoutIsATimeValue() {
    assertEquals(Duration.ofMillis(500), RerankOptions.parse(processor("timeout", "500ms"), Usage.RESPONSE_PROCESSOR).timeout());
    assertEquals(Duration.ofSeconds(2), RerankOptions.parse(processor("timeout", "2s"), Usage.RESPONSE_PROCESSOR).timeout());
    assertEquals(Duration.ofMinutes(1), RerankOptions.parse(processor("timeout", "1m"), Usage.RESPONSE_PROCESSOR).timeout());
  }

  @Test
  void timeoutFormatsAreNamedWhenWrong() {
    assertEquals("[grpc_rerank] timeout must be a time value such as 500ms, 1s or 2m, got [1h]",
        problem(processor("timeout", "1h"), Usage.RESPONSE_PROCESSOR));
    assertEquals("[grpc_rerank] timeout must be positive, got [0ms]", problem(processor("timeout", "0ms"), Usage.RESPONSE_PROCESSOR));
    assertEquals("[grpc_rerank] timeout must be a string, got [500]", problem(processor("timeout", 500), Usage.RESPONSE_PROCESSOR));
  }

  /** A number too large for a Duration is a bad request like any other (a 400 in the engine, not a 500). */
  @Test
  void timeoutTooLargeIsABadOption() {
    assertTrue(problem(processor("timeout", "999999999999999999m"), Usage.RESPONSE_PROCESSOR).contains("timeout"));
  }

  @Test
  void everyProblemIsNamedAtOnce() {
    String message = problem(config("mode", "rrf", "query_weight", -1, "timeout", "soon", "bogus", 1), Usage.RESCORER);

    assertEquals("[grpc_rerank] unknown option(s) [bogus]; known: " + new java.util.TreeSet<>(List.of("query_text",
        "document_fields", "mode", "query_weight", "rerank_weight", "score_mode", "model", "timeout", "fail_open",
        "max_passage_chars")) + "; query_text is required: the text the reranker compares the hits with; "
        + "document_fields must be a non-empty list of _source field names (dotted names reach into objects), got [null]; "
        + "mode rrf is not available in the rescorer, whose ranks are per shard; use the grpc_rerank search pipeline, "
        + "which reranks after the shards are merged; query_weight and rerank_weight must be >= 0 in the rescorer, so "
        + "that reranked hits stay above the rest on every shard; timeout must be a time value such as 500ms, 1s or 2m, "
        + "got [soon]", message);
  }

  @Test
  void toMapLeavesUnsetAndDefaultOptionsOut() {
    Map<String, Object> map = RerankOptions.parse(rescorer(), Usage.RESCORER).toMap();

    assertEquals(config("query_text", "pandas", "document_fields", List.of("title"), "mode", "replace", "query_weight", 1.0,
        "rerank_weight", 1.0, "score_mode", "total", "max_passage_chars", 2000), map);
    assertFalse(map.containsValue(null));
  }

  @ParameterizedTest
  @EnumSource(Usage.class)
  void toMapIsReadBackByParse(Usage usage) {
    Map<String, Object> config = usage == Usage.RESCORER
        ? rescorer("document_fields", List.of("title", "body"), "mode", "combine", "query_weight", 0.25, "rerank_weight", 2,
            "score_mode", "avg", "model", "m", "timeout", "1500ms", "fail_open", false, "max_passage_chars", 300)
        : processor("document_fields", List.of("title", "body"), "window_size", 40, "mode", "rrf", "query_weight", -0.5,
            "score_mode", "min", "normalize", true, "rank_constant", 5, "model", "m", "timeout", "2m", "fail_open", true,
            "query_text_path", "match.title.query", "max_passage_chars", 300);
    RerankOptions options = RerankOptions.parse(config, usage);

    assertEquals(options, RerankOptions.parse(options.toMap(), usage));
  }

  @ParameterizedTest
  @EnumSource(Usage.class)
  void defaultsAreReadBackByParse(Usage usage) {
    RerankOptions options = RerankOptions.parse(usage == Usage.RESCORER ? rescorer() : processor(), usage);

    assertEquals(options, RerankOptions.parse(options.toMap(), usage));
  }

  @Test
  void documentFieldsAreCopied() {
    List<String> fields = new java.util.ArrayList<>(List.of("title"));
    RerankOptions options = RerankOptions.parse(processor("document_fields", fields), Usage.RESPONSE_PROCESSOR);
    fields.add("body");

    assertEquals(List.of("title"), options.documentFields());
    assertNull(options.windowSize());
  }
}
