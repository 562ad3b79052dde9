package io.github.rerankservice.opensearch;

import java.util.Collection;
import java.util.function.Supplier;
import org.opensearch.client.Client;
import org.opensearch.cluster.metadata.IndexNameExpressionResolver;
import org.opensearch.cluster.service.ClusterService;
import org.opensearch.core.common.io.stream.NamedWriteableRegistry;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.env.Environment;
import org.opensearch.env.NodeEnvironment;
import org.opensearch.plugins.Plugin;
import org.opensearch.repositories.RepositoriesService;
import org.opensearch.script.ScriptService;
import org.opensearch.threadpool.ThreadPool;
import org.opensearch.watcher.ResourceWatcherService;

/**
 * OpenSearch 2.x: a {@link Plugin} whose components need only the cluster service. The
 * signature of {@code createComponents} names the node client, whose package OpenSearch 3.0
 * moved ({@code org.opensearch.client} to {@code org.opensearch.transport.client}), so it is
 * written once per major version (src/main/opensearch2, src/main/opensearch3) and nowhere else.
 */
abstract class ClusterServicePlugin extends Plugin {
  @Override
  public final Collection<Object> createComponents(Client client, ClusterService clusterService, ThreadPool threadPool,
      ResourceWatcherService resourceWatcherService, ScriptService scriptService, NamedXContentRegistry xContentRegistry,
      Environment environment, NodeEnvironment nodeEnvironment, NamedWriteableRegistry namedWriteableRegistry,
      IndexNameExpressionResolver indexNameExpressionResolver, Supplier<RepositoriesService> repositoriesServiceSupplier) {
    return components(clusterService);
  }

  /** Called once when the node starts; returns the plugin's components for injection. */
  protected abstract Collection<Object> components(ClusterService clusterService);
}
