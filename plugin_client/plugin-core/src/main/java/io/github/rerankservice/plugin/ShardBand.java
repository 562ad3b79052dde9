package io.github.rerankservice.plugin;

/**
 * The scores a shard's rescorer gives, chosen so that the coordinator's merge of all shards by
 * score puts every shard's reranked window above every hit outside the windows.
 *
 * <p>Each shard reranks only its own window, and the coordinator only sorts by score, so a score
 * must mean the same on every shard: no per-shard shift or rank can be used. Two fixed bands:
 *
 * <ul>
 *   <li>a reranked hit: its new score ({@link RerankMode#REPLACE}: the reranker's sigmoid score
 *       in [0, 1]; {@link RerankMode#COMBINE}: the weighted combination, >= 0 because search
 *       scores and weights are), at least 0;
 *   <li>any other hit: {@code s / (1 + |s|) - 1} of its search score {@code s}, in [-2, 0): the
 *       same increasing map on every shard, so those hits keep their own order (float rounding
 *       may tie scores that differ in their 8th digit; huge scores stay just below 0).
 * </ul>
 */
public final class ShardBand {
  private ShardBand() {}

  /** The score of a hit outside the window, below every reranked hit. */
  public static float outside(float searchScore) {
    if (Float.isNaN(searchScore)) {
      return -2f;
    }
    double score = searchScore;
    // s / (1 + |s|) - 1, written so that it keeps its precision (and its sign) for huge s.
    float mapped = (float) (score >= 0 ? -1 / (1 + score) : -2 + 1 / (1 - score));
    return mapped == 0f ? -Float.MIN_VALUE : mapped;
  }

  /** The score of a reranked hit: never below 0, the floor of the reranked band. */
  public static float reranked(double newScore) {
    return Double.isNaN(newScore) ? 0f : (float) Math.max(0.0, newScore);
  }
}
