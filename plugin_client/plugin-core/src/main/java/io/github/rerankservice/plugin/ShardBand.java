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
 *   <li>any other hit: {@code s / (1 + |s|) - 1} of its search score {@code s}, in (-2, 0): the
 *       same strictly increasing map on every shard, so those hits keep their own order.
 * </ul>
 */
public final class ShardBand {
  private ShardBand() {}

  /** The score of a hit outside the window, below every reranked hit. */
  public static float outside(float searchScore) {
    double score = searchScore;
    return (float) (score / (1 + Math.abs(score)) - 1);
  }

  /** The score of a reranked hit: never below 0, the floor of the reranked band. */
  public static float reranked(double newScore) {
    return (float) Math.max(0.0, newScore);
  }
}
