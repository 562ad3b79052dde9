package io.github.rerankservice.plugin;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Turns the reranker's scores of a window of hits into the hits' new scores and order, the same
 * arithmetic as the Python library's {@code rerank_client.merge}.
 */
public final class HitScores {
  /** How far below the lowest window score the best hit past the window lands (pipeline). */
  public static final double OUTSIDE_WINDOW_GAP = 1e-3;

  private HitScores() {}

  /**
   * The window's new scores: the rerank scores ({@code replace}), the weighted combination with
   * the search scores ({@code combine}, min-max scaled first when {@code normalize}) or reciprocal
   * rank fusion of the two orders ({@code rrf}). Arrays are in the window's search order.
   */
  public static double[] windowScores(double[] originals, double[] rerank, RerankOptions options) {
    if (originals.length != rerank.length) {
      throw new IllegalArgumentException(
          "got " + rerank.length + " rerank scores for a window of " + originals.length + " hits");
    }
    return switch (options.mode()) {
      case REPLACE -> rerank.clone();
      case RRF -> reciprocalRankFusion(rerank, options.rankConstant());
      case COMBINE -> {
        double[] base = options.normalize() ? minMax(originals) : originals;
        yield IntStream.range(0, rerank.length)
            .mapToDouble(i -> options.scoreMode().combine(
                options.queryWeight() * base[i], options.rerankWeight() * rerank[i]))
            .toArray();
      }
    };
  }

  /** Indices of {@code scores}, best first; ties keep their given order. */
  public static int[] bestFirst(double[] scores) {
    // Compared with > and <, so that 0.0 and -0.0 tie as in Python's sort.
    return IntStream.range(0, scores.length).boxed()
        .sorted((Integer a, Integer b) -> scores[a] > scores[b] ? -1 : scores[a] < scores[b] ? 1 : 0)
        .mapToInt(Integer::intValue)
        .toArray();
  }

  /**
   * What to subtract from the scores of the hits past the window so that the best of them lands
   * just below the window's lowest score; 0 when they are already below.
   */
  public static double belowWindowShift(double windowFloor, double bestBelow) {
    return bestBelow >= windowFloor ? bestBelow - windowFloor + OUTSIDE_WINDOW_GAP : 0.0;
  }

  private static double[] reciprocalRankFusion(double[] rerank, int rankConstant) {
    int[] order = bestFirst(rerank);
    double[] rerankRank = new double[rerank.length];
    for (int rank = 0; rank < order.length; rank++) {
      rerankRank[order[rank]] = rank + 1;
    }
    return IntStream.range(0, rerank.length)
        .mapToDouble(i -> 1.0 / (rankConstant + i + 1) + 1.0 / (rankConstant + rerankRank[i]))
        .toArray();
  }

  private static double[] minMax(double[] values) {
    double low = Arrays.stream(values).min().orElse(0);
    double high = Arrays.stream(values).max().orElse(0);
    if (high == low) {
      double[] ones = new double[values.length];
      Arrays.fill(ones, 1.0);
      return ones;
    }
    return Arrays.stream(values).map(value -> (value - low) / (high - low)).toArray();
  }
}
