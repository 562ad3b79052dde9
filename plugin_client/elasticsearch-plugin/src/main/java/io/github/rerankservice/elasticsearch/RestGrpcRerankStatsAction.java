package io.github.rerankservice.elasticsearch;

import io.github.rerankservice.plugin.Reranker;
import java.util.List;
import java.util.function.Supplier;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.xcontent.XContentBuilder;

/** {@code GET _grpc_rerank/stats}: this node's reranker connection and counters. */
final class RestGrpcRerankStatsAction extends BaseRestHandler {
  static final String PATH = "/_grpc_rerank/stats";

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
    return List.of(new Route(RestRequest.Method.GET, PATH));
  }

  @Override
  protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
    Reranker current = reranker.get();
    return channel -> {
      XContentBuilder builder = channel.newBuilder();
      builder.map(current.describe());
      channel.sendResponse(new RestResponse(RestStatus.OK, builder));
    };
  }
}
