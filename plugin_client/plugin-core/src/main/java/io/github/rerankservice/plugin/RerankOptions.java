package io.github.rerankservice.plugin;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The options of one {@code grpc_rerank} clause (a rescorer) or step (a search pipeline), read
 * from the request's JSON as a map. A null field means "the node's setting".
 *
 * @param queryText the query the reranker reads (the rescorer's; the pipeline reads the search's)
 * @param queryTextPath the pipeline's dotted path into the search's query to the query text
 * @param documentFields the {@code _source} fields that make a hit's passage ({@link PassageText})
 * @param windowSize the pipeline's window; the rescorer's is the {@code rescore} clause's own
 */
public record RerankOptions(
    String queryText,
    String queryTextPath,
    List<String> documentFields,
    Integer windowSize,
    RerankMode mode,
    double queryWeight,
    double rerankWeight,
    ScoreMode scoreMode,
    boolean normalize,
    int rankConstant,
    int maxPassageChars,
    String model,
    Duration timeout,
    Boolean failOpen) {

  public static final int DEFAULT_MAX_PASSAGE_CHARS = 2000;
  public static final int DEFAULT_RANK_CONSTANT = 60;

  /** Which clause the options belong to: each accepts its own keys and modes. */
  public enum Usage {
    /**
     * A shard's rescorer: the query text is given, the window is the rescore clause's, and the
     * modes are those whose scores compare across shards (replace, combine with weights >= 0).
     */
    RESCORER(Set.of("query_text", "document_fields", "mode", "query_weight", "rerank_weight",
        "score_mode", "model", "timeout", "fail_open", "max_passage_chars")),
    /** The search pipeline's response step: reranks the merged hits once. */
    RESPONSE_PROCESSOR(Set.of("document_fields", "window_size", "mode", "query_weight",
        "rerank_weight", "score_mode", "normalize", "rank_constant", "model", "timeout",
        "fail_open", "query_text_path", "max_passage_chars"));

    private final Set<String> keys;

    Usage(Set<String> keys) {
      this.keys = keys;
    }
  }

  public RerankOptions {
    documentFields = List.copyOf(documentFields);
  }

  /**
   * Reads {@code config} (JSON as a map) for {@code usage}; every problem is named in one
   * {@link IllegalArgumentException} so a caller fixes them all at once.
   */
  public static RerankOptions parse(Map<String, ?> config, Usage usage) {
    Reader reader = new Reader(config);
    Set<String> unknown = new TreeSet<>(config.keySet());
    unknown.removeAll(usage.keys);
    if (!unknown.isEmpty()) {
      reader.problems.add("unknown option(s) " + unknown + "; known: " + new TreeSet<>(usage.keys));
    }
    String queryText = reader.string("query_text");
    if (usage == Usage.RESCORER && (queryText == null || queryText.isBlank())) {
      reader.problems.add("query_text is required: the text the reranker compares the hits with");
    }
    List<String> fields = reader.fields();
    RerankMode mode = reader.parsed("mode", RerankMode::parse, RerankMode.REPLACE);
    if (usage == Usage.RESCORER && mode == RerankMode.RRF) {
      reader.problems.add("mode rrf is not available in the rescorer, whose ranks are per shard; "
          + "use the grpc_rerank search pipeline, which reranks after the shards are merged");
    }
    double queryWeight = reader.number("query_weight", 1.0);
    double rerankWeight = reader.number("rerank_weight", 1.0);
    if (usage == Usage.RESCORER && (queryWeight < 0 || rerankWeight < 0)) {
      reader.problems.add("query_weight and rerank_weight must be >= 0 in the rescorer, so that "
          + "reranked hits stay above the rest on every shard");
    }
    RerankOptions options = new RerankOptions(
        queryText,
        reader.string("query_text_path"),
        fields,
        reader.positiveInt("window_size", null),
        mode,
        queryWeight,
        rerankWeight,
        reader.parsed("score_mode", ScoreMode::parse, ScoreMode.TOTAL),
        reader.bool("normalize", false),
        reader.positiveInt("rank_constant", DEFAULT_RANK_CONSTANT),
        reader.positiveInt("max_passage_chars", DEFAULT_MAX_PASSAGE_CHARS),
        reader.string("model"),
        reader.parsed("timeout", text -> Durations.parse(text, "timeout"), null),
        reader.bool("fail_open", null));
    if (!reader.problems.isEmpty()) {
      throw new IllegalArgumentException("[grpc_rerank] " + String.join("; ", reader.problems));
    }
    return options;
  }

  /** The options as the JSON map {@link #parse} reads back (nulls left out). */
  public Map<String, Object> toMap() {
    Map<String, Object> map = new LinkedHashMap<>();
    putIfSet(map, "query_text", queryText);
    putIfSet(map, "query_text_path", queryTextPath);
    map.put("document_fields", documentFields);
    putIfSet(map, "window_size", windowSize);
    map.put("mode", mode.label());
    map.put("query_weight", queryWeight);
    map.put("rerank_weight", rerankWeight);
    map.put("score_mode", scoreMode.label());
    if (normalize) {
      map.put("normalize", true);
    }
    if (rankConstant != DEFAULT_RANK_CONSTANT) {
      map.put("rank_constant", rankConstant);
    }
    map.put("max_passage_chars", maxPassageChars);
    putIfSet(map, "model", model);
    putIfSet(map, "timeout", timeout == null ? null : Durations.format(timeout));
    putIfSet(map, "fail_open", failOpen);
    return map;
  }

  /** The passage of one hit's {@code _source}. */
  public String passage(Map<String, ?> source) {
    return PassageText.of(source, documentFields, maxPassageChars);
  }

  private static void putIfSet(Map<String, Object> map, String key, Object value) {
    if (value != null) {
      map.put(key, value);
    }
  }

  /** Reads typed values out of a JSON map, collecting problems instead of stopping at the first. */
  private static final class Reader {
    private final Map<String, ?> config;
    private final List<String> problems = new ArrayList<>();

    Reader(Map<String, ?> config) {
      this.config = config;
    }

    String string(String key) {
      Object value = config.get(key);
      if (value == null || value instanceof String) {
        return (String) value;
      }
      problems.add(key + " must be a string, got [" + value + "]");
      return null;
    }

    <T> T parsed(String key, java.util.function.Function<String, T> parse, T fallback) {
      String text = string(key);
      if (text == null) {
        return fallback;
      }
      try {
        return parse.apply(text);
      } catch (IllegalArgumentException e) {
        problems.add(e.getMessage());
        return fallback;
      }
    }

    double number(String key, double fallback) {
      Object value = config.get(key);
      if (value == null) {
        return fallback;
      }
      if (value instanceof Number number && Double.isFinite(number.doubleValue())) {
        return number.doubleValue();
      }
      problems.add(key + " must be a finite number, got [" + value + "]");
      return fallback;
    }

    Integer positiveInt(String key, Integer fallback) {
      Object value = config.get(key);
      if (value == null) {
        return fallback;
      }
      if ((value instanceof Integer || value instanceof Long) && ((Number) value).longValue() > 0
          && ((Number) value).longValue() <= Integer.MAX_VALUE) {
        return ((Number) value).intValue();
      }
      problems.add(key + " must be a positive integer, got [" + value + "]");
      return fallback;
    }

    Boolean bool(String key, Boolean fallback) {
      Object value = config.get(key);
      if (value == null) {
        return fallback;
      }
      if (value instanceof Boolean bool) {
        return bool;
      }
      problems.add(key + " must be true or false, got [" + value + "]");
      return fallback;
    }

    List<String> fields() {
      Object value = config.get("document_fields");
      if (value instanceof List<?> list && !list.isEmpty()
          && list.stream().allMatch(item -> item instanceof String name && !name.isBlank())) {
        return list.stream().map(String.class::cast).toList();
      }
      problems.add("document_fields must be a non-empty list of _source field names (dotted names "
          + "reach into objects), got [" + value + "]");
      return List.of();
    }
  }
}
