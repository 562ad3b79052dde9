package io.github.rerankservice.opensearch;

import io.github.rerankservice.plugin.RerankFailure;
import io.github.rerankservice.plugin.RerankOptions;
import io.github.rerankservice.plugin.Reranker;
import io.github.rerankservice.plugin.ShardRescore;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.document.Document;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.util.BytesRef;
import org.opensearch.OpenSearchStatusException;
import org.opensearch.common.logging.HeaderWarning;
import org.opensearch.core.common.bytes.BytesArray;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.search.rescore.RescoreContext;
import org.opensearch.search.rescore.Rescorer;

/** Reranks a shard's window: the engine's side of {@link ShardRescore}, which gives the scores. */
final class GrpcRerankRescorer implements Rescorer {
  static final GrpcRerankRescorer INSTANCE = new GrpcRerankRescorer();

  /** One shard's rescore: the options, and the window's scores for explain. */
  static final class Context extends RescoreContext {
    final RerankOptions options;
    final Reranker reranker;
    final ShardRescore.Window window = new ShardRescore.Window();

    Context(int windowSize, RerankOptions options, Reranker reranker) {
      super(windowSize, INSTANCE);
      this.options = options;
      this.reranker = reranker;
    }
  }

  @Override
  public TopDocs rescore(TopDocs topDocs, IndexSearcher searcher, RescoreContext rescoreContext) throws IOException {
    Context context = (Context) rescoreContext;
    ShardRescore.Outcome outcome;
    try {
      outcome = ShardRescore.rescore(topDocs, context.getWindowSize(), doc -> source(searcher, doc), context.options,
          context.reranker, context.window);
    } catch (RerankFailure failedClosed) {
      throw new OpenSearchStatusException(failedClosed.getMessage(), RestStatus.fromCode(failedClosed.httpStatus()),
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
        doc -> source(searcher, doc), context.options, context.reranker, context.window);
  }

  private static Map<String, Object> source(IndexSearcher searcher, int doc) throws IOException {
    Document document = searcher.storedFields().document(doc, Set.of("_source"));
    BytesRef source = document.getBinaryValue("_source");
    return source == null ? Map.of() : Sources.ordered(new BytesArray(source));
  }
}
