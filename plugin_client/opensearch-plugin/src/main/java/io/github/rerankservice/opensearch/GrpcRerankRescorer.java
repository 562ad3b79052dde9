package io.github.rerankservice.opensearch;

import io.github.rerankservice.plugin.RerankFailure;
import io.github.rerankservice.plugin.RerankOptions;
import io.github.rerankservice.plugin.Reranker;
import io.github.rerankservice.plugin.ShardBand;
import io.github.rerankservice.plugin.ShardRescore;
import java.io.IOException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.document.Document;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.util.BytesRef;
import org.opensearch.OpenSearchStatusException;
import org.opensearch.common.logging.HeaderWarning;
import org.opensearch.core.common.bytes.BytesArray;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.search.rescore.RescoreContext;
import org.opensearch.search.rescore.Rescorer;

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

  /** One shard's rescore: the options, and the new scores for explain. */
  static final class Context extends RescoreContext {
    final RerankOptions options;
    final Reranker reranker;
    final Map<Integer, Float> rerankScores = new HashMap<>();

    Context(int windowSize, RerankOptions options, Reranker reranker) {
      super(windowSize, INSTANCE);
      this.options = options;
      this.reranker = reranker;
    }
  }

  @Override
  public TopDocs rescore(TopDocs topDocs, IndexSearcher searcher, RescoreContext rescoreContext) throws IOException {
    Context context = (Context) rescoreContext;
    if (topDocs.scoreDocs.length == 0 || context.getWindowSize() == 0) {
      return topDocs;
    }
    ScoreDoc[] hits = topDocs.scoreDocs.clone();
    Arrays.sort(hits, BEST_FIRST);
    int[] docs = Arrays.stream(hits).mapToInt(hit -> hit.doc).toArray();
    float[] scores = new float[hits.length];
    for (int i = 0; i < hits.length; i++) {
      scores[i] = hits[i].score;
    }
    ShardRescore.Outcome outcome;
    try {
      outcome = ShardRescore.rescore(docs, scores, context.getWindowSize(), doc -> source(searcher, doc),
          context.options, context.reranker);
    } catch (RerankFailure failedClosed) {
      throw new OpenSearchStatusException(failedClosed.getMessage(), RestStatus.fromCode(failedClosed.httpStatus()),
          failedClosed);
    }
    if (outcome.failedOpen() != null) {
      HeaderWarning.addWarning("grpc_rerank failed open: {}", outcome.failedOpen().getMessage());
    }
    for (int i = 0; i < hits.length; i++) {
      hits[i].score = outcome.scores()[i];
      if (i < outcome.reranked()) {
        context.rerankScores.put(hits[i].doc, hits[i].score);
      }
    }
    context.setRescoredDocs(Set.copyOf(context.rerankScores.keySet()));
    Arrays.sort(hits, BEST_FIRST);
    return new TopDocs(topDocs.totalHits, hits);
  }

  /**
   * Which band the hit is in, and its score. On an index of several shards explain runs in a fetch
   * phase with a context of its own, which knows which hits the query phase reranked but not their
   * scores: such a hit's score is asked of the reranker again ({@link ShardRescore#rescoreOne}).
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
    float searchScore = sourceExplanation.getValue().floatValue();
    if (context.isRescored(topLevelDocId)) {
      try {
        float again = ShardRescore.rescoreOne(source(searcher, topLevelDocId), searchScore, context.options,
            context.reranker);
        return Explanation.match(again, reranked + ", scored again for explain", sourceExplanation);
      } catch (RerankFailure failure) {
        return Explanation.noMatch("grpc_rerank: reranked by the query phase; explain could not score it again: "
            + failure.getMessage(), sourceExplanation);
      }
    }
    return Explanation.match(ShardBand.outside(searchScore),
        "grpc_rerank: not reranked: s / (1 + |s|) - 1 of the search score s", sourceExplanation);
  }

  private static Map<String, Object> source(IndexSearcher searcher, int doc) throws IOException {
    Document document = searcher.storedFields().document(doc, Set.of("_source"));
    BytesRef source = document.getBinaryValue("_source");
    return source == null ? Map.of() : Sources.ordered(new BytesArray(source));
  }
}
