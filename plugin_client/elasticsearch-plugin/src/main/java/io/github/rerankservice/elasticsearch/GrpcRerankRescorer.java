package io.github.rerankservice.elasticsearch;

import io.github.rerankservice.plugin.RerankFailure;
import io.github.rerankservice.plugin.RerankOptions;
import io.github.rerankservice.plugin.Reranker;
import io.github.rerankservice.plugin.ShardRescore;
import java.io.IOException;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.TopDocs;
import org.elasticsearch.ElasticsearchStatusException;
import org.elasticsearch.common.logging.HeaderWarning;
import org.elasticsearch.index.query.SearchExecutionContext;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.search.rescore.RescoreContext;
import org.elasticsearch.search.rescore.Rescorer;

/** Reranks a shard's window: the engine's side of {@link ShardRescore}, which gives the scores. */
final class GrpcRerankRescorer implements Rescorer {
  static final GrpcRerankRescorer INSTANCE = new GrpcRerankRescorer();

  /** One shard's rescore: the options, the shard's source lookup, and the window's scores for explain. */
  static final class Context extends RescoreContext {
    final RerankOptions options;
    final Reranker reranker;
    /** The shard's context, whose source lookup also serves synthetic _source; null in unit tests. */
    final SearchExecutionContext shard;
    final ShardRescore.Window window = new ShardRescore.Window();

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
    context.checkCancellation(); // a cancelled search does not call the reranker
    ShardRescore.Outcome outcome;
    try {
      outcome = ShardRescore.rescore(topDocs, context.getWindowSize(), doc -> Sources.of(searcher, context.shard, doc), context.options,
          context.reranker, context.window);
    } catch (RerankFailure failedClosed) {
      throw new ElasticsearchStatusException(failedClosed.getMessage(), RestStatus.fromCode(failedClosed.httpStatus()),
          failedClosed);
    }
    if (outcome.failedOpen() != null) {
      HeaderWarning.addWarning("grpc_rerank failed open: {}", outcome.failedOpen().getMessage());
    }
    context.setRescoredDocs(context.window.docs());
    return outcome.topDocs();
  }

  @Override
  public Explanation explain(int topLevelDocId, IndexSearcher searcher, RescoreContext rescoreContext,
      Explanation sourceExplanation) throws IOException {
    Context context = (Context) rescoreContext;
    return ShardRescore.explain(topLevelDocId, context.isRescored(topLevelDocId), sourceExplanation,
        doc -> Sources.of(searcher, context.shard, doc), context.options, context.reranker, context.window);
  }
}
