package io.github.rerankservice.plugin;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;

/**
 * One shard's rescore of its window, on Lucene's types, which every engine shares: the passages
 * of the window's hits, one call to the reranker, and the two bands of {@link ShardBand}. An
 * engine's rescorer hands its hits here and turns a failure that fails closed into its own error.
 *
 * <p>The shard's hits come back with scores in two fixed bands: the window's hits at their new
 * score (>= 0, in the reranker's order), every other hit at {@code s / (1 + |s|) - 1} of its
 * search score (below 0, its own order). The maps are the same on every shard, so after the
 * coordinator merges the shards by score every window's hits stand above every other hit, and the
 * windows interleave by their rerank scores. When the reranker fails and the search fails open,
 * every hit gets the outside map: the shard keeps its own order, still below the windows of
 * shards whose call succeeded.
 */
public final class ShardRescore {
  private static final Comparator<ScoreDoc> BEST_FIRST =
      Comparator.comparingDouble((ScoreDoc hit) -> -hit.score).thenComparingInt(hit -> hit.doc);

  /** A hit's {@code _source}, read from the shard. */
  @FunctionalInterface
  public interface Sources {
    Map<String, ?> of(int doc) throws IOException;
  }

  /** The window a shard's rescore reranked: its hits' new scores, kept for explain. */
  public static final class Window {
    private final Map<Integer, Float> scores = new HashMap<>();

    /** The reranked hit's new score, or null for a hit outside the window. */
    public Float score(int doc) {
      return scores.get(doc);
    }

    /** The reranked hits, for the engine's rescore context. */
    public Set<Integer> docs() {
      return Set.copyOf(scores.keySet());
    }
  }

  /** The rescored hits, best first, and why none was reranked (null when the window was). */
  public record Outcome(TopDocs topDocs, RerankFailure failedOpen) {}

  private ShardRescore() {}

  /**
   * Rescores the shard's {@code topDocs}, whose best {@code windowSize} form the window, and
   * records the window's scores in {@code window}.
   *
   * @throws RerankFailure when the reranker failed and the search fails closed: the engine turns it
   *     into its own error, with {@link RerankFailure#httpStatus()}
   */
  public static Outcome rescore(TopDocs topDocs, int windowSize, Sources sources, RerankOptions options,
      Reranker reranker, Window window) throws IOException {
    if (topDocs.scoreDocs.length == 0 || windowSize == 0) {
      return new Outcome(topDocs, null);
    }
    ScoreDoc[] hits = topDocs.scoreDocs.clone();
    Arrays.sort(hits, BEST_FIRST);
    int size = Math.min(windowSize, hits.length);
    double[] originals = new double[size];
    List<String> passages = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      originals[i] = hits[i].score;
      passages.add(options.passage(sources.of(hits[i].doc)));
    }
    double[] windowScores = null;
    RerankFailure failedOpen = null;
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
    for (int i = 0; i < hits.length; i++) {
      if (windowScores != null && i < size) {
        hits[i].score = ShardBand.reranked(windowScores[i]);
        window.scores.put(hits[i].doc, hits[i].score);
      } else {
        hits[i].score = ShardBand.outside(hits[i].score);
      }
    }
    Arrays.sort(hits, BEST_FIRST);
    return new Outcome(new TopDocs(topDocs.totalHits, hits), failedOpen);
  }

  /**
   * Which band the hit is in, and its score. An engine whose explain runs in a fetch phase of its
   * own (an index of several shards) knows which hits the query phase reranked ({@code
   * rescored}), not their scores: such a hit's score is asked of the reranker again; it scores
   * each passage on its own, so the score is the same (explain is for debugging: one call a hit).
   */
  public static Explanation explain(int doc, boolean rescored, Explanation sourceExplanation, Sources sources,
      RerankOptions options, Reranker reranker, Window window) throws IOException {
    String reranked = "grpc_rerank: the reranked score (" + options.mode().label() + ")";
    Float score = window.score(doc);
    if (score != null) {
      return Explanation.match(score, reranked, sourceExplanation);
    }
    float searchScore = sourceExplanation.getValue().floatValue();
    if (!rescored) {
      return Explanation.match(ShardBand.outside(searchScore),
          "grpc_rerank: not reranked: s / (1 + |s|) - 1 of the search score s", sourceExplanation);
    }
    try {
      double[] rerank = reranker.scoreBlocking(options.queryText(), List.of(options.passage(sources.of(doc))),
          options.model(), options.timeout());
      float again = ShardBand.reranked(HitScores.windowScores(new double[] {searchScore}, rerank, options)[0]);
      return Explanation.match(again, reranked + ", scored again for explain", sourceExplanation);
    } catch (RerankFailure failure) {
      return Explanation.noMatch("grpc_rerank: reranked by the query phase; explain could not score it again: "
          + failure.getMessage(), sourceExplanation);
    }
  }
}
