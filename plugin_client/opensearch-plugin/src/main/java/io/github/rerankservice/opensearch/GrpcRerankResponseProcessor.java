package io.github.rerankservice.opensearch;

import io.github.rerankservice.opensearch.GrpcRerankRequestProcessor.Page;
import io.github.rerankservice.plugin.HitScores;
import io.github.rerankservice.plugin.NodeSettings;
import io.github.rerankservice.plugin.RerankFailure;
import io.github.rerankservice.plugin.RerankMode;
import io.github.rerankservice.plugin.RerankOptions;
import io.github.rerankservice.plugin.Reranker;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.opensearch.OpenSearchStatusException;
import org.opensearch.action.search.SearchRequest;
import org.opensearch.action.search.SearchResponse;
import org.opensearch.action.search.SearchResponseSections;
import org.opensearch.action.support.ContextPreservingActionListener;
import org.opensearch.common.util.concurrent.ThreadContext;
import org.opensearch.common.xcontent.XContentHelper;
import org.opensearch.common.xcontent.json.JsonXContent;
import org.opensearch.core.action.ActionListener;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.search.SearchExtBuilder;
import org.opensearch.search.SearchHit;
import org.opensearch.search.SearchHits;
import org.opensearch.search.builder.SearchSourceBuilder;
import org.opensearch.search.pipeline.AbstractProcessor;
import org.opensearch.search.pipeline.PipelineProcessingContext;
import org.opensearch.search.pipeline.Processor;
import org.opensearch.search.pipeline.SearchResponseProcessor;

/**
 * The response step of the {@code grpc_rerank} search pipeline: reranks the top {@code
 * window_size} of the merged hits once, for the whole index, then cuts the response back to the
 * caller's page (kept by the request step), so pages of one query agree. The call is
 * asynchronous: no search thread waits for the reranker. The response says what happened in
 * {@code ext.grpc_rerank}.
 */
final class GrpcRerankResponseProcessor extends AbstractProcessor implements SearchResponseProcessor {
  static final String TYPE = "grpc_rerank";

  private final RerankOptions options;
  private final Supplier<Reranker> reranker;
  private final ThreadContext threadContext;
  private final Consumer<Runnable> executor;

  GrpcRerankResponseProcessor(String tag, String description, boolean ignoreFailure, RerankOptions options,
      Supplier<Reranker> reranker, ThreadContext threadContext, Consumer<Runnable> executor) {
    super(tag, description, ignoreFailure);
    this.options = options;
    this.reranker = reranker;
    this.threadContext = threadContext;
    this.executor = executor;
  }

  @Override
  public SearchResponse processResponse(SearchRequest request, SearchResponse response) throws Exception {
    return processResponse(request, response, new PipelineProcessingContext());
  }

  /** The blocking form, for callers without a listener; the pipeline itself calls the async one. */
  @Override
  public SearchResponse processResponse(SearchRequest request, SearchResponse response, PipelineProcessingContext context)
      throws Exception {
    java.util.concurrent.CompletableFuture<SearchResponse> done = new java.util.concurrent.CompletableFuture<>();
    rerank(request, response, context, ActionListener.wrap(done::complete, done::completeExceptionally));
    try {
      return done.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  @Override
  public void processResponseAsync(SearchRequest request, SearchResponse response, PipelineProcessingContext context,
      ActionListener<SearchResponse> listener) {
    rerank(request, response, context, ContextPreservingActionListener.wrapPreservingContext(listener, threadContext));
  }

  private void rerank(SearchRequest request, SearchResponse response, PipelineProcessingContext context,
      ActionListener<SearchResponse> listener) {
    long start = System.nanoTime();
    Page page = (Page) context.getAttribute(GrpcRerankRequestProcessor.PAGE);
    SearchHit[] hits = response.getHits().getHits();
    int windowSize = options.windowSize() != null ? options.windowSize()
        : context.getAttribute(GrpcRerankRequestProcessor.WINDOW) instanceof Integer window ? window
        : GrpcRerankRequestProcessor.DEFAULT_WINDOW_SIZE;
    int window = Math.min(windowSize, hits.length);
    String queryText;
    try {
      queryText = queryText(request);
    } catch (IllegalArgumentException e) {
      listener.onFailure(new OpenSearchStatusException(e.getMessage(), RestStatus.BAD_REQUEST));
      return;
    }
    String skip = queryText == null ? "no query text: send ext.grpc_rerank.query_text"
        + (options.queryTextPath() != null ? " or a query with " + options.queryTextPath() : "")
        : window == 0 ? "no hits" : null;
    if (skip == null && options.mode() == RerankMode.COMBINE
        && Arrays.stream(hits, 0, window).anyMatch(hit -> Float.isNaN(hit.getScore()))) {
      skip = "mode combine needs every hit's _score, but the hits have none (sorted by a field?); "
          + "use mode replace or rrf, or set track_scores";
    }
    if (skip != null) {
      reranker.get().stats().skipped();
      listener.onResponse(respond(response, hits, page, status("skipped", skip, 0, start)));
      return;
    }
    List<String> passages = new ArrayList<>(window);
    for (int i = 0; i < window; i++) {
      passages.add(options.passage(hits[i].hasSource() ? Sources.ordered(hits[i].getSourceRef()) : null));
    }
    if (passages.stream().allMatch(String::isEmpty)) {
      reranker.get().stats().skipped();
      listener.onResponse(respond(response, hits, page, status("skipped", "no hit has text in " + options.documentFields()
          + " (is _source off or filtered in the search?)", 0, start)));
      return;
    }
    reranker.get().score(queryText, passages, options.model(), options.timeout())
        .whenComplete((scores, error) -> executor.accept(() -> {
          if (error == null) {
            listener.onResponse(respond(response, reordered(hits, window, scores), page,
                status("reranked", null, window, start)));
          } else {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            failed(cause instanceof RerankFailure failure ? failure
                : new RerankFailure(RerankFailure.Kind.FAILED, "grpc_rerank: " + cause, cause), response, hits, page, start,
                listener);
          }
        }));
  }

  private void failed(RerankFailure failure, SearchResponse response, SearchHit[] hits, Page page, long start,
      ActionListener<SearchResponse> listener) {
    if (!reranker.get().failsOpen(options.failOpen())) {
      listener.onFailure(new OpenSearchStatusException(failure.getMessage(), RestStatus.fromCode(failure.httpStatus()),
          failure));
      return;
    }
    reranker.get().recordFailOpen(failure, "the search keeps its own order");
    listener.onResponse(respond(response, hits, page, status("failed_open", failure.getMessage(), 0, start)));
  }

  /** The query text: the search's ext.grpc_rerank.query_text, else the query at query_text_path. */
  private String queryText(SearchRequest request) {
    SearchSourceBuilder source = request.source();
    if (source == null) {
      return null;
    }
    for (SearchExtBuilder ext : source.ext()) {
      if (ext instanceof GrpcRerankSearchExt rerankExt) {
        return rerankExt.queryText();
      }
    }
    if (options.queryTextPath() == null || source.query() == null) {
      return null;
    }
    // A QueryBuilder's toString() is its JSON.
    Object value = XContentHelper.convertToMap(JsonXContent.jsonXContent, source.query().toString(), false);
    for (String part : options.queryTextPath().split("\\.")) {
      value = value instanceof Map<?, ?> map ? map.get(part) : null;
    }
    if (value != null && !(value instanceof String)) {
      throw new IllegalArgumentException("[grpc_rerank] query_text_path [" + options.queryTextPath()
          + "] leads to [" + value + "], not a string");
    }
    return (String) value;
  }

  /** The window in its new order and scores, then the rest below it in their own order. */
  private SearchHit[] reordered(SearchHit[] hits, int window, double[] rerankScores) {
    double[] originals = new double[window];
    for (int i = 0; i < window; i++) {
      originals[i] = hits[i].getScore();
    }
    double[] newScores = HitScores.windowScores(originals, rerankScores, options);
    int[] order = HitScores.bestFirst(newScores);
    SearchHit[] out = new SearchHit[hits.length];
    for (int rank = 0; rank < window; rank++) {
      out[rank] = hits[order[rank]];
      out[rank].score((float) newScores[order[rank]]);
    }
    double floor = Arrays.stream(newScores).min().orElse(0);
    double bestBelow = Arrays.stream(hits, window, hits.length).mapToDouble(SearchHit::getScore)
        .filter(score -> !Double.isNaN(score)).max().orElse(Double.NEGATIVE_INFINITY);
    double shift = HitScores.belowWindowShift(floor, bestBelow);
    for (int i = window; i < hits.length; i++) {
      out[i] = hits[i];
      out[i].score((float) (hits[i].getScore() - shift));
    }
    return out;
  }

  private Map<String, Object> status(String status, String reason, int window, long start) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("status", status);
    if (reason != null) {
      out.put("reason", reason);
    }
    out.put("mode", options.mode().label());
    out.put("window_size", window);
    out.put("took", (System.nanoTime() - start) / 1_000_000);
    return out;
  }

  /** A response with {@code hits} cut to the caller's page and the status in ext.grpc_rerank. */
  private static SearchResponse respond(SearchResponse response, SearchHit[] hits, Page page, Map<String, Object> status) {
    SearchHit[] pageHits = hits;
    if (page != null) {
      int from = Math.min(page.from(), hits.length);
      pageHits = Arrays.copyOfRange(hits, from, Math.min(hits.length, from + page.size()));
    }
    float maxScore = (float) Arrays.stream(pageHits).mapToDouble(SearchHit::getScore).filter(s -> !Double.isNaN(s))
        .max().orElse(Double.NaN);
    SearchHits searchHits = new SearchHits(pageHits, response.getHits().getTotalHits(), maxScore,
        response.getHits().getSortFields(), response.getHits().getCollapseField(), response.getHits().getCollapseValues());
    SearchResponseSections internal = response.getInternalResponse();
    List<SearchExtBuilder> ext = new ArrayList<>(internal.getSearchExtBuilders());
    ext.removeIf(builder -> builder instanceof GrpcRerankSearchExt);
    ext.add(new GrpcRerankSearchExt(status));
    SearchResponseSections sections = new SearchResponseSections(searchHits, response.getAggregations(),
        response.getSuggest(), response.isTimedOut(), response.isTerminatedEarly(),
        internal.profile().isEmpty() ? null : new org.opensearch.search.profile.SearchProfileShardResults(internal.profile()),
        response.getNumReducePhases(), ext);
    return new SearchResponse(sections, response.getScrollId(), response.getTotalShards(), response.getSuccessfulShards(),
        response.getSkippedShards(), response.getTook().millis(), response.getShardFailures(), response.getClusters(),
        response.pointInTimeId());
  }

  @Override
  public String getType() {
    return TYPE;
  }

  static final class Factory implements Processor.Factory<SearchResponseProcessor> {
    private final Supplier<Reranker> reranker;
    private final ThreadContext threadContext;
    private final Consumer<Runnable> executor;

    Factory(Supplier<Reranker> reranker, ThreadContext threadContext, Consumer<Runnable> executor) {
      this.reranker = reranker;
      this.threadContext = threadContext;
      this.executor = executor;
    }

    @Override
    public SearchResponseProcessor create(Map<String, Processor.Factory<SearchResponseProcessor>> factories, String tag,
        String description, boolean ignoreFailure, Map<String, Object> config, PipelineContext pipelineContext) {
      RerankOptions options = RerankOptions.parse(new HashMap<>(config), RerankOptions.Usage.RESPONSE_PROCESSOR);
      config.clear();
      if (options.windowSize() != null) {
        NodeSettings.checkWindowSize(options.windowSize(), reranker.get().settings());
      }
      return new GrpcRerankResponseProcessor(tag, description, ignoreFailure, options, reranker, threadContext, executor);
    }
  }
}
