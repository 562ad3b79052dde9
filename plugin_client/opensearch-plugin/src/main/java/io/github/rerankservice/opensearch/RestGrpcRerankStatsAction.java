package io.github.rerankservice.opensearch;

import io.github.rerankservice.plugin.Reranker;
import java.util.List;
import java.util.function.Supplier;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.rest.BytesRestResponse;
import org.opensearch.rest.RestRequest;

/** {@code GET _plugins/grpc_rerank/stats}: this node's reranker connection and counters. */
final class RestGrpcRerankStatsAction extends NodeLocalRestHandler {
  private final Supplier<Reranker> reranker;

  RestGrpcRerankStatsAction(Supplier<Reranker> reranker) {
    this.reranker = reranker;
  }

  @Override
  public String getName() {
    return "grpc_rerank_stats";
  }

  @Override
  public List<Route> routes() {
    return List.of(new Route(RestRequest.Method.GET, "/_plugins/grpc_rerank/stats"));
  }

  @Override
  protected RestChannelConsumer prepareRequest(RestRequest request) {
    Reranker current = reranker.get();
    return channel -> {
      XContentBuilder builder = channel.newBuilder();
      builder.map(current.describe());
      channel.sendResponse(new BytesRestResponse(RestStatus.OK, builder));
    };
  }
}
