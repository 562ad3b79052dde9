package io.github.rerankservice.opensearch;

import org.opensearch.client.node.NodeClient;
import org.opensearch.rest.BaseRestHandler;
import org.opensearch.rest.RestRequest;

/**
 * OpenSearch 2.x: a REST handler that answers from this node's own state, without the node
 * client, whose package OpenSearch 3.0 moved ({@code org.opensearch.client.node} to
 * {@code org.opensearch.transport.client.node}); written once per major version.
 */
abstract class NodeLocalRestHandler extends BaseRestHandler {
  @Override
  protected final RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
    return prepareRequest(request);
  }

  protected abstract RestChannelConsumer prepareRequest(RestRequest request);
}
