package io.github.rerankservice.plugin;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How {@link RerankMode#COMBINE} joins the two weighted scores; the names of OpenSearch's query rescorer. */
public enum ScoreMode {
  TOTAL,
  MULTIPLY,
  AVG,
  MAX,
  MIN;

  /** The score mode named {@code name} (lower case, as in a request). */
  public static ScoreMode parse(String name) {
    for (ScoreMode mode : values()) {
      if (mode.label().equals(name)) {
        return mode;
      }
    }
    throw new IllegalArgumentException(
        "score_mode must be one of " + Arrays.stream(values()).map(ScoreMode::label).collect(Collectors.joining(", "))
            + ", got [" + name + "]");
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Joins the weighted search score and the weighted rerank score. */
  public double combine(double weightedOriginal, double weightedRerank) {
    return switch (this) {
      case TOTAL -> weightedOriginal + weightedRerank;
      case MULTIPLY -> weightedOriginal * weightedRerank;
      case AVG -> (weightedOriginal + weightedRerank) / 2;
      case MAX -> Math.max(weightedOriginal, weightedRerank);
      case MIN -> Math.min(weightedOriginal, weightedRerank);
    };
  }
}
