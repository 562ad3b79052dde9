package io.github.rerankservice.opensearch;

import io.github.rerankservice.plugin.NodeSettings;
import io.github.rerankservice.plugin.Reranker;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.opensearch.action.search.SearchRequest;
import org.opensearch.search.builder.SearchSourceBuilder;
import org.opensearch.search.pipeline.AbstractProcessor;
import org.opensearch.search.pipeline.PipelineProcessingContext;
import org.opensearch.search.pipeline.Processor;
import org.opensearch.search.pipeline.SearchRequestProcessor;

/**
 * The request step of the {@code grpc_rerank} search pipeline: fetches the top {@code
 * window_size} hits from 0 (or from + size, if larger) instead of the caller's page, and leaves
 * the page in the pipeline's context for the response step to cut back. Scroll, search_after and
 * size 0 searches pass unchanged.
 */
final class GrpcRerankRequestProcessor extends AbstractProcessor implements SearchRequestProcessor {
  static final String TYPE = "grpc_rerank";
  static final int DEFAULT_WINDOW_SIZE = 50;
  /** OpenSearch's size when a search names none. */
  static final int DEFAULT_SIZE = 10;
  static final String PAGE = "grpc_rerank.page";
  static final String WINDOW = "grpc_rerank.window";

  /** The caller's page. */
  record Page(int from, int size) {}

  private final int windowSize;

  GrpcRerankRequestProcessor(String tag, String description, boolean ignoreFailure, int windowSize) {
    super(tag, description, ignoreFailure);
    this.windowSize = windowSize;
  }

  int windowSize() {
    return windowSize;
  }

  @Override
  public SearchRequest processRequest(SearchRequest request) {
    return processRequest(request, new PipelineProcessingContext());
  }

  @Override
  public SearchRequest processRequest(SearchRequest request, PipelineProcessingContext context) {
    SearchSourceBuilder source = request.source() != null ? request.source() : new SearchSourceBuilder();
    int from = Math.max(source.from(), 0);
    int size = source.size() < 0 ? DEFAULT_SIZE : source.size();
    if (request.scroll() != null || source.searchAfter() != null || size == 0) {
      return request;
    }
    context.setAttribute(PAGE, new Page(from, size));
    context.setAttribute(WINDOW, windowSize);
    request.source(source.from(0).size(Math.max(windowSize, from + size)));
    return request;
  }

  @Override
  public String getType() {
    return TYPE;
  }

  static final class Factory implements Processor.Factory<SearchRequestProcessor> {
    private final Supplier<Reranker> reranker;

    Factory(Supplier<Reranker> reranker) {
      this.reranker = reranker;
    }

    @Override
    public SearchRequestProcessor create(Map<String, Processor.Factory<SearchRequestProcessor>> factories, String tag,
        String description, boolean ignoreFailure, Map<String, Object> config, PipelineContext pipelineContext) {
      Set<String> unknown = new TreeSet<>(config.keySet());
      unknown.remove("window_size");
      if (!unknown.isEmpty()) {
        throw new IllegalArgumentException("[grpc_rerank] request step: unknown option(s) " + unknown
            + "; it takes only window_size (the other options go on the grpc_rerank response step)");
      }
      Object value = config.remove("window_size");
      int windowSize = DEFAULT_WINDOW_SIZE;
      if (value != null) {
        if (!(value instanceof Integer number) || number <= 0) {
          throw new IllegalArgumentException("[grpc_rerank] window_size must be a positive integer, got [" + value + "]");
        }
        windowSize = number;
      }
      NodeSettings.checkWindowSize(windowSize, reranker.get().settings());
      return new GrpcRerankRequestProcessor(tag, description, ignoreFailure, windowSize);
    }
  }
}
