package io.github.rerankservice.elasticsearch;

import io.github.rerankservice.plugin.HitScores;
import io.github.rerankservice.plugin.RerankFailure;
import io.github.rerankservice.plugin.RerankOptions;
import io.github.rerankservice.plugin.Reranker;
import io.github.rerankservice.plugin.ShardBand;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.elasticsearch.ElasticsearchStatusException;
import org.elasticsearch.common.logging.HeaderWarning;
import org.elasticsearch.index.query.SearchExecutionContext;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.search.rescore.RescoreContext;
import org.elasticsearch.search.rescore.Rescorer;

/**
 * Reranks a shard's window. The shard's hits come back with scores in two fixed bands ({@link
 * ShardBand}): the window's hits at their new score (>= 0, in the reranker's order), every other
 * hit at {@code s / (1 + |s|) - 1} of its search score (in (-2, 0), its own order). The maps are
 * the same on every shard, so after the coordinator merges the shards by score every window's hits
 * stand above every other hit, and the windows interleave by their rerank scores.
 *
 * <p>When the reranker fails and the search fails open, every hit gets the outside map: the
 * shard keeps its own order, still below the windows of shards whose call succeeded.
 */
final class GrpcRerankRescorer implements Rescorer {
  static final GrpcRerankRescorer INSTANCE = new GrpcRerankRescorer();
  private static final Comparator<ScoreDoc> BEST_FIRST =
      Comparator.comparingDouble((ScoreDoc hit) -> -hit.score).thenComparingInt(hit -> hit.doc);

  /** One shard's rescore: the options, the shard's source lookup, and the new scores for explain. */
  static final class Context extends RescoreContext {
    final RerankOptions options;
    final Reranker reranker;
    /** The shard's context, whose source lookup also serves synthetic _source; null in unit tests. */
    final SearchExecutionContext shard;
    final Map<Integer, Float> rerankScores = new HashMap<>();

    Context(int windowSize, RerankOptions options, Reranker reranker, SearchExecutionContext shard) {
      super(windowSize, INSTANCE);
      this.options = options;
      this.reranker = reranker;
      this.shard = shard;
    }
  }

  @Override
  public TopDocs rescore(TopDocs topDocs, IndexSearcher searcher, RescoreContext rescoreContext) throws IOException {
    Context context = (Context) rescoreContext;
    ScoreDoc[] hits = topDocs.scoreDocs.clone();
    Arrays.sort(hits, BEST_FIRST);
    int window = Math.min(context.getWindowSize(), hits.length);
    if (window == 0) {
      return topDocs;
    }
    double[] originals = new double[window];
    List<String> passages = new ArrayList<>(window);
    for (int i = 0; i < window; i++) {
      originals[i] = hits[i].score;
      passages.add(context.options.passage(Sources.of(searcher, context.shard, hits[i].doc)));
    }
    context.checkCancellation(); // a cancelled search does not call the reranker
    double[] newScores = null;
    try {
      double[] rerankScores = context.reranker.scoreBlocking(
          context.options.queryText(), passages, context.options.model(), context.options.timeout());
      newScores = HitScores.windowScores(originals, rerankScores, context.options);
    } catch (RerankFailure failure) {
      failOpenOrThrow(failure, context);
    }
    for (int i = 0; i < hits.length; i++) {
      if (newScores != null && i < window) {
        hits[i].score = ShardBand.reranked(newScores[i]);
        context.rerankScores.put(hits[i].doc, hits[i].score);
      } else {
        hits[i].score = ShardBand.outside(hits[i].score);
      }
    }
    context.setRescoredDocs(Set.copyOf(context.rerankScores.keySet()));
    Arrays.sort(hits, BEST_FIRST);
    return new TopDocs(topDocs.totalHits, hits);
  }

  /**
   * Which band the hit is in, and its score. Explain runs in the fetch phase, which on an index of
   * several shards has a context of its own: it knows which hits the query phase reranked, not
   * their scores. The reranker scores each passage on its own, so such a hit's score is asked for
   * again (explain is for debugging: one call per explained hit of a window).
   */
  @Override
  public Explanation explain(int topLevelDocId, IndexSearcher searcher, RescoreContext rescoreContext,
      Explanation sourceExplanation) throws IOException {
    Context context = (Context) rescoreContext;
    String reranked = "grpc_rerank: the reranked score (" + context.options.mode().label() + ")";
    Float score = context.rerankScores.get(topLevelDocId);
    if (score != null) {
      return Explanation.match(score, reranked, sourceExplanation);
    }
    if (context.isRescored(topLevelDocId)) {
      try {
        double[] rerank = context.reranker.scoreBlocking(context.options.queryText(),
            List.of(context.options.passage(Sources.of(searcher, context.shard, topLevelDocId))),
            context.options.model(), context.options.timeout());
        double[] original = {sourceExplanation.getValue().doubleValue()};
        return Explanation.match(ShardBand.reranked(HitScores.windowScores(original, rerank, context.options)[0]),
            reranked + ", scored again for explain", sourceExplanation);
      } catch (RerankFailure failure) {
        return Explanation.noMatch("grpc_rerank: reranked by the query phase; explain could not score it again: "
            + failure.getMessage(), sourceExplanation);
      }
    }
    float outside = ShardBand.outside(sourceExplanation.getValue().floatValue());
    return Explanation.match(outside, "grpc_rerank: not reranked: s / (1 + |s|) - 1 of the search score s",
        sourceExplanation);
  }

  private static void failOpenOrThrow(RerankFailure failure, Context context) {
    if (!context.reranker.failsOpen(context.options.failOpen())) {
      throw new ElasticsearchStatusException(failure.getMessage(), SearchStatus.of(failure), failure);
    }
    context.reranker.recordFailOpen(failure, "the shard keeps its own order");
    HeaderWarning.addWarning("grpc_rerank failed open: {}", failure.getMessage());
  }

  /** The HTTP status a search that fails closed answers with. */
  static final class SearchStatus {
    private SearchStatus() {}

    static RestStatus of(RerankFailure failure) {
      return switch (failure.kind()) {
        case TIMEOUT -> RestStatus.GATEWAY_TIMEOUT;
        case REFUSED -> RestStatus.BAD_REQUEST;
        case NOT_CONFIGURED, UNAVAILABLE -> RestStatus.SERVICE_UNAVAILABLE;
        case FAILED -> RestStatus.BAD_GATEWAY;
      };
    }
  }
}
