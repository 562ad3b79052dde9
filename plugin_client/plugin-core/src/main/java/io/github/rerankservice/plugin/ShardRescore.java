package io.github.rerankservice.plugin;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One shard's rescore of its window, free of any engine: the passages of the window's hits, one
 * call to the reranker, and the two bands of {@link ShardBand}. The engine's rescorer sorts its
 * hits, hands them here, and writes the scores back.
 */
public final class ShardRescore {
  /** A hit's {@code _source}, read from the shard. */
  @FunctionalInterface
  public interface Sources {
    Map<String, ?> of(int doc) throws IOException;
  }

  /**
   * The new scores, one per hit in the order given: the first {@code reranked} are the window's
   * (>= 0), the rest in the outside band; {@code failedOpen} says why none was reranked, or is null.
   */
  public record Outcome(float[] scores, int reranked, RerankFailure failedOpen) {}

  private ShardRescore() {}

  /**
   * Rescores {@code docs} (best first, with their search {@code scores}) whose first {@code
   * windowSize} form the window.
   *
   * @throws RerankFailure when the reranker failed and the search fails closed: the engine turns it
   *     into its own error, with {@link RerankFailure#httpStatus()}
   */
  public static Outcome rescore(int[] docs, float[] scores, int windowSize, Sources sources, RerankOptions options,
      Reranker reranker) throws IOException {
    int window = Math.min(windowSize, docs.length);
    double[] originals = new double[window];
    List<String> passages = new ArrayList<>(window);
    for (int i = 0; i < window; i++) {
      originals[i] = scores[i];
      passages.add(options.passage(sources.of(docs[i])));
    }
    double[] windowScores = null;
    RerankFailure failedOpen = null;
    if (window > 0) {
      try {
        double[] rerank = reranker.scoreBlocking(options.queryText(), passages, options.model(), options.timeout());
        windowScores = HitScores.windowScores(originals, rerank, options);
      } catch (RerankFailure failure) {
        if (!reranker.failsOpen(options.failOpen())) {
          throw failure;
        }
        reranker.recordFailOpen(failure, "the shard keeps its own order");
        failedOpen = failure;
      }
    }
    float[] out = new float[docs.length];
    for (int i = 0; i < docs.length; i++) {
      out[i] = windowScores != null && i < window ? ShardBand.reranked(windowScores[i]) : ShardBand.outside(scores[i]);
    }
    return new Outcome(out, windowScores != null ? window : 0, failedOpen);
  }

  /**
   * The reranked score of one window hit, asked again: an engine whose explain runs in a fetch
   * phase of its own knows which hits were reranked, not their scores. The reranker scores each
   * passage on its own, so the score is the same (explain is for debugging: one call per hit).
   */
  public static float rescoreOne(Map<String, ?> source, float searchScore, RerankOptions options, Reranker reranker) {
    double[] rerank = reranker.scoreBlocking(options.queryText(), List.of(options.passage(source)), options.model(),
        options.timeout());
    return ShardBand.reranked(HitScores.windowScores(new double[] {searchScore}, rerank, options)[0]);
  }
}
